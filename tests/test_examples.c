// SPDX-License-Identifier: GPL-2.0-only
/*
 * The spec's worked examples E1-E11 (kvm-mmio-behaviour.md section 11) as
 * access scripts, each run on every profile it names: the exact trace
 * lines, the exit sequence and the resulting registers and memory.
 *
 * "post" below means the 7.1 tracing (4f11fded5381); 6.18 and 6.18.24
 * trace alike and differ only in the ENTER case (E6).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "examples.h"
#include "scripts.h"
#include "test_model.h"

static const char *const example_profiles[] = { "6.18", "6.18.24", "7.1" };

#define EXAMPLE(fn, title)	PROFILE_TEST(fn, "", title, example_profiles)

static bool post_series(const void *arg)
{
	return kvm_profile_find(arg)->unsatisfied_read_per_page;
}

static struct env *long_mode_env(const void *arg, const struct script_insn *insn)
{
	struct env *e = env_create(arg, ENV_LONG64, false);

	e->insn = *insn;
	e->vcpu.regs[VCPU_REGS_RAX] = 0xdeadbeefdeadbeefULL;
	return e;
}

/* Set @e up with @setup, run it, check it with @checks, free it. */
static void run_example(struct test_ctx *t, const void *arg, struct env *e,
			example_setup_fn setup, example_checks_fn checks)
{
	setup(e);
	env_run(e);
	checks(t, arg, e);
	env_destroy(e);
}

EXAMPLE_CHECKS(example_e1_checks)
{
	unsigned int n = 0;

	ENV_TRACE(e, n++, "mmio unsatisfied-read len 2 gpa 0x1ffe val 0x0");
	if (post_series(arg))
		ENV_TRACE(e, n++, "mmio unsatisfied-read len 2 gpa 0x2000 val 0x0");
	ENV_TRACE(e, n++, "mmio read len 4 gpa 0x1ffe val 0x44332211");
	TEST_ASSERT_EQ(e->vcpu.trace.nr, n, "number of trace events");
	TEST_ASSERT_EQ(e->nr_exits, 2, "number of exits");
	ENV_EXIT(e, 0, 0x1ffe, 2, false);
	ENV_EXIT(e, 1, 0x2000, 2, false);
	TEST_ASSERT_EQ(e->vcpu.regs[VCPU_REGS_RAX], 0x44332211, "EAX");
	TEST_ASSERT_EQ(e->vcpu.stat_mmio_exits, 1, "stat.mmio_exits");
	check_retired(t, e, 2);
}

EXAMPLE_SETUP(example_e1_setup)
{
	env_map(e, V0, 0x1000, RW);
	env_map(e, V1, 0x2000, RW);
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0xffe;
	env_read_data(e, (u8[]){ 0x11, 0x22, 0x33, 0x44 }, 4);
}

EXAMPLE(e1, "E1 4-byte read split across contiguous MMIO pages")
{
	run_example(t, arg, long_mode_env(arg, &mov_eax_mem), example_e1_setup,
		    example_e1_checks);
}

EXAMPLE_CHECKS(example_e2_checks)
{
	unsigned int n = 0;

	if (post_series(arg)) {
		ENV_TRACE(e, n++, "mmio unsatisfied-read len 3 gpa 0x5ffd val 0x0");
		ENV_TRACE(e, n++, "mmio unsatisfied-read len 1 gpa 0x9000 val 0x0");
	} else {
		/* len from the second piece, gpa from frag0 */
		ENV_TRACE(e, n++, "mmio unsatisfied-read len 1 gpa 0x5ffd val 0x0");
	}
	ENV_TRACE(e, n++, "mmio read len 4 gpa 0x5ffd val 0xddccbbaa");
	TEST_ASSERT_EQ(e->vcpu.trace.nr, n, "number of trace events");
	TEST_ASSERT_EQ(e->nr_exits, 2, "number of exits");
	ENV_EXIT(e, 0, 0x5ffd, 3, false);
	ENV_EXIT(e, 1, 0x9000, 1, false);
	TEST_ASSERT_EQ(e->vcpu.regs[VCPU_REGS_RAX], 0xddccbbaa, "EAX");
	check_retired(t, e, 2);
}

EXAMPLE_SETUP(example_e2_setup)
{
	env_map(e, V0, 0x5000, RW);
	env_map(e, V1, 0x9000, RW);
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0xffd;
	env_read_data(e, (u8[]){ 0xaa, 0xbb, 0xcc, 0xdd }, 4);
}

EXAMPLE(e2, "E2 split read, non-contiguous GPAs, uneven split")
{
	run_example(t, arg, long_mode_env(arg, &mov_eax_mem), example_e2_setup,
		    example_e2_checks);
}

static const struct script_insn mov_rax_mem_rdi = {
	.name = "mov rax,[rdi]", .execute = em_mov, .d = Mov,
	.op_bytes = 8, .ad_bytes = 8, .len = 3,
	.src = SCRIPT_MEM(8, VCPU_REGS_RDI, 0), .dst = SCRIPT_REG(8, VCPU_REGS_RAX),
};

EXAMPLE_CHECKS(example_e3a_checks)
{
	if (post_series(arg))
		ENV_TRACE(e, 0, "mmio unsatisfied-read len 6 gpa 0x1ffa val 0x0");
	else
		ENV_TRACE(e, 0, "mmio unsatisfied-read len 2 gpa 0x1ffa val 0x0");
	ENV_TRACE(e, 1, "mmio read len 8 gpa 0x1ffa val 0x8899060504030201");
	TEST_ASSERT_EQ(e->vcpu.trace.nr, 2, "number of trace events");
	TEST_ASSERT_EQ(e->nr_exits, 1, "number of exits");
	ENV_EXIT(e, 0, 0x1ffa, 6, false);
	TEST_ASSERT_EQ(e->vcpu.regs[VCPU_REGS_RAX], 0x8899060504030201ULL, "RAX");
	check_retired(t, e, 3);
}

EXAMPLE_SETUP(example_e3a_setup)
{
	u8 *ram = env_ram(e, 0x3000, false);

	ram[0] = 0x99;
	ram[1] = 0x88;
	env_map(e, V0, 0x1000, RW);
	env_map(e, V1, 0x3000, RW);
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0xffa;
	env_read_data(e, (u8[]){ 1, 2, 3, 4, 5, 6 }, 6);
}

EXAMPLE(e3a, "E3a 8-byte read split MMIO then RAM")
{
	run_example(t, arg, long_mode_env(arg, &mov_rax_mem_rdi), example_e3a_setup,
		    example_e3a_checks);
}

EXAMPLE_CHECKS(example_e3b_checks)
{
	/* the completion trace has the full length but the MMIO part's GPA */
	ENV_TRACE(e, 0, "mmio unsatisfied-read len 2 gpa 0x2000 val 0x0");
	ENV_TRACE(e, 1, "mmio read len 8 gpa 0x2000 val 0xd2d1a6a5a4a3a2a1");
	TEST_ASSERT_EQ(e->vcpu.trace.nr, 2, "number of trace events");
	TEST_ASSERT_EQ(e->nr_exits, 1, "number of exits");
	ENV_EXIT(e, 0, 0x2000, 2, false);
	TEST_ASSERT_EQ(e->vcpu.regs[VCPU_REGS_RAX], 0xd2d1a6a5a4a3a2a1ULL, "RAX");
	check_retired(t, e, 3);
}

EXAMPLE_SETUP(example_e3b_setup)
{
	u8 *ram = env_ram(e, 0x1000, false);

	memcpy(ram + 0xffa, (u8[]){ 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6 }, 6);
	env_map(e, V0, 0x1000, RW);
	env_map(e, V1, 0x2000, RW);
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0xffa;
	env_read_data(e, (u8[]){ 0xd1, 0xd2 }, 2);
}

EXAMPLE(e3b, "E3b 8-byte read split RAM then MMIO")
{
	run_example(t, arg, long_mode_env(arg, &mov_rax_mem_rdi), example_e3b_setup,
		    example_e3b_checks);
}

const u8 example_sixteen[16] = { 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
			 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f };

EXAMPLE_CHECKS(example_e4a_checks)
{
	ENV_TRACE(e, 0, "mmio unsatisfied-read len 16 gpa 0x1100 val 0x0");
	/* frag0.gpa was advanced by completion */
	ENV_TRACE(e, 1, "mmio read len 16 gpa 0x1108 val 0x1716151413121110");
	TEST_ASSERT_EQ(e->vcpu.trace.nr, 2, "number of trace events");
	TEST_ASSERT_EQ(e->nr_exits, 2, "number of exits");
	ENV_EXIT(e, 0, 0x1100, 8, false);
	ENV_EXIT(e, 1, 0x1108, 8, false);
	TEST_ASSERT(!memcmp(e->vcpu.xmm[0], example_sixteen, 16),
		    "XMM0 differs from the MMIO data");
	check_retired(t, e, 4);
}

EXAMPLE_SETUP(example_e4a_setup)
{
	memset(e->vcpu.xmm[0], 0, 16);
	env_map(e, V0, 0x1000, RW);
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0x100;
	env_read_data(e, example_sixteen, 16);
}

EXAMPLE(e4a, "E4a 16-byte SSE load from one MMIO page")
{
	run_example(t, arg, long_mode_env(arg, &movdqu_load), example_e4a_setup,
		    example_e4a_checks);
}

EXAMPLE_CHECKS(example_e4b_checks)
{
	unsigned int n = 0;

	ENV_TRACE(e, n++, "mmio unsatisfied-read len 8 gpa 0x1ff8 val 0x0");
	if (post_series(arg))
		ENV_TRACE(e, n++, "mmio unsatisfied-read len 8 gpa 0x2000 val 0x0");
	ENV_TRACE(e, n++, "mmio read len 16 gpa 0x1ff8 val 0x1716151413121110");
	TEST_ASSERT_EQ(e->vcpu.trace.nr, n, "number of trace events");
	TEST_ASSERT_EQ(e->nr_exits, 2, "number of exits");
	ENV_EXIT(e, 0, 0x1ff8, 8, false);
	ENV_EXIT(e, 1, 0x2000, 8, false);
	TEST_ASSERT(!memcmp(e->vcpu.xmm[0], example_sixteen, 16),
		    "XMM0 differs from the MMIO data");
	check_retired(t, e, 4);
}

EXAMPLE_SETUP(example_e4b_setup)
{
	memset(e->vcpu.xmm[0], 0, 16);
	env_map(e, V0, 0x1000, RW);
	env_map(e, V1, 0x2000, RW);
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0xff8;
	env_read_data(e, example_sixteen, 16);
}

EXAMPLE(e4b, "E4b 16-byte SSE load split 8/8 over two MMIO pages")
{
	run_example(t, arg, long_mode_env(arg, &movdqu_load), example_e4b_setup,
		    example_e4b_checks);
}

EXAMPLE_CHECKS(example_e4c_checks)
{
	TEST_ASSERT(e->vcpu.exception_delivered, "no exception delivered");
	TEST_ASSERT_EQ(e->vcpu.delivered.vector, GP_VECTOR, "exception vector");
	TEST_ASSERT_EQ(e->vcpu.delivered.error_code, 0, "#GP error code");
	TEST_ASSERT_EQ(e->vcpu.trace.nr, 0, "number of trace events");
	TEST_ASSERT_EQ(e->nr_exits, 0, "number of exits");
	TEST_ASSERT_EQ(e->vcpu.rip, e->vcpu.insn_rip, "RIP after a fault");
}

EXAMPLE_SETUP(example_e4c_setup)
{
	env_map(e, V0, 0x1000, RW);
	env_map(e, V1, 0x2000, RW);
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0xff8;
}

EXAMPLE(e4c, "E4 movdqa at a split address raises #GP without MMIO")
{
	struct script_insn movdqa = movdqu_load;
	struct env *e;

	movdqa.name = "movdqa xmm0,[rdi]";
	movdqa.d = Mov | Aligned;
	e = long_mode_env(arg, &movdqa);
	run_example(t, arg, e, example_e4c_setup, example_e4c_checks);
}

EXAMPLE_CHECKS(example_e5_checks)
{
	ENV_TRACE(e, 0, "mmio write len 2 gpa 0x1ffe val 0xccdd");
	ENV_TRACE(e, 1, "mmio write len 2 gpa 0x2000 val 0xaabb");
	TEST_ASSERT_EQ(e->vcpu.trace.nr, 2, "number of trace events");
	TEST_ASSERT_EQ(e->nr_exits, 2, "number of exits");
	ENV_EXIT(e, 0, 0x1ffe, 2, true);
	TEST_ASSERT_EQ(env_exit_data(e, 0), 0xccdd, "exit 0 data");
	ENV_EXIT(e, 1, 0x2000, 2, true);
	TEST_ASSERT_EQ(env_exit_data(e, 1), 0xaabb, "exit 1 data");
	check_retired(t, e, 2);
}

EXAMPLE_SETUP(example_e5_setup)
{
	env_map(e, V0, 0x1000, RW);
	env_map(e, V1, 0x2000, RW);
	e->vcpu.regs[VCPU_REGS_RAX] = 0xaabbccdd;
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0xffe;
}

EXAMPLE(e5, "E5 4-byte write split across two MMIO pages")
{
	static const struct script_insn mov_mem_rdi_eax = {
		.name = "mov [rdi],eax", .execute = em_mov, .d = Mov,
		.op_bytes = 4, .ad_bytes = 8, .len = 2,
		.src = SCRIPT_REG(4, VCPU_REGS_RAX), .dst = SCRIPT_MEM(4, VCPU_REGS_RDI, 0),
	};

	run_example(t, arg, long_mode_env(arg, &mov_mem_rdi_eax), example_e5_setup,
		    example_e5_checks);
}


EXAMPLE_CHECKS(example_e6_checks)
{
	ENV_TRACE(e, 0, "mmio write len 4 gpa 0x1ffc val 0x55667788");
	ENV_TRACE(e, 1, "mmio write len 4 gpa 0x2000 val 0x11223344");
	TEST_ASSERT_EQ(e->vcpu.trace.nr, 2, "number of trace events");
	TEST_ASSERT_EQ(e->nr_exits, 2, "number of exits");
	ENV_EXIT(e, 0, 0x1ffc, 4, true);
	TEST_ASSERT_EQ(env_exit_data(e, 0), 0x55667788, "exit 0 data (filled while the local lived)");
	ENV_EXIT(e, 1, 0x2000, 4, true);
	/* unfixed: exit 1 is read from em_enter's dead frame, anything goes */
	if (kvm_profile_find(arg)->fragment_write_scratch)
		TEST_ASSERT_EQ(env_exit_data(e, 1), 0x11223344, "exit 1 data");
	TEST_ASSERT_EQ(e->vcpu.regs[VCPU_REGS_RBP], V0 + 0xffc, "RBP");
	TEST_ASSERT_EQ(e->vcpu.regs[VCPU_REGS_RSP], V0 + 0xffc, "RSP");
	check_retired(t, e, 4);
}

EXAMPLE_SETUP(example_e6_setup)
{
	env_map(e, V0, 0x1000, RW);
	env_map(e, V1, 0x2000, RW);
	e->vcpu.regs[VCPU_REGS_RBP] = 0x1122334455667788ULL;
	e->vcpu.regs[VCPU_REGS_RSP] = V0 + 0x1004;
}

EXAMPLE(e6, "E6 ENTER with a split stack push to MMIO (CVE-2026-31588)")
{
#ifdef FRAGFUZZ_ASAN_BUILD
	/* the unfixed profile is a real use-after-return: see test_cve.c */
	TEST_REQUIRE(kvm_profile_find(arg)->fragment_write_scratch,
		     "6.18 ENTER split is checked under ASan in a child process");
#endif
	run_example(t, arg, long_mode_env(arg, &enter_0_0), example_e6_setup,
		    example_e6_checks);
}

EXAMPLE_CHECKS(example_e7_checks)
{
	ENV_TRACE(e, 0, "mmio write len 16 gpa 0x3000 val 0x1716151413121110");
	TEST_ASSERT_EQ(e->vcpu.trace.nr, 1, "number of trace events");
	TEST_ASSERT_EQ(e->kvm.mmio_bus[0].ioeventfd.signals, 1, "ioeventfd signals");
	TEST_ASSERT_EQ(e->nr_exits, 1, "number of exits");
	ENV_EXIT(e, 0, 0x3008, 8, true);
	TEST_ASSERT_EQ(env_exit_data(e, 0), 0x1f1e1d1c1b1a1918ULL, "exit 0 data (high qword)");
	check_retired(t, e, 4);
}

EXAMPLE_SETUP(example_e7_setup)
{
	memcpy(e->vcpu.xmm[0], example_sixteen, 16);
	kvm_register_ioeventfd(&e->kvm, 0x3000, 8, false, 0);
	env_map(e, V0, 0x3000, RW);
	e->vcpu.regs[VCPU_REGS_RDI] = V0;
}

EXAMPLE(e7, "E7 16-byte store partly absorbed by an ioeventfd")
{
	run_example(t, arg, long_mode_env(arg, &movdqu_store), example_e7_setup,
		    example_e7_checks);
}

EXAMPLE(e7r, "E7 reverse: ioeventfd on the second chunk is never reached")
{
	struct env *e = long_mode_env(arg, &movdqu_store);

	memcpy(e->vcpu.xmm[0], example_sixteen, 16);
	kvm_register_ioeventfd(&e->kvm, 0x3008, 8, false, 0);
	env_map(e, V0, 0x3000, RW);
	e->vcpu.regs[VCPU_REGS_RDI] = V0;
	env_run(e);

	ENV_TRACE(e, 0, "mmio write len 16 gpa 0x3000 val 0x1716151413121110");
	TEST_ASSERT_EQ(e->kvm.mmio_bus[0].ioeventfd.signals, 0, "ioeventfd signals");
	TEST_ASSERT_EQ(e->nr_exits, 2, "number of exits");
	ENV_EXIT(e, 0, 0x3000, 8, true);
	TEST_ASSERT_EQ(env_exit_data(e, 0), 0x1716151413121110ULL, "exit 0 data");
	ENV_EXIT(e, 1, 0x3008, 8, true);
	TEST_ASSERT_EQ(env_exit_data(e, 1), 0x1f1e1d1c1b1a1918ULL, "exit 1 data");
	check_retired(t, e, 4);
	env_destroy(e);
}

/* The registers of pusha_setup(), pushed from ESP 0x2008 into RAM page 0x1000. */
EXAMPLE_CHECKS(example_e8_checks)
{
	const struct kvm_memslot *slot = gfn_to_memslot(&e->kvm, 1);
	unsigned int i;

	ENV_TRACE(e, 0, "mmio write len 4 gpa 0x2004 val 0xa0a0a0a0");
	ENV_TRACE(e, 1, "mmio write len 4 gpa 0x2000 val 0xc1c1c1c1");
	TEST_ASSERT_EQ(e->vcpu.trace.nr, 2, "number of trace events");
	/* the EAX write is never delivered: only the last MMIO write exits */
	TEST_ASSERT_EQ(e->nr_exits, 1, "number of exits");
	ENV_EXIT(e, 0, 0x2000, 4, true);
	TEST_ASSERT_EQ(env_exit_data(e, 0), 0xc1c1c1c1, "exit 0 data (ECX)");
	TEST_ASSERT(slot, "RAM page 0x1000 missing");
	for (i = 2; i < 8; i++) {
		u32 v;

		memcpy(&v, slot->hva + 0xffc - 4 * (i - 2), 4);
		TEST_ASSERT_EQ(v, pusha_regs[i], "register pushed to RAM");
	}
	TEST_ASSERT_EQ(e->vcpu.regs[VCPU_REGS_RSP], 0x1fe8, "ESP");
	check_retired(t, e, 1);
}

EXAMPLE_SETUP(example_e8_setup)
{
	unsigned int i;

	env_ram(e, 0x1000, false);
	for (i = 0; i < 8; i++)
		e->vcpu.regs[i] = pusha_regs[i];
}

EXAMPLE(e8, "E8 PUSHA from an MMIO page into RAM drops the first write")
{
	struct env *e = env_create(arg, ENV_PROT32, false);

	e->insn = pusha32;
	run_example(t, arg, e, example_e8_setup, example_e8_checks);
}

EXAMPLE_CHECKS(example_e9_checks)
{
	ENV_TRACE(e, 0, "mmio write len 1 gpa 0x2000 val 0x61");
	ENV_TRACE(e, 1, "mmio write len 1 gpa 0x2001 val 0x62");
	ENV_TRACE(e, 2, "mmio write len 1 gpa 0x2002 val 0x63");
	TEST_ASSERT_EQ(e->vcpu.trace.nr, 3, "number of trace events");
	TEST_ASSERT_EQ(e->nr_exits, 3, "number of exits");
	ENV_EXIT(e, 0, 0x2000, 1, true);
	ENV_EXIT(e, 1, 0x2001, 1, true);
	ENV_EXIT(e, 2, 0x2002, 1, true);
	TEST_ASSERT_EQ(env_exit_data(e, 2), 0x63, "exit 2 data");
	TEST_ASSERT_EQ(e->vcpu.stat_mmio_exits, 3, "stat.mmio_exits");
	TEST_ASSERT_EQ(e->vcpu.regs[VCPU_REGS_RCX], 0, "RCX");
	TEST_ASSERT_EQ(e->vcpu.regs[VCPU_REGS_RSI], V0 + 3, "RSI");
	TEST_ASSERT_EQ(e->vcpu.regs[VCPU_REGS_RDI], V1 + 3, "RDI");
	/* one guest entry per element, then one that retires with RCX == 0 */
	TEST_ASSERT_EQ(e->vcpu.guest_entries, 4, "guest entries");
	check_retired(t, e, 2);
}

EXAMPLE_SETUP(example_e9_setup)
{
	u8 *ram = env_ram(e, 0x1000, false);

	memcpy(ram, "abc", 3);
	env_map(e, V0, 0x1000, RW);
	env_map(e, V1, 0x2000, RW);
	e->vcpu.regs[VCPU_REGS_RCX] = 3;
	e->vcpu.regs[VCPU_REGS_RSI] = V0;
	e->vcpu.regs[VCPU_REGS_RDI] = V1;
}

EXAMPLE(e9, "E9 rep movsb from RAM to MMIO exits once per element")
{
	static const struct script_insn rep_movsb = {
		.name = "rep movsb", .execute = em_mov, .d = Mov | String | TwoMemOp,
		.rep_prefix = REPE_PREFIX, .op_bytes = 1, .ad_bytes = 8, .len = 2,
		.src = { .type = OP_MEM, .bytes = 1, .base = VCPU_REGS_RSI, .seg = VCPU_SREG_DS },
		.dst = { .type = OP_MEM, .bytes = 1, .base = VCPU_REGS_RDI, .seg = VCPU_SREG_ES },
	};

	run_example(t, arg, long_mode_env(arg, &rep_movsb), example_e9_setup, example_e9_checks);
}

void example_e10_checks(struct test_ctx *t, struct env *e, u8 old, bool equal)
{
	char line[64];

	ENV_TRACE(e, 0, "mmio unsatisfied-read len 4 gpa 0x2010 val 0x0");
	snprintf(line, sizeof(line), "mmio read len 4 gpa 0x2010 val 0x%x", old);
	ENV_TRACE(e, 1, line);
	/* no host mapping: "emulating exchange as write" */
	snprintf(line, sizeof(line), "mmio write len 4 gpa 0x2010 val 0x%x", equal ? 9 : old);
	ENV_TRACE(e, 2, line);
	TEST_ASSERT_EQ(e->vcpu.trace.nr, 3, "number of trace events");
	TEST_ASSERT_EQ(e->nr_exits, 2, "number of exits");
	ENV_EXIT(e, 0, 0x2010, 4, false);
	ENV_EXIT(e, 1, 0x2010, 4, true);
	TEST_ASSERT_EQ(env_exit_data(e, 1), equal ? 9 : old, "write exit data");
	TEST_ASSERT_EQ(!!(e->vcpu.rflags & X86_EFLAGS_ZF), equal, "ZF");
	TEST_ASSERT_EQ(e->vcpu.regs[VCPU_REGS_RAX], equal ? 5 : old, "EAX");
	check_retired(t, e, 4);
}

void example_e10_setup(struct env *e, u8 old)
{
	env_map(e, V0, 0x2000, RW);
	e->vcpu.regs[VCPU_REGS_RAX] = 5;
	e->vcpu.regs[VCPU_REGS_RCX] = 9;
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0x10;
	env_read_data(e, (u8[]){ old, 0, 0, 0 }, 4);
}

static void e10_run(struct test_ctx *t, const void *arg, u8 old, bool equal)
{
	struct env *e = long_mode_env(arg, &lock_cmpxchg);

	example_e10_setup(e, old);
	env_run(e);
	example_e10_checks(t, e, old, equal);
	env_destroy(e);
}

EXAMPLE(e10, "E10 LOCK CMPXCHG on MMIO, equal")
{
	e10_run(t, arg, 5, true);
}

EXAMPLE(e10n, "E10 LOCK CMPXCHG on MMIO, not equal")
{
	e10_run(t, arg, 7, false);
}

EXAMPLE_CHECKS(example_e11_checks)
{
	unsigned int n = 0;

	ENV_TRACE(e, n++, "mmio unsatisfied-read len 2 gpa 0x1ffe val 0x0");
	if (post_series(arg))
		ENV_TRACE(e, n++, "mmio unsatisfied-read len 2 gpa 0x7000 val 0x0");
	ENV_TRACE(e, n++, "mmio read len 4 gpa 0x1ffe val 0x44332211");
	TEST_ASSERT_EQ(e->vcpu.trace.nr, n, "number of trace events");
	TEST_ASSERT_EQ(e->nr_exits, 2, "number of exits");
	ENV_EXIT(e, 0, 0x1ffe, 2, false);
	ENV_EXIT(e, 1, 0x7000, 2, false);
	TEST_ASSERT_EQ(e->vcpu.regs[VCPU_REGS_RAX], 0x44332211, "EAX");
	check_retired(t, e, 5);
}

EXAMPLE_SETUP(example_e11_setup)
{
	env_map(e, 0xfffff000, 0x1000, RW);
	env_map(e, 0x0, 0x7000, RW);
	env_read_data(e, (u8[]){ 0x11, 0x22, 0x33, 0x44 }, 4);
}

EXAMPLE(e11, "E11 32-bit linear wrap")
{
	static const struct script_insn mov_eax_abs = {
		.name = "mov eax,[0xfffffffe]", .execute = em_mov, .d = Mov,
		.op_bytes = 4, .ad_bytes = 4, .len = 5,
		.src = SCRIPT_MEM(4, SCRIPT_NO_BASE, 0xfffffffe),
		.dst = SCRIPT_REG(4, VCPU_REGS_RAX),
	};
	struct env *e = env_create(arg, ENV_PROT32_PAGING, false);

	e->insn = mov_eax_abs;
	run_example(t, arg, e, example_e11_setup, example_e11_checks);
}
