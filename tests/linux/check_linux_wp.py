#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The seed's feature under a real kernel (DESIGN L5): Debian 12's own
kernel boots an initramfs of busybox-static, init_wp.sh and wp-linux
(guests/linux/wp_linux.c), provisioned as the other Linux tests do
(fetch_assets.sh, mkinitramfs.py), with wp-monitor --announced as a device
model. wp-linux, a Linux process, finds the guest-physical frames of its
buffer in /proc/self/pagemap (its virtual addresses are Linux's, not the
frames'), announces four of them on port 0x5f0, writes two values into
each and one into a fifth page it did not announce, releases the four and
writes once more. Checked, from what both sides printed:

  - every frame announced was taken by wp-monitor ([gpa, gpa + 4096),
    policy POLICY) and released again;
  - wp-monitor received exactly the process's eight writes to announced
    pages, in order, each at the frame + offset the process wrote, size 8,
    with the old and new values the process saw and meant (nothing for the
    unannounced page, nothing after the release), each from the vCPU the
    process ran on (with N > 1 vCPUs: the first four from vCPU N-1, where
    it announced them, the last four from vCPU 0);
  - each write reached wp-monitor while the process was in it: its line
    comes after the process's line for the write before, and before the
    process's own line for it;
  - what the process read back: with deny the old value (blocked), with
    allow and log the new one (applied); the unannounced page's write and
    the write after the release landed in every case;
  - wp-monitor's counters at the end, wp-linux's exit status 0, and
    ioreqvm's 0 (ACPI power-off).

Usage: check_linux_wp.py POLICY BACKEND IOREQVM WP_MONITOR WP_LINUX CACHE_DIR
                         WORK_DIR [--cpus N] [--skip-on-kvm-pvm REASON]
With --cpus N (default 1) Linux runs on N vCPUs and the process may run on
any of them: every engine must see each claim and release. The kvm variant
skips (exit 77, loudly) without /dev/kvm, or with --skip-on-kvm-pvm on a
kvm_pvm host.
"""
import argparse
import os
import re
import subprocess
import sys

ap = argparse.ArgumentParser()
for name in ["policy", "backend", "vmm", "wpmon", "wplinux", "cache", "work"]:
    ap.add_argument(name)
ap.add_argument("--cpus", type=int, default=1)
ap.add_argument("--skip-on-kvm-pvm", dest="pvm")
opt = ap.parse_args()
policy, backend, vmm, wpmon, wplinux, cache, work, pvm = (
    opt.policy, opt.backend, opt.vmm, opt.wpmon, opt.wplinux, opt.cache, opt.work, opt.pvm)
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
initrd = os.path.join(work, "initramfs-wp-%s-%s-%d.cpio" % (policy, backend, opt.cpus))
subprocess.run([sys.executable, os.path.join(here, "mkinitramfs.py"), initrd, busybox,
                os.path.join(here, "init_wp.sh"), "bin/wp-linux=" + wplinux], check=True)
WAIT = float(os.environ.get("GUEST_TIMEOUT", "300"))
args = [vmm, "run", "--accel", backend, "--kernel", kernel, "--initrd", initrd,
        "--memory", "256M", "--cpus", str(opt.cpus),
        "--cmdline", "console=ttyS0 panic=-1 quiet no_timer_check",
        "--device-model", "%s --announced --policy %s" % (wpmon, policy)]
try:
    p = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, timeout=WAIT)
    status, out, err = p.returncode, p.stdout.decode(errors="replace"), \
        p.stderr.decode(errors="replace")
except subprocess.TimeoutExpired as e:
    status, out, err = "timeout after %.0f s" % WAIT, (e.stdout or b"").decode(errors="replace"), \
        (e.stderr or b"").decode(errors="replace")
lines = out.splitlines()
failures = []


def fail(what):
    print("FAIL: " + what, file=sys.stderr)
    failures.append(what)


def finish():
    if failures or os.environ.get("VERBOSE"):
        print("--- guest serial output and wp-monitor's lines (%s):" % backend, file=sys.stderr)
        print(out, file=sys.stderr)
        print("--- ioreqvm and wp-monitor stderr:", file=sys.stderr)
        print(err, file=sys.stderr)
    if failures:
        sys.exit(1)


def hexes(m, *names):
    return tuple(int(m.group(n), 16) for n in names)


if status != 0:
    fail("ioreqvm exit status %s, expected 0 (ACPI power-off)" % status)
if "ioreqvm-init: wp-linux exited with status 0" not in lines:
    fail("no 'ioreqvm-init: wp-linux exited with status 0'")

# The process's pages: virtual address (Linux's) and frame.
pages = {}
for l in lines:
    m = re.fullmatch(r"wp-linux: page (\d) va 0x(?P<va>[0-9a-f]+) gpa 0x(?P<gpa>[0-9a-f]+)"
                     r"( \(not announced\))?", l)
    if m:
        pages[int(m.group(1))] = hexes(m, "va", "gpa")
if sorted(pages) != [0, 1, 2, 3, 4]:
    fail("expected pages 0-4 with their frames, got %s" % sorted(pages))
    finish()
gpas = [pages[i][1] for i in sorted(pages)]
if len(set(gpas)) != len(gpas) or any(g % 4096 or g >= 256 << 20 for g in gpas):
    fail("frames not distinct pages of the 256 MiB of RAM: %s" % [hex(g) for g in gpas])
if any(va == gpa for va, gpa in pages.values()):
    fail("a page's virtual address is its frame: not Linux's own page tables?")
announced = gpas[:4]
for i, g in enumerate(announced):
    want = "wp-linux: announced page %d frame 0x%x: watched" % (i, g >> 12)
    if want not in lines:
        fail("missing: " + want)
    want = "wp-monitor: guest announced [0x%x, 0x%x): watching, policy %s" % (g, g + 4096, policy)
    if want not in err.splitlines():
        fail("wp-monitor did not say: " + want)
    want = "wp-monitor: guest released the range at 0x%x: no longer watched" % g
    if want not in err.splitlines():
        fail("wp-monitor did not say: " + want)

# What the process wrote and read back, and what wp-monitor received.
writes, write_at = [], []
for at, l in enumerate(lines):
    m = re.fullmatch(r"wp-linux: write (\w+) gpa 0x(?P<gpa>[0-9a-f]+) old 0x(?P<old>[0-9a-f]+) "
                     r"new 0x(?P<new>[0-9a-f]+) reads 0x(?P<now>[0-9a-f]+) \((\w+)\)", l)
    if m:
        writes.append((m.group(1),) + hexes(m, "gpa", "old", "new", "now") + (m.group(6),))
        write_at.append(at)
watched = [w for w in writes if w[0] == "watched"]
others = [w for w in writes if w[0] != "watched"]
if len(watched) != 8 or [w[0] for w in others] != ["unwatched", "released"]:
    fail("expected 8 watched writes, then an unwatched and a released one: %s" % writes)
    finish()
verdict = {"deny": "DENIED", "allow": "allowed", "log": "logged"}[policy]
seen, seen_at = [], []
for at, l in enumerate(lines):
    m = re.fullmatch(r"wp-monitor: vcpu (\d+) write gpa 0x(?P<gpa>[0-9a-f]+) size (\d+) "
                     r"old 0x(?P<old>[0-9a-f]+) new 0x(?P<new>[0-9a-f]+) -> (\w+)", l)
    if m:
        seen.append(hexes(m, "gpa", "old", "new") + (int(m.group(3)), m.group(6),
                                                      int(m.group(1))))
        seen_at.append(at)
last = opt.cpus - 1
expected = [(w[1], w[2], w[3], 8, verdict, last if i < 4 else 0) for i, w in enumerate(watched)]
want_cpus = ["wp-linux: on cpu %d" % last] + (["wp-linux: on cpu 0"] if last else [])
if [l for l in lines if l.startswith("wp-linux: on cpu")] != want_cpus:
    fail("the process did not run where it should: expected %s" % want_cpus)
if seen != expected:
    fail("wp-monitor received %s, the process wrote %s" %
         ([(hex(a), hex(o), hex(n), s, v, "vcpu %d" % c) for a, o, n, s, v, c in seen],
          [(hex(a), hex(o), hex(n), s, v, "vcpu %d" % c) for a, o, n, s, v, c in expected]))
# Synchronous: wp-monitor printed each write while the process waited in
# it, after the process's line for the write before (wp-linux lets the
# console drain each line before it goes on) and before its own line.
for k in range(min(len(seen_at), 8)):
    if not (k == 0 or write_at[k - 1] < seen_at[k]) or not seen_at[k] < write_at[k]:
        fail("wp-monitor's line for write %d is not between the process's lines for writes "
             "%d and %d" % (k, k - 1, k))
for kind, gpa, old, new, now, said in watched:
    if gpa & ~0xfff not in announced:
        fail("write at 0x%x is not in an announced frame" % gpa)
    want_now, want_said = (old, "blocked") if policy == "deny" else (new, "applied")
    if now != want_now or said != want_said:
        fail("write at 0x%x: read back 0x%x (%s), expected 0x%x (%s)" %
             (gpa, now, said, want_now, want_said))
for kind, gpa, old, new, now, said in others:
    if now != new or said != "applied":
        fail("the %s write at 0x%x did not land: reads 0x%x" % (kind, gpa, now))
if others[0][1] & ~0xfff != gpas[4]:
    fail("the unwatched write is not in page 4's frame")
if others[1][1] & ~0xfff != gpas[0]:
    fail("the write after the release is not in page 0's frame")
n_applied = 0 if policy == "deny" else 8
want = ("wp-linux: 8 writes to watched pages: %d applied, %d blocked; the unwatched page's "
        "write applied" % (n_applied, 8 - n_applied))
if want not in lines:
    fail("missing: " + want)
if "wp-linux: released 4 of 4 pages" not in lines:
    fail("missing: wp-linux: released 4 of 4 pages")
counts = {"allow": (8, 0, 0), "deny": (0, 8, 0), "log": (0, 0, 8)}[policy]
want = "wp-monitor: VM gone; 8 writes: %d allowed, %d denied, %d logged; 0 pages watched" % counts
if want not in err.splitlines():
    fail("wp-monitor's summary is not: " + want)

finish()
print("wp-linux's %d writes to its own frames %s under Linux on %d vCPU(s), each seen by "
      "wp-monitor (%s)" % (len(watched), "blocked" if policy == "deny" else "applied", opt.cpus,
                           policy))
