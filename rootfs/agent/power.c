/* power.c - powering the VM off or rebooting it, at the right moment.
 *
 * Owns: the SHUTDOWN action and poweroff_on_exit. Both first let the host
 * read the reply that announces them: the agent waits until every control
 * connection has been flushed and closed by the host, or a short deadline,
 * then terminates what is left, syncs and calls reboot(2). After the init
 * exits with poweroff_on_exit and no WAIT is pending, it gives the host a
 * grace period to ask. With --no-init nothing is powered off: the agent
 * kills its processes and leaves its loop. */
#include "agent.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define POWER_FLUSH_MS 2000 /* the host reads the last reply and closes */
#define TERM_GRACE_MS  1000 /* SIGTERM before SIGKILL */

void power_now(uint32_t action)
{
	int cmd = action == KVAP_SHUTDOWN_REBOOT ? RB_AUTOBOOT : RB_POWER_OFF;

	(void)kill(-1, SIGTERM);
	int64_t end = now_ms() + TERM_GRACE_MS;
	while (now_ms() < end) {
		/* Everyone else is our child or reparented to us. */
		if (waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD)
			break;
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	(void)kill(-1, SIGKILL);
	sync();
	alog("%s", cmd == RB_AUTOBOOT ? "rebooting" : "powering off");
	reboot(cmd);
	/* Only reachable without CAP_SYS_BOOT: PID 1 must not exit. */
	alog("reboot(2): %s; halting here", strerror(errno));
	for (;;)
		pause();
}

/* delay_ms < 0: the grace period for a WAIT; else flush for delay_ms. */
void power_schedule(struct agent *a, uint32_t action, int delay_ms)
{
	a->power_action = action;
	if (delay_ms < 0) {
		a->power = POWER_GRACE;
		a->power_deadline = now_ms() - delay_ms;
	} else {
		a->power = POWER_FLUSH;
		a->power_deadline = now_ms() + (delay_ms ? delay_ms : POWER_FLUSH_MS);
	}
}

static void power_go(struct agent *a)
{
	if (a->init_mode)
		power_now(a->power_action);
	alog("--no-init: not powering off; stopping the agent");
	proc_kill_all(a, SIGKILL);
	a->quit = true;
	a->power = POWER_NONE;
}

/* Called by the loop after every batch of events. */
void power_tick(struct agent *a)
{
	if (a->power == POWER_NONE)
		return;
	bool expired = now_ms() >= a->power_deadline;
	if (a->power == POWER_FLUSH && (expired || (a->conns == NULL)))
		power_go(a);
	else if (a->power == POWER_GRACE && expired)
		power_go(a);
}

/* The epoll timeout the power state needs, -1 for none. */
int power_timeout(struct agent *a)
{
	if (a->power == POWER_NONE)
		return -1;
	int64_t left = a->power_deadline - now_ms();
	return left < 0 ? 0 : (int)left;
}
