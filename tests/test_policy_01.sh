#!/bin/bash
# round-robin (the default policy) spreads commands evenly: with four
# connections on four paths, each carries within 10% of the mean of a
# verified fio run.
# timeout=300
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/io.sh"
. "$(dirname "$0")/lib/mcs.sh"

mcs_setup 4
mcs_login 4
[ "$(sess_stat policy)" = round-robin ] || fail "policy $(sess_stat policy), want round-robin"
before=$(snap 0 1 2 3)
fio_verify "$RS_DEV" --bs=4k --iodepth=16 --size=16m || fail "fio verify failed"
total=0
declare -A d
for c in 0 1 2 3; do
	d[$c]=$(delta "$before" "$c")
	total=$((total + d[$c]))
done
mean=$((total / 4))
log "commands per connection: ${d[0]} ${d[1]} ${d[2]} ${d[3]} (mean $mean)"
((mean > 100)) || fail "too few commands to judge ($total)"
for c in 0 1 2 3; do
	dev=$((d[$c] - mean))
	((dev < 0)) && dev=$((-dev))
	((dev * 10 <= mean)) || fail "connection $c carried ${d[$c]}, more than 10% off the mean $mean"
done
rs_logout
