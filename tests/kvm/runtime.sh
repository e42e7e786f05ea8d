#!/usr/bin/env bash
# runtime.sh - the OCI runtime driven directly, as containerd's shim or conmon would.
#
# Owns: the end-to-end test of kvrun's verbs in real VMs: run (exit status,
# stdin, stdout/stderr apart, env, cwd, uid/gid/groups, hostname, the guest
# kernel, read-only root, the six hooks in order), create/start/state with
# the pid file and the VMM reparented to its subreaper (tests/kvm/subreaper
# plays the shim), a duplicate id, exec (status, env, stdin, --detach and
# its pid file, a terminal), ps, events --stats, pause/resume (the guest
# stops producing output), update, SIGTERM caught by a trap, a terminal with
# a resize through --console-socket (tests/kvm/console-peer plays the
# client), SIGKILL of a paused container (137), delete --force, SIGKILL of
# the VMM followed by delete, bad input, and no residue (state, cgroups,
# processes, mounts) after all that and after 20 create/delete cycles.
# Each bundle's rootfs is a busybox-static root that reaches the guest
# through virtio-fs; section 9 checks that share itself (the container's
# writes land in the bundle, a read-only root, file and directory binds, ro
# too, a tmpfs, no mount on the host) and one container on the guest
# image's own root (io.kvrun.rootfs=initramfs). Prints TAP. Needs a
# hardware-virtualization /dev/kvm (tests/testhost/with-kvm).
set -uo pipefail

usage() {
	echo "usage: runtime.sh KVRUN BUILD_DIR KERNEL_DIR GUEST_KERNEL [CYCLES]"
	echo "  KERNEL_DIR: rootfs/fetch-kernel cloud DIR; GUEST_KERNEL: its kernel to boot"
	echo "  (the ELF vmlinux of make guest); the guest image is rootfs/mkguest's with"
	echo "  BUILD_DIR's agent"
}
case ${1:-} in -h | --help) usage; exit 0 ;; esac
[ $# -ge 4 ] || { usage >&2; exit 2; }
kvrun=$1
build=$2
kdir=$3
kernel=$4
cycles=${5:-20}

# Run under the subreaper, which records the exit status of every orphan
# (the VMM processes) in $KVRUN_TEST_STATUS/PID.
if [ -z "${KVRUN_TEST_STATUS:-}" ]; then
	KVRUN_TEST_STATUS=$(mktemp -d)
	export KVRUN_TEST_STATUS
	"$build/tests/subreaper" "$KVRUN_TEST_STATUS" -- "$0" "$@"
	st=$?
	rm -rf "$KVRUN_TEST_STATUS"
	exit $st
fi
sdir=$KVRUN_TEST_STATUS
peer=$build/tests/console-peer

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	shift
	for f in "$@"; do [ -f "$f" ] && sed 's/^/#   /' "$f" | tail -n 25; done
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
cleanup() {
	for d in "$root"/*; do
		[ -d "$d" ] && "$kvrun" --root "$root" delete --force "${d##*/}" >/dev/null 2>&1
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

# The guest image with this build's agent: content-addressed in the cache, so
# other checkouts' images never replace it while this test runs.
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
initramfs=$("$src/rootfs/mkguest" --kernel-dir "$kdir" --agent "$build/rootfs/kvrun-agent" 2>"$tmp/mkguest.err") || {
	echo "not ok 1 - building the guest image: $(cat "$tmp/mkguest.err")"
	echo "1..1"
	exit 1
}
echo "# guest image $initramfs"
cat >"$tmp/kvrun.conf" <<EOF
# the test's guest image
kernel = $kernel
initramfs = $initramfs
memory = 256M
# sanitizer builds of the VMM need more than the default headroom
vmm_overhead = 1024M
EOF
export KVRUN_CONFIG=$tmp/kvrun.conf

kv() { "$kvrun" --root "$root" --log "$log" --log-format json "$@"; }

# The containers' root: the host's static busybox, every applet linked.
rootfs_tpl=$tmp/rootfs-template
mkdir -p "$rootfs_tpl"/{bin,etc,tmp,proc,sys,dev,root,run} &&
	cp /bin/busybox "$rootfs_tpl/bin/busybox" &&
	chroot "$rootfs_tpl" /bin/busybox --install -s /bin &&
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$rootfs_tpl/etc/passwd" || {
	echo "not ok 1 - building the containers' busybox root"
	echo "1..1"
	exit 1
}

# mkbundle DIR JQ-FILTER: kvrun spec on a copy of the busybox root, then the
# test's defaults, then the filter.
mkbundle() {
	rm -rf "$1"
	mkdir -p "$1"
	cp -a "$rootfs_tpl" "$1/rootfs" || return 1
	"$kvrun" spec -b "$1" || return 1
	jq '.process.terminal = false | .root.readonly = false | .hostname = "kvrun-test"
	    | '"$2" "$1/config.json" >"$1/c" && mv "$1/c" "$1/config.json"
}

# wait_status PID: the exit status the subreaper recorded (waits up to 120 s).
wait_status() {
	local i
	for i in $(seq 1 1200); do
		[ -f "$sdir/$1" ] && { cat "$sdir/$1"; return 0; }
		sleep 0.1
	done
	echo timeout
	return 1
}

# wait_for FILE TEXT: until FILE contains TEXT (120 s).
wait_for() {
	local i
	for i in $(seq 1 1200); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

field() { kv state "$1" | jq -r ".$2"; }
jqtest() { jq -e "$1" "$2" >/dev/null 2>&1; } # jqtest FILTER FILE

# wait_bg PID: a background job's exit status into $bg_status; killed after 120 s.
wait_bg() {
	local i
	for i in $(seq 1 1200); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill "$1" 2>/dev/null
	wait "$1"
	bg_status=$?
}

# Nothing of the containers left: state, VMM processes, cgroups, mounts.
residue() {
	local out=""
	[ -z "$(ls -A "$root" 2>/dev/null)" ] || out+=" state: $(ls -A "$root" | tr '\n' ' ')"
	pgrep -x kvrun-vmm >/dev/null && out+=" processes: $(pgrep -x kvrun-vmm | tr '\n' ' ')"
	local cg
	cg=$(find /sys/fs/cgroup -type d -name 'kvt-*' 2>/dev/null | head -5)
	[ -n "$cg" ] && out+=" cgroups: $cg"
	grep -q "$tmp" /proc/self/mountinfo && out+=" mounts under $tmp"
	# ... in no mount namespace at all (the VMMs' private ones included).
	local held
	held=$(grep -l "$tmp" /proc/[0-9]*/mountinfo 2>/dev/null | head -3 | tr '\n' ' ')
	[ -n "$held" ] && out+=" mounts under $tmp held in $held"
	echo "$out"
}

host_release=$(uname -r)

# --- 1. run: status, stdio, identity, hooks -----------------------------------
hooks=$tmp/hooks
printf '#!/bin/sh\n# a hook: its kind, and the status and pid of the state on stdin\nread -r s\necho "$1 $(echo "$s" | jq -r .status) $(echo "$s" | jq -r .pid)" >>"%s"\n' "$hooks" >"$tmp/hook.sh"
chmod +x "$tmp/hook.sh"
hook() { printf '[{"path": "%s", "args": ["hook.sh", "%s"]}]' "$tmp/hook.sh" "$1"; }
mkbundle "$tmp/b1" '.process.args = ["sh", "-c", "read l; echo in:$l; echo env:$FOO; echo cwd:$(pwd); id; echo host:$(hostname); echo dom:$(cat /proc/sys/kernel/domainname); uname -r; touch /ro-test 2>/dev/null || echo ro:yes; echo umask:$(umask); echo oom:$(cat /proc/self/oom_score_adj); echo kcore:$(stat -c %s /proc/kcore); (echo > /proc/sys/kernel/hostname) 2>/dev/null || echo procsys:ro; echo fwd:$(cat /proc/sys/net/ipv4/ip_forward); [ -c /dev/fuse ] && echo dev:fuse; mkdir /data/x && echo mkdir:ok; rmdir /data/x 2>/dev/null || echo rmdir:denied; echo pids:$(cat /sys/fs/cgroup/pids.max); echo oops >&2; exit 3"]
	| .process.env += ["FOO=bar"] | .process.cwd = "/run"
	| .process.user = {"uid": 1000, "gid": 1000, "additionalGids": [10, 20], "umask": 63}
	| .process.oomScoreAdj = 500
	| .hostname = "box1" | .domainname = "dom1" | .root.readonly = true
	| .mounts += [{"destination": "/data", "type": "tmpfs", "source": "tmpfs", "options": ["mode=1777"]}]
	| .linux.sysctl = {"net.ipv4.ip_forward": "1"}
	| .linux.devices = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438}]
	| .linux.resources.pids = {"limit": 42}
	| .linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
	    "syscalls": [{"names": ["rmdir", "unlinkat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
	| .hooks = {"prestart": '"$(hook prestart)"', "createRuntime": '"$(hook createRuntime)"',
	    "createContainer": '"$(hook createContainer)"', "startContainer": '"$(hook startContainer)"',
	    "poststart": '"$(hook poststart)"', "poststop": '"$(hook poststop)"'}' ||
	nok "bundle 1"
t0=$(date +%s.%N)
echo "hello" | kv run -b "$tmp/b1" kvt-run >"$tmp/o1" 2>"$tmp/e1"
st=$?
t1=$(date +%s.%N)
echo "# kvrun run (boot to exit): $(awk "BEGIN{printf \"%.2f\", $t1 - $t0}") s"
check "run: the container's exit status 3 is kvrun run's" [ "$st" = 3 ] -- "$tmp/o1" "$tmp/e1" "$log"
check "run: stdin reaches the container" grep -qx "in:hello" "$tmp/o1" -- "$tmp/o1"
check "run: stderr apart from stdout" [ "$(cat "$tmp/e1")" = oops ] -- "$tmp/e1"
check "run: stdout without stderr" bash -c '! grep -q oops "$1"' _ "$tmp/o1" -- "$tmp/o1"
check "run: env" grep -qx "env:bar" "$tmp/o1" -- "$tmp/o1"
check "run: cwd" grep -qx "cwd:/run" "$tmp/o1" -- "$tmp/o1"
check "run: uid 1000, gid 1000, additional groups 10 and 20" \
	grep -q "uid=1000 gid=1000 groups=.*10.*20" "$tmp/o1" -- "$tmp/o1"
check "run: hostname" grep -qx "host:box1" "$tmp/o1" -- "$tmp/o1"
guest_release=$(grep -E '^[0-9]+\.[0-9]+' "$tmp/o1" | head -1)
check "run: the guest's kernel ($guest_release) is not the host's ($host_release)" \
	[ -n "$guest_release" -a "$guest_release" != "$host_release" ] -- "$tmp/o1"
check "run: root.readonly makes the root read-only" grep -qx "ro:yes" "$tmp/o1" -- "$tmp/o1"
check "run: domainname" grep -qx "dom:dom1" "$tmp/o1" -- "$tmp/o1"
check "run: umask" grep -qx "umask:0077" "$tmp/o1" -- "$tmp/o1"
check "run: oomScoreAdj" grep -qx "oom:500" "$tmp/o1" -- "$tmp/o1"
check "run: maskedPaths (/proc/kcore)" grep -qx "kcore:0" "$tmp/o1" -- "$tmp/o1"
check "run: readonlyPaths (/proc/sys)" grep -qx "procsys:ro" "$tmp/o1" -- "$tmp/o1"
check "run: sysctl in the container's network namespace" grep -qx "fwd:1" "$tmp/o1" -- "$tmp/o1"
check "run: linux.devices" grep -qx "dev:fuse" "$tmp/o1" -- "$tmp/o1"
check "run: seccomp (mkdir allowed, rmdir refused with EPERM)" \
	bash -c 'grep -qx "mkdir:ok" "$1" && grep -qx "rmdir:denied" "$1"' _ "$tmp/o1" -- "$tmp/o1"
check "run: linux.resources in the guest's cgroup (pids.max)" grep -qx "pids:42" "$tmp/o1" -- "$tmp/o1"
printf 'prestart creating\ncreateRuntime creating\ncreateContainer creating\nstartContainer created\npoststart running\npoststop stopped\n' >"$tmp/hooks.want"
cut -d' ' -f1,2 "$hooks" >"$tmp/hooks.got" 2>/dev/null
check "hooks: all six, in order, with the state on stdin" cmp -s "$tmp/hooks.want" "$tmp/hooks.got" -- "$hooks"
hook_pids=$(awk '$1 != "poststop" && $3 <= 0 {bad=1} $1 == "poststop" && $3 != 0 {bad=1} END {print bad ? "bad" : "ok"}' "$hooks" 2>/dev/null)
check "hooks: the state's pid is the VMM's, 0 once stopped" [ "$hook_pids" = ok ] -- "$hooks"
check "run: deleted afterwards" [ -z "$(residue)" ]

# --- 2. create/start/state, exec, ps, events, pause, update, SIGTERM ---------
mkbundle "$tmp/b2" '.process.args = ["sh", "-c", "trap \"echo got-term; exit 7\" TERM; echo started; while :; do sleep 1; done"]
	| .process.env += ["FOO=foo"] | .linux.cgroupsPath = "/kvt-life"
	| .linux.resources.memory = {"limit": 209715200}' || nok "bundle 2"
kv create -b "$tmp/b2" --pid-file "$tmp/pid2" kvt-life </dev/null >"$tmp/o2" 2>"$tmp/e2"
st=$?
pid=$(cat "$tmp/pid2" 2>/dev/null)
check "create: exit 0, pid file written" [ "$st" = 0 -a -n "$pid" ] -- "$tmp/e2" "$log"
check "state: created, pid is the pid file's" [ "$(field kvt-life status) $(field kvt-life pid)" = "created $pid" ]
check "the pid is the live VMM process, reparented to the subreaper" \
	[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = kvrun-vmm -a "$(awk '{print $4}' "/proc/$pid/stat" 2>/dev/null)" = "$PPID" ]
check "the VMM process is in linux.cgroupsPath" grep -q "kvt-life" "/proc/$pid/cgroup" -- "/proc/$pid/cgroup"
check "created: the process waits for start (no output yet)" [ ! -s "$tmp/o2" ] -- "$tmp/o2"
kv create -b "$tmp/b2" kvt-life >/dev/null 2>"$tmp/e"
st=$?
check "create of a duplicate id fails clearly, the first is untouched" \
	[ "$st" = 1 -a "$(grep -c 'already exists' "$tmp/e")" = 1 -a "$(field kvt-life status)" = created ] -- "$tmp/e"
kv start kvt-life 2>"$tmp/e"
check "start: running" [ "$(field kvt-life status)" = running ] -- "$tmp/e"
wait_for "$tmp/o2" started
check "start: the process runs" grep -q started "$tmp/o2" -- "$tmp/o2"
# The VMM process is confined (docs/security.md): every thread with a seccomp
# filter, no_new_privs and no capabilities (bounding set included) but the
# virtio-fs workers, which keep exactly their set (tests/kvm/sandbox.sh), in a
# jail that shows a read-only root, its own /proc and the container's share
# (the read-only top in the state directory and the rootfs mounted below it).
for t in /proc/"$pid"/task/*; do
	echo "$(cat "$t/comm"): $(grep -P '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' "$t/status" | tr '\n\t' '  ')"
done >"$tmp/threads"
check "the VMM's threads each have a seccomp filter, no_new_privs and no capabilities but the fs workers' set" \
	bash -c '[ "$(wc -l <"$1")" -ge 3 ] && grep -q "^fs-" "$1" &&
		! grep -vP "^fs-.*: CapEff: 00000000882000df CapBnd: 0{16} NoNewPrivs: 1 Seccomp: 2 $" "$1" |
		grep -vP "^(?!fs-).*: CapEff: 0{16} CapBnd: 0{16} NoNewPrivs: 1 Seccomp: 2 $"' \
	_ "$tmp/threads" -- "$tmp/threads"
awk '{print $5, $6}' "/proc/$pid/mountinfo" >"$tmp/vmm-mounts"
check "the VMM's jail: a read-only root, /proc and the share, nothing else of the host" \
	bash -c '[ "$(wc -l <"$1")" = 4 ] && grep -q "^/ ro," "$1" && grep -q "^/proc " "$1" &&
		grep -qx "$2/share ro,.*" "$1" && grep -q "^$2/share/rootfs " "$1"' \
	_ "$tmp/vmm-mounts" "$root/kvt-life" -- "$tmp/vmm-mounts"
kv start kvt-life 2>"$tmp/e"
check "start twice fails" grep -q "already running" "$tmp/e" -- "$tmp/e"

kv exec -e BAR=baz kvt-life sh -c 'echo "$FOO-$BAR"; echo x >&2; exit 4' >"$tmp/x" 2>"$tmp/xe"
st=$?
check "exec: status 4" [ "$st" = 4 ] -- "$tmp/x" "$tmp/xe"
check "exec: the config's env plus -e, stderr apart" [ "$(cat "$tmp/x"):$(cat "$tmp/xe")" = "foo-baz:x" ] -- "$tmp/x" "$tmp/xe"
out=$(echo hello | kv exec kvt-life sh -c 'read v; echo "v=$v"')
check "exec: stdin" [ "$out" = "v=hello" ]
kv exec -d --pid-file "$tmp/xpid" kvt-life sh -c 'sleep 1; exit 6' </dev/null >/dev/null 2>"$tmp/xe"
st=$?
xpid=$(cat "$tmp/xpid" 2>/dev/null)
xst=$([ -n "$xpid" ] && wait_status "$xpid")
check "exec --detach: returns at once; its host process (the pid file's) exits with 6" \
	[ "$st" = 0 -a "$xst" = 6 ] -- "$tmp/xe"

kv ps --format json kvt-life >"$tmp/ps" 2>"$tmp/e"
check "ps --format json: a list of guest pids" jqtest 'type == "array" and length >= 1' "$tmp/ps" -- "$tmp/ps" "$tmp/e"
kv ps kvt-life >"$tmp/ps" 2>"$tmp/e"
check "ps: a table with the container's processes" grep -q "sleep" "$tmp/ps" -- "$tmp/ps" "$tmp/e"
kv events --stats kvt-life >"$tmp/ev" 2>"$tmp/e"
check "events --stats: runc's stats object from the container's cgroup" \
	jqtest '.type == "stats" and .id == "kvt-life" and .data.memory.usage.limit == 209715200 and .data.memory.usage.usage > 0 and .data.pids.current >= 2 and .data.cpu.usage.total > 0' "$tmp/ev" -- "$tmp/ev" "$tmp/e"

timeout 60 "$kvrun" --root "$root" events --interval 500ms kvt-life 2>"$tmp/e" | head -n 2 >"$tmp/ev2"
check "events --interval: a stats object per interval" \
	[ "$(jq -s 'map(select(.type == "stats")) | length' "$tmp/ev2" 2>/dev/null)" = 2 ] -- "$tmp/ev2" "$tmp/e"

# pause: a guest process printing ticks stops printing.
kv exec -d kvt-life sh -c 'while :; do echo tick; sleep 0.2; done' </dev/null >"$tmp/ticks" 2>/dev/null
wait_for "$tmp/ticks" tick
kv pause kvt-life 2>"$tmp/e"
check "pause: paused" [ "$(field kvt-life status)" = paused ] -- "$tmp/e" "$log"
sleep 2
s1=$(stat -c %s "$tmp/ticks")
sleep 3
s2=$(stat -c %s "$tmp/ticks")
check "paused: the guest does not run (ticks: $s1 -> $s2 bytes in 3 s)" [ "$s1" = "$s2" ]
kv exec kvt-life true 2>"$tmp/e"
check "paused: exec is refused" grep -q "paused" "$tmp/e" -- "$tmp/e"
kv resume kvt-life 2>"$tmp/e"
sleep 3
s3=$(stat -c %s "$tmp/ticks")
check "resume: running, the ticks go on ($s2 -> $s3 bytes)" \
	[ "$(field kvt-life status)" = running -a "$s3" -gt "$s2" ] -- "$tmp/e"

kv update --cpu-quota 50000 --cpu-period 100000 kvt-life 2>"$tmp/e"
cgv2=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
quota=$(cat "/sys/fs/cgroup$cgv2/cpu.max" /sys/fs/cgroup/cpu*/kvt-life/cpu.cfs_quota_us 2>/dev/null | head -1)
check "update: the CPU limit reaches the VMM's host cgroup ($quota)" \
	[ "$quota" = "50000 100000" -o "$quota" = 50000 ] -- "$tmp/e"
out=$(kv exec kvt-life sh -c 'cat /sys/fs/cgroup/memory.max' 2>&1)
check "the config's memory limit is the container's in the guest ($out)" [ "$out" = 209715200 ]
kv update --memory 100M --pids-limit 50 kvt-life 2>"$tmp/e"
out=$(kv exec kvt-life sh -c 'echo $(cat /sys/fs/cgroup/memory.max) $(cat /sys/fs/cgroup/pids.max)' 2>&1)
check "update --memory --pids-limit: the guest's cgroup ($out)" [ "$out" = "104857600 50" ] -- "$tmp/e"
kv update --kernel-memory 10M kvt-life 2>"$tmp/e"
check "update --kernel-memory is refused clearly" grep -q "not supported" "$tmp/e" -- "$tmp/e"

kv kill kvt-life TERM 2>"$tmp/e"
st=$(wait_status "$pid")
check "kill TERM: the trap runs, the VMM exits with the container's 7" \
	[ "$st" = 7 -a "$(grep -c got-term "$tmp/o2")" = 1 ] -- "$tmp/o2" "$tmp/e" "$log"
check "state: stopped, pid 0" [ "$(field kvt-life status) $(field kvt-life pid)" = "stopped 0" ]
kv kill kvt-life KILL 2>"$tmp/e"
check "kill of a stopped container: container not running" grep -q "container not running" "$tmp/e" -- "$tmp/e"
kv delete kvt-life 2>"$tmp/e"
r=$(residue)
check "delete: no residue $r" [ -z "$r" ] -- "$tmp/e"

# --- 3. a terminal through --console-socket, resize, exec -t ----------------
mkbundle "$tmp/b3" '.process.terminal = true | .process.consoleSize = {"height": 30, "width": 100}
	| .process.args = ["sh", "-c", "trap \"echo WINCH; stty size\" WINCH; echo ready; tty; read -r pid comm st ppid pgrp sid tty tpgid rest </proc/$$/stat; echo jobctl $((pid == sid)) $((tpgid == pgrp)) $((tty != 0)); stty size; while :; do if read -t 1 x; then echo got-$x; exit 0; fi; done"]' ||
	nok "bundle 3"
# tty names the slave in the container's own devpts (/dev/pts/N, not "not a tty"); the
# process leads its session, the pty is its controlling terminal with its group in front.
printf 'expect ready\nexpect /dev/pts/\nexpect jobctl 1 1 1\nexpect 30 100\nwaitfile %s\nresize 50 132\nexpect WINCH\nexpect 50 132\nsend abc\\r\nexpect got-abc\neof\n' "$tmp/go3" >"$tmp/script3"
printf 'expect exectty\nexpect isatty\nexpect /dev/pts/\nexpect jobctl 1 1 1\nexpect 24 80\neof\n' >"$tmp/script3x"
"$peer" "$tmp/console3.sock" "$tmp/script3" >"$tmp/tty3" 2>"$tmp/tty3e" &
peer3=$!
for i in $(seq 100); do [ -S "$tmp/console3.sock" ] && break; sleep 0.1; done
kv create -b "$tmp/b3" --console-socket "$tmp/console3.sock" --pid-file "$tmp/pid3" kvt-tty \
	>"$tmp/o3" 2>"$tmp/e3"
pid3=$(cat "$tmp/pid3" 2>/dev/null)
kv start kvt-tty 2>>"$tmp/e3"
wait_for "$tmp/tty3" ready
"$peer" "$tmp/console3x.sock" "$tmp/script3x" >"$tmp/tty3x" 2>"$tmp/tty3xe" &
peerx=$!
for i in $(seq 100); do [ -S "$tmp/console3x.sock" ] && break; sleep 0.1; done
kv exec -t -d --console-socket "$tmp/console3x.sock" --pid-file "$tmp/xpid3" \
	kvt-tty sh -c 'stty rows 24 cols 80; echo exectty; [ -t 0 ] && [ -t 1 ] && echo isatty; tty
		read -r pid comm st ppid pgrp sid tty tpgid rest </proc/$$/stat
		echo jobctl $((pid == sid)) $((tpgid == pgrp)) $((tty != 0)); stty size; exit 6' 2>"$tmp/e3x"
xpid3=$(cat "$tmp/xpid3" 2>/dev/null)
wait_bg "$peerx"
px=$bg_status
xst=$([ -n "$xpid3" ] && wait_status "$xpid3")
check "exec -t -d --console-socket: a terminal in the guest (tty names it, job control), exit status 6" \
	[ "$px" = 0 -a "$xst" = 6 ] -- "$tmp/tty3x" "$tmp/tty3xe" "$tmp/e3x"
touch "$tmp/go3"
wait_bg "$peer3"
p3=$bg_status
st=$([ -n "$pid3" ] && wait_status "$pid3")
check "terminal: the master reaches --console-socket; tty names the pty, job control; initial size, resize (SIGWINCH, new size), input; exit 0" \
	[ "$p3" = 0 -a "$st" = 0 ] -- "$tmp/tty3" "$tmp/tty3e" "$tmp/e3" "$log"
check "terminal: create's own stdio stays silent" [ ! -s "$tmp/o3" ] -- "$tmp/o3"
kv delete kvt-tty 2>/dev/null

# --- 4. SIGKILL of a paused container --------------------------------------
mkbundle "$tmp/b4" '.process.args = ["sh", "-c", "while :; do sleep 1; done"]' || nok "bundle 4"
kv run -d -b "$tmp/b4" --pid-file "$tmp/pid4" kvt-kill </dev/null >/dev/null 2>"$tmp/e4"
pid4=$(cat "$tmp/pid4" 2>/dev/null)
kv pause kvt-kill 2>>"$tmp/e4"
kv kill kvt-kill TERM 2>"$tmp/e"
check "a paused container takes only SIGKILL" grep -q "only SIGKILL" "$tmp/e" -- "$tmp/e" "$tmp/e4"
kv kill kvt-kill KILL 2>>"$tmp/e4"
st=$([ -n "$pid4" ] && wait_status "$pid4")
check "kill KILL of a paused container (its agent cannot answer): 137" [ "$st" = 137 ] -- "$tmp/e4" "$log"
kv delete kvt-kill 2>"$tmp/e"
r=$(residue)
check "delete after that: no residue $r" [ -z "$r" ] -- "$tmp/e"

# --- 5. delete --force of a running container -------------------------------
kv run -d -b "$tmp/b4" --pid-file "$tmp/pid5" kvt-force </dev/null >/dev/null 2>"$tmp/e5"
pid5=$(cat "$tmp/pid5" 2>/dev/null)
kv delete kvt-force 2>"$tmp/e"
check "delete of a running container without --force is refused" \
	[ "$(grep -c 'not stopped' "$tmp/e")" = 1 -a "$(field kvt-force status)" = running ] -- "$tmp/e" "$tmp/e5"
kv delete --force kvt-force 2>"$tmp/e"
st=$([ -n "$pid5" ] && wait_status "$pid5")
r=$(residue)
check "delete --force: the VMM is killed (137), no residue $r" [ "$st" = 137 -a -z "$r" ] -- "$tmp/e" "$tmp/e5"

# --- 6. the VMM killed from outside, then delete ---------------------------
kv run -d -b "$tmp/b4" --pid-file "$tmp/pid6" kvt-vmmkill </dev/null >/dev/null 2>"$tmp/e6"
pid6=$(cat "$tmp/pid6" 2>/dev/null)
[ -n "$pid6" ] && kill -9 "$pid6"
st=$([ -n "$pid6" ] && wait_status "$pid6")
check "SIGKILL of the VMM process: 137, state stopped" [ "$st" = 137 -a "$(field kvt-vmmkill status)" = stopped ] -- "$tmp/e6"
kv delete kvt-vmmkill 2>"$tmp/e"
r=$(residue)
check "delete after a SIGKILLed VMM: no residue $r" [ -z "$r" ] -- "$tmp/e"

# --- 7. bad input: a clear error, nothing left -----------------------------
bad() { # bad DESCRIPTION EXPECTED-MESSAGE kvrun-args...
	local d=$1 want=$2
	shift 2
	kv "$@" >/dev/null 2>"$tmp/bad"
	local st=$? r
	r=$(residue)
	check "bad input: $d" [ "$st" != 0 -a "$(grep -c -- "$want" "$tmp/bad")" != 0 -a -z "$r" ] -- "$tmp/bad"
}
mkdir -p "$tmp/bad1/rootfs"
echo '{"ociVersion": "1.0.2", "root": {' >"$tmp/bad1/config.json"
bad "bad JSON" "not valid JSON" create -b "$tmp/bad1" kvt-bad
echo '{"ociVersion": "1.0.2", "root": {"path": "rootfs"}, "process": {"args": "sh", "cwd": "/"}}' >"$tmp/bad1/config.json"
bad "wrong type" "process.args: must be a non-empty array of strings" create -b "$tmp/bad1" kvt-bad
echo '{"ociVersion": "1.0.2", "root": {"path": "rootfs"}, "process": {"cwd": "/"}}' >"$tmp/bad1/config.json"
bad "missing process.args" "process.args: must be a non-empty array of strings" create -b "$tmp/bad1" kvt-bad
bad "missing bundle" "No such file or directory" create -b "$tmp/nonexistent" kvt-bad
bad "unknown id (state)" "container does not exist" state kvt-nope
bad "unknown id (kill)" "container does not exist" kill kvt-nope KILL
bad "unknown id (delete)" "container does not exist" delete kvt-nope
bad "invalid id" "invalid id format" create -b "$tmp/b4" "kvt/../x"
mkbundle "$tmp/bad2" '.process.terminal = true' || nok "bundle bad2"
bad "terminal without --console-socket" "console-socket is required" create -b "$tmp/bad2" kvt-bad
mkbundle "$tmp/bad3" '.linux.namespaces += [{"type": "user"}]' || nok "bundle bad3"
bad "a user namespace" "user namespaces" create -b "$tmp/bad3" kvt-bad
mkbundle "$tmp/bad4" '.annotations["io.kvrun.vm.memory"] = "3M"' || nok "bundle bad4"
bad "a bad VM size annotation" "io.kvrun.vm.memory" create -b "$tmp/bad4" kvt-bad
mkbundle "$tmp/bad5" '.hooks = {"createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", "echo no >&2; exit 9"]}]}' ||
	nok "bundle bad5"
bad "a failing createRuntime hook" "createRuntime\[0\] /bin/sh failed: exit status 9" \
	create -b "$tmp/bad5" kvt-bad
if grep -q '"level":"error"' "$log" && jq -e . "$log" >/dev/null 2>&1; then
	ok "--log-format json: every log line is a JSON object with level, msg and time"
else
	nok "--log-format json" "$log"
fi

# --- 8. no residue after create/delete cycles ------------------------------
mkbundle "$tmp/b8" '.process.args = ["sh", "-c", "exit 0"]' || nok "bundle 8"
bad8=""
t0=$(date +%s.%N)
for i in $(seq 1 "$cycles"); do
	if ! kv create -b "$tmp/b8" "kvt-cycle$i" </dev/null >/dev/null 2>"$tmp/e8"; then
		bad8="create $i: $(cat "$tmp/e8")"
		break
	fi
	if ! kv delete "kvt-cycle$i" 2>"$tmp/e8"; then
		bad8="delete $i: $(cat "$tmp/e8")"
		break
	fi
	r=$(residue)
	[ -n "$r" ] && { bad8="cycle $i left:$r"; break; }
done
t1=$(date +%s.%N)
echo "# $cycles create/delete cycles: $(awk "BEGIN{printf \"%.1f\", $t1 - $t0}") s"
check "$cycles create/delete cycles leave no state, cgroup, process or mount" [ -z "$bad8" ]
[ -z "$bad8" ] || echo "# $bad8"

# --- 9. the bundle's rootfs and binds through virtio-fs ---------------------
mkdir -p "$tmp/vol" "$tmp/rovol" "$tmp/files"
echo vol-in >"$tmp/vol/in"
echo ro-in >"$tmp/rovol/in"
echo file-in >"$tmp/files/hostfile"
echo rofile-in >"$tmp/files/rofile"
echo secret >"$tmp/files/secret"
bind() { printf '{"destination": "%s", "type": "bind", "source": "%s", "options": [%s]}' "$@"; }
mkbundle "$tmp/b9" '.process.args = ["sh", "-c", "[ -e /etc/bundle-mark ] && echo root:bundle; echo from-ctr >/written; cat /vol/in; echo ctr-out >/vol/out; cat /rovol/in; touch /rovol/x 2>/dev/null || echo rovol:ro; cat /etc/hostfile; echo appended >>/etc/hostfile; cat /etc/rofile; (echo x >>/etc/rofile) 2>/dev/null || echo rofile:ro; ls /etc | grep -q secret || echo secret:unseen; grep -q \" /scratch tmpfs \" /proc/mounts && echo t >/scratch/t && echo scratch:tmpfs"]
	| .mounts += ['"$(bind /vol "$tmp/vol" '"rbind", "rw"'), $(bind /rovol "$tmp/rovol" '"rbind", "ro"'),
	    $(bind /etc/hostfile "$tmp/files/hostfile" '"bind"'), $(bind /etc/rofile "$tmp/files/rofile" '"bind", "ro"')"',
	    {"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}]' ||
	nok "bundle 9"
echo bundle >"$tmp/b9/rootfs/etc/bundle-mark"
kv run -b "$tmp/b9" kvt-fs </dev/null >"$tmp/o9" 2>"$tmp/e9"
st=$?
check "virtio-fs: a container on the bundle's rootfs runs (exit 0)" [ "$st" = 0 ] -- "$tmp/o9" "$tmp/e9" "$log"
check "virtio-fs: the root is the bundle's" grep -qx "root:bundle" "$tmp/o9" -- "$tmp/o9"
check "virtio-fs: a file the container writes is in the bundle's rootfs on the host" \
	[ "$(cat "$tmp/b9/rootfs/written" 2>/dev/null)" = from-ctr ] -- "$tmp/o9"
check "virtio-fs: a directory bind: read in the guest, written back to the host" \
	[ "$(grep -cx vol-in "$tmp/o9")" = 1 -a "$(cat "$tmp/vol/out" 2>/dev/null)" = ctr-out ] -- "$tmp/o9"
check "virtio-fs: a read-only directory bind: read, refuses writes, the host untouched" \
	[ "$(grep -cxE 'ro-in|rovol:ro' "$tmp/o9")" = 2 -a ! -e "$tmp/rovol/x" ] -- "$tmp/o9"
check "virtio-fs: a file bind: read, appended to on the host" \
	[ "$(grep -cx file-in "$tmp/o9")" = 1 -a "$(cat "$tmp/files/hostfile")" = "$(printf 'file-in\nappended')" ] -- "$tmp/o9"
check "virtio-fs: a read-only file bind: read, refuses writes, the host untouched" \
	[ "$(grep -cxE 'rofile-in|rofile:ro' "$tmp/o9")" = 2 -a "$(cat "$tmp/files/rofile")" = rofile-in ] -- "$tmp/o9"
check "virtio-fs: a file bind shares the file, not its directory" grep -qx "secret:unseen" "$tmp/o9" -- "$tmp/o9"
check "virtio-fs: a tmpfs mount is the guest's, nothing of it on the host" \
	[ "$(grep -cx scratch:tmpfs "$tmp/o9")" = 1 -a ! -e "$tmp/b9/rootfs/scratch/t" ] -- "$tmp/o9"
check "virtio-fs: root.readonly (section 1) wrote nothing into the bundle" [ ! -e "$tmp/b1/rootfs/ro-test" ]
r=$(residue)
check "virtio-fs: after run, no mount, state or process left $r" [ -z "$r" ] -- "$tmp/e9"

# While it runs, the share is mounted in the VMM's namespace only; SIGKILL of
# the VMM takes it along.
mkbundle "$tmp/b9k" '.process.args = ["sh", "-c", "echo up; while :; do sleep 1; done"]
	| .mounts += ['"$(bind /vol "$tmp/vol" '"rbind"')"']' || nok "bundle 9k"
kv run -d -b "$tmp/b9k" --pid-file "$tmp/pid9" kvt-fskill </dev/null >"$tmp/o9k" 2>"$tmp/e9k"
pid9=$(cat "$tmp/pid9" 2>/dev/null)
wait_for "$tmp/o9k" up
check "virtio-fs: the VMM's own namespace holds the share, the host's has no mount of it" \
	bash -c '[ -n "$1" ] && grep -q "$2/kvt-fskill/share" "/proc/$1/mountinfo" &&
		! grep -q "$3" /proc/self/mountinfo' _ "$pid9" "$root" "$tmp" -- "$tmp/e9k" "$log"
[ -n "$pid9" ] && kill -9 "$pid9"
st=$([ -n "$pid9" ] && wait_status "$pid9")
kv delete kvt-fskill 2>"$tmp/e"
r=$(residue)
check "virtio-fs: SIGKILL of the VMM (137) then delete: no mount, state or process left $r" \
	[ "$st" = 137 -a -z "$r" ] -- "$tmp/e"

# The guest image's own root, by annotation.
mkbundle "$tmp/b9i" '.process.args = ["sh", "-c", "[ -e /etc/bundle-mark ] && echo root:bundle || echo root:image"]
	| .annotations = {"io.kvrun.rootfs": "initramfs"}' || nok "bundle 9i"
echo bundle >"$tmp/b9i/rootfs/etc/bundle-mark"
kv run -b "$tmp/b9i" kvt-img </dev/null >"$tmp/o9i" 2>"$tmp/e9i"
st=$?
check "io.kvrun.rootfs=initramfs: the container runs on the guest image's root" \
	[ "$st" = 0 -a "$(cat "$tmp/o9i")" = root:image ] -- "$tmp/o9i" "$tmp/e9i"
mkbundle "$tmp/b9m" '.mounts += ['"$(bind /x "$tmp/nonexistent" '"bind"')"']' || nok "bundle 9m"
bad "a missing bind source" "mounts\[7\].source: .*nonexistent" create -b "$tmp/b9m" kvt-bad

echo "1..$n"
[ "$failed" = 0 ]
