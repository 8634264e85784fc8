#!/bin/bash
# setup-env.sh: prepare this machine for remainroot's integration tests.
# Run as root; idempotent; a warm run (everything cached) takes seconds.
#
# What it sets up:
#   - the Debian packages the tests use (installed only when missing);
#   - the unprivileged user remainroot-test with NO /etc/subuid or /etc/subgid
#     lines, so its rootless podman maps a single id ("0 <uid> 1");
#   - cached root filesystems under /var/cache/remainroot-test: a Debian
#     bookworm minbase (debootstrap), the same plus strace and gdb (for the
#     debugger tests: installed with apt-get in a chroot, as root, since a
#     rootless build cannot run apt without remainroot) and a static busybox
#     one, each also as a tar that `podman import` takes;
#   - that user's rootless podman (vfs storage, ignore_chown_errors) with the
#     images localhost/rr-debian:bookworm, localhost/rr-debian-debug:bookworm
#     and localhost/rr-busybox:latest;
#   - and checks the whole thing with real containers.
#
# Quirks of these machines (found while writing this script):
#   - Hybrid cgroups (v1 controllers under /sys/fs/cgroup, cgroup2 at
#     /sys/fs/cgroup/unified). crun 1.8 refuses them while cgroup2 holds any
#     controller ("cgroups in hybrid mode not supported, drop all controllers
#     from cgroupv2"); here cgroup2 holds hugetlb. Mounting a v1 hierarchy for
#     each such controller moves it off cgroup2. Lasts until reboot.
#   - PID 1 is not systemd: no logind, no /run/user/<uid>, no linger. The
#     script creates /run/user/<uid> (0700, owned by the user); podman run as
#     the user needs XDG_RUNTIME_DIR=/run/user/<uid>. Rootless podman then
#     picks cgroup manager cgroupfs and events logger file by itself: no
#     --cgroup-manager or --events-backend flags are needed.
#   - /dev/net/tun is root-only, so slirp4netns (the default rootless network)
#     fails: pass --network=host (apt works through it) or --network=none.
#   - podman 4.3 reads ignore_chown_errors from [storage.options.vfs] (and
#     from [storage.options]); `podman info` shows vfs.ignore_chown_errors.
#   - Without subuid ranges podman logs an error-level "cannot find UID/GID
#     for user remainroot-test" and a warning "Using rootless single mapping"
#     whenever it (re)creates its user namespace; both are expected.
#   - The user may already exist, created by other tests without a home
#     directory: the script creates the home directory and sets bash as its
#     shell rather than recreating the user.
#
# Environment: REMAINROOT_TEST_USER overrides the user name (for testing this
# script); REMAINROOT_TEST_CACHE overrides /var/cache/remainroot-test;
# SKIP_VERIFY=1 skips the final container checks.
set -euo pipefail

TEST_USER=${REMAINROOT_TEST_USER:-remainroot-test}
CACHE=${REMAINROOT_TEST_CACHE:-/var/cache/remainroot-test}
SUITE=bookworm
PACKAGES=(runc crun podman uidmap debootstrap busybox-static proot fakeroot
	umoci slirp4netns fuse-overlayfs libseccomp-dev gcc libc6-dev acl
	go-md2man lintian man-db strace gdb)
USER_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
SHA_LABEL=io.remainroot.test.source-sha256

say() { printf '==> %s\n' "$*"; }
run() {
	printf '+ %s\n' "$*"
	"$@"
}
die() {
	printf 'setup-env: %s\n' "$*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "must run as root"

# --- packages ---------------------------------------------------------------
install_packages() {
	local missing=() p
	for p in "${PACKAGES[@]}"; do
		if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
			missing+=("$p")
		fi
	done
	if [ ${#missing[@]} -eq 0 ]; then
		say "packages: all ${#PACKAGES[@]} present"
		return
	fi
	say "packages: installing ${missing[*]}"
	run apt-get update
	run env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
}

# --- the test user ----------------------------------------------------------
setup_user() {
	if ! id "$TEST_USER" >/dev/null 2>&1; then
		say "user: creating $TEST_USER"
		run useradd -m -s /bin/bash "$TEST_USER"
	else
		say "user: $TEST_USER exists"
	fi
	TEST_UID=$(id -u "$TEST_USER")
	TEST_GID=$(id -g "$TEST_USER")
	TEST_HOME=$(getent passwd "$TEST_USER" | cut -d: -f6)
	if [ -z "$TEST_HOME" ] || [ "$TEST_HOME" = / ]; then
		die "$TEST_USER has no usable home directory"
	fi
	if [ ! -d "$TEST_HOME" ]; then
		run install -d -o "$TEST_UID" -g "$TEST_GID" -m 0755 "$TEST_HOME"
	fi
	if [ "$(getent passwd "$TEST_USER" | cut -d: -f7)" != /bin/bash ]; then
		run usermod -s /bin/bash "$TEST_USER"
	fi
	# No subordinate ids: podman falls back to the single mapping.
	local f
	for f in /etc/subuid /etc/subgid; do
		[ -e "$f" ] || continue
		if grep -Eq "^($TEST_USER|$TEST_UID):" "$f"; then
			say "user: removing $TEST_USER from $f"
			run sed -i -E "/^($TEST_USER|$TEST_UID):/d" "$f"
		fi
	done
	# No systemd-logind here: make the runtime directory ourselves.
	XDG_DIR=/run/user/$TEST_UID
	if [ ! -d "$XDG_DIR" ]; then
		run install -d -m 0755 /run/user
		run install -d -o "$TEST_UID" -g "$TEST_GID" -m 0700 "$XDG_DIR"
	fi
}

# as_user runs a command as the test user with a clean environment.
as_user() {
	(cd / && runuser -u "$TEST_USER" -- env -i HOME="$TEST_HOME" USER="$TEST_USER" \
		LOGNAME="$TEST_USER" PATH="$USER_PATH" XDG_RUNTIME_DIR="$XDG_DIR" LANG=C.UTF-8 "$@")
}

# --- cgroups ----------------------------------------------------------------
fix_hybrid_cgroups() {
	local fstype ctrls c
	fstype=$(findmnt -n -o FSTYPE /sys/fs/cgroup || true)
	case "$fstype" in
	cgroup2)
		say "cgroups: unified (cgroup2 only), nothing to do"
		return
		;;
	tmpfs) ;;
	*) die "cgroups: unexpected /sys/fs/cgroup file system '$fstype'" ;;
	esac
	if [ "$(findmnt -n -o FSTYPE /sys/fs/cgroup/unified 2>/dev/null || true)" != cgroup2 ]; then
		say "cgroups: legacy v1 only, nothing to do"
		return
	fi
	ctrls=$(cat /sys/fs/cgroup/unified/cgroup.controllers)
	if [ -z "$ctrls" ]; then
		say "cgroups: hybrid, cgroup2 holds no controller: fine for crun"
		return
	fi
	say "cgroups: hybrid and cgroup2 holds '$ctrls', which crun refuses: moving them to v1"
	for c in $ctrls; do
		run mkdir -p "/sys/fs/cgroup/$c"
		run mount -t cgroup -o "$c" cgroup "/sys/fs/cgroup/$c"
	done
	ctrls=$(cat /sys/fs/cgroup/unified/cgroup.controllers)
	[ -z "$ctrls" ] || die "cgroups: cgroup2 still holds '$ctrls'"
}

# --- root file systems ------------------------------------------------------

# debian_mirror prints the Debian archive URI apt uses here.
debian_mirror() {
	local m=""
	shopt -s nullglob
	local sources=(/etc/apt/sources.list.d/*.sources) lists=(/etc/apt/sources.list /etc/apt/sources.list.d/*.list)
	shopt -u nullglob
	if [ ${#sources[@]} -gt 0 ]; then
		# deb822 stanzas: Types has deb, Suites has exactly $SUITE.
		m=$(awk -v suite="$SUITE" 'BEGIN { RS = ""; FS = "\n" }
			{
				types = ""; suites = ""; uris = ""
				for (i = 1; i <= NF; i++) {
					if ($i ~ /^Types:/) types = " " substr($i, 7) " "
					else if ($i ~ /^Suites:/) suites = " " substr($i, 8) " "
					else if ($i ~ /^URIs:/) uris = substr($i, 6)
				}
				gsub(/[ \t]+/, " ", types); gsub(/[ \t]+/, " ", suites)
				if (types ~ / deb / && suites ~ (" " suite " ")) {
					split(uris, u, " ")
					for (j = 1; j in u; j++) if (u[j] != "") { print u[j]; exit }
				}
			}' "${sources[@]}")
	fi
	if [ -z "$m" ]; then
		m=$(awk -v suite="$SUITE" '$1 == "deb" {
				i = 2
				if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
				if ($(i + 1) == suite) { print $i; exit }
			}' "${lists[@]}" 2>/dev/null || true)
	fi
	printf '%s\n' "${m:-http://deb.debian.org/debian}"
}

# make_tar writes dir's contents to tar, atomically.
make_tar() {
	local dir=$1 tar=$2
	run tar -C "$dir" --numeric-owner -cf "$tar.tmp" .
	chmod 0644 "$tar.tmp"
	mv "$tar.tmp" "$tar"
}

build_debian() {
	local dir=$CACHE/debian-$SUITE mirror
	if [ -d "$dir" ]; then
		say "rootfs: $dir cached"
	else
		mirror=$(debian_mirror)
		say "rootfs: debootstrap --variant=minbase $SUITE from $mirror (a few minutes)"
		rm -rf "$dir.tmp"
		run debootstrap --variant=minbase "$SUITE" "$dir.tmp" "$mirror"
		# Leave no apt cache behind: the image should be small.
		rm -rf "$dir.tmp"/var/cache/apt/archives/*.deb "$dir.tmp"/var/lib/apt/lists/*_Packages
		mv "$dir.tmp" "$dir"
		rm -f "$dir.tar"
	fi
	[ -f "$dir.tar" ] || make_tar "$dir" "$dir.tar"
}

# build_debian_debug makes the Debian tree plus strace and gdb, rebuilt
# when the Debian tree's tar is newer than its own.
build_debian_debug() {
	local src=$CACHE/debian-$SUITE dir=$CACHE/debian-$SUITE-debug d
	if [ -d "$dir" ] && [ -f "$dir.tar" ] && ! [ "$src.tar" -nt "$dir.tar" ]; then
		say "rootfs: $dir cached"
		return
	fi
	say "rootfs: $dir: $src plus strace and gdb (apt-get in a chroot)"
	d=$dir.tmp
	rm -rf "$d" "$dir" "$dir.tar"
	run cp -a "$src" "$d"
	run chroot "$d" env -i PATH="$USER_PATH" DEBIAN_FRONTEND=noninteractive LANG=C \
		sh -c 'apt-get update -q && apt-get install -y -q --no-install-recommends strace gdb && apt-get clean'
	rm -rf "$d"/var/lib/apt/lists/*
	mv "$d" "$dir"
	make_tar "$dir" "$dir.tar"
}

build_busybox() {
	local dir=$CACHE/busybox d
	if [ -d "$dir" ]; then
		say "rootfs: $dir cached"
	else
		say "rootfs: building a static busybox root in $dir"
		d=$dir.tmp
		rm -rf "$d"
		mkdir -p "$d"/{bin,sbin,usr/bin,usr/sbin,etc,root,tmp,proc,sys,dev,home,var/www,var/tmp}
		chmod 1777 "$d/tmp" "$d/var/tmp"
		chmod 0700 "$d/root"
		run install -m 0755 /bin/busybox "$d/bin/busybox"
		# Symlinks for every applet, at the paths busybox itself knows.
		run chroot "$d" /bin/busybox --install -s
		cat >"$d/etc/passwd" <<-'EOF'
			root:x:0:0:root:/root:/bin/sh
			www-data:x:33:33:www-data:/var/www:/bin/false
			nobody:x:65534:65534:nobody:/nonexistent:/bin/false
		EOF
		cat >"$d/etc/group" <<-'EOF'
			root:x:0:
			www-data:x:33:
			nogroup:x:65534:
		EOF
		cat >"$d/etc/shadow" <<-'EOF'
			root:*:19000:0:99999:7:::
			www-data:*:19000:0:99999:7:::
			nobody:*:19000:0:99999:7:::
		EOF
		chmod 0640 "$d/etc/shadow"
		mv "$d" "$dir"
		rm -f "$dir.tar"
	fi
	[ -f "$dir.tar" ] || make_tar "$dir" "$dir.tar"
}

# --- rootless podman --------------------------------------------------------
configure_podman() {
	local dir=$TEST_HOME/.config/containers conf tmp
	conf=$dir/storage.conf
	tmp=$(mktemp)
	cat >"$tmp" <<-'EOF'
		# Written by remainroot's test/setup-env.sh.
		# vfs: no fuse-overlayfs or kernel overlay needed in a single-id namespace.
		# ignore_chown_errors: image layers owned by other ids unpack as root.
		[storage]
		driver = "vfs"

		[storage.options.vfs]
		ignore_chown_errors = "true"
	EOF
	if cmp -s "$tmp" "$conf"; then
		say "podman: $conf up to date"
		rm -f "$tmp"
	else
		say "podman: writing $conf"
		install -d -o "$TEST_UID" -g "$TEST_GID" "$TEST_HOME/.config" "$dir"
		install -o "$TEST_UID" -g "$TEST_GID" -m 0644 "$tmp" "$conf"
		rm -f "$tmp"
	fi
	local info
	info=$(as_user podman info --format '{{.Store.GraphDriverName}} {{.Store.GraphOptions}}' 2>/dev/null) ||
		die "podman info failed as $TEST_USER (try: runuser -u $TEST_USER -- podman info)"
	say "podman: storage $info"
	case "$info" in
	"vfs "*vfs.ignore_chown_errors:true*) ;;
	*) die "podman storage is not vfs with ignore_chown_errors (an old store with another driver? podman system reset as $TEST_USER)" ;;
	esac
}

# import_image imports tar as name unless the image already holds that tar.
import_image() {
	local tar=$1 name=$2 cmd=$3 sum have old
	sum=$(sha256sum "$tar" | cut -d' ' -f1)
	have=$(as_user podman image inspect --format "{{index .Labels \"$SHA_LABEL\"}}" "$name" 2>/dev/null || true)
	if [ "$have" = "$sum" ]; then
		say "podman: $name up to date"
		return
	fi
	old=$(as_user podman image inspect --format '{{.Id}}' "$name" 2>/dev/null || true)
	say "podman: importing $tar as $name"
	as_user podman import --quiet --change "LABEL $SHA_LABEL=$sum" --change "CMD [\"$cmd\"]" \
		"$tar" "$name" >/dev/null
	if [ -n "$old" ]; then
		as_user podman rmi "$old" >/dev/null 2>&1 || true
	fi
}

# --- verification -----------------------------------------------------------
verify() {
	local out
	say "verify: podman unshare cat /proc/self/uid_map"
	out=$(as_user podman unshare cat /proc/self/uid_map 2>/dev/null)
	printf '%s\n' "$out"
	[ "$(printf '%s\n' "$out" | awk '{ print $1, $2, $3 }')" = "0 $TEST_UID 1" ] ||
		die "expected the single mapping '0 $TEST_UID 1'"

	for rt in crun runc; do
		say "verify: podman run --runtime $rt --network=host localhost/rr-busybox id"
		out=$(as_user podman run --rm --runtime "$rt" --network=host localhost/rr-busybox id 2>&1) ||
			die "podman run with $rt failed: $out"
		printf '%s\n' "$out"
		case "$out" in *"uid=0(root) gid=0(root)"*) ;; *) die "unexpected id output with $rt" ;; esac
	done

	say "verify: podman run --network=host localhost/rr-debian:$SUITE apt-get update (must fail on setgroups)"
	out=$(as_user podman run --rm --network=host "localhost/rr-debian:$SUITE" apt-get update 2>&1) || true
	printf '%s\n' "$out" | tail -n 3
	case "$out" in
	*"setgroups 65534 failed"*) say "verify: the known failure shows: the environment is ready" ;;
	*) die "apt-get update did not show the known setgroups failure" ;;
	esac
}

main() {
	local start=$SECONDS
	install_packages
	setup_user
	fix_hybrid_cgroups
	install -d -m 0755 "$CACHE"
	build_busybox
	build_debian
	build_debian_debug
	configure_podman
	import_image "$CACHE/busybox.tar" localhost/rr-busybox:latest /bin/sh
	import_image "$CACHE/debian-$SUITE.tar" "localhost/rr-debian:$SUITE" /bin/bash
	import_image "$CACHE/debian-$SUITE-debug.tar" "localhost/rr-debian-debug:$SUITE" /bin/bash
	if [ "${SKIP_VERIFY:-}" != 1 ]; then
		verify
	fi
	say "done in $((SECONDS - start))s (user $TEST_USER uid $TEST_UID, XDG_RUNTIME_DIR=$XDG_DIR)"
}

main "$@"
