#!/bin/bash
# rsiscsi.ko loads, says so, and unloads cleanly (twice, to catch state left
# behind by the first unload).
# timeout=60
. "$(dirname "$0")/lib/lib.sh"

for round in 1 2; do
	insmod /lib/rsiscsi/rsiscsi.ko || fail "insmod failed (round $round)"
	grep -q '^rsiscsi ' /proc/modules || fail "rsiscsi not in /proc/modules"
	dmesg | grep -q 'rsiscsi: loaded' || fail "no load message"
	rmmod rsiscsi || fail "rmmod failed (round $round)"
	grep -q '^rsiscsi ' /proc/modules && fail "rsiscsi still loaded after rmmod"
	log "round $round: loaded and unloaded"
done
exit "$KSFT_PASS"
