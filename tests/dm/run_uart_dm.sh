#!/bin/bash
# SPDX-License-Identifier: MIT
# The hello guest's serial output through the UART device model on one CPU
# backend. ioreqvm starts the model itself (--device-model, default models
# off), through a wrapper that sends the model's stdout to a file of its own:
# the guest's lines must arrive there, not on ioreqvm's stdout, so they
# passed through the device-model process. The command carries a 1000-byte
# variable before the wrapper: build trees have long paths, and a command
# cut short (it was once limited to 250 bytes) must not be.
# Usage: run_uart_dm.sh BACKEND IOREQVM UART-DM KERNEL
# The kvm variant skips (exit 77, loudly) only when /dev/kvm is missing.
set -u
backend=$1 vmm=$2 dm=$3 kernel=$4

if [ "$backend" = kvm ] && [ ! -c /dev/kvm ]; then
	echo "SKIPPED: kvm variant: /dev/kvm is missing on this machine" >&2
	exit 77
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
report() { echo "FAIL: $*" >&2; fail=1; }

# The wrapper keeps the model's stdout apart; ioreqvm passes the connection
# ($IOREQVM_FD) through the environment, which exec keeps.
cat >"$tmp/uart-dm" <<WRAP
#!/bin/sh
echo "pad \${#IOREQVM_TEST_PAD}" >"$tmp/pad"
exec "$dm" "\$@" >>"$tmp/dm.out"
WRAP
chmod +x "$tmp/uart-dm"
: >"$tmp/dm.out"
pad=$(head -c 1000 /dev/zero | tr '\0' x)

# Default device models off where ioreqvm has them (an IOREQ server's range
# takes precedence over an in-VMM device anyway, I8).
nodefaults=()
"$vmm" --help 2>&1 | grep -q -- --no-default-devices && nodefaults=(--no-default-devices)

timeout --kill-after=5 "${GUEST_TIMEOUT:-120}" \
	"$vmm" run --accel "$backend" --kernel "$kernel" --cmdline "hello through a device model" \
	"${nodefaults[@]}" --device-model "env IOREQVM_TEST_PAD=$pad $tmp/uart-dm" -v >"$tmp/vm.out" 2>"$tmp/vm.err"
status=$?

[ "$status" -eq 1 ] || report "exit status $status, expected 1 (the guest's pass)"
grep -qxF 'Hello from ioreqvm guest' "$tmp/dm.out" ||
	report "the device model's output lacks: Hello from ioreqvm guest"
grep -qE '^cmdline: .*hello\.elf hello through a device model$' "$tmp/dm.out" ||
	report "the device model's output lacks the guest's cmdline line"
grep -qE '^modules: 0$' "$tmp/dm.out" ||
	report "the device model's output lacks the guest's last line (modules: 0)"
grep -qxF 'pad 1000' "$tmp/pad" 2>/dev/null ||
	report "the device model's command did not reach the shell whole (want pad 1000, got '$(cat "$tmp/pad" 2>/dev/null)')"
if grep -q 'Hello from ioreqvm guest' "$tmp/vm.out"; then
	report "the guest's output reached ioreqvm's stdout: served inside the VMM, not by the model"
fi

if [ "$fail" -ne 0 ] || [ -n "${VERBOSE:-}" ]; then
	echo "--- device model stdout ($backend):" >&2; cat "$tmp/dm.out" >&2
	echo "--- ioreqvm stdout:" >&2; cat "$tmp/vm.out" >&2
	echo "--- ioreqvm stderr:" >&2; cat "$tmp/vm.err" >&2
fi
exit "$fail"
