#!/usr/bin/env bash
# boot.sh - boot the Debian cloud kernel under `kvrun vm` and check how it stops.
#
# Owns: the VMM's end-to-end boot test. It builds a tiny initramfs (static
# busybox as /init, newc cpio) in a temporary directory, boots KERNEL_DIR's
# vmlinuz with 1 and 2 vCPUs, and checks that the guest's /init ran and that
# poweroff, reboot and a triple fault give the documented exit statuses; then
# boots the ELF vmlinux that rootfs/extract-vmlinux unpacks from the same bzImage.
# Prints TAP. Needs a hardware-virtualization /dev/kvm (run it through
# tests/testhost/with-kvm), busybox-static and cpio.
set -uo pipefail

usage() {
	echo "usage: boot.sh KVRUN_BINARY KERNEL_DIR   (KERNEL_DIR holds vmlinuz: rootfs/fetch-kernel cloud DIR)"
}
case ${1:-} in -h | --help) usage; exit 0 ;; esac
[ $# -eq 2 ] || { usage >&2; exit 2; }
kvrun=$1
kernel=$2/vmlinuz
busybox=${BUSYBOX:-/bin/busybox}
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

echo "1..11"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ ! -x "$kvrun" ] || [ ! -r "$kernel" ] || ! file -L "$busybox" 2>/dev/null | grep -q static; then
	for i in $(seq 1 11); do echo "not ok $i - prerequisites: kvrun ($kvrun), kernel ($kernel), static busybox ($busybox)"; done
	exit 1
fi

mkdir -p "$tmp/root/bin" "$tmp/root/proc"
cp "$busybox" "$tmp/root/bin/busybox"
cat >"$tmp/root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
echo "KVRUN-BOOT-OK cpus=$(grep -c ^processor /proc/cpuinfo) uptime=$(cut -d' ' -f1 /proc/uptime)"
case "$(cat /proc/cmdline)" in
*kvrun.test=reboot*) reboot -f ;;
*) poweroff -f ;;
esac
INIT
chmod +x "$tmp/root/init"
(cd "$tmp/root" && find . | cpio -o -H newc 2>/dev/null | gzip -1 >"$tmp/initramfs.cpio.gz")

n=0
# check NAME WANT_STATUS WANT_CPUS CMDLINE_EXTRA KVRUN_ARGS...
check() {
	local name=$1 want=$2 cpus=$3 extra=$4 start end st line
	shift 4
	start=$(date +%s%N)
	timeout -k 10 300 "$kvrun" vm --kernel "${boot_kernel:-$kernel}" --initrd "$tmp/initramfs.cpio.gz" --serial "file:$tmp/$name.log" \
		--cmdline "console=ttyS0 panic=-1 quiet $extra" "$@" 2>"$tmp/$name.err"
	st=$?
	end=$(date +%s%N)
	line=$(grep -a KVRUN-BOOT-OK "$tmp/$name.log" | tr -d '\r')
	n=$((n + 1))
	if [ "$st" = "$want" ]; then
		echo "ok $n - $name: exit status $st in $(((end - start) / 1000000)) ms"
	else
		echo "not ok $n - $name: exit status $st, want $want"
		sed 's/^/# /' "$tmp/$name.err"
		tail -20 "$tmp/$name.log" | sed 's/^/# /'
	fi
	n=$((n + 1))
	if [ -n "$line" ] && [ "${line#*cpus=$cpus }" != "$line" ]; then
		echo "ok $n - $name: /init ran with $cpus vCPU(s) ($line)"
	else
		echo "not ok $n - $name: /init did not report $cpus vCPU(s): '$line'"
	fi
}

check poweroff-1cpu 0 1 "" --cpus 1 --memory 256M
check poweroff-2cpu 0 2 "" --cpus 2 --memory 512M
check reboot-2cpu 3 2 "kvrun.test=reboot" --cpus 2 --memory 512M
check triple-fault 5 1 "reboot=t kvrun.test=reboot" --cpus 1 --memory 256M

# The same kernel as an ELF vmlinux: no decompressor, entered at its 64-bit entry.
n=$((n + 1))
if "$src/rootfs/extract-vmlinux" "$kernel" "$tmp/vmlinux" 2>"$tmp/extract.err" &&
	[ "$(od -An -c -N 4 "$tmp/vmlinux" | tr -d ' ')" = '177ELF' ]; then
	echo "ok $n - rootfs/extract-vmlinux unpacks an ELF kernel ($(stat -c %s "$tmp/vmlinux") bytes)"
else
	echo "not ok $n - rootfs/extract-vmlinux: $(cat "$tmp/extract.err")"
fi
boot_kernel=$tmp/vmlinux check vmlinux-2cpu 0 2 "" --cpus 2 --memory 256M
