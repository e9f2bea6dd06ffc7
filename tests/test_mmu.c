// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest page walk tests: page tables are built in a 2 MiB RAM memslot at
 * GPA 0, one standard layout per paging mode.  Each row of walk_cases
 * patches a few entries or control bits, translates one address and
 * checks the GPA or the #PF; every row is registered as its own case.
 */
#include <errno.h>
#include <string.h>

#include "mmu.h"
#include "test.h"

#define RAM_SIZE	(2ULL << 20)
/* A read-only slot for tables whose A/D bits cannot be written. */
#define ROM_BASE	0x400000ULL
#define ROM_SIZE	0x10000ULL

#define P	PT_PRESENT
#define W	PT_WRITABLE
#define U	PT_USER
#define PWU	(P | W | U)
#define PS	PT_PAGE_SIZE
#define NX	PT64_NX

#define EC_P	PFERR_PRESENT_MASK
#define EC_W	PFERR_WRITE_MASK
#define EC_U	PFERR_USER_MASK
#define EC_RSVD	PFERR_RSVD_MASK
#define EC_ID	PFERR_FETCH_MASK

#define CR0_ON	(X86_CR0_PE | X86_CR0_PG | X86_CR0_WP)

enum walk_mode {
	MODE_OFF,
	MODE_32,	/* 2-level, CR4.PSE=1, EFER.NXE=1 */
	MODE_PAE,	/* EFER.NXE=1 */
	MODE_LONG,	/* EFER.NXE=1 */
};

/*
 * Standard layouts (every entry P|W|U, no A/D):
 *
 * 32-bit (EFER.NXE=1): CR3=0x1000 PD; PD[0] -> PT 0x2000, PT[1] -> 0x10000;
 *   PD[1] 4 MiB -> 0x800000; PD[2] 4 MiB PSE-36 -> 0x5_00c00000;
 *   PD[3] -> 0x1000 with PS|PAT (4 MiB -> 0 with PSE, self-map without).
 * PAE: CR3=0x1020; PDPTE[0], PDPTE[3] -> PD 0x3000; PD[0] -> PT 0x4000,
 *   PT[1] -> 0x10000, PT[2] -> 0x11000; PD[1] 2 MiB -> 0x600000.
 * Long: CR3=0x1000 PML4; PML4[0], PML4[256] -> PDPT 0x2000;
 *   PDPT[0] -> PD 0x3000, PDPT[1] 1 GiB -> 0x80000000; PD and PT as PAE.
 */
#define L32_PD		0x1000ULL
#define L32_PT		0x2000ULL
#define PAE_PDPT	0x1020ULL
#define LM_PML4		0x1000ULL
#define LM_PDPT		0x2000ULL
#define PD64		0x3000ULL
#define PT64		0x4000ULL
#define PTE32(table, i)	((table) + (i) * 4)
#define PTE64(table, i)	((table) + (i) * 8)

static struct kvm mmu_kvm;
static u8 mmu_ram[RAM_SIZE] __attribute__((aligned(4096)));
static u8 mmu_rom[ROM_SIZE] __attribute__((aligned(4096)));

static u64 get_entry(gpa_t gpa, unsigned int size)
{
	u8 *b = gpa >= ROM_BASE ? &mmu_rom[gpa - ROM_BASE] : &mmu_ram[gpa];
	u64 v = 0;

	while (size--)
		v = (v << 8) | b[size];
	return v;
}

/* Host-side store: works on the read-only slot too. */
static void put_entry(gpa_t gpa, u64 v, unsigned int size)
{
	u8 *b = gpa >= ROM_BASE ? &mmu_rom[gpa - ROM_BASE] : &mmu_ram[gpa];
	unsigned int i;

	for (i = 0; i < size; i++, v >>= 8)
		b[i] = v & 0xff;
}

static unsigned int entry_size(enum walk_mode mode)
{
	return mode == MODE_32 ? 4 : 8;
}

static void build_32(struct kvm_paging_state *ps)
{
	*ps = (struct kvm_paging_state){
		.cr0 = CR0_ON, .cr3 = L32_PD, .cr4 = X86_CR4_PSE,
		.efer = EFER_NX,	/* no effect without PAE */
	};
	put_entry(PTE32(L32_PD, 0), L32_PT | PWU, 4);
	put_entry(PTE32(L32_PT, 1), 0x10000 | PWU, 4);
	put_entry(PTE32(L32_PD, 1), 0x800000 | PS | PWU, 4);
	put_entry(PTE32(L32_PD, 2), 0xc00000 | (0x05ULL << 13) | PS | PWU, 4);
	/* bit 12 is PAT in a 4 MiB PDE, an address bit in a PTE */
	put_entry(PTE32(L32_PD, 3), L32_PD | PS | PWU, 4);
}

static void build_pd_pt64(void)
{
	put_entry(PTE64(PD64, 0), PT64 | PWU, 8);
	put_entry(PTE64(PD64, 1), 0x600000 | PS | PWU, 8);
	put_entry(PTE64(PT64, 1), 0x10000 | PWU, 8);
	put_entry(PTE64(PT64, 2), 0x11000 | PWU, 8);
}

static void build_pae(struct kvm_paging_state *ps)
{
	*ps = (struct kvm_paging_state){
		.cr0 = CR0_ON, .cr3 = PAE_PDPT, .cr4 = X86_CR4_PAE,
		.efer = EFER_NX,
	};
	/* PDPTEs have no R/W or U/S: those bits are reserved */
	put_entry(PTE64(PAE_PDPT, 0), PD64 | P, 8);
	put_entry(PTE64(PAE_PDPT, 3), PD64 | P, 8);
	build_pd_pt64();
}

static void build_long(struct kvm_paging_state *ps)
{
	*ps = (struct kvm_paging_state){
		.cr0 = CR0_ON, .cr3 = LM_PML4, .cr4 = X86_CR4_PAE,
		.efer = EFER_LME | EFER_LMA | EFER_NX,
	};
	put_entry(PTE64(LM_PML4, 0), LM_PDPT | PWU, 8);
	put_entry(PTE64(LM_PML4, 256), LM_PDPT | PWU, 8);
	put_entry(PTE64(LM_PDPT, 0), PD64 | PWU, 8);
	put_entry(PTE64(LM_PDPT, 1), 0x80000000ULL | PS | PWU, 8);
	build_pd_pt64();
}

/* Fresh VM: RAM at 0, read-only slot at ROM_BASE, @mode's tables. */
static int mmu_setup(enum walk_mode mode, struct kvm_paging_state *ps)
{
	int r;

	kvm_init(&mmu_kvm);
	memset(mmu_ram, 0, sizeof(mmu_ram));
	memset(mmu_rom, 0, sizeof(mmu_rom));
	r = kvm_set_memslot(&mmu_kvm, 0, RAM_SIZE, mmu_ram, false);
	if (!r)
		r = kvm_set_memslot(&mmu_kvm, ROM_BASE, ROM_SIZE, mmu_rom,
				    true);
	if (r)
		return r;

	switch (mode) {
	case MODE_OFF:
		*ps = (struct kvm_paging_state){ .cr0 = X86_CR0_PE };
		break;
	case MODE_32:
		build_32(ps);
		break;
	case MODE_PAE:
		build_pae(ps);
		break;
	case MODE_LONG:
		build_long(ps);
		break;
	}
	return 0;
}

/* Patch one entry: clear then set bits. */
struct tweak {
	gpa_t gpa;
	u64 clear, set;
};

struct walk_case {
	const char *name;
	enum walk_mode mode;
	struct tweak tweaks[3];
	u64 cr0_clear, cr4_clear, efer_clear;
	gva_t gva;
	u32 access;
	bool fault;
	gpa_t gpa;		/* when !fault */
	u16 error_code;		/* when fault */
};

#define NP(gpa)		{ (gpa), P, 0 }
#define SET(gpa, bits)	{ (gpa), 0, (bits) }
#define CLR(gpa, bits)	{ (gpa), (bits), 0 }

#define OK(va, pa)		.gva = (va), .gpa = (pa)
#define PF(va, ec)		.gva = (va), .fault = true, .error_code = (ec)

static const struct walk_case walk_cases[] = {
	/* paging off: identity, no tables consulted */
	{ "mmu_off_identity", MODE_OFF, .access = EC_W | EC_U,
	  OK(0x12345678, 0x12345678) },
	{ "mmu_off_no_memslot_needed", MODE_OFF, OK(0xfffff123, 0xfffff123) },

	/* 32-bit 2-level paging */
	{ "mmu_32_4k", MODE_32, OK(0x1234, 0x10234) },
	{ "mmu_32_4m_pse", MODE_32, OK(0x4abcde, 0x8abcde) },
	{ "mmu_32_4m_pse36_high_bits", MODE_32, OK(0x812345, 0x500c12345ULL) },
	{ "mmu_32_4m_pat_not_address", MODE_32, OK(0xc01234, 0x1234) },
	{ "mmu_32_ps_ignored_without_pse", MODE_32, .cr4_clear = X86_CR4_PSE,
	  OK(0xc01234, 0x800234) },
	{ "mmu_32_gva_low_32_bits_only", MODE_32,
	  OK(0xdead00001234ULL, 0x10234) },
	{ "mmu_32_4m_bit21_reserved", MODE_32,
	  { SET(PTE32(L32_PD, 1), BIT(21)) }, PF(0x400000, EC_P | EC_RSVD) },
	{ "mmu_32_pde_not_present_user_write", MODE_32,
	  { NP(PTE32(L32_PD, 0)) }, .access = EC_W | EC_U,
	  PF(0x1000, EC_W | EC_U) },
	{ "mmu_32_pte_not_present_read", MODE_32,
	  { NP(PTE32(L32_PT, 1)) }, PF(0x1000, 0) },
	{ "mmu_32_user_write_ro", MODE_32, { CLR(PTE32(L32_PT, 1), W) },
	  .access = EC_W | EC_U, PF(0x1000, EC_P | EC_W | EC_U) },
	{ "mmu_32_us_violation_in_pde", MODE_32, { CLR(PTE32(L32_PD, 0), U) },
	  .access = EC_U, PF(0x1000, EC_P | EC_U) },
	/* no XD in 32-bit paging, so no I/D even with EFER.NXE */
	{ "mmu_32_fetch_no_id_bit", MODE_32, { NP(PTE32(L32_PT, 1)) },
	  .access = EC_ID, PF(0x1000, 0) },

	/* PAE paging */
	{ "mmu_pae_4k", MODE_PAE, OK(0x1234, 0x10234) },
	{ "mmu_pae_2m", MODE_PAE, OK(0x212345, 0x612345) },
	{ "mmu_pae_pdpte3_cr3_bits_31_5", MODE_PAE,
	  OK(0xc0002abc, 0x11abc) },
	{ "mmu_pae_pdpte_not_present_write", MODE_PAE, .access = EC_W,
	  PF(0x40001000, EC_W) },
	{ "mmu_pae_pdpte_rw_reserved", MODE_PAE,
	  { SET(PTE64(PAE_PDPT, 0), W) }, PF(0x1000, EC_P | EC_RSVD) },
	{ "mmu_pae_pdpte_nx_reserved", MODE_PAE,
	  { SET(PTE64(PAE_PDPT, 0), NX) }, PF(0x1000, EC_P | EC_RSVD) },
	{ "mmu_pae_pte_bit62_reserved", MODE_PAE,
	  { SET(PTE64(PT64, 1), BIT(62)) }, PF(0x1000, EC_P | EC_RSVD) },
	{ "mmu_pae_2m_bit13_reserved", MODE_PAE,
	  { SET(PTE64(PD64, 1), BIT(13)) }, PF(0x200000, EC_P | EC_RSVD) },
	{ "mmu_pae_nx_fetch", MODE_PAE, { SET(PTE64(PT64, 1), NX) },
	  .access = EC_ID, PF(0x1000, EC_P | EC_ID) },
	{ "mmu_pae_nx_reserved_without_nxe", MODE_PAE,
	  { SET(PTE64(PT64, 1), NX) }, .efer_clear = EFER_NX,
	  PF(0x1000, EC_P | EC_RSVD) },

	/* 4-level paging: translations */
	{ "mmu_long_4k", MODE_LONG, OK(0x1234, 0x10234) },
	{ "mmu_long_2m", MODE_LONG, OK(0x212345, 0x612345) },
	{ "mmu_long_2m_pat_not_address", MODE_LONG,
	  { SET(PTE64(PD64, 1), BIT(12)) }, OK(0x212345, 0x612345) },
	{ "mmu_long_1g", MODE_LONG, OK(0x52345678, 0x92345678) },
	{ "mmu_long_upper_half", MODE_LONG,
	  OK(0xffff800000001234ULL, 0x10234) },
	{ "mmu_long_noncanonical_aliases_slot_256", MODE_LONG,
	  OK(0x0000800000001234ULL, 0x10234) },
	{ "mmu_long_ignored_high_bits", MODE_LONG,
	  { SET(PTE64(PT64, 1), BIT(62) | BIT(52) | BIT(9)) },
	  OK(0x1234, 0x10234) },

	/* 4-level paging: not present at each level */
	{ "mmu_long_pml4e_not_present_read", MODE_LONG,
	  { NP(PTE64(LM_PML4, 0)) }, PF(0x1000, 0) },
	{ "mmu_long_pdpte_not_present_write", MODE_LONG,
	  { NP(PTE64(LM_PDPT, 0)) }, .access = EC_W, PF(0x1000, EC_W) },
	{ "mmu_long_pde_not_present_user", MODE_LONG,
	  { NP(PTE64(PD64, 0)) }, .access = EC_U, PF(0x1000, EC_U) },
	{ "mmu_long_pte_not_present_user_write", MODE_LONG,
	  { NP(PTE64(PT64, 1)) }, .access = EC_W | EC_U,
	  PF(0x1000, EC_W | EC_U) },
	{ "mmu_long_pte_not_present_fetch", MODE_LONG,
	  { NP(PTE64(PT64, 1)) }, .access = EC_ID, PF(0x1000, EC_ID) },
	{ "mmu_long_fetch_without_nxe_no_id", MODE_LONG,
	  { NP(PTE64(PT64, 1)) }, .efer_clear = EFER_NX, .access = EC_ID,
	  PF(0x1000, 0) },
	{ "mmu_long_table_without_memslot", MODE_LONG,
	  { { PTE64(PD64, 0), ~0ULL, 0x300000 | PWU } }, .access = EC_W,
	  PF(0x1000, EC_W) },

	/* 4-level paging: permissions */
	{ "mmu_long_us_violation", MODE_LONG, { CLR(PTE64(PD64, 0), U) },
	  .access = EC_U, PF(0x1000, EC_P | EC_U) },
	{ "mmu_long_supervisor_reads_user_page", MODE_LONG,
	  OK(0x1234, 0x10234) },
	{ "mmu_long_user_read_ro", MODE_LONG, { CLR(PTE64(PT64, 1), W) },
	  .access = EC_U, OK(0x1234, 0x10234) },
	{ "mmu_long_user_write_ro", MODE_LONG, { CLR(PTE64(PT64, 1), W) },
	  .access = EC_W | EC_U, PF(0x1000, EC_P | EC_W | EC_U) },
	{ "mmu_long_sup_write_ro_wp0", MODE_LONG, { CLR(PTE64(PT64, 1), W) },
	  .cr0_clear = X86_CR0_WP, .access = EC_W, OK(0x1234, 0x10234) },
	{ "mmu_long_sup_write_ro_wp1", MODE_LONG, { CLR(PTE64(PT64, 1), W) },
	  .access = EC_W, PF(0x1000, EC_P | EC_W) },
	{ "mmu_long_sup_write_ro_pdpte_wp1", MODE_LONG,
	  { CLR(PTE64(LM_PDPT, 0), W) }, .access = EC_W,
	  PF(0x1000, EC_P | EC_W) },
	{ "mmu_long_user_write_ro_1g", MODE_LONG,
	  { CLR(PTE64(LM_PDPT, 1), W) }, .access = EC_W | EC_U,
	  PF(0x40000000, EC_P | EC_W | EC_U) },
	{ "mmu_long_nx_fetch", MODE_LONG, { SET(PTE64(PT64, 1), NX) },
	  .access = EC_ID, PF(0x1000, EC_P | EC_ID) },
	{ "mmu_long_nx_in_pml4e_user_fetch", MODE_LONG,
	  { SET(PTE64(LM_PML4, 0), NX) }, .access = EC_ID | EC_U,
	  PF(0x1000, EC_P | EC_U | EC_ID) },
	{ "mmu_long_nx_read_allowed", MODE_LONG, { SET(PTE64(PT64, 1), NX) },
	  OK(0x1234, 0x10234) },

	/* 4-level paging: reserved bits */
	{ "mmu_long_nx_reserved_without_nxe", MODE_LONG,
	  { SET(PTE64(PT64, 1), NX) }, .efer_clear = EFER_NX,
	  PF(0x1000, EC_P | EC_RSVD) },
	{ "mmu_long_nx_reserved_without_nxe_fetch", MODE_LONG,
	  { SET(PTE64(PT64, 1), NX) }, .efer_clear = EFER_NX,
	  .access = EC_ID, PF(0x1000, EC_P | EC_RSVD) },
	{ "mmu_long_pte_maxphyaddr_reserved", MODE_LONG,
	  { SET(PTE64(PT64, 1), BIT(MODEL_MAXPHYADDR)) },
	  PF(0x1000, EC_P | EC_RSVD) },
	{ "mmu_long_pde_bit51_reserved_write", MODE_LONG,
	  { SET(PTE64(PD64, 0), BIT(51)) }, .access = EC_W,
	  PF(0x1000, EC_P | EC_W | EC_RSVD) },
	{ "mmu_long_pml4e_ps_reserved", MODE_LONG,
	  { SET(PTE64(LM_PML4, 0), PS) }, PF(0x1000, EC_P | EC_RSVD) },
	{ "mmu_long_1g_bit29_reserved", MODE_LONG,
	  { SET(PTE64(LM_PDPT, 1), BIT(29)) }, PF(0x40000000, EC_P | EC_RSVD) },
	{ "mmu_long_1g_bit13_reserved", MODE_LONG,
	  { SET(PTE64(LM_PDPT, 1), BIT(13)) }, PF(0x40000000, EC_P | EC_RSVD) },
	{ "mmu_long_2m_bit20_reserved", MODE_LONG,
	  { SET(PTE64(PD64, 1), BIT(20)) }, PF(0x200000, EC_P | EC_RSVD) },

	/* priorities: a failed walk wins over permissions of upper levels */
	{ "mmu_long_reserved_beats_us", MODE_LONG,
	  { CLR(PTE64(PD64, 0), U), SET(PTE64(PT64, 1), BIT(47)) },
	  .access = EC_U, PF(0x1000, EC_P | EC_U | EC_RSVD) },
	{ "mmu_long_not_present_beats_us", MODE_LONG,
	  { CLR(PTE64(PD64, 0), U), NP(PTE64(PT64, 1)) },
	  .access = EC_U, PF(0x1000, EC_U) },
	{ "mmu_long_fault_address_is_gva", MODE_LONG,
	  { NP(PTE64(PT64, 1)) }, PF(0xffff800000001ff8ULL, 0) },
};

static void apply_case(const struct walk_case *c, struct kvm_paging_state *ps)
{
	unsigned int size = entry_size(c->mode), i;

	for (i = 0; i < ARRAY_SIZE(c->tweaks); i++) {
		const struct tweak *tw = &c->tweaks[i];

		if (!tw->clear && !tw->set)
			continue;
		put_entry(tw->gpa, (get_entry(tw->gpa, size) & ~tw->clear) |
			  tw->set, size);
	}
	ps->cr0 &= ~c->cr0_clear;
	ps->cr4 &= ~c->cr4_clear;
	ps->efer &= ~c->efer_clear;
}

static void run_walk_case(struct test_ctx *t, const void *arg)
{
	const struct walk_case *c = arg;
	struct x86_exception fault = { 0 };
	struct kvm_paging_state ps;
	gpa_t gpa = ~0ULL;
	int r;

	TEST_ASSERT_EQ(mmu_setup(c->mode, &ps), 0, "memslot setup");
	apply_case(c, &ps);
	r = kvm_mmu_gva_to_gpa(&mmu_kvm, &ps, c->gva, c->access, &gpa,
			       &fault);
	if (!c->fault) {
		TEST_ASSERT_EQ(r, 0, "walk return value");
		TEST_ASSERT_EQ(gpa, c->gpa, "translated gpa");
		return;
	}
	TEST_ASSERT_EQ(r, -EFAULT, "walk return value on fault");
	TEST_ASSERT_EQ(fault.vector, PF_VECTOR, "fault vector");
	TEST_ASSERT_EQ(fault.error_code_valid, true, "error_code_valid");
	TEST_ASSERT_EQ(fault.error_code, c->error_code, "#PF error code");
	TEST_ASSERT_EQ(fault.address, c->gva, "#PF address (CR2) equals gva");
}

TEST_ROWS(walk_cases, run_walk_case);

/* Walk for the A/D tests, which only look at the return value. */
static int walk(const struct kvm_paging_state *ps, gva_t gva, u32 access,
		gpa_t *gpa)
{
	struct x86_exception fault;

	return kvm_mmu_gva_to_gpa(&mmu_kvm, ps, gva, access, gpa, &fault);
}

/* A paging entry's wanted value after a walk. */
struct entry_want {
	gpa_t addr;
	unsigned int size;
	u64 val;
	const char *what;
};

static void check_entries(struct test_ctx *t, const struct entry_want *w, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		TEST_ASSERT_EQ(get_entry(w[i].addr, w[i].size), w[i].val, w[i].what);
}

/* In a fresh @mode layout, a walk of @gva for @access that succeeds, then @w. */
static void walk_and_check(struct test_ctx *t, enum walk_mode mode, gva_t gva, u32 access,
			   const struct entry_want *w, unsigned int n)
{
	struct kvm_paging_state ps;
	gpa_t gpa;

	TEST_ASSERT_EQ(mmu_setup(mode, &ps), 0, "memslot setup");
	TEST_ASSERT_EQ(walk(&ps, gva, access, &gpa), 0,
		       access & PFERR_WRITE_MASK ? "write walk" : "read walk");
	check_entries(t, w, n);
}

/* A/D bits after a supervisor write to a 4 KiB page in long mode. */
TEST(mmu_long_write_sets_accessed_and_dirty)
{
	static const struct entry_want w[] = {
		{ PTE64(LM_PML4, 0), 8, LM_PDPT | PWU | PT_ACCESSED, "PML4E gets A only" },
		{ PTE64(LM_PDPT, 0), 8, PD64 | PWU | PT_ACCESSED, "PDPTE gets A only" },
		{ PTE64(PD64, 0), 8, PT64 | PWU | PT_ACCESSED, "PDE gets A only" },
		{ PTE64(PT64, 1), 8, 0x10000 | PWU | PT_ACCESSED | PT_DIRTY, "PTE gets A and D" },
		{ PTE64(PT64, 2), 8, 0x11000 | PWU, "untouched neighbour PTE" },
	};

	walk_and_check(t, MODE_LONG, 0x1008, PFERR_WRITE_MASK, w, ARRAY_SIZE(w));
}

TEST(mmu_long_read_sets_accessed_not_dirty)
{
	static const struct entry_want w[] = {
		{ PTE64(PT64, 1), 8, 0x10000 | PWU | PT_ACCESSED, "PTE after read: A, no D" },
	};

	walk_and_check(t, MODE_LONG, 0x1008, 0, w, ARRAY_SIZE(w));
}

TEST(mmu_long_2m_write_dirties_pde_leaf)
{
	static const struct entry_want w[] = {
		{ PTE64(LM_PDPT, 0), 8, PD64 | PWU | PT_ACCESSED, "PDPTE gets A only" },
		{ PTE64(PD64, 1), 8, 0x600000 | PS | PWU | PT_ACCESSED | PT_DIRTY,
		  "2 MiB PDE leaf gets A and D" },
	};

	walk_and_check(t, MODE_LONG, 0x200000, PFERR_WRITE_MASK, w, ARRAY_SIZE(w));
}

/* The WP=0 supervisor write to a read-only page is still a write. */
TEST(mmu_long_wp0_write_ro_sets_dirty)
{
	static const struct entry_want w[] = {
		{ PTE64(PT64, 1), 8, 0x10000 | P | U | PT_ACCESSED | PT_DIRTY,
		  "read-only PTE gets A and D" },
	};
	struct kvm_paging_state ps;
	gpa_t gpa;

	TEST_ASSERT_EQ(mmu_setup(MODE_LONG, &ps), 0, "memslot setup");
	ps.cr0 &= ~X86_CR0_WP;
	put_entry(PTE64(PT64, 1), 0x10000 | P | U, 8);
	TEST_ASSERT_EQ(walk(&ps, 0x1000, PFERR_WRITE_MASK, &gpa), 0,
		       "write walk");
	check_entries(t, w, ARRAY_SIZE(w));
}

TEST(mmu_failed_walk_leaves_ad_clear)
{
	static const struct entry_want w[] = {
		{ PTE64(LM_PML4, 0), 8, LM_PDPT | PWU, "PML4E unchanged after fault" },
		{ PTE64(PT64, 1), 8, 0x10000 | P | W, "PTE unchanged after fault" },
	};
	struct kvm_paging_state ps;
	gpa_t gpa;

	TEST_ASSERT_EQ(mmu_setup(MODE_LONG, &ps), 0, "memslot setup");
	put_entry(PTE64(PT64, 1), 0x10000 | P | W, 8);
	TEST_ASSERT_EQ(walk(&ps, 0x1000, PFERR_USER_MASK, &gpa), -EFAULT,
		       "user walk faults");
	check_entries(t, w, ARRAY_SIZE(w));
}

/* 4-byte entries: setting A/D must not spill into the next entry. */
TEST(mmu_32_write_sets_ad_in_4_byte_entries)
{
	static const struct entry_want w[] = {
		{ PTE32(L32_PD, 0), 4, L32_PT | PWU | PT_ACCESSED, "PDE gets A only" },
		{ PTE32(L32_PT, 1), 4, 0x10000 | PWU | PT_ACCESSED | PT_DIRTY, "PTE gets A and D" },
		{ PTE32(L32_PD, 1), 4, 0x800000 | PS | PWU, "next PDE untouched" },
		{ PTE32(L32_PT, 2), 4, 0, "next PTE untouched" },
	};

	walk_and_check(t, MODE_32, 0x1000, PFERR_WRITE_MASK, w, ARRAY_SIZE(w));
}

/* PAE PDPTEs have no Accessed bit: only PDE and PTE are updated. */
TEST(mmu_pae_pdpte_not_updated)
{
	static const struct entry_want w[] = {
		{ PTE64(PAE_PDPT, 0), 8, PD64 | P, "PDPTE unchanged" },
		{ PTE64(PD64, 0), 8, PT64 | PWU | PT_ACCESSED, "PDE gets A" },
		{ PTE64(PT64, 1), 8, 0x10000 | PWU | PT_ACCESSED | PT_DIRTY, "PTE gets A and D" },
	};

	walk_and_check(t, MODE_PAE, 0x1000, PFERR_WRITE_MASK, w, ARRAY_SIZE(w));
}

/* Tables in a read-only slot: the walk succeeds, A/D are simply lost. */
TEST(mmu_tables_in_readonly_slot)
{
	struct kvm_paging_state ps;
	gpa_t gpa = 0;

	TEST_ASSERT_EQ(mmu_setup(MODE_LONG, &ps), 0, "memslot setup");
	ps.cr3 = ROM_BASE;
	put_entry(ROM_BASE, (ROM_BASE + 0x1000) | PWU, 8);
	put_entry(ROM_BASE + 0x1000, (ROM_BASE + 0x2000) | PWU, 8);
	put_entry(ROM_BASE + 0x2000, (ROM_BASE + 0x3000) | PWU, 8);
	put_entry(ROM_BASE + 0x3000 + 8, 0x10000 | PWU | PT_ACCESSED, 8);
	TEST_ASSERT_EQ(walk(&ps, 0x1abc, PFERR_WRITE_MASK, &gpa), 0,
		       "write walk");
	TEST_ASSERT_EQ(gpa, 0x10abc, "translated gpa");
	TEST_ASSERT_EQ(get_entry(ROM_BASE, 8), (ROM_BASE + 0x1000) | PWU,
		       "read-only PML4E keeps A clear");
	TEST_ASSERT_EQ(get_entry(ROM_BASE + 0x3000 + 8, 8),
		       0x10000 | PWU | PT_ACCESSED,
		       "read-only PTE keeps D clear");
}

/* Paging off must not touch memory or the fault record. */
TEST(mmu_paging_off_leaves_fault_alone)
{
	struct x86_exception fault = { .vector = 0xff };
	struct kvm_paging_state ps;
	gpa_t gpa = 0;

	TEST_ASSERT_EQ(mmu_setup(MODE_OFF, &ps), 0, "memslot setup");
	TEST_ASSERT_EQ(kvm_mmu_gva_to_gpa(&mmu_kvm, &ps, 0x123456789aULL,
					  PFERR_FETCH_MASK, &gpa, &fault), 0,
		       "walk with paging off");
	TEST_ASSERT_EQ(gpa, 0x123456789aULL, "gpa equals gva");
	TEST_ASSERT_EQ(fault.vector, 0xff, "fault record untouched");
}
