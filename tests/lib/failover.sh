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

# wait_recovered CID: connection CID's commands were moved (ERL 2).
wait_recovered() {
	wait_msg 60 "session $RS_SID: connection $1 recovered" ||
		fail "connection $1 was not recovered: $(dmesg | grep rsiscsi | tail -n 8)"
	log "$(dmesg | grep "session $RS_SID: connection $1 recovered" | tail -n 1)"
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
