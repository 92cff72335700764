#!/bin/bash
# rsiscsi-faketarget in the target namespace, for tests that need a target
# LIO cannot be: fake_start LISTEN MODE, fake_wait, and FT_LOG, its output.
# It is killed when the test exits.

FAKE_IQN=iqn.2026-11.org.rsiscsi:faketarget
FT_LOG=/tmp/faketarget.log
FT_PID=

fake_stop() {
	[ -n "$FT_PID" ] || return 0
	kill "$FT_PID" 2>/dev/null
	wait "$FT_PID" 2>/dev/null
	FT_PID=
}
trap fake_stop EXIT

# fake_listening PORT: something listens on PORT in the target namespace.
fake_listening() { tns ss -ltn | grep -qE ":$1[[:space:]]"; }

# fake_start IP:PORT MODE: starts the fake target and waits until it listens.
fake_start() {
	local listen=$1 mode=$2
	tns rsiscsi-faketarget --listen "$listen" --mode "$mode" --target "$FAKE_IQN" >"$FT_LOG" 2>&1 &
	FT_PID=$!
	wait_for 10 fake_listening "${listen##*:}" ||
		fail "$mode: the fake target does not listen: $(cat "$FT_LOG")"
}

# fake_wait: waits for the fake target to end; returns its exit status.
fake_wait() {
	local rc=0
	wait "$FT_PID" || rc=$?
	FT_PID=
	return "$rc"
}
