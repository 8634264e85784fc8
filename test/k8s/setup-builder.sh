#!/bin/bash
# setup-builder.sh: the "builder" root filesystem of the builds-in-pods
# test (test/k8s/podbuild_test.go), cached. Run as root, after
# test/setup-env.sh (which makes the Debian bookworm tree it starts from).
#
# The tree: Debian bookworm minbase plus podman and crun (apt-get in a
# chroot, as root, as setup-env.sh makes its debug image), the user
# builder (uid 1000) with NO /etc/subuid or /etc/subgid line, so that its
# rootless podman maps a single id, and builder's storage.conf (vfs,
# ignore_chown_errors: no fuse-overlayfs, no /dev/fuse). remainroot is not
# in it: the test bind-mounts the binary it tests.
#
# The result, $CACHE/builder-<key>.tar, is keyed by a hash of this script
# and of the Debian tree's tar, so a change of either rebuilds it (older
# builder-*.tar are removed). The last line of stdout is its path.
set -euo pipefail

CACHE=${REMAINROOT_TEST_CACHE:-/var/cache/remainroot-test}
SUITE=bookworm
SRC=$CACHE/debian-$SUITE
USER_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

die() {
	printf 'setup-builder: %s\n' "$*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "must run as root"
[ -d "$SRC" ] && [ -f "$SRC.tar" ] || die "$SRC(.tar) missing: run test/setup-env.sh first"

key=$({ cat "$0"; sha256sum "$SRC.tar"; } | sha256sum | cut -c1-16)
out=$CACHE/builder-$key.tar
if [ -f "$out" ]; then
	echo "$out"
	exit 0
fi

exec 9>"$CACHE/.builder.lock"
flock 9
if [ -f "$out" ]; then
	echo "$out"
	exit 0
fi

start=$SECONDS
d=$CACHE/builder.tmp
rm -rf "$d"
printf '+ cp -a %s %s\n' "$SRC" "$d" >&2
cp -a "$SRC" "$d"
# No daemon may start in the chroot.
printf '#!/bin/sh\nexit 101\n' >"$d/usr/sbin/policy-rc.d"
chmod 0755 "$d/usr/sbin/policy-rc.d"
printf '+ chroot apt-get install podman crun\n' >&2
chroot "$d" env -i PATH="$USER_PATH" DEBIAN_FRONTEND=noninteractive LANG=C \
	sh -c 'apt-get update -q && apt-get install -y -q --no-install-recommends podman crun && apt-get clean' >&2
rm -rf "$d"/var/lib/apt/lists/* "$d/usr/sbin/policy-rc.d"

chroot "$d" useradd -m -u 1000 -s /bin/bash builder
# useradd adds subordinate ranges where /etc/subuid exists: remove them.
sed -i '/^builder:/d; /^1000:/d' "$d/etc/subuid" "$d/etc/subgid"
install -d -o 1000 -g 1000 "$d/home/builder/.config" "$d/home/builder/.config/containers"
cat >"$d/home/builder/.config/containers/storage.conf" <<'EOF'
# test/k8s/setup-builder.sh: vfs (no fuse-overlayfs, no /dev/fuse);
# ignore_chown_errors: under a single mapping layers unpack as root.
[storage]
driver = "vfs"

[storage.options.vfs]
ignore_chown_errors = "true"
EOF
chown 1000:1000 "$d/home/builder/.config/containers/storage.conf"

printf '+ tar -cf %s\n' "$out" >&2
tar -C "$d" --numeric-owner -cf "$out.tmp" .
chmod 0644 "$out.tmp"
mv "$out.tmp" "$out"
rm -rf "$d"
for old in "$CACHE"/builder-*.tar; do
	[ "$old" = "$out" ] || rm -f "$old"
done
printf 'setup-builder: built %s in %ds\n' "$out" "$((SECONDS - start))" >&2
echo "$out"
