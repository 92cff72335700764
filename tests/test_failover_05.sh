#!/bin/bash
# ERL 2 on a lossy path: 5% packet loss (both directions) on path 1 while
# fio verify runs over both connections for a while. TCP retransmits hide
# most of it; if a loss burst outlasts the NOP-Out timeout the connection
# is recovered and reinstated. Either way: no I/O error, no verify error,
# both connections carry I/O, the disk equals LIO's file.
# timeout=500
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/io.sh"
. "$(dirname "$0")/lib/mcs.sh"
. "$(dirname "$0")/lib/failover.sh"

failover_setup 2

netem_set 1 loss 5%
log "path 1: netem loss 5%"
before=$(snap 0 1)
fio_loop_start "$RS_DEV"
sleep 40
fio_loop_stop
d0=$(delta "$before" 0) d1=$(delta "$before" 1)
log "commands: connection 0 $d0, connection 1 (lossy) $d1; recoveries of connection 1: $(recoveries 1)"
((d0 > 0 && d1 > 0)) || fail "a connection carried nothing: $d0 / $d1"
qdisc_clear 1
wait_reinstated 1
fio_verify "$RS_DEV" --size=8m || fail "fio verify failed after the loss"

failover_end
exit "$KSFT_PASS"
