#!/bin/bash
# LIO at ERL 2 keeps a dead connection's commands for reassignment until
# Time2Retain expires, then frees them and closes the session. This drives
# exactly that: commands in flight at ERL 2, the target's socket reset (so LIO
# fails the connection at once) while the path is down (so nobody comes
# back), Time2Retain (2 s) expires. The runner fails the test on any splat;
# the test then checks that LIO dropped the session and that rsiscsi logs in
# again once the path returns.
# timeout=200
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/io.sh"

rs_setup --erl 2
echo 2 >"$TPG/param/DefaultTime2Retain"
rs_login --param NopInterval=1 --param NopTimeout=2 --param ReplacementTimeout=60
lio_info "$RS_IQN" | grep -q "ErrorRecoveryLevel: 2" ||
	log "LIO session info: $(lio_info "$RS_IQN")"

# Writes that stay in flight: a slow path keeps LIO's command list full.
netem_set 0 delay 20ms
fio --name=inflight --filename="$RS_DEV" --direct=1 --ioengine=libaio --rw=randwrite \
	--bs=64k --iodepth=16 --size=32m --time_based --runtime=60 >/dev/null 2>&1 &
fio_pid=$!
sleep 4

path_down 0
# The target side of the connection: LIO's receive thread sees the reset.
tns ss -K src "$(tgt_ip 0)" sport = 3260 >/dev/null
wait_for 20 bash -c "dmesg | grep -q 'Time2Retain timer expired'" ||
	fail "LIO's Time2Retain did not expire: $(dmesg | grep -i iscsi | tail -n 8)"
log "$(dmesg | grep -E 'Time2Retain|reallegiance|recovery' | head -n 4)"
sleep 2
! lio_info "$RS_IQN" | grep -qi 'SID' ||
	fail "LIO still has the session: $(lio_info "$RS_IQN")"

qdisc_clear 0
path_up 0
wait_for 60 bash -c "dmesg | grep -q 'session $RS_SID: recovered'" ||
	fail "no recovery after the path came back: $(dmesg | grep rsiscsi | tail -n 8)"
kill "$fio_pid" 2>/dev/null
wait "$fio_pid" 2>/dev/null
fio_verify "$RS_DEV" --bs=4k --iodepth=8 --size=2m || fail "I/O after recovery failed"

rs_logout
wait_for 10 rs_no_disk || fail "disk still present after logout"
rmmod rsiscsi || fail "rmmod failed"
exit "$KSFT_PASS"
