// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest page walk (spec 3.1, "full guest page walk"): translate a linear
 * address through the guest's own page tables as the architecture defines
 * them for 32-bit, PAE and 4-level paging, and build the #PF the guest
 * would see when the translation fails.
 *
 * Order of checks, per the architecture: every level is read in turn and
 * stops the walk if it is not present or has a reserved bit set; only a
 * complete translation is checked for U/S, R/W and NX, whose effect is the
 * combination of all levels.  Accessed/Dirty are written back only after
 * the access is known to be allowed.
 *
 * Not modelled: SMEP, SMAP, protection keys, PAT/MTRR, 5-level paging.
 */
#include <errno.h>

#include "mmu.h"

#define GENMASK_ULL(h, l)	((~0ULL >> (63 - (h))) & ~((1ULL << (l)) - 1))

/* Frame address bits of a 64-bit (PAE or 4-level) entry or CR3. */
#define PT64_ADDR_MASK		GENMASK_ULL(51, 12)
#define PT32_ADDR_MASK		GENMASK_ULL(31, 12)
/* PAE CR3 points at a 32-byte aligned table of four PDPTEs. */
#define PAE_CR3_ADDR_MASK	GENMASK_ULL(31, 5)

/* Address bits the model's guest cannot have (MAXPHYADDR..51). */
#define PT64_PHYS_RSVD		GENMASK_ULL(51, MODEL_MAXPHYADDR)
/* PAE paging reserves everything from MAXPHYADDR up to bit 62. */
#define PAE_PHYS_RSVD		GENMASK_ULL(62, MODEL_MAXPHYADDR)
/* PAE PDPTEs have no R/W, U/S, A, D, PS or XD: those bits must be 0. */
#define PAE_PDPTE_RSVD		(GENMASK_ULL(2, 1) | GENMASK_ULL(8, 5) | \
				 GENMASK_ULL(63, MODEL_MAXPHYADDR))

/*
 * 4 MiB PDE with PSE-36: bits 20:13 carry physical address bits 39:32 and
 * bit 21 is reserved, because 32-bit paging reaches at most 40 address
 * bits however wide MAXPHYADDR is.
 */
#define PSE36_HIGH_MASK		GENMASK_ULL(20, 13)
#define PSE36_HIGH_SHIFT	(32 - 13)
#define PSE_4M_RSVD		BIT(21)

/* A PAE/4-level table has 512 slots; a 32-bit one 1024. */
#define PT64_INDEX_BITS		9
#define PT32_INDEX_BITS		10
/* A 32-bit PDE covers 4 MiB of linear space. */
#define PT32_PDE_SHIFT		22

/* Deepest table chain: PML4E, PDPTE, PDE, PTE. */
#define WALK_MAX_LEVELS		4

/* One entry the walk went through, kept for the A/D write-back. */
struct walk_entry {
	gpa_t gpa;
	u64 pte;
	unsigned int size;	/* 4 (32-bit paging) or 8 bytes */
};

struct walker {
	struct kvm *kvm;
	const struct kvm_paging_state *ps;
	u64 va;			/* address bits the mode translates */
	u32 access;

	/* Reserved bits common to every 64-bit entry of this mode. */
	u64 rsvd_common;

	/* Permissions combined over all levels. */
	bool user, writable, nx;

	struct walk_entry path[WALK_MAX_LEVELS];
	unsigned int depth;

	gpa_t gpa;		/* result on success */
	u16 fault_bits;		/* P / RSVD part of the error code */
};

static bool is_long_mode(const struct kvm_paging_state *ps)
{
	return ps->efer & EFER_LMA;
}

static bool is_pae(const struct kvm_paging_state *ps)
{
	return ps->cr4 & X86_CR4_PAE;
}

/* XD exists only with PAE-format entries and EFER.NXE set. */
static bool nx_enabled(const struct kvm_paging_state *ps)
{
	return is_pae(ps) && (ps->efer & EFER_NX);
}

/* Page tables are little-endian in guest memory whatever the host is. */
static u64 get_le(const u8 *b, unsigned int size)
{
	u64 v = 0;

	while (size--)
		v = (v << 8) | b[size];
	return v;
}

static void put_le(u8 *b, u64 v, unsigned int size)
{
	unsigned int i;

	for (i = 0; i < size; i++, v >>= 8)
		b[i] = v & 0xff;
}

static int walk_fail(struct walker *w, u16 fault_bits)
{
	w->fault_bits = fault_bits;
	return -EFAULT;
}

/*
 * Read one entry.  A table page without a memslot makes the walk fail
 * like a not-present entry (error code without P): hardware would read
 * whatever the bus returns, but the model has no table to read.
 */
static int read_entry(struct walker *w, gpa_t gpa, unsigned int size, u64 *pte)
{
	u8 buf[8];

	if (kvm_vcpu_read_guest(w->kvm, gpa, buf, size))
		return walk_fail(w, 0);
	*pte = get_le(buf, size);
	if (!(*pte & PT_PRESENT))
		return walk_fail(w, 0);
	return 0;
}

/* Remember a present entry and fold its rights into the running total. */
static void account_entry(struct walker *w, gpa_t gpa, u64 pte,
			  unsigned int size)
{
	w->path[w->depth++] = (struct walk_entry){ gpa, pte, size };
	w->user &= !!(pte & PT_USER);
	w->writable &= !!(pte & PT_WRITABLE);
	if (nx_enabled(w->ps))
		w->nx |= !!(pte & PT64_NX);
}

static unsigned int level_shift64(int level)
{
	return PAGE_SHIFT + (level - 1) * PT64_INDEX_BITS;
}

static gpa_t entry_gpa64(const struct walker *w, gpa_t table, int level)
{
	u64 index = (w->va >> level_shift64(level)) &
		    ((1ULL << PT64_INDEX_BITS) - 1);

	return (table & PT64_ADDR_MASK) + index * 8;
}

/* Bits 20:13 (2 MiB) or 29:13 (1 GiB) sit between PAT and the frame. */
static u64 large_page_rsvd(int level)
{
	return GENMASK_ULL(level_shift64(level) - 1, 13);
}

static bool is_large_leaf(u64 pte, int level)
{
	return (level == 2 || level == 3) && (pte & PT_PAGE_SIZE);
}

static u64 entry_rsvd64(const struct walker *w, u64 pte, int level)
{
	u64 rsvd = w->rsvd_common;

	if (level == 4)
		rsvd |= PT_PAGE_SIZE;
	else if (is_large_leaf(pte, level))
		rsvd |= large_page_rsvd(level);
	return rsvd;
}

/* Read, check and account the 64-bit entry for @level in @table. */
static int walk_level64(struct walker *w, gpa_t table, int level, u64 *pte)
{
	gpa_t gpa = entry_gpa64(w, table, level);
	int r = read_entry(w, gpa, 8, pte);

	if (r)
		return r;
	if (*pte & entry_rsvd64(w, *pte, level))
		return walk_fail(w, PFERR_PRESENT_MASK | PFERR_RSVD_MASK);
	account_entry(w, gpa, *pte, 8);
	return 0;
}

static void map_leaf64(struct walker *w, u64 pte, int level)
{
	u64 offset = (1ULL << level_shift64(level)) - 1;

	w->gpa = (pte & PT64_ADDR_MASK & ~offset) | (w->va & offset);
}

/* PD and PT: the part PAE and 4-level paging share. */
static int walk_pd_pt64(struct walker *w, gpa_t pd)
{
	u64 pde, pte;
	int r;

	r = walk_level64(w, pd, 2, &pde);
	if (r)
		return r;
	if (is_large_leaf(pde, 2)) {
		map_leaf64(w, pde, 2);
		return 0;
	}
	r = walk_level64(w, pde, 1, &pte);
	if (r)
		return r;
	map_leaf64(w, pte, 1);
	return 0;
}

/*
 * 4-level paging.  Only bits 47:0 are translated: canonicality is the
 * caller's check, and a non-canonical upper half (from 0x800000000000)
 * therefore indexes PML4 slots 256..511 like its canonical form.
 */
static int walk_long_mode(struct walker *w)
{
	u64 pml4e, pdpte;
	int r;

	w->va &= GENMASK_ULL(47, 0);
	w->rsvd_common = PT64_PHYS_RSVD;
	if (!nx_enabled(w->ps))
		w->rsvd_common |= PT64_NX;

	r = walk_level64(w, w->ps->cr3, 4, &pml4e);
	if (r)
		return r;
	/* 1 GiB pages are taken as supported (CPUID Page1GB). */
	r = walk_level64(w, pml4e, 3, &pdpte);
	if (r)
		return r;
	if (is_large_leaf(pdpte, 3)) {
		map_leaf64(w, pdpte, 3);
		return 0;
	}
	return walk_pd_pt64(w, pdpte);
}

/*
 * PAE paging.  The CPU (and KVM) load the four PDPTEs when CR3 is written
 * and reject bad ones then; this model reads the PDPTE at walk time and
 * reports a reserved bit as a #PF instead.  PDPTEs carry no access rights
 * and no Accessed bit, so they are not accounted.
 */
static int walk_pae(struct walker *w)
{
	gpa_t gpa;
	u64 pdpte;
	int r;

	w->va &= GENMASK_ULL(31, 0);
	w->rsvd_common = PAE_PHYS_RSVD;
	if (!nx_enabled(w->ps))
		w->rsvd_common |= PT64_NX;

	gpa = (w->ps->cr3 & PAE_CR3_ADDR_MASK) + ((w->va >> 30) & 3) * 8;
	r = read_entry(w, gpa, 8, &pdpte);
	if (r)
		return r;
	if (pdpte & PAE_PDPTE_RSVD)
		return walk_fail(w, PFERR_PRESENT_MASK | PFERR_RSVD_MASK);
	return walk_pd_pt64(w, pdpte & PT64_ADDR_MASK);
}

static gpa_t entry_gpa32(gpa_t table, u64 va, unsigned int shift)
{
	u64 index = (va >> shift) & ((1ULL << PT32_INDEX_BITS) - 1);

	return (table & PT32_ADDR_MASK) + index * 4;
}

static bool is_pse_4m(const struct walker *w, u64 pde)
{
	/* Without CR4.PSE the PS bit is ignored and the PDE is a table. */
	return (w->ps->cr4 & X86_CR4_PSE) && (pde & PT_PAGE_SIZE);
}

/*
 * Read and account a PDE (@shift 22) or PTE (@shift 12).  Bit 21 of a
 * 4 MiB PDE is the only reserved bit 32-bit paging has.
 */
static int walk_level32(struct walker *w, gpa_t table, unsigned int shift,
			u64 *pte)
{
	gpa_t gpa = entry_gpa32(table, w->va, shift);
	int r = read_entry(w, gpa, 4, pte);

	if (r)
		return r;
	if (shift == PT32_PDE_SHIFT && is_pse_4m(w, *pte) &&
	    (*pte & PSE_4M_RSVD))
		return walk_fail(w, PFERR_PRESENT_MASK | PFERR_RSVD_MASK);
	account_entry(w, gpa, *pte, 4);
	return 0;
}

/* 4 MiB page; PSE-36 is decoded: PDE bits 20:13 give address bits 39:32. */
static void map_pse_4m(struct walker *w, u64 pde)
{
	w->gpa = (pde & GENMASK_ULL(31, 22)) |
		 ((pde & PSE36_HIGH_MASK) << PSE36_HIGH_SHIFT) |
		 (w->va & GENMASK_ULL(21, 0));
}

/* 32-bit 2-level paging: no NX, 4-byte entries, 1024 per table. */
static int walk_legacy32(struct walker *w)
{
	u64 pde, pte;
	int r;

	w->va &= GENMASK_ULL(31, 0);
	r = walk_level32(w, w->ps->cr3, PT32_PDE_SHIFT, &pde);
	if (r)
		return r;
	if (is_pse_4m(w, pde)) {
		map_pse_4m(w, pde);
		return 0;
	}
	r = walk_level32(w, pde, PAGE_SHIFT, &pte);
	if (r)
		return r;
	w->gpa = (pte & PT32_ADDR_MASK) | offset_in_page(w->va);
	return 0;
}

/*
 * Supervisor writes ignore R/W unless CR0.WP; user accesses need U/S and,
 * for writes, R/W at every level.  With SMEP/SMAP not modelled supervisor
 * accesses to user pages are allowed.
 */
static bool permission_fault(const struct walker *w)
{
	bool user = w->access & PFERR_USER_MASK;
	bool write = w->access & PFERR_WRITE_MASK;
	bool fetch = w->access & PFERR_FETCH_MASK;

	if (user && !w->user)
		return true;
	if (write && !w->writable && (user || (w->ps->cr0 & X86_CR0_WP)))
		return true;
	return fetch && w->nx;
}

/*
 * Set Accessed on every level and Dirty on the leaf of a write, writing an
 * entry back only when it changes.  A table in a read-only memslot cannot
 * be written; the translation still stands, so the failure is ignored.
 */
static void update_accessed_dirty(struct walker *w)
{
	bool write = w->access & PFERR_WRITE_MASK;
	unsigned int i;

	for (i = 0; i < w->depth; i++) {
		struct walk_entry *e = &w->path[i];
		u64 pte = e->pte | PT_ACCESSED;
		u8 buf[8];

		if (write && i == w->depth - 1)
			pte |= PT_DIRTY;
		if (pte == e->pte)
			continue;
		put_le(buf, pte, e->size);
		(void)kvm_vcpu_write_guest(w->kvm, e->gpa, buf, e->size);
	}
}

/*
 * The error code reports how the access was made; I/D only exists where
 * XD does (SMEP, which would also enable it, is not modelled).
 */
static void fill_page_fault(const struct walker *w, gva_t gva,
			    struct x86_exception *fault)
{
	u16 ec = w->fault_bits;

	ec |= w->access & (PFERR_WRITE_MASK | PFERR_USER_MASK);
	if ((w->access & PFERR_FETCH_MASK) && nx_enabled(w->ps))
		ec |= PFERR_FETCH_MASK;

	fault->vector = PF_VECTOR;
	fault->error_code_valid = true;
	fault->error_code = ec;
	fault->address = gva;
}

static int walk_tables(struct walker *w)
{
	if (is_long_mode(w->ps))
		return walk_long_mode(w);
	if (is_pae(w->ps))
		return walk_pae(w);
	return walk_legacy32(w);
}

int kvm_mmu_gva_to_gpa(struct kvm *kvm, const struct kvm_paging_state *ps,
		       gva_t gva, u32 access, gpa_t *gpa,
		       struct x86_exception *fault)
{
	struct walker w = {
		.kvm = kvm,
		.ps = ps,
		.va = gva,
		.access = access,
		.user = true,
		.writable = true,
	};

	/* Linear is physical; the caller already applied the 32-bit wrap. */
	if (!is_paging(ps)) {
		*gpa = gva;
		return 0;
	}

	/*
	 * Compatibility mode's 4-level tables map the 32-bit space only: a
	 * 64-bit linear address above it (after a far transfer into 64-bit
	 * code) is not present.
	 */
	if (ps->compat && !is_long_mode(ps) && (gva >> 32))
		goto fault;
	if (walk_tables(&w))
		goto fault;
	if (permission_fault(&w)) {
		w.fault_bits = PFERR_PRESENT_MASK;
		goto fault;
	}
	update_accessed_dirty(&w);
	*gpa = w.gpa;
	return 0;

fault:
	fill_page_fault(&w, gva, fault);
	return -EFAULT;
}
