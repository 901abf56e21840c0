#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""DESIGN X1: each Xen-compatible library exports what Debian 12's library of
the same SONAME exports. For each pair OURS=DEBIANS, compares
  - the SONAME (readelf -d),
  - the version definitions and their parents (readelf -V),
  - every defined dynamic symbol with its version node (objdump -T), and
    the size and section kind of the data objects among them (a program
    copies them into its own image: the sizes must agree),
and checks the functions the issue lists are among them. Exits 77 (a loud
skip) only when Debian's library is missing (libxen-dev not installed).
Usage: check_xen_symbols.py OURS.so=DEBIANS.so[:func,func,...] ..."""
import os
import re
import subprocess
import sys


def run(*cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def soname(lib):
    m = re.search(r'\(SONAME\)\s+Library soname: \[(.*)\]', run('readelf', '-d', lib))
    return m.group(1) if m else None


def verdefs(lib):
    """[(name, parent or None)] of .gnu.version_d, BASE entry excluded."""
    out, cur, in_def = [], None, False
    for line in run('readelf', '-V', '-W', lib).splitlines():
        if line.startswith('Version definition section'):
            in_def = True
            continue
        if in_def and (line.startswith('Version needs section') or line.startswith('Version symbols section')):
            break
        if not in_def:
            continue
        m = re.search(r'Flags: (\S+)\s+Index: \d+\s+Cnt: \d+\s+Name: (\S+)', line)
        if m:
            cur = None if m.group(1) == 'BASE' else [m.group(2), None]
            if cur:
                out.append(cur)
            continue
        m = re.search(r'Parent 1: (\S+)', line)
        if m and cur:
            cur[1] = m.group(1)
    return sorted(tuple(v) for v in out)


def exports(lib):
    """{(name, version)} of the defined dynamic symbols."""
    syms = set()
    for line in run('objdump', '-T', lib).splitlines():
        f = line.split()
        if len(f) < 6 or not re.fullmatch(r'[0-9a-f]+', f[0]) or '*UND*' in f:
            continue
        syms.add((f[-1], f[-2]))
    return syms


def objects(lib):
    """{name: (section, size)} of the defined dynamic data objects."""
    objs = {}
    for line in run('objdump', '-T', lib).splitlines():
        f = line.split()
        if len(f) >= 7 and re.fullmatch(r'[0-9a-f]+', f[0]) and f[2] == 'DO' and f[3].startswith('.'):
            objs[f[-1]] = (f[3].lstrip('.').replace('bss', 'data'), int(f[4], 16))
    return objs


def compare(ours, debians, funcs):
    fail = 0
    if soname(ours) != soname(debians):
        print(f'FAIL: SONAME {soname(ours)} (ours) vs {soname(debians)} (Debian)')
        fail = 1
    else:
        print(f'ok: SONAME {soname(ours)}')
    vo, vd = verdefs(ours), verdefs(debians)
    if vo != vd:
        print(f'FAIL: version nodes differ: ours {vo}, Debian {vd}')
        fail = 1
    else:
        print('ok: version nodes ' + ', '.join(n + (f' (parent {p})' if p else '') for n, p in vo))
    so, sd = exports(ours), exports(debians)
    for name, ver in sorted(sd - so):
        print(f'FAIL: Debian exports {name}@{ver}, we do not')
        fail = 1
    for name, ver in sorted(so - sd):
        print(f'FAIL: we export {name}@{ver}, Debian does not')
        fail = 1
    if so == sd:
        print(f'ok: the same {len(so)} dynamic symbols with the same version nodes')
    oo, od = objects(ours), objects(debians)
    if oo != od:
        print(f'FAIL: data objects differ: ours {oo}, Debian {od}')
        fail = 1
    elif od:
        print('ok: data objects ' + ', '.join(f'{n} ({s} bytes)' for n, (_, s) in sorted(od.items())))
    names = {n for n, _ in so}
    missing = [fn for fn in funcs if fn not in names]
    for fn in missing:
        print(f'FAIL: listed function {fn} is not exported')
        fail = 1
    if funcs and not missing:
        print(f'ok: the {len(funcs)} listed functions are exported')
    return fail


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    fail = 0
    for arg in sys.argv[1:]:
        ours, rest = arg.split('=', 1)
        debians, _, flist = rest.partition(':')
        funcs = [f for f in flist.split(',') if f]
        if not os.path.exists(debians):
            print(f"SKIPPED: Debian's {debians} is missing (install libxen-dev: scripts/setup.sh)")
            return 77
        print(f'--- {os.path.basename(ours)} vs {debians}')
        fail |= compare(ours, debians, funcs)
    return fail


if __name__ == '__main__':
    sys.exit(main())
