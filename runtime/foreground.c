/* foreground.c - see foreground.h. */
#include "foreground.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "relay.h"

void fg_tty_raw(struct fg_tty *t)
{
	struct termios raw;

	t->raw = false;
	if (!isatty(0) || tcgetattr(0, &t->saved) < 0)
		return;
	raw = t->saved;
	cfmakeraw(&raw);
	if (tcsetattr(0, TCSANOW, &raw) == 0)
		t->raw = true;
}

void fg_tty_restore(struct fg_tty *t)
{
	if (t->raw)
		(void)tcsetattr(0, TCSANOW, &t->saved);
	t->raw = false;
}

void fg_block_signals(void)
{
	sigset_t set;

	relay_sigset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

int fg_wait(pid_t pid)
{
	sigset_t set;
	int status;

	relay_sigset(&set);
	sigaddset(&set, SIGCHLD);
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return 255;
		siginfo_t si;
		int sig = sigwaitinfo(&set, &si);
		if (sig > 0 && sig != SIGCHLD)
			(void)kill(pid, sig);
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}
