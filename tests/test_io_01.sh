#!/bin/bash
# rsiscsi serves LIO's LUN as a disk: after a login over path 0 an sd device
# appears with LIO's vendor and the LUN's 64 MiB; sg_inq and lsblk agree;
# 4k random writes verify with crc32c; logout removes the disk; rmmod is
# clean.
# timeout=300
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/io.sh"

rs_setup
rs_login
dev=$RS_DEV
name=${dev#/dev/}
log "disk: $dev"

vendor=$(sg_inq "$dev" | sed -n 's/^ *Vendor identification: *//p' | tr -d ' ')
[ "$vendor" = LIO-ORG ] || fail "sg_inq vendor '$vendor', want LIO-ORG"
[ "$(tr -d ' ' <"/sys/block/$name/device/vendor")" = LIO-ORG ] ||
	fail "sysfs vendor: $(cat "/sys/block/$name/device/vendor")"
size=$(blockdev --getsize64 "$dev")
[ "$size" = $((64 * 1024 * 1024)) ] || fail "size $size, want 64 MiB"
lsz=$(lsblk -bndo SIZE "$dev")
[ "$lsz" = "$size" ] || fail "lsblk says $lsz bytes, blockdev $size"
lvendor=$(lsblk -ndo VENDOR "$dev" | tr -d ' ')
[ "$lvendor" = LIO-ORG ] || fail "lsblk vendor '$lvendor'"
log "vendor $vendor, $size bytes"

fio_verify "$dev" --bs=4k --iodepth=16 --size=16m || fail "fio verify failed"
log "fio 4k randwrite QD16 verified"

rs_logout
wait_for 10 bash -c "[ ! -e /sys/block/$name ]" || fail "$name still present after logout"
rmmod rsiscsi || fail "rmmod failed"
exit "$KSFT_PASS"
