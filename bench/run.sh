#!/bin/bash
# SPDX-License-Identifier: MIT
# Runs every benchmark and rewrites BENCHMARKS.md: machine, date, the exact
# command, and each table (median and min-max over repeated runs, baselines
# measured in the same run). Usage: bench/run.sh
set -eu
cd "$(dirname "$0")/.."
unicorn_pc=$(./scripts/setup.sh) # libunicorn >= 2.1, perhaps from a private prefix
[ -z "$unicorn_pc" ] || export PKG_CONFIG_PATH="$unicorn_pc${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
dir=_build/bench
[ -f "$dir/build.ninja" ] || meson setup "$dir" -Dbuildtype=release -Db_sanitize=none >/dev/null
ninja -C "$dir" >/dev/null

kvm_status="absent"
[ -c /dev/kvm ] && kvm_status="present ($(ls /sys/module 2>/dev/null | grep -E "^kvm_" | tr "\n" " " | sed "s/ $//"))"
backends="kvm"
[ -c /dev/kvm ] || backends="none"
declare -A p1 # "backend:write" -> us per write in the QEMU table (and ":qemu")

# Wall times of a command, N runs, in microseconds, sorted, one a line.
times_us() {
	local n=$1; shift
	for ((i = 0; i < n; i++)); do
		local s e
		s=$(date +%s%N)
		"$@" >/dev/null 2>&1 || true
		e=$(date +%s%N)
		echo $(((e - s) / 1000))
	done | sort -n
}
# "median (min-max)" in ms.
wall_ms() {
	times_us "$@" | awk '{a[NR]=$1} END {printf "%.2f ms (%.2f-%.2f)", a[int((NR+1)/2)]/1000, a[1]/1000, a[NR]/1000}'
}
# The minimum in microseconds (least disturbed run).
min_us() {
	times_us "$@" | head -n1
}
# bench_flip's table [cpus] for every backend here, the header once.
flip_table() {
	local first=1 bb
	for bb in $([ -c /dev/kvm ] && echo kvm) tcg; do
		if [ "$first" = 1 ]; then
			"$dir/bench/bench_flip" "$dir/guests/p2m.elf" "$bb" "$@" 2>/dev/null
			first=0
		else
			"$dir/bench/bench_flip" "$dir/guests/p2m.elf" "$bb" "$@" 2>/dev/null | tail -n +3
		fi
	done
}
# The median in microseconds.
median_us() {
	times_us "$@" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

out=BENCHMARKS.md.new
{
	echo "# ioreqvm benchmarks"
	echo
	echo "Rewritten by \`bench/run.sh\` (the command that reproduces every table)."
	echo "Timings are medians with min-max over repeated runs in one run of the script;"
	echo "they are never used by pass/fail tests."
	echo
	echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
	echo "- machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
	echo "- kernel: $(uname -r); /dev/kvm: $kvm_status"
	echo "- build: meson buildtype=release, gcc $(gcc -dumpversion)"
	echo "- tcg: $("$dir/src/ioreqvm" --version | sed -n 's/^tcg backend: //p')"
	echo
	echo "## Boot: hello guest, start to exit"
	echo
	echo "| backend | wall time, 20 runs |"
	echo "|---|---|"
	for b in $backends; do
		[ "$b" = none ] && continue
		echo "| $b | $(wall_ms 20 "$dir/src/ioreqvm" run --accel "$b" --kernel "$dir/guests/hello.elf") |"
	done
	echo
	bench/linux_boot.sh "$dir" 3
	echo
	echo "## Round trip of one guest write: in the VMM vs a device-model process"
	echo
	echo "The bench_io guest writes N times (4 bytes each, at CPL0) to one port or"
	echo "MMIO address; the cost of one write is (time with N - time with 0) / N, from"
	echo "medians of 5 whole runs each. In-VMM: port 0x608 (the PM timer, whose"
	echo "writes ioreqvm ignores) and an unbacked MMIO page (the default, I9, handled in the"
	echo "VMM). Forwarded: the same writes to a range served by testdm, a separate"
	echo "process (libioreq_server_run: spin 50 us, then sleep). Load average at the"
	echo "start: $(cut -d' ' -f1-3 /proc/loadavg)."
	echo
	echo "| backend | write | per write, N=20000 | vs in-VMM |"
	echo "|---|---|---|---|"
	dm="$dir/dm/testdm/testdm --port 0x510:0x513 --mmio 0xE0000000:0xE0000FFF"
	for b in $backends; do
		[ "$b" = none ] && continue
		run_io() { "$dir/src/ioreqvm" run --accel "$b" --kernel "$dir/guests/bench_io.elf" \
			--cmdline "$1" --device-model "$dm"; }
		per_write() { # cmdline-with-N -> us per write
			local t0 t1
			t0=$(median_us 5 run_io "${1% *} 0")
			t1=$(median_us 5 run_io "$1")
			awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 20000 }'
		}
		pio_vmm=$(per_write "pio 0x608 20000")
		pio_dm=$(per_write "pio 0x510 20000")
		mmio_vmm=$(per_write "mmio 0xE0100000 20000")
		mmio_dm=$(per_write "mmio 0xE0000000 20000")
		echo "| $b | port, in-VMM handler | $pio_vmm us | 1.00x |"
		echo "| $b | port, forwarded to testdm | $pio_dm us | $(awk -v a="$pio_vmm" -v b="$pio_dm" 'BEGIN { printf "%.2fx", b / a }') |"
		echo "| $b | MMIO, in-VMM (unbacked) | $mmio_vmm us | 1.00x |"
		echo "| $b | MMIO, forwarded to testdm | $mmio_dm us | $(awk -v a="$mmio_vmm" -v b="$mmio_dm" 'BEGIN { printf "%.2fx", b / a }') |"
	done
	echo
	echo "## Throughput: forwarded writes per second"
	echo
	echo "bench_io with N 4-byte port writes per vCPU (smp: every vCPU at once, each"
	echo "to its own port; N=20000 on kvm, 1000000 on tcg, where 20000 writes take less"
	echo "time than a boot varies), minimum of 3 runs, boot subtracted. The machine has"
	echo "2 cores: with 2 vCPUs and a model there are 3 runnable threads. Before the"
	echo "turn hold (a tcg vCPU sleeping for a model passes its turn on only after"
	echo "200 us, TCG_TURN_HOLD_NS in tcg_priv.h) the tcg 2-vCPU row fell to ~28000/s in half the runs:"
	echo "every request woke the model and passed the turn, ~35 us each."
	echo
	echo "| backend | vCPUs | in-VMM handler | forwarded to testdm | ratio |"
	echo "|---|---|---|---|---|"
	for b in $backends tcg; do
		[ "$b" = none ] && continue
		tn=20000
		[ "$b" = tcg ] && tn=1000000
		thr() { # cmdline-with-N cpus -> writes per second
			local t0 t1
			t0=$(min_us 3 "$dir/src/ioreqvm" run --accel "$b" --cpus 2 --kernel "$dir/guests/bench_io.elf" \
				--cmdline "${1% *} 0" --device-model "$dir/dm/testdm/testdm --port 0x510:0x517")
			t1=$(min_us 3 "$dir/src/ioreqvm" run --accel "$b" --cpus 2 --kernel "$dir/guests/bench_io.elf" \
				--cmdline "$1" --device-model "$dir/dm/testdm/testdm --port 0x510:0x517")
			awk -v a="$t0" -v b="$t1" -v n="$2" -v w="$tn" 'BEGIN { printf "%.0f", n * w / ((b - a) / 1e6) }'
		}
		for c in 1 2; do
			pre=""
			[ "$c" = 2 ] && pre="smp "
			v=$(thr "${pre}pio 0x608 $tn" "$c")
			f=$(thr "${pre}pio 0x510 $tn" "$c")
			echo "| $b | $c | $v/s | $f/s | $(awk -v a="$v" -v b="$f" 'BEGIN { printf "%.2f", b / a }') |"
		done
	done
	echo
	echo "## Side by side with QEMU 7.2 (P1)"
	echo
	echo "The same bench_io image under ioreqvm and under qemu-system-x86_64 (Debian"
	echo "7.2, \`-device pc-testdev\`, whose MMIO page at 0xe0000000 QEMU handles in"
	echo "process, and its port 0xe0; kvm: \`-accel kvm -cpu host,-arch-capabilities\`). Per write ="
	echo "(run with N writes - run with 0) / N, minimum of 3 runs each. ioreqvm in-VMM:"
	echo "an unbacked MMIO page (I9, answered in the VMM); forwarded: to testdm, a"
	echo "separate process; posted: to a buffered range (I7) of testdm below 1 MiB (the"
	echo "port row too: the model maps its port buffered)."
	echo
	echo "| write | backend | N | ioreqvm | QEMU 7.2 in-process | ioreqvm / QEMU |"
	echo "|---|---|---|---|---|---|"
	command -v qemu-system-x86_64 >/dev/null 2>&1 || {
		apt-get install -y --no-install-recommends qemu-system-x86 >/dev/null 2>&1 ||
			{ apt-get update >/dev/null 2>&1; apt-get install -y --no-install-recommends qemu-system-x86 >/dev/null 2>&1; } || true
	}
	for b in kvm tcg; do
		[ "$b" = kvm ] && [ ! -c /dev/kvm ] && continue
		if [ "$b" = kvm ]; then n=20000 qn=100000 qacc="kvm -cpu host,-arch-capabilities"; else n=2000000 qn=2000000 qacc=tcg; fi
		dmq="$dir/dm/testdm/testdm --mmio 0xE0000000:0xE0000FFF --buffered --mmio 0xA0000:0xA0FFF --port 0x510:0x513"
		vmm_per() { # cmdline template with N -> us per write
			local t0 t1
			t0=$(min_us 3 "$dir/src/ioreqvm" run --accel "$b" --kernel "$dir/guests/bench_io.elf" \
				--cmdline "$1 0" --device-model "$dmq")
			t1=$(min_us 3 "$dir/src/ioreqvm" run --accel "$b" --kernel "$dir/guests/bench_io.elf" \
				--cmdline "$1 $n" --device-model "$dmq")
			awk -v a="$t0" -v b="$t1" -v n="$n" 'BEGIN { printf "%.3f", (b - a) / n }'
		}
		qemu_per() {
			local t0 t1
			t0=$(min_us 3 qemu-system-x86_64 -accel $qacc -m 256 -kernel "$dir/guests/bench_io.elf" \
				-append "$1 0" -display none -serial none -no-reboot \
				-device isa-debug-exit,iobase=0xf4,iosize=4 -device pc-testdev)
			t1=$(min_us 3 qemu-system-x86_64 -accel $qacc -m 256 -kernel "$dir/guests/bench_io.elf" \
				-append "$1 $qn" -display none -serial none -no-reboot \
				-device isa-debug-exit,iobase=0xf4,iosize=4 -device pc-testdev)
			awk -v a="$t0" -v b="$t1" -v n="$qn" 'BEGIN { printf "%.3f", (b - a) / n }'
		}
		q="-" qp="-"
		command -v qemu-system-x86_64 >/dev/null 2>&1 && q=$(qemu_per "mmio 0xe0000000") &&
			qp=$(qemu_per "pio 0xe0")
		for w in "MMIO, in-VMM:mmio 0xE0100000" "MMIO, forwarded:mmio 0xE0000000" \
			 "MMIO, posted:mmio 0xA0000" "port, in-VMM:pio 0x608" "port, posted:pio 0x510"; do
			ref=$q
			case $w in port*) ref=$qp ;; esac
			v=$(vmm_per "${w#*:}")
			p1["$b:${w%%:*}"]=$v
			p1["$b:${w%%:*}:qemu"]=$ref
			r=$(awk -v a="$v" -v b="$ref" 'BEGIN { if (b + 0 > 0) printf "%.2fx", a / b; else print "-" }')
			echo "| ${w%%:*} | $b | $n | $v us | $ref us | $r |"
		done
	done
	echo
	echo "Boot, start to exit (hello guest, 10 runs):"
	echo
	echo "| backend | ioreqvm | QEMU 7.2 |"
	echo "|---|---|---|"
	for b in kvm tcg; do
		[ "$b" = kvm ] && [ ! -c /dev/kvm ] && continue
		qacc=tcg
		[ "$b" = kvm ] && qacc="kvm -cpu host,-arch-capabilities"
		qh="-"
		command -v qemu-system-x86_64 >/dev/null 2>&1 && qh=$(wall_ms 10 qemu-system-x86_64 -accel $qacc -m 256 \
			-kernel "$dir/guests/hello.elf" -display none -serial none -no-reboot \
			-device isa-debug-exit,iobase=0xf4,iosize=4)
		echo "| $b | $(wall_ms 10 "$dir/src/ioreqvm" run --accel "$b" --kernel "$dir/guests/hello.elf") | $qh |"
	done
	echo
	echo "## tcg on libunicorn 2.1.1: next to 2.0.1 and QEMU TCG (the tcg 2.1 issue)"
	echo
	echo "The P1 rows and the boot above ran on this run's libunicorn ($(grep -o 'libunicorn [0-9.]*' <<<"$("$dir/src/ioreqvm" --version 2>&1)" | head -n1));"
	echo "the 2.0.1 column is the last run on Debian 12's 2.0.1 (69e0baf, BENCHMARKS.md of"
	echo "2026-12-03T14:18Z, same machine), kept here as text since one build links one"
	echo "libunicorn (meson requires >= 2.1)."
	echo
	echo "| tcg | 2.0.1 (69e0baf) | this run | QEMU 7.2 TCG, this run |"
	echo "|---|---|---|---|"
	for w in "MMIO, in-VMM:0.128" "MMIO, forwarded:0.345" "MMIO, posted:0.144" "port, in-VMM:0.035" \
		 "port, posted:0.042"; do
		k=${w%%:*}
		echo "| $k write | ${w#*:} us | ${p1[tcg:$k]:--} us | ${p1[tcg:$k:qemu]:--} us |"
	done
	echo "| boot, hello | 32.47 ms | see the boot table above | see the boot table above |"
	echo
	echo "CPU-bound guest (guests/cpubench.c, CPL0, no device I/O in the loop), the same"
	echo "image under both: per step = (run with N steps - run with 0) / N, minimum of 3"
	echo "runs each. \`int\`: a 64-bit LCG in registers; \`mem\`: a read-modify-write of a"
	echo "pseudo-random word of 16 MiB reached through 4 KiB pages of its own (paging on,"
	echo "most accesses miss a software TLB; 2.0.1 cannot run it: DESIGN K14). Goal: no"
	echo "slower than QEMU TCG."
	echo
	echo "| loop | N | ioreqvm tcg | QEMU 7.2 TCG | ioreqvm / QEMU |"
	echo "|---|---|---|---|---|"
	for l in "int:200000000" "mem:20000000"; do
		name=${l%%:*} n=${l#*:}
		v0=$(min_us 3 "$dir/src/ioreqvm" run --accel tcg --kernel "$dir/guests/cpubench.elf" --cmdline "$name 0")
		v1=$(min_us 3 "$dir/src/ioreqvm" run --accel tcg --kernel "$dir/guests/cpubench.elf" --cmdline "$name $n")
		q="-"
		if command -v qemu-system-x86_64 >/dev/null 2>&1; then
			q0=$(min_us 3 qemu-system-x86_64 -accel tcg -m 256 -kernel "$dir/guests/cpubench.elf" \
				-append "$name 0" -display none -serial none -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=4)
			q1=$(min_us 3 qemu-system-x86_64 -accel tcg -m 256 -kernel "$dir/guests/cpubench.elf" \
				-append "$name $n" -display none -serial none -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=4)
			q=$(awk -v a="$q0" -v b="$q1" -v n="$n" 'BEGIN { printf "%.2f", (b - a) * 1000 / n }')
		fi
		v=$(awk -v a="$v0" -v b="$v1" -v n="$n" 'BEGIN { printf "%.2f", (b - a) * 1000 / n }')
		r=$(awk -v a="$v" -v b="$q" 'BEGIN { if (b + 0 > 0) printf "%.2fx", a / b; else print "-" }')
		echo "| $name | $n | $v ns | $q ns | $r |"
	done
	echo
	echo "Where the time goes (perf record, 2026-12-03): \`int\` is one translated block"
	echo "per step, and every block calls the K3 block hook (a C call through libunicorn's"
	echo "hook list, ~3 ns: 7.6 -> 11.3 ns per iteration of a 4-instruction loop in a bare"
	echo "2.1.1 engine with and without the hook). The hook is the only exact stop: a"
	echo "uc_emu_stop from another thread is still inexact on 2.1.1 (a bare engine"
	echo "running \`inc [m]; inc rbx\` stopped 23,696 times from a second thread ran"
	echo "2,550 stores twice), so it stays (K3). \`mem\`: 41% of the time is the guest's"
	echo "own cache misses on 16 MiB, the rest libunicorn's soft-TLB refill and page walk"
	echo "(tlb_set_page, x86 page walk, flatview_translate: ~25%) and its load/store"
	echo "helpers, which every guest access goes through so that memory hooks can run"
	echo "(QEMU inlines the TLB hit)."
	echo
	echo "How the tcg rows got here (profiles: perf record, this machine, 2026-11-25)."
	echo "Posted port writes went 0.21 -> 0.035 us: the model looked at the ring's"
	echo "write_pointer after every post and stored read_pointer after every entry, and"
	echo "both share the cache line the vCPU posts into, so each post waited for that"
	echo "line (libioreq now looks at the ring every 128th spin and stores read_pointer"
	echo "once per batch: 0.21 -> 0.07); a tcg vCPU posts without leaving guest mode and"
	echo "without a server reference (RCU read side), under a spinlock released by a"
	echo "plain store, taking the next slot line with PREFETCHW (-> 0.04); liburcu's"
	echo "read-side lock inlined (_LGPL_SOURCE) instead of a call and __tls_get_addr per"
	echo "access (-> 0.035). The same two last changes and a page walk done only on a"
	echo "decode-cache miss took the in-VMM MMIO write 0.146 -> 0.086 us. What keeps"
	echo "MMIO on tcg above QEMU: libunicorn calls an MMIO region per piece of at most"
	echo "4 bytes with no instruction length (K11), so every trapped access costs the"
	echo "callback (~40 ns, DESIGN section 7), an instruction decode (cached) and piece"
	echo "assembly, and the K13 leave/enter around the exit path; QEMU's own MMIO write"
	echo "is one call into its memory API. The verdict against the P1 targets, with the"
	echo "ping-pong of this run, follows the P2 table."
	echo
	echo "## P2: request handoff without a CPU backend"
	echo
	echo "bench/bench_handoff.c: a synthetic vCPU thread calls the real exit path"
	echo "(io_dispatch, a port served by a testdm process over libioreq) and, in the"
	echo "same run, two processes do bare ping-pongs. Busy: $((20000)) requests back to"
	echo "back; idle: 300 requests 1 ms apart (every sleeper asleep). Targets (DESIGN"
	echo "P2): busy <= 2x the bare shared-memory ping-pong; idle <= 1.2x a bare"
	echo "wake-up ping-pong."
	echo
	handoff=$("$dir/bench/bench_handoff" "$dir/dm/testdm/testdm" "$(echo "$backends" | cut -d' ' -f1 | sed 's/none/tcg/')")
	echo "$handoff"
	echo
	# P1 on tcg against its targets, with this run's ping-pong.
	pp=$(echo "$handoff" | awk -F'|' '/busy: bare shared-memory ping-pong/ { gsub(/[^0-9.]/, "", $3); print $3 / 1000 }')
	if [ -n "${p1[tcg:MMIO, forwarded]:-}" ] && [ -n "$pp" ]; then
		echo "P1 on tcg, this run (bare shared-memory ping-pong: $pp us):"
		echo
		echo "| target | measured | bound | verdict |"
		echo "|---|---|---|---|"
		awk -v f="${p1[tcg:MMIO, forwarded]}" -v v="${p1[tcg:MMIO, in-VMM]}" -v pp="$pp" 'BEGIN {
			b = v + 1.2 * pp
			printf "| forwarded MMIO <= in-VMM + 1.2x ping-pong | %.3f us | %.3f us | %s |\n", f, b,
			       f <= b ? "met" : sprintf("missed by %.0f%%", (f / b - 1) * 100) }'
		for w in "port, posted" "MMIO, posted"; do
			awk -v w="$w" -v m="${p1[tcg:$w]}" -v q="${p1[tcg:$w:qemu]}" 'BEGIN {
				if (q + 0 <= 0) { printf "| %s <= QEMU in-process | %.3f us | - | no QEMU |\n", w, m; exit }
				printf "| %s <= QEMU in-process | %.3f us | %.3f us | %s |\n", w, m, q,
				       m <= q ? "met" : sprintf("missed: %.2fx", m / q) }'
		done
		echo
	fi
	echo "Findings behind these rows: a requester that spins while the model has to be"
	echo "woken keeps its core busy, so the model runs on the other, halted core, which"
	echo "is slow to wake on this machine (itself a VM): with 50 us spins on both sides"
	echo "an idle round trip took 105 us against ~3 us for the bare ping-pongs. So the"
	echo "vCPU blocks at once after ringing a sleeping model, and spins only while an"
	echo "awake model shows it took the request (INPROCESS) within 5 us; otherwise"
	echo "other spinners hold the cores and it gives its own up (2 vCPUs into one model"
	echo "on 2 cores: 2054 -> 478 ms per 40000 writes). A model in libioreq's blocking"
	echo "loop sleeps on a futex doorbell in the shared page rather than poll + eventfd"
	echo "read (idle ~1.5x -> ~1.2x a bare wake-up ping-pong); event loops keep the fd."
	echo
	echo "## K4: one page flip with many mappings in place, guest running"
	echo
	echo "bench/bench_flip.c: the p2m guest writes without pause while one page flips"
	echo "RW -> NONE -> RW (each half a sample) with about 50, 200, 500, 1000 and 2000"
	echo "(those under the backend's limit) and the limit of mappings in place; setup is"
	echo "the time to scatter that many one-page ram_ro changes (the VMM's side). Two"
	echo "times per flip: set_mem_type's return (pause, P2M, backend calls, resume), and"
	echo "until the guest has written the page again. On tcg only the second includes"
	echo "the engine's side: every engine applies a change itself before it runs guest"
	echo "code again, and on libunicorn 2.1.1 each RAM region it maps costs ~3.8 ns x"
	echo "(RAM regions in place) squared (see the K4 lines of the probes below), which"
	echo "is what bounds the tcg limit. Command: \`$dir/bench/bench_flip $dir/guests/p2m.elf BACKEND\`."
	echo
	flip_table
	echo
	echo "The same flip with ~50 mappings while 1, 2 or 4 vCPUs run (the APs write"
	echo "pages of their own): every vCPU is paused for it (K3), and on tcg every"
	echo "engine applies it (K7), but only the one whose turn it is executes."
	echo
	flip_table cpus
	echo
	echo "## K7: several tcg vCPUs, one executing at a time (issue 11)"
	echo
	echo "bench/bench_tcg_sched.c (raw libunicorn 2.0.1 + pthreads, no ioreqvm code):"
	echo "1, 2 or 4 UC_MODE_64 engines share one RAM buffer (uc_mem_map_ptr) and run"
	echo "\`lock incq\` on one counter, then \`hlt\`; a UC_HOOK_BLOCK callback answers a"
	echo "per-engine flag with uc_emu_stop (K3), and a stopped engine resumes at its RIP."
	echo "A: one host thread round-robins the engines, a ticker thread sets the running"
	echo "engine's flag each slice. B: a thread per engine and a FIFO token (mutex +"
	echo "condition variable); the head waiter sets the holder's flag once the holder had"
	echo "a slice, the holder stops, passes the token and queues again. B+spin: the head"
	echo "waiter spins for the token after setting the flag. Slices only end while another"
	echo "engine is runnable. Command: \`$dir/bench/bench_tcg_sched 3\`."
	echo
	"$dir/bench/bench_tcg_sched" 3 2>/dev/null
	echo
	echo "Reading it: every run of every scheme was exact (a stop from the block hook"
	echo "never re-ran a locked increment). A handoff inside one thread (A: the stop, the"
	echo "return from uc_emu_start, the next uc_emu_start) took ~0.7-1.5 us on an idle"
	echo "machine and ~1.5-4 us while other work held the 2 cores; a handoff between"
	echo "threads (B) is an OS wake-up, ~30 us idle (0.1-0.2 ms with 4 threads) and"
	echo "0.1-1 ms loaded, time in which no vCPU runs, and the waiter's own wake-up to end"
	echo "a slice comes late too, so slices stretch. Spinning for the token (B+spin) hides"
	echo "the wake-up only while a core is free. The flag check costs ~0.5-1.8 ns a"
	echo "block; reading the TSC in the hook instead of a ticker thread ~5-15 ns. A alone"
	echo "cannot meet K13 (a vCPU waiting inside a callback for a device model lets the"
	echo "others run): running the other engines from inside the callback works in 2.0.1"
	echo "(first probe) but nests them LIFO, so one slow model would stall every vCPU"
	echo "below it on the stack; instead the waiting thread can hand the driving role to"
	echo "another thread, which may drive any engine (second probe; engines carry no"
	echo "per-thread state)."
	echo
	echo "What ioreqvm does (src/cpu/tcg/tcg_turns.c): B, with 4 ms slices (about 1% lost"
	echo "to handoffs on an idle machine), because a vCPU waiting for a device model must"
	echo "let the others run (K13) and a thread per vCPU does that by just passing the turn;"
	echo "a vCPU back from a device model takes the front of the queue after 100 us. The"
	echo "hybrid the probes allow (one thread drives every runnable engine, A-style, and"
	echo "hands the driving role over only while its engine waits for a model) would cut"
	echo "slice-end handoffs to ~1 us; not done. In ioreqvm itself (smp_atomics guest, at"
	echo "CPL3, boot subtracted): see the issue 11 note; the engine there also carries"
	echo "the K11 memory hooks (~25% on loads) and the guest's own bookkeeping."
	echo
	echo "## P3: type changes cost O(runs changed)"
	echo
	echo "set_mem_type on a 7 GiB guest (1 Mi pages above 4 GiB). \"P2M work\" runs the"
	echo "P2M and the mapping compiler against a backend that does nothing; the next"
	echo "column is the same change on the real backend in an idle VM, in the same run."
	echo "7 repetitions each."
	echo
	for b in $backends; do
		"$dir/bench/bench_p2m" "$b"
	done
	echo
	echo "Reading it: P2M work and P2M memory follow the number of runs, not pages"
	echo "(1 page and 1 Mi pages as one run cost the same; 1000 runs cost ~100x one run)."
	echo "On kvm the time is dominated by the memslot ioctls, whose cost in the kernel"
	echo "grows with the size of the slots replaced (KVM allocates and frees per-page"
	echo "metadata for a slot): the number of calls stays at most 4 per run changed"
	echo "(a split: 1 delete + 3 creates; merging n runs: n+1 deletes + 1 create)."
	echo
	echo "## P3: releasing a claimed type spread over many runs (issue 15)"
	echo
	echo "bench/bench_release.c, with the p2m guest running (1 vCPU, 512 MiB): type 4"
	echo "claimed READ|WRITE on N one-page runs alternating with ram_rw pages (the"
	echo "release merges everything into one mapping) or with ram_ro pages (one new"
	echo "mapping per run), then released. N is the most the release budget allows"
	echo "(mappings + 2 x claimed runs <= the limit, C4), at most 20000: on kvm ~10900"
	echo "of its 32764 slots, on tcg its limit (~200 of 618 mappings); \"none\" is the P2M"
	echo "alone (backend calls do nothing, limit 65536, no guest). Each layout is"
	echo "released by the one-plan path and, in the same run, by e7e7b56's path (a plan"
	echo "and an apply per run, inside the pause), replayed by the benchmark. \"vCPUs"
	echo "held\" is pause to resume (for none: the P2M's own work in the pause),"
	echo "median (min-max); the other times are medians; 3 releases on kvm, 9 elsewhere."
	rel="$([ -c /dev/kvm ] && echo "kvm ")tcg none"
	echo "Command: \`$dir/bench/bench_release $dir/guests/p2m.elf $rel\`."
	echo
	# shellcheck disable=SC2086
	"$dir/bench/bench_release" "$dir/guests/p2m.elf" $rel 2>/dev/null
	echo
	echo "## libunicorn probes (K3, K4, K7-K13)"
	echo
	echo "bench/probe_unicorn.c, raw libunicorn: the facts the tcg backend's workarounds"
	echo "rest on (the same probe against 2.0.1 and 2.1.1: docs/unicorn-2.1-survey.md)."
	echo "Command: \`$dir/bench/probe_unicorn\`."
	echo
	echo '```'
	"$dir/bench/probe_unicorn" 2>/dev/null
	echo '```'
	echo
	cat bench/design_measurements.md
} >"$out"
mv "$out" BENCHMARKS.md
echo "BENCHMARKS.md rewritten" >&2
