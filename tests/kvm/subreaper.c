/* subreaper.c - run a command as a child subreaper and record every exit.
 *
 * Owns: standing in for containerd's shim or conmon in the runtime tests:
 * it becomes a child subreaper (PR_SET_CHILD_SUBREAPER), runs CMD, and for
 * every process it reaps (CMD's children, and orphans reparented to it,
 * such as a container's VMM process once `kvrun create` returned) writes
 * STATUS_DIR/PID holding the exit status as a shell reports it (128+N for
 * signal N), through a temporary file and a rename. Exits with CMD's status
 * when CMD exits. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void record(const char *dir, pid_t pid, int status)
{
	char tmp[4200], path[4200];
	int v = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);

	snprintf(tmp, sizeof(tmp), "%s/.%d", dir, (int)pid);
	snprintf(path, sizeof(path), "%s/%d", dir, (int)pid);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "%d\n", v);
	fclose(f);
	rename(tmp, path);
}

int main(int argc, char **argv)
{
	if (argc < 4 || strcmp(argv[2], "--") != 0) {
		fprintf(stderr, "usage: subreaper STATUS_DIR -- CMD [ARG...]\n");
		return 2;
	}
	const char *dir = argv[1];
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		perror("subreaper: PR_SET_CHILD_SUBREAPER");
		return 2;
	}
	pid_t cmd = fork();
	if (cmd == 0) {
		execvp(argv[3], argv + 3);
		perror("subreaper: exec");
		_exit(127);
	}
	if (cmd < 0) {
		perror("subreaper: fork");
		return 2;
	}
	for (;;) {
		int status;
		pid_t pid = wait(&status);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid < 0)
			return 2;
		record(dir, pid, status);
		if (pid == cmd)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	}
}
