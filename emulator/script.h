/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Access scripts: a hand-written decode of one instruction (handler, flags,
 * operands) that the model runs exactly like a decoded instruction.  This
 * is how tests drive emulator-level calls (read into the cache, write from
 * the context, push a stack local, cmpxchg, string element) without the
 * Capstone instruction layer.
 */
#ifndef FRAGFUZZ_SCRIPT_H
#define FRAGFUZZ_SCRIPT_H

#include "emulate.h"

#define SCRIPT_NO_BASE	0xff

struct script_operand {
	enum operand_type type;
	u8 bytes;
	u8 reg;			/* OP_REG: GPR or XMM number */
	bool xmm;
	u8 base;		/* OP_MEM: base GPR or SCRIPT_NO_BASE */
	s64 disp;
	u8 seg;			/* OP_MEM: VCPU_SREG_* */
	u64 imm;		/* OP_IMM */
};

struct script_insn {
	const char *name;
	emulate_handler execute;
	u64 d;
	u8 rep_prefix;
	bool lock_prefix;
	u8 op_bytes;
	u8 ad_bytes;
	u8 len;			/* instruction length: RIP advance */
	struct script_operand src, src2, dst;
	/* TDP: the GPA hardware would report for the emulation's fault */
	bool has_fault_gpa;
	gpa_t fault_gpa;
};

extern const struct kvm_guest_ops script_guest_ops;

/* operand constructors */
#define SCRIPT_MEM(b, base_reg, d)	((struct script_operand){ .type = OP_MEM, .bytes = (b), \
					  .base = (base_reg), .disp = (d), .seg = VCPU_SREG_DS })
#define SCRIPT_REG(b, r)		((struct script_operand){ .type = OP_REG, .bytes = (b), .reg = (r) })
#define SCRIPT_XMM(r)			((struct script_operand){ .type = OP_REG, .bytes = 16, \
					  .reg = (r), .xmm = true })
#define SCRIPT_IMM(b, v)		((struct script_operand){ .type = OP_IMM, .bytes = (b), .imm = (v) })

#endif
