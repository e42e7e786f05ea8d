# Thin wrapper over meson. See README.md; `make help` lists the targets.
BUILD     ?= build
RELEASE   := $(BUILD)/release
SANITIZE  := $(BUILD)/sanitize
FUZZ      := $(BUILD)/fuzz
FUZZ_TIME ?= 60
# Cache root: $KVRUN_CACHE when set (share downloads between checkouts), else build/cache.
CACHE     ?= $(or $(KVRUN_CACHE),$(BUILD)/cache)
MESON     ?= meson

# Debian packages the build, the tests and the demo need.
DEB_PACKAGES := gcc libc6-dev make meson ninja-build pkg-config git \
	libfdt-dev libseccomp-dev libjson-c-dev libnl-3-dev libnl-route-3-dev \
	libcap-ng-dev liburing-dev \
	qemu-system-x86 busybox-static cpio kmod file clang-format ca-certificates \
	acpica-tools lz4 xz-utils zstd jq
DEB_PACKAGES += iproute2 procps # the netsetup and networking tests set namespaces up with ip/tc
DEB_PACKAGES += clang libclang-rt-14-dev # make fuzz: clang and its libFuzzer runtime
# The client harness (tests/clients/) in the test host: the engines, the control runtime,
# CNI plugins, the firewall tools they call, tc and ps. Installing them starts no service
# where policy-rc.d forbids it (it does on the project's machines; see docs/testing.md).
DEB_PACKAGES += podman containerd docker.io runc containernetworking-plugins \
	iptables nftables iproute2 procps
DEB_PACKAGES += e2fsprogs # bench/fs: mkfs.ext4 -d for the virtio-blk contender

.PHONY: all build deps guest check unit demo format format-check clean help fuzz fuzz-long bench \
	install

all: build

help:
	@echo "make deps          install missing Debian packages (idempotent)"
	@echo "make / make build  build into $(RELEASE)"
	@echo "make guest         the guest kernel and initramfs (agent as /init) into $(CACHE)"
	@echo "make install       kvrun and the guest image where the runtime finds them (PREFIX=/usr/local)"
	@echo "make check         install deps, build with ASan+UBSan, run every test"
	@echo "make demo          install deps, build, build the guest image, run busybox in a VM, then through podman"
	@echo "make format        reformat the C sources with .clang-format"
	@echo "make fuzz          build the libFuzzer targets with clang and fuzz each for FUZZ_TIME=$(FUZZ_TIME) s"
	@echo "make fuzz-long     each target for FUZZ_LONG_TIME=$(FUZZ_LONG_TIME) s x FUZZ_JOBS=$(FUZZ_JOBS) jobs, then the totals"
	@echo "make format-check  fail when a C source is not formatted"
	@echo "make bench         boot time, VMM memory, file sharing and network against QEMU (docs/performance.md)"

deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "deps: installing $$missing"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	else echo "deps: all Debian packages present"; fi

$(RELEASE)/build.ninja:
	$(MESON) setup $(RELEASE) -Dsanitize=false

$(SANITIZE)/build.ninja:
	$(MESON) setup $(SANITIZE) -Dsanitize=true

$(FUZZ)/build.ninja:
	CC=clang $(MESON) setup $(FUZZ) -Dsanitize=true -Dfuzz=true

build: $(RELEASE)/build.ninja
	$(MESON) compile -C $(RELEASE)

# The default guest pair: the Debian cloud kernel and an initramfs with the static agent as
# /init, busybox and the virtio modules (rootfs/mkguest; cached by its inputs). kvrun boots
# guest-vmlinux, the ELF kernel unpacked from the bzImage, so the guest skips its decompressor.
guest: $(RELEASE)/build.ninja
	rootfs/fetch-kernel cloud $(CACHE)/guest-kernel
	rootfs/extract-vmlinux $(CACHE)/guest-kernel/vmlinuz $(CACHE)/guest-vmlinux
	$(MESON) compile -C $(RELEASE) kvrun-agent
	rootfs/mkguest --kernel-dir $(CACHE)/guest-kernel --agent $(RELEASE)/rootfs/kvrun-agent \
		-o $(CACHE)/guest-initramfs.cpio >/dev/null
	@echo "guest: $(CACHE)/guest-vmlinux ($$(stat -c %s $(CACHE)/guest-vmlinux) bytes, from $$(stat -L -c %s $(CACHE)/guest-kernel/vmlinuz) bytes of bzImage)"
	@echo "guest: $(CACHE)/guest-initramfs.cpio ($$(stat -c %s $(CACHE)/guest-initramfs.cpio) bytes)"

# kvrun into PREFIX/bin (meson), the guest image into PREFIX/share/kvrun, where kvrun looks
# by default (docs/runtime.md). DESTDIR is honoured for packaging.
PREFIX ?= /usr/local
install: build guest
	$(MESON) configure $(RELEASE) -Dprefix=$(PREFIX)
	$(MESON) compile -C $(RELEASE)
	$(MESON) install -C $(RELEASE)
	install -D -m 0644 $(CACHE)/guest-vmlinux $(DESTDIR)$(PREFIX)/share/kvrun/vmlinux
	install -D -m 0644 $(CACHE)/guest-initramfs.cpio $(DESTDIR)$(PREFIX)/share/kvrun/initramfs.cpio
	@echo "install: $(DESTDIR)$(PREFIX)/bin/kvrun, guest image in $(DESTDIR)$(PREFIX)/share/kvrun"

unit: $(SANITIZE)/build.ninja
	$(MESON) compile -C $(SANITIZE)
	$(MESON) test -C $(SANITIZE) --suite unit --print-errorlogs

check: deps format-check $(SANITIZE)/build.ninja guest
	$(MESON) compile -C $(SANITIZE)
	@# The digest comes last so that a log cut to its tail still names the failure.
	$(MESON) test -C $(SANITIZE) --print-errorlogs || \
		{ tests/failure-digest $(SANITIZE)/meson-logs/testlog.json 20; exit 1; }

demo: deps build guest
	tests/testhost/needs-kvm --describe --probe $(RELEASE)/tests/kvm-selftest || true
	tests/testhost/with-kvm --probe $(RELEASE)/tests/kvm-selftest -- \
		$(RELEASE)/runtime/kvrun vm --kernel $(CACHE)/guest-vmlinux \
		--initrd $(CACHE)/guest-initramfs.cpio --cmdline "console=ttyS0 quiet panic=-1" \
		--cpus 2 --memory 512M --exec -- /bin/sh -c \
		'echo "hello from busybox, PID $$$$ in a kvrun micro-VM"; uname -sr; \
		 echo "vCPUs: $$(grep -c ^processor /proc/cpuinfo)"; ls /sys/bus/pci/devices'
	@# The OCI runtime: busybox through podman, with kvrun as podman's runtime.
	tests/testhost/with-kvm --probe $(RELEASE)/tests/kvm-selftest -- \
		tests/clients/demo $(RELEASE)/runtime/kvrun $(CACHE)/guest-vmlinux $(CACHE)/guest-initramfs.cpio

# Not part of check: benchmarks print ratios against QEMU measured in the same run.
bench: deps build guest
	@rc=0; for b in boot vmm-rss fs net; do \
		KVRUN_CACHE=$(abspath $(CACHE)) bench/$$b --kvrun $(abspath $(RELEASE))/runtime/kvrun || rc=1; \
	done; exit $$rc

# New inputs go to a scratch corpus under $(FUZZ); the committed seeds are read only.
# Each target fuzzes for FUZZ_TIME seconds: the KVAP decoders, the host client, the FUSE server,
# the virtqueue code against a model, the request handling of every virtio device, the OCI
# documents. tests/fuzz/run-fuzz keeps the logs and a record of the CPU time, coverage and
# corpus per run in $(FUZZ)/stats.tsv; `tests/fuzz/run-fuzz --build $(FUZZ) --summary` adds it up.
FUZZ_TARGETS := agent-proto agent-client fs-server virtio-net virtqueue vdev-rng vdev-console \
	vdev-blk vdev-vsock oci-config
FUZZ_LONG_TIME ?= 1200
FUZZ_JOBS      ?= 1
fuzz: deps $(FUZZ)/build.ninja
	$(MESON) compile -C $(FUZZ) $(addprefix fuzz-,$(FUZZ_TARGETS))
	tests/fuzz/run-fuzz --build $(FUZZ) --time $(FUZZ_TIME) $(FUZZ_TARGETS)

# The long run: FUZZ_LONG_TIME seconds per target with FUZZ_JOBS parallel jobs each.
fuzz-long: deps $(FUZZ)/build.ninja
	$(MESON) compile -C $(FUZZ) $(addprefix fuzz-,$(FUZZ_TARGETS))
	tests/fuzz/run-fuzz --build $(FUZZ) --time $(FUZZ_LONG_TIME) --jobs $(FUZZ_JOBS) $(FUZZ_TARGETS)
	tests/fuzz/run-fuzz --build $(FUZZ) --summary

format:
	git ls-files '*.c' '*.h' | xargs clang-format -i

format-check:
	@bad=$$(git ls-files '*.c' '*.h' | while read f; do \
		clang-format --dry-run --Werror "$$f" >/dev/null 2>&1 || echo "$$f"; done); \
	if [ -n "$$bad" ]; then echo "format-check: not formatted (run make format):"; echo "$$bad"; exit 1; fi; \
	echo "format-check: ok"

clean:
	rm -rf $(RELEASE) $(SANITIZE) $(FUZZ)
