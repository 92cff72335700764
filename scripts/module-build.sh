#!/usr/bin/env bash
# Builds rsiscsi.ko against the kernel of a variant; prints the directory that
# holds it. Objects go under build/VARIANT so the source tree stays clean.
# Fails on any compiler or clippy warning.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

variant=${1:-test}
kdir=$("$RSISCSI_TOP/scripts/kernel-build.sh" "$variant")
mo=$RSISCSI_TOP/build/$variant
mkdir -p "$mo"
# CLIPPY=1: the kernel's clippy lints (undocumented unsafe blocks and the
# rest) run on every build; any warning, from rustc or clippy, fails it.
log=$mo/build.log
if ! make -C "$kdir" M="$RSISCSI_TOP" MO="$mo" CLIPPY=1 -j"$(nproc)" modules >"$log" 2>&1; then
	tail -n 60 "$log" >&2
	die "module build failed (whole log: $log)"
fi
if grep -qE '^warning|: warning:' "$log"; then
	grep -E -A 12 '^warning|: warning:' "$log" >&2
	die "module build has warnings (whole log: $log)"
fi
[ -f "$mo/rsiscsi.ko" ] || die "module build produced no rsiscsi.ko"
echo "$mo"
