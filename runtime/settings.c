/* settings.c - see settings.h. */
#include "settings.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "util.h"

#ifndef KVRUN_DATADIR
#define KVRUN_DATADIR "/usr/local/share/kvrun"
#endif

#define MiB_ (1ull << 20)

static void defaults(struct settings *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->kernel, sizeof(s->kernel), "%s/vmlinux", KVRUN_DATADIR);
	snprintf(s->initramfs, sizeof(s->initramfs), "%s/initramfs.cpio", KVRUN_DATADIR);
	snprintf(s->cmdline, sizeof(s->cmdline), "console=ttyS0 quiet panic=-1");
	s->cpus = 1;
	s->max_cpus = LAYOUT_MAX_CPUS;
	s->memory = 512 * MiB_;
	s->memory_overhead = 128 * MiB_;
	s->min_memory = 128 * MiB_;
	s->vmm_overhead = 256 * MiB_;
	s->boot_timeout = 120;
	s->console_log = false; /* each character is a VM exit: it slows the boot */
	s->vmm_seccomp = true;
	s->vmm_jail = true;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int set_bool(const char *v, bool *out)
{
	if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on") || !strcmp(v, "1"))
		*out = true;
	else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off") || !strcmp(v, "0"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}

static int set_size(const char *v, uint64_t *out)
{
	uint64_t b;
	int r = parse_size(v, MiB_, &b);

	if (r < 0 || b % (2 * MiB_) || b < 64 * MiB_)
		return -EINVAL;
	*out = b;
	return 0;
}

static int apply(struct settings *s, const char *key, const char *v)
{
	uint64_t n;

	if (!strcmp(key, "kernel") || !strcmp(key, "initramfs") || !strcmp(key, "cmdline")) {
		char *dst = !strcmp(key, "kernel")	? s->kernel
			    : !strcmp(key, "initramfs") ? s->initramfs
							: s->cmdline;
		size_t cap = !strcmp(key, "cmdline") ? sizeof(s->cmdline) : sizeof(s->kernel);
		if (strlen(v) >= cap || (strcmp(key, "cmdline") && v[0] != '/'))
			return -EINVAL;
		memcpy(dst, v, strlen(v) + 1);
		return 0;
	}
	if (!strcmp(key, "cpus") || !strcmp(key, "max_cpus")) {
		if (parse_u64(v, LAYOUT_MAX_CPUS, &n) < 0 || n < 1)
			return -EINVAL;
		*(!strcmp(key, "cpus") ? &s->cpus : &s->max_cpus) = (unsigned)n;
		return 0;
	}
	if (!strcmp(key, "memory"))
		return set_size(v, &s->memory);
	if (!strcmp(key, "min_memory"))
		return set_size(v, &s->min_memory);
	if (!strcmp(key, "memory_overhead") || !strcmp(key, "vmm_overhead")) {
		if (parse_size(v, MiB_, &n) < 0 || n % (2 * MiB_))
			return -EINVAL;
		*(!strcmp(key, "memory_overhead") ? &s->memory_overhead : &s->vmm_overhead) = n;
		return 0;
	}
	if (!strcmp(key, "boot_timeout")) {
		if (parse_u64(v, 3600, &n) < 0 || n < 1)
			return -EINVAL;
		s->boot_timeout = (unsigned)n;
		return 0;
	}
	if (!strcmp(key, "console_log"))
		return set_bool(v, &s->console_log);
	if (!strcmp(key, "hugepages"))
		return set_bool(v, &s->hugepages);
	if (!strcmp(key, "vmm_seccomp"))
		return set_bool(v, &s->vmm_seccomp);
	if (!strcmp(key, "vmm_jail"))
		return set_bool(v, &s->vmm_jail);
	return -ENOENT;
}

int settings_load(struct settings *s, struct kv_err *err)
{
	const char *path = getenv("KVRUN_CONFIG");
	char line[8192];
	unsigned lineno = 0;

	defaults(s);
	if (!path || !*path)
		path = SETTINGS_DEFAULT_PATH;
	FILE *f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT && path == getenv("KVRUN_CONFIG"))
			return kv_errf(err, -ENOENT, "KVRUN_CONFIG=%s: no such file", path);
		if (errno == ENOENT)
			return 0;
		return kv_errno(err, -errno, "%s", path);
	}
	snprintf(s->path, sizeof(s->path), "%s", path);
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *l = trim(line);
		if (!*l)
			continue;
		char *eq = strchr(l, '=');
		if (!eq) {
			fclose(f);
			return kv_errf(err, -EINVAL, "%s:%u: expected KEY = VALUE", path, lineno);
		}
		*eq = '\0';
		char *key = trim(l), *val = trim(eq + 1);
		size_t vl = strlen(val);
		if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
			val[vl - 1] = '\0';
			val++;
		}
		int r = apply(s, key, val);
		if (r == -ENOENT) {
			fclose(f);
			return kv_errf(err, -EINVAL, "%s:%u: unknown key \"%s\"", path, lineno,
				       key);
		}
		if (r < 0) {
			fclose(f);
			return kv_errf(err, -EINVAL,
				       "%s:%u: %s: bad value \"%s\" (see docs/runtime.md)", path,
				       lineno, key, val);
		}
	}
	fclose(f);
	if (s->cpus > s->max_cpus)
		return kv_errf(err, -EINVAL, "%s: cpus %u is above max_cpus %u", path, s->cpus,
			       s->max_cpus);
	return 0;
}
