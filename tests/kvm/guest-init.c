/* guest-init.c - /init of the device test's initramfs (tests/kvm/devices.sh).
 *
 * Owns: the guest half of the VMM's device test. Runs as PID 1 of the Debian
 * cloud kernel under `kvrun vm`, built static and unsanitized. It loads the
 * modules /lib/modules/load.list names (rootfs/mkinitramfs writes it) with
 * finit_module, then checks what the command line asks for:
 *
 *   kvrun.cpus=N        N CPUs online
 *   kvrun.disk=rw|ro    /dev/vda holds the host's pattern (the sectors
 *                       host_sectors, line "kvrun-h NNNNNNN\n" repeated, NNNNNNN
 *                       the sector number); rw: write the guest pattern
 *                       ("kvrun-g ...") to GUEST_SECTOR.. and fsync; ro: the disk
 *                       must be read-only and a write must fail
 *   kvrun.test=panic    after the checks, panic (sysrq 'c') instead of powering off
 *
 * hvc0 and the hardware RNG (/dev/hwrng, rng_current naming virtio) are always
 * checked. The result line, "KVRUN-DEVICES-OK cpus=N blk=ok hvc0=ok rng=ok" (or
 * KVRUN-DEVICES-FAIL and what failed), goes to /dev/hvc0 and to /dev/ttyS0;
 * then the guest powers off. Nothing here may hang: an alarm reports a
 * timeout and powers off. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define SECTOR	       512
#define LINE_LEN       16 /* "kvrun-h 0000000\n" */
#define GUEST_SECTOR   4096
#define GUEST_NSECTORS 8
#define WAIT_MS	       20000 /* for a device node to appear */
#define ALARM_S	       120

/* The host's pattern is at these sectors of an 8192-sector (4 MiB) disk. */
static const unsigned host_sectors[] = { 0, 2047, 8191 };

static int serial_fd = -1;
static char result[256];

/* Print to ttyS0 (or stdout until it is open). */
__attribute__((format(printf, 1, 2))) static void say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	(void)!write(serial_fd >= 0 ? serial_fd : 1, buf, (size_t)n);
}

static double uptime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void power_off(void)
{
	if (serial_fd >= 0)
		tcdrain(serial_fd);
	sync();
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}

static void on_alarm(int sig)
{
	(void)sig;
	say("KVRUN-DEVICES-FAIL timeout after %d s (%s)\n", ALARM_S, result);
	power_off();
}

/* The value of kvrun.KEY= on the kernel command line, or def. */
static const char *cmdline_get(const char *key, const char *def)
{
	static char line[4096];
	static bool read_once;
	char pat[64];

	if (!read_once) {
		int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, line, sizeof(line) - 1) : -1;
		line[n > 0 ? n : 0] = 0;
		if (fd >= 0)
			close(fd);
		read_once = true;
	}
	snprintf(pat, sizeof(pat), "kvrun.%s=", key);
	for (const char *p = line; (p = strstr(p, pat)); p++) {
		if (p != line && p[-1] != ' ')
			continue;
		static char val[64];
		size_t len = strcspn(p + strlen(pat), " \n");
		if (len >= sizeof(val))
			len = sizeof(val) - 1;
		memcpy(val, p + strlen(pat), len);
		val[len] = 0;
		return val;
	}
	return def;
}

/* Load every module in /lib/modules/load.list; false (and a message) on error. */
static bool load_modules(void)
{
	char path[512], name[256];
	struct utsname u;
	FILE *list;
	int n = 0;

	list = fopen("/lib/modules/load.list", "re");
	if (!list) {
		say("guest-init: /lib/modules/load.list: %s\n", strerror(errno));
		return false;
	}
	uname(&u);
	while (fgets(name, sizeof(name), list)) {
		name[strcspn(name, "\n")] = 0;
		if (!name[0])
			continue;
		snprintf(path, sizeof(path), "/lib/modules/%s/%s", u.release, name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST)) {
			say("guest-init: loading %s: %s\n", path, strerror(errno));
			fclose(list);
			return false;
		}
		close(fd);
		n++;
	}
	fclose(list);
	say("guest-init: %d modules loaded at %.2f s\n", n, uptime());
	return true;
}

/* Wait for a device node; false after WAIT_MS. */
static bool wait_for(const char *path)
{
	struct stat st;

	for (int ms = 0; ms < WAIT_MS; ms += 10) {
		if (stat(path, &st) == 0)
			return true;
		usleep(10000);
	}
	say("guest-init: %s did not appear\n", path);
	return false;
}

static int online_cpus(void)
{
	return (int)sysconf(_SC_NPROCESSORS_ONLN);
}

static void fill_sector(uint8_t *buf, char tag, unsigned sector)
{
	char line[LINE_LEN + 1];

	snprintf(line, sizeof(line), "kvrun-%c %07u\n", tag, sector);
	for (unsigned i = 0; i < SECTOR; i += LINE_LEN)
		memcpy(buf + i, line, LINE_LEN);
}

/* Check the host's sectors, then write ours (rw) or make sure we cannot
 * (ro). Returns a word for the result line ("ok", "ro", or what failed). */
static const char *check_disk(bool readonly, char *why, size_t whylen)
{
	static uint8_t buf[GUEST_NSECTORS * SECTOR] __attribute__((aligned(4096)));
	uint8_t want[SECTOR];
	int fd;

	if (!wait_for("/dev/vda"))
		return "missing";
	fd = open("/dev/vda", O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (fd < 0)
		return snprintf(why, whylen, "open:%s", strerror(errno)), why;
	for (size_t i = 0; i < sizeof(host_sectors) / sizeof(host_sectors[0]); i++) {
		unsigned s = host_sectors[i];
		fill_sector(want, 'h', s);
		if (pread(fd, buf, SECTOR, (off_t)s * SECTOR) != SECTOR ||
		    memcmp(buf, want, SECTOR) != 0) {
			close(fd);
			return snprintf(why, whylen, "bad-sector-%u", s), why;
		}
	}
	close(fd);

	for (unsigned s = 0; s < GUEST_NSECTORS; s++)
		fill_sector(buf + s * SECTOR, 'g', GUEST_SECTOR + s);
	if (readonly) {
		int ro = 0;
		fd = open("/dev/vda", O_RDONLY | O_CLOEXEC);
		if (fd < 0 || ioctl(fd, BLKROGET, &ro) < 0 || !ro) {
			if (fd >= 0)
				close(fd);
			return "not-read-only";
		}
		close(fd);
		/* The kernel refuses the open or the write (EROFS, EPERM, EACCES)
		 * before the request reaches the device; the VMM would answer
		 * IOERR (EIO) if it did. */
		fd = open("/dev/vda", O_RDWR | O_DIRECT | O_CLOEXEC);
		if (fd < 0)
			return snprintf(why, whylen, "ro:%s", strerrorname_np(errno)), why;
		ssize_t n = pwrite(fd, buf, sizeof(buf), (off_t)GUEST_SECTOR * SECTOR);
		int e = errno;
		if (n >= 0)
			e = fsync(fd) < 0 ? errno : 0;
		close(fd);
		if (n >= 0 && !e)
			return "write-accepted";
		return snprintf(why, whylen, "ro:%s", strerrorname_np(e)), why;
	}
	fd = open("/dev/vda", O_RDWR | O_DIRECT | O_CLOEXEC);
	if (fd < 0)
		return snprintf(why, whylen, "open-rw:%s", strerror(errno)), why;
	if (pwrite(fd, buf, sizeof(buf), (off_t)GUEST_SECTOR * SECTOR) != (ssize_t)sizeof(buf) ||
	    fsync(fd) < 0) {
		close(fd);
		return snprintf(why, whylen, "write:%s", strerror(errno)), why;
	}
	close(fd);
	return "ok";
}

static const char *check_rng(void)
{
	uint8_t a[64] = { 0 };
	char cur[64] = "";
	int fd;

	if (!wait_for("/dev/hwrng"))
		return "missing";
	fd = open("/sys/class/misc/hw_random/rng_current", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, cur, sizeof(cur) - 1) <= 0 || strncmp(cur, "virtio_rng", 10) != 0) {
		if (fd >= 0)
			close(fd);
		return "not-virtio";
	}
	close(fd);
	fd = open("/dev/hwrng", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return "open";
	size_t got = 0;
	while (got < sizeof(a)) {
		ssize_t n = read(fd, a + got, sizeof(a) - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got < sizeof(a))
		return "short-read";
	unsigned same = 0;
	for (size_t i = 1; i < sizeof(a); i++)
		same += a[i] == a[0];
	return same == sizeof(a) - 1 ? "constant" : "ok";
}

/* Write the line to hvc0; false when it cannot be opened or written. */
static bool write_hvc0(const char *line)
{
	int fd;

	if (!wait_for("/dev/hvc0"))
		return false;
	fd = open("/dev/hvc0", O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool ok = write(fd, line, strlen(line)) == (ssize_t)strlen(line);
	tcdrain(fd);
	close(fd);
	return ok;
}

int main(void)
{
	char why[64];
	double t0 = uptime();

	mkdir("/proc", 0755);
	mkdir("/sys", 0755);
	mkdir("/dev", 0755);
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	serial_fd = open("/dev/ttyS0", O_WRONLY | O_NOCTTY | O_CLOEXEC);
	signal(SIGALRM, on_alarm);
	alarm(ALARM_S);
	say("guest-init: started at %.2f s\n", t0);

	int want_cpus = atoi(cmdline_get("cpus", "1"));
	bool readonly = strcmp(cmdline_get("disk", "rw"), "ro") == 0;
	bool panic = strcmp(cmdline_get("test", ""), "panic") == 0;
	bool mods = load_modules();

	int cpus = online_cpus();
	const char *blk = mods ? check_disk(readonly, why, sizeof(why)) : "no-modules";
	const char *rng = mods ? check_rng() : "no-modules";
	bool blk_ok = readonly ? strncmp(blk, "ro:", 3) == 0 : strcmp(blk, "ok") == 0;
	bool ok = mods && cpus == want_cpus && blk_ok && strcmp(rng, "ok") == 0;
	/* The line hvc0 gets says hvc0=ok: if it arrives, it is. */
	snprintf(result, sizeof(result), "KVRUN-DEVICES-%s cpus=%d blk=%s hvc0=%s rng=%s\n",
		 ok ? "OK" : "FAIL", cpus, blk, "ok", rng);
	bool hvc = mods && write_hvc0(result);
	if (!hvc)
		snprintf(result, sizeof(result),
			 "KVRUN-DEVICES-FAIL cpus=%d blk=%s hvc0=fail rng=%s\n", cpus, blk, rng);
	say("%s", result);
	say("guest-init: done at %.2f s\n", uptime());
	if (panic) {
		int fd = open("/proc/sysrq-trigger", O_WRONLY | O_CLOEXEC);
		if (serial_fd >= 0)
			tcdrain(serial_fd);
		if (fd < 0 || write(fd, "c", 1) != 1)
			say("guest-init: cannot trigger a panic: %s\n", strerror(errno));
	}
	power_off();
}
