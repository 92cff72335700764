#!/usr/bin/env bash
# Builds rsiscsi.ko against the kernel of a variant; prints the directory that
# holds it. Objects go under build/VARIANT so the source tree stays clean.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

variant=${1:-test}
kdir=$("$RSISCSI_TOP/scripts/kernel-build.sh" "$variant")
mo=$RSISCSI_TOP/build/$variant
mkdir -p "$mo"
quiet make -C "$kdir" M="$RSISCSI_TOP" MO="$mo" -j"$(nproc)" modules
[ -f "$mo/rsiscsi.ko" ] || die "module build produced no rsiscsi.ko"
echo "$mo"
