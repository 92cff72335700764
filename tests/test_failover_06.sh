#!/bin/bash
# ERL 2, four connections over two paths (two per path): cutting path 1
# under fio verify fails both of its connections at once; their commands
# move to the two on path 0, and both are reinstated when the path returns.
# timeout=500
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/io.sh"
. "$(dirname "$0")/lib/mcs.sh"
. "$(dirname "$0")/lib/failover.sh"

failover_setup 2
conn_add 0 --nop-interval 1 --nop-timeout 2
c2=$NEW_CID
conn_add 1 --nop-interval 1 --nop-timeout 2
c3=$NEW_CID
[ "$(conn_cids | wc -l)" = 4 ] || fail "expected 4 connections: $(conn_cids | tr '\n' ' ')"
[ "$(lio_cids | wc -l)" = 4 ] || fail "LIO lists $(lio_cids | tr '\n' ' ')"
log "connections 0, $c2 on path 0; 1, $c3 on path 1"

fio_loop_start "$RS_DEV"
sleep 3
path_down 1
log "path 1 cut"
wait_recovered 1
wait_recovered "$c3"
carries_io 0
carries_io "$c2"
path_up 1
wait_reinstated 1
wait_reinstated "$c3"
carries_io 1
carries_io "$c3"
log "connections 1 and $c3 reinstated and carrying I/O"
fio_loop_stop

failover_end
exit "$KSFT_PASS"
