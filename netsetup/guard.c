/* guard.c - netsetup_guard: clean the interfaces up after a VMM that died.
 *
 * Owns: the guard process. A tap goes away by itself when its last fd
 * closes, taking its own qdisc and filter with it; the redirect filter on
 * the CNI interface does not - the kernel keeps it, redirecting to a
 * device that no longer exists, which drops every frame. So a child
 * process waits on a pipe whose write end only the VMM process holds.
 * End of file without a byte first means the VMM died without detaching
 * (SIGKILL, a crash): the guard then deletes the filter with this attach's
 * priority from each interface and, when no filter is left there, the
 * ingress qdisc. A byte ("D") means netsetup_detach did it already.
 *
 * After fork the child makes only system calls (no malloc, no libnl), on
 * requests built before the fork, so it is safe to fork from a process
 * with threads. It keeps only the pipe and a netlink socket bound to the
 * namespace: every other fd (the taps above all) is closed, stdio goes to
 * /dev/null, it leaves the caller's session and process group (a Ctrl-C
 * for the VMM must not kill it), and signal dispositions are reset. */
#include "netsetup_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

struct tc_req {
	struct nlmsghdr n;
	struct tcmsg t;
};

static struct tc_req tc_req(uint16_t type, uint16_t flags, int ifindex, uint32_t parent,
			    uint32_t handle, uint32_t info)
{
	return (struct tc_req){
		.n = { .nlmsg_len = sizeof(struct tc_req),
		       .nlmsg_type = type,
		       .nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags) },
		.t = { .tcm_family = AF_UNSPEC,
		       .tcm_ifindex = ifindex,
		       .tcm_parent = parent,
		       .tcm_handle = handle,
		       .tcm_info = info },
	};
}

/* Send req and read the answer: for a dump, the number of objects
 * (RTM_NEWTFILTER messages) before NLMSG_DONE; else the ack's error
 * (0 or a negative errno). */
static int transact(int fd, struct tc_req *req, bool dump)
{
	static char buf[16384]; /* the guard's own copy after fork */
	static uint32_t seq;
	int count = 0;

	req->n.nlmsg_seq = ++seq;
	if (send(fd, req, sizeof(*req), 0) != (ssize_t)sizeof(*req))
		return -errno;
	for (;;) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		if (len < 0 && errno == EINTR)
			continue;
		if (len <= 0)
			return -EIO;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len);
		     h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_seq != req->n.nlmsg_seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				if (dump)
					return e->error ? e->error : -EIO;
				return e->error;
			}
			if (h->nlmsg_type == NLMSG_DONE)
				return count;
			if (h->nlmsg_type == RTM_NEWTFILTER)
				count++;
		}
	}
}

static void close_all_but(int a, int b)
{
	if (a > b) {
		int t = a;
		a = b;
		b = t;
	}
	if (a > 3)
		(void)close_range(3, (unsigned)a - 1, 0);
	if (b > a + 1)
		(void)close_range((unsigned)a + 1, (unsigned)b - 1, 0);
	(void)close_range((unsigned)b + 1, ~0U, 0);
}

static __attribute__((noreturn)) void guard_main(int rd, int nl, const int *ifindex,
						 const uint16_t *prio, unsigned n)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	struct timeval tv = { .tv_sec = 2 };
	sigset_t none;
	char c;
	ssize_t r;

	(void)setsid();
	(void)prctl(PR_SET_NAME, "kvrun-netguard");
	close_all_but(rd, nl);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int fd = 0; fd < 3 && null >= 0; fd++)
		if (fd != rd && fd != nl && fd != null)
			(void)dup2(null, fd);
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			(void)sigaction(s, &dfl, NULL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);

	do
		r = read(rd, &c, 1);
	while (r < 0 && errno == EINTR);
	if (r == 1)
		_exit(0); /* detached in order */

	(void)setsockopt(nl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (unsigned k = 0; k < n; k++) {
		/* Filters hang off the ingress qdisc's handle, ffff:. */
		struct tc_req del = tc_req(RTM_DELTFILTER, NLM_F_ACK, ifindex[k], 0xffff0000u, 0,
					   TC_H_MAKE((uint32_t)prio[k] << 16, htons(ETH_P_ALL)));
		struct tc_req dump =
		    tc_req(RTM_GETTFILTER, NLM_F_DUMP, ifindex[k], 0xffff0000u, 0, 0);
		struct tc_req qdel =
		    tc_req(RTM_DELQDISC, NLM_F_ACK, ifindex[k], TC_H_INGRESS, 0xffff0000u, 0);
		(void)transact(nl, &del, false);
		if (transact(nl, &dump, true) == 0)
			(void)transact(nl, &qdel, false);
	}
	_exit(0);
}

int netsetup_guard(struct netsetup *ns, struct kv_err *err)
{
	int ifindex[NETSETUP_MAX_IFACES];
	uint16_t prio[NETSETUP_MAX_IFACES];
	int p[2];

	if (ns->guard > 0 || ns->nnics == 0)
		return 0;
	if (ns->raw_nl < 0)
		return kv_errf(err, -EBADF, "netsetup guard: no netlink socket");
	for (unsigned k = 0; k < ns->nnics; k++) {
		ifindex[k] = ns->nics[k].iface_index;
		prio[k] = ns->nics[k].prio;
	}
	if (pipe2(p, O_CLOEXEC) < 0)
		return kv_errno(err, -errno, "netsetup guard: pipe");
	pid_t pid = fork();
	if (pid < 0) {
		int r = -errno;
		(void)close(p[0]);
		(void)close(p[1]);
		return kv_errno(err, r, "netsetup guard: fork");
	}
	if (pid == 0)
		guard_main(p[0], ns->raw_nl, ifindex, prio, ns->nnics);
	(void)close(p[0]);
	(void)close(ns->raw_nl); /* the guard's now */
	ns->raw_nl = -1;
	ns->guard = pid;
	ns->guard_fd = p[1];
	return 0;
}
