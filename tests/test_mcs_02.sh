#!/bin/bash
# Connections come and go under load: while fio verify runs back to back, a
# one-connection session grows to four (CONN_ADD on paths 1-3) and shrinks
# back to one (CONN_REMOVE, Logout reason 1). No I/O error, no failed
# verify; every added connection carried commands; LIO's session ends with
# CID 0 only, in the same session (no reinstatement).
# timeout=400
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/io.sh"
. "$(dirname "$0")/lib/mcs.sh"

mcs_setup 4
mcs_login 1
errors=$(sess_stat errors)
lio_sid=$(lio_info "$RS_IQN" | sed -n 's/.*LIO Session ID: \([0-9]*\) .*/\1/p')
fio_loop_start "$RS_DEV"
sleep 2
for p in 1 2 3; do
	conn_add "$p"
	[ "$NEW_CID" = "$p" ] || fail "path $p got CID $NEW_CID, want $p (lowest free)"
done
[ "$(lio_cids | sort | tr '\n' ' ')" = "0 1 2 3 " ] || fail "LIO CIDs: $(lio_cids | tr '\n' ' ')"
before=$(snap 1 2 3)
wait_for 60 sh -c "[ \$(rsiscsiadm stats --sid $RS_SID | grep -c 'cid=[123] .* cmds=[1-9]') = 3 ]" ||
	fail "added connections carry no I/O: $(rsiscsiadm stats --sid "$RS_SID")"
sleep 3
for c in 1 2 3; do
	d=$(delta "$before" "$c")
	log "connection $c carried $d commands"
	((d > 0)) || fail "connection $c carried nothing"
done
for c in 3 1 2; do
	conn_remove "$c"
	conn_cids | grep -qx "$c" && fail "connection $c still listed after removal"
done
[ "$(conn_cids | tr '\n' ' ')" = "0 " ] || fail "left: $(conn_cids | tr '\n' ' ')"
sleep 2
fio_loop_stop
wait_for 10 sh -c "[ \"\$(sed -n 's/.*CID: \([0-9]*\) .*/\1/p' $TPG/acls/$RS_IQN/info | tr '\n' ' ')\" = '0 ' ]" ||
	fail "LIO still lists: $(lio_cids | tr '\n' ' ')"
now_sid=$(lio_info "$RS_IQN" | sed -n 's/.*LIO Session ID: \([0-9]*\) .*/\1/p')
[ "$now_sid" = "$lio_sid" ] || fail "LIO session $lio_sid became $now_sid (reinstated)"
[ "$(sess_stat errors)" = "$errors" ] || fail "I/O errors: $(stat_line session)"
dmesg | grep -q "connection .* failed" && fail "a connection failed: $(dmesg | grep 'connection .* failed')"
rs_logout
