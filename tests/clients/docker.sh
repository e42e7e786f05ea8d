# tests/clients/docker.sh - dockerd 20.10 as a client of the harness (sourced by
# tests/clients/run).
#
# Owns: dockerd's configuration for the test host (against the harness's containerd, overlay2
# storage, its default bridge network with iptables, every path under the harness's tmpfs;
# each runtime under test added as "kvt-NAME" with --add-runtime, since "runc" is a
# reserved name), starting and stopping the daemon, importing the image, and the verbs
# the common checks use (see tests/clients/checks.sh). Debian's docker CLI
# (/usr/bin/docker) is used, whatever else is on PATH.
# shellcheck shell=bash

DOCKER=/usr/bin/docker
DOCKERD=/usr/sbin/dockerd
docker_img=kvtest:latest
docker_pid=
docker_sock=

dk() {
	"$DOCKER" -H "unix://$docker_sock" "$@"
}

docker_start() {
	local d=$H_STATE/docker i args=()
	[ -n "$containerd_pid" ] || { echo "docker needs the harness's containerd (client containerd)"; return 1; }
	mkdir -p "$d"/{root,exec} || return 1
	docker_sock=$d/docker.sock
	# dockerd 20.10 writes its key to /etc/docker/key.json unless told otherwise.
	echo "{\"deprecated-key-path\": \"$d/key.json\"}" >"$d/daemon.json"
	for ((i = 0; i < ${#H_RT_NAMES[@]}; i++)); do
		args+=(--add-runtime "kvt-${H_RT_NAMES[i]}=${H_RT_PATHS[i]}")
	done
	"$DOCKERD" -H "unix://$docker_sock" --containerd "$containerd_sock" \
		--data-root "$d/root" --exec-root "$d/exec" --pidfile "$d/docker.pid" \
		--config-file "$d/daemon.json" --storage-driver overlay2 "${args[@]}" >"$d/log" 2>&1 &
	docker_pid=$!
	at_exit docker_stop
	if ! wait_for 180 dk version; then
		echo "dockerd did not answer within 180 s; its log:"
		tail -n 30 "$d/log"
		return 1
	fi
	dk import "$H_IMAGE/rootfs.tar" "$docker_img" >/dev/null
}

docker_stop() {
	if [ -n "$docker_pid" ]; then
		dk ps -aq | xargs -r "$DOCKER" -H "unix://$docker_sock" rm -f >/dev/null 2>&1
		kill -TERM "$docker_pid" 2>/dev/null
		wait_for 15 eval '! kill -0 "$docker_pid"' || kill -KILL "$docker_pid"
		wait "$docker_pid" 2>/dev/null
		docker_pid=
	fi
	kill_mentioning "$H_STATE/docker/"
	grep -F " $H_STATE/docker/" /proc/self/mountinfo | cut -d' ' -f5 | sort -r |
		while read -r m; do umount -l "$m"; done
}

# The verbs (see checks.sh for what each one must do).
docker_run() { dk run --rm --runtime "kvt-$RT" --network none "$docker_img" "$@"; }
docker_run_i() { dk run --rm -i --runtime "kvt-$RT" --network none "$docker_img" "$@"; }
docker_run_t() {
	on_tty "$DOCKER" -H "unix://$docker_sock" run --rm -t --runtime "kvt-$RT" --network none \
		"$docker_img" "$@"
}
docker_run_id() {
	dk run --rm --runtime "kvt-$RT" --network none -e FOO=kvt -w /tmp -u 1000:1000 "$docker_img" "$@"
}
docker_run_binds() { # RW RO FILE CMD...
	local rw=$1 ro=$2 f=$3
	shift 3
	dk run --rm --runtime "kvt-$RT" --network none -v "$rw:/rw" -v "$ro:/ro:ro" \
		-v "$f:/etc/kvt-file:ro" "$docker_img" "$@"
}
docker_start_bg() { # NAME DIR CMD...
	local name=$1 dir=$2
	shift 2
	dk run -d --name "$name" --runtime "kvt-$RT" --network none -v "$dir:/out" "$docker_img" "$@" >/dev/null
}
docker_exec() { dk exec "$1" "${@:2}"; }
docker_exec_t() { on_tty "$DOCKER" -H "unix://$docker_sock" exec -t "$1" "${@:2}"; }
# docker top asks the runtime's ps for the pids, then finds them in the host's ps -ef: a
# VM runtime's pids are the guest's, so the container's own ps answers then.
docker_ps() { if rt_vm; then dk exec "$1" ps -o args; else dk top "$1" -o pid,args; fi; }
docker_pause() { dk pause "$1" >/dev/null; }
docker_resume() { dk unpause "$1" >/dev/null; }
docker_status() { dk inspect -f '{{.State.Status}}' "$1"; }
docker_kill() { dk kill -s "$2" "$1" >/dev/null; }
docker_wait() { dk wait "$1"; }
docker_rm() { dk rm -f "$1" >/dev/null; }
docker_exists() { dk container inspect "$1" >/dev/null 2>&1; }

# Networking: the default bridge (docker0), -p through docker-proxy and iptables DNAT.
docker_start_web() { # NAME PORT
	dk run -d --name "$1" --runtime "kvt-$RT" -p "127.0.0.1:$2:80" "$docker_img" \
		httpd -f -p 80 -h /www >/dev/null
}
docker_ip() { dk inspect -f '{{.NetworkSettings.IPAddress}}' "$1"; }
docker_run_net() { dk run --rm --runtime "kvt-$RT" "$docker_img" "$@"; }
