/* foreground.h - a verb that waits in the foreground for a process it forked.
 *
 * Owns: what `kvrun run` and `kvrun exec` (without --detach) do while their
 * container or exec process runs: pass every forwardable signal they get
 * on to it (it relays them into the guest), put the caller's terminal in
 * raw mode while a guest terminal uses it (restored afterwards), and
 * return its exit status as a shell reports it (128+N for signal N). */
#ifndef KVRUN_RUNTIME_FOREGROUND_H
#define KVRUN_RUNTIME_FOREGROUND_H

#include <stdbool.h>
#include <sys/types.h>
#include <termios.h>

struct fg_tty {
	bool raw;
	struct termios saved;
};

/* Raw mode on fd 0 when it is a terminal (saved for fg_tty_restore). */
void fg_tty_raw(struct fg_tty *t);
void fg_tty_restore(struct fg_tty *t);

/* Block the forwarded signals and SIGCHLD (before forking the child). */
void fg_block_signals(void);
/* Forward signals to pid until it exits; its status. */
int fg_wait(pid_t pid);

#endif
