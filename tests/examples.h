/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the spec's worked examples E1-E11 leave after the run (trace lines,
 * exits, registers, memory), checked alike for the access scripts of
 * test_examples.c and the instruction bytes of test_insn.c.
 */
#ifndef FRAGFUZZ_TEST_EXAMPLES_H
#define FRAGFUZZ_TEST_EXAMPLES_H

#include "env.h"

/* The MMIO data of E4 and E7: bytes 0x10..0x1f. */
extern const u8 example_sixteen[16];

/* The checks of one example run on profile @arg. */
#define EXAMPLE_CHECKS(fn) void fn(struct test_ctx *t, const void *arg, struct env *e)

EXAMPLE_CHECKS(example_e1_checks);
EXAMPLE_CHECKS(example_e2_checks);
EXAMPLE_CHECKS(example_e3a_checks);
EXAMPLE_CHECKS(example_e3b_checks);
EXAMPLE_CHECKS(example_e4a_checks);
EXAMPLE_CHECKS(example_e4b_checks);
EXAMPLE_CHECKS(example_e4c_checks);
EXAMPLE_CHECKS(example_e5_checks);
EXAMPLE_CHECKS(example_e6_checks);
EXAMPLE_CHECKS(example_e7_checks);
EXAMPLE_CHECKS(example_e8_checks);
EXAMPLE_CHECKS(example_e9_checks);
EXAMPLE_CHECKS(example_e11_checks);
/* E10, LOCK CMPXCHG of ECX 9 against EAX 5 with @old in memory at V0 + 0x10 */
void example_e10_setup(struct env *e, u8 old);
void example_e10_checks(struct test_ctx *t, struct env *e, u8 old, bool equal);

#endif
