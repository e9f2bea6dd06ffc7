/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A scenario is one fuzz input: host and kernel profile, CPU state, up to
 * 15 instruction bytes, a guest page layout and the bytes userspace answers
 * MMIO reads with.  It has a binary form (for fuzzers, scenario_decode /
 * scenario_encode) and a text form (for people, scenario_parse_text /
 * scenario_format_text) that round-trip.
 */
#ifndef FRAGFUZZ_SCENARIO_H
#define FRAGFUZZ_SCENARIO_H

#include <stdio.h>

#include "types.h"

#define SCN_MAX_INSN		15
#define SCN_MAX_MAPS		8
#define SCN_MAX_MMIO_DATA	256
#define SCN_MAX_REGS		18	/* 16 GPRs, rip, rflags */
#define SCN_REG_RIP		16
#define SCN_REG_RFLAGS		17
#define SCN_NR_SEGS		6	/* es cs ss ds fs gs, as VCPU_SREG_* */

/* Binary form: optional "fz" + version byte, then the body (see scenario.c). */
#define SCN_MAGIC0		'f'
#define SCN_MAGIC1		'z'
#define SCN_VERSION		2

/*
 * The harness owns guest-physical [SCN_RESERVED_START, SCN_RESERVED_END):
 * code, page tables and, on real KVM, descriptor tables and stacks.
 */
#define SCN_RESERVED_START	0x00600000ULL
#define SCN_RESERVED_END	0x00a00000ULL
#define SCN_CODE_GPA		0x00600000ULL
#define SCN_PT_POOL_GPA		0x00800000ULL
#define SCN_PT_POOL_PAGES	64
/* highest GPA frame a scenario may name (MAXPHYADDR 46, minus the top) */
#define SCN_MAX_GPA		((1ULL << 44) - 1)

enum scn_mode {
	SCN_MODE_REAL16,
	SCN_MODE_PROT16,
	SCN_MODE_PROT32,
	SCN_MODE_PROT32_PAGING,
	SCN_MODE_LONG64,
	SCN_NR_MODES,
};

/* What backs a GPA frame. */
enum scn_kind {
	SCN_KIND_RAM,
	SCN_KIND_ROM,		/* KVM_MEM_READONLY: reads RAM, writes exit */
	SCN_KIND_MMIO,		/* no memslot: userspace MMIO */
	SCN_KIND_IOAPIC,	/* in-kernel IOAPIC, frame 0xfec00 */
	SCN_KIND_IOEVENTFD,	/* MMIO frame with one ioeventfd (offset, len) */
	SCN_KIND_COALESCED,	/* MMIO frame that is a coalesced zone */
	SCN_KIND_LAPIC,		/* APIC page, frame 0xfee00 */
	SCN_NR_KINDS,
};

/* map flags */
#define SCN_MAP_WRITE		BIT(0)
#define SCN_MAP_USER		BIT(1)
#define SCN_MAP_NX		BIT(2)
#define SCN_MAP_NOT_PRESENT	BIT(3)
#define SCN_MAP_FLAGS		0x0f

struct scn_map {
	u64 gva;		/* page aligned; ignored with paging off */
	u64 gpa;		/* page aligned */
	u8 kind;		/* enum scn_kind */
	u8 flags;		/* SCN_MAP_* */
	u16 ev_offset;		/* ioeventfd: offset in the frame */
	u8 ev_len;		/* ioeventfd: 0, 1, 2, 4, 8 */
};

/* control bits */
#define SCN_CTL_CR0_WP		BIT(0)
#define SCN_CTL_EFER_NXE	BIT(1)
#define SCN_CTL_CR4_OSFXSR	BIT(2)
#define SCN_CTL_TDP		BIT(3)
#define SCN_CTL_NO_IRQCHIP	BIT(4)
#define SCN_CTL_SPLIT_LOCK	BIT(5)
#define SCN_CTL_MASK		0x3f

struct scn_segment {
	u32 base;
	u32 limit;
};

struct scenario {
	int profile;			/* index into the profiles, -1: unset */
	u8 mode;			/* enum scn_mode */
	u8 cpl;				/* 0 or 3 */
	u8 ctl;				/* SCN_CTL_* */
	u8 insn_len;
	u8 insn[SCN_MAX_INSN];
	u32 regs_set;			/* bit i: regs[i] given explicitly */
	u64 regs[SCN_MAX_REGS];
	u8 segs_set;			/* bit i: segs[i] given explicitly */
	struct scn_segment segs[SCN_NR_SEGS];
	u8 nr_maps;
	struct scn_map maps[SCN_MAX_MAPS];
	u16 mmio_data_len;
	u8 mmio_data[SCN_MAX_MMIO_DATA];
};

/* The page a random scenario's addresses are relative to, per mode. */
u64 scenario_anchor(enum scn_mode mode);
void scenario_init(struct scenario *s);
/* Defaults for everything not given explicitly (RIP, RSP, segments...). */
u64 scenario_reg(const struct scenario *s, unsigned int reg);
struct scn_segment scenario_segment(const struct scenario *s, unsigned int seg);
/*
 * The offset of the instruction's opcode byte in s->insn, past its legacy
 * (and, in long64, REX) prefixes; *@rep (if not NULL): F2/F3 among them.
 */
unsigned int scenario_opcode_offset(const struct scenario *s, bool *rep);
bool scenario_paging(const struct scenario *s);
/*
 * The effective layout: @s's maps, or with none the default two pages at
 * the anchor (GPA 0x1000 and 0x2000, identity frames with paging off),
 * both writable MMIO.  Fills @out (SCN_MAX_MAPS entries), returns the count.
 */
unsigned int scenario_maps(const struct scenario *s, struct scn_map *out);

/*
 * Binary form.  decode never fails on a headerless body: missing fields
 * take defaults and contradictions are normalised, so every fuzz input is
 * a scenario.  It fails with -EINVAL and a message in @err only for a
 * "fz" header with an unknown version.
 */
int scenario_decode(struct scenario *s, const u8 *data, size_t size,
		    char *err, size_t errlen);
/* Returns the encoded size, or -ENOSPC if @size is too small. */
int scenario_encode(const struct scenario *s, u8 *out, size_t size);

/* Text form.  parse returns 0, or -EINVAL with "line N: ..." in @err. */
int scenario_parse_text(struct scenario *s, const char *text, char *err, size_t errlen);
void scenario_format_text(const struct scenario *s, FILE *f);

/* Looks like the text form (printable, known first keyword)? */
bool scenario_is_text(const u8 *data, size_t size);

const char *scenario_mode_name(unsigned int mode);
const char *scenario_kind_name(unsigned int kind);

#endif
