/* spec.c - `kvrun spec`. */
#include "oci-state.h"
#include "util.h"
#include "verbs.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void verb_spec_usage(FILE *out)
{
	fprintf(out,
		"usage: kvrun [GLOBAL OPTIONS] spec [OPTIONS]\n"
		"\n"
		"Write a default config.json (sh on a terminal, root.path \"rootfs\" read-only,\n"
		"the usual mounts and namespaces) into the bundle directory. An existing\n"
		"config.json is not overwritten.\n"
		"\n"
		"Options:\n"
		"  -b, --bundle DIR   where to write it (default: the current directory)\n"
		"  --rootless         refused: kvrun runs as root\n"
		"  -h, --help         this text\n"
		"\n"
		"Exit status: 0; 1 failure (it exists, cannot write); 2 usage error.\n");
}

int verb_spec(struct kvrun *g, int argc, char **argv)
{
	static const struct option opts[] = { { "bundle", required_argument, NULL, 'b' },
					      { "rootless", no_argument, NULL, 'r' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	struct kv_err err = { 0 };
	const char *bundle = ".";
	char *json = NULL, path[4200];
	int ch;

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "+:b:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			bundle = optarg;
			break;
		case 'r':
			kv_errf(&err, -EOPNOTSUPP,
				"--rootless: rootless containers are not supported");
			return kvrun_fail(g, &err);
		case 'h':
			verb_spec_usage(stdout);
			return 0;
		default:
			return verb_getopt_error(g, argc, argv);
		}
	}
	if (optind < argc)
		return verb_usage_error(g, "unexpected argument \"%s\"", argv[optind]);
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	if (oci_default_spec_write(&json, &err) < 0)
		return kvrun_fail(g, &err);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		if (errno == EEXIST)
			kv_errf(&err, -EEXIST, "File %s exists. Remove it first", path);
		else
			kv_errno(&err, -errno, "%s", path);
		free(json);
		return kvrun_fail(g, &err);
	}
	size_t len = strlen(json);
	json[len] = '\0';
	int r = write_full(fd, json, len);
	if (r == 0)
		r = write_full(fd, "\n", 1);
	close(fd);
	free(json);
	if (r < 0) {
		kv_errno(&err, r, "writing %s", path);
		(void)unlink(path);
		return kvrun_fail(g, &err);
	}
	return 0;
}
