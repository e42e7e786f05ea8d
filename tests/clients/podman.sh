# tests/clients/podman.sh - podman 4.3 as a client of the harness (sourced by tests/clients/run).
#
# Owns: podman's configuration for the test host (cgroupfs manager, overlay storage, the
# CNI backend with Debian's containernetworking-plugins, every path under the harness's
# tmpfs; each runtime under test registered in engine.runtimes under its name), importing
# the image, and the verbs the common checks use (see tests/clients/checks.sh). podman has
# no daemon: "start" writes the configuration and imports the image.
# shellcheck shell=bash

PODMAN=/usr/bin/podman
podman_img=localhost/kvtest:latest
podman_up=

pm() {
	"$PODMAN" --runtime "$RT" "$@"
}

podman_start() {
	local d=$H_STATE/podman name i
	mkdir -p "$d"/{storage,run,tmp,cni,volumes} || return 1
	cat >"$d/storage.conf" <<-EOF
		[storage]
		driver = "overlay"
		graphroot = "$d/storage"
		runroot = "$d/run"
	EOF
	{
		echo '[containers]'
		# The test host's hard RLIMIT_NOFILE is the kernel's default (4096).
		echo 'default_ulimits = []'
		echo '[engine]'
		echo 'cgroup_manager = "cgroupfs"'
		echo 'events_logger = "file"'
		echo "events_logfile_path = \"$d/events.log\""
		echo "tmp_dir = \"$d/tmp\""
		echo "image_copy_tmp_dir = \"$d/tmp\""
		echo "volume_path = \"$d/volumes\""
		echo "static_dir = \"$d/storage/libpod\""
		# conmon passes --log-format json only to runtimes listed here.
		printf 'runtime_supports_json = ['
		for ((i = 0; i < ${#H_RT_NAMES[@]}; i++)); do printf '"%s", ' "${H_RT_NAMES[i]}"; done
		echo '"runc"]'
		echo '[engine.runtimes]'
		for ((i = 0; i < ${#H_RT_NAMES[@]}; i++)); do
			name=${H_RT_NAMES[i]}
			echo "$name = [\"${H_RT_PATHS[i]}\"]"
		done
		echo '[network]'
		echo 'network_backend = "cni"'
		echo 'cni_plugin_dirs = ["/usr/lib/cni"]'
		echo "network_config_dir = \"$d/cni\""
	} >"$d/containers.conf"
	export CONTAINERS_CONF=$d/containers.conf CONTAINERS_STORAGE_CONF=$d/storage.conf
	podman_up=1
	at_exit podman_stop
	"$PODMAN" import -q "$H_IMAGE/rootfs.tar" "$podman_img" >/dev/null
}

podman_stop() {
	[ -n "$podman_up" ] || return 0
	podman_up=
	"$PODMAN" rm -a -f -t 0 >/dev/null 2>&1
	# The storage's own mounts (the overlay home is bind-mounted private); the tmpfs with
	# the storage goes at the end of the run.
	grep -F " $H_STATE/podman/" /proc/self/mountinfo | cut -d' ' -f5 | sort -r |
		while read -r m; do umount -l "$m"; done
	kill_mentioning "$H_STATE/podman/"
	unset CONTAINERS_CONF CONTAINERS_STORAGE_CONF
}

# The verbs (see checks.sh for what each one must do).
podman_run() { pm run --rm --network none "$podman_img" "$@"; }
podman_run_i() { pm run --rm -i --network none "$podman_img" "$@"; }
podman_run_t() { on_tty "$PODMAN" --runtime "$RT" run --rm -t --network none "$podman_img" "$@"; }
podman_run_id() { pm run --rm --network none -e FOO=kvt -w /tmp -u 1000:1000 "$podman_img" "$@"; }
podman_run_binds() { # RW RO FILE CMD...
	local rw=$1 ro=$2 f=$3
	shift 3
	pm run --rm --network none -v "$rw:/rw" -v "$ro:/ro:ro" -v "$f:/etc/kvt-file:ro" "$podman_img" "$@"
}
podman_start_bg() { # NAME DIR CMD...: detached, DIR bound at /out
	local name=$1 dir=$2
	shift 2
	pm run -d --name "$name" --network none -v "$dir:/out" "$podman_img" "$@" >/dev/null
}
podman_exec() { pm exec "$1" "${@:2}"; }
podman_exec_t() { on_tty "$PODMAN" exec -t "$1" "${@:2}"; }
# podman top reads the host's /proc of the container's pid: a VM runtime's is its VMM.
podman_ps() { if rt_vm; then pm exec "$1" ps -o args; else pm top "$1"; fi; }
podman_pause() { pm pause "$1" >/dev/null; }
podman_resume() { pm unpause "$1" >/dev/null; }
podman_status() { pm inspect -f '{{.State.Status}}' "$1"; }
podman_kill() { pm kill -s "$2" "$1" >/dev/null; }
podman_wait() { pm wait "$1"; }
podman_rm() { pm rm -f -t 0 "$1" >/dev/null; }
podman_exists() { pm container exists "$1"; }

# Networking: the default CNI network "podman" (bridge cni-podman0 with portmap).
podman_start_web() { # NAME PORT: busybox httpd on port 80, published on 127.0.0.1:PORT
	pm run -d --name "$1" -p "127.0.0.1:$2:80" "$podman_img" httpd -f -p 80 -h /www >/dev/null
}
podman_ip() { pm inspect -f '{{.NetworkSettings.IPAddress}}' "$1"; }
podman_run_net() { pm run --rm "$podman_img" "$@"; }
