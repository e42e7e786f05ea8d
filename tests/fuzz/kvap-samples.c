/* kvap-samples.c - see kvap-samples.h. */
#include "kvap-samples.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>

const uint16_t kvap_sample_types[] = {
#define KVAP_T_(name, num, member, type) KVAP_MSG_##name,
	KVAP_MESSAGES(KVAP_T_)
#undef KVAP_T_
};
const size_t kvap_sample_ntypes = sizeof(kvap_sample_types) / sizeof(kvap_sample_types[0]);

/* Long strings of exactly each limit, filled by kvap_samples_init(). */
static char s_id[KVAP_MAX_ID + 1], s_exec[KVAP_MAX_EXEC_ID + 1], s_path[KVAP_MAX_PATH + 1],
    s_host[KVAP_MAX_HOSTNAME + 1], s_tag[KVAP_MAX_FS_TAG + 1], s_ifname[KVAP_MAX_IFNAME + 1],
    s_msg[KVAP_MAX_MESSAGE + 1], s_soft[KVAP_MAX_SOFTWARE + 1], s_fstype[KVAP_MAX_FSTYPE + 1],
    s_arg[KVAP_MAX_ARG + 1], s_opt[KVAP_MAX_MOUNT_OPTION + 1];
static char *many_empty[KVAP_MAX_ARGS];
static char *many_opts[KVAP_MAX_MOUNT_OPTIONS];
static uint32_t many_gids[KVAP_MAX_GIDS];
static struct kvap_rlimit many_rlimits[KVAP_MAX_RLIMITS];
static struct kvap_mount many_mounts[KVAP_MAX_MOUNTS];
static struct kvap_proc many_procs[KVAP_MAX_PROCS];
static struct kvap_ipaddr many_addrs[KVAP_MAX_ADDRS];
static struct kvap_iface many_ifaces[KVAP_MAX_IFACES];
static struct kvap_route many_routes[KVAP_MAX_ROUTES];

static char *args[] = { "/bin/sh", "-c", "echo hi; exec sleep 1000" };
static char *env[] = { "PATH=/usr/local/bin:/usr/bin:/bin", "TERM=xterm", "HOME=/root" };
static char *binary_strs[] = { "", "\xff\xfe\x01\x7f", "caf\xc3\xa9 \xe2\x9c\x93", s_arg };
static uint32_t gids[] = { 1000, 10, 0 };
static struct kvap_rlimit rlimits[] = {
	{ RLIMIT_NOFILE, 1024, 4096 },
	{ RLIMIT_CORE, 0, UINT64_MAX },
};
static char *ro[] = { "ro" };
static char *proc_opts[] = { "nosuid", "noexec", "nodev" };
static char *dev_opts[] = { "nosuid", "strictatime", "mode=755", "size=65536k" };
static char *bind_opts[] = { "rbind", "ro", "rprivate" };
static struct kvap_mount mounts[] = {
	{ "proc", "/proc", "proc", proc_opts, 3, NULL },
	{ "tmpfs", "/dev", "tmpfs", dev_opts, 4, NULL },
	{ NULL, "/sys/fs/cgroup", "cgroup2", NULL, 0, NULL },
	{ "volumes/data", "/data", "bind", bind_opts, 3, "kvrun-fs" },
};
static const uint8_t token[KVAP_TOKEN_SIZE] = { 0x00, 0xff, 0x10, 0x20, 0x00, 0x00, 0x7f, 0x80,
						0x01, 0x02, 0x03, 0xfe, 0x00, 0xaa, 0x55, 0x00 };

static struct kvap_process proc_tty = {
	.args = args,
	.n_args = 3,
	.env = env,
	.n_env = 3,
	.cwd = "/",
	.terminal = true,
	.console = { 24, 80 },
	.uid = 1000,
	.gid = 1000,
	.gids = gids,
	.n_gids = 3,
	.rlimits = rlimits,
	.n_rlimits = 2,
	.caps = { .bounding = 0xa80425fbull,
		  .effective = 0xa80425fbull,
		  .permitted = 0xa80425fbull },
	.no_new_privileges = true,
	.umask = 022,
	.umask_set = true,
	.oom_score_adj = -500,
	.oom_score_adj_set = true,
	.caps_set = true,
};
static struct kvap_process proc_edge;

static struct kvap_create create[3];
static struct kvap_exec exec_[3];

static char *cmd1[] = { "/sbin/init" }, *cmd2[] = { "sh", "-c", "top" };
static struct kvap_proc procs[] = {
	{ 1, 0, 0, 'S', cmd1, 1 },
	{ 7, 1, 1000, 'R', cmd2, 3 },
	{ 9, 7, 1000, 'Z', NULL, 0 },
};

static struct kvap_ipaddr addrs[] = {
	{ 4, { 10, 0, 2, 15 }, 24 },
	{ 6, { 0xfd, 0, [15] = 2 }, 64 },
};
static struct kvap_iface ifaces[] = {
	{ { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 }, "eth0", 1500, addrs, 2 },
	{ { 0x52, 0x54, 0x00, 0x12, 0x34, 0x57 }, NULL, 0, NULL, 0 },
};
static struct kvap_route routes[] = {
	{ { 4, { 0 }, 0 }, { 4, { 10, 0, 2, 2 }, 0 }, "eth0", 0 },
	{ { 6, { 0 }, 0 }, { 6, { 0xfd, 0, [15] = 1 }, 0 }, "eth0", 100 },
	{ { 4, { 10, 0, 2, 0 }, 24 }, { 0 }, "eth0", 0 },
};
static char *fs_opts[] = { "ro", "dax" };

static struct kvap_hello hello[3] = {
	{ KVAP_FEATURES_V1_0, KVAP_MAX_PAYLOAD, "kvrun 0.1.0" },
	{ UINT64_MAX, UINT32_MAX, s_soft },
	{ 0, 0, NULL },
};
static struct kvap_pid pid[3] = { { 42 }, { UINT32_MAX }, { 0 } };
static struct kvap_start start[3] = { { "ctr-1" }, { s_id }, { "" } };
static struct kvap_signal sig[3] = { { NULL, 15, false },
				     { s_exec, UINT32_MAX, true },
				     { NULL, 0, false } };
static struct kvap_wait wait_[3] = { { "exec-7f3a" }, { s_exec }, { NULL } };
static struct kvap_exit exit_[3] = { { 57, 3, 0, false },
				     { UINT32_MAX, 0, 255, true },
				     { 0, 0, 0, false } };
static struct kvap_resize resize[3] = { { NULL, { 50, 132 } },
					{ s_exec, { 65535, 65535 } },
					{ NULL, { 0, 0 } } };
static struct kvap_ps ps[3] = { { procs, 3, false },
				{ many_procs, KVAP_MAX_PROCS, true },
				{ NULL, 0, false } };
static struct kvap_stat_kv mem_stat[] = { { "anon", 4096000 }, { "file", 0 }, { "", 1 } };
static struct kvap_io_stat io_stat[] = { { 254, 0, 1 << 20, 4096, 30, 1, 0, 0 } };
static struct kvap_stats stats[3] = {
	{ 512ull << 20,
	  400ull << 20,
	  450ull << 20,
	  1500000000,
	  300000000,
	  9000000000,
	  10000000000,
	  12,
	  { .cpu_usage_ns = 81000000,
	    .cpu_user_ns = 60000000,
	    .cpu_system_ns = 21000000,
	    .mem_usage = 8 << 20,
	    .mem_limit = UINT64_MAX,
	    .mem_stat = mem_stat,
	    .n_mem_stat = 3,
	    .pids_current = 3,
	    .pids_limit = 100,
	    .io = io_stat,
	    .n_io = 1 } },
	{ UINT64_MAX,
	  UINT64_MAX,
	  UINT64_MAX,
	  UINT64_MAX,
	  UINT64_MAX,
	  UINT64_MAX,
	  UINT64_MAX,
	  UINT32_MAX,
	  { 0 } },
	{ 0 },
};
static struct kvap_net_config net[3] = {
	{ ifaces, 2, routes, 3 },
	{ many_ifaces, KVAP_MAX_IFACES, many_routes, KVAP_MAX_ROUTES },
	{ NULL, 0, NULL, 0 },
};
static struct kvap_mount_fs mount_fs[3] = { { "shared0", "/mnt/shared", fs_opts, 2 },
					    { s_tag, s_path, many_opts, KVAP_MAX_MOUNT_OPTIONS },
					    { "", "", NULL, 0 } };
static struct kvap_shutdown shutdown_[3] = { { KVAP_SHUTDOWN_POWEROFF }, { UINT32_MAX }, { 0 } };
static struct kvap_stream_hello stream_hello[3] = { { "exec-7f3a", KVAP_STREAM_STDOUT, { 0 } },
						    { s_exec, UINT32_MAX, { 0 } },
						    { NULL, 0, { 0 } } };
static struct kvap_error error[3] = { { ENOENT, "no such process: exec-7f3a" },
				      { UINT32_MAX, s_msg },
				      { 0, NULL } };
static struct kvap_empty empty;

static void fill(char *s, size_t n, char c)
{
	memset(s, c, n);
	s[n] = 0;
}

/* KVAP 1.1 */
static char s_key[KVAP_MAX_KEY + 1], s_value[KVAP_MAX_VALUE + 1], s_cpuset[KVAP_MAX_CPUSET + 1],
    s_prop[KVAP_MAX_PROPAGATION + 1], s_sys[KVAP_MAX_SYSCALL_NAME + 1],
    s_arch[KVAP_MAX_SECCOMP_ARCH_NAME + 1], s_flag[KVAP_MAX_SECCOMP_FLAG + 1],
    s_stat[KVAP_MAX_STAT_NAME + 1];
static struct kvap_namespace many_ns[KVAP_MAX_NAMESPACES];
static struct kvap_device many_devices[KVAP_MAX_DEVICES];
static char *many_paths[KVAP_MAX_PATHS];
static struct kvap_keyval many_sysctls[KVAP_MAX_SYSCTLS], many_unified[KVAP_MAX_UNIFIED];
static struct kvap_weight_device many_wdev[KVAP_MAX_BLKIO_DEVICES];
static struct kvap_throttle_device many_tdev[KVAP_MAX_BLKIO_DEVICES];
static struct kvap_seccomp_rule many_rules[KVAP_MAX_SECCOMP_RULES];
static char *many_names[KVAP_MAX_SECCOMP_NAMES], *one_name[] = { "x" };
static struct kvap_seccomp_arg many_args[KVAP_MAX_SECCOMP_ARGS];
static char *many_arches[KVAP_MAX_SECCOMP_ARCHES], *many_flags[KVAP_MAX_SECCOMP_FLAGS];
static struct kvap_stat_kv many_stats[KVAP_MAX_MEM_STATS];
static struct kvap_io_stat many_io[KVAP_MAX_IO_STATS];

static struct kvap_namespace nss[] = {
	{ KVAP_NS_PID, NULL },	 { KVAP_NS_IPC, NULL },	       { KVAP_NS_UTS, NULL },
	{ KVAP_NS_MOUNT, NULL }, { KVAP_NS_NET, "pod-infra" },
};
static struct kvap_device devices[] = {
	{ "/dev/fuse", 'c', 10, 229, 0666, 0, 0 },
	{ "/dev/loop0", 'b', 7, 0, 0660, 0, 6 },
};
static char *masked[] = { "/proc/kcore", "/proc/keys", "/sys/firmware" };
static char *readonly[] = { "/proc/bus", "/proc/sys", "/proc/sysrq-trigger" };
static struct kvap_keyval sysctls[] = { { "net.ipv4.ip_forward", "1" },
					{ "kernel.shmmax", "68719476736" } };
static struct kvap_keyval unified[] = { { "memory.high", "100M" } };
static struct kvap_weight_device wdev[] = { { 8, 0, 500 } };
static struct kvap_throttle_device tdev[] = { { 8, 0, 1048576 }, { 254, 16, 0 } };
static char *arches[] = { "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32" };
static char *scmp_flags[] = { "SECCOMP_FILTER_FLAG_SPEC_ALLOW" };
static char *names_allow[] = { "read", "write", "exit_group", "no_such_syscall_kvrun" };
static char *names_errno[] = { "mkdir", "mkdirat" };
static char *names_personality[] = { "personality" };
static struct kvap_seccomp_arg pers_args[] = { { 0, 0xffffffff, 0, KVAP_SCMP_CMP_EQ },
					       { 1, 0xff, 0x08, KVAP_SCMP_CMP_MASKED_EQ } };
static struct kvap_seccomp_rule rules[] = {
	{ names_allow, 4, KVAP_SCMP_ALLOW, 0, false, NULL, 0 },
	{ names_errno, 2, KVAP_SCMP_ERRNO, 0, true, NULL, 0 },
	{ names_personality, 1, KVAP_SCMP_ALLOW, 0, false, pers_args, 2 },
};
static struct kvap_container_ref cref[3] = { { "ctr-1" }, { s_id }, { NULL } };
static struct kvap_update update[3];

static void init_v11(void)
{
	fill(s_key, KVAP_MAX_KEY, 'k');
	fill(s_value, KVAP_MAX_VALUE, 'v');
	fill(s_cpuset, KVAP_MAX_CPUSET, '1');
	fill(s_prop, KVAP_MAX_PROPAGATION, 'p');
	fill(s_sys, KVAP_MAX_SYSCALL_NAME, 's');
	fill(s_arch, KVAP_MAX_SECCOMP_ARCH_NAME, 'a');
	fill(s_flag, KVAP_MAX_SECCOMP_FLAG, 'f');
	fill(s_stat, KVAP_MAX_STAT_NAME, 'n');
	for (size_t i = 0; i < KVAP_MAX_NAMESPACES; i++)
		many_ns[i] = (struct kvap_namespace){ UINT32_MAX, i ? "" : s_id };
	for (size_t i = 0; i < KVAP_MAX_DEVICES; i++)
		many_devices[i] =
		    (struct kvap_device){ i ? "/d" : s_path, 0xff,	 UINT32_MAX, UINT32_MAX,
					  UINT32_MAX,	     UINT32_MAX, UINT32_MAX };
	for (size_t i = 0; i < KVAP_MAX_PATHS; i++)
		many_paths[i] = i ? "/p" : s_path;
	for (size_t i = 0; i < KVAP_MAX_SYSCTLS; i++)
		many_sysctls[i] = (struct kvap_keyval){ i ? "k" : s_key, i ? "" : s_value };
	for (size_t i = 0; i < KVAP_MAX_UNIFIED; i++)
		many_unified[i] = (struct kvap_keyval){ i ? "" : s_key, i ? "v" : s_value };
	for (size_t i = 0; i < KVAP_MAX_BLKIO_DEVICES; i++) {
		many_wdev[i] = (struct kvap_weight_device){ UINT32_MAX, UINT32_MAX, UINT16_MAX };
		many_tdev[i] = (struct kvap_throttle_device){ UINT32_MAX, 0, UINT64_MAX };
	}
	for (size_t i = 0; i < KVAP_MAX_SECCOMP_NAMES; i++)
		many_names[i] = i ? "" : s_sys;
	for (size_t i = 0; i < KVAP_MAX_SECCOMP_ARGS; i++)
		many_args[i] =
		    (struct kvap_seccomp_arg){ (uint32_t)i, UINT64_MAX, UINT64_MAX, UINT32_MAX };
	for (size_t i = 0; i < KVAP_MAX_SECCOMP_RULES; i++)
		many_rules[i] = (struct kvap_seccomp_rule){ one_name, 1,    UINT32_MAX, UINT32_MAX,
							    true,     NULL, 0 };
	many_rules[0] = (struct kvap_seccomp_rule){
		many_names, KVAP_MAX_SECCOMP_NAMES, KVAP_SCMP_ERRNO, 0, false,
		many_args,  KVAP_MAX_SECCOMP_ARGS
	};
	for (size_t i = 0; i < KVAP_MAX_SECCOMP_ARCHES; i++)
		many_arches[i] = s_arch;
	for (size_t i = 0; i < KVAP_MAX_SECCOMP_FLAGS; i++)
		many_flags[i] = s_flag;
	for (size_t i = 0; i < KVAP_MAX_MEM_STATS; i++)
		many_stats[i] = (struct kvap_stat_kv){ s_stat, UINT64_MAX };
	for (size_t i = 0; i < KVAP_MAX_IO_STATS; i++)
		many_io[i] =
		    (struct kvap_io_stat){ UINT32_MAX, UINT32_MAX, UINT64_MAX, UINT64_MAX,
					   UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX };
	stats[1].cgroup = (struct kvap_cgroup_stats){
		UINT64_MAX, UINT64_MAX, UINT64_MAX,	   UINT64_MAX,	       UINT64_MAX,
		UINT64_MAX, UINT64_MAX, UINT64_MAX,	   UINT64_MAX,	       UINT64_MAX,
		UINT64_MAX, UINT64_MAX, many_stats,	   KVAP_MAX_MEM_STATS, UINT64_MAX,
		UINT64_MAX, many_io,	KVAP_MAX_IO_STATS, UINT64_MAX,	       UINT64_MAX,
	};
}

static const struct kvap_resources resources_typical = {
	.memory_limit = 256ll << 20,
	.memory_swap = 512ll << 20,
	.cpu_shares = 512,
	.cpu_quota = 50000,
	.cpu_period = 100000,
	.cpuset_cpus = "0-1",
	.pids_limit = 100,
	.blkio_weight = 300,
	.blkio_weight_device = wdev,
	.n_blkio_weight_device = 1,
	.throttle_read_bps = tdev,
	.n_throttle_read_bps = 2,
	.unified = unified,
	.n_unified = 1,
};

static struct kvap_resources resources_edge(void)
{
	return (struct kvap_resources){
		.memory_limit = INT64_MIN,
		.memory_swap = INT64_MAX,
		.memory_reservation = -1,
		.cpu_shares = UINT64_MAX,
		.cpu_quota = -1,
		.cpu_period = UINT64_MAX,
		.cpuset_cpus = s_cpuset,
		.cpuset_mems = "",
		.pids_limit = INT64_MIN,
		.blkio_weight = UINT16_MAX,
		.blkio_weight_device = many_wdev,
		.n_blkio_weight_device = KVAP_MAX_BLKIO_DEVICES,
		.throttle_read_bps = many_tdev,
		.n_throttle_read_bps = KVAP_MAX_BLKIO_DEVICES,
		.throttle_write_bps = many_tdev,
		.n_throttle_write_bps = KVAP_MAX_BLKIO_DEVICES,
		.throttle_read_iops = many_tdev,
		.n_throttle_read_iops = KVAP_MAX_BLKIO_DEVICES,
		.throttle_write_iops = many_tdev,
		.n_throttle_write_iops = KVAP_MAX_BLKIO_DEVICES,
		.unified = many_unified,
		.n_unified = KVAP_MAX_UNIFIED,
	};
}

static void init_edge_lists(void)
{
	for (size_t i = 0; i < KVAP_MAX_ARGS; i++)
		many_empty[i] = "";
	for (size_t i = 0; i < KVAP_MAX_MOUNT_OPTIONS; i++)
		many_opts[i] = i == 0 ? s_opt : "ro";
	for (size_t i = 0; i < KVAP_MAX_GIDS; i++)
		many_gids[i] = (uint32_t)(UINT32_MAX - i);
	for (size_t i = 0; i < KVAP_MAX_RLIMITS; i++)
		many_rlimits[i] = (struct kvap_rlimit){ (uint32_t)i, 0, UINT64_MAX };
	for (size_t i = 0; i < KVAP_MAX_MOUNTS; i++)
		many_mounts[i] = (struct kvap_mount){ .destination = i ? "/m" : s_path,
						      .type = s_fstype,
						      .source = i ? "" : s_path };
	for (size_t i = 0; i < KVAP_MAX_PROCS; i++)
		many_procs[i] = (struct kvap_proc){ .pid = (uint32_t)i + 1, .state = 0xff };
	many_procs[0].cmdline = many_opts;
	many_procs[0].n_cmdline = KVAP_MAX_MOUNT_OPTIONS;
	for (size_t i = 0; i < KVAP_MAX_ADDRS; i++)
		many_addrs[i] = (struct kvap_ipaddr){ 6, { [0] = 0xff, [15] = (uint8_t)i }, 128 };
	for (size_t i = 0; i < KVAP_MAX_IFACES; i++)
		many_ifaces[i] = (struct kvap_iface){ { 0xff, 0xff, 0xff, 0xff, 0xff, (uint8_t)i },
						      s_ifname,
						      UINT32_MAX,
						      many_addrs,
						      KVAP_MAX_ADDRS };
	for (size_t i = 0; i < KVAP_MAX_ROUTES; i++)
		many_routes[i] = (struct kvap_route){
			{ 4, { 255, 255, 255, (uint8_t)i }, 32 }, { 0 }, s_ifname, UINT32_MAX
		};
}

void kvap_samples_init(void)
{
	fill(s_id, KVAP_MAX_ID, 'i');
	fill(s_exec, KVAP_MAX_EXEC_ID, 'e');
	fill(s_path, KVAP_MAX_PATH, '/');
	fill(s_host, KVAP_MAX_HOSTNAME, 'h');
	fill(s_tag, KVAP_MAX_FS_TAG, 't');
	fill(s_ifname, KVAP_MAX_IFNAME, 'n');
	fill(s_msg, KVAP_MAX_MESSAGE, 'm');
	fill(s_soft, KVAP_MAX_SOFTWARE, '\x80');
	fill(s_fstype, KVAP_MAX_FSTYPE, 'f');
	fill(s_arg, KVAP_MAX_ARG, 'a');
	fill(s_opt, KVAP_MAX_MOUNT_OPTION, 'o');
	init_edge_lists();
	init_v11();

	proc_edge = (struct kvap_process){
		.args = binary_strs,
		.n_args = 4,
		.env = many_empty,
		.n_env = KVAP_MAX_ENV,
		.cwd = s_path,
		.terminal = false,
		.console = { 65535, 1 },
		.uid = UINT32_MAX,
		.gid = UINT32_MAX,
		.gids = many_gids,
		.n_gids = KVAP_MAX_GIDS,
		.rlimits = many_rlimits,
		.n_rlimits = KVAP_MAX_RLIMITS,
		.caps = { UINT64_MAX, 1, 1ull << 63, UINT64_MAX, 0 },
		.umask = UINT32_MAX,
		.oom_score_adj = INT32_MIN,
		.oom_score_adj_set = true,
	};
	create[0] = (struct kvap_create){
		.container_id = "ctr-1",
		.rootfs_type = KVAP_ROOTFS_VIRTIOFS,
		.rootfs_source = "rootfs",
		.rootfs_options = ro,
		.n_rootfs_options = 1,
		.readonly_rootfs = true,
		.mounts = mounts,
		.n_mounts = 4,
		.hostname = "box",
		.process = proc_tty,
		.streams = KVAP_STREAM_BIT(KVAP_STREAM_TTY),
		.poweroff_on_exit = true,
		.rootfs_path = "bundle/rootfs",
		.domainname = "example.org",
		.namespaces = nss,
		.n_namespaces = 5,
		.devices = devices,
		.n_devices = 2,
		.masked_paths = masked,
		.n_masked_paths = 3,
		.readonly_paths = readonly,
		.n_readonly_paths = 3,
		.sysctls = sysctls,
		.n_sysctls = 2,
		.resources = resources_typical,
		.seccomp = { .default_action = KVAP_SCMP_ERRNO,
			     .default_errno = 38,
			     .default_errno_set = true,
			     .architectures = arches,
			     .n_architectures = 3,
			     .flags = scmp_flags,
			     .n_flags = 1,
			     .syscalls = rules,
			     .n_syscalls = 3 },
		.rootfs_propagation = "rslave",
	};
	memcpy(create[0].stream_token, token, sizeof(token));
	create[1] = (struct kvap_create){
		.container_id = s_id,
		.rootfs_type = UINT32_MAX,
		.rootfs_source = s_tag,
		.rootfs_options = many_opts,
		.n_rootfs_options = KVAP_MAX_MOUNT_OPTIONS,
		.mounts = many_mounts,
		.n_mounts = KVAP_MAX_MOUNTS,
		.hostname = s_host,
		.process = proc_edge,
		.streams = UINT32_MAX,
		.rootfs_path = "",
		.domainname = s_host,
		.namespaces = many_ns,
		.n_namespaces = KVAP_MAX_NAMESPACES,
		.devices = many_devices,
		.n_devices = KVAP_MAX_DEVICES,
		.masked_paths = many_paths,
		.n_masked_paths = KVAP_MAX_PATHS,
		.readonly_paths = many_paths,
		.n_readonly_paths = KVAP_MAX_PATHS,
		.sysctls = many_sysctls,
		.n_sysctls = KVAP_MAX_SYSCTLS,
		.resources = resources_edge(),
		.seccomp = { .default_action = UINT32_MAX,
			     .default_errno = UINT32_MAX,
			     .architectures = many_arches,
			     .n_architectures = KVAP_MAX_SECCOMP_ARCHES,
			     .flags = many_flags,
			     .n_flags = KVAP_MAX_SECCOMP_FLAGS,
			     .syscalls = many_rules,
			     .n_syscalls = KVAP_MAX_SECCOMP_RULES },
		.no_pivot = true,
		.rootfs_propagation = s_prop,
	};
	memset(create[1].stream_token, 0xff, KVAP_TOKEN_SIZE);
	create[2] = (struct kvap_create){ .container_id = "" };
	exec_[0] = (struct kvap_exec){
		.container_id = "ctr-1",
		.exec_id = "exec-7f3a",
		.process = { .args = args, .n_args = 1, .env = env, .n_env = 1, .cwd = "/tmp" },
		.streams = 7,
	};
	memcpy(exec_[0].stream_token, token, sizeof(token));
	exec_[1] =
	    (struct kvap_exec){ .container_id = s_id, .exec_id = s_exec, .process = proc_edge };
	memcpy(exec_[1].stream_token, token, sizeof(token));
	exec_[2] = (struct kvap_exec){ .container_id = "", .exec_id = "" };
	memcpy(stream_hello[0].token, token, sizeof(token));
	memset(stream_hello[1].token, 0xff, KVAP_TOKEN_SIZE);
	update[0] = (struct kvap_update){ "ctr-1", resources_typical };
	update[1] = (struct kvap_update){ s_id, resources_edge() };
	update[2] = (struct kvap_update){ "", { 0 } };
}

const void *kvap_sample(uint16_t type, int variant)
{
	int v = variant < 0 || variant >= KVAP_SAMPLE_VARIANTS ? 0 : variant;

	switch (type) {
	case KVAP_MSG_HELLO:
	case KVAP_MSG_HELLO_REPLY:
		return &hello[v];
	case KVAP_MSG_CREATE:
		return &create[v];
	case KVAP_MSG_CREATE_REPLY:
	case KVAP_MSG_START_REPLY:
	case KVAP_MSG_EXEC_REPLY:
		return &pid[v];
	case KVAP_MSG_START:
		return &start[v];
	case KVAP_MSG_EXEC:
		return &exec_[v];
	case KVAP_MSG_SIGNAL:
		return &sig[v];
	case KVAP_MSG_WAIT:
		return &wait_[v];
	case KVAP_MSG_WAIT_REPLY:
		return &exit_[v];
	case KVAP_MSG_RESIZE:
		return &resize[v];
	case KVAP_MSG_PS_REPLY:
		return &ps[v];
	case KVAP_MSG_STATS_REPLY:
		return &stats[v];
	case KVAP_MSG_NET_CONFIG:
		return &net[v];
	case KVAP_MSG_MOUNT_FS:
		return &mount_fs[v];
	case KVAP_MSG_SHUTDOWN:
		return &shutdown_[v];
	case KVAP_MSG_STREAM_HELLO:
		return &stream_hello[v];
	case KVAP_MSG_ERROR:
		return &error[v];
	case KVAP_MSG_PS:
	case KVAP_MSG_STATS:
	case KVAP_MSG_FREEZE:
	case KVAP_MSG_THAW:
		return &cref[v];
	case KVAP_MSG_UPDATE:
		return &update[v];
	default:
		return &empty;
	}
}
