/* caps.c - setting a process's capability sets with raw syscalls.
 *
 * Owns: the bounding set (PR_CAPBSET_DROP), the effective, permitted and
 * inheritable sets (capset(2), version 3, 64 bits) and the ambient set
 * (PR_CAP_AMBIENT). Raw calls instead of libcap-ng keep the static agent
 * free of another library; the masks come straight off the wire. */
#include "child.h"

#include <errno.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The highest capability this kernel knows, found without /proc (which a
 * container root may not have). */
int caps_last(void)
{
	int last = 0;

	while (last < 63 && prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0) >= 0)
		last++;
	return last;
}

int caps_drop_bounding(uint64_t keep)
{
	int last = caps_last();

	for (int c = 0; c <= last; c++) {
		if (keep & (1ull << c))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return -errno;
	}
	return 0;
}

int caps_apply(const struct kvap_caps *c)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = { 0 };
	int last = caps_last();

	for (int i = 0; i < 2; i++) {
		d[i].effective = (uint32_t)(c->effective >> (32 * i));
		d[i].permitted = (uint32_t)(c->permitted >> (32 * i));
		d[i].inheritable = (uint32_t)(c->inheritable >> (32 * i));
	}
	if (syscall(SYS_capset, &h, d) < 0)
		return -errno;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	for (int n = 0; n <= last; n++)
		if ((c->ambient & (1ull << n)) &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, n, 0, 0) < 0)
			return -errno;
	return 0;
}
