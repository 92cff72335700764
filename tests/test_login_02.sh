#!/bin/bash
# CHAP in the kernel login: one-way and mutual succeed against LIO; a wrong
# secret fails with a clear message and iscsiadm's exit 24 (login
# authentication failed), as does a target answering mutual CHAP wrongly.
# timeout=150
. "$(dirname "$0")/lib/lib.sh"

command -v rsiscsiadm >/dev/null || skip "no rsiscsiadm in the guest"
USER=rsuser
SECRET=rs-secret-0123
MUSER=tgtuser
MSECRET=tgt-secret-4567
net_setup 1
lio_setup --chap "$USER:$SECRET" --mutual "$MUSER:$MSECRET"
# lio_setup writes the credentials with echo, and LIO keeps the newline as
# part of the name and secret: store them exactly.
A=$TPG/acls/$RS_IQN/auth
printf %s "$USER" >"$A/userid"
printf %s "$SECRET" >"$A/password"
printf %s "$MUSER" >"$A/userid_mutual"
printf %s "$MSECRET" >"$A/password_mutual"
insmod /lib/rsiscsi/rsiscsi.ko || fail "insmod failed"

lio_logged_in() { lio_info "$RS_IQN" | grep -q 'TARG_SESS_STATE_LOGGED_IN'; }
login() { rsiscsiadm login --target "$TARGET_IQN" --portal "$(tgt_ip 0)" --initiator "$RS_IQN" "$@"; }
logout_all() {
	rsiscsiadm logout --all >/dev/null || fail "logout failed"
	wait_for 10 bash -c "! grep -q TARG_SESS_STATE_LOGGED_IN '$TPG/acls/$RS_IQN/info'" ||
		fail "LIO keeps the session after logout"
}

# Without credentials LIO (AuthMethod=CHAP) refuses us: a login failure.
out=$(login 2>&1)
rc=$?
log "no CHAP: rc $rc: $out"
[ "$rc" = 5 ] || [ "$rc" = 24 ] || fail "login without CHAP exited $rc, want 5 or 24"
lio_logged_in && fail "LIO has a session without CHAP"

out=$(login --chap "$USER:$SECRET" 2>&1) || fail "one-way CHAP login failed: $out"
wait_for 5 lio_logged_in || fail "LIO shows no session after one-way CHAP"
log "one-way CHAP: logged in"
logout_all

out=$(login --chap "$USER:$SECRET" --mutual "$MUSER:$MSECRET" 2>&1) || fail "mutual CHAP login failed: $out"
wait_for 5 lio_logged_in || fail "LIO shows no session after mutual CHAP"
log "mutual CHAP: logged in"
logout_all

out=$(login --chap "$USER:wrong-secret-000" 2>&1)
rc=$?
log "wrong secret: rc $rc: $out"
[ "$rc" = 24 ] || fail "wrong secret exited $rc, want 24"
grep -qx 'rsiscsiadm: login failed: authentication failed (0x0201)' <<<"$out" ||
	fail "wrong secret message: $out"

# The target proves itself with MSECRET; expecting another secret must fail
# on our side.
out=$(login --chap "$USER:$SECRET" --mutual "$MUSER:not-the-target-1" 2>&1)
rc=$?
log "wrong mutual secret: rc $rc: $out"
[ "$rc" = 24 ] || fail "wrong mutual secret exited $rc, want 24"
grep -q 'mutual CHAP' <<<"$out" || fail "wrong mutual secret message: $out"
lio_logged_in && fail "LIO has a session although mutual CHAP failed"

rsiscsiadm list >/dev/null 2>&1
[ $? = 21 ] || fail "failed logins left sessions behind"
rmmod rsiscsi || fail "rmmod failed"
exit "$KSFT_PASS"
