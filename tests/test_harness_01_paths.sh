#!/bin/bash
# The test bed itself: two veth paths into the target namespace, LIO listening
# on a portal on each, and the fault helpers really cutting and restoring.
# timeout=120
. "$(dirname "$0")/lib/lib.sh"

net_setup 2
lio_setup
for p in 0 1; do
	portal_listening "$p" || fail "no LIO portal listening on path $p"
done
[ "$(cat "$TPG/param/MaxConnections")" = 8 ] || fail "MaxConnections not 8"
[ "$(cat "$TPG/param/ErrorRecoveryLevel")" = 2 ] || fail "ErrorRecoveryLevel not 2"
[ "$(cat "$TPG/attrib/default_erl")" = 2 ] || fail "default_erl not 2"
[ "$(cat "$TPG/acls/$RS_IQN/attrib/default_erl")" = 2 ] || fail "ACL default_erl not 2"

path_down 0
ping -c1 -W1 "$(tgt_ip 0)" >/dev/null 2>&1 && fail "path 0 still answers when cut"
ping -c1 -W1 "$(tgt_ip 1)" >/dev/null 2>&1 || fail "path 1 lost when path 0 was cut"
path_up 0
wait_for 10 ping -c1 -W1 "$(tgt_ip 0)" || fail "path 0 not back after restore"

netem_set 1 loss 100%
ping -c1 -W1 "$(tgt_ip 1)" >/dev/null 2>&1 && fail "netem 100% loss let a ping through"
qdisc_clear 1
wait_for 10 ping -c1 -W1 "$(tgt_ip 1)" || fail "path 1 not back after netem clear"
tbf_set 1 10mbit
tc qdisc show dev i1 | grep -q tbf || fail "tbf not installed"
qdisc_clear 1

portal_disable 0
portal_listening 0 && fail "portal 0 still listening when disabled"
portal_enable 0
wait_for 10 portal_listening 0 || fail "portal 0 not back"
tpg_restart 1
[ "$(cat "$TPG/enable")" = 1 ] || fail "TPG not enabled after restart"
exit "$KSFT_PASS"
