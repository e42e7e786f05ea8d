/* replay.c - runs fuzz inputs through LLVMFuzzerTestOneInput without
 * libFuzzer, so the seed corpus is checked by every `meson test` (under ASan
 * and UBSan in the sanitize build).
 *
 * Owns: reading each file named on the command line, or every file of each
 * directory named, and printing one TAP line per input. A crash or abort
 * in the target fails the test. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!f)
		return -errno;
	if (fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0) {
		fclose(f);
		return -EIO;
	}
	buf = malloc(n ? (size_t)n : 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return -EIO;
	}
	fclose(f);
	/* An exact-size buffer, so ASan catches a read one past the end. */
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return (int)n;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int main(int argc, char **argv)
{
	struct stat st;
	int inputs = 0;

	for (int i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			struct dirent **ents;
			int n = scandir(argv[i], &ents, NULL, by_name);
			ok(n >= 0, "read directory %s", argv[i]);
			for (int j = 0; j < n; j++) {
				char path[4096];
				if (ents[j]->d_name[0] != '.') {
					snprintf(path, sizeof(path), "%s/%s", argv[i],
						 ents[j]->d_name);
					int r = run_file(path);
					ok(r >= 0, "%s (%d bytes)", ents[j]->d_name, r);
					inputs++;
				}
				free(ents[j]);
			}
			free(n >= 0 ? ents : NULL);
		} else {
			int r = run_file(argv[i]);
			ok(r >= 0, "%s (%d bytes)", argv[i], r);
			inputs++;
		}
	}
	ok(inputs > 0, "%d inputs replayed", inputs);
	tap_plan(tap_n_);
	return tap_done();
}
