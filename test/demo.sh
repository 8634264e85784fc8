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

# Hooks directories just for this demo, laid out as `make install` lays
# them (remainroot.json, and the precreate hook in a directory of its own),
# for a copy of the binary the unprivileged user can read.
dir=$(mktemp -d /tmp/remainroot-demo.XXXXXX)
trap 'rm -rf "$dir"' EXIT
install -m 0755 "$bin" "$dir/remainroot"
mkdir "$dir/hooks.d" "$dir/precreate.d"
"$dir/remainroot" hooks-json --path "$dir/remainroot" > "$dir/hooks.d/remainroot.json"
"$dir/remainroot" hooks-json --precreate --path "$dir/remainroot" > "$dir/precreate.d/remainroot-precreate.json"
chmod -R a+rX "$dir"

podman_as_user() {
	(cd / && runuser -u "$user" -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		HOME="/home/$user" XDG_RUNTIME_DIR="/run/user/$uid" \
		podman --hooks-dir "$dir/hooks.d" --hooks-dir "$dir/precreate.d" "$@") 2> >(grep -v -e 'cannot find UID/GID' -e 'single mapping' >&2)
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
echo
name=remainroot-demo-$$
trap 'podman_as_user rm -f -t 0 "$name" "$name-plain" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
echo "### 3. podman exec CONTAINER su -s /bin/sh nobody -c id, without remainroot:"
podman_as_user run -d --name "$name-plain" --network=none localhost/rr-debian:bookworm sleep 600 >/dev/null
if podman_as_user exec "$name-plain" su -s /bin/sh nobody -c id; then
	echo "### unexpected: su worked without remainroot" >&2
	exit 1
fi
echo "### -> failed; in a container annotated with io.remainroot.mode=creds:"
podman_as_user run -d --name "$name" --network=none --annotation io.remainroot.mode=creds \
	localhost/rr-debian:bookworm sleep 600 >/dev/null
podman_as_user exec "$name" su -s /bin/sh nobody -c id
podman_as_user exec --user 1000:1000 "$name" id
echo "### -> worked"
