#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The console on a terminal (DESIGN L3), through the real ioreqvm in a
pseudo-terminal that is its controlling terminal, as a person's shell
gives it. Each case compares `stty -g` of the terminal before ioreqvm
starts with what it is after, and checks raw mode while the guest runs:

  type          keys reach the guest's receiver (the console guest in echo
                mode prints each line's bytes): Enter is CR, Ctrl-C is a
                byte for the guest, Ctrl-A Ctrl-A sends one Ctrl-A, Ctrl-A h
                prints the keys; Ctrl-A x quits: ioreqvm exits 12;
  sigterm       SIGTERM to ioreqvm: status 143, the terminal restored;
  sighup        SIGHUP to ioreqvm: status 129, the terminal restored;
  model-sigterm SIGTERM to the UART model: it restores the terminal at once
                (the VM runs on, R3); then SIGTERM to ioreqvm: 143;
  model-sigkill SIGKILL to the UART model: ioreqvm restores the terminal
                at once; then SIGTERM to ioreqvm: 143;
  vmm-sigkill   SIGKILL to ioreqvm: the model, its VM gone, restores the
                terminal and exits;
  none          --console none: the terminal is never changed and the
                guest's output does not reach it; SIGTERM: 143.

Usage: check_console_pty.py CASE BACKEND IOREQVM CONSOLE-KERNEL
The kvm variant skips (exit 77, loudly) only when /dev/kvm is missing.
"""
import fcntl
import os
import re
import select
import signal
import subprocess
import sys
import termios
import time

case, backend, vmm, kernel = sys.argv[1:5]
if backend == "kvm" and not os.path.exists("/dev/kvm"):
    print("SKIPPED: kvm variant: /dev/kvm is missing on this machine", file=sys.stderr)
    sys.exit(77)

WAIT = float(os.environ.get("GUEST_TIMEOUT", "120"))
failures = []


def fail(what):
    print("FAIL: " + what, file=sys.stderr)
    failures.append(what)


master, slave = os.openpty()
slave_path = os.ttyname(slave)


def stty_g():
    return subprocess.run(["stty", "-g", "-F", slave_path], capture_output=True, text=True,
                          check=True).stdout.strip()


def is_raw():
    lflag = termios.tcgetattr(slave)[3]
    return not (lflag & (termios.ICANON | termios.ECHO | termios.ISIG))


before = stty_g()
args = [vmm, "run", "--accel", backend, "--kernel", kernel, "--cmdline", "echo", "-v"]
if case == "none":
    args += ["--console", "none"]
pid = os.fork()
if pid == 0:
    # The child: a session of its own with the pty as controlling terminal,
    # in its foreground, as a login shell runs a command.
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    os.close(master)
    os.close(slave)
    os.execv(vmm, args)

seen = b""
status = None


def pump(timeout):
    global seen
    r, _, _ = select.select([master], [], [], timeout)
    if r:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: no process has the terminal open any more
            data = b""
        seen += data
        return bool(data)
    return False


def wait_for(pattern, what):
    end = time.monotonic() + WAIT
    rx = re.compile(pattern)
    while time.monotonic() < end:
        m = rx.search(seen)
        if m:
            return m
        pump(0.2)
    fail("no %s within %.0f s" % (what, WAIT))
    return None


def reap(timeout=30):
    global status
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        p, st = os.waitpid(pid, os.WNOHANG)
        if p == pid:
            status = os.waitstatus_to_exitcode(st)
            return status
        pump(0.1)
    fail("ioreqvm did not exit within %d s" % timeout)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return None


def until(cond, timeout=10):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        pump(0.05)
    return cond()


def type_keys(keys):
    os.write(master, keys)


ready = rb"ioreqvm: device model ready \(pid (\d+)\)"
m = wait_for(ready, "'device model ready' from ioreqvm -v")
model = int(m.group(1)) if m else None
if case != "none":
    wait_for(rb"console: ready\r?\n", "'console: ready' from the guest")
    if not is_raw():
        fail("the terminal is not raw while the guest runs: " + stty_g())

if case == "type":
    type_keys(b"hello\r")
    wait_for(rb"console: got 5 bytes: 68 65 6c 6c 6f\r?\n", "the typed line at the guest")
    type_keys(b"\x03\x01\x01z\r")  # Ctrl-C, Ctrl-A Ctrl-A, z
    wait_for(rb"console: got 3 bytes: 03 01 7a\r?\n", "Ctrl-C and one Ctrl-A at the guest")
    type_keys(b"\x01h")
    wait_for(rb"Ctrl-A x quit", "the keys' help after Ctrl-A h")
    type_keys(b"q\x01zq\r")  # Ctrl-A and an unknown key: both dropped
    wait_for(rb"console: got 2 bytes: 71 71\r?\n", "the line without Ctrl-A z")
    type_keys(b"\x01x")
    if reap() != 12:
        fail("Ctrl-A x: exit status %s, expected 12" % status)
elif case in ("sigterm", "sighup"):
    sig = signal.SIGTERM if case == "sigterm" else signal.SIGHUP
    os.kill(pid, sig)
    if reap() != 128 + sig:
        fail("%s: exit status %s, expected %d" % (case, status, 128 + sig))
elif case in ("model-sigterm", "model-sigkill"):
    os.kill(model, signal.SIGTERM if case == "model-sigterm" else signal.SIGKILL)
    if not until(lambda: not is_raw()):
        fail("the terminal is still raw after the model's death")
    elif stty_g() != before:
        fail("after the model's death: stty -g %s, was %s" % (stty_g(), before))
    if case == "model-sigkill":
        wait_for(rb"the console device model exited: terminal restored",
                 "ioreqvm's note on the console model's death")
    time.sleep(0.5)
    p, _ = os.waitpid(pid, os.WNOHANG)
    if p == pid:
        fail("ioreqvm exited with its console model (the VM must run on, R3)")
    else:
        os.kill(pid, signal.SIGTERM)
        if reap() != 143:
            fail("SIGTERM after the model's death: exit status %s, expected 143" % status)
elif case == "vmm-sigkill":
    os.kill(pid, signal.SIGKILL)
    reap()
    if not until(lambda: not os.path.exists("/proc/%d" % model)):
        fail("the UART model (pid %d) lives on after ioreqvm's death" % model)
elif case == "none":
    time.sleep(1)
    if stty_g() != before:
        fail("--console none changed the terminal: %s, was %s" % (stty_g(), before))
    os.kill(pid, signal.SIGTERM)
    if reap() != 143:
        fail("SIGTERM: exit status %s, expected 143" % status)
    if b"console: ready" in seen:
        fail("--console none: the guest's output reached the terminal")
else:
    print("check_console_pty.py: unknown case " + case, file=sys.stderr)
    sys.exit(2)

after = stty_g()
if after != before:
    fail("stty -g after: %s, before: %s" % (after, before))
if failures or os.environ.get("VERBOSE"):
    print("--- the terminal saw:", file=sys.stderr)
    print(seen.decode(errors="replace"), file=sys.stderr)
sys.exit(1 if failures else 0)
