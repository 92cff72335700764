#!/bin/bash
# least-queue-depth, least-blocks and service-time move load away from a slow
# path: with path 1 delayed 200 ms each way (netem), then rate-limited with
# tbf, the slow connection gets less than a third of the commands of a
# verified fio run, while round-robin splits evenly.
# timeout=600
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/io.sh"
. "$(dirname "$0")/lib/mcs.sh"

mcs_setup 2
mcs_login 2
run() {
	local what=$1 before d0 d1
	before=$(snap 0 1)
	fio_verify "$RS_DEV" --size=4m || fail "fio verify failed ($what)"
	d0=$(delta "$before" 0) d1=$(delta "$before" 1)
	log "$what: fast path $d0, slow path $d1"
	D0=$d0 D1=$d1
}
netem_set 1 delay 200ms
run "round-robin, path 1 +200 ms"
((D1 * 3 >= D0 + D1)) || fail "round-robin should not avoid the slow path"
for p in least-queue-depth least-blocks service-time; do
	adm policy --sid "$RS_SID" --policy "$p"
	run "$p, path 1 +200 ms"
	((D1 > 0 || D0 > 0)) || fail "$p: no commands"
	((D1 * 3 < D0 + D1)) || fail "$p: the slow path got $D1 of $((D0 + D1)) commands (>= 1/3)"
done
qdisc_clear 1
tbf_set 1 512kbit
for p in least-queue-depth service-time; do
	adm policy --sid "$RS_SID" --policy "$p"
	run "$p, path 1 at 512 kbit/s"
	((D1 * 3 < D0 + D1)) || fail "$p: the slow path got $D1 of $((D0 + D1)) commands (>= 1/3)"
done
qdisc_clear 1
rs_logout
