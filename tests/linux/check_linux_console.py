#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The console and the end of the VM with Debian 12's own kernel (DESIGN L3,
L4): an initramfs of busybox-static and init_shell.sh (an interactive shell
on ttyS0), provisioned as the other Linux tests do (fetch_assets.sh,
mkinitramfs.py). Cases:

  typed   ioreqvm in a pseudo-terminal that is its controlling terminal:
          raw while Linux runs; a typed command line reaches the shell and
          its output comes back; `reboot -f` ends ioreqvm with status 10
          (the documented reset status); `stty -g` as before;
  piped   commands piped into ioreqvm reach the shell intact (none lost to
          the 8250 driver's setup); `seq 1 166000` prints every line in
          order through Linux's tty and the UART model (1050895 bytes, past
          1 MiB); `poweroff -f` (ACPI) ends it with status 0;
  debugexit  a byte written from Linux user space to the isa-debug-exit
          port through /dev/port (dd at offset 0xf4) ends ioreqvm with
          (byte << 1) | 1, as in QEMU; nothing after it runs.

Usage: check_linux_console.py CASE BACKEND IOREQVM CACHE_DIR WORK_DIR
                              [--skip-on-kvm-pvm REASON]
The kvm variant skips (exit 77, loudly) without /dev/kvm, or with
--skip-on-kvm-pvm on a kvm_pvm host.
"""
import fcntl
import os
import re
import select
import subprocess
import sys
import termios
import time

case, backend, vmm, cache, work = sys.argv[1:6]
pvm = sys.argv[7] if len(sys.argv) > 7 and sys.argv[6] == "--skip-on-kvm-pvm" else None
if backend == "kvm" and not os.path.exists("/dev/kvm"):
    print("SKIPPED: kvm variant: /dev/kvm is missing on this machine", file=sys.stderr)
    sys.exit(77)
if backend == "kvm" and pvm and os.path.isdir("/sys/module/kvm_pvm"):
    print("SKIPPED: kvm variant on kvm_pvm: %s (DESIGN section 7); the tcg variant runs" % pvm,
          file=sys.stderr)
    sys.exit(77)

here = os.path.dirname(os.path.abspath(__file__))
assets = subprocess.run([os.path.join(here, "fetch_assets.sh"), cache], capture_output=True,
                        text=True, check=True).stdout.split("\n")
kernel, busybox = assets[0], assets[1]
os.makedirs(work, exist_ok=True)
initrd = os.path.join(work, "initramfs-console-%s-%s.cpio" % (case, backend))
subprocess.run([sys.executable, os.path.join(here, "mkinitramfs.py"), initrd, busybox,
                os.path.join(here, "init_shell.sh")], check=True)
# Seconds a run may take; scripts/test.sh scales it for the sanitizer build
# as it scales meson's timeouts (IOREQVM_TIMEOUT_SCALE).
WAIT = float(os.environ.get("GUEST_TIMEOUT", "300")) * float(
    os.environ.get("IOREQVM_TIMEOUT_SCALE", "1"))
args = [vmm, "run", "--accel", backend, "--kernel", kernel, "--initrd", initrd,
        "--memory", "256M", "--cmdline", "console=ttyS0 panic=-1 quiet"]
failures = []


def fail(what):
    print("FAIL: " + what, file=sys.stderr)
    failures.append(what)


def typed():
    master, slave = os.openpty()
    path = os.ttyname(slave)

    def stty_g():
        return subprocess.run(["stty", "-g", "-F", path], capture_output=True, text=True,
                              check=True).stdout.strip()

    before = stty_g()
    pid = os.fork()
    if pid == 0:
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        os.close(master)
        os.close(slave)
        os.execv(vmm, args)
    seen = [b""]

    def pump(t):
        r, _, _ = select.select([master], [], [], t)
        if r:
            try:
                seen[0] += os.read(master, 65536)
            except OSError:
                pass

    def wait_for(pattern, what, timeout=WAIT):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if re.search(pattern, seen[0]):
                return True
            pump(0.2)
        fail("no %s within %.0f s" % (what, timeout))
        return False

    status = None
    try:
        if wait_for(rb"ioreqvm-init: shell on the console", "shell from /init") and \
                wait_for(rb"/ # ", "the shell's prompt", 60):
            lflag = termios.tcgetattr(slave)[3]
            if lflag & (termios.ICANON | termios.ECHO | termios.ISIG):
                fail("the terminal is not raw while Linux runs: " + stty_g())
            os.write(master, b"echo typed-$((6*7)); grep -c ^processor /proc/cpuinfo\r")
            # Linux's tty turns \n into \r\n and the terminal's own output
            # processing (kept on, as QEMU keeps it) adds one more \r.
            wait_for(rb"typed-42\r*\n1\r*\n", "the typed command's output", 60)
            os.write(master, b"reboot -f\r")
        end = time.monotonic() + 60
        while time.monotonic() < end:
            p, st = os.waitpid(pid, os.WNOHANG)
            if p == pid:
                status = os.waitstatus_to_exitcode(st)
                break
            pump(0.2)
    finally:
        if status is None:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
    if status != 10:
        fail("reboot -f: exit status %s, expected 10" % status)
    if stty_g() != before:
        fail("stty -g after: %s, before: %s" % (stty_g(), before))
    return seen[0]


def piped(n=166000):
    script = b"echo piped-$((1+1))\nseq 1 %d\necho seq-done\npoweroff -f\n" % n
    try:
        # A MiB through Linux's tty and a UART, a byte per register write: longer.
        p = subprocess.run(args, input=script, capture_output=True, timeout=2 * WAIT)
    except subprocess.TimeoutExpired as e:
        fail("ioreqvm did not end within %.0f s" % (2 * WAIT))
        return e.stdout or b""
    out = p.stdout.replace(b"\r\n", b"\n")
    if p.returncode != 0:
        fail("poweroff -f: exit status %d, expected 0" % p.returncode)
    if not re.search(rb"(?m)^piped-2$", out):
        fail("the piped command line did not reach the shell intact")
    m = re.search(rb"(?ms)^seq 1 %d\n(.*?)^seq-done$" % n, out)
    body = m.group(1) if m else b""
    # The shell's echo of the next lines may come in between (the tty echoes
    # input as it arrives): keep the numbers' lines only.
    nums = [l for l in body.split(b"\n") if l.isdigit()]
    want = [b"%d" % i for i in range(1, n + 1)]
    if nums != want:
        first = next((i for i, (a, b) in enumerate(zip(nums, want)) if a != b), min(len(nums), n))
        fail("seq 1 %d: %d lines, first difference at line %d" % (n, len(nums), first + 1))
    print("seq 1 %d: %d bytes of output through Linux's tty and the UART model" %
          (n, sum(len(l) + 1 for l in want)))
    return p.stdout + p.stderr


def debugexit():
    script = (b"mount -t devtmpfs devtmpfs /dev\n"
              b"printf '\\052' | dd of=/dev/port bs=1 seek=244 count=1\n"
              b"echo after-the-port\npoweroff -f\n")
    try:
        p = subprocess.run(args, input=script, capture_output=True, timeout=WAIT)
    except subprocess.TimeoutExpired as e:
        fail("ioreqvm did not end within %.0f s" % WAIT)
        return e.stdout or b""
    if p.returncode != (0x2a << 1) | 1:
        fail("42 to port 0xf4 through /dev/port: exit status %d, expected 85" % p.returncode)
    if re.search(rb"(?m)^after-the-port", p.stdout):
        fail("the shell ran on after the write to the debug-exit port")
    return p.stdout + p.stderr


if case == "typed":
    seen = typed()
elif case == "piped":
    seen = piped()
elif case == "debugexit":
    seen = debugexit()
else:
    sys.exit("check_linux_console.py: unknown case " + case)
if failures or os.environ.get("VERBOSE"):
    print("--- the console saw (last 3000 bytes):", file=sys.stderr)
    print(seen[-3000:].decode(errors="replace"), file=sys.stderr)
sys.exit(1 if failures else 0)
