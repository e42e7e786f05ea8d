/* kvap-limits.h - the documented bounds on every KVAP string and list.
 *
 * Owns: the numbers both the encoder and the decoder enforce. A string limit
 * counts bytes without the terminating NUL. Limits are per field; the frame
 * limit (KVAP_MAX_PAYLOAD, 1 MiB) bounds their sum. Raising a limit changes
 * what an older peer accepts: do it only behind a hello feature bit. */
#ifndef KVRUN_KVAP_LIMITS_H
#define KVRUN_KVAP_LIMITS_H

#define KVAP_MAX_ID	       1024u   /* container id */
#define KVAP_MAX_EXEC_ID       256u    /* exec id of an additional process */
#define KVAP_MAX_PATH	       4095u   /* PATH_MAX - 1 */
#define KVAP_MAX_ARG	       131071u /* one argv or environ string: MAX_ARG_STRLEN - 1 */
#define KVAP_MAX_ARGS	       4096u   /* argv entries */
#define KVAP_MAX_ENV	       4096u   /* environ entries */
#define KVAP_MAX_GIDS	       65536u  /* NGROUPS_MAX */
#define KVAP_MAX_RLIMITS       32u     /* Linux has 16 resources */
#define KVAP_MAX_MOUNTS	       256u
#define KVAP_MAX_MOUNT_OPTIONS 64u   /* option strings per mount */
#define KVAP_MAX_MOUNT_OPTION  4095u /* one option ("mode=755", "ro", ...) */
#define KVAP_MAX_FSTYPE	       63u
#define KVAP_MAX_HOSTNAME      64u /* HOST_NAME_MAX */
#define KVAP_MAX_FS_TAG	       36u /* virtio-fs tag field size */
#define KVAP_MAX_IFNAME	       15u /* IFNAMSIZ - 1 */
#define KVAP_MAX_IFACES	       32u
#define KVAP_MAX_ADDRS	       32u /* addresses per interface */
#define KVAP_MAX_ROUTES	       256u
#define KVAP_MAX_PROCS	       32768u /* entries in a process list */
#define KVAP_MAX_CMDLINE_ARGS  256u   /* argv entries shown per process */
#define KVAP_MAX_CMDLINE_ARG   4095u
#define KVAP_MAX_MESSAGE       4095u /* error message text */
#define KVAP_MAX_SOFTWARE      255u  /* software name/version in hello */
#define KVAP_TOKEN_SIZE	       16u   /* stdio stream token */

/* KVAP 1.1 */
#define KVAP_MAX_NAMESPACES	   16u
#define KVAP_MAX_DEVICES	   256u
#define KVAP_MAX_PATHS		   256u /* masked paths; read-only paths */
#define KVAP_MAX_SYSCTLS	   256u
#define KVAP_MAX_KEY		   255u	 /* sysctl key, cgroup file name */
#define KVAP_MAX_VALUE		   4095u /* sysctl or cgroup file value */
#define KVAP_MAX_PROPAGATION	   15u	 /* "runbindable" */
#define KVAP_MAX_CPUSET		   1023u /* "0-3,8-11" */
#define KVAP_MAX_BLKIO_DEVICES	   64u	 /* per list */
#define KVAP_MAX_UNIFIED	   64u
#define KVAP_MAX_SECCOMP_RULES	   1024u
#define KVAP_MAX_SECCOMP_NAMES	   1024u /* syscall names per rule */
#define KVAP_MAX_SYSCALL_NAME	   63u
#define KVAP_MAX_SECCOMP_ARGS	   6u
#define KVAP_MAX_SECCOMP_ARCHES	   16u
#define KVAP_MAX_SECCOMP_ARCH_NAME 31u
#define KVAP_MAX_SECCOMP_FLAGS	   8u
#define KVAP_MAX_SECCOMP_FLAG	   63u
#define KVAP_MAX_STAT_NAME	   63u	/* a memory.stat key */
#define KVAP_MAX_MEM_STATS	   128u /* memory.stat lines */
#define KVAP_MAX_IO_STATS	   64u	/* io.stat devices */

#endif
