#!/bin/sh
# SPDX-License-Identifier: MIT
# Provisions the Linux guest tests' inputs from Debian packages, never from
# the repository: the kernel (vmlinuz of the package linux-image-amd64
# depends on, Debian 12's own) and a static busybox (busybox-static), each
# taken out of its .deb with apt-get download and dpkg-deb into a cache
# folder, once per package version. Nothing is installed on the system.
# Usage: fetch_assets.sh CACHE_DIR
# stdout: three lines: the vmlinuz path, the busybox path, the kernel's
# release (uname -r). Exit 1 with a message when apt cannot get them.
set -eu
cache=$1
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9 # the tcg and kvm variants may run at once

# apt-get download: as root apt drops to _apt, who cannot write here.
apt_opts="-q -o APT::Sandbox::User=$(id -un)"

# The package's own name: linux-image-amd64 depends on linux-image-X.Y.Z-N-amd64.
pkg_of() { # $1: metapackage or package; prints the dependency named like $2
	apt-cache depends "$1" 2>/dev/null | sed -n "s/^ *Depends: \($2\)\$/\1/p" | head -n 1
}
kpkg=$(pkg_of linux-image-amd64 'linux-image-[0-9][^ ]*-amd64')
if [ -z "$kpkg" ]; then
	# No package lists yet (a fresh machine): read them once.
	apt-get -q update >/dev/null 2>&1 || true
	kpkg=$(pkg_of linux-image-amd64 'linux-image-[0-9][^ ]*-amd64')
fi
[ -n "$kpkg" ] || { echo "fetch_assets: apt knows no linux-image-amd64 package" >&2; exit 1; }
kver=${kpkg#linux-image-}
bver=$(apt-cache policy busybox-static 2>/dev/null | sed -n 's/^ *Candidate: //p' | tr ':' '_')
[ -n "$bver" ] && [ "$bver" != "(none)" ] ||
	{ echo "fetch_assets: apt knows no busybox-static package" >&2; exit 1; }

# extract PACKAGE MEMBER OUT: OUT = MEMBER of PACKAGE's .deb, unless already there.
extract() {
	[ -s "$3" ] && return 0
	dl="$cache/dl"
	rm -rf "$dl"
	mkdir -p "$dl"
	echo "fetch_assets: downloading $1" >&2
	# shellcheck disable=SC2086
	(cd "$dl" && apt-get $apt_opts download "$1" >/dev/null) ||
		{ echo "fetch_assets: apt-get download $1 failed" >&2; exit 1; }
	dpkg-deb --fsys-tarfile "$dl"/*.deb | tar -xOf - "$2" >"$3.tmp" ||
		{ echo "fetch_assets: $2 is not in $1's package" >&2; rm -f "$3.tmp"; exit 1; }
	mv "$3.tmp" "$3"
	rm -rf "$dl"
}
mkdir -p "$cache/$kpkg" "$cache/busybox-static_$bver"
extract "$kpkg" "./boot/vmlinuz-$kver" "$cache/$kpkg/vmlinuz-$kver"
extract busybox-static ./bin/busybox "$cache/busybox-static_$bver/busybox"
chmod 0755 "$cache/busybox-static_$bver/busybox"
echo "$cache/$kpkg/vmlinuz-$kver"
echo "$cache/busybox-static_$bver/busybox"
echo "$kver"
