#!/bin/bash
# ERL 2, ten flaps: under fio verify, the paths are cut and restored in turn
# (path 1, then path 0 which carries the leading connection, and so on). Each
# time the dead connection's commands move to the survivor, the connection
# is reinstated with its CID when its path returns and carries I/O again.
# One LIO session throughout, no I/O error, the disk equals LIO's file.
# LIO's DefaultTime2Wait is 0, so each recovery logs the dead connection out
# and resends its commands at once, while LIO may still think it alive.
# timeout=900
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/io.sh"
. "$(dirname "$0")/lib/mcs.sh"
. "$(dirname "$0")/lib/failover.sh"

failover_setup 2 --time2wait 0

fio_loop_start "$RS_DEV"
sleep 3
for flap in 1 2 3 4 5 6 7 8 9 10; do
	p=$((flap % 2))
	n=$(recoveries "$p")
	path_down "$p"
	wait_recovered "$p" $((n + 1))
	path_up "$p"
	wait_reinstated "$p"
	carries_io "$p"
	log "flap $flap: connection $p recovered, reinstated and carrying I/O"
	[ -e /tmp/fio_loop.rc ] && fio_loop_stop
done
fio_loop_stop

failover_end
exit "$KSFT_PASS"
