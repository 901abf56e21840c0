# SPDX-License-Identifier: MIT
# Sourced by run_xen_dm.sh for its modes with a live VM (xsram, kill,
# xenenv; what each checks is said there). Uses its variables (backend,
# vmm, model, kernel, compat, mode, ctl, tmp, nr_checks) and report().
# The VM runs in the background, its control socket at a known path, so the
# host can look (ioreqctl) and act (ioreqctl, kill -9) while it runs.

vm_pid=
# On any way out: the VM (timeout(1) forwards TERM to it) and what is left.
live_cleanup() {
	[ -n "$vm_pid" ] && kill -TERM "$vm_pid" 2>/dev/null
	for ((w = 0; w < 50; w++)); do
		[ -n "$vm_pid" ] && kill -0 "$vm_pid" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$vm_pid" ] && kill -KILL "$vm_pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap live_cleanup EXIT
log="$tmp/model.log"
sock="$tmp/vm.sock"
dump() {
	echo "--- model log ($backend, $mode), last 60 lines:" >&2; tail -n 60 "$log" >&2 2>/dev/null
	echo "--- guest serial output:" >&2; cat "$tmp/out" >&2 2>/dev/null
	echo "--- ioreqvm stderr:" >&2; cat "$tmp/err" >&2 2>/dev/null
}
# wait_log REGEX WHAT: the model's log gets a line matching REGEX (60 s at most).
wait_log() {
	for ((i = 0; i < 600; i++)); do
		grep -qE -- "$1" "$log" 2>/dev/null && return 0
		kill -0 "$vm_pid" 2>/dev/null || break
		sleep 0.1
	done
	report "$2: no line /$1/ in the model's log"
	return 1
}
# ctl_is WANT ARGS...: ioreqctl ARGS prints exactly WANT.
ctl_is() {
	local want=$1 got
	shift
	got=$(timeout 20 "$ctl" --socket "$sock" "$@" 2>&1)
	[ "$got" = "$want" ] || report "ioreqctl $*: '$got', expected '$want'"
}
# The model's own checks: all passed, as many as expected.
model_checks() {
	grep -q 'FAIL' "$log" 2>/dev/null && report "the model's checks failed: $(grep FAIL "$log")"
	local n
	n=$(grep -cE '^[a-z0-9_]+ ok$' "$log" 2>/dev/null)
	[ "${n:-0}" -eq "$1" ] || report "${n:-0} model checks passed, expected $1"
	grep -qxF 'checks: 0 failures' "$log" 2>/dev/null || report "the model did not finish its checks"
}
# wait_vm: ioreqvm's exit status (it must end within 120 s).
wait_vm() {
	wait "$vm_pid"
	local st=$?
	vm_pid=
	return "$st"
}

case $mode in
xsram)
	timeout --kill-after=5 "${GUEST_TIMEOUT:-150}" \
		"$vmm" run -v --accel "$backend" --kernel "$kernel" --cmdline populate --socket "$sock" \
		--xenstore ioreqvm-test/greeting=hello \
		--xen-device-model "$model --cmd-port 0x550 --populate-port 0x554 --go-port 0x55c --xenstore --log $log" \
		>"$tmp/out" 2>"$tmp/err" &
	vm_pid=$!
	wait_log '^xenstore written$' "the model's xenstore writes"
	wait_log '^go: vCPU 0 waits for the host$' "the guest waiting for the host"
	# X1: what the model wrote through Debian's libxenstore, read on the host.
	ctl_is running xenstore-read /local/domain/0/device-model/1/state
	ctl_is 'model saw hello' xenstore-read /local/domain/1/ioreqvm-test/reply
	ctl_is hello xenstore-read /local/domain/1/ioreqvm-test/greeting
	timeout 20 "$ctl" --socket "$sock" xenstore-ls /local/domain/1/ioreqvm-test >"$tmp/ls" 2>&1
	for line in '/local/domain/1/ioreqvm-test/committed = "yes"' \
		    '/local/domain/1/ioreqvm-test/reply = "model saw hello"'; do
		grep -qxF "$line" "$tmp/ls" || report "xenstore-ls lacks: $line"
	done
	grep -q aborted "$tmp/ls" && report "the aborted transaction's key is there"
	# X4: the guest gave back what it populated, and took back the boot RAM it gave: as at boot.
	timeout 20 "$ctl" --socket "$sock" xen-info >"$tmp/xi" 2>&1
	grep -qE '^ram frames: +65504 \(populate may reach 131040\)$' "$tmp/xi" ||
		report "xen-info: $(grep 'ram frames' "$tmp/xi"), expected 65504 frames"
	# The key the model watches: the guest goes on.
	timeout 20 "$ctl" --socket "$sock" xenstore-write /local/domain/1/ioreqvm-test/go 1 ||
		report "ioreqctl xenstore-write of the go key failed"
	wait_vm
	st=$?
	[ "$st" -eq 1 ] || report "exit status $st, expected 1 (the guest's pass)"
	grep -qE 'Sanitizer|runtime error:' "$tmp/err" && report "a sanitizer reported: $(grep -m1 -E 'Sanitizer|runtime error:' "$tmp/err")"
	model_checks $((nr_checks + 20)) # its three ports, and xenstore's 17
	grep -qxF 'xencmd: 0 failures' "$tmp/out" || report "missing guest line: xencmd: 0 failures"
	n=$(grep -c ' ok (got ' "$tmp/out")
	[ "$n" -eq 18 ] || report "$n guest checks ok, expected 18"
	for line in 'populate pfn 0xd0000 status 0' 'populate pfn 0xd0000 status 17' \
		    'populate pfn 0xfec00 status 22' 'decrease pfn 0xd0000 status 0' \
		    'decrease pfn 0xd0000 status 22' 'decrease pfn 0x3000 status 0' \
		    'populate pfn 0x3000 status 0' 'command 1 pfn 0xd0000 status 0' \
		    'command 2 pfn 0xd0000 status 22' 'go: the host said go'; do
		grep -qxF "$line" "$log" || report "model log lacks: $line"
	done
	grep -qE '^VIRQ_DOM_EXC: the domain is gone' "$log" ||
		report "the model was not told the VM went away (VIRQ_DOM_EXC)"
	grep -qE "Xen device model ready \(pid [0-9]+\): $model " "$tmp/err" ||
		report "ioreqvm did not start the model with --xen-device-model"
	;;
kill)
	timeout --kill-after=5 "${GUEST_TIMEOUT:-150}" \
		"$vmm" run -v --accel "$backend" --kernel "$kernel" --cmdline killed --socket "$sock" \
		--xen-device-model "$model --cmd-port 0x550 --hang-port 0x560 --log $log" \
		>"$tmp/out" 2>"$tmp/err" &
	vm_pid=$!
	if wait_log '^hang: pid [0-9]+ ' "the model holding the guest's request"; then
		pid=$(sed -nE 's/^hang: pid ([0-9]+) .*/\1/p' "$log" | head -n1)
		timeout 20 "$ctl" --socket "$sock" servers | grep -qE "^[0-9]+ +enabled +no +$pid " ||
			report "no enabled server of the model (pid $pid) before the kill"
		kill -KILL "$pid" || report "could not kill the model (pid $pid)"
	fi
	wait_vm
	st=$?
	[ "$st" -eq 1 ] || report "exit status $st, expected 1 (the guest ran on to its pass)"
	model_checks $((nr_checks + 2)) # its two ports
	grep -qxF 'xencmd: 0 failures' "$tmp/out" || report "missing guest line: xencmd: 0 failures"
	for line in 'xencmd: the request in flight when the model died: the default ok (got 0xffffffff, want 0xffffffff)' \
		    "xencmd: the model's port afterwards: nobody's, all ones ok (got 0xffffffff, want 0xffffffff)"; do
		grep -qxF "$line" "$tmp/out" || report "missing guest line: $line"
	done
	grep -qE "device model \(pid $pid\) disconnected" "$tmp/err" ||
		report "ioreqvm did not log the model's end"
	grep -q 'served' "$log" && report "the killed model logged an end it never had"
	;;
xenenv)
	rt="$tmp/rt"
	mkdir -m 700 "$rt" "$tmp/empty"
	XDG_RUNTIME_DIR=$rt timeout --kill-after=5 "${GUEST_TIMEOUT:-150}" \
		"$vmm" run --accel "$backend" --kernel "$kernel" --cmdline hammer --domid 5 \
		--xenstore ioreqvm-test/greeting=hi >"$tmp/out" 2>"$tmp/err" &
	vm_pid=$!
	for ((i = 0; i < 300; i++)); do
		sock=$(ls "$rt"/ioreqvm-*.sock 2>/dev/null | head -n1)
		[ -n "$sock" ] && "$ctl" --socket "$sock" info >/dev/null 2>&1 && break
		sleep 0.1
	done
	[ -n "$sock" ] || report "the VM's control socket never showed up in $rt"
	# No VM where it looks: it says so, runs nothing.
	env -u IOREQVM_SOCKET XDG_RUNTIME_DIR="$tmp/empty" "$vmm" xen-env -- true >"$tmp/none" 2>&1
	st=$?
	[ "$st" -eq 1 ] || report "xen-env without a VM exited $st, expected 1"
	grep -q "no running VM has a control socket in $tmp/empty" "$tmp/none" ||
		report "xen-env without a VM said: $(cat "$tmp/none")"
	# The one VM there: found, asked, the model run with its environment.
	env -u IOREQVM_SOCKET -u LD_LIBRARY_PATH XDG_RUNTIME_DIR="$rt" timeout 120 \
		"$vmm" xen-env -- "$model" --checks-only --xenstore --domid 5 --log "$log" \
		>"$tmp/model.out" 2>&1
	st=$?
	[ "$st" -eq 0 ] || report "the model under xen-env exited $st: $(cat "$tmp/model.out")"
	# Those before serving (dm ops, maps, event channels, libxenctrl), xenstore's.
	model_checks 125
	grep -qxF "libxenctrl from $(readlink -f "$compat")/libxenctrl.so.4.17" "$log" ||
		report "the model did not load ioreqvm's libxenctrl: $(grep 'libxenctrl from' "$log")"
	grep -qxF 'xenstore greeting hi' "$log" || report "the model did not read the seeded key"
	ctl_is 'model saw hi' xenstore-read /local/domain/5/ioreqvm-test/reply
	ctl_is running xenstore-read /local/domain/0/device-model/5/state
	kill -TERM "$vm_pid"
	wait_vm
	st=$?
	[ "$st" -eq 143 ] || report "ioreqvm stopped by SIGTERM exited $st, expected 143"
	;;
esac
if [ "$fail" -ne 0 ] || [ -n "${VERBOSE:-}" ]; then
	dump
fi
