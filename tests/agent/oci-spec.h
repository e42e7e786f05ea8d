/* oci-spec.h - the container spec the agent's container tests start from.
 *
 * Owns: a CREATE body like runc's default config.json (proc, a tmpfs /dev
 * with devpts, shm and mqueue, a read-only sysfs and cgroup, new pid, ipc,
 * uts, mount, network and cgroup namespaces) on a busybox root directory,
 * and preparing the process for each test: its own mount namespace, so the
 * mounts a test makes for the agent (a stand-in for a virtio-fs share)
 * vanish with it. Header-only, shared by the test-agent-oci*.c files. */
#ifndef KVRUN_TESTS_AGENT_OCI_SPEC_H
#define KVRUN_TESTS_AGENT_OCI_SPEC_H

#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>

#include "harness.h"

static char *oci_o_proc[] = { "nosuid", "noexec", "nodev" };
static char *oci_o_dev[] = { "nosuid", "strictatime", "mode=755", "size=65536k" };
static char *oci_o_pts[] = { "nosuid",	      "noexec",	   "newinstance",
			     "ptmxmode=0666", "mode=0620", "gid=5" };
static char *oci_o_shm[] = { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k" };
static char *oci_o_mq[] = { "nosuid", "noexec", "nodev" };
static char *oci_o_sys[] = { "nosuid", "noexec", "nodev", "ro" };
static char *oci_o_cg[] = { "nosuid", "noexec", "nodev", "relatime", "ro" };

#define OCI_BASE_MOUNTS                                                                            \
	{ "proc", "/proc", "proc", oci_o_proc, 3, NULL },                                          \
	    { "tmpfs", "/dev", "tmpfs", oci_o_dev, 4, NULL },                                      \
	    { "devpts", "/dev/pts", "devpts", oci_o_pts, 6, NULL },                                \
	    { "shm", "/dev/shm", "tmpfs", oci_o_shm, 5, NULL },                                    \
	    { "mqueue", "/dev/mqueue", "mqueue", oci_o_mq, 3, NULL },                              \
	    { "sysfs", "/sys", "sysfs", oci_o_sys, 4, NULL },                                      \
	{                                                                                          \
		"cgroup", "/sys/fs/cgroup", "cgroup", oci_o_cg, 5, NULL                            \
	}
#define OCI_N_BASE_MOUNTS 7

static struct kvap_mount oci_base_mounts[] = { OCI_BASE_MOUNTS };
static struct kvap_namespace oci_base_ns[] = {
	{ KVAP_NS_PID, NULL },	 { KVAP_NS_IPC, NULL }, { KVAP_NS_UTS, NULL },
	{ KVAP_NS_MOUNT, NULL }, { KVAP_NS_NET, NULL }, { KVAP_NS_CGROUP, NULL },
};
static char *oci_env[] = { "PATH=/bin", "HOME=/" };

/* The busybox root every test uses (made once by oci_setup). */
static char oci_root[256];

/* A spec running `sh -c script` in oci_root with the base mounts and
 * namespaces. */
static inline struct kvap_create oci_spec(const char *id, char **argv3)
{
	argv3[0] = "sh";
	argv3[1] = "-c";
	return (struct kvap_create){
		.container_id = (char *)id,
		.rootfs_type = KVAP_ROOTFS_DIR,
		.rootfs_path = oci_root,
		.mounts = oci_base_mounts,
		.n_mounts = OCI_N_BASE_MOUNTS,
		.namespaces = oci_base_ns,
		.n_namespaces = 6,
		.process = { .args = argv3, .n_args = 3, .env = oci_env, .n_env = 2, .cwd = "/" }
	};
}

/* A private mount namespace for the test and its agents, and the busybox
 * root under dir. 0, or a negative errno. */
static inline int oci_setup(const char *dir)
{
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -1;
	snprintf(oci_root, sizeof(oci_root), "%s/rootfs", dir);
	return rootfs_make(oci_root);
}

#endif
