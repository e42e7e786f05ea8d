# tests/clients/image.sh - the harness's container image, built offline from busybox-static.
#
# Owns: one root filesystem made of the host's static /bin/busybox (every applet linked in
# /bin), /etc/passwd and /etc/group, the marker file /etc/kvtest-image and a page for
# busybox httpd in /www; packed as a plain tar (rootfs.tar: `podman import`, `docker
# import`) and as an OCI image archive (oci.tar: `ctr images import`), whose blobs,
# manifest, config and index are written here by hand since no registry is reachable.
# shellcheck shell=bash

# The marker: what /etc/kvtest-image holds in the image, and the page httpd serves.
H_IMAGE_MARK=kvtest-image-busybox
H_WWW_PAGE="hello from the kvtest httpd"

# image_build DIR: write DIR/rootfs/, DIR/rootfs.tar and DIR/oci.tar.
image_build() {
	local dir=$1 r a layer lsum lsize cfg csum csize man msum msize
	r=$dir/rootfs
	mkdir -p "$r"/{bin,etc,www,tmp,proc,sys,dev,root,run,var/tmp} || return 1
	chmod 1777 "$r/tmp" "$r/var/tmp"
	cp /bin/busybox "$r/bin/busybox" || return 1
	# One link per applet, to /bin/busybox (one exec: the links are many, execs are slow).
	chroot "$r" /bin/busybox --install -s /bin || return 1
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$r/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group"
	echo "$H_IMAGE_MARK" >"$r/etc/kvtest-image"
	echo "$H_WWW_PAGE" >"$r/www/index.html"
	tar -C "$r" --numeric-owner --owner=0 --group=0 -cf "$dir/rootfs.tar" . || return 1

	# The OCI archive: one uncompressed layer, a config naming its diff_id, a manifest, an
	# index whose annotation gives containerd the image name.
	mkdir -p "$dir/oci/blobs/sha256" || return 1
	layer=$dir/oci/blobs/sha256/layer
	cp "$dir/rootfs.tar" "$layer"
	lsum=$(sha256sum <"$layer" | cut -d' ' -f1)
	lsize=$(stat -c %s "$layer")
	mv "$layer" "$dir/oci/blobs/sha256/$lsum"
	cfg='{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:'$lsum'"]}}'
	csum=$(printf '%s' "$cfg" | sha256sum | cut -d' ' -f1)
	csize=${#cfg}
	printf '%s' "$cfg" >"$dir/oci/blobs/sha256/$csum"
	man='{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:'$csum'","size":'$csize'},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:'$lsum'","size":'$lsize'}]}'
	msum=$(printf '%s' "$man" | sha256sum | cut -d' ' -f1)
	msize=${#man}
	printf '%s' "$man" >"$dir/oci/blobs/sha256/$msum"
	printf '%s' '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:'$msum'","size":'$msize',"platform":{"architecture":"amd64","os":"linux"},"annotations":{"io.containerd.image.name":"localhost/kvtest:latest","org.opencontainers.image.ref.name":"latest"}}]}' >"$dir/oci/index.json"
	echo '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci/oci-layout"
	tar -C "$dir/oci" --numeric-owner --owner=0 --group=0 -cf "$dir/oci.tar" . || return 1
	rm -rf -- "$dir/oci"
}
