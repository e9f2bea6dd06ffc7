// SPDX-License-Identifier: GPL-2.0-only
/*
 * The modelled memory-safety bugs are real under ASan: each case runs
 * build/asan/cve-repro in a child process and checks that the profile
 * with the bug gets the ASan report and the fixed profile runs clean.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"
#include "test_common.h"

struct cve_case {
	const char *name;
	const char *trigger;
	const char *profile;
	const char *report;	/* NULL: must run clean */
};

static const struct cve_case cve_cases[] = {
	{ "CVE-2026-31588 ENTER split on 6.18: stack-use-after-return",
	  "enter-split", "6.18", "stack-use-after-return" },
	{ "CVE-2026-31588 ENTER split on 6.18.24: clean",
	  "enter-split", "6.18.24", NULL },
	{ "CVE-2026-31588 ENTER split on 7.1: clean",
	  "enter-split", "7.1", NULL },
	{ "CVE-2014-0049 PUSHA past nr_fragments on 3.13: heap-buffer-overflow",
	  "pusha-past-nr", "3.13", "heap-buffer-overflow" },
	{ "CVE-2014-0049 PUSHA past nr_fragments on 4.14: clean",
	  "pusha-past-nr", "4.14", NULL },
	{ "CVE-2017-17741 3-byte stack write traced on 4.14: stack-buffer-overflow",
	  "fix-hypercall", "4.14", "stack-buffer-overflow" },
	{ "CVE-2017-17741 3-byte stack write traced on 6.2: clean",
	  "fix-hypercall", "6.2", NULL },
};

static bool cve_repro_path(char *buf, size_t size)
{
	size_t n;

	if (!exe_dir(buf, size, 1))
		return false;
	n = strlen(buf);
	snprintf(buf + n, size - n, "/asan/cve-repro");
	return access(buf, X_OK) == 0;
}

/* Run the trigger; collect stderr into @out and the exit status. */
static int run_child(const char *path, const struct cve_case *c, char *out, size_t size)
{
	int pipefd[2], status;
	size_t used = 0;
	ssize_t n;
	pid_t pid;

	if (pipe(pipefd))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		dup2(pipefd[1], 2);
		dup2(pipefd[1], 1);
		close(pipefd[0]);
		setenv("ASAN_OPTIONS", "detect_stack_use_after_return=1:detect_leaks=0", 1);
		execl(path, path, c->trigger, c->profile, (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	while ((n = read(pipefd[0], out + used, size - 1 - used)) > 0)
		used += n;
	out[used] = 0;
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	return status;
}

static void test_cve(struct test_ctx *t, const void *arg)
{
	const struct cve_case *c = arg;
	static char out[1 << 16];
	char path[PATH_MAX];
	int status;

	TEST_REQUIRE(cve_repro_path(path, sizeof(path)),
		     "build/asan/cve-repro missing (no ASan-capable compiler)");
	status = run_child(path, c, out, sizeof(out));
	TEST_ASSERT(status >= 0, "could not run %s", path);
	if (c->report) {
		TEST_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) != 0,
			    "wanted an ASan abort, the run finished cleanly:\n%s", out);
		TEST_ASSERT(strstr(out, c->report),
			    "wanted ASan report '%s', got:\n%s", c->report, out);
	} else {
		TEST_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			    "wanted a clean run, got status 0x%x:\n%s", status, out);
		TEST_ASSERT(!strstr(out, "AddressSanitizer"), "unexpected report:\n%s", out);
	}
}

TEST_ROWS(cve_cases, test_cve);
