#!/bin/bash
# A login in progress: listed as LOGGING_IN, not removable (busy, iscsiadm's
# 28) until it settles; a portal that drops every packet times the connect
# out with a clear error, and nothing is left behind.
# timeout=120
. "$(dirname "$0")/lib/lib.sh"

command -v rsiscsiadm >/dev/null || skip "no rsiscsiadm in the guest"
net_setup 1
lio_setup
insmod /lib/rsiscsi/rsiscsi.ko || fail "insmod failed"

netem_set 0 loss 100%
rsiscsiadm login --target "$TARGET_IQN" --portal "$(tgt_ip 0)" --initiator "$RS_IQN" >/tmp/rs_login 2>&1 &
pid=$!
wait_for 5 bash -c 'rsiscsiadm list -P 1 | grep -q "iSCSI Session State: LOGGING_IN"' ||
	fail "no LOGGING_IN session listed: $(rsiscsiadm list -P 1 2>&1)"
sid=$(rsiscsiadm list | sed -n 's/^tcp: \[\([0-9]*\)\].*/\1/p')
out=$(rsiscsiadm logout --sid "$sid" 2>&1)
rc=$?
log "logout during login: rc $rc: $(tail -n1 <<<"$out")"
[ "$rc" = 28 ] || fail "logout during login exited $rc, want 28"
grep -q 'login in progress' <<<"$out" || fail "logout during login: $out"
wait "$pid"
rc=$?
log "login into a black hole: rc $rc: $(tail -n1 /tmp/rs_login)"
[ "$rc" = 5 ] || fail "black-holed login exited $rc, want 5"
grep -q 'rsiscsiadm: login failed: connect: timed out' /tmp/rs_login || fail "login: $(cat /tmp/rs_login)"
rsiscsiadm list >/dev/null 2>&1
[ $? = 21 ] || fail "the failed login left a session: $(rsiscsiadm list)"
qdisc_clear 0
out=$(rsiscsiadm login --target "$TARGET_IQN" --portal "$(tgt_ip 0)" --initiator "$RS_IQN" 2>&1) ||
	fail "login after the path healed failed: $out"
rsiscsiadm logout --all >/dev/null || fail "logout failed"
rmmod rsiscsi || fail "rmmod failed"
exit "$KSFT_PASS"
