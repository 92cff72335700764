#!/bin/bash
# LIO pings the initiator (NOP-In with a valid TTT, RFC 7143 §11.19) every
# nopin_timeout seconds and drops the connection when no NOP-Out reply comes
# within nopin_response_timeout. With both at LIO's minimum (3 s) and our own
# pings off, the connection must stay the same TCP connection while idle,
# under fio verify, and idle again: LIO re-arms its ping timer only when a
# reply arrives, so pings seen after the I/O prove every ping before was
# answered. While idle, each 48-byte NOP-In must be matched by a 48-byte
# NOP-Out (LIO's pings carry no data, so neither do the replies).
# timeout=300
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/io.sh"

BHS=48
ACL_ATTR=$TPG/acls/$RS_IQN/attrib
ERRS=$CFS/iscsi/$TARGET_IQN/fabric_statistics/iscsi_sess_err/cxn_errors

rs_setup
echo 3 >"$ACL_ATTR/nopin_timeout" || fail "cannot set LIO's nopin_timeout"
echo 3 >"$ACL_ATTR/nopin_response_timeout" || fail "cannot set LIO's nopin_response_timeout"
errs0=$(cat "$ERRS")
# NopInterval=0: we never ping, so every NOP-In is LIO's and every NOP-Out
# one of our replies.
rs_login --param NopInterval=0

# sock FIELD: the initiator socket's local address (FIELD=local) or a byte
# counter of ss -ti (bytes_received, bytes_sent).
sock() {
	local out
	out=$(ss -tinH dst "$(tgt_ip 0)" dport = 3260)
	[ -n "$out" ] || return 1
	if [ "$1" = local ]; then
		awk 'NR == 1 {print $4}' <<<"$out"
	else
		grep -o "$1:[0-9]*" <<<"$out" | cut -d: -f2
	fi
}

# still_up WHEN: the same TCP connection, no ping timeout on either side.
still_up() {
	[ "$(sock local)" = "$local0" ] ||
		fail "$1: the connection changed ($local0 -> $(sock local)); dmesg: $(dmesg | tail -n 20)"
	! dmesg | grep -q "Did not receive response to NOPIN" ||
		fail "$1: LIO timed out waiting for a NOP-Out reply: $(dmesg | grep -A2 'NOPIN')"
	! dmesg | grep -q "session $RS_SID connection .* failed" ||
		fail "$1: $(dmesg | grep "session $RS_SID connection")"
	[ "$(cat "$ERRS")" = "$errs0" ] || fail "$1: LIO counted connection timeouts ($errs0 -> $(cat "$ERRS"))"
	grep -q TARG_SESS_STATE_LOGGED_IN "$TPG/acls/$RS_IQN/info" ||
		fail "$1: LIO has no logged-in session: $(lio_info "$RS_IQN")"
}

# at_least FIELD N: the socket's counter FIELD has reached N.
at_least() { [ "$(sock "$1")" -ge "$2" ]; }

# settled: the disk's I/O counters stay the same for a second (the scan's
# commands are over), so only pings and replies cross the idle connection.
settled() {
	local a
	a=$(cat "/sys/block/${RS_DEV#/dev/}/stat")
	sleep 1
	[ "$a" = "$(cat "/sys/block/${RS_DEV#/dev/}/stat")" ]
}

# idle_pings N WHEN: waits until N more NOP-Ins arrived on the idle
# connection, then until as many bytes of replies left.
idle_pings() {
	local n=$1 r0 s0 r s
	wait_for 30 settled || fail "$2: the disk does not go idle"
	r0=$(sock bytes_received) || fail "$2: no connection to the portal"
	s0=$(sock bytes_sent) || fail "$2: no connection to the portal"
	wait_for $((n * 3 + 30)) at_least bytes_received $((r0 + n * BHS)) ||
		fail "$2: fewer than $n pings from LIO (received $(($(sock bytes_received) - r0)) bytes)"
	r=$(sock bytes_received)
	wait_for 10 at_least bytes_sent $((s0 + r - r0)) ||
		fail "$2: $(((r - r0) / BHS)) NOP-Ins but $((($(sock bytes_sent) - s0) / BHS)) NOP-Outs"
	s=$(sock bytes_sent)
	(((r - r0) % BHS == 0)) || fail "$2: $((r - r0)) bytes received is not whole NOP-Ins"
	log "$2: $(((r - r0) / BHS)) pings from LIO, $(((s - s0) / BHS)) replies"
	still_up "$2"
}

local0=$(sock local) || fail "no connection to the portal"
log "connection $local0, LIO nopin_timeout=3 nopin_response_timeout=3"
idle_pings 5 idle

t0=$SECONDS
runs=0
while ((SECONDS - t0 < 15)); do
	fio_verify "$RS_DEV" --size=8m || fail "fio verify failed while LIO pings"
	runs=$((runs + 1))
done
log "fio verify: $runs runs in $((SECONDS - t0)) s"
still_up "under I/O"

idle_pings 3 "idle after I/O"
rs_logout
exit "$KSFT_PASS"
