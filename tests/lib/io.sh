# shellcheck shell=bash
# Helpers for the data-path tests (test_io_*): log in with rsiscsiadm, find
# the disks of rsiscsi's SCSI hosts, log out.

# rs_disks: the sd devices behind rsiscsi SCSI hosts (proc_name rsiscsi).
rs_disks() {
	local d host
	for d in /sys/block/sd*; do
		[ -e "$d/device" ] || continue
		host=$(readlink -f "$d/device" | grep -o 'host[0-9]*' | head -n1)
		[ -n "$host" ] || continue
		[ "$(cat "/sys/class/scsi_host/$host/proc_name" 2>/dev/null)" = rsiscsi ] &&
			echo "${d##*/}"
	done
	return 0
}

rs_have_disk() { [ -n "$(rs_disks)" ]; }
rs_no_disk() { [ -z "$(rs_disks)" ]; }

# rs_login [rsiscsiadm login options...]: logs in to LIO over path 0, waits
# for the disk; sets RS_SID and RS_DEV.
rs_login() {
	local out
	out=$(rsiscsiadm login --target "$TARGET_IQN" --portal "$(tgt_ip 0)" \
		--initiator "$RS_IQN" "$@" 2>&1) || fail "login failed ($?): $out"
	log "$out"
	RS_SID=$(sed -n 's/.*(sid \([0-9]\+\)).*/\1/p' <<<"$out")
	[ -n "$RS_SID" ] || fail "no session id in the login output"
	wait_for 20 rs_have_disk || fail "no rsiscsi disk appeared; dmesg: $(dmesg | tail -n 20)"
	RS_DEV=/dev/$(rs_disks | head -n1)
	wait_for 5 test -b "$RS_DEV" || fail "$RS_DEV is not a block device"
}

rs_logout() {
	local out
	out=$(rsiscsiadm logout --sid "$RS_SID" 2>&1) || fail "logout failed ($?): $out"
	log "$out"
}

rs_setup() {
	command -v rsiscsiadm >/dev/null || skip "no rsiscsiadm in the guest (cargo build --release -p rsiscsiadm)"
	net_setup 1
	lio_setup "$@"
	insmod /lib/rsiscsi/rsiscsi.ko || fail "insmod failed"
}
