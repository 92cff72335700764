#!/bin/bash
# Header and data digests (CRC32C) on the data path: negotiated with LIO,
# then reads and writes of every size verify, and LIO counts no digest
# errors.
# timeout=400
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/io.sh"

rs_setup --digest
rs_login --digest
detail=$(rsiscsiadm list -P 1) || fail "list -P 1 failed"
grep -q "HeaderDigest: CRC32C" <<<"$detail" || fail "no header digest: $detail"
grep -q "DataDigest: CRC32C" <<<"$detail" || fail "no data digest: $detail"

for r in 512:4:128k 4k:16:2m 64k:8:4m 1m:4:8m; do
	IFS=: read -r bs qd size <<<"$r"
	fio_verify "$RS_DEV" --bs="$bs" --iodepth="$qd" --size="$size" ||
		fail "verify with digests failed: bs=$bs iodepth=$qd"
done
log "digests on: 512 B - 1 MiB writes verified"
dmesg | grep -qi "digest" && fail "digest errors logged: $(dmesg | grep -i digest | tail -n 3)"

rs_logout
rmmod rsiscsi || fail "rmmod failed"
exit "$KSFT_PASS"
