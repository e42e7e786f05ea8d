#!/bin/bash
# tests/testhost/test-run.sh - TAP test of tests/testhost/run, the disposable KVM test host.
#
# Owns: the checks that the run script behaves as documented, with three L1 boots: one
# command that probes everything observable from inside (exit status, stdout/stderr apart,
# argv, cwd, environment, /dev/kvm, kvm_amd, a write into the checkout, binary output), one
# death by signal, one timeout; plus the failures that must not boot at all (a broken kernel
# cache, a usage error).
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

echo "1..15"

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
(cd "$work" && TESTHOST_PROBE=$'x y\n"z" \'w\' $v' TMPDIR=/usr "$run" --timeout 600 -- \
	sh ./probe.sh "${probe_args[@]}" <<<"caller-stdin" >"$out/stdout" 2>"$out/stderr") || rc=$?
grep -a -v -e '^kvm' -e '^bin:' -e '^tmp:' "$out/stdout" >"$out/text" || true
grep -a '^bin:' "$out/stdout" >"$out/bin" || true
check "exit status of the command (7) comes back" [ "$rc" = 7 ]
[[ "$rc" = 7 ]] || diag "$out/stderr"
check "stdout and stderr are kept apart" same "$out/stderr" "$out/want-err"
check "args (spaces, quotes, empty, glob, tab), cwd, an env var with a newline intact; stdin empty" \
	same "$out/text" "$out/want-text"
check "binary output (NUL, 0x80, 0xff) is intact" same "$out/bin" "$out/want-bin"
check "/dev/kvm is a character device inside" has "$out/stdout" kvm:char-device
check "/sys/module/kvm_amd exists inside" has "$out/stdout" kvm_amd:loaded
check "a TMPDIR on the read-only host root (/usr) becomes /tmp, where mktemp works" \
	has "$out/stdout" "tmp:/tmp:/tmp"
check "a file written into the checkout inside is visible outside" \
	[ "$(cat "$work/marker" 2>/dev/null)" = written-inside ]

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
