#!/bin/bash
# A target at ERL 0 (default_erl=0) with MC/S: connection recovery is not
# allowed, so losing one of two paths is a session recovery with every
# outstanding command retried, and still no I/O error. Then every path goes
# down: shorter than ReplacementTimeout, the held I/O resumes without an
# error; longer, I/O fails promptly after it (no hang), and the disk works
# again once the paths return.
# timeout=600
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/io.sh"
. "$(dirname "$0")/lib/mcs.sh"
. "$(dirname "$0")/lib/failover.sh"

mcs_setup 2 --fileio --size 32 --erl 0
mcs_login 2 --param NopInterval=1 --param NopTimeout=2 --param ReplacementTimeout=12
grep -q "ErrorRecoveryLevel: 0" <(lio_info "$RS_IQN") || log "LIO: $(lio_info "$RS_IQN" | head -n 3)"
truncate -s "$(blockdev --getsize64 "$RS_DEV")" /tmp/lun0.img
# Session recovery hands outstanding commands back to the midlayer, which
# retries them (our error counter counts those); an I/O error is what the
# block layer gives up on.
io_errors() { msg_count "I/O error, dev ${RS_DEV#/dev/}"; }
recovered() { msg_count "session $RS_SID: recovered after"; }

# One path of two lost: session recovery.
fio_loop_start "$RS_DEV"
sleep 3
n=$(recovered)
path_down 1
log "path 1 cut"
wait_for 60 bash -c "(( \$(dmesg | grep -c 'session $RS_SID: recovered after') > $n ))" ||
	fail "no session recovery: $(dmesg | grep rsiscsi | tail -n 8)"
log "$(dmesg | grep "session $RS_SID: recovered after" | tail -n 1)"
sleep 3
path_up 1
wait_reinstated 1
carries_io 1

# Every path down for less than ReplacementTimeout: held, then resumed.
n=$(recovered)
path_down 0
path_down 1
log "all paths down for 5 s"
sleep 5
path_up 0
path_up 1
wait_for 60 bash -c "(( \$(dmesg | grep -c 'session $RS_SID: recovered after') > $n ))" ||
	fail "no session recovery after the short outage: $(dmesg | grep rsiscsi | tail -n 8)"
wait_reinstated 1
fio_loop_stop
(($(io_errors) == 0)) || fail "I/O errors: $(dmesg | grep 'I/O error' | tail -n 3)"
same_as_backing_file

# Every path down for longer: a read fails after ReplacementTimeout, and
# does not hang.
path_down 0
path_down 1
log "all paths down beyond ReplacementTimeout"
sleep 4
timeout 90 dd if="$RS_DEV" of=/dev/null bs=4k count=1 skip=77 iflag=direct status=none
rc=$?
((rc != 0)) || fail "a read succeeded with every path down"
((rc != 124)) || fail "a read hung with every path down"
wait_msg 30 "session $RS_SID: recovery gave up" || fail "no give-up message"
log "$(dmesg | grep "session $RS_SID: recovery gave up" | tail -n 1)"
path_up 0
path_up 1
wait_for 60 dd if="$RS_DEV" of=/dev/null bs=4k count=1 skip=78 iflag=direct status=none ||
	fail "the disk did not come back: $(dmesg | grep rsiscsi | tail -n 8)"
wait_reinstated 1
fio_verify "$RS_DEV" --size=8m || fail "fio verify failed after the paths returned"
same_as_backing_file
rs_logout
wait_for 10 rs_no_disk || fail "disk still present after logout"
rmmod rsiscsi || fail "rmmod failed"
exit "$KSFT_PASS"
