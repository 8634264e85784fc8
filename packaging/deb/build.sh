#!/bin/bash
# build.sh BIN MAN DEBVERSION OUT: write the Debian package OUT from the
# static binary BIN and the man page MAN (roff), with dpkg-deb; no
# debhelper. Run by `make deb`.
set -euo pipefail

bin=$1 man=$2 version=$3 out=$4
here=$(cd "$(dirname "$0")" && pwd)
arch=$(dpkg --print-architecture)
maintainer=${DEB_MAINTAINER:-"remainroot maintainers <maintainers@remainroot.invalid>"}
# Reproducible: the dates are the commit's.
date=$(git log -1 --format=%cD 2>/dev/null || date -R)
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
# dpkg-deb refuses a control directory with group or other write bits.
umask 022

install -D -m 0755 "$bin" "$root/usr/bin/remainroot"
# The hooks documents name the installed binary.
install -d "$root/usr/share/containers/oci/hooks.d" "$root/usr/share/remainroot/hooks.d" \
	"$root/usr/share/remainroot/build-hooks.d" "$root/usr/share/remainroot/build-hooks-full.d" \
	"$root/etc/containers/containers.conf.d"
"$bin" hooks-json --path /usr/bin/remainroot >"$root/usr/share/containers/oci/hooks.d/remainroot.json"
"$bin" hooks-json --precreate --path /usr/bin/remainroot >"$root/usr/share/remainroot/hooks.d/remainroot-precreate.json"
"$bin" hooks-json --build --mode creds --path /usr/bin/remainroot >"$root/usr/share/remainroot/build-hooks.d/remainroot-build.json"
"$bin" hooks-json --build --mode full --path /usr/bin/remainroot >"$root/usr/share/remainroot/build-hooks-full.d/remainroot-build.json"
# The drop-in that adds the precreate directory to podman's hooks_dir: in
# /etc/containers/containers.conf.d, which every podman reads, so a conffile.
"$bin" hooks-json --drop-in /usr/share/remainroot/hooks.d >"$root/etc/containers/containers.conf.d/50-remainroot.conf"

install -d "$root/usr/share/man/man1"
gzip -9n <"$man" >"$root/usr/share/man/man1/remainroot.1.gz"

doc=$root/usr/share/doc/remainroot
install -d "$doc"
install -m 0644 "$here/copyright" "$doc/copyright"
cat >"$root/changelog.Debian" <<CHANGELOG
remainroot ($version) unstable; urgency=medium

  * Built from git commit $commit.

 -- $maintainer  $date
CHANGELOG
gzip -9n <"$root/changelog.Debian" >"$doc/changelog.Debian.gz"
rm "$root/changelog.Debian"

install -D -m 0644 "$here/lintian-overrides" "$root/usr/share/lintian/overrides/remainroot"

install -d "$root/DEBIAN"
(cd "$root" && find usr -type f -print0 | sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
echo /etc/containers/containers.conf.d/50-remainroot.conf >"$root/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<CONTROL
Package: remainroot
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $size
Recommends: podman | runc | crun
Section: admin
Priority: optional
Homepage: https://github.com/remainroot/remainroot
Description: run unmodified programs in single-id rootless containers
 remainroot traces programs with ptrace and seccomp and answers their
 credential system calls (set*id, get*id, setgroups, capabilities, chown)
 the way the kernel would answer real root, so apt-get, su, useradd and
 daemons that drop privileges work in a rootless container whose user
 namespace maps a single id (a user without /etc/subuid range).
 .
 It installs OCI hooks that podman runs for containers annotated with
 io.remainroot.mode, and hooks directories for podman build; the same
 engine runs without a container (remainroot run, remainroot attach).
 remainroot doctor checks the host's setup.
CONTROL
find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
dpkg-deb --root-owner-group -Zxz --build "$root" "$out" >/dev/null
echo "$out"
