// SPDX-License-Identifier: GPL-2.0-only
/*
 * Findings filed by class (harness/fuzz_findings.c), for fragfuzz_kvm with
 * FRAGFUZZ_FINDINGS: the class key of a table of scenarios and violations,
 * then filing into a directory (first of a class written, later ones
 * counted, the summary).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_findings.h"
#include "test.h"

struct key_case {
	const char *name;
	const char *scenario;		/* text form */
	enum violation_kind kind;
	const char *detail;
	const char *key;		/* wanted */
};

static const struct key_case key_cases[] = {
	{ "findings: key of a prefixed real-mode iret, by the field that differs",
	  "mode real16\ninsn f3 66 cf\n", V_FIDELITY, "rsp: model 0xaafff, kvm 0xafff",
	  "fidelity-real16-66f3.cf-rsp" },
	{ "findings: key of a group opcode names its /reg",
	  "mode real16\ninsn 0f ae 05 00 10\n", V_FIDELITY,
	  "outcome: model emulation-failure, kvm exception",
	  "fidelity-real16-0fae-r0-outcome" },
	{ "findings: key of a long64 mov with REX, no field for an oracle kind",
	  "mode long64\ninsn 48 8b 07\n", V_UNSATISFIED_READ_TRACE, "wanted 'x', got 'y'",
	  "unsatisfied-read-trace-long64-8b" },
	{ "findings: key of a three-byte opcode",
	  "mode prot32\ninsn 66 0f 38 f0 07\n", V_FIDELITY, "exits (model 1, kvm 0): ...",
	  "fidelity-prot32-66.0f38f0-exits" },
	{ "findings: key of a lone prefix",
	  "mode prot32\ninsn 66\n", V_FIDELITY, "rip: model 0x0, kvm 0x1",
	  "fidelity-prot32-66.none-rip" },
};

static void check_key(struct test_ctx *t, const void *arg)
{
	const struct key_case *c = arg;
	struct violation v = { .kind = c->kind };
	char key[FUZZ_FINDING_KEY], err[128];
	struct scenario s;

	TEST_ASSERT(!scenario_parse_text(&s, c->scenario, err, sizeof(err)), "%s", err);
	snprintf(v.detail, sizeof(v.detail), "%s", c->detail);
	fuzz_finding_key(&s, &v, key, sizeof(key));
	TEST_ASSERT(!strcmp(key, c->key), "Wanted '%s' for the key, got '%s'", c->key, key);
}
TEST_ROWS(key_cases, check_key);

static long file_size(const char *dir, const char *name)
{
	char path[512];
	long n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fclose(f);
	return n;
}

TEST(findings_first_of_a_class_is_written_later_ones_counted)
{
	static struct fuzz_findings ff;
	char dir[] = "/tmp/fragfuzz-findings-XXXXXX", line[256] = "", path[300];
	const char *keys[] = { "fidelity-real16-cf-rsp", "fidelity-real16-cf-rsp",
			       "fidelity-long64-8b-exits", "fidelity-real16-cf-rsp" };
	unsigned int i, written = 0;
	FILE *f, *null = fopen("/dev/null", "w");

	TEST_ASSERT(mkdtemp(dir), "mkdtemp");
	TEST_ASSERT(!fuzz_findings_init(&ff, dir), "init %s", dir);
	for (i = 0; i < 4; i++) {
		f = fuzz_findings_add(&ff, keys[i]);
		if (f) {
			fprintf(f, "# %s\n", keys[i]);
			fclose(f);
			written++;
		}
	}
	fuzz_findings_summary(&ff, null ? null : stderr);
	if (null)
		fclose(null);
	snprintf(path, sizeof(path), "%s/summary.txt", dir);
	f = fopen(path, "r");
	if (f) {
		if (!fgets(line, sizeof(line), f))
			line[0] = 0;
		fclose(f);
	}
	TEST_ASSERT_EQ(written, 2, "files written (first of each class)");
	TEST_ASSERT_EQ(ff.total, 4, "findings counted");
	TEST_ASSERT_EQ(ff.cls[0].count, 3, "count of fidelity-real16-cf-rsp");
	TEST_ASSERT(file_size(dir, "fidelity-long64-8b-exits.txt") > 0, "no class file in %s", dir);
	TEST_ASSERT(!strcmp(line, "# findings: 4 in 2 classes\n"),
		    "Wanted '# findings: 4 in 2 classes' for the summary, got '%s'", line);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	TEST_ASSERT(system(path) == 0, "%s", path);
}
