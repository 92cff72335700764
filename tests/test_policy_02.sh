#!/bin/bash
# fail-over-only puts every command on the active connection (the lowest
# weight); round-robin-with-subset never touches a standby connection while
# an active one is there, and uses the standby set once every active
# connection is removed.
# timeout=400
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/io.sh"
. "$(dirname "$0")/lib/mcs.sh"

mcs_setup 3
# Path 1 is preferred: fail-over-only picks the lowest weight.
rs_login --source "$(init_ip 0)" --weight 5 --path "$(path_spec 1 weight=1)" \
	--path "$(path_spec 2 weight=3)" --policy fail-over-only
[ "$(sess_stat policy)" = fail-over-only ] || fail "policy: $(stat_line session)"
before=$(snap 0 1 2)
fio_verify "$RS_DEV" --size=8m || fail "fio verify failed (fail-over-only)"
d0=$(delta "$before" 0) d1=$(delta "$before" 1) d2=$(delta "$before" 2)
log "fail-over-only: $d0 $d1 $d2"
((d1 > 0 && d0 == 0 && d2 == 0)) || fail "fail-over-only spread commands: $d0 $d1 $d2"

adm policy --sid "$RS_SID" --policy round-robin-with-subset
adm conn-set --sid "$RS_SID" --cid 2 --standby
adm conn-set --sid "$RS_SID" --cid 1 --standby
before=$(snap 0 1 2)
fio_verify "$RS_DEV" --size=8m || fail "fio verify failed (subset)"
d0=$(delta "$before" 0) d1=$(delta "$before" 1) d2=$(delta "$before" 2)
log "round-robin-with-subset, active {0}: $d0 $d1 $d2"
((d0 > 0 && d1 == 0 && d2 == 0)) || fail "standby connections used: $d0 $d1 $d2"

adm conn-set --sid "$RS_SID" --cid 1 --active
before=$(snap 0 1 2)
fio_verify "$RS_DEV" --size=8m || fail "fio verify failed (subset 0,1)"
d0=$(delta "$before" 0) d1=$(delta "$before" 1) d2=$(delta "$before" 2)
log "round-robin-with-subset, active {0,1}: $d0 $d1 $d2"
((d0 > 0 && d1 > 0 && d2 == 0)) || fail "active set {0,1} not used alone: $d0 $d1 $d2"

# Every active connection removed: the standby one carries the I/O.
conn_remove 0
conn_remove 1
before=$(snap 2)
fio_verify "$RS_DEV" --size=8m || fail "fio verify failed (standby only)"
d2=$(delta "$before" 2)
log "round-robin-with-subset, only standby left: $d2"
((d2 > 0)) || fail "standby connection unused with no active one"
rs_logout
