#!/bin/bash
# weighted-paths sends every command on the lowest weight; CONN_SET moves
# it at once; and a policy change (weighted-paths -> round-robin) takes
# effect under load, with fio verify running across the change.
# timeout=400
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/io.sh"
. "$(dirname "$0")/lib/mcs.sh"

mcs_setup 3
rs_login --source "$(init_ip 0)" --weight 5 --path "$(path_spec 1 weight=2)" \
	--path "$(path_spec 2 weight=9)" --policy weighted-paths
before=$(snap 0 1 2)
fio_verify "$RS_DEV" --size=8m || fail "fio verify failed"
d0=$(delta "$before" 0) d1=$(delta "$before" 1) d2=$(delta "$before" 2)
log "weighted-paths 5/2/9: $d0 $d1 $d2"
((d1 > 0 && d0 == 0 && d2 == 0)) || fail "not all on the lowest weight: $d0 $d1 $d2"

adm conn-set --sid "$RS_SID" --cid 2 --weight 1
before=$(snap 0 1 2)
fio_verify "$RS_DEV" --size=8m || fail "fio verify failed"
d0=$(delta "$before" 0) d1=$(delta "$before" 1) d2=$(delta "$before" 2)
log "weighted-paths 5/2/1: $d0 $d1 $d2"
((d2 > 0 && d0 == 0 && d1 == 0)) || fail "weight change not followed: $d0 $d1 $d2"

errors=$(sess_stat errors)
fio_loop_start "$RS_DEV"
sleep 3
adm policy --sid "$RS_SID" --policy round-robin
before=$(snap 0 1 2)
wait_for 60 sh -c "[ \$(rsiscsiadm stats --sid $RS_SID | grep -c 'cid=[01] .* cmds=[1-9]') = 2 ]" ||
	fail "round-robin did not reach connections 0 and 1"
sleep 3
d0=$(delta "$before" 0) d1=$(delta "$before" 1) d2=$(delta "$before" 2)
log "after the change to round-robin, under load: $d0 $d1 $d2"
((d0 > 0 && d1 > 0 && d2 > 0)) || fail "round-robin not in force: $d0 $d1 $d2"
fio_loop_stop
[ "$(sess_stat errors)" = "$errors" ] || fail "I/O errors across the change: $(stat_line session)"
rs_logout
