/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The vCPU side of the model: architectural state, the MMIO exchange state
 * of struct kvm_vcpu (spec 1.3), the kvm_run MMIO block (1.4), the MMIO
 * info cache (3.1), the in-kernel LAPIC, and what the model observed (trace,
 * WARNs, bugs).
 */
#ifndef FRAGFUZZ_VCPU_H
#define FRAGFUZZ_VCPU_H

#include "kvm.h"
#include "mmu.h"
#include "profile.h"
#include "trace.h"

#define KVM_MAX_MMIO_FRAGMENTS	2

/* struct kvm_mmio_fragment (spec 1.1); val exists from 0b16e69d17d8 on */
struct kvm_mmio_fragment {
	gpa_t gpa;
	void *data;
	u64 val;
	unsigned int len;
};

/* uapi exit reasons the model produces (same values as linux/kvm.h) */
#define KVM_EXIT_UNKNOWN		0
#define KVM_EXIT_HLT			5
#define KVM_EXIT_MMIO			6
#define KVM_EXIT_SHUTDOWN		8
#define KVM_EXIT_INTR			10
#define KVM_EXIT_INTERNAL_ERROR		17
#define KVM_INTERNAL_ERROR_EMULATION	1

struct kvm_run {
	u32 exit_reason;
	u32 internal_suberror;
	struct {
		u64 phys_addr;
		u8 data[8];
		u32 len;
		u8 is_write;
	} mmio;
};

enum vcpu_reg {
	VCPU_REGS_RAX, VCPU_REGS_RCX, VCPU_REGS_RDX, VCPU_REGS_RBX,
	VCPU_REGS_RSP, VCPU_REGS_RBP, VCPU_REGS_RSI, VCPU_REGS_RDI,
	VCPU_REGS_R8, VCPU_REGS_R9, VCPU_REGS_R10, VCPU_REGS_R11,
	VCPU_REGS_R12, VCPU_REGS_R13, VCPU_REGS_R14, VCPU_REGS_R15,
	NR_VCPU_REGS
};

#define X86_EFLAGS_CF	BIT(0)
#define X86_EFLAGS_PF	BIT(2)
#define X86_EFLAGS_AF	BIT(4)
#define X86_EFLAGS_ZF	BIT(6)
#define X86_EFLAGS_SF	BIT(7)
#define X86_EFLAGS_TF	BIT(8)
#define X86_EFLAGS_DF	BIT(10)
#define X86_EFLAGS_OF	BIT(11)
#define X86_EFLAGS_RF	BIT(16)
#define X86_EFLAGS_VM	BIT(17)
#define X86_EFLAGS_AC	BIT(18)
#define X86_EFLAGS_FIXED BIT(1)

enum vcpu_seg { VCPU_SREG_ES, VCPU_SREG_CS, VCPU_SREG_SS, VCPU_SREG_DS,
		VCPU_SREG_FS, VCPU_SREG_GS, NR_VCPU_SREGS };

struct kvm_segment {
	u64 base;
	u32 limit;		/* byte granular, already scaled by G */
	u16 selector;
	u8 type;		/* descriptor type; bit 2 = expand-down for data */
	u8 dpl;
	bool present, s, db, l, unusable;
};

/*
 * The GDT.  The model keeps the descriptors themselves rather than a base
 * in guest memory: descriptor tables are read and written through the std
 * path, never MMIO (spec 7.1), so only their contents matter.  Entries
 * past KVM_MODEL_GDT_ENTRIES read as zero.  There is no LDT (LDTR is
 * unusable): a selector with TI set sees an empty table.
 */
#define KVM_MODEL_GDT_ENTRIES	16

struct kvm_gdt {
	u16 limit;		/* as GDTR.limit: size in bytes - 1; 0: empty */
	u64 desc[KVM_MODEL_GDT_ENTRIES];
};

struct kvm_sregs {
	struct kvm_segment seg[NR_VCPU_SREGS];
	u64 cr0, cr2, cr3, cr4, efer;
	struct kvm_gdt gdt;
};

struct kvm_lapic {
	u64 base_address;
	bool hw_enabled;
	u32 regs[256];		/* one per 16-byte register slot */
};

/* WARN sites the model can hit, each named after the kernel function. */
enum kvm_model_warn {
	WARN_RUN_MMIO_NEEDED		= BIT(0), /* kvm_arch_vcpu_ioctl_run: stale mmio_needed */
	WARN_EXCEPTION_WITH_MMIO_READ	= BIT(1), /* x86_emulate_instruction (v6.3+) */
	WARN_ONEPAGE_TOO_MANY_FRAGMENTS	= BIT(2), /* emulator_read_write_onepage */
	WARN_RW_BUFFER_ON_STACK		= BIT(3), /* emulator_read_write (0b16e69d17d8) */
	WARN_PREPARE_EXIT_STATE		= BIT(4), /* kvm_prepare_emulated_mmio_exit (7.1) */
	WARN_COMPLETE_SCRATCH_LONG	= BIT(5), /* complete_emulated_mmio (7.1) */
	WARN_READ_CACHE_OVERFLOW	= BIT(6), /* read_emulated: end + size >= 1024 */
};

/*
 * Port I/O (spec 7.5).  The model has no KVM_EXIT_IO: every port is
 * answered inside KVM_RUN.  Ports KVM_PIO_DEV_BASE .. + KVM_PIO_DEV_LEN - 1
 * belong to a small in-kernel device; any other port stands for one that
 * real KVM hands to userspace, answered here as a VMM would (the call is
 * counted and logged as "userspace").  Reads return a counting pattern:
 * the k-th byte read since the vCPU was created is (u8)(port + k).
 */
#define KVM_PIO_DEV_BASE	0x80
#define KVM_PIO_DEV_LEN		16
#define KVM_PIO_LOG_MAX		32

struct kvm_pio_call {
	u16 port;
	u8 size;		/* element size, 1/2/4 */
	bool in;
	bool userspace;		/* no in-kernel device: KVM_EXIT_IO on real KVM */
	u32 count;		/* elements in this call (the read-ahead batch) */
	u8 data[4];		/* first element */
};

struct kvm_pio_log {
	struct kvm_pio_call c[KVM_PIO_LOG_MAX];
	unsigned int nr;
	unsigned int lost;
	u64 in_elems, out_elems;	/* elements moved through the port */
	u64 userspace_calls;		/* calls that would be KVM_EXIT_IO */
};

struct x86_emulate_ctxt;
struct kvm_vcpu;

/*
 * Observation only, not part of the modelled kernel: every call the
 * emulator makes into x86.c's memory callbacks (read_emulated,
 * write_emulated, cmpxchg_emulated), with its result.  The oracle predicts
 * the traces and exits of each access from these and the page layout.
 */
#define EMUL_ACCESS_DATA	16
#define EMUL_ACCESS_MAX		64

struct emul_access {
	u32 invocation;		/* x86_emulate_instruction() call it came from */
	u64 la;			/* linear address */
	u32 bytes;
	bool write;
	bool cmpxchg;
	bool completion;	/* read finished through mmio_read_completed */
	bool native;		/* the CPU's first access that faulted (ops->native_access) */
	u8 result;		/* X86EMUL_* */
	u8 data[EMUL_ACCESS_DATA];	/* written, or delivered (first bytes) */
};

struct emul_access_log {
	struct emul_access a[EMUL_ACCESS_MAX];
	unsigned int nr;
	unsigned int lost;
	u32 exception_invocation;	/* invocation that queued an exception, 0: none */
	u32 failure_invocation;		/* invocation that failed emulation, 0: none */
};

/*
 * What plays the guest CPU between KVM_RUN entries: at each guest entry
 * the model asks whether the instruction under test would fault into KVM
 * again (and with which GPA for the TDP shortcut of spec 3.1).
 */
struct kvm_guest_ops {
	/* Fill the emulator's decode for the instruction at the current RIP. */
	int (*decode)(struct x86_emulate_ctxt *ctxt, void *priv);
	/* TDP only: GPA hardware reports for the emulation-causing fault. */
	bool (*fault_gpa)(struct kvm_vcpu *vcpu, void *priv, gpa_t *gpa);
};

struct kvm_vcpu {
	struct kvm *kvm;
	const struct kvm_profile *profile;
	struct kvm_host_config host;
	struct kvm_run *run;

	/* architectural state, as KVM_GET/SET_(S)REGS see it */
	u64 regs[NR_VCPU_REGS];
	u64 rip, rflags;
	struct kvm_sregs sregs;
	u8 cpl;
	u8 xmm[16][16];

	/* MMIO exchange (spec 1.3) */
	int mmio_needed;
	int mmio_read_completed;
	int mmio_is_write;
	int mmio_cur_fragment;
	int mmio_nr_fragments;
	/* heap array of exactly KVM_MAX_MMIO_FRAGMENTS: overruns are real */
	struct kvm_mmio_fragment *mmio_fragments;

	/* MMIO info cache (vcpu_cache_mmio_info, spec 3.1) */
	u64 mmio_gva;
	u64 mmio_gfn;
	u32 mmio_access;
	u64 mmio_gen;

	int (*complete_userspace_io)(struct kvm_vcpu *vcpu);
	struct x86_emulate_ctxt *emulate_ctxt;
	bool emulate_regs_need_sync_to_vcpu;
	bool emulate_regs_need_sync_from_vcpu;

	/* exception queued by the emulator, and what the guest received */
	bool exception_pending;
	struct x86_exception exception;
	bool exception_delivered;
	struct x86_exception delivered;

	struct kvm_lapic lapic;
	u64 pio_read_bytes;	/* port device state: bytes read so far */
	struct kvm_pio_log pio;	/* observation: port I/O calls */
	bool pio_out_exit;	/* this pass wrote a userspace port (KVM_EXIT_IO) */

	/* guest under test */
	const struct kvm_guest_ops *guest;
	void *guest_priv;
	u64 insn_rip;
	u64 insn_cs_base;	/* with insn_rip: where the instruction is */
	unsigned int entry_budget;	/* guest entries per case */
	/*
	 * x86_emulate_insn() passes per case, a fragfuzz limit KVM lacks: a
	 * rep string over RAM restarts in the kernel up to 1024 times per
	 * entry, so entry_budget alone lets a case loop a million times.
	 */
	unsigned int pass_budget;

	/* observations */
	u64 stat_mmio_exits;
	u64 stat_insn_emulation;
	u64 guest_entries;
	u64 passes;		/* x86_emulate_insn() calls, for pass_budget */
	u32 warnings;		/* enum kvm_model_warn */
	bool vm_bugged;		/* KVM_BUG_ON hit: KVM_RUN returns -EIO */
	bool host_bug;		/* BUG_ON hit: the host would have crashed */
	struct kvm_mmio_trace trace;
	struct emul_access_log *access_log;	/* NULL: not recorded */
	u32 invocations;			/* x86_emulate_instruction() calls */

	/* frame of the current KVM_RUN, for object_is_on_stack() */
	uintptr_t stack_hi;
};

int kvm_vcpu_create(struct kvm_vcpu *vcpu, struct kvm *kvm,
		    const struct kvm_profile *profile,
		    const struct kvm_host_config *host);
void kvm_vcpu_destroy(struct kvm_vcpu *vcpu);
/*
 * Make a created @vcpu what kvm_vcpu_create() makes, keeping its
 * allocations (kvm_run, the 2-entry fragment array, the emulator context):
 * a fresh vCPU per case without an allocator round trip per case.
 */
void kvm_vcpu_reset(struct kvm_vcpu *vcpu, struct kvm *kvm,
		    const struct kvm_profile *profile,
		    const struct kvm_host_config *host);
/* Reset exchange state, trace and observations for a new case. */
void kvm_vcpu_reset_observations(struct kvm_vcpu *vcpu);

/* KVM_RUN.  Returns 0 with run->exit_reason set, or -EIO/-EFAULT. */
int kvm_arch_vcpu_ioctl_run(struct kvm_vcpu *vcpu);
/* KVM_SET_REGS: also tells the emulator its register cache is stale. */
void kvm_vcpu_set_regs(struct kvm_vcpu *vcpu, const u64 *regs, u64 rip, u64 rflags);
/*
 * Userspace reads the GPRs (KVM_GET_REGS, or the kvm_run register sync
 * KVM_CAP_SYNC_REGS does at every exit): __get_regs() first writes the
 * emulator's register cache back when an emulation is in flight.
 */
void kvm_vcpu_get_regs(struct kvm_vcpu *vcpu);

/* x86.c entry points (named after the kernel functions they model) */
int x86_emulate_instruction(struct kvm_vcpu *vcpu, gpa_t cr2_or_gpa, int emulation_type);
int complete_emulated_mmio(struct kvm_vcpu *vcpu);
bool vcpu_is_mmio_gpa(struct kvm_vcpu *vcpu, gva_t gva, gpa_t gpa, bool write);
void vcpu_cache_mmio_info(struct kvm_vcpu *vcpu, gva_t gva, gfn_t gfn, u32 access);
void kvm_lapic_reset(struct kvm_lapic *apic);
int kvm_lapic_mmio_read(struct kvm_lapic *apic, gpa_t addr, int len, void *val);
int kvm_lapic_mmio_write(struct kvm_lapic *apic, gpa_t addr, int len, const void *val);

#define EMULTYPE_NO_DECODE	BIT(0)
#define EMULTYPE_PF		BIT(1)

/*
 * EFER.LMA as KVM's emulator sees it: also with paging on a host that
 * runs 32-bit paging as compatibility mode (kvm_host_config).
 */
static inline bool is_long_mode(const struct kvm_vcpu *vcpu)
{
	return (vcpu->sregs.efer & EFER_LMA) ||
	       (vcpu->host.compat_paging && (vcpu->sregs.cr0 & X86_CR0_PG));
}

#endif
