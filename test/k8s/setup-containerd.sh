#!/bin/bash
# setup-containerd.sh: build the Kubernetes-engine tools the NRI end-to-end
# test uses (test/k8s), from the Go module proxy: containerd 2.x, runc 1.3
# (with seccomp: libseccomp-dev comes from test/setup-env.sh) and crictl.
# Idempotent and cached: a tool already built at its version is kept.
#
# The binaries go to $REMAINROOT_K8S_BIN (default: GOPATH/bin/remainroot-k8s),
# a directory on nobody's PATH: runc 1.3 must not shadow the system's runc
# that the podman tests use. Prints the directory on its last line.
set -euo pipefail

CONTAINERD_VERSION=${CONTAINERD_VERSION:-v2.4.2}
RUNC_VERSION=${RUNC_VERSION:-v1.3.1}
CRICTL_VERSION=${CRICTL_VERSION:-v1.34.0}
BIN=${REMAINROOT_K8S_BIN:-$(go env GOPATH)/bin/remainroot-k8s}
mkdir -p "$BIN"

# build NAME VERSION PACKAGE [go install flags...] installs PACKAGE@VERSION
# into $BIN unless $BIN/NAME.version already says VERSION.
build() {
	local name=$1 version=$2 pkg=$3
	shift 3
	if [ -x "$BIN/$name" ] && [ "$(cat "$BIN/$name.version" 2>/dev/null)" = "$version" ]; then
		return 0
	fi
	local start=$SECONDS
	echo "==> go install $pkg@$version" >&2
	GOBIN=$BIN GOFLAGS=-buildvcs=false go install "$@" "$pkg@$version"
	echo "$version" >"$BIN/$name.version"
	echo "==> $name $version built in $((SECONDS - start))s" >&2
}

build containerd "$CONTAINERD_VERSION" github.com/containerd/containerd/v2/cmd/containerd
build ctr "$CONTAINERD_VERSION" github.com/containerd/containerd/v2/cmd/ctr
build containerd-shim-runc-v2 "$CONTAINERD_VERSION" github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2
CGO_ENABLED=1 build runc "$RUNC_VERSION" github.com/opencontainers/runc -tags seccomp
build crictl "$CRICTL_VERSION" sigs.k8s.io/cri-tools/cmd/crictl
echo "$BIN"
