#!/bin/bash
# Writeback and swap to an rsiscsi disk under memory pressure, one path
# flapping. ext4 on a session of two connections (ERL 2), a swap file on it,
# and in a memory cgroup limited to 64 MiB: buffered fio verify over 96 MiB
# of files (their dirty pages must be written back to rsiscsi to make room)
# beside a process that touches 80 MiB of anonymous memory again and again
# (it must swap to rsiscsi). Meanwhile path 1 goes down and comes back every
# few seconds. Nothing may deadlock (the test ends; the hung-task detector
# fails it otherwise), no I/O error, no OOM kill, every byte verifies, also
# after the page cache is dropped, and swap was used.
# H02_SECONDS sets how long the pressure lasts (default 60; make soak: 600).
# timeout=900
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/io.sh"
. "$(dirname "$0")/lib/mcs.sh"
. "$(dirname "$0")/lib/failover.sh"

seconds=${H02_SECONDS:-60}
MNT=/mnt/h02
CG=/sys/fs/cgroup/h02
RUN=/tmp/h02.run

cleanup() {
	rm -f "$RUN"
	wait
	swapoff "$MNT/swapfile" 2>/dev/null
	[ -d "$CG" ] && rmdir "$CG" 2>/dev/null
	umount "$MNT" 2>/dev/null
}
trap cleanup EXIT

mcs_setup 2 --size 256
mcs_login 2 --param NopInterval=1 --param NopTimeout=2 --param ReplacementTimeout=60
errors=$(sess_stat errors)

mkfs.ext4 -q -F "$RS_DEV" || fail "mkfs.ext4 on $RS_DEV failed"
mkdir -p "$MNT"
mount "$RS_DEV" "$MNT" || fail "mount failed"
dd if=/dev/zero of="$MNT/swapfile" bs=1M count=64 conv=fsync status=none || fail "cannot write the swap file"
chmod 0600 "$MNT/swapfile"
mkswap "$MNT/swapfile" >/dev/null || fail "mkswap failed"
swapon "$MNT/swapfile" || fail "swapon on the rsiscsi disk failed"

grep -q " /sys/fs/cgroup cgroup2 " /proc/mounts || mount -t cgroup2 none /sys/fs/cgroup || fail "no cgroup2"
echo +memory >/sys/fs/cgroup/cgroup.subtree_control || fail "no memory controller"
mkdir -p "$CG"
echo 64M >"$CG/memory.max"
# The swap file must take what does not fit; global swappiness applies to
# the cgroup too (cgroup v2 has no per-cgroup knob).
echo 100 >/proc/sys/vm/swappiness

touch "$RUN"
(
	while [ -e "$RUN" ]; do
		path_down 1
		sleep 4
		path_up 1
		sleep 4
	done
) &
# The hog: dd's 80 MiB buffer is faulted in anew each run; what it touched
# before must go to swap.
(
	echo "$BASHPID" >"$CG/cgroup.procs"
	n=0
	while [ -e "$RUN" ]; do
		dd if=/dev/zero of=/dev/null bs=80M count=2 status=none || {
			echo "run $n: dd exited $?" >/tmp/h02.hog
			exit 1
		}
		n=$((n + 1))
	done
	echo "ok $n" >/tmp/h02.hog
) &
hog=$!

FIO=(fio --name=wb --directory="$MNT" --size=96m --nrfiles=4 --rw=randwrite --bs=64k
	--ioengine=psync --verify=crc32c --verify_fatal=1 --randseed=7 --output-format=terse
	--terse-version=3)
runs=0 start=$SECONDS
echo "$BASHPID" >"$CG/cgroup.procs"
while ((SECONDS - start < seconds)); do
	"${FIO[@]}" --do_verify=1 >/tmp/h02.fio 2>&1 || {
		sed 's/^/# fio: /' /tmp/h02.fio | tail -n 20
		fail "fio verify run $runs failed under memory pressure"
	}
	runs=$((runs + 1))
done
echo "$BASHPID" >/sys/fs/cgroup/cgroup.procs
rm -f "$RUN"
wait "$hog"
path_up 1
log "hog: $(cat /tmp/h02.hog)"
case $(cat /tmp/h02.hog) in ok*) ;; *) fail "the memory hog failed: $(cat /tmp/h02.hog)" ;; esac
log "$runs fio verify run(s) in $((SECONDS - start)) s"

ev=$(sed -n 's/^oom_kill \([0-9]*\)/\1/p' "$CG/memory.events")
peak=$(cat "$CG/memory.swap.peak" 2>/dev/null || echo 0)
log "cgroup: $(tr '\n' ' ' <"$CG/memory.events"); swap peak $peak bytes; recoveries $(msg_count "session $RS_SID: connection 1 recovered")"
((${ev:-0} == 0)) || fail "$ev OOM kill(s) in the cgroup"
((peak > 0)) || fail "nothing was swapped: the test did not exercise swap to rsiscsi"

# What is on the disk, not in the page cache, verifies too.
sync
echo 3 >/proc/sys/vm/drop_caches
"${FIO[@]}" --verify_only >/tmp/h02.fio 2>&1 || {
	sed 's/^/# fio: /' /tmp/h02.fio | tail -n 20
	fail "the files do not verify after dropping the page cache"
}
dmesg | grep -Eq "I/O error|EXT4-fs error|Write-error on swap|Read-error on swap" &&
	fail "I/O errors: $(dmesg | grep -E 'I/O error|EXT4-fs error|on swap' | head -n 5)"
[ "$(sess_stat errors)" = "$errors" ] || fail "I/O errors: $(stat_line session)"

swapoff "$MNT/swapfile" || fail "swapoff failed"
rmdir "$CG"
umount "$MNT" || fail "umount failed"
rs_logout
wait_for 10 rs_no_disk || fail "disk still present after logout"
rmmod rsiscsi || fail "rmmod failed"
exit "$KSFT_PASS"
