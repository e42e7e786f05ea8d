/* vmm.h - the public, in-process API of kvrun's VMM library.
 *
 * Owns: the VM description a caller fills (struct vmm_config), the lifecycle
 * calls, and the reasons a VM stops. This is the only header the runtime and
 * the `kvrun vm` front end include from vmm/. Nothing here prints. */
#ifndef KVRUN_VMM_H
#define KVRUN_VMM_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

#define VMM_MAX_DISKS  16
#define VMM_MAX_NETS   8
#define VMM_MAX_FS     8
#define VMM_FS_TAG_MAX 36 /* bytes; the virtio-fs config space's tag field */

enum vmm_chardev_kind {
	VMM_CHR_NONE = 0,
	VMM_CHR_STDIO, /* the process's stdin/stdout */
	VMM_CHR_FILE,  /* output appended to path; no input */
	VMM_CHR_PTY,   /* a new pty; vmm_pty_path() names it */
};

struct vmm_chardev {
	enum vmm_chardev_kind kind;
	const char *path; /* VMM_CHR_FILE */
};

struct vmm_disk {
	const char *path; /* raw image file or block device */
	bool readonly;
};

/* virtio-vsock with a hybrid host side: host programs reach guest ports through
 * the Unix socket uds_path ("CONNECT <port>\n"), and a guest connecting to
 * host (CID 2) port P reaches the Unix socket "<uds_path>_P". See
 * docs/vsock.md. No device when guest_cid is 0. */
struct vmm_vsock {
	uint64_t guest_cid;   /* 3 .. 0xfffffffe */
	const char *uds_path; /* created at vmm_create, removed at vmm_destroy */
};

/* virtio-net on a tap (docs/networking.md). Either tap names a tap in the
 * VMM's network namespace, opened (and created when missing) at
 * vmm_create, or fd is an open tap file descriptor (IFF_TAP | IFF_NO_PI |
 * IFF_VNET_HDR), which the VMM duplicates: the caller keeps its own. */
struct vmm_net {
	const char *tap; /* tap name, or NULL to use fd */
	int fd;		 /* with tap == NULL */
	uint8_t mac[6];	 /* the guest NIC's MAC when mac_set, else a random one */
	bool mac_set;
	uint32_t mtu; /* offered to the guest (VIRTIO_NET_F_MTU), 68..65535; 0: the
		       * tap's MTU when opened by name, else not offered */
};

/* The threads of a VMM process, each confined to what it needs after set-up
 * (docs/security.md): a seccomp filter and a capability set per role. */
enum vmm_role {
	VMM_ROLE_VCPU,	    /* a vCPU: KVM_RUN and the port/MMIO exits it handles */
	VMM_ROLE_DEVICE,    /* the device event loop (vmm_run's thread) and teardown */
	VMM_ROLE_FS_WORKER, /* a virtio-fs worker: file operations beneath a share */
	VMM_ROLE_MONITOR,   /* the caller's own threads: --exec's agent client, relays */
};

/* How the VMM process is confined once set up. All off in a zeroed config;
 * kvrun turns them on. */
struct vmm_sandbox {
	bool seccomp;		    /* one seccomp filter per thread role */
	bool drop_caps;		    /* capabilities per role; bounding set emptied */
	int report_fd;		    /* a seccomp violation is reported here; 0: stderr */
	const char *report_prefix;  /* before the report, e.g. "kvrun vm: " */
	const char *report_suffix;  /* after it (before the newline), e.g. "\"}" */
	const char *test_violation; /* tests only: "ROLE:SYSCALL" (role vcpu, device,
				     * fs, monitor): the first thread of ROLE makes
				     * SYSCALL with zero arguments once confined */
};

/* How long the guest may cache what it learned about a shared directory. */
enum vmm_fs_cache {
	VMM_FS_CACHE_AUTO = 0, /* short attribute and entry timeouts (default) */
	VMM_FS_CACHE_ALWAYS,   /* long timeouts: a container root only this VM writes */
	VMM_FS_CACHE_NEVER,    /* no caching: a volume the host or other VMs change too */
};

/* A host directory shared with the guest as virtio-fs: `mount -t virtiofs
 * TAG DIR` in the guest. The VMM serves it in-process, confined beneath
 * path (docs/virtio-fs.md). */
struct vmm_fs {
	const char *tag;  /* 1..VMM_FS_TAG_MAX bytes, unique among cfg->fs */
	const char *path; /* host directory, opened once at vmm_create */
	enum vmm_fs_cache cache;
	bool readonly; /* every change fails with EROFS in the guest */
	/* Serve what is mounted beneath path too (off: a mount point answers
	 * EXDEV); docs/virtio-fs.md, Confinement. */
	bool cross_mounts;
};

struct vmm_config {
	const char *kernel;  /* bzImage or ELF vmlinux */
	const char *initrd;  /* optional */
	const char *cmdline; /* optional; the VMM appends nothing hidden */
	unsigned cpus;	     /* 1..LAYOUT_MAX_CPUS */
	uint64_t mem_bytes;  /* multiple of 2 MiB */
	bool hugepages;
	struct vmm_disk disks[VMM_MAX_DISKS];
	unsigned ndisks;
	struct vmm_chardev console; /* virtio-console (hvc0) */
	struct vmm_chardev serial;  /* 8250 UART on COM1 (ttyS0) */
	bool rng;		    /* virtio-rng */
	struct vmm_vsock vsock;	    /* virtio-vsock when vsock.guest_cid != 0 */
	struct vmm_net nets[VMM_MAX_NETS];
	unsigned nnets;
	struct vmm_fs fs[VMM_MAX_FS];
	unsigned nfs;
	struct vmm_sandbox sandbox;
};

/* Why a VM stopped. `kvrun vm` maps each to a documented exit status. */
enum vmm_exit_reason {
	VMM_EXIT_NONE = 0,
	VMM_EXIT_POWEROFF,     /* guest ACPI S5 (poweroff) */
	VMM_EXIT_REBOOT,       /* guest reset request (reboot) */
	VMM_EXIT_PANIC,	       /* guest reported a panic (pvpanic) */
	VMM_EXIT_TRIPLE_FAULT, /* KVM_EXIT_SHUTDOWN / unrecoverable guest CPU state */
	VMM_EXIT_STOPPED,      /* the host asked the VM to stop (vmm_request_stop) */
	VMM_EXIT_ERROR,	       /* fatal VMM error; vmm_run's err says what */
};

struct vmm;

/* Build the whole machine (KVM, memory, vCPUs, kernel, ACPI, devices); the
 * vCPUs are not running yet. On failure everything built is torn down. */
int vmm_create(const struct vmm_config *cfg, struct vmm **out, struct kv_err *err);

/* Start the vCPUs and run the device loop on the calling thread until the VM
 * stops; *why says how. Returns 0 or a negative errno (with err filled) on a
 * fatal VMM error, in which case *why is VMM_EXIT_ERROR. */
int vmm_run(struct vmm *vm, enum vmm_exit_reason *why, struct kv_err *err);

/* Ask a running VM to stop (vmm_run then returns VMM_EXIT_STOPPED).
 * Async-signal-safe: may be called from a signal handler. */
void vmm_request_stop(struct vmm *vm);

/* Stop every vCPU (they wait outside KVM_RUN; devices keep serving the
 * host side) and return once all have stopped, or -ETIMEDOUT (nothing
 * paused) / -ESRCH (the VM is stopping). vmm_resume() lets them run again.
 * Both are idempotent, for any thread but the vCPUs', while vmm_run() runs
 * or before it (vCPUs then park as they start). */
int vmm_pause(struct vmm *vm, struct kv_err *err);
int vmm_resume(struct vmm *vm, struct kv_err *err);
bool vmm_paused(struct vmm *vm);

/* The pty path of a VMM_CHR_PTY console or serial, or NULL. */
const char *vmm_pty_path(const struct vmm *vm, bool serial);

void vmm_destroy(struct vmm *vm);

/* Put this process into the VMM's jail (docs/security.md): a private mount
 * namespace whose root is an empty tmpfs with only what cfg needs bound in,
 * at the same paths (kernel, initrd, disks, console and serial files, the
 * vsock socket's directory, /dev/kvm, /dev/net/tun and the pty devices when
 * used), plus the directories in extra_dirs (NULL-terminated, read-write),
 * and a fresh /proc that shows only processes. Every file descriptor but
 * 0, 1, 2 and keep_fds is closed. vmm_run() later unmounts what only set-up
 * needed and makes the root read-only. Call before vmm_create, while the
 * process has one thread; -EPERM without CAP_SYS_ADMIN. */
int vmm_jail(const struct vmm_config *cfg, const char *const *extra_dirs, const int *keep_fds,
	     unsigned nkeep, struct kv_err *err);

/* Confine the calling thread, one of the caller's own (role
 * VMM_ROLE_MONITOR), as vm's sandbox settings say. Call once per thread,
 * before it handles anything from the guest. */
int vmm_confine_thread(struct vmm *vm, enum vmm_role role, struct kv_err *err);

#endif
