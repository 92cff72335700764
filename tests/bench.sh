#!/bin/bash
# Guest side of `make bench`: the same fio workloads on the same LIO LUN over
# the same path, through open-iscsi (iscsi_tcp) and through rsiscsi, in one
# boot, twice in alternating order. Prints one line per run:
#   BENCH initiator workload iops MB/s cpu_us_per_io
# then (BENCH_MCS=0 skips it) MC/S over 2 and 4 rate-limited paths, against
# the sum of the path rates and dm-multipath over open-iscsi:
#   MCS case initiator-policy MB/s limit_MB/s iops
# /proc/stat counts in USER_HZ ticks, 100 a second on x86.
# cpu_us_per_io is machine-wide busy CPU time (initiator, target and fio) per
# I/O, from /proc/stat: the iSCSI work runs in kernel threads and softirqs that
# fio's own usr/sys figures do not see.
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/io.sh"
. "$(dirname "$0")/lib/mcs.sh"

RUNTIME=${BENCH_RUNTIME:-8}
# Lines of the warm-up round are tagged WARMUP and not counted: the first
# round after boot was measured up to 4x slower for whichever initiator ran it.
TAG=BENCH
WORKLOADS=("randread 4k 32" "randwrite 4k 32" "read 128k 16" "write 128k 16")

# terse_line OUTPUT: fio's terse v3 result line (warnings may come first);
# fails when there is none or when the run moved no data: a zero is a broken
# bench, not a figure.
terse_line() {
	local line
	line=$(grep -m1 '^3;' <<<"$1") || return 1
	awk -F';' '{ exit !($8 + $49 > 0) }' <<<"$line" || return 1
	echo "$line"
}

# busy_ticks: CPU time not idle or waiting, all CPUs, in clock ticks.
busy_ticks() { awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6 }' /proc/stat; }

# run_fio DEV INITIATOR RW BS QD
run_fio() {
	local dev=$1 who=$2 rw=$3 bs=$4 qd=$5 b0 b1 out line
	b0=$(busy_ticks)
	out=$(fio --name=bench --filename="$dev" --direct=1 --ioengine=libaio --rw="$rw" \
		--bs="$bs" --iodepth="$qd" --runtime="$RUNTIME" --time_based --size=192m \
		--output-format=terse --terse-version=3 2>&1) || fail "fio $rw $bs on $dev: $out"
	b1=$(busy_ticks)
	line=$(terse_line "$out") || fail "fio $rw $bs on $dev: no data moved: $out"
	# terse v3: read iops 8, read KiB/s 7; write iops 49, write KiB/s 48
	awk -F';' -v tag="$TAG" -v who="$who" -v wl="$rw-$bs-qd$qd" -v busy=$((b1 - b0)) -v hz=100 \
		-v rt="$RUNTIME" '{
		iops = $8 + $49; kbs = $7 + $48
		ios = iops * rt
		printf "%s %s %s %.0f %.1f %.1f\n", tag, who, wl, iops, kbs / 1024, ios ? busy / hz * 1e6 / ios : 0
	}' <<<"$line"
}

run_all() { # DEV INITIATOR
	local w
	for w in "${WORKLOADS[@]}"; do
		# shellcheck disable=SC2086 # w is "rw bs qd"
		run_fio "$1" "$2" $w
	done
}

no_lio_disks() { [ -z "$(lio_disks)" ]; }

bench_openiscsi() {
	oi_start
	oi_login 0
	local disk
	disk=$(wait_disks 1 | head -n1)
	[ -n "$disk" ] || fail "no open-iscsi disk"
	run_all "/dev/$disk" open-iscsi
	iscsiadm -m node -u >/dev/null
	oi_stop
	wait_for 10 no_lio_disks || true
}

bench_rsiscsi() {
	rs_login
	run_all "$RS_DEV" rsiscsi
	rs_logout
	wait_for 10 rs_no_disk || true
}

# ---- MC/S: several paths, each rate-limited with tbf so the guest CPU is
# not the limit; lines "MCS case who MB/s limit-MB/s IOPS" (MB = 10^6 B).

# mcs_fio DEV CASE WHO LIMIT [RW BS QD]
mcs_fio() {
	local dev=$1 case=$2 who=$3 limit=$4 rw=${5:-read} bs=${6:-128k} qd=${7:-16} out line
	[ -b "$dev" ] || fail "mcs_fio: $dev is not a block device"
	out=$(fio --name=mcs --filename="$dev" --direct=1 --ioengine=libaio --rw="$rw" --bs="$bs" \
		--iodepth="$qd" --ramp_time=2 --runtime="$RUNTIME" --time_based --size=192m \
		--output-format=terse --terse-version=3 2>&1) || fail "fio $case $who: $out"
	line=$(terse_line "$out") || fail "fio $case $who: no data moved: $out"
	awk -F';' -v c="$case" -v w="$who" -v l="$limit" \
		'{ printf "MCS %s %s %.2f %s %.0f\n", c, w, ($7 + $48) * 1024 / 1e6, l, $8 + $49 }' \
		<<<"$line"
}

# shape RATE_MBIT...: tbf on path i at the i-th rate; prints the sum in MB/s.
shape() {
	local i=0 r sum=0
	for r in "$@"; do
		tbf_set "$i" "${r}mbit"
		sum=$((sum + r))
		i=$((i + 1))
	done
	awk -v s="$sum" 'BEGIN { printf "%.2f", s * 1e6 / 8 / 1e6 }'
}
unshape() {
	local i
	for ((i = 0; i < NPATHS; i++)); do qdisc_clear "$i"; done
}

# rs_mcs CASE LIMIT N POLICY...: one rsiscsi session over paths 0..N-1.
rs_mcs() {
	local case=$1 limit=$2 n=$3 p
	shift 3
	mcs_login "$n"
	for p in "$@"; do
		if [ "$p" = weighted-paths ]; then
			# An admin's preference for the fast path 0: every other path weighs 4.
			local c
			for c in $(conn_cids | tail -n +2); do
				rsiscsiadm conn-set --sid "$RS_SID" --cid "$c" --weight 4 >/dev/null ||
					fail "conn-set $c --weight 4"
			done
		fi
		rsiscsiadm policy --sid "$RS_SID" --policy "$p" >/dev/null || fail "policy $p"
		mcs_fio "$RS_DEV" "$case" "rsiscsi-$p" "$limit"
	done
	rs_logout
	wait_for 10 rs_no_disk || true
}

# dm_mcs CASE LIMIT N: dm-multipath over one open-iscsi session per path,
# with the round-robin and service-time selectors.
dm_mcs() {
	local case=$1 limit=$2 n=$3 i sel table disks devs=() sectors mp
	oi_start
	for ((i = 0; i < n; i++)); do oi_login "$i"; done
	mapfile -t disks < <(wait_disks "$n")
	((${#disks[@]} == n)) || fail "dm_mcs: want $n disks, got ${disks[*]}"
	for i in "${disks[@]}"; do devs+=("$(cat "/sys/block/$i/dev")"); done
	sectors=$(blockdev --getsz "/dev/${disks[0]}")
	for sel in round-robin service-time; do
		table="0 $sectors multipath 0 0 1 1 $sel 0 $n"
		if [ "$sel" = round-robin ]; then
			table+=" 1"
			for i in "${devs[@]}"; do table+=" $i 1"; done
		else
			table+=" 2"
			for i in "${devs[@]}"; do table+=" $i 1 1"; done
		fi
		dmsetup create mpbench --table "$table" || fail "dmsetup create ($sel)"
		# No udev in the guest: /dev/mapper/mpbench does not appear, and
		# fio would lay out a file of that name in tmpfs. devtmpfs has the
		# device as dm-MINOR.
		mp=/dev/dm-$(dmsetup info -c --noheadings -o minor mpbench | tr -d ' ')
		wait_for 5 test -b "$mp" || fail "no block device $mp for mpbench"
		mcs_fio "$mp" "$case" "dm-multipath-$sel" "$limit"
		dmsetup remove mpbench || fail "dmsetup remove"
	done
	iscsiadm -m node -u >/dev/null
	oi_stop
	wait_for 10 no_lio_disks || true
}

bench_mcs() {
	local limit n i
	# Jumbo frames, as iSCSI SANs run: tbf counts every byte of a frame, and
	# at MTU 1500 the Ethernet, IP and TCP headers alone take 4.4% of the link
	# (1448 payload bytes in 1514), below any goal stated against the sum of
	# the rates. At 9000 they take 0.7%. Both initiators get the same paths.
	for ((i = 0; i < NPATHS; i++)); do mtu_set "$i" 9000; done
	for n in 2 4; do
		local rates=()
		for ((i = 0; i < n; i++)); do rates+=(50); done
		limit=$(shape "${rates[@]}")
		rs_mcs "equal-${n}x50mbit" "$limit" "$n" round-robin service-time least-queue-depth
		dm_mcs "equal-${n}x50mbit" "$limit" "$n"
		unshape
	done
	limit=$(shape 100 25)
	rs_mcs "unequal-100+25mbit" "$limit" 2 round-robin least-queue-depth least-blocks \
		service-time weighted-paths fail-over-only round-robin-with-subset
	dm_mcs "unequal-100+25mbit" "$limit" 2
	unshape
	# Does MC/S scale across CPUs? 4 connections on one path against one.
	rs_login
	mcs_fio "$RS_DEV" "one-path-randread-4k" "rsiscsi-1-conn" - randread 4k 32
	for i in 1 2 3; do
		rsiscsiadm conn-add --sid "$RS_SID" --portal "$(tgt_ip 0)" >/dev/null || fail "conn-add"
	done
	mcs_fio "$RS_DEV" "one-path-randread-4k" "rsiscsi-4-conns" - randread 4k 32
	rs_logout
	wait_for 10 rs_no_disk || true
	for ((i = 0; i < NPATHS; i++)); do mtu_set "$i" 1500; done
}

# ---- Failover stall: path 1 of two goes silent (link down) under 4k random
# reads at QD 8 and comes back. The stall is the longest gap between two
# completed I/Os (fio's per-I/O log). Lines "STALL who gap_ms cut_s up_s"
# and "TPUT who t_s MB/s" (per 0.5 s, for the plot).

# stall_run DEV WHO DOWN_S: the cut comes 6 s in and lasts DOWN_S.
stall_run() {
	local dev=$1 who=$2 down=$3 cut=6 total pid
	total=$((cut + down + 8))
	rm -f /tmp/stall_*.log
	fio --name=stall --filename="$dev" --direct=1 --ioengine=libaio --rw=randread --bs=4k \
		--iodepth=8 --runtime="$total" --time_based --size=192m --write_lat_log=/tmp/stall \
		--log_avg_msec=0 >/tmp/stall.out 2>&1 &
	pid=$!
	sleep "$cut"
	path_down 1
	sleep "$down"
	path_up 1
	wait "$pid" || fail "fio stall $who: $(tail -n 5 /tmp/stall.out)"
	# Lines: completion time (ms since the job started), latency, ...
	[ -s /tmp/stall_lat.1.log ] || fail "fio stall $who: no per-I/O log"
	sort -n -t, -k1,1 /tmp/stall_lat.1.log | awk -F, -v who="$who" -v cut="$cut" -v up=$((cut + down)) '
		{ t = $1 + 0; if (n++ && t - last > gap) gap = t - last; last = t
		  b = int(t / 500); cnt[b]++; if (b > maxb) maxb = b }
		END {
			printf "STALL %s %d %d %d\n", who, gap, cut, up
			for (i = 0; i <= maxb; i++) printf "TPUT %s %.1f %.3f\n", who, i * 0.5, cnt[i] * 4096 * 2 / 1e6
		}'
}

# stall_rs WHO DOWN_S [rsiscsiadm login options...]: two connections, ERL 2.
stall_rs() {
	local who=$1 down=$2
	shift 2
	mcs_login 2 "$@"
	stall_run "$RS_DEV" "$who" "$down"
	wait_for 60 sh -c "rsiscsiadm stats --sid $RS_SID | grep -q '^conn .* cid=1 state=FULL_FEATURE'" || true
	rs_logout
	wait_for 10 rs_no_disk || true
}

# stall_dm WHO DOWN_S [iscsiadm node key=value...]: dm-multipath
# (round-robin, like rsiscsi's default policy; queue_if_no_path) over one
# open-iscsi session per path.
stall_dm() {
	local who=$1 down=$2 i disks devs=() sectors table mp
	shift 2
	oi_start
	for i in 0 1; do oi_login "$i" "$@"; done
	mapfile -t disks < <(wait_disks 2)
	((${#disks[@]} == 2)) || fail "stall_dm: want 2 disks, got ${disks[*]}"
	for i in "${disks[@]}"; do devs+=("$(cat "/sys/block/$i/dev")"); done
	sectors=$(blockdev --getsz "/dev/${disks[0]}")
	table="0 $sectors multipath 1 queue_if_no_path 0 1 1 round-robin 0 2 1 ${devs[0]} 1 ${devs[1]} 1"
	dmsetup create mpstall --table "$table" || fail "dmsetup create mpstall"
	mp=/dev/dm-$(dmsetup info -c --noheadings -o minor mpstall | tr -d ' ')
	wait_for 5 test -b "$mp" || fail "no block device $mp for mpstall"
	stall_run "$mp" "$who" "$down"
	# The failed path is not reinstated without multipathd: only logged.
	log "$who: $(dmsetup status mpstall)"
	dmsetup remove mpstall || fail "dmsetup remove mpstall"
	iscsiadm -m node -u >/dev/null
	oi_stop
	wait_for 10 no_lio_disks || true
}

# time2wait S: LIO's DefaultTime2Wait for the next logins. It is negotiated
# to the larger offer, and RFC 7143 makes an initiator wait that long after
# a connection fails before it may log the connection out and resend its
# commands; meanwhile LIO holds every later CmdSN. LIO's default is 2 s.
time2wait() {
	echo "$1" >"$TPG/param/DefaultTime2Wait" || fail "cannot set LIO's DefaultTime2Wait to $1"
}

bench_stall() {
	# The target set up for fast recovery, for both sides: Time2Wait does
	# not enter dm-multipath's stall (a new path, not a retry in the session).
	time2wait 0
	stall_rs rsiscsi-default 20
	stall_rs rsiscsi-tuned 20 --param StallTimeout=0.12 --param NopInterval=1 --param NopTimeout=1
	stall_dm dm-multipath-tuned 20 node.conn[0].timeo.noop_out_interval=1 \
		node.conn[0].timeo.noop_out_timeout=1 node.session.timeo.replacement_timeout=2
	# With open-iscsi's defaults the path fails over only after
	# noop_out_interval + noop_out_timeout + replacement_timeout (130 s).
	stall_dm dm-multipath-default 150
	# And rsiscsi's defaults against LIO's default DefaultTime2Wait.
	time2wait 2
	stall_rs rsiscsi-default-lio-time2wait-2 20
}

command -v rsiscsiadm >/dev/null || fail "no rsiscsiadm in the guest"
net_setup 4
lio_setup --size 256
insmod /lib/rsiscsi/rsiscsi.ko || fail "insmod failed"
log "warm-up round, not counted"
TAG=WARMUP RUNTIME=3
bench_openiscsi
bench_rsiscsi
TAG=BENCH RUNTIME=${BENCH_RUNTIME:-8}
log "fio ${RUNTIME}s per point, kernel $(uname -r)"
bench_openiscsi
bench_rsiscsi
bench_rsiscsi
bench_openiscsi
if [ "${BENCH_MCS:-1}" != 0 ]; then
	log "MC/S: 128k sequential reads, fio ${RUNTIME}s per point"
	bench_mcs
fi
if [ "${BENCH_STALL:-1}" != 0 ]; then
	log "failover stall: path 1 of 2 cut under 4k random reads, QD 8"
	bench_stall
fi
rmmod rsiscsi
