#!/bin/bash
# Header and data digests: asked for, they are negotiated CRC32C (LIO offers
# CRC32C,None) and shown by rsiscsiadm, and the logout, sent with a header
# digest that LIO checks, succeeds; not asked for, they stay None. (LIO's
# configfs shows only session-wide keys, so the digests' oracle on the target
# side is that it accepts the digested Logout.)
# timeout=120
. "$(dirname "$0")/lib/lib.sh"

command -v rsiscsiadm >/dev/null || skip "no rsiscsiadm in the guest"
net_setup 1
lio_setup --digest
insmod /lib/rsiscsi/rsiscsi.ko || fail "insmod failed"

lio_logged_in() { lio_info "$RS_IQN" | grep -q 'TARG_SESS_STATE_LOGGED_IN'; }
lio_gone() { ! lio_logged_in; }
login() { rsiscsiadm login --target "$TARGET_IQN" --portal "$(tgt_ip 0)" --initiator "$RS_IQN" "$@"; }

out=$(login --digest 2>&1) || fail "login with digests failed: $out"
wait_for 5 lio_logged_in || fail "LIO shows no session"
d=$(rsiscsiadm list -P 1)
grep -q 'HeaderDigest: CRC32C' <<<"$d" || fail "HeaderDigest not CRC32C: $d"
grep -q 'DataDigest: CRC32C' <<<"$d" || fail "DataDigest not CRC32C: $d"
out=$(rsiscsiadm logout --all 2>&1) || fail "logout with digests failed: $out"
grep -q successful <<<"$out" || fail "logout: $out"
wait_for 10 lio_gone || fail "LIO keeps the session"

out=$(login 2>&1) || fail "login without digests failed: $out"
d=$(rsiscsiadm list -P 1)
grep -q 'HeaderDigest: None' <<<"$d" || fail "HeaderDigest not None without --digest: $d"
grep -q 'DataDigest: None' <<<"$d" || fail "DataDigest not None without --digest: $d"
rsiscsiadm logout --all >/dev/null || fail "logout failed"
wait_for 10 lio_gone || fail "LIO keeps the session"
rmmod rsiscsi || fail "rmmod failed"
exit "$KSFT_PASS"
