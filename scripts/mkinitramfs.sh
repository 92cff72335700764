#!/usr/bin/env bash
# Assembles the guest's initramfs from this machine's own binaries (busybox for
# the basics; bash, iproute2, fio, open-iscsi, multipath-tools, e2fsprogs with
# their shared libraries), the module, the project's tools and the tests.
# Usage: mkinitramfs.sh OUT.cpio MODULE_DIR
# Why not virtme-ng: see Documentation/testbed.rst.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=${1:?usage: mkinitramfs.sh OUT.cpio MODULE_DIR}
moddir=${2:?usage: mkinitramfs.sh OUT.cpio MODULE_DIR}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
# mktemp made it 0700: the guest's / must let non-root users in
chmod 0755 "$root"

BINS=(
	/usr/bin/bash /usr/sbin/ip /usr/sbin/tc /usr/bin/ss /usr/bin/fio
	/usr/sbin/iscsiadm /usr/sbin/iscsid /usr/sbin/multipath /usr/sbin/multipathd
	/usr/sbin/dmsetup /usr/sbin/mke2fs /usr/sbin/e2fsck /usr/sbin/blockdev
	/usr/sbin/blkid /usr/bin/lsblk /usr/bin/mount /usr/bin/umount /usr/bin/setpriv
	/usr/bin/unshare /usr/bin/nsenter /usr/sbin/mkswap /usr/sbin/swapon /usr/sbin/swapoff
	/usr/bin/sg_inq /usr/bin/sg_readcap /usr/bin/sg_turs /usr/bin/sg_reset /usr/bin/timeout
	/usr/bin/sg_sync /usr/bin/sg_dd
	/usr/bin/flock /usr/bin/sha256sum /usr/bin/cmp /usr/bin/dd /usr/bin/stdbuf
	/usr/bin/awk /usr/bin/sed /usr/bin/grep
)

mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,lib,lib64,etc,proc,sys,dev,tmp,run,var/lib/iscsi,mnt,root}
mkdir -p "$root"/{etc/iscsi,run/lock,var/lock,lib/rsiscsi,tests}
ln -s /run "$root/var/run"

# busybox provides the rest; real binaries win because they sit in /usr first
# on PATH and busybox applets are installed only where nothing exists yet.
cp /bin/busybox "$root/bin/busybox"
# No busybox init: if /init cannot run, the kernel must panic (and QEMU exit)
# rather than start a shell nobody will ever type into.
for applet in $(/bin/busybox --list); do
	case $applet in init | linuxrc) continue ;; esac
	[ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done

copy_with_libs() {
	local f=$1 lib
	mkdir -p "$root$(dirname "$f")"
	cp -L "$f" "$root$f"
	# Some plugins need nothing beyond what their host binary loaded.
	{ ldd "$f" 2>/dev/null || true; } | { grep -oE '/[^ ]+' || true; } | while read -r lib; do
		[ -e "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}
for b in "${BINS[@]}"; do
	[ -x "$b" ] || die "$b is missing: run scripts/setup.sh"
	copy_with_libs "$b"
done
ln -sf mke2fs "$root/usr/sbin/mkfs.ext4"
ln -sf /usr/bin/bash "$root/bin/bash"
# LIO's persistent-reservation and ALUA state directory
mkdir -p "$root/etc/target"
# multipath's checkers and prioritizers are dlopen()ed.
if [ -d /lib/multipath ]; then
	for so in /lib/multipath/*.so; do copy_with_libs "$so"; done
fi
copy_with_libs /lib/x86_64-linux-gnu/libgcc_s.so.1

# The project's own binaries: the module for this kernel and any built tools.
cp "$moddir/rsiscsi.ko" "$root/lib/rsiscsi/"
for t in "$RSISCSI_TOP"/target/release/{rsiscsiadm,rsiscsi-diag,rsiscsi-faketarget}; do
	[ -x "$t" ] && copy_with_libs "$t" && mv "$root$t" "$root/usr/bin/"
done
rm -rf "${root:?}$RSISCSI_TOP"

cp -r "$RSISCSI_TOP"/tests/. "$root/tests/"
install -m 0755 "$RSISCSI_TOP/scripts/guest-init.sh" "$root/init"

cat >"$root/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/bash
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
cat >"$root/etc/group" <<'G'
root:x:0:
nogroup:x:65534:
G
echo "InitiatorName=iqn.2026-11.org.rsiscsi:guest" >"$root/etc/iscsi/initiatorname.iscsi"
: >"$root/etc/iscsi/iscsid.conf"
printf 'defaults {\n\tuser_friendly_names no\n}\n' >"$root/etc/multipath.conf"

(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) >"$out"
