#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the Linux guest tests' initramfs: a cpio "newc" archive (the
format Linux's initramfs unpacker reads: Documentation/driver-api/
early-userspace/buffer-format.rst) holding a static busybox as /bin/busybox,
the test's /init, the directories /init needs and /dev/console (the kernel
opens it for init's stdio). Written here, without cpio(1) or root, so the
device node needs no mknod. Further arguments DEST=SRC add the host file
SRC as the executable DEST (e.g. bin/wp-linux=build/guests/linux/wp-linux;
DEST's directory must be one of those made here).
Usage: mkinitramfs.py OUT BUSYBOX INIT [DEST=SRC]..."""
import os
import stat
import sys


def entry(ino, name, mode, data=b"", rdev=(0, 0), nlink=1):
    name_b = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1], len(name_b), 0]
    hdr = b"070701" + b"".join(b"%08X" % f for f in fields)
    out = hdr + name_b
    out += b"\0" * (-len(out) % 4)
    out += data + b"\0" * (-len(data) % 4)
    return out


def main():
    if len(sys.argv) < 4 or any("=" not in a for a in sys.argv[4:]):
        sys.exit(__doc__)
    out, busybox, init = sys.argv[1:4]
    with open(busybox, "rb") as f:
        bb = f.read()
    with open(init, "rb") as f:
        init_b = f.read()
    ents = []
    ino = 1
    for d in ["bin", "sbin", "usr", "usr/bin", "usr/sbin", "dev", "proc", "sys", "tmp"]:
        ents.append(entry(ino, d, stat.S_IFDIR | 0o755, nlink=2))
        ino += 1
    ents.append(entry(ino, "dev/console", stat.S_IFCHR | 0o600, rdev=(5, 1)))
    ino += 1
    ents.append(entry(ino, "bin/busybox", stat.S_IFREG | 0o755, bb))
    ino += 1
    ents.append(entry(ino, "init", stat.S_IFREG | 0o755, init_b))
    ino += 1
    for extra in sys.argv[4:]:
        dest, src = extra.split("=", 1)
        with open(src, "rb") as f:
            ents.append(entry(ino, dest, stat.S_IFREG | 0o755, f.read()))
        ino += 1
    ents.append(entry(0, "TRAILER!!!", 0))
    blob = b"".join(ents)
    blob += b"\0" * (-len(blob) % 512)
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(blob)
    os.replace(tmp, out)


if __name__ == "__main__":
    main()
