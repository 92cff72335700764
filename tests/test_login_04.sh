#!/bin/bash
# rmmod with a session open logs it out cleanly: LIO has no session left,
# the module says so, and nothing splats. Events for the session's life come
# out on the multicast group (rsiscsiadm watch).
# timeout=120
. "$(dirname "$0")/lib/lib.sh"

command -v rsiscsiadm >/dev/null || skip "no rsiscsiadm in the guest"
net_setup 1
lio_setup
insmod /lib/rsiscsi/rsiscsi.ko || fail "insmod failed"

lio_logged_in() { lio_info "$RS_IQN" | grep -q 'TARG_SESS_STATE_LOGGED_IN'; }

rsiscsiadm watch >/tmp/rs_events &
watcher=$!
sleep 0.5
out=$(rsiscsiadm login --target "$TARGET_IQN" --portal "$(tgt_ip 0)" --initiator "$RS_IQN" 2>&1) ||
	fail "login failed: $out"
wait_for 5 lio_logged_in || fail "LIO shows no session"
wait_for 5 grep -q '^session-up sid=1' /tmp/rs_events || fail "no session-up event: $(cat /tmp/rs_events)"
grep -q '^conn-up sid=1 cid=0' /tmp/rs_events || fail "no conn-up event: $(cat /tmp/rs_events)"
kill "$watcher"
wait "$watcher" 2>/dev/null
sed 's/^/event: /' /tmp/rs_events | while read -r l; do log "$l"; done

rmmod rsiscsi || fail "rmmod with an open session failed"
lio_logged_in && fail "LIO still has the session after rmmod: $(lio_info "$RS_IQN")"
dmesg | grep -q 'rsiscsi: session 1: logged out' || fail "no logout message in dmesg"
grep -q '^rsiscsi ' /proc/modules && fail "module still loaded"
exit "$KSFT_PASS"
