#!/bin/bash
# rmmod with a session open and a mounted-then-unmounted disk in use: the
# module removes the SCSI host, logs the session out (LIO drops it) and
# unloads cleanly.
# timeout=200
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/io.sh"

rs_setup
rs_login
dd if=/dev/urandom of="$RS_DEV" bs=64k count=16 oflag=direct 2>/dev/null || fail "write failed"
name=${RS_DEV#/dev/}
rmmod rsiscsi || fail "rmmod with a session open failed"
[ ! -e "/sys/block/$name" ] || fail "$name still present after rmmod"
wait_for 10 bash -c "! grep -q TARG_SESS_STATE_LOGGED_IN '$TPG/acls/$RS_IQN/info'" ||
	fail "LIO still has the session after rmmod: $(lio_info "$RS_IQN")"
log "rmmod logged the session out and removed $name"
exit "$KSFT_PASS"
