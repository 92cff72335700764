#!/bin/bash
# The target asks for a logout (Async Message event 1), which LIO never does:
# rsiscsi-faketarget serves a session of two connections, one per path (no
# LUN), and a few seconds after connection 1 logs in it asks, on that
# connection, for its logout within 10 s. rsiscsi must stop giving it
# commands, log it out with reason 1 (close the connection) once they are
# done, and reinstate it; the fake target exits 0 only if all of that
# happened, in order, before the session was closed.
# timeout=300
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/mcs.sh"
. "$(dirname "$0")/lib/failover.sh"
. "$(dirname "$0")/lib/faketarget.sh"

command -v rsiscsiadm >/dev/null || skip "no rsiscsiadm in the guest"
command -v rsiscsi-faketarget >/dev/null || skip "no rsiscsi-faketarget in the guest"

net_setup 2
insmod /lib/rsiscsi/rsiscsi.ko || fail "insmod failed"

# Port 3261 on every address of the target namespace, so both paths reach it.
fake_start 0.0.0.0:3261 async-logout

out=$(rsiscsiadm login --target "$FAKE_IQN" --portal "$(tgt_ip 0):3261" --source "$(init_ip 0)" \
	--path "$(tgt_ip 1):3261,source=$(init_ip 1)" --initiator "$RS_IQN" \
	--param ReplacementTimeout=30 2>&1) || fail "login to the fake target failed: $out; $(cat "$FT_LOG")"
RS_SID=$(sed -n 's/.*(sid \([0-9]\+\)).*/\1/p' <<<"$out")
[ -n "$RS_SID" ] || fail "no session id in the login output: $out"
wait_for 30 sh -c "rsiscsiadm stats --sid $RS_SID | grep -q '^conn .* cid=1 state=FULL_FEATURE'" ||
	fail "connection 1 did not come up: $(rsiscsiadm stats --sid "$RS_SID"); $(cat "$FT_LOG")"

wait_msg 30 "session $RS_SID: connection 1: the target requested a logout" ||
	fail "the Async event 1 was not taken: $(dmesg | grep rsiscsi | tail -n 5); $(cat "$FT_LOG")"
wait_msg 30 "session $RS_SID: connection 1 logged out at the target.s request" ||
	fail "connection 1 was not logged out: $(dmesg | grep rsiscsi | tail -n 5); $(cat "$FT_LOG")"
log "$(dmesg | grep -F "session $RS_SID: connection 1 logged out" | tail -n 1)"
wait_reinstated 1
! dmesg | grep -q "session $RS_SID connection 1 failed" ||
	fail "the requested logout was handled as a failure: $(dmesg | grep "connection 1 failed" | tail -n 2)"
rsiscsiadm stats --sid "$RS_SID" | grep -q '^conn .* cid=0 state=FULL_FEATURE' ||
	fail "connection 0 did not stay up: $(rsiscsiadm stats --sid "$RS_SID")"

out=$(rsiscsiadm logout --sid "$RS_SID" 2>&1) || fail "logout: $out"
rc=0
fake_wait || rc=$?
while read -r l; do log "$l"; done <"$FT_LOG"
((rc == 0)) || fail "the fake target ended with $rc"
grep -q "Logout on connection 1: close connection 1" "$FT_LOG" ||
	fail "no Logout reason 1 for connection 1 on connection 1"
grep -q "connection 1 reinstated after its logout" "$FT_LOG" || fail "connection 1 was not logged in again"
rmmod rsiscsi || fail "rmmod failed"
exit "$KSFT_PASS"
