// SPDX-License-Identifier: GPL-2.0-only
/*
 * Helpers shared by the test files (test_common.h); no tests of its own.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_common.h"

bool exe_dir(char *buf, size_t size, unsigned int up)
{
	ssize_t n = readlink("/proc/self/exe", buf, size - 1);
	unsigned int i;

	if (n <= 0)
		return false;
	buf[n] = 0;
	for (i = 0; i < up; i++) {
		char *slash = strrchr(buf, '/');

		if (!slash)
			return false;
		*slash = 0;
	}
	return true;
}

bool load_corpus(const char *name, struct scenario *s)
{
	static char text[1 << 16];
	char path[PATH_MAX + 64], top[PATH_MAX], err[256];
	FILE *f;
	size_t n;

	if (!exe_dir(top, sizeof(top), 2))
		return false;
	snprintf(path, sizeof(path), "%s/corpus/%s", top, name);
	f = fopen(path, "r");
	if (!f)
		return false;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = 0;
	return !scenario_parse_text(s, text, err, sizeof(err));
}

unsigned int hex_bytes(const char *s, u8 *out, unsigned int max)
{
	unsigned int n = 0;

	while (s && s[0] && s[1] && n < max) {
		char b[3] = { s[0], s[1], 0 };

		if (s[0] == ' ') {
			s++;
			continue;
		}
		out[n++] = (u8)strtoul(b, NULL, 16);
		s += 2;
	}
	return n;
}
