/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a backend (the model, or real KVM) observed while running one
 * scenario: the kvm_mmio trace, every KVM_EXIT_MMIO, the outcome, the
 * final registers, and, from the model, the emulator's memory calls.  The
 * oracle and the reports only ever look at this.
 */
#ifndef FRAGFUZZ_RESULT_H
#define FRAGFUZZ_RESULT_H

#include "mmu.h"
#include "trace.h"
#include "vcpu.h"

#define RESULT_MAX_EXITS	512	/* a 1 KiB rep-ins fragment pair is 128 exits */

enum run_outcome {
	OUTCOME_RETIRED,		/* RIP left the instruction */
	OUTCOME_EXCEPTION,		/* an exception was delivered */
	OUTCOME_EMULATION_FAILURE,	/* KVM_EXIT_INTERNAL_ERROR */
	OUTCOME_BUDGET,			/* too many exits or guest entries */
	OUTCOME_KVM_ERROR,		/* KVM_RUN failed (-EIO: VM bugged) */
	OUTCOME_HOST_BUG,		/* the kernel would have hit BUG() */
	OUTCOME_NOT_RUN,		/* the backend could not set the case up */
	NR_OUTCOMES,
};

struct run_exit {
	u64 gpa;
	u32 len;
	bool write;
	u8 data[8];		/* write: from KVM; read: what userspace answered */
};

struct run_result {
	enum run_outcome outcome;
	struct x86_exception exception;
	int kvm_errno;
	/*
	 * Model only: KVM emulates the instruction, the model does not (yet)
	 * (INSN_NOT_MODELLED, emulator/INSTRUCTIONS.md): the outcome says
	 * emulation failure, and there is nothing to compare with a kernel.
	 */
	bool not_modelled;
	/*
	 * Kernel only: bits of RSP and RFLAGS the kvm backend could not read
	 * back, which the comparator leaves out (real mode: kvm_pvm's
	 * exception delivery zero-extends SP and clears AC, and its frame
	 * holds only IP, CS and FLAGS[15:0]; after a trap the instruction's
	 * values of those bits are gone).
	 */
	u64 rsp_lost, rflags_lost;
	/*
	 * Kernel only: a write exited to userspace although a device the kvm
	 * backend had registered on KVM's MMIO bus takes it (a coalesced zone
	 * with room in its ring, an ioeventfd at that address), at this GPA:
	 * KVM's bus search missed the device (V_IOBUS_MISSED,
	 * harness/kvm/iobus_order.c).  What follows from it is not judged.
	 */
	bool iobus_missed;
	u64 iobus_missed_gpa;

	struct kvm_mmio_trace trace;
	struct run_exit exits[RESULT_MAX_EXITS];
	unsigned int nr_exits;
	bool exits_lost;

	/* model only (has_accesses); the oracle needs them */
	bool has_accesses;
	struct emul_access_log accesses;

	u64 regs[NR_VCPU_REGS];
	u64 rip, rflags;
	u64 cs_base;		/* model only: the CS base the run ended with */
	u32 warnings;		/* enum kvm_model_warn */
	bool mmio_pending;	/* mmio_needed still set at the end */
	u64 mmio_exits;		/* stat.mmio_exits */
	char mnemonic[32];
};

const char *run_outcome_name(enum run_outcome o);
/* @r as before any run: OUTCOME_NOT_RUN, every count and register 0. */
void run_result_reset(struct run_result *r);

#endif
