// SPDX-License-Identifier: GPL-2.0-only
/*
 * The model-vs-kernel comparator (harness/fidelity.c) on hand-built result
 * pairs: no /dev/kvm needed.  Each case starts from two equal results of a
 * scenario, changes one side, and asserts the number of differences and
 * the first one's text ("field: model X, kvm Y"), the run-limit rule
 * (compare what both sides did), then the #DF fallback for legacy-mode
 * faults whose frame cannot be pushed, both ways, and
 * fidelity_frame_undeliverable() on its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "fidelity.h"
#include "test.h"

#define LONG64	"mode long64\n"
/* prot32, default layout: everything near the anchor is MMIO, ESP too */
#define PROT32	"mode prot32\n"
/* prot32 with ESP in the middle of a RAM page */
#define PROT32_RAM_STACK "mode prot32\nreg rsp 0x40001800\nmap 0x40001000 0x40001000 ram\n"

struct fid_case {
	const char *name;
	const char *scenario;		/* text form */
	void (*base)(struct run_result *r);	/* both sides, after the common base */
	void (*model)(struct run_result *r);	/* then the model's side only */
	void (*kvm)(struct run_result *r);	/* then the kernel's side only */
	bool untraced;			/* kernel trace not available */
	unsigned int want;		/* differences */
	const char *detail;		/* the first difference, NULL: none */
};

/* a retired split write with its trace, and some registers */
static void base_result(struct run_result *r, const struct scenario *s)
{
	unsigned int i;

	memset(r, 0, offsetof(struct run_result, trace));
	r->outcome = OUTCOME_RETIRED;
	r->trace.nr = 2;
	r->trace.ev[0] = (struct kvm_mmio_event){ KVM_TRACE_MMIO_WRITE, 2, 0x1ffe, 0xccdd };
	r->trace.ev[1] = (struct kvm_mmio_event){ KVM_TRACE_MMIO_WRITE, 2, 0x2000, 0xaabb };
	r->nr_exits = 2;
	r->exits[0] = (struct run_exit){ 0x1ffe, 2, true, { 0xdd, 0xcc } };
	r->exits[1] = (struct run_exit){ 0x2000, 2, true, { 0xbb, 0xaa } };
	r->has_accesses = false;
	for (i = 0; i < NR_VCPU_REGS; i++)
		r->regs[i] = scenario_reg(s, i);
	r->rip = scenario_reg(s, SCN_REG_RIP) + 2;
	r->rflags = 0x2;
}

static void gp0(struct run_result *r)
{
	r->outcome = OUTCOME_EXCEPTION;
	r->exception = (struct x86_exception){ .vector = GP_VECTOR, .error_code_valid = true };
	r->rip -= 2;
	r->rflags |= X86_EFLAGS_RF;
}

static void ud(struct run_result *r)
{
	r->exception = (struct x86_exception){ .vector = UD_VECTOR };
}

static void ud_rax(struct run_result *r)
{
	r->outcome = OUTCOME_EXCEPTION;
	r->exception = (struct x86_exception){ .vector = UD_VECTOR };
	r->regs[VCPU_REGS_RAX] ^= 1;
}

static void pf(struct run_result *r)
{
	gp0(r);
	r->exception = (struct x86_exception){
		.vector = PF_VECTOR, .error_code_valid = true, .error_code = 2,
		.address = 0x40001000,
	};
}

/* what the kvm backend reports after a legacy-mode shutdown */
static void df(struct run_result *r)
{
	r->exception = (struct x86_exception){ .vector = 8, .error_code_valid = true };
}

static void gp0_df(struct run_result *r)
{
	gp0(r);
	df(r);
}

static void exit0_gpa(struct run_result *r) { r->exits[0].gpa = 0x1000; }
static void exit1_data(struct run_result *r) { r->exits[1].data[1] = 0x55; }
static void exit_extra(struct run_result *r)
{
	r->exits[r->nr_exits++] = (struct run_exit){ 0x3000, 1, false, { 0x42 } };
}
static void event1_val(struct run_result *r) { r->trace.ev[1].val = 0xaa00; }
static void emulation_failure(struct run_result *r)
{
	r->outcome = OUTCOME_EMULATION_FAILURE;
	r->rip -= 2;
}
static void budget(struct run_result *r) { r->outcome = OUTCOME_BUDGET; }
/* the kernel's run stopped at a limit after its first exit and event */
static void cut_after_one(struct run_result *r)
{
	r->outcome = OUTCOME_BUDGET;
	r->nr_exits = 1;
	r->trace.nr = 1;
	r->regs[VCPU_REGS_RAX] ^= 1;
	r->rip -= 2;
}

static void cut_first(struct run_result *r)
{
	cut_after_one(r);
	r->nr_exits = 0;
	r->trace.nr = 0;
}

static void exit0_gpa_cut(struct run_result *r)
{
	cut_after_one(r);
	exit0_gpa(r);
}

/* the model retired after one exit and event */
static void one_exit(struct run_result *r)
{
	r->nr_exits = 1;
	r->trace.nr = 1;
}

static void event0_val_cut(struct run_result *r)
{
	cut_after_one(r);
	r->trace.ev[0].val = 0x1;
}

static void not_modelled(struct run_result *r)
{
	emulation_failure(r);
	r->not_modelled = true;
}
static void error_0x10(struct run_result *r) { r->exception.error_code = 0x10; }
static void error_none(struct run_result *r) { r->exception.error_code_valid = false; }
static void cr2_next(struct run_result *r) { r->exception.address += 0x1000; }
static void rip_plus1(struct run_result *r) { r->rip++; }
static void rax_high(struct run_result *r) { r->regs[VCPU_REGS_RAX] ^= 1ULL << 40; }
static void rax_low(struct run_result *r) { r->regs[VCPU_REGS_RAX] ^= 1; }
static void r9_low(struct run_result *r) { r->regs[VCPU_REGS_R9] ^= 0x100; }
static void cf(struct run_result *r) { r->rflags |= X86_EFLAGS_CF; }
static void rf_clear(struct run_result *r) { r->rflags &= ~X86_EFLAGS_RF; }
static void rflags_high(struct run_result *r) { r->rflags |= 0xb16f00b000000000ULL; }
/* kvm after a real-mode #DB trap: AC and RSP[31:16] gone with the delivery */
static void ac(struct run_result *r) { r->rflags |= X86_EFLAGS_AC; }
static void ac_cf(struct run_result *r) { r->rflags |= X86_EFLAGS_AC | X86_EFLAGS_CF; }
static void rsp_high(struct run_result *r) { r->regs[VCPU_REGS_RSP] |= 0x12340000; }
static void rsp_high_low(struct run_result *r) { r->regs[VCPU_REGS_RSP] ^= 0x12340001; }
static void trap_lost(struct run_result *r)
{
	r->rflags_lost = X86_EFLAGS_AC;
	r->rsp_lost = ~0xffffULL;
}

static const struct fid_case fid_cases[] = {
	{ "fidelity: equal results", LONG64, NULL, NULL, NULL, false, 0, NULL },
	{ "fidelity: an exit's GPA", LONG64, NULL, NULL, exit0_gpa, false, 1,
	  "exits (model 2, kvm 2): exit 0 model W 0x1ffe/2 ddcc, kvm W 0x1000/2 ddcc" },
	{ "fidelity: an exit's data", LONG64, NULL, exit1_data, NULL, false, 1,
	  "exits (model 2, kvm 2): exit 1 model W 0x2000/2 bb55, kvm W 0x2000/2 bbaa" },
	{ "fidelity: one exit more", LONG64, NULL, NULL, exit_extra, false, 1,
	  "exits (model 2, kvm 3): exit 2 model none, kvm R 0x3000/1 42" },
	{ "fidelity: a trace event's value", LONG64, NULL, NULL, event1_val, false, 1,
	  "trace (model 2, kvm 2): event 1 model write len 2 gpa 0x2000 val 0xaabb, "
	  "kvm write len 2 gpa 0x2000 val 0xaa00" },
	{ "fidelity: traces are not compared untraced", LONG64, NULL, NULL, event1_val, true,
	  0, NULL },
	{ "fidelity: the outcome", LONG64, NULL, NULL, emulation_failure, false, 2,
	  "outcome: model retired, kvm emulation-failure" },
	{ "fidelity: the vector", LONG64, gp0, NULL, ud, false, 1,
	  "exception vector: model 13, kvm 6" },
	{ "fidelity: the error code's value", LONG64, gp0, error_0x10, NULL, false, 1,
	  "error code: model 0x10, kvm 0x0" },
	{ "fidelity: an error code on one side only", LONG64, gp0, NULL, error_none, false, 1,
	  "error code: model 0x0, kvm none" },
	{ "fidelity: CR2 of a #PF", LONG64, pf, NULL, cr2_next, false, 1,
	  "cr2: model 0x40001000, kvm 0x40002000" },
	{ "fidelity: CR2 is not a #GP's", LONG64, gp0, NULL, cr2_next, false, 0, NULL },
	{ "fidelity: RIP", LONG64, NULL, rip_plus1, NULL, false, 1,
	  "rip: model 0x600003, kvm 0x600002" },
	{ "fidelity: a GPR's upper half in long mode", LONG64, NULL, NULL, rax_high, false, 1,
	  "rax: model 0x40000ffe, kvm 0x10040000ffe" },
	{ "fidelity: a GPR's upper half in prot32", PROT32, NULL, NULL, rax_high, false, 0,
	  NULL },
	{ "fidelity: a GPR's lower half in prot32", PROT32, NULL, rax_low, NULL, false, 1,
	  "rax: model 0x40000fff, kvm 0x40000ffe" },
	{ "fidelity: r9 in prot32, low 32 bits", PROT32, NULL, NULL, r9_low, false, 1,
	  "r9: model 0x40000ff1, kvm 0x40000ef1" },
	{ "fidelity: RFLAGS", LONG64, NULL, NULL, cf, false, 1, "rflags: model 0x2, kvm 0x3" },
	{ "fidelity: RFLAGS[63:32] (reserved) are not compared", PROT32, NULL, rflags_high,
	  NULL, false, 0, NULL },
	{ "fidelity: RFLAGS[63:32] are not compared in long mode either", LONG64, NULL, NULL,
	  rflags_high, false, 0, NULL },
	{ "fidelity: RFLAGS low half still is, upper bits shown", LONG64, NULL, rflags_high, cf,
	  false, 1, "rflags: model 0xb16f00b000000002, kvm 0x3" },
	{ "fidelity: RFLAGS.AC is compared", PROT32, NULL, ac, NULL, false, 1,
	  "rflags: model 0x40002, kvm 0x2" },
	{ "fidelity: RFLAGS bits the kernel side lost are not", PROT32, trap_lost, ac, NULL,
	  false, 0, NULL },
	{ "fidelity: ... the other bits still are", PROT32, trap_lost, ac_cf, NULL, false, 1,
	  "rflags: model 0x40003, kvm 0x2" },
	{ "fidelity: RSP bits the kernel side lost are not compared", PROT32, trap_lost,
	  rsp_high, NULL, false, 0, NULL },
	{ "fidelity: ... SP still is", PROT32, trap_lost, rsp_high_low, NULL, false, 1,
	  "rsp: model 0x1005, kvm 0x1004" },
	{ "fidelity: RFLAGS.RF of a fault", LONG64, gp0, rf_clear, NULL, false, 1,
	  "rflags: model 0x2, kvm 0x10002" },
	{ "fidelity: registers of the same exception", LONG64, gp0, NULL, rax_low, false, 1,
	  "rax: model 0x40000ffe, kvm 0x40000fff" },
	{ "fidelity: registers after emulation failure", LONG64, emulation_failure, NULL, cf,
	  false, 1, "rflags: model 0x2, kvm 0x3" },
	{ "fidelity: no registers after an exit budget", LONG64, budget, NULL, rax_low, false,
	  0, NULL },
	{ "fidelity: nothing is compared when the model does not emulate it", LONG64, NULL,
	  not_modelled, exit0_gpa, false, 0, NULL },
	{ "fidelity: run limit: the kernel's exits lead the model's", LONG64, NULL, NULL,
	  cut_after_one, false, 0, NULL },
	{ "fidelity: run limit: no exit before the limit", LONG64, NULL, NULL, cut_first,
	  false, 0, NULL },
	{ "fidelity: run limit: the kernel's first exit differs", LONG64, NULL, NULL,
	  exit0_gpa_cut, false, 1,
	  "exits within a run limit (model 2, kvm 1): exit 0 model W 0x1ffe/2 ddcc, "
	  "kvm W 0x1000/2 ddcc" },
	{ "fidelity: run limit: the kernel's first event differs", LONG64, NULL, NULL,
	  event0_val_cut, false, 1,
	  "trace within a run limit (model 2, kvm 1): event 0 model write len 2 gpa 0x1ffe "
	  "val 0xccdd, kvm write len 2 gpa 0x1ffe val 0x1" },
	{ "fidelity: run limit: a complete run with fewer exits", LONG64, NULL, one_exit,
	  budget, false, 1, "exits: model 1, kvm 2 (run limit)" },
	{ "fidelity: run limit on both sides", LONG64, NULL, cut_after_one, budget, false, 0,
	  NULL },
	{ "fidelity: no registers when the outcomes differ", LONG64, NULL, NULL, ud_rax, false,
	  1, "outcome: model retired, kvm exception" },
	/* the #DF normalisation */
	{ "fidelity: prot32 #GP with ESP in MMIO is the kernel's #DF", PROT32, gp0, NULL, df,
	  false, 0, NULL },
	{ "fidelity: prot32 #UD with ESP in MMIO is the kernel's #DF", PROT32, gp0, ud, df,
	  false, 0, NULL },
	{ "fidelity: registers are still compared under #DF", PROT32, gp0, NULL, rax_low,
	  false, 1, "rax: model 0x40000ffe, kvm 0x40000fff" },
	{ "fidelity: prot32 #GP with ESP in RAM is not #DF", PROT32_RAM_STACK, gp0, NULL, df,
	  false, 1, "exception vector: model 13, kvm 8" },
	{ "fidelity: long64 #GP is never #DF", LONG64, gp0, NULL, df, false, 1,
	  "exception vector: model 13, kvm 8" },
	{ "fidelity: a model that retired is not #DF", PROT32, NULL, NULL, gp0_df, false, 2,
	  "outcome: model retired, kvm exception" },
};

static struct run_result fid_m, fid_k;

static void test_fid_case(struct test_ctx *t, const void *arg)
{
	const struct fid_case *c = arg;
	const struct kvm_profile *p = kvm_profile_find("6.18.24");
	struct violation_list vl = { 0 };
	struct scenario s;
	char err[128];
	unsigned int n, i;

	TEST_ASSERT(!scenario_parse_text(&s, c->scenario, err, sizeof(err)), "scenario: %s", err);
	base_result(&fid_m, &s);
	base_result(&fid_k, &s);
	if (c->base) {
		c->base(&fid_m);
		c->base(&fid_k);
	}
	if (c->model)
		c->model(&fid_m);
	if (c->kvm)
		c->kvm(&fid_k);
	n = fidelity_check(p, &s, &fid_m, &fid_k, !c->untraced, &vl);
	for (i = 0; i < vl.nr; i++)
		printf("# %s\n", vl.v[i].detail);
	TEST_ASSERT_EQ(n, c->want, "differences returned");
	TEST_ASSERT_EQ(vl.nr, c->want, "violations added");
	for (i = 0; i < vl.nr; i++)
		TEST_ASSERT(vl.v[i].kind == V_FIDELITY && !vl.v[i].known,
			    "violation %u is %s, wanted unknown fidelity", i,
			    violation_name(vl.v[i].kind));
	if (c->detail)
		TEST_ASSERT(!strcmp(vl.v[0].detail, c->detail), "wanted '%s', got '%s'",
			    c->detail, vl.v[0].detail);
}

/* Every GPR, by name, in long mode. */
static void test_fid_gpr(struct test_ctx *t, const void *arg)
{
	static const char *const names[NR_VCPU_REGS] = {
		"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
		"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
	};
	unsigned int reg = (unsigned int)(uintptr_t)arg;
	const struct kvm_profile *p = kvm_profile_find("6.18.24");
	struct violation_list vl = { 0 };
	struct scenario s;
	char err[128], want[96];

	TEST_ASSERT(!scenario_parse_text(&s, LONG64, err, sizeof(err)), "scenario: %s", err);
	base_result(&fid_m, &s);
	base_result(&fid_k, &s);
	fid_k.regs[reg] = 0x8000000000000001ULL;
	TEST_ASSERT_EQ(fidelity_check(p, &s, &fid_m, &fid_k, true, &vl), 1, "differences");
	snprintf(want, sizeof(want), "%s: model 0x%llx, kvm 0x8000000000000001", names[reg],
		 (unsigned long long)fid_m.regs[reg]);
	TEST_ASSERT(!strcmp(vl.v[0].detail, want), "wanted '%s', got '%s'", want,
		    vl.v[0].detail);
}

/* fidelity_frame_undeliverable() from the layout, SS and ESP */
struct frame_case {
	const char *name;
	const char *scenario;
	u8 vector;
	bool error_code;
	bool want;
};

static const struct frame_case frame_cases[] = {
	{ "frame: prot32, ESP in MMIO", PROT32, GP_VECTOR, true, true },
	{ "frame: prot32, ESP in RAM", PROT32_RAM_STACK, GP_VECTOR, true, false },
	{ "frame: prot32, ESP in ROM", "mode prot32\nmap 0x40001000 0x40001000 rom\n",
	  GP_VECTOR, true, true },
	{ "frame: long64 never", LONG64, GP_VECTOR, true, false },
	/* 12 bytes fit in the RAM page above 0x40003000, 16 do not */
	{ "frame: 12 bytes fit below ESP", "mode prot32\nreg rsp 0x4000300c\n"
	  "map 0x40003000 0x40003000 ram\n", UD_VECTOR, false, false },
	{ "frame: 16 bytes do not", "mode prot32\nreg rsp 0x4000300c\n"
	  "map 0x40003000 0x40003000 ram\n", GP_VECTOR, true, true },
	/* kvm_pvm pushes at the flat ESP: SS base and limit do not count */
	{ "frame: SS base does not count (prot32)", "mode prot32\nreg rsp 0x40003800\n"
	  "seg ss 0x1000 0xffffffff\nmap 0x40003000 0x40003000 ram\n", GP_VECTOR, true, false },
	{ "frame: ESP not RAM, SS.base + ESP RAM", "mode prot32\nreg rsp 0x40002800\n"
	  "seg ss 0x1000 0xffffffff\nmap 0x40003000 0x40003000 ram\n", GP_VECTOR, true, true },
	{ "frame: SS limit does not count", "mode prot32\nreg rsp 0x40003800\n"
	  "seg ss 0 0xfff\nmap 0x40003000 0x40003000 ram\n", GP_VECTOR, true, false },
	{ "frame: ESP wraps to the top of the address space", "mode prot32\nreg rsp 0x8\n"
	  "map 0x0 0x0 ram\n", GP_VECTOR, true, true },
	{ "frame: the harness region is not the layout's", "mode prot32\nreg rsp 0x605800\n",
	  GP_VECTOR, true, false },
	/*
	 * prot16: kvm_pvm decrements all 32 bits of ESP (0x12340004: the frame
	 * at 0x1233fff8); real16: SS.base + SP, SP wrapping in 16 bits
	 */
	{ "frame: prot16, ESP is 32 bits (below the 64 KiB line)",
	  "mode prot16\nreg rsp 0x12340004\nmap 0x1233f000 0x1233f000 ram\n"
	  "map 0x12340000 0x12340000 ram\n", UD_VECTOR, false, false },
	{ "frame: prot16, ESP is 32 bits (no 16-bit wrap)",
	  "mode prot16\nreg rsp 0x12340004\nmap 0x12340000 0x12340000 ram\n"
	  "map 0x1234f000 0x1234f000 ram\n", UD_VECTOR, false, true },
	{ "frame: real16, SP wraps in 16 bits",
	  "mode real16\nreg rsp 0x2\nmap 0x0 0x0 ram\nmap 0xf000 0xf000 ram\n",
	  UD_VECTOR, false, false },
	{ "frame: real16, not below SS.base",
	  "mode real16\nreg rsp 0x2\nseg ss 0x10000 0xffff\nmap 0x10000 0x10000 ram\n"
	  "map 0xf000 0xf000 ram\n", UD_VECTOR, false, true },
	{ "frame: prot32-paging, a read-only page with CR0.WP",
	  "mode prot32-paging\nreg rsp 0x40001800\nmap 0x40001000 0x5000 ram ro\n",
	  GP_VECTOR, true, true },
	{ "frame: prot32-paging, a writable RAM page",
	  "mode prot32-paging\nreg rsp 0x40001800\nmap 0x40001000 0x5000 ram\n",
	  GP_VECTOR, true, false },
};

static void test_frame_case(struct test_ctx *t, const void *arg)
{
	const struct frame_case *c = arg;
	struct scenario s;
	char err[128];

	TEST_ASSERT(!scenario_parse_text(&s, c->scenario, err, sizeof(err)), "scenario: %s", err);
	memset(&fid_m, 0, offsetof(struct run_result, trace));
	fid_m.outcome = OUTCOME_EXCEPTION;
	fid_m.exception = (struct x86_exception){
		.vector = c->vector, .error_code_valid = c->error_code,
	};
	TEST_ASSERT_EQ(fidelity_frame_undeliverable(&s, &fid_m), c->want, "undeliverable");
	fid_m.outcome = OUTCOME_RETIRED;
	TEST_ASSERT_EQ(fidelity_frame_undeliverable(&s, &fid_m), false,
		       "undeliverable without an exception");
}

/* kvm_pvm drops RFLAGS.VM: the model must see the scenario without it */
TEST(fidelity_host_scenario_drops_vm)
{
	struct scenario s;
	char err[128];

	TEST_ASSERT(!scenario_parse_text(&s, "mode prot32\nreg rflags 0x20203\n", err, sizeof(err)),
		    "scenario: %s", err);
	fidelity_host_scenario(&s);
	TEST_ASSERT_EQ(scenario_reg(&s, SCN_REG_RFLAGS), 0x203, "RFLAGS after the host view");
	TEST_ASSERT(!scenario_parse_text(&s, "mode long64\n", err, sizeof(err)), "scenario: %s", err);
	fidelity_host_scenario(&s);
	TEST_ASSERT_EQ(scenario_reg(&s, SCN_REG_RFLAGS), 0x2, "default RFLAGS after the host view");
	/* native 64-bit user code keeps no IOPL, NT, RF, VM or reserved bits */
	TEST_ASSERT(!scenario_parse_text(&s, "mode long64\ncpl 3\nreg rflags 0x3ffdbd3d\n", err,
					 sizeof(err)), "scenario: %s", err);
	fidelity_host_scenario(&s);
	TEST_ASSERT_EQ(scenario_reg(&s, SCN_REG_RFLAGS), 0x3c0d17, "native CPL 3 RFLAGS");
	TEST_ASSERT(!scenario_parse_text(&s, "mode long64\nreg rflags 0x3ffdbd3d\n", err,
					 sizeof(err)), "scenario: %s", err);
	fidelity_host_scenario(&s);
	TEST_ASSERT_EQ(scenario_reg(&s, SCN_REG_RFLAGS), 0x3ffdbd3d, "CPL 0 RFLAGS (emulated)");
}

/* What touches the kvm backend's own pages is not compared. */
struct harness_case {
	const char *name;
	const char *scenario;
	u64 la;			/* the model's one access; 0: the log lost it */
	bool skipped;
	int vector;		/* >= 0: both sides end in this exception */
	u64 cr2;		/* of a #PF */
};

static const struct harness_case harness_cases[] = {
	{ "skip: long64, the page of RIP", LONG64, 0x600ff0, true, -1, 0 },
	{ "skip: long64, the page after RIP's", LONG64, 0x601ffe, true, -1, 0 },
	{ "skip: long64, an identity-mapped harness page", LONG64, 0x602100, true, -1, 0 },
	{ "skip: prot32-paging, an identity-mapped harness page (compatibility mode)",
	  "mode prot32-paging\n", 0x602000, true, -1, 0 },
	{ "skip: long64, a layout page is compared", LONG64, 0x40000ffe, false, -1, 0 },
	{ "skip: prot32, a GPA in the reserved region", PROT32, 0x7fff00, true, -1, 0 },
	{ "skip: prot32, a layout GPA is compared", PROT32, 0x40001000, false, -1, 0 },
	{ "skip: prot32, an access running into the code page", PROT32, 0x5ffffe, true, -1, 0 },
	/* the kvm backend reads a legacy-mode frame back from SS:SP / the flat ESP */
	{ "skip: real16, the frame goes to the harness's region (SS base)",
	  "mode real16\nreg rsp 0x9004\nseg ss 0x802100 0xffff\n", 0x1000, true, 12, 0 },
	{ "skip: prot32 CPL 0, the frame goes to the harness's region (ESP)",
	  "mode prot32\nreg rsp 0x700010\n", 0x40001000, true, 13, 0 },
	{ "skip: prot16 CPL 0, the frame goes to the harness's region (ESP above 64 KiB)",
	  "mode prot16\nreg rsp 0x66963e\n", 0x40001000, true, 13, 0 },
	{ "skip: prot32 CPL 0, a frame in layout RAM is compared",
	  PROT32_RAM_STACK, 0x40001000, false, 13, 0 },
	/* a long rep string's faulting access is past the log's room */
	{ "skip: long64, a #PF in the page after RIP's, not in the access log",
	  LONG64, 0, true, 14, 0x601ffd },
	{ "skip: prot32-paging, a #PF in the page of RIP, not in the access log",
	  "mode prot32-paging\n", 0, true, 14, 0x600000 },
	{ "skip: long64, a #PF in a layout page is compared", LONG64, 0, false, 14, 0x40000ffe },
	/* an ICR write makes the kernel's LAPIC send an NMI or interrupt */
	{ "skip: the kernel took an NMI (irqchip on)", LONG64, 0x40000ffe, true, 2, 0 },
	{ "skip: the kernel took vector 0x30 (irqchip on)", LONG64, 0x40000ffe, true, 0x30, 0 },
	{ "skip: without the irqchip an NMI is compared", "irqchip off\nmode long64\n",
	  0x40000ffe, false, 2, 0 },
	/* native CPL 3 with AC: the CPU's #AC (the host keeps CR0.AM) */
	{ "skip: native CPL 3 with AC, the kernel's #AC",
	  "mode long64\ncpl 3\nreg rflags 0x40202\n", 0x40000ffe, true, 17, 0 },
	{ "skip: native CPL 3 without AC, an #AC is compared",
	  "mode long64\ncpl 3\nreg rflags 0x202\n", 0x40000ffe, false, 17, 0 },
};

static void test_harness_case(struct test_ctx *t, const void *arg)
{
	const struct harness_case *c = arg;
	const struct kvm_profile *p = kvm_profile_find("6.18.24");
	struct violation_list vl = { 0 };
	struct scenario s;
	char err[128];

	TEST_ASSERT(!scenario_parse_text(&s, c->scenario, err, sizeof(err)), "scenario: %s", err);
	base_result(&fid_m, &s);
	base_result(&fid_k, &s);
	fid_m.has_accesses = true;
	fid_m.accesses.nr = c->la ? 1 : 0;
	fid_m.accesses.lost = c->la ? 0 : 1;
	fid_m.accesses.a[0] = (struct emul_access){ .la = c->la, .bytes = 4, .write = true };
	if (c->vector >= 0) {
		fid_m.outcome = fid_k.outcome = OUTCOME_EXCEPTION;
		fid_m.exception = fid_k.exception = (struct x86_exception){
			.vector = (u8)c->vector, .error_code_valid = true, .address = c->cr2 };
	}
	fid_k.regs[VCPU_REGS_RAX] ^= 1;		/* a difference to report, or not */
	TEST_ASSERT_EQ(!!fidelity_skip_reason(&s, &fid_m, &fid_k), c->skipped, "skipped");
	TEST_ASSERT_EQ(fidelity_check(p, &s, &fid_m, &fid_k, true, &vl), c->skipped ? 0 : 1,
		       "differences");
}

__attribute__((constructor)) static void register_fidelity_tests(void)
{
	unsigned int i;

	for (i = 0; i < sizeof(fid_cases) / sizeof(fid_cases[0]); i++)
		test_register(fid_cases[i].name, test_fid_case, &fid_cases[i]);
	for (i = 0; i < NR_VCPU_REGS; i++) {
		char *name;

		if (asprintf(&name, "fidelity: GPR %u differs in long mode", i) < 0)
			abort();
		test_register(name, test_fid_gpr, (const void *)(uintptr_t)i);
	}
	for (i = 0; i < sizeof(frame_cases) / sizeof(frame_cases[0]); i++)
		test_register(frame_cases[i].name, test_frame_case, &frame_cases[i]);
	for (i = 0; i < sizeof(harness_cases) / sizeof(harness_cases[0]); i++)
		test_register(harness_cases[i].name, test_harness_case, &harness_cases[i]);
}

/*
 * The recorded host gaps (fidelity_host_gap()): kvm_pvm's own handling of
 * some instructions, and native 64-bit CPL 3 code unless the exits or the
 * trace differ.  Everything else is not a host gap.
 */
TEST(fidelity_host_gap_rows)
{
	static const struct {
		const char *scenario;
		bool exits_differ, gap;
	} rows[] = {
		{ "mode long64\ninsn cf\n", false, true },		/* iret */
		{ "mode long64\ninsn 48 cf\n", true, true },		/* iretq */
		{ "mode prot32\ninsn cf\n", false, false },		/* legacy iret: emulated */
		{ "mode prot32-paging\ncpl 3\ninsn 66 cf\n", false, true },	/* compatibility mode */
		{ "mode long64\ninsn 0f c7 f0\n", false, true },	/* rdrand eax */
		{ "mode prot32\ninsn f3 0f c7 f8\n", false, true },	/* rdseed/rdpid form */
		{ "mode long64\ninsn 0f c7 0f\n", false, false },	/* cmpxchg8b [rdi] */
		{ "mode long64\ninsn 0f ae e8\n", false, true },	/* lfence */
		{ "mode long64\ninsn 0f ae 38\n", false, false },	/* clflush [rax] */
		{ "mode long64\ninsn f3 0f 1e fa\n", false, true },	/* endbr64 */
		{ "mode real16\ninsn 0f 19 07\n", false, true },	/* hint NOP on memory */
		{ "mode real16\ninsn 0f 19 c0\n", false, false },	/* ... on a register */
		{ "mode prot32\ninsn 0f aa\n", false, true },		/* rsm */
		{ "mode long64\ninsn f3 0f ae c1\n", false, true },	/* rdfsbase ecx */
		{ "mode long64\ninsn f3 48 0f ae d5\n", false, true },	/* wrfsbase rbp */
		{ "mode long64\ninsn 0f ae c1\n", false, false },	/* no f3: no fsbase */
		{ "mode long64\ninsn 0f ae 03\n", false, true },	/* fxsave [rbx] */
		{ "mode long64\ninsn 48 0f ae 0e\n", false, true },	/* fxrstor64 [rsi] */
		{ "mode prot32\ninsn 0f ae 03\n", false, false },	/* fxsave: emulated */
		{ "mode long64\ninsn 0f ae 18\n", false, false },	/* stmxcsr [rax] */
		{ "mode long64\ncpl 3\ninsn 8b 07\n", false, true },	/* native CPL 3 */
		{ "mode long64\ncpl 3\ninsn 8b 07\n", true, false },	/* ... exits differ */
		{ "mode prot32\ncpl 3\ninsn 8b 07\n", false, false },	/* emulated CPL 3 */
		{ "mode long64\ninsn 8b 07\n", false, false },
	};
	struct scenario s;
	char err[128];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		const char *why;

		TEST_ASSERT(!scenario_parse_text(&s, rows[i].scenario, err, sizeof(err)),
			    "row %u: %s", i, err);
		why = fidelity_host_gap(&s, rows[i].exits_differ);
		TEST_ASSERT(!why == !rows[i].gap, "row %u (%s): wanted %s, got %s", i,
			    rows[i].scenario, rows[i].gap ? "a host gap" : "none",
			    why ? why : "none");
	}
}

/* fidelity_check() marks a host gap's differences known, and only those */
TEST(fidelity_host_gap_is_known)
{
	static const char *const texts[] = {
		"mode long64\ncpl 3\n", "mode long64\n",
	};
	const struct kvm_profile *p = kvm_profile_find("6.18.24");
	struct scenario s;
	char err[128];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(texts); i++) {
		struct violation_list vl = { 0 };

		TEST_ASSERT(!scenario_parse_text(&s, texts[i], err, sizeof(err)), "scenario: %s", err);
		base_result(&fid_m, &s);
		base_result(&fid_k, &s);
		fid_k.rip++;
		TEST_ASSERT_EQ(fidelity_check(p, &s, &fid_m, &fid_k, true, &vl), 1, "differences");
		TEST_ASSERT_EQ(vl.v[0].known, i == 0, "known (CPL 3 row)");
		TEST_ASSERT_EQ(vl.nr_unknown, i == 0 ? 0 : 1, "unknown differences");
		/* the exits differ too: not put down to native CPL 3 */
		memset(&vl, 0, sizeof(vl));
		fid_k.exits[0].gpa ^= 0x1000;
		fidelity_check(p, &s, &fid_m, &fid_k, true, &vl);
		TEST_ASSERT_EQ(vl.nr_unknown, vl.nr, "unknown differences when the exits differ");
	}
}

/*
 * Cases the kvm backend cannot stand for: a branch into its own pages (its
 * guest stops there, and in the stubs that reads as an exception), and
 * reads of the kernel's PIC ports with the irqchip on (the model has no
 * PIC).  Each row: the scenario, the model's final RIP (retired), skipped?
 */
TEST(fidelity_skip_rows)
{
	static const struct {
		const char *scenario;
		u64 rip;
		bool skipped;
		bool fails;		/* the model's outcome: emulation failure */
		u8 ud;			/* ... or #UD (vector 6) */
	} rows[] = {
		/* jmp rel32 to 0x604108: exception stub 16 */
		{ "mode prot32\ninsn e9 03 41 00 00\n", 0x604108, true, false, 0 },
		{ "mode prot32\ninsn e9 03 41 00 00\n", 0x600005, false, false, 0 },	/* code page */
		{ "mode prot32\ninsn e9 03 41 00 00\n", 0x601ff0, false, false, 0 },	/* next code page */
		{ "mode prot32\ninsn e9 03 41 00 00\n", 0x40000000, false, false, 0 },	/* layout */
		{ "mode long64\ninsn e9 03 41 00 00\n", 0x604108, true, false, 0 },	/* identity map */
		{ "mode real16\ninsn e8 ff ff\n", 0x2, false, false, 0 },
		/* in al, imm8 / in al, dx / ins: the PIC's ports with the irqchip */
		{ "mode real16\ninsn e4 21\n", 0x2, true, false, 0 },
		{ "mode prot32\ninsn e4 a0\n", 0x600002, true, false, 0 },
		{ "mode prot32\ninsn e5 1e\n", 0x600002, true, false, 0 },	/* 1e..21 */
		{ "mode prot32\ninsn e4 1e\n", 0x600002, false, false, 0 },
		{ "mode prot32\ninsn e4 22\n", 0x600002, false, false, 0 },
		{ "mode prot32\nirqchip off\ninsn e4 21\n", 0x600002, false, false, 0 },
		{ "mode prot32\nreg rdx 0x4d1\ninsn ec\n", 0x600001, true, false, 0 },
		{ "mode prot32\nreg rdx 0x4d2\ninsn ec\n", 0x600001, false, false, 0 },
		{ "mode prot32\nreg rdx 0x20\ninsn 6c\n", 0x600001, true, false, 0 },
		{ "mode prot32\ninsn e6 21\n", 0x600002, false, false, 0 },		/* out: compared */
		{ "mode real16\ninsn e6 21\nreg rflags 0x102\n", 0x2, true, false, 0 },	/* with TF */
		{ "mode prot32\nreg rdx 0xa0\nreg rflags 0x102\ninsn ee\n", 0x600001, true, false, 0 },
		/*
		 * prot32-paging with a CS base: what the model cannot emulate
		 * (emulation failure, #UD at CPL 3) kvm_pvm retries natively at
		 * the bare RIP; with CS base 0, or emulated, it is compared.
		 */
		{ "mode prot32-paging\ninsn 37\nseg cs 0x37373737 0xffffffff\n", 0x600000,
		  true, true, 0 },
		{ "mode prot32-paging\ncpl 3\ninsn 37\nseg cs 0x1000 0xffffffff\n", 0x600000,
		  true, false, UD_VECTOR },
		{ "mode prot32-paging\ninsn 37\n", 0x600000, false, true, 0 },
		{ "mode prot32-paging\ninsn 8b 07\nseg cs 0x1000 0xffffffff\n", 0x601002, false, false, 0 },
		{ "mode prot32\ninsn 37\nseg cs 0x1000 0xffffffff\n", 0x600000, false,
		  true, 0 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct scenario s;
		char err[128];

		TEST_ASSERT(!scenario_parse_text(&s, rows[i].scenario, err, sizeof(err)),
			    "scenario %u: %s", i, err);
		base_result(&fid_m, &s);
		base_result(&fid_k, &s);
		fid_m.rip = rows[i].rip;
		if (rows[i].fails)
			fid_m.outcome = OUTCOME_EMULATION_FAILURE;
		if (rows[i].ud) {
			fid_m.outcome = OUTCOME_EXCEPTION;
			fid_m.exception.vector = rows[i].ud;
		}
		TEST_ASSERT(!!fidelity_skip_reason(&s, &fid_m, &fid_k) == rows[i].skipped,
			    "row %u (%s, model RIP 0x%llx): wanted %s, got %s", i,
			    rows[i].scenario, (unsigned long long)rows[i].rip,
			    rows[i].skipped ? "skipped" : "compared",
			    rows[i].skipped ? "compared" : "skipped");
	}
}

/* The oracle judges the kernel with the model's calls only where both cover the same run. */
TEST(fidelity_oracle_applies_rows)
{
	static const struct {
		enum run_outcome m, k;
		unsigned int m_exits, k_exits;
		bool applies;
	} rows[] = {
		{ OUTCOME_RETIRED, OUTCOME_RETIRED, 2, 2, true },
		{ OUTCOME_RETIRED, OUTCOME_EXCEPTION, 2, 1, true },
		{ OUTCOME_RETIRED, OUTCOME_BUDGET, 1, 32, false },	/* kernel cut, model not */
		{ OUTCOME_BUDGET, OUTCOME_RETIRED, 64, 3, false },	/* model cut, kernel not */
		{ OUTCOME_BUDGET, OUTCOME_BUDGET, 32, 32, true },
		{ OUTCOME_BUDGET, OUTCOME_BUDGET, 8, 32, false },	/* kernel did more */
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		memset(&fid_m, 0, offsetof(struct run_result, trace));
		memset(&fid_k, 0, offsetof(struct run_result, trace));
		fid_m.trace.nr = fid_k.trace.nr = 0;
		fid_m.outcome = rows[i].m;
		fid_k.outcome = rows[i].k;
		fid_m.nr_exits = rows[i].m_exits;
		fid_k.nr_exits = rows[i].k_exits;
		TEST_ASSERT(fidelity_oracle_applies(&fid_m, &fid_k) == rows[i].applies,
			    "row %u: wanted %s", i, rows[i].applies ? "judged" : "not judged");
	}
}

/* A kernel vCPU that an INIT (an ICR write) reset ends at 0xfff0: not compared. */
TEST(fidelity_kernel_reset_by_init_is_not_compared)
{
	static const char *const texts[] = { "mode prot32-paging\n", "mode prot32-paging\nirqchip off\n" };
	struct scenario s;
	char err[128];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(texts); i++) {
		TEST_ASSERT(!scenario_parse_text(&s, texts[i], err, sizeof(err)), "scenario: %s", err);
		base_result(&fid_m, &s);
		base_result(&fid_k, &s);
		fid_k.outcome = OUTCOME_EMULATION_FAILURE;
		fid_k.rip = 0xfff0;
		TEST_ASSERT_EQ(!!fidelity_skip_reason(&s, &fid_m, &fid_k), i == 0,
			       "skipped (irqchip on: yes, off: no)");
	}
}

/*
 * A real-mode iret to F000:0000 lands on the kvm backend's real-mode
 * exception handler (linear 0xf0000, backend.h), where the kernel stops
 * as at an exception of vector 0xf000 - CS: not compared.  The page is
 * found from the CS the iret loaded, not the case's: one to 0600:0000 is
 * compared (resolved/real16-iret-tf-target-de.txt).
 */
TEST(fidelity_real16_iret_to_the_backend_handler_is_not_compared)
{
	static const struct {
		const char *data;
		bool skipped;
	} rows[] = {
		{ "00 00 00 f0 02 00", true },
		{ "00 01 00 f0 02 00", true },
		{ "00 00 00 06 02 00", false },
	};
	struct model_backend *mb = model_backend_create();
	char text[256], err[128];
	struct scenario s;
	unsigned int i;

	TEST_ASSERT(mb, "model_backend_create failed");
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		const char *why;

		snprintf(text, sizeof(text), "mode real16\ninsn cf\nmmio-data %s\n", rows[i].data);
		TEST_ASSERT(!scenario_parse_text(&s, text, err, sizeof(err)), "%s", err);
		TEST_ASSERT(!model_backend_run(mb, &s, kvm_profile_find("6.18.24"), &fid_m),
			    "model run %u", i);
		fid_k = fid_m;
		why = fidelity_skip_reason(&s, &fid_m, &fid_k);
		if (rows[i].skipped != !!why || (why && !strstr(why, "branches into"))) {
			model_backend_destroy(mb);
			TEST_FAIL("iret popping %s: wanted %s, got '%s'", rows[i].data,
				  rows[i].skipped ? "not compared (branches into)" : "compared",
				  why ? why : "compared");
		}
	}
	model_backend_destroy(mb);
}
