#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the Debian 12 packages ioreqvm needs to build and test, only those
# missing. Used by the README's two commands and by .ci/run. Needs root (or
# sudo) only when something is missing.
set -eu

PKGS="gcc clang libclang-rt-14-dev meson ninja-build pkg-config python3 libcmocka-dev liburcu-dev libxen-dev libunicorn-dev libcapstone-dev"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "setup: installing$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
if ! $SUDO apt-get install -y --no-install-recommends $missing >/dev/null; then
	$SUDO apt-get update >/dev/null
	# shellcheck disable=SC2086
	$SUDO apt-get install -y --no-install-recommends $missing >/dev/null
fi
