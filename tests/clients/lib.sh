# tests/clients/lib.sh - the check library of the client harness (sourced by tests/clients/run).
#
# Owns: TAP output (numbered "ok"/"not ok" lines, diagnostics as "# " lines, the plan at
# the end), running a command with its stdout, stderr and status captured apart (capture),
# running one under a pseudo-terminal (on_tty), waiting for a condition with a bound
# (wait_for), timing (now, since) and the cleanup stack that undoes whatever the harness set
# up, in reverse order, however it ends (at_exit, run_cleanups).
# shellcheck shell=bash

tap_n=0
tap_failed=0

# ok DESCRIPTION: a passing TAP line.  not_ok DESCRIPTION: a failing one.
ok() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $*"
}
not_ok() {
	tap_n=$((tap_n + 1))
	tap_failed=$((tap_failed + 1))
	echo "not ok $tap_n - $*"
}
# diag TEXT...: each line of TEXT as a TAP diagnostic.
diag() {
	printf '%s\n' "$@" | sed 's/^/# /'
}

# check DESCRIPTION FUNCTION [ARG...]: run FUNCTION; it passes when it returns 0. What it
# prints goes to TAP as diagnostics, but only when it fails (a passing check is one line).
# The TAP line ends with the time the check took.
check() {
	local desc=$1 log rc=0 t
	shift
	log=$(mktemp "$H_STATE/check.XXXXXX")
	t=$(now)
	"$@" >"$log" 2>&1 </dev/null || rc=$?
	if [ "$rc" = 0 ]; then
		ok "$desc ($(since "$t") s)"
	else
		not_ok "$desc ($(since "$t") s)"
		sed 's/^/# /' "$log" | head -n 60
	fi
	rm -f -- "$log"
	return 0
}

# capture CMD [ARG...]: run CMD (a program or a shell function) with stdin from
# $CAPTURE_IN (default /dev/null); set OUT and ERR to its stdout and stderr (carriage
# returns removed) and RC to its status. CMD runs in its own process group, which is
# killed after $CAPTURE_TIMEOUT seconds (default 120; RC is then 137 and ERR says so).
# Returns 0 whatever CMD returned.
capture() {
	local o e pid w
	o=$(mktemp "$H_STATE/out.XXXXXX")
	e=$(mktemp "$H_STATE/err.XXXXXX")
	set -m # background jobs get their own process group
	("$@") <"${CAPTURE_IN:-/dev/null}" >"$o" 2>"$e" &
	pid=$!
	(sleep "${CAPTURE_TIMEOUT:-120}" && echo "capture: timed out after ${CAPTURE_TIMEOUT:-120} s" >>"$e" &&
		kill -KILL -- "-$pid") >/dev/null 2>&1 &
	w=$!
	set +m
	RC=0
	wait "$pid" 2>/dev/null || RC=$?
	kill -KILL -- "-$w" 2>/dev/null
	wait "$w" 2>/dev/null
	OUT=$(tr -d '\r' <"$o")
	ERR=$(tr -d '\r' <"$e")
	rm -f -- "$o" "$e"
	return 0
}

# on_tty CMD [ARG...]: run CMD with a pseudo-terminal as its stdin, stdout and stderr
# (util-linux script), so clients that want a terminal get one; its status is CMD's.
on_tty() {
	local q
	q=$(printf '%q ' "$@")
	script -q -e -c "$q" /dev/null
}

# expect WHAT WANT GOT: fail with a message naming WHAT when GOT is not WANT.
expect() {
	[ "$3" = "$2" ] && return 0
	echo "$1: want '$2', got '$3'"
	[ -z "${ERR-}" ] || echo "stderr: $ERR"
	return 1
}
# expect_rc WANT: RC (from capture) is WANT.
expect_rc() {
	expect "exit status" "$1" "$RC"
}

# wait_for SECONDS CMD [ARG...]: retry CMD every 0.2 s until it succeeds or SECONDS pass.
wait_for() {
	local end=$((${EPOCHSECONDS} + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "${EPOCHSECONDS}" -lt "$end" ] || return 1
		sleep 0.2
	done
}

# now: microseconds since the epoch.  since T: seconds since T, to 0.1 s.
now() {
	echo "${EPOCHREALTIME/./}"
}
since() {
	local us=$(($(now) - $1))
	printf '%d.%d' $((us / 1000000)) $((us / 100000 % 10))
}

# The cleanup stack: at_exit CMD... pushes a command; run_cleanups runs them all, last
# pushed first, each once, ignoring failures (a cleanup must not stop the others).
h_cleanups=()
at_exit() {
	h_cleanups+=("$(printf '%q ' "$@")")
}
run_cleanups() {
	local i
	for ((i = ${#h_cleanups[@]} - 1; i >= 0; i--)); do
		eval "${h_cleanups[i]}" >/dev/null 2>&1 </dev/null || true
	done
	h_cleanups=()
}

# pids_mentioning TEXT: the pids of processes whose command line contains TEXT (a path
# of the harness's own state directory, so nothing else matches).
pids_mentioning() {
	local p
	[ -n "$1" ] || return 1
	# grep finds itself too: keep the processes that still exist once it is done.
	for p in $(grep -lsaF -- "$1" /proc/[0-9]*/cmdline | sed -n 's|^/proc/\([0-9]*\)/cmdline$|\1|p'); do
		[ "$p" != "$$" ] && [ "$p" != "$BASHPID" ] && [ -d "/proc/$p" ] && echo "$p"
	done
}
# kill_mentioning TEXT: SIGKILL those processes.
kill_mentioning() {
	local p
	for p in $(pids_mentioning "$1"); do kill -KILL "$p" 2>/dev/null; done
}
