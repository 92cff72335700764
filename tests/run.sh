#!/bin/bash
# Runs guest tests (all test_*.sh, or those named) and prints KTAP. Each test
# runs in its own process under a timeout; afterwards the kernel log is searched
# for splats (WARNING, BUG, lockdep, KASAN, kmemleak ...), which fail the test
# whatever its exit status, and anything the test left behind is cleaned up.
cd "$(dirname "$0")" || exit 1
# shellcheck source=tests/lib/lib.sh
. lib/lib.sh

SPLAT='WARNING:|BUG:|KASAN:|UBSAN:|Oops|general protection fault|kernel BUG|possible recursive locking|possible circular locking|inconsistent lock state|suspicious RCU usage|sleeping function called from invalid context|hung_task|soft lockup|hard LOCKUP|rust_panic|panicked at'
KMEMLEAK=/sys/kernel/debug/kmemleak

if (($#)); then tests=("$@"); else mapfile -t tests < <(ls test_*.sh); fi

ktap_header
ktap_plan "${#tests[@]}"
for t in "${tests[@]}"; do
	name=${t%.sh}
	name=${name##*/}
	limit=$(sed -n 's/^# timeout=\([0-9]\+\)$/\1/p' "$t" | head -n1)
	# A soak run stretches a test (scripts/soak.sh): its own limit then.
	limit=${RSISCSI_TEST_TIMEOUT:-$limit}
	dmesg -c >/dev/null
	[ -w "$KMEMLEAK" ] && echo clear >"$KMEMLEAK"
	ktap_diag "running $name"
	started=$SECONDS
	timeout -k 5 "${limit:-300}" bash "$t" 2>&1 | awk '{ if ($0 ~ /^#/) print; else print "# " $0; fflush() }'
	rc=${PIPESTATUS[0]}
	cleanup_all >/dev/null 2>&1
	if [ -w "$KMEMLEAK" ]; then
		# kmemleak reports objects unreferenced for 5 s or more: wait, then scan.
		sleep 5
		echo scan >"$KMEMLEAK"
	fi
	splat=$(dmesg | grep -E "$SPLAT")
	leaks=$([ -r "$KMEMLEAK" ] && grep -c '^unreferenced object' "$KMEMLEAK")
	if [ -n "$splat" ]; then
		ktap_diag "kernel splat during $name:"
		dmesg | grep -E -A 25 "$SPLAT" | head -n 60 | sed 's/^/# /'
		rc=1
	fi
	if [ "${leaks:-0}" -gt 0 ]; then
		ktap_diag "kmemleak: $leaks unreferenced objects after $name:"
		head -n 40 "$KMEMLEAK" | sed 's/^/# /'
		rc=1
	fi
	ktap_diag "$name: $((SECONDS - started)) s"
	case $rc in
	0) ktap_pass "$name" ;;
	4) ktap_skip "$name" "see above" ;;
	124) ktap_diag "$name timed out after ${limit:-300}s" && ktap_fail "$name" ;;
	*) ktap_fail "$name" ;;
	esac
done
ktap_totals
((KTAP_FAIL == 0))
