#!/usr/bin/env bash
# `make soak`: the long runs that do not fit `make check`, in one test-kernel
# guest (lockdep, kmemleak, hung-task detection on; any splat fails a test):
#   test_hostile_02       writeback and swap to an rsiscsi disk under a memory
#                         cgroup limit, a path flapping (SOAK_PRESSURE_SECONDS,
#                         default 600)
#   soak/soak_mcs.sh      random path flaps, policy changes, connection
#                         removal/addition and weights under fio verify
#                         (SOAK_SECONDS, default 1800; SOAK_SEED to replay)
#   soak/soak_modload.sh  insmod, logins, rmmod with sessions open, in a loop
#                         (SOAK_LOAD_SECONDS, default 600)
# Prints the KTAP lines and the figures each test logged; the console log is
# kept in build/soak/. Exit status 0 only if every test passed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$RSISCSI_TOP"
scripts/setup.sh

pressure=${SOAK_PRESSURE_SECONDS:-600}
mcs=${SOAK_SECONDS:-1800}
load=${SOAK_LOAD_SECONDS:-600}
longest=$((pressure > mcs ? pressure : mcs))
longest=$((load > longest ? load : longest))
limit=$((longest + 900))
out=$RSISCSI_TOP/build/soak
mkdir -p "$out"
env=(env H02_SECONDS="$pressure" SOAK_SECONDS="$mcs" SOAK_LOAD_SECONDS="$load" RSISCSI_TEST_TIMEOUT="$limit")
[ -z "${SOAK_SEED:-}" ] || env+=(SOAK_SEED="$SOAK_SEED")
log "soak: pressure ${pressure}s, MC/S ${mcs}s, module loads ${load}s (each test limited to ${limit}s)"
rc=0
scripts/vm-run.sh -v test -t $((pressure + mcs + load + 3 * 900)) -l "$out/console.log" -- \
	"${env[@]}" ./run.sh test_hostile_02.sh soak/soak_mcs.sh soak/soak_modload.sh >"$out/guest.log" 2>&1 || rc=$?
grep -E '^(not )?ok [0-9]+ |^# (seed|done in|[0-9]+ (fio|load)|hog:|cgroup:|background fio)|^# Totals' "$out/guest.log" || true
grep -q '^# Totals: pass:3 fail:0' "$out/guest.log" || {
	tail -n 40 "$out/guest.log"
	die "soak failed (exit $rc): $out/guest.log"
}
log "soak passed: $out/guest.log"
