/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guest page-table builder: maps 4 KiB GVA pages to GPA frames in a pool
 * of guest RAM, for 2-level 32-bit, PAE and 4-level paging.  Used by the
 * tests and by the harness to turn a scenario's layout into real tables
 * that the model (and the real-KVM backend) walk.
 */
#ifndef FRAGFUZZ_PAGETABLE_H
#define FRAGFUZZ_PAGETABLE_H

#include "mmu.h"

enum pt_format {
	PT_NONE,	/* paging off */
	PT_2LEVEL,
	PT_PAE,
	PT_4LEVEL,
};

struct pt_builder {
	enum pt_format format;
	u8 *pool;		/* host view of the pool */
	gpa_t pool_gpa;
	unsigned int npages;
	unsigned int used;
	gpa_t root;		/* CR3 */
};

int pt_init(struct pt_builder *b, enum pt_format format, u8 *pool, gpa_t pool_gpa,
	    unsigned int npages);
/*
 * Map @gva's page to @gpa's frame.  @flags: PT_WRITABLE, PT_USER, PT64_NX
 * (PAE/4-level only); PT_PRESENT is implied unless @not_present.
 */
int pt_map(struct pt_builder *b, gva_t gva, gpa_t gpa, u64 flags, bool not_present);

struct scn_map;
/*
 * Map a scenario map's page with its SCN_MAP_* permissions (NX only where
 * the format has it).  Both backends build their tables with this.
 */
int pt_map_scenario(struct pt_builder *b, const struct scn_map *m);

#endif
