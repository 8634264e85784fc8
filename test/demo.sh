#!/bin/bash
# demo.sh BIN: the main job in one command. A rootless podman container
# whose user namespace maps a single id runs apt-get, first without
# remainroot (it fails as it does today), then with the annotation that
# triggers the remainroot hook (it works). Run as root (`make demo`): it
# uses the unprivileged user and the local Debian image that
# test/setup-env.sh prepares; nothing is installed system-wide.
set -euo pipefail
bin=$(realpath "${1:-bin/remainroot}")
user=${REMAINROOT_TEST_USER:-remainroot-test}
uid=$(id -u "$user")

# A hooks directory just for this demo, holding remainroot.json for a copy
# of the binary the unprivileged user can read.
dir=$(mktemp -d /tmp/remainroot-demo.XXXXXX)
trap 'rm -rf "$dir"' EXIT
install -m 0755 "$bin" "$dir/remainroot"
mkdir "$dir/hooks.d"
"$dir/remainroot" hooks-json --path "$dir/remainroot" > "$dir/hooks.d/remainroot.json"
chmod -R a+rX "$dir"

podman_as_user() {
	(cd / && runuser -u "$user" -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		HOME="/home/$user" XDG_RUNTIME_DIR="/run/user/$uid" \
		podman --hooks-dir "$dir/hooks.d" "$@") 2> >(grep -v -e 'cannot find UID/GID' -e 'single mapping' >&2)
}

script='apt-get update -q && apt-get install -y -q hello && hello'
echo "### uid_map of $user's rootless podman (a single id):"
podman_as_user unshare cat /proc/self/uid_map
echo
echo "### 1. without remainroot: podman run --rm --network=host localhost/rr-debian:bookworm sh -c '$script'"
if podman_as_user run --rm --network=host localhost/rr-debian:bookworm sh -c "$script"; then
	echo "### unexpected: apt-get worked without remainroot" >&2
	exit 1
fi
echo "### -> failed, as every rootless container with a single mapping does today"
echo
echo "### 2. with remainroot: the same, plus --annotation io.remainroot.mode=creds"
podman_as_user run --rm --network=host --annotation io.remainroot.mode=creds \
	localhost/rr-debian:bookworm sh -c "$script"
echo "### -> worked"
