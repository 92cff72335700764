#!/bin/bash
# A target that breaks the protocol after a good login: for each way
# rsiscsi-faketarget can misbehave in reply to the first SCSI command, rsiscsi
# drops that connection with the reason rx.rs gives for it in the kernel log
# (and closes it: the fake target sees the close), no disk appears, the
# session can be logged out, and a LIO session on the other path carries I/O
# throughout; then the module unloads. The runner fails the test on any
# kernel splat.
# timeout=300
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/io.sh"
. "$(dirname "$0")/lib/faketarget.sh"

command -v rsiscsiadm >/dev/null || skip "no rsiscsiadm in the guest"
command -v rsiscsi-faketarget >/dev/null || skip "no rsiscsi-faketarget in the guest"

# Path 0 leads to LIO, path 1 to the fake target (on its own port, beside
# LIO's portal there).
net_setup 2
lio_setup
insmod /lib/rsiscsi/rsiscsi.ko || fail "insmod failed"
rs_login
lio_dev=$RS_DEV

FAKE_PORTAL=$(tgt_ip 1):3261

# check_mode MODE REASON [rsiscsiadm login options...]: REASON is what
# rust/module/rx.rs logs when it drops a connection for this fault.
check_mode() {
	local mode=$1 reason=$2 out sid rc
	shift 2
	fake_start "$FAKE_PORTAL" "$mode"

	# ReplacementTimeout 0: no session recovery, whose login retries
	# against a target that is gone are not what this test is about.
	out=$(rsiscsiadm login --target "$FAKE_IQN" --portal "$FAKE_PORTAL" \
		--initiator "$RS_IQN" --param ReplacementTimeout=0 "$@" 2>&1) ||
		fail "$mode: login to the fake target failed: $out; $(cat "$FT_LOG")"
	sid=$(sed -n 's/.*(sid \([0-9]\+\)).*/\1/p' <<<"$out")
	[ -n "$sid" ] || fail "$mode: no session id in the login output: $out"

	wait_for 30 bash -c "dmesg | grep -qF 'session $sid connection 0 failed: $reason'" ||
		fail "$mode: session $sid did not drop its connection with '$reason'; dmesg: $(dmesg | grep -F "session $sid" | tail -n 5); fake target: $(cat "$FT_LOG")"
	log "$mode: $(dmesg | grep -F "session $sid connection 0 failed" | head -n1 | sed 's/^\[[^]]*\] //')"

	# The fake target ends with 0 only after it sent the fault and then saw
	# the initiator close the connection.
	rc=0
	fake_wait || rc=$?
	grep -qF "sent $mode in reply" "$FT_LOG" || fail "$mode: the fake target did not send its fault: $(cat "$FT_LOG")"
	((rc == 0)) || fail "$mode: the fake target ended with $rc: $(cat "$FT_LOG")"

	# The connection is gone, so no Logout can be exchanged; removing the
	# session is still a success for the admin.
	out=$(rsiscsiadm logout --sid "$sid" 2>&1) || fail "$mode: logout of the failed session: $out"
	if rsiscsiadm list 2>/dev/null | grep -qF "$FAKE_IQN"; then
		fail "$mode: session $sid still listed after logout: $(rsiscsiadm list 2>&1)"
	fi
	[ "$(rs_disks | wc -l)" -eq 1 ] || fail "$mode: rsiscsi disks are now: $(rs_disks | tr '\n' ' ')"
	dd if="$lio_dev" of=/dev/null bs=64k count=16 iflag=direct 2>/dev/null ||
		fail "$mode: the LIO session's disk failed a read"
}

# Not a mode: a SCSI Response for an ITT never issued. rx.rs takes it for
# the late response of an aborted task and ignores it; tried as a mode, the
# assertion in check_mode trips (the connection fails later, on the
# NOP-Out timeout, since the fake target answers nothing after its fault).
check_mode bad-opcode "malformed PDU from the target"
check_mode oversize "data segment longer than our MaxRecvDataSegmentLength"
check_mode unknown-itt "NOP-In with an unknown ITT"
check_mode bad-offset "Data-In out of order or out of range"
check_mode statsn-jump "StatSN out of sequence"
check_mode header-digest "header digest error" --digest
check_mode truncated "the target closed the connection"

rs_logout
wait_for 10 rs_no_disk || fail "LIO disk still present after logout"
rmmod rsiscsi || fail "rmmod failed"
exit "$KSFT_PASS"
