// SPDX-License-Identifier: GPL-2.0-only
/*
 * Access scripts shared by the example tests and cve-repro.
 */
#include "scripts.h"

const struct script_insn enter_0_0 = {
	.name = "enter 0,0", .execute = em_enter, .d = Stack,
	.op_bytes = 8, .ad_bytes = 8, .len = 4,
	.src = SCRIPT_IMM(2, 0), .src2 = SCRIPT_IMM(1, 0),
};

const struct script_insn pusha32 = {
	.name = "pusha", .execute = em_pusha, .d = Stack,
	.op_bytes = 4, .ad_bytes = 4, .len = 1,
};

const u32 pusha_regs[8] = { 0xa0a0a0a0, 0xc1c1c1c1, 0xd2d2d2d2, 0xb3b3b3b3,
				   0x2008, 0xb5b5b5b5, 0x5e5e5e5e, 0xd7d7d7d7 };

void pusha_setup(struct env *e)
{
	unsigned int i;

	e->insn = pusha32;
	for (i = 0; i < 8; i++)
		e->vcpu.regs[i] = pusha_regs[i];
}

