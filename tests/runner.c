// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test runner: runs every registered case (or those whose name contains
 * argv[1]) and prints a TAP-like log with a closing summary line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

struct test_case {
	const char *name;
	test_fn fn;
	const void *arg;
};

static struct test_case *cases;
static unsigned int nr_cases, cap_cases;

void test_register(const char *name, test_fn fn, const void *arg)
{
	if (nr_cases == cap_cases) {
		cap_cases = cap_cases ? 2 * cap_cases : 64;
		cases = realloc(cases, cap_cases * sizeof(*cases));
		if (!cases)
			abort();
	}
	cases[nr_cases++] = (struct test_case){ name, fn, arg };
}

void test_register_profiles(const char *prefix, const char *title, test_fn fn,
			    const char *const *profiles, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		char *name;

		if (asprintf(&name, "%s%s [%s]", prefix, title, profiles[i]) < 0)
			abort();
		test_register(name, fn, profiles[i]);
	}
}

void test_fail(struct test_ctx *t, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	t->failed = true;
	printf("# %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

int main(int argc, char **argv)
{
	unsigned int i, n = 0, passed = 0, failed = 0, skipped = 0;
	const char *filter = argc > 1 ? argv[1] : NULL;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < nr_cases; i++)
		if (!filter || strstr(cases[i].name, filter))
			n++;
	printf("TAP version 13\n1..%u\n", n);
	n = 0;
	for (i = 0; i < nr_cases; i++) {
		struct test_ctx t = { 0 };

		if (filter && !strstr(cases[i].name, filter))
			continue;
		n++;
		cases[i].fn(&t, cases[i].arg);
		if (t.skipped) {
			printf("ok %u - %s # SKIP %s\n", n, cases[i].name, t.skip_reason);
			skipped++;
		} else if (t.failed) {
			printf("not ok %u - %s\n", n, cases[i].name);
			failed++;
		} else {
			printf("ok %u - %s\n", n, cases[i].name);
			passed++;
		}
	}
	printf("%u passed, %u failed, %u skipped\n", passed, failed, skipped);
	return failed ? 1 : 0;
}
