#!/bin/bash
# PID 1 of the test guest: mounts the pseudo file systems, runs the command the
# runner packed into /rsiscsi-cmd and leaves through reboot (-no-reboot makes
# QEMU exit), printing the marker scripts/vm-run.sh reads the exit status from.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
# bash's process substitution needs /dev/fd
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /dev/shm
mkdir -p /run/lock/iscsi
mount -t configfs configfs /sys/kernel/config
mount -t debugfs debugfs /sys/kernel/debug
hostname rsiscsi-guest
ip link set lo up
ulimit -c 0

# The kernel's console is ttyS0; everything userspace prints goes to ttyS1
# (the same QEMU output). On one UART, a printk racing the tty's output
# could leave the tty waiting for a transmit interrupt that never came: the
# tests then blocked writing their output, the guest went silent.
if [ -c /dev/ttyS1 ]; then
	stty -F /dev/ttyS1 raw -echo 2>/dev/null
	exec >/dev/ttyS1 2>&1 </dev/null
fi

rc=0
if [ -x /rsiscsi-cmd ]; then
	cd /tests || exit 1
	/rsiscsi-cmd
	rc=$?
fi
sync
echo "RSISCSI-EXIT: $rc"
reboot -f
sleep 5
