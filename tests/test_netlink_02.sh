#!/bin/bash
# Sessions belong to the network namespace that created them: another
# namespace neither lists nor logs them out, and a login from there connects
# from there (its sockets live in the caller's namespace). Two sessions, one
# per path, list in SID order; the time a kernel login takes is logged.
# timeout=150
. "$(dirname "$0")/lib/lib.sh"

command -v rsiscsiadm >/dev/null || skip "no rsiscsiadm in the guest"
net_setup 2
lio_setup
insmod /lib/rsiscsi/rsiscsi.ko || fail "insmod failed"
OTHER=rsother
ip netns add "$OTHER"
trap 'ip netns del "$OTHER" 2>/dev/null' EXIT
in_other() { ip netns exec "$OTHER" "$@"; }

login() { rsiscsiadm login --target "$TARGET_IQN" --initiator "$RS_IQN" --portal "$@"; }
t0=${EPOCHREALTIME/./}
out0=$(login "$(tgt_ip 0)" 2>&1) || fail "login on path 0 failed: $out0"
t1=${EPOCHREALTIME/./}
log "kernel login (connect + Login exchange, TCG guest): $(((t1 - t0) / 1000)) ms"
out1=$(login "$(tgt_ip 1)" 2>&1) || fail "login on path 1 failed: $out1"
sid0=$(sed -n 's/.*(sid \([0-9]*\)).*/\1/p' <<<"$out0")
sid1=$(sed -n 's/.*(sid \([0-9]*\)).*/\1/p' <<<"$out1")
[ "$sid0" != "$sid1" ] || fail "both sessions got sid $sid0"
want="tcp: [$sid0] $(tgt_ip 0):3260,1 $TARGET_IQN (non-flash)
tcp: [$sid1] $(tgt_ip 1):3260,1 $TARGET_IQN (non-flash)"
got=$(rsiscsiadm list)
[ "$got" = "$want" ] || fail "list: '$got', want '$want'"
[ "$(rsiscsiadm list --sid "$sid1")" = "${want#*$'\n'}" ] || fail "list --sid $sid1: $(rsiscsiadm list --sid "$sid1")"

in_other rsiscsiadm list >/dev/null 2>&1
rc=$?
[ "$rc" = 21 ] || fail "the other namespace lists sessions (rc $rc)"
in_other rsiscsiadm logout --sid "$sid0" >/dev/null 2>&1
rc=$?
[ "$rc" = 2 ] || fail "the other namespace could log out session $sid0 (rc $rc)"
# The other namespace has no route to the portal: its login must fail there,
# although the portal is reachable from here.
out=$(in_other rsiscsiadm login --target "$TARGET_IQN" --initiator "$RS_IQN" --portal "$(tgt_ip 0)" 2>&1)
rc=$?
log "login from the other namespace: rc $rc: $(tail -n1 <<<"$out")"
[ "$rc" = 5 ] || fail "login from the other namespace exited $rc"
grep -q 'network unreachable' <<<"$out" || fail "login from the other namespace: $out"
[ "$(rsiscsiadm list | wc -l)" = 2 ] || fail "sessions changed: $(rsiscsiadm list)"

t0=${EPOCHREALTIME/./}
rsiscsiadm logout --all >/dev/null || fail "logout --all failed"
t1=${EPOCHREALTIME/./}
log "kernel logout of 2 sessions: $(((t1 - t0) / 1000)) ms"
rsiscsiadm list >/dev/null 2>&1
[ $? = 21 ] || fail "sessions left after logout --all"
rmmod rsiscsi || fail "rmmod failed"
exit "$KSFT_PASS"
