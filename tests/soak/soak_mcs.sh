#!/bin/bash
# Soak: for SOAK_SECONDS (default 1800), under fio verify that never stops,
# random faults and changes on a session of three connections to LIO (ERL 2):
# a path cut and restored (its connection recovered, then reinstated), the
# policy switched, a connection removed and added back, or a connection's
# weight changed. At most one path is down at a time, so the session always
# has a way through. At the end: every fio run verified, the session is the
# same LIO session, no I/O error, the disk equals LIO's backing file.
# Not part of `make check`: `make soak` runs it (scripts/soak.sh).
# timeout=2400
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/../lib/io.sh"
. "$(dirname "$0")/../lib/mcs.sh"
. "$(dirname "$0")/../lib/failover.sh"

seconds=${SOAK_SECONDS:-1800}
POLICIES=(round-robin least-queue-depth service-time least-blocks weighted-paths fail-over-only)

failover_setup 3 --time2wait 0
# The connection on path 2 is the one removed and added back.
cid_of_path() { rsiscsiadm stats --sid "$RS_SID" | sed -n "s/^conn .* cid=\([0-9]*\) .*portal=$(tgt_ip "$1"):.*/\1/p"; }
c2=$(cid_of_path 2)
[ -n "$c2" ] || fail "no connection on path 2: $(rsiscsiadm stats --sid "$RS_SID")"

RANDOM=${SOAK_SEED:-$$}
log "seed $RANDOM, $seconds s"
fio_loop_start "$RS_DEV"
declare -A did
start=$SECONDS
while ((SECONDS - start < seconds)); do
	case $((RANDOM % 4)) in
	0)
		# Only paths whose connection exists; path 2 may be removed now.
		p=$((RANDOM % 3))
		cid=$(cid_of_path "$p")
		[ -n "$cid" ] || continue
		n=$(recoveries "$cid")
		path_down "$p"
		wait_recovered "$cid" $((n + 1))
		sleep $((RANDOM % 3))
		path_up "$p"
		wait_reinstated "$cid"
		did[flap]=$((${did[flap]:-0} + 1))
		;;
	1)
		pol=${POLICIES[RANDOM % ${#POLICIES[@]}]}
		adm policy --sid "$RS_SID" --policy "$pol"
		did[policy]=$((${did[policy]:-0} + 1))
		;;
	2)
		if [ -n "$c2" ]; then
			conn_remove "$c2"
			c2=""
		else
			conn_add 2
			c2=$NEW_CID
			wait_for 30 sh -c "rsiscsiadm stats --sid $RS_SID | grep -q '^conn .* cid=$c2 state=FULL_FEATURE'" ||
				fail "connection $c2 on path 2 did not come up"
		fi
		did[conn]=$((${did[conn]:-0} + 1))
		;;
	3)
		cid=$(cid_of_path $((RANDOM % 2)))
		adm conn-set --sid "$RS_SID" --cid "$cid" --weight $((1 + RANDOM % 9))
		did[weight]=$((${did[weight]:-0} + 1))
		;;
	esac
	[ -e /tmp/fio_loop.rc ] && fio_loop_stop
	sleep $((1 + RANDOM % 4))
done
log "done in $((SECONDS - start)) s: ${did[flap]:-0} flaps, ${did[policy]:-0} policy changes, ${did[conn]:-0} connection removals/additions, ${did[weight]:-0} weight changes"
fio_loop_stop
failover_end
exit "$KSFT_PASS"
