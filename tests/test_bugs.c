// SPDX-License-Identifier: GPL-2.0-only
/*
 * The bug profiles (spec section 8) as in-process checks:
 *   6.2   - an exception after a pending MMIO write leaves mmio_needed set
 *           and the next KVM_RUN WARNs (fixed by 0dc902267cb3, 6.3);
 *   6.18  - no on-stack check: >8-byte and read buffers on the stack are
 *           accepted; 6.18.24 and 7.1 WARN and fail emulation;
 *   3.13  - completion ends only on cur == nr (CVE-2014-0049): the first
 *           anomalous exit only; the out-of-bounds one is test_cve.c's;
 *   all   - multi-write instructions deliver only the last write (7.1 too).
 */
#include <string.h>

#include "scripts.h"
#include "test_model.h"

/* ---- 6.2: PUSHA whose later push faults ---- */

MODEL_CASE(pusha_fault_after_mmio, "PUSHA: MMIO pushes, then #PF; pending write vs next KVM_RUN",
	   all_profiles)
{
	bool fixed = kvm_profile_find(c->profile)->exception_clears_mmio_needed;
	struct env *e = env_create(c->profile, ENV_PROT32_PAGING, false);

	pusha_setup(e);
	/* stack page V1 is MMIO, the page below it is not mapped */
	env_map(e, V1, 0x2000, RW);
	e->vcpu.regs[VCPU_REGS_RSP] = V1 + 8;
	env_run(e);

	ENV_TRACE(e, 0, "mmio write len 4 gpa 0x2004 val 0xa0a0a0a0");
	ENV_TRACE(e, 1, "mmio write len 4 gpa 0x2000 val 0xc1c1c1c1");
	TEST_ASSERT_EQ(e->vcpu.trace.nr, 2, "number of trace events");
	TEST_ASSERT_EQ(e->nr_exits, 0, "number of exits");
	check_pf(t, e, V1 - 4, PFERR_WRITE_MASK);
	TEST_ASSERT_EQ(e->vcpu.regs[VCPU_REGS_RSP], V1 + 8, "ESP not committed");
	TEST_ASSERT_EQ(e->vcpu.mmio_needed, !fixed, "mmio_needed after the fault");
	TEST_ASSERT_EQ(e->vcpu.warnings, 0, "WARNs before the next KVM_RUN");

	/* the guest runs its #PF handler, then userspace calls KVM_RUN again */
	e->vcpu.rip += 0x100;
	TEST_ASSERT_EQ(kvm_arch_vcpu_ioctl_run(&e->vcpu), 0, "next KVM_RUN");
	TEST_ASSERT_EQ(e->vcpu.run->exit_reason, KVM_EXIT_HLT, "next exit reason");
	TEST_ASSERT_EQ(e->vcpu.warnings, fixed ? 0 : WARN_RUN_MMIO_NEEDED, "WARNs");
	env_destroy(e);
}

/* ---- on-stack buffers (0b16e69d17d8, spec 2.3 step 0) ---- */

/* A handler that stores a 16-byte local: the >8-byte on-stack write case. */
static int em_store16_from_stack(struct x86_emulate_ctxt *ctxt)
{
	u8 buf[16];

	memcpy(buf, ctxt->src.valptr, sizeof(buf));
	return segmented_write(ctxt, ctxt->dst.addr.mem, buf, sizeof(buf));
}

/* An 8-byte local: allowed everywhere, copied to scratch from 6.18.24 on. */
static int em_store8_from_stack(struct x86_emulate_ctxt *ctxt)
{
	u64 v = ctxt->src.val64;

	return segmented_write(ctxt, ctxt->dst.addr.mem, &v, sizeof(v));
}

/* A read straight into a local, bypassing mem_read. */
static int em_load4_to_stack(struct x86_emulate_ctxt *ctxt)
{
	u32 v = 0;
	int rc;

	/* 64-bit flat: the linear address is RDI */
	rc = ctxt->ops->read_emulated(ctxt, reg_read(ctxt, VCPU_REGS_RDI), &v, sizeof(v),
				      &ctxt->exception);
	if (rc != X86EMUL_CONTINUE)
		return rc;
	*reg_write(ctxt, VCPU_REGS_RAX) = v;
	return X86EMUL_CONTINUE;
}

static const struct script_insn store16_stack = {
	.name = "store 16 bytes from a handler local", .execute = em_store16_from_stack,
	.d = Mov | NoWrite, .op_bytes = 4, .ad_bytes = 8, .len = 4,
	.src = SCRIPT_XMM(0), .dst = SCRIPT_MEM(16, VCPU_REGS_RDI, 0),
};

static const struct script_insn store8_stack = {
	.name = "store 8 bytes from a handler local", .execute = em_store8_from_stack,
	.d = Mov | NoWrite, .op_bytes = 8, .ad_bytes = 8, .len = 3,
	.src = SCRIPT_REG(8, VCPU_REGS_RAX), .dst = SCRIPT_MEM(8, VCPU_REGS_RDI, 0),
};

static const struct script_insn load4_stack = {
	.name = "load 4 bytes into a handler local", .execute = em_load4_to_stack,
	.op_bytes = 4, .ad_bytes = 8, .len = 2,
};

static const char *const fixed_profiles[] = { "6.18.24", "7.1" };
static const char *const unfixed_profiles[] = { "6.2", "6.18" };

/* The fixed kernels refuse a buffer on the handler's stack: WARN, emulation failure. */
static void check_stack_buffer_refused(struct test_ctx *t, struct env *e)
{
	TEST_ASSERT_EQ(e->ioctl_rc, 0, "KVM_RUN result");
	TEST_ASSERT_EQ(e->exit_reason, KVM_EXIT_INTERNAL_ERROR, "exit reason");
	TEST_ASSERT_EQ(e->vcpu.run->internal_suberror, KVM_INTERNAL_ERROR_EMULATION, "suberror");
	TEST_ASSERT_EQ(e->vcpu.warnings, WARN_RW_BUFFER_ON_STACK, "WARNs");
	TEST_ASSERT_EQ(e->vcpu.trace.nr, 0, "number of trace events");
	TEST_ASSERT_EQ(e->nr_exits, 0, "number of exits");
	TEST_ASSERT_EQ(e->vcpu.mmio_needed, 0, "mmio_needed");
	TEST_ASSERT_EQ(e->vcpu.rip, e->vcpu.insn_rip, "RIP");
}

MODEL_CASE(stack16_write_fixed, "16-byte write from a stack buffer: WARN + emulation failure",
	   fixed_profiles)
{
	struct env *e = model_env(c, ENV_LONG64, false, &store16_stack);

	env_map(e, V0, 0x1000, RW);
	memcpy(e->vcpu.xmm[0], pattern, 16);
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0x100;
	env_run(e);
	check_stack_buffer_refused(t, e);
	env_destroy(e);
}

MODEL_CASE(stack16_write_unfixed, "16-byte write from a stack buffer: accepted, no WARN (1st exit only)",
	   unfixed_profiles)
{
	struct env *e = model_env(c, ENV_LONG64, false, &store16_stack);
	struct kvm_run *run = e->vcpu.run;

	env_map(e, V0, 0x1000, RW);
	memcpy(e->vcpu.xmm[0], pattern, 16);
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0x100;
	e->vcpu.insn_rip = e->vcpu.rip;
	/*
	 * Only the first KVM_RUN: the second chunk would be read from the
	 * handler's dead frame (the CVE-2026-31588 pattern).
	 */
	TEST_ASSERT_EQ(kvm_arch_vcpu_ioctl_run(&e->vcpu), 0, "KVM_RUN result");
	TEST_ASSERT_EQ(run->exit_reason, KVM_EXIT_MMIO, "exit reason");
	TEST_ASSERT_EQ(run->mmio.phys_addr, 0x1100, "exit gpa");
	TEST_ASSERT_EQ(run->mmio.len, 8, "exit len");
	TEST_ASSERT_EQ(le_bytes(run->mmio.data, 8), 0x4746454443424140ULL, "exit data");
	ENV_TRACE(e, 0, "mmio write len 16 gpa 0x1100 val 0x4746454443424140");
	TEST_ASSERT_EQ(e->vcpu.warnings, 0, "WARNs");
	TEST_ASSERT_EQ(e->vcpu.mmio_nr_fragments, 1, "fragments");
	TEST_ASSERT_EQ(e->vcpu.mmio_fragments[0].len, 16, "frag0 len");
	env_destroy(e);
}

MODEL_CASE(stack8_write_split, "8-byte stack write split over two MMIO pages: 2nd exit data via scratch",
	   fixed_profiles)
{
	struct env *e = model_env(c, ENV_LONG64, false, &store8_stack);

	env_map(e, V0, 0x1000, RW);
	env_map(e, V1, 0x2000, RW);
	e->vcpu.regs[VCPU_REGS_RAX] = 0x1122334455667788ULL;
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0xffc;
	env_run(e);

	TEST_ASSERT_EQ(e->vcpu.warnings, 0, "WARNs");
	TEST_ASSERT_EQ(e->nr_exits, 2, "number of exits");
	ENV_EXIT(e, 0, 0x1ffc, 4, true);
	TEST_ASSERT_EQ(env_exit_data(e, 0), 0x55667788, "exit 0 data");
	ENV_EXIT(e, 1, 0x2000, 4, true);
	TEST_ASSERT_EQ(env_exit_data(e, 1), 0x11223344, "exit 1 data");
	TEST_ASSERT(e->vcpu.mmio_fragments[1].data == &e->vcpu.mmio_fragments[1].val,
		    "frag1 data points at its scratch value");
	check_retired(t, e, 3);
	env_destroy(e);
}

MODEL_CASE(stack_read_fixed, "read into a stack buffer: WARN + emulation failure",
	   fixed_profiles)
{
	struct env *e = model_env(c, ENV_LONG64, false, &load4_stack);

	env_map(e, V0, 0x1000, RW);
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0x100;
	env_run(e);
	check_stack_buffer_refused(t, e);
	env_destroy(e);
}

MODEL_CASE(stack_read_unfixed, "read into a stack buffer: exit prepared, no WARN (not completed)",
	   unfixed_profiles)
{
	struct env *e = model_env(c, ENV_LONG64, false, &load4_stack);
	struct kvm_run *run = e->vcpu.run;

	env_map(e, V0, 0x1000, RW);
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0x100;
	e->vcpu.insn_rip = e->vcpu.rip;
	/* completing would copy into the handler's dead frame */
	TEST_ASSERT_EQ(kvm_arch_vcpu_ioctl_run(&e->vcpu), 0, "KVM_RUN result");
	TEST_ASSERT_EQ(run->exit_reason, KVM_EXIT_MMIO, "exit reason");
	TEST_ASSERT_EQ(run->mmio.phys_addr, 0x1100, "exit gpa");
	TEST_ASSERT_EQ(run->mmio.len, 4, "exit len");
	TEST_ASSERT_EQ(run->mmio.is_write, 0, "exit direction");
	TEST_ASSERT_EQ(e->vcpu.warnings, 0, "WARNs");
	env_destroy(e);
}

/* ---- 3.13: completion walks past nr_fragments (CVE-2014-0049) ---- */

MODEL_CASE(pusha_past_nr, "E8 PUSHA: 2nd KVM_RUN exits again from frag[1] with len 0 (== test)",
	   all_profiles)
{
	bool ge = kvm_profile_find(c->profile)->completion_end_ge;
	struct env *e = env_create(c->profile, ENV_PROT32, false);
	struct kvm_run *run = e->vcpu.run;

	env_ram(e, 0x1000, false);
	pusha_setup(e);
	e->vcpu.insn_rip = e->vcpu.rip;

	TEST_ASSERT_EQ(kvm_arch_vcpu_ioctl_run(&e->vcpu), 0, "KVM_RUN 1");
	TEST_ASSERT_EQ(run->exit_reason, KVM_EXIT_MMIO, "exit 1 reason");
	TEST_ASSERT_EQ(run->mmio.phys_addr, 0x2000, "exit 1 gpa");
	TEST_ASSERT_EQ(run->mmio.len, 4, "exit 1 len");
	TEST_ASSERT_EQ(le_bytes(run->mmio.data, 4), 0xc1c1c1c1, "exit 1 data (ECX)");
	/* the last push went to RAM: no fragments, but the exchange is pending */
	TEST_ASSERT_EQ(e->vcpu.mmio_nr_fragments, 0, "nr_fragments");
	TEST_ASSERT_EQ(e->vcpu.mmio_needed, 1, "mmio_needed");

	TEST_ASSERT_EQ(kvm_arch_vcpu_ioctl_run(&e->vcpu), 0, "KVM_RUN 2");
	if (ge) {
		TEST_ASSERT_EQ(run->exit_reason, KVM_EXIT_HLT, "exit 2 reason");
		TEST_ASSERT_EQ(e->vcpu.mmio_needed, 0, "mmio_needed");
		TEST_ASSERT_EQ(e->vcpu.rip, e->vcpu.insn_rip + 1, "RIP");
	} else {
		/* cur 1 != nr 0: the next "exit" is built from frag[1] */
		TEST_ASSERT_EQ(run->exit_reason, KVM_EXIT_MMIO, "exit 2 reason");
		TEST_ASSERT_EQ(run->mmio.phys_addr, 0, "exit 2 gpa (frag[1].gpa)");
		TEST_ASSERT_EQ(run->mmio.len, 0, "exit 2 len (frag[1].len)");
		TEST_ASSERT_EQ(run->mmio.is_write, 1, "exit 2 direction");
		TEST_ASSERT_EQ(e->vcpu.mmio_cur_fragment, 1, "cur fragment");
		TEST_ASSERT_EQ(e->vcpu.mmio_needed, 1, "mmio_needed");
		TEST_ASSERT(e->vcpu.complete_userspace_io == complete_emulated_mmio,
			    "completion re-armed (a 3rd KVM_RUN would read frag[2])");
	}
	env_destroy(e);
}

/* ---- every profile: only the last write of a multi-write instruction ---- */

MODEL_CASE(pusha_all_mmio, "PUSHA entirely on MMIO: 8 write traces, one exit (EDI), rest dropped",
	   all_profiles)
{
	static const u32 at[8] = { 0x201c, 0x2018, 0x2014, 0x2010, 0x200c, 0x2008, 0x2004, 0x2000 };
	struct env *e = env_create(c->profile, ENV_PROT32, false);
	unsigned int i;

	pusha_setup(e);
	e->vcpu.regs[VCPU_REGS_RSP] = 0x2020;
	env_run(e);

	for (i = 0; i < 8; i++)
		TRACE_F(e, i, "mmio write len 4 gpa 0x%x val 0x%x", at[i],
			i == VCPU_REGS_RSP ? 0x2020 : pusha_regs[i]);
	TEST_ASSERT_EQ(e->vcpu.trace.nr, 8, "number of trace events");
	TEST_ASSERT_EQ(e->nr_exits, 1, "number of exits");
	ENV_EXIT(e, 0, 0x2000, 4, true);
	TEST_ASSERT_EQ(env_exit_data(e, 0), pusha_regs[VCPU_REGS_RDI], "exit data (EDI)");
	TEST_ASSERT_EQ(e->vcpu.stat_mmio_exits, 1, "stat.mmio_exits");
	TEST_ASSERT_EQ(e->vcpu.regs[VCPU_REGS_RSP], 0x2000, "ESP");
	check_retired(t, e, 1);
	env_destroy(e);
}

/* ---- 4.14: the write trace loads a whole u64 from the source ---- */

static const struct script_insn enter32 = {
	.name = "enter 0,0 (32-bit)", .execute = em_enter, .d = Stack,
	.op_bytes = 4, .ad_bytes = 4, .len = 4,
	.src = SCRIPT_IMM(2, 0), .src2 = SCRIPT_IMM(1, 0),
};

MODEL_CASE(trace_u64_load, "4-byte ENTER push: write trace val is a u64 load before 4.15",
	   all_profiles)
{
	bool by_ptr = kvm_profile_find(c->profile)->trace_val_by_pointer;
	struct env *e = model_env(c, ENV_PROT32, false, &enter32);

	/* upper half of RBP survives from 64-bit code; the push stores EBP */
	e->vcpu.regs[VCPU_REGS_RBP] = 0x1122334455667788ULL;
	e->vcpu.regs[VCPU_REGS_RSP] = 0x2100;
	env_run(e);

	if (by_ptr)
		ENV_TRACE(e, 0, "mmio write len 4 gpa 0x20fc val 0x55667788");
	else
		ENV_TRACE(e, 0, "mmio write len 4 gpa 0x20fc val 0x1122334455667788");
	TEST_ASSERT_EQ(e->nr_exits, 1, "number of exits");
	ENV_EXIT(e, 0, 0x20fc, 4, true);
	TEST_ASSERT_EQ(env_exit_data(e, 0), 0x55667788, "exit data");
	check_retired(t, e, 4);
	env_destroy(e);
}
