#!/bin/bash
# The netlink ABI's gatekeeping is the kernel's own: a request without
# CAP_NET_ADMIN gets EPERM (rsiscsiadm exit 13), malformed or unexpected
# attributes get EINVAL from the policy checks, an unknown command gets
# EOPNOTSUPP, and a missing required attribute gets EINVAL with a message.
# timeout=90
. "$(dirname "$0")/lib/lib.sh"

command -v rsiscsiadm >/dev/null || skip "no rsiscsiadm in the guest"
command -v setpriv >/dev/null || skip "no setpriv in the guest"
insmod /lib/rsiscsi/rsiscsi.ko || fail "insmod failed"
# The initramfs root is 0700: the unprivileged runs below must fail in the
# kernel, not in the dynamic loader.
chmod a+x /
for lib in /lib/x86_64-linux-gnu/libgcc_s.so.1 /lib/x86_64-linux-gnu/libc.so.6 \
	/lib64/ld-linux-x86-64.so.2; do
	[ -e "$lib" ] || continue
	f=$(readlink -f "$lib")
	chmod a+r "$f"
	d=$(dirname "$f")
	while [ "$d" != / ]; do chmod a+x "$d" && d=$(dirname "$d"); done
done
setpriv --reuid=65534 --regid=65534 --clear-groups rsiscsiadm help >/dev/null ||
	fail "rsiscsiadm does not run unprivileged at all"

EINVAL=22
EPERM=1
EOPNOTSUPP=95
ERANGE=34
# expect ERRNO ARGS...: debug-raw ARGS must come back with ERRNO.
expect() {
	local want=$1 out
	shift
	out=$(rsiscsiadm debug-raw "$@") || fail "debug-raw $* failed to run"
	log "debug-raw $*: $out"
	[ "${out%% *}" = "errno=$want" ] || fail "debug-raw $*: '$out', want errno=$want"
}

out=$(setpriv --reuid=65534 --regid=65534 --clear-groups rsiscsiadm list 2>&1)
rc=$?
log "unprivileged list: rc $rc: $out"
[ "$rc" = 13 ] || fail "unprivileged list exited $rc, want 13"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups rsiscsiadm login \
	--target iqn.x:y --portal 10.1.0.2 --initiator iqn.x:z 2>&1)
rc=$?
log "unprivileged login: rc $rc: $out"
[ "$rc" = 13 ] || fail "unprivileged login exited $rc, want 13"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups rsiscsiadm debug-raw --cmd 2 --u32 2=1)
[ "${out%% *}" = "errno=$EPERM" ] || fail "unprivileged destroy: '$out'"

# SESSION_DESTROY (2) with a 2-byte Sid (u32 expected).
expect $EINVAL --cmd 2 --attr 2=0100
# An attribute number beyond the ABI.
expect $EINVAL --cmd 2 --u32 2=1 --u32 200=1
# A valid attribute the command does not accept (TargetName on destroy).
expect $EINVAL --cmd 2 --u32 2=1 --str 3=iqn.x:y
# A string without its NUL (TargetName is NLA_NUL_STRING).
expect $EINVAL --cmd 1 --attr 3=6971 --str 4=iqn.x:z --attr 6=0a010002
# A portal address of 17 bytes (at most 16): the kernel's NLA_BINARY length
# check answers ERANGE.
expect $ERANGE --cmd 1 --str 3=iqn.x:y --str 4=iqn.x:z --attr 6=0a0100020a0100020a0100020a0100020a
# The dump with a malformed filter.
expect $EINVAL --cmd 3 --dump --attr 2=01
# Unknown commands, and the event command sent as a request.
expect $EOPNOTSUPP --cmd 77
expect $EOPNOTSUPP --cmd 4
# Well-formed but incomplete: our own check, with a message.
out=$(rsiscsiadm debug-raw --cmd 1 --str 4=iqn.x:z)
log "create without target: $out"
[ "$out" = "errno=$EINVAL missing target name" ] || fail "create without target: '$out'"
# Well-formed destroy of nothing.
expect 2 --cmd 2 --u32 2=12345
# And a well-formed dump works.
expect 0 --cmd 3 --dump

rmmod rsiscsi || fail "rmmod failed"
exit "$KSFT_PASS"
