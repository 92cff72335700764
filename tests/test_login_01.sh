#!/bin/bash
# rsiscsi logs in to LIO over path 0 through rsiscsiadm (login in the kernel,
# over netlink): LIO sees the session logged in with ERL 2, `rsiscsiadm list`
# shows it iscsiadm-style, and a logout, announced on the events group,
# leaves LIO without a session.
# timeout=120
. "$(dirname "$0")/lib/lib.sh"

command -v rsiscsiadm >/dev/null || skip "no rsiscsiadm in the guest (cargo build --release -p rsiscsiadm)"
net_setup 1
lio_setup
insmod /lib/rsiscsi/rsiscsi.ko || fail "insmod failed"

lio_logged_in() { lio_info "$RS_IQN" | grep -q 'TARG_SESS_STATE_LOGGED_IN'; }

out=$(rsiscsiadm login --target "$TARGET_IQN" --portal "$(tgt_ip 0)" --initiator "$RS_IQN" 2>&1) ||
	fail "login failed ($?): $out"
log "$out"
sid=$(sed -n 's/.*successful (sid \([0-9]\+\)).*/\1/p' <<<"$out")
[ -n "$sid" ] || fail "no session id in the login output"

wait_for 5 lio_logged_in || fail "LIO shows no logged-in session: $(lio_info "$RS_IQN")"
lio_info "$RS_IQN" | sed 's/^/LIO: /' | while read -r l; do log "$l"; done
erl=$(cat "$TPG/acls/$RS_IQN/param/ErrorRecoveryLevel" 2>/dev/null)
[ "$erl" = 2 ] || fail "LIO negotiated ErrorRecoveryLevel '$erl', want 2"

line=$(rsiscsiadm list) || fail "list failed"
want="tcp: [$sid] $(tgt_ip 0):3260,1 $TARGET_IQN (non-flash)"
[ "$line" = "$want" ] || fail "list printed '$line', want '$want'"
detail=$(rsiscsiadm list -P 1) || fail "list -P 1 failed"
grep -q "iSCSI Session State: LOGGED_IN" <<<"$detail" || fail "detail view: $detail"
grep -q "ErrorRecoveryLevel: 2" <<<"$detail" || fail "detail view lacks ERL 2: $detail"
grep -q "Connection 0: FULL_FEATURE" <<<"$detail" || fail "detail view lacks the connection: $detail"

# A second login to the same target and portal is refused (iscsiadm's 15).
rsiscsiadm login --target "$TARGET_IQN" --portal "$(tgt_ip 0)" --initiator "$RS_IQN" >/dev/null 2>&1
rc=$?
[ "$rc" = 15 ] || fail "duplicate login exited $rc, want 15"

rsiscsiadm watch >/tmp/rs_events &
watcher=$!
sleep 0.5
out=$(rsiscsiadm logout --sid "$sid" 2>&1) || fail "logout failed: $out"
log "$out"
wait_for 5 grep -q "^session-down sid=$sid target=$TARGET_IQN reason=logout" /tmp/rs_events ||
	fail "no session-down event: $(cat /tmp/rs_events)"
grep -q "^conn-down sid=$sid cid=0 target=$TARGET_IQN reason=logout" /tmp/rs_events ||
	fail "no conn-down event: $(cat /tmp/rs_events)"
n=$(grep -c "^conn-down sid=$sid " /tmp/rs_events)
[ "$n" = 1 ] || fail "$n conn-down events for one connection: $(cat /tmp/rs_events)"
kill "$watcher"
wait "$watcher" 2>/dev/null
wait_for 10 bash -c "! grep -q TARG_SESS_STATE_LOGGED_IN '$TPG/acls/$RS_IQN/info'" ||
	fail "LIO still has the session after logout: $(lio_info "$RS_IQN")"
rsiscsiadm list >/dev/null 2>&1
rc=$?
[ "$rc" = 21 ] || fail "list after logout exited $rc, want 21 (no objects)"
rsiscsiadm logout --sid "$sid" >/dev/null 2>&1
rc=$?
[ "$rc" = 2 ] || fail "logout of a gone session exited $rc, want 2"
rmmod rsiscsi || fail "rmmod failed"
exit "$KSFT_PASS"
