#!/usr/bin/env bash
# fs.sh - virtio-fs end to end: host directories shared with a real guest.
#
# Owns: the host half of the virtio-fs KVM test. It prepares the shared trees in a scratch
# directory (a tar tree, 10,000 entries, an overlay lower layer, a secret next to the share
# with symlinks pointing at it, a uid 1000 directory, a read-only share, a container root)
# and boots two VMs:
#   1. `kvrun vm --fs ... --vsock` in the background, image = rootfs/mkguest + fs-exerciser
#      + overlay. Through kvrun-agent-run: a plain `mount -t virtiofs` from a shell,
#      MOUNT_FS (--mount-fs) of a readonly=on share, then tests/kvm/fs-exerciser.c's
#      checks (escape, POSIX operations, readdir, overlayfs), untarring a tree on the share
#      (checksums, modes, owners and links compared on the host), uid 1000 creating files
#      (owned by 1000 on the host), cache=never seeing host changes at once, and last a
#      CREATE whose root is a virtio-fs tag (--rootfs-fs) that powers the VM off.
#   2. `kvrun vm --fs tag=...,mount=DIR --exec` with the plain default image: the agent
#      mounts the tag for the command, which also mounts another tag with mount(8).
# Prints TAP (plan last). Needs a hardware-virtualization /dev/kvm (tests/testhost/with-kvm).
set -uo pipefail

usage() {
	echo "usage: fs.sh KVRUN BUILD_DIR KERNEL_DIR   (KERNEL_DIR: rootfs/fetch-kernel cloud DIR)"
}
case ${1:-} in -h | --help) usage; exit 0 ;; esac
[ $# -eq 3 ] || { usage >&2; exit 2; }
kvrun=$1
build=$2
kdir=$3
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
run=$build/runtime/kvrun-agent-run
exer=$build/tests/fs-exerciser
cmdline="console=ttyS0 quiet panic=-1"
secret="kvrun-secret-$$-$RANDOM$RANDOM"

n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() {
	n=$((n + 1)) fails=$((fails + 1))
	echo "not ok $n - $1"
	shift
	for f in "$@"; do [ -f "$f" ] && sed 's/^/#   /' "$f" | tail -n 20; done
	return 0
}
finish() {
	echo "1..$n"
	[ "$fails" = 0 ]
	exit
}

tmp=$(mktemp -d)
vmpid=
cleanup() {
	[ -n "$vmpid" ] && kill "$vmpid" 2>/dev/null && wait "$vmpid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# --- the host side -----------------------------------------------------------------------
share=$tmp/share ro=$tmp/ro nc=$tmp/nc root=$tmp/root
mkdir -p "$share"/{many,lower/dir,u1000,rootonly,sub} "$ro" "$nc" "$root/bin" "$tmp/tree"
printf '%s\n' "$secret" >"$tmp/secret"
chmod 0600 "$tmp/secret"
ln -s "$tmp/secret" "$share/out-abs"
ln -s ../secret "$share/out-rel"
ln -s "$tmp" "$share/out-dir"
(cd "$share/many" && seq -f 'f%05g' 0 9999 | xargs touch)
printf keep >"$share/lower/keep"
printf gone >"$share/lower/gone"
printf inner >"$share/lower/dir/inner"
chown 1000:1000 "$share/u1000"
printf root >"$share/rootonly/rootfile"
chmod 0755 "$share/rootonly"
chmod 0644 "$share/rootonly/rootfile"
printf hello >"$ro/hello"
chmod 0644 "$ro/hello"
printf v1 >"$nc/f"
cp /bin/busybox "$root/bin/busybox"
cp /bin/busybox "$root/bin/sh"
printf 'marker-%s\n' "$$" >"$root/marker"

# A busybox-sized tree: 30 directories of 12 files (0 to 96 KiB), modes, owners, symlinks,
# a hard link.
python3 - "$tmp/tree" <<'EOF'
import os, random, sys
top = sys.argv[1]
rnd = random.Random(7)
for d in range(30):
    dd = os.path.join(top, f"d{d:02}", "sub" if d % 3 == 0 else "")
    os.makedirs(dd, exist_ok=True)
    for f in range(12):
        p = os.path.join(dd, f"f{f:02}.bin")
        with open(p, "wb") as fh:
            fh.write(rnd.randbytes(rnd.choice([0, 1, 100, 4096, 5000, 65536, 98304])))
        os.chmod(p, rnd.choice([0o644, 0o600, 0o755, 0o444]))
        if f == 3:
            os.chown(p, 1000, 1000)
    os.symlink(f"f{d % 12:02}.bin", os.path.join(dd, "link"))
os.link(os.path.join(top, "d01", "f01.bin"), os.path.join(top, "d02", "hard"))
EOF
tar -C "$tmp/tree" -cf "$share/tree.tar" .
listing() { # DIR: path, type, mode, owner, link target, size, checksum
	(cd "$1" && find . -mindepth 1 -printf '%p %y %m %U:%G %l %s\n' | sort) >"$2"
	(cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum) >>"$2"
}
listing "$tmp/tree" "$tmp/tree.list"

# --- VM 1 -----------------------------------------------------------------------------------
image=$("$src/rootfs/mkguest" --kernel-dir "$kdir" --agent "$build/rootfs/kvrun-agent" \
	--file "$exer=bin/fs-exerciser" --module overlay 2>"$tmp/mkguest.err") || {
	nok "building the guest image" "$tmp/mkguest.err"
	finish
}
sock=$tmp/v.sock
"$kvrun" vm --kernel "$kdir/vmlinuz" --initrd "$image" --cmdline "$cmdline" --cpus 2 \
	--serial "file:$tmp/serial.log" --vsock "cid=9,socket=$sock" \
	--fs "tag=share,path=$share" --fs "tag=ro,path=$ro,readonly=on" \
	--fs "tag=nc,path=$nc,cache=never" --fs "tag=root,path=$root,cache=always" \
	2>"$tmp/vm.err" &
vmpid=$!
r() { timeout -k 10 600 "$run" --hybrid "$sock" --timeout 90000 "$@"; }

# exer NAME [RUN-OPTION...] -- fs-exerciser ARGS: run it in the guest, one TAP line per check.
exer() {
	local name=$1 st bad=0 line
	shift
	r "$@" >"$tmp/x.out" 2>"$tmp/x.err"
	st=$?
	while IFS= read -r line; do
		case $line in
		"ok - "*) ok "$name: ${line#ok - }" ;;
		"not ok - "*) nok "$name: ${line#not ok - }"; bad=1 ;;
		*) echo "# $line" ;;
		esac
	done <"$tmp/x.out"
	[ "$st" = 0 ] || [ "$bad" = 1 ] || nok "$name: fs-exerciser exited with $st" "$tmp/x.err"
}

if r -- /bin/sh -c 'mkdir -p /mnt/share && mount -t virtiofs share /mnt/share &&
	grep "^share /mnt/share virtiofs rw" /proc/mounts && cat /mnt/share/lower/keep' \
	>"$tmp/o" 2>"$tmp/e" && [ "$(tail -c 4 "$tmp/o")" = keep ]; then
	ok "a shell in the guest mounts the share with mount -t virtiofs"
else
	nok "mount -t virtiofs share" "$tmp/o" "$tmp/e" "$tmp/vm.err" "$tmp/serial.log"
	finish
fi
# The agent sets a virtio-fs mount's read-ahead to 1 MiB (rootfs/agent/virtiofs.c); a
# plain mount keeps the kernel's 128 KiB.
if r --mount-fs ro:/mnt/ro -- /bin/sh -c "grep '^ro /mnt/ro virtiofs' /proc/mounts >&2 &&
	fs-exerciser readahead /mnt/ro && fs-exerciser readahead /mnt/share" >"$tmp/o" 2>"$tmp/e" &&
	[ "$(tr '\n' ' ' <"$tmp/o")" = "1024 128 " ]; then
	ok "MOUNT_FS mounts the read-only share on /mnt/ro, with 1 MiB read-ahead"
else
	nok "MOUNT_FS ro: read-ahead $(tr '\n' ' ' <"$tmp/o")" "$tmp/o" "$tmp/e"
fi
exer readonly -- /bin/fs-exerciser readonly /mnt/ro
exer escape -- /bin/fs-exerciser escape /mnt/share "$secret" many
exer posix -- /bin/fs-exerciser posix /mnt/share
exer readdir -- /bin/fs-exerciser readdir /mnt/share/many 10000
r -- /bin/sh -c 'mkdir -p /mnt/scratch && mount -t tmpfs tmpfs /mnt/scratch' 2>"$tmp/e" ||
	nok "tmpfs for the overlay's upper layer" "$tmp/e"
exer overlay -- /bin/fs-exerciser overlay /mnt/share/lower /mnt/scratch

# The host sees what the guest did.
st=$(stat -c '%s %b' "$share/posix/big" 2>&1)
if [ "${st% *}" = $(((5 << 30) + 4096)) ] && [ "${st#* }" -lt 1024 ]; then
	ok "host: the guest's file past 5 GiB is 5 GiB + 4 KiB and sparse ($st)"
else
	nok "host: posix/big is '$st'"
fi
if [ "$(stat -c '%u:%g %a' "$share/posix/hard" 2>&1)" = "1234:5678 640" ] &&
	[ "$(stat -c '%F' "$share/posix/fifo" 2>&1)" = fifo ] &&
	[ "$(readlink "$share/posix/sym")" = hard ]; then
	ok "host: chown, chmod, mkfifo and symlink made by the guest"
else
	nok "host: $(stat -c '%n %u:%g %a %F' "$share/posix/hard" "$share/posix/fifo" 2>&1 | tr '\n' ' ')"
fi
if python3 -c 'import os,sys; x=os.getxattr(sys.argv[1], "security.capability"); sys.exit(0 if x[:6]==bytes([1,0,0,2,0,0x20]) and "trusted.kvrun" not in os.listxattr(sys.argv[1]) else 1)' \
	"$share/posix/x" 2>"$tmp/e"; then
	ok "host: security.capability set by the guest, trusted.kvrun removed"
else
	nok "host: xattrs of posix/x" "$tmp/e"
fi

# A tar tree unpacked on the share, compared with its source on both sides.
if r -- /bin/sh -c 'mkdir /mnt/share/untar && tar -xf /mnt/share/tree.tar -C /mnt/share/untar &&
	cd /mnt/share/untar && find . -type f | sort | xargs sha256sum' >"$tmp/guest.sums" 2>"$tmp/e"; then
	ok "the guest untars $(grep -c ' f ' "$tmp/tree.list") files onto the share"
else
	nok "untar in the guest" "$tmp/e"
fi
listing "$share/untar" "$tmp/untar.list"
if diff "$tmp/tree.list" "$tmp/untar.list" >"$tmp/diff"; then
	ok "host: the unpacked tree matches the source (types, modes, owners, links, sizes, sha256)"
else
	nok "host: the unpacked tree differs from the source" "$tmp/diff"
fi
if diff <(grep '^[0-9a-f]\{64\} ' "$tmp/tree.list") "$tmp/guest.sums" >"$tmp/diff"; then
	ok "guest: sha256 of every unpacked file matches the host's"
else
	nok "guest checksums differ" "$tmp/diff"
fi

# Credentials: uid 1000 in the guest is uid 1000 on the host.
exer owner -u 1000:1000 -- /bin/fs-exerciser owner /mnt/share/u1000 /mnt/share/rootonly
owners=$(stat -c '%n %u:%g' "$share/u1000/file" "$share/u1000/dir" "$share/u1000/fifo" 2>&1)
lowner=$(stat -c '%u:%g' "$share/u1000/link" 2>&1)
if [ "$(grep -c ' 1000:1000$' <<<"$owners")" = 3 ] && [ "$lowner" = 1000:1000 ] &&
	[ ! -e "$share/rootonly/nope" ] && [ "$(cat "$share/rootonly/rootfile")" = root ]; then
	ok "host: the file, dir, fifo and symlink uid 1000 made are 1000:1000; rootonly untouched"
else
	nok "host: owners: $owners / link $lowner"
fi

# cache=never: a change on the host is seen at once.
printf v2 >"$nc/f"
if out=$(r --mount-fs nc:/mnt/nc -- /bin/sh -c 'cat /mnt/nc/f; echo; printf v3 >/mnt/nc/f' 2>"$tmp/e") &&
	[ "$out" = v2 ] && [ "$(cat "$nc/f")" = v3 ] && printf v4 >"$nc/f" &&
	out=$(r -- /bin/sh -c 'cat /mnt/nc/f' 2>"$tmp/e") && [ "$out" = v4 ]; then
	ok "cache=never: guest and host see each other's writes at once"
else
	nok "cache=never: read '$out'" "$tmp/e"
fi

if [ -z "$(ls -A "$tmp" | grep -v -x -e share -e ro -e nc -e root -e tree -e secret -e 'tree.list' -e 'untar.list' -e guest.sums -e diff -e o -e e -e x.out -e x.err -e serial.log -e vm.err -e mkguest.err -e v.sock)" ] &&
	[ "$(cat "$tmp/secret")" = "$secret" ]; then
	ok "host: nothing appeared next to the share; the secret is intact"
else
	nok "host: next to the share: $(ls -A "$tmp" | tr '\n' ' ')"
fi

# Last: the container's root is a virtio-fs tag (CREATE); the VM powers off after.
# Only shell builtins: the shared root has no /proc for busybox to re-exec itself through.
out=$(r --poweroff --rootfs-fs root -- /bin/sh -c \
	'read -r m </marker; echo "$m"; echo made >/from-guest; [ ! -e /bin/fs-exerciser ]' 2>"$tmp/e")
st=$?
timeout -k 10 60 tail --pid="$vmpid" -f /dev/null
wait "$vmpid"
vst=$?
vmpid=
if [ "$st" = 0 ] && [ "$out" = "marker-$$" ] && [ "$(cat "$root/from-guest" 2>&1)" = made ]; then
	ok "CREATE with a virtio-fs root: the init runs from the shared root and writes to it"
else
	nok "virtio-fs root: status $st, output '$out'" "$tmp/e"
fi
if [ "$vst" = 0 ] && [ ! -e "$sock" ]; then
	ok "the VM powered off (kvrun vm exits 0), its socket is gone"
else
	nok "kvrun vm exited $vst" "$tmp/vm.err" "$tmp/serial.log"
fi

# --- VM 2: kvrun vm --fs ... --exec with the default image -------------------------------
plain=$("$src/rootfs/mkguest" --kernel-dir "$kdir" --agent "$build/rootfs/kvrun-agent" 2>"$tmp/e")
out=$(timeout -k 10 300 "$kvrun" vm --kernel "$kdir/vmlinuz" --initrd "$plain" --cmdline "$cmdline" \
	--fs "tag=ro,path=$ro,readonly=on,mount=/data" --fs "tag=more,path=$nc" \
	--exec -- /bin/sh -c 'cat /data/hello; echo; mkdir /m && mount -t virtiofs more /m && cat /m/f' \
	2>"$tmp/e")
st=$?
if [ "$st" = 0 ] && [ "$out" = "hello
v4" ]; then
	ok "kvrun vm --fs tag=ro,...,mount=/data --exec: the agent mounts it; mount -t virtiofs works too"
else
	nok "kvrun vm --fs --exec: status $st, output '$out'" "$tmp/e"
fi
finish
