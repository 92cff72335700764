#!/usr/bin/env bash
# Short fuzz runs of the protocol core's cargo-fuzz targets, for make check.
# Usage: fuzz-smoke.sh --list | fuzz-smoke.sh TARGET SECONDS
# cargo-fuzz needs nightly flags (-Zsanitizer); RUSTC_BOOTSTRAP lets the
# stable compiler accept them (rust/core/fuzz/README.md).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
fuzz=$RSISCSI_TOP/rust/core/fuzz

if [ "${1:-}" = --list ]; then
	sed -n '/^\[\[bin\]\]/,/^$/s/^name *= *"\(.*\)"/\1/p' "$fuzz/Cargo.toml"
	exit 0
fi
target=${1:?usage: fuzz-smoke.sh TARGET SECONDS}
secs=${2:-20}
command -v cargo-fuzz >/dev/null || die "cargo-fuzz missing: run scripts/setup.sh"
cd "$fuzz"
mkdir -p "corpus/$target" "seeds/$target"
# New inputs go to the local corpus; the committed one (seeds) is read too.
RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" "corpus/$target" "seeds/$target" -- \
	-max_total_time="$secs" -print_final_stats=1
