/* modlist.c - see modlist.h. */
#include "modlist.h"

#include <string.h>

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

int modlist_next(char **cursor, struct modlist_entry *e)
{
	char *p = *cursor;

	while (*p) {
		char *line = p;
		char *nl = strchr(p, '\n');
		p = nl ? nl + 1 : p + strlen(p);
		if (nl)
			*nl = '\0';

		line += strspn(line, " \t\r");
		char *end = line + strlen(line);
		while (end > line && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			*--end = '\0';
		if (!*line || *line == '#')
			continue;
		char *sp = line + strcspn(line, " \t");
		if (*sp) {
			*sp++ = '\0';
			sp += strspn(sp, " \t");
		}
		e->path = line;
		e->params = sp;
		e->compressed =
		    ends_with(line, ".xz") || ends_with(line, ".gz") || ends_with(line, ".zst");
		*cursor = p;
		return 1;
	}
	*cursor = p;
	return 0;
}
