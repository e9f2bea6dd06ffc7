// SPDX-License-Identifier: GPL-2.0-only
/*
 * The real-KVM backend against the model: the corpus cases it can run give
 * the same exits on /dev/kvm as the model with this host's profile
 * (6.18.24), and the kernel's own trace of E2 shows the 6.18 split-read
 * trace bug through the oracle.  The backend reuses one VM from case to
 * case: running the corpus in two orders, and after cases that end
 * uncleanly, gives the same results.  Skips with one line without /dev/kvm.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "fidelity.h"
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
	TEST_ASSERT_EQ(fidelity_check(p, &s, &rm, &rk, true, &fid), 0,
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

/* ---- one VM for many cases: no state leaks from case to case ---- */

#define MAX_CORPUS	512

struct corpus_set {
	char names[MAX_CORPUS][96];
	struct scenario s[MAX_CORPUS];
	unsigned int nr;
};

static int cmp_names(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Every corpus/ *.txt that parses, sorted by name. */
static bool load_all_corpus(struct corpus_set *cs)
{
	char path[PATH_MAX + 16], top[PATH_MAX];
	struct dirent *e;
	unsigned int i;
	DIR *d;

	cs->nr = 0;
	if (!top_dir(top, sizeof(top)))
		return false;
	snprintf(path, sizeof(path), "%s/corpus", top);
	d = opendir(path);
	if (!d)
		return false;
	while ((e = readdir(d)) && cs->nr < MAX_CORPUS) {
		size_t n = strlen(e->d_name);

		if (n < 5 || n >= sizeof(cs->names[0]) || strcmp(e->d_name + n - 4, ".txt"))
			continue;
		memcpy(cs->names[cs->nr++], e->d_name, n + 1);
	}
	closedir(d);
	qsort(cs->names, cs->nr, sizeof(cs->names[0]), cmp_names);
	for (i = 0; i < cs->nr; i++)
		if (!load_corpus(cs->names[i], &cs->s[i]))
			cs->s[i].insn_len = 0;	/* marks a file that does not parse */
	return cs->nr > 0;
}

static void hash_bytes(u64 *h, const void *p, size_t n)
{
	const u8 *b = p;

	while (n--)
		*h = (*h ^ *b++) * 0x100000001b3ULL;
}

static void hash_u64(u64 *h, u64 v)
{
	hash_bytes(h, &v, sizeof(v));
}

/* Everything the kernel showed of one case, as one number. */
static u64 result_digest(int ret, const struct run_result *r, bool traced)
{
	u64 h = 0xcbf29ce484222325ULL;
	unsigned int i;

	hash_u64(&h, (u64)ret);
	hash_u64(&h, r->outcome);
	hash_u64(&h, r->exception.vector);
	hash_u64(&h, r->exception.error_code);
	hash_u64(&h, r->exception.address);
	hash_u64(&h, r->nr_exits);
	hash_u64(&h, r->exits_lost);
	for (i = 0; i < r->nr_exits; i++) {
		hash_u64(&h, r->exits[i].gpa);
		hash_u64(&h, r->exits[i].len);
		hash_u64(&h, r->exits[i].write);
		hash_bytes(&h, r->exits[i].data, r->exits[i].len < 8 ? r->exits[i].len : 8);
	}
	for (i = 0; traced && i < r->trace.nr; i++) {
		hash_u64(&h, r->trace.ev[i].type);
		hash_u64(&h, r->trace.ev[i].len);
		hash_u64(&h, r->trace.ev[i].gpa);
		hash_u64(&h, r->trace.ev[i].val);
	}
	for (i = 0; i < NR_VCPU_REGS; i++)
		hash_u64(&h, r->regs[i]);
	hash_u64(&h, r->rip);
	hash_u64(&h, r->rflags);
	return h;
}

/*
 * The whole corpus on one backend in name order, then in reverse order and
 * then interleaved (stride 7): every case gives the same result each time.
 */
TEST(kvm_backend_reused_vm_is_order_independent)
{
	static struct corpus_set cs;
	static u64 first[MAX_CORPUS];
	static struct run_result rk;
	unsigned int pass, k, i, ran = 0, stride;
	struct kvm_backend *kb;
	char err[256], msg[256] = "";
	bool traced;

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	TEST_ASSERT(load_all_corpus(&cs), "cannot read corpus/");
	kb = kvm_backend_create(err, sizeof(err));
	TEST_ASSERT(kb, "kvm backend: %s", err);
	traced = kvm_backend_traced(kb);
	stride = cs.nr % 7 ? 7 : 11;
	for (pass = 0; pass < 3 && !msg[0]; pass++) {
		for (k = 0; k < cs.nr && !msg[0]; k++) {
			u64 d;
			int r;

			i = pass == 0 ? k : pass == 1 ? cs.nr - 1 - k : (k * stride) % cs.nr;
			if (!cs.s[i].insn_len)
				continue;
			r = kvm_backend_run(kb, &cs.s[i], &rk);
			if (r && r != -EOPNOTSUPP)
				snprintf(msg, sizeof(msg), "%s: kvm run: %s (%s)", cs.names[i],
					 strerror(-r), kvm_backend_why(kb));
			d = result_digest(r, &rk, traced);
			ran += pass == 0 && !r;
			if (pass == 0)
				first[i] = d;
			else if (d != first[i] && !msg[0])
				snprintf(msg, sizeof(msg), "%s: pass %u (%s) differs from the first",
					 cs.names[i], pass + 1, pass == 1 ? "reverse" : "stride");
		}
	}
	kvm_backend_destroy(kb);
	TEST_ASSERT(!msg[0], "%s", msg);
	TEST_ASSERT(ran >= 10, "only %u corpus cases ran on kvm", ran);
}

/*
 * A case that ends on the exit budget (a long rep movsb into MMIO) leaves
 * an MMIO exchange half done: the next case still gets a clean vCPU (a
 * new VM) and the result a fresh backend gives.
 */
TEST(kvm_backend_budget_case_does_not_poison_the_next)
{
	static const char *const runaway =
		"mode long64\ninsn f3 a4\nreg rcx 0x800\nreg rsi 0x40000000\n"
		"reg rdi 0x40001000\nmap 0x40000000 0x1000 mmio\nmap 0x40001000 0x2000 mmio\n";
	static struct run_result ra, rb;
	struct kvm_backend *kb;
	struct scenario sa, sb;
	unsigned long vms;
	char err[256];
	int r;

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	TEST_ASSERT(!scenario_parse_text(&sa, runaway, err, sizeof(err)), "scenario: %s", err);
	TEST_ASSERT(load_corpus("e01-split-read-mmio-mmio.txt", &sb), "cannot load E1");

	kb = kvm_backend_create(err, sizeof(err));
	TEST_ASSERT(kb, "kvm backend: %s", err);
	r = kvm_backend_run(kb, &sb, &rb);
	TEST_ASSERT(!r, "E1 on a fresh backend: %s", strerror(-r));
	r = kvm_backend_run(kb, &sa, &ra);
	TEST_ASSERT(!r, "runaway case: %s", strerror(-r));
	TEST_ASSERT_EQ(ra.outcome, OUTCOME_BUDGET, "runaway outcome");
	TEST_ASSERT(ra.exits_lost, "runaway case: exits not marked lost");
	vms = kvm_backend_vm_creates(kb);
	r = kvm_backend_run(kb, &sb, &ra);
	TEST_ASSERT(!r, "E1 after the runaway case: %s", strerror(-r));
	TEST_ASSERT_EQ(kvm_backend_vm_creates(kb), vms + 1, "VMs made after the budget case");
	r = kvm_backend_run(kb, &sb, &ra);
	TEST_ASSERT(!r, "E1 again: %s", strerror(-r));
	TEST_ASSERT_EQ(kvm_backend_vm_creates(kb), vms + 1, "VMs made after a clean case");
	kvm_backend_destroy(kb);
	TEST_ASSERT_EQ(result_digest(0, &ra, true), result_digest(0, &rb, true),
		       "E1 after the runaway case, against E1 first");
}

/*
 * The guest runs the first instruction only, as the model does: bytes
 * after it are not run, and bytes that are no whole instruction (the guest
 * would complete them with the sentinel) are refused.
 */
TEST(kvm_backend_runs_one_whole_instruction)
{
	static const char *const two =
		"mode long64\ninsn 8b 07 8b 07\nreg rdi 0x40000000\nmap 0x40000000 0x1000 mmio\n";
	static const char *const cut =
		"mode long64\ninsn 8b 04\nreg rdi 0x40000000\nmap 0x40000000 0x1000 mmio\n";
	static struct run_result rk;
	struct kvm_backend *kb;
	struct scenario s2, sc;
	char err[256];
	int r, rc;

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	TEST_ASSERT(!scenario_parse_text(&s2, two, err, sizeof(err)), "scenario: %s", err);
	TEST_ASSERT(!scenario_parse_text(&sc, cut, err, sizeof(err)), "scenario: %s", err);
	kb = kvm_backend_create(err, sizeof(err));
	TEST_ASSERT(kb, "kvm backend: %s", err);
	rc = kvm_backend_run(kb, &sc, &rk);
	r = kvm_backend_run(kb, &s2, &rk);
	kvm_backend_destroy(kb);
	TEST_ASSERT_EQ(rc, -EOPNOTSUPP, "truncated instruction");
	TEST_ASSERT(!r, "kvm run: %s", strerror(-r));
	TEST_ASSERT_EQ(rk.outcome, OUTCOME_RETIRED, "outcome");
	TEST_ASSERT_EQ(rk.nr_exits, 1, "exits");
	TEST_ASSERT_EQ(rk.rip, SCN_CODE_GPA + 2, "final rip");
}

/* A guest that never halts (jmp to itself) is stopped by the time limit. */
TEST(kvm_backend_endless_loop_is_stopped)
{
	static struct run_result rk;
	struct kvm_backend *kb;
	struct scenario s, e1;
	char err[256];
	int r;

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	TEST_ASSERT(!scenario_parse_text(&s, "mode long64\ninsn eb fe\n", err, sizeof(err)),
		    "scenario: %s", err);
	TEST_ASSERT(load_corpus("e01-split-read-mmio-mmio.txt", &e1), "cannot load E1");
	kb = kvm_backend_create(err, sizeof(err));
	TEST_ASSERT(kb, "kvm backend: %s", err);
	r = kvm_backend_run(kb, &s, &rk);
	TEST_ASSERT(!r, "kvm run: %s", strerror(-r));
	TEST_ASSERT_EQ(rk.outcome, OUTCOME_BUDGET, "outcome of eb fe");
	r = kvm_backend_run(kb, &e1, &rk);
	kvm_backend_destroy(kb);
	TEST_ASSERT(!r, "E1 after the loop: %s", strerror(-r));
	TEST_ASSERT_EQ(rk.outcome, OUTCOME_RETIRED, "E1 outcome");
	TEST_ASSERT_EQ(rk.nr_exits, 2, "E1 exits");
}

/* ==== in-kernel device frames (kvm_devices.c) ==== */

#include "kvm/kvm_devices.h"

static const char *const dev_corpus[] = {
	"d01-ioapic-read-16-at-window-end.txt", "d02-lapic-read.txt",
	"d03-coalesced-split-write.txt", "d04-ioeventfd-split-write.txt",
	"d06-lapic-reset-dfr.txt", "d07-lapic-read-crossing-dword.txt",
	"d08-ioapic-split-read-3.txt", "d09-ioapic-rte-masked.txt",
	"d10-coalesced-sse-store.txt", "d11-ioeventfd-any-length.txt",
	"d12-lapic-irqchip-off.txt", "d13-lapic-write-qword.txt",
	"e07-sse-store-ioeventfd.txt", "o01-cmps-lapic-phantom-read.txt",
};

struct dev_ctx {
	struct kvm_backend *kb;
	struct model_backend *mb;
	const struct kvm_profile *p;
	bool traced;
	struct run_result rm, rk;
	struct scenario s;	/* the last case run */
	char msg[512];
};

static struct dev_ctx *dev_open(void)
{
	static struct dev_ctx d;
	char err[256];

	memset(&d, 0, offsetof(struct dev_ctx, rm));
	d.msg[0] = 0;
	d.p = kvm_profile_find(KVM_BACKEND_HOST_PROFILE);
	d.kb = kvm_backend_create(err, sizeof(err));
	d.mb = model_backend_create();
	if (!d.kb || !d.mb || !d.p) {
		kvm_backend_destroy(d.kb);
		model_backend_destroy(d.mb);
		return NULL;
	}
	d.traced = kvm_backend_traced(d.kb);
	return &d;
}

static void dev_close(struct dev_ctx *d)
{
	kvm_backend_destroy(d->kb);
	model_backend_destroy(d->mb);
}

/*
 * @text (a scenario) or corpus/@name on the kernel (and the model when
 * @model): false with d->msg set if it could not be run.
 */
static bool dev_run(struct dev_ctx *d, const char *name, const char *text, bool model)
{
	struct scenario *s = &d->s;
	char err[256];
	int r;

	if (text ? scenario_parse_text(s, text, err, sizeof(err)) : !load_corpus(name, s)) {
		snprintf(d->msg, sizeof(d->msg), "%s: cannot load", name);
		return false;
	}
	if (model && model_backend_run(d->mb, s, d->p, &d->rm)) {
		snprintf(d->msg, sizeof(d->msg), "%s: model run failed", name);
		return false;
	}
	r = kvm_backend_run(d->kb, s, &d->rk);
	if (r) {
		snprintf(d->msg, sizeof(d->msg), "%s: kvm run: %s (%s)", name, strerror(-r),
			 kvm_backend_why(d->kb));
		return false;
	}
	return true;
}

static u32 dev_le32(const u8 *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (u32)p[3] << 24;
}

static bool dev_exit_is(const struct run_result *r, unsigned int i, u64 gpa, u32 len, bool write)
{
	return i < r->nr_exits && r->exits[i].gpa == gpa && r->exits[i].len == len &&
	       r->exits[i].write == write;
}

/* Every device case of the corpus: exits, trace, outcome and RIP as the model's. */
TEST(kvm_devices_corpus_matches_the_model)
{
	struct violation_list vl;
	struct dev_ctx *d;
	unsigned int i, n;

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	d = dev_open();
	TEST_ASSERT(d, "cannot set up the kvm and model backends");
	for (i = 0; i < ARRAY_SIZE(dev_corpus) && !d->msg[0]; i++) {
		if (!dev_run(d, dev_corpus[i], NULL, true))
			break;
		memset(&vl, 0, sizeof(vl));
		n = fidelity_check(d->p, &d->s, &d->rm, &d->rk, d->traced, &vl);
		if (n)
			snprintf(d->msg, sizeof(d->msg), "%s: wanted model == kernel, got %u "
				 "differences: %s", dev_corpus[i], n, vl.v[0].detail);
	}
	dev_close(d);
	TEST_ASSERT(!d->msg[0], "%s", d->msg);
}

/*
 * Coalesced zone (spec 3.3): the piece in the zone is one ring entry, the
 * piece on the MMIO page exits.  A full ring (KVM_COALESCED_MMIO_MAX - 1
 * entries) sends the next chunk to userspace; the exit empties the ring.
 */
TEST(kvm_devices_coalesced_ring)
{
	static const char *const full =
		"mode long64\ninsn f3 aa\nreg rcx 200\nreg rax 0x5a\nreg rdi 0x40000000\n"
		"map 0x40000000 0x5000 coalesced\n";
	const struct kvm_devices_log *log;
	struct kvm_devices_ring_entry e;
	struct dev_ctx *d;
	struct scenario s;
	u64 rax;
	unsigned int i;
	bool ok;

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	TEST_ASSERT(load_corpus("d03-coalesced-split-write.txt", &s), "cannot load d03");
	rax = scenario_reg(&s, VCPU_REGS_RAX);
	d = dev_open();
	TEST_ASSERT(d, "cannot set up the kvm and model backends");
	ok = dev_run(d, "d03-coalesced-split-write.txt", NULL, false);
	log = kvm_backend_devices_log(d->kb);
	e = log->ring[0];
	TEST_ASSERT(ok, "%s", d->msg);
	TEST_ASSERT_EQ(d->rk.outcome, OUTCOME_RETIRED, "d03 outcome");
	TEST_ASSERT_EQ(d->rk.nr_exits, 1, "d03 exits");
	TEST_ASSERT(dev_exit_is(&d->rk, 0, 0x6000, 4, true), "d03: wanted exit W 0x6000/4");
	TEST_ASSERT_EQ(dev_le32(d->rk.exits[0].data), rax >> 32, "d03 exit data");
	TEST_ASSERT_EQ(log->nr_ring, 1, "d03 ring entries");
	TEST_ASSERT_EQ(e.gpa, 0x5ffc, "d03 ring entry gpa");
	TEST_ASSERT_EQ(e.len, 4, "d03 ring entry len");
	TEST_ASSERT_EQ(dev_le32(e.data), (u32)rax, "d03 ring entry data");

	ok = dev_run(d, "ring-full", full, false);
	TEST_ASSERT(ok, "%s", d->msg);
	TEST_ASSERT_EQ(d->rk.outcome, OUTCOME_RETIRED, "ring-full outcome");
	TEST_ASSERT_EQ(d->rk.nr_exits, 1, "ring-full exits");
	TEST_ASSERT(dev_exit_is(&d->rk, 0, 0x5000 + 169, 1, true),
		    "ring-full: wanted the 170th byte to exit, got 0x%llx/%u",
		    (unsigned long long)d->rk.exits[0].gpa, d->rk.exits[0].len);
	TEST_ASSERT_EQ(log->nr_ring, 199, "ring-full ring entries");
	for (i = 0; i < log->nr_ring; i++) {
		u64 want = 0x5000 + i + (i >= 169);

		TEST_ASSERT(log->ring[i].gpa == want && log->ring[i].len == 1 &&
			    log->ring[i].data[0] == 0x5a,
			    "ring entry %u: wanted 0x%llx/1 5a, got 0x%llx/%u %02x", i,
			    (unsigned long long)want, (unsigned long long)log->ring[i].gpa,
			    log->ring[i].len, log->ring[i].data[0]);
	}
	dev_close(d);
}

/*
 * ioeventfd (spec 3.3, E7): exact (addr, len) or any length for len 0;
 * the first chunk nobody takes sends the rest of the piece to userspace.
 */
TEST(kvm_devices_ioeventfd_split_writes)
{
	static const struct {
		const char *name, *text;
		unsigned int exits;
		u64 gpa0;
		u32 len0;
		u64 signals;
	} rows[] = {
		{ "d04-ioeventfd-split-write.txt", NULL, 1, 0x5ffe, 2, 1 },
		{ "len-mismatch", "mode long64\ninsn 89 07\nreg rdi 0x40000ffe\n"
		  "map 0x40000000 0x5000 mmio\nmap 0x40001000 0x6000 ioeventfd ev=0x0:4\n",
		  2, 0x5ffe, 2, 0 },
		{ "e07-sse-store-ioeventfd.txt", NULL, 1, 0x3008, 8, 1 },
		{ "e07-reverse", "mode long64\ncr4.osfxsr 1\ninsn f3 0f 7f 07\n"
		  "reg rdi 0x40000000\nmap 0x40000000 0x3000 ioeventfd ev=0x8:8\n",
		  2, 0x3000, 8, 0 },
		{ "d11-ioeventfd-any-length.txt", NULL, 0, 0, 0, 1 },
	};
	struct dev_ctx *d;
	unsigned int i;

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	d = dev_open();
	TEST_ASSERT(d, "cannot set up the kvm and model backends");
	for (i = 0; i < ARRAY_SIZE(rows) && !d->msg[0]; i++) {
		const struct run_result *r = &d->rk;
		u64 sig;

		if (!dev_run(d, rows[i].name, rows[i].text, false))
			break;
		sig = kvm_backend_devices_log(d->kb)->ioeventfd_signals;
		if (r->outcome != OUTCOME_RETIRED || r->nr_exits != rows[i].exits ||
		    (rows[i].exits && !dev_exit_is(r, 0, rows[i].gpa0, rows[i].len0, true)) ||
		    sig != rows[i].signals)
			snprintf(d->msg, sizeof(d->msg),
				 "%s: wanted retired, %u exits (first W 0x%llx/%u), %llu signals; "
				 "got %s, %u exits (first 0x%llx/%u), %llu signals", rows[i].name,
				 rows[i].exits, (unsigned long long)rows[i].gpa0, rows[i].len0,
				 (unsigned long long)rows[i].signals, run_outcome_name(r->outcome),
				 r->nr_exits, (unsigned long long)(r->nr_exits ? r->exits[0].gpa : 0),
				 r->nr_exits ? r->exits[0].len : 0, (unsigned long long)sig);
	}
	dev_close(d);
	TEST_ASSERT(!d->msg[0], "%s", d->msg);
}

/* Index of the first trace event (type, len, gpa), or -1. */
static int dev_find_event(const struct run_result *r, int type, u32 len, u64 gpa)
{
	unsigned int i;

	for (i = 0; i < r->trace.nr; i++)
		if (r->trace.ev[i].type == type && r->trace.ev[i].len == len &&
		    r->trace.ev[i].gpa == gpa)
			return (int)i;
	return -1;
}

/*
 * Split reads over the IOAPIC window and the APIC page: the in-kernel
 * chunks are traced (T1) and do not exit, the rest exits.
 */
TEST(kvm_devices_split_reads_ioapic_lapic)
{
	static const char *const lapic_split =
		"mode long64\ninsn 48 8b 07\nreg rdi 0x40000ffc\nmap 0x40000000 0x5000 mmio\n"
		"map 0x40001000 0xfee00000 lapic\nmmio-data 11 22 33 44\n";
	struct dev_ctx *d;
	int ev;

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	d = dev_open();
	TEST_ASSERT(d, "cannot set up the kvm and model backends");

	/* 16 bytes at the window's last 8: chunk 1 in the kernel, chunk 2 exits */
	TEST_ASSERT(dev_run(d, "d01-ioapic-read-16-at-window-end.txt", NULL, false), "%s",
		    d->msg);
	TEST_ASSERT_EQ(d->rk.outcome, OUTCOME_RETIRED, "d01 outcome");
	TEST_ASSERT_EQ(d->rk.nr_exits, 1, "d01 exits");
	TEST_ASSERT(dev_exit_is(&d->rk, 0, 0xfec00100, 8, false), "d01: wanted exit R 0xfec00100/8");
	ev = dev_find_event(&d->rk, KVM_TRACE_MMIO_READ, 8, 0xfec000f8);
	TEST_ASSERT(!d->traced || ev >= 0, "d01: no T1 'read len 8 gpa 0xfec000f8'");

	/* 1 + 3 over MMIO|IOAPIC: the 3-byte IOAPIC piece is handled */
	TEST_ASSERT(dev_run(d, "d08-ioapic-split-read-3.txt", NULL, false), "%s", d->msg);
	TEST_ASSERT_EQ(d->rk.nr_exits, 1, "d08 exits");
	TEST_ASSERT(dev_exit_is(&d->rk, 0, 0x5fff, 1, false), "d08: wanted exit R 0x5fff/1");
	TEST_ASSERT_EQ(d->rk.regs[VCPU_REGS_RAX], 0x11, "d08 EAX (nothing from the IOAPIC)");

	/* 4 + 4 over MMIO|LAPIC: APIC offset 0 is handled and reads nothing */
	TEST_ASSERT(dev_run(d, "lapic-split", lapic_split, false), "%s", d->msg);
	TEST_ASSERT_EQ(d->rk.outcome, OUTCOME_RETIRED, "lapic-split outcome");
	TEST_ASSERT_EQ(d->rk.nr_exits, 1, "lapic-split exits");
	TEST_ASSERT(dev_exit_is(&d->rk, 0, 0x5ffc, 4, false), "lapic-split: wanted exit R 0x5ffc/4");
	TEST_ASSERT_EQ(d->rk.regs[VCPU_REGS_RAX], 0x44332211, "lapic-split RAX");
	ev = dev_find_event(&d->rk, KVM_TRACE_MMIO_READ, 4, 0xfee00000);
	TEST_ASSERT(!d->traced || ev >= 0, "lapic-split: no T1 'read len 4 gpa 0xfee00000'");

	/* RTE 0 read through IOREGSEL/IOWIN: masked at reset */
	TEST_ASSERT(dev_run(d, "d09-ioapic-rte-masked.txt", NULL, false), "%s", d->msg);
	TEST_ASSERT_EQ(d->rk.nr_exits, 61, "d09 exits");
	TEST_ASSERT(dev_exit_is(&d->rk, 60, 0xfebfff10, 4, true), "d09: wanted exit 60 W 0xfebfff10/4");
	TEST_ASSERT_EQ(dev_le32(d->rk.exits[60].data), 0x10000, "d09 RTE 0 low");
	dev_close(d);
}

/*
 * The irqchip setting is per VM: a change makes a new VM, the same
 * setting keeps it.  Without an irqchip the APIC page is userspace MMIO.
 */
TEST(kvm_devices_irqchip_switch)
{
	static const char *const ymm =
		"mode long64\ninsn c5 fe 6f 07\nreg rdi 0x40000000\nmap 0x40000000 0x5000 mmio\n";
	struct dev_ctx *d;
	unsigned long vms;

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	d = dev_open();
	TEST_ASSERT(d, "cannot set up the kvm and model backends");
	TEST_ASSERT(dev_run(d, "d02-lapic-read.txt", NULL, false), "%s", d->msg);
	TEST_ASSERT_EQ(d->rk.nr_exits, 0, "d02 exits (irqchip on)");
	TEST_ASSERT_EQ(d->rk.regs[VCPU_REGS_RAX], 0x50014, "d02 EAX (LAPIC version)");
	vms = kvm_backend_vm_creates(d->kb);
	TEST_ASSERT(dev_run(d, "d12-lapic-irqchip-off.txt", NULL, false), "%s", d->msg);
	TEST_ASSERT_EQ(kvm_backend_vm_creates(d->kb), vms + 1, "VMs after irqchip on -> off");
	TEST_ASSERT_EQ(d->rk.nr_exits, 1, "d12 exits (irqchip off)");
	TEST_ASSERT(dev_exit_is(&d->rk, 0, 0xfee00030, 4, false), "d12: wanted exit R 0xfee00030/4");
	TEST_ASSERT(dev_run(d, "d12-lapic-irqchip-off.txt", NULL, false), "%s", d->msg);
	TEST_ASSERT_EQ(kvm_backend_vm_creates(d->kb), vms + 1, "VMs after off -> off");
	TEST_ASSERT(dev_run(d, "d02-lapic-read.txt", NULL, false), "%s", d->msg);
	TEST_ASSERT_EQ(kvm_backend_vm_creates(d->kb), vms + 2, "VMs after off -> on");
	TEST_ASSERT_EQ(d->rk.nr_exits, 0, "d02 exits after the switch back");
	/* a case that leaves the VM stale (emulation failure), then irqchip off */
	TEST_ASSERT(dev_run(d, "ymm", ymm, false), "%s", d->msg);
	TEST_ASSERT_EQ(d->rk.outcome, OUTCOME_EMULATION_FAILURE, "vmovdqu ymm outcome");
	TEST_ASSERT(dev_run(d, "d12-lapic-irqchip-off.txt", NULL, false), "%s", d->msg);
	TEST_ASSERT_EQ(d->rk.nr_exits, 1, "d12 exits after a stale case with irqchip on");
	dev_close(d);
}

/*
 * Nothing of a case's device state reaches the next case: an LDR or
 * IOREGSEL written by one case reads as reset in the next, and bytes an
 * earlier case read do not show through reads the LAPIC leaves untouched.
 */
TEST(kvm_devices_no_state_between_cases)
{
	/* the LDR: the TPR is CR8, which the registers of each case set anyway */
	static const char *const w_ldr =
		"mode long64\ninsn 89 07\nreg rdi 0x400000d0\nreg rax 0x3000000\n"
		"map 0x40000000 0xfee00000 lapic\n";
	static const char *const r_ldr =
		"mode long64\ninsn 87 07\nreg rdi 0x400000d0\nreg rax 0x5000000\n"
		"map 0x40000000 0xfee00000 lapic\n";
	static const char *const w_sel =
		"mode long64\ninsn 89 07\nreg rdi 0x40000000\nreg rax 0x10\n"
		"map 0x40000000 0xfec00000 ioapic\n";
	static const char *const r_sel =
		"mode long64\ninsn 8b 07\nreg rdi 0x40000000\nreg rax 0x1111\n"
		"map 0x40000000 0xfec00000 ioapic\n";
	static const char *const mmio_read =
		"mode long64\ninsn 48 8b 07\nreg rdi 0x40000000\nmap 0x40000000 0x5000 mmio\n"
		"mmio-data 11 22 33 44 55 66 77 88\n";
	static const char *const r_rsvd =
		"mode long64\ninsn 48 8b 07\nreg rdi 0x40000000\nreg rax 0x1111\n"
		"map 0x40000000 0xfee00000 lapic\n";
	struct dev_ctx *d;
	int ev;

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	d = dev_open();
	TEST_ASSERT(d, "cannot set up the kvm and model backends");
	TEST_ASSERT(dev_run(d, "w_ldr", w_ldr, false), "%s", d->msg);
	TEST_ASSERT_EQ(d->rk.nr_exits, 0, "LDR write exits");
	/* xchg: reads the LDR, then writes 0x5000000 */
	TEST_ASSERT(dev_run(d, "r_ldr", r_ldr, false), "%s", d->msg);
	TEST_ASSERT_EQ(d->rk.regs[VCPU_REGS_RAX], 0, "LDR in the next case");
	TEST_ASSERT(dev_run(d, "r_ldr", r_ldr, false), "%s", d->msg);
	TEST_ASSERT_EQ(d->rk.regs[VCPU_REGS_RAX], 0, "LDR after an xchg in the case before");
	TEST_ASSERT(dev_run(d, "w_sel", w_sel, false), "%s", d->msg);
	TEST_ASSERT(dev_run(d, "r_sel", r_sel, false), "%s", d->msg);
	TEST_ASSERT_EQ(d->rk.regs[VCPU_REGS_RAX], 0, "IOREGSEL in the next case");
	TEST_ASSERT(dev_run(d, "mmio_read", mmio_read, false), "%s", d->msg);
	TEST_ASSERT_EQ(d->rk.regs[VCPU_REGS_RAX], 0x8877665544332211ULL, "MMIO read RAX");
	TEST_ASSERT(dev_run(d, "r_rsvd", r_rsvd, false), "%s", d->msg);
	TEST_ASSERT_EQ(d->rk.regs[VCPU_REGS_RAX], 0, "8-byte LAPIC read after an MMIO read");
	ev = dev_find_event(&d->rk, KVM_TRACE_MMIO_READ, 8, 0xfee00000);
	TEST_ASSERT(!d->traced || (ev >= 0 && d->rk.trace.ev[ev].val == 0),
		    "8-byte LAPIC read: wanted a T1 trace with val 0");
	dev_close(d);
}

/*
 * The host's split-lock detection cannot be switched per VM: exactly one
 * of the two settings runs, the other is refused and says why.
 */
TEST(kvm_devices_split_lock_setting)
{
	static const char *const base = "mode long64\ninsn 8b 07\nreg rdi 0x40000000\n"
					"map 0x40000000 0x5000 mmio\n";
	static struct run_result rk;
	char text[256], err[256];
	struct kvm_backend *kb;
	struct scenario s;
	int r[2], i;

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	kb = kvm_backend_create(err, sizeof(err));
	TEST_ASSERT(kb, "kvm backend: %s", err);
	for (i = 0; i < 2; i++) {
		snprintf(text, sizeof(text), "split-lock %s\n%s", i ? "on" : "off", base);
		if (scenario_parse_text(&s, text, err, sizeof(err)))
			break;
		r[i] = kvm_backend_run(kb, &s, &rk);
		if (r[i] == -EOPNOTSUPP && !strstr(kvm_backend_why(kb), "split-lock"))
			r[i] = -EINVAL;
	}
	kvm_backend_destroy(kb);
	TEST_ASSERT_EQ(i, 2, "scenarios parse");
	TEST_ASSERT((!r[0] && r[1] == -EOPNOTSUPP) || (r[0] == -EOPNOTSUPP && !r[1]),
		    "wanted one setting run, the other refused for split-lock; got off %d, on %d",
		    r[0], r[1]);
}
