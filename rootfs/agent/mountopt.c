/* mountopt.c - see mountopt.h. */
#include "mountopt.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

struct flag_opt {
	const char *name;
	bool clear;
	unsigned long flag;
};

static const struct flag_opt flag_opts[] = {
	{ "ro", false, MS_RDONLY },
	{ "rw", true, MS_RDONLY },
	{ "nosuid", false, MS_NOSUID },
	{ "suid", true, MS_NOSUID },
	{ "nodev", false, MS_NODEV },
	{ "dev", true, MS_NODEV },
	{ "noexec", false, MS_NOEXEC },
	{ "exec", true, MS_NOEXEC },
	{ "sync", false, MS_SYNCHRONOUS },
	{ "async", true, MS_SYNCHRONOUS },
	{ "dirsync", false, MS_DIRSYNC },
	{ "remount", false, MS_REMOUNT },
	{ "mand", false, MS_MANDLOCK },
	{ "nomand", true, MS_MANDLOCK },
	{ "atime", true, MS_NOATIME },
	{ "noatime", false, MS_NOATIME },
	{ "diratime", true, MS_NODIRATIME },
	{ "nodiratime", false, MS_NODIRATIME },
	{ "relatime", false, MS_RELATIME },
	{ "norelatime", true, MS_RELATIME },
	{ "strictatime", false, MS_STRICTATIME },
	{ "bind", false, MS_BIND },
	{ "rbind", false, MS_BIND | MS_REC },
	{ "defaults", false, 0 },
};

static const struct flag_opt prop_opts[] = {
	{ "private", false, MS_PRIVATE },	{ "rprivate", false, MS_PRIVATE | MS_REC },
	{ "shared", false, MS_SHARED },		{ "rshared", false, MS_SHARED | MS_REC },
	{ "slave", false, MS_SLAVE },		{ "rslave", false, MS_SLAVE | MS_REC },
	{ "unbindable", false, MS_UNBINDABLE }, { "runbindable", false, MS_UNBINDABLE | MS_REC },
};

static const struct flag_opt *lookup(const struct flag_opt *t, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].name, name) == 0)
			return &t[i];
	return NULL;
}

int mountopt_parse(char *const *opts, uint32_t n, struct mountopt *o)
{
	size_t len = 1;

	*o = (struct mountopt){ 0 };
	for (uint32_t i = 0; i < n; i++)
		len += strlen(opts[i]) + 1;
	o->data = malloc(len);
	if (!o->data)
		return -ENOMEM;
	o->data[0] = '\0';
	for (uint32_t i = 0; i < n; i++) {
		const struct flag_opt *f =
		    lookup(flag_opts, sizeof(flag_opts) / sizeof(flag_opts[0]), opts[i]);
		if (f) {
			if (f->clear)
				o->flags &= ~f->flag;
			else
				o->flags |= f->flag;
			continue;
		}
		f = lookup(prop_opts, sizeof(prop_opts) / sizeof(prop_opts[0]), opts[i]);
		if (f) {
			o->propagation = f->flag;
			continue;
		}
		if (!*opts[i])
			continue;
		if (o->data[0])
			strcat(o->data, ",");
		strcat(o->data, opts[i]);
	}
	return 0;
}
