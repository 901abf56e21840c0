#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The include sets as the build really uses them: reads the build's
compile_commands.json (every compile ninja runs) and checks each command's
include paths (-I, -iquote, -isystem, -idirafter) against the rules below.
A side of the tree may not see another side's folders; each rule must match
at least one compile, so a renamed folder fails here instead of passing.
Usage: check_include_paths.py SOURCE_ROOT BUILD_ROOT"""
import json
import os
import shlex
import sys

# (compiled file's folder, folders it may not have on its include path)
RULES = [
    ('libioreq', ['src']),
    ('dm/testdm', ['src']),
    ('dm/uart16550', ['src']),
    ('dm/wp-monitor', ['src']),
    ('tools/ioreqctl', ['src']),
    ('compat/xen', ['src']),
    ('tests/xen', ['src']),
    ('lib/uart16550', ['src', 'dm', 'libioreq', 'include']),
    ('src', ['dm', 'libioreq', 'tools']),
]
INC_FLAGS = ('-I', '-iquote', '-isystem', '-idirafter')


def include_paths(entry):
    """Absolute include paths of one compile_commands.json entry."""
    args = entry.get('arguments') or shlex.split(entry['command'])
    out = []
    i = 0
    while i < len(args):
        a = args[i]
        for f in INC_FLAGS:
            if a == f and i + 1 < len(args):
                out.append(args[i + 1])
                i += 1
                break
            if a.startswith(f) and len(a) > len(f):
                out.append(a[len(f):])
                break
        i += 1
    return [os.path.realpath(os.path.join(entry['directory'], p)) for p in out]


def inside(path, folder):
    return path == folder or path.startswith(folder + os.sep)


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    src_root = os.path.realpath(sys.argv[1])
    build_root = os.path.realpath(sys.argv[2])
    with open(os.path.join(build_root, 'compile_commands.json')) as f:
        entries = json.load(f)
    compiles = {folder: 0 for folder, _ in RULES}
    bad = {folder: 0 for folder, _ in RULES}
    for e in entries:
        file = os.path.realpath(os.path.join(e['directory'], e['file']))
        for folder, banned in RULES:
            if not inside(file, os.path.join(src_root, folder)):
                continue
            compiles[folder] += 1
            rel = os.path.relpath(file, src_root)
            for p in include_paths(e):
                for b in banned:
                    # The folder, or its build-side twin (meson adds both).
                    if inside(p, os.path.join(src_root, b)) or inside(p, os.path.join(build_root, b)):
                        print(f'FAIL: {rel} is compiled with {b}/ on its include path ({p})')
                        bad[folder] += 1
    fail = 0
    for folder, banned in RULES:
        never = ', '.join(b + '/' for b in banned)
        if compiles[folder] == 0:
            print(f'FAIL: no compile of {folder}/ in compile_commands.json')
            fail = 1
        elif bad[folder]:
            print(f'FAIL: {folder}/: {bad[folder]} include paths into {never}')
            fail = 1
        else:
            print(f'ok: {folder}/: {compiles[folder]} compiles, none sees {never}')
    return fail

if __name__ == '__main__':
    sys.exit(main())
