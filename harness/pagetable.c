// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest page-table builder.  Intermediate entries are created present,
 * writable and user so that only the leaf decides permissions.
 */
#include <errno.h>
#include <string.h>

#include "pagetable.h"
#include "scenario.h"

static u64 get_le(const u8 *p, unsigned int size)
{
	u64 v = 0;

	while (size--)
		v = (v << 8) | p[size];
	return v;
}

static void put_le(u8 *p, u64 v, unsigned int size)
{
	unsigned int i;

	for (i = 0; i < size; i++, v >>= 8)
		p[i] = (u8)v;
}

static int pt_alloc(struct pt_builder *b, gpa_t *gpa)
{
	if (b->used == b->npages)
		return -ENOSPC;
	memset(b->pool + b->used * PAGE_SIZE, 0, PAGE_SIZE);
	*gpa = b->pool_gpa + b->used * PAGE_SIZE;
	b->used++;
	return 0;
}

static u8 *pt_host(struct pt_builder *b, gpa_t gpa)
{
	return b->pool + (gpa - b->pool_gpa);
}

int pt_init(struct pt_builder *b, enum pt_format format, u8 *pool, gpa_t pool_gpa,
	    unsigned int npages)
{
	*b = (struct pt_builder){
		.format = format,
		.pool = pool,
		.pool_gpa = pool_gpa,
		.npages = npages,
	};
	if (format == PT_NONE)
		return 0;
	if (format == PT_PAE) {
		/* PDPT: one page, only its first 32 bytes matter; CR3 < 4 GiB */
		if (pool_gpa + (u64)npages * PAGE_SIZE > BIT(32))
			return -EINVAL;
	}
	return pt_alloc(b, &b->root);
}

/* Return the next-level table for entry @idx of @table, creating it. */
static int pt_next(struct pt_builder *b, gpa_t table, unsigned int idx,
		   unsigned int esize, bool pdpte, gpa_t *next)
{
	u8 *e = pt_host(b, table) + idx * esize;
	u64 v = get_le(e, esize);
	int r;

	if (v & PT_PRESENT) {
		*next = v & 0x000ffffffffff000ULL;
		return 0;
	}
	r = pt_alloc(b, next);
	if (r)
		return r;
	/* PAE PDPTEs carry no R/W or U/S bits: those are reserved there */
	put_le(e, *next | PT_PRESENT | (pdpte ? 0 : PT_WRITABLE | PT_USER), esize);
	return 0;
}

int pt_map(struct pt_builder *b, gva_t gva, gpa_t gpa, u64 flags, bool not_present)
{
	u64 leaf = (gpa & PAGE_MASK) | (flags & (PT_WRITABLE | PT_USER | PT64_NX));
	gpa_t table = b->root;
	int r;

	if (!not_present)
		leaf |= PT_PRESENT;

	switch (b->format) {
	case PT_NONE:
		return -EINVAL;
	case PT_2LEVEL:
		if (gpa >> 32 || (flags & PT64_NX))
			return -EINVAL;
		r = pt_next(b, table, (gva >> 22) & 0x3ff, 4, false, &table);
		if (r)
			return r;
		put_le(pt_host(b, table) + ((gva >> 12) & 0x3ff) * 4, leaf, 4);
		return 0;
	case PT_PAE:
		r = pt_next(b, table, (gva >> 30) & 3, 8, true, &table);
		if (!r)
			r = pt_next(b, table, (gva >> 21) & 0x1ff, 8, false, &table);
		if (r)
			return r;
		put_le(pt_host(b, table) + ((gva >> 12) & 0x1ff) * 8, leaf, 8);
		return 0;
	case PT_4LEVEL:
		r = pt_next(b, table, (gva >> 39) & 0x1ff, 8, false, &table);
		if (!r)
			r = pt_next(b, table, (gva >> 30) & 0x1ff, 8, false, &table);
		if (!r)
			r = pt_next(b, table, (gva >> 21) & 0x1ff, 8, false, &table);
		if (r)
			return r;
		put_le(pt_host(b, table) + ((gva >> 12) & 0x1ff) * 8, leaf, 8);
		return 0;
	}
	return -EINVAL;
}

int pt_map_scenario(struct pt_builder *b, const struct scn_map *m)
{
	u64 flags = 0;

	if (m->flags & SCN_MAP_WRITE)
		flags |= PT_WRITABLE;
	if (m->flags & SCN_MAP_USER)
		flags |= PT_USER;
	if ((m->flags & SCN_MAP_NX) && b->format != PT_2LEVEL)
		flags |= PT64_NX;
	return pt_map(b, m->gva, m->gpa, flags, m->flags & SCN_MAP_NOT_PRESENT);
}
