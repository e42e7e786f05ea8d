# tests/clients/containerd.sh - containerd 1.6 and ctr as a client of the harness (sourced by
# tests/clients/run).
#
# Owns: containerd's configuration for the test host (root, state, sockets and the CRI
# plugin's CNI directories under the harness's tmpfs; the CRI plugin enabled for the pod
# tests), starting and stopping the daemon (dockerd uses it too), importing the OCI image,
# and the ctr verbs the common checks use (see tests/clients/checks.sh). The runtime under
# test goes to the io.containerd.runc.v2 shim with `ctr run --runc-binary PATH`.
# shellcheck shell=bash

CTR=/usr/bin/ctr
CONTAINERD=/usr/bin/containerd
containerd_img=localhost/kvtest:latest
containerd_sock=
containerd_pid=

cr() {
	"$CTR" -a "$containerd_sock" -n kvtest "$@"
}

containerd_start() {
	local d=$H_STATE/containerd
	mkdir -p "$d"/{root,state,opt,cni} || return 1
	containerd_sock=$d/containerd.sock
	cat >"$d/config.toml" <<-EOF
		version = 2
		root = "$d/root"
		state = "$d/state"
		[grpc]
		  address = "$containerd_sock"
		[ttrpc]
		  address = "$containerd_sock.ttrpc"
		[plugins."io.containerd.internal.v1.opt"]
		  path = "$d/opt"
		[plugins."io.containerd.grpc.v1.cri".cni]
		  bin_dir = "/usr/lib/cni"
		  conf_dir = "$d/cni"
	EOF
	"$CONTAINERD" --config "$d/config.toml" >"$d/log" 2>&1 &
	containerd_pid=$!
	at_exit containerd_stop
	if ! wait_for 120 "$CTR" -a "$containerd_sock" version; then
		echo "containerd did not answer within 120 s; its log:"
		tail -n 30 "$d/log"
		return 1
	fi
	cr images import "$H_IMAGE/oci.tar" >/dev/null
}

containerd_stop() {
	local id
	if [ -n "$containerd_pid" ]; then
		for id in $(cr tasks ls -q 2>/dev/null); do cr tasks kill -s SIGKILL "$id"; done
		sleep 0.5
		for id in $(cr containers ls -q 2>/dev/null); do
			cr tasks delete -f "$id"
			cr containers rm "$id"
		done
		kill -TERM "$containerd_pid" 2>/dev/null
		wait_for 30 eval '! kill -0 "$containerd_pid"' || kill -KILL "$containerd_pid"
		wait "$containerd_pid" 2>/dev/null
		containerd_pid=
	fi
	# The shims and the snapshotter's mounts outlive a daemon that is killed.
	[ -z "$containerd_sock" ] || kill_mentioning "$containerd_sock"
	grep -F " $H_STATE/containerd/" /proc/self/mountinfo | cut -d' ' -f5 | sort -r |
		while read -r m; do umount -l "$m"; done
}

# ctr_id: a fresh id for a foreground container or an exec (verbs run in subshells, so
# no counter would survive).
ctr_id() {
	echo "kvt-$RT-${EPOCHREALTIME/./}-$BASHPID"
}

# The verbs (see checks.sh for what each one must do).
containerd_run() { cr run --rm --runc-binary "$RT_PATH" "$containerd_img" "$(ctr_id)" "$@"; }
# ctr run always attaches stdin, but closes the container's stdin at EOF only when EOF
# comes after ctr has created the task (an EOF read earlier is lost and the container
# waits for ever): feed stdin through a pipe that ends once the task runs, which ctr
# starts only after that.
containerd_run_i() {
	local id
	id=$(ctr_id)
	{
		cat
		wait_for 60 eval 'case "$(containerd_status "$id")" in running | stopped) true ;; *) false ;; esac'
	} | cr run --rm --runc-binary "$RT_PATH" "$containerd_img" "$id" "$@"
}
containerd_run_t() {
	on_tty "$CTR" -a "$containerd_sock" -n kvtest run --rm -t --runc-binary "$RT_PATH" \
		"$containerd_img" "$(ctr_id)" "$@"
}
containerd_run_id() {
	cr run --rm --runc-binary "$RT_PATH" --env FOO=kvt --cwd /tmp "$containerd_img" "$(ctr_id)" "$@"
}
containerd_run_binds() { # RW RO FILE CMD...
	local rw=$1 ro=$2 f=$3
	shift 3
	cr run --rm --runc-binary "$RT_PATH" --mount "type=bind,src=$rw,dst=/rw,options=rbind:rw" \
		--mount "type=bind,src=$ro,dst=/ro,options=rbind:ro" \
		--mount "type=bind,src=$f,dst=/etc/kvt-file,options=bind:ro" \
		"$containerd_img" "$(ctr_id)" "$@"
}
# ctr reports a container's exit status only as the status of an attached `ctr run`: the
# detached container is an attached ctr run in the background, which writes its status
# to $H_STATE/ctr-NAME.status when the container ends.
containerd_start_bg() { # NAME DIR CMD...
	local name=$1 dir=$2
	shift 2
	rm -f -- "$H_STATE/ctr-$name.status"
	(
		rc=0
		cr run --runc-binary "$RT_PATH" --mount "type=bind,src=$dir,dst=/out,options=rbind:rw" \
			"$containerd_img" "$name" "$@" </dev/null >"$H_STATE/ctr-$name.log" 2>&1 || rc=$?
		echo "$rc" >"$H_STATE/ctr-$name.status"
	) &
	wait_for 60 eval '[ -n "$(containerd_status "$name")" ] || [ -e "$H_STATE/ctr-$name.status" ]'
	[ ! -e "$H_STATE/ctr-$name.status" ] || { cat "$H_STATE/ctr-$name.log"; return 1; }
}
containerd_exec() { cr tasks exec --exec-id "$(ctr_id)" "$1" "${@:2}"; }
containerd_exec_t() {
	on_tty "$CTR" -a "$containerd_sock" -n kvtest tasks exec -t --exec-id "$(ctr_id)" "$1" "${@:2}"
}
# ctr prints the pids the runtime's `ps` reports; with runc they are host pids. A VM
# runtime's are the guest's: their command lines are in the runtime's own ps table (the
# shim's runtime root is /run/containerd/runc/NAMESPACE), and each pid must be there.
containerd_ps() {
	local pid pids
	if rt_vm; then
		pids=$(cr tasks ps "$1" | tail -n +2 | awk '{ print $1 }' | tr '\n' ' ')
		[ -n "$pids" ] || { echo "ctr tasks ps lists no pid"; return 1; }
		"$RT_PATH" --root /run/containerd/runc/kvtest ps "$1" |
			awk -v pids=" $pids " 'index(pids, " " $2 " ") { $1 = $2 = $3 = $4 = ""; print; n++ }
				END { exit n ? 0 : 1 }'
		return
	fi
	cr tasks ps "$1" | tail -n +2 | while read -r pid _; do
		tr '\0' ' ' <"/proc/$pid/cmdline"
		echo
	done
}
containerd_pause() { cr tasks pause "$1"; }
containerd_resume() { cr tasks resume "$1"; }
containerd_status() { cr tasks ls | awk -v id="$1" '$1 == id { print tolower($3) }'; }
containerd_kill() { cr tasks kill -s "SIG$2" "$1"; }
containerd_wait() {
	local f=$H_STATE/ctr-$1.status
	wait_for 60 test -s "$f" || return 1
	cat "$f"
}
containerd_rm() {
	cr tasks delete -f "$1" >/dev/null 2>&1
	cr containers rm "$1"
}
containerd_exists() { cr containers info "$1" >/dev/null 2>&1; }

# containerd only: its CRI plugin, which the pod tests drive, is loaded.
chk_containerd_cri() {
	capture cr plugins ls
	expect_rc 0 && grep -Eq '^io\.containerd\.grpc\.v1[[:space:]]+cri[[:space:]].*[[:space:]]ok[[:space:]]*$' <<<"$OUT" ||
		{ echo "the CRI plugin is not loaded:"; grep cri <<<"$OUT"; return 1; }
}
