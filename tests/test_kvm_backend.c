// SPDX-License-Identifier: GPL-2.0-only
/*
 * The real-KVM backend against the model: the corpus cases it can run give
 * the same exits on /dev/kvm as the model with this host's profile
 * (6.18.24), and the kernel's own trace of E2 shows the 6.18 split-read
 * trace bug through the oracle.  Skips with one line without /dev/kvm.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "kvm/backend_kvm.h"
#include "oracle.h"
#include "test.h"

static bool kvm_usable(void)
{
	char why[128];

	return kvm_backend_available(why, sizeof(why));
}

/* The source tree: two levels up from build/fragfuzz-tests. */
static bool top_dir(char *buf, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", buf, size - 1);
	unsigned int i;

	if (n <= 0)
		return false;
	buf[n] = 0;
	for (i = 0; i < 2; i++) {
		char *slash = strrchr(buf, '/');

		if (!slash)
			return false;
		*slash = 0;
	}
	return true;
}

static bool load_corpus(const char *name, struct scenario *s)
{
	static char text[1 << 16];
	char path[PATH_MAX + 64], top[PATH_MAX], err[256];
	FILE *f;
	size_t n;

	if (!top_dir(top, sizeof(top)))
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

static const char *const exit_cases[] = {
	"e01-split-read-mmio-mmio.txt",
	"e02-split-read-uneven.txt",
	"e05-split-write.txt",
	"e06-enter-split-push.txt",
	"e08-pusha-mmio-into-ram.txt",		/* prot32 */
	"e09-rep-movsb-ram-to-mmio.txt",
};

/* Compare one corpus case; "" or what differs in @msg. */
static void compare_case(struct model_backend *mb, struct kvm_backend *kb,
			 const struct kvm_profile *p, const char *name, char *msg, size_t size)
{
	static struct run_result rm, rk;
	struct scenario s;
	unsigned int i;
	int r;

	msg[0] = 0;
	if (!load_corpus(name, &s)) {
		snprintf(msg, size, "cannot load corpus/%s", name);
		return;
	}
	if (model_backend_run(mb, &s, p, &rm)) {
		snprintf(msg, size, "%s: model run failed", name);
		return;
	}
	r = kvm_backend_run(kb, &s, &rk);
	if (r) {
		snprintf(msg, size, "%s: kvm run: %s (%s)", name, strerror(-r),
			 kvm_backend_why(kb));
		return;
	}
	if (rk.outcome != OUTCOME_RETIRED || rk.nr_exits != rm.nr_exits) {
		snprintf(msg, size, "%s: kvm %s with %u exits, model %s with %u", name,
			 run_outcome_name(rk.outcome), rk.nr_exits,
			 run_outcome_name(rm.outcome), rm.nr_exits);
		return;
	}
	for (i = 0; i < rm.nr_exits; i++) {
		const struct run_exit *a = &rm.exits[i], *b = &rk.exits[i];

		if (a->gpa != b->gpa || a->len != b->len || a->write != b->write ||
		    memcmp(a->data, b->data, a->len < 8 ? a->len : 8)) {
			snprintf(msg, size, "%s: exit %u: model %c 0x%llx/%u, kvm %c 0x%llx/%u",
				 name, i, a->write ? 'W' : 'R', (unsigned long long)a->gpa,
				 a->len, b->write ? 'W' : 'R', (unsigned long long)b->gpa,
				 b->len);
			return;
		}
	}
	if (rk.rip != rm.rip)
		snprintf(msg, size, "%s: final RIP: model 0x%llx, kvm 0x%llx", name,
			 (unsigned long long)rm.rip, (unsigned long long)rk.rip);
}

TEST(kvm_backend_corpus_exits_match_the_model)
{
	const struct kvm_profile *p = kvm_profile_find(KVM_BACKEND_HOST_PROFILE);
	struct model_backend *mb;
	struct kvm_backend *kb;
	char err[256], msg[256] = "";
	unsigned int c;

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	TEST_ASSERT(p, "no profile %s", KVM_BACKEND_HOST_PROFILE);
	kb = kvm_backend_create(err, sizeof(err));
	TEST_ASSERT(kb, "kvm backend: %s", err);
	mb = model_backend_create();
	for (c = 0; mb && c < ARRAY_SIZE(exit_cases) && !msg[0]; c++)
		compare_case(mb, kb, p, exit_cases[c], msg, sizeof(msg));
	kvm_backend_destroy(kb);
	TEST_ASSERT(mb, "no model backend");
	model_backend_destroy(mb);
	TEST_ASSERT(!msg[0], "%s", msg);
}

/* The 6.18 split-read trace bug, seen in the real kernel's tracepoint. */
TEST(kvm_backend_e02_trace_is_the_618_bug)
{
	const struct kvm_profile *p = kvm_profile_find(KVM_BACKEND_HOST_PROFILE);
	static struct run_result rm, rk;
	struct violation_list vl = { 0 }, fid = { 0 };
	struct model_backend *mb;
	struct kvm_backend *kb;
	struct scenario s;
	char err[256];
	bool traced;
	int r;

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	TEST_ASSERT(load_corpus("e02-split-read-uneven.txt", &s), "cannot load E2");
	kb = kvm_backend_create(err, sizeof(err));
	TEST_ASSERT(kb, "kvm backend: %s", err);
	traced = kvm_backend_traced(kb);
	r = kvm_backend_run(kb, &s, &rk);
	kvm_backend_destroy(kb);
	TEST_ASSERT(!r, "kvm run: %s", strerror(-r));
	TEST_REQUIRE(traced, "tracefs not available: no kernel trace");

	mb = model_backend_create();
	TEST_ASSERT(mb, "no model backend");
	r = model_backend_run(mb, &s, p, &rm);
	model_backend_destroy(mb);
	TEST_ASSERT(!r, "model run");

	/* 6.18: unsatisfied-read pairs fragment 0's GPA with fragment 1's len */
	TEST_ASSERT_EQ(rk.trace.nr, 2, "kernel trace events");
	TEST_ASSERT_EQ(rk.trace.ev[0].type, KVM_TRACE_MMIO_READ_UNSATISFIED, "event 0 type");
	TEST_ASSERT_EQ(rk.trace.ev[0].len, 1, "event 0 len");
	TEST_ASSERT_EQ(rk.trace.ev[0].gpa, 0x5ffd, "event 0 gpa");
	TEST_ASSERT_EQ(rk.trace.ev[1].type, KVM_TRACE_MMIO_READ, "event 1 type");
	TEST_ASSERT_EQ(rk.trace.ev[1].len, 4, "event 1 len");
	TEST_ASSERT_EQ(rk.trace.ev[1].val, 0xddccbbaa, "event 1 val");

	oracle_check(&s, p, &rk, &rm.accesses, &vl);
	TEST_ASSERT(violation_list_has(&vl, V_UNSATISFIED_READ_TRACE),
		    "the oracle does not see the unsatisfied-read trace bug");
	TEST_ASSERT_EQ(kvm_fidelity_check(p, &rm, &rk, true, &fid), 0,
		       "model/kernel differences");
}

/* Modes this version does not run are refused, not half run. */
TEST(kvm_backend_unsupported_mode_is_not_run)
{
	static struct run_result rk;
	struct kvm_backend *kb;
	struct scenario s;
	char err[256];
	int r;

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	TEST_ASSERT(!scenario_parse_text(&s, "mode real16\ninsn 8b 07\n", err, sizeof(err)),
		    "scenario: %s", err);
	kb = kvm_backend_create(err, sizeof(err));
	TEST_ASSERT(kb, "kvm backend: %s", err);
	r = kvm_backend_run(kb, &s, &rk);
	kvm_backend_destroy(kb);
	TEST_ASSERT_EQ(r, -EOPNOTSUPP, "run result");
	TEST_ASSERT_EQ(rk.outcome, OUTCOME_NOT_RUN, "outcome");
}

/* A #PF in long mode arrives through the IST stub with CR2 and RIP. */
TEST(kvm_backend_long64_page_fault)
{
	static const char *const text =
		"mode long64\ninsn 8b 07\nreg rdi 0x40000ffe\nmap 0x40000000 0x1000 mmio\n";
	static struct run_result rk;
	struct kvm_backend *kb;
	struct scenario s;
	char err[256];
	int r;

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	TEST_ASSERT(!scenario_parse_text(&s, text, err, sizeof(err)), "scenario: %s", err);
	kb = kvm_backend_create(err, sizeof(err));
	TEST_ASSERT(kb, "kvm backend: %s", err);
	r = kvm_backend_run(kb, &s, &rk);
	kvm_backend_destroy(kb);
	TEST_ASSERT(!r, "kvm run: %s", strerror(-r));
	TEST_ASSERT_EQ(rk.outcome, OUTCOME_EXCEPTION, "outcome");
	TEST_ASSERT_EQ(rk.exception.vector, PF_VECTOR, "vector");
	TEST_ASSERT_EQ(rk.exception.address, 0x40001000, "cr2");
	TEST_ASSERT_EQ(rk.exception.error_code, 0, "error code");
	TEST_ASSERT_EQ(rk.rip, SCN_CODE_GPA, "faulting rip");
	TEST_ASSERT_EQ(rk.nr_exits, 0, "exits");
}
