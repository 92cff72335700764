#!/bin/bash
# ERL 2 under fail-over-only with failback: connection 0 (weight 1) is the
# active one, connection 1 (weight 5) stands by. Cutting the active path
# moves its commands to the standby, which then carries all the I/O; when
# the path returns, connection 0 is reinstated and the I/O fails back to it.
# timeout=500
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/io.sh"
. "$(dirname "$0")/lib/mcs.sh"
. "$(dirname "$0")/lib/failover.sh"

# only_on CID OTHER: over 3 s, CID carries commands and OTHER none.
only_on() {
	local before d1 d2
	before=$(snap "$1" "$2")
	sleep 3
	d1=$(delta "$before" "$1") d2=$(delta "$before" "$2")
	log "$3: connection $1 carried $d1 command(s), connection $2 $d2"
	((d1 > 0 && d2 == 0)) || fail "$3: expected everything on connection $1 ($d1 / $d2)"
}

mcs_setup 2 --fileio --size 32
rs_login --source "$(init_ip 0)" --weight 1 --path "$(path_spec 1 weight=5)" \
	--policy fail-over-only --failback \
	--param NopInterval=1 --param NopTimeout=2 --param ReplacementTimeout=60
[ "$(sess_stat policy)" = fail-over-only ] || fail "policy: $(stat_line session)"
failover_begin

fio_loop_start "$RS_DEV"
sleep 2
only_on 0 1 "before the cut"
path_down 0
log "active path 0 cut"
wait_recovered 0
carries_io 1
path_up 0
wait_reinstated 0
# Commands already on connection 1 at the failback may still complete.
sleep 1
only_on 0 1 "after failback"
fio_loop_stop

failover_end
exit "$KSFT_PASS"
