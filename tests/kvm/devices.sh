#!/usr/bin/env bash
# devices.sh - the VMM's devices end to end: a stock kernel finds and uses them.
#
# Owns: the host half of the device test. It builds the test initramfs with
# rootfs/mkinitramfs (/init = tests/kvm/guest-init.c, plus the virtio and
# pvpanic modules and their dependencies), writes a known pattern into a raw
# disk image, and boots KERNEL_DIR's kernel under `kvrun vm` with a virtio-blk
# disk, virtio-rng and a virtio-console logging to a file. It checks the
# guest's result line on the serial console, the same line arriving through
# hvc0, what the guest wrote into the image, and the exit status:
#   rw-1cpu, rw-2cpu  the guest sees 1 / 2 CPUs, reads the host's sectors,
#                     writes its own; poweroff, exit 0
#   ro-panic          readonly=on: the guest sees a read-only disk, its write
#                     fails, the image is unchanged; then it panics: pvpanic
#                     makes `kvrun vm` exit 4
#   pty-console       --console pty names its pty (vmm_pty_path), and SIGTERM
#                     stops the VM with 143 (no boot needed)
# Prints TAP. Needs a hardware-virtualization /dev/kvm (tests/testhost/with-kvm).
set -uo pipefail

usage() {
	echo "usage: devices.sh KVRUN_BINARY KERNEL_DIR BUILD_DIR   (KERNEL_DIR: rootfs/fetch-kernel cloud DIR;"
	echo "       BUILD_DIR: the meson build directory holding tests/guest-init)"
}
case ${1:-} in -h | --help) usage; exit 0 ;; esac
[ $# -eq 3 ] || { usage >&2; exit 2; }
kvrun=$1
kdir=$2
build=$3
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
modules=(virtio_pci virtio_blk virtio_console virtio_rng pvpanic_pci)

cases=3
total=$((1 + 4 * cases + 2))
echo "1..$total"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

n=0
okay() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); echo "not ok $n - $*"; }
bail() { # the remaining tests fail with this reason
	while [ "$n" -lt "$total" ]; do notok "$*"; done
	exit 1
}

margs=()
for m in "${modules[@]}"; do margs+=(--module "$m"); done
start=$(date +%s%N)
if initrd=$("$src/rootfs/mkinitramfs" --init "$build/tests/guest-init" --kernel-dir "$kdir" \
	"${margs[@]}" 2>"$tmp/mkinitramfs.err"); then
	okay "test initramfs: $(stat -c %s "$initrd") bytes, $(wc -l <<<"$(cpio -i --quiet --to-stdout lib/modules/load.list <"$initrd")") modules, ready in $((($(date +%s%N) - start) / 1000000)) ms"
else
	notok "rootfs/mkinitramfs failed: $(tail -n1 "$tmp/mkinitramfs.err")"
	bail "no test initramfs"
fi
if [ ! -x "$kvrun" ] || [ ! -r "$kdir/vmlinuz" ]; then
	bail "prerequisites: kvrun ($kvrun), kernel ($kdir/vmlinuz)"
fi

# sector TAG N: the 512 bytes guest-init expects at sector N ("kvrun-TAG NNNNNNN\n" x 32).
sector() {
	local line i
	line=$(printf 'kvrun-%s %07u' "$1" "$2")
	for ((i = 0; i < 32; i++)); do printf '%s\n' "$line"; done
}
host_sectors=(0 2047 8191) # guest-init.c: host_sectors[], of a 4 MiB disk
guest_sectors=$(seq 4096 4103)

# sector_is IMG TAG N: does IMG hold TAG's pattern at sector N?
sector_is() { cmp -s <(dd if="$1" bs=512 skip="$3" count=1 status=none) <(sector "$2" "$3"); }

make_disk() { # IMG
	rm -f "$1"
	truncate -s 4M "$1"
	for s in "${host_sectors[@]}"; do
		sector h "$s" | dd of="$1" bs=512 seek="$s" conv=notrunc status=none
	done
}

# run NAME WANT_STATUS CPUS READONLY CMDLINE_EXTRA
run() {
	local name=$1 want=$2 cpus=$3 ro=$4 extra=$5 img=$tmp/$1.img log=$tmp/$1.hvc0 out=$tmp/$1.serial
	local st start ms line hline before after bad s disk=path=$tmp/$1.img mem=256M
	make_disk "$img"
	before=$(sha256sum <"$img")
	[ "$ro" = ro ] && disk=$disk,readonly=on
	[ "$cpus" -gt 1 ] && mem=512M
	start=$(date +%s%N)
	timeout -k 10 300 "$kvrun" vm --kernel "$kdir/vmlinuz" --initrd "$initrd" --cpus "$cpus" --memory "$mem" \
		--cmdline "console=ttyS0 panic=-1 quiet kvrun.cpus=$cpus kvrun.disk=$ro $extra" \
		--disk "$disk" --rng on --console "file:$log" --serial stdio >"$out" 2>"$tmp/$name.err"
	st=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	line=$(grep -a '^KVRUN-DEVICES-' "$out" | tr -d '\r' | head -n1)
	if [ "$st" = "$want" ]; then
		okay "$name: exit status $st in $ms ms ($(grep -a 'guest-init: done at' "$out" | tr -d '\r' | sed 's/.*done at/results at uptime/'))"
	else
		notok "$name: exit status $st, want $want"
		sed 's/^/# /' "$tmp/$name.err"
		tr -d '\r' <"$out" | tail -n 30 | sed 's/^/# /'
	fi
	local want_blk=ok
	[ "$ro" = ro ] && want_blk='ro:E[A-Z]*'
	if [[ "$line" =~ ^KVRUN-DEVICES-OK\ cpus=$cpus\ blk=$want_blk\ hvc0=ok\ rng=ok$ ]]; then
		okay "$name: $line"
	else
		notok "$name: serial result '$line', want KVRUN-DEVICES-OK cpus=$cpus blk=$want_blk hvc0=ok rng=ok"
		tr -d '\r' <"$out" | grep -a guest-init | sed 's/^/# /'
	fi
	hline=$(tr -d '\r' <"$log" 2>/dev/null | grep -a '^KVRUN-DEVICES-' | head -n1)
	if [ -n "$line" ] && [ "$hline" = "$line" ]; then
		okay "$name: the same line arrived through hvc0"
	else
		notok "$name: hvc0 log has '$hline'"
	fi
	bad=
	for s in "${host_sectors[@]}"; do sector_is "$img" h "$s" || bad="$bad host:$s"; done
	if [ "$ro" = ro ]; then
		after=$(sha256sum <"$img")
		[ "$before" = "$after" ] || bad="$bad image-changed"
		if [ -z "$bad" ]; then okay "$name: the read-only image is unchanged"; else notok "$name: read-only image:$bad"; fi
	else
		for s in $guest_sectors; do sector_is "$img" g "$s" || bad="$bad guest:$s"; done
		if [ -z "$bad" ]; then
			okay "$name: the guest's sectors 4096-4103 are in the image, the host's intact"
		else
			notok "$name: image sectors wrong:$bad"
		fi
	fi
}

run rw-1cpu 0 1 rw ""
run rw-2cpu 0 2 rw ""
run ro-panic 4 1 ro "kvrun.test=panic"

# pty-console: the pty's path is printed while the VM runs; SIGTERM ends it.
"$kvrun" vm --kernel "$kdir/vmlinuz" --initrd "$initrd" --console pty --serial none \
	--cmdline "console=hvc0 quiet" 2>"$tmp/pty.err" &
pid=$!
pty=
for _ in $(seq 300); do
	pty=$(sed -n 's/^kvrun vm: virtio console on //p' "$tmp/pty.err")
	[ -n "$pty" ] && break
	sleep 0.1
done
if [ -n "$pty" ] && [ -c "$pty" ]; then
	okay "pty-console: the virtio console is on $pty"
else
	notok "pty-console: no pty named: $(cat "$tmp/pty.err")"
fi
kill -TERM "$pid" 2>/dev/null
wait "$pid"
st=$?
if [ "$st" = 143 ]; then okay "pty-console: SIGTERM stops the VM with 143"; else notok "pty-console: exit status $st after SIGTERM, want 143"; fi
[ "$n" = "$total" ] || notok "ran $n of $total tests"
