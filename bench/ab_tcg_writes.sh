#!/bin/bash
# SPDX-License-Identifier: MIT
# The tcg rows of bench/run.sh's P1 table for one or more build dirs, run
# alternately in one sitting, so that two commits compare on equal terms:
#   bench/ab_tcg_writes.sh [ROUNDS] BUILD_DIR...   (e.g. a worktree of the
#   old commit's _build/bench, and this tree's)
# Per write: (time with N - time with 0) / N, N = 2,000,000, minimum of 5 runs.
set -u
rounds=3
[[ ${1:-} =~ ^[0-9]+$ ]] && { rounds=$1; shift; }
[ $# -ge 1 ] || { echo "usage: $0 [ROUNDS] BUILD_DIR..." >&2; exit 2; }
n=2000000
min_us() {
	local k=$1; shift
	for ((i = 0; i < k; i++)); do
		local s e
		s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N)
		echo $(((e - s) / 1000))
	done | sort -n | head -n1
}
for ((r = 1; r <= rounds; r++)); do
	for dir in "$@"; do
		dmq="$dir/dm/testdm/testdm --mmio 0xE0000000:0xE0000FFF --buffered --mmio 0xA0000:0xA0FFF --port 0x510:0x513"
		printf '%s' "$dir"
		for w in "MMIO in-VMM:mmio 0xE0100000" "MMIO forwarded:mmio 0xE0000000" \
			 "MMIO posted:mmio 0xA0000" "port in-VMM:pio 0x608" "port posted:pio 0x510"; do
			run() { "$dir/src/ioreqvm" run --accel tcg --kernel "$dir/guests/bench_io.elf" \
				--cmdline "${w#*:} $1" --device-model "$dmq"; }
			t0=$(min_us 5 run 0)
			t1=$(min_us 5 run $n)
			awk -v a="$t0" -v b="$t1" -v n="$n" -v w="${w%%:*}" \
				'BEGIN { printf " | %s %.3f us", w, (b - a) / n }'
		done
		echo
	done
done
