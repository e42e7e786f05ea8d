# tests/clients/host.sh - checks of the test host itself as a container host (sourced by
# tests/clients/run), run once per harness run before any engine starts.
#
# Owns: the checks that make whatever fails later the runtime's fault, not the host's:
# the host root is the root of the mount namespace (setns lands in it, not in the
# initramfs); a process in a runc container's mount namespace sees the container's root;
# pivot_root works in a new mount namespace; the kernel modules that the tap + tc redirect
# of kvrun's networking asks for load on demand.
# shellcheck shell=bash

chk_host_root() {
	nsenter --mount=/proc/1/ns/mnt sh -c '[ -d /run/testhost/ctl ] && [ ! -e /modules.load ]' ||
		{ echo "setns into the mount namespace does not land in the host root"; return 1; }
}

# runc directly (the control): a detached container, entered with nsenter and runc exec.
chk_host_runc_mntns() {
	local b=$H_STATE/host-bundle id=kvt-host-mntns pid runc
	runc=$(command -v runc) || { echo "runc is not installed"; return 1; }
	mkdir -p "$b" && (cd "$b" && "$runc" spec) || return 1
	sed -i -e 's/"terminal": true/"terminal": false/' \
		-e 's|^\(\t*\)"sh"$|\1"sleep", "1000"|' \
		-e "s|\"path\": \"rootfs\"|\"path\": \"$H_IMAGE/rootfs\"|" "$b/config.json"
	capture "$runc" --root "$H_STATE/runc" run -d -b "$b" --pid-file "$b/pid" "$id"
	expect_rc 0 || return 1
	at_exit "$runc" --root "$H_STATE/runc" delete -f "$id"
	pid=$(cat "$b/pid")
	capture nsenter -t "$pid" -m cat /etc/kvtest-image
	expect "nsenter -m: /etc/kvtest-image" "$H_IMAGE_MARK" "$OUT" || return 1
	capture nsenter -t "$pid" -m sh -c '[ ! -e /modules.load ] && [ ! -e /run/testhost ] && echo container-root'
	expect "nsenter -m: neither the initramfs nor the host root" container-root "$OUT" || return 1
	capture "$runc" --root "$H_STATE/runc" exec "$id" cat /etc/kvtest-image
	expect "runc exec: /etc/kvtest-image" "$H_IMAGE_MARK" "$OUT" || return 1
	capture "$runc" --root "$H_STATE/runc" delete -f "$id"
	expect_rc 0
}

chk_host_pivot_root() {
	local d=$H_STATE/pivot
	mkdir -p "$d"
	capture unshare -m sh -c "mount -t tmpfs new '$d' && mkdir '$d/old' && cp /bin/busybox '$d/' &&
		cd '$d' && pivot_root . old && exec /busybox sh -c \
		'[ -d /old/run/testhost ] && /busybox umount -l /old && [ ! -e /old/run ] && echo pivoted'"
	expect_rc 0 && expect "output" pivoted "$OUT"
}

# What kvrun's networking needs in a container's netns: a tap (tun), an ingress qdisc
# (sch_ingress) and redirects both ways (cls_matchall, cls_u32, act_mirred), in a scratch
# netns; nothing is loaded by hand: each tc or ip command makes the kernel load its module.
chk_host_tc_modules() {
	local ns=kvt-tc-$$ m missing=
	ip netns add "$ns" || return 1
	ip -n "$ns" link add kvt-veth type veth peer name kvt-peer &&
		ip -n "$ns" tuntap add dev kvt-tap mode tap &&
		ip -n "$ns" link set kvt-veth up && ip -n "$ns" link set kvt-tap up &&
		tc -n "$ns" qdisc add dev kvt-veth ingress &&
		tc -n "$ns" qdisc add dev kvt-tap ingress &&
		tc -n "$ns" filter add dev kvt-veth parent ffff: matchall \
			action mirred egress redirect dev kvt-tap &&
		tc -n "$ns" filter add dev kvt-tap parent ffff: protocol all u32 match u32 0 0 \
			action mirred egress redirect dev kvt-veth
	local rc=$?
	ip netns del "$ns"
	[ "$rc" = 0 ] || { echo "setting up the tap and the redirects failed"; return 1; }
	for m in veth tun sch_ingress cls_matchall cls_u32 act_mirred; do
		[ -d "/sys/module/$m" ] || missing="$missing $m"
	done
	[ -z "$missing" ] || { echo "not loaded:$missing"; return 1; }
}

H_HOST_CHECKS=(
	"chk_host_root|test host: setns into its mount namespace lands in the host root, not the initramfs"
	"chk_host_runc_mntns|test host: runc: a process in the container's mount namespace sees the container's root"
	"chk_host_pivot_root|test host: pivot_root works in a new mount namespace"
	"chk_host_tc_modules|test host: tun, veth, sch_ingress, cls_matchall, cls_u32, act_mirred load on demand"
)
