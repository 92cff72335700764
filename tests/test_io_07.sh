#!/bin/bash
# All paths down for longer than ReplacementTimeout: I/O is held, then fails
# cleanly (no hang); when the path comes back the session recovers and the
# same disk works again.
# timeout=300
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/io.sh"

rs_setup --erl 0
rs_login --param NopInterval=1 --param NopTimeout=2 --param ReplacementTimeout=5
dev=$RS_DEV
dd if="$dev" of=/dev/null bs=4k count=8 iflag=direct 2>/dev/null || fail "read before the cut failed"

path_down 0
t0=$(date +%s)
if timeout 60 dd if="$dev" of=/dev/null bs=4k count=1 skip=50 iflag=direct 2>/dev/null; then
	fail "read succeeded with the path down"
fi
el=$(($(date +%s) - t0))
((el < 60)) || fail "read hung for $el s"
((el >= 5)) || fail "read failed after $el s, before ReplacementTimeout (5 s)"
log "read with the path down failed after $el s"

path_up 0
wait_for 60 bash -c "dmesg | grep -q 'session $RS_SID: recovered'" ||
	fail "no recovery after the path came back: $(dmesg | grep rsiscsi | tail -n 8)"
[ -b "$dev" ] || fail "$dev is gone"
fio_verify "$dev" --bs=4k --iodepth=8 --size=2m || fail "I/O after the path came back failed"
log "same disk works again after recovery"

rs_logout
wait_for 10 rs_no_disk || fail "disk still present after logout"
rmmod rsiscsi || fail "rmmod failed"
exit "$KSFT_PASS"
