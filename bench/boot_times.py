#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs a command and prints, for each regular expression given, the seconds
from starting the command to the first line of its standard output that
matches (or "-" if none did before it exited or the timeout). Stops the
command once the last expression matched or after TIMEOUT seconds. Used by
bench/linux_boot.sh for "start to the first kernel line and to /init".
Usage: boot_times.py TIMEOUT REGEX... -- COMMAND ARGS..."""
import os
import re
import signal
import subprocess
import sys
import time


def main():
    if "--" not in sys.argv or len(sys.argv) < 4:
        sys.exit(__doc__)
    sep = sys.argv.index("--")
    timeout = float(sys.argv[1])
    pats = [re.compile(p) for p in sys.argv[2:sep]]
    cmd = sys.argv[sep + 1:]
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
    print(" ".join("-" if f is None else "%.2f" % f for f in found))


if __name__ == "__main__":
    main()
