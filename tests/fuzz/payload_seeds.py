#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Adds to fuzz_bzimage's corpus the bzImages whose payload is a compressed
vmlinux, so the fuzzer starts inside host-side decompression
(src/loader/kernel_payload.c): corpus/vmlinux/text_data_bss compressed with
xz (CRC32, plus the kernel's 4-byte size trailer) and gzip (its own ISIZE
trailer) into corpus/bzimage/relocatable's payload. The committed
xz_vmlinux and gzip_vmlinux were made with it. Usage: payload_seeds.py"""
import gzip
import lzma
import os
import struct

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
elf = open(os.path.join(here, "vmlinux", "text_data_bss"), "rb").read()
base = open(os.path.join(here, "bzimage", "relocatable"), "rb").read()
setup = (base[0x1F1] + 1) * 512
pm_size = struct.unpack_from("<I", base, 0x1F4)[0] * 16
seeds = {
    "xz_vmlinux": lzma.compress(elf, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32)
    + struct.pack("<I", len(elf)),
    "gzip_vmlinux": gzip.compress(elf, mtime=0),
}
for name, payload in seeds.items():
    img = bytearray(base)
    off = 0x100
    assert off + len(payload) <= pm_size, name
    img[setup + off:setup + off + len(payload)] = payload
    struct.pack_into("<II", img, 0x248, off, len(payload))
    with open(os.path.join(here, "bzimage", name), "wb") as f:
        f.write(img)
