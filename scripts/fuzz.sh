#!/usr/bin/env bash
# `make fuzz`: long runs of the protocol core's fuzz targets (all, or those
# named), each from its committed corpus (rust/core/fuzz/seeds/TARGET) for
# FUZZ_RUNS executions (default 10 million), one after the other: the
# machine has two cores. Prints one line per target with libFuzzer's final
# figures; new inputs go to the local corpus (rust/core/fuzz/corpus, not
# committed). FUZZ_MERGE=1 merges what they found into the committed
# corpus afterwards (cargo fuzz cmin keeps only inputs that add coverage).
# A crash stops the run and leaves its input in rust/core/fuzz/artifacts.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
"$RSISCSI_TOP/scripts/setup.sh"
fuzz=$RSISCSI_TOP/rust/core/fuzz
runs=${FUZZ_RUNS:-10000000}
command -v cargo-fuzz >/dev/null || die "cargo-fuzz missing: run scripts/setup.sh"
if (($#)); then targets=("$@"); else mapfile -t targets < <("$RSISCSI_TOP/scripts/fuzz-smoke.sh" --list); fi
out=$RSISCSI_TOP/build/fuzz
mkdir -p "$out"
cd "$fuzz"
summary=()
for t in "${targets[@]}"; do
	mkdir -p "corpus/$t" "seeds/$t"
	log "fuzz $t: $runs executions"
	start=$(date +%s)
	RUSTC_BOOTSTRAP=1 cargo fuzz run "$t" "corpus/$t" "seeds/$t" -- -runs="$runs" \
		-print_final_stats=1 >"$out/$t.log" 2>&1 || {
		tail -n 30 "$out/$t.log"
		die "fuzz $t failed: see $out/$t.log and $fuzz/artifacts/$t"
	}
	secs=$(($(date +%s) - start))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t.log" | tail -n 1)
	cov=$(grep -o 'cov: [0-9]*' "$out/$t.log" | tail -n 1 | cut -d' ' -f2)
	summary+=("$(printf '%-16s %12s executions %6s s  coverage %6s  corpus %5s inputs' \
		"$t" "${execs:-?}" "$secs" "${cov:-?}" "$(find "corpus/$t" "seeds/$t" -type f | wc -l)")")
	if [ "${FUZZ_MERGE:-0}" = 1 ]; then
		RUSTC_BOOTSTRAP=1 cargo fuzz cmin "$t" "corpus/$t" >>"$out/$t.log" 2>&1
		cp -n "corpus/$t"/* "seeds/$t/" 2>/dev/null || true
		RUSTC_BOOTSTRAP=1 cargo fuzz cmin "$t" "seeds/$t" >>"$out/$t.log" 2>&1
	fi
done
printf '%s\n' "${summary[@]}" | tee "$out/summary.txt"
