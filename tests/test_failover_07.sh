#!/bin/bash
# ERL 2, the target tells: path 1 goes silent, and with our NOP pings far
# too slow to notice, LIO's own socket of connection 1 is aborted in the
# target namespace (stall detection is off too). LIO then sends Async Message event 2 (dropping
# connection 1) on connection 0; that alone must start the recovery:
# connection 1's commands move to connection 0, and it is reinstated when
# the path returns.
# timeout=500
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/io.sh"
. "$(dirname "$0")/lib/mcs.sh"
. "$(dirname "$0")/lib/failover.sh"

mcs_setup 2 --fileio --size 32
mcs_login 2 --param NopInterval=60 --param NopTimeout=60 --param StallTimeout=0 --param ReplacementTimeout=60
failover_begin

fio_loop_start "$RS_DEV"
sleep 3
path_down 1
tns ss -K src "$(tgt_ip 1)" sport = 3260 >/dev/null || fail "ss -K in the target namespace failed"
log "path 1 silent, LIO's socket of connection 1 aborted"
wait_msg 30 "session $RS_SID connection 1 failed: the target dropped the connection" ||
	fail "no Async event 2 handled: $(dmesg | grep rsiscsi | tail -n 8)"
log "$(dmesg | grep "connection 1 failed" | tail -n 1)"
wait_recovered 1
carries_io 0
path_up 1
wait_reinstated 1
carries_io 1
fio_loop_stop

failover_end
exit "$KSFT_PASS"
