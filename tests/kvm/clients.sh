#!/usr/bin/env bash
# clients.sh - the client harness (tests/clients/run) with runc and with this build's kvrun.
#
# Owns: making kvrun usable by engines that only take a binary path: the guest image
# with the build's agent (rootfs/mkguest, content-addressed in the cache, as runtime.sh
# does) and a configuration file for it, reached through a two-line wrapper named kvrun
# that sets KVRUN_CONFIG (engines pass their own environment along unevenly). Then the
# harness runs every client once with --runtime runc --runtime <the wrapper>. Prints TAP.
# Needs a hardware-virtualization /dev/kvm (tests/testhost/with-kvm).
set -uo pipefail

usage() {
	echo "usage: clients.sh BUILD_DIR KERNEL_DIR GUEST_KERNEL [tests/clients/run ARGS...]"
	echo "  KERNEL_DIR: rootfs/fetch-kernel cloud DIR; GUEST_KERNEL: its ELF vmlinux"
}
case ${1:-} in -h | --help) usage; exit 0 ;; esac
[ $# -ge 3 ] || { usage >&2; exit 2; }
build=$(cd "$1" && pwd)
kdir=$2
kernel=$3
shift 3
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

tmp=$(mktemp -d /tmp/kvt-kvrun.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
initramfs=$("$src/rootfs/mkguest" --kernel-dir "$kdir" --agent "$build/rootfs/kvrun-agent" 2>"$tmp/mkguest.err") || {
	echo "not ok 1 - building the guest image: $(cat "$tmp/mkguest.err")"
	echo "1..1"
	exit 1
}
cat >"$tmp/kvrun.conf" <<CONF
kernel = $kernel
initramfs = $initramfs
memory = 256M
# sanitizer builds of the VMM need more than the default headroom
vmm_overhead = 1024M
CONF
mkdir "$tmp/bin"
printf '#!/bin/sh\nKVRUN_CONFIG=%s exec %s "$@"\n' "$tmp/kvrun.conf" "$build/runtime/kvrun" >"$tmp/bin/kvrun"
chmod +x "$tmp/bin/kvrun"
echo "# kvrun: $build/runtime/kvrun, guest image $initramfs"
"$src/tests/clients/run" --runtime "$(command -v runc || echo /usr/sbin/runc)" --runtime "$tmp/bin/kvrun" "$@"
