// SPDX-License-Identifier: GPL-2.0-only
/*
 * Port I/O string instructions end to end (spec 7.5): the PIO read-ahead
 * of `rep ins` with DF=0 (one OP_MEM_STR write of up to 1 KiB per batch,
 * in_page counted in bytes but compared as elements), DF=1 and non-REP
 * forms (one element per pass), outs, the port log, and a 1 KiB batch
 * through the model backend and the oracle.
 *
 * The MMIO pages are GPA 0x1000 and 0x2000 meeting at linear P (64-bit:
 * 0x40001000 via paging, 32-bit: 0x2000 flat); the in-kernel port device
 * at 0x80 answers the k-th byte read with (u8)(0x80 + k).  These tests
 * run their own userspace loop: a batch can exceed ENV_MAX_EXITS exits.
 */
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "decode.h"
#include "env.h"
#include "oracle.h"

#define V0	0x40000000ULL
#define V1	(V0 + PAGE_SIZE)
#define RW	PT_WRITABLE
#define PIO_MAX_EXITS	600

static const char *const pio_profiles[] = { "6.18.24", "7.1" };

struct pio_exit {
	u64 gpa;
	u32 len;
	bool write;
	u8 data[8];
};

struct pio_env {
	struct env *e;
	struct insn_decoder dec;
	struct insn_source src;
	enum env_mode mode;
	struct pio_exit exits[PIO_MAX_EXITS];
	unsigned int nr_exits;
	u32 exit_reason;
	int rc;
};

static u64 pio_boundary(enum env_mode mode)
{
	return mode == ENV_LONG64 ? V1 : 0x2000;
}

static struct pio_env *pio_env_create(const char *profile, enum env_mode mode,
				      const u8 *bytes, unsigned int n)
{
	struct pio_env *pe = calloc(1, sizeof(*pe));

	if (!pe || insn_decoder_init(&pe->dec))
		abort();
	pe->mode = mode;
	pe->e = env_create(profile, mode, false);
	insn_source_init(&pe->src, &pe->dec, bytes, n);
	pe->e->vcpu.guest = &insn_guest_ops;
	pe->e->vcpu.guest_priv = &pe->src;
	if (mode == ENV_LONG64) {
		env_map(pe->e, V0, 0x1000, RW);
		env_map(pe->e, V1, 0x2000, RW);
	}
	pe->e->vcpu.regs[VCPU_REGS_RDX] = KVM_PIO_DEV_BASE;
	return pe;
}

static void pio_env_destroy(struct pio_env *pe)
{
	env_destroy(pe->e);
	insn_decoder_fini(&pe->dec);
	free(pe);
}

/* Play userspace until the guest halts; reads are answered with 0xee. */
static void pio_run(struct pio_env *pe)
{
	struct kvm_vcpu *vcpu = &pe->e->vcpu;
	struct kvm_run *run = vcpu->run;

	vcpu->insn_rip = vcpu->rip;
	while (pe->nr_exits < PIO_MAX_EXITS) {
		struct pio_exit *x;

		pe->rc = kvm_arch_vcpu_ioctl_run(vcpu);
		if (pe->rc)
			return;
		if (run->exit_reason != KVM_EXIT_MMIO) {
			pe->exit_reason = run->exit_reason;
			return;
		}
		x = &pe->exits[pe->nr_exits++];
		x->gpa = run->mmio.phys_addr;
		x->len = run->mmio.len;
		x->write = run->mmio.is_write;
		if (!x->write)
			memset(run->mmio.data, 0xee, sizeof(run->mmio.data));
		memcpy(x->data, run->mmio.data, min_t(u32, x->len, 8));
	}
}

/*
 * Exits @first.. are 8-byte (or shorter at the end) write chunks covering
 * [gpa, gpa + len) in order, with device bytes starting at counter @k.
 */
static bool chunks_ok(struct test_ctx *t, const struct pio_env *pe, unsigned int first,
		      u64 gpa, u32 len, u64 k)
{
	unsigned int i = first, b;
	u32 done = 0;

	while (done < len) {
		const struct pio_exit *x = &pe->exits[i];
		u32 want = min_t(u32, 8, len - done);

		if (i >= pe->nr_exits) {
			test_fail(t, __FILE__, __LINE__, "exit %u missing (have %u)", i,
				  pe->nr_exits);
			return false;
		}
		if (!x->write || x->gpa != gpa + done || x->len != want) {
			test_fail(t, __FILE__, __LINE__, "exit %u is %c%llx:%u, wanted W%llx:%u", i,
				  x->write ? 'W' : 'R', (unsigned long long)x->gpa, x->len,
				  (unsigned long long)(gpa + done), want);
			return false;
		}
		for (b = 0; b < want; b++) {
			if (x->data[b] != (u8)(KVM_PIO_DEV_BASE + k + done + b)) {
				test_fail(t, __FILE__, __LINE__, "exit %u byte %u is 0x%02x", i, b,
					  x->data[b]);
				return false;
			}
		}
		done += want;
		i++;
	}
	return true;
}

static void check_retired(struct test_ctx *t, const struct pio_env *pe, unsigned int len)
{
	const struct kvm_vcpu *v = &pe->e->vcpu;

	TEST_ASSERT_EQ(pe->rc, 0, "KVM_RUN result");
	TEST_ASSERT_EQ(pe->exit_reason, KVM_EXIT_HLT, "final exit reason");
	TEST_ASSERT(!v->exception_delivered, "exception %u", v->delivered.vector);
	TEST_ASSERT_EQ(v->rip, v->insn_rip + len, "RIP");
	TEST_ASSERT_EQ(v->mmio_needed, 0, "mmio_needed");
	TEST_ASSERT_EQ(v->warnings, 0, "WARNs");
}

#define PIO_TEST(fn, title)	PROFILE_TEST(fn, "pio ", title, pio_profiles)

#define PIO_BODY(fn) static void fn(struct test_ctx *t, const void *arg, struct pio_env *pe)

typedef void (*pio_checks_fn)(struct test_ctx *t, const void *arg, struct pio_env *pe);

static const u8 rep_insb[] = { 0xf3, 0x6c }, rep_insd[] = { 0xf3, 0x6d };

/*
 * Run the two-byte @insn in @mode with RDI @rdi and RCX @rcx, then
 * @checks, which may fail and return before the environment is freed.
 */
static void rep_in_case(struct test_ctx *t, const void *arg, enum env_mode mode,
			const u8 *insn, u64 rdi, u64 rcx, pio_checks_fn checks)
{
	struct pio_env *pe = pio_env_create(arg, mode, insn, 2);

	pe->e->vcpu.regs[VCPU_REGS_RDI] = rdi;
	pe->e->vcpu.regs[VCPU_REGS_RCX] = rcx;
	pio_run(pe);
	checks(t, arg, pe);
	pio_env_destroy(pe);
}

/*
 * rep insd, RDI at page offset 0xff0, RCX = 64: in_page = 16 (bytes, taken
 * as elements) -> n = min(16, 256, 64) = 16 elements = 64 bytes: 16 in
 * page 1, 48 in page 2: exits 8, 8, then 6 x 8.  The guest is re-entered
 * and the next batch is n = min(4048, 256, 48) = 48: 192 bytes, 24 exits.
 * One more entry sees RCX == 0 and retires the instruction.
 */
PIO_BODY(insd_split_checks)
{
	u64 p = pio_boundary(pe->mode);
	const struct kvm_vcpu *v = &pe->e->vcpu;

	TEST_ASSERT_EQ(pe->nr_exits, 32, "number of exits");
	if (!chunks_ok(t, pe, 0, 0x1ff0, 16, 0) || !chunks_ok(t, pe, 2, 0x2000, 48, 16) ||
	    !chunks_ok(t, pe, 8, 0x2030, 192, 64))
		return;
	TEST_ASSERT_EQ(v->pio.nr, 2, "port calls");
	TEST_ASSERT_EQ(v->pio.c[0].count, 16, "first read-ahead batch");
	TEST_ASSERT_EQ(v->pio.c[1].count, 48, "second read-ahead batch");
	TEST_ASSERT_EQ(v->pio.in_elems, 64, "elements read");
	TEST_ASSERT_EQ(v->pio.userspace_calls, 0, "userspace port calls");
	TEST_ASSERT_EQ(v->stat_mmio_exits, 2, "stat.mmio_exits (one per batch)");
	TEST_ASSERT_EQ(v->guest_entries, 3, "guest entries");
	/* one write trace per page piece of each batch */
	TEST_ASSERT_EQ(v->trace.nr, 3, "trace events");
	TEST_ASSERT_EQ(v->trace.ev[0].len, 16, "trace 0 len");
	TEST_ASSERT_EQ(v->trace.ev[1].len, 48, "trace 1 len");
	TEST_ASSERT_EQ(v->trace.ev[2].len, 192, "trace 2 len");
	TEST_ASSERT_EQ(v->regs[VCPU_REGS_RCX], 0, "RCX");
	TEST_ASSERT_EQ(v->regs[VCPU_REGS_RDI], p + 0xf0, "RDI");
	check_retired(t, pe, 2);
}

PIO_TEST(pio_insd_split64, "f3 6d rep insd across a page, 64-bit")
{
	rep_in_case(t, arg, ENV_LONG64, rep_insd, pio_boundary(ENV_LONG64) - 0x10, 64,
		    insd_split_checks);
}

PIO_TEST(pio_insd_split32, "f3 6d rep insd across a page, 32-bit")
{
	rep_in_case(t, arg, ENV_PROT32, rep_insd, pio_boundary(ENV_PROT32) - 0x10, 64,
		    insd_split_checks);
}

/*
 * rep insb, RDI 5 bytes before the page end, RCX = 20: a byte batch never
 * crosses a page: n = min(5, 1024, 20) = 5, then n = min(4096, 1024, 15).
 */
PIO_BODY(insb_checks)
{
	const struct kvm_vcpu *v = &pe->e->vcpu;

	TEST_ASSERT_EQ(pe->nr_exits, 3, "number of exits");
	if (!chunks_ok(t, pe, 0, 0x1ffb, 5, 0) || !chunks_ok(t, pe, 1, 0x2000, 15, 5))
		return;
	TEST_ASSERT_EQ(v->pio.nr, 2, "port calls");
	TEST_ASSERT_EQ(v->pio.c[0].count, 5, "first batch");
	TEST_ASSERT_EQ(v->pio.c[1].count, 15, "second batch");
	check_retired(t, pe, 2);
}

PIO_TEST(pio_insb64, "f3 6c rep insb up to and across a page, 64-bit")
{
	rep_in_case(t, arg, ENV_LONG64, rep_insb, pio_boundary(ENV_LONG64) - 5, 20, insb_checks);
}

PIO_TEST(pio_insb16, "f3 6c rep insb up to and across a page, real mode")
{
	rep_in_case(t, arg, ENV_REAL16, rep_insb, pio_boundary(ENV_REAL16) - 5, 20, insb_checks);
}

/*
 * A full 1 KiB batch split 512/512: RDI at page offset 0xe00, size 4,
 * in_page 512 -> n = min(512, 256, 300) = 256 elements.  Two fragments of
 * 512 bytes, 64 exits each; then the last 44 elements in one page.
 */
PIO_BODY(insd_1k_checks)
{
	const struct kvm_vcpu *v = &pe->e->vcpu;

	TEST_ASSERT_EQ(pe->nr_exits, 128 + 22, "number of exits");
	if (!chunks_ok(t, pe, 0, 0x1e00, 512, 0) || !chunks_ok(t, pe, 64, 0x2000, 512, 512) ||
	    !chunks_ok(t, pe, 128, 0x2200, 176, 1024))
		return;
	TEST_ASSERT_EQ(v->pio.c[0].count, 256, "first batch");
	TEST_ASSERT_EQ(v->pio.c[1].count, 44, "second batch");
	TEST_ASSERT_EQ(v->regs[VCPU_REGS_RDI], V1 + 0x2b0, "RDI");
	check_retired(t, pe, 2);
}

PIO_TEST(pio_insd_1k, "f3 6d rep insd 1 KiB batch, two 512-byte fragments")
{
	rep_in_case(t, arg, ENV_LONG64, rep_insd, V0 + 0xe00, 300, insd_1k_checks);
}

/*
 * rep insw with DF=1, RDI at page offset 6 in page 2, RCX = 4: the
 * read-ahead is n = min(6, 512, 4) = 4 elements (in_page is RDI's offset
 * in its page, in bytes), but one element is written per pass.
 * The first pass's write exits (a write wins over RESTART), so the guest
 * re-executes with a fresh decode and the read-ahead starts over: every
 * pass reads a new batch from the port and uses its first element:
 * batches of 4, 3, 2 and (offset 0 gives n = 0, taken as 1) 1.
 */
PIO_BODY(insw_df_checks)
{
	const struct kvm_vcpu *v = &pe->e->vcpu;
	static const u32 counts[4] = { 4, 3, 2, 1 };
	unsigned int i;
	u64 k = 0;

	TEST_ASSERT_EQ(pe->nr_exits, 4, "number of exits");
	for (i = 0; i < 4; i++) {
		u64 gpa = 0x2006 - 2 * i;

		TEST_ASSERT(pe->exits[i].write && pe->exits[i].gpa == gpa && pe->exits[i].len == 2,
			    "exit %u is %llx:%u", i, (unsigned long long)pe->exits[i].gpa,
			    pe->exits[i].len);
		TEST_ASSERT_EQ(pe->exits[i].data[0], (u8)(KVM_PIO_DEV_BASE + k), "element byte 0");
		TEST_ASSERT_EQ(v->pio.c[i].count, counts[i], "read-ahead batch");
		k += 2 * counts[i];
	}
	TEST_ASSERT_EQ(v->regs[VCPU_REGS_RCX], 0, "RCX");
	TEST_ASSERT_EQ(v->regs[VCPU_REGS_RDI], V1 - 2, "RDI");
	check_retired(t, pe, 3);
}

PIO_TEST(pio_insw_df, "66 f3 6d rep insw DF=1: one element per pass")
{
	struct pio_env *pe = pio_env_create(arg, ENV_LONG64,
					    (const u8[]){ 0x66, 0xf3, 0x6d }, 3);

	pe->e->vcpu.rflags |= X86_EFLAGS_DF;
	pe->e->vcpu.regs[VCPU_REGS_RDI] = V1 + 6;
	pe->e->vcpu.regs[VCPU_REGS_RCX] = 4;
	pio_run(pe);
	insw_df_checks(t, arg, pe);
	pio_env_destroy(pe);
}

/* rep outsw from MMIO: each element's read exits; the port log gets them */
PIO_BODY(outsw_checks)
{
	const struct kvm_vcpu *v = &pe->e->vcpu;
	unsigned int i;

	TEST_ASSERT_EQ(pe->nr_exits, 4, "number of exits");
	TEST_ASSERT(!pe->exits[0].write && pe->exits[0].gpa == 0x1fff && pe->exits[0].len == 1,
		    "exit 0");
	TEST_ASSERT(!pe->exits[1].write && pe->exits[1].gpa == 0x2000 && pe->exits[1].len == 1,
		    "exit 1");
	TEST_ASSERT(!pe->exits[2].write && pe->exits[2].gpa == 0x2001 && pe->exits[2].len == 2,
		    "exit 2");
	TEST_ASSERT(!pe->exits[3].write && pe->exits[3].gpa == 0x2003 && pe->exits[3].len == 2,
		    "exit 3");
	TEST_ASSERT_EQ(v->pio.nr, 3, "port writes");
	for (i = 0; i < 3; i++) {
		TEST_ASSERT(!v->pio.c[i].in && v->pio.c[i].size == 2 && v->pio.c[i].count == 1 &&
			    v->pio.c[i].port == 0x8e && !v->pio.c[i].userspace, "port write %u", i);
		TEST_ASSERT(v->pio.c[i].data[0] == 0xee && v->pio.c[i].data[1] == 0xee,
			    "port write %u data", i);
	}
	TEST_ASSERT_EQ(v->regs[VCPU_REGS_RSI], 0x2005, "RSI");
	TEST_ASSERT_EQ(v->regs[VCPU_REGS_RCX], 0, "RCX");
	check_retired(t, pe, 3);
}

PIO_TEST(pio_outsw, "66 f3 6f rep outsw from MMIO (32-bit)")
{
	struct pio_env *pe = pio_env_create(arg, ENV_PROT32,
					    (const u8[]){ 0x66, 0xf3, 0x6f }, 3);

	pe->e->vcpu.regs[VCPU_REGS_RDX] = 0x8e;
	pe->e->vcpu.regs[VCPU_REGS_RSI] = 0x1fff;
	pe->e->vcpu.regs[VCPU_REGS_RCX] = 3;
	pio_run(pe);
	outsw_checks(t, arg, pe);
	pio_env_destroy(pe);
}

/* A port without an in-kernel device: answered, and counted as userspace */
PIO_TEST(pio_userspace_port, "ed in eax,dx to a userspace port")
{
	struct pio_env *pe = pio_env_create(arg, ENV_PROT32, (const u8[]){ 0xed }, 1);
	const struct kvm_vcpu *v = &pe->e->vcpu;

	pe->e->vcpu.regs[VCPU_REGS_RDX] = 0x3f8;
	pio_run(pe);
	TEST_ASSERT_EQ(pe->nr_exits, 0, "number of exits");
	TEST_ASSERT_EQ(v->regs[VCPU_REGS_RAX], 0xfbfaf9f8, "EAX");
	TEST_ASSERT_EQ(v->pio.userspace_calls, 1, "userspace calls");
	TEST_ASSERT(v->pio.c[0].userspace && v->pio.c[0].in, "logged as userspace");
	check_retired(t, pe, 1);
	pio_env_destroy(pe);
}

/* F3 on a plain IN still reads ahead RCX elements, and uses one */
PIO_TEST(pio_rep_in_reads_ahead, "f3 ec rep in al,dx reads ahead")
{
	struct pio_env *pe = pio_env_create(arg, ENV_LONG64, (const u8[]){ 0xf3, 0xec }, 2);
	const struct kvm_vcpu *v = &pe->e->vcpu;

	pe->e->vcpu.regs[VCPU_REGS_RCX] = 7;
	pe->e->vcpu.regs[VCPU_REGS_RDI] = V0;
	pio_run(pe);
	TEST_ASSERT_EQ(v->pio.c[0].count, 7, "read-ahead batch");
	TEST_ASSERT_EQ(v->regs[VCPU_REGS_RAX], 0x80, "AL");
	TEST_ASSERT_EQ(v->regs[VCPU_REGS_RCX], 7, "RCX untouched");
	check_retired(t, pe, 2);
	pio_env_destroy(pe);
}

/* CPL > IOPL needs the TSS I/O bitmap (std path): not modelled */
PIO_TEST(pio_cpl3_not_modelled, "6c insb at CPL 3, IOPL 0: not modelled")
{
	struct pio_env *pe = pio_env_create(arg, ENV_PROT32, (const u8[]){ 0x6c }, 1);

	pe->e->vcpu.cpl = 3;
	pe->e->vcpu.regs[VCPU_REGS_RDI] = 0x1ffe;
	pio_run(pe);
	TEST_ASSERT_EQ(pe->nr_exits, 0, "number of exits");
	TEST_ASSERT_EQ(pe->exit_reason, KVM_EXIT_INTERNAL_ERROR, "exit reason");
	TEST_ASSERT_EQ(pe->src.last.status, INSN_NOT_MODELLED, "decode status");
	TEST_ASSERT_EQ(pe->e->vcpu.pio.nr, 0, "port calls");
	pio_env_destroy(pe);
}

/* ---- through the model backend and the oracle ---- */

static const char pio_1k_scenario[] =
	"mode long64\n"
	"insn f3 6d\n"
	"reg rcx 300\n"
	"reg rdx 0x80\n"
	"reg rdi 0x40000e00\n"
	"map 0x40000000 0x1000 mmio\n"
	"map 0x40001000 0x2000 mmio\n";

static const char pio_ram_scenario[] =
	"mode prot32\n"
	"insn f3 6d\n"
	"reg rcx 1000\n"
	"reg rdx 0x80\n"
	"reg rdi 0x8ff0\n"
	"map 0x8000 0x8000 ram\n"
	"map 0x9000 0x9000 mmio\n";

static void backend_run(struct test_ctx *t, const void *arg, const char *text,
			unsigned int want_exits)
{
	const struct kvm_profile *p = kvm_profile_find(arg);
	struct model_backend *mb = model_backend_create();
	struct scenario *s = calloc(1, sizeof(*s));
	struct run_result *r = calloc(1, sizeof(*r));
	struct violation_list *vl = calloc(1, sizeof(*vl));
	char err[256];
	bool ok;

	ok = mb && s && r && vl && !scenario_parse_text(s, text, err, sizeof(err)) &&
	     !model_backend_run(mb, s, p, r);
	if (ok)
		oracle_check(s, p, r, &r->accesses, vl);
	model_backend_destroy(mb);
	if (!ok) {
		free(s);
		free(r);
		free(vl);
		TEST_FAIL("scenario did not run");
	}
	if (r->outcome != OUTCOME_RETIRED || r->nr_exits != want_exits || r->exits_lost ||
	    vl->nr) {
		test_fail(t, __FILE__, __LINE__, "outcome %s, %u exits (lost %d), %u violations",
			  run_outcome_name(r->outcome), r->nr_exits, r->exits_lost, vl->nr);
	}
	free(s);
	free(r);
	free(vl);
}

PIO_TEST(pio_backend_1k, "backend + oracle: rep insd 1 KiB batch, 150 exits")
{
	backend_run(t, arg, pio_1k_scenario, 150);
}

/*
 * 16 bytes to RAM and 48 to MMIO (6 exits), three batches of 256 elements
 * (128 exits each), then 216 elements (108 exits): 498 exits.
 */
PIO_TEST(pio_backend_ram, "backend + oracle: rep insd RAM then MMIO, 498 exits")
{
	backend_run(t, arg, pio_ram_scenario, 6 + 3 * 128 + 108);
}
