#!/bin/bash
# ERL 2 connection recovery, silent cuts: two connections on two paths; fio
# verify writes while path 1 goes silent (link down, no RST), and later a
# full read of the disk while path 0 (the leading connection) goes silent.
# Each time the NOP-Out timeout finds the dead connection, its commands move
# to the survivor (Logout reason 2, resend or TASK REASSIGN), no I/O error
# reaches the block layer, LIO keeps the same session (no reinstatement);
# the path comes back and the connection is reinstated with its CID and
# carries I/O again. The disk equals LIO's backing file at the end.
# timeout=500
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/io.sh"
. "$(dirname "$0")/lib/mcs.sh"
. "$(dirname "$0")/lib/failover.sh"

failover_setup 2
lio_info "$RS_IQN" | grep -q "ErrorRecoveryLevel: 2" || log "LIO: $(lio_info "$RS_IQN" | head -n 3)"

# Mid-write: path 1 silent under fio verify.
fio_loop_start "$RS_DEV"
sleep 4
path_down 1
log "path 1 cut"
wait_recovered 1
sleep 2
path_up 1
wait_reinstated 1
before=$(snap 1)
sleep 4
d=$(delta "$before" 1)
log "connection 1 carried $d commands after its reinstatement"
((d > 0)) || fail "connection 1 carries nothing after its reinstatement"
fio_loop_stop

# Mid-read: path 0 (the leading connection) silent while the whole disk is
# read over and over, each pass compared with LIO's backing file.
sync
touch /tmp/read.run
(
	n=0
	while [ -e /tmp/read.run ]; do
		cmp <(dd if="$RS_DEV" bs=256k iflag=direct status=none) /tmp/lun0.img || {
			echo "pass $n differs or failed" >/tmp/read.rc
			exit 1
		}
		n=$((n + 1))
	done
	echo "ok $n" >/tmp/read.rc
) &
rd_pid=$!
sleep 3
path_down 0
log "path 0 cut"
wait_recovered 0
sleep 3
rm -f /tmp/read.run
wait "$rd_pid"
case $(cat /tmp/read.rc) in
ok*) log "reads across the cut: $(cat /tmp/read.rc), all equal to LIO's file" ;;
*) fail "reads across the cut: $(cat /tmp/read.rc)" ;;
esac
path_up 0
wait_reinstated 0

failover_end
exit "$KSFT_PASS"
