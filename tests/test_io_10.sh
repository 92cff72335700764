#!/bin/bash
# The SCSI error handler's task management against LIO:
#   - LUN RESET by sg_reset -d, on an idle disk, under fio verify, and with
#     a write pending at the target (which the reset ends: it must be
#     retried, not left hanging);
#   - target reset by sg_reset -t: LIO refuses TARGET WARM RESET, so the
#     module reinstates the session, which ends the nexus's tasks as well;
#   - ABORT TASK: a read whose response netem holds back longer than the
#     device timeout times out, the error handler aborts it, and once the
#     delay is gone the retried read returns the data written before.
# Each TMF must be logged with its function and LIO's response, the disk
# must stay online and read back what was written.
# timeout=300
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/io.sh"

command -v sg_reset >/dev/null || skip "no sg_reset in the guest (sg3-utils)"
rs_setup
# Our pings off: the delayed replies below must not look like a dead
# connection, so that only the SCSI error handler acts. ImmediateData=No:
# every write waits at the target for the Data-Out its R2T asks for.
# No liveness checks: netem holds the target's answers for seconds below,
# which stall detection would rightly take for a stuck path.
rs_login --param NopInterval=0 --param StallTimeout=0 --param ImmediateData=No
name=${RS_DEV#/dev/}
TMF_LOG="session $RS_SID:"

dd if=/dev/urandom of=/tmp/pattern bs=1M count=4 2>/dev/null
dd if=/tmp/pattern of="$RS_DEV" bs=1M oflag=direct 2>/dev/null || fail "writing the pattern failed"

# readback WHEN: the first 4 MiB read back equal the pattern.
readback() {
	dd if="$RS_DEV" of=/tmp/back bs=1M count=4 iflag=direct 2>/dev/null || fail "$1: read failed"
	cmp -s /tmp/pattern /tmp/back || fail "$1: data read back differs from what was written"
}

# tmf_logged PATTERN WHEN: dmesg has the TMF line PATTERN.
tmf_logged() {
	dmesg | grep -q "$TMF_LOG $1" ||
		fail "$2: no '$1' in the kernel log: $(dmesg | grep "$TMF_LOG" | tail -n 5)"
	log "$2: $(dmesg | grep "$TMF_LOG $1" | tail -n 1 | sed 's/^\[[^]]*\] //')"
}

online() {
	[ "$(cat "/sys/block/$name/device/state")" = running ] ||
		fail "$1: $name is $(cat "/sys/block/$name/device/state")"
}

idle_disk() { [ "$(awk '{print $1 + $2}' "/sys/block/$name/inflight")" = 0 ]; }

# --- LUN RESET, idle ---
sg_reset -N -d "$RS_DEV" || fail "sg_reset -d (LUN RESET) failed"
tmf_logged "LOGICAL UNIT RESET (LUN 0): Function complete" "LUN reset"
readback "after LUN reset"

# --- LUN RESET under fio verify ---
fio_verify "$RS_DEV" --size=32m --offset=8m --iodepth=32 &
fio_pid=$!
wait_for 20 sh -c "[ \$(awk '{print \$1 + \$2}' /sys/block/$name/inflight) -gt 0 ]" ||
	fail "fio does not keep commands in flight"
resets=$(dmesg | grep -c "$TMF_LOG LOGICAL UNIT RESET")
sg_reset -N -d "$RS_DEV" || fail "sg_reset -d under I/O failed"
[ "$(dmesg | grep -c "$TMF_LOG LOGICAL UNIT RESET (LUN 0): Function complete")" -gt "$resets" ] ||
	fail "LUN reset under I/O not logged as complete"
# The commands the reset ended must come back to fio, not wait for the
# block layer's timeout (30 s): with the fix they are retried at once.
wait "$fio_pid" || fail "fio verify across a LUN reset failed"
wait_for 10 idle_disk || fail "commands still in flight after the LUN reset: $(cat "/sys/block/$name/inflight")"
# A command the reset ended but nobody completed would have timed out and
# been aborted by the error handler.
! dmesg | grep -q "$TMF_LOG ABORT TASK" ||
	fail "commands ended by the LUN reset were left to time out: $(dmesg | grep "$TMF_LOG ABORT TASK" | head -n 3)"
online "LUN reset under I/O"
log "fio verify passed across a LUN reset"

# --- LUN RESET ending a write the target holds ---
# netem holds back the target's R2T, so the write is still pending at LIO
# when the reset ends it; LIO sends nothing more for it, and only we can
# give it back (DID_RESET, retried). Left to itself it would hang until the
# device timeout (120 s here) and an ABORT TASK.
echo 120 >"/sys/block/$name/device/timeout"
tc -n "$TGT_NS" qdisc replace dev t0 root netem delay 2s
dd if=/tmp/pattern of="$RS_DEV" bs=64k count=1 oflag=direct 2>/tmp/dd.err &
dd_pid=$!
wait_for 10 sh -c "[ \$(awk '{print \$2}' /sys/block/$name/inflight) -gt 0 ]" ||
	fail "the write is not in flight"
sg_reset -N -d "$RS_DEV" || fail "sg_reset -d with a write pending failed"
tc -n "$TGT_NS" qdisc change dev t0 root netem delay 0ms
wait_for 60 idle_disk ||
	fail "the write the LUN reset ended was not given back: $(cat "/sys/block/$name/inflight") in flight"
wait "$dd_pid" || fail "the write ended by the LUN reset failed: $(cat /tmp/dd.err)"
! dmesg | grep -q "$TMF_LOG ABORT TASK" || fail "the write ended by the LUN reset was left to time out"
qdisc_clear 0
echo 30 >"/sys/block/$name/device/timeout"
[ "$(dmesg | grep -c "$TMF_LOG LOGICAL UNIT RESET (LUN 0): Function complete")" -ge 3 ] ||
	fail "the third LUN reset is not logged as complete"
readback "after a LUN reset with a write pending"
log "a write pending at the target when the LUN reset came was retried"

# --- target reset ---
sg_reset -N -t "$RS_DEV" || fail "sg_reset -t (target reset) failed: $(dmesg | grep "$TMF_LOG" | tail -n 5)"
# LIO answers (rejected, whatever its log says about authorization).
tmf_logged "TARGET WARM RESET (LUN 0): Function \(complete\|rejected\|authorization failed\)" "target reset"
tmf_logged "target reset: session reinstated" "target reset"
rsiscsiadm list | grep -qF "tcp: [$RS_SID] " || fail "session $RS_SID is gone: $(rsiscsiadm list 2>&1)"
grep -q TARG_SESS_STATE_LOGGED_IN "$TPG/acls/$RS_IQN/info" ||
	fail "LIO has no logged-in session after the reinstatement: $(lio_info "$RS_IQN")"
readback "after target reset"
online "target reset"

# --- ABORT TASK by a timed-out read ---
echo 2 >"/sys/block/$name/device/timeout"
# Hold back what the target sends (responses and ACKs), not what it gets.
tc -n "$TGT_NS" qdisc replace dev t0 root netem delay 4s
dd if="$RS_DEV" of=/tmp/back1 bs=4k count=1 skip=100 iflag=direct 2>/tmp/dd.err &
dd_pid=$!
wait_for 60 sh -c "dmesg | grep -q '$TMF_LOG ABORT TASK (LUN 0, ITT'" ||
	fail "no ABORT TASK for the timed-out read: $(dmesg | tail -n 20)"
# Queued packets keep their delay; new ones go at once.
tc -n "$TGT_NS" qdisc change dev t0 root netem delay 0ms
wait_for 90 sh -c "! kill -0 $dd_pid 2>/dev/null" || fail "the aborted read never finished"
wait "$dd_pid" || fail "the read failed after ABORT TASK: $(cat /tmp/dd.err)"
tmf_logged "ABORT TASK (LUN 0, ITT 0x[0-9a-f]*): \(Function complete\|Task does not exist\)" "abort"
qdisc_clear 0
echo 30 >"/sys/block/$name/device/timeout"
dd if=/tmp/pattern of=/tmp/want1 bs=4k count=1 skip=100 2>/dev/null
cmp -s /tmp/want1 /tmp/back1 || fail "the read retried after ABORT TASK returned wrong data"
online "abort"

fio_verify "$RS_DEV" --size=16m --offset=8m || fail "fio verify after the resets failed"
readback "at the end"
rs_logout
exit "$KSFT_PASS"
