#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs a command and prints, for each regular expression given, the seconds
from starting the command to the first line of its standard output that
matches (or "-" if none did before it exited or the timeout). Stops the
command once the last expression matched or after TIMEOUT seconds. With
--memory, when the last expression matches it also prints the command's
resident memory then, in MiB: the RSS of the command's own process (the VMM)
and the PSS summed over every process of its session (the VMM and the device
models it started; PSS counts shared pages once). Used by bench/linux_boot.sh
for "start to the first kernel line and to /init".
Usage: boot_times.py [--memory] TIMEOUT REGEX... -- COMMAND ARGS..."""
import os
import re
import signal
import subprocess
import sys
import time


def kib(path, key):
    """The value in kB of the line 'key: N kB' of a /proc file, or 0."""
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def memory(pid):
    """(RSS of pid, PSS summed over pid's session) in MiB."""
    pss = 0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == pid:  # the session id (field 6 of stat)
            pss += kib("/proc/%s/smaps_rollup" % d, "Pss")
    return kib("/proc/%d/status" % pid, "VmRSS") / 1024.0, pss / 1024.0


def main():
    args = sys.argv[1:]
    want_memory = bool(args) and args[0] == "--memory"
    if want_memory:
        args = args[1:]
    if "--" not in args or len(args) < 3:
        sys.exit(__doc__)
    sep = args.index("--")
    timeout = float(args[0])
    pats = [re.compile(p) for p in args[1:sep]]
    cmd = args[sep + 1:]
    mem = None
    found = [None] * len(pats)
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = t0 + timeout
    os.set_blocking(proc.stdout.fileno(), False)
    buf = b""
    while time.monotonic() < deadline and None in found:
        try:
            chunk = proc.stdout.read()
        except BlockingIOError:
            chunk = None
        if chunk:
            buf += chunk
            lines = buf.split(b"\n")
            buf = lines.pop()
            now = time.monotonic() - t0
            for line in lines:
                text = line.decode(errors="replace")
                for i, p in enumerate(pats):
                    if found[i] is None and p.search(text):
                        found[i] = now
                        if want_memory and i == len(pats) - 1:
                            mem = memory(proc.pid)
        elif proc.poll() is not None:
            break
        else:
            time.sleep(0.01)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    cols = ["-" if f is None else "%.2f" % f for f in found]
    if want_memory:
        cols += ["-", "-"] if mem is None else ["%.1f" % m for m in mem]
    print(" ".join(cols))


if __name__ == "__main__":
    main()
