/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared helpers of the model tests (test_model.c, test_devices.c,
 * test_bugs.c; the layout and end checks also test_examples.c and
 * test_insn.c): per-profile registration of table rows, the common page
 * layout and the end-of-instruction checks.
 */
#ifndef FRAGFUZZ_TEST_MODEL_H
#define FRAGFUZZ_TEST_MODEL_H

#include <errno.h>
#include <stdio.h>

#include "env.h"

#define V0	0x40000000ULL
#define V1	(V0 + PAGE_SIZE)
#define V2	(V0 + 0x100000ULL)
#define RW	PT_WRITABLE

#define NR_ALL_PROFILES		6
#define NR_MODERN_PROFILES	3
extern const char *const all_profiles[NR_ALL_PROFILES];
extern const char *const modern_profiles[NR_MODERN_PROFILES];

/* What a registered case receives: its profile and its table row. */
struct pcase {
	const char *profile;
	const void *row;
};

/* Register "title [profile]" for every profile in @profiles. */
void register_profiles(const char *title, test_fn fn, const void *row,
		       const char *const *profiles, unsigned int n);

#define MODEL_CASE(fn, title, profiles)					\
	static void fn(struct test_ctx *t, const struct pcase *c);	\
	static void fn##_entry(struct test_ctx *t, const void *arg)	\
	{								\
		fn(t, arg);						\
	}								\
	__attribute__((constructor)) static void register_##fn(void)	\
	{								\
		register_profiles(title, fn##_entry, NULL, profiles,	\
				  ARRAY_SIZE(profiles));		\
	}								\
	static void fn(struct test_ctx *t, const struct pcase *c)

/* Register every row of @rows ("title [profile]") for the modern profiles. */
#define MODEL_ROWS(rows, fn)						\
	__attribute__((constructor)) static void register_##rows(void)	\
	{								\
		unsigned int __i;					\
									\
		for (__i = 0; __i < ARRAY_SIZE(rows); __i++)		\
			register_profiles(rows[__i].title, fn, &rows[__i], \
					  modern_profiles, NR_MODERN_PROFILES); \
	}

/* ENV_TRACE with a printf-style expected line */
#define TRACE_F(e, i, ...)						\
	do {								\
		char __want[128];					\
		snprintf(__want, sizeof(__want), __VA_ARGS__);		\
		ENV_TRACE(e, i, __want);				\
	} while (0)

/* 7.1 tracing: one unsatisfied-read per unsatisfied page piece */
bool per_page_t3(const struct pcase *c);
struct env *model_env(const struct pcase *c, enum env_mode mode, bool tdp,
		      const struct script_insn *insn);
/* The instruction retired cleanly: RIP moved by @len, no exception/WARN. */
void check_retired(struct test_ctx *t, struct env *e, u64 len);
/* A #PF was delivered with @error_code and CR2 @cr2; RIP did not move. */
void check_pf(struct test_ctx *t, struct env *e, u64 cr2, u16 error_code);
/* Little-endian value of the first min(8, n) bytes at @p. */
u64 le_bytes(const u8 *p, unsigned int n);

extern const struct script_insn mov_eax_mem;	/* mov eax,[rdi] */
extern const struct script_insn mov_mem_eax;	/* mov [rdi],eax */
extern const struct script_insn movdqu_load;	/* movdqu xmm0,[rdi] */
extern const struct script_insn movdqu_store;	/* movdqu [rdi],xmm0 */
extern const struct script_insn lock_cmpxchg;	/* lock cmpxchg [rdi],ecx */
/* Bytes 0x40..0x4f: MMIO read data and XMM0 contents. */
extern const u8 pattern[16];

#endif
