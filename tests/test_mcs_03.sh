#!/bin/bash
# The barrier holds across connections (seed 001's concern): CmdSN is
# session-wide, and LIO executes in CmdSN order whatever connection a
# command came on. Path 1's commands are delayed 1 s on their way to the
# target (netem on the initiator side only), so writes issued there reach
# LIO after a SYNCHRONIZE CACHE, or a FUA write, issued later on path 0.
# When the barrier completes, every write issued before it must already be
# in LIO's backing file: read the file itself, not the disk. A target that
# ran the barrier on arrival would answer it with those writes still on
# the wire, and the file would miss them.
# timeout=400
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/io.sh"
. "$(dirname "$0")/lib/mcs.sh"

command -v sg_sync >/dev/null || skip "no sg_sync in the guest"
mcs_setup 2 --fileio
# LIO takes FUA writes only from a device with a write cache.
echo 1 >"$CFS/core/fileio_0/lun0/attrib/emulate_write_cache" || fail "cannot enable LIO's write cache"
# Path 1's 1 s delay also delays its pings' answers: stall detection off.
rs_login --source "$(init_ip 0)" --weight 1 --path "$(path_spec 1 weight=2)" --param StallTimeout=0
img=/tmp/lun0.img
[ -f "$img" ] || fail "no backing file $img"
tc qdisc replace dev i1 root netem delay 1000ms || fail "netem"

N=6 # writes per round, 64 KiB each, half of them on the slow path
meaningful=0
for round in 1 2 3 4; do
	adm policy --sid "$RS_SID" --policy round-robin
	c0=$(sess_stat cmds)
	for ((j = 0; j < N; j++)); do
		off=$((round * 64 + j))
		dd if=/dev/urandom of="/tmp/pat.$j" bs=64k count=1 status=none
		dd if="/tmp/pat.$j" of="$RS_DEV" bs=64k seek="$off" count=1 oflag=direct \
			conv=notrunc status=none &
	done
	# Every write has its CmdSN once it is counted as issued.
	wait_for 20 sh -c "[ \$(rsiscsiadm stats --sid $RS_SID | sed -n 's/^session .* cmds=\([0-9]*\) .*/\1/p') -ge $((c0 + N)) ]" ||
		fail "round $round: the writes were not issued"
	slow=$(conn_stat 1 outstanding)
	# The barrier goes on path 0 (weight 1), behind the slow path's writes.
	adm policy --sid "$RS_SID" --policy weighted-paths
	if ((round % 2)); then
		what="SYNCHRONIZE CACHE"
		sg_sync "$RS_DEV" || fail "round $round: sg_sync failed"
	else
		what="FUA write"
		out=$(sg_dd if=/dev/zero of="$RS_DEV" bs=512 count=8 seek=$((1000 * 128)) \
			oflag=sgio,fua 2>&1) || fail "round $round: FUA write failed: $out"
	fi
	# Now, before waiting for anything else: LIO's file must hold every
	# write issued before the barrier.
	missing=0
	for ((j = 0; j < N; j++)); do
		off=$((round * 64 + j))
		dd if="$img" bs=64k skip="$off" count=1 status=none | cmp -s - "/tmp/pat.$j" ||
			missing=$((missing + 1))
	done
	still=$(conn_stat 1 outstanding)
	wait
	log "round $round ($what): $slow write(s) in flight on the slow path at the barrier, $still after it; missing from LIO's file: $missing"
	((missing == 0)) || fail "round $round: $missing write(s) issued before the $what missing from the backing file after it completed"
	((slow > 0)) && meaningful=$((meaningful + 1))
	# Through our own read path too.
	for ((j = 0; j < N; j++)); do
		off=$((round * 64 + j))
		dd if="$RS_DEV" bs=64k skip="$off" count=1 iflag=direct status=none | cmp -s - "/tmp/pat.$j" ||
			fail "round $round: write $j reads back wrong"
	done
done
((meaningful > 0)) || fail "no round had a write in flight on the slow path at the barrier"
tc qdisc del dev i1 root
[ "$(conn_stat 1 cmds)" -gt 0 ] || fail "path 1 carried nothing"
rs_logout
