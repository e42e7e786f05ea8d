/* names.c - the name tables of the runtime-spec: capabilities, rlimits,
 * namespaces, hooks, seccomp actions, operators and architectures.
 *
 * Owns: turning the spec's names into Linux numbers and back. The
 * capability numbers are the kernel's (include/uapi/linux/capability.h),
 * listed here so that a name the running kernel does not know yet still
 * maps to its number. */
#include "oci.h"

#include <string.h>
#include <sys/resource.h>

#include "util.h"

static const char *const cap_names[OCI_CAP_LAST + 1] = {
	"CAP_CHOWN",
	"CAP_DAC_OVERRIDE",
	"CAP_DAC_READ_SEARCH",
	"CAP_FOWNER",
	"CAP_FSETID",
	"CAP_KILL",
	"CAP_SETGID",
	"CAP_SETUID",
	"CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST",
	"CAP_NET_ADMIN",
	"CAP_NET_RAW",
	"CAP_IPC_LOCK",
	"CAP_IPC_OWNER",
	"CAP_SYS_MODULE",
	"CAP_SYS_RAWIO",
	"CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE",
	"CAP_SYS_PACCT",
	"CAP_SYS_ADMIN",
	"CAP_SYS_BOOT",
	"CAP_SYS_NICE",
	"CAP_SYS_RESOURCE",
	"CAP_SYS_TIME",
	"CAP_SYS_TTY_CONFIG",
	"CAP_MKNOD",
	"CAP_LEASE",
	"CAP_AUDIT_WRITE",
	"CAP_AUDIT_CONTROL",
	"CAP_SETFCAP",
	"CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN",
	"CAP_SYSLOG",
	"CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND",
	"CAP_AUDIT_READ",
	"CAP_PERFMON",
	"CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
};

int oci_cap_number(const char *name)
{
	for (int i = 0; i <= OCI_CAP_LAST; i++)
		if (strcmp(cap_names[i], name) == 0)
			return i;
	return -1;
}

const char *oci_cap_name(int number)
{
	return number >= 0 && number <= OCI_CAP_LAST ? cap_names[number] : NULL;
}

static const struct {
	const char *name;
	int number;
} rlimits[] = {
	{ "RLIMIT_CPU", RLIMIT_CPU },		{ "RLIMIT_FSIZE", RLIMIT_FSIZE },
	{ "RLIMIT_DATA", RLIMIT_DATA },		{ "RLIMIT_STACK", RLIMIT_STACK },
	{ "RLIMIT_CORE", RLIMIT_CORE },		{ "RLIMIT_RSS", RLIMIT_RSS },
	{ "RLIMIT_NPROC", RLIMIT_NPROC },	{ "RLIMIT_NOFILE", RLIMIT_NOFILE },
	{ "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },	{ "RLIMIT_AS", RLIMIT_AS },
	{ "RLIMIT_LOCKS", RLIMIT_LOCKS },	{ "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
	{ "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE }, { "RLIMIT_NICE", RLIMIT_NICE },
	{ "RLIMIT_RTPRIO", RLIMIT_RTPRIO },	{ "RLIMIT_RTTIME", RLIMIT_RTTIME },
};

int oci_rlimit_number(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(rlimits); i++)
		if (strcmp(rlimits[i].name, name) == 0)
			return rlimits[i].number;
	return -1;
}

const char *oci_rlimit_name(int number)
{
	for (size_t i = 0; i < ARRAY_SIZE(rlimits); i++)
		if (rlimits[i].number == number)
			return rlimits[i].name;
	return NULL;
}

static const char *const ns_names[OCI_NS__COUNT] = {
	[OCI_NS_PID] = "pid",	    [OCI_NS_NETWORK] = "network", [OCI_NS_MOUNT] = "mount",
	[OCI_NS_IPC] = "ipc",	    [OCI_NS_UTS] = "uts",	  [OCI_NS_USER] = "user",
	[OCI_NS_CGROUP] = "cgroup", [OCI_NS_TIME] = "time",
};

const char *oci_ns_name(enum oci_ns_type t)
{
	return (unsigned)t < OCI_NS__COUNT ? ns_names[t] : "?";
}

static const char *const hook_names[OCI_HOOK__COUNT] = {
	[OCI_HOOK_PRESTART] = "prestart",
	[OCI_HOOK_CREATE_RUNTIME] = "createRuntime",
	[OCI_HOOK_CREATE_CONTAINER] = "createContainer",
	[OCI_HOOK_START_CONTAINER] = "startContainer",
	[OCI_HOOK_POSTSTART] = "poststart",
	[OCI_HOOK_POSTSTOP] = "poststop",
};

const char *oci_hook_name(enum oci_hook_kind k)
{
	return (unsigned)k < OCI_HOOK__COUNT ? hook_names[k] : "?";
}

static const char *const action_names[OCI_SCMP_ACT__COUNT] = {
	[OCI_SCMP_ACT_KILL] = "SCMP_ACT_KILL",
	[OCI_SCMP_ACT_KILL_PROCESS] = "SCMP_ACT_KILL_PROCESS",
	[OCI_SCMP_ACT_KILL_THREAD] = "SCMP_ACT_KILL_THREAD",
	[OCI_SCMP_ACT_TRAP] = "SCMP_ACT_TRAP",
	[OCI_SCMP_ACT_ERRNO] = "SCMP_ACT_ERRNO",
	[OCI_SCMP_ACT_TRACE] = "SCMP_ACT_TRACE",
	[OCI_SCMP_ACT_ALLOW] = "SCMP_ACT_ALLOW",
	[OCI_SCMP_ACT_LOG] = "SCMP_ACT_LOG",
	[OCI_SCMP_ACT_NOTIFY] = "SCMP_ACT_NOTIFY",
};

const char *oci_seccomp_action_name(enum oci_seccomp_action a)
{
	return (unsigned)a < OCI_SCMP_ACT__COUNT ? action_names[a] : "?";
}

static const char *const op_names[OCI_SCMP_CMP__COUNT] = {
	[OCI_SCMP_CMP_NE] = "SCMP_CMP_NE",
	[OCI_SCMP_CMP_LT] = "SCMP_CMP_LT",
	[OCI_SCMP_CMP_LE] = "SCMP_CMP_LE",
	[OCI_SCMP_CMP_EQ] = "SCMP_CMP_EQ",
	[OCI_SCMP_CMP_GE] = "SCMP_CMP_GE",
	[OCI_SCMP_CMP_GT] = "SCMP_CMP_GT",
	[OCI_SCMP_CMP_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
};

const char *oci_seccomp_op_name(enum oci_seccomp_op o)
{
	return (unsigned)o < OCI_SCMP_CMP__COUNT ? op_names[o] : "?";
}

const char *const oci_seccomp_archs[] = {
	"SCMP_ARCH_X86",     "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",	    "SCMP_ARCH_ARM",
	"SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS",	   "SCMP_ARCH_MIPS64",	    "SCMP_ARCH_MIPS64N32",
	"SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
	"SCMP_ARCH_PPC64",   "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_S390",	    "SCMP_ARCH_S390X",
	"SCMP_ARCH_PARISC",  "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",	    NULL,
};
