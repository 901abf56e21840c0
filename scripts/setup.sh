#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the Debian 12 packages ioreqvm needs to build and test, only those
# missing. Used by the README's two commands and by .ci/run. Needs root (or
# sudo) only when something is missing. libc6-dev is named for its libc.a:
# guests/linux/wp-linux (the L5 test's Linux program) is linked static.
#
# libunicorn must be >= 2.1 (it walks the guest's page tables; DESIGN K14).
# Debian 12 ships 2.0.1, so where pkg-config reports an older one this script
# fetches Debian 13's libunicorn2t64 + libunicorn-dev (2.1.1) with apt-get
# download through a private apt configuration (its own sources.list for
# trixie on the mirror this machine already uses, its own lists and cache)
# and unpacks them with dpkg-deb -x into a private prefix under
# ${XDG_CACHE_HOME:-~/.cache}/ioreqvm/. The system's package is never
# replaced (the new one Breaks it) and no root is needed for this part.
# stdout: the directory to prepend to PKG_CONFIG_PATH (empty when the
# system's libunicorn is recent enough); everything else goes to stderr.
set -eu

PKGS="gcc libc6-dev clang libclang-rt-14-dev meson ninja-build pkg-config python3 libcmocka-dev liburcu-dev libxen-dev libunicorn-dev libcapstone-dev liblzma-dev zlib1g-dev libzstd-dev liblz4-dev"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then

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
fi

UNICORN_MIN=2.1
UNICORN_SUITE=trixie
UNICORN_PKGS="libunicorn2t64 libunicorn-dev"
pc_sub=usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)/pkgconfig
cache=${XDG_CACHE_HOME:-$HOME/.cache}/ioreqvm
prefix=$cache/unicorn-$UNICORN_MIN

# A private prefix already provisioned (or the system's own 2.1+): done.
if [ -f "$prefix/$pc_sub/unicorn.pc" ] &&
	PKG_CONFIG_PATH=$prefix/$pc_sub pkg-config --atleast-version=$UNICORN_MIN unicorn; then
	echo "$prefix/$pc_sub"
	exit 0
fi
pkg-config --atleast-version=$UNICORN_MIN unicorn 2>/dev/null && exit 0

echo "setup: libunicorn $(pkg-config --modversion unicorn 2>/dev/null || echo none)" \
	"< $UNICORN_MIN: fetching Debian $UNICORN_SUITE's into $prefix" >&2

# The mirror this machine's apt already uses (deb822 or one-line sources).
mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
	sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\/debian\)\/\{0,1\}\([[:space:]].*\)\{0,1\}$/\1/p' | head -n 1)
[ -n "$mirror" ] || mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
	sed -n 's/^deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]\{1,\}\)\{0,1\}\([^[:space:]]*\/debian\)\/\{0,1\}[[:space:]].*/\2/p' | head -n 1)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian

apt_dir=$cache/apt-$UNICORN_SUITE
mkdir -p "$apt_dir/etc/sources.list.d" "$apt_dir/etc/preferences.d" \
	"$apt_dir/state/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/debs"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
echo "deb [signed-by=$keyring] $mirror $UNICORN_SUITE main" >"$apt_dir/etc/sources.list"
set -- -o "Dir::Etc::sourcelist=$apt_dir/etc/sources.list" \
	-o "Dir::Etc::sourceparts=$apt_dir/etc/sources.list.d" \
	-o "Dir::Etc::preferencesparts=$apt_dir/etc/preferences.d" \
	-o "Dir::State=$apt_dir/state" -o "Dir::State::status=/dev/null" \
	-o "Dir::Cache=$apt_dir/cache" -o "Debug::NoLocking=1" \
	-o "APT::Sandbox::User=$(id -un)" -q
apt-get "$@" update >/dev/null
rm -f "$apt_dir"/debs/*.deb
# shellcheck disable=SC2086
(cd "$apt_dir/debs" && apt-get "$@" download $UNICORN_PKGS >/dev/null)

rm -rf "$prefix.new"
mkdir -p "$prefix.new"
for deb in "$apt_dir"/debs/*.deb; do
	echo "setup: unpacking $(basename "$deb")" >&2
	dpkg-deb -x "$deb" "$prefix.new"
done
# The .pc names /usr: point it at the private prefix.
sed -i -e "s|^libdir=/usr/|libdir=$prefix/usr/|" \
	-e "s|^includedir=/usr/|includedir=$prefix/usr/|" "$prefix.new/$pc_sub/unicorn.pc"
rm -rf "$prefix"
mv "$prefix.new" "$prefix"
PKG_CONFIG_PATH=$prefix/$pc_sub pkg-config --atleast-version=$UNICORN_MIN unicorn || {
	echo "setup: $prefix/$pc_sub/unicorn.pc is not libunicorn >= $UNICORN_MIN" >&2
	exit 1
}
echo "$prefix/$pc_sub"
