/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Test environment: a tiny userspace VMM around the model.  It owns the VM
 * (RAM pages at chosen GPAs, page tables, devices), one vCPU running one
 * access script, and plays userspace for KVM_EXIT_MMIO: it answers reads
 * from a byte stream and records every exit.
 */
#ifndef FRAGFUZZ_TEST_ENV_H
#define FRAGFUZZ_TEST_ENV_H

#include "pagetable.h"
#include "script.h"
#include "test.h"

enum env_mode { ENV_REAL16, ENV_PROT32, ENV_PROT32_PAGING, ENV_LONG64 };

#define ENV_MAX_RAM	16
#define ENV_MAX_EXITS	64
#define ENV_PT_POOL_GPA	0x800000ULL
#define ENV_PT_PAGES	32

struct env_exit {
	u64 gpa;
	u32 len;
	bool write;
	u8 data[8];
};

struct env {
	struct kvm kvm;
	struct kvm_vcpu vcpu;
	struct pt_builder pt;
	u8 pt_pool[ENV_PT_PAGES][PAGE_SIZE];
	u8 ram[ENV_MAX_RAM][PAGE_SIZE];
	unsigned int nr_ram;
	struct script_insn insn;

	struct env_exit exits[ENV_MAX_EXITS];
	unsigned int nr_exits;
	u8 rdata[256];
	unsigned int nr_rdata, rpos;

	int ioctl_rc;			/* last KVM_RUN return value */
	u32 exit_reason;		/* last non-MMIO exit */
	unsigned int nr_runs;
};

struct env *env_create(const char *profile, enum env_mode mode, bool tdp);
void env_destroy(struct env *e);
/* Add a RAM page (or read-only page) at @gpa; returns its host bytes. */
u8 *env_ram(struct env *e, gpa_t gpa, bool readonly);
void env_map(struct env *e, gva_t gva, gpa_t gpa, u64 flags);
void env_read_data(struct env *e, const u8 *bytes, unsigned int n);
/* Run KVM_RUN until the guest halts, fails or 64 exits. */
void env_run(struct env *e);
/* Compare trace event @i with "mmio <type> len N gpa 0x.. val 0x..". */
bool env_trace_is(struct env *e, unsigned int i, const char *want, char *got, size_t n);

#define ENV_TRACE(e, i, want)						\
	do {								\
		char __got[128];					\
		if (!env_trace_is(e, i, want, __got, sizeof(__got)))	\
			TEST_FAIL("Wanted trace[%u] '%s', got '%s'", (unsigned int)(i), want, __got); \
	} while (0)

#define ENV_EXIT(e, i, g, l, w)						\
	do {								\
		TEST_ASSERT((i) < (e)->nr_exits, "exit %u missing (have %u)", (unsigned int)(i), (e)->nr_exits); \
		TEST_ASSERT_EQ((e)->exits[i].gpa, g, "exit gpa");	\
		TEST_ASSERT_EQ((e)->exits[i].len, l, "exit len");	\
		TEST_ASSERT_EQ((e)->exits[i].write, w, "exit direction");	\
	} while (0)

u64 env_exit_data(const struct env *e, unsigned int i);

#endif
