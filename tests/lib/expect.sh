# SPDX-License-Identifier: MIT
# Shared by the command-line checks: source it, set $tmp (a scratch dir) and
# fail=0, then call expect_cmd for each case; exit "$fail" at the end.
# expect_cmd STATUS REGEX PROGRAM ARGS...: the exit status, and a line of
# stdout+stderr matching REGEX (ERE).
expect_cmd() {
	local want=$1 re=$2
	shift 2
	timeout 20 "$@" >"$tmp/out" 2>&1 </dev/null
	local st=$?
	if [ "$st" -ne "$want" ]; then
		echo "FAIL: $* -> status $st, expected $want" >&2
		cat "$tmp/out" >&2
		fail=1
	elif ! grep -qE -- "$re" "$tmp/out"; then
		echo "FAIL: $* -> output lacks /$re/:" >&2
		cat "$tmp/out" >&2
		fail=1
	fi
}
