#!/bin/bash
# Runs each fuzz target PKG:FuzzName given as an argument for $FUZZTIME
# (default 5s) on top of its corpus (PKG/testdata/fuzz/FuzzName), one at a
# time (-fuzz takes one target per run). A failing input is written to that
# corpus by go test and fails the run.
#
# Go's fuzz coordinator can report "context deadline exceeded" at the end of
# a duration -fuzztime on a loaded machine without any failing input
# (golang/go#75804, fixed after Go 1.26): such a run is retried once, and a
# second one is reported as a warning, since no input failed.
set -uo pipefail
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-5s}
status=0
for t in "$@"; do
	pkg=${t%%:*} name=${t#*:}
	for try in 1 2; do
		echo "fuzz $name ($pkg, $FUZZTIME)"
		out=$("$GO" test -count=1 -run '^$' -fuzz "^$name\$" -fuzztime "$FUZZTIME" "$pkg/" 2>&1)
		rc=$?
		grep -v '^fuzz: elapsed' <<<"$out"
		[ "$rc" = 0 ] && break
		if grep -q 'Failing input written' <<<"$out" || ! grep -q 'context deadline exceeded' <<<"$out"; then
			status=1
			break
		fi
		if [ "$try" = 2 ]; then
			echo "warning: $name: go's fuzz coordinator stopped with 'context deadline exceeded' twice and no failing input (golang/go#75804)" >&2
		fi
	done
done
exit "$status"
