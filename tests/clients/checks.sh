# tests/clients/checks.sh - the checks every client runs, once per runtime under test.
#
# Owns: the common checks (run, stdin, stdout/stderr, tty, exec, ps, pause/resume, kill,
# rm) and the network checks (a published port fetched from the test host, container to
# container by IP), written once against the client verbs below; and the list of which run
# for which client.
#
# A client X (tests/clients/X.sh) defines these verbs; the checks call them as `c VERB`
# with $RT (the runtime's name) and $RT_PATH (its binary) set:
#   X_run CMD...            run a container in the foreground, removed afterwards, with no
#                           network; stdout, stderr and exit status are the container's
#   X_run_i CMD...          the same with stdin attached
#   X_run_t CMD...          the same with a terminal (under on_tty)
#   X_run_id CMD...         the same with FOO=kvt in the environment, working directory
#                           /tmp and user 1000:1000 (a client without a user option,
#                           listed in H_NO_USER_CLIENTS, runs as root)
#   X_run_binds RW RO FILE CMD...  the same with directory RW bound at /rw, directory RO
#                           at /ro read-only and the single file FILE at /etc/kvt-file
#                           read-only
#   X_start_bg NAME DIR CMD...  start a detached container NAME with DIR bound at /out
#   X_exec NAME CMD...      exec in NAME; stdout, stderr and status are the process's
#   X_exec_t NAME CMD...    the same with a terminal (under on_tty)
#   X_ps NAME               print the command lines of NAME's processes, one per line
#                           (a VM runtime's pids are the guest's: see rt_vm)
#   X_pause NAME, X_resume NAME
#   X_status NAME           print running, paused, or anything else
#   X_kill NAME SIGNAL      SIGNAL as a name without SIG (KILL, TERM)
#   X_wait NAME             wait for NAME to stop, print its exit status
#   X_rm NAME, X_exists NAME
# and, for clients with networking (H_NET_CLIENTS):
#   X_start_web NAME PORT   detached busybox httpd on the default network, port 80
#                           published on 127.0.0.1:PORT
#   X_ip NAME               print NAME's IPv4 address on that network
#   X_run_net CMD...        like X_run, on the default network
#
# To add a check: write a function chk_NAME that returns 0 when it passes and prints what
# went wrong otherwise (capture sets OUT, ERR and RC; expect and expect_rc compare), then
# add "chk_NAME|description" to one of the lists at the end: H_COMMON_CHECKS for a check
# on its own, H_BG_CHECKS (before chk_kill) for one that uses the running container
# $(bg_name), H_NET_CHECKS (before chk_net_cleanup) for one that uses the web server
# $(web_name). It runs for every client and runtime, as "CLIENT/RUNTIME: description".
# A check that only one client can run goes into that client's file and its run_client
# line in tests/clients/run (like chk_containerd_cri).
# shellcheck shell=bash

# c VERB ARG...: the current client's verb.
c() {
	local verb=$1
	shift
	"${H_CLIENT}_$verb" "$@"
}

# rt_vm: the runtime under test runs each container in a VM (kvrun): the pid it reports
# is its VMM's, and the pids of its `ps` are the guest's, so a client that reads the
# host's /proc for them (podman top, docker top, ps of the pids ctr lists) learns
# nothing about the container; the ps verbs ask the container itself then.
rt_vm() { [[ $RT == kvrun* ]]; }
H_NO_USER_CLIENTS=" containerd " # ctr run has no --user

chk_run_exit0() {
	capture c run cat /etc/kvtest-image
	expect_rc 0 && expect "stdout" "$H_IMAGE_MARK" "$OUT"
}
chk_run_exit3() {
	capture c run sh -c 'exit 3'
	expect_rc 3
}
chk_run_stdin() {
	printf 'line one\nline two\n' >"$H_STATE/stdin.txt"
	CAPTURE_IN=$H_STATE/stdin.txt capture c run_i sh -c 'cat; echo eof'
	expect_rc 0 && expect "stdout" $'line one\nline two\neof' "$OUT"
}
chk_run_stdio_apart() {
	capture c run sh -c 'echo to-stdout; echo to-stderr >&2; echo more-stdout'
	expect_rc 0 && expect "stdout" $'to-stdout\nmore-stdout' "$OUT" &&
		expect "stderr" "to-stderr" "$ERR"
}
# has_tty: OUT has the line that `tty_probe` prints when stdin and stdout are terminals
# (the terminal may echo other bytes around it).
tty_probe='[ -t 0 ] && [ -t 1 ] && echo "tty=$(tty)"'
has_tty() {
	grep -Eq '(^|[^[:alnum:]])tty=/dev/pts/[0-9]+$' <<<"$OUT" || { echo "no terminal: $OUT"; return 1; }
}
chk_run_tty() {
	capture c run_t sh -c "$tty_probe"
	expect_rc 0 && has_tty
}
chk_run_identity() {
	local want="1000:1000"
	[[ "$H_NO_USER_CLIENTS" != *" $H_CLIENT "* ]] || want="0:0"
	capture c run_id sh -c 'echo "$FOO $(pwd) $(id -u):$(id -g)"'
	expect_rc 0 && expect "env, cwd, uid:gid" "kvt /tmp $want" "$OUT"
}
chk_run_binds() {
	local d=$H_STATE/binds-$H_CLIENT-$RT
	rm -rf -- "$d"
	mkdir -p "$d/rw" "$d/ro" "$d/files" || return 1
	echo rw-in >"$d/rw/in"
	echo ro-in >"$d/ro/in"
	echo file-in >"$d/files/file"
	echo secret >"$d/files/secret"
	capture c run_binds "$d/rw" "$d/ro" "$d/files/file" sh -c 'cat /rw/in /ro/in /etc/kvt-file
		echo out >/rw/out
		touch /ro/x 2>/dev/null || echo ro-refused
		(echo x >>/etc/kvt-file) 2>/dev/null || echo file-refused
		ls /etc | grep -q secret || echo secret-unseen'
	expect_rc 0 &&
		expect "stdout" $'rw-in\nro-in\nfile-in\nro-refused\nfile-refused\nsecret-unseen' "$OUT" &&
		expect "the file written through the rw bind" out "$(cat "$d/rw/out" 2>&1)" &&
		expect "the ro directory" "" "$(ls "$d/ro" | grep -v '^in$')" &&
		expect "the ro file" file-in "$(cat "$d/files/file")"
}

# The long-running container of the following checks: it counts in /out/tick.
bg_name() { echo "kvt-$H_CLIENT-$RT-bg"; }
bg_dir() { echo "$H_STATE/bg-$H_CLIENT-$RT"; }
tick() { cat "$(bg_dir)/tick" 2>/dev/null; }
ticking() { # the counter moves within 20 s
	local t0
	t0=$(tick)
	wait_for 20 eval '[ "$(tick)" != "$t0" ]'
}
chk_start_bg() {
	local dir
	dir=$(bg_dir)
	mkdir -p "$dir"
	capture c start_bg "$(bg_name)" "$dir" sh -c 'i=0; while :; do i=$((i + 1)); echo $i >/out/tick; sleep 0.2; done'
	expect_rc 0 || return 1
	wait_for 30 test -s "$dir/tick" || { echo "the container never wrote /out/tick"; return 1; }
	capture c status "$(bg_name)"
	expect "status" running "$OUT" && ticking
}
chk_exec() {
	capture c exec "$(bg_name)" sh -c 'cat /etc/kvtest-image; echo err >&2; exit 5'
	expect_rc 5 && expect "stdout" "$H_IMAGE_MARK" "$OUT" && expect "stderr" err "$ERR"
}
chk_exec_tty() {
	capture c exec_t "$(bg_name)" sh -c "$tty_probe"
	expect_rc 0 && has_tty
}
chk_ps() {
	capture c ps "$(bg_name)"
	expect_rc 0 && grep -q 'tick' <<<"$OUT" || { echo "the counting shell is not listed: $OUT"; return 1; }
}
chk_pause_resume() {
	local t1 t2
	capture c pause "$(bg_name)"
	expect_rc 0 || return 1
	capture c status "$(bg_name)"
	expect "status after pause" paused "$OUT" || return 1
	t1=$(tick)
	sleep 1.5
	t2=$(tick)
	expect "the counter while paused" "$t1" "$t2" || return 1
	capture c resume "$(bg_name)"
	expect_rc 0 || return 1
	capture c status "$(bg_name)"
	expect "status after resume" running "$OUT" && ticking
}
chk_kill() {
	capture c kill "$(bg_name)" KILL
	expect_rc 0 || return 1
	capture c wait "$(bg_name)"
	expect "exit status after SIGKILL" 137 "$OUT"
}
chk_rm() {
	capture c rm "$(bg_name)"
	expect_rc 0 || return 1
	! c exists "$(bg_name)" || { echo "the container still exists"; return 1; }
}
# rm -f of a container that runs: the runtime's kill and delete --force.
chk_rm_running() {
	local name dir
	name=$(bg_name)-rm
	dir=$(bg_dir)-rm
	mkdir -p "$dir"
	capture c start_bg "$name" "$dir" sh -c 'echo up >/out/up; while :; do sleep 1; done'
	expect_rc 0 || return 1
	wait_for 30 test -s "$dir/up" || { echo "the container never wrote /out/up"; return 1; }
	capture c rm "$name"
	expect_rc 0 || return 1
	! c exists "$name" || { echo "the container still exists"; return 1; }
}

# Network checks: a web server published on the test host and reached from another container.
web_name() { echo "kvt-$H_CLIENT-$RT-web"; }
web_port() { echo $((18080 + H_PORT_SLOT)); }
# busybox wget (its -T option crashes busybox 1.35), bounded by timeout(1) instead.
fetch() { timeout 10 /bin/busybox wget -q -O - "$1"; }
chk_net_publish() {
	capture c start_web "$(web_name)" "$(web_port)"
	expect_rc 0 || return 1
	wait_for 30 fetch "http://127.0.0.1:$(web_port)/" || true
	capture fetch "http://127.0.0.1:$(web_port)/"
	expect_rc 0 && expect "page" "$H_WWW_PAGE" "$OUT"
}
chk_net_by_ip() {
	local ip
	ip=$(c ip "$(web_name)") && [ -n "$ip" ] || { echo "no IP address for $(web_name)"; return 1; }
	capture c run_net timeout 10 wget -q -O - "http://$ip/"
	expect_rc 0 && expect "page fetched from $ip" "$H_WWW_PAGE" "$OUT"
}
chk_net_cleanup() {
	capture c rm "$(web_name)"
	expect_rc 0 && ! c exists "$(web_name)"
}

# Each list is "function|description" entries. H_COMMON_CHECKS are independent of each
# other; H_BG_CHECKS and H_NET_CHECKS are groups, which set up (first entry) and tear down
# (last entry) a container that the checks between them use: with --check, a group runs
# whole when any of its descriptions matches.
H_COMMON_CHECKS=(
	"chk_run_exit0|run: exit status 0, the image's root"
	"chk_run_exit3|run: exit status 3"
	"chk_run_stdin|run -i: stdin reaches the container, EOF ends it"
	"chk_run_stdio_apart|run: stdout and stderr kept apart"
	"chk_run_tty|run -t: the process has a terminal"
	"chk_run_identity|run: env, working directory, user"
	"chk_run_binds|run -v: directory and file binds, ro too; a file bind shares no sibling"
	"chk_rm_running|rm -f of a running container"
)
H_BG_CHECKS=(
	"chk_start_bg|run -d: a detached container runs"
	"chk_exec|exec: output, stderr and exit status 5"
	"chk_exec_tty|exec -t: the process has a terminal"
	"chk_ps|ps: lists the container's processes"
	"chk_pause_resume|pause freezes the container, resume thaws it"
	"chk_kill|kill -s KILL: exit status 137"
	"chk_rm|rm: the container is gone"
)
H_NET_CHECKS=(
	"chk_net_publish|bridge network: -p publishes busybox httpd, fetched from the test host"
	"chk_net_by_ip|bridge network: container to container by IP"
	"chk_net_cleanup|bridge network: rm the web server"
)
