// SPDX-License-Identifier: GPL-2.0-only
/*
 * Harness tests: every seed scenario runs on the model with no unknown
 * violation on the kernels it targets; the oracle names the 6.18 bugs;
 * tampered results make the oracle fail at the right kind; the fragfuzz
 * command's exit codes and messages.
 */
#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend.h"
#include "fidelity.h"
#include "oracle.h"
#include "test.h"
#include "test_common.h"

/* The repository's top directory, from build/fragfuzz-tests. */
struct harness_run {
	struct scenario s;
	struct run_result r;
	struct violation_list vl;
};

static bool run_file(const char *name, const char *kernel, struct harness_run *hr)
{
	const struct kvm_profile *p = kvm_profile_find(kernel);
	struct model_backend *mb = model_backend_create();
	bool ok;

	if (!mb)
		return false;
	memset(hr, 0, sizeof(*hr));
	ok = load_corpus(name, &hr->s) && !model_backend_run(mb, &hr->s, p, &hr->r);
	if (ok)
		oracle_check(&hr->s, p, &hr->r, &hr->r.accesses, &hr->vl);
	model_backend_destroy(mb);
	return ok;
}

/*
 * 7.1: no unknown violation at all.  6.18.24 (this host): only the split
 * unsatisfied-read trace bug that the 2026 series fixed.
 */
static void corpus_clean(struct test_ctx *t, const void *arg)
{
	static const char *const kernels[] = { "7.1", "6.18.24" };
	static struct harness_run hr;
	unsigned int k, i;

	for (k = 0; k < 2; k++) {
		TEST_ASSERT(run_file(arg, kernels[k], &hr), "cannot run corpus/%s", (const char *)arg);
		TEST_ASSERT(hr.r.outcome != OUTCOME_NOT_RUN, "not run on %s", kernels[k]);
		for (i = 0; i < hr.vl.nr; i++)
			TEST_ASSERT(hr.vl.v[i].known || (k == 1 &&
				    hr.vl.v[i].kind == V_UNSATISFIED_READ_TRACE),
				    "unknown violation on %s: %s: %s", kernels[k],
				    violation_name(hr.vl.v[i].kind), hr.vl.v[i].detail);
	}
}

__attribute__((constructor)) static void register_corpus_tests(void)
{
	char top[PATH_MAX], dir[PATH_MAX + 8];
	struct dirent **list;
	int n, i;

	if (!exe_dir(top, sizeof(top), 2))
		return;
	snprintf(dir, sizeof(dir), "%s/corpus", top);
	n = scandir(dir, &list, NULL, alphasort);
	for (i = 0; i < n; i++) {
		char *name;

		if (strstr(list[i]->d_name, ".txt") &&
		    asprintf(&name, "corpus %s: no unknown violation on 7.1, only the trace bug on 6.18.24",
			     list[i]->d_name) > 0)
			test_register(name, corpus_clean, strdup(list[i]->d_name));
		free(list[i]);
	}
	if (n >= 0)
		free(list);
}

TEST(oracle_finds_6_18_unsatisfied_read_on_e2)
{
	static struct harness_run hr;

	TEST_ASSERT(run_file("e02-split-read-uneven.txt", "6.18", &hr), "cannot run E2");
	TEST_ASSERT(violation_list_has(&hr.vl, V_UNSATISFIED_READ_TRACE),
		    "no unsatisfied-read-trace violation on 6.18");
	TEST_ASSERT(hr.vl.nr_unknown > 0, "the violation is marked known");
	TEST_ASSERT(run_file("e02-split-read-uneven.txt", "7.1", &hr), "cannot run E2");
	TEST_ASSERT(!violation_list_has(&hr.vl, V_UNSATISFIED_READ_TRACE),
		    "unsatisfied-read-trace violation on 7.1");
}

TEST(oracle_known_kinds_on_the_corpus)
{
	static struct harness_run hr;

	TEST_ASSERT(run_file("e08-pusha-mmio-into-ram.txt", "7.1", &hr), "cannot run E8");
	TEST_ASSERT(violation_list_has(&hr.vl, V_WRITE_DROPPED), "E8: no write-dropped");
	TEST_ASSERT_EQ(hr.vl.nr_unknown, 0, "E8 unknown violations");
	TEST_ASSERT(run_file("e04a-sse-load-one-page.txt", "7.1", &hr), "cannot run E4a");
	TEST_ASSERT(violation_list_has(&hr.vl, V_COMPLETION_READ_GPA),
		    "E4a: no completion-read-gpa");
	TEST_ASSERT_EQ(hr.vl.nr_unknown, 0, "E4a unknown violations");
}

/* The oracle must fail when the backend's result is wrong. */
struct tamper_case {
	const char *name;
	const char *file;
	enum violation_kind want;
	void (*tamper)(struct run_result *r);
};

static void tamper_exit_data(struct run_result *r)
{
	r->exits[1].data[0] ^= 0xff;
}

static void tamper_exit_gpa(struct run_result *r)
{
	r->exits[1].gpa += 1;
}

static void tamper_drop_write_trace(struct run_result *r)
{
	r->trace.ev[1] = r->trace.ev[--r->trace.nr];
	r->trace.nr = 1;
}

static void tamper_unsat_len(struct run_result *r)
{
	r->trace.ev[0].len = 4;
}

static void tamper_completion_val(struct run_result *r)
{
	r->trace.ev[r->trace.nr - 1].val ^= 1;
}

static void tamper_exit_len(struct run_result *r)
{
	r->exits[0].len = 9;
}

static void tamper_read_data(struct run_result *r)
{
	unsigned int i;

	for (i = 0; i < r->accesses.nr; i++)
		if (r->accesses.a[i].completion)
			r->accesses.a[i].data[0] ^= 0x55;
}

static void tamper_pending(struct run_result *r)
{
	r->mmio_pending = true;
}

/* the CPU's write-intent access logged as a read: the layout lets a read pass */
static void tamper_native_rights(struct run_result *r)
{
	unsigned int i;

	for (i = 0; i < r->accesses.nr; i++)
		if (r->accesses.a[i].native)
			r->accesses.a[i].write = false;
}

static const struct tamper_case tamper_cases[] = {
	{ "oracle: wrong write exit data is exit-write-data", "e05-split-write.txt",
	  V_EXIT_WRITE_DATA, tamper_exit_data },
	{ "oracle: wrong exit GPA is exit-sequence", "e05-split-write.txt",
	  V_EXIT_SEQUENCE, tamper_exit_gpa },
	{ "oracle: a missing write trace is write-trace", "e05-split-write.txt",
	  V_WRITE_TRACE, tamper_drop_write_trace },
	{ "oracle: a wrong unsatisfied-read len is unsatisfied-read-trace",
	  "e01-split-read-mmio-mmio.txt", V_UNSATISFIED_READ_TRACE, tamper_unsat_len },
	{ "oracle: a wrong completion val is completion-read-trace",
	  "e01-split-read-mmio-mmio.txt", V_COMPLETION_READ_TRACE, tamper_completion_val },
	{ "oracle: a 9-byte exit is exit-chunking", "e01-split-read-mmio-mmio.txt",
	  V_EXIT_CHUNKING, tamper_exit_len },
	{ "oracle: wrong delivered data is read-data", "e01-split-read-mmio-mmio.txt",
	  V_READ_DATA, tamper_read_data },
	{ "oracle: pending MMIO at the end is pending-mmio", "e05-split-write.txt",
	  V_PENDING_MMIO, tamper_pending },
	{ "oracle: the CPU's RMW access without its write intent is translation",
	  "n01-rmw-ro-mmio-no-exit-cpl3-long64.txt", V_TRANSLATION, tamper_native_rights },
};

static void test_tamper(struct test_ctx *t, const void *arg)
{
	const struct tamper_case *c = arg;
	const struct kvm_profile *p = kvm_profile_find("7.1");
	static struct harness_run hr;
	struct violation_list vl = { 0 };

	TEST_ASSERT(run_file(c->file, "7.1", &hr), "cannot run %s", c->file);
	TEST_ASSERT_EQ(hr.vl.nr_unknown, 0, "unknown violations before tampering");
	c->tamper(&hr.r);
	oracle_check(&hr.s, p, &hr.r, &hr.r.accesses, &vl);
	TEST_ASSERT(violation_list_has(&vl, c->want), "wanted violation '%s', got %u others",
		    violation_name(c->want), vl.nr);
}

TEST_ROWS(tamper_cases, test_tamper);

/*
 * A write the kernel's bus missed (run_result.iobus_missed) is judged as
 * iobus-missed alone, a known kind; what follows from it (here a wrong
 * exit GPA) is not, and the comparator does not compare the case.
 */
TEST(oracle_iobus_missed_is_judged_alone)
{
	const struct kvm_profile *p = kvm_profile_find("7.1");
	static struct harness_run hr, model;
	struct violation_list vl = { 0 };

	TEST_ASSERT(run_file("e05-split-write.txt", "7.1", &hr), "cannot run e05");
	model = hr;
	tamper_exit_gpa(&hr.r);
	hr.r.iobus_missed = true;
	hr.r.iobus_missed_gpa = hr.r.exits[0].gpa;
	oracle_check(&hr.s, p, &hr.r, &hr.r.accesses, &vl);
	TEST_ASSERT_EQ(vl.nr, 1, "violations");
	TEST_ASSERT(vl.v[0].kind == V_IOBUS_MISSED && vl.v[0].known,
		    "Wanted a known iobus-missed, got %s%s", violation_name(vl.v[0].kind),
		    vl.v[0].known ? " (known)" : "");
	TEST_ASSERT(fidelity_skip_reason(&hr.s, &model.r, &hr.r), "the case is compared");
}

/* ---- the fragfuzz command ---- */

static int run_cli(const char *args, char *out, size_t size)
{
	char top[PATH_MAX], cmd[PATH_MAX * 2 + 256];
	FILE *p;
	size_t n;
	int status;

	if (!exe_dir(top, sizeof(top), 2))
		return -1;
	snprintf(cmd, sizeof(cmd), "cd %s && { build/fragfuzz %s\n} 2>&1", top, args);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	n = fread(out, 1, size - 1, p);
	out[n] = 0;
	status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct cli_case {
	const char *name;
	const char *args;
	int status;
	const char *output;
};

static const struct cli_case cli_cases[] = {
	{ "cli: run --kernel 6.18 E2 reports unsatisfied-read-trace, exit 1",
	  "run --kernel 6.18 corpus/e02-split-read-uneven.txt", 1,
	  "violation: unsatisfied-read-trace" },
	{ "cli: run --kernel 7.1 E2 is ok, exit 0",
	  "run --kernel 7.1 corpus/e02-split-read-uneven.txt", 0, "verdict: ok" },
	{ "cli: run prints the trace in the kernel's format",
	  "run --kernel 6.18 corpus/e02-split-read-uneven.txt", 1,
	  "kvm_mmio: mmio unsatisfied-read len 1 gpa 0x5ffd val 0x0" },
	{ "cli: run --json has trace, exits, outcome, violations",
	  "run --json --kernel 6.18 corpus/e02-split-read-uneven.txt", 1,
	  "\"outcome\":\"retired\",\"rip\"" },
	{ "cli: run on a missing file is bad input, exit 2",
	  "run corpus/does-not-exist.txt", 2, "No such file" },
	{ "cli: run on a bad text scenario names the line, exit 2",
	  "run /dev/stdin <<'EOF'\nmode long64\ninsn zz\nEOF", 2, "line 2:" },
	{ "cli: unknown kernel is a usage error, exit 2",
	  "run --kernel 9.9 corpus/e01-split-read-mmio-mmio.txt", 2, "unknown kernel" },
	{ "cli: unknown version is rejected, exit 2",
	  "run /dev/stdin <<'EOF'\nfz\007\nEOF", 2, "unsupported scenario version" },
	{ "cli: encode then decode gives the canonical text",
	  "encode corpus/e06-enter-split-push.txt | build/fragfuzz decode", 0,
	  "insn c8 00 00 00" },
	{ "cli: stats prints the shares", "stats -n 200", 0, "with an emulated access" },
	{ "cli: unknown command, exit 2", "frobnicate", 2, "unknown command" },
};

static void test_cli(struct test_ctx *t, const void *arg)
{
	const struct cli_case *c = arg;
	static char out[1 << 16];
	int status = run_cli(c->args, out, sizeof(out));

	TEST_ASSERT_EQ(status, c->status, "exit status");
	TEST_ASSERT(strstr(out, c->output), "wanted '%s' in:\n%s", c->output, out);
}

TEST_ROWS(cli_cases, test_cli);

/*
 * Per-case limits (struct run_limits): a rep string stops after max_passes
 * emulator passes or max_exits exits as OUTCOME_BUDGET, with the state of
 * the iterations done so far, also with TF; a jump to itself after
 * max_entries guest entries; the defaults let the cases finish.
 */
TEST(harness_run_limits_stop_rep_strings)
{
	static const struct {
		const char *text;
		struct run_limits lim;
		enum run_outcome outcome;
		u64 rcx;
		unsigned int exits;
	} cases[] = {
		/* rep movsb RAM to RAM: one element per pass, no exit */
		{ "mode long64\ninsn f3 a4\nreg rcx 3000\nreg rsi 0x40000000\n"
		  "reg rdi 0x40001000\nmap 0x40000000 0x1000 ram\nmap 0x40001000 0x2000 ram\n",
		  { RESULT_MAX_EXITS, 1u << 20, RUN_LIMITS_DEFAULT_NS, 0 }, OUTCOME_RETIRED, 0, 0 },
		{ "mode long64\ninsn f3 a4\nreg rcx 3000\nreg rsi 0x40000000\n"
		  "reg rdi 0x40001000\nmap 0x40000000 0x1000 ram\nmap 0x40001000 0x2000 ram\n",
		  { RESULT_MAX_EXITS, 100, RUN_LIMITS_DEFAULT_NS, 0 }, OUTCOME_BUDGET, 2900, 0 },
		/*
		 * ... with TF: the single-step #DB at the first pass end
		 * (RCX & 0x3ff = 0, after 952 iterations), and a pass limit
		 * before it is the limit, not a #DB (the kernel restarts
		 * there without leaving the emulator)
		 */
		{ "mode long64\ninsn f3 a4\nreg rcx 3000\nreg rsi 0x40000000\nreg rflags 0x102\n"
		  "reg rdi 0x40001000\nmap 0x40000000 0x1000 ram\nmap 0x40001000 0x2000 ram\n",
		  { RESULT_MAX_EXITS, 1u << 20, RUN_LIMITS_DEFAULT_NS, 0 }, OUTCOME_EXCEPTION, 2048, 0 },
		{ "mode long64\ninsn f3 a4\nreg rcx 3000\nreg rsi 0x40000000\nreg rflags 0x102\n"
		  "reg rdi 0x40001000\nmap 0x40000000 0x1000 ram\nmap 0x40001000 0x2000 ram\n",
		  { RESULT_MAX_EXITS, 100, RUN_LIMITS_DEFAULT_NS, 0 }, OUTCOME_BUDGET, 2900, 0 },
		/* rep movsb MMIO to RAM: one read exit per element */
		{ "mode long64\ninsn f3 a4\nreg rcx 50\nreg rsi 0x40000000\n"
		  "reg rdi 0x40001000\nmap 0x40000000 0x1000 mmio\nmap 0x40001000 0x2000 ram\n",
		  { RESULT_MAX_EXITS, 1u << 20, RUN_LIMITS_DEFAULT_NS, 0 }, OUTCOME_RETIRED, 0, 50 },
		{ "mode long64\ninsn f3 a4\nreg rcx 50\nreg rsi 0x40000000\n"
		  "reg rdi 0x40001000\nmap 0x40000000 0x1000 mmio\nmap 0x40001000 0x2000 ram\n",
		  { 10, 1u << 20, RUN_LIMITS_DEFAULT_NS, 0 }, OUTCOME_BUDGET, 41, 10 },
	};
	struct model_backend *mb = model_backend_create();
	static struct harness_run hr;
	unsigned int i;

	TEST_ASSERT(mb, "model_backend_create failed");
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		char err[256];

		memset(&hr, 0, sizeof(hr));
		TEST_ASSERT(!scenario_parse_text(&hr.s, cases[i].text, err, sizeof(err)),
			    "case %u: %s", i, err);
		model_backend_set_limits(mb, cases[i].lim);
		TEST_ASSERT(!model_backend_run(mb, &hr.s, kvm_profile_find("7.1"), &hr.r),
			    "case %u: model_backend_run failed", i);
		if (hr.r.outcome != cases[i].outcome || hr.r.regs[VCPU_REGS_RCX] != cases[i].rcx ||
		    hr.r.nr_exits != cases[i].exits) {
			model_backend_destroy(mb);
			TEST_FAIL("case %u: wanted %s, rcx %llu, %u exits; got %s, rcx %llu, %u exits",
				  i, run_outcome_name(cases[i].outcome),
				  (unsigned long long)cases[i].rcx, cases[i].exits,
				  run_outcome_name(hr.r.outcome),
				  (unsigned long long)hr.r.regs[VCPU_REGS_RCX], hr.r.nr_exits);
		}
		oracle_check(&hr.s, kvm_profile_find("7.1"), &hr.r, &hr.r.accesses, &hr.vl);
		TEST_ASSERT(!hr.vl.nr_unknown, "case %u: %s", i, hr.vl.v[0].detail);
	}
	model_backend_destroy(mb);
}

static bool exits_equal(const struct run_result *a, const struct run_result *b)
{
	unsigned int i;

	if (a->nr_exits != b->nr_exits)
		return false;
	for (i = 0; i < a->nr_exits; i++) {
		const struct run_exit *x = &a->exits[i], *y = &b->exits[i];

		if (x->gpa != y->gpa || x->len != y->len || x->write != y->write ||
		    memcmp(x->data, y->data, x->len < 8 ? x->len : 8))
			return false;
	}
	return true;
}

/* The first field where @a and @b differ, or NULL. */
static const char *result_difference(const struct run_result *a, const struct run_result *b)
{
	if (a->outcome != b->outcome)
		return "outcome";
	if (!exits_equal(a, b))
		return "exits";
	if (a->trace.nr != b->trace.nr ||
	    memcmp(a->trace.ev, b->trace.ev, a->trace.nr * sizeof(a->trace.ev[0])))
		return "trace";
	if (a->exception.vector != b->exception.vector ||
	    a->exception.error_code != b->exception.error_code)
		return "exception";
	if (a->rip != b->rip || a->rflags != b->rflags ||
	    memcmp(a->regs, b->regs, sizeof(a->regs)))
		return "registers";
	if (a->accesses.nr != b->accesses.nr ||
	    memcmp(a->accesses.a, b->accesses.a, a->accesses.nr * sizeof(a->accesses.a[0])))
		return "emulator accesses";
	return NULL;
}

/*
 * One model backend serves case after case (the fuzz targets, fragfuzz
 * run): nothing of a case may reach the next.  Every seed on a fresh
 * backend, then all of them through one backend, backwards, on 6.18.
 */
TEST(harness_backend_reuse_is_stateless)
{
	static const char *const names[] = {
		"e01-split-read-mmio-mmio.txt", "e06-enter-split-push.txt",
		"e08-pusha-mmio-into-ram.txt", "e09-rep-movsb-ram-to-mmio.txt",
		"e10-lock-cmpxchg.txt", "d01-ioapic-read-16-at-window-end.txt",
		"d03-coalesced-split-write.txt", "f01-popa-mmio-stack-replay.txt",
		"p01-pf-second-page-write.txt", "r01-real16-split-read.txt",
	};
	static struct harness_run fresh[ARRAY_SIZE(names)], hr;
	const struct kvm_profile *p = kvm_profile_find("6.18");
	struct model_backend *mb;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		TEST_ASSERT(run_file(names[i], "6.18", &fresh[i]), "cannot run %s", names[i]);
	mb = model_backend_create();
	TEST_ASSERT(mb, "model_backend_create failed");
	for (i = ARRAY_SIZE(names); i-- > 0;) {
		hr.s = fresh[i].s;
		const char *diff = model_backend_run(mb, &hr.s, p, &hr.r) ? "set-up" :
				   result_difference(&hr.r, &fresh[i].r);

		if (diff) {
			model_backend_destroy(mb);
			TEST_FAIL("%s after %s: %s differ from a fresh backend's", names[i],
				  i + 1 < ARRAY_SIZE(names) ? names[i + 1] : "nothing", diff);
		}
	}
	model_backend_destroy(mb);
}

/*
 * The CPU's first access of natively run code (emulator/README.md): at
 * 64-bit CPL 3 the model makes a read-modify-write's destination access
 * with write intent, and cmps's ES:rDI access, before KVM's emulator
 * order; at CPL 0 (emulated from the start on kvm_pvm) and for other
 * instructions the emulator's order stands.  Every row was run on
 * 6.18.44 kvm_pvm with `fragfuzz run --backend both` and compared the
 * same.  The oracle, which predicts faults from the layout and the
 * logged access's rights, must find nothing unknown.
 */
struct native_case {
	const char *name;
	const char *scenario;
	const char *exits;	/* "R", "RW", "": directions of the exits in order */
	int error;		/* #PF error code, -1: retired */
	u64 cr2;
	int native;		/* the logged CPU access: 1 write intent, 0 read, -1 none */
};

#define NATIVE_HEAD	"mode long64\ncr0.wp 1\nefer.nxe 1\n"

static const struct native_case native_cases[] = {
	{ "native: add [rdx], al on a read-only MMIO page faults W=1 with no exit",
	  NATIVE_HEAD "cpl 3\ninsn 00 02\nmap 0x40000000 0x20000 mmio ro user\n",
	  "", 0x7, 0x40000ff9, 1 },
	{ "native: not dword on a read-only MMIO page faults W=1 with no exit",
	  NATIVE_HEAD "cpl 3\ninsn f7 17\nreg rdi 0x40001ff0\nmap 0x40001000 0x20000 mmio ro user\n",
	  "", 0x7, 0x40001ff0, 1 },
	{ "native: lock xadd on a read-only MMIO page faults W=1 with no exit",
	  NATIVE_HEAD "cpl 3\ninsn f0 0f c1 07\nreg rdi 0x40001ff0\n"
	  "map 0x40001000 0x20000 mmio ro user\n",
	  "", 0x7, 0x40001ff0, 1 },
	{ "native: a split RMW faults on its read-only first page, not the unmapped second",
	  NATIVE_HEAD "cpl 3\ninsn f7 17\nmap 0x40001000 0xfee00000 lapic ro user nx\n",
	  "", 0x7, 0x40001ffe, 1 },
	{ "native: a split RMW goes through a RAM first page to fault on read-only MMIO",
	  NATIVE_HEAD "cpl 3\ninsn f7 17\nreg rdi 0x40000ffe\nmap 0x40000000 0x30000 ram user\n"
	  "map 0x40001000 0x20000 mmio ro user\n",
	  "", 0x7, 0x40001000, 1 },
	{ "native: an RMW on a writable MMIO page reads, then writes",
	  NATIVE_HEAD "cpl 3\ninsn f7 17\nreg rdi 0x40001ff0\nmap 0x40001000 0x20000 mmio user\n",
	  "RW", -1, 0, -1 },
	{ "native: CPL 0 is emulated from the start: read exit, then the write faults",
	  NATIVE_HEAD "cpl 0\ninsn f7 17\nreg rdi 0x40001ff0\nmap 0x40001000 0x20000 mmio ro\n",
	  "R", 0x3, 0x40001ff0, -1 },
	{ "native: cmpsb faults at an unmapped ES:rDI before reading MMIO at DS:rSI",
	  NATIVE_HEAD "cpl 3\ninsn a6\nreg rsi 0x40001ff0\nreg rdi 0x40005000\n"
	  "map 0x40001000 0x20000 mmio ro user\n",
	  "", 0x4, 0x40005000, 0 },
	{ "native: cmpsb with both operands unmapped faults at rDI",
	  NATIVE_HEAD "cpl 3\ninsn a6\nreg rsi 0x40005000\nreg rdi 0x40007ff0\n",
	  "", 0x4, 0x40007ff0, 0 },
	{ "native: cmps whose rDI first page traps keeps KVM's order (rSI's second page)",
	  NATIVE_HEAD "cpl 3\ninsn 48 a7\nreg rsi 0x40001ffc\nreg rdi 0x40003ffe\n"
	  "map 0x40001000 0x20000 mmio ro user\nmap 0x40003000 0x21000 mmio user\n",
	  "", 0x4, 0x40002000, -1 },
	{ "native: movsb reads MMIO at rSI before the read-only rDI faults",
	  NATIVE_HEAD "cpl 3\ninsn a4\nreg rsi 0x40003000\nreg rdi 0x40001ff0\n"
	  "map 0x40001000 0x20000 mmio ro user\nmap 0x40003000 0x21000 mmio user\n",
	  "R", 0x7, 0x40001ff0, -1 },
};

static void test_native_case(struct test_ctx *t, const void *arg)
{
	static const char *const kernels[] = { "6.18.24", "7.1" };
	const struct native_case *c = arg;
	static struct harness_run hr;
	struct model_backend *mb;
	char err[256], got[RESULT_MAX_EXITS + 1];
	unsigned int k, i;

	for (k = 0; k < ARRAY_SIZE(kernels); k++) {
		const struct kvm_profile *p = kvm_profile_find(kernels[k]);

		memset(&hr, 0, sizeof(hr));
		TEST_ASSERT(!scenario_parse_text(&hr.s, c->scenario, err, sizeof(err)),
			    "scenario: %s", err);
		mb = model_backend_create();
		TEST_ASSERT(mb, "no model backend");
		TEST_ASSERT(!model_backend_run(mb, &hr.s, p, &hr.r), "model set-up");
		model_backend_destroy(mb);
		oracle_check(&hr.s, p, &hr.r, &hr.r.accesses, &hr.vl);

		for (i = 0; i < hr.r.nr_exits && i < RESULT_MAX_EXITS; i++)
			got[i] = hr.r.exits[i].write ? 'W' : 'R';
		got[i] = 0;
		TEST_ASSERT(!strcmp(got, c->exits), "Wanted exits '%s' on %s, got '%s'",
			    c->exits, kernels[k], got);
		if (c->error < 0) {
			TEST_ASSERT(hr.r.outcome == OUTCOME_RETIRED, "Wanted retired on %s, got %s",
				    kernels[k], run_outcome_name(hr.r.outcome));
		} else {
			TEST_ASSERT(hr.r.outcome == OUTCOME_EXCEPTION &&
				    hr.r.exception.vector == PF_VECTOR,
				    "Wanted #PF on %s, got %s vector %u", kernels[k],
				    run_outcome_name(hr.r.outcome), hr.r.exception.vector);
			TEST_ASSERT(hr.r.exception.error_code == (u32)c->error,
				    "Wanted error code 0x%x on %s, got 0x%x", c->error, kernels[k],
				    hr.r.exception.error_code);
			TEST_ASSERT(hr.r.exception.address == c->cr2,
				    "Wanted CR2 0x%llx on %s, got 0x%llx",
				    (unsigned long long)c->cr2, kernels[k],
				    (unsigned long long)hr.r.exception.address);
		}
		for (i = 0; i < hr.r.accesses.nr && !hr.r.accesses.a[i].native; i++)
			;
		TEST_ASSERT((i < hr.r.accesses.nr ? hr.r.accesses.a[i].write : -1) == c->native,
			    "Wanted logged CPU access %d (1 write, 0 read, -1 none) on %s, got %d",
			    c->native, kernels[k],
			    i < hr.r.accesses.nr ? hr.r.accesses.a[i].write : -1);
		for (i = 0; i < hr.vl.nr; i++)
			TEST_ASSERT(hr.vl.v[i].known, "Wanted no unknown violation on %s, got %s: %s",
				    kernels[k], violation_name(hr.vl.v[i].kind), hr.vl.v[i].detail);
	}
}

TEST_ROWS(native_cases, test_native_case);

/*
 * max_entries: a call to itself (`e8 fb ff ff ff`) pushes 8 bytes at each
 * guest entry and never leaves; the model stops after max_entries entries
 * (passes), as OUTCOME_BUDGET (0 is the default, 1024).
 */
static const char call_self[] =
	"mode long64\ninsn e8 fb ff ff ff\nreg rsp 0x40003000\n"
	"map 0x40000000 0x10000 ram\nmap 0x40001000 0x11000 ram\nmap 0x40002000 0x12000 ram\n";

TEST(harness_run_limits_stop_a_call_to_itself)
{
	static const unsigned int entries[] = { 1, 16, 0, 1000 };
	struct model_backend *mb = model_backend_create();
	static struct harness_run hr;
	unsigned int i;

	TEST_ASSERT(mb, "model_backend_create failed");
	for (i = 0; i < ARRAY_SIZE(entries); i++) {
		struct run_limits lim = RUN_LIMITS_DEFAULT;
		unsigned int n = entries[i] ? entries[i] : RUN_LIMITS_DEFAULT_ENTRIES;
		char err[256];
		u64 pushed;

		memset(&hr, 0, sizeof(hr));
		TEST_ASSERT(!scenario_parse_text(&hr.s, call_self, err, sizeof(err)), "%s", err);
		lim.max_entries = entries[i];
		model_backend_set_limits(mb, lim);
		TEST_ASSERT(!model_backend_run(mb, &hr.s, kvm_profile_find("7.1"), &hr.r),
			    "entries %u: model_backend_run failed", entries[i]);
		pushed = 0x40003000 - hr.r.regs[VCPU_REGS_RSP];
		if (hr.r.outcome != OUTCOME_BUDGET || pushed != 8ULL * n) {
			model_backend_destroy(mb);
			TEST_FAIL("entries %u: wanted budget after %u pushes, got %s after %llu bytes",
				  entries[i], n, run_outcome_name(hr.r.outcome),
				  (unsigned long long)pushed);
		}
	}
	model_backend_destroy(mb);
}
