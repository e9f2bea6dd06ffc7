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
 * lower them (FRAGFUZZ_MAX_EXITS, FRAGFUZZ_MAX_PASSES, FRAGFUZZ_MAX_ENTRIES,
 * fuzz_common.h) so a rep string with a huge RCX, or a jump to itself,
 * costs microseconds instead of milliseconds.
 */
struct run_limits {
	unsigned int max_exits;		/* KVM_RUN returns to userspace */
	unsigned int max_passes;	/* x86_emulate_insn() passes (model) */
	u64 max_ns;			/* guest time per case (kvm backend only) */
	/*
	 * Guest entries that end on the instruction again, for an instruction
	 * that is no REP string (a jump or call to itself, `loop $`): the
	 * model's entry budget, the kvm backend's single steps.  0: the
	 * default, RUN_LIMITS_DEFAULT_ENTRIES.
	 */
	unsigned int max_entries;
};

#define RUN_LIMITS_DEFAULT_NS		50000000ULL	/* 50 ms */
#define RUN_LIMITS_DEFAULT_ENTRIES	1024
#define RUN_LIMITS_DEFAULT ((struct run_limits){ \
	.max_exits = RESULT_MAX_EXITS, .max_passes = 1u << 20, \
	.max_ns = RUN_LIMITS_DEFAULT_NS, .max_entries = RUN_LIMITS_DEFAULT_ENTRIES })

/* @lim's max_entries, the default for 0 */
static inline unsigned int run_limits_entries(struct run_limits lim)
{
	return lim.max_entries ? lim.max_entries : RUN_LIMITS_DEFAULT_ENTRIES;
}

/*
 * The descriptor tables every scenario runs with, on both backends: no
 * LDT, and one GDT, harness_gdt(), the same in every mode.  The model
 * checks selector loads against it; the kvm backend writes exactly this
 * table into guest memory (at HARNESS_GDT_GPA, inside the reserved region)
 * and loads the selectors harness_segment() names.  16 entries, limit 0x7f;
 * all base 0, code execute/read, data read/write, all accessed:
 *   0x00 null
 *   0x08 code, DPL 0, 32-bit (D), 4 GiB    0x20 (0x23) the same, DPL 3
 *   0x10 code, DPL 0, 64-bit (L)           0x30 (0x33) the same, DPL 3
 *   0x18 data, DPL 0, 32-bit (B), 4 GiB    0x28 (0x2b) the same, DPL 3
 *   0x38 code, DPL 0, 16-bit, 64 KiB       0x50 (0x53) the same, DPL 3
 *   0x58 data, DPL 0, 16-bit, 64 KiB       0x60 (0x63) the same, DPL 3
 *   0x40 TSS (system), busy, DPL 0, base HARNESS_TSS_BASE, limit 0x67
 *   0x48 zero (the upper half of the 64-bit TSS descriptor)
 *   0x68, 0x70 zero
 *   0x78 (0x7b) data, DPL 3, read-only, expand-down, limit 0
 * Entries 0x08-0x30, the TSS at 0x40 and 0x78 are where the Linux x86-64
 * GDT has them (arch/x86/include/asm/segment.h): kvm_pvm runs native
 * 64-bit CPL 3 code on the host's GDT, where a selector load that the
 * host's table allows (0x2b, 0x33, 0x7b) does not fault and never sees
 * the guest's table; the other loads fault and KVM emulates them against
 * this table (measured on 6.18.44).  (The kvm backend's exception gates go
 * to 0x10 in long mode, 0x08 in the legacy modes; its TSS has SS0 0x18.)
 *
 * The segment registers (harness_segment()), per mode and CPL: CS the
 * code segment of the mode's width, SS, DS, ES, FS, GS the data segment of
 * that width (32-bit in long64), all with RPL = CPL, the descriptor's
 * attributes (type, DPL = CPL, D/B, L) and the scenario's base and limit.
 * Except: real16, selector 0 everywhere (the bases are the scenario's);
 * long64 at CPL 3, DS, ES, FS and GS hold the null selector (usable, as
 * 64-bit mode allows), as kvm_pvm's native user mode has them (its CS and
 * SS there are the host's 0x33 and 0x2b, which this table matches).  TR
 * is HARNESS_SEL_TSS.  Loading a segment register with the selector it
 * holds gives the same attributes back.
 */
#define HARNESS_GDT_ENTRIES	16
#define HARNESS_GDT_GPA		0x602000u
#define HARNESS_TSS_BASE	0x605000u
#define HARNESS_SEL_CODE32	0x08
#define HARNESS_SEL_CODE64	0x10
#define HARNESS_SEL_DATA	0x18
#define HARNESS_SEL_UCODE32	0x23
#define HARNESS_SEL_UDATA	0x2b
#define HARNESS_SEL_UCODE64	0x33
#define HARNESS_SEL_CODE16	0x38
#define HARNESS_SEL_TSS		0x40
#define HARNESS_SEL_UCODE16	0x53
#define HARNESS_SEL_DATA16	0x58
#define HARNESS_SEL_UDATA16	0x63
#define HARNESS_SEL_UCPUNODE	0x7b

/*
 * Real mode: the kvm backend's exception handler, where its IVT sends
 * every vector (harness/kvm/backend_kvm.c), at linear 0xf0000: in the
 * scenario's space, so the comparator leaves out a case that reaches it.
 */
#define HARNESS_RM_HANDLER_SEG	0xf000
#define HARNESS_RM_HANDLER	((u64)HARNESS_RM_HANDLER_SEG << 4)

/* The table: @gdt->desc[0 .. HARNESS_GDT_ENTRIES - 1] and the limit. */
void harness_gdt(struct kvm_gdt *gdt);

/* A segment register as the harness sets it (see above). */
struct harness_segment {
	u64 base;
	u32 limit;		/* byte granular */
	u16 selector;
	u8 type;		/* 0xb code, 0x3 data */
	u8 dpl;
	bool db, l;
};

/* Segment register @seg (VCPU_SREG_*, not TR/LDTR) for @s's mode and CPL. */
void harness_segment(const struct scenario *s, unsigned int seg, struct harness_segment *out);

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
