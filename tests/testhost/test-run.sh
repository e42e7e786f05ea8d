#!/bin/bash
# tests/testhost/test-run.sh - TAP test of tests/testhost/run, the disposable KVM test host.
#
# Owns: the checks that the run script behaves as documented, with three L1 boots: one
# command that probes everything observable from inside (exit status, stdout/stderr apart,
# argv, cwd, environment, /dev/kvm, kvm_amd, a write into the checkout, binary output; the
# host root moved onto / as switch_root does, pivot_root, the writable overlay and the
# read-only /usr, loopback, modules loading on demand and their log), one death by signal,
# one timeout; plus the failures that must not boot at all (a broken kernel cache, a usage
# error).
# Run it directly or as `meson test --suite testhost`; KVRUN_CACHE selects the cache as usual.
# shellcheck disable=SC2016 # single-quoted $... is meant literally (args, eval'd checks)
set -euo pipefail

if [[ "${1-}" == -h || "${1-}" == --help ]]; then
	sed -n '2,/^set -euo/{/^set -euo/d;/shellcheck/d;s/^# \{0,1\}//;p}' "$0"
	exit 0
fi

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
checkout=$(cd -- "$here/../.." && pwd -P)
run=$here/run

# The working directory must be inside the checkout: it is the part that is writable inside.
mkdir -p "$checkout/build/tmp"
work=$(mktemp -d "$checkout/build/tmp/test-run.XXXXXX")
out=$(mktemp -d)
trap 'rm -rf -- "$work" "$out"' EXIT

n=0
failed=0
check() { # check DESCRIPTION COMMAND...: one TAP line
	local desc=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $desc"
	else
		echo "not ok $n - $desc"
		failed=$((failed + 1))
	fi
}
diag() { sed 's/^/# /' "$@"; }
same() { cmp -s "$1" "$2" || { diag <(echo "$1 differs from $2:") <(diff <(cat -A "$1") <(cat -A "$2") || true); false; }; }
has() { grep -qF -- "$2" "$1" || { diag <(echo "'$2' not in $1:") "$1"; false; }; }
lacks() { ! grep -qF -- "$2" "$1" || { diag <(echo "'$2' unexpectedly in $1:") "$1"; false; }; }

echo "1..23"

# --- boot 1: everything observable from one command -------------------------------------
cat >"$work/probe.sh" <<'EOF'
printf 'arg:%s\n' "$@"
printf 'cwd:%s\n' "$(pwd -P)"
printf 'env:%s\n' "$TESTHOST_PROBE"
if read -r line; then echo "stdin:$line"; else echo stdin:empty; fi
[ -c /dev/kvm ] && echo kvm:char-device
[ -d /sys/module/kvm_amd ] && echo kvm_amd:loaded
d=$(mktemp -d) && echo "tmp:$TMPDIR:${d%/*}"
echo written-inside >"$PWD/marker"
echo to-stderr >&2
echo via-dev-stderr >/dev/stderr
printf 'bin:\000\001\177\200\377\n'
# The root: an overlay mounted on / (not a chroot), so a process entering this mount
# namespace with setns lands in it and not in the initramfs; pivot_root works.
[ "$(awk '$5 == "/" { print $9 }' /proc/self/mountinfo)" = overlay ] && echo root:overlay
nsenter --mount=/proc/1/ns/mnt sh -c '[ -d /run/testhost/ctl ] && [ ! -e /modules.load ]' &&
	echo root:setns
unshare -m sh -c 'mount -t tmpfs new /mnt && mkdir /mnt/old && cp /bin/busybox /mnt/ &&
	cd /mnt && pivot_root . old && exec /busybox sh -c "[ -d /old/run/testhost ] && echo root:pivot"'
# Writable where a host is, never written back; /usr read-only.
echo "$TESTHOST_MARK" >/etc/testhost-mark && mkdir -p /var/lib/testhost-mark && echo root:writable
touch /usr/testhost-mark 2>/dev/null || echo usr:read-only
[ "$(stat -f -c %T /var/lib/containers)" = tmpfs ] && [ "$(stat -f -c %T /var/lib/docker)" = tmpfs ] &&
	echo root:engine-storage
ip -o link show lo | grep -q 'state UNKNOWN\|LOWER_UP' && echo lo:up
# Modules on demand: opening /dev/net/tun loads tun; a bridge loads bridge.
[ ! -d /sys/module/tun ] && [ -c /dev/net/tun ] && exec 5<>/dev/net/tun && [ -d /sys/module/tun ] &&
	echo mod:tun
ip link add testhost-br type bridge && [ -d /sys/module/bridge ] && echo mod:bridge
exit 7
EOF
probe_args=('a b' '"double"' "it's" '' '$HOME' '*' $'tab\there')
{
	printf 'arg:%s\n' "${probe_args[@]}"
	printf 'cwd:%s\n' "$work"
	printf 'env:%s\n' $'x y\n"z" \'w\' $v'
	echo stdin:empty
} >"$out/want-text"
printf 'bin:\000\001\177\200\377\n' >"$out/want-bin"
printf 'to-stderr\nvia-dev-stderr\n' >"$out/want-err"

rc=0
mark=testhost-mark-$$-$RANDOM
(cd "$work" && TESTHOST_PROBE=$'x y\n"z" \'w\' $v' TMPDIR=/usr TESTHOST_MARK=$mark "$run" --timeout 600 \
	--modules-log "$out/modules" -- sh ./probe.sh "${probe_args[@]}" <<<"caller-stdin" \
	>"$out/stdout" 2>"$out/stderr") || rc=$?
grep -a -v -e '^kvm' -e '^bin:' -e '^tmp:' -e '^root:' -e '^usr:' -e '^lo:' -e '^mod:' \
	"$out/stdout" >"$out/text" || true
grep -a '^bin:' "$out/stdout" >"$out/bin" || true
check "exit status of the command (7) comes back" [ "$rc" = 7 ]
[[ "$rc" = 7 ]] || diag "$out/stderr"
check "stdout and stderr are kept apart" same "$out/stderr" "$out/want-err"
check "args (spaces, quotes, empty, glob, tab), cwd, an env var with a newline intact; stdin empty" \
	same "$out/text" "$out/want-text"
check "binary output (NUL, 0x80, 0xff) is intact" same "$out/bin" "$out/want-bin"
check "/dev/kvm is a character device inside" has "$out/stdout" kvm:char-device
check "/sys/module/kvm_amd exists inside" has "$out/stdout" kvm_amd:loaded
check "a TMPDIR on the read-only /usr becomes /tmp, where mktemp works" \
	has "$out/stdout" "tmp:/tmp:/tmp"
check "a file written into the checkout inside is visible outside" \
	[ "$(cat "$work/marker" 2>/dev/null)" = written-inside ]
check "the host root is an overlay mounted on /" has "$out/stdout" root:overlay
check "setns into the mount namespace lands in the new root, not the initramfs" has "$out/stdout" root:setns
check "pivot_root works in a new mount namespace" has "$out/stdout" root:pivot
check "/etc and /var/lib are writable inside, /usr is read-only, engines' storage is tmpfs" \
	eval 'has "$out/stdout" root:writable && has "$out/stdout" usr:read-only &&
		has "$out/stdout" root:engine-storage'
check "nothing written inside the host root reaches the host" \
	eval '! grep -qsF "$mark" /etc/testhost-mark && [ ! -e /var/lib/testhost-mark ]'
check "loopback is up" has "$out/stdout" lo:up
check "modules load on demand: tun (opening /dev/net/tun), bridge (ip link add)" \
	eval 'has "$out/stdout" mod:tun && has "$out/stdout" mod:bridge'
check "--modules-log lists the modules loaded meanwhile" \
	eval 'grep -qx tun "$out/modules" && grep -qx bridge "$out/modules" && ! grep -qx kvm_amd "$out/modules"'

# --- boot 2: death by signal --------------------------------------------------------------
rc=0
(cd "$work" && "$run" --timeout 600 -- sh -c 'kill -USR1 $$' >"$out/stdout" 2>"$out/stderr") || rc=$?
check "death by SIGUSR1 maps to 128+10 (got $rc)" [ "$rc" = 138 ]
check "a death by signal adds nothing to stderr" same "$out/stderr" /dev/null

# --- boot 3: timeout ----------------------------------------------------------------------
rc=0
(cd "$work" && "$run" --timeout 3 -- sleep 1000 >"$out/stdout" 2>"$out/stderr") || rc=$?
check "an expired timeout exits 124 (got $rc)" [ "$rc" = 124 ]
check "an expired timeout says so" has "$out/stderr" "testhost: timed out after 3 s"

# --- no boot: a broken kernel cache -------------------------------------------------------
bad=$(mktemp -d)
mkdir -p "$bad/testhost-kernel-0/lib/modules/6.1.0-0-amd64"
ln -s testhost-kernel-0 "$bad/testhost-kernel"
echo 6.1.0-0-amd64 >"$bad/testhost-kernel/version"
head -c 4096 /dev/zero >"$bad/testhost-kernel/vmlinuz"
: >"$bad/testhost-kernel/lib/modules/6.1.0-0-amd64/modules.dep"
rc=0
(cd "$work" && KVRUN_CACHE=$bad "$run" -- true >"$out/stdout" 2>"$out/stderr") || rc=$?
check "a broken kernel cache exits 125 (got $rc)" [ "$rc" = 125 ]
check "... with one line naming the broken vmlinuz and the fix, without booting" \
	eval '[ "$(wc -l <"$out/stderr")" = 1 ] && has "$out/stderr" "$bad/testhost-kernel/vmlinuz is not a bzImage" &&
		has "$out/stderr" "rm -rf" && lacks "$out/stderr" "L1 console" && [ ! -e "$bad/testhost" ]'
rm -rf -- "$bad"

# --- no boot: usage error -----------------------------------------------------------------
rc=0
"$run" --mem >"$out/stdout" 2>"$out/stderr" || rc=$?
check "a usage error exits 125 with a message (got $rc)" eval '[ "$rc" = 125 ] && has "$out/stderr" "testhost: --mem needs a value"'

[[ $failed -eq 0 ]]
