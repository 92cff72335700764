#!/bin/bash
# A target that stops answering is detected by the NOP-Out ping: with
# NopInterval 1 s and NopTimeout 2 s, blackholing the path (100% loss)
# fails the connection within seconds with a logged reason; I/O is held for
# ReplacementTimeout and then fails cleanly (no hang); the session can be
# logged out and the module unloaded afterwards.
# timeout=200
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/io.sh"

# ERL 0: LIO closes the session at once when the connection dies (its ERL 2
# Time2Retain path is not what this test is about).
rs_setup --erl 0
rs_login --param NopInterval=1 --param NopTimeout=2 --param ReplacementTimeout=5
dd if="$RS_DEV" of=/dev/null bs=4k count=16 iflag=direct 2>/dev/null || fail "read before the cut failed"

netem_set 0 loss 100%
t0=$(date +%s)
wait_for 15 bash -c "dmesg | grep -q 'session $RS_SID connection 0 failed: NOP-Out timeout'" ||
	fail "no NOP timeout within 15 s: $(dmesg | grep rsiscsi | tail -n 5)"
log "NOP timeout detected after $(($(date +%s) - t0)) s"

# Held, then failed fast once ReplacementTimeout (5 s) has passed.
t1=$(date +%s)
if timeout 60 dd if="$RS_DEV" of=/dev/null bs=4k count=1 skip=100 iflag=direct 2>/dev/null; then
	fail "read succeeded with the path blackholed"
fi
el=$(($(date +%s) - t1))
((el < 60)) || fail "read hung for $el s"
log "read during the outage failed after $el s"

qdisc_clear 0
# Removing a session whose connection is gone is a clean logout for the
# admin (nothing to exchange with the target).
rs_logout
wait_for 10 rs_no_disk || fail "disk still present after logout"
rmmod rsiscsi || fail "rmmod failed"
exit "$KSFT_PASS"
