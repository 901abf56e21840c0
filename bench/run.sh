#!/bin/bash
# SPDX-License-Identifier: MIT
# Runs every benchmark and rewrites BENCHMARKS.md: machine, date, the exact
# command, and each table (median and min-max over repeated runs, baselines
# measured in the same run). Usage: bench/run.sh
set -eu
cd "$(dirname "$0")/.."
./scripts/setup.sh
dir=_build/bench
[ -f "$dir/build.ninja" ] || meson setup "$dir" -Dbuildtype=release -Db_sanitize=none >/dev/null
ninja -C "$dir" >/dev/null

kvm_status="absent"
[ -c /dev/kvm ] && kvm_status="present ($(ls /sys/module 2>/dev/null | grep -E "^kvm_" | tr "\n" " " | sed "s/ $//"))"
backends="kvm"
[ -c /dev/kvm ] || backends="none"

# Wall time of `ioreqvm run` for a guest, N runs: "median (min-max)" in ms.
wall_ms() {
	local n=$1; shift
	local t=()
	for ((i = 0; i < n; i++)); do
		local s e
		s=$(date +%s%N)
		"$@" >/dev/null 2>&1 || true
		e=$(date +%s%N)
		t+=($(((e - s) / 1000)))
	done
	printf '%s\n' "${t[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.2f ms (%.2f-%.2f)", a[int((NR+1)/2)]/1000, a[1]/1000, a[NR]/1000}'
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
} >"$out"
mv "$out" BENCHMARKS.md
echo "BENCHMARKS.md rewritten" >&2
