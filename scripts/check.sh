#!/usr/bin/env bash
# `make check`: every host test and every guest test, one verdict line each,
# then a last line "N passed, N failed". Logs go to build/check/.
# RSISCSI_CHECK_ONLY=host|guest limits the run to one half.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$RSISCSI_TOP"

logs=$RSISCSI_TOP/build/check
rm -rf "$logs"
mkdir -p "$logs"
passed=0 failed=0
failures=()

verdict() { # NAME RC
	if [ "$2" = 0 ]; then
		passed=$((passed + 1))
		echo "PASS: $1"
	else
		failed=$((failed + 1))
		failures+=("$1")
		echo "FAIL: $1"
	fi
}
# item NAME COMMAND...: one test item, output to build/check/NAME.log.
item() {
	local name=$1 rc=0
	shift
	"$@" >"$logs/$name.log" 2>&1 || rc=$?
	[ "$rc" = 0 ] || tail -n 30 "$logs/$name.log" | sed 's/^/    /'
	verdict "$name" "$rc"
}

host_checks() {
	item fmt cargo fmt --all --check
	# The module is not a cargo crate: rustfmt sees its files directly
	# (clippy runs in its build, scripts/module-build.sh).
	item module-fmt bash -c 'find rust/module -name "*.rs" -print0 | xargs -0 rustfmt --edition 2021 --check'
	item clippy cargo clippy --workspace --all-targets --locked -- -D warnings
	item core-no_std cargo build -p rsiscsi-core --target x86_64-unknown-none --locked
	item shellcheck shellcheck scripts/*.sh tests/*.sh tests/lib/*.sh .ci/run

	# Every cargo test counts as one test.
	local rc=0 p f
	cargo test --workspace --locked >"$logs/cargo-test.log" 2>&1 || rc=$?
	p=$(sed -n 's/^test result: .* \([0-9]\+\) passed; \([0-9]\+\) failed.*/\1/p' "$logs/cargo-test.log" | paste -sd+ | bc)
	f=$(sed -n 's/^test result: .* \([0-9]\+\) passed; \([0-9]\+\) failed.*/\2/p' "$logs/cargo-test.log" | paste -sd+ | bc)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	echo "cargo test: ${p:-0} passed, ${f:-0} failed"
	if [ "$rc" != 0 ]; then
		grep -E '^(test .* FAILED|error|---- )' "$logs/cargo-test.log" | head -n 30 | sed 's/^/    /'
		# A build error runs no test at all: count it.
		[ "${f:-0}" != 0 ] || verdict cargo-test-build 1
	fi

	if [ -x scripts/fuzz-smoke.sh ]; then
		local t
		for t in $(scripts/fuzz-smoke.sh --list); do
			item "fuzz-$t" scripts/fuzz-smoke.sh "$t" "${RSISCSI_FUZZ_SECONDS:-20}"
		done
	fi
	if compgen -G "tests/host/test_*.sh" >/dev/null; then
		local h
		for h in tests/host/test_*.sh; do
			item "host-$(basename "$h" .sh)" "$h"
		done
	fi
}

guest_checks() {
	item module-build scripts/module-build.sh test
	local rc=0
	scripts/vm-run.sh -v test -t 3000 -l "$logs/guest-console.log" -- ./run.sh \
		>"$logs/guest.log" 2>&1 || rc=$?
	local line
	while IFS= read -r line; do
		case $line in
		"ok "*"# SKIP"*) echo "SKIP: ${line#ok }" ;;
		"ok "*) verdict "guest: $(cut -d' ' -f3 <<<"$line")" 0 ;;
		"not ok "*) verdict "guest: $(cut -d' ' -f4 <<<"$line")" 1 ;;
		esac
	done < <(grep -E '^(not )?ok [0-9]+ ' "$logs/guest.log")
	grep '^# Totals:' "$logs/guest.log" | sed 's/^# /guest KTAP /' || true
	# The guest must finish its plan: a crash or hang is a failure of its own.
	if ! grep -q '^# Totals:' "$logs/guest.log"; then
		verdict "guest: completed its plan (exit $rc)" 1
		tail -n 40 "$logs/guest.log" | sed 's/^/    /'
	elif [ "$rc" != 0 ] && ! grep -q '^not ok' "$logs/guest.log"; then
		verdict "guest: runner exit status $rc" 1
	fi
}

log "setup"
scripts/setup.sh
case ${RSISCSI_CHECK_ONLY:-all} in
host) host_checks ;;
guest) guest_checks ;;
*)
	host_checks
	guest_checks
	;;
esac

if ((failed)); then
	echo "failed: ${failures[*]}"
	echo "logs: $logs"
fi
echo "$passed passed, $failed failed"
((failed == 0))
