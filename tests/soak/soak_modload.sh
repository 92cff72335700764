#!/bin/bash
# Soak: insmod and rmmod in a loop for SOAK_LOAD_SECONDS (default 600) with
# sessions open: each round loads the module, logs in a session of two
# connections, writes and verifies a little, adds a second session on path 1
# alone, and unloads the module with both still logged in (rmmod logs them
# out). Every round must leave no rsiscsi disk, no LIO session of ours and,
# checked by run.sh after the test, no kmemleak report.
# Not part of `make check`: `make soak` runs it (scripts/soak.sh).
# timeout=1200
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/../lib/io.sh"
. "$(dirname "$0")/../lib/mcs.sh"

seconds=${SOAK_LOAD_SECONDS:-600}
command -v rsiscsiadm >/dev/null || skip "no rsiscsiadm in the guest"
net_setup 2
lio_setup --maxconn 4
lio_sessions() { lio_info "$RS_IQN" | grep -c "LIO Session ID" || true; }
no_lio_session() { [ "$(lio_sessions)" = 0 ]; }

rounds=0 start=$SECONDS
while ((SECONDS - start < seconds)); do
	insmod /lib/rsiscsi/rsiscsi.ko || fail "round $rounds: insmod failed"
	mcs_login 2
	fio_verify "$RS_DEV" --size=4m || fail "round $rounds: fio verify failed"
	out=$(rsiscsiadm login --target "$TARGET_IQN" --portal "$(tgt_ip 1)" --source "$(init_ip 1)" \
		--initiator "$RS_IQN" 2>&1) || fail "round $rounds: second login failed: $out"
	wait_for 20 sh -c "[ \"\$(rsiscsiadm list | wc -l)\" = 2 ]" || fail "round $rounds: no second session"
	rmmod rsiscsi || fail "round $rounds: rmmod with sessions open failed"
	wait_for 10 rs_no_disk || fail "round $rounds: a disk is left after rmmod: $(rs_disks)"
	wait_for 20 no_lio_session ||
		fail "round $rounds: LIO still has $(lio_sessions) session(s) of ours after rmmod"
	rounds=$((rounds + 1))
done
log "$rounds load/login/unload rounds in $((SECONDS - start)) s"
((rounds > 0)) || fail "no round ran"
exit "$KSFT_PASS"
