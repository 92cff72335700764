# shellcheck shell=bash
# Guest test library: the target namespace and its paths, LIO through configfs,
# fault injection, open-iscsi helpers. Sourced by tests/test_*.sh, which run as
# root in the test guest (see scripts/guest-init.sh and tests/run.sh).

# shellcheck source=tests/lib/ktap.sh
. "$(dirname "${BASH_SOURCE[0]}")/ktap.sh"

# kselftest exit codes, used by the tests that source this file
# shellcheck disable=SC2034
KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4

TGT_NS=tgt
TARGET_IQN=iqn.2026-11.org.rsiscsi:target
# open-iscsi's name in the guest (/etc/iscsi/initiatorname.iscsi)
OI_IQN=iqn.2026-11.org.rsiscsi:guest
# rsiscsi's own initiator name, so LIO tells the two apart
RS_IQN=iqn.2026-11.org.rsiscsi:rsiscsi
CFS=/sys/kernel/config/target
TPG=$CFS/iscsi/$TARGET_IQN/tpgt_1
NPATHS=0

log() { printf '# %s\n' "$*"; }
fail() {
	printf '# FAIL: %s\n' "$*"
	exit "$KSFT_FAIL"
}
skip() {
	printf '# SKIP: %s\n' "$*"
	exit "$KSFT_SKIP"
}

# Path N (0-based): initiator i$N = 10.(N+1).0.1, target t$N = 10.(N+1).0.2.
init_ip() { echo "10.$(($1 + 1)).0.1"; }
tgt_ip() { echo "10.$(($1 + 1)).0.2"; }
tns() { ip netns exec "$TGT_NS" "$@"; }

# wait_for SECONDS COMMAND...: polls every 0.2 s until COMMAND succeeds.
wait_for() {
	local limit=$1 i
	shift
	for ((i = 0; i < limit * 5; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}

# net_setup N: a target namespace reached over N veth paths, each its own subnet.
net_setup() {
	local n=${1:-2} i
	net_teardown
	ip netns add "$TGT_NS"
	ip -n "$TGT_NS" link set lo up
	for ((i = 0; i < n; i++)); do
		ip link add "i$i" type veth peer name "t$i" netns "$TGT_NS"
		ip addr add "$(init_ip "$i")/24" dev "i$i"
		ip -n "$TGT_NS" addr add "$(tgt_ip "$i")/24" dev "t$i"
		ip link set "i$i" up
		ip -n "$TGT_NS" link set "t$i" up
	done
	NPATHS=$n
	for ((i = 0; i < n; i++)); do
		wait_for 10 ping -c1 -W1 "$(tgt_ip "$i")" || fail "path $i does not answer ping"
	done
}

# The namespace itself may outlive "ip netns del" while sockets still hold it,
# and its veth ends with it: delete the pairs from this side, explicitly.
net_teardown() {
	local l
	for l in /sys/class/net/i[0-9]*; do
		[ -e "$l" ] && ip link del "${l##*/}" 2>/dev/null
	done
	ip netns del "$TGT_NS" 2>/dev/null || true
	return 0
}

# lio_setup [--size MiB] [--fileio] [--acl IQN]... [--demo] [--erl N]
#           [--maxconn N] [--chap USER:PASS] [--mutual USER:PASS] [--digest]
#           [--time2wait S]
# One target, one TPG with a portal on every path, one LUN.
lio_setup() {
	local size=64 fileio=0 demo=0 erl=2 maxconn=8 chap="" mutual="" digest=0 acls=() i
	local time2wait=
	while (($#)); do
		case $1 in
		--size) size=$2 && shift ;;
		--fileio) fileio=1 ;;
		--acl) acls+=("$2") && shift ;;
		--demo) demo=1 ;;
		--erl) erl=$2 && shift ;;
		--maxconn) maxconn=$2 && shift ;;
		--chap) chap=$2 && shift ;;
		--mutual) mutual=$2 && shift ;;
		--digest) digest=1 ;;
		--time2wait) time2wait=$2 && shift ;;
		*) fail "lio_setup: unknown option $1" ;;
		esac
		shift
	done
	((${#acls[@]} || demo)) || acls=("$OI_IQN" "$RS_IQN")

	local bs
	if ((fileio)); then
		bs=$CFS/core/fileio_0/lun0
		mkdir -p "$bs"
		echo "fd_dev_name=/tmp/lun0.img,fd_dev_size=$((size << 20))" >"$bs/control"
	else
		bs=$CFS/core/rd_mcp_0/lun0
		mkdir -p "$bs"
		echo "rd_pages=$((size << 8))" >"$bs/control"
	fi
	echo 1 >"$bs/enable"

	mkdir -p "$TPG/lun/lun_0"
	ln -s "$bs" "$TPG/lun/lun_0/lun0"
	# Portals are sockets: create them from inside the target namespace,
	# where ip-netns-exec hides the host's configfs mount.
	for ((i = 0; i < NPATHS; i++)); do
		tns sh -c "mount -t configfs none /sys/kernel/config 2>/dev/null; mkdir '$TPG/np/$(tgt_ip "$i"):3260'" ||
			fail "cannot create portal on path $i"
	done
	echo "$maxconn" >"$TPG/param/MaxConnections"
	[ -z "$time2wait" ] || echo "$time2wait" >"$TPG/param/DefaultTime2Wait"
	echo "$erl" >"$TPG/param/ErrorRecoveryLevel"
	# LIO takes the session's ERL from the ACL's default_erl, copied from
	# here when the ACL is made: set it first (research/mcs-lio.md).
	echo "$erl" >"$TPG/attrib/default_erl"
	if ((digest)); then
		echo "CRC32C,None" >"$TPG/param/HeaderDigest"
		echo "CRC32C,None" >"$TPG/param/DataDigest"
	fi
	if [ -n "$chap" ]; then
		echo 1 >"$TPG/attrib/authentication"
		echo "CHAP" >"$TPG/param/AuthMethod"
	else
		echo 0 >"$TPG/attrib/authentication"
		echo "CHAP,None" >"$TPG/param/AuthMethod"
	fi
	if ((demo)); then
		echo 1 >"$TPG/attrib/generate_node_acls"
		echo 1 >"$TPG/attrib/cache_dynamic_acls"
		echo 0 >"$TPG/attrib/demo_mode_write_protect"
	fi
	local acl
	for acl in "${acls[@]}"; do
		mkdir -p "$TPG/acls/$acl/lun_0"
		ln -s "$TPG/lun/lun_0" "$TPG/acls/$acl/lun_0/lun0"
		echo "$erl" >"$TPG/acls/$acl/attrib/default_erl"
		if [ -n "$chap" ]; then
			printf "%s" "${chap%%:*}" >"$TPG/acls/$acl/auth/userid"
			printf "%s" "${chap#*:}" >"$TPG/acls/$acl/auth/password"
		fi
		if [ -n "$mutual" ]; then
			printf "%s" "${mutual%%:*}" >"$TPG/acls/$acl/auth/userid_mutual"
			printf "%s" "${mutual#*:}" >"$TPG/acls/$acl/auth/password_mutual"
		fi
	done
	echo 1 >"$TPG/enable"
}

lio_teardown() {
	local d
	[ -d "$TPG" ] || return 0
	echo 0 >"$TPG/enable" 2>/dev/null || true
	for d in "$TPG"/acls/*/; do
		[ -d "$d" ] || continue
		rm -f "$d"lun_0/lun0
		rmdir "$d"lun_0 "$d" 2>/dev/null || true
	done
	rm -f "$TPG/lun/lun_0/lun0"
	rmdir "$TPG/lun/lun_0" 2>/dev/null || true
	for d in "$TPG"/np/*/; do
		[ -d "$d" ] && rmdir "$d"
	done
	rmdir "$TPG" "$CFS/iscsi/$TARGET_IQN" 2>/dev/null || true
	for d in "$CFS"/core/rd_mcp_0/lun0 "$CFS"/core/fileio_0/lun0; do
		[ -d "$d" ] && rmdir "$d"
	done
	rm -f /tmp/lun0.img
}

# lio_sessions: the initiator names LIO has sessions with, one per line.
lio_info() { cat "$TPG/acls/$1/info" 2>/dev/null; }

# ---- faults, per path N ----
path_down() { ip -n "$TGT_NS" link set "t$1" down; }
path_up() { ip -n "$TGT_NS" link set "t$1" up; }
# netem_set N delay 50ms loss 5%: on both ends of the path.
netem_set() {
	local n=$1
	shift
	tc qdisc replace dev "i$n" root netem "$@"
	tc -n "$TGT_NS" qdisc replace dev "t$n" root netem "$@"
}
# tbf_set N RATE: e.g. 100mbit, both directions.
tbf_set() {
	tc qdisc replace dev "i$1" root tbf rate "$2" burst 64kb latency 100ms
	tc -n "$TGT_NS" qdisc replace dev "t$1" root tbf rate "$2" burst 64kb latency 100ms
}
# mtu_set N MTU: both ends of path N (connections opened after it use it).
mtu_set() {
	ip link set "i$1" mtu "$2"
	ip -n "$TGT_NS" link set "t$1" mtu "$2"
}
qdisc_clear() {
	tc qdisc del dev "i$1" root 2>/dev/null || true
	tc -n "$TGT_NS" qdisc del dev "t$1" root 2>/dev/null || true
}
# Resets the initiator's TCP connections to the portal of path N.
conn_reset() { ss -K dst "$(tgt_ip "$1")" dport = 3260 >/dev/null; }
portal_listening() { tns ss -ltn | grep -q "$(tgt_ip "$1"):3260"; }
portal_disable() { rmdir "$TPG/np/$(tgt_ip "$1"):3260"; }
portal_enable() {
	tns sh -c "mount -t configfs none /sys/kernel/config 2>/dev/null; mkdir '$TPG/np/$(tgt_ip "$1"):3260'"
}
tpg_restart() {
	echo 0 >"$TPG/enable"
	sleep "${1:-1}"
	echo 1 >"$TPG/enable"
}

# ---- disks ----
# lio_disks: block devices backed by LIO, one per line (sdX).
lio_disks() {
	local d
	for d in /sys/block/sd*; do
		[ -e "$d/device/vendor" ] || continue
		grep -q LIO-ORG "$d/device/vendor" && echo "${d##*/}"
	done
	return 0
}

# fio_verify DEV [fio options...]: random writes with crc32c verify.
fio_verify() {
	local dev=$1
	shift
	[ -b "$dev" ] || fail "fio_verify: $dev is not a block device"
	fio --name=verify --filename="$dev" --direct=1 --ioengine=libaio \
		--rw=randwrite --bs=4k --iodepth=16 --size=16m --verify=crc32c \
		--verify_fatal=1 --do_verify=1 --output-format=terse --terse-version=3 \
		"$@" >/tmp/fio.out 2>&1
	local rc=$?
	((rc == 0)) || sed 's/^/# fio: /' /tmp/fio.out | tail -n 20
	return "$rc"
}

# ---- open-iscsi ----
oi_start() {
	pidof iscsid >/dev/null && return 0
	iscsid -f >/tmp/iscsid.log 2>&1 &
	wait_for 10 iscsiadm -m session -P0 ||
		{ iscsiadm -m session 2>&1 | grep -q 'No active sessions' || fail "iscsid did not start"; }
}
oi_stop() {
	iscsiadm -m node -u >/dev/null 2>&1 || true
	iscsiadm -m node -o delete >/dev/null 2>&1 || true
	pkill iscsid 2>/dev/null || true
	wait_for 5 sh -c '! pidof iscsid' || true
}
# oi_login PATH [key=value]...: discovery + login on one portal.
oi_login() {
	local p=$1 kv
	shift
	local portal
	portal=$(tgt_ip "$p"):3260
	iscsiadm -m discovery -t st -p "$portal" >/dev/null || fail "open-iscsi discovery on $portal failed"
	for kv in "$@"; do
		iscsiadm -m node -T "$TARGET_IQN" -p "$portal" -o update -n "${kv%%=*}" -v "${kv#*=}" ||
			fail "iscsiadm update $kv"
	done
	iscsiadm -m node -T "$TARGET_IQN" -p "$portal" -l >/dev/null || fail "open-iscsi login on $portal failed"
}

# wait_disks N: waits until N LIO disks exist, prints them.
wait_disks() {
	local n=$1
	wait_for 20 sh -c "[ \$(ls -d /sys/block/sd* 2>/dev/null | wc -l) -ge $n ]" || true
	sleep 0.5
	lio_disks
}

# Cleans up whatever a test left behind; safe to call twice.
cleanup_all() {
	local m
	awk '$2 ~ /^\/mnt/ {print $2}' /proc/mounts | while read -r m; do umount -l "$m"; done
	dmsetup remove_all -f >/dev/null 2>&1 || true
	oi_stop
	lsmod 2>/dev/null | grep -q '^rsiscsi' && rmmod rsiscsi 2>/dev/null
	lio_teardown
	net_teardown
}
