#!/bin/bash
# Where and how the kernel connects: a chosen source address and a bound
# interface are used, IPv6 portals work, and every way a login can fail says
# what happened, with a distinct errno behind it: connection refused, host
# unreachable or timed out, no such interface, foreign source address, and an
# unknown target (LIO answers 0x0301, service unavailable, for that).
# timeout=200
. "$(dirname "$0")/lib/lib.sh"

command -v rsiscsiadm >/dev/null || skip "no rsiscsiadm in the guest"
net_setup 2
lio_setup
insmod /lib/rsiscsi/rsiscsi.ko || fail "insmod failed"

lio_logged_in() { lio_info "$RS_IQN" | grep -q 'TARG_SESS_STATE_LOGGED_IN'; }
lio_gone() { ! lio_logged_in; }
login() { rsiscsiadm login --initiator "$RS_IQN" "$@"; }
# fails_with CODE PATTERN ARGS...: login ARGS exits CODE saying PATTERN.
fails_with() {
	local code=$1 pat=$2 out rc
	shift 2
	out=$(login "$@" 2>&1)
	rc=$?
	log "login $*: rc $rc: $(tail -n1 <<<"$out")"
	[ "$rc" = "$code" ] || fail "login $* exited $rc, want $code: $out"
	grep -q "rsiscsiadm: login failed: .*$pat" <<<"$out" || fail "login $*: no '$pat' in: $out"
}

# Source address and interface of path 1, portal on path 1.
out=$(login --target "$TARGET_IQN" --portal "$(tgt_ip 1)" --source "$(init_ip 1)" --iface i1 2>&1) ||
	fail "login with --source/--iface failed: $out"
wait_for 5 lio_logged_in || fail "LIO shows no session"
d=$(rsiscsiadm list -P 1)
grep -q "Iface IPaddress: $(init_ip 1):" <<<"$d" || fail "connection not from $(init_ip 1): $d"
lio_info "$RS_IQN" | grep -q "Address $(init_ip 1) " || fail "LIO sees another address: $(lio_info "$RS_IQN")"
rsiscsiadm logout --all >/dev/null || fail "logout failed"
wait_for 10 lio_gone || fail "LIO keeps the session"

# IPv6 on path 0.
ip addr add fd00:1::1/64 dev i0 nodad
ip -n "$TGT_NS" addr add fd00:1::2/64 dev t0 nodad
tns sh -c "mount -t configfs none /sys/kernel/config 2>/dev/null; mkdir '$TPG/np/[fd00:1::2]:3260'" ||
	fail "cannot create the IPv6 portal"
wait_for 10 ping -6 -c1 -W1 fd00:1::2 || fail "no IPv6 path"
out=$(login --target "$TARGET_IQN" --portal '[fd00:1::2]:3260' 2>&1) || fail "IPv6 login failed: $out"
line=$(rsiscsiadm list)
[ "$line" = "tcp: [$(sed -n 's/.*(sid \([0-9]*\)).*/\1/p' <<<"$out")] [fd00:1::2]:3260,1 $TARGET_IQN (non-flash)" ] ||
	fail "IPv6 list line: $line"
rsiscsiadm logout --all >/dev/null || fail "IPv6 logout failed"
wait_for 10 lio_gone || fail "LIO keeps the IPv6 session"
rmdir "$TPG/np/[fd00:1::2]:3260"

fails_with 5 'target service unavailable (0x0301)' --target iqn.2026-11.org.rsiscsi:nosuch --portal "$(tgt_ip 0)"
fails_with 5 'connect: connection refused' --target "$TARGET_IQN" --portal "$(tgt_ip 0):3261"
fails_with 5 'connect: no such interface' --target "$TARGET_IQN" --portal "$(tgt_ip 0)" --iface nosuch0
fails_with 5 'connect: source address is not local' --target "$TARGET_IQN" --portal "$(tgt_ip 0)" \
	--source 10.9.9.9
path_down 0
fails_with 5 'connect: \(host unreachable\|timed out\)' --target "$TARGET_IQN" --portal "$(tgt_ip 0)"
path_up 0
rsiscsiadm list >/dev/null 2>&1
[ $? = 21 ] || fail "failed logins left sessions behind"
rmmod rsiscsi || fail "rmmod failed"
exit "$KSFT_PASS"
