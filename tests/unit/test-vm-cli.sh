#!/usr/bin/env bash
# test-vm-cli.sh - `kvrun vm` front end: help, version and bad input.
#
# Owns: the checks that need no KVM: usage errors exit 2 naming the bad
# value, bad input (missing kernel, non-kernel file, too little memory,
# missing disk, missing or non-directory share, a --net fd that is not a tap,
# a missing netns) exits 1 with one line on stderr before KVM is touched, and
# nothing is left behind (no temp dir; after --net netns=PATH no tap, qdisc or
# filter). Prints TAP. Runs as root (a network namespace with a veth).
# Argument: the kvrun binary.
set -uo pipefail
kvrun=$(realpath "$1")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
n=0
echo "1..54"

# expect NAME STATUS STDERR-SUBSTRING ARGS...
expect() {
	local name=$1 want=$2 msg=$3 st lines
	shift 3
	TMPDIR=$tmp "$kvrun" "$@" >out 2>err
	st=$?
	lines=$(wc -l <err)
	n=$((n + 1))
	if [ "$st" = "$want" ] && grep -qF -- "$msg" err out && { [ "$want" = 0 ] || [ "$lines" = 1 ]; }; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name: status $st (want $want), stderr: $(cat err)"
	fi
}

# A synthetic 64-bit bzImage header (protocol 2.15, relocatable, loads at
# 16 MiB, init_size 64 MiB): it parses but cannot boot.
mk() { printf "$2" | dd of=bz bs=1 seek=$(($1)) conv=notrunc status=none; }
head -c $((5 * 512 + 4096)) /dev/zero >bz
mk 0x1f1 '\x04'
mk 0x1f4 '\x00\x01\x00\x00'
mk 0x1fe '\x55\xaa'
mk 0x200 '\xeb\x66'
mk 0x202 'HdrS'
mk 0x206 '\x0f\x02'
mk 0x211 '\x01'
mk 0x22c '\xff\xff\xff\x7f'
mk 0x230 '\x00\x00\x20\x00'
mk 0x234 '\x01'
mk 0x236 '\x01\x00'
mk 0x238 '\xff\x07\x00\x00'
mk 0x259 '\x00\x00\x01'
mk 0x260 '\x00\x00\x00\x04'
head -c 4096 /dev/zero >zeros

expect "kvrun --help lists the vm verb" 0 "vm " --help
expect "kvrun vm --help documents exit statuses" 0 "128+N" vm --help
expect "kvrun --version" 0 "kvrun " --version
expect "unknown verb is a usage error" 2 'unknown verb "nope"' nope
expect "--cpus 0 names the value" 2 '--cpus: "0" is not between 1 and 254' vm --kernel k --cpus 0
expect "--memory not a multiple of 2M" 2 '--memory: "3M" is not a multiple of 2M' vm --kernel k --memory 3M
expect "--serial bad kind" 2 '--serial: "tty" is not stdio' vm --kernel k --serial tty
expect "unknown option" 2 'unknown option "--bogus"' vm --bogus
expect "missing --kernel" 2 "--kernel is required" vm
expect "missing kernel file" 1 "kernel $tmp/nope: No such file or directory" vm --kernel "$tmp/nope"
expect "not a kernel" 1 "not a Linux kernel" vm --kernel zeros
expect "missing disk" 1 "--disk: $tmp/nodisk: No such file or directory" vm --kernel zeros --disk "path=$tmp/nodisk"
expect "missing initrd" 1 "initrd $tmp/noinitrd: No such file" vm --kernel bz --initrd "$tmp/noinitrd"
expect "too little memory for the kernel" 1 "does not fit: it needs guest RAM up to 80 MiB" vm --kernel bz --memory 32M
expect "--vsock cid 2 is reserved" 2 '--vsock: cid "2" is not between 3 and 4294967294' vm --kernel k --vsock cid=2,socket=s
expect "--vsock cid over 32 bits" 2 '--vsock: cid "4294967295" is not between' vm --kernel k --vsock cid=4294967295,socket=s
expect "--vsock cid not a number" 2 '--vsock: cid "x" is not between' vm --kernel k --vsock cid=x,socket=s
expect "--vsock socket too long" 2 "--vsock: socket \"/$(printf 'a%.0s' $(seq 1 96))\" is empty or longer than 96 bytes" vm --kernel k --vsock "cid=3,socket=/$(printf 'a%.0s' $(seq 1 96))"
expect "--vsock without socket" 2 '--vsock: "cid=3" needs both cid=N and socket=PATH' vm --kernel k --vsock cid=3
expect "--vsock unknown key" 2 '--vsock: "port=1" in "cid=3,port=1" is not' vm --kernel k --vsock cid=3,port=1
expect "--exec without a command" 2 "--exec needs a command" vm --kernel k --exec --
expect "--exec with --serial stdio" 2 "--serial and --console cannot be stdio" vm --kernel k --serial stdio --exec -- true
expect "--exec: bad input still before KVM, no temp dir left" 1 "not a Linux kernel" vm --kernel zeros --exec -- true
long_tag=$(printf 't%.0s' $(seq 1 37))
expect "kvrun vm --help documents --fs" 0 "--fs tag=T,path=DIR[,cache=auto|always|never][,readonly=on]" vm --help
expect "--fs without path" 2 '--fs: "tag=a" needs both tag=T and path=DIR' vm --kernel k --fs tag=a
expect "--fs without tag" 2 '--fs: "path=." needs both tag=T and path=DIR' vm --kernel k --fs path=.
expect "--fs tag over 36 bytes" 2 "--fs: tag \"$long_tag\" is not 1 to 36 printable characters" vm --kernel k --fs "tag=$long_tag,path=."
expect "--fs tag with a blank" 2 '--fs: tag "a b" is not 1 to 36 printable' vm --kernel k --fs "tag=a b,path=."
expect "--fs bad cache mode" 2 '--fs: cache "sometimes" in "tag=a,path=.,cache=sometimes" is not auto, always or never' vm --kernel k --fs tag=a,path=.,cache=sometimes
expect "--fs unknown key" 2 '--fs: "mode=rw" in "tag=a,path=.,mode=rw" is not' vm --kernel k --fs tag=a,path=.,mode=rw
expect "--fs tag given twice" 2 '--fs: tag "a" is given twice' vm --kernel k --fs tag=a,path=. --fs tag=a,path=.
expect "--fs mount= without --exec" 2 "--fs: mount=/mnt needs --exec" vm --kernel k --fs tag=a,path=.,mount=/mnt
expect "--fs mount= not absolute" 2 '--fs: mount "mnt" is not an absolute guest path' vm --kernel k --fs tag=a,path=.,mount=mnt --exec -- true
expect "--fs missing directory, before KVM" 1 "--fs: tag a: $tmp/nodir: No such file or directory" vm --kernel zeros --fs "tag=a,path=$tmp/nodir"
expect "--fs on a file" 1 "--fs: tag a: $tmp/zeros is not a directory" vm --kernel zeros --fs "tag=a,path=$tmp/zeros,readonly=on"
expect "--net without a backend" 2 '--net: "mtu=1500" needs exactly one of tap=NAME, fd=N or netns=PATH' vm --kernel k --net mtu=1500
expect "--net with two backends" 2 '--net: "tap=a,fd=3" needs exactly one of' vm --kernel k --net tap=a,fd=3
expect "--net tap name too long" 2 '--net: tap "abcdefghijklmnop" is empty or longer than 15 bytes' vm --kernel k --net tap=abcdefghijklmnop
expect "--net multicast mac" 2 '--net: mac "01:00:5e:00:00:01" is not a unicast MAC address' vm --kernel k --net tap=t0,mac=01:00:5e:00:00:01
expect "--net malformed mac" 2 '--net: mac "02:00:00:00:00:0g" is not a unicast' vm --kernel k --net tap=t0,mac=02:00:00:00:00:0g
expect "--net all-zero mac" 2 '--net: mac "00:00:00:00:00:00" is not a unicast' vm --kernel k --net tap=t0,mac=00:00:00:00:00:00
expect "--net mtu too small" 2 '--net: mtu "40" is not between 68 and 65535' vm --kernel k --net tap=t0,mtu=40
expect "--net mtu too large" 2 '--net: mtu "65536" is not between 68 and 65535' vm --kernel k --net tap=t0,mtu=65536
expect "--net unknown key" 2 '--net: "speed=1" in "tap=t0,speed=1" is not tap=NAME, fd=N, netns=PATH' vm --kernel k --net tap=t0,speed=1
expect "--net netns with a mac" 2 'with netns=PATH the MAC and MTU come from the namespace' vm --kernel k --net netns=/x,mac=02:00:00:00:00:01
expect "--net two netns" 2 '--net: "netns=/b": only one netns=PATH' vm --kernel k --net netns=/a --net netns=/b
expect "--net fd not a number" 2 '--net: fd "x" is not a file descriptor number' vm --kernel k --net fd=x
expect "--net nine NICs" 2 '--net: at most 8 NICs' vm --kernel k $(for i in 0 1 2 3 4 5 6 7 8; do echo --net tap=t$i; done)
expect "--net fd closed: before KVM" 1 '--net: fd 77: Bad file descriptor' vm --kernel zeros --net fd=77
expect "--net fd not a tap: before KVM" 1 '--net: fd 0 is not a tap with IFF_TAP|IFF_NO_PI|IFF_VNET_HDR' vm --kernel zeros --net fd=0 </dev/null
expect "--net netns missing" 1 "--net netns=$tmp/nons: network namespace $tmp/nons: No such file or directory" vm --kernel zeros --net netns="$tmp/nons"

# A real namespace with a veth (root): the attach happens, the bad kernel
# is found after it, and nothing of the attach is left behind.
ns=kvcli-$$
if ip netns add "$ns" 2>/dev/null && ip link add eth0 netns "$ns" type veth peer name p0 netns "$ns" &&
	ip -n "$ns" link set eth0 up; then
	expect "--net netns: bad kernel after the attach" 1 "not a Linux kernel" vm --kernel zeros --net netns=/run/netns/$ns
	n=$((n + 1))
	q=$(tc -n "$ns" qdisc show dev eth0; tc -n "$ns" filter show dev eth0 ingress; ip -n "$ns" -o link show)
	if grep -q -e ingress -e kvtap <<<"$q"; then echo "not ok $n - --net netns: left behind: $q"; else echo "ok $n - --net netns: no tap, qdisc or filter left"; fi
else
	n=$((n + 1)); echo "not ok $n - cannot make a network namespace with a veth (root, iproute2)"
	n=$((n + 1)); echo "not ok $n - (skipped with the above)"
fi
ip netns del "$ns" 2>/dev/null

n=$((n + 1))
left=$(ls -A | grep -v -e '^out$' -e '^err$' -e '^bz$' -e '^zeros$')
if [ -z "$left" ]; then echo "ok $n - nothing left behind"; else echo "not ok $n - left behind: $left"; fi
