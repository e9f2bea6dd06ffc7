/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef FRAGFUZZ_TEST_SCRIPTS_H
#define FRAGFUZZ_TEST_SCRIPTS_H

#include "env.h"

/* enter 0,0 in 64-bit mode */
extern const struct script_insn enter_0_0;
/* 32-bit pusha, and the register values pusha_setup() loads (ESP 0x2008) */
extern const struct script_insn pusha32;
extern const u32 pusha_regs[8];
void pusha_setup(struct env *e);

#endif
