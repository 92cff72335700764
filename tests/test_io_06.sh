#!/bin/bash
# Session recovery: the target portal group restarts (LIO drops every
# session) while fio writes with crc32c verify; rsiscsi logs in again,
# retries the outstanding commands and fio finishes without an I/O error.
# timeout=400
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/io.sh"

rs_setup --erl 0
rs_login --param NopInterval=1 --param NopTimeout=2 --param ReplacementTimeout=30
fio_verify "$RS_DEV" --bs=16k --iodepth=8 --size=16m --time_based --runtime=25 &
fio_pid=$!
sleep 5
tpg_restart 3
log "TPG restarted (3 s down)"
wait_for 30 bash -c "dmesg | grep -q 'session $RS_SID: recovered'" ||
	fail "no recovery: $(dmesg | grep rsiscsi | tail -n 8)"
dmesg | grep "rsiscsi: session $RS_SID" | tail -n 4 | while read -r l; do log "$l"; done
wait "$fio_pid" || fail "fio saw an error across the recovery"
log "fio verified across the TPG restart"
fio_verify "$RS_DEV" --bs=4k --iodepth=4 --size=1m || fail "I/O after recovery failed"

rs_logout
wait_for 10 rs_no_disk || fail "disk still present after logout"
rmmod rsiscsi || fail "rmmod failed"
exit "$KSFT_PASS"
