#!/bin/bash
# fio crc32c verify across block sizes (512 B - 1 MiB) and queue depths
# (1 - 64), for each combination of ImmediateData and InitialR2T: writes go
# as immediate data, unsolicited Data-Out and R2T-solicited Data-Out.
# timeout=900
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/io.sh"

rs_setup
# LIO must allow unsolicited data for InitialR2T=No to be negotiated
# (the result is the OR of both sides).
echo No >"$TPG/param/InitialR2T"

# bs:iodepth:size
runs_full="512:1:256k 4k:64:2m 64k:8:4m 256k:16:8m 1m:2:8m 1m:64:16m"
runs_short="512:4:128k 4k:16:1m 64k:64:4m 1m:4:8m"

tf() { [ "$1" = Yes ] && echo true || echo false; }

variant() {
	local imm=$1 r2t=$2 runs=$3 r bs qd size
	rs_login --param ImmediateData="$imm" --param InitialR2T="$r2t"
	# The data path logs the values it runs with; they must be the variant's.
	local want
	want="ImmediateData=$(tf "$imm") InitialR2T=$(tf "$r2t") "
	dmesg | grep "session $RS_SID: ImmediateData=" | grep -q "$want" ||
		fail "data path does not run with $want: $(dmesg | grep "session $RS_SID: Imm")"
	for r in $runs; do
		IFS=: read -r bs qd size <<<"$r"
		fio_verify "$RS_DEV" --bs="$bs" --iodepth="$qd" --size="$size" ||
			fail "verify failed: ImmediateData=$imm InitialR2T=$r2t bs=$bs iodepth=$qd"
	done
	log "ImmediateData=$imm InitialR2T=$r2t: $runs verified"
	rs_logout
	wait_for 10 rs_no_disk || fail "disk still present after logout"
}

variant Yes Yes "$runs_full"
variant No Yes "$runs_short"
variant Yes No "$runs_short"
variant No No "$runs_short"
rmmod rsiscsi || fail "rmmod failed"
exit "$KSFT_PASS"
