/* Unit tests for the agent's pure helpers: the kernel module list format
 * (rootfs/agent/modlist.h), OCI mount options to mount(2) flags
 * (mountopt.h), and the stdio pump's no-loss behaviour on pipes (pump.h). */
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

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	tap_plan(12);
	test_modlist();
	test_mountopt();
	test_pump();
	return tap_done();
}
