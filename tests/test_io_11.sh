#!/bin/bash
# Writes through a socket whose send buffer is held at 4 KiB: the transmit
# work finds it full and parks the PDU in progress hundreds of times a run
# (about 600 in a measured run, at offsets in headers, data and digests),
# going on when the socket reports write space. Data must arrive intact,
# with and without digests (a data digest needs the copied, not spliced,
# send) and for immediate, unsolicited and R2T-solicited data alike.
# timeout=400
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/io.sh"

wmem=$(cat /proc/sys/net/ipv4/tcp_wmem)
restore_wmem() { echo "$wmem" >/proc/sys/net/ipv4/tcp_wmem; }
trap restore_wmem EXIT

rs_setup --digest
echo No >"$TPG/param/InitialR2T"
# New sockets start at and never grow past 4 KiB of send buffer.
echo "4096 4096 4096" >/proc/sys/net/ipv4/tcp_wmem

for v in "--digest --param ImmediateData=Yes --param InitialR2T=No" \
	"--param ImmediateData=No --param InitialR2T=Yes"; do
	# shellcheck disable=SC2086 # $v is a list of options
	rs_login $v
	for r in 4k:16:2m 64k:8:4m 1m:4:8m; do
		IFS=: read -r bs qd size <<<"$r"
		fio_verify "$RS_DEV" --bs="$bs" --iodepth="$qd" --size="$size" ||
			fail "verify with a 4 KiB send buffer failed: $v bs=$bs iodepth=$qd"
	done
	log "4 KiB send buffer, $v: 4 KiB - 1 MiB writes verified"
	rs_logout
	wait_for 10 rs_no_disk || fail "disk still present after logout"
done
dmesg | grep -qi "digest error" && fail "digest errors logged: $(dmesg | grep -i digest | tail -n 3)"
rmmod rsiscsi || fail "rmmod failed"
exit "$KSFT_PASS"
