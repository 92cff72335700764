# shellcheck shell=bash
# Helpers for the MC/S and policy tests (test_mcs_*, test_policy_*): a
# session with one connection per path, the per-connection counters that
# `rsiscsiadm stats` prints, and fio running in the background.
# Needs lib.sh and io.sh sourced first.

# mcs_setup N [lio_setup options...]: N paths, LIO on all of them, module in.
mcs_setup() {
	local n=$1
	shift
	command -v rsiscsiadm >/dev/null || skip "no rsiscsiadm in the guest"
	net_setup "$n"
	lio_setup "$@"
	insmod /lib/rsiscsi/rsiscsi.ko || fail "insmod failed"
}

# path_spec N [extra]: the --path SPEC of path N, from its own source address.
path_spec() { echo "$(tgt_ip "$1"),source=$(init_ip "$1")${2:+,$2}"; }

# mcs_login N [rsiscsiadm login options...]: one session, a connection on each
# of paths 0..N-1 (the first from path 0's source address).
mcs_login() {
	local n=$1 i args=()
	shift
	for ((i = 1; i < n; i++)); do args+=(--path "$(path_spec "$i")"); done
	rs_login --source "$(init_ip 0)" "${args[@]}" "$@"
}

# stat_line KIND [CID]: the `rsiscsiadm stats` line of the session or of
# connection CID.
stat_line() {
	local s
	s=$(rsiscsiadm stats --sid "$RS_SID") || fail "rsiscsiadm stats failed"
	if [ "$1" = session ]; then
		grep '^session ' <<<"$s"
	else
		grep "^conn .* cid=$2 " <<<"$s"
	fi
}

# field LINE KEY: the value of KEY=... in LINE.
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1"; }

# conn_stat CID KEY / sess_stat KEY
conn_stat() { field "$(stat_line conn "$1")" "$2"; }
sess_stat() { field "$(stat_line session)" "$1"; }

# conn_cids: the CIDs the session lists, one per line.
conn_cids() {
	rsiscsiadm stats --sid "$RS_SID" | sed -n 's/^conn .* cid=\([0-9]*\) .*/\1/p'
}

# lio_cids: the CIDs LIO lists for our initiator, one per line.
lio_cids() { lio_info "$RS_IQN" | sed -n 's/.*CID: \([0-9]*\) .*/\1/p'; }

# snap CID...: prints "cid:cmds" for each CID (for deltas).
snap() {
	local c
	for c in "$@"; do echo "$c:$(conn_stat "$c" cmds)"; done
}

# delta BEFORE CID: commands connection CID carried since snapshot BEFORE.
delta() {
	local was
	was=$(sed -n "s/^$2:\([0-9]*\)$/\1/p" <<<"$1")
	echo $(($(conn_stat "$2" cmds) - ${was:-0}))
}

# fio_loop_start DEV: fio verify runs back to back in the background until
# fio_loop_stop; any failure is kept in /tmp/fio_loop.rc.
fio_loop_start() {
	rm -f /tmp/fio_loop.rc
	touch /tmp/fio_loop.run
	(
		n=0
		while [ -e /tmp/fio_loop.run ]; do
			fio_verify "$1" --bs=4k --iodepth=16 --size=8m || {
				echo "fio run $n failed" >/tmp/fio_loop.rc
				exit 1
			}
			n=$((n + 1))
		done
		echo "ok $n" >/tmp/fio_loop.rc
	) &
	FIO_LOOP_PID=$!
}

# fio_loop_stop: ends the loop after its current run; fails on any error.
fio_loop_stop() {
	rm -f /tmp/fio_loop.run
	wait "$FIO_LOOP_PID"
	local r
	r=$(cat /tmp/fio_loop.rc 2>/dev/null)
	case $r in
	ok*) log "background fio verify: ${r#ok } run(s), all verified" ;;
	*) fail "background fio verify: ${r:-no result}" ;;
	esac
}

# conn_add N [extra rsiscsiadm options...]: adds a connection on path N;
# sets NEW_CID.
conn_add() {
	local n=$1 out
	shift
	out=$(rsiscsiadm conn-add --sid "$RS_SID" --portal "$(tgt_ip "$n")" \
		--source "$(init_ip "$n")" "$@" 2>&1) || fail "conn-add on path $n failed ($?): $out"
	log "$out"
	NEW_CID=$(sed -n 's/^Added connection \([0-9]*\) .*/\1/p' <<<"$out")
	[ -n "$NEW_CID" ] || fail "no CID in: $out"
}

# conn_remove CID
conn_remove() {
	local out
	out=$(rsiscsiadm conn-remove --sid "$RS_SID" --cid "$1" 2>&1) ||
		fail "conn-remove $1 failed ($?): $out"
	log "$out"
}

# adm ARGS...: rsiscsiadm that must succeed; its output is logged.
adm() {
	local out
	out=$(rsiscsiadm "$@" 2>&1) || fail "rsiscsiadm $* failed ($?): $out"
	log "$out"
}

# watch_start / watch_stop: `rsiscsiadm watch` into /tmp/watch.out.
watch_start() {
	rsiscsiadm watch >/tmp/watch.out 2>&1 &
	WATCH_PID=$!
	sleep 1
}
watch_stop() {
	kill "$WATCH_PID" 2>/dev/null
	wait "$WATCH_PID" 2>/dev/null
	return 0
}
