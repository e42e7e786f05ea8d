#!/usr/bin/env bash
# net.sh - virtio-net and netsetup end to end: a guest on a container's network.
#
# Owns: the KVM test of networking. Two network namespaces stand in for a
# container's ("C", holding veth eth0 with 10.55.0.2/24, fd55::2/64, MTU 1400
# and default routes, as CNI would leave it) and a server's ("S", the peer,
# 10.55.0.1 and fd55::1, with busybox httpd). Then:
#   netns   `kvrun vm --net netns=C --exec`: the guest's eth0 has C's MAC,
#           MTU, addresses and routes (NET_CONFIG through the agent), and its
#           driver negotiated checksum offload, TSO and mergeable buffers; ping and
#           ping6 to S; HTTP from S into the guest (2 MiB, checksummed); S pings
#           the guest and fetches 2 MiB over HTTP from the guest's httpd; after
#           the VM powers off, no tap, qdisc or filter is left in C
#   sigkill the same VM SIGKILLed while it runs: the guard removes the
#           filter and qdisc, the tap goes with the VMM
#   tap     `kvrun vm --net tap=NAME,mac=..` inside a namespace holding that
#           (persistent) tap with 10.56.0.1: the guest configures eth0 itself
#           and pings the host side; the NIC has the given MAC
# (busybox wget's -T crashes the static busybox of Debian 12: timeouts come
# from `timeout`.) Prints TAP. Needs a hardware-virtualization /dev/kvm, veth, tun and tc
# (sch_ingress, cls_u32, act_mirred): tests/testhost/with-kvm.
set -uo pipefail

usage() {
	echo "usage: net.sh KVRUN BUILD_DIR KERNEL_DIR   (KERNEL_DIR: rootfs/fetch-kernel cloud DIR)"
}
case ${1:-} in -h | --help) usage; exit 0 ;; esac
[ $# -eq 3 ] || { usage >&2; exit 2; }
kvrun=$1
build=$2
kdir=$3
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bb=/bin/busybox
total=19
echo "1..$total"

n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() {
	n=$((n + 1))
	echo "not ok $n - $1"
	shift
	for f in "$@"; do [ -f "$f" ] && sed 's/^/#   /' "$f" | tail -n 30; done
	return 0
}
check() { # check NAME CONDITION-COMMAND... : ok when the command succeeds
	local name=$1
	shift
	if "$@"; then ok "$name"; else nok "$name" "$tmp/out" "$tmp/err"; fi
}
bail() {
	while [ "$n" -lt "$total" ]; do nok "$1"; done
	exit 1
}

tmp=$(mktemp -d)
C=kvnet$$c S=kvnet$$s T=kvnet$$t
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns del "$C" 2>/dev/null
	ip netns del "$S" 2>/dev/null
	ip netns del "$T" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

image=$("$src/rootfs/mkguest" --kernel-dir "$kdir" --agent "$build/rootfs/kvrun-agent" \
	2>"$tmp/mkguest.err") || bail "building the guest image: $(cat "$tmp/mkguest.err")"
echo "# image $image ($(stat -c %s "$image") bytes)"
vm=("$kvrun" vm --kernel "$kdir/vmlinuz" --initrd "$image" --memory 256M
	--cmdline "console=ttyS0 quiet panic=-1")

# --- the namespaces -------------------------------------------------------
{
	ip netns add "$C" && ip netns add "$S" &&
		ip link add eth0 netns "$C" mtu 1400 type veth peer name srv0 netns "$S" mtu 1400 &&
		ip -n "$C" addr add 10.55.0.2/24 dev eth0 && ip -n "$C" addr add fd55::2/64 dev eth0 nodad &&
		ip -n "$C" link set eth0 up && ip -n "$C" route add default via 10.55.0.1 &&
		ip -n "$C" -6 route add default via fd55::1 &&
		ip -n "$S" addr add 10.55.0.1/24 dev srv0 && ip -n "$S" addr add fd55::1/64 dev srv0 nodad &&
		ip -n "$S" link set srv0 up && ip -n "$S" link set lo up
} >"$tmp/setup.log" 2>&1 || bail "namespaces: $(tail -n 3 "$tmp/setup.log")"
mac=$(ip netns exec "$C" cat /sys/class/net/eth0/address)
mkdir -p "$tmp/www"
echo "hello from the server" >"$tmp/www/hello.txt"
head -c 2097152 /dev/urandom >"$tmp/www/big"
big_md5=$(md5sum <"$tmp/www/big" | cut -d' ' -f1)
ip netns exec "$S" $bb httpd -f -p 8080 -h "$tmp/www" &
pids+=($!)

# leftovers NS: what of ours is still in namespace NS (empty when nothing)
leftovers() {
	{
		ip -n "$1" -o link show | grep -o 'kvtap[0-9]*'
		tc -n "$1" qdisc show dev eth0 | grep ingress
		tc -n "$1" filter show dev eth0 ingress | grep -m1 mirred
		pgrep -x kvrun-netguard
	} 2>/dev/null
}

# wait_for FILE PATTERN SECONDS PID: until PATTERN shows up in FILE, PID has
# exited, or SECONDS of wall clock have passed (a loop count would stretch
# when process start-up is slow, as it is in the test host under load).
wait_for() {
	local end=$((SECONDS + $3))
	while [ "$SECONDS" -lt "$end" ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		kill -0 "$4" 2>/dev/null || break
		sleep 0.5
	done
	grep -q "$2" "$1" 2>/dev/null
}

# --- netns: the guest takes C's interface ----------------------------------
guest='
echo "eth0 mac $(cat /sys/class/net/eth0/address) mtu $(cat /sys/class/net/eth0/mtu)"
ip -o addr show dev eth0 scope global
for d in /sys/bus/virtio/devices/*; do [ "$(cat $d/device)" = 0x0001 ] && echo "features $(cat $d/features)"; done
ip route; ip -6 route
ping -c 2 -W 5 10.55.0.1 >/dev/null && echo PING4-OK
ping6 -c 2 -W 5 fd55::1 >/dev/null && echo PING6-OK
echo "hello: $(timeout 30 wget -q -O - http://10.55.0.1:8080/hello.txt)"
mkdir -p /www && echo "hello from the guest" >/www/index.html
timeout 60 wget -q -O /www/big http://10.55.0.1:8080/big && echo "big md5 $(md5sum </www/big | cut -d" " -f1)"
head -c 2097152 /dev/urandom >/www/big2 && echo "big2 md5 $(md5sum </www/big2 | cut -d" " -f1)"
httpd -p 8081 -h /www && echo GUEST-READY
timeout 120 nc -l -p 7001 >/dev/null
echo GUEST-DONE'
start=$(date +%s)
timeout -k 10 400 "${vm[@]}" --net "netns=/run/netns/$C" --serial "file:$tmp/serial" \
	--exec -- /bin/sh -c "$guest" >"$tmp/out" 2>"$tmp/err" &
vmpid=$!
pids+=($vmpid)
if wait_for "$tmp/out" GUEST-READY 300 "$vmpid"; then
	ok "netns: the guest is up on C's network ($(($(date +%s) - start)) s)"
else
	{
		ip -n "$C" -s link show
		tc -n "$C" -s filter show dev eth0 ingress
		tc -n "$C" -s filter show dev kvtap0 ingress
	} >"$tmp/diag" 2>&1
	nok "netns: the guest never said GUEST-READY" "$tmp/out" "$tmp/err" "$tmp/serial" "$tmp/diag"
fi
check "netns: guest eth0 has C's MAC $mac and MTU 1400" grep -qx "eth0 mac $mac mtu 1400" "$tmp/out"
# Negotiated: CSUM, GUEST_CSUM, MTU, MAC, GUEST_TSO4/6, HOST_TSO4/6, MRG_RXBUF, STATUS.
feat=$(sed -n 's/^features //p' "$tmp/out")
bits=
for b in 0 1 3 5 7 8 11 12 15 16; do bits+=${feat:$b:1}; done
check "netns: the guest driver took checksum offload, TSO both ways, mergeable buffers ($bits)" \
	test "$bits" = 1111111111
check "netns: guest eth0 has 10.55.0.2/24 and fd55::2/64 (NET_CONFIG)" \
	sh -c "grep -q 'inet 10.55.0.2/24' '$tmp/out' && grep -q 'inet6 fd55::2/64' '$tmp/out'"
check "netns: guest default routes via 10.55.0.1 and fd55::1" \
	sh -c "grep -q 'default via 10.55.0.1 dev eth0' '$tmp/out' && grep -q 'default via fd55::1 dev eth0' '$tmp/out'"
check "netns: guest pings S over IPv4 and IPv6" sh -c "grep -qx PING4-OK '$tmp/out' && grep -qx PING6-OK '$tmp/out'"
check "netns: guest fetches a page from S (TCP out)" grep -qx "hello: hello from the server" "$tmp/out"
check "netns: guest fetches 2 MiB from S intact" grep -qx "big md5 $big_md5" "$tmp/out"
check "netns: S pings the guest" sh -c "ip netns exec $S $bb ping -c 2 -W 5 10.55.0.2 >/dev/null"
page=$(ip netns exec "$S" timeout 30 $bb wget -q -O - http://10.55.0.2:8081/index.html 2>&1)
check "netns: S fetches a page from the guest (TCP in): '$page'" test "$page" = "hello from the guest"
got=$(ip netns exec "$S" timeout 120 $bb wget -q -O - http://10.55.0.2:8081/big2 | md5sum | cut -d' ' -f1)
check "netns: S fetches 2 MiB from the guest intact" grep -qx "big2 md5 $got" "$tmp/out"
ip netns exec "$S" timeout 10 $bb nc 10.55.0.2 7001 </dev/null >/dev/null 2>&1
wait "$vmpid"
st=$?
if [ "$st" = 0 ] && grep -qx GUEST-DONE "$tmp/out"; then
	ok "netns: the command ends, kvrun vm exits 0"
else
	nok "netns: kvrun vm exited $st" "$tmp/out" "$tmp/err"
fi
left=$(leftovers "$C")
check "netns: after the VM, no tap, qdisc, filter or guard is left in C${left:+: $left}" test -z "$left"

# --- sigkill: the guard cleans up ------------------------------------------
"${vm[@]}" --net "netns=/run/netns/$C" --exec -- /bin/sh -c 'sleep 600' >"$tmp/out2" 2>&1 &
vmpid=$!
pids+=($vmpid)
end=$((SECONDS + 60))
while [ "$SECONDS" -lt "$end" ] && [ -z "$(leftovers "$C")" ] && kill -0 "$vmpid" 2>/dev/null; do
	sleep 0.2
done
up=$(leftovers "$C" | grep -o -e kvtap0 -e 'ingress ffff:' -e 'Redirect to device kvtap0' -e '^[0-9]*$' | tr '\n' ' ')
check "sigkill: while it runs: $up(tap, qdisc, filter, guard)" \
	sh -c "echo '$up' | grep -q kvtap0 && echo '$up' | grep -q ingress"
sleep 2
kill -9 "$vmpid"
wait "$vmpid" 2>/dev/null
end=$((SECONDS + 30))
while [ "$SECONDS" -lt "$end" ] && [ -n "$(leftovers "$C")" ]; do
	sleep 0.2
done
left=$(leftovers "$C")
check "sigkill: after SIGKILL of kvrun vm nothing is left in C${left:+: $left}" test -z "$left"

# --- tap: a named tap, the guest sets itself up ------------------------------
{
	ip netns add "$T" && ip -n "$T" tuntap add dev kvt0 mode tap vnet_hdr &&
		ip -n "$T" addr add 10.56.0.1/24 dev kvt0 && ip -n "$T" link set kvt0 up
} >"$tmp/setup-t.log" 2>&1 || bail "tap: setting up $T: $(tail -n 3 "$tmp/setup-t.log")"
guest_t='
echo "eth0 mac $(cat /sys/class/net/eth0/address)"
ip link set eth0 up && ip addr add 10.56.0.2/24 dev eth0
ping -c 3 -W 5 10.56.0.1 >/dev/null && echo PINGT-OK'
timeout -k 10 300 ip netns exec "$T" "${vm[@]}" --net tap=kvt0,mac=02:00:00:56:00:02 \
	--exec -- /bin/sh -c "$guest_t" >"$tmp/out3" 2>"$tmp/err3"
st=$?
check "tap: kvrun vm --net tap=kvt0 exits 0 (status $st)" test "$st" = 0
check "tap: the guest NIC has mac=02:00:00:56:00:02" grep -qx "eth0 mac 02:00:00:56:00:02" "$tmp/out3"
if grep -qx PINGT-OK "$tmp/out3"; then ok "tap: the guest pings the tap's host side"; else nok "tap: no ping" "$tmp/out3" "$tmp/err3"; fi
check "tap: the persistent tap stays, no guard was needed" \
	sh -c "ip -n '$T' link show kvt0 >/dev/null && ! pgrep -x kvrun-netguard"
[ "$n" = "$total" ] || echo "# ran $n of $total"
