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

/*
 * The set-up of one example after its environment and instruction are
 * made (memory, mappings, registers, MMIO read data), and the checks of
 * its run on profile @arg.
 */
#define EXAMPLE_SETUP(fn) void fn(struct env *e)
#define EXAMPLE_CHECKS(fn) void fn(struct test_ctx *t, const void *arg, struct env *e)
typedef void (*example_setup_fn)(struct env *e);
typedef void (*example_checks_fn)(struct test_ctx *t, const void *arg, struct env *e);

#define EXAMPLE_STEPS(n)						\
	EXAMPLE_SETUP(example_##n##_setup);				\
	EXAMPLE_CHECKS(example_##n##_checks)

EXAMPLE_STEPS(e1);
EXAMPLE_STEPS(e2);
EXAMPLE_STEPS(e3a);
EXAMPLE_STEPS(e3b);
EXAMPLE_STEPS(e4a);
EXAMPLE_STEPS(e4b);
EXAMPLE_STEPS(e4c);
EXAMPLE_STEPS(e5);
EXAMPLE_STEPS(e6);
EXAMPLE_STEPS(e7);
EXAMPLE_STEPS(e8);
EXAMPLE_STEPS(e9);
EXAMPLE_STEPS(e11);
/* E10, LOCK CMPXCHG of ECX 9 against EAX 5 with @old in memory at V0 + 0x10 */
void example_e10_setup(struct env *e, u8 old);
void example_e10_checks(struct test_ctx *t, struct env *e, u8 old, bool equal);

#endif
