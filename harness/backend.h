/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Backends run a scenario and fill a run_result: the model (always), and
 * real KVM (harness/kvm/, where /dev/kvm exists).  Both answer MMIO reads
 * the same way: the scenario's mmio-data bytes in order, then
 * mmio_default_byte() of each GPA.
 */
#ifndef FRAGFUZZ_BACKEND_H
#define FRAGFUZZ_BACKEND_H

#include "profile.h"
#include "result.h"
#include "scenario.h"

/* Deterministic RAM contents and default MMIO answers, per GPA byte. */
static inline u8 ram_pattern_byte(u64 gpa)
{
	u32 off = (u32)(gpa & 0xfff);

	/* cheap enough to fill a page per run; differs per offset and frame */
	return (u8)((off * 0x3b) ^ (off >> 7) ^ ((gpa >> 12) * 0x9d));
}

static inline u8 mmio_default_byte(u64 gpa)
{
	return (u8)(0xa0 ^ (gpa & 0xff) ^ ((gpa >> 8) & 0x0f));
}

/*
 * Record one KVM_EXIT_MMIO in @r; for a read, fill @data (kvm_run's
 * mmio.data) with the answer.  @pos walks the scenario's mmio-data.
 * The caller makes sure r->nr_exits < RESULT_MAX_EXITS.
 */
void mmio_exit_record(struct run_result *r, const struct scenario *s, unsigned int *pos,
		      u64 gpa, u32 len, bool write, u8 data[8]);

/*
 * Per-case limits of a backend run; a case that reaches one ends as
 * OUTCOME_BUDGET.  `fragfuzz run` uses RUN_LIMITS_DEFAULT; the fuzz targets
 * lower them (FRAGFUZZ_MAX_EXITS, FRAGFUZZ_MAX_PASSES, fuzz_common.h) so a
 * rep string with a huge RCX costs microseconds instead of milliseconds.
 */
struct run_limits {
	unsigned int max_exits;		/* KVM_RUN returns to userspace */
	unsigned int max_passes;	/* x86_emulate_insn() passes (model) */
};

#define RUN_LIMITS_DEFAULT ((struct run_limits){ \
	.max_exits = RESULT_MAX_EXITS, .max_passes = 1u << 20 })

/*
 * The descriptor tables every scenario runs with, on both backends
 * (harness/kvm/backend_kvm.c builds the same GDT in guest memory): no
 * LDT, and a GDT of 5 entries, limit 0x27:
 *   0x00 null
 *   0x08 code, base 0, 4 GiB, DPL 0, execute/read, accessed; 64-bit (L)
 *        in long mode, else 32-bit (D)
 *   0x10 data, base 0, 4 GiB, DPL 0, read/write, accessed, 32-bit (B)
 *   0x18 TSS (system), busy, DPL 0
 *   0x20 zero (the upper half of the 64-bit TSS descriptor)
 * CS holds selector 0x08 and the data segments 0x10 in the protected
 * modes; their hidden parts are the scenario's (base, limit).
 */
#define HARNESS_SEL_CODE	0x08
#define HARNESS_SEL_DATA	0x10
#define HARNESS_TSS_BASE	0x605000u

void harness_gdt(struct kvm_gdt *gdt, bool long64);

/* Everything the model backend needs besides the scenario. */
struct model_backend;

struct model_backend *model_backend_create(void);
void model_backend_destroy(struct model_backend *mb);
/* Limits for the next runs (clamped to 1..RESULT_MAX_EXITS exits). */
void model_backend_set_limits(struct model_backend *mb, struct run_limits lim);
/*
 * Run @s on the model with @profile (NULL: the scenario's own, else 7.1).
 * Returns 0, or -errno if the case cannot be set up (the result then says
 * OUTCOME_NOT_RUN).
 */
int model_backend_run(struct model_backend *mb, const struct scenario *s,
		      const struct kvm_profile *profile, struct run_result *r);
const struct kvm_profile *scenario_profile(const struct scenario *s,
					   const struct kvm_profile *override);

#endif
