#!/bin/bash
# Guest side of `make bench`: the same fio workloads on the same LIO LUN over
# the same path, through open-iscsi (iscsi_tcp) and through rsiscsi, in one
# boot, twice in alternating order. Prints one line per run:
#   BENCH initiator workload iops MB/s cpu_us_per_io
# /proc/stat counts in USER_HZ ticks, 100 a second on x86.
# cpu_us_per_io is machine-wide busy CPU time (initiator, target and fio) per
# I/O, from /proc/stat: the iSCSI work runs in kernel threads and softirqs that
# fio's own usr/sys figures do not see.
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/io.sh"

RUNTIME=${BENCH_RUNTIME:-8}
# Lines of the warm-up round are tagged WARMUP and not counted: the first
# round after boot was measured up to 4x slower for whichever initiator ran it.
TAG=BENCH
WORKLOADS=("randread 4k 32" "randwrite 4k 32" "read 128k 16" "write 128k 16")

# busy_ticks: CPU time not idle or waiting, all CPUs, in clock ticks.
busy_ticks() { awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6 }' /proc/stat; }

# run_fio DEV INITIATOR RW BS QD
run_fio() {
	local dev=$1 who=$2 rw=$3 bs=$4 qd=$5 b0 b1 out
	b0=$(busy_ticks)
	out=$(fio --name=bench --filename="$dev" --direct=1 --ioengine=libaio --rw="$rw" \
		--bs="$bs" --iodepth="$qd" --runtime="$RUNTIME" --time_based --size=192m \
		--output-format=terse --terse-version=3 2>&1) || fail "fio $rw $bs on $dev: $out"
	b1=$(busy_ticks)
	# terse v3: read iops 8, read KiB/s 7; write iops 49, write KiB/s 48
	awk -F';' -v tag="$TAG" -v who="$who" -v wl="$rw-$bs-qd$qd" -v busy=$((b1 - b0)) -v hz=100 \
		-v rt="$RUNTIME" '{
		iops = $8 + $49; kbs = $7 + $48
		ios = iops * rt
		printf "%s %s %s %.0f %.1f %.1f\n", tag, who, wl, iops, kbs / 1024, ios ? busy / hz * 1e6 / ios : 0
	}' <<<"$(head -n1 <<<"$out")"
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

command -v rsiscsiadm >/dev/null || fail "no rsiscsiadm in the guest"
net_setup 1
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
rmmod rsiscsi
