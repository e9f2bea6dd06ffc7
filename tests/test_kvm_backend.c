// SPDX-License-Identifier: GPL-2.0-only
/*
 * The real-KVM backend against the model: the corpus cases it can run give
 * the same exits on /dev/kvm as the model with this host's profile
 * (6.18.24), and the kernel's own trace of E2 shows the 6.18 split-read
 * trace bug through the oracle.  Every mode and CPL runs an access split
 * over MMIO pages with the exits, outcome and RIP the spec gives; a taken
 * branch stops at its target; port I/O is answered.  The backend reuses
 * one VM from case to case: running the corpus in two orders, and after
 * cases that end uncleanly, gives the same results, and a remapped page is
 * never seen through a stale translation.  With the in-kernel device
 * frames and the irqchip on, every mode and CPL gives the model's results,
 * single-stepped and stopped at the sentinel alike, without blocking in the
 * kernel; the instruction's own OUT to the sentinel's port is its own.
 * Skips with one line without /dev/kvm.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "fidelity.h"
#include "kvm/backend_kvm.h"
#include "oracle.h"
#include "test.h"
#include "test_common.h"

static bool kvm_usable(void)
{
	char why[128];

	return kvm_backend_available(why, sizeof(why));
}

static const char *const exit_cases[] = {
	"e01-split-read-mmio-mmio.txt",
	"e02-split-read-uneven.txt",
	"e05-split-write.txt",
	"e06-enter-split-push.txt",
	"e08-pusha-mmio-into-ram.txt",		/* prot32 */
	"e09-rep-movsb-ram-to-mmio.txt",
};

/* Run @s on the model into @rm and on @kb into @rk; false with why in @msg. */
static bool run_both(struct model_backend *mb, struct kvm_backend *kb,
		     const struct kvm_profile *p, const char *name, const struct scenario *s,
		     struct run_result *rm, struct run_result *rk, char *msg, size_t size)
{
	int r;

	if (model_backend_run(mb, s, p, rm)) {
		snprintf(msg, size, "%s: model run failed", name);
		return false;
	}
	r = kvm_backend_run(kb, s, rk);
	if (r) {
		snprintf(msg, size, "%s: kvm run: %s (%s)", name, strerror(-r),
			 kvm_backend_why(kb));
		return false;
	}
	return true;
}

/* Compare one corpus case; "" or what differs in @msg. */
static void compare_case(struct model_backend *mb, struct kvm_backend *kb,
			 const struct kvm_profile *p, const char *name, char *msg, size_t size)
{
	static struct run_result rm, rk;
	struct scenario s;
	unsigned int i;

	msg[0] = 0;
	if (!load_corpus(name, &s)) {
		snprintf(msg, size, "cannot load corpus/%s", name);
		return;
	}
	if (!run_both(mb, kb, p, name, &s, &rm, &rk, msg, size))
		return;
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

/* Cases this version does not run are refused, not half run. */
TEST(kvm_backend_unsupported_case_is_not_run)
{
	static struct run_result rk;
	struct kvm_backend *kb;
	struct scenario s;
	char err[256];
	int r;

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	/* the sentinel would wrap to IP 0 */
	TEST_ASSERT(!scenario_parse_text(&s, "mode real16\ninsn 8b 07\nreg rip 0xfffe\n", err,
					 sizeof(err)), "scenario: %s", err);
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

/* ---- modes and CPLs, each with an access split over MMIO pages ---- */

/* Run @text on a fresh backend into @r; 0 or -errno, with a reason in @msg. */
static int run_text(const char *text, struct run_result *r, bool *traced, char *msg,
		    size_t size)
{
	struct kvm_backend *kb;
	struct scenario s;
	int ret;

	msg[0] = 0;
	if (scenario_parse_text(&s, text, msg, size))
		return -EINVAL;
	kb = kvm_backend_create(msg, size);
	if (!kb)
		return -ENODEV;
	ret = kvm_backend_run(kb, &s, r);
	if (ret)
		snprintf(msg, size, "kvm run: %s (%s)", strerror(-ret), kvm_backend_why(kb));
	if (traced)
		*traced = kvm_backend_traced(kb);
	kvm_backend_destroy(kb);
	return ret;
}

/*
 * "" if exit @i of @r is @write @gpa/@len with @data ("11 22 ...", reads:
 * what was answered), or with NULL the default answer of each GPA.
 */
static void check_exit(const struct run_result *r, unsigned int i, bool write, u64 gpa,
		       u32 len, const char *data, char *msg, size_t size)
{
	const struct run_exit *x = &r->exits[i];
	u8 want[8];
	unsigned int j;

	for (j = 0; j < len && j < 8; j++)
		want[j] = data ? (u8)strtoul(data + 3 * j, NULL, 16) : mmio_default_byte(gpa + j);
	if (i >= r->nr_exits)
		snprintf(msg, size, "exit %u: wanted %c 0x%llx/%u, there are %u exits", i,
			 write ? 'W' : 'R', (unsigned long long)gpa, len, r->nr_exits);
	else if (x->write != write || x->gpa != gpa || x->len != len ||
		 memcmp(x->data, want, len < 8 ? len : 8))
		snprintf(msg, size, "exit %u: wanted %c 0x%llx/%u %s, got %c 0x%llx/%u", i,
			 write ? 'W' : 'R', (unsigned long long)gpa, len, data ? data : "(default)",
			 x->write ? 'W' : 'R', (unsigned long long)x->gpa, x->len);
}

#define ANY_REG		(~0ULL)
#define RETIRED		(-1)

static void want_reg(char *buf, size_t size, u64 v)
{
	if (v == ANY_REG)
		snprintf(buf, size, "any");
	else
		snprintf(buf, size, "0x%llx", (unsigned long long)v);
}

/*
 * Run @text into @r: "" in @msg if it ends retired (@vector RETIRED) or in
 * exception @vector, after @nr_exits exits, at RIP @rip, with RSP @rsp and
 * RCX @rcx (unless ANY_REG); else @what, what was wanted and what came.
 */
static void expect_end(struct run_result *r, const char *what, const char *text, int vector,
		       unsigned int nr_exits, u64 rip, u64 rsp, u64 rcx, char *msg, size_t size)
{
	char why[256], wend[24], gend[48], wrsp[24], wrcx[24];
	u64 got_rsp, got_rcx;

	msg[0] = 0;
	if (run_text(text, r, NULL, why, sizeof(why))) {
		snprintf(msg, size, "%s: %s", what, why);
		return;
	}
	got_rsp = r->regs[VCPU_REGS_RSP];
	got_rcx = r->regs[VCPU_REGS_RCX];
	if (r->outcome == (vector == RETIRED ? OUTCOME_RETIRED : OUTCOME_EXCEPTION) &&
	    (vector == RETIRED || r->exception.vector == (unsigned int)vector) &&
	    r->nr_exits == nr_exits && r->rip == rip && (rsp == ANY_REG || got_rsp == rsp) &&
	    (rcx == ANY_REG || got_rcx == rcx))
		return;
	if (vector == RETIRED)
		snprintf(wend, sizeof(wend), "retired");
	else
		snprintf(wend, sizeof(wend), "vector %d", vector);
	if (r->outcome == OUTCOME_EXCEPTION)
		snprintf(gend, sizeof(gend), "vector %u", r->exception.vector);
	else
		snprintf(gend, sizeof(gend), "%s", run_outcome_name(r->outcome));
	want_reg(wrsp, sizeof(wrsp), rsp);
	want_reg(wrcx, sizeof(wrcx), rcx);
	snprintf(msg, size, "%s: wanted %s with %u exits at rip 0x%llx, rsp %s, rcx %s; "
		 "got %s, %u exits, rip 0x%llx, rsp 0x%llx, rcx 0x%llx", what, wend, nr_exits,
		 (unsigned long long)rip, wrsp, wrcx, gend, r->nr_exits,
		 (unsigned long long)r->rip, (unsigned long long)got_rsp,
		 (unsigned long long)got_rcx);
}

/*
 * prot32-paging, spec E11: a 4-byte read at linear 0xfffffffe wraps to
 * linear 0; the two pieces go to their own frames (0x1ffe and 0x7000) and
 * the 6.18 trace names fragment 0 only.
 */
TEST(kvm_backend_prot32_paging_linear_wrap)
{
	static struct run_result r;
	char msg[256] = "";
	bool traced;
	int ret;

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	ret = run_text("mode prot32-paging\ninsn a1 fe ff ff ff\nmap 0xfffff000 0x1000 mmio\n"
		       "map 0x0 0x7000 mmio\nmmio-data 11 22 33 44\n", &r, &traced, msg,
		       sizeof(msg));
	TEST_ASSERT(!ret, "%s", msg);
	TEST_ASSERT_EQ(r.outcome, OUTCOME_RETIRED, "outcome");
	TEST_ASSERT_EQ(r.nr_exits, 2, "exits");
	check_exit(&r, 0, false, 0x1ffe, 2, "11 22", msg, sizeof(msg));
	if (!msg[0])
		check_exit(&r, 1, false, 0x7000, 2, "33 44", msg, sizeof(msg));
	TEST_ASSERT(!msg[0], "%s", msg);
	TEST_ASSERT_EQ(r.regs[VCPU_REGS_RAX] & 0xffffffff, 0x44332211, "eax");
	TEST_ASSERT_EQ(r.rip, SCN_CODE_GPA + 5, "rip");
	if (!traced)
		return;
	TEST_ASSERT_EQ(r.trace.nr, 2, "trace events");
	TEST_ASSERT_EQ(r.trace.ev[0].type, KVM_TRACE_MMIO_READ_UNSATISFIED, "event 0 type");
	TEST_ASSERT_EQ(r.trace.ev[0].gpa, 0x1ffe, "event 0 gpa");
	TEST_ASSERT_EQ(r.trace.ev[1].type, KVM_TRACE_MMIO_READ, "event 1 type");
	TEST_ASSERT_EQ(r.trace.ev[1].len, 4, "event 1 len");
	TEST_ASSERT_EQ(r.trace.ev[1].val, 0x44332211, "event 1 val");
}

/* prot32-paging: a read whose second page is not present is #PF, no exit. */
TEST(kvm_backend_prot32_paging_page_fault)
{
	static struct run_result r;
	char msg[256];
	int ret;

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	ret = run_text("mode prot32-paging\ninsn 8b 07\nreg rdi 0x40000ffe\n"
		       "map 0x40000000 0x5000 mmio\nmap 0x40001000 0x6000 mmio np\n", &r, NULL,
		       msg, sizeof(msg));
	TEST_ASSERT(!ret, "%s", msg);
	TEST_ASSERT_EQ(r.outcome, OUTCOME_EXCEPTION, "outcome");
	TEST_ASSERT_EQ(r.exception.vector, PF_VECTOR, "vector");
	TEST_ASSERT_EQ(r.exception.address, 0x40001000, "cr2");
	TEST_ASSERT_EQ(r.exception.error_code, 0, "error code (supervisor read, not present)");
	TEST_ASSERT_EQ(r.nr_exits, 0, "exits");
	TEST_ASSERT_EQ(r.rip, SCN_CODE_GPA, "faulting rip");
}

/*
 * One backend, two linear pages mapped to the same two RAM frames case
 * after case, swapped each time (the frames keep their memslots, so only
 * the page tables change), and every fourth case the first page on an MMIO
 * frame instead: every read returns the bytes of the frame its own case
 * maps, or exits at its own GPA.  At CPL 0 KVM's emulator walks the guest
 * tables itself (and caches the linear page of an MMIO access); 64-bit
 * CPL 3 code runs natively on kvm_pvm and reads RAM through the shadow
 * page tables, which is where a stale translation would show.  Enough
 * cases that the page-table pool starts again several times, at its full
 * size and with 8 pages, where it starts again at nearly every case (the
 * pages of one case's tables are then the last case's: with no fresh pool
 * memslot in between, CPL 3 reads the old frame).
 */
TEST(kvm_backend_remapped_page_is_never_stale)
{
	static const struct {
		const char *mode;
		unsigned int cpl;
	} modes[] = {
		{ "prot32-paging", 0 }, { "long64", 0 }, { "prot32-paging", 3 }, { "long64", 3 },
	};
	static struct run_result r;
	struct kvm_backend *kb;
	char text[320], err[200], msg[256] = "";
	unsigned int m, i, j;

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	kb = kvm_backend_create(err, sizeof(err));
	TEST_ASSERT(kb, "kvm backend: %s", err);
	for (m = 0; m < 2 * ARRAY_SIZE(modes) && !msg[0]; m++) {
		if (m == ARRAY_SIZE(modes))
			kvm_backend_set_pool_pages(kb, 8);
		for (i = 0; i < 160 && !msg[0]; i++) {
			u64 a = i & 1 ? 0x20000 : 0x10000, b = 0x30000 - a, want = 0;
			bool mmio = i % 4 == 3;
			struct scenario s;
			int ret;

			if (mmio)
				a = 0x50000;
			/* a third page elsewhere: table sets of other sizes and shapes */
			snprintf(text, sizeof(text), "mode %s\ncpl %u\ninsn 8b 07\n"
				 "reg rdi 0x40000100\nmap 0x40000000 0x%llx %s user\n"
				 "map 0x40001000 0x%llx ram user\nmap 0x%llx 0x60000 ram\n",
				 modes[m % ARRAY_SIZE(modes)].mode, modes[m % ARRAY_SIZE(modes)].cpl, (unsigned long long)a,
				 mmio ? "mmio" : "ram", (unsigned long long)b,
				 0x50000000ULL + 0x10000000ULL * (i % 7) + 0x200000ULL * (i % 3));
			if (scenario_parse_text(&s, text, err, sizeof(err))) {
				snprintf(msg, sizeof(msg), "scenario: %s", err);
				break;
			}
			ret = kvm_backend_run(kb, &s, &r);
			if (ret) {
				snprintf(msg, sizeof(msg), "%s CPL %u case %u: %s (%s)", modes[m % ARRAY_SIZE(modes)].mode,
					 modes[m % ARRAY_SIZE(modes)].cpl, i, strerror(-ret), kvm_backend_why(kb));
				break;
			}
			if (mmio) {
				check_exit(&r, 0, false, a + 0x100, 4, NULL, msg, sizeof(msg));
				if (!msg[0] && (r.outcome != OUTCOME_RETIRED || r.nr_exits != 1))
					snprintf(msg, sizeof(msg), "%s CPL %u case %u: %s after %u "
						 "exits, wanted retired after one", modes[m % ARRAY_SIZE(modes)].mode,
						 modes[m % ARRAY_SIZE(modes)].cpl, i, run_outcome_name(r.outcome),
						 r.nr_exits);
				continue;
			}
			for (j = 0; j < 4; j++)
				want |= (u64)ram_pattern_byte(a + 0x100 + j) << (8 * j);
			if (r.outcome != OUTCOME_RETIRED || r.regs[VCPU_REGS_RAX] != want)
				snprintf(msg, sizeof(msg), "%s CPL %u case %u: %s, rax 0x%llx, wanted "
					 "retired with 0x%llx (frame 0x%llx)", modes[m % ARRAY_SIZE(modes)].mode,
					 modes[m % ARRAY_SIZE(modes)].cpl, i,
					 run_outcome_name(r.outcome),
					 (unsigned long long)r.regs[VCPU_REGS_RAX],
					 (unsigned long long)want, (unsigned long long)a);
		}
	}
	TEST_ASSERT(msg[0] || kvm_backend_pool_restarts(kb) >= 2,
		    "Wanted the page-table pool started again at least twice, got %lu times",
		    kvm_backend_pool_restarts(kb));
	kvm_backend_destroy(kb);
	TEST_ASSERT(!msg[0], "%s", msg);
}

/*
 * real16 and prot16: a 2-byte read split 1+1 over two MMIO pages (r01)
 * gives two 1-byte exits, AX from both answers, and the 6.18 trace
 * (unsatisfied-read with fragment 0's GPA and the last piece's length, the
 * completion with the whole length); a 2-byte write split the same way
 * gives two 1-byte write exits.
 */
static void check_split16(struct test_ctx *t, const char *mode)
{
	static struct run_result r, w;
	char text[256], msg[256] = "";
	bool traced;
	int ret;

	snprintf(text, sizeof(text), "mode %s\ninsn 8b 05\nreg rdi 0x8fff\n", mode);
	ret = run_text(text, &r, &traced, msg, sizeof(msg));
	TEST_ASSERT(!ret, "%s read: %s", mode, msg);
	snprintf(text, sizeof(text), "mode %s\ninsn 89 05\nreg rdi 0x8fff\nreg rax 0x1234\n",
		 mode);
	ret = run_text(text, &w, NULL, msg, sizeof(msg));
	TEST_ASSERT(!ret, "%s write: %s", mode, msg);

	TEST_ASSERT_EQ(r.outcome, OUTCOME_RETIRED, "read outcome");
	TEST_ASSERT_EQ(r.nr_exits, 2, "read exits");
	check_exit(&r, 0, false, 0x8fff, 1, NULL, msg, sizeof(msg));
	if (!msg[0])
		check_exit(&r, 1, false, 0x9000, 1, NULL, msg, sizeof(msg));
	TEST_ASSERT(!msg[0], "%s read: %s", mode, msg);
	TEST_ASSERT_EQ(r.regs[VCPU_REGS_RAX] & 0xffff,
		       mmio_default_byte(0x8fff) | mmio_default_byte(0x9000) << 8, "ax");
	TEST_ASSERT_EQ(r.rip, 2, "ip after the read");

	TEST_ASSERT_EQ(w.outcome, OUTCOME_RETIRED, "write outcome");
	TEST_ASSERT_EQ(w.nr_exits, 2, "write exits");
	check_exit(&w, 0, true, 0x8fff, 1, "34", msg, sizeof(msg));
	if (!msg[0])
		check_exit(&w, 1, true, 0x9000, 1, "12", msg, sizeof(msg));
	TEST_ASSERT(!msg[0], "%s write: %s", mode, msg);
	TEST_ASSERT_EQ(w.rip, 2, "ip after the write");

	if (!traced)
		return;
	TEST_ASSERT_EQ(r.trace.nr, 2, "read trace events");
	TEST_ASSERT_EQ(r.trace.ev[0].type, KVM_TRACE_MMIO_READ_UNSATISFIED, "event 0 type");
	TEST_ASSERT_EQ(r.trace.ev[0].len, 1, "event 0 len");
	TEST_ASSERT_EQ(r.trace.ev[0].gpa, 0x8fff, "event 0 gpa");
	TEST_ASSERT_EQ(r.trace.ev[1].type, KVM_TRACE_MMIO_READ, "event 1 type");
	TEST_ASSERT_EQ(r.trace.ev[1].len, 2, "event 1 len");
	TEST_ASSERT_EQ(r.trace.ev[1].gpa, 0x8fff, "event 1 gpa");
}

TEST(kvm_backend_real16_split_access)
{
	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	check_split16(t, "real16");
}

TEST(kvm_backend_prot16_split_access)
{
	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	check_split16(t, "prot16");
}

/*
 * A word read at offset 0xffff of a 64 KiB data segment is beyond its
 * limit: #GP(0) before any access, in real mode (delivered through the IVT)
 * and in 16-bit protected mode (through a 32-bit gate), with the stack in
 * RAM; IP stays on the instruction, SP is as before.
 */
TEST(kvm_backend_16bit_limit_fault)
{
	static const char *const modes[] = { "real16", "prot16" };
	static struct run_result r;
	char text[256], msg[512];
	unsigned int i;

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		snprintf(text, sizeof(text), "mode %s\ninsn 8b 06 ff ff\nreg rsp 0x7800\n"
			 "map 0x7000 0x7000 ram\n", modes[i]);
		expect_end(&r, modes[i], text, GP_VECTOR, 0, 0, 0x7800, ANY_REG, msg, sizeof(msg));
		TEST_ASSERT(!msg[0], "%s", msg);
	}
}

/*
 * CPL 3 in every mode that has it: a 4-byte read split 2+2 over two user
 * MMIO pages exits twice and retires right after the instruction (the
 * sentinel's #GP is no exception of the case); a read whose second page
 * is a supervisor page is #PF with U=1 and no exit (paging modes).
 */
TEST(kvm_backend_cpl3_split_read_and_user_fault)
{
	static const struct {
		const char *mode, *frames[2];
		u64 rdi, gpa[2];
		unsigned int insn_len;
	} m[] = {
		{ "long64", { "0x1000", "0x2000" }, 0x40000ffe, { 0x1ffe, 0x2000 }, 2 },
		{ "prot32-paging", { "0x1000", "0x2000" }, 0x40000ffe, { 0x1ffe, 0x2000 }, 2 },
		{ "prot32", { "0x40000000", "0x40001000" }, 0x40000ffe,
		  { 0x40000ffe, 0x40001000 }, 2 },
		/* 66 8b 05: mov eax,[di] */
		{ "prot16", { "0x8000", "0x9000" }, 0x8ffe, { 0x8ffe, 0x9000 }, 3 },
	};
	static struct run_result r;
	char text[512], what[32], msg[512];
	unsigned int i;
	int ret;

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	for (i = 0; i < ARRAY_SIZE(m); i++) {
		bool is16 = m[i].insn_len == 3;

		snprintf(text, sizeof(text), "mode %s\ncpl 3\ninsn %s\nreg rdi 0x%llx\n"
			 "map 0x%llx %s mmio user\nmap 0x%llx %s mmio user\n", m[i].mode,
			 is16 ? "66 8b 05" : "8b 07", (unsigned long long)m[i].rdi,
			 (unsigned long long)(m[i].rdi & ~0xfffULL), m[i].frames[0],
			 (unsigned long long)(m[i].rdi & ~0xfffULL) + 0x1000, m[i].frames[1]);
		/* retired right after the instruction */
		snprintf(what, sizeof(what), "%s CPL 3", m[i].mode);
		expect_end(&r, what, text, RETIRED, 2, (is16 ? 0 : SCN_CODE_GPA) + m[i].insn_len,
			   ANY_REG, ANY_REG, msg, sizeof(msg));
		TEST_ASSERT(!msg[0], "%s", msg);
		check_exit(&r, 0, false, m[i].gpa[0], 2, NULL, msg, sizeof(msg));
		if (!msg[0])
			check_exit(&r, 1, false, m[i].gpa[1], 2, NULL, msg, sizeof(msg));
		TEST_ASSERT(!msg[0], "%s CPL 3: %s", m[i].mode, msg);

		if (strcmp(m[i].mode, "long64") && strcmp(m[i].mode, "prot32-paging"))
			continue;
		/* the second page without "user" */
		snprintf(text, sizeof(text), "mode %s\ncpl 3\ninsn 8b 07\nreg rdi 0x%llx\n"
			 "map 0x40000000 %s mmio user\nmap 0x40001000 %s mmio\n", m[i].mode,
			 (unsigned long long)m[i].rdi, m[i].frames[0], m[i].frames[1]);
		ret = run_text(text, &r, NULL, msg, sizeof(msg));
		TEST_ASSERT(!ret, "%s: %s", m[i].mode, msg);
		TEST_ASSERT(r.outcome == OUTCOME_EXCEPTION && r.exception.vector == PF_VECTOR,
			    "%s CPL 3: %s vector %u, wanted #PF", m[i].mode,
			    run_outcome_name(r.outcome), r.exception.vector);
		TEST_ASSERT(r.exception.error_code == 5, "%s CPL 3: #PF error code 0x%x, wanted 0x5 "
			    "(user read of a present supervisor page)", m[i].mode,
			    r.exception.error_code);
		TEST_ASSERT(r.exception.address == 0x40001000, "%s CPL 3: cr2 0x%llx", m[i].mode,
			    (unsigned long long)r.exception.address);
		TEST_ASSERT(r.nr_exits == 0, "%s CPL 3: %u exits before the #PF", m[i].mode,
			    r.nr_exits);
		TEST_ASSERT(r.rip == SCN_CODE_GPA, "%s CPL 3: faulting rip 0x%llx", m[i].mode,
			    (unsigned long long)r.rip);
	}
}

/*
 * CPL 0 in legacy and real mode, the stack in MMIO: a #GP cannot be
 * delivered (kvm_pvm shuts the VM down, no exit for the pushes), and the
 * result still names #GP, on the instruction, with no exits.
 */
TEST(kvm_backend_undeliverable_fault_names_its_vector)
{
	static const char *const modes[] = { "real16", "prot16", "prot32" };
	static struct run_result r;
	char text[256], msg[512];
	unsigned int i;

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		/* a 4-byte read at offset 0xfffe of a 64 KiB DS; SP in an MMIO page */
		snprintf(text, sizeof(text), "mode %s\ninsn %s\nreg rdi 0xfffe\nreg rsp 0x9004\n"
			 "seg ds 0 0xffff\nmap 0x9000 0x9000 mmio\n", modes[i],
			 i < 2 ? "66 8b 05" : "8b 07");
		expect_end(&r, modes[i], text, GP_VECTOR, 0, i < 2 ? 0 : SCN_CODE_GPA, ANY_REG,
			   ANY_REG, msg, sizeof(msg));
		TEST_ASSERT(!msg[0], "%s", msg);
	}
}

/*
 * Legacy protected mode, CPL 3, the user stack in MMIO: a fault is still
 * delivered (the CPU switches to the TSS's ESP0 stack in RAM; at CPL 0 the
 * same case cannot be delivered), and the result's ESP is the user's.
 */
TEST(kvm_backend_cpl3_fault_switches_to_the_tss_stack)
{
	static const char *const modes[] = { "prot32", "prot16" };
	static struct run_result r;
	char text[256], what[32], msg[512];
	unsigned int i;

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		/* a 4-byte read at offset 0xfffe of a 64 KiB DS: #GP(0), no access */
		snprintf(what, sizeof(what), "%s CPL 3", modes[i]);
		snprintf(text, sizeof(text), "mode %s\ncpl 3\ninsn %s\nreg rdi 0xfffe\n"
			 "reg rsp 0x40001004\nseg ds 0 0xffff\nmap 0x40001000 0x40001000 mmio\n",
			 modes[i], i ? "66 8b 05" : "8b 07");
		/* ESP: the user's, not the TSS's */
		expect_end(&r, what, text, GP_VECTOR, 0, i ? 0 : SCN_CODE_GPA, 0x40001004, ANY_REG,
			   msg, sizeof(msg));
		TEST_ASSERT(!msg[0], "%s", msg);
	}
}

/*
 * One instruction, even when it jumps: a taken jmp stops at its target
 * (RAM pattern bytes, or in 16-bit modes the harness's own exception
 * stubs), which does not run.  And a call through an MMIO pointer with an
 * MMIO stack, whose last exit is the write of the return address: that
 * write exit is the end, the target does not run.
 */
TEST(kvm_backend_taken_branch_stops_at_the_target)
{
	static const struct {
		const char *mode;
		unsigned int cpl;
		const char *insn, *map;
		u64 target;
	} c[] = {
		/* jmp rel32 to 0x40000000 from 0x600000 */
		{ "long64", 0, "e9 fb ff 9f 3f", "0x40000000 0x5000 ram user", 0x40000000 },
		{ "long64", 3, "e9 fb ff 9f 3f", "0x40000000 0x5000 ram user", 0x40000000 },
		{ "prot32-paging", 0, "e9 fb ff 9f 3f", "0x40000000 0x5000 ram user", 0x40000000 },
		{ "prot32-paging", 3, "e9 fb ff 9f 3f", "0x40000000 0x5000 ram user", 0x40000000 },
		{ "prot32", 0, "e9 fb ff 9f 3f", "0x40000000 0x40000000 ram", 0x40000000 },
		{ "prot32", 3, "e9 fb ff 9f 3f", "0x40000000 0x40000000 ram", 0x40000000 },
		/* jmp rel16 to IP 0x4010: CS base 0x600000, the stub of vector 1 */
		{ "prot16", 0, "e9 0d 40", "0x8000 0x8000 ram", 0x4010 },
		{ "prot16", 3, "e9 0d 40", "0x8000 0x8000 ram", 0x4010 },
		{ "real16", 0, "e9 0d 40", "0x8000 0x8000 ram", 0x4010 },
		/* native again, at another RIP, after a 16-bit case: 0x600100 + 5 + 0x3f9ffefb */
		{ "long64\nreg rip 0x600100", 3, "e9 fb fe 9f 3f", "0x40000000 0x5000 ram user",
		  0x40000000 },
	};
	static struct run_result r;
	struct kvm_backend *kb;
	char text[256], msg[256] = "";
	unsigned int i;
	int ret;

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	kb = kvm_backend_create(msg, sizeof(msg));
	TEST_ASSERT(kb, "kvm backend: %s", msg);
	if (!kvm_backend_single_steps(kb)) {
		kvm_backend_destroy(kb);
		TEST_REQUIRE(false, "no single-stepping (KVM refused it, or "
			     "FRAGFUZZ_KVM_NO_SINGLESTEP)");
	}
	/* one backend: the cases follow each other in the same VM */
	for (i = 0; i < ARRAY_SIZE(c) && !msg[0]; i++) {
		struct scenario sc;

		snprintf(text, sizeof(text), "mode %s\ncpl %u\ninsn %s\nmap %s\n", c[i].mode,
			 c[i].cpl, c[i].insn, c[i].map);
		if (scenario_parse_text(&sc, text, msg, sizeof(msg)))
			break;
		ret = kvm_backend_run(kb, &sc, &r);
		if (ret)
			snprintf(msg, sizeof(msg), "case %u: %s (%s)", i, strerror(-ret),
				 kvm_backend_why(kb));
		else if (r.outcome != OUTCOME_RETIRED || r.rip != c[i].target)
			snprintf(msg, sizeof(msg), "case %u, %s CPL %u: %s (vector %u) at 0x%llx, "
				 "wanted retired at 0x%llx", i, c[i].mode, c[i].cpl,
				 run_outcome_name(r.outcome), r.exception.vector,
				 (unsigned long long)r.rip, (unsigned long long)c[i].target);
	}
	kvm_backend_destroy(kb);
	TEST_ASSERT(!msg[0], "%s", msg);

	/* call [edi]: pointer 11 22 33 44 from MMIO, return address to an MMIO stack */
	expect_end(&r, "call", "mode prot32\ninsn ff 17\nreg rdi 0x40000100\nreg rsp 0x40001100\n"
		   "map 0x40000000 0x40000000 mmio\nmap 0x40001000 0x40001000 mmio\n"
		   "mmio-data 11 22 33 44\n", RETIRED, 2, 0x44332211, 0x400010fc, ANY_REG,
		   msg, sizeof(msg));
	TEST_ASSERT(!msg[0], "%s", msg);
	check_exit(&r, 0, false, 0x40000100, 4, "11 22 33 44", msg, sizeof(msg));
	if (!msg[0])
		check_exit(&r, 1, true, 0x400010fc, 4, "02 00 60 00", msg, sizeof(msg));
	TEST_ASSERT(!msg[0], "call: %s", msg);
}

/*
 * rep movsb, 3 bytes MMIO to MMIO: a read and a write exit per byte, RCX
 * counted down to 0, RIP after the instruction only at the end.  With
 * single-stepping KVM stops after every pass that leaves RIP on the
 * instruction; those stops (and the read replays) must not end the case.
 */
TEST(kvm_backend_rep_string_runs_every_pass)
{
	static const char *const modes[] = { "long64", "prot32-paging", "prot32" };
	static struct run_result r;
	char text[256], msg[512] = "";
	unsigned int i, j;

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		bool flat = !strcmp(modes[i], "prot32");

		snprintf(text, sizeof(text), "mode %s\ninsn f3 a4\nreg rcx 3\nreg rsi 0x40000100\n"
			 "reg rdi 0x40001100\nmap 0x40000000 0x%s mmio\nmap 0x40001000 0x%s mmio\n",
			 modes[i], flat ? "40000000" : "1000", flat ? "40001000" : "2000");
		/* RCX counted down to 0, RIP after the instruction */
		expect_end(&r, modes[i], text, RETIRED, 6, SCN_CODE_GPA + 2, ANY_REG, 0, msg,
			   sizeof(msg));
		TEST_ASSERT(!msg[0], "%s", msg);
		for (j = 0; j < 3 && !msg[0]; j++) {
			u64 src = (flat ? 0x40000100 : 0x1100) + j;
			u64 dst = (flat ? 0x40001100 : 0x2100) + j;
			char byte[4];

			snprintf(byte, sizeof(byte), "%02x", mmio_default_byte(src));
			check_exit(&r, 2 * j, false, src, 1, NULL, msg, sizeof(msg));
			if (!msg[0])
				check_exit(&r, 2 * j + 1, true, dst, 1, byte, msg, sizeof(msg));
		}
		TEST_ASSERT(!msg[0], "%s: %s", modes[i], msg);
	}
}

/*
 * Port I/O: every port exits to userspace here (no in-kernel device), and
 * the backend answers as the model's port device does (the k-th byte read
 * in the case is port + k), so in/out/ins/outs retire as in the model:
 * in eax,dx from 0x3f8 reads f8 f9 fa fb; out retires; rep insb (4 bytes,
 * DF=0) is one read-ahead batch written as two 2-byte write exits over the
 * page split; rep outsb reads its 4 bytes one element per pass.
 */
TEST(kvm_backend_port_io_is_answered)
{
	static const struct {
		const char *mode, *maps, *p66;
		u64 a, gpa0, gpa1, ip;
	} m[] = {
		{ "long64", "map 0x40000000 0x1000 mmio\nmap 0x40001000 0x2000 mmio\n", "",
		  0x40000ffe, 0x1ffe, 0x2000, SCN_CODE_GPA },
		{ "prot32-paging", "map 0x40000000 0x1000 mmio\nmap 0x40001000 0x2000 mmio\n", "",
		  0x40000ffe, 0x1ffe, 0x2000, SCN_CODE_GPA },
		{ "prot32", "map 0x40000000 0x40000000 mmio\nmap 0x40001000 0x40001000 mmio\n",
		  "", 0x40000ffe, 0x40000ffe, 0x40001000, SCN_CODE_GPA },
		{ "prot16", "", "66 ", 0x8ffe, 0x8ffe, 0x9000, 0 },
		{ "real16", "", "66 ", 0x8ffe, 0x8ffe, 0x9000, 0 },
	};
	static struct run_result r;
	char text[512], what[64], msg[512] = "";
	unsigned int i, j, plen;

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	for (i = 0; i < ARRAY_SIZE(m); i++) {
		plen = m[i].p66[0] ? 1 : 0;

		snprintf(what, sizeof(what), "%s in", m[i].mode);
		snprintf(text, sizeof(text), "mode %s\ninsn %sed\nreg rdx 0x3f8\n", m[i].mode,
			 m[i].p66);
		expect_end(&r, what, text, RETIRED, 0, m[i].ip + 1 + plen, ANY_REG, ANY_REG, msg,
			   sizeof(msg));
		TEST_ASSERT(!msg[0], "%s", msg);
		TEST_ASSERT((u32)r.regs[VCPU_REGS_RAX] == 0xfbfaf9f8, "%s in: eax 0x%llx, wanted "
			    "0xfbfaf9f8", m[i].mode, (unsigned long long)r.regs[VCPU_REGS_RAX]);

		snprintf(what, sizeof(what), "%s out", m[i].mode);
		snprintf(text, sizeof(text), "mode %s\ninsn ee\nreg rdx 0x3f8\n", m[i].mode);
		expect_end(&r, what, text, RETIRED, 0, m[i].ip + 1, ANY_REG, ANY_REG, msg,
			   sizeof(msg));
		TEST_ASSERT(!msg[0], "%s", msg);

		snprintf(what, sizeof(what), "%s rep insb", m[i].mode);
		snprintf(text, sizeof(text), "mode %s\ninsn f3 6c\nreg rdx 0x80\nreg rcx 4\n"
			 "reg rdi 0x%llx\n%s", m[i].mode, (unsigned long long)m[i].a, m[i].maps);
		expect_end(&r, what, text, RETIRED, 2, m[i].ip + 2, ANY_REG, 0, msg, sizeof(msg));
		TEST_ASSERT(!msg[0], "%s", msg);
		check_exit(&r, 0, true, m[i].gpa0, 2, "80 81", msg, sizeof(msg));
		if (!msg[0])
			check_exit(&r, 1, true, m[i].gpa1, 2, "82 83", msg, sizeof(msg));
		TEST_ASSERT(!msg[0], "%s rep insb: %s", m[i].mode, msg);

		snprintf(what, sizeof(what), "%s rep outsb", m[i].mode);
		snprintf(text, sizeof(text), "mode %s\ninsn f3 6e\nreg rdx 0x80\nreg rcx 4\n"
			 "reg rsi 0x%llx\n%s", m[i].mode, (unsigned long long)m[i].a, m[i].maps);
		expect_end(&r, what, text, RETIRED, 4, m[i].ip + 2, ANY_REG, 0, msg, sizeof(msg));
		TEST_ASSERT(!msg[0], "%s", msg);
		for (j = 0; j < 4 && !msg[0]; j++)
			check_exit(&r, j, false, (j < 2 ? m[i].gpa0 : m[i].gpa1 - 2) + j, 1, NULL,
				   msg, sizeof(msg));
		TEST_ASSERT(!msg[0], "%s rep outsb: %s", m[i].mode, msg);
	}
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
	if (!exe_dir(top, sizeof(top), 2))
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
 * The two trace sources (kvm_trace.h) see the same kernel events: the
 * whole corpus on a backend reading the perf ring and on one reading
 * trace_pipe text gives event for event the same trace.
 */
TEST(kvm_backend_trace_sources_agree)
{
	static struct corpus_set cs;
	static struct run_result rp, rt;
	struct kvm_backend *perf, *text;
	unsigned int i, j, events = 0;
	char err[256], msg[300] = "";
	const char *src;

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	TEST_ASSERT(load_all_corpus(&cs), "cannot read corpus/");
	perf = kvm_backend_create(err, sizeof(err));
	TEST_ASSERT(perf, "kvm backend: %s", err);
	src = kvm_backend_trace_source(perf);
	if (!src || strcmp(src, "perf")) {
		kvm_backend_destroy(perf);
		TEST_REQUIRE(false, "perf cannot open the kvm_mmio tracepoint");
	}
	setenv("FRAGFUZZ_KVM_TRACE", "tracefs", 1);
	text = kvm_backend_create(err, sizeof(err));
	unsetenv("FRAGFUZZ_KVM_TRACE");
	TEST_ASSERT(text, "kvm backend: %s", err);
	src = kvm_backend_trace_source(text);
	for (i = 0; i < cs.nr && !msg[0] && src && !strcmp(src, "tracefs"); i++) {
		int a, b;

		if (!cs.s[i].insn_len)
			continue;
		a = kvm_backend_run(perf, &cs.s[i], &rp);
		b = kvm_backend_run(text, &cs.s[i], &rt);
		if (a != b || rp.trace.nr != rt.trace.nr || rp.trace.lost != rt.trace.lost) {
			snprintf(msg, sizeof(msg), "%s: wanted %u events (lost %u, run %d) from "
				 "tracefs, got %u (lost %u, run %d) from perf", cs.names[i],
				 rt.trace.nr, rt.trace.lost, b, rp.trace.nr, rp.trace.lost, a);
			break;
		}
		for (j = 0; j < rp.trace.nr; j++) {
			char want[96], got[96];

			kvm_mmio_event_format(&rt.trace.ev[j], want, sizeof(want));
			kvm_mmio_event_format(&rp.trace.ev[j], got, sizeof(got));
			if (strcmp(want, got)) {
				snprintf(msg, sizeof(msg), "%s event %u: wanted '%s', got '%s'",
					 cs.names[i], j, want, got);
				break;
			}
		}
		events += rp.trace.nr;
	}
	kvm_backend_destroy(perf);
	kvm_backend_destroy(text);
	TEST_ASSERT(src && !strcmp(src, "tracefs"), "FRAGFUZZ_KVM_TRACE=tracefs: wanted 'tracefs', got '%s'",
		    src ? src : "untraced");
	TEST_ASSERT(!msg[0], "%s", msg);
	TEST_ASSERT(events >= 100, "wanted at least 100 events over the corpus, got %u", events);
}

/*
 * Cases that do not end cleanly: the exit budget (a long rep movsb from
 * MMIO into MMIO leaves an MMIO exchange half done; a rep movsd from MMIO
 * leaves a read), the time limit (a jump to itself), a hlt (with the
 * irqchip it leaves the vCPU halted), an emulation failure (vmovdqu ymm from
 * MMIO), a shutdown (a #GP that cannot be delivered: the stack in MMIO),
 * each with the irqchip on and off.  The VM is kept (the pending exchange
 * is finished), but after a read whose completion would run a thousand
 * more passes, and the next cases (a split MMIO read, a split write, a
 * pusha) give the results a fresh backend gives.
 */
TEST(kvm_backend_unclean_case_does_not_poison_the_next)
{
	static const struct {
		const char *name, *text;
		bool new_vm;	/* too much left pending to finish: a new VM */
		bool halts;	/* irqchip only, and it may retire */
	} unclean[] = {
		{ "budget", "mode long64\ninsn f3 a4\nreg rcx 0x800\nreg rsi 0x40000000\n"
		  "reg rdi 0x40001000\nmap 0x40000000 0x1000 mmio\n"
		  "map 0x40001000 0x2000 mmio\n", false, false },
		/* a read pending: its completion runs the rest of the passes */
		{ "budget-read", "mode long64\ninsn f3 a5\nreg rcx 0x60\nreg rsi 0x40000ffe\n"
		  "reg rdi 0x40003000\nmap 0x40000000 0x1000 mmio\n"
		  "map 0x40001000 0x2000 mmio\nmap 0x40003000 0x3000 ram\n", false, false },
		/* RCX made 1 before settling: the pass in flight is the last */
		{ "budget-long-read", "mode long64\ninsn f3 a5\nreg rcx 0x800\n"
		  "reg rsi 0x40000ffe\nreg rdi 0x40003000\nmap 0x40000000 0x1000 mmio\n"
		  "map 0x40001000 0x2000 mmio\nmap 0x40003000 0x3000 ram\n", false, false },
		/* a page-long batch of port data goes to MMIO as 512 exits */
		{ "budget-long-ins", "mode long64\ninsn f2 6d\nreg rcx 0xffffffff\n"
		  "reg rdx 0x80\nreg rdi 0x40000000\nmap 0x40000000 0x1000 mmio\n", false, false },
		{ "budget-long-stos", "mode prot32\ninsn f3 ab\nreg rcx 0xffffffff\n"
		  "reg rdi 0x40000ffe\nmap 0x40000000 0x40000000 mmio\n"
		  "map 0x40001000 0x40001000 mmio\n", false, false },
		{ "time", "mode long64\ninsn eb fe\n", false, false },
		/* with the irqchip: single-stepped, retired (a halted vCPU would block) */
		{ "hlt", "mode long64\ninsn f4\n", false, true },
		{ "emulation", "mode long64\ninsn c5 fe 6f 07\nreg rdi 0x40000000\n"
		  "map 0x40000000 0x5000 mmio\n", false, false },
		{ "shutdown", "mode prot32\ninsn 8b 07\nreg rdi 0xfffe\nreg rsp 0x9004\n"
		  "seg ds 0 0xffff\nmap 0x9000 0x9000 mmio\n", false, false },
	};
	static const char *const next[] = {
		"e01-split-read-mmio-mmio.txt", "e05-split-write.txt",
		"e08-pusha-mmio-into-ram.txt",
	};
	static struct run_result rb, ra;
	struct kvm_backend *fresh, *kb;
	struct scenario sa, sb;
	u64 want[ARRAY_SIZE(next)][2];
	unsigned long vms;
	unsigned int i, j, chip;
	char err[256];
	bool traced;
	int r;

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	kb = kvm_backend_create(err, sizeof(err));
	TEST_ASSERT(kb, "kvm backend: %s", err);
	/* the model target's exit budget (fragfuzz_kvm's is 32) */
	kvm_backend_set_limits(kb, (struct run_limits){ .max_exits = 64, .max_passes = 4096 });
	traced = kvm_backend_traced(kb);
	/* each next case on a fresh backend, irqchip on and off */
	for (j = 0; j < ARRAY_SIZE(next); j++) {
		for (chip = 0; chip < 2; chip++) {
			TEST_ASSERT(load_corpus(next[j], &sb), "cannot load %s", next[j]);
			if (chip)
				sb.ctl |= SCN_CTL_NO_IRQCHIP;
			fresh = kvm_backend_create(err, sizeof(err));
			TEST_ASSERT(fresh, "kvm backend: %s", err);
			r = kvm_backend_run(fresh, &sb, &rb);
			kvm_backend_destroy(fresh);
			TEST_ASSERT(!r, "%s on a fresh backend: %s", next[j], strerror(-r));
			want[j][chip] = result_digest(0, &rb, traced);
		}
	}
	for (i = 0; i < ARRAY_SIZE(unclean); i++) {
		for (chip = 0; chip < (unclean[i].halts ? 1U : 2U); chip++) {
			TEST_ASSERT(!scenario_parse_text(&sa, unclean[i].text, err, sizeof(err)),
				    "%s: scenario: %s", unclean[i].name, err);
			if (chip)
				sa.ctl |= SCN_CTL_NO_IRQCHIP;
			/* a VM with this irqchip setting first */
			TEST_ASSERT(load_corpus(next[0], &sb), "cannot load %s", next[0]);
			sb.ctl |= sa.ctl & SCN_CTL_NO_IRQCHIP;
			r = kvm_backend_run(kb, &sb, &rb);
			TEST_ASSERT(!r, "%s: %s", next[0], strerror(-r));
			vms = kvm_backend_vm_creates(kb);
			for (j = 0; j < ARRAY_SIZE(next); j++) {
				r = kvm_backend_run(kb, &sa, &ra);
				TEST_ASSERT(!r, "%s case: %s", unclean[i].name, strerror(-r));
				TEST_ASSERT(ra.outcome != OUTCOME_RETIRED || unclean[i].halts,
					    "%s case (irqchip %s): retired, wanted an unclean end",
					    unclean[i].name, chip ? "off" : "on");
				TEST_ASSERT(load_corpus(next[j], &sb), "cannot load %s", next[j]);
				sb.ctl |= sa.ctl & SCN_CTL_NO_IRQCHIP;
				r = kvm_backend_run(kb, &sb, &ra);
				TEST_ASSERT(!r, "%s after the %s case: %s", next[j], unclean[i].name,
					    strerror(-r));
				TEST_ASSERT(result_digest(0, &ra, traced) == want[j][chip],
					    "%s after the %s case (irqchip %s): %s with %u exits, not what a fresh backend gives",
					    next[j], unclean[i].name, chip ? "off" : "on",
					    run_outcome_name(ra.outcome), ra.nr_exits);
			}
			TEST_ASSERT(kvm_backend_vm_creates(kb) ==
				    vms + (unclean[i].new_vm ? ARRAY_SIZE(next) : 0),
				    "after %zu %s cases (irqchip %s): %lu new VMs", ARRAY_SIZE(next),
				    unclean[i].name, chip ? "off" : "on",
				    kvm_backend_vm_creates(kb) - vms);
		}
	}
	kvm_backend_destroy(kb);
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
 * The irqchip setting is per VM: the first change makes a second VM, and
 * the backend keeps both, so later changes make none.  Without an
 * irqchip the APIC page is userspace MMIO.
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
	/* the irqchip VM was kept aside */
	TEST_ASSERT_EQ(kvm_backend_vm_creates(d->kb), vms + 1, "VMs after off -> on");
	TEST_ASSERT_EQ(d->rk.nr_exits, 0, "d02 exits after the switch back");
	/* a case that leaves the VM stale (emulation failure), then irqchip off */
	TEST_ASSERT(dev_run(d, "ymm", ymm, false), "%s", d->msg);
	TEST_ASSERT_EQ(d->rk.outcome, OUTCOME_EMULATION_FAILURE, "vmovdqu ymm outcome");
	TEST_ASSERT(dev_run(d, "d12-lapic-irqchip-off.txt", NULL, false), "%s", d->msg);
	TEST_ASSERT_EQ(d->rk.nr_exits, 1, "d12 exits after a stale case with irqchip on");
	TEST_ASSERT(dev_run(d, "d02-lapic-read.txt", NULL, false), "%s", d->msg);
	TEST_ASSERT_EQ(d->rk.nr_exits, 0, "d02 exits after the second switch back");
	TEST_ASSERT_EQ(d->rk.regs[VCPU_REGS_RAX], 0x50014, "d02 EAX after the second switch back");
	TEST_ASSERT_EQ(kvm_backend_vm_creates(d->kb), vms + 1, "VMs after four switches");
	dev_close(d);
}

/*
 * Registrations stay parked in the VM after their case: a later case that
 * writes where a parked ioeventfd or coalesced zone sits (the same frame,
 * plain MMIO now; paging off, so every GPA is reachable) still gets its own
 * exits, as on a fresh backend, and the parked ones are not re-registered
 * for cases that do not reach them.
 */
TEST(kvm_devices_parked_registration_takes_nothing)
{
	static const char *const plain[] = {
		/* d11's write (ioeventfd at 0x5010, any length), the frame plain MMIO */
		"mode long64\ninsn 66 89 07\nreg rdi 0x40000010\nreg rax 0xbeef\n"
		"map 0x40000000 0x5000 mmio\n",
		/* d03's split write (coalesced zone at 0x5000), the frame plain MMIO */
		"mode long64\ninsn 48 89 07\nreg rdi 0x40000ffc\n"
		"map 0x40000000 0x5000 mmio\nmap 0x40001000 0x6000 mmio\n",
		/* paging off: a write to 0x5010 */
		"mode prot32\ninsn 66 89 07\nreg rdi 0x5010\nreg rax 0xbeef\n",
	};
	static const char *const dev[] = {
		"d11-ioeventfd-any-length.txt", "d03-coalesced-split-write.txt",
		"d11-ioeventfd-any-length.txt",
	};
	static struct run_result want;
	struct dev_ctx *d;
	unsigned int i;
	char err[256];

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	d = dev_open();
	TEST_ASSERT(d, "cannot set up the kvm and model backends");
	for (i = 0; i < ARRAY_SIZE(plain); i++) {
		TEST_ASSERT(!run_text(plain[i], &want, NULL, err, sizeof(err)),
			    "case %u on a fresh backend: %s", i, err);
		TEST_ASSERT(want.nr_exits > 0, "case %u on a fresh backend: no exits", i);

		TEST_ASSERT(dev_run(d, dev[i], NULL, false), "%s", d->msg);
		TEST_ASSERT(dev_run(d, "plain", plain[i], false), "%s", d->msg);
		TEST_ASSERT(kvm_backend_devices_log(d->kb)->ioeventfd_signals == 0 &&
			    kvm_backend_devices_log(d->kb)->nr_ring == 0,
			    "case %u after %s: %llu signals, %u ring entries, wanted none", i,
			    dev[i],
			    (unsigned long long)kvm_backend_devices_log(d->kb)->ioeventfd_signals,
			    kvm_backend_devices_log(d->kb)->nr_ring);
		TEST_ASSERT(result_digest(0, &d->rk, d->traced) == result_digest(0, &want, d->traced),
			    "case %u after %s: %s with %u exits, a fresh backend %s with %u", i,
			    dev[i], run_outcome_name(d->rk.outcome), d->rk.nr_exits,
			    run_outcome_name(want.outcome), want.nr_exits);
	}
	/* a wanted ioeventfd where a parked one (any length, same address) sits */
	TEST_ASSERT(dev_run(d, "d11-ioeventfd-any-length.txt", NULL, false), "%s", d->msg);
	TEST_ASSERT(dev_run(d, "plain", plain[1], false), "%s", d->msg);
	TEST_ASSERT(dev_run(d, "len2", "mode long64\ninsn 66 89 07\nreg rdi 0x40000010\n"
			    "map 0x40000000 0x5000 ioeventfd ev=0x10:2\n", false), "%s", d->msg);
	TEST_ASSERT_EQ(d->rk.nr_exits, 0, "exits of a write the 2-byte ioeventfd takes");
	TEST_ASSERT_EQ(kvm_backend_devices_log(d->kb)->ioeventfd_signals, 1,
		       "signals of the 2-byte ioeventfd");
	dev_close(d);
}

/*
 * KVM finds a write's bus device by bsearch over kvm_io_bus_cmp() order,
 * in which a zero-length ioeventfd at A sorts as inside a range ending at
 * A.  Registered before a coalesced zone of the page below A, it sits to
 * the zone's left, and with two devices further left the bsearch turns
 * left at it and misses the zone: the zone's writes exit although the
 * ring has room (camp2 fidelity-*-f3.aa-exits, f3.a4, f3.6c, f3.a5); a
 * zone registered after the ioeventfd hides the ioeventfd the same way.
 * A parked one must go before such a case; a fresh backend has none.
 */
TEST(kvm_devices_parked_registration_hides_no_device)
{
	static const struct {
		const char *what;
		const char *before;	/* leaves the ioeventfds parked */
		const char *text;	/* writes into the zone below 0x6000 */
	} cases[] = {
		/* the other way: a parked zone ending at a wanted zero-length ioeventfd */
		{ "a store to a zero-length ioeventfd after a parked zone",
		  "mode long64\nirqchip on\ninsn 88 07\nreg rdi 0x40000000\n"
		  "map 0x40001000 0x1000 ioeventfd ev=0x0:0\n"
		  "map 0x40002000 0x6000 ioeventfd ev=0x0:0\n"
		  "map 0x40000000 0x5000 coalesced\n",
		  "mode long64\nirqchip on\ninsn 88 07\nreg rdi 0x40000000\n"
		  "map 0x40000000 0x6000 ioeventfd ev=0x0:0\n" },
		{ "rep stosb into the zone",
		  "mode long64\ninsn 88 07\nreg rdi 0x40000000\n"
		  "map 0x40000000 0x6000 ioeventfd ev=0x0:0\n"
		  "map 0x40001000 0x1000 ioeventfd ev=0x0:0\n"
		  "map 0x40002000 0x2000 ioeventfd ev=0x0:0\n",
		  "mode long64\ninsn f3 aa\nreg rax 0x5a\nreg rcx 4\nreg rdi 0x40000000\n"
		  "map 0x40000000 0x5000 coalesced\n" },
		{ "a store at the zone's last byte",
		  "mode prot32\ninsn 88 07\nreg rdi 0x6000\n"
		  "map 0x6000 0x6000 ioeventfd ev=0x0:0\n"
		  "map 0x1000 0x1000 ioeventfd ev=0x0:0\n"
		  "map 0x2000 0x2000 ioeventfd ev=0x0:0\n",
		  "mode prot32\ninsn 88 07\nreg rdi 0x5fff\nmap 0x5000 0x5000 coalesced\n" },
	};
	/* rep stosb into zone 0x5000, the ioeventfd at its end registered first */
	static const char *const own_order =
		"mode long64\nirqchip on\ninsn f3 aa\nreg rax 0x5a\nreg rcx 4\n"
		"reg rdi 0x40000000\n"
		"map 0x40001000 0x6000 ioeventfd ev=0x0:0\n"
		"map 0x40002000 0x1000 ioeventfd ev=0x0:0\n"
		"map 0x40003000 0x2000 ioeventfd ev=0x0:0\n"
		"map 0x40000000 0x5000 coalesced\n";
	static struct run_result want;
	struct dev_ctx *d;
	unsigned int i;
	char err[256];

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	d = dev_open();
	TEST_ASSERT(d, "cannot set up the kvm and model backends");
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		TEST_ASSERT(!run_text(cases[i].text, &want, NULL, err, sizeof(err)),
			    "'%s' on a fresh backend: %s", cases[i].what, err);
		TEST_ASSERT(want.nr_exits == 0, "Wanted 0 exits for '%s' on a fresh backend, got %u",
			    cases[i].what, want.nr_exits);

		TEST_ASSERT(dev_run(d, "before", cases[i].before, false), "%s", d->msg);
		TEST_ASSERT(dev_run(d, cases[i].what, cases[i].text, false), "%s", d->msg);
		TEST_ASSERT(d->rk.nr_exits == 0 && (kvm_backend_devices_log(d->kb)->nr_ring > 0 ||
						    kvm_backend_devices_log(d->kb)->ioeventfd_signals > 0),
			    "Wanted 0 exits and a device taking the write for '%s' after a parked "
			    "registration, got %u exits, %u ring entries", cases[i].what,
			    d->rk.nr_exits, kvm_backend_devices_log(d->kb)->nr_ring);
	}
	/*
	 * A case that wants such an ioeventfd itself gets the kernel's miss
	 * as a new VM has it (its registrations in map order: 4 exits,
	 * iobus-missed), also when an earlier case left its zone registered
	 * before the ioeventfd.
	 */
	dev_close(d);
	d = dev_open();
	TEST_ASSERT(d, "cannot set up the kvm and model backends");
	TEST_ASSERT(dev_run(d, "zone first", "mode long64\nirqchip on\ninsn 88 07\n"
			    "reg rdi 0x40000000\nmap 0x40000000 0x5000 coalesced\n", false),
		    "%s", d->msg);
	TEST_ASSERT(dev_run(d, "own order", own_order, false), "%s", d->msg);
	TEST_ASSERT(d->rk.nr_exits == 4 && d->rk.iobus_missed, "Wanted 4 exits, iobus-missed "
		    "for a case whose own zero-length ioeventfd comes first after its zone was "
		    "registered first, got %u exits, iobus_missed %d", d->rk.nr_exits,
		    d->rk.iobus_missed);
	dev_close(d);
}

/*
 * A single-stepped hlt without irqchip ended in KVM_EXIT_DEBUG and left
 * its KVM_EXIT_HLT pending on kvm_pvm: the next guest exception on that
 * vCPU, cases later (also after a nop case), came back as KVM_EXIT_HLT
 * (kvm "retired", no exits, RIP on the instruction: camp2
 * fidelity-long64-f3.ad-outcome, fidelity-prot32-paging-f3.a4-outcome,
 * -66f3.a4-outcome).  After a hlt case, the REP string cases of those
 * classes must fault as on a fresh backend.
 */
TEST(kvm_hlt_without_irqchip_leaves_nothing_pending)
{
	static const struct {
		const char *what;
		const char *between;	/* NULL: none */
		const char *text;
	} rows[] = {
		{ "inc [rdi] at an unmapped page, long64", NULL,
		  "mode long64\nirqchip off\ninsn ff 07\nreg rdi 0x40002000\n" },
		{ "inc [rdi] after a nop case", "mode long64\nirqchip off\ninsn 90\n",
		  "mode long64\nirqchip off\ninsn ff 07\nreg rdi 0x40002000\n" },
		{ "rep lodsd from an unmapped page", NULL,
		  "mode long64\nirqchip off\ninsn f3 ad\nreg rsi 0x40006003\n" },
		{ "rep movsb from an unmapped page, prot32-paging", NULL,
		  "mode prot32-paging\nirqchip off\ninsn f3 a4\n"
		  "map 0x40001000 0x1f000 mmio\n" },
	};
	static const char *const hlts[] = {
		"mode long64\nirqchip off\ninsn f4\n",
		"mode prot32\nirqchip off\ninsn f4\n",
	};
	static struct run_result want;
	struct kvm_backend *fresh;
	struct scenario s;
	struct dev_ctx *d;
	unsigned int i, h;
	char err[256];
	int r;

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	d = dev_open();
	TEST_ASSERT(d, "cannot set up the kvm and model backends");
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		TEST_ASSERT(!scenario_parse_text(&s, rows[i].text, err, sizeof(err)), "'%s': %s",
			    rows[i].what, err);
		fresh = kvm_backend_create(err, sizeof(err));
		TEST_ASSERT(fresh, "kvm backend: %s", err);
		r = kvm_backend_run(fresh, &s, &want);
		kvm_backend_destroy(fresh);
		TEST_ASSERT(!r, "'%s' on a fresh backend: %s", rows[i].what, strerror(-r));
		TEST_ASSERT(want.outcome == OUTCOME_EXCEPTION && want.exception.vector == PF_VECTOR,
			    "Wanted #PF for '%s' on a fresh backend, got %s", rows[i].what,
			    run_outcome_name(want.outcome));
		for (h = 0; h < ARRAY_SIZE(hlts); h++) {
			TEST_ASSERT(dev_run(d, "hlt", hlts[h], false), "%s", d->msg);
			if (rows[i].between)
				TEST_ASSERT(dev_run(d, "between", rows[i].between, false), "%s",
					    d->msg);
			TEST_ASSERT(dev_run(d, rows[i].what, rows[i].text, false), "%s", d->msg);
			TEST_ASSERT(d->rk.outcome == OUTCOME_EXCEPTION &&
				    d->rk.exception.vector == PF_VECTOR &&
				    d->rk.exception.address == want.exception.address,
				    "Wanted #PF at 0x%llx for '%s' after hlt case %u, got %s",
				    (unsigned long long)want.exception.address, rows[i].what, h,
				    run_outcome_name(d->rk.outcome));
		}
	}
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
	/* paging off: the APIC page is reachable though the layout names it not */
	static const char *const mmio_read32 =
		"mode prot32\ninsn 8b 07\nreg rdi 0x5000\nmap 0x5000 0x5000 mmio\n"
		"mmio-data 11 22 33 44\n";
	static const char *const r_unnamed =
		"mode prot32\ninsn 8b 07\nreg rdi 0xfee00000\nreg rax 0x1111\n";
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
	/* not primed up front: the trace shows the read, the case runs again primed */
	TEST_ASSERT(dev_run(d, "mmio_read32", mmio_read32, false), "%s", d->msg);
	TEST_ASSERT_EQ(d->rk.regs[VCPU_REGS_RAX], 0x44332211, "MMIO read EAX");
	TEST_ASSERT(dev_run(d, "r_unnamed", r_unnamed, false), "%s", d->msg);
	TEST_ASSERT_EQ(d->rk.regs[VCPU_REGS_RAX], 0, "LAPIC ID read, the layout naming no LAPIC");
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

/* ==== every mode and CPL with the device frames and both ways to stop ==== */

/*
 * A backend that stops the guest by single-stepping where KVM can (@sentinel
 * false), or at the sentinel only (FRAGFUZZ_KVM_NO_SINGLESTEP for its
 * creation, the environment put back after).
 */
static struct kvm_backend *kb_create_stopping(bool sentinel, char *err, size_t size)
{
	static const char *const var = "FRAGFUZZ_KVM_NO_SINGLESTEP";
	const char *old = getenv(var);
	char *saved = old ? strdup(old) : NULL;
	struct kvm_backend *kb;

	if (sentinel)
		setenv(var, "1", 1);
	kb = kvm_backend_create(err, size);
	if (sentinel) {
		if (saved)
			setenv(var, saved, 1);
		else
			unsetenv(var);
	}
	free(saved);
	return kb;
}

static const char *stop_name(bool sentinel)
{
	return sentinel ? "sentinel" : "single-step";
}

/* @text on @kb and on the model; "" or what differs (exits, trace, outcome, RIP, RAX). */
static void compare_text(struct kvm_backend *kb, struct model_backend *mb,
			 const struct kvm_profile *p, const char *name, const char *text,
			 char *msg, size_t size)
{
	static struct run_result rm, rk;
	struct violation_list vl;
	struct scenario s;
	unsigned int n;

	msg[0] = 0;
	if (scenario_parse_text(&s, text, msg, size) ||
	    !run_both(mb, kb, p, name, &s, &rm, &rk, msg, size))
		return;
	if (rk.outcome == OUTCOME_BUDGET) {
		/* a guest that blocks (hlt with the irqchip) ends at the time limit */
		snprintf(msg, size, "%s: kvm ended at the budget (blocked or ran on)", name);
		return;
	}
	memset(&vl, 0, sizeof(vl));
	n = fidelity_check(p, &s, &rm, &rk, kvm_backend_traced(kb), &vl);
	if (n)
		snprintf(msg, size, "%s: wanted model == kernel, got %u differences: %s", name, n,
			 vl.v[0].detail);
	else if (rm.regs[VCPU_REGS_RAX] != rk.regs[VCPU_REGS_RAX])
		snprintf(msg, size, "%s: rax: model 0x%llx, kvm 0x%llx", name,
			 (unsigned long long)rm.regs[VCPU_REGS_RAX],
			 (unsigned long long)rk.regs[VCPU_REGS_RAX]);
}

/* Case @i of a table: its name and scenario text; false past the last. */
typedef bool (*case_text_fn)(unsigned int i, char *name, size_t nsize, char *text, size_t tsize);
/* After case @i ran the same on both: "" or what else differs on @kb. */
typedef void (*case_check_fn)(unsigned int i, struct kvm_backend *kb, char *msg, size_t size);

/*
 * Every case of @gen on the model and on one kvm backend for each way to
 * stop (single-stepped, then at the sentinel), the cases following each
 * other in its VM; "" or the way and the first difference in @msg.
 */
static void compare_both_ways(case_text_fn gen, case_check_fn check, char *msg, size_t size)
{
	const struct kvm_profile *p = kvm_profile_find(KVM_BACKEND_HOST_PROFILE);
	struct model_backend *mb = model_backend_create();
	char text[512], name[160], diff[512], err[256];
	struct kvm_backend *kb;
	unsigned int st, i;

	msg[0] = 0;
	if (!mb || !p) {
		snprintf(msg, size, "model backend");
		model_backend_destroy(mb);
		return;
	}
	for (st = 0; st < 2 && !msg[0]; st++) {
		kb = kb_create_stopping(st, err, sizeof(err));
		if (!kb) {
			snprintf(msg, size, "kvm backend: %s", err);
			break;
		}
		diff[0] = 0;
		for (i = 0; !diff[0] && gen(i, name, sizeof(name), text, sizeof(text)); i++) {
			compare_text(kb, mb, p, name, text, diff, sizeof(diff));
			if (!diff[0] && check)
				check(i, kb, diff, sizeof(diff));
		}
		kvm_backend_destroy(kb);
		if (diff[0])
			snprintf(msg, size, "%s: %s", stop_name(st), diff);
	}
	model_backend_destroy(mb);
}

/* A test of compare_both_ways(): skips without /dev/kvm, fails on a difference. */
static void both_ways_test(struct test_ctx *t, case_text_fn gen, case_check_fn check)
{
	char msg[512];

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	compare_both_ways(gen, check, msg, sizeof(msg));
	TEST_ASSERT(!msg[0], "%s", msg);
}

/*
 * The instruction's own "out 0xe6, al" (e6 e6) and "out dx, al" (ee) with
 * DX 0xe6, in every mode, single-stepped and stopped at the sentinel: the
 * port is the sentinel's, but the exit is the instruction's (a one-byte
 * OUT retires with RIP one past it, not the sentinel's two), so the case
 * retires right after it with its own RIP.
 */
TEST(kvm_backend_own_out_to_the_sentinel_port)
{
	static const char *const modes[] = {
		"real16", "prot16", "prot32", "prot32-paging", "long64",
	};
	static const struct {
		const char *insn;
		unsigned int len;
	} insns[] = { { "e6 e6", 2 }, { "ee", 1 } };
	static struct run_result r;
	char text[256], msg[256] = "", err[256];
	struct kvm_backend *kb;
	struct scenario s;
	unsigned int st, i, j;
	int ret;

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	for (st = 0; st < 2 && !msg[0]; st++) {
		kb = kb_create_stopping(st, err, sizeof(err));
		TEST_ASSERT(kb, "kvm backend: %s", err);
		for (i = 0; i < ARRAY_SIZE(modes) && !msg[0]; i++) {
			for (j = 0; j < ARRAY_SIZE(insns) && !msg[0]; j++) {
				u64 ip = !strcmp(modes[i], "real16") || !strcmp(modes[i], "prot16") ?
					 0 : SCN_CODE_GPA;

				snprintf(text, sizeof(text), "mode %s\ninsn %s\nreg rdx 0xe6\n",
					 modes[i], insns[j].insn);
				if (scenario_parse_text(&s, text, msg, sizeof(msg)))
					break;
				ret = kvm_backend_run(kb, &s, &r);
				if (ret)
					snprintf(msg, sizeof(msg), "%s %s: %s (%s)", modes[i],
						 insns[j].insn, strerror(-ret), kvm_backend_why(kb));
				else if (r.outcome != OUTCOME_RETIRED || r.nr_exits ||
					 r.rip != ip + insns[j].len)
					snprintf(msg, sizeof(msg), "%s, %s %s: %s, %u exits, rip 0x%llx; "
						 "wanted retired, no exits, rip 0x%llx",
						 stop_name(st), modes[i], insns[j].insn,
						 run_outcome_name(r.outcome), r.nr_exits,
						 (unsigned long long)r.rip,
						 (unsigned long long)(ip + insns[j].len));
			}
		}
		kvm_backend_destroy(kb);
	}
	TEST_ASSERT(!msg[0], "%s", msg);
}

/*
 * Paging off, the instruction in the second code page (linear 0x601ff0,
 * or CS base 0x601000 in real mode): its bytes are there, not at the same
 * offset of the first page, so the split read exits as in the model.  The
 * two sentinel bytes must fit after it too: a one-byte instruction at
 * 0x601ffd runs, at 0x601ffe it is refused.
 */
static bool second_code_page_case(unsigned int i, char *name, size_t nsize, char *text,
				  size_t tsize)
{
	static const char *const cases[] = {
		"mode prot32\ninsn 8b 07\nreg rip 0x601ff0\nreg rdi 0x40000ffe\n"
		"map 0x40000000 0x40000000 mmio\nmap 0x40001000 0x40001000 mmio\n",
		"mode real16\nseg cs 0x601000 0xffff\ninsn 8b 05\nreg rip 0xff0\nreg rdi 0x8fff\n",
	};

	if (i >= ARRAY_SIZE(cases))
		return false;
	snprintf(name, nsize, "%s", i ? "real16" : "prot32");
	snprintf(text, tsize, "%s", cases[i]);
	return true;
}

TEST(kvm_backend_code_in_the_second_code_page)
{
	static struct run_result r;
	char msg[512];
	int ret;

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	compare_both_ways(second_code_page_case, NULL, msg, sizeof(msg));
	TEST_ASSERT(!msg[0], "%s", msg);

	ret = run_text("mode prot32\ninsn ee\nreg rip 0x601ffd\n", &r, NULL, msg, sizeof(msg));
	TEST_ASSERT(!ret && r.outcome == OUTCOME_RETIRED && r.rip == 0x601ffe,
		    "out dx, al at 0x601ffd: %s, %s at 0x%llx; wanted retired at 0x601ffe", msg,
		    run_outcome_name(r.outcome), (unsigned long long)r.rip);
	ret = run_text("mode prot32\ninsn ee\nreg rip 0x601ffe\n", &r, NULL, msg, sizeof(msg));
	TEST_ASSERT(ret == -EOPNOTSUPP && r.outcome == OUTCOME_NOT_RUN,
		    "out dx, al at 0x601ffe: %d (%s), wanted -EOPNOTSUPP: no room for the sentinel",
		    ret, msg);
}

/*
 * The irqchip on (the default) in every mode and CPL: LAPIC and IOAPIC
 * reads and writes, coalesced and ioeventfd frames, faults, each case
 * single-stepped and stopped at the sentinel, give the model's exits,
 * trace, outcome, RIP and RAX, and nothing blocks in the kernel (a hlt
 * would: the case would end at the time limit).  Coalesced pieces land in
 * the ring and ioeventfd writes signal in real mode and at CPL 3 too.
 */
static const struct {
	const char *name, *text;
	int ring, signals;	/* -1: not checked */
} every_mode_cases[] = {
	{ "real16 lapic read", "mode real16\nseg ds 0xfee00000 0xffff\ninsn 8b 05\n"
	  "reg rdi 0x30\nmap 0xfee00000 0xfee00000 lapic\n", -1, -1 },
	{ "real16 lapic read crossing a register", "mode real16\n"
	  "seg ds 0xfee00000 0xffff\ninsn 66 8b 05\nreg rdi 0x32\n"
	  "map 0xfee00000 0xfee00000 lapic\n", -1, -1 },
	{ "real16 ioapic read", "mode real16\nseg ds 0xfec00000 0xffff\ninsn 66 8b 05\n"
	  "reg rdi 0x10\nmap 0xfec00000 0xfec00000 ioapic\n", -1, -1 },
	{ "real16 coalesced split write", "mode real16\ninsn 66 89 05\nreg rdi 0x5ffe\n"
	  "reg rax 0x11223344\nmap 0x5000 0x5000 coalesced\nmap 0x6000 0x6000 mmio\n",
	  1, -1 },
	{ "real16 ioeventfd write", "mode real16\ninsn 89 05\nreg rdi 0x6000\n"
	  "reg rax 0x4000\nmap 0x6000 0x6000 ioeventfd ev=0x0:2\n", -1, 1 },
	{ "real16 #GP", "mode real16\ninsn 8b 06 ff ff\nreg rsp 0x7800\n"
	  "map 0x7000 0x7000 ram\n", -1, -1 },
	{ "prot16 ioapic read", "mode prot16\nseg ds 0xfec00000 0xffff\ninsn 66 8b 05\n"
	  "reg rdi 0x10\nmap 0xfec00000 0xfec00000 ioapic\n", -1, -1 },
	{ "prot16 lapic write", "mode prot16\nseg ds 0xfee00000 0xffff\ninsn 66 89 05\n"
	  "reg rdi 0x80\nreg rax 0x20\nmap 0xfee00000 0xfee00000 lapic\n", -1, -1 },
	{ "prot16 #GP", "mode prot16\ninsn 8b 06 ff ff\nreg rsp 0x7800\n"
	  "map 0x7000 0x7000 ram\n", -1, -1 },
	{ "prot16 CPL 3 coalesced split write", "mode prot16\ncpl 3\ninsn 66 89 05\n"
	  "reg rdi 0x5ffe\nmap 0x5000 0x5000 coalesced\nmap 0x6000 0x6000 mmio\n", 1, -1 },
	{ "prot16 CPL 3 #GP", "mode prot16\ncpl 3\ninsn 8b 06 ff ff\n"
	  "map 0x7000 0x7000 ram\n", -1, -1 },
	{ "prot32 CPL 3 lapic read", "mode prot32\ncpl 3\ninsn 8b 07\nreg rdi 0xfee00030\n"
	  "map 0xfee00000 0xfee00000 lapic\n", -1, -1 },
	{ "prot32 CPL 3 ioeventfd split write", "mode prot32\ncpl 3\ninsn 89 07\n"
	  "reg rdi 0x40000ffe\nmap 0x40000000 0x40000000 mmio\n"
	  "map 0x40001000 0x40001000 ioeventfd ev=0x0:2\n", -1, 1 },
	{ "prot32-paging CPL 3 lapic read", "mode prot32-paging\ncpl 3\ninsn 8b 07\n"
	  "reg rdi 0x40000030\nmap 0x40000000 0xfee00000 lapic user\n", -1, -1 },
	{ "prot32-paging CPL 3 #PF", "mode prot32-paging\ncpl 3\ninsn 8b 07\n"
	  "reg rdi 0x40000ffe\nmap 0x40000000 0x1000 mmio user\n"
	  "map 0x40001000 0x2000 mmio\n", -1, -1 },
	{ "long64 CPL 3 lapic read", "mode long64\ncpl 3\ninsn 8b 07\n"
	  "reg rdi 0x40000030\nmap 0x40000000 0xfee00000 lapic user\n", -1, -1 },
	{ "long64 CPL 3 coalesced split write", "mode long64\ncpl 3\ninsn 48 89 07\n"
	  "reg rdi 0x40000ffc\nmap 0x40000000 0x5000 coalesced user\n"
	  "map 0x40001000 0x6000 mmio user\n", 1, -1 },
	{ "long64 CPL 3 #PF", "mode long64\ncpl 3\ninsn 8b 07\nreg rdi 0x40000ffe\n"
	  "map 0x40000000 0x1000 mmio user\nmap 0x40001000 0x2000 mmio\n", -1, -1 },
};

static bool every_mode_case(unsigned int i, char *name, size_t nsize, char *text, size_t tsize)
{
	if (i >= ARRAY_SIZE(every_mode_cases))
		return false;
	snprintf(name, nsize, "%s", every_mode_cases[i].name);
	snprintf(text, tsize, "%s", every_mode_cases[i].text);
	return true;
}

/* Coalesced pieces in the ring and ioeventfd signals, where the case counts them. */
static void every_mode_check(unsigned int i, struct kvm_backend *kb, char *msg, size_t size)
{
	const struct kvm_devices_log *log = kvm_backend_devices_log(kb);
	int ring = every_mode_cases[i].ring, signals = every_mode_cases[i].signals;

	if (ring >= 0 && log->nr_ring != (unsigned int)ring)
		snprintf(msg, size, "%s: %u ring entries, wanted %d",
			 every_mode_cases[i].name, log->nr_ring, ring);
	else if (signals >= 0 && log->ioeventfd_signals != (u64)signals)
		snprintf(msg, size, "%s: %llu ioeventfd signals, wanted %d",
			 every_mode_cases[i].name, (unsigned long long)log->ioeventfd_signals,
			 signals);
}

TEST(kvm_devices_every_mode_and_cpl)
{
	both_ways_test(t, every_mode_case, every_mode_check);
}

/*
 * At CPL 3 the sentinel is #GP(0), delivered with RF set in the pushed
 * RFLAGS; the case retired, and its RFLAGS are the instruction's: RF clear
 * (an emulated or native instruction clears it when it retires, also when
 * the scenario gave it), all other bits the model's.  Every protected mode,
 * single-stepped and stopped at the sentinel, RAM and MMIO operands.
 */
static bool cpl3_rflags_case(unsigned int i, char *name, size_t nsize, char *text,
			     size_t tsize)
{
	static const char *const modes[] = { "prot16", "prot32", "prot32-paging", "long64" };
	static const struct {
		const char *insn, *maps;
	} insns[] = {
		{ "01 d8", "" },			/* add eax, ebx: the flags */
		{ "89 07", "map 0x40000000 0x40000000 mmio user\n" },	/* an MMIO write */
		{ "8b 07", "map 0x40000000 0x40000000 ram user\n" },	/* a RAM read */
	};
	static const char *const flags[] = { "0x2", "0x10002", "0x10ad7" };
	unsigned int k = i % ARRAY_SIZE(flags), j = i / ARRAY_SIZE(flags) % ARRAY_SIZE(insns);

	i /= ARRAY_SIZE(flags) * ARRAY_SIZE(insns);
	if (i >= ARRAY_SIZE(modes))
		return false;
	snprintf(text, tsize, "mode %s\ncpl 3\ninsn %s\nreg rdi 0x40000010\n"
		 "reg rax 0x7fffffff\nreg rbx 0x1\nreg rflags %s\n%s",
		 modes[i], insns[j].insn, flags[k], insns[j].maps);
	snprintf(name, nsize, "%s CPL 3 %s rflags %s", modes[i], insns[j].insn, flags[k]);
	return true;
}

TEST(kvm_cpl3_sentinel_leaves_the_instructions_rflags)
{
	both_ways_test(t, cpl3_rflags_case, NULL);
}

/* Every mode, at CPL 0 and, where it has one, at CPL 3. */
static const struct mode_cpl {
	const char *mode;
	unsigned int cpl;
} every_mode_cpl[] = {
	{ "real16", 0 }, { "prot16", 0 }, { "prot16", 3 }, { "prot32", 0 }, { "prot32", 3 },
	{ "prot32-paging", 0 }, { "prot32-paging", 3 }, { "long64", 0 }, { "long64", 3 },
};

/*
 * popf loads TF, which KVM hides from userspace while it single-steps the
 * guest: such an instruction is stopped at the sentinel instead.  popf
 * setting TF (the trap comes after the next instruction: the case retires
 * with TF set), clearing it and keeping it (the #DB trap after popf
 * itself), from an MMIO stack, in every mode and CPL, single-stepped and
 * stopped at the sentinel, give the model's outcome, RIP and RFLAGS.
 */
static bool popf_case(unsigned int i, char *name, size_t nsize, char *text, size_t tsize)
{
	static const struct {
		const char *rflags, *popped;
	} f[] = {
		{ "0x2", "03 01 00 00 00 00 00 00" },	/* sets TF */
		{ "0x102", "02 00 00 00 00 00 00 00" },	/* clears TF: #DB after popf */
		{ "0x102", "d7 01 00 00 00 00 00 00" },	/* keeps TF: #DB after popf */
	};
	unsigned int j = i % ARRAY_SIZE(f);
	const struct mode_cpl *m;

	if (i / ARRAY_SIZE(f) >= ARRAY_SIZE(every_mode_cpl))
		return false;
	m = &every_mode_cpl[i / ARRAY_SIZE(f)];
	snprintf(text, tsize, "mode %s\ncpl %u\ninsn 9d\nreg rflags %s\nmmio-data %s\n",
		 m->mode, m->cpl, f[j].rflags, f[j].popped);
	/* the stack: an MMIO page, at 0x40000000 with paging (a user page at CPL 3) */
	if (!strcmp(m->mode, "prot32-paging") || !strcmp(m->mode, "long64"))
		snprintf(text + strlen(text), tsize - strlen(text),
			 "reg rsp 0x40000000\nmap 0x40000000 0x7000 mmio%s\n",
			 m->cpl ? " user" : "");
	else
		snprintf(text + strlen(text), tsize - strlen(text),
			 "reg rsp 0x7000\nmap 0x7000 0x7000 mmio\n");
	snprintf(name, nsize, "%s CPL %u popf %s from %s", m->mode, m->cpl, f[j].popped,
		 f[j].rflags);
	return true;
}

TEST(kvm_popf_loading_tf_is_compared)
{
	both_ways_test(t, popf_case, NULL);
}

/*
 * One GDT (harness_gdt()) and the same segment registers
 * (harness_segment()) on both backends: in every mode and CPL, reading
 * and pushing the selectors, loading each segment register with the
 * selector it holds, with each entry of the table and past its limit,
 * gives the model's outcome, error code, RAX and RSP, single-stepped and
 * stopped at the sentinel.
 */
static bool segment_case(unsigned int i, char *name, size_t nsize, char *text, size_t tsize)
{
	static const struct {
		const char *insn;
		int seg;		/* RAX: this register's selector; -1: none */
		int sel;		/* RAX: this selector; -1: none */
	} c[] = {
		{ "8c c8", -1, -1 },		/* mov eax, cs */
		{ "8c d0", -1, -1 },		/* mov eax, ss */
		{ "8c d8", -1, -1 },		/* mov eax, ds */
		{ "0e", -1, -1 },		/* push cs (#UD in 64-bit mode) */
		{ "16", -1, -1 },		/* push ss */
		{ "0f a0", -1, -1 },		/* push fs */
		{ "66 0f a8", -1, -1 },		/* push gs, 16-bit operand */
		{ "8e d8", VCPU_SREG_DS, -1 },	/* mov ds, eax: its own */
		{ "8e d0", VCPU_SREG_SS, -1 },	/* mov ss, eax: its own */
		{ "8e c0", VCPU_SREG_CS, -1 },	/* mov es, eax: CS's (readable code) */
		{ "8e d0", -1, HARNESS_SEL_DATA },
		{ "8e d0", -1, HARNESS_SEL_UDATA },
		{ "8e d0", -1, HARNESS_SEL_DATA16 },
		{ "8e d0", -1, HARNESS_SEL_UDATA16 },
		{ "8e d0", -1, HARNESS_SEL_CODE32 },
		{ "8e e0", -1, HARNESS_SEL_UCODE16 },
		{ "8e e0", -1, HARNESS_SEL_CODE64 | 3 },
		{ "8e e8", -1, HARNESS_SEL_TSS },
		{ "8e e8", -1, 0x20 },
		{ "8e e8", -1, HARNESS_GDT_ENTRIES * 8 - 5 },	/* the last entry, RPL 3 */
		{ "8e e8", -1, HARNESS_GDT_ENTRIES * 8 },	/* past the limit */
		{ "8e e8", -1, 0 },
	};
	unsigned int j = i % ARRAY_SIZE(c);
	struct harness_segment h = { .selector = (u16)c[j].sel };
	const struct mode_cpl *m;
	struct scenario s;
	char err[256];

	if (i / ARRAY_SIZE(c) >= ARRAY_SIZE(every_mode_cpl))
		return false;
	m = &every_mode_cpl[i / ARRAY_SIZE(c)];
	/* the stack in RAM below the code; a text that does not parse fails in the run */
	snprintf(text, tsize, "mode %s\ncpl %u\ninsn %s\nreg rsp 0x7800\nmap 0x7000 0x7000 ram%s\n",
		 m->mode, m->cpl, c[j].insn, m->cpl ? " user" : "");
	if (c[j].seg >= 0 && !scenario_parse_text(&s, text, err, sizeof(err)))
		harness_segment(&s, c[j].seg, &h);
	if (c[j].seg >= 0 || c[j].sel >= 0)
		snprintf(text + strlen(text), tsize - strlen(text), "reg rax 0x%x\n", h.selector);
	snprintf(name, nsize, "%s CPL %u %s rax 0x%x", m->mode, m->cpl, c[j].insn, h.selector);
	return true;
}

TEST(kvm_segments_are_the_models)
{
	both_ways_test(t, segment_case, NULL);
}

/*
 * Native 64-bit CPL 3 code is stepped with TF, which KVM sets only while
 * the linear RIP is the one it was armed for; the read-cache priming of a
 * case that maps the APIC page runs other code in between.  A jmp at RIP
 * above 4 GiB, run again and again in one VM, still stops at its target
 * (RAM pattern bytes, which must not run).
 */
TEST(kvm_devices_native_step_after_priming)
{
	static const char *const text =
		"mode long64\ncpl 3\nreg rip 0x100000000\ninsn e9 fb ff 00 00\n"
		"map 0x100010000 0x5000 ram user\nmap 0x40000000 0xfee00000 lapic user\n";
	const struct kvm_profile *p = kvm_profile_find(KVM_BACKEND_HOST_PROFILE);
	struct model_backend *mb;
	struct kvm_backend *kb;
	char msg[512] = "", err[256];
	unsigned int i;

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	kb = kvm_backend_create(err, sizeof(err));
	TEST_ASSERT(kb, "kvm backend: %s", err);
	if (!kvm_backend_single_steps(kb)) {
		kvm_backend_destroy(kb);
		TEST_REQUIRE(false, "no single-stepping (KVM refused it, or "
			     "FRAGFUZZ_KVM_NO_SINGLESTEP)");
	}
	mb = model_backend_create();
	TEST_ASSERT(mb && p, "model backend");
	for (i = 0; i < 3 && !msg[0]; i++)
		compare_text(kb, mb, p, "jmp above 4 GiB", text, msg, sizeof(msg));
	kvm_backend_destroy(kb);
	model_backend_destroy(mb);
	TEST_ASSERT(!msg[0], "run %u: %s", i, msg);
}

/*
 * kvm_backend_set_limits(): max_exits ends a rep string over MMIO at that
 * many exits, max_ns ends a guest that never stops (a jump to itself,
 * stopped at the sentinel) after that time instead of the default 50 ms;
 * RUN_LIMITS_DEFAULT gives the whole run back.
 */
TEST(kvm_backend_limits)
{
	static const char *const rep_text =
		"mode long64\ninsn f3 a4\nreg rcx 50\nreg rsi 0x40000000\nreg rdi 0x40001000\n"
		"map 0x40000000 0x1000 mmio\nmap 0x40001000 0x2000 ram\n";
	static const char *const loop_text = "mode prot32\ninsn eb fe\n";
	struct run_limits lim = RUN_LIMITS_DEFAULT;
	static struct run_result r;
	struct timespec t0, t1;
	struct kvm_backend *kb;
	struct scenario s;
	char err[256];
	long ms;
	int ret;

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	kb = kb_create_stopping(true, err, sizeof(err));
	TEST_ASSERT(kb, "kvm backend: %s", err);

	TEST_ASSERT(!scenario_parse_text(&s, rep_text, err, sizeof(err)), "%s", err);
	lim.max_exits = 10;
	kvm_backend_set_limits(kb, lim);
	ret = kvm_backend_run(kb, &s, &r);
	TEST_ASSERT(!ret && r.outcome == OUTCOME_BUDGET && r.nr_exits == 10,
		    "rep movsb, 50 reads, max_exits 10: %d, %s, %u exits; wanted budget, 10",
		    ret, run_outcome_name(r.outcome), r.nr_exits);
	kvm_backend_set_limits(kb, RUN_LIMITS_DEFAULT);
	ret = kvm_backend_run(kb, &s, &r);
	TEST_ASSERT(!ret && r.outcome == OUTCOME_RETIRED && r.nr_exits == 50,
		    "rep movsb, default limits: %d, %s, %u exits; wanted retired, 50",
		    ret, run_outcome_name(r.outcome), r.nr_exits);

	TEST_ASSERT(!scenario_parse_text(&s, loop_text, err, sizeof(err)), "%s", err);
	lim = RUN_LIMITS_DEFAULT;
	lim.max_ns = 2000000;
	kvm_backend_set_limits(kb, lim);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = kvm_backend_run(kb, &s, &r);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	kvm_backend_destroy(kb);
	TEST_ASSERT(!ret && r.outcome == OUTCOME_BUDGET && ms < 40,
		    "jmp to itself, max_ns 2 ms: %d, %s after %ld ms; wanted budget before 40 ms",
		    ret, run_outcome_name(r.outcome), ms);
}

/*
 * Issue 5's bar: every seed scenario runs on the kernel and the model as
 * this host runs it (shadow MMU, RFLAGS.VM dropped) with no fidelity
 * difference: exits, trace, outcome, exception, RIP, GPRs, RFLAGS.
 */
TEST(kvm_corpus_has_no_fidelity_difference)
{
	const struct kvm_profile *p = kvm_profile_find(KVM_BACKEND_HOST_PROFILE);
	static struct corpus_set cs;
	static struct run_result rm, rk;
	struct model_backend *mb;
	struct kvm_backend *kb;
	char err[256], msg[512] = "";
	unsigned int i, bad = 0;
	int n = 0;

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	TEST_ASSERT(load_all_corpus(&cs), "cannot read corpus/");
	kb = kvm_backend_create(err, sizeof(err));
	TEST_ASSERT(kb, "kvm backend: %s", err);
	mb = model_backend_create();
	for (i = 0; mb && i < cs.nr; i++) {
		struct violation_list vl = { 0 };
		struct scenario *s = &cs.s[i];
		int r;

		s->ctl &= ~SCN_CTL_TDP;
		fidelity_host_scenario(s);
		if (model_backend_run(mb, s, p, &rm)) {
			bad++;
			n += snprintf(msg + n, sizeof(msg) - n, "%s: model set-up; ", cs.names[i]);
			continue;
		}
		r = kvm_backend_run(kb, s, &rk);
		if (r || fidelity_check(p, s, &rm, &rk, kvm_backend_traced(kb), &vl)) {
			bad++;
			if (n < (int)sizeof(msg) - 1)
				n += snprintf(msg + n, sizeof(msg) - n, "%s: %s; ", cs.names[i],
					      r ? kvm_backend_why(kb) : vl.v[0].detail);
		}
	}
	kvm_backend_destroy(kb);
	TEST_ASSERT(mb, "no model backend");
	model_backend_destroy(mb);
	TEST_ASSERT(!bad, "wanted no difference on %u seeds, got %u: %s", cs.nr, bad, msg);
}

/*
 * The state a case may leave outside the registers is put back by parts
 * (case_dirties() in backend_kvm.c): an SSE load into XMM0 from RAM, then a
 * store of XMM0 to MMIO writes what a fresh backend writes (the fresh
 * vCPU's XMM0); so does a store after a debug-register write, and a read
 * after a hlt runs (the vCPU is runnable again).
 */
TEST(kvm_backend_extended_state_is_put_back)
{
	static const char *const store =
		"mode long64\ninsn 0f 29 07\nreg rdi 0x40000000\nmap 0x40000000 0x20000 mmio\n";
	static const char *const before[] = {
		"mode long64\ninsn 0f 28 07\nreg rdi 0x40000000\nmap 0x40000000 0x10000 ram\n",
		"mode long64\ninsn 0f 23 f8\nreg rax 0x401\n",		/* mov dr7, rax */
		"mode long64\ninsn f4\n",				/* hlt */
		"mode long64\ninsn 66 0f 6e c0\nreg rax 0x12345678\n",	/* movd xmm0, eax */
	};
	static struct run_result fresh, r;
	struct kvm_backend *kb;
	struct scenario s;
	char err[256];
	unsigned int i;
	int ret;

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	TEST_ASSERT(!scenario_parse_text(&s, store, err, sizeof(err)), "scenario: %s", err);
	kb = kvm_backend_create(err, sizeof(err));
	TEST_ASSERT(kb, "kvm backend: %s", err);
	ret = kvm_backend_run(kb, &s, &fresh);
	TEST_ASSERT(!ret && fresh.nr_exits >= 1, "store on a fresh backend: %s, %u exits",
		    strerror(-ret), fresh.nr_exits);
	for (i = 0; i < ARRAY_SIZE(before); i++) {
		struct scenario b;

		TEST_ASSERT(!scenario_parse_text(&b, before[i], err, sizeof(err)), "scenario: %s",
			    err);
		ret = kvm_backend_run(kb, &b, &r);
		TEST_ASSERT(!ret, "case %u before the store: %s", i, strerror(-ret));
		ret = kvm_backend_run(kb, &s, &r);
		TEST_ASSERT(!ret, "store after case %u: %s", i, strerror(-ret));
		TEST_ASSERT(result_digest(0, &r, kvm_backend_traced(kb)) ==
			    result_digest(0, &fresh, kvm_backend_traced(kb)),
			    "store after case %u: wanted a fresh backend's %u exits (first data %02x), got %u (%02x)",
			    i, fresh.nr_exits, fresh.exits[0].data[0], r.nr_exits,
			    r.nr_exits ? r.exits[0].data[0] : 0);
	}
	kvm_backend_destroy(kb);
}

/*
 * A real-mode ret that returns to itself (the MMIO stack holds its own IP
 * six times) is one model pass a step, not a REP string's 1024: under the
 * fuzz target's limits the kernel must step it as often as the model runs
 * it, and read the same MMIO bytes (with six steps at most it stopped
 * early and the oracle saw other data at the seventh pop).
 */
TEST(kvm_backend_ret_to_itself_steps_like_the_model)
{
	static const char *const text =
		"mode real16\ninsn c3\nreg rax 0xe003\nmap 0xa000 0xa000 ram\n"
		"mmio-data 00 00 00 00 00 00 00 00 00 00 00 00 08 00\n";
	const struct run_limits lim = { .max_exits = 64, .max_passes = 4096, .max_ns = 50000000 };
	const struct kvm_profile *p = kvm_profile_find(KVM_BACKEND_HOST_PROFILE);
	static struct run_result rm, rk;
	struct violation_list vl = { 0 };
	struct model_backend *mb;
	struct kvm_backend *kb;
	struct scenario s;
	char err[256];
	int r;

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	TEST_ASSERT(!scenario_parse_text(&s, text, err, sizeof(err)), "scenario: %s", err);
	fidelity_host_scenario(&s);
	mb = model_backend_create();
	TEST_ASSERT(mb, "no model backend");
	model_backend_set_limits(mb, lim);
	TEST_ASSERT(!model_backend_run(mb, &s, p, &rm), "model run");
	model_backend_destroy(mb);
	kb = kvm_backend_create(err, sizeof(err));
	TEST_ASSERT(kb, "kvm backend: %s", err);
	kvm_backend_set_limits(kb, lim);
	r = kvm_backend_run(kb, &s, &rk);
	TEST_ASSERT(!r, "kvm run: %s (%s)", strerror(-r), kvm_backend_why(kb));
	fidelity_check(p, &s, &rm, &rk, kvm_backend_traced(kb), &vl);
	oracle_check(&s, p, &rk, &rm.accesses, &vl);
	kvm_backend_destroy(kb);
	TEST_ASSERT_EQ(rk.nr_exits, rm.nr_exits, "kernel exits = model exits");
	TEST_ASSERT(!vl.nr_unknown, "wanted no difference and no violation, got %u: %s",
		    vl.nr_unknown, vl.nr ? vl.v[0].detail : "");
}

/*
 * iobus-missed: with the devices registered as zone A (0x1000), ioeventfd E
 * (0x3000, length 0), zone B (0x2000) on a VM without irqchip, KVM's MMIO
 * bus search misses zone B (harness/kvm/iobus_order.c) and the write to it
 * exits; the backend says so.  Registered A, B, E the write is coalesced.
 * The backend registers in map order.
 */
TEST(kvm_backend_sees_the_bus_miss_a_zone)
{
	static const char zone_a[] = "irqchip off\nmode long64\ninsn 88 07\nreg rdi 0x40001000\n"
				     "map 0x40000000 0x1000 coalesced\n";
	static const char e_then_b[] = "map 0x40002000 0x3000 ioeventfd ev=0x0:0\n"
				       "map 0x40001000 0x2000 coalesced\n";
	static const char b_then_e[] = "map 0x40001000 0x2000 coalesced\n"
				       "map 0x40002000 0x3000 ioeventfd ev=0x0:0\n";
	static struct run_result r;
	char text[512], msg[256];

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	snprintf(text, sizeof(text), "%s%s", zone_a, b_then_e);
	TEST_ASSERT(!run_text(text, &r, NULL, msg, sizeof(msg)), "%s", msg);
	TEST_ASSERT_EQ(r.iobus_missed, false, "bus miss, zones first");
	TEST_ASSERT_EQ(r.nr_exits, 0, "exits, zones first");
	snprintf(text, sizeof(text), "%s%s", zone_a, e_then_b);
	TEST_ASSERT(!run_text(text, &r, NULL, msg, sizeof(msg)), "%s", msg);
	TEST_ASSERT_EQ(r.iobus_missed, true, "bus miss, zone B after the ioeventfd (6.18.44)");
	TEST_ASSERT_EQ(r.iobus_missed_gpa, 0x2000, "GPA of the missed write");
}

/*
 * hlt without the irqchip, then an instruction that is #UD in 64-bit mode,
 * on one backend: the second case gets its #UD.  Single-stepping the hlt
 * left kvm_pvm to deliver the KVM_EXIT_HLT at the next KVM_RUN, which read
 * as the second case retiring (hlt_exits() in backend_kvm.c).
 */
TEST(kvm_backend_hlt_leaves_no_exit_for_the_next_case)
{
	static const char *const texts[] = {
		"irqchip off\nmode long64\ninsn f4\n",
		"irqchip off\nmode long64\ninsn 2f\n",
		"irqchip off\nmode prot32-paging\ninsn f4\n",
		"irqchip off\nmode long64\ninsn 2f\n",
	};
	static struct run_result r;
	struct kvm_backend *kb;
	struct scenario s;
	char err[256];
	unsigned int i;

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	kb = kvm_backend_create(err, sizeof(err));
	TEST_ASSERT(kb, "kvm backend: %s", err);
	for (i = 0; i < ARRAY_SIZE(texts); i++) {
		int ret;

		if (scenario_parse_text(&s, texts[i], err, sizeof(err)) ||
		    (ret = kvm_backend_run(kb, &s, &r))) {
			kvm_backend_destroy(kb);
			TEST_FAIL("case %u: cannot run (%s)", i, err);
		}
		if (i % 2 && (r.outcome != OUTCOME_EXCEPTION || r.exception.vector != UD_VECTOR)) {
			kvm_backend_destroy(kb);
			TEST_FAIL("case %u: Wanted #UD after the hlt case, got outcome %s vector %u",
				  i, run_outcome_name(r.outcome), r.exception.vector);
		}
	}
	kvm_backend_destroy(kb);
}

/*
 * F3 on a jump is no REP string: at the fuzz target's limits (4096 model
 * passes, so a REP string gets 6 steps) `f3 ff 64 3d`, a jump to itself
 * until the MMIO data moves it, still runs its 9 steps and retires.
 */
TEST(kvm_backend_rep_prefix_on_a_jump_is_stepped_as_a_jump)
{
	static const char text[] = "mode real16\ninsn f3 ff 64 3d\nreg rcx 0x6ff2\n"
				   "map 0x8000 0x8000 mmio\n"
				   "mmio-data 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n"
				   "mmio-data c7 10 80 00\n";
	static struct run_result r;
	struct kvm_backend *kb;
	struct scenario s;
	char err[256];
	int ret;

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	TEST_ASSERT(!scenario_parse_text(&s, text, err, sizeof(err)), "%s", err);
	kb = kvm_backend_create(err, sizeof(err));
	TEST_ASSERT(kb, "kvm backend: %s", err);
	kvm_backend_set_limits(kb, (struct run_limits){ .max_exits = 32, .max_passes = 4096 });
	ret = kvm_backend_run(kb, &s, &r);
	kvm_backend_destroy(kb);
	TEST_ASSERT(!ret, "kvm run: %s", strerror(-ret));
	TEST_ASSERT(r.outcome == OUTCOME_RETIRED, "Wanted retired, got %s",
		    run_outcome_name(r.outcome));
	TEST_ASSERT_EQ(r.nr_exits, 9, "read exits");
}

/*
 * The model's port device on KVM (PIO ioeventfds on 0x80-0x8f): every
 * write that fits takes the single-step #DB, which a write that exited to
 * userspace loses.  With one ioeventfd per port and width, the bus search
 * missed out to 0x85 and 0x86 (iobus-missed, known-issues.md).
 */
TEST(kvm_backend_port_device_takes_every_width)
{
	static const char *const insns[] = { "ee", "ef", "66 ef" };	/* 1, 2, 4 bytes */
	static const unsigned int widths[] = { 1, 2, 4 };
	static struct run_result r;
	struct kvm_backend *kb;
	struct scenario s;
	char text[160], err[256];
	unsigned int port, i;

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	kb = kvm_backend_create(err, sizeof(err));
	TEST_ASSERT(kb, "kvm backend: %s", err);
	for (port = 0x80; port < 0x90; port++) {
		for (i = 0; i < ARRAY_SIZE(insns); i++) {
			if (port + widths[i] > 0x90)
				continue;
			snprintf(text, sizeof(text), "mode real16\nirqchip off\ninsn %s\n"
				 "reg rdx 0x%x\nreg rflags 0x102\n", insns[i], port);
			if (scenario_parse_text(&s, text, err, sizeof(err)) ||
			    kvm_backend_run(kb, &s, &r)) {
				kvm_backend_destroy(kb);
				TEST_FAIL("port 0x%x width %u: cannot run", port, widths[i]);
			}
			if (r.outcome != OUTCOME_EXCEPTION || r.exception.vector != DB_VECTOR) {
				kvm_backend_destroy(kb);
				TEST_FAIL("port 0x%x width %u: Wanted the #DB of a write the device "
					  "takes, got %s", port, widths[i], run_outcome_name(r.outcome));
			}
		}
	}
	kvm_backend_destroy(kb);
}

/*
 * A POPA from an MMIO stack whose replay faults after its last read exit
 * (prot16, SP 0xffc3: the replay pops past the limit, #SS) leaves KVM's
 * mmio_read_completed set, and the next instruction's first emulated read
 * takes it without an exit (6.18.44; fuzz/known-issues.md).  The same POPA
 * then, on the same backend: its first read exit is at SP as on a new
 * backend, because the backend took the completion between the cases;
 * with FRAGFUZZ_KVM_KEEP_READS the kernel's behaviour shows: the first
 * pop is served from the stale completion, the first exit is at SP + 2.
 */
static const char popa_layout[] =
	"mode prot16\nreg rdx 0x9ff4\nreg rbx 0xff07000001ff8a00\nreg rsp 0x261f3020ec4ffc3\n"
	"map 0x6000 0x6000 mmio\nmap 0xa000 0xa000 mmio\n"
	"mmio-data ff ff ff ff 00 8a 00 01 ff 00 8a 00 01\n";

static void popa_pair(bool keep, u64 *first_gpa, unsigned long *clears, char *msg, size_t size)
{
	static const char *const var = "FRAGFUZZ_KVM_KEEP_READS";
	static struct run_result r;
	char text[512];
	struct kvm_backend *kb;
	struct scenario s;
	unsigned int i;
	int ret = 0;

	if (keep)
		setenv(var, "1", 1);
	kb = kvm_backend_create(msg, size);
	if (keep)
		unsetenv(var);
	if (!kb)
		return;
	msg[0] = 0;
	for (i = 0; i < 2 && !ret; i++) {
		snprintf(text, sizeof(text), "%sinsn %s\n", popa_layout, i ? "61" : "f3 61");
		ret = scenario_parse_text(&s, text, msg, size);
		if (!ret)
			ret = kvm_backend_run(kb, &s, &r);
		if (ret && !msg[0])
			snprintf(msg, size, "case %u: %s (%s)", i, strerror(-ret),
				 kvm_backend_why(kb));
		if (!ret && i == 0 && (r.outcome != OUTCOME_EXCEPTION || r.exception.vector != 12))
			snprintf(msg, size, "f3 61: wanted #SS, got outcome %s vector %u",
				 run_outcome_name(r.outcome), r.exception.vector);
	}
	*first_gpa = !ret && r.nr_exits ? r.exits[0].gpa : 0;
	*clears = kvm_backend_read_clears(kb);
	kvm_backend_destroy(kb);
}

TEST(kvm_backend_popa_fault_leaves_no_read_completion)
{
	unsigned long clears;
	char msg[256] = "";
	u64 gpa;

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	TEST_REQUIRE(!getenv("FRAGFUZZ_KVM_KEEP_READS"), "FRAGFUZZ_KVM_KEEP_READS is set");
	popa_pair(false, &gpa, &clears, msg, sizeof(msg));
	TEST_ASSERT(!msg[0], "%s", msg);
	TEST_ASSERT(clears >= 1, "Wanted the completion taken after 'f3 61', got %lu runs", clears);
	TEST_ASSERT(gpa == 0xffc3, "Wanted the first exit of '61' at 0xffc3, got 0x%llx",
		    (unsigned long long)gpa);
	popa_pair(true, &gpa, &clears, msg, sizeof(msg));
	TEST_ASSERT(!msg[0], "%s", msg);
	TEST_ASSERT_EQ(clears, 0, "runs that took a completion with FRAGFUZZ_KVM_KEEP_READS");
	TEST_ASSERT(gpa == 0xffc5,
		    "Wanted the kernel's stale completion to serve the pop at 0xffc3 (first exit "
		    "0xffc5), got 0x%llx", (unsigned long long)gpa);
}

/*
 * The limits' max_entries on the kernel: a call to itself (`e8 fb ff ff
 * ff`) is single-stepped, one push a step, and ends as budget after
 * max_entries steps, as the model's does after as many entries
 * (harness_run_limits_stop_a_call_to_itself).  Each step is a KVM_RUN.
 */
TEST(kvm_backend_max_entries_stop_a_call_to_itself)
{
	static const char text[] =
		"mode long64\ninsn e8 fb ff ff ff\nreg rsp 0x40003000\n"
		"map 0x40000000 0x10000 ram\nmap 0x40001000 0x11000 ram\n"
		"map 0x40002000 0x12000 ram\n";
	static const unsigned int entries[] = { 16, 64 };
	static struct run_result r;
	struct kvm_backend *kb;
	struct scenario s;
	char err[256];
	unsigned int i;

	TEST_REQUIRE(kvm_usable(), "/dev/kvm not available");
	TEST_ASSERT(!scenario_parse_text(&s, text, err, sizeof(err)), "%s", err);
	kb = kvm_backend_create(err, sizeof(err));
	TEST_ASSERT(kb, "kvm backend: %s", err);
	TEST_REQUIRE(kvm_backend_single_steps(kb), "KVM cannot single-step here");
	for (i = 0; i < ARRAY_SIZE(entries); i++) {
		struct run_limits lim = RUN_LIMITS_DEFAULT;
		u64 pushed;
		int ret;

		lim.max_entries = entries[i];
		kvm_backend_set_limits(kb, lim);
		ret = kvm_backend_run(kb, &s, &r);
		pushed = 0x40003000 - r.regs[VCPU_REGS_RSP];
		if (ret || r.outcome != OUTCOME_BUDGET || pushed != 8ULL * entries[i]) {
			kvm_backend_destroy(kb);
			TEST_FAIL("entries %u: wanted budget after %u pushes, got %d, %s after %llu bytes",
				  entries[i], entries[i], ret, run_outcome_name(r.outcome),
				  (unsigned long long)pushed);
		}
	}
	kvm_backend_destroy(kb);
}
