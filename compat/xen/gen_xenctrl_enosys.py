#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes compat/xen/xenctrl_enosys.c: one stub per function Debian 12's
libxenctrl.so.4.17 exports that ioreqvm's libxenctrl does not implement,
each failing with -1 (or NULL for a pointer) and errno ENOSYS (DESIGN X1:
none pretends). The names come from Debian's library (objdump -T), the
return types from <xenctrl.h> and <xenctrl_compat.h> (clang's AST), or, for
the few exports no public header declares (libxenctrl's private helpers),
from PRIVATE below. The test xen_libxenctrl_stubs_match_debians_headers runs
this again and compares (--check: exit 1 if FILE differs, 77 without
Debian's library or clang). Usage: gen_xenctrl_enosys.py DEBIAN_LIB CLANG
[OUT | --check FILE]"""
import difflib
import json
import os
import shutil
import re
import subprocess
import sys
import tempfile

# Implemented in xenctrl.c (keep in step with it and with tests/xen/meson.build).
IMPLEMENTED = {
    'xc_interface_open', 'xc_interface_close', 'xc_domain_getinfo', 'xc_domain_getinfolist',
    'xc_domain_populate_physmap', 'xc_domain_populate_physmap_exact',
    'xc_domain_decrease_reservation', 'xc_domain_decrease_reservation_exact',
    'xc_get_last_error', 'xc_clear_last_error', 'xc_error_code_to_desc', 'xc_strerror',
    'xc__hypercall_buffer_free', 'xc__hypercall_buffer_free_pages',
    'xc_hypercall_buffer_array_destroy', 'xc__hypercall_bounce_post', 'xc_cpupool_infofree',
    'xc_cpumap_clearcpu', 'xc_cpumap_setcpu', 'xc_cpumap_testcpu',
    'xc_ffs8', 'xc_ffs16', 'xc_ffs32', 'xc_ffs64',
    'bitmap_64_to_byte', 'bitmap_byte_to_64', 'read_exact', 'write_exact', 'writev_exact',
    'discard_file_cache', 'xc_report', 'xc_reportv', 'xc_report_error',
    'xc_set_progress_prefix', 'xc_report_progress_single', 'xc_report_progress_step',
    'xc__hypercall_buffer_HYPERCALL_BUFFER_NULL',
}

# Exports no public header declares: their return kind as Xen's private headers have it.
PRIVATE = {
    'xc__hypercall_bounce_pre': 'INT', 'xc_add_mmu_update': 'INT', 'xc_alloc_mmu_updates': 'PTR',
    'xc_flush_mmu_updates': 'INT', 'xc_get_pfn_type_batch': 'INT',
    'xc_map_foreign_ranges': 'PTR', 'xc_vm_event_control': 'INT', 'xc_vm_event_enable': 'PTR',
}

INTS = {'int', 'long', 'long long', 'unsigned long', 'unsigned int', 'int64_t', 'uint64_t'}


def exports(lib):
    out = subprocess.run(['objdump', '-T', lib], check=True, capture_output=True, text=True).stdout
    names = set()
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 6 and re.fullmatch(r'[0-9a-f]+', f[0]) and '*UND*' not in f and \
           not f[-1].startswith('VERS_'):
            names.add(f[-1])
    return names


def declared(clang):
    src = ('#define XC_WANT_COMPAT_MAP_FOREIGN_API\n#define XC_WANT_COMPAT_EVTCHN_API\n'
           '#define XC_WANT_COMPAT_GNTTAB_API\n#define XC_WANT_COMPAT_DEVICEMODEL_API\n'
           '#define __XEN_TOOLS__ 1\n#include <xenctrl.h>\n#include <xenctrl_compat.h>\n')
    with tempfile.NamedTemporaryFile('w', suffix='.c', delete=False) as f:
        f.write(src)
    try:
        out = subprocess.run([clang, '-fsyntax-only', '-Xclang', '-ast-dump=json', f.name],
                             check=True, capture_output=True, text=True).stdout
    finally:
        os.unlink(f.name)
    kinds, typedefs = {}, {}
    inner = json.loads(out)['inner']
    for n in inner:
        if n.get('kind') == 'TypedefDecl':
            t = n['type']
            typedefs[n['name']] = t.get('desugaredQualType', t['qualType'])
    for n in inner:
        if n.get('kind') != 'FunctionDecl':
            continue
        t = n['type']
        full = t.get('desugaredQualType', t['qualType'])
        typedef = full[:full.index('(')].strip()
        ret = typedefs.get(typedef, typedef)
        if ret == 'void':
            kinds[n['name']] = 'VOID'
        elif '*' in ret:
            kinds[n['name']] = 'PTR'
        elif ret in INTS or typedef == 'xc_evtchn_port_or_error_t':
            kinds[n['name']] = 'INT'
        else:
            kinds[n['name']] = 'OTHER ' + ret
    return kinds


def main():
    if len(sys.argv) not in (3, 4, 5) or (len(sys.argv) == 5 and sys.argv[3] != '--check'):
        print(__doc__, file=sys.stderr)
        return 2
    check = sys.argv[4] if len(sys.argv) == 5 else None
    for need in (sys.argv[1], sys.argv[2]):
        if check and not (os.path.exists(need) or shutil.which(need)):
            print(f'SKIPPED: {need} is missing (libxen-dev, clang: scripts/setup.sh)')
            return 77
    names = exports(sys.argv[1])
    kinds = declared(sys.argv[2])
    kinds.update(PRIVATE)
    lines, bad = [], []
    for name in sorted(names - IMPLEMENTED):
        kind = kinds.get(name)
        if kind not in ('INT', 'PTR'):
            bad.append(f'{name}: {kind or "no declaration"}')
            continue
        lines.append(f'ENOSYS_{kind}({name})\n')
    for name in sorted(IMPLEMENTED - names):
        bad.append(f'{name}: implemented but not exported by Debian\'s library')
    if bad:
        print('cannot stub:\n  ' + '\n  '.join(bad), file=sys.stderr)
        return 1
    text = ('/* SPDX-License-Identifier: MIT */\n'
            '/*\n'
            ' * libxenctrl.so.4.17\'s functions ioreqvm does not implement: each fails\n'
            ' * with -1 (NULL where it returns a pointer) and errno ENOSYS (DESIGN X1;\n'
            ' * libxenctrl.map says why). Written by gen_xenctrl_enosys.py from\n'
            ' * Debian\'s library and headers; xen_libxenctrl_stubs_match_debians_headers\n'
            ' * checks it is what the script writes today.\n'
            ' */\n'
            '#include "xenctrl_enosys.h"\n\n' + ''.join(lines))
    if check:
        with open(check) as f:
            old = f.read()
        if old != text:
            sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), text.splitlines(True),
                                                       check, 'as written today'))
            print(f'FAIL: {check} is not what gen_xenctrl_enosys.py writes from Debian\'s '
                  'library and headers: run it again')
            return 1
        print(f'ok: {len(lines)} stubs, each a function Debian exports that xenctrl.c does not '
              'implement, returning -1 or NULL as its declaration does')
    elif len(sys.argv) == 4:
        with open(sys.argv[3], 'w') as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
