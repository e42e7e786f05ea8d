/* console.h - the terminal of a container or exec process, host side.
 *
 * Owns: making a pty pair, sending the master to the client's
 * --console-socket the way runc does (one SCM_RIGHTS message on a Unix
 * stream socket, the data being the terminal's name), and preparing the
 * slave that kvrun keeps: raw mode (the guest's pty does the line
 * discipline), the initial window size, and it becoming the controlling
 * terminal of the calling session leader, so that the client's window-size
 * changes arrive as SIGWINCH. */
#ifndef KVRUN_RUNTIME_CONSOLE_H
#define KVRUN_RUNTIME_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

/* Connect to socket_path, make a pty, send its master, and return the
 * slave fd (raw, rows x cols unless 0). With ctty the caller must be a
 * session leader without a terminal. */
int console_setup(const char *socket_path, uint16_t rows, uint16_t cols, bool ctty,
		  struct kv_err *err);

/* The window size of the terminal fd (0 x 0 when unknown). */
void console_size(int fd, uint16_t *rows, uint16_t *cols);

#endif
