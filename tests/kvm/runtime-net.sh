#!/usr/bin/env bash
# runtime-net.sh - a container's network through the OCI runtime, as CNI leaves it.
#
# Owns: the KVM test of kvrun's network namespace handling (runtime/network.h,
# docs/networking.md). Two network namespaces stand in for a container's ("C",
# holding veth eth0 with 10.57.0.2/24, fd57::2/64, MTU 1400 and default
# routes, as a CNI bridge plugin leaves it) and its peer's ("S": 10.57.0.1 and
# fd57::1, busybox httpd). Then, with `kvrun run` of bundles whose
# linux.namespaces name them:
#   path      the container sees C's MAC, MTU, addresses and routes; ping both
#             ways; 2 MiB over TCP both ways; while it runs the tap, qdisc and
#             filter are on C's eth0; after run (which deletes) none is left
#   sigkill   run -d, SIGKILL of the VMM, delete: nothing left; then the same
#             with the guard killed too: its filter stays until delete removes it
#   empty     a namespace holding only lo (podman --network none): loopback only
#   new       a network entry without a path: loopback only
#   hook      a network entry without a path and a createRuntime hook that moves a
#             veth into the VMM's namespace (docker's libnetwork-setkey does so):
#             the container gets it
#   host      no network entry (--network host): refused naming linux.namespaces,
#             nothing left
#   cycles    CYCLES (default 20) create/delete cycles on C: nothing left after each
# Prints TAP. Needs a hardware-virtualization /dev/kvm, veth, tun and tc
# (sch_ingress, cls_u32, act_mirred): tests/testhost/with-kvm.
set -uo pipefail

usage() {
	echo "usage: runtime-net.sh KVRUN BUILD_DIR KERNEL_DIR GUEST_KERNEL [CYCLES]"
	echo "  KERNEL_DIR: rootfs/fetch-kernel cloud DIR; GUEST_KERNEL: its kernel to boot"
}
case ${1:-} in -h | --help) usage; exit 0 ;; esac
[ $# -eq 4 ] || [ $# -eq 5 ] || { usage >&2; exit 2; }
kvrun=$1
build=$2
kdir=$3
kernel=$4
cycles=${5:-20}
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bb=/bin/busybox

# Under the subreaper, which records the exit status of every orphan (the
# VMM processes of run -d) in $KVRUN_TEST_STATUS/PID.
if [ -z "${KVRUN_TEST_STATUS:-}" ]; then
	KVRUN_TEST_STATUS=$(mktemp -d)
	export KVRUN_TEST_STATUS
	"$build/tests/subreaper" "$KVRUN_TEST_STATUS" -- "$0" "$@"
	st=$?
	rm -rf "$KVRUN_TEST_STATUS"
	exit $st
fi
sdir=$KVRUN_TEST_STATUS

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	shift
	for f in "$@"; do [ -f "$f" ] && sed 's/^/#   /' "$f" | tail -n 30; done
	return 0
}
check() { # check DESCRIPTION CONDITION-COMMAND... ; files after -- are shown on failure
	local d=$1
	shift
	local files=()
	local cmd=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do cmd+=("$1"); shift; done
	[ "${1:-}" = -- ] && { shift; files=("$@"); }
	if "${cmd[@]}"; then ok "$d"; else nok "$d" "${files[@]}"; fi
}

tmp=$(mktemp -d)
root=$tmp/root
log=$tmp/log
C=kvrn$$c S=kvrn$$s E=kvrn$$e H=kvrn$$h
pids=()
cleanup() {
	for d in "$root"/*; do
		[ -d "$d" ] && "$kvrun" --root "$root" delete --force "${d##*/}" >/dev/null 2>&1
	done
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	for ns in "$C" "$S" "$E" "$H"; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
bail() {
	nok "$1"
	echo "1..$n"
	exit 1
}

image=$("$src/rootfs/mkguest" --kernel-dir "$kdir" --agent "$build/rootfs/kvrun-agent" \
	2>"$tmp/mkguest.err") || bail "building the guest image: $(cat "$tmp/mkguest.err")"
echo "# guest image $image"
cat >"$tmp/kvrun.conf" <<EOF
kernel = $kernel
initramfs = $image
memory = 256M
# sanitizer builds of the VMM need more than the default headroom
vmm_overhead = 1024M
EOF
export KVRUN_CONFIG=$tmp/kvrun.conf
kv() { "$kvrun" --root "$root" --log "$log" "$@"; }

# mkbundle DIR JQ-FILTER [JQ-ARGS...]: kvrun spec, the guest image's root, then
# the filter (the script to run is $s: --arg s SCRIPT). CAP_NET_RAW for ping, as
# docker and podman grant it. The guest image's root has busybox's applets only
# inside sh: a program that runs another (timeout) is given `busybox APPLET`.
mkbundle() {
	local dir=$1 filter=$2
	shift 2
	rm -rf "$dir"
	mkdir -p "$dir/rootfs"
	"$kvrun" spec -b "$dir" || return 1
	jq "$@" '.process.terminal = false | .root.readonly = false
	    | .process.capabilities |= map_values(. + ["CAP_NET_RAW"])
	    | .annotations = {"io.kvrun.rootfs": "initramfs"} | '"$filter" \
		"$dir/config.json" >"$dir/c" && mv "$dir/c" "$dir/config.json"
}
# netns_filter PATH: linux.namespaces with network at PATH ("" : no path, "-": none)
netns_filter() {
	case $1 in
	-) echo '.linux.namespaces |= map(select(.type != "network"))' ;;
	"") echo '.linux.namespaces |= map(if .type == "network" then {type: "network"} else . end)' ;;
	*) echo ".linux.namespaces |= map(if .type == \"network\" then {type: \"network\", path: \"$1\"} else . end)" ;;
	esac
}

# leftovers NS: what of ours is still in namespace NS (empty when nothing)
leftovers() {
	{
		ip -n "$1" -o link show | grep -o 'kvtap[0-9]*'
		tc -n "$1" qdisc show dev eth0 | grep ingress
		tc -n "$1" filter show dev eth0 ingress | grep -m1 mirred
		pgrep -x kvrun-netguard
		pgrep -x kvrun-vmm
		ls -A "$root" 2>/dev/null
	} 2>/dev/null
}

# wait_for FILE PATTERN SECONDS PID: until PATTERN shows up in FILE, PID has
# exited, or SECONDS of wall clock have passed.
wait_for() {
	local end=$((SECONDS + $3))
	while [ "$SECONDS" -lt "$end" ]; do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		kill -0 "$4" 2>/dev/null || break
		sleep 0.5
	done
	grep -q -- "$2" "$1" 2>/dev/null
}

# wait_status PID: the exit status the subreaper recorded (up to 120 s).
wait_status() {
	local end=$((SECONDS + 120))
	while [ "$SECONDS" -lt "$end" ]; do
		[ -f "$sdir/$1" ] && { cat "$sdir/$1"; return 0; }
		sleep 0.2
	done
	echo timeout
}

# --- the namespaces, as a CNI bridge plugin would leave C ------------------
{
	ip netns add "$C" && ip netns add "$S" &&
		ip link add eth0 netns "$C" mtu 1400 type veth peer name srv0 netns "$S" mtu 1400 &&
		ip -n "$C" addr add 10.57.0.2/24 dev eth0 && ip -n "$C" addr add fd57::2/64 dev eth0 nodad &&
		ip -n "$C" link set eth0 up && ip -n "$C" link set lo up &&
		ip -n "$C" route add default via 10.57.0.1 && ip -n "$C" -6 route add default via fd57::1 &&
		ip -n "$S" addr add 10.57.0.1/24 dev srv0 && ip -n "$S" addr add fd57::1/64 dev srv0 nodad &&
		ip -n "$S" link set srv0 up && ip -n "$S" link set lo up && ip netns add "$E"
} >"$tmp/setup.log" 2>&1 || bail "namespaces: $(tail -n 3 "$tmp/setup.log")"
mac=$(ip netns exec "$C" cat /sys/class/net/eth0/address)
mkdir -p "$tmp/www"
head -c 2097152 /dev/urandom >"$tmp/www/big"
big_md5=$(md5sum <"$tmp/www/big" | cut -d' ' -f1)
ip netns exec "$S" $bb httpd -f -p 8080 -h "$tmp/www" &
pids+=($!)

# --- path: the container takes C's interface --------------------------------
script='
mkdir -p /tmp/www
echo "eth0 mac $(cat /sys/class/net/eth0/address) mtu $(cat /sys/class/net/eth0/mtu)"
ip -o addr show dev eth0 scope global
ip route; ip -6 route
ping -c 2 -W 5 10.57.0.1 >/dev/null && echo PING4-OK
ping6 -c 2 -W 5 fd57::1 >/dev/null && echo PING6-OK
if busybox timeout 60 busybox wget -q -O /tmp/big http://10.57.0.1:8080/big 2>/tmp/wget.err; then
	echo "big md5 $(md5sum </tmp/big | cut -d" " -f1)"
else
	echo "wget failed: $(cat /tmp/wget.err)"
fi
head -c 2097152 /dev/urandom >/tmp/www/big2 && echo "big2 md5 $(md5sum </tmp/www/big2 | cut -d" " -f1)"
httpd -p 8081 -h /tmp/www && echo CT-READY
busybox timeout 120 busybox nc -l -p 7001 >/dev/null
echo CT-DONE'
mkbundle "$tmp/b1" "$(netns_filter "/run/netns/$C") | .process.args = [\"sh\", \"-c\", \$s]" \
	--arg s "$script" || bail "bundle b1"
start=$SECONDS
timeout -k 10 400 "$kvrun" --root "$root" --log "$log" run -b "$tmp/b1" kvrn-path \
	</dev/null >"$tmp/out" 2>"$tmp/err" &
runpid=$!
pids+=($runpid)
if wait_for "$tmp/out" CT-READY 300 "$runpid"; then
	ok "path: the container is up on C's network ($((SECONDS - start)) s)"
else
	nok "path: the container never said CT-READY" "$tmp/out" "$tmp/err" "$log"
fi
up=$(leftovers "$C" | tr '\n' ' ')
check "path: while it runs, C's eth0 is redirected to a tap, with a guard: $up" \
	sh -c "echo '$up' | grep -q kvtap && echo '$up' | grep -q ingress && echo '$up' | grep -q mirred"
check "path: eth0 in the container has C's MAC $mac and MTU 1400" grep -qx "eth0 mac $mac mtu 1400" "$tmp/out" -- "$tmp/out"
check "path: 10.57.0.2/24 and fd57::2/64 (NET_CONFIG)" \
	sh -c "grep -q 'inet 10.57.0.2/24' '$tmp/out' && grep -q 'inet6 fd57::2/64' '$tmp/out'" -- "$tmp/out"
check "path: default routes via 10.57.0.1 and fd57::1" \
	sh -c "grep -q 'default via 10.57.0.1 dev eth0' '$tmp/out' && grep -q 'default via fd57::1 dev eth0' '$tmp/out'" -- "$tmp/out"
check "path: the container pings S over IPv4 and IPv6" \
	sh -c "grep -qx PING4-OK '$tmp/out' && grep -qx PING6-OK '$tmp/out'" -- "$tmp/out"
check "path: the container fetches 2 MiB from S intact (TCP out)" grep -qx "big md5 $big_md5" "$tmp/out" -- "$tmp/out" "$tmp/err"
# Only the guest can answer: C's own stack sees nothing while eth0 is redirected.
check "path: S pings the container (IPv4 and IPv6)" \
	sh -c "grep -qx CT-READY '$tmp/out' && echo '$up' | grep -q mirred &&
		ip netns exec $S $bb ping -c 2 -W 5 10.57.0.2 >/dev/null && ip netns exec $S $bb ping6 -c 2 -W 5 fd57::2 >/dev/null"
got=$(ip netns exec "$S" timeout 120 $bb wget -q -O - http://10.57.0.2:8081/big2 | md5sum | cut -d' ' -f1)
check "path: S fetches 2 MiB from the container intact (TCP in)" grep -qx "big2 md5 $got" "$tmp/out" -- "$tmp/out"
ip netns exec "$S" timeout 10 $bb nc 10.57.0.2 7001 </dev/null >/dev/null 2>&1
wait "$runpid"
st=$?
check "path: the container ends, run exits 0 (status $st)" \
	sh -c "[ $st = 0 ] && grep -qx CT-DONE '$tmp/out'" -- "$tmp/out" "$tmp/err"
left=$(leftovers "$C" | tr '\n' ' ')
check "path: after run (and its delete) nothing is left in C: $left" test -z "$left"

# --- sigkill: the VMM killed, then delete ------------------------------------
mkbundle "$tmp/b2" "$(netns_filter "/run/netns/$C") | .process.args = [\"sh\", \"-c\", \"sleep 600\"]" || bail "bundle b2"
kv run -d -b "$tmp/b2" --pid-file "$tmp/pid2" kvrn-kill </dev/null >/dev/null 2>"$tmp/e2"
pid2=$(cat "$tmp/pid2" 2>/dev/null)
up=$(leftovers "$C" | tr '\n' ' ')
check "sigkill: run -d: tap, qdisc and filter in C: $up" \
	sh -c "[ -n '$pid2' ] && echo '$up' | grep -q kvtap && echo '$up' | grep -q mirred" -- "$tmp/e2" "$log"
[ -n "$pid2" ] && kill -9 "$pid2"
st=$([ -n "$pid2" ] && wait_status "$pid2")
kv delete kvrn-kill 2>"$tmp/e"
end=$((SECONDS + 30))
while [ "$SECONDS" -lt "$end" ] && [ -n "$(leftovers "$C")" ]; do sleep 0.2; done
left=$(leftovers "$C" | tr '\n' ' ')
check "sigkill: after SIGKILL of the VMM (status $st) and delete nothing is left: $left" \
	sh -c "[ '$st' = 137 ] && [ -z '$left' ]" -- "$tmp/e" "$log"

# The guard killed too (an engine killing the whole cgroup): delete cleans up.
kv run -d -b "$tmp/b2" --pid-file "$tmp/pid3" kvrn-kill2 </dev/null >/dev/null 2>"$tmp/e3"
pid3=$(cat "$tmp/pid3" 2>/dev/null)
guard=$(pgrep -x kvrun-netguard)
[ -n "$guard" ] && kill -9 $guard
[ -n "$pid3" ] && kill -9 "$pid3"
st=$([ -n "$pid3" ] && wait_status "$pid3")
sleep 1
stale=$(tc -n "$C" filter show dev eth0 ingress 2>/dev/null | grep -c mirred)
kv delete kvrn-kill2 2>"$tmp/e"
left=$(leftovers "$C" | tr '\n' ' ')
check "sigkill: VMM and guard killed: the filter stays ($stale), delete removes it: $left" \
	sh -c "[ -n '$guard' ] && [ '$stale' -ge 1 ] && [ -z '$left' ]" -- "$tmp/e" "$tmp/e3" "$log"

# --- no NIC: an empty namespace, a new one ---------------------------------
loonly='ip -o link show | cut -d: -f2 | tr -d " " | tr "\n" " "; echo; ip -o link show lo | grep -q "UP" && echo LO-UP'
for case in "empty:/run/netns/$E" "new:"; do
	name=${case%%:*}
	mkbundle "$tmp/b-$name" "$(netns_filter "${case#*:}") | .process.args = [\"sh\", \"-c\", \$s]" \
		--arg s "$loonly" || bail "bundle $name"
	timeout -k 10 300 "$kvrun" --root "$root" --log "$log" run -b "$tmp/b-$name" "kvrn-$name" \
		</dev/null >"$tmp/out-$name" 2>"$tmp/err-$name"
	st=$?
	check "$name: loopback only, up (status $st): $(head -1 "$tmp/out-$name")" \
		sh -c "[ $st = 0 ] && [ \"\$(head -1 '$tmp/out-$name')\" = 'lo ' ] && grep -qx LO-UP '$tmp/out-$name'" \
		-- "$tmp/out-$name" "$tmp/err-$name" "$log"
done

# --- hook: a veth moved into the VMM's own namespace by createRuntime ----------
{
	ip netns add "$H" && ip link add hk0 mtu 1300 type veth peer name hksrv netns "$H" &&
		ip -n "$H" addr add 10.58.0.1/24 dev hksrv && ip -n "$H" link set hksrv up
} >"$tmp/setup-h.log" 2>&1 || bail "hook: $(tail -n 3 "$tmp/setup-h.log")"
cat >"$tmp/setkey.sh" <<'EOF'
#!/bin/sh
# what docker's libnetwork-setkey does: the container's interface into /proc/PID/ns/net
pid=$(jq -r .pid)
ns=/proc/$pid/ns/net
ip link set hk0 netns "$ns" &&
	nsenter --net="$ns" ip link set hk0 name eth0 &&
	nsenter --net="$ns" ip addr add 10.58.0.2/24 dev eth0 &&
	nsenter --net="$ns" ip link set eth0 up
EOF
chmod +x "$tmp/setkey.sh"
hscript='echo "eth0 mtu $(cat /sys/class/net/eth0/mtu)"; ip -o addr show dev eth0 scope global; ping -c 2 -W 5 10.58.0.1 >/dev/null && echo PINGH-OK'
mkbundle "$tmp/b-hook" "$(netns_filter "") | .process.args = [\"sh\", \"-c\", \$s]
	| .hooks = {createRuntime: [{path: \"$tmp/setkey.sh\"}]}" --arg s "$hscript" || bail "bundle hook"
timeout -k 10 300 "$kvrun" --root "$root" --log "$log" run -b "$tmp/b-hook" kvrn-hook \
	</dev/null >"$tmp/out-h" 2>"$tmp/err-h"
st=$?
check "hook: the veth a createRuntime hook moved into the VMM's namespace is the container's (status $st)" \
	sh -c "[ $st = 0 ] && grep -qx 'eth0 mtu 1300' '$tmp/out-h' && grep -q 'inet 10.58.0.2/24' '$tmp/out-h' && grep -qx PINGH-OK '$tmp/out-h'" \
	-- "$tmp/out-h" "$tmp/err-h" "$log"

# --- host: no network namespace ----------------------------------------------
mkbundle "$tmp/b-host" "$(netns_filter -)" || bail "bundle host"
kv create -b "$tmp/b-host" kvrn-host </dev/null >/dev/null 2>"$tmp/e-host"
st=$?
left=$(leftovers "$C" | tr '\n' ' ')
check "host: no network namespace is refused naming linux.namespaces, nothing left (status $st) $left" \
	sh -c "[ $st = 1 ] && grep -q 'linux.namespaces' '$tmp/e-host' && grep -q 'host' '$tmp/e-host' && [ -z '$left' ]" \
	-- "$tmp/e-host"
echo "# $(cat "$tmp/e-host")"

# --- cycles: create/delete on C ----------------------------------------------
bad=""
for i in $(seq 1 "$cycles"); do
	if ! kv create -b "$tmp/b2" "kvrn-cycle$i" </dev/null >/dev/null 2>"$tmp/e-cyc"; then
		bad="create $i: $(cat "$tmp/e-cyc")"
		break
	fi
	if ! kv delete "kvrn-cycle$i" 2>"$tmp/e-cyc"; then
		bad="delete $i: $(cat "$tmp/e-cyc")"
		break
	fi
	left=$(leftovers "$C" | tr '\n' ' ')
	[ -z "$left" ] || { bad="cycle $i left: $left"; break; }
done
check "cycles: $cycles create/delete cycles on C leave no tap, qdisc, filter, guard or state${bad:+: $bad}" test -z "$bad"

echo "1..$n"
[ "$failed" = 0 ]
