#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# rsiscsi-diag (the protocol core in userspace) against Debian's tgt on
# loopback: discovery, I/O on one connection, MC/S, digests, one-way and
# mutual CHAP, and the failures that must be clean (wrong secret, bad
# arguments, nothing listening). One "ok"/"not ok" line per case; exits
# non-zero if any case failed. Runs as root (it installs tgt if missing).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$top"
export PATH="$HOME/.cargo/bin:$PATH"

diag=$top/target/release/rsiscsi-diag
iqn=iqn.2024-01.org.rsiscsi
init_iqn=$iqn:diag-host
tmp=$(mktemp -d /tmp/rsiscsi-tgt.XXXXXX)
tgtd_pid=
# tgtd's management socket is named after its control port: pick one of our
# own so a system tgtd (control port 0) or another run cannot clash (tgtd
# keeps it in a short: at most 32767).
ctl=$((20000 + $$ % 12000))
port=

cleanup() {
	if [ -n "$tgtd_pid" ] && kill -0 "$tgtd_pid" 2>/dev/null; then
		tgtadm -C "$ctl" --mode system --op delete --force >/dev/null 2>&1 || true
		kill "$tgtd_pid" 2>/dev/null || true
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$tgtd_pid" 2>/dev/null || break
			sleep 0.5
		done
		# tgtd ignores SIGTERM while it has targets.
		kill -9 "$tgtd_pid" 2>/dev/null || true
		wait "$tgtd_pid" 2>/dev/null || true
		rm -f "/var/run/tgtd/socket.$ctl" "/var/run/tgtd/socket.$ctl.lock"
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
# A signal ends the run through the EXIT trap too.
trap 'exit 130' INT TERM

say() { printf '# %s\n' "$*"; }

n=0
failed=0
# verdict NAME OK(0|1) [DETAIL]: one TAP-style line.
verdict() {
	n=$((n + 1))
	if [ "$2" = 0 ]; then
		echo "ok $n - $1${3:+ # $3}"
	else
		failed=$((failed + 1))
		echo "not ok $n - $1${3:+ # $3}"
	fi
}

# run NAME ARGS...: runs the tool with a time limit; output in $tmp/NAME.out,
# exit status in $rc.
rc=0
run() {
	local name=$1
	shift
	rc=0
	timeout 120 "$diag" "$@" >"$tmp/$name.out" 2>&1 || rc=$?
}

# show NAME: the tool's output, indented, for a failed case.
show() { sed 's/^/#   /' "$tmp/$1.out"; }

# has NAME TEXT: the output of case NAME contains TEXT.
has() { grep -qF -- "$2" "$tmp/$1.out"; }

tadm() { tgtadm -C "$ctl" --lld iscsi "$@"; }

install_tgt() {
	command -v tgtd >/dev/null && command -v tgtadm >/dev/null && return 0
	say "installing tgt"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y tgt >"$tmp/apt.log" 2>&1 ||
		{ apt-get update >>"$tmp/apt.log" 2>&1 && apt-get install -y tgt >>"$tmp/apt.log" 2>&1; } ||
		{ tail -n 20 "$tmp/apt.log"; return 1; }
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_tgtd() {
	local p
	for p in $(seq 3261 3299); do
		if port_free "$p"; then
			port=$p
			break
		fi
	done
	[ -n "$port" ] || { say "no free port in 3261-3299"; return 1; }
	tgtd -f -C "$ctl" --iscsi "portal=127.0.0.1:$port" >"$tmp/tgtd.log" 2>&1 &
	tgtd_pid=$!
	for _ in $(seq 50); do
		tgtadm -C "$ctl" --mode system --op show >/dev/null 2>&1 && return 0
		kill -0 "$tgtd_pid" 2>/dev/null || break
		sleep 0.2
	done
	sed 's/^/#   /' "$tmp/tgtd.log"
	return 1
}

# target TID NAME: a target with a 64 MiB file-backed LUN 1, open to all
# initiators, allowing MC/S, unsolicited data and CRC32C digests.
target() {
	truncate -s 64M "$tmp/lun$1.img"
	tadm --mode target --op new --tid "$1" --targetname "$iqn:$2"
	tadm --mode logicalunit --op new --tid "$1" --lun 1 --backing-store "$tmp/lun$1.img"
	tadm --mode target --op bind --tid "$1" --initiator-address ALL
	tadm --mode target --op update --tid "$1" --name MaxConnections --value 4
	tadm --mode target --op update --tid "$1" --name InitialR2T --value No
	tadm --mode target --op update --tid "$1" --name HeaderDigest --value CRC32C,None
	tadm --mode target --op update --tid "$1" --name DataDigest --value CRC32C,None
}

cargo build --release -p rsiscsi-diag >"$tmp/build.log" 2>&1 || {
	tail -n 40 "$tmp/build.log"
	echo "not ok 1 - build rsiscsi-diag"
	exit 1
}
install_tgt || { echo "not ok 1 - install tgt"; exit 1; }
start_tgtd || { echo "not ok 1 - start tgtd"; exit 1; }
say "tgtd pid $tgtd_pid on 127.0.0.1:$port, control port $ctl"

target 1 plain
target 2 chap
target 3 mutual
tadm --mode account --op new --user diag-user --password diag-secret-1
tadm --mode account --op bind --tid 2 --user diag-user
tadm --mode account --op new --user mutual-user --password mutual-secret-2
tadm --mode account --op bind --tid 3 --user mutual-user
tadm --mode account --op new --user tgt-user --password target-secret-3
tadm --mode account --op bind --tid 3 --user tgt-user --outgoing

portal=127.0.0.1:$port
common=(--portal "$portal" --initiator "$init_iqn")

# Discovery lists every target on our portal, iscsiadm style.
run discovery discover "${common[@]}"
ok=$rc
for t in plain chap mutual; do
	has discovery "$portal,1 $iqn:$t" || ok=1
done
verdict "discovery lists the three targets" "$ok"
[ "$ok" = 0 ] || show discovery

# One connection: every write path and byte-for-byte read back.
run io1 io "${common[@]}" --target "$iqn:plain"
ok=$rc
for p in "immediate data: exercised" "unsolicited Data-Out: exercised" \
	"R2T-solicited Data-Out: exercised" "NOP-Out ping cid 0: echoed" \
	"logout cid 0: session closed"; do
	has io1 "$p" || ok=1
done
verdict "io, 1 connection: immediate, unsolicited and R2T writes verified" "$ok"
[ "$ok" = 0 ] || show io1

# Two connections in one session. tgt offers its leading-only keys on the
# added connection too; the core answers them with the session's values, so
# tgt must accept the second connection: a refusal is a failure. Data
# written on each connection is read back on the other.
run io2 io "${common[@]}" --target "$iqn:plain" --connections 2
ok=$rc
for p in "login cid 1 (added to TSIH" "MC/S: 2 connections carried commands" \
	"NOP-Out ping cid 1: echoed" "logout cid 1: connection closed" \
	"logout cid 0: session closed" "summary: 2 connection(s)"; do
	has io2 "$p" || ok=1
done
! has io2 "refused by the target" || ok=1
verdict "io, 2 connections (MC/S): data crossed connections" "$ok" "exit $rc"
[ "$ok" = 0 ] || show io2

# CRC32C header and data digests.
run digest io "${common[@]}" --target "$iqn:plain" --digest
ok=$rc
has digest "HeaderDigest CRC32C, DataDigest CRC32C" || ok=1
verdict "io with CRC32C header and data digests" "$ok"
[ "$ok" = 0 ] || show digest

# One-way CHAP, right secret.
run chap io "${common[@]}" --target "$iqn:chap" --chap diag-user:diag-secret-1
verdict "CHAP one-way, right secret" "$rc"
[ "$rc" = 0 ] || show chap

# One-way CHAP, wrong secret: a clear message and the authentication exit code.
run chapbad io "${common[@]}" --target "$iqn:chap" --chap diag-user:wrong-secret
ok=1
if [ "$rc" = 24 ] && has chapbad "login failed: authentication failed (status 0x0201)"; then
	ok=0
fi
verdict "CHAP one-way, wrong secret fails cleanly" "$ok" "exit $rc"
[ "$ok" = 0 ] || show chapbad

# No credentials for a target that requires CHAP.
run chapnone io "${common[@]}" --target "$iqn:chap"
ok=1
if [ "$rc" = 24 ] && has chapnone "login failed: authentication failed"; then
	ok=0
fi
verdict "no CHAP for a CHAP target fails cleanly" "$ok" "exit $rc"
[ "$ok" = 0 ] || show chapnone

# Mutual CHAP: the target proves itself with its outgoing account.
run mutual io "${common[@]}" --target "$iqn:mutual" \
	--chap mutual-user:mutual-secret-2 --mutual tgt-user:target-secret-3
verdict "CHAP mutual, right secrets" "$rc"
[ "$rc" = 0 ] || show mutual

# Mutual CHAP where the target's proof does not match what we expect.
run mutualbad io "${common[@]}" --target "$iqn:mutual" \
	--chap mutual-user:mutual-secret-2 --mutual tgt-user:not-the-target-secret
ok=1
if [ "$rc" = 24 ] && has mutualbad "mutual CHAP response is wrong"; then
	ok=0
fi
verdict "CHAP mutual, target proof rejected" "$ok" "exit $rc"
[ "$ok" = 0 ] || show mutualbad

# A target name tgt does not know: a login failure with its status.
run notarget io "${common[@]}" --target "$iqn:no-such-target"
ok=1
if [ "$rc" = 5 ] && has notarget "login failed: target not found (status 0x0203)"; then
	ok=0
fi
verdict "unknown target: login failure exit 5" "$ok" "exit $rc"
[ "$ok" = 0 ] || show notarget

# Bad input never panics: usage errors exit 2, a dead portal exits 4.
ok=0
for args in "" "io" "io --portal 127.0.0.1:$port" "io --portal 127.0.0.1:1 --target t --chap nouser" \
	"discover --portal 127.0.0.1:notaport" "io --portal 127.0.0.1:1 --target t --connections 0" \
	"frobnicate"; do
	# shellcheck disable=SC2086 # the words are the arguments
	run usage $args
	if [ "$rc" != 2 ] || has usage "panicked"; then
		ok=1
		say "'$args' exited $rc"
		show usage
	fi
done
verdict "usage errors exit 2 without panicking" "$ok"

run refused io --portal 127.0.0.1:1 --target "$iqn:plain"
ok=1
if [ "$rc" = 4 ] && has refused "connection failed"; then
	ok=0
fi
verdict "nothing listening: connection failure exit 4" "$ok" "exit $rc"
[ "$ok" = 0 ] || show refused

echo "# $((n - failed)) passed, $failed failed"
[ "$failed" = 0 ]
