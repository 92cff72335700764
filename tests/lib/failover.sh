# shellcheck shell=bash
# Helpers for the failover tests (test_failover_*): the LIO session id (to
# prove a session survived without reinstatement), waiting for the kernel's
# recovery messages, and comparing the disk with LIO's backing file.
# Needs lib.sh, io.sh and mcs.sh sourced first.

# lio_sid: LIO's session id for our initiator.
lio_sid() { lio_info "$RS_IQN" | sed -n 's/.*LIO Session ID: \([0-9]*\) .*/\1/p'; }

# wait_msg SECONDS REGEX: waits for a kernel message matching REGEX.
wait_msg() {
	wait_for "$1" bash -c "dmesg | grep -Eq '$2'"
}

# msg_count REGEX: how many kernel messages match REGEX.
msg_count() { dmesg | grep -Ec "$1" || true; }

# wait_recovered CID [N]: connection CID's commands were moved (ERL 2) for
# the N-th time (default 1).
wait_recovered() {
	local i
	for ((i = 0; i < 300; i++)); do
		(($(recoveries "$1") >= ${2:-1})) && break
		sleep 0.2
	done
	(($(recoveries "$1") >= ${2:-1})) ||
		fail "connection $1 was not recovered (${2:-1}): $(dmesg | grep rsiscsi | tail -n 8)"
	log "$(dmesg | grep "session $RS_SID: connection $1 recovered" | tail -n 1)"
}

# recoveries CID: how many times connection CID was recovered so far.
recoveries() { msg_count "session $RS_SID: connection $1 recovered"; }

# carries_io CID: connection CID completes new commands (within 30 s).
carries_io() {
	local was now i
	was=$(conn_stat "$1" cmds)
	for ((i = 0; i < 150; i++)); do
		now=$(conn_stat "$1" cmds)
		((${now:-0} > ${was:-0})) && return 0
		sleep 0.2
	done
	fail "connection $1 carries no I/O: $(stat_line conn "$1")"
}

# wait_reinstated CID: connection CID logged in again after a recovery.
wait_reinstated() {
	wait_for 60 sh -c "rsiscsiadm stats --sid $RS_SID | grep -q '^conn .* cid=$1 state=FULL_FEATURE'" ||
		fail "connection $1 not reinstated: $(rsiscsiadm stats --sid "$RS_SID"; dmesg | grep rsiscsi | tail -n 5)"
}

# no_session_recovery: the session never fell back to session recovery.
no_session_recovery() {
	if dmesg | grep -Eq "session $RS_SID: (recovered after|connection recovery failed)"; then
		fail "session recovery ran: $(dmesg | grep -E 'recovered after|recovery failed' | tail -n 3)"
	fi
}

# same_as_backing_file: the whole disk, read through rsiscsi, equals LIO's
# fileio backing file read in the target's own view.
same_as_backing_file() {
	sync
	cmp <(dd if="$RS_DEV" bs=1M iflag=direct status=none) /tmp/lun0.img ||
		fail "the disk differs from LIO's backing file"
}

# failover_setup N [lio_setup options]: N paths to LIO (ERL 2, fileio LUN), one session with a
# connection on each, pings every second and a 2 s NOP timeout; then
# failover_begin.
failover_setup() {
	local n=$1
	shift
	mcs_setup "$n" --fileio --size 32 "$@"
	mcs_login "$n" --param NopInterval=1 --param NopTimeout=2 --param ReplacementTimeout=60
	failover_begin
}

# failover_begin: LIO's file covers the whole disk (it only grows where it
# is written; the disk reads zeros beyond), and the LIO session id and our
# error count are kept for failover_end.
failover_begin() {
	truncate -s "$(blockdev --getsize64 "$RS_DEV")" /tmp/lun0.img
	FO_SID=$(lio_sid)
	FO_ERRORS=$(sess_stat errors)
}

# failover_end: the session survived as one (same LIO session, no session
# recovery), no I/O error, the disk equals LIO's file; then logout and rmmod.
failover_end() {
	[ "$(lio_sid)" = "$FO_SID" ] || fail "LIO session $FO_SID became $(lio_sid): the session was reinstated"
	no_session_recovery
	[ "$(sess_stat errors)" = "$FO_ERRORS" ] || fail "I/O errors: $(stat_line session)"
	same_as_backing_file
	rs_logout
	wait_for 10 rs_no_disk || fail "disk still present after logout"
	rmmod rsiscsi || fail "rmmod failed"
}

# conn_state CID: the state connection CID is listed in.
conn_state() { conn_stat "$1" state; }
