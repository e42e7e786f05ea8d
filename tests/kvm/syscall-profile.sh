#!/usr/bin/env bash
# syscall-profile.sh - which system calls each thread of the VMM makes, measured.
#
# Owns: the measurement behind the seccomp allow-lists (docs/security.md). It
# boots one VM with every device - virtio-blk on an image, virtio-console on a
# file, the serial port on a pty, virtio-rng, virtio-net on a tap, vsock - under
# `strace -f`, with --exec running a guest workload that uses each of them (disk
# writes, reads and a flush, console output, entropy, a ping through the tap, a
# guest-initiated vsock stream to a host listener, stdin and stdout through the
# agent), then prints, per thread role, the system calls made after set-up (the
# vCPU threads from their start, the device loop from its first epoll_wait, the
# --exec thread from its start) with the ioctl requests and socket families.
# Run it where /dev/kvm is hardware virtualization, as root:
#   tests/testhost/with-kvm -- tests/kvm/syscall-profile.sh KVRUN BUILD_DIR KERNEL_DIR
# with --seccomp=off in EXTRA (env) to see the calls a filter would have refused.
set -uo pipefail

case ${1:-} in -h | --help | "")
	echo "usage: syscall-profile.sh KVRUN BUILD_DIR KERNEL_DIR   (env EXTRA: more kvrun vm options)"
	exit 0 ;;
esac
kvrun=$(realpath "$1") build=$(realpath "$2") kdir=$3
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
command -v strace >/dev/null || { echo "syscall-profile: needs strace" >&2; exit 1; }
tmp=$(mktemp -d "$build/syscall-profile.XXXXXX")
sock=$(mktemp -d) # Unix sockets cannot live on the test host's 9p mounts
trap 'ip link del kvprof0 2>/dev/null; rm -rf "$tmp" "$sock"' EXIT

image=$("$src/rootfs/mkguest" --kernel-dir "$kdir" --agent "$build/rootfs/kvrun-agent" \
	--file "$build/tests/vsock-cat=bin/vsock-cat") || exit 1
truncate -s 64M "$tmp/disk.img"
head -c 200000 /dev/urandom >"$tmp/stdin"
"$build/tests/vsock-host" listen "$sock/v.sock_5001" 0 >"$tmp/vsock-in" &
listener=$!
ip tuntap add kvprof0 mode tap vnet_hdr
ip addr add 10.77.0.1/24 dev kvprof0
ip link set kvprof0 up

guest='set -e
ip link set eth0 up; ip addr add 10.77.0.2/24 dev eth0
ping -c 2 -W 5 10.77.0.1 >/dev/null
dd if=/dev/urandom of=/dev/vda bs=64k count=32 conv=fsync 2>/dev/null
dd if=/dev/vda of=/dev/null bs=64k count=32 2>/dev/null; sync
echo console-output >/dev/hvc0
head -c 65536 /dev/hwrng | wc -c
echo serial-output >/dev/ttyS0
head -c 100000 /dev/urandom | vsock-cat connect 5001
sha256sum'
strace -f -tt -qq -o "$tmp/trace" -e trace=all -e signal=none \
	"$kvrun" vm --kernel "$kdir/../guest-vmlinux" --initrd "$image" \
	--cmdline "console=ttyS0 quiet panic=-1" --cpus 2 --memory 512M \
	--disk path="$tmp/disk.img" --console file:"$tmp/console" --serial pty --rng on \
	--net tap=kvprof0 --vsock cid=3,socket="$sock/v.sock" ${EXTRA:-} \
	--exec -- /bin/sh -c "$guest" <"$tmp/stdin" >"$tmp/out" 2>"$tmp/err"
status=$?
kill "$listener" 2>/dev/null # when the guest never connected
wait "$listener" 2>/dev/null
echo "# kvrun vm --exec: status $status; guest said: $(tr '\n' ' ' <"$tmp/out")"
[ -s "$tmp/err" ] && sed 's/^/# stderr: /' "$tmp/err"
echo "# the guest's vsock stream: $(wc -c <"$tmp/vsock-in") bytes; console: $(cat "$tmp/console")"

# Roles by what the thread does: KVM_RUN (vCPU), connect to v.sock (--exec),
# the process's first thread (device loop), the rest (other). A thread that
# loads a filter is counted from its seccomp() on; with --seccomp off, the
# device loop from its first epoll_wait and the others from their start.
main=$(head -1 "$tmp/trace" | awk '{print $1}')
awk -v main="$main" -v sock="$sock/v.sock" '
	function name(l) { sub(/^[0-9]+ +[0-9:.]+ +/, "", l); sub(/\(.*/, "", l); return l }
	FNR == NR { if ($0 ~ /seccomp\(/) filtered[$1] = 1; next }
	{
		tid = $1; l = $0
		if (l ~ /resumed>/ || l ~ /exited with|killed by|\+\+\+|---/) next
		n = name(l)
		if (n == "") next
		if (l ~ /KVM_RUN/) role[tid] = "vcpu"
		if (tid != main && index(l, "connect(") && index(l, sock "\"")) if (!(tid in role)) role[tid] = "exec"
		if (n == "seccomp") { started[tid] = 1; next }
		if (tid == main && n == "epoll_wait" && !(tid in filtered)) started[tid] = 1
		if (tid != main && !(tid in filtered)) started[tid] = 1
		if (!(tid in started)) next
		key = n
		if (n == "ioctl") { split(l, a, ", "); key = "ioctl " a[2] }
		if (n == "socket") { split(l, a, "("); split(a[2], b, ","); key = "socket " b[1] }
		if (n == "openat" || n == "open") { split(l, a, "\""); key = n " " a[2] }
		seen[tid, key] = 1; keys[key] = 1; tids[tid] = 1
	}
	END {
		for (t in tids) { r = (t == main) ? "device-loop(main)" : ((t in role) ? role[t] : "other"); roles[r] = 1
			for (k in keys) if ((t, k) in seen) set[r, k] = 1 }
		for (r in roles) { line = ""; for (k in keys) if ((r, k) in set) line = line " " k
			print r ":" line }
	}' "$tmp/trace" "$tmp/trace" | sort | sed 's/^/# /'
[ "$status" = 0 ]
