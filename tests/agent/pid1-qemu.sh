#!/bin/sh
# pid1-qemu.sh - boot the static kvrun-agent as /init of a real guest kernel
# under QEMU (TCG: no KVM, no vsock device needed) and check PID 1 duties
# from the serial console:
#   1. with a load.list naming the vsock modules: the basic mounts work,
#      the modules load in order, and the agent listens on vsock 1024/1025;
#   2. with an empty list (no AF_VSOCK): the agent cannot listen, says so,
#      and powers the VM off instead of exiting (which would panic).
# Usage: pid1-qemu.sh KVRUN-AGENT KERNEL-DIR
#   KERNEL-DIR holds vmlinuz and lib/modules/<version>/ (as unpacked from a
#   Debian linux-image package, e.g. build/cache/guest-kernel).
# TAP output; fails (never skips) when QEMU or the kernel is missing: make
# check installs QEMU and fetches the kernel first. $KVRUN_CACHE, when set,
# overrides KERNEL-DIR with $KVRUN_CACHE/guest-kernel (make guest puts it there).
set -u
agent=$1
kdir=$2
[ -n "${KVRUN_CACHE:-}" ] && kdir=$KVRUN_CACHE/guest-kernel

echo "1..6"
skip_all() { # a missing prerequisite is a failure, not a skip
	for i in 1 2 3 4 5 6; do echo "not ok $i - $1"; done
	exit 1
}
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 not installed"
command -v cpio >/dev/null || skip_all "cpio not installed"
[ -f "$kdir/vmlinuz" ] || skip_all "no guest kernel in $kdir (make guest)"
ver=$(ls "$kdir/lib/modules" 2>/dev/null | head -n1)
[ -n "$ver" ] || skip_all "no modules in $kdir/lib/modules"

work=$(mktemp -d /tmp/kvrun-pid1.XXXXXX)
[ -n "${KEEP:-}" ] && echo "# keeping $work" || trap 'rm -rf "$work"' EXIT

# $1: name, $2: load.list content
make_initramfs() {
	root=$work/$1
	mkdir -p "$root/dev" "$root/lib/modules"
	cp "$agent" "$root/init"
	# The kernel opens /dev/console for init's fds 0-2 if the node is there;
	# without it (not root: no mknod) the agent opens the console itself.
	mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null
	printf '%s' "$2" >"$root/lib/modules/load.list"
	# Copy what the list names (and only that), as the image builder does.
	grep -v '^#' "$root/lib/modules/load.list" | while read -r m _; do
		[ -n "$m" ] && [ -f "$kdir/lib/modules/$ver/$m" ] || continue
		mkdir -p "$root/lib/modules/$ver/$(dirname "$m")"
		cp "$kdir/lib/modules/$ver/$m" "$root/lib/modules/$ver/$m"
	done
	(cd "$root" && find . | cpio -o -H newc --quiet) >"$work/$1.cpio"
}

# $1: name, $2: seconds, $3: stop QEMU once the console shows this (optional);
# the console log goes to $work/$1.log. Prints QEMU's exit status.
# no_timer_check: under TCG on a loaded machine the kernel's IO-APIC timer check can
# fail and panic ("IO-APIC + timer doesn't work"); the test host boots with it too.
boot() {
	qemu-system-x86_64 -machine q35 -m 256 -smp 1 -nographic -no-reboot \
		-kernel "$kdir/vmlinuz" -initrd "$work/$1.cpio" \
		-append "console=ttyS0 panic=-1 quiet no_timer_check KVRUN_AGENT_VERBOSE=1" \
		</dev/null >"$work/$1.log" 2>&1 &
	qpid=$!
	t=0
	while kill -0 "$qpid" 2>/dev/null && [ "$t" -lt "$(($2 * 5))" ]; do
		if [ -n "${3:-}" ] && grep -q -- "$3" "$work/$1.log"; then
			sleep 1 # let the lines after it arrive
			break
		fi
		sleep 0.2
		t=$((t + 1))
	done
	kill "$qpid" 2>/dev/null
	wait "$qpid"
	echo $?
}

check() { # $1: n, $2: description, $3: log, $4: pattern
	if grep -q -- "$4" "$3"; then echo "ok $1 - $2"; else
		echo "not ok $1 - $2"
		sed 's/^/# /' "$3" | tail -n 25
	fi
}

# What a kvrun guest on Debian's cloud kernel needs for the agent: virtio
# over PCI and the virtio vsock transport, dependencies first (modprobe
# --show-depends order); vsock_loopback as well, and one missing module.
make_initramfs good "# virtio-vsock for kvrun-agent, in dependency order
kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/virtio/virtio.ko
kernel/drivers/virtio/virtio_pci_legacy_dev.ko
kernel/drivers/virtio/virtio_pci_modern_dev.ko
kernel/drivers/virtio/virtio_pci.ko
kernel/net/vmw_vsock/vsock.ko
kernel/net/vmw_vsock/vmw_vsock_virtio_transport_common.ko
kernel/net/vmw_vsock/vmw_vsock_virtio_transport.ko
kernel/net/vmw_vsock/vsock_loopback.ko
kernel/net/vmw_vsock/no_such_module.ko
"
boot good 120 "kvrun-agent: listening" >/dev/null
log=$work/good.log
check 1 "PID 1: no mount errors, /dev/console logging works" "$log" "kvrun-agent: listening"
if grep -q "kvrun-agent: mount \|cannot pivot_root" "$log"; then echo "not ok 2 - a mount failed"; grep "kvrun-agent: mount\|cannot pivot_root" "$log" | sed 's/^/# /'; else echo "ok 2 - the root moved onto a mount of its own; proc, sys, dev, pts, shm, run and cgroup2 mounted"; fi
check 3 "modules loaded in order; a missing one is reported by path" "$log" \
	"kvrun-agent: module /lib/modules/$ver/kernel/net/vmw_vsock/no_such_module.ko: open: No such file"
check 4 "the nine real modules loaded" "$log" "modules: 9 loaded, 1 failed"
check 5 "listening on vsock ports 1024 and 1025" "$log" "listening on vsock/ ports 1024 and 1025\|listening on vsock ports 1024 and 1025"

make_initramfs bad ""
rc=$(boot bad 120)
if [ "$rc" = 0 ] && grep -q "kvrun-agent: fatal: listening on vsock port 1024" "$work/bad.log" &&
	grep -q "powering off" "$work/bad.log" && ! grep -q "Kernel panic" "$work/bad.log"; then
	echo "ok 6 - no vsock: a fatal message, then the VM powers off (QEMU exits 0)"
else
	echo "not ok 6 - no vsock: expected a fatal message and a poweroff (qemu rc $rc)"
	sed 's/^/# /' "$work/bad.log" | tail -n 25
fi
