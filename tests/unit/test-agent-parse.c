/* Unit tests for the agent's pure helpers: the kernel module list format
 * (rootfs/agent/modlist.h), OCI mount options to mount(2) flags
 * (mountopt.h), the stdio pump's no-loss behaviour on pipes (pump.h), and
 * OCI resources to cgroup v2 writes, runc's rules (cgroup-res.h). */
#include "cgroup-res.h"
#include "modlist.h"
#include "mountopt.h"
#include "pump.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

static void test_modlist(void)
{
	char text[] = "# built by kvrun-mkinitramfs\n"
		      "\n"
		      "kernel/net/vmw_vsock/vsock.ko\n"
		      "  kernel/net/vmw_vsock/vmw_vsock_virtio_transport_common.ko.xz  \r\n"
		      "kernel/fs/fuse/virtiofs.ko.zst\tdebug=1 x=2\n"
		      "/abs/path/mod.ko.gz";
	char *cur = text;
	struct modlist_entry e;
	int r;

	ok(modlist_next(&cur, &e) == 1 && !strcmp(e.path, "kernel/net/vmw_vsock/vsock.ko") &&
	       !*e.params && !e.compressed,
	   "comments and blank lines skipped; a plain .ko");
	ok(modlist_next(&cur, &e) == 1 &&
	       !strcmp(e.path, "kernel/net/vmw_vsock/vmw_vsock_virtio_transport_common.ko.xz") &&
	       e.compressed && !*e.params,
	   "blanks and CR trimmed; .ko.xz is compressed");
	r = modlist_next(&cur, &e);
	ok(r == 1 && !strcmp(e.path, "kernel/fs/fuse/virtiofs.ko.zst") &&
	       !strcmp(e.params, "debug=1 x=2") && e.compressed,
	   "parameters after the path (%s)", e.params);
	ok(modlist_next(&cur, &e) == 1 && !strcmp(e.path, "/abs/path/mod.ko.gz") && e.compressed,
	   "an absolute path, no final newline");
	ok(modlist_next(&cur, &e) == 0 && modlist_next(&cur, &e) == 0, "then the end, repeatedly");
	char empty[] = "";
	cur = empty;
	ok(modlist_next(&cur, &e) == 0, "an empty list");
}

static void test_mountopt(void)
{
	char *o1[] = { "ro", "nosuid", "nodev", "mode=755", "size=65536k", "rprivate" };
	char *o2[] = { "rbind", "ro", "rw", "noexec" };
	struct mountopt o;
	int r;

	r = mountopt_parse(o1, 6, &o);
	ok(r == 0 && o.flags == (MS_RDONLY | MS_NOSUID | MS_NODEV) &&
	       !strcmp(o.data, "mode=755,size=65536k") && o.propagation == (MS_PRIVATE | MS_REC),
	   "flags, data and propagation split (%s)", o.data);
	free(o.data);
	r = mountopt_parse(o2, 4, &o);
	ok(r == 0 && o.flags == (MS_BIND | MS_REC | MS_NOEXEC) && !*o.data && !o.propagation,
	   "rbind, and a later rw clears ro");
	free(o.data);
	r = mountopt_parse(NULL, 0, &o);
	ok(r == 0 && o.flags == 0 && !*o.data, "no options");
	free(o.data);
}

static void test_pump(void)
{
	int a[2], b[2];
	struct pump p = { 0 };
	static char in[300000], out[300000];
	size_t got = 0;

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (char)(i * 7 + i / 251);
	if (pipe2(a, O_NONBLOCK) < 0 || pipe2(b, O_NONBLOCK) < 0)
		return;
	/* Source a[0] <- we write; destination b[1] -> we read b[0]. The
	 * destination is never drained faster than 4 KiB at a time. */
	size_t sent = 0;
	int rounds = 0;
	while (got < sizeof(in) && rounds++ < 100000) {
		if (sent < sizeof(in)) {
			ssize_t n = write(a[1], in + sent, sizeof(in) - sent);
			if (n > 0)
				sent += (size_t)n;
			if (sent == sizeof(in))
				close(a[1]);
		}
		pump_run(&p, a[0], b[1]);
		ssize_t n = read(b[0], out + got, 4096);
		if (n > 0)
			got += (size_t)n;
	}
	pump_run(&p, a[0], b[1]);
	ok(got == sizeof(in) && !memcmp(in, out, sizeof(in)) && pump_finished(&p),
	   "300 kB through the pump with a slow reader: nothing lost, then finished (%zu)", got);
	ok(p.len <= PUMP_CAP, "the pump never buffers more than PUMP_CAP");
	close(b[0]);
	p.eof = false;
	p.len = 1;
	p.off = 0;
	pump_run(&p, -1, b[1]);
	ok(p.broken && p.error == EPIPE && p.len == 0, "a closed destination breaks the pump");
	pump_release(&p);
	close(a[0]);
	close(b[1]);
}

/* The plan as "file=value;" pairs, or the error message. */
static const char *plan(const struct kvap_resources *r, bool bfq, int *code)
{
	static char out[2048];
	struct cgres_plan p = { 0 };
	struct kv_err err = { 0 };

	*code = cgres_plan_build(r, bfq, &p, &err);
	out[0] = '\0';
	if (*code < 0) {
		snprintf(out, sizeof(out), "%s", err.msg);
		return out;
	}
	for (size_t i = 0; i < p.n; i++) {
		size_t n = strlen(out);
		snprintf(out + n, sizeof(out) - n, "%s=%s;", p.w[i].file, p.w[i].value);
	}
	cgres_plan_free(&p);
	return out;
}

static void test_cgroup_res(void)
{
	struct kvap_throttle_device t[] = { { 8, 0, 1048576 }, { 254, 16, 0 } };
	struct kvap_weight_device w[] = { { 8, 16, 200 } };
	struct kvap_keyval u[] = { { "memory.high", "100M" } }, bad[] = { { "cgroup.kill", "1" } };
	struct kvap_resources r;
	const char *s;
	int e;

	ok(cgres_shares_to_weight(2) == 1 && cgres_shares_to_weight(1024) == 39 &&
	       cgres_shares_to_weight(262144) == 10000 && cgres_blkio_to_io_weight(10) == 1 &&
	       cgres_blkio_to_io_weight(1000) == 10000 && cgres_blkio_to_io_weight(500) == 4950,
	   "runc's conversions: shares 2/1024/262144 -> weight 1/39/10000, blkio 10/500/1000");
	r = (struct kvap_resources){ .cpu_shares = 1024,
				     .cpu_quota = 50000,
				     .cpu_period = 100000,
				     .cpuset_cpus = "0-1",
				     .memory_limit = 256 << 20,
				     .memory_swap = 512 << 20,
				     .memory_reservation = 128 << 20,
				     .pids_limit = 100,
				     .unified = u,
				     .n_unified = 1 };
	s = plan(&r, false, &e);
	ok(e == 0 && !strcmp(s, "cpu.weight=39;cpu.max=50000 100000;cpuset.cpus=0-1;"
				"memory.swap.max=268435456;memory.max=268435456;"
				"memory.low=134217728;pids.max=100;memory.high=100M;"),
	   "a typical set, in runc's order; swap.max = memory+swap - memory (%s)", s);
	r = (struct kvap_resources){ .memory_limit = -1, .cpu_quota = -1, .pids_limit = -1 };
	s = plan(&r, false, &e);
	ok(e == 0 && !strcmp(s, "cpu.max=max;memory.swap.max=max;memory.max=max;pids.max=max;"),
	   "-1 is max; unlimited memory takes unlimited swap along (%s)", s);
	r = (struct kvap_resources){ .cpu_period = 20000 };
	s = plan(&r, false, &e);
	ok(e == 0 && !strcmp(s, "cpu.max=max 20000;"), "a period alone (%s)", s);
	r = (struct kvap_resources){ .memory_limit = 64 << 20, .memory_swap = 64 << 20 };
	s = plan(&r, false, &e);
	ok(e == 0 && !strcmp(s, "memory.swap.max=0;memory.max=67108864;"),
	   "swap equal to memory: no swap (%s)", s);
	r = (struct kvap_resources){ .memory_swap = 1 << 30 };
	s = plan(&r, false, &e);
	ok(e == -EINVAL && strstr(s, "needs a memory limit"), "swap without memory (%s)", s);
	r = (struct kvap_resources){ .memory_limit = 1 << 30, .memory_swap = 1 << 20 };
	s = plan(&r, false, &e);
	ok(e == -EINVAL && strstr(s, "memory+swap must be >="), "swap below memory (%s)", s);
	r = (struct kvap_resources){ .memory_limit = -5 };
	s = plan(&r, false, &e);
	ok(e == -EINVAL && strstr(s, "memory_limit -5"), "a negative limit other than -1 (%s)", s);
	r = (struct kvap_resources){ .cpuset_mems = "0;rm" };
	s = plan(&r, false, &e);
	ok(e == -EINVAL && strstr(s, "cpuset_mems"), "a cpuset that is not a list (%s)", s);
	r = (struct kvap_resources){ .blkio_weight = 500,
				     .throttle_read_bps = t,
				     .n_throttle_read_bps = 2,
				     .throttle_write_iops = t,
				     .n_throttle_write_iops = 1 };
	s = plan(&r, false, &e);
	ok(e == 0 && !strcmp(s, "io.weight=4950;io.max=8:0 rbps=1048576;io.max=254:16 rbps=max;"
				"io.max=8:0 wiops=1048576;"),
	   "io weight without BFQ, throttles one device per io.max line, 0 is max (%s)", s);
	r = (struct kvap_resources){ .blkio_weight = 500,
				     .blkio_weight_device = w,
				     .n_blkio_weight_device = 1 };
	s = plan(&r, true, &e);
	ok(e == 0 && !strcmp(s, "io.bfq.weight=500;io.bfq.weight=8:16 200;"),
	   "with BFQ: io.bfq.weight, per device too (%s)", s);
	s = plan(&r, false, &e);
	ok(e == -EOPNOTSUPP && strstr(s, "BFQ"), "per-device weights without BFQ (%s)", s);
	r = (struct kvap_resources){ .unified = bad, .n_unified = 1 };
	s = plan(&r, false, &e);
	ok(e == -EINVAL && strstr(s, "cgroup.kill") && cgres_unified_key_ok("io.max") &&
	       !cgres_unified_key_ok("../memory.max") && !cgres_unified_key_ok("memory") &&
	       !cgres_unified_key_ok(".max") && !cgres_unified_key_ok("Memory.max"),
	   "unified keys: controller files only, no core files, no paths (%s)", s);
	r = (struct kvap_resources){ 0 };
	s = plan(&r, false, &e);
	ok(e == 0 && !*s, "nothing set: nothing written (UPDATE leaves the rest alone)");
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	tap_plan(26);
	test_modlist();
	test_mountopt();
	test_pump();
	test_cgroup_res();
	return tap_done();
}
