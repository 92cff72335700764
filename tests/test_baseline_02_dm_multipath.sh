#!/bin/bash
# The MPIO baseline rsiscsi is measured against: dm-multipath (round-robin,
# queue_if_no_path) over two open-iscsi sessions, one per path, survives the
# cut of one path with fio verify running: no I/O error, data verified.
# timeout=400
. "$(dirname "$0")/lib/lib.sh"

net_setup 2
lio_setup
oi_start
# Failover-friendly timeouts, as an admin would set them for multipath.
tune=(node.session.timeo.replacement_timeout=2 node.conn[0].timeo.noop_out_interval=1
	node.conn[0].timeo.noop_out_timeout=1)
oi_login 0 "${tune[@]}"
oi_login 1 "${tune[@]}"
mapfile -t disks < <(wait_disks 2)
((${#disks[@]} == 2)) || fail "expected 2 disks, got: ${disks[*]}"
sectors=$(blockdev --getsz "/dev/${disks[0]}")
devs=()
for d in "${disks[@]}"; do devs+=("$(cat "/sys/block/$d/dev")"); done
table="0 $sectors multipath 1 queue_if_no_path 0 1 1 round-robin 0 2 1 ${devs[0]} 1 ${devs[1]} 1"
dmsetup create mpatha --table "$table" || fail "dmsetup create failed"
mp=/dev/dm-0
[ -b $mp ] || mp=/dev/mapper/mpatha
[ -b $mp ] || fail "no multipath device node"

fio_verify $mp --size=32m --runtime=60 --time_based=0 &
fiopid=$!
sleep 4
log "cutting path 0"
path_down 0
wait "$fiopid" || fail "fio verify failed across the path cut"
status=$(dmsetup status mpatha)
log "dm status after cut: $status"
grep -q ' F ' <<<"$status" || fail "dm-multipath did not mark the cut path failed"
path_up 0
dmsetup remove mpatha || fail "dmsetup remove"
exit "$KSFT_PASS"
