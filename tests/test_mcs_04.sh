#!/bin/bash
# Per-connection counters and events agree with what fio did: over a
# verified fio run on three connections, the connections' command and byte
# counts add up to the session's, and the session's bytes cover fio's
# (plus PDU headers, within 10%); conn-up, conn-down and conn-changed
# events arrive for each change.
# timeout=400
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/io.sh"
. "$(dirname "$0")/lib/mcs.sh"

mcs_setup 3
watch_start
mcs_login 3
s0_cmds=$(sess_stat cmds) s0_tx=$(sess_stat tx_bytes) s0_rx=$(sess_stat rx_bytes)
fio_verify "$RS_DEV" --bs=16k --iodepth=8 --size=16m || fail "fio verify failed"
# terse v3: field 6 read kB, field 47 write kB.
read_kb=$(awk -F';' '{ print $6 }' /tmp/fio.out | tail -n1)
write_kb=$(awk -F';' '{ print $47 }' /tmp/fio.out | tail -n1)
log "fio: read $read_kb KiB, wrote $write_kb KiB"
[ "$(sess_stat outstanding)" = 0 ] || fail "commands outstanding when idle: $(stat_line session)"
# One listing for both sides: a target NOP-In between two listings would
# count in the second only.
all=$(rsiscsiadm stats --sid "$RS_SID") || fail "rsiscsiadm stats failed"
for k in cmds tx_bytes rx_bytes; do
	s=$(field "$(grep '^session ' <<<"$all")" "$k")
	t=0
	while IFS= read -r line; do
		t=$((t + $(field "$line" "$k")))
	done < <(grep '^conn ' <<<"$all")
	log "$k: session $s, sum over connections $t"
	[ "$s" = "$t" ] || fail "$k: connections add up to $t, session says $s"
done
tx=$(($(sess_stat tx_bytes) - s0_tx))
rx=$(($(sess_stat rx_bytes) - s0_rx))
w=$((write_kb * 1024)) r=$((read_kb * 1024))
log "session sent $tx bytes for fio's $w, received $rx for fio's $r"
((tx >= w && tx * 10 <= w * 11)) || fail "bytes sent $tx do not match fio's writes $w"
((rx >= r && rx * 10 <= r * 11)) || fail "bytes received $rx do not match fio's reads $r"
cmds=$(($(sess_stat cmds) - s0_cmds))
ios=$(((w + r) / 16384))
log "commands $cmds for fio's $ios I/Os"
# The block layer may merge adjacent I/Os (the verify pass reads in order).
((cmds * 2 >= ios && cmds <= ios + ios / 10)) || fail "commands $cmds for $ios I/Os"
for c in $(conn_cids); do
	((($(conn_stat "$c" latency_us)) > 0)) || fail "connection $c has no latency figure"
done

adm conn-set --sid "$RS_SID" --cid 1 --weight 7
conn_remove 2
conn_add 2
sleep 1
watch_stop
log "events: $(tr '\n' '|' </tmp/watch.out)"
for e in "conn-up sid=$RS_SID cid=0" "conn-up sid=$RS_SID cid=1" "conn-up sid=$RS_SID cid=2" \
	"session-up sid=$RS_SID" "conn-changed sid=$RS_SID cid=1" "conn-down sid=$RS_SID cid=2"; do
	grep -q "^$e " /tmp/watch.out || fail "no '$e' event"
done
grep -q "^conn-changed sid=$RS_SID cid=1 .*weight=7" /tmp/watch.out || fail "conn-changed without weight=7"
grep -q "^conn-down sid=$RS_SID cid=2 .*reason=removed" /tmp/watch.out || fail "conn-down without reason=removed"
[ "$(grep -c "^conn-up sid=$RS_SID cid=2 " /tmp/watch.out)" = 2 ] || fail "want two conn-up for CID 2"
rs_logout
