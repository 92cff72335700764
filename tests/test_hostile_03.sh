#!/bin/bash
# Network namespaces. A container (its own user and network namespace, root
# in it, path 1 moved into it) may run sessions only when rsiscsi is loaded
# with userns_sessions=1, and only with CAP_NET_ADMIN in its namespace; it
# sees and touches only its own sessions, the host only its own. When the
# container's last process exits its namespace dies: rsiscsi logs the
# session out while the path still exists (LIO closes its side) and frees
# it, without rmmod, while the host's session carries on.
# timeout=300
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/io.sh"

command -v rsiscsiadm >/dev/null || skip "no rsiscsiadm in the guest"
for t in unshare nsenter setpriv; do
	command -v "$t" >/dev/null || skip "no $t in the guest"
done

EACCESS=13
CTR=""
ctr_stop() {
	[ -n "$CTR" ] || return 0
	kill "$CTR" 2>/dev/null
	wait "$CTR" 2>/dev/null
	CTR=""
}
trap ctr_stop EXIT

# ctr_start: a process in a new user namespace (root mapped to root) and a
# new network namespace it owns, with path 1's initiator end moved in.
ctr_start() {
	unshare --user --map-root-user --net sleep 600 &
	CTR=$!
	wait_for 10 sh -c "[ \"\$(readlink /proc/$CTR/ns/net)\" != \"\$(readlink /proc/self/ns/net)\" ]" ||
		fail "the container did not get its own network namespace"
	ip link set i1 netns "$CTR" || fail "cannot move path 1 into the container"
	ctr ip link set lo up
	ctr ip addr add "$(init_ip 1)/24" dev i1
	ctr ip link set i1 up
	wait_for 10 ctr ip route get "$(tgt_ip 1)" || fail "no route to the target in the container"
}
rs_ndisks() { [ "$(rs_disks | wc -l)" = "$1" ]; }
# ctr COMMAND...: runs as the container's root (all capabilities over its own
# user namespace, none over the initial one).
ctr() { nsenter -t "$CTR" -U -n "$@"; }

net_setup 2
lio_setup
insmod /lib/rsiscsi/rsiscsi.ko || fail "insmod failed"
ctr_start

# Default: only the initial user namespace's admin runs sessions.
out=$(ctr rsiscsiadm list 2>&1)
rc=$?
log "container list, userns_sessions=0: rc $rc: $out"
((rc == EACCESS)) || fail "container list exited $rc without userns_sessions, want $EACCESS"
rmmod rsiscsi || fail "rmmod failed"

insmod /lib/rsiscsi/rsiscsi.ko userns_sessions=1 || fail "insmod userns_sessions=1 failed"
rs_login
HOST_SID=$RS_SID
out=$(ctr rsiscsiadm login --target "$TARGET_IQN" --portal "$(tgt_ip 1)" --initiator "$RS_IQN" 2>&1) ||
	fail "login from the container failed: $out"
log "container: $out"
CTR_SID=$(sed -n 's/.*(sid \([0-9]\+\)).*/\1/p' <<<"$out")
[ -n "$CTR_SID" ] || fail "no session id in the container's login output"
wait_for 20 rs_ndisks 2 || fail "the container's disk did not appear: $(rs_disks)"

# Each side sees its own session only, and cannot touch the other's.
host_list=$(rsiscsiadm list) || fail "host list failed"
ctr_list=$(ctr rsiscsiadm list) || fail "container list failed"
log "host: $host_list"
log "container: $ctr_list"
{ [ "$(wc -l <<<"$host_list")" = 1 ] && grep -q "^tcp: \[$HOST_SID\] " <<<"$host_list"; } ||
	fail "the host sees '$host_list', want only session $HOST_SID"
{ [ "$(wc -l <<<"$ctr_list")" = 1 ] && grep -q "^tcp: \[$CTR_SID\] $(tgt_ip 1)" <<<"$ctr_list"; } ||
	fail "the container sees '$ctr_list', want only session $CTR_SID"
out=$(ctr rsiscsiadm logout --sid "$HOST_SID" 2>&1) && fail "the container logged out the host's session: $out"
log "container logout of the host's session: $out"
rsiscsiadm list | grep -q "^tcp: \[$HOST_SID\] " || fail "the host's session went away"

# Without CAP_NET_ADMIN in its own namespace, the container's root is refused.
out=$(ctr setpriv --bounding-set=-all --inh-caps=-all rsiscsiadm list 2>&1)
rc=$?
log "container list without capabilities: rc $rc: $out"
((rc == EACCESS)) || fail "container list without CAP_NET_ADMIN exited $rc, want $EACCESS"

# The container goes: its namespace dies with the session still in it.
ctr_pid=$CTR
ctr_stop
log "container $ctr_pid stopped"
wait_for 60 sh -c "dmesg | grep -q 'session $CTR_SID: its network namespace is being deleted'" ||
	fail "the namespace's exit did not reach rsiscsi: $(dmesg | grep rsiscsi | tail -n 5)"
wait_for 60 sh -c "dmesg | grep -q 'rsiscsi: session $CTR_SID: logged out'" ||
	fail "session $CTR_SID was not logged out: $(dmesg | grep rsiscsi | tail -n 5)"
log "$(dmesg | grep "rsiscsi: session $CTR_SID:" | tail -n 3)"
! dmesg | grep -q "rsiscsi: session $CTR_SID: .*\(failed\|timed out\|no logout\)" ||
	fail "the logout was not clean: $(dmesg | grep "session $CTR_SID" | tail -n 3)"
# LIO saw the logout: nothing of the container's is established at the
# target (a dead path alone would leave its socket there for minutes).
wait_for 20 sh -c "! ip netns exec $TGT_NS ss -tnH state established dst $(init_ip 1) | grep -q ." ||
	fail "LIO still holds the container's connection: $(tns ss -tn)"
wait_for 20 rs_ndisks 1 || fail "the container's disk is still there: $(rs_disks)"

# The host's session is untouched.
rsiscsiadm list | grep -q "^tcp: \[$HOST_SID\] " || fail "the host's session went away"
RS_DEV=/dev/$(rs_disks | head -n1)
dd if=/dev/urandom of=/tmp/h03 bs=64k count=16 status=none
dd if=/tmp/h03 of="$RS_DEV" bs=64k oflag=direct status=none || fail "write to the host's disk failed"
cmp -n $((1 << 20)) /tmp/h03 "$RS_DEV" || fail "the host's disk reads back other data"
rs_logout
rmmod rsiscsi || fail "rmmod failed"
exit "$KSFT_PASS"
