#!/usr/bin/env bash
# exec.sh - commands and vsock streams through the guest agent in real VMs.
#
# Owns: the end-to-end test of the guest side: `kvrun vm --exec` (one boot),
# then one VM started with `kvrun vm --vsock` in the background that every
# other check shares, driven with kvrun-agent-run (exec: stdio, exit
# statuses, signals, big output, sequential and concurrent execs, a host that
# does not read or hangs up mid-frame) and with vsock-host / vsock-cat (raw
# vsock streams both ways, a slow reader, a refused port); then a second VM
# for a KVAP 1.1 container driven by agent-oci-probe (pivot_root, namespaces,
# cgroup v2 limits, STATS, UPDATE, FREEZE/THAW, seccomp, EXEC, PS: what needs
# the guest's own kernel). The image is the default guest image
# (rootfs/mkguest) plus vsock-cat and a busybox container root at /ctr.
# Prints TAP. Needs a hardware-virtualization /dev/kvm (tests/testhost/with-kvm).
set -uo pipefail

usage() {
	echo "usage: exec.sh KVRUN BUILD_DIR KERNEL_DIR   (KERNEL_DIR: rootfs/fetch-kernel cloud DIR)"
}
case ${1:-} in -h | --help) usage; exit 0 ;; esac
[ $# -eq 3 ] || { usage >&2; exit 2; }
kvrun=$1
build=$2
kdir=$3
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
run=$build/runtime/kvrun-agent-run
vhost=$build/tests/vsock-host
probe=$build/tests/agent-oci-probe
cmdline="console=ttyS0 quiet panic=-1"
probe_checks=10 # agent-oci-probe's PROBE_CHECKS
total=$((24 + probe_checks + 1))
echo "1..$total"

n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() {
	n=$((n + 1))
	echo "not ok $n - $1"
	shift
	for f in "$@"; do [ -f "$f" ] && sed 's/^/#   /' "$f" | tail -n 20; done
	return 0
}
bail() { # the rest cannot run
	while [ "$n" -lt "$total" ]; do nok "$1"; done
	exit 1
}

tmp=$(mktemp -d)
vmpid=
cleanup() {
	[ -n "$vmpid" ] && kill "$vmpid" 2>/dev/null && wait "$vmpid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

echo marker >"$tmp/marker"
busybox=${BUSYBOX:-/bin/busybox}
image=$("$src/rootfs/mkguest" --kernel-dir "$kdir" --agent "$build/rootfs/kvrun-agent" \
	--file "$build/tests/vsock-cat=bin/vsock-cat" --file "$busybox=ctr/bin/busybox" \
	--file "$busybox=ctr/bin/sh" --file "$tmp/marker=ctr/marker" 2>"$tmp/mkguest.err") ||
	bail "building the guest image: $(cat "$tmp/mkguest.err")"
echo "# image $image ($(stat -c %s "$image") bytes)"
vm=("$kvrun" vm --kernel "$kdir/vmlinuz" --initrd "$image" --cmdline "$cmdline")

# --- one-shot: kvrun vm --exec ---------------------------------------------
t0=$(date +%s.%N)
timeout -k 10 120 "${vm[@]}" --vsock "cid=3,socket=$tmp/once.sock" \
	--exec -- /bin/sh -c 'echo hi; echo oops >&2; exit 3' >"$tmp/o" 2>"$tmp/e"
st=$?
t1=$(date +%s.%N)
echo "# kvrun vm --exec: $(awk "BEGIN{printf \"%.2f\", $t1 - $t0}") s"
if [ "$st" = 3 ] && [ "$(cat "$tmp/o")" = hi ] && grep -qx oops "$tmp/e"; then
	ok "kvrun vm --exec prints hi, exits 3, stderr separate"
else
	nok "kvrun vm --exec: status $st (want 3)" "$tmp/o" "$tmp/e"
fi
if [ ! -e "$tmp/once.sock" ]; then ok "--exec: the vsock socket is removed"; else nok "--exec left $tmp/once.sock"; fi
mkdir "$tmp/t"
TMPDIR=$tmp/t timeout -k 10 120 "${vm[@]}" --exec -- /bin/sh -c 'kill -9 $$' >"$tmp/o" 2>"$tmp/e"
st=$?
if [ "$st" = 137 ] && [ -z "$(ls -A "$tmp/t")" ]; then
	ok "kvrun vm --exec without --vsock: SIGKILL gives 137, private socket dir removed"
else
	nok "kvrun vm --exec: status $st (want 137), left: $(ls -A "$tmp/t")" "$tmp/e"
fi

# No agent in the image: the wait is bounded, the VM stopped, nothing left.
printf '#!/bin/busybox sh\n/bin/busybox sleep 600\n' >"$tmp/noagent-init"
noagent=$("$src/rootfs/mkinitramfs" --init "$tmp/noagent-init" --file /bin/busybox=bin/busybox 2>"$tmp/e")
mkdir -p "$tmp/t2"
TMPDIR=$tmp/t2 timeout -k 10 120 "$kvrun" vm --kernel "$kdir/vmlinuz" --initrd "$noagent" --cmdline "$cmdline" \
	--agent-timeout 3 --exec -- /bin/sh -c 'exit 0' >"$tmp/o" 2>"$tmp/e"
st=$?
if [ "$st" = 1 ] && grep -q "the guest agent did not answer on .* within 3 s" "$tmp/e" &&
	[ -z "$(ls -A "$tmp/t2")" ]; then
	ok "--exec without an agent: bounded wait (--agent-timeout 3), exit 1 naming the socket, nothing left"
else
	nok "--exec without an agent: status $st (want 1), left: $(ls -A "$tmp/t2")" "$tmp/e"
fi

# --- one VM for the rest ----------------------------------------------------
sock=$tmp/v.sock
"${vm[@]}" --serial "file:$tmp/serial.log" --vsock "cid=7,socket=$sock" &
vmpid=$!
r() { timeout -k 10 120 "$run" --hybrid "$sock" --timeout 90000 -- "$@"; }

if r /bin/sh -c 'exit 0' >"$tmp/o" 2>"$tmp/e"; then
	ok "kvrun-agent-run reaches the agent of a background VM"
else
	nok "the agent of the background VM did not answer" "$tmp/e" "$tmp/serial.log"
	bail "no agent"
fi

r /bin/sh -c 'echo out; echo err >&2; exit 7' >"$tmp/o" 2>"$tmp/e"
st=$?
if [ "$st" = 7 ] && [ "$(cat "$tmp/o")" = out ] && [ "$(cat "$tmp/e")" = err ]; then
	ok "exec: stdout and stderr separate, exit code 7"
else
	nok "exec: status $st" "$tmp/o" "$tmp/e"
fi

r /bin/sh -c 'head -c 10485760 /dev/urandom >/run/big && sha256sum </run/big' >"$tmp/sum" 2>"$tmp/e"
r /bin/sh -c 'cat /run/big' >"$tmp/big" 2>>"$tmp/e"
want=$(cut -d' ' -f1 "$tmp/sum")
got=$(sha256sum <"$tmp/big" | cut -d' ' -f1)
if [ -n "$want" ] && [ "$want" = "$got" ] && [ "$(stat -c %s "$tmp/big")" = 10485760 ]; then
	ok "10 MiB of output intact (sha256)"
else
	nok "10 MiB: guest $want, host $got, $(stat -c %s "$tmp/big") bytes" "$tmp/e"
fi

head -c 3000000 /dev/urandom >"$tmp/in"
got=$(r /bin/sh -c 'sha256sum' <"$tmp/in" 2>"$tmp/e" | cut -d' ' -f1)
want=$(sha256sum <"$tmp/in" | cut -d' ' -f1)
if [ "$got" = "$want" ]; then ok "stdin forwarded (3 MB, sha256)"; else nok "stdin: guest saw $got, want $want" "$tmp/e"; fi

r /bin/sh -c 'kill -9 $$' >/dev/null 2>"$tmp/e"
st=$?
if [ "$st" = 137 ]; then ok "a command killed by SIGKILL reports 137"; else nok "SIGKILL: status $st" "$tmp/e"; fi

bad=0
for i in $(seq 1 20); do
	out=$(r /bin/sh -c "echo seq-$i; exit $((i % 4))" 2>>"$tmp/e")
	st=$?
	[ "$out" = "seq-$i" ] && [ "$st" = $((i % 4)) ] || { bad=$i; break; }
done
if [ "$bad" = 0 ]; then ok "20 sequential execs in one VM"; else nok "sequential exec $bad failed" "$tmp/e"; fi

pids=()
for i in $(seq 1 8); do
	r /bin/sh -c "head -c 200000 /dev/zero | tr '\\0' x; echo; echo par-$i; exit $i" >"$tmp/par$i" 2>"$tmp/pare$i" &
	pids+=($!)
done
bad=0
for i in $(seq 1 8); do
	wait "${pids[$((i - 1))]}"
	st=$?
	[ "$st" = "$i" ] && [ "$(tail -n1 "$tmp/par$i")" = "par-$i" ] &&
		[ "$(head -n1 "$tmp/par$i" | wc -c)" = 200001 ] || bad=$i
done
if [ "$bad" = 0 ]; then ok "8 concurrent execs in one VM"; else nok "concurrent exec $bad failed" "$tmp/pare$bad"; fi

# The guest command is long gone when the host starts reading its output.
r /bin/sh -c 'head -c 2000000 /dev/urandom >/run/s; sha256sum </run/s >&2; cat /run/s; exit 5' \
	2>"$tmp/e" | { sleep 5; sha256sum; } >"$tmp/late"
st=${PIPESTATUS[0]}
want=$(cut -d' ' -f1 "$tmp/e")
if [ "$st" = 5 ] && [ -n "$want" ] && [ "$(cut -d' ' -f1 "$tmp/late")" = "$want" ]; then
	ok "a process exiting while the host does not read loses no data"
else
	nok "late reader: status $st, want $want, got $(cat "$tmp/late")" "$tmp/e"
fi

if "$vhost" midframe "$sock" 2>"$tmp/e" && out=$(r /bin/sh -c 'echo alive' 2>>"$tmp/e") &&
	[ "$out" = alive ]; then
	ok "the agent survives a host that hangs up mid-frame"
else
	nok "after a mid-frame hang-up" "$tmp/e" "$tmp/serial.log"
fi

# --- vsock streams ----------------------------------------------------------
head -c 1048576 /dev/urandom >"$tmp/data"
want=$(sha256sum <"$tmp/data" | cut -d' ' -f1)

r /bin/sh -c 'vsock-cat listen 5000 </dev/null | sha256sum' >"$tmp/g" 2>"$tmp/e" &
gp=$!
"$vhost" send "$sock" 5000 <"$tmp/data" >/dev/null 2>"$tmp/he"
hs=$?
wait "$gp"
gs=$?
if [ "$hs" = 0 ] && [ "$gs" = 0 ] && [ "$(cut -d' ' -f1 "$tmp/g")" = "$want" ]; then
	ok "vsock host->guest: 1 MiB through CONNECT, intact"
else
	nok "host->guest: host $hs, guest $gs" "$tmp/he" "$tmp/e"
fi

"$vhost" listen "${sock}_5001" 0 >"$tmp/h" 2>"$tmp/he" &
hp=$!
for _ in $(seq 1 50); do [ -S "${sock}_5001" ] && break; sleep 0.1; done
sleep 0.2
r /bin/sh -c 'vsock-cat connect 5001 >/dev/null' <"$tmp/data" 2>"$tmp/e"
gs=$?
wait "$hp"
hs=$?
if [ "$hs" = 0 ] && [ "$gs" = 0 ] && [ "$(sha256sum <"$tmp/h" | cut -d' ' -f1)" = "$want" ]; then
	ok "vsock guest->host: CID 2 port 5001 reaches ${sock##*/}_5001, 1 MiB intact"
else
	nok "guest->host: host $hs, guest $gs" "$tmp/he" "$tmp/e"
fi

# Slow readers: 8 MiB each way, well over every buffer and credit window.
head -c 8388608 /dev/urandom >"$tmp/big8"
want8=$(sha256sum <"$tmp/big8" | cut -d' ' -f1)
r /bin/sh -c 'vsock-cat listen 5002 </dev/null | { sleep 3; sha256sum; }' >"$tmp/g" 2>"$tmp/e" &
gp=$!
timeout -k 10 120 "$vhost" send "$sock" 5002 <"$tmp/big8" >/dev/null 2>"$tmp/he"
hs=$?
wait "$gp"
gs=$?
if [ "$hs" = 0 ] && [ "$gs" = 0 ] && [ "$(cut -d' ' -f1 "$tmp/g")" = "$want8" ]; then
	ok "flow control host->guest: a guest reader that stalls 3 s, 8 MiB intact, no deadlock"
else
	nok "slow guest reader: host $hs, guest $gs" "$tmp/he" "$tmp/e"
fi

timeout -k 10 120 "$vhost" listen "${sock}_5003" 20 >"$tmp/h" 2>"$tmp/he" &
hp=$!
for _ in $(seq 1 50); do [ -S "${sock}_5003" ] && break; sleep 0.1; done
sleep 0.2
r /bin/sh -c 'vsock-cat connect 5003 >/dev/null' <"$tmp/big8" 2>"$tmp/e"
gs=$?
wait "$hp"
hs=$?
if [ "$hs" = 0 ] && [ "$gs" = 0 ] && [ "$(sha256sum <"$tmp/h" | cut -d' ' -f1)" = "$want8" ]; then
	ok "flow control guest->host: a host reader sleeping 20 ms per 64 KiB, 8 MiB intact"
else
	nok "slow host reader: host $hs, guest $gs" "$tmp/he" "$tmp/e"
fi

if "$vhost" refused "$sock" 5999 2>"$tmp/he"; then
	ok "CONNECT to a port nobody listens on: closed without OK"
else
	nok "CONNECT 5999" "$tmp/he"
fi
r /bin/sh -c 'vsock-cat connect 5998 </dev/null' >/dev/null 2>"$tmp/e"
st=$?
if [ "$st" = 1 ] && grep -q "connect: Connection reset by peer" "$tmp/e"; then
	ok "guest connect to a host port without listener: ECONNRESET"
else
	nok "guest connect to 5998: status $st" "$tmp/e"
fi

if out=$(r /bin/sh -c 'echo still-here' 2>"$tmp/e") && [ "$out" = still-here ]; then
	ok "the agent still runs commands after all of the above"
else
	nok "final exec" "$tmp/e"
fi

# --- shutdown -----------------------------------------------------------------
timeout -k 10 120 "$run" --hybrid "$sock" --poweroff -- /bin/sh -c 'exit 0' >/dev/null 2>"$tmp/e"
st=$?
timeout -k 10 60 tail --pid="$vmpid" -f /dev/null
wait "$vmpid"
vst=$?
vmpid=
if [ "$st" = 0 ] && [ "$vst" = 0 ]; then ok "an init run with --poweroff powers the VM off (kvrun vm exits 0)"; else nok "poweroff: run $st, kvrun vm $vst" "$tmp/e"; fi
if [ ! -e "$sock" ]; then ok "the VM's vsock socket is removed"; else nok "$sock left behind"; fi
if grep -q "unable to open an initial console" "$tmp/serial.log"; then
	nok "the kernel found no /dev/console" "$tmp/serial.log"
else
	ok "the kernel opened /dev/console for /init"
fi
# --- a container (KVAP 1.1) in a VM of its own ------------------------------
csock=$tmp/c.sock
"${vm[@]}" --serial "file:$tmp/cserial.log" --vsock "cid=8,socket=$csock" &
vmpid=$!
timeout -k 10 300 "$probe" "$csock" >"$tmp/probe.out" 2>"$tmp/probe.err"
got=0
while IFS= read -r line; do
	case $line in
	"ok - "*) ok "container: ${line#ok - }"; got=$((got + 1)) ;;
	"not ok - "*) nok "container: ${line#not ok - }" "$tmp/probe.err" "$tmp/cserial.log"; got=$((got + 1)) ;;
	*) echo "$line" ;;
	esac
done <"$tmp/probe.out"
while [ "$got" -lt "$probe_checks" ]; do
	nok "container: the probe stopped early" "$tmp/probe.err" "$tmp/cserial.log"
	got=$((got + 1))
done
timeout -k 10 60 tail --pid="$vmpid" -f /dev/null
wait "$vmpid"
vst=$?
vmpid=
if [ "$vst" = 0 ] && [ ! -e "$csock" ]; then ok "the container's VM powered off after SHUTDOWN (kvrun vm exits 0)"; else nok "container VM: kvrun vm $vst" "$tmp/cserial.log"; fi

left=$(ls -A "$tmp" | grep -v -x -e o -e e -e he -e g -e h -e sum -e big -e in -e late -e data -e big8 -e t -e t2 -e noagent-init -e serial.log -e mkguest.err -e 'par[0-9]' -e 'pare[0-9]' -e marker -e cserial.log -e probe.out -e probe.err)
if [ -z "$left" ]; then ok "nothing left behind"; else nok "left behind: $left"; fi
[ "$n" = "$total" ] || echo "# ran $n of $total"
