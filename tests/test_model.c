// SPDX-License-Identifier: GPL-2.0-only
/*
 * Focused, table-driven checks of the model against the behaviour spec
 * (kvm-mmio-behaviour.md sections 1-6 and 10): page-split computation,
 * 32-bit linear wrap, 8-byte chunking of long fragments, the completion
 * state machine, mem_read replay, the cmpxchg fall-back rules, page-walk
 * permissions, partial side effects of a faulting second piece, the TDP
 * GPA shortcut, the APIC page rule and the MMIO info cache.  In-kernel
 * devices are in test_devices.c, the bug profiles in test_bugs.c.
 *
 * Every case is registered once per profile it applies to, as
 * "what it checks [profile]".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "test_model.h"

const char *const all_profiles[NR_ALL_PROFILES] = {
	"3.13", "4.14", "6.2", "6.18", "6.18.24", "7.1"
};
const char *const modern_profiles[NR_MODERN_PROFILES] = { "6.18", "6.18.24", "7.1" };

void register_profiles(const char *title, test_fn fn, const void *row,
		       const char *const *profiles, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct pcase *c = malloc(sizeof(*c));
		char *name;

		if (!c || asprintf(&name, "%s [%s]", title, profiles[i]) < 0)
			abort();
		c->profile = profiles[i];
		c->row = row;
		test_register(name, fn, c);
	}
}

bool per_page_t3(const struct pcase *c)
{
	return kvm_profile_find(c->profile)->unsatisfied_read_per_page;
}

struct env *model_env(const struct pcase *c, enum env_mode mode, bool tdp,
		      const struct script_insn *insn)
{
	struct env *e = env_create(c->profile, mode, tdp);

	e->insn = *insn;
	e->vcpu.regs[VCPU_REGS_RAX] = 0xdeadbeefdeadbeefULL;
	return e;
}

void check_retired(struct test_ctx *t, struct env *e, u64 len)
{
	TEST_ASSERT_EQ(e->ioctl_rc, 0, "KVM_RUN result");
	TEST_ASSERT_EQ(e->exit_reason, KVM_EXIT_HLT, "final exit reason");
	TEST_ASSERT(!e->vcpu.exception_delivered, "unexpected exception %u",
		    e->vcpu.delivered.vector);
	TEST_ASSERT_EQ(e->vcpu.rip, e->vcpu.insn_rip + len, "RIP after the instruction");
	TEST_ASSERT_EQ(e->vcpu.mmio_needed, 0, "mmio_needed at the end");
	TEST_ASSERT_EQ(e->vcpu.warnings, 0, "WARNs hit");
}

void check_pf(struct test_ctx *t, struct env *e, u64 cr2, u16 error_code)
{
	TEST_ASSERT_EQ(e->ioctl_rc, 0, "KVM_RUN result");
	TEST_ASSERT(e->vcpu.exception_delivered, "no exception delivered");
	TEST_ASSERT_EQ(e->vcpu.delivered.vector, PF_VECTOR, "exception vector");
	TEST_ASSERT(e->vcpu.delivered.error_code_valid, "#PF without an error code");
	TEST_ASSERT_EQ(e->vcpu.delivered.error_code, error_code, "#PF error code");
	TEST_ASSERT_EQ(e->vcpu.delivered.address, cr2, "#PF address");
	TEST_ASSERT_EQ(e->vcpu.sregs.cr2, cr2, "CR2");
	TEST_ASSERT_EQ(e->vcpu.rip, e->vcpu.insn_rip, "RIP after a fault");
}

u64 le_bytes(const u8 *p, unsigned int n)
{
	u64 v = 0;

	memcpy(&v, p, n < 8 ? n : 8);
	return v;
}

/* ---- scripts ---- */

static struct script_insn xmm_load(unsigned int bytes)
{
	return (struct script_insn){
		.name = "movdqu-like load", .execute = em_mov, .d = Mov | Unaligned,
		.op_bytes = 4, .ad_bytes = 8, .len = 4,
		.src = SCRIPT_MEM(bytes, VCPU_REGS_RDI, 0), .dst = SCRIPT_XMM(0),
	};
}

static struct script_insn xmm_store(unsigned int bytes)
{
	return (struct script_insn){
		.name = "movdqu-like store", .execute = em_mov, .d = Mov | Unaligned,
		.op_bytes = 4, .ad_bytes = 8, .len = 4,
		.src = SCRIPT_XMM(0), .dst = SCRIPT_MEM(bytes, VCPU_REGS_RDI, 0),
	};
}

const struct script_insn mov_eax_mem = {
	.name = "mov eax,[rdi]", .execute = em_mov, .d = Mov,
	.op_bytes = 4, .ad_bytes = 8, .len = 2,
	.src = SCRIPT_MEM(4, VCPU_REGS_RDI, 0), .dst = SCRIPT_REG(4, VCPU_REGS_RAX),
};

const struct script_insn mov_mem_eax = {
	.name = "mov [rdi],eax", .execute = em_mov, .d = Mov,
	.op_bytes = 4, .ad_bytes = 8, .len = 2,
	.src = SCRIPT_REG(4, VCPU_REGS_RAX), .dst = SCRIPT_MEM(4, VCPU_REGS_RDI, 0),
};

const struct script_insn movdqu_load = {
	.name = "movdqu xmm0,[rdi]", .execute = em_mov, .d = Mov | Unaligned,
	.op_bytes = 4, .ad_bytes = 8, .len = 4,
	.src = SCRIPT_MEM(16, VCPU_REGS_RDI, 0), .dst = SCRIPT_XMM(0),
};

const struct script_insn movdqu_store = {
	.name = "movdqu [rdi],xmm0", .execute = em_mov, .d = Mov | Unaligned,
	.op_bytes = 4, .ad_bytes = 8, .len = 4,
	.src = SCRIPT_XMM(0), .dst = SCRIPT_MEM(16, VCPU_REGS_RDI, 0),
};

const struct script_insn lock_cmpxchg = {
	.name = "lock cmpxchg [rdi],ecx", .execute = em_cmpxchg, .d = SrcWrite | Lock,
	.lock_prefix = true, .op_bytes = 4, .ad_bytes = 8, .len = 4,
	.src = SCRIPT_REG(4, VCPU_REGS_RCX), .dst = SCRIPT_MEM(4, VCPU_REGS_RDI, 0),
};

static const struct script_insn add_mem_ecx = {
	.name = "add [rdi],ecx", .execute = em_add,
	.op_bytes = 4, .ad_bytes = 8, .len = 2,
	.src = SCRIPT_REG(4, VCPU_REGS_RCX), .dst = SCRIPT_MEM(4, VCPU_REGS_RDI, 0),
};

static const struct script_insn lock_add_mem_ecx = {
	.name = "lock add [rdi],ecx", .execute = em_add, .d = Lock, .lock_prefix = true,
	.op_bytes = 4, .ad_bytes = 8, .len = 3,
	.src = SCRIPT_REG(4, VCPU_REGS_RCX), .dst = SCRIPT_MEM(4, VCPU_REGS_RDI, 0),
};

static const struct script_insn cmp_mem_ecx = {
	.name = "cmp [rdi],ecx", .execute = em_cmp, .d = NoWrite,
	.op_bytes = 4, .ad_bytes = 8, .len = 2,
	.src = SCRIPT_REG(4, VCPU_REGS_RCX), .dst = SCRIPT_MEM(4, VCPU_REGS_RDI, 0),
};

const u8 pattern[16] = { 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47,
			 0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f };

/* =====================================================================
 * 1. Split computation (spec 2.2 step 3, 5.1): both pages MMIO,
 *    V0 -> 0x1000, V1 -> 0x2000.
 * ===================================================================== */

struct split_row {
	const char *title;
	bool write;
	unsigned int bytes, off;
	unsigned int nr_exits;
	struct { u64 gpa; u32 len; } exits[3];
	u32 t3_len_old;		/* v6.18 unsatisfied-read len (gpa is frag0's) */
	u64 t4_gpa;		/* completion read trace gpa (frag0 after advance) */
};

static const struct split_row split_rows[] = {
	{ "split read 8 at 0xff9 -> 7+1", false, 8, 0xff9, 2,
	  { { 0x1ff9, 7 }, { 0x2000, 1 } }, 1, 0x1ff9 },
	{ "split read 8 at 0xff8 -> no split at page end", false, 8, 0xff8, 1,
	  { { 0x1ff8, 8 } }, 8, 0x1ff8 },
	{ "split read 1 at 0xfff -> no split", false, 1, 0xfff, 1,
	  { { 0x1fff, 1 } }, 1, 0x1fff },
	{ "split read 2 at 0xfff -> 1+1", false, 2, 0xfff, 2,
	  { { 0x1fff, 1 }, { 0x2000, 1 } }, 1, 0x1fff },
	{ "split read 4 at 0xffd -> 3+1", false, 4, 0xffd, 2,
	  { { 0x1ffd, 3 }, { 0x2000, 1 } }, 1, 0x1ffd },
	{ "split read 6 at 0xffe -> 2+4", false, 6, 0xffe, 2,
	  { { 0x1ffe, 2 }, { 0x2000, 4 } }, 4, 0x1ffe },
	{ "split read 10 at 0xffa -> 6+4", false, 10, 0xffa, 2,
	  { { 0x1ffa, 6 }, { 0x2000, 4 } }, 4, 0x1ffa },
	{ "split read 12 at 0xff4 -> no split, exits 8+4", false, 12, 0xff4, 2,
	  { { 0x1ff4, 8 }, { 0x1ffc, 4 } }, 12, 0x1ffc },
	{ "split read 16 at 0xff0 -> no split, exits 8+8", false, 16, 0xff0, 2,
	  { { 0x1ff0, 8 }, { 0x1ff8, 8 } }, 16, 0x1ff8 },
	{ "split read 16 at 0xff1 -> 15+1, exits 8,7,1", false, 16, 0xff1, 3,
	  { { 0x1ff1, 8 }, { 0x1ff9, 7 }, { 0x2000, 1 } }, 1, 0x1ff9 },
	{ "split read 16 at 0xff4 -> 12+4, T4 gpa advanced to 0x1ffc", false, 16, 0xff4, 3,
	  { { 0x1ff4, 8 }, { 0x1ffc, 4 }, { 0x2000, 4 } }, 4, 0x1ffc },
	{ "split read 16 at 0xff8 -> 8+8", false, 16, 0xff8, 2,
	  { { 0x1ff8, 8 }, { 0x2000, 8 } }, 8, 0x1ff8 },
	{ "split read 16 at 0xffc -> 4+12, exits 4,8,4", false, 16, 0xffc, 3,
	  { { 0x1ffc, 4 }, { 0x2000, 8 }, { 0x2008, 4 } }, 12, 0x1ffc },
	{ "split read 16 at 0xfff -> 1+15, exits 1,8,7", false, 16, 0xfff, 3,
	  { { 0x1fff, 1 }, { 0x2000, 8 }, { 0x2008, 7 } }, 15, 0x1fff },
	{ "split write 8 at 0xff9 -> 7+1", true, 8, 0xff9, 2,
	  { { 0x1ff9, 7 }, { 0x2000, 1 } }, 0, 0 },
	{ "split write 8 at 0xff8 -> no split at page end", true, 8, 0xff8, 1,
	  { { 0x1ff8, 8 } }, 0, 0 },
	{ "split write 2 at 0xfff -> 1+1", true, 2, 0xfff, 2,
	  { { 0x1fff, 1 }, { 0x2000, 1 } }, 0, 0 },
	{ "split write 3 at 0xffe -> 2+1", true, 3, 0xffe, 2,
	  { { 0x1ffe, 2 }, { 0x2000, 1 } }, 0, 0 },
	{ "split write 16 at 0xff0 -> no split, exits 8+8", true, 16, 0xff0, 2,
	  { { 0x1ff0, 8 }, { 0x1ff8, 8 } }, 0, 0 },
	{ "split write 16 at 0xffc -> 4+12, exits 4,8,4", true, 16, 0xffc, 3,
	  { { 0x1ffc, 4 }, { 0x2000, 8 }, { 0x2008, 4 } }, 0, 0 },
	{ "split write 16 at 0xff5 -> 11+5, exits 8,3,5", true, 16, 0xff5, 3,
	  { { 0x1ff5, 8 }, { 0x1ffd, 3 }, { 0x2000, 5 } }, 0, 0 },
};

static void split_row_run(struct test_ctx *t, const void *arg)
{
	const struct pcase *c = arg;
	const struct split_row *r = c->row;
	struct script_insn insn = r->write ? xmm_store(r->bytes) : xmm_load(r->bytes);
	struct env *e = model_env(c, ENV_LONG64, false, &insn);
	unsigned int k = 0x1000 - r->off < r->bytes ? 0x1000 - r->off : r->bytes;
	unsigned int i, n = 0, pos = 0;

	env_map(e, V0, 0x1000, RW);
	env_map(e, V1, 0x2000, RW);
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + r->off;
	if (r->write)
		memcpy(e->vcpu.xmm[0], pattern, 16);
	else
		env_read_data(e, pattern, r->bytes);
	env_run(e);

	TEST_ASSERT_EQ(e->nr_exits, r->nr_exits, "number of exits");
	for (i = 0; i < r->nr_exits; i++) {
		ENV_EXIT(e, i, r->exits[i].gpa, r->exits[i].len, r->write);
		if (r->write)
			TEST_ASSERT_EQ(env_exit_data(e, i), le_bytes(pattern + pos, r->exits[i].len),
				       "write exit data");
		pos += r->exits[i].len;
	}
	TEST_ASSERT_EQ(pos, r->bytes, "sum of exit lengths");
	TEST_ASSERT_EQ(e->vcpu.stat_mmio_exits, 1, "stat.mmio_exits");

	if (r->write) {
		/* one T2 per page piece, in piece order */
		TRACE_F(e, n++, "mmio write len %u gpa 0x%llx val 0x%llx", k,
			0x1000ULL + r->off, (unsigned long long)le_bytes(pattern, k));
		if (k < r->bytes)
			TRACE_F(e, n++, "mmio write len %u gpa 0x2000 val 0x%llx", r->bytes - k,
				(unsigned long long)le_bytes(pattern + k, r->bytes - k));
	} else {
		if (per_page_t3(c)) {
			TRACE_F(e, n++, "mmio unsatisfied-read len %u gpa 0x%llx val 0x0", k,
				0x1000ULL + r->off);
			if (k < r->bytes)
				TRACE_F(e, n++, "mmio unsatisfied-read len %u gpa 0x2000 val 0x0",
					r->bytes - k);
		} else {
			TRACE_F(e, n++, "mmio unsatisfied-read len %u gpa 0x%llx val 0x0",
				r->t3_len_old, 0x1000ULL + r->off);
		}
		TRACE_F(e, n++, "mmio read len %u gpa 0x%llx val 0x%llx", r->bytes,
			(unsigned long long)r->t4_gpa,
			(unsigned long long)le_bytes(pattern, r->bytes));
		TEST_ASSERT(!memcmp(e->vcpu.xmm[0], pattern, r->bytes), "XMM0 differs");
	}
	TEST_ASSERT_EQ(e->vcpu.trace.nr, n, "number of trace events");
	check_retired(t, e, 4);
	env_destroy(e);
}

MODEL_ROWS(split_rows, split_row_run);

/*
 * Sweep: every size 1..16 at every offset 0xff0..0xfff.  The expectation is
 * the spec's rule: pieces up to the page end, each chunked by 8 in order.
 */
static bool sweep_one(struct test_ctx *t, const struct pcase *c, bool write,
		      unsigned int bytes, unsigned int off, char *why, size_t n)
{
	struct script_insn insn = write ? xmm_store(bytes) : xmm_load(bytes);
	struct env *e = model_env(c, ENV_LONG64, false, &insn);
	unsigned int k = 0x1000 - off < bytes ? 0x1000 - off : bytes;
	unsigned int piece, x = 0, pos = 0;
	bool ok = false;

	env_map(e, V0, 0x1000, RW);
	env_map(e, V1, 0x2000, RW);
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + off;
	if (write)
		memcpy(e->vcpu.xmm[0], pattern, 16);
	else
		env_read_data(e, pattern, bytes);
	env_run(e);

	for (piece = 0; piece < 2; piece++) {
		u64 gpa = piece ? 0x2000 : 0x1000 + off;
		unsigned int len = piece ? bytes - k : k, done;

		for (done = 0; done < len; done += 8, x++) {
			unsigned int l = len - done < 8 ? len - done : 8;

			if (x >= e->nr_exits) {
				snprintf(why, n, "exit %u missing", x);
				goto out;
			}
			if (e->exits[x].gpa != gpa + done || e->exits[x].len != l ||
			    e->exits[x].write != write) {
				snprintf(why, n, "exit %u is {0x%llx,%u,%c}, wanted {0x%llx,%u}", x,
					 (unsigned long long)e->exits[x].gpa, e->exits[x].len,
					 e->exits[x].write ? 'W' : 'R',
					 (unsigned long long)(gpa + done), l);
				goto out;
			}
			if (memcmp(e->exits[x].data, pattern + pos, l)) {
				snprintf(why, n, "exit %u data differs", x);
				goto out;
			}
			pos += l;
		}
	}
	if (e->nr_exits != x) {
		snprintf(why, n, "%u exits, wanted %u", e->nr_exits, x);
		goto out;
	}
	if (!write && memcmp(e->vcpu.xmm[0], pattern, bytes)) {
		snprintf(why, n, "XMM0 differs");
		goto out;
	}
	if (e->exit_reason != KVM_EXIT_HLT || e->vcpu.rip != e->vcpu.insn_rip + 4 ||
	    e->vcpu.mmio_needed || e->vcpu.warnings) {
		snprintf(why, n, "not retired cleanly");
		goto out;
	}
	ok = true;
out:
	env_destroy(e);
	return ok;
}

static void split_sweep(struct test_ctx *t, const void *arg, bool write)
{
	unsigned int bytes, off;
	char why[128];

	for (bytes = 1; bytes <= 16; bytes++)
		for (off = 0xff0; off <= 0xfff; off++)
			if (!sweep_one(t, arg, write, bytes, off, why, sizeof(why)))
				TEST_FAIL("%s %u bytes at 0x%x: %s", write ? "write" : "read",
					  bytes, off, why);
}

static void split_sweep_read(struct test_ctx *t, const void *arg)
{
	split_sweep(t, arg, false);
}

static void split_sweep_write(struct test_ctx *t, const void *arg)
{
	split_sweep(t, arg, true);
}

__attribute__((constructor)) static void register_split_sweep(void)
{
	register_profiles("split sweep: reads of 1..16 bytes at 0xff0..0xfff, exits per piece",
			  split_sweep_read, NULL, all_profiles, NR_ALL_PROFILES);
	register_profiles("split sweep: writes of 1..16 bytes at 0xff0..0xfff, exits and data",
			  split_sweep_write, NULL, all_profiles, NR_ALL_PROFILES);
}

/* =====================================================================
 * 2. 32-bit linear wrap (spec 2.2 step 3) and none in 64-bit mode.
 * ===================================================================== */

MODEL_CASE(wrap32_write, "32-bit wrap: 4-byte write at 0xfffffffd -> 3 at 0x1ffd, 1 at linear 0",
	   modern_profiles)
{
	static const struct script_insn mov_abs_eax = {
		.name = "mov [0xfffffffd],eax", .execute = em_mov, .d = Mov,
		.op_bytes = 4, .ad_bytes = 4, .len = 5,
		.src = SCRIPT_REG(4, VCPU_REGS_RAX),
		.dst = SCRIPT_MEM(4, SCRIPT_NO_BASE, 0xfffffffd),
	};
	struct env *e = model_env(c, ENV_PROT32_PAGING, false, &mov_abs_eax);

	env_map(e, 0xfffff000, 0x1000, RW);
	env_map(e, 0x0, 0x7000, RW);
	e->vcpu.regs[VCPU_REGS_RAX] = 0xaabbccdd;
	env_run(e);

	ENV_TRACE(e, 0, "mmio write len 3 gpa 0x1ffd val 0xbbccdd");
	ENV_TRACE(e, 1, "mmio write len 1 gpa 0x7000 val 0xaa");
	TEST_ASSERT_EQ(e->vcpu.trace.nr, 2, "number of trace events");
	TEST_ASSERT_EQ(e->nr_exits, 2, "number of exits");
	ENV_EXIT(e, 0, 0x1ffd, 3, true);
	TEST_ASSERT_EQ(env_exit_data(e, 0), 0xbbccdd, "exit 0 data");
	ENV_EXIT(e, 1, 0x7000, 1, true);
	TEST_ASSERT_EQ(env_exit_data(e, 1), 0xaa, "exit 1 data");
	check_retired(t, e, 5);
	env_destroy(e);
}

MODEL_CASE(nowrap64_write, "64-bit: 4-byte write at 0xfffffffd continues at 0x100000000, no wrap",
	   modern_profiles)
{
	static const struct script_insn mov_abs_eax = {
		.name = "mov [0xfffffffd],eax", .execute = em_mov, .d = Mov,
		.op_bytes = 4, .ad_bytes = 8, .len = 7,
		.src = SCRIPT_REG(4, VCPU_REGS_RAX),
		.dst = SCRIPT_MEM(4, SCRIPT_NO_BASE, 0xfffffffd),
	};
	struct env *e = model_env(c, ENV_LONG64, false, &mov_abs_eax);

	env_map(e, 0xfffff000, 0x1000, RW);
	env_map(e, 0x100000000ULL, 0x8000, RW);
	env_map(e, 0x0, 0x7000, RW);
	e->vcpu.regs[VCPU_REGS_RAX] = 0xaabbccdd;
	env_run(e);

	ENV_TRACE(e, 0, "mmio write len 3 gpa 0x1ffd val 0xbbccdd");
	ENV_TRACE(e, 1, "mmio write len 1 gpa 0x8000 val 0xaa");
	TEST_ASSERT_EQ(e->vcpu.trace.nr, 2, "number of trace events");
	TEST_ASSERT_EQ(e->nr_exits, 2, "number of exits");
	ENV_EXIT(e, 0, 0x1ffd, 3, true);
	ENV_EXIT(e, 1, 0x8000, 1, true);
	TEST_ASSERT_EQ(env_exit_data(e, 1), 0xaa, "exit 1 data");
	check_retired(t, e, 7);
	env_destroy(e);
}

/* The wrapped address is what the walk sees: a fault there reports it. */
struct wrap_fault_row {
	const char *title;
	enum env_mode mode;
	u8 ad_bytes;
	u64 cr2;
};

static const struct wrap_fault_row wrap_fault_rows[] = {
	{ "32-bit wrap: 2nd piece at unmapped linear 0 -> #PF CR2 0, 1st piece traced",
	  ENV_PROT32_PAGING, 4, 0 },
	{ "64-bit: 2nd piece at unmapped 0x100000000 -> #PF CR2 0x100000000",
	  ENV_LONG64, 8, 0x100000000ULL },
};

static void wrap_fault_run(struct test_ctx *t, const void *arg)
{
	const struct pcase *c = arg;
	const struct wrap_fault_row *r = c->row;
	struct script_insn insn = {
		.name = "mov [0xfffffffd],eax", .execute = em_mov, .d = Mov,
		.op_bytes = 4, .ad_bytes = r->ad_bytes, .len = 5,
		.src = SCRIPT_REG(4, VCPU_REGS_RAX),
		.dst = SCRIPT_MEM(4, SCRIPT_NO_BASE, 0xfffffffd),
	};
	struct env *e = model_env(c, r->mode, false, &insn);

	env_map(e, 0xfffff000, 0x1000, RW);
	e->vcpu.regs[VCPU_REGS_RAX] = 0xaabbccdd;
	env_run(e);

	check_pf(t, e, r->cr2, PFERR_WRITE_MASK);
	ENV_TRACE(e, 0, "mmio write len 3 gpa 0x1ffd val 0xbbccdd");
	TEST_ASSERT_EQ(e->vcpu.trace.nr, 1, "number of trace events");
	TEST_ASSERT_EQ(e->nr_exits, 0, "number of exits");
	env_destroy(e);
}

MODEL_ROWS(wrap_fault_rows, wrap_fault_run);

/* =====================================================================
 * 3. Chunking of long fragments (spec 5.1, 4 note (c)).
 * ===================================================================== */

MODEL_CASE(movdqu_4_12, "movdqu load split 4+12 -> exits 4,8,4 (as 6.18.44 did), T4 at frag0",
	   modern_profiles)
{
	struct script_insn insn = xmm_load(16);
	struct env *e = model_env(c, ENV_LONG64, false, &insn);
	unsigned int n = 0;

	env_map(e, V0, 0x1000, RW);
	env_map(e, V1, 0x5000, RW);
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0xffc;
	env_read_data(e, pattern, 16);
	env_run(e);

	if (per_page_t3(c)) {
		ENV_TRACE(e, n++, "mmio unsatisfied-read len 4 gpa 0x1ffc val 0x0");
		ENV_TRACE(e, n++, "mmio unsatisfied-read len 12 gpa 0x5000 val 0x0");
	} else {
		ENV_TRACE(e, n++, "mmio unsatisfied-read len 12 gpa 0x1ffc val 0x0");
	}
	ENV_TRACE(e, n++, "mmio read len 16 gpa 0x1ffc val 0x4746454443424140");
	TEST_ASSERT_EQ(e->vcpu.trace.nr, n, "number of trace events");
	TEST_ASSERT_EQ(e->nr_exits, 3, "number of exits");
	ENV_EXIT(e, 0, 0x1ffc, 4, false);
	ENV_EXIT(e, 1, 0x5000, 8, false);
	ENV_EXIT(e, 2, 0x5008, 4, false);
	TEST_ASSERT(!memcmp(e->vcpu.xmm[0], pattern, 16), "XMM0 differs");
	TEST_ASSERT_EQ(e->vcpu.stat_mmio_exits, 1, "stat.mmio_exits (once per pass, not per chunk)");
	check_retired(t, e, 4);
	env_destroy(e);
}

MODEL_CASE(store16_one_page, "16-byte store in one page -> exits 8,8 with low and high qword",
	   all_profiles)
{
	struct script_insn insn = xmm_store(16);
	struct env *e = model_env(c, ENV_LONG64, false, &insn);

	env_map(e, V0, 0x1000, RW);
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0x100;
	memcpy(e->vcpu.xmm[0], pattern, 16);
	env_run(e);

	ENV_TRACE(e, 0, "mmio write len 16 gpa 0x1100 val 0x4746454443424140");
	TEST_ASSERT_EQ(e->vcpu.trace.nr, 1, "number of trace events");
	TEST_ASSERT_EQ(e->nr_exits, 2, "number of exits");
	ENV_EXIT(e, 0, 0x1100, 8, true);
	TEST_ASSERT_EQ(env_exit_data(e, 0), 0x4746454443424140ULL, "exit 0 data");
	ENV_EXIT(e, 1, 0x1108, 8, true);
	TEST_ASSERT_EQ(env_exit_data(e, 1), 0x4f4e4d4c4b4a4948ULL, "exit 1 data");
	TEST_ASSERT_EQ(e->vcpu.stat_mmio_exits, 1, "stat.mmio_exits");
	/* a write exit describes a committed instruction: RIP moved before exit 0 */
	check_retired(t, e, 4);
	env_destroy(e);
}

MODEL_CASE(t4_gpa_advance, "16-byte load: completion advances frag0 (gpa +8, len 8), T4 at gpa+8",
	   all_profiles)
{
	struct script_insn insn = xmm_load(16);
	struct env *e = model_env(c, ENV_LONG64, false, &insn);

	env_map(e, V0, 0x3000, RW);
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0x200;
	env_read_data(e, pattern, 16);
	env_run(e);

	ENV_TRACE(e, 0, "mmio unsatisfied-read len 16 gpa 0x3200 val 0x0");
	ENV_TRACE(e, 1, "mmio read len 16 gpa 0x3208 val 0x4746454443424140");
	TEST_ASSERT_EQ(e->vcpu.trace.nr, 2, "number of trace events");
	ENV_EXIT(e, 0, 0x3200, 8, false);
	ENV_EXIT(e, 1, 0x3208, 8, false);
	TEST_ASSERT_EQ(e->vcpu.mmio_fragments[0].gpa, 0x3208, "frag0 gpa after completion");
	TEST_ASSERT_EQ(e->vcpu.mmio_fragments[0].len, 8, "frag0 len after completion");
	TEST_ASSERT_EQ(e->vcpu.mmio_cur_fragment, 1, "cur fragment after completion");
	TEST_ASSERT(!memcmp(e->vcpu.xmm[0], pattern, 16), "XMM0 differs");
	check_retired(t, e, 4);
	env_destroy(e);
}

/* =====================================================================
 * 4. Completion state machine (spec 5.1, 5.2, 1.4).
 * ===================================================================== */

MODEL_CASE(complete_without_needed, "completion without mmio_needed: BUG_ON / KVM_BUG_ON, -EIO",
	   all_profiles)
{
	bool kvm_bug = kvm_profile_find(c->profile)->completion_bug_is_kvm_bug;
	struct env *e = model_env(c, ENV_LONG64, false, &mov_eax_mem);

	e->vcpu.complete_userspace_io = complete_emulated_mmio;
	e->vcpu.mmio_needed = 0;
	e->vcpu.insn_rip = e->vcpu.rip;
	TEST_ASSERT_EQ(kvm_arch_vcpu_ioctl_run(&e->vcpu), -EIO, "KVM_RUN result");
	TEST_ASSERT_EQ(e->vcpu.vm_bugged, kvm_bug, "vm_bugged (7.1 KVM_BUG_ON)");
	TEST_ASSERT_EQ(e->vcpu.host_bug, !kvm_bug, "host_bug (BUG_ON before 7.1)");
	TEST_ASSERT_EQ(e->vcpu.guest_entries, 0, "guest entries");
	/* the VM stays dead */
	TEST_ASSERT_EQ(kvm_arch_vcpu_ioctl_run(&e->vcpu), -EIO, "second KVM_RUN result");
	env_destroy(e);
}

/* One KVM_RUN by hand; returns the ioctl result. */
static int run_once(struct env *e)
{
	return kvm_arch_vcpu_ioctl_run(&e->vcpu);
}

MODEL_CASE(read_consumes_min8, "read completion consumes only min(8, remaining) bytes of data",
	   all_profiles)
{
	struct script_insn insn = xmm_load(12);
	struct env *e = model_env(c, ENV_LONG64, false, &insn);
	struct kvm_run *run = e->vcpu.run;
	const u8 *cache = e->vcpu.emulate_ctxt->mem_read.data;
	unsigned int i;

	env_map(e, V0, 0x1000, RW);
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0x100;
	e->vcpu.insn_rip = e->vcpu.rip;

	TEST_ASSERT_EQ(run_once(e), 0, "KVM_RUN 1");
	TEST_ASSERT_EQ(run->exit_reason, KVM_EXIT_MMIO, "exit 1 reason");
	TEST_ASSERT_EQ(run->mmio.len, 8, "exit 1 len");
	memcpy(run->mmio.data, pattern, 8);
	TEST_ASSERT_EQ(run_once(e), 0, "KVM_RUN 2");
	TEST_ASSERT_EQ(run->exit_reason, KVM_EXIT_MMIO, "exit 2 reason");
	TEST_ASSERT_EQ(run->mmio.phys_addr, 0x1108, "exit 2 gpa");
	TEST_ASSERT_EQ(run->mmio.len, 4, "exit 2 len");
	/* userspace fills all 8 bytes: only 4 may be taken */
	memcpy(run->mmio.data, pattern + 8, 8);
	TEST_ASSERT_EQ(run_once(e), 0, "KVM_RUN 3");
	TEST_ASSERT_EQ(run->exit_reason, KVM_EXIT_HLT, "final exit reason");

	TEST_ASSERT(!memcmp(cache, pattern, 12), "mem_read holds the 12 bytes read");
	for (i = 12; i < 16; i++)
		TEST_ASSERT_EQ(cache[i], 0, "mem_read byte past the fragment");
	TEST_ASSERT(!memcmp(e->vcpu.xmm[0], pattern, 12), "XMM0 low 12 bytes");
	TEST_ASSERT_EQ(le_bytes(e->vcpu.xmm[0] + 12, 4), 0, "XMM0 high 4 bytes");
	TEST_ASSERT_EQ(e->vcpu.rip, e->vcpu.insn_rip + 4, "RIP");
	env_destroy(e);
}

MODEL_CASE(completion_ignores_gpa_len, "completion ignores userspace changes to phys_addr and len",
	   all_profiles)
{
	struct script_insn insn = xmm_store(16);
	struct env *e = model_env(c, ENV_LONG64, false, &insn);
	struct kvm_run *run = e->vcpu.run;

	env_map(e, V0, 0x1000, RW);
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0x100;
	memcpy(e->vcpu.xmm[0], pattern, 16);
	e->vcpu.insn_rip = e->vcpu.rip;

	TEST_ASSERT_EQ(run_once(e), 0, "KVM_RUN 1");
	TEST_ASSERT_EQ(run->mmio.phys_addr, 0x1100, "exit 1 gpa");
	run->mmio.phys_addr = 0xdead000;
	run->mmio.len = 1;
	memset(run->mmio.data, 0x99, 8);
	TEST_ASSERT_EQ(run_once(e), 0, "KVM_RUN 2");
	TEST_ASSERT_EQ(run->exit_reason, KVM_EXIT_MMIO, "exit 2 reason");
	TEST_ASSERT_EQ(run->mmio.phys_addr, 0x1108, "exit 2 gpa");
	TEST_ASSERT_EQ(run->mmio.len, 8, "exit 2 len");
	TEST_ASSERT_EQ(run->mmio.is_write, 1, "exit 2 direction");
	TEST_ASSERT_EQ(le_bytes(run->mmio.data, 8), 0x4f4e4d4c4b4a4948ULL, "exit 2 data");
	TEST_ASSERT_EQ(run_once(e), 0, "KVM_RUN 3");
	TEST_ASSERT_EQ(run->exit_reason, KVM_EXIT_HLT, "final exit reason");
	env_destroy(e);
}

MODEL_CASE(read_exit_stale_data, "read exit leaves the previous exit's data in kvm_run",
	   all_profiles)
{
	struct script_insn store = xmm_store(8);
	struct env *e = model_env(c, ENV_LONG64, false, &store);
	struct kvm_run *run = e->vcpu.run;

	env_map(e, V0, 0x1000, RW);
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0x100;
	memcpy(e->vcpu.xmm[0], pattern, 16);
	env_run(e);
	TEST_ASSERT_EQ(e->nr_exits, 1, "write exits");
	check_retired(t, e, 4);

	/* next instruction: a 4-byte read of another MMIO address */
	e->insn = mov_eax_mem;
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0x200;
	e->vcpu.insn_rip = e->vcpu.rip;
	TEST_ASSERT_EQ(run_once(e), 0, "KVM_RUN");
	TEST_ASSERT_EQ(run->exit_reason, KVM_EXIT_MMIO, "exit reason");
	TEST_ASSERT_EQ(run->mmio.is_write, 0, "exit direction");
	TEST_ASSERT_EQ(run->mmio.phys_addr, 0x1200, "exit gpa");
	TEST_ASSERT_EQ(run->mmio.len, 4, "exit len");
	TEST_ASSERT_EQ(le_bytes(run->mmio.data, 8), 0x4746454443424140ULL,
		       "stale data of the write exit");
	memcpy(run->mmio.data, (u8[]){ 1, 2, 3, 4 }, 4);
	TEST_ASSERT_EQ(run_once(e), 0, "KVM_RUN 2");
	TEST_ASSERT_EQ(run->exit_reason, KVM_EXIT_HLT, "final exit reason");
	TEST_ASSERT_EQ(e->vcpu.regs[VCPU_REGS_RAX], 0x04030201, "EAX");
	env_destroy(e);
}

/* =====================================================================
 * 5. mem_read replay over several read exits (spec 1.5, 5.4), RMW order.
 * ===================================================================== */

static const struct script_insn cmpsd = {
	.name = "cmpsd", .execute = em_cmps, .d = String | NoWrite | TwoMemOp,
	.op_bytes = 4, .ad_bytes = 8, .len = 1,
	.src = { .type = OP_MEM, .bytes = 4, .base = VCPU_REGS_RSI, .seg = VCPU_SREG_DS },
	.dst = { .type = OP_MEM, .bytes = 4, .base = VCPU_REGS_RDI, .seg = VCPU_SREG_ES },
};

#define ARITH_FLAGS (X86_EFLAGS_CF | X86_EFLAGS_ZF | X86_EFLAGS_SF | X86_EFLAGS_OF)

MODEL_CASE(cmps_two_exchanges, "cmpsd with both operands on MMIO: two read exchanges, replayed",
	   all_profiles)
{
	struct env *e = model_env(c, ENV_LONG64, false, &cmpsd);

	env_map(e, V0, 0x1000, RW);
	env_map(e, V1, 0x2000, RW);
	e->vcpu.regs[VCPU_REGS_RSI] = V0 + 0x10;
	e->vcpu.regs[VCPU_REGS_RDI] = V1 + 0x20;
	env_read_data(e, (u8[]){ 5, 0, 0, 0, 7, 0, 0, 0 }, 8);
	env_run(e);

	/* pass 1: A misses; pass 2: A completes, B misses; pass 3: A hits, B completes */
	ENV_TRACE(e, 0, "mmio unsatisfied-read len 4 gpa 0x1010 val 0x0");
	ENV_TRACE(e, 1, "mmio read len 4 gpa 0x1010 val 0x5");
	ENV_TRACE(e, 2, "mmio unsatisfied-read len 4 gpa 0x2020 val 0x0");
	ENV_TRACE(e, 3, "mmio read len 4 gpa 0x2020 val 0x7");
	TEST_ASSERT_EQ(e->vcpu.trace.nr, 4, "number of trace events");
	TEST_ASSERT_EQ(e->nr_exits, 2, "number of exits");
	ENV_EXIT(e, 0, 0x1010, 4, false);
	ENV_EXIT(e, 1, 0x2020, 4, false);
	TEST_ASSERT_EQ(e->vcpu.stat_mmio_exits, 2, "stat.mmio_exits");
	TEST_ASSERT_EQ(e->vcpu.stat_insn_emulation, 1, "fresh decodes");
	TEST_ASSERT_EQ(e->vcpu.emulate_ctxt->mem_read.end, 8, "mem_read.end");
	/* 5 - 7: borrow, negative, not zero, no overflow */
	TEST_ASSERT_EQ(e->vcpu.rflags & ARITH_FLAGS, X86_EFLAGS_CF | X86_EFLAGS_SF, "flags");
	TEST_ASSERT_EQ(e->vcpu.regs[VCPU_REGS_RSI], V0 + 0x14, "RSI");
	TEST_ASSERT_EQ(e->vcpu.regs[VCPU_REGS_RDI], V1 + 0x24, "RDI");
	check_retired(t, e, 1);
	env_destroy(e);
}

MODEL_CASE(cmps_split_src, "cmpsd with a 3+1 split source then MMIO dest: per-profile T3",
	   modern_profiles)
{
	struct env *e = model_env(c, ENV_LONG64, false, &cmpsd);
	unsigned int n = 0;

	env_map(e, V0, 0x1000, RW);
	env_map(e, V1, 0x2000, RW);
	e->vcpu.regs[VCPU_REGS_RSI] = V0 + 0xffd;
	e->vcpu.regs[VCPU_REGS_RDI] = V1 + 0x20;
	env_read_data(e, (u8[]){ 0xaa, 0xbb, 0xcc, 0xdd, 0xaa, 0xbb, 0xcc, 0xdd }, 8);
	env_run(e);

	if (per_page_t3(c)) {
		ENV_TRACE(e, n++, "mmio unsatisfied-read len 3 gpa 0x1ffd val 0x0");
		ENV_TRACE(e, n++, "mmio unsatisfied-read len 1 gpa 0x2000 val 0x0");
	} else {
		ENV_TRACE(e, n++, "mmio unsatisfied-read len 1 gpa 0x1ffd val 0x0");
	}
	ENV_TRACE(e, n++, "mmio read len 4 gpa 0x1ffd val 0xddccbbaa");
	ENV_TRACE(e, n++, "mmio unsatisfied-read len 4 gpa 0x2020 val 0x0");
	ENV_TRACE(e, n++, "mmio read len 4 gpa 0x2020 val 0xddccbbaa");
	TEST_ASSERT_EQ(e->vcpu.trace.nr, n, "number of trace events");
	TEST_ASSERT_EQ(e->nr_exits, 3, "number of exits");
	ENV_EXIT(e, 0, 0x1ffd, 3, false);
	ENV_EXIT(e, 1, 0x2000, 1, false);
	ENV_EXIT(e, 2, 0x2020, 4, false);
	TEST_ASSERT_EQ(e->vcpu.stat_mmio_exits, 2, "stat.mmio_exits");
	TEST_ASSERT_EQ(e->vcpu.rflags & ARITH_FLAGS, X86_EFLAGS_ZF, "flags (equal)");
	check_retired(t, e, 1);
	env_destroy(e);
}

MODEL_CASE(rmw_read_then_write, "add [mmio],ecx: read exit, then write exit after commit",
	   all_profiles)
{
	struct env *e = model_env(c, ENV_LONG64, false, &add_mem_ecx);

	env_map(e, V0, 0x1000, RW);
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0x40;
	e->vcpu.regs[VCPU_REGS_RCX] = 0x10;
	env_read_data(e, (u8[]){ 0xf8, 0xff, 0xff, 0xff }, 4);
	env_run(e);

	ENV_TRACE(e, 0, "mmio unsatisfied-read len 4 gpa 0x1040 val 0x0");
	ENV_TRACE(e, 1, "mmio read len 4 gpa 0x1040 val 0xfffffff8");
	ENV_TRACE(e, 2, "mmio write len 4 gpa 0x1040 val 0x8");
	TEST_ASSERT_EQ(e->vcpu.trace.nr, 3, "number of trace events");
	TEST_ASSERT_EQ(e->nr_exits, 2, "number of exits");
	ENV_EXIT(e, 0, 0x1040, 4, false);
	ENV_EXIT(e, 1, 0x1040, 4, true);
	TEST_ASSERT_EQ(env_exit_data(e, 1), 0x8, "write exit data");
	TEST_ASSERT_EQ(e->vcpu.stat_mmio_exits, 2, "stat.mmio_exits");
	TEST_ASSERT_EQ(e->vcpu.rflags & ARITH_FLAGS, X86_EFLAGS_CF, "flags (carry)");
	check_retired(t, e, 2);
	env_destroy(e);
}

/* =====================================================================
 * 6. cmpxchg fall-back rules (spec 6).
 * ===================================================================== */

MODEL_CASE(lock_add_ram, "lock add on RAM: atomic path, memory updated, no trace, no exit",
	   all_profiles)
{
	struct env *e = model_env(c, ENV_LONG64, false, &lock_add_mem_ecx);
	u8 *ram = env_ram(e, 0x1000, false);

	env_map(e, V0, 0x1000, RW);
	memcpy(ram + 0x40, (u8[]){ 0x00, 0x01, 0, 0 }, 4);
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0x40;
	e->vcpu.regs[VCPU_REGS_RCX] = 0x23;
	env_run(e);

	TEST_ASSERT_EQ(le_bytes(ram + 0x40, 4), 0x123, "memory");
	TEST_ASSERT_EQ(e->vcpu.trace.nr, 0, "number of trace events");
	TEST_ASSERT_EQ(e->nr_exits, 0, "number of exits");
	check_retired(t, e, 3);
	env_destroy(e);
}

MODEL_CASE(lock_cmpxchg_ram, "lock cmpxchg on RAM: equal stores, unequal loads EAX, no MMIO",
	   all_profiles)
{
	unsigned int pass;

	for (pass = 0; pass < 2; pass++) {
		struct env *e = model_env(c, ENV_LONG64, false, &lock_cmpxchg);
		u8 *ram = env_ram(e, 0x1000, false);
		u32 old = pass ? 7 : 5;

		env_map(e, V0, 0x1000, RW);
		memcpy(ram + 0x10, &old, 4);
		e->vcpu.regs[VCPU_REGS_RAX] = 5;
		e->vcpu.regs[VCPU_REGS_RCX] = 9;
		e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0x10;
		env_run(e);

		TEST_ASSERT_EQ(le_bytes(ram + 0x10, 4), pass ? 7 : 9, "memory");
		TEST_ASSERT_EQ(e->vcpu.regs[VCPU_REGS_RAX], pass ? 7 : 5, "EAX");
		TEST_ASSERT_EQ(!!(e->vcpu.rflags & X86_EFLAGS_ZF), !pass, "ZF");
		TEST_ASSERT_EQ(e->vcpu.trace.nr, 0, "number of trace events");
		TEST_ASSERT_EQ(e->nr_exits, 0, "number of exits");
		check_retired(t, e, 4);
		env_destroy(e);
	}
}

MODEL_CASE(lock_add_rom, "lock add on a read-only memslot: read from RAM, write falls back to MMIO",
	   all_profiles)
{
	struct env *e = model_env(c, ENV_LONG64, false, &lock_add_mem_ecx);
	u8 *rom = env_ram(e, 0x1000, true);

	env_map(e, V0, 0x1000, RW);
	memcpy(rom + 0x40, (u8[]){ 0x00, 0x01, 0, 0 }, 4);
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0x40;
	e->vcpu.regs[VCPU_REGS_RCX] = 0x23;
	env_run(e);

	ENV_TRACE(e, 0, "mmio write len 4 gpa 0x1040 val 0x123");
	TEST_ASSERT_EQ(e->vcpu.trace.nr, 1, "number of trace events");
	TEST_ASSERT_EQ(e->nr_exits, 1, "number of exits");
	ENV_EXIT(e, 0, 0x1040, 4, true);
	TEST_ASSERT_EQ(env_exit_data(e, 0), 0x123, "exit data");
	TEST_ASSERT_EQ(le_bytes(rom + 0x40, 4), 0x100, "read-only memory unchanged");
	check_retired(t, e, 3);
	env_destroy(e);
}

MODEL_CASE(lock_add_page_cross_ram, "lock add across a page (RAM|RAM, GPAs apart): per-piece write",
	   all_profiles)
{
	struct env *e = model_env(c, ENV_LONG64, false, &lock_add_mem_ecx);
	u8 *lo = env_ram(e, 0x1000, false), *mid = env_ram(e, 0x2000, false);
	u8 *hi = env_ram(e, 0x5000, false);

	env_map(e, V0, 0x1000, RW);
	env_map(e, V1, 0x5000, RW);
	memcpy(lo + 0xffe, (u8[]){ 0x11, 0x22 }, 2);
	memcpy(hi, (u8[]){ 0x33, 0x44 }, 2);
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0xffe;
	e->vcpu.regs[VCPU_REGS_RCX] = 0x01010101;
	env_run(e);

	/* 0x44332211 + 0x01010101, written to each page's own GPA */
	TEST_ASSERT_EQ(le_bytes(lo + 0xffe, 2), 0x2312, "first page");
	TEST_ASSERT_EQ(le_bytes(hi, 2), 0x4534, "second page");
	TEST_ASSERT_EQ(le_bytes(mid, 2), 0, "GPA after the first page untouched");
	TEST_ASSERT_EQ(e->vcpu.trace.nr, 0, "number of trace events");
	TEST_ASSERT_EQ(e->nr_exits, 0, "number of exits");
	check_retired(t, e, 3);
	env_destroy(e);
}

MODEL_CASE(lock_add_page_cross_mmio, "lock add across RAM|MMIO: read exit, then split write exits 2nd piece",
	   modern_profiles)
{
	struct env *e = model_env(c, ENV_LONG64, false, &lock_add_mem_ecx);
	u8 *lo = env_ram(e, 0x1000, false);

	env_map(e, V0, 0x1000, RW);
	env_map(e, V1, 0x2000, RW);
	memcpy(lo + 0xffe, (u8[]){ 0x11, 0x22 }, 2);
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0xffe;
	e->vcpu.regs[VCPU_REGS_RCX] = 0x01010101;
	env_read_data(e, (u8[]){ 0x33, 0x44 }, 2);
	env_run(e);

	ENV_TRACE(e, 0, "mmio unsatisfied-read len 2 gpa 0x2000 val 0x0");
	ENV_TRACE(e, 1, "mmio read len 4 gpa 0x2000 val 0x44332211");
	ENV_TRACE(e, 2, "mmio write len 2 gpa 0x2000 val 0x4534");
	TEST_ASSERT_EQ(e->vcpu.trace.nr, 3, "number of trace events");
	TEST_ASSERT_EQ(e->nr_exits, 2, "number of exits");
	ENV_EXIT(e, 0, 0x2000, 2, false);
	ENV_EXIT(e, 1, 0x2000, 2, true);
	TEST_ASSERT_EQ(env_exit_data(e, 1), 0x4534, "write exit data");
	TEST_ASSERT_EQ(le_bytes(lo + 0xffe, 2), 0x2312, "RAM piece written");
	check_retired(t, e, 3);
	env_destroy(e);
}

/*
 * Split-lock rule: a racing writer changes the destination between the
 * emulator's read and the locked writeback.  The atomic path notices
 * (CMPXCHG_FAILED: not committed, the guest retries); the fall-back plain
 * write does not.
 */
static u8 *race_byte;
static unsigned int race_left;

static int em_add_raced(struct x86_emulate_ctxt *ctxt)
{
	if (race_left) {
		race_left--;
		*race_byte += 0x40;	/* another vCPU's store */
	}
	return em_add(ctxt);
}

struct splitlock_row {
	const char *title;
	unsigned int off;
	bool split_lock_detect;
	u32 result;
	unsigned int emulations;
};

static const struct splitlock_row splitlock_rows[] = {
	{ "lock add across a 64-byte line, split-lock detect: plain write loses the race",
	  0x3e, true, 0x101, 1 },
	{ "lock add across a 64-byte line, no split-lock detect: atomic, retried",
	  0x3e, false, 0x141, 2 },
	{ "lock add inside a 64-byte line, split-lock detect: atomic, retried",
	  0x38, true, 0x141, 2 },
};

static void splitlock_run(struct test_ctx *t, const void *arg)
{
	const struct pcase *c = arg;
	const struct splitlock_row *r = c->row;
	struct script_insn insn = lock_add_mem_ecx;
	struct env *e;
	u8 *ram;

	insn.execute = em_add_raced;
	e = model_env(c, ENV_LONG64, false, &insn);
	ram = env_ram(e, 0x1000, false);
	e->vcpu.host.split_lock_detect = r->split_lock_detect;
	env_map(e, V0, 0x1000, RW);
	memcpy(ram + r->off, (u8[]){ 0x00, 0x01, 0, 0 }, 4);
	race_byte = ram + r->off;
	race_left = 1;
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + r->off;
	e->vcpu.regs[VCPU_REGS_RCX] = 1;
	env_run(e);

	TEST_ASSERT_EQ(le_bytes(ram + r->off, 4), r->result, "memory");
	TEST_ASSERT_EQ(e->vcpu.stat_insn_emulation, r->emulations, "emulations");
	TEST_ASSERT_EQ(e->vcpu.trace.nr, 0, "number of trace events");
	TEST_ASSERT_EQ(e->nr_exits, 0, "number of exits");
	check_retired(t, e, 3);
	env_destroy(e);
}

MODEL_ROWS(splitlock_rows, splitlock_run);

MODEL_CASE(lock_add_apic, "lock add on the APIC page: fall-back write, in-kernel LAPIC handles it",
	   all_profiles)
{
	struct env *e = model_env(c, ENV_LONG64, false, &lock_add_mem_ecx);
	u8 *slot = env_ram(e, APIC_DEFAULT_PHYS_BASE, false);

	env_map(e, V0, APIC_DEFAULT_PHYS_BASE, RW);
	e->vcpu.lapic.regs[0x80 >> 4] = 0x10;
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0x80;
	e->vcpu.regs[VCPU_REGS_RCX] = 5;
	env_run(e);

	ENV_TRACE(e, 0, "mmio read len 4 gpa 0xfee00080 val 0x10");
	ENV_TRACE(e, 1, "mmio write len 4 gpa 0xfee00080 val 0x15");
	TEST_ASSERT_EQ(e->vcpu.trace.nr, 2, "number of trace events");
	TEST_ASSERT_EQ(e->nr_exits, 0, "number of exits");
	TEST_ASSERT_EQ(e->vcpu.lapic.regs[0x80 >> 4], 0x15, "LAPIC TPR");
	TEST_ASSERT_EQ(le_bytes(slot + 0x80, 4), 0, "memslot behind the APIC page untouched");
	check_retired(t, e, 3);
	env_destroy(e);
}

/* =====================================================================
 * 7. Page-walk permissions end to end (spec 3.1).
 * ===================================================================== */

enum perm_op { PERM_READ, PERM_WRITE, PERM_RMW, PERM_CMP };

struct perm_row {
	const char *title;
	enum perm_op op;
	u8 cpl;
	bool mapped;
	u64 pte;
	bool wp;
	bool fault;
	u16 error_code;
};

#define P_ PFERR_PRESENT_MASK
#define W_ PFERR_WRITE_MASK
#define U_ PFERR_USER_MASK

static const struct perm_row perm_rows[] = {
	{ "perm: CPL0 write to read-only page, WP=1 -> #PF P|W", PERM_WRITE, 0, true, 0,
	  true, true, P_ | W_ },
	{ "perm: CPL0 write to read-only page, WP=0 -> allowed", PERM_WRITE, 0, true, 0,
	  false, false, 0 },
	{ "perm: CPL0 read of read-only page -> allowed", PERM_READ, 0, true, 0,
	  true, false, 0 },
	{ "perm: CPL3 read of supervisor page -> #PF P|U", PERM_READ, 3, true, PT_WRITABLE,
	  true, true, P_ | U_ },
	{ "perm: CPL3 write to supervisor page -> #PF P|W|U", PERM_WRITE, 3, true, PT_WRITABLE,
	  true, true, P_ | W_ | U_ },
	{ "perm: CPL3 write to read-only user page, WP=0 -> #PF P|W|U", PERM_WRITE, 3, true,
	  PT_USER, false, true, P_ | W_ | U_ },
	{ "perm: CPL3 write to writable user page -> allowed", PERM_WRITE, 3, true,
	  PT_USER | PT_WRITABLE, true, false, 0 },
	{ "perm: CPL0 read of unmapped page -> #PF 0", PERM_READ, 0, false, 0,
	  true, true, 0 },
	{ "perm: CPL0 RMW read of unmapped page -> #PF W", PERM_RMW, 0, false, 0,
	  true, true, W_ },
	{ "perm: CPL0 cmp (no writeback) of unmapped page -> #PF 0", PERM_CMP, 0, false, 0,
	  true, true, 0 },
	{ "perm: CPL3 RMW read of supervisor page -> #PF P|W|U", PERM_RMW, 3, true, PT_WRITABLE,
	  true, true, P_ | W_ | U_ },
	{ "perm: CPL0 RMW of read-only page, WP=1 -> #PF P|W", PERM_RMW, 0, true, 0,
	  true, true, P_ | W_ },
};

static void perm_run(struct test_ctx *t, const void *arg)
{
	static const struct script_insn *const scripts[] = {
		[PERM_READ] = &mov_eax_mem, [PERM_WRITE] = &mov_mem_eax,
		[PERM_RMW] = &add_mem_ecx, [PERM_CMP] = &cmp_mem_ecx,
	};
	const struct pcase *c = arg;
	const struct perm_row *r = c->row;
	struct env *e = model_env(c, ENV_LONG64, false, scripts[r->op]);
	u8 *ram = env_ram(e, 0x1000, false);

	if (r->mapped)
		env_map(e, V0, 0x1000, r->pte);
	if (!r->wp)
		e->vcpu.sregs.cr0 &= ~X86_CR0_WP;
	e->vcpu.cpl = r->cpl;
	memcpy(ram + 0x10, (u8[]){ 1, 2, 3, 4 }, 4);
	e->vcpu.regs[VCPU_REGS_RAX] = 0xaabbccdd;
	e->vcpu.regs[VCPU_REGS_RCX] = 0x10;
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0x10;
	env_run(e);

	TEST_ASSERT_EQ(e->vcpu.trace.nr, 0, "number of trace events");
	TEST_ASSERT_EQ(e->nr_exits, 0, "number of exits");
	if (r->fault) {
		check_pf(t, e, V0 + 0x10, r->error_code);
		TEST_ASSERT_EQ(le_bytes(ram + 0x10, 4), 0x04030201, "memory unchanged");
		TEST_ASSERT_EQ(e->vcpu.regs[VCPU_REGS_RAX], 0xaabbccdd, "EAX unchanged");
		env_destroy(e);
		return;
	}
	check_retired(t, e, scripts[r->op]->len);
	switch (r->op) {
	case PERM_READ:
		TEST_ASSERT_EQ(e->vcpu.regs[VCPU_REGS_RAX], 0x04030201, "EAX");
		break;
	case PERM_WRITE:
		TEST_ASSERT_EQ(le_bytes(ram + 0x10, 4), 0xaabbccdd, "memory");
		break;
	default:
		break;
	}
	env_destroy(e);
}

MODEL_ROWS(perm_rows, perm_run);

/* =====================================================================
 * 8. Partial side effects when the second page faults (spec 2.4).
 * ===================================================================== */

MODEL_CASE(partial_write_ram, "write split RAM|unmapped: 1st piece stays in RAM, #PF at 2nd page",
	   all_profiles)
{
	struct env *e = model_env(c, ENV_LONG64, false, &mov_mem_eax);
	u8 *ram = env_ram(e, 0x1000, false);

	env_map(e, V0, 0x1000, RW);
	e->vcpu.regs[VCPU_REGS_RAX] = 0xaabbccdd;
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0xffe;
	env_run(e);

	check_pf(t, e, V1, W_);
	TEST_ASSERT_EQ(le_bytes(ram + 0xffe, 2), 0xccdd, "first piece written to RAM");
	TEST_ASSERT_EQ(e->vcpu.trace.nr, 0, "number of trace events");
	TEST_ASSERT_EQ(e->nr_exits, 0, "number of exits");
	env_destroy(e);
}

MODEL_CASE(partial_write_mmio, "write split MMIO|unmapped: write trace for 1st piece, no exit, #PF",
	   all_profiles)
{
	struct env *e = model_env(c, ENV_LONG64, false, &mov_mem_eax);

	env_map(e, V0, 0x2000, RW);
	e->vcpu.regs[VCPU_REGS_RAX] = 0xaabbccdd;
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0xffe;
	env_run(e);

	check_pf(t, e, V1, W_);
	/* before e39d200fa5bf the trace loads a whole u64 from the source */
	if (kvm_profile_find(c->profile)->trace_val_by_pointer)
		ENV_TRACE(e, 0, "mmio write len 2 gpa 0x2ffe val 0xccdd");
	else
		ENV_TRACE(e, 0, "mmio write len 2 gpa 0x2ffe val 0xaabbccdd");
	TEST_ASSERT_EQ(e->vcpu.trace.nr, 1, "number of trace events");
	TEST_ASSERT_EQ(e->nr_exits, 0, "number of exits");
	TEST_ASSERT_EQ(e->vcpu.mmio_needed, 0, "mmio_needed");
	TEST_ASSERT_EQ(e->vcpu.stat_mmio_exits, 0, "stat.mmio_exits");
	TEST_ASSERT_EQ(e->vcpu.warnings, 0, "WARNs hit");
	env_destroy(e);
}

MODEL_CASE(partial_write_coalesced, "write split coalesced|unmapped: ring entry stays, #PF",
	   modern_profiles)
{
	struct env *e = model_env(c, ENV_LONG64, false, &mov_mem_eax);
	struct kvm_coalesced_ring *ring = &e->kvm.coalesced_ring;

	kvm_register_coalesced_mmio(&e->kvm, 0x4000, 0x1000);
	env_map(e, V0, 0x4000, RW);
	e->vcpu.regs[VCPU_REGS_RAX] = 0xaabbccdd;
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0xffe;
	env_run(e);

	check_pf(t, e, V1, W_);
	ENV_TRACE(e, 0, "mmio write len 2 gpa 0x4ffe val 0xccdd");
	TEST_ASSERT_EQ(ring->last, 1, "ring entries");
	TEST_ASSERT_EQ(ring->entries[0].phys_addr, 0x4ffe, "ring entry gpa");
	TEST_ASSERT_EQ(ring->entries[0].len, 2, "ring entry len");
	TEST_ASSERT_EQ(le_bytes(ring->entries[0].data, 8), 0xccdd, "ring entry data");
	TEST_ASSERT_EQ(e->nr_exits, 0, "number of exits");
	env_destroy(e);
}

MODEL_CASE(partial_read_mmio, "read split MMIO|unmapped: 7.1 traces 1st piece unsatisfied, then #PF",
	   all_profiles)
{
	struct env *e = model_env(c, ENV_LONG64, false, &mov_eax_mem);

	env_map(e, V0, 0x2000, RW);
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0xffe;
	env_run(e);

	check_pf(t, e, V1, 0);
	if (per_page_t3(c)) {
		ENV_TRACE(e, 0, "mmio unsatisfied-read len 2 gpa 0x2ffe val 0x0");
		TEST_ASSERT_EQ(e->vcpu.trace.nr, 1, "number of trace events");
	} else {
		TEST_ASSERT_EQ(e->vcpu.trace.nr, 0, "number of trace events");
	}
	TEST_ASSERT_EQ(e->nr_exits, 0, "number of exits");
	TEST_ASSERT_EQ(e->vcpu.mmio_needed, 0, "mmio_needed");
	TEST_ASSERT_EQ(e->vcpu.warnings, 0, "WARNs hit");
	TEST_ASSERT_EQ(e->vcpu.regs[VCPU_REGS_RAX], 0xdeadbeefdeadbeefULL, "RAX unchanged");
	env_destroy(e);
}

/* =====================================================================
 * 9. The TDP GPA shortcut (spec 3.1).
 * ===================================================================== */

struct tdp_row {
	const char *title;
	const struct script_insn *insn;
	bool tdp;
	bool has_fault_gpa;
	u64 fault_gpa;
	bool map_v0;
	u64 v0_pte;
	u64 off;
	/* outcome */
	bool fault;
	u64 exit_gpa;	/* 0: no exit */
	bool write;
};

static const struct script_insn movsd = {
	.name = "movsd", .execute = em_mov, .d = Mov | String | TwoMemOp,
	.op_bytes = 4, .ad_bytes = 8, .len = 1,
	.src = { .type = OP_MEM, .bytes = 4, .base = VCPU_REGS_RSI, .seg = VCPU_SREG_DS },
	.dst = { .type = OP_MEM, .bytes = 4, .base = VCPU_REGS_RDI, .seg = VCPU_SREG_ES },
};

static const struct script_insn stosd = {
	.name = "stosd", .execute = em_mov, .d = Mov | String,
	.op_bytes = 4, .ad_bytes = 8, .len = 1,
	.src = SCRIPT_REG(4, VCPU_REGS_RAX),
	.dst = { .type = OP_MEM, .bytes = 4, .base = VCPU_REGS_RDI, .seg = VCPU_SREG_ES },
};

static const struct script_insn rep_stosd = {
	.name = "rep stosd", .execute = em_mov, .d = Mov | String, .rep_prefix = REPE_PREFIX,
	.op_bytes = 4, .ad_bytes = 8, .len = 2,
	.src = SCRIPT_REG(4, VCPU_REGS_RAX),
	.dst = { .type = OP_MEM, .bytes = 4, .base = VCPU_REGS_RDI, .seg = VCPU_SREG_ES },
};

static const struct tdp_row tdp_rows[] = {
	{ "tdp: read at unmapped GVA served from the faulting GPA, no walk", &mov_eax_mem,
	  true, true, 0x3100, false, 0, 0x100, false, 0x3100, false },
	{ "tdp: write to read-only GVA through the faulting GPA, no #PF", &mov_mem_eax,
	  true, true, 0x3100, true, 0, 0x100, false, 0x3100, true },
	{ "tdp: faulting GPA used as is, not the page tables' GPA", &mov_eax_mem,
	  true, true, 0x3100, true, RW, 0x100, false, 0x3100, false },
	{ "tdp: page offsets differ -> page walk", &mov_eax_mem,
	  true, true, 0x3200, true, RW, 0x100, false, 0x1100, false },
	{ "tdp: page offsets differ, unmapped -> #PF", &mov_eax_mem,
	  true, true, 0x3200, false, 0, 0x100, true, 0, false },
	{ "tdp: TwoMemOp (movsd) -> page walk", &movsd,
	  true, true, 0x3100, true, RW, 0x100, false, 0x1100, false },
	{ "tdp: REP string (rep stosd) -> page walk", &rep_stosd,
	  true, true, 0x3100, true, RW, 0x100, false, 0x1100, true },
	{ "tdp: non-REP string (stosd) -> faulting GPA", &stosd,
	  true, true, 0x3100, true, RW, 0x100, false, 0x3100, true },
	{ "tdp off: faulting GPA ignored, unmapped -> #PF", &mov_eax_mem,
	  false, true, 0x3100, false, 0, 0x100, true, 0, false },
	{ "tdp: no faulting GPA -> page walk even at page offset 0", &mov_eax_mem,
	  true, false, 0, true, RW, 0x0, false, 0x1000, false },
};

static void tdp_run(struct test_ctx *t, const void *arg)
{
	const struct pcase *c = arg;
	const struct tdp_row *r = c->row;
	struct env *e = model_env(c, ENV_LONG64, r->tdp, r->insn);
	u8 *dst = env_ram(e, 0x6000, false);

	e->insn.has_fault_gpa = r->has_fault_gpa;
	e->insn.fault_gpa = r->fault_gpa;
	if (r->map_v0)
		env_map(e, V0, 0x1000, r->v0_pte);
	env_map(e, V2, 0x6000, RW);
	e->vcpu.regs[VCPU_REGS_RAX] = 0x11223344;
	e->vcpu.regs[VCPU_REGS_RCX] = 1;
	if (r->insn == &movsd) {
		/* movsd: source on the page under test, destination in RAM */
		e->vcpu.regs[VCPU_REGS_RSI] = V0 + r->off;
		e->vcpu.regs[VCPU_REGS_RDI] = V2 + 0x200;
	} else {
		e->vcpu.regs[VCPU_REGS_RDI] = V0 + r->off;
	}
	env_read_data(e, (u8[]){ 0x55, 0x66, 0x77, 0x88 }, 4);
	env_run(e);

	if (r->fault) {
		check_pf(t, e, V0 + r->off, 0);
		TEST_ASSERT_EQ(e->nr_exits, 0, "number of exits");
		env_destroy(e);
		return;
	}
	TEST_ASSERT_EQ(e->nr_exits, 1, "number of exits");
	ENV_EXIT(e, 0, r->exit_gpa, 4, r->write);
	if (r->write)
		TEST_ASSERT_EQ(env_exit_data(e, 0), 0x11223344, "write exit data");
	if (r->insn == &movsd)
		TEST_ASSERT_EQ(le_bytes(dst + 0x200, 4), 0x88776655, "movsd destination");
	else if (!r->write)
		TEST_ASSERT_EQ(e->vcpu.regs[VCPU_REGS_RAX], 0x88776655, "EAX");
	check_retired(t, e, r->insn->len);
	env_destroy(e);
}

MODEL_ROWS(tdp_rows, tdp_run);

MODEL_CASE(tdp_shortcut_ram_gpa, "tdp: faulting GPA in RAM is read from RAM, no exit",
	   modern_profiles)
{
	struct env *e = model_env(c, ENV_LONG64, true, &mov_eax_mem);
	u8 *ram = env_ram(e, 0x5000, false);

	e->insn.has_fault_gpa = true;
	e->insn.fault_gpa = 0x5100;
	memcpy(ram + 0x100, (u8[]){ 1, 2, 3, 4 }, 4);
	env_map(e, V0, 0x3000, RW);	/* the page tables say MMIO */
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0x100;
	env_run(e);

	TEST_ASSERT_EQ(e->vcpu.regs[VCPU_REGS_RAX], 0x04030201, "EAX");
	TEST_ASSERT_EQ(e->nr_exits, 0, "number of exits");
	TEST_ASSERT_EQ(e->vcpu.trace.nr, 0, "number of trace events");
	check_retired(t, e, 2);
	env_destroy(e);
}

/*
 * The replay hazard (spec 3.1, [D/U]): "call [mem]" is not TwoMemOp.  Its
 * read exits; the no-decode replay keeps gpa_available, so the push whose
 * page offset happens to equal the faulting GPA's goes to that GPA.
 */
static int em_call_near_abs(struct x86_emulate_ctxt *ctxt)
{
	u64 target = ctxt->src.val64;
	int rc;

	ctxt->src.val64 = ctxt->_eip;
	rc = em_push(ctxt);
	if (rc != X86EMUL_CONTINUE)
		return rc;
	ctxt->_eip = target;
	return X86EMUL_CONTINUE;
}

static const struct script_insn call_mem = {
	.name = "call [rdi]", .execute = em_call_near_abs, .d = Stack,
	.op_bytes = 8, .ad_bytes = 8, .len = 2,
	.src = SCRIPT_MEM(8, VCPU_REGS_RDI, 0),
};

struct hazard_row {
	const char *title;
	bool tdp;
	u64 rsp_off;
	bool hazard;
};

static const struct hazard_row hazard_rows[] = {
	{ "tdp replay hazard: call [mmio] push at the same page offset goes to the fault GPA",
	  true, 0x108, true },
	{ "tdp replay hazard: call [mmio] push at another page offset goes to RAM",
	  true, 0x208, false },
	{ "tdp off: call [mmio] push goes to RAM", false, 0x108, false },
};

static void hazard_run(struct test_ctx *t, const void *arg)
{
	const struct pcase *c = arg;
	const struct hazard_row *r = c->row;
	struct env *e = model_env(c, ENV_LONG64, r->tdp, &call_mem);
	u8 *stack = env_ram(e, 0x6000, false);
	u64 ret = e->vcpu.rip + 2;
	unsigned int n = 0;

	e->insn.has_fault_gpa = true;
	e->insn.fault_gpa = 0x3100;
	env_map(e, V0, 0x3000, RW);
	env_map(e, V2, 0x6000, RW);
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0x100;
	e->vcpu.regs[VCPU_REGS_RSP] = V2 + r->rsp_off;
	env_read_data(e, (u8[]){ 0x00, 0x20, 0x00, 0x02, 0, 0, 0, 0 }, 8);
	env_run(e);

	ENV_TRACE(e, n++, "mmio unsatisfied-read len 8 gpa 0x3100 val 0x0");
	ENV_TRACE(e, n++, "mmio read len 8 gpa 0x3100 val 0x2002000");
	ENV_EXIT(e, 0, 0x3100, 8, false);
	if (r->hazard) {
		TRACE_F(e, n++, "mmio write len 8 gpa 0x3100 val 0x%llx", (unsigned long long)ret);
		TEST_ASSERT_EQ(e->nr_exits, 2, "number of exits");
		ENV_EXIT(e, 1, 0x3100, 8, true);
		TEST_ASSERT_EQ(env_exit_data(e, 1), ret, "pushed return address");
		TEST_ASSERT_EQ(le_bytes(stack + r->rsp_off - 8, 8), 0, "stack RAM untouched");
	} else {
		TEST_ASSERT_EQ(e->nr_exits, 1, "number of exits");
		TEST_ASSERT_EQ(le_bytes(stack + r->rsp_off - 8, 8), ret, "return address on the stack");
	}
	TEST_ASSERT_EQ(e->vcpu.trace.nr, n, "number of trace events");
	TEST_ASSERT_EQ(e->vcpu.rip, 0x2002000, "RIP (call target)");
	TEST_ASSERT_EQ(e->vcpu.regs[VCPU_REGS_RSP], V2 + r->rsp_off - 8, "RSP");
	TEST_ASSERT_EQ(e->vcpu.mmio_needed, 0, "mmio_needed");
	env_destroy(e);
}

MODEL_ROWS(hazard_rows, hazard_run);

/* =====================================================================
 * 10. The APIC page rule and the MMIO info cache (spec 3.1).
 * ===================================================================== */

MODEL_CASE(apic_page_memslot, "APIC page with a memslot is MMIO: in-kernel LAPIC read, T1 trace",
	   all_profiles)
{
	struct env *e = model_env(c, ENV_LONG64, false, &mov_eax_mem);
	u8 *slot = env_ram(e, APIC_DEFAULT_PHYS_BASE, false);

	memcpy(slot + 0x30, (u8[]){ 0xef, 0xbe, 0xad, 0xde }, 4);
	env_map(e, V0, APIC_DEFAULT_PHYS_BASE, RW);
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0x30;
	env_run(e);

	ENV_TRACE(e, 0, "mmio read len 4 gpa 0xfee00030 val 0x50014");
	TEST_ASSERT_EQ(e->vcpu.trace.nr, 1, "number of trace events");
	TEST_ASSERT_EQ(e->nr_exits, 0, "number of exits");
	TEST_ASSERT_EQ(e->vcpu.regs[VCPU_REGS_RAX], 0x50014, "EAX (LAPIC version, not RAM)");
	check_retired(t, e, 2);
	env_destroy(e);
}

MODEL_CASE(apic_page_userspace, "APIC page with a memslot, LAPIC not in kernel: exit, not RAM",
	   modern_profiles)
{
	struct env *e = model_env(c, ENV_LONG64, false, &mov_eax_mem);
	u8 *slot = env_ram(e, APIC_DEFAULT_PHYS_BASE, false);

	e->vcpu.host.irqchip_in_kernel = false;
	e->vcpu.lapic.hw_enabled = false;
	memcpy(slot + 0x30, (u8[]){ 0xef, 0xbe, 0xad, 0xde }, 4);
	env_map(e, V0, APIC_DEFAULT_PHYS_BASE, RW);
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0x30;
	env_read_data(e, (u8[]){ 1, 2, 3, 4 }, 4);
	env_run(e);

	ENV_TRACE(e, 0, "mmio unsatisfied-read len 4 gpa 0xfee00030 val 0x0");
	TEST_ASSERT_EQ(e->nr_exits, 1, "number of exits");
	ENV_EXIT(e, 0, 0xfee00030, 4, false);
	TEST_ASSERT_EQ(e->vcpu.regs[VCPU_REGS_RAX], 0x04030201, "EAX from userspace");
	check_retired(t, e, 2);
	env_destroy(e);
}

struct cache_row {
	const char *title;
	bool tdp;
	const struct script_insn *insn;
	u64 cache_gva;		/* GVA half (ignored with TDP) */
	gfn_t cache_gfn;
	u32 cache_access;
	bool bump_generation;
	u64 exit_gpa;		/* 0: served by RAM */
};

static const struct cache_row cache_rows[] = {
	{ "mmio cache: GVA hit sends a RAM-backed page to the MMIO path", false, &mov_eax_mem,
	  V0, 0x1, PT_WRITABLE, false, 0x1010 },
	{ "mmio cache: GVA hit uses the cached GFN, not the page tables", false, &mov_eax_mem,
	  V0, 0x9, PT_WRITABLE, false, 0x9010 },
	{ "mmio cache: cached access denies the write -> walk -> RAM", false, &mov_mem_eax,
	  V0, 0x9, 0, false, 0 },
	{ "mmio cache: GFN hit with TDP sends a RAM-backed page to MMIO", true, &mov_eax_mem,
	  0, 0x1, PT_WRITABLE, false, 0x1010 },
	{ "mmio cache: GVA half is unusable with TDP", true, &mov_eax_mem,
	  V0, 0x9, PT_WRITABLE, false, 0 },
	{ "mmio cache: stale memslot generation -> RAM", false, &mov_eax_mem,
	  V0, 0x1, PT_WRITABLE, true, 0 },
	{ "mmio cache: miss on another GVA page, other GFN -> RAM", false, &mov_eax_mem,
	  V2, 0x9, PT_WRITABLE, false, 0 },
};

static void cache_run(struct test_ctx *t, const void *arg)
{
	const struct pcase *c = arg;
	const struct cache_row *r = c->row;
	struct env *e = model_env(c, ENV_LONG64, r->tdp, r->insn);
	u8 *ram = env_ram(e, 0x1000, false);
	bool write = r->insn == &mov_mem_eax;

	memcpy(ram + 0x10, (u8[]){ 1, 2, 3, 4 }, 4);
	env_map(e, V0, 0x1000, RW);
	vcpu_cache_mmio_info(&e->vcpu, r->cache_gva, r->cache_gfn, r->cache_access);
	if (r->bump_generation)
		env_ram(e, 0x7000, false);
	e->vcpu.regs[VCPU_REGS_RAX] = 0xaabbccdd;
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0x10;
	env_read_data(e, (u8[]){ 5, 6, 7, 8 }, 4);
	env_run(e);

	if (r->exit_gpa) {
		TEST_ASSERT_EQ(e->nr_exits, 1, "number of exits");
		ENV_EXIT(e, 0, r->exit_gpa, 4, write);
		if (!write)
			TEST_ASSERT_EQ(e->vcpu.regs[VCPU_REGS_RAX], 0x08070605, "EAX from userspace");
		TEST_ASSERT_EQ(le_bytes(ram + 0x10, 4), 0x04030201, "RAM untouched");
	} else {
		TEST_ASSERT_EQ(e->nr_exits, 0, "number of exits");
		TEST_ASSERT_EQ(e->vcpu.trace.nr, 0, "number of trace events");
		if (write)
			TEST_ASSERT_EQ(le_bytes(ram + 0x10, 4), 0xaabbccdd, "RAM written");
		else
			TEST_ASSERT_EQ(e->vcpu.regs[VCPU_REGS_RAX], 0x04030201, "EAX from RAM");
	}
	check_retired(t, e, 2);
	env_destroy(e);
}

MODEL_ROWS(cache_rows, cache_run);

/*
 * Userspace that reads the registers at every exit, as the kvm backend
 * does through KVM_CAP_SYNC_REGS (the model backend plays it): an
 * in-flight emulation's register cache becomes the vCPU's state at the
 * exit (KVM's __get_regs), and stays so if the instruction faults later;
 * a register written after the read still lands.  Seen on 6.18.44: the
 * retf rows differ from the kernel without sync_regs (RSP not advanced).
 */

struct sync_row {
	const char *title;
	const char *scenario;
	int vector;			/* -1: retired */
	u16 error_code;
	unsigned int reg;
	u64 want;
};

static const struct sync_row sync_rows[] = {
	{ "sync regs: retf from an MMIO stack, #GP: RSP keeps the first pop",
	  "mode long64\ninsn cb\nreg rsp 0x40001004\nmap 0x40001000 0x1000 mmio\n",
	  GP_VECTOR, 0xa9a8, VCPU_REGS_RSP, 0x40001008 },
	{ "sync regs: the same in prot32",
	  "mode prot32\ninsn cb\nreg rsp 0x40001004\nmap 0x40001000 0x40001000 mmio\n",
	  GP_VECTOR, 0xa9a8, VCPU_REGS_RSP, 0x40001008 },
	{ "sync regs: pop to a faulting destination: one exit, RSP unchanged",
	  "mode long64\ninsn 8f 07\nreg rsp 0x40001000\nreg rdi 0x80001000\n"
	  "map 0x40001000 0x1000 mmio\n", PF_VECTOR, 2, VCPU_REGS_RSP, 0x40001000 },
	{ "sync regs: a split read's register write lands after the sync",
	  "mode long64\ninsn 8b 07\nreg rdi 0x40000ffd\nmap 0x40000000 0x5000 mmio\n"
	  "map 0x40001000 0x9000 mmio\nmmio-data aa bb cc dd\n", -1, 0, VCPU_REGS_RAX,
	  0xddccbbaa },
};

/* @text (a scenario) on a fresh model backend with @profile: 0 or -1. */
static int run_text(const char *text, const char *profile, struct run_result *r,
		    char *err, size_t n)
{
	struct model_backend *mb = model_backend_create();
	struct scenario s;
	int rc;

	if (!mb)
		return -1;
	rc = scenario_parse_text(&s, text, err, n);
	if (!rc)
		rc = model_backend_run(mb, &s, kvm_profile_find(profile), r);
	model_backend_destroy(mb);
	return rc ? -1 : 0;
}

static void sync_run(struct test_ctx *t, const struct pcase *c)
{
	const struct sync_row *row = c->row;
	static struct run_result r;
	char err[128] = "";

	TEST_ASSERT(!run_text(row->scenario, c->profile, &r, err, sizeof(err)),
		    "scenario or run failed: %s", err);
	if (row->vector < 0) {
		TEST_ASSERT_EQ(r.outcome, OUTCOME_RETIRED, "outcome");
	} else {
		TEST_ASSERT_EQ(r.outcome, OUTCOME_EXCEPTION, "outcome");
		TEST_ASSERT_EQ(r.exception.vector, row->vector, "vector");
		TEST_ASSERT_EQ(r.exception.error_code, row->error_code, "error code");
	}
	TEST_ASSERT_EQ(r.regs[row->reg], row->want, "register after the run");
}

static void sync_entry(struct test_ctx *t, const void *arg)
{
	sync_run(t, arg);
}

MODEL_ROWS(sync_rows, sync_entry);

/*
 * Host behaviour of 6.18.44/kvm_pvm the model follows, one scenario each
 * (seen with `fragfuzz run --backend both`, campaign kc1).
 */

#define HOST_FAIL	(-2)	/* emulation failure */
#define HOST_RETIRED	(-1)

struct host_row {
	const char *title;
	const char *scenario;
	int vector;			/* HOST_FAIL, HOST_RETIRED or a vector */
	bool check;			/* then @reg is @want (SCN_REG_RIP: RIP) */
	unsigned int reg;
	u64 want;
};

static const struct host_row host_rows[] = {
	{ "emulation failure at CPL 3 in prot32: #UD (daa)",
	  "mode prot32\ncpl 3\ninsn 27\n", UD_VECTOR, false, 0, 0 },
	{ "emulation failure at CPL 3 in prot16: #UD (arpl)",
	  "mode prot16\ncpl 3\ninsn 63 c0\n", UD_VECTOR, false, 0, 0 },
	{ "emulation failure at CPL 3 in prot32-paging: #UD (psubq mm)",
	  "mode prot32-paging\ncpl 3\ninsn 0f f9 c0\n", UD_VECTOR, false, 0, 0 },
	{ "emulation failure at CPL 0 in prot32: the internal-error exit",
	  "mode prot32\ninsn 27\n", HOST_FAIL, false, 0, 0 },
	{ "emulation failure at CPL 3 in long64: the internal-error exit",
	  "mode long64\ncpl 3\ninsn 0f f9 c0\n", HOST_FAIL, false, 0, 0 },
	/* a failure on the re-entry after an MMIO read exit is the exit at CPL 3 too */
	{ "CPL 3 prot32: jmp far m through a zero GDT entry, pointer in MMIO: the exit",
	  "mode prot32\ncpl 3\ninsn ff 29\nreg rcx 0x40000000\n"
	  "map 0x40000000 0x40000000 mmio\nmmio-data 00 00 00 00 70 00\n",
	  HOST_FAIL, false, 0, 0 },
	{ "CPL 3 prot16: jmp far m through a zero GDT entry, pointer in MMIO: the exit",
	  "mode prot16\ncpl 3\ninsn ff 2f\nreg rbx 0x4000\nmap 0x4000 0x4000 mmio\n"
	  "mmio-data 00 00 70 00\n", HOST_FAIL, false, 0, 0 },
	{ "CPL 3 prot32: jmp far ptr through a zero GDT entry, no exit before: #UD",
	  "mode prot32\ncpl 3\ninsn ea 00 00 00 00 70 00\n", UD_VECTOR, false, 0, 0 },
	{ "not modelled at CPL 3 in prot32 stays a failure (aam)",
	  "mode prot32\ncpl 3\ninsn d4 0a\n", HOST_FAIL, false, 0, 0 },
	{ "TF, out to a userspace port: KVM_EXIT_IO, no #DB",
	  "mode prot32\ninsn ee\nreg rdx 0x70\nreg rflags 0x102\n", HOST_RETIRED, false, 0, 0 },
	{ "TF, outsb to a userspace port in real mode: no #DB",
	  "mode real16\ninsn 6e\nreg rdx 0x3f8\nreg rflags 0x102\n", HOST_RETIRED, false, 0, 0 },
	{ "TF, in from a userspace port: completion re-enters, #DB",
	  "mode prot32\ninsn ec\nreg rdx 0x70\nreg rflags 0x102\n", DB_VECTOR, false, 0, 0 },
	{ "TF, out to the in-kernel port device: no exit, #DB",
	  "mode long64\ninsn ee\nreg rdx 0x80\nreg rflags 0x102\n", DB_VECTOR, false, 0, 0 },
	{ "no TF, out to a userspace port: retired",
	  "mode long64\ninsn ee\nreg rdx 0x70\n", HOST_RETIRED, false, 0, 0 },
	/* the far transfer lands on the same IP in another segment: done, once */
	{ "real16 call far m to 0600:0000 from 0000:0000 runs once",
	  "mode real16\ninsn ff 1f\nmmio-data 00 00 00 06\n", HOST_RETIRED, true,
	  VCPU_REGS_RSP, 0x9000 },
	/* SP + 6, not + 4: the second pop replays at SP + 4 (replay-mismatch, known) */
	{ "real16 retf to 0600:0000 from 0000:0000 runs once",
	  "mode real16\ninsn cb\nreg rsp 0x9000\nmmio-data 00 00 00 06\n", HOST_RETIRED, true,
	  VCPU_REGS_RSP, 0x9006 },
	{ "real16 retf to 0600:0000: IP 0",
	  "mode real16\ninsn cb\nmmio-data 00 00 00 06\n", HOST_RETIRED, true,
	  SCN_REG_RIP, 0 },
	/* the fetch checks every byte against the CS limit, on RIP's page too */
	{ "fetch: CS limit 0x3ff1, 3-byte shr at EIP 0x3ff0: #GP(0) at the insn",
	  "mode prot32\ninsn c1 2f 03\nseg cs 0x5fc010 0x3ff1\nreg rip 0x3ff0\n", GP_VECTOR,
	  true, SCN_REG_RIP, 0x3ff0 },
	{ "fetch: CS limit 0x3ff2, 3-byte shr at EIP 0x3ff0: retired",
	  "mode prot32\ninsn c1 2f 03\nseg cs 0x5fc010 0x3ff2\nreg rip 0x3ff0\n", HOST_RETIRED,
	  true, SCN_REG_RIP, 0x3ff3 },
	{ "fetch: real16, CS limit 0, 4-byte shr at IP 0: #GP(0) before the read",
	  "mode real16\ninsn 66 c1 2d 03\nseg cs 0x600202 0\n", GP_VECTOR, true, SCN_REG_RIP,
	  0 },
	/* an opcode KVM has no row for: the bytes fetched to find out come first */
	{ "fetch: prot16, CS limit 0, 66 0f 60 (no row): #GP(0), not a failure",
	  "mode prot16\ninsn 66 0f 60 34\nseg cs 0x600917 0\n", GP_VECTOR, true, SCN_REG_RIP, 0 },
	{ "fetch: prot16, CS limit 2, 66 0f 60 (no row): emulation failure",
	  "mode prot16\ninsn 66 0f 60 34\nseg cs 0x600917 2\n", HOST_FAIL, false, 0, 0 },
	{ "fetch: real16, CS limit 0, 63 (a group KVM reads the ModRM of): #GP(0)",
	  "mode real16\ninsn 63 0f 10 34\nseg cs 0x60097e 0\n", GP_VECTOR, true, SCN_REG_RIP, 0 },
	{ "fetch: prot16, CS limit 0, d9 /4 (an x87 escape KVM reads the ModRM of): #GP(0)",
	  "mode prot16\ninsn d9 24 10 34\nseg cs 0x600917 0\n", GP_VECTOR, true, SCN_REG_RIP, 0 },
	/* a handler that gives up (iret outside real mode, enter with a level): all of it */
	{ "fetch: prot16, CS limit 0, 66 cf (iretd, em_iret gives up): #GP(0)",
	  "mode prot16\ninsn 66 cf 60 34\nseg cs 0x600917 0\n", GP_VECTOR, true, SCN_REG_RIP, 0 },
	{ "fetch: prot16, CS limit 1, 66 cf: emulation failure",
	  "mode prot16\ninsn 66 cf 60 34\nseg cs 0x600917 1\n", HOST_FAIL, false, 0, 0 },
	{ "fetch: prot16, CS limit 2, enter 8, 1 (4 bytes): #GP(0)",
	  "mode prot16\ninsn c8 08 00 01\nseg cs 0x600917 2\n", GP_VECTOR, true, SCN_REG_RIP, 0 },
	{ "fetch: prot16, CS limit 3, enter 8, 1: emulation failure",
	  "mode prot16\ninsn c8 08 00 01\nseg cs 0x600917 3\n", HOST_FAIL, false, 0, 0 },
	{ "fetch: real16, CS limit 1, 63 0f: emulation failure",
	  "mode real16\ninsn 63 0f 10 34\nseg cs 0x60097e 1\n", HOST_FAIL, false, 0, 0 },
	/* a limit above 0xfffff is in 4 KiB units (G): its low 12 bits are ones */
	{ "segment limit 0x600000 (G): EIP 0x600001 is inside CS",
	  "mode prot32\ninsn c1 2f 03\nseg cs 0xffffffff 0x600000\nreg rip 0x600001\n",
	  HOST_RETIRED, true, SCN_REG_RIP, 0x600004 },
	{ "segment limit 0x40001000 (G): a 2-byte read at 0x40001ffe is inside DS",
	  "mode prot32\ninsn 66 8b 07\nseg ds 0 0x40001000\nreg rdi 0x40001ffe\n",
	  HOST_RETIRED, false, 0, 0 },
	{ "segment limit 0xffffe (no G): a 2-byte read at 0xffffe is past DS",
	  "mode prot32\ninsn 66 8b 07\nseg ds 0x40000000 0xffffe\nreg rdi 0xffffe\n",
	  GP_VECTOR, false, 0, 0 },
	/*
	 * prot32-paging is compatibility mode on kvm_pvm (compat_paging): a
	 * far call to the 64-bit code segment enters 64-bit mode, so its
	 * pushes use all of RSP (corpus s18, s19); without paging the mode
	 * is legacy and L is ignored: the call retires at the 32-bit offset
	 * (seen the same on 6.18.44)
	 */
	{ "prot32-paging call far m to CODE64, RSP not canonical: #SS(0), RSP kept",
	  "mode prot32-paging\ninsn ff 1f\nreg rsp 0x2bffe440001004\nreg rdi 0x40001ffe\n"
	  "map 0x40001000 0x1000 mmio\nmap 0x40002000 0x2000 mmio\n"
	  "mmio-data 00 02 e4 04 10 00\n", SS_VECTOR, true, VCPU_REGS_RSP, 0x2bffe440001004 },
	{ "prot32-paging call far m to CODE64, RSP 0x140002504: #PF at 0x140002500",
	  "mode prot32-paging\ninsn ff 1f\nreg rsp 0x140002504\nreg rdi 0x40001ffe\n"
	  "map 0x40001000 0x1000 mmio\nmap 0x40002000 0x2000 mmio\n"
	  "mmio-data 00 02 e4 04 10 00\n", PF_VECTOR, true, VCPU_REGS_RSP, 0x140002504 },
	{ "prot32 call far m to CODE64 (legacy, L ignored): retired at 0x4e40200",
	  "mode prot32\ninsn ff 1f\nreg rsp 0x40004000\nreg rdi 0x40001ff0\n"
	  "map 0x40001000 0x40001000 mmio\nmap 0x40003000 0x40003000 ram\n"
	  "mmio-data 00 02 e4 04 10 00\n", HOST_RETIRED, true, SCN_REG_RIP, 0x4e40200 },
};

static void host_entry(struct test_ctx *t, const void *arg)
{
	const struct pcase *c = arg;
	const struct host_row *row = c->row;
	static struct run_result r;
	char err[128] = "";

	TEST_ASSERT(!run_text(row->scenario, c->profile, &r, err, sizeof(err)),
		    "scenario or run failed: %s", err);
	if (row->vector == HOST_FAIL) {
		TEST_ASSERT_EQ(r.outcome, OUTCOME_EMULATION_FAILURE, "outcome");
	} else if (row->vector == HOST_RETIRED) {
		TEST_ASSERT_EQ(r.outcome, OUTCOME_RETIRED, "outcome");
	} else {
		TEST_ASSERT_EQ(r.outcome, OUTCOME_EXCEPTION, "outcome");
		TEST_ASSERT_EQ(r.exception.vector, row->vector, "vector");
	}
	if (row->check)
		TEST_ASSERT_EQ(row->reg == SCN_REG_RIP ? r.rip : r.regs[row->reg], row->want,
			       "register after the run");
}

MODEL_ROWS(host_rows, host_entry);

/*
 * The harness GDT and segment registers (backend.h), as the model backend
 * sets them: in every protected mode and CPL, CS and SS read back as the
 * selectors backend.h names (long64 CPL 3: kvm_pvm's native 0x33 and 0x2b,
 * DS null), each segment register reloads with its own selector, and the
 * table's TSS, the other CPL's stack and a selector past the limit fault
 * with the selector as error code.
 */
TEST(model_harness_segments_per_mode_and_cpl)
{
	static const struct {
		const char *mode;
		unsigned int cpl;
		u16 cs, ss, ds;
	} m[] = {
		{ "prot16", 0, HARNESS_SEL_CODE16, HARNESS_SEL_DATA16, HARNESS_SEL_DATA16 },
		{ "prot16", 3, HARNESS_SEL_UCODE16, HARNESS_SEL_UDATA16, HARNESS_SEL_UDATA16 },
		{ "prot32", 0, HARNESS_SEL_CODE32, HARNESS_SEL_DATA, HARNESS_SEL_DATA },
		{ "prot32", 3, HARNESS_SEL_UCODE32, HARNESS_SEL_UDATA, HARNESS_SEL_UDATA },
		{ "prot32-paging", 3, 0x23, 0x2b, 0x2b },
		{ "long64", 0, 0x10, 0x18, 0x18 },
		{ "long64", 3, 0x33, 0x2b, 0 },
	};
	static const struct {
		const char *insn;
		int reg;		/* RAX: this one's selector (-1: @sel) */
		int sel;		/* or this one, | 3 at CPL 3 */
		int vector;		/* -1: retired, RAX then checked against @want */
		int want;		/* -1: the selector of reg/sel; -2: CS; -3: SS */
	} c[] = {
		{ "8c c8", -1, -1, -1, -2 },		/* mov eax, cs */
		{ "8c d0", -1, -1, -1, -3 },		/* mov eax, ss */
		{ "8e d8", VCPU_SREG_DS, 0, -1, -1 },	/* mov ds, its own */
		{ "8e d0", VCPU_SREG_SS, 0, -1, -1 },	/* mov ss, its own */
		{ "8e c0", VCPU_SREG_CS, 0, -1, -1 },	/* mov es, CS's: readable code */
		{ "8e e0", -1, HARNESS_SEL_TSS, GP_VECTOR, HARNESS_SEL_TSS },
		{ "8e e0", -1, HARNESS_GDT_ENTRIES * 8, GP_VECTOR, HARNESS_GDT_ENTRIES * 8 },
	};
	struct model_backend *mb = model_backend_create();
	static struct run_result r;
	char text[256], err[128];
	unsigned int i, j;

	TEST_ASSERT(mb, "no model backend");
	for (i = 0; i < ARRAY_SIZE(m); i++) {
		for (j = 0; j < ARRAY_SIZE(c); j++) {
			struct harness_segment h;
			struct scenario s;
			u64 rax = 0, want;

			snprintf(text, sizeof(text), "mode %s\ncpl %u\ninsn %s\n", m[i].mode,
				 m[i].cpl, c[j].insn);
			TEST_ASSERT(!scenario_parse_text(&s, text, err, sizeof(err)), "%s", err);
			if (c[j].reg >= 0) {
				harness_segment(&s, c[j].reg, &h);
				rax = h.selector;
			} else if (c[j].sel >= 0) {
				rax = c[j].sel | m[i].cpl;
			}
			s.regs[VCPU_REGS_RAX] = rax;
			s.regs_set |= BIT(VCPU_REGS_RAX);
			TEST_ASSERT(!model_backend_run(mb, &s, kvm_profile_find("6.18.24"), &r),
				    "%s CPL %u %s: run failed", m[i].mode, m[i].cpl, c[j].insn);
			if (c[j].vector >= 0) {
				TEST_ASSERT(r.outcome == OUTCOME_EXCEPTION &&
					    r.exception.vector == c[j].vector &&
					    r.exception.error_code == (u16)c[j].want,
					    "%s CPL %u %s rax 0x%llx: wanted #%d(0x%x), got %s #%u(0x%x)",
					    m[i].mode, m[i].cpl, c[j].insn, (unsigned long long)rax,
					    c[j].vector, c[j].want, run_outcome_name(r.outcome),
					    r.exception.vector, r.exception.error_code);
				continue;
			}
			want = c[j].want == -2 ? m[i].cs : c[j].want == -3 ? m[i].ss : rax;
			TEST_ASSERT(r.outcome == OUTCOME_RETIRED &&
				    (c[j].want >= -1 || (u16)r.regs[VCPU_REGS_RAX] == want),
				    "%s CPL %u %s rax 0x%llx: wanted retired with 0x%llx, got %s, "
				    "rax 0x%llx", m[i].mode, m[i].cpl, c[j].insn,
				    (unsigned long long)rax, (unsigned long long)want,
				    run_outcome_name(r.outcome),
				    (unsigned long long)r.regs[VCPU_REGS_RAX]);
			if (c[j].reg == VCPU_SREG_DS)
				TEST_ASSERT(rax == m[i].ds, "%s CPL %u: DS 0x%llx, wanted 0x%x",
					    m[i].mode, m[i].cpl, (unsigned long long)rax, m[i].ds);
		}
	}
	model_backend_destroy(mb);
}

/*
 * The CPU's first access of native 64-bit CPL 3 code (emulator/README.md,
 * native_entry), and when there is none: kvm_pvm runs such code natively
 * only with a canonical RSP, else KVM's emulator runs it from the start
 * (all seen on 6.18.44 with `fragfuzz run --backend both`).
 */
TEST(model_native_first_access_rows)
{
	static const struct {
		const char *title;
		const char *scenario;
		unsigned int exits;	/* read exits before the #PF */
		u64 cr2;
	} rows[] = {
		{ "cmpsb, RSI on MMIO, RDI unmapped: the CPU reads ES:RDI first",
		  "mode long64\ncpl 3\ninsn a6\nmap 0x40000000 0x5000 mmio ro user\n",
		  0, 0x40001ffe },
		{ "... RSP not canonical: KVM's order, DS:RSI first (an exit)",
		  "mode long64\ncpl 3\ninsn a6\nmap 0x40000000 0x5000 mmio ro user\n"
		  "reg rsp 0x0000800000000000\n", 1, 0x40001ffe },
		{ "... RSP 0xffff800000000000 is canonical: the CPU's order",
		  "mode long64\ncpl 3\ninsn a6\nmap 0x40000000 0x5000 mmio ro user\n"
		  "reg rsp 0xffff800000000000\n", 0, 0x40001ffe },
		{ "enter 0, 0 with 66: the CPU pushes 2 bytes, #PF at RSP - 2",
		  "mode long64\ncpl 3\ninsn 66 c8 00 00 00\nmap 0x40000000 0x19000 mmio user nx\n",
		  0, 0x40001002 },
		{ "... RSP not canonical: KVM's 8-byte push from RSP - 8 (0xe4e4e4e4e4e4e4dc)",
		  "mode long64\ncpl 3\ninsn 66 c8 00 00 00\nreg rsp 0xe4e4e4e4e4e4e4e4\n",
		  0, 0 },
	};
	static struct run_result r;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		char err[128] = "";
		bool ok;

		TEST_ASSERT(!run_text(rows[i].scenario, "6.18.24", &r, err, sizeof(err)), "%s: %s",
			    rows[i].title, err);
		ok = r.nr_exits == rows[i].exits && r.outcome == OUTCOME_EXCEPTION &&
		     (rows[i].cr2 ? r.exception.vector == PF_VECTOR &&
				    r.exception.address == rows[i].cr2
				  : r.exception.vector == SS_VECTOR);
		TEST_ASSERT(ok, "%s: wanted %u exits and %s 0x%llx, got %u exits, %s vector %u "
			    "cr2 0x%llx", rows[i].title, rows[i].exits,
			    rows[i].cr2 ? "#PF at" : "#SS", (unsigned long long)rows[i].cr2,
			    r.nr_exits, run_outcome_name(r.outcome), r.exception.vector,
			    (unsigned long long)r.exception.address);
	}
}
