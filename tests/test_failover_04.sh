#!/bin/bash
# ERL 2, connection resets: `ss -K` aborts connection 1 (an RST to the
# target) under fio verify; its commands move to connection 0 and it is
# reinstated at once. Then LIO's portal on path 1 is disabled and the
# connection reset again: reinstatement is refused (no listener) and retried
# with backoff until the portal is enabled again.
# timeout=500
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/io.sh"
. "$(dirname "$0")/lib/mcs.sh"
. "$(dirname "$0")/lib/failover.sh"

failover_setup 2

fio_loop_start "$RS_DEV"
sleep 3
conn_reset 1
log "connection 1 reset"
wait_recovered 1
wait_reinstated 1
carries_io 1

portal_disable 1
wait_for 10 bash -c "! ip netns exec $TGT_NS ss -ltn | grep -q '$(tgt_ip 1):3260'" ||
	fail "portal on path 1 still listening"
log "portal on path 1 disabled"
conn_reset 1
wait_recovered 1 2
sleep 4
st=$(conn_state 1)
[ "$st" != FULL_FEATURE ] || fail "connection 1 logged in with its portal disabled"
fails=$(msg_count "session $RS_SID: connection 1: reinstatement attempt [0-9]+ failed")
log "connection 1 is $st; $fails refused reinstatement attempt(s) so far"
portal_enable 1 || fail "cannot enable the portal on path 1"
wait_reinstated 1
carries_io 1
log "portal enabled again: connection 1 reinstated and carrying I/O"
fio_loop_stop

failover_end
exit "$KSFT_PASS"
