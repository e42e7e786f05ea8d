/* netns.c - doing netlink work inside another network namespace.
 *
 * Owns: opening a namespace path (checked with NS_GET_NSTYPE), the
 * short-lived thread that enters it with setns(CLONE_NEWNET) and runs one
 * function there (sockets and taps created by it stay bound to that
 * namespace after the thread is gone; the caller's thread never moves),
 * a connected libnl route socket, and libnl's error codes as errnos. */
#include "netsetup_int.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <netlink/errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int nl_errno(int nle)
{
	switch (nle < 0 ? -nle : nle) {
	case 0:
		return 0;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_PERM:
		return -EPERM;
	case NLE_EXIST:
		return -EEXIST;
	case NLE_OBJ_NOTFOUND:
	case NLE_NODEV:
		return -ENOENT;
	case NLE_BUSY:
		return -EBUSY;
	case NLE_INVAL:
	case NLE_RANGE:
		return -EINVAL;
	case NLE_OPNOTSUPP:
		return -EOPNOTSUPP;
	case NLE_AGAIN:
		return -EAGAIN;
	case NLE_NOACCESS:
		return -EACCES;
	default:
		return -EIO;
	}
}

int netns_open(const char *path, int *fd, struct kv_err *err)
{
	if (!path || !*path)
		return kv_errf(err, -EINVAL, "no network namespace path");
	int f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return kv_errno(err, -errno, "network namespace %s", path);
	int t = ioctl(f, NS_GET_NSTYPE);
	if (t != CLONE_NEWNET) {
		(void)close(f);
		return kv_errf(err, -EINVAL, "%s is not a network namespace", path);
	}
	*fd = f;
	return 0;
}

struct ns_job {
	int nsfd;
	int (*fn)(void *);
	void *arg;
	int ret;
};

static void *job_main(void *opaque)
{
	struct ns_job *j = opaque;

	if (setns(j->nsfd, CLONE_NEWNET) < 0)
		j->ret = -errno;
	else
		j->ret = j->fn(j->arg);
	return NULL;
}

int netns_run(int nsfd, int (*fn)(void *arg), void *arg)
{
	struct ns_job j = { .nsfd = nsfd, .fn = fn, .arg = arg };
	pthread_t t;
	int r = pthread_create(&t, NULL, job_main, &j);

	if (r != 0)
		return -r;
	pthread_join(t, NULL);
	return j.ret;
}

int ns_socket(struct nl_sock **out)
{
	struct nl_sock *sk = nl_socket_alloc();
	int r;

	if (!sk)
		return -ENOMEM;
	r = nl_connect(sk, NETLINK_ROUTE);
	if (r < 0) {
		nl_socket_free(sk);
		return nl_errno(r);
	}
	(void)fcntl(nl_socket_get_fd(sk), F_SETFD, FD_CLOEXEC);
	*out = sk;
	return 0;
}
