#!/bin/bash
# A filesystem on an rsiscsi disk: mkfs.ext4, mount, write files, sync,
# unmount, mount again and read the files back with the same checksums.
# timeout=300
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/io.sh"

rs_setup
rs_login
dev=$RS_DEV
mnt=/mnt/rs
mkdir -p "$mnt"

mkfs.ext4 -q -F "$dev" || fail "mkfs.ext4 failed"
mount "$dev" "$mnt" || fail "mount failed"
for i in 1 2 3 4; do
	dd if=/dev/urandom of="$mnt/f$i" bs=64k count=$((i * 16)) 2>/dev/null || fail "write f$i failed"
done
mkdir -p "$mnt/dir"
for i in $(seq 1 50); do echo "small file $i" >"$mnt/dir/s$i"; done
(cd "$mnt" && sha256sum f1 f2 f3 f4 dir/*) >/tmp/sums || fail "checksum failed"
sync || fail "sync failed"
umount "$mnt" || fail "umount failed"

# Nothing cached: the second mount reads everything from the target.
echo 3 >/proc/sys/vm/drop_caches
e2fsck -fn "$dev" >/tmp/fsck.out 2>&1 || fail "e2fsck: $(tail -n 5 /tmp/fsck.out)"
mount "$dev" "$mnt" || fail "second mount failed"
(cd "$mnt" && sha256sum -c --quiet /tmp/sums) || fail "checksums differ after remount"
umount "$mnt" || fail "second umount failed"
log "ext4: 640 KiB + 1.6 MiB + 2.4 MiB + 3.2 MiB and 50 small files read back intact"

rs_logout
rmmod rsiscsi || fail "rmmod failed"
exit "$KSFT_PASS"
