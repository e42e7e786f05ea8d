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
static struct kvap_mount mounts[] = {
	{ "proc", "/proc", "proc", proc_opts, 3 },
	{ "tmpfs", "/dev", "tmpfs", dev_opts, 4 },
	{ NULL, "/sys/fs/cgroup", "cgroup2", NULL, 0 },
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
static struct kvap_stats stats[3] = {
	{ 512ull << 20, 400ull << 20, 450ull << 20, 1500000000, 300000000, 9000000000, 10000000000,
	  12 },
	{ UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX,
	  UINT32_MAX },
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
	};
	create[0] = (struct kvap_create){
		.container_id = "ctr-1",
		.rootfs_type = KVAP_ROOTFS_VIRTIOFS,
		.rootfs_source = "rootfs",
		.rootfs_options = ro,
		.n_rootfs_options = 1,
		.readonly_rootfs = true,
		.mounts = mounts,
		.n_mounts = 3,
		.hostname = "box",
		.process = proc_tty,
		.streams = KVAP_STREAM_BIT(KVAP_STREAM_TTY),
		.poweroff_on_exit = true,
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
	default:
		return &empty;
	}
}
