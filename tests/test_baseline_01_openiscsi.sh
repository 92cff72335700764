#!/bin/bash
# Proves the harness against a real initiator: open-iscsi logs in to LIO over
# each path in turn and fio's crc32c verify passes on the disk.
# timeout=300
. "$(dirname "$0")/lib/lib.sh"

net_setup 2
lio_setup
oi_start
for p in 0 1; do
	oi_login "$p"
	disk=$(wait_disks 1 | head -n1)
	[ -n "$disk" ] || fail "no LIO disk after login on path $p"
	size=$(blockdev --getsize64 "/dev/$disk")
	[ "$size" = $((64 << 20)) ] || fail "disk size $size, expected 64 MiB"
	fio_verify "/dev/$disk" || fail "fio verify failed on path $p"
	log "path $p: /dev/$disk verified"
	iscsiadm -m node -T "$TARGET_IQN" -p "$(tgt_ip "$p"):3260" -u >/dev/null || fail "logout on path $p"
	no_disks() { [ -z "$(lio_disks)" ]; }
	wait_for 10 no_disks || fail "disk still present after logout"
done
exit "$KSFT_PASS"
