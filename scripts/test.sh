#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds ioreqvm twice (release with warnings as errors, and ASan+UBSan),
# runs every test in both, and ends with the line "N passed, N failed".
# This is the README's test command; .ci/run calls it unchanged.
set -u
cd "$(dirname "$0")/.."
unicorn_pc=$(./scripts/setup.sh) || { echo "0 passed, 1 failed"; exit 1; }
# libunicorn >= 2.1 from a private prefix when the system's is older (setup.sh).
[ -z "$unicorn_pc" ] || export PKG_CONFIG_PATH="$unicorn_pc${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"

passed=0 failed=0 skipped=0
count() { # $1: build dir; adds its testlog results to the totals
	log="$1/meson-logs/testlog.json"
	[ -f "$log" ] || return
	p=$(grep -c '"result": "OK"' "$log")
	s=$(grep -c '"result": "SKIP"' "$log")
	t=$(grep -c '"name"' "$log")
	passed=$((passed + p)) skipped=$((skipped + s)) failed=$((failed + t - p - s))
}

run_config() { # $1: name, rest: meson options
	name=$1; shift
	dir="_build/$name"
	echo "=== $name: configure and build" >&2
	if [ -f "$dir/build.ninja" ]; then
		meson configure "$dir" "$@" >/dev/null
	else
		CC=$CCOMP meson setup "$dir" "$@" >/dev/null
	fi || { echo "=== $name: configure FAILED" >&2; failed=$((failed + 1)); return; }
	ninja -C "$dir" || { echo "=== $name: build FAILED" >&2; failed=$((failed + 1)); return; }
	echo "=== $name: tests" >&2
	rm -f "$dir/meson-logs/testlog.json"
	# Tests with a deadline of their own inside meson's scale it alike.
	export IOREQVM_TIMEOUT_SCALE="$TMUL"
	meson test -C "$dir" --print-errorlogs --num-processes 2 --timeout-multiplier "$TMUL"
	count "$dir"
}

# gcc for the release build, clang for the sanitizers (so both compilers are
# warning-clean), plus the libFuzzer targets' seed replays.
CCOMP=gcc TMUL=1 run_config release -Dwerror=true -Dbuildtype=debugoptimized -Db_sanitize=none
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export LSAN_OPTIONS="suppressions=$(pwd)/scripts/lsan-suppressions.txt:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
CCOMP=clang TMUL=3 run_config sanitize -Dwerror=true -Dbuildtype=debug \
	-Db_sanitize=address,undefined -Db_lundef=false -Dfuzz=true

echo "$skipped skipped (each skip prints its reason above)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
