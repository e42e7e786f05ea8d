/* init.c - what the agent does first as the VM's PID 1.
 *
 * Owns: turning the initramfs root into a mount with a parent (so that
 * containers can pivot_root away from it), the guest's basic mounts (proc,
 * sys, devtmpfs, devpts with its own
 * ptmx, /dev/shm, /run, cgroup2), making sure fds 0-2 are open, bringing
 * up the loopback interface, and with --no-init (an ordinary process on
 * the host) a private mount and UTS namespace so CREATE's hostname and
 * mounts stay inside the agent instead of changing the host. */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

struct init_mount {
	const char *source, *target, *type;
	unsigned long flags;
	const char *data;
	mode_t mode; /* of the mount point, created if missing */
};

static const struct init_mount init_mounts_table[] = {
	{ "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, 0555 },
	{ "sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, 0555 },
	{ "devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755", 0755 },
	{ "devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
	  "newinstance,ptmxmode=0666,mode=0620,gid=5", 0755 },
	{ "shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", 01777 },
	{ "tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755", 0755 },
	{ "cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, 0555 },
};

/* The kernel's initramfs root ("rootfs") is the top of the mount tree, and
 * pivot_root refuses to move a root that has no parent. Bind it and move
 * the bind over "/", as switch_root moves a real root: the agent and
 * everything it starts then live in a root pivot_root can replace. */
void init_root_mount(void)
{
	static const char dir[] = "/.kvrun-root";

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		alog("mkdir %s: %s (containers cannot pivot_root)", dir, strerror(errno));
		return;
	}
	if (mount("/", dir, NULL, MS_BIND, NULL) < 0) {
		alog("binding / on %s: %s (containers cannot pivot_root)", dir, strerror(errno));
		(void)rmdir(dir);
		return;
	}
	if (chdir(dir) < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0)
		alog("moving the root: %s (containers cannot pivot_root)", strerror(errno));
	if (chdir("/") < 0)
		alog("chdir /: %s", strerror(errno));
	(void)rmdir(dir);
}

/* Mount what every process expects. A failure is reported and the rest is
 * still tried: a guest without /dev/shm is degraded, not dead. Returns the
 * first error. */
int init_mounts(void)
{
	int ret = 0;

	for (size_t i = 0; i < sizeof(init_mounts_table) / sizeof(init_mounts_table[0]); i++) {
		const struct init_mount *m = &init_mounts_table[i];

		if (mkdir(m->target, m->mode) < 0 && errno != EEXIST)
			alog("mkdir %s: %s", m->target, strerror(errno));
		if (mount(m->source, m->target, m->type, m->flags, m->data) < 0 && errno != EBUSY) {
			int e = errno;
			alog("mount %s on %s: %s", m->type, m->target, strerror(e));
			if (!ret)
				ret = -e;
		}
	}
	/* /dev/ptmx must open the ptmx of the devpts instance mounted above. */
	(void)unlink("/dev/ptmx");
	if (symlink("pts/ptmx", "/dev/ptmx") < 0)
		alog("symlink /dev/ptmx: %s", strerror(errno));
	if (symlink("/proc/self/fd", "/dev/fd") < 0 && errno != EEXIST)
		alog("symlink /dev/fd: %s", strerror(errno));
	return ret;
}

/* The kernel starts init with the console on fds 0-2 only when the
 * initramfs has /dev/console. Make sure 0-2 are open either way, so no
 * socket or pipe of ours ever lands there and gets dup2'd over. */
void init_stdio(void)
{
	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		int n = open("/dev/console", O_RDWR | O_NOCTTY);
		if (n < 0)
			n = open("/dev/null", O_RDWR);
		if (n >= 0 && n != fd) {
			(void)dup2(n, fd);
			(void)close(n);
		}
	}
}

void init_loopback(void)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return;
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
			alog("bringing up lo: %s", strerror(errno));
	}
	close(fd);
}

/* --no-init as root: hostname and mounts from CREATE change only the
 * agent's own namespaces. Returns 0 or a negative errno (not root, or
 * namespaces not allowed here: CREATE then refuses those fields). */
int init_private_ns(void)
{
	if (unshare(CLONE_NEWNS | CLONE_NEWUTS) < 0)
		return -errno;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	return 0;
}
