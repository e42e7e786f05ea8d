/* seccomp.c - a container's seccomp filter, built with libseccomp.
 *
 * Owns: turning KVAP's seccomp record (OCI linux.seccomp) into a libseccomp
 * filter when CREATE arrives, so a bad profile fails CREATE with a message
 * naming the rule; loading that filter in a container process right before
 * it runs (child.c decides when); releasing it. Follows runc: syscall names
 * this libseccomp does not know are skipped, a rule whose action equals the
 * default is skipped, several conditions on the same argument become one
 * rule each, ERRNO without errnoRet is EPERM. SCMP_ACT_NOTIFY is refused:
 * it needs a listener socket kvrun does not offer. libseccomp's own
 * no_new_privs is switched off; the process spec decides that. */
#include "agent.h"
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const action_names[] = {
	[KVAP_SCMP_KILL] = "SCMP_ACT_KILL",
	[KVAP_SCMP_KILL_PROCESS] = "SCMP_ACT_KILL_PROCESS",
	[KVAP_SCMP_KILL_THREAD] = "SCMP_ACT_KILL_THREAD",
	[KVAP_SCMP_TRAP] = "SCMP_ACT_TRAP",
	[KVAP_SCMP_ERRNO] = "SCMP_ACT_ERRNO",
	[KVAP_SCMP_TRACE] = "SCMP_ACT_TRACE",
	[KVAP_SCMP_ALLOW] = "SCMP_ACT_ALLOW",
	[KVAP_SCMP_LOG] = "SCMP_ACT_LOG",
	[KVAP_SCMP_NOTIFY] = "SCMP_ACT_NOTIFY",
};

/* libseccomp's action value, or -EINVAL / -EOPNOTSUPP. */
static int64_t action_of(uint32_t action, uint32_t err_ret, bool err_set, const char *where,
			 struct kv_err *err)
{
	switch (action) {
	case KVAP_SCMP_KILL:
	case KVAP_SCMP_KILL_THREAD:
		return SCMP_ACT_KILL_THREAD;
	case KVAP_SCMP_KILL_PROCESS:
		return SCMP_ACT_KILL_PROCESS;
	case KVAP_SCMP_TRAP:
		return SCMP_ACT_TRAP;
	case KVAP_SCMP_ERRNO:
		if (err_set && err_ret > 0xffff)
			return kv_errf(err, -EINVAL, "seccomp %s: errno %u out of range", where,
				       err_ret);
		return SCMP_ACT_ERRNO(err_set ? err_ret : EPERM);
	case KVAP_SCMP_TRACE:
		if (err_ret > 0xffff)
			return kv_errf(err, -EINVAL, "seccomp %s: trace message %u out of range",
				       where, err_ret);
		return SCMP_ACT_TRACE(err_set ? err_ret : 0);
	case KVAP_SCMP_ALLOW:
		return SCMP_ACT_ALLOW;
	case KVAP_SCMP_LOG:
		return SCMP_ACT_LOG;
	case KVAP_SCMP_NOTIFY:
		return kv_errf(err, -EOPNOTSUPP,
			       "seccomp %s: SCMP_ACT_NOTIFY needs a listener socket, which kvrun "
			       "does not support",
			       where);
	default:
		return kv_errf(err, -EINVAL, "seccomp %s: unknown action %u", where, action);
	}
}

/* "SCMP_ARCH_X86_64" -> libseccomp's "x86_64". */
static uint32_t arch_of(const char *oci)
{
	char name[KVAP_MAX_SECCOMP_ARCH_NAME + 1];
	size_t i = 0;

	if (!strncmp(oci, "SCMP_ARCH_", 10))
		oci += 10;
	for (; oci[i] && i < sizeof(name) - 1; i++)
		name[i] = (char)(oci[i] >= 'A' && oci[i] <= 'Z' ? oci[i] - 'A' + 'a' : oci[i]);
	name[i] = '\0';
	return seccomp_arch_resolve_name(name);
}

static int set_flags(scmp_filter_ctx ctx, const struct kvap_seccomp *s, struct kv_err *err)
{
	for (uint32_t i = 0; i < s->n_flags; i++) {
		const char *f = s->flags[i];
		enum scmp_filter_attr attr;
		if (!strcmp(f, "SECCOMP_FILTER_FLAG_TSYNC"))
			attr = SCMP_FLTATR_CTL_TSYNC;
		else if (!strcmp(f, "SECCOMP_FILTER_FLAG_LOG"))
			attr = SCMP_FLTATR_CTL_LOG;
		else if (!strcmp(f, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"))
			attr = SCMP_FLTATR_CTL_SSB;
		else
			return kv_errf(err, -EINVAL, "seccomp flag %s is not supported", f);
		int r = seccomp_attr_set(ctx, attr, 1);
		if (r < 0)
			return kv_errno(err, r, "seccomp flag %s", f);
	}
	return 0;
}

static int add_rule(scmp_filter_ctx ctx, const struct kvap_seccomp_rule *rule, uint32_t act, int nr,
		    const char *name, struct kv_err *err)
{
	struct scmp_arg_cmp cmp[KVAP_MAX_SECCOMP_ARGS];
	unsigned per_index[KVAP_MAX_SECCOMP_ARGS] = { 0 };
	bool split = false;
	int r;

	for (uint32_t i = 0; i < rule->n_args; i++) {
		const struct kvap_seccomp_arg *a = &rule->args[i];
		if (a->op < KVAP_SCMP_CMP_NE || a->op > KVAP_SCMP_CMP_MASKED_EQ)
			return kv_errf(err, -EINVAL, "seccomp %s: unknown comparison %u", name,
				       a->op);
		cmp[i] = (struct scmp_arg_cmp){ .arg = a->index,
						.op = (enum scmp_compare)a->op,
						.datum_a = a->value,
						.datum_b = a->value_two };
		split |= ++per_index[a->index] > 1;
	}
	if (!split) {
		r = seccomp_rule_add_array(ctx, act, nr, rule->n_args, rule->n_args ? cmp : NULL);
		return r < 0 ? kv_errno(err, r, "seccomp rule for %s", name) : 0;
	}
	/* The same argument twice: one rule per condition, as runc does. */
	for (uint32_t i = 0; i < rule->n_args; i++)
		if ((r = seccomp_rule_add_array(ctx, act, nr, 1, &cmp[i])) < 0)
			return kv_errno(err, r, "seccomp rule for %s", name);
	return 0;
}

int seccomp_build(const struct kvap_seccomp *s, void **out, struct kv_err *err)
{
	int64_t def = action_of(s->default_action, s->default_errno, s->default_errno_set,
				"defaultAction", err);
	int r;

	*out = NULL;
	if (def < 0)
		return (int)def;
	scmp_filter_ctx ctx = seccomp_init((uint32_t)def);
	if (!ctx)
		return kv_errf(err, -EINVAL,
			       "seccomp: libseccomp refused the default action %s (the kernel "
			       "may not support it)",
			       action_names[s->default_action]);
	if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)) < 0) {
		r = kv_errno(err, r, "seccomp: switching off libseccomp's no_new_privs");
		goto fail;
	}
	for (uint32_t i = 0; i < s->n_architectures; i++) {
		uint32_t arch = arch_of(s->architectures[i]);
		if (!arch) {
			r = kv_errf(err, -EINVAL, "seccomp: unknown architecture %s",
				    s->architectures[i]);
			goto fail;
		}
		r = seccomp_arch_add(ctx, arch);
		if (r < 0 && r != -EEXIST) {
			r = kv_errno(err, r, "seccomp: adding architecture %s",
				     s->architectures[i]);
			goto fail;
		}
	}
	if ((r = set_flags(ctx, s, err)) < 0)
		goto fail;
	for (uint32_t i = 0; i < s->n_syscalls; i++) {
		const struct kvap_seccomp_rule *rule = &s->syscalls[i];
		const char *first = rule->n_names ? rule->names[0] : "(no names)";
		int64_t act = action_of(rule->action, rule->errno_ret, rule->errno_set, first, err);
		if (act < 0) {
			r = (int)act;
			goto fail;
		}
		if (act == def)
			continue; /* libseccomp refuses it; it changes nothing */
		for (uint32_t k = 0; k < rule->n_names; k++) {
			int nr = seccomp_syscall_resolve_name(rule->names[k]);
			if (nr == __NR_SCMP_ERROR) {
				adebug("seccomp: ignoring unknown syscall %s", rule->names[k]);
				continue;
			}
			if ((r = add_rule(ctx, rule, (uint32_t)act, nr, rule->names[k], err)) < 0)
				goto fail;
		}
	}
	/* Generate the program now, so a filter libseccomp cannot compile fails
	 * CREATE rather than the container's first process. */
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	r = null < 0 ? -errno : seccomp_export_bpf(ctx, null);
	if (null >= 0)
		close(null);
	if (r < 0) {
		r = kv_errno(err, r, "seccomp: compiling the filter");
		goto fail;
	}
	*out = ctx;
	return 0;
fail:
	seccomp_release(ctx);
	return r;
}

int seccomp_apply(void *ctx)
{
	return ctx ? seccomp_load(ctx) : 0;
}

void seccomp_free(void *ctx)
{
	if (ctx)
		seccomp_release(ctx);
}
