#!/usr/bin/env bash
# sandbox.sh - the VMM's confinement, checked on real VMs (docs/security.md).
#
# Owns: proving that each thread role's seccomp filter is active (a test-only
# hook, kvrun vm --test-seccomp-violation ROLE:SYSCALL, makes the first
# confined thread of ROLE call SYSCALL: the process must die by SIGSYS after
# one line naming the role and the call; with --seccomp off the same call is
# harmless and the VM runs), and, on a running VM, what the process looks
# like from outside: every thread in seccomp filter mode with no_new_privs,
# no capabilities left (bounding set included), not dumpable (a capability-
# less root cannot read its environ while it can read a dumpable process's),
# a root that holds no kernel, initrd, /dev/kvm or host directory, only the
# expected mounts, and an inherited descriptor closed. The virtio-fs
# workers keep exactly their role's capabilities, the guest reads a share
# served from inside the jail, and a share with a mount beneath it (a
# container's rootfs with a volume in it) stays whole in the jail's view. Prints TAP. Needs a
# hardware-virtualization /dev/kvm (tests/testhost/with-kvm).
set -uo pipefail

usage() { echo "usage: sandbox.sh KVRUN BUILD_DIR KERNEL_DIR   (KERNEL_DIR: rootfs/fetch-kernel cloud DIR)"; }
case ${1:-} in -h | --help) usage; exit 0 ;; esac
[ $# -eq 3 ] || { usage >&2; exit 2; }
kvrun=$1 build=$2 kdir=$3
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cmdline="console=ttyS0 quiet panic=-1"
total=16
echo "1..$total"

n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() {
	n=$((n + 1))
	echo "not ok $n - $1"
	shift
	for f in "$@"; do [ -f "$f" ] && sed 's/^/#   /' "$f" | tail -n 15; done
	return 0
}
bail() {
	while [ "$n" -lt "$total" ]; do nok "$1"; done
	exit 1
}

tmp=$(mktemp -d)
vmpid= ctl=
cleanup() {
	[ -n "$vmpid" ] && kill "$vmpid" 2>/dev/null && wait "$vmpid" 2>/dev/null
	[ -n "$ctl" ] && kill "$ctl" 2>/dev/null
	umount "$tmp/share/sub" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

image=$("$src/rootfs/mkguest" --kernel-dir "$kdir" --agent "$build/rootfs/kvrun-agent" 2>"$tmp/e") ||
	bail "building the guest image: $(cat "$tmp/e")"
kernel=$kdir/vmlinuz
vm=("$kvrun" vm --kernel "$kernel" --initrd "$image" --cmdline "$cmdline")

# --- each role's filter kills the process on a forbidden call ---------------
# A share (with a tmpfs mounted beneath it) for the fs workers' role.
share=$tmp/share
mkdir -p "$share/sub"
echo "top $$" >"$share/top"
mount -t tmpfs -o size=1m kvrun-sandbox-sub "$share/sub" || bail "mounting a tmpfs beneath the share"
echo "beneath $$" >"$share/sub/marker"
# role|syscall|the role's name in the message
for c in "vcpu|mount|vCPU" "device|execve|device loop" "monitor|ptrace|monitor" \
	"fs|mount|virtio-fs worker"; do
	IFS='|' read -r role call name <<<"$c"
	timeout -k 10 120 "${vm[@]}" --test-seccomp-violation "$role:$call" --fs "tag=share,path=$share" \
		--exec -- /bin/sh -c 'exit 0' >"$tmp/o" 2>"$tmp/e"
	st=$?
	if [ "$st" = $((128 + 31)) ] &&
		grep -q "^kvrun vm: VMM error: seccomp: the $name thread made a forbidden system call: $call (" "$tmp/e"; then
		ok "the $name filter: $call kills kvrun vm by SIGSYS, naming it"
	else
		nok "the $name filter: $call gave status $st (want 159 = SIGSYS) and stderr:" "$tmp/e"
	fi
done
timeout -k 10 120 "${vm[@]}" --seccomp off --test-seccomp-violation device:execve \
	--exec -- /bin/sh -c 'echo fine' >"$tmp/o" 2>"$tmp/e"
st=$?
if [ "$st" = 0 ] && [ "$(cat "$tmp/o")" = fine ]; then
	ok "--seccomp off: the same execve fails harmlessly and the VM runs (the death is the filter's)"
else
	nok "--seccomp off with the hook: status $st" "$tmp/o" "$tmp/e"
fi

# --- a running VM, seen from outside -----------------------------------------
# (its command outlasts every check below, however slow the host: the test
# stops it with SIGTERM at the end)
sockdir=$tmp/s
mkdir "$sockdir"
exec 7</etc/hostname # an inherited descriptor the jail must close (7 may be reused)
"${vm[@]}" --vsock "cid=5,socket=$sockdir/v.sock" --fs "tag=share,path=$share,mount=/share" \
	--exec -- /bin/sh -c 'cat /share/top; echo ready; sleep 900' \
	>"$tmp/run.o" 2>"$tmp/run.e" &
vmpid=$!
exec 7<&-
for _ in $(seq 1 600); do
	grep -q ready "$tmp/run.o" 2>/dev/null && break
	kill -0 "$vmpid" 2>/dev/null || break
	sleep 0.2
done
grep -q ready "$tmp/run.o" || bail "the VM did not start: $(cat "$tmp/run.e")"

if [ "$(head -n 1 "$tmp/run.o")" = "top $$" ]; then
	ok "the guest reads a file of the share, served by the jailed VMM"
else
	nok "the guest did not read the share's file" "$tmp/run.o" "$tmp/run.e"
fi

# The virtio-fs workers keep CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID
# SETGID SETUID SYS_ADMIN MKNOD SETFCAP (bits 0-4 6 7 21 27 31), every other
# thread nothing; bounding, inheritable and ambient sets are empty everywhere.
fs_caps=00000000882000df
threads=0 filtered=0 nnp=0 nocaps=0 fsw=0 fscaps=0
for t in /proc/"$vmpid"/task/*; do
	threads=$((threads + 1))
	s=$(cat "$t/status")
	comm=$(cat "$t/comm")
	grep -qP '^Seccomp:\t2$' <<<"$s" && filtered=$((filtered + 1))
	grep -qP '^NoNewPrivs:\t1$' <<<"$s" && nnp=$((nnp + 1))
	if [[ $comm == fs-* ]]; then
		fsw=$((fsw + 1))
		[ "$(grep -cP "^Cap(Prm|Eff):\t$fs_caps$" <<<"$s")" = 2 ] &&
			[ "$(grep -cP '^Cap(Inh|Bnd|Amb):\t0000000000000000$' <<<"$s")" = 3 ] &&
			fscaps=$((fscaps + 1))
	else
		[ "$(grep -cP '^Cap(Inh|Prm|Eff|Bnd|Amb):\t0000000000000000$' <<<"$s")" = 5 ] && nocaps=$((nocaps + 1))
	fi
	echo "# $comm: $(grep -P '^(Seccomp|NoNewPrivs|CapEff|CapBnd):' <<<"$s" | tr '\n\t' '  ')"
done
if [ "$threads" -ge 4 ] && [ "$filtered" = "$threads" ] && [ "$nnp" = "$threads" ]; then
	ok "all $threads threads run with a seccomp filter and no_new_privs"
else
	nok "$filtered of $threads threads filtered, $nnp with no_new_privs"
fi
if [ "$nocaps" = $((threads - fsw)) ]; then
	ok "no thread but the virtio-fs workers keeps a capability (effective, permitted, inheritable, ambient, bounding)"
else
	nok "$nocaps of $((threads - fsw)) threads without capabilities"
fi
if [ "$fsw" -ge 1 ] && [ "$fscaps" = "$fsw" ]; then
	ok "each of the $fsw virtio-fs workers keeps exactly its role's set ($fs_caps), bounding set empty"
else
	nok "$fscaps of $fsw virtio-fs workers with CapPrm = CapEff = $fs_caps and empty other sets"
fi

# Not dumpable: a root without capabilities may read the environ of a
# dumpable process of its uid that has no more capabilities than itself,
# not of a non-dumpable one.
setpriv --bounding-set=-all --inh-caps=-all -- sleep 60 &
ctl=$!
sleep 0.5
if setpriv --bounding-set=-all --inh-caps=-all -- cat "/proc/$ctl/environ" >/dev/null 2>&1 &&
	! setpriv --bounding-set=-all --inh-caps=-all -- cat "/proc/$vmpid/environ" >/dev/null 2>"$tmp/e"; then
	ok "the VMM is not dumpable: a capability-less root cannot read its environ ($(cat "$tmp/e"))"
else
	nok "the VMM's environ was readable without CAP_SYS_PTRACE, or the control process's was not"
fi
kill "$ctl" 2>/dev/null
wait "$ctl" 2>/dev/null
ctl=

root=/proc/$vmpid/root
leaks=
for p in "$kernel" "$image" /dev/kvm /etc/hostname /usr/bin "$src/README.md"; do
	[ -e "$root$p" ] && leaks="$leaks $p"
done
if [ -z "$leaks" ] && [ -d "$root/proc/self" ] && [ -S "$root$sockdir/v.sock" ] &&
	[ -f "$root$share/top" ] && [ -f "$root$share/sub/marker" ]; then
	ok "the jail: /proc, the vsock socket's directory, the share with its submount; no kernel, initrd, /dev/kvm or host files"
else
	nok "the jail shows:$leaks; /proc: $([ -d "$root/proc/self" ] && echo yes); socket: $([ -S "$root$sockdir/v.sock" ] && echo yes); share: $(ls -R "$root$share" 2>&1 | tr '\n' ' ')"
fi
# Mount points in the jail: the root (read-only), /proc, the socket's
# directory, the share and the tmpfs beneath it.
awk '{print $5, $6}' "/proc/$vmpid/mountinfo" >"$tmp/mounts"
sed 's/^/# mount: /' "$tmp/mounts"
if [ "$(wc -l <"$tmp/mounts")" = 5 ] && grep -qx "/ ro,.*" "$tmp/mounts" &&
	grep -q "^/proc " "$tmp/mounts" && grep -q "^$sockdir " "$tmp/mounts" &&
	grep -q "^$share rw," "$tmp/mounts" && grep -q "^$share/sub rw," "$tmp/mounts"; then
	ok "five mounts: a read-only root, /proc, $sockdir, the share and the mount beneath it"
else
	nok "unexpected mounts in the jail" "$tmp/mounts"
fi
open_fds=$(for f in /proc/"$vmpid"/fd/*; do readlink "$f"; done)
if ! grep -qx /etc/hostname <<<"$open_fds"; then
	ok "an inherited descriptor (/etc/hostname on fd 7) is closed"
else
	nok "the VMM still holds /etc/hostname: $(tr '\n' ' ' <<<"$open_fds")"
fi
# The hybrid socket still works from the host, across the jail's bind mount.
if timeout 60 "$build/runtime/kvrun-agent-run" --hybrid "$sockdir/v.sock" --timeout 30000 \
	-- /bin/sh -c 'echo through' >"$tmp/o" 2>"$tmp/e" && [ "$(cat "$tmp/o")" = through ]; then
	ok "a host program reaches the guest through the jailed VMM's socket"
else
	nok "kvrun-agent-run through $sockdir/v.sock failed" "$tmp/e"
fi
kill "$vmpid"
wait "$vmpid"
st=$?
vmpid=
if [ "$st" = 143 ] && [ -z "$(ls -A "$sockdir")" ]; then
	ok "SIGTERM stops the jailed VM (143); its socket is removed on the host"
else
	nok "SIGTERM: status $st, left in $sockdir: $(ls -A "$sockdir")" "$tmp/run.e"
fi

# --- the debugging switches ----------------------------------------------
timeout -k 10 120 "${vm[@]}" --seccomp off --jail off --exec -- /bin/sh -c 'echo plain' >"$tmp/o" 2>"$tmp/e"
st=$?
if [ "$st" = 0 ] && [ "$(cat "$tmp/o")" = plain ]; then
	ok "--seccomp off --jail off: the VM runs unconfined"
else
	nok "--seccomp off --jail off: status $st" "$tmp/o" "$tmp/e"
fi
[ "$n" = "$total" ] || echo "# ran $n of $total"
