/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guest page walk (the walk_mmu->gva_to_gpa of the model): paging off,
 * 32-bit 2-level, PAE and 4-level long mode, with U/S, R/W (CR0.WP) and NX
 * permission checks and the architectural #PF error code.
 */
#ifndef FRAGFUZZ_MMU_H
#define FRAGFUZZ_MMU_H

#include "kvm.h"

#define X86_CR0_PE	BIT(0)
#define X86_CR0_EM	BIT(2)
#define X86_CR0_TS	BIT(3)
#define X86_CR0_WP	BIT(16)
#define X86_CR0_PG	BIT(31)
#define X86_CR4_PSE	BIT(4)
#define X86_CR4_PAE	BIT(5)
#define X86_CR4_OSFXSR	BIT(9)
#define EFER_LME	BIT(8)
#define EFER_LMA	BIT(10)
#define EFER_NX		BIT(11)

#define PFERR_PRESENT_MASK	BIT(0)
#define PFERR_WRITE_MASK	BIT(1)
#define PFERR_USER_MASK		BIT(2)
#define PFERR_RSVD_MASK		BIT(3)
#define PFERR_FETCH_MASK	BIT(4)

#define PT_PRESENT	BIT(0)
#define PT_WRITABLE	BIT(1)
#define PT_USER		BIT(2)
#define PT_ACCESSED	BIT(5)
#define PT_DIRTY	BIT(6)
#define PT_PAGE_SIZE	BIT(7)
#define PT64_NX		BIT(63)

#define DE_VECTOR	0
#define DB_VECTOR	1
#define NMI_VECTOR	2
#define UD_VECTOR	6
#define NM_VECTOR	7
#define NP_VECTOR	11
#define SS_VECTOR	12
#define GP_VECTOR	13
#define PF_VECTOR	14
#define AC_VECTOR	17

/* Guest physical address width the model's page walker assumes. */
#define MODEL_MAXPHYADDR	46

struct x86_exception {
	u8 vector;
	bool error_code_valid;
	u16 error_code;
	u64 address;		/* CR2 for #PF */
};

/* The control registers a walk depends on. */
struct kvm_paging_state {
	u64 cr0, cr3, cr4, efer;
	bool compat;	/* kvm_host_config.compat_paging */
};

/*
 * Translate @gva for an access described by @access (PFERR_WRITE_MASK,
 * PFERR_USER_MASK, PFERR_FETCH_MASK).  Returns 0 and sets *gpa, or -EFAULT
 * with @fault filled as a #PF (vector, error code, address = @gva).
 * Page tables are read through kvm_vcpu_read_guest(); a successful walk
 * sets Accessed bits, and Dirty on the leaf for writes, as hardware and
 * KVM's walker do.
 */
int kvm_mmu_gva_to_gpa(struct kvm *kvm, const struct kvm_paging_state *ps,
		       gva_t gva, u32 access, gpa_t *gpa,
		       struct x86_exception *fault);

/* Bits 63:47 of @la all equal: canonical with 4-level paging (no LA57 here) */
static inline bool is_canonical(u64 la)
{
	return (u64)((s64)(la << 16) >> 16) == la;
}

static inline bool is_paging(const struct kvm_paging_state *ps)
{
	return ps->cr0 & X86_CR0_PG;
}

#endif
