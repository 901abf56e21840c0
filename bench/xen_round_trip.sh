#!/bin/bash
# SPDX-License-Identifier: MIT
# The round trip of one forwarded port write through Xen's API (the Xen
# device model of tests/xen: xenevtchn poll/pending/unmask/notify, its
# ioreq page from xenforeignmemory_map_resource) next to the same through
# libioreq (testdm: its own loop, spin 50 us then sleep; and --poll, the
# event-loop API: libioreq_server_fd + poll + dispatch), in one sitting.
# The bench_io guest writes N times to port 0x510; per write = (median of 5
# whole runs with N - median with 0) / N. Not run by meson test.
# Usage: bench/xen_round_trip.sh [BUILD_DIR] (default _build/release; its
# compat/xen libraries first on the model's LD_LIBRARY_PATH)
set -eu
dir=${1:-_build/release}
n=20000
times_us() { # N runs of a command: microseconds each, sorted
	local k=$1; shift
	for ((i = 0; i < k; i++)); do
		local s e
		s=$(date +%s%N)
		"$@" >/dev/null 2>&1 || true
		e=$(date +%s%N)
		echo $(((e - s) / 1000))
	done | sort -n
}
median_us() { times_us "$@" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
backends=tcg
[ -c /dev/kvm ] && backends="kvm tcg"
echo "N=$n port writes, medians of 5 runs; load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| backend | model | per write | vs libioreq loop |"
echo "|---|---|---|---|"
for b in $backends; do
	base=""
	for m in "testdm (libioreq_server_run)" "testdm --poll (libioreq fd + dispatch)" "xen_dm_model (Xen API)"; do
		case $m in
		"testdm (libioreq_server_run)") dm="$dir/dm/testdm/testdm --port 0x510:0x513" ;;
		"testdm --poll"*) dm="$dir/dm/testdm/testdm --port 0x510:0x513 --poll" ;;
		*) dm="env LD_LIBRARY_PATH=$dir/compat/xen $dir/tests/xen/xen_dm_model --port 0x510:0x513 --quiet --log /dev/null" ;;
		esac
		run() { "$dir/src/ioreqvm" run --accel "$b" --kernel "$dir/guests/bench_io.elf" --cmdline "$1" --device-model "$dm"; }
		t0=$(median_us 5 run "pio 0x510 0")
		t1=$(median_us 5 run "pio 0x510 $n")
		us=$(awk -v a="$t0" -v c="$t1" -v n="$n" 'BEGIN { printf "%.2f", (c - a) / n }')
		[ -n "$base" ] || base=$us
		echo "| $b | $m | $us us | $(awk -v a="$base" -v c="$us" 'BEGIN { printf "%.2fx", c / a }') |"
	done
done
