// SPDX-License-Identifier: GPL-2.0-only
/*
 * The x86.c side of the model: the emulator's memory callbacks
 * (emulator_read_write and friends, spec sections 2, 3, 6), MMIO completion
 * (section 5), x86_emulate_instruction's outcome order (5.3) and KVM_RUN.
 *
 * Function names are the kernel's; each models the kernel function of the
 * same name as the spec describes it, for the switches of vcpu->profile.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "emulate.h"
#include "onstack.h"

struct read_write_emulator_ops {
	int (*read_write_emulate)(struct kvm_vcpu *vcpu, gpa_t gpa, void *val, int bytes);
	int (*read_write_mmio)(struct kvm_vcpu *vcpu, gpa_t gpa, int bytes, void *val);
	bool write;
};

static inline struct kvm_vcpu *emul_to_vcpu(struct x86_emulate_ctxt *ctxt)
{
	return ctxt->vcpu;
}

static void kvm_trace_mmio(struct kvm_vcpu *vcpu, int type, u32 len, u64 gpa,
			   const void *val)
{
	trace_kvm_mmio(&vcpu->trace, vcpu->profile, type, len, gpa, val);
}

/* ---- MMIO info cache and GPA classification (spec 3.1) ---- */

void vcpu_cache_mmio_info(struct kvm_vcpu *vcpu, gva_t gva, gfn_t gfn, u32 access)
{
	/* with TDP only the GFN half is usable */
	vcpu->mmio_gva = vcpu->host.tdp ? 0 : gva & PAGE_MASK;
	vcpu->mmio_gfn = gfn;
	vcpu->mmio_access = access;
	vcpu->mmio_gen = vcpu->kvm->memslots_generation;
}

static bool vcpu_mmio_gen_ok(const struct kvm_vcpu *vcpu)
{
	return vcpu->mmio_gen == vcpu->kvm->memslots_generation;
}

static bool vcpu_match_mmio_gva(const struct kvm_vcpu *vcpu, gva_t gva)
{
	return vcpu_mmio_gen_ok(vcpu) && vcpu->mmio_gva &&
	       vcpu->mmio_gva == (gva & PAGE_MASK);
}

static bool vcpu_match_mmio_gpa(const struct kvm_vcpu *vcpu, gpa_t gpa)
{
	return vcpu_mmio_gen_ok(vcpu) && vcpu->mmio_gfn &&
	       vcpu->mmio_gfn == gpa >> PAGE_SHIFT;
}

bool vcpu_is_mmio_gpa(struct kvm_vcpu *vcpu, gva_t gva, gpa_t gpa, bool write)
{
	/* the APIC page is MMIO even when a memslot backs it */
	if ((gpa & PAGE_MASK) == APIC_DEFAULT_PHYS_BASE)
		return true;
	return vcpu_match_mmio_gpa(vcpu, gpa);
}

static struct kvm_paging_state vcpu_paging_state(const struct kvm_vcpu *vcpu)
{
	return (struct kvm_paging_state){
		.cr0 = vcpu->sregs.cr0,
		.cr3 = vcpu->sregs.cr3,
		.cr4 = vcpu->sregs.cr4,
		.efer = vcpu->sregs.efer,
		.compat = vcpu->host.compat_paging,
	};
}

/* permission_fault() against the access bits cached with the MMIO info */
static bool mmio_access_fault(const struct kvm_vcpu *vcpu, u32 access)
{
	bool user = access & PFERR_USER_MASK, write = access & PFERR_WRITE_MASK;

	if (user && !(vcpu->mmio_access & PT_USER))
		return true;
	if (write && !(vcpu->mmio_access & PT_WRITABLE) &&
	    (user || (vcpu->sregs.cr0 & X86_CR0_WP)))
		return true;
	return false;
}

/* Returns 1 for known MMIO, 0 for "try RAM first", -1 after a fault. */
static int vcpu_mmio_gva_to_gpa(struct kvm_vcpu *vcpu, unsigned long gva, gpa_t *gpa,
				struct x86_exception *exception, bool write)
{
	struct kvm_paging_state ps = vcpu_paging_state(vcpu);
	u32 access = (vcpu->cpl == 3 ? PFERR_USER_MASK : 0) |
		     (write ? PFERR_WRITE_MASK : 0);

	if (vcpu_match_mmio_gva(vcpu, gva) &&
	    (!is_paging(&ps) || !mmio_access_fault(vcpu, access))) {
		*gpa = (vcpu->mmio_gfn << PAGE_SHIFT) | offset_in_page(gva);
		return 1;
	}
	if (kvm_mmu_gva_to_gpa(vcpu->kvm, &ps, gva, access, gpa, exception))
		return -1;
	return vcpu_is_mmio_gpa(vcpu, gva, *gpa, write);
}

/* ---- in-kernel MMIO (spec 3.3) ---- */

static bool lapic_in_kernel(const struct kvm_vcpu *vcpu)
{
	return vcpu->host.irqchip_in_kernel;
}

/* Leading run of 8-byte chunks that an in-kernel device accepts. */
static int vcpu_mmio_write(struct kvm_vcpu *vcpu, gpa_t addr, int len, const void *v)
{
	const u8 *p = v;
	int handled = 0, n;

	do {
		n = min_t(int, len, 8);
		if (!(lapic_in_kernel(vcpu) &&
		      !kvm_lapic_mmio_write(&vcpu->lapic, addr, n, p)) &&
		    kvm_io_bus_write(vcpu->kvm, addr, n, p))
			break;
		handled += n;
		addr += n;
		len -= n;
		p += n;
	} while (len);
	return handled;
}

static int vcpu_mmio_read(struct kvm_vcpu *vcpu, gpa_t addr, int len, void *v)
{
	u8 *p = v;
	int handled = 0, n;

	do {
		n = min_t(int, len, 8);
		if (!(lapic_in_kernel(vcpu) &&
		      !kvm_lapic_mmio_read(&vcpu->lapic, addr, n, p)) &&
		    kvm_io_bus_read(vcpu->kvm, addr, n, p))
			break;
		kvm_trace_mmio(vcpu, KVM_TRACE_MMIO_READ, n, addr, p);	/* T1 */
		handled += n;
		addr += n;
		len -= n;
		p += n;
	} while (len);

	/* T3 moved here by 4f11fded5381: once per unsatisfied page piece */
	if (len && vcpu->profile->unsatisfied_read_per_page)
		kvm_trace_mmio(vcpu, KVM_TRACE_MMIO_READ_UNSATISFIED, len, addr, NULL);
	return handled;
}

static int read_emulate(struct kvm_vcpu *vcpu, gpa_t gpa, void *val, int bytes)
{
	return !kvm_vcpu_read_guest(vcpu->kvm, gpa, val, bytes);
}

static int write_emulate(struct kvm_vcpu *vcpu, gpa_t gpa, void *val, int bytes)
{
	return !kvm_vcpu_write_guest(vcpu->kvm, gpa, val, bytes);
}

static int read_mmio(struct kvm_vcpu *vcpu, gpa_t gpa, int bytes, void *val)
{
	return vcpu_mmio_read(vcpu, gpa, bytes, val);
}

/* T2: once per page piece that reaches the MMIO path, before devices */
static int write_mmio(struct kvm_vcpu *vcpu, gpa_t gpa, int bytes, void *val)
{
	kvm_trace_mmio(vcpu, KVM_TRACE_MMIO_WRITE, bytes, gpa, val);
	return vcpu_mmio_write(vcpu, gpa, bytes, val);
}

static const struct read_write_emulator_ops read_emultor = {
	.read_write_emulate = read_emulate,
	.read_write_mmio = read_mmio,
	.write = false,
};

static const struct read_write_emulator_ops write_emultor = {
	.read_write_emulate = write_emulate,
	.read_write_mmio = write_mmio,
	.write = true,
};

/* REP string ops and TwoMemOp instructions may not use the faulting GPA */
static bool emulator_can_use_gpa(const struct x86_emulate_ctxt *ctxt)
{
	if (ctxt->rep_prefix && (ctxt->d & String))
		return false;
	if (ctxt->d & TwoMemOp)
		return false;
	return true;
}

/* ---- fragments (spec 3) ---- */

static int emulator_read_write_onepage(unsigned long addr, void *val, unsigned int bytes,
				       struct x86_exception *exception,
				       struct kvm_vcpu *vcpu,
				       const struct read_write_emulator_ops *ops)
{
	struct x86_emulate_ctxt *ctxt = vcpu->emulate_ctxt;
	struct kvm_mmio_fragment *frag;
	bool write = ops->write;
	int handled, ret;
	gpa_t gpa;

	if (ctxt->gpa_available && emulator_can_use_gpa(ctxt) &&
	    offset_in_page(addr) == offset_in_page(ctxt->gpa_val)) {
		gpa = ctxt->gpa_val;
		ret = vcpu_is_mmio_gpa(vcpu, addr, gpa, write);
	} else {
		ret = vcpu_mmio_gva_to_gpa(vcpu, addr, &gpa, exception, write);
		if (ret < 0)
			return X86EMUL_PROPAGATE_FAULT;
	}

	/* RAM first unless known MMIO; any failure is treated as MMIO (3.2) */
	if (!ret && ops->read_write_emulate(vcpu, gpa, val, bytes))
		return X86EMUL_CONTINUE;

	handled = ops->read_write_mmio(vcpu, gpa, bytes, val);
	if ((unsigned int)handled == bytes)
		return X86EMUL_CONTINUE;

	gpa += handled;
	bytes -= handled;
	val = (u8 *)val + handled;

	if (vcpu->mmio_nr_fragments >= KVM_MAX_MMIO_FRAGMENTS)
		vcpu->warnings |= WARN_ONEPAGE_TOO_MANY_FRAGMENTS;	/* plain WARN, no bail */
	frag = &vcpu->mmio_fragments[vcpu->mmio_nr_fragments++];
	frag->gpa = gpa;
	frag->len = bytes;
	frag->data = val;
	if (write && bytes <= 8 && vcpu->profile->fragment_write_scratch) {
		/* 0b16e69d17d8: never keep a pointer to the caller's buffer */
		frag->val = 0;
		memcpy(&frag->val, val, bytes);
		frag->data = &frag->val;
	}
	return X86EMUL_CONTINUE;
}

/*
 * kvm_prepare_emulated_mmio_exit() of 7.1; older kernels open-code the
 * same assignments in emulator_read_write() and complete_emulated_mmio().
 */
static void prepare_emulated_mmio_exit(struct kvm_vcpu *vcpu, struct kvm_mmio_fragment *frag)
{
	struct kvm_run *run = vcpu->run;
	unsigned int len = min_t(unsigned int, 8, frag->len);

	if (vcpu->profile->prepare_exit_checks) {
		if (!vcpu->mmio_needed || !vcpu->mmio_nr_fragments)
			vcpu->warnings |= WARN_PREPARE_EXIT_STATE;
	}
	run->mmio.len = len;
	run->mmio.is_write = (u8)vcpu->mmio_is_write;
	run->exit_reason = KVM_EXIT_MMIO;
	run->mmio.phys_addr = frag->gpa;
	if (vcpu->mmio_is_write)
		memcpy(run->mmio.data, frag->data, len);
}

static int emulator_read_write(struct x86_emulate_ctxt *ctxt, unsigned long addr,
			       void *val, unsigned int bytes,
			       struct x86_exception *exception,
			       const struct read_write_emulator_ops *ops)
{
	struct kvm_vcpu *vcpu = emul_to_vcpu(ctxt);
	int rc;

	/* 0b16e69d17d8: the fragment must not point at a dead stack frame */
	if (vcpu->profile->fragment_write_scratch && (bytes > 8 || !ops->write) &&
	    object_is_on_stack(vcpu, val)) {
		vcpu->warnings |= WARN_RW_BUFFER_ON_STACK;
		return X86EMUL_UNHANDLEABLE;
	}

	/* step 1: the read that caused the exit completes from the cache slot */
	if (!ops->write && vcpu->mmio_read_completed) {
		kvm_trace_mmio(vcpu, KVM_TRACE_MMIO_READ, bytes,	/* T4 */
			       vcpu->mmio_fragments[0].gpa, val);
		vcpu->mmio_read_completed = 0;
		return X86EMUL_CONTINUE;
	}

	/* mmio_needed is not cleared here: see the multi-write hazard (2.4) */
	vcpu->mmio_nr_fragments = 0;

	if (((addr + bytes - 1) ^ addr) & PAGE_MASK) {
		unsigned int now = (unsigned int)(PAGE_SIZE - offset_in_page(addr));

		rc = emulator_read_write_onepage(addr, val, now, exception, vcpu, ops);
		if (rc != X86EMUL_CONTINUE)
			return rc;

		addr += now;
		if (ctxt->mode != X86EMUL_MODE_PROT64)
			addr = (u32)addr;	/* 32-bit linear wrap */
		val = (u8 *)val + now;
		bytes -= now;
	}

	rc = emulator_read_write_onepage(addr, val, bytes, exception, vcpu, ops);
	if (rc != X86EMUL_CONTINUE)
		return rc;

	if (!vcpu->mmio_nr_fragments)
		return X86EMUL_CONTINUE;

	vcpu->mmio_needed = 1;
	vcpu->mmio_cur_fragment = 0;
	vcpu->mmio_is_write = ops->write;
	prepare_emulated_mmio_exit(vcpu, &vcpu->mmio_fragments[0]);

	if (!ops->write) {
		/* T3 of v6.18: current (second-piece) length, frag0's GPA */
		if (!vcpu->profile->unsatisfied_read_per_page)
			kvm_trace_mmio(vcpu, KVM_TRACE_MMIO_READ_UNSATISFIED, bytes,
				       vcpu->mmio_fragments[0].gpa, NULL);
		return X86EMUL_IO_NEEDED;
	}
	return X86EMUL_CONTINUE;
}

/* @val NULL: no data moved (a native access).  Returns the entry, or NULL. */
static struct emul_access *access_log_record(struct kvm_vcpu *vcpu, unsigned long addr,
					     const void *val, unsigned int bytes, bool write,
					     bool cmpxchg, bool completion, int rc)
{
	struct emul_access_log *log = vcpu->access_log;
	struct emul_access *a;

	if (!log)
		return NULL;
	if (log->nr == EMUL_ACCESS_MAX) {
		log->lost++;
		return NULL;
	}
	a = &log->a[log->nr++];
	*a = (struct emul_access){
		.invocation = vcpu->invocations,
		.la = addr,
		.bytes = bytes,
		.write = write,
		.cmpxchg = cmpxchg,
		.completion = completion,
		.result = (u8)rc,
	};
	if (val && (write || rc == X86EMUL_CONTINUE))
		memcpy(a->data, val, min_t(unsigned int, bytes, EMUL_ACCESS_DATA));
	return a;
}

static int emulator_read_emulated(struct x86_emulate_ctxt *ctxt, unsigned long addr,
				  void *val, unsigned int bytes,
				  struct x86_exception *exception)
{
	struct kvm_vcpu *vcpu = emul_to_vcpu(ctxt);
	bool completion = vcpu->mmio_read_completed;
	int rc;

	rc = emulator_read_write(ctxt, addr, val, bytes, exception, &read_emultor);
	access_log_record(vcpu, addr, val, bytes, false, false, completion, rc);
	return rc;
}

static int emulator_write_emulated(struct x86_emulate_ctxt *ctxt, unsigned long addr,
				   const void *val, unsigned int bytes,
				   struct x86_exception *exception)
{
	struct kvm_vcpu *vcpu = emul_to_vcpu(ctxt);
	int rc;

	rc = emulator_read_write(ctxt, addr, (void *)val, bytes, exception, &write_emultor);
	access_log_record(vcpu, addr, val, bytes, true, false, false, rc);
	return rc;
}

/*
 * ops->native_access (model only): the CPU makes the access with the
 * guest's rights, page by page, until a page faults (to the guest) or
 * traps into KVM.  A page traps when it is not RAM the CPU can use as it
 * is: no memslot, the APIC page, or for a write a read-only memslot.
 * Seen on 6.18.44 kvm_pvm, 64-bit CPL 3: `not dword` at 0x...ffe with a
 * writable RAM first page and a read-only MMIO second page raised #PF
 * W=1 at the second page, no exit.  The walk may set Accessed/Dirty, as
 * the kernel's own walk for that fault does.  Only a fault is logged: an
 * access that traps is KVM's to make again, in the emulator's order.
 */
static bool native_passes_page(struct kvm_vcpu *vcpu, gpa_t gpa, bool write)
{
	if ((gpa & PAGE_MASK) == APIC_DEFAULT_PHYS_BASE)
		return false;
	return gpa_to_hva(vcpu->kvm, gpa, write) != NULL;
}

static int emulator_native_access(struct x86_emulate_ctxt *ctxt, unsigned long addr,
				  unsigned int bytes, bool write,
				  struct x86_exception *exception)
{
	struct kvm_vcpu *vcpu = emul_to_vcpu(ctxt);
	struct kvm_paging_state ps = vcpu_paging_state(vcpu);
	u32 access = (vcpu->cpl == 3 ? PFERR_USER_MASK : 0) |
		     (write ? PFERR_WRITE_MASK : 0);
	unsigned long la = addr;
	unsigned int left = bytes;
	gpa_t gpa;

	for (;;) {
		unsigned int now = (unsigned int)min_t(u64, left, PAGE_SIZE - offset_in_page(la));

		if (kvm_mmu_gva_to_gpa(vcpu->kvm, &ps, la, access, &gpa, exception)) {
			struct emul_access *a = access_log_record(vcpu, addr, NULL, bytes, write,
								  false, false,
								  X86EMUL_PROPAGATE_FAULT);

			if (a)
				a->native = true;
			return X86EMUL_PROPAGATE_FAULT;
		}
		left -= now;
		if (!left || !native_passes_page(vcpu, gpa, write))
			return X86EMUL_CONTINUE;
		la += now;
		if (ctxt->mode != X86EMUL_MODE_PROT64)
			la = (u32)la;	/* 32-bit linear wrap */
	}
}

/* ---- cmpxchg (spec 6) ---- */

static bool emulator_cmpxchg_atomic(u8 *hva, const void *old, const void *new,
				    unsigned int bytes)
{
	switch (bytes) {
	case 1: {
		u8 o, n;

		memcpy(&o, old, 1);
		memcpy(&n, new, 1);
		return __atomic_compare_exchange_n(hva, &o, n, false,
						   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	}
	case 2: {
		u16 o, n, cur;

		memcpy(&o, old, 2);
		memcpy(&n, new, 2);
		memcpy(&cur, hva, 2);
		if (cur != o)
			return false;
		memcpy(hva, &n, 2);
		return true;
	}
	case 4: {
		u32 o, n, cur;

		memcpy(&o, old, 4);
		memcpy(&n, new, 4);
		memcpy(&cur, hva, 4);
		if (cur != o)
			return false;
		memcpy(hva, &n, 4);
		return true;
	}
	default: {
		u64 o, n, cur;

		memcpy(&o, old, 8);
		memcpy(&n, new, 8);
		memcpy(&cur, hva, 8);
		if (cur != o)
			return false;
		memcpy(hva, &n, 8);
		return true;
	}
	}
}

static int emulator_cmpxchg_emulated(struct x86_emulate_ctxt *ctxt, unsigned long addr,
				     const void *old, const void *new, unsigned int bytes,
				     struct x86_exception *exception)
{
	struct kvm_vcpu *vcpu = emul_to_vcpu(ctxt);
	struct kvm_paging_state ps = vcpu_paging_state(vcpu);
	struct x86_exception ignored;
	u32 access = (vcpu->cpl == 3 ? PFERR_USER_MASK : 0) | PFERR_WRITE_MASK;
	gpa_t gpa;
	u8 *hva;

	/* only naturally sized accesses can be done atomically */
	if (bytes > 8 || (bytes & (bytes - 1)))
		goto emul_write;
	/* no fault reporting here: the fallback write re-walks and reports */
	if (kvm_mmu_gva_to_gpa(vcpu->kvm, &ps, addr, access, &gpa, &ignored))
		goto emul_write;
	if ((gpa & PAGE_MASK) == APIC_DEFAULT_PHYS_BASE)
		goto emul_write;
	if (((gpa + bytes - 1) & PAGE_MASK) != (gpa & PAGE_MASK))
		goto emul_write;
	if (vcpu->host.split_lock_detect &&
	    ((gpa + bytes - 1) & ~63ULL) != (gpa & ~63ULL))
		goto emul_write;
	hva = gpa_to_hva(vcpu->kvm, gpa, true);
	if (!hva)
		goto emul_write;

	if (!emulator_cmpxchg_atomic(hva, old, new, bytes)) {
		access_log_record(vcpu, addr, new, bytes, true, true, false,
				  X86EMUL_CMPXCHG_FAILED);
		return X86EMUL_CMPXCHG_FAILED;
	}
	access_log_record(vcpu, addr, new, bytes, true, true, false, X86EMUL_CONTINUE);
	return X86EMUL_CONTINUE;

emul_write:
	/* "emulating exchange as write" */
	return emulator_write_emulated(ctxt, addr, new, bytes, exception);
}

/* ---- port I/O (the model's PIO bus, see vcpu.h) ---- */

static bool pio_dev_claims(u16 port, unsigned int size)
{
	return port >= KVM_PIO_DEV_BASE &&
	       (u32)port + size <= KVM_PIO_DEV_BASE + KVM_PIO_DEV_LEN;
}

static void pio_log_call(struct kvm_vcpu *vcpu, u16 port, unsigned int size,
			 unsigned int count, bool in, const void *data)
{
	struct kvm_pio_log *log = &vcpu->pio;
	bool userspace = !pio_dev_claims(port, size);
	struct kvm_pio_call *c;

	if (in)
		log->in_elems += count;
	else
		log->out_elems += count;
	if (userspace)
		log->userspace_calls++;
	if (log->nr == KVM_PIO_LOG_MAX) {
		log->lost++;
		return;
	}
	c = &log->c[log->nr++];
	*c = (struct kvm_pio_call){
		.port = port,
		.size = (u8)size,
		.in = in,
		.userspace = userspace,
		.count = count,
	};
	memcpy(c->data, data, min_t(unsigned int, size, sizeof(c->data)));
}

/*
 * kernel_pio() for @count elements.  The in-kernel device and the stand-in
 * for userspace answer alike; on real KVM a userspace port exits with
 * KVM_EXIT_IO and the same batch is read again on the no-decode replay, so
 * the memory side of the instruction does not change.
 */
static int emulator_pio_in_emulated(struct x86_emulate_ctxt *ctxt, unsigned int size,
				    u16 port, void *val, unsigned int count)
{
	struct kvm_vcpu *vcpu = emul_to_vcpu(ctxt);
	unsigned int i, n = size * count;
	u64 k = vcpu->pio_read_bytes + port;
	u8 *p = val;

	/* the k-th byte ever read is (u8)(port + k): a batch fills in one go */
	for (i = 0; i < n; i++)
		p[i] = (u8)(k + i);
	vcpu->pio_read_bytes += n;
	pio_log_call(vcpu, port, size, count, true, val);
	return 1;
}

static int emulator_pio_out_emulated(struct x86_emulate_ctxt *ctxt, unsigned int size,
				     u16 port, const void *val, unsigned int count)
{
	struct kvm_vcpu *vcpu = emul_to_vcpu(ctxt);

	pio_log_call(vcpu, port, size, count, false, val);
	if (!pio_dev_claims(port, size))
		vcpu->pio_out_exit = true;
	return 1;
}

/*
 * kvm_read_guest_virt_helper(), kvm_write_guest_virt_helper() (through
 * emulator_read_std/emulator_write_std, not "system"): page by page, each
 * piece walked (user access at CPL 3) and copied to or from RAM; a failed
 * walk is that page's #PF, a page with no (writable) memslot ends the copy
 * with IO_NEEDED and no exit; the pieces before it stay done (spec 7.1).
 */
static int emulator_std(struct x86_emulate_ctxt *ctxt, unsigned long addr, u8 *val,
			unsigned int bytes, struct x86_exception *exception, bool write)
{
	struct kvm_vcpu *vcpu = emul_to_vcpu(ctxt);
	struct kvm_paging_state ps = vcpu_paging_state(vcpu);
	u32 access = (vcpu->cpl == 3 ? PFERR_USER_MASK : 0) | (write ? PFERR_WRITE_MASK : 0);

	while (bytes) {
		unsigned int n = min_t(unsigned int, bytes, PAGE_SIZE - offset_in_page(addr));
		gpa_t gpa;
		int r;

		if (kvm_mmu_gva_to_gpa(vcpu->kvm, &ps, addr, access, &gpa, exception))
			return X86EMUL_PROPAGATE_FAULT;
		r = write ? kvm_vcpu_write_guest(vcpu->kvm, gpa, val, n) :
			    kvm_vcpu_read_guest(vcpu->kvm, gpa, val, n);
		if (r)
			return X86EMUL_IO_NEEDED;
		bytes -= n;
		addr += n;
		val += n;
	}
	return X86EMUL_CONTINUE;
}

static int emulator_read_std(struct x86_emulate_ctxt *ctxt, unsigned long addr, void *val,
			     unsigned int bytes, struct x86_exception *exception)
{
	return emulator_std(ctxt, addr, val, bytes, exception, false);
}

static int emulator_write_std(struct x86_emulate_ctxt *ctxt, unsigned long addr,
			      const void *val, unsigned int bytes,
			      struct x86_exception *exception)
{
	return emulator_std(ctxt, addr, (u8 *)val, bytes, exception, true);
}

const struct x86_emulate_ops kvm_x86_emulate_ops = {
	.read_std = emulator_read_std,
	.write_std = emulator_write_std,
	.read_emulated = emulator_read_emulated,
	.write_emulated = emulator_write_emulated,
	.cmpxchg_emulated = emulator_cmpxchg_emulated,
	.pio_in_emulated = emulator_pio_in_emulated,
	.pio_out_emulated = emulator_pio_out_emulated,
	.native_access = emulator_native_access,
};

/* ---- completion (spec 5.1, 5.2) ---- */

static int complete_emulated_io(struct kvm_vcpu *vcpu)
{
	return x86_emulate_instruction(vcpu, 0, EMULTYPE_NO_DECODE);
}

int complete_emulated_mmio(struct kvm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct kvm_mmio_fragment *frag;
	unsigned int len;
	bool done;

	if (!vcpu->mmio_needed) {
		if (vcpu->profile->completion_bug_is_kvm_bug) {
			vcpu->vm_bugged = true;		/* KVM_BUG_ON: -EIO */
			return -EIO;
		}
		vcpu->host_bug = true;			/* BUG_ON: host crash */
		return -EFAULT;
	}

	frag = &vcpu->mmio_fragments[vcpu->mmio_cur_fragment];
	len = min_t(unsigned int, 8, frag->len);
	if (!vcpu->mmio_is_write)
		memcpy(frag->data, run->mmio.data, len);

	if (frag->len <= 8) {
		frag++;
		vcpu->mmio_cur_fragment++;
	} else {
		if (vcpu->profile->prepare_exit_checks && frag->data == &frag->val) {
			vcpu->warnings |= WARN_COMPLETE_SCRATCH_LONG;
			return -EIO;
		}
		frag->data = (u8 *)frag->data + len;
		frag->gpa += len;
		frag->len -= len;
	}

	/* CVE-2014-0049: before 3.13.6 the test was ==, and cur ran past nr */
	if (vcpu->profile->completion_end_ge)
		done = vcpu->mmio_cur_fragment >= vcpu->mmio_nr_fragments;
	else
		done = vcpu->mmio_cur_fragment == vcpu->mmio_nr_fragments;

	if (done) {
		vcpu->mmio_needed = 0;
		if (vcpu->mmio_is_write)
			return 1;
		vcpu->mmio_read_completed = 1;
		return complete_emulated_io(vcpu);
	}

	prepare_emulated_mmio_exit(vcpu, frag);
	vcpu->complete_userspace_io = complete_emulated_mmio;
	return 0;
}

/* ---- instruction level (spec 5.3) ---- */

static enum x86emul_mode emulator_mode(const struct kvm_vcpu *vcpu)
{
	const struct kvm_segment *cs = &vcpu->sregs.seg[VCPU_SREG_CS];

	if (!(vcpu->sregs.cr0 & X86_CR0_PE))
		return X86EMUL_MODE_REAL;
	if (vcpu->rflags & X86_EFLAGS_VM)
		return X86EMUL_MODE_VM86;
	if (cs->l && is_long_mode(vcpu))
		return X86EMUL_MODE_PROT64;
	return cs->db ? X86EMUL_MODE_PROT32 : X86EMUL_MODE_PROT16;
}

static void init_emulate_ctxt(struct kvm_vcpu *vcpu)
{
	struct x86_emulate_ctxt *ctxt = vcpu->emulate_ctxt;

	ctxt->eflags = vcpu->rflags;
	ctxt->eip = vcpu->rip;
	ctxt->tf = vcpu->rflags & X86_EFLAGS_TF;
	ctxt->mode = emulator_mode(vcpu);
	ctxt->have_exception = false;
	ctxt->exception.vector = 0xff;
	ctxt->not_modelled = false;
	ctxt->insn_len = 0;
	ctxt->insn_fetched = 0;
	init_decode_cache(ctxt);
	vcpu->emulate_regs_need_sync_from_vcpu = false;
}

/*
 * An instruction the emulator cannot handle.  The kvm backend enables
 * KVM_CAP_EXIT_ON_EMULATION_FAILURE, after which KVM's
 * handle_emulation_failure() always exits with the internal error; yet on
 * 6.18.44/kvm_pvm code at CPL 3 outside 64-bit mode gets #UD instead, with
 * no exit (daa, arpl, 0f f9 at CPL 3 in prot16/prot32/prot32-paging: #UD;
 * the same at CPL 0 and at CPL 3 in 64-bit mode: KVM_EXIT_INTERNAL_ERROR),
 * as KVM without the capability does for CPL > 0.  The model follows the
 * host (corpus x01).  Only on the emulation that the guest's own exit
 * starts, though: a failure on the re-entry that completes an MMIO read
 * (EMULTYPE_NO_DECODE) is KVM_EXIT_INTERNAL_ERROR at CPL 3 too (6.18.44:
 * jmp far m or call far m through a zero GDT entry, KVM's UNHANDLEABLE for
 * a system descriptor, with the far pointer in MMIO: internal error in
 * prot16 and prot32 at CPL 3; from RAM, #GP; ptr16:32 "ea": #UD; kc3
 * 0e12b5637e6a, corpus x02).
 */
static int handle_emulation_failure(struct kvm_vcpu *vcpu, int emulation_type)
{
	const struct x86_emulate_ctxt *ctxt = vcpu->emulate_ctxt;

	/* a row KVM emulates and the model does not stays a failure */
	if (vcpu->cpl == 3 && ctxt->mode != X86EMUL_MODE_PROT64 && !ctxt->not_modelled &&
	    !(emulation_type & EMULTYPE_NO_DECODE)) {
		vcpu->exception_pending = true;
		vcpu->exception = (struct x86_exception){ .vector = UD_VECTOR };
		return 1;
	}
	vcpu->run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	vcpu->run->internal_suberror = KVM_INTERNAL_ERROR_EMULATION;
	return 0;
}

static void inject_emulated_exception(struct kvm_vcpu *vcpu)
{
	vcpu->exception_pending = true;
	vcpu->exception = vcpu->emulate_ctxt->exception;
}

/*
 * The instruction fetch, as x86_decode_insn() linearizes it (__linearize
 * with fetch = true) on 6.18.44 (kvm_pvm): in 64-bit mode every byte
 * canonical (the canonical boundary is page aligned, and each chunk of the
 * fetch ends at a page end), elsewhere every byte within the CS limit,
 * real mode included; otherwise #GP(0), before anything is emulated.
 * kvm_pvm hands no instruction bytes to the emulator here: with CS limit
 * 0x3ff1 at EIP 0x3ff0 a 3-byte shr is #GP(0) although its bytes are on
 * RIP's page, and so is a 4-byte one at IP 0 with limit 0 in real mode
 * (fuzz/known-issues.md, "CS limit of the fetch").  @len: the
 * instruction's bytes (1 before decode).
 */
static bool insn_fetch_faults(struct x86_emulate_ctxt *ctxt, unsigned int len)
{
	const struct kvm_segment *cs = &ctxt->vcpu->sregs.seg[VCPU_SREG_CS];
	u64 rip = ctxt->eip, last = rip + len - 1;

	if (ctxt->mode == X86EMUL_MODE_PROT64) {
		if ((u64)((s64)(rip << 16) >> 16) == rip &&
		    (u64)((s64)(last << 16) >> 16) == last)
			return false;
	} else if (rip <= cs->limit && last <= cs->limit) {
		/*
		 * The whole 64-bit RIP: KVM reads it untruncated into the
		 * emulator, and __linearize compares the effective address
		 * with the limit as is, so RIP[63:32] set in a 32-bit mode is
		 * #GP(0) (6.18.44, prot32-paging at CPL 0 and 3; corpus c01)
		 */
		return false;
	}
	ctxt->exception = (struct x86_exception){ .vector = GP_VECTOR, .error_code_valid = true };
	ctxt->have_exception = true;
	return true;
}

int x86_emulate_instruction(struct kvm_vcpu *vcpu, gpa_t cr2_or_gpa, int emulation_type)
{
	struct x86_emulate_ctxt *ctxt = vcpu->emulate_ctxt;
	bool writeback = true, cut = false;
	int r;

	vcpu->invocations++;
	if (!(emulation_type & EMULTYPE_NO_DECODE)) {
		vcpu->exception_pending = false;
		init_emulate_ctxt(vcpu);
		vcpu->stat_insn_emulation++;
		if (insn_fetch_faults(ctxt, 1)) {
			inject_emulated_exception(vcpu);
			return 1;
		}
		r = vcpu->guest->decode(ctxt, vcpu->guest_priv);
		if (r == EMULATION_OK &&
		    insn_fetch_faults(ctxt, ctxt->mode == X86EMUL_MODE_PROT64 ?
				      (unsigned int)(ctxt->_eip - ctxt->eip) :
				      (u32)ctxt->_eip - (u32)ctxt->eip))
			r = EMULATION_FAILED;
		if (r != EMULATION_OK) {
			/*
			 * x86_decode_insn() has fetched every byte before
			 * x86_emulate_insn() raises LOCK, No64 or SSE/MMX-state
			 * exceptions: a fetch past the CS limit is #GP(0) first
			 * (prot16 66 0f 10 34 with CS limit 0, OSFXSR clear:
			 * #GP(0) on 6.18.44, not #UD).  insn_len: 0 where the
			 * decode stopped before the length was known.
			 */
			if (ctxt->have_exception && ctxt->insn_len)
				insn_fetch_faults(ctxt, ctxt->insn_len);
			/*
			 * An opcode KVM has no row for: the bytes it fetched to
			 * find that out are checked first (prot16, CS limit 0:
			 * 66 0f 60 34 is #GP(0) on 6.18.44, not a failure)
			 */
			if (!ctxt->have_exception && ctxt->insn_fetched > 1)
				insn_fetch_faults(ctxt, ctxt->insn_fetched);
			if (ctxt->have_exception) {
				inject_emulated_exception(vcpu);
				return 1;
			}
			return handle_emulation_failure(vcpu, emulation_type);
		}
	}

	if (vcpu->emulate_regs_need_sync_from_vcpu) {
		vcpu->emulate_regs_need_sync_from_vcpu = false;
		emulator_invalidate_register_cache(ctxt);
	}

	/* a replay (completion) continues KVM's emulation: the CPU made no access */
	ctxt->native_entry = vcpu->host.native_entry && !(emulation_type & EMULTYPE_NO_DECODE);
restart:
	vcpu->pio_out_exit = false;
	if ((emulation_type & EMULTYPE_PF) && vcpu->host.tdp) {
		ctxt->gpa_available = true;
		ctxt->gpa_val = cr2_or_gpa;
	}

	vcpu->passes++;
	r = x86_emulate_insn(ctxt);

	if (r == EMULATION_FAILED) {
		if (vcpu->access_log)
			vcpu->access_log->failure_invocation = vcpu->invocations;
		return handle_emulation_failure(vcpu, emulation_type);
	}

	if (ctxt->have_exception) {
		if (vcpu->profile->exception_clears_mmio_needed) {
			/* 0dc902267cb3: a pending write is dropped */
			if (vcpu->mmio_needed && !vcpu->mmio_is_write)
				vcpu->warnings |= WARN_EXCEPTION_WITH_MMIO_READ;
			vcpu->mmio_needed = 0;
		}
		r = 1;
		inject_emulated_exception(vcpu);
		if (vcpu->access_log)
			vcpu->access_log->exception_invocation = vcpu->invocations;
	} else if (vcpu->mmio_needed) {
		++vcpu->stat_mmio_exits;
		if (!vcpu->mmio_is_write)
			writeback = false;
		r = 0;
		vcpu->complete_userspace_io = complete_emulated_mmio;
	} else if (r == EMULATION_RESTART) {
		if (vcpu->passes < vcpu->pass_budget)
			goto restart;
		/*
		 * Out of passes: stop as at the kernel's re-entry point, but
		 * the kernel restarts here without leaving the emulator, so
		 * no single-step trap either: the run ends at its limit.
		 * (With TF a cut REP INS read as a #DB after 4096 of its
		 * iterations, kc3 29a4d4082bb1: `rcx: model 0x5ff0, kvm
		 * 0x5fec`, the kernel's #DB at the end of the read-ahead
		 * batch, 4 iterations on.)
		 */
		cut = true;
		r = 1;
	} else {
		r = 1;
	}

	if (writeback) {
		vcpu->emulate_regs_need_sync_to_vcpu = false;
		/* faults leave RIP and RFLAGS alone */
		if (!ctxt->have_exception) {
			vcpu->rip = ctxt->eip;
			vcpu->rflags = ctxt->eflags;
			/*
			 * TF at the start: the single-step #DB trap, queued by
			 * the emulator itself (kvm_vcpu_do_singlestep).  Not
			 * when the instruction ends in an MMIO write exit (r 0):
			 * complete_emulated_mmio() resumes the guest without
			 * re-entering the emulator (its FIXME; spec 5.1), so
			 * the trap is lost (singlestep-lost, seen on 6.18.44).
			 * The same for a write to a port no in-kernel device
			 * claims: x86_emulate_instruction() exits with
			 * KVM_EXIT_IO and nothing re-enters the emulator after
			 * an OUT (its "return into emulator if single-stepping"
			 * FIXME); seen on 6.18.44 for out/outs, in keeps the
			 * trap (corpus t03).
			 */
			if (r == 1 && ctxt->tf && !vcpu->pio_out_exit && !cut) {
				vcpu->exception_pending = true;
				vcpu->exception = (struct x86_exception){ .vector = DB_VECTOR };
			}
		}
	} else {
		vcpu->emulate_regs_need_sync_to_vcpu = true;
	}
	return r;
}

/* ---- KVM_RUN ---- */

void kvm_vcpu_set_regs(struct kvm_vcpu *vcpu, const u64 *regs, u64 rip, u64 rflags)
{
	memcpy(vcpu->regs, regs, sizeof(vcpu->regs));
	vcpu->rip = rip;
	vcpu->rflags = rflags;
	vcpu->emulate_regs_need_sync_from_vcpu = true;
	vcpu->emulate_regs_need_sync_to_vcpu = false;
}

void kvm_vcpu_get_regs(struct kvm_vcpu *vcpu)
{
	/*
	 * Mid-instruction (a read exit is pending) what the instruction did
	 * so far becomes the vCPU's state, and stays so if it faults later:
	 * retf from an MMIO stack that then raises #GP leaves RSP advanced by
	 * the first pop (seen on 6.18.44 with KVM_CAP_SYNC_REGS, not without).
	 */
	if (vcpu->emulate_regs_need_sync_to_vcpu) {
		emulator_writeback_register_cache(vcpu->emulate_ctxt);
		vcpu->emulate_regs_need_sync_to_vcpu = false;
	}
}

/*
 * KVM injects a fault-class exception with RF set in RFLAGS (so the frame
 * carries it, and a shutdown leaves it): every vector but the traps #DB,
 * #BP, #OF and the aborts #DF, #MC.  (Seen on 6.18.44: the #GP/#UD/#PF
 * frames of the corpus have RF, and so has the vCPU after a legacy-mode
 * shutdown.)
 */
static bool exception_is_fault(unsigned int vector)
{
	return vector < 32 && vector != 1 && vector != 3 && vector != 4 && vector != 8 &&
	       vector != 18;
}

/*
 * The guest side: the guest re-executes the instruction under test until
 * RIP leaves it or an exception is delivered; each execution faults into
 * the emulator (CPL0 code is always emulated on kvm_pvm, and MMIO accesses
 * always fault).  The guest then reaches its sentinel and halts.
 */
static int vcpu_run(struct kvm_vcpu *vcpu)
{
	for (;;) {
		int type = EMULTYPE_PF;
		gpa_t gpa = 0;
		int r;

		if (vcpu->exception_pending) {
			vcpu->exception_pending = false;
			vcpu->exception_delivered = true;
			vcpu->delivered = vcpu->exception;
			if (vcpu->exception.vector == PF_VECTOR)
				vcpu->sregs.cr2 = vcpu->exception.address;
			if (exception_is_fault(vcpu->exception.vector))
				vcpu->rflags |= X86_EFLAGS_RF;
			vcpu->run->exit_reason = KVM_EXIT_HLT;
			return 0;
		}
		/* a far transfer to the same offset in another segment left it too */
		if (vcpu->rip != vcpu->insn_rip ||
		    vcpu->sregs.seg[VCPU_SREG_CS].base != vcpu->insn_cs_base) {
			vcpu->run->exit_reason = KVM_EXIT_HLT;
			return 0;
		}
		if (vcpu->guest_entries++ >= vcpu->entry_budget ||
		    vcpu->passes >= vcpu->pass_budget) {
			vcpu->run->exit_reason = KVM_EXIT_INTR;
			return 0;
		}
		/*
		 * Without a fault GPA the emulation was not started by a
		 * TDP fault, so there is no GPA to hand over (spec 3.1).
		 */
		if (vcpu->host.tdp && (!vcpu->guest->fault_gpa ||
		    !vcpu->guest->fault_gpa(vcpu, vcpu->guest_priv, &gpa)))
			type = 0;
		r = x86_emulate_instruction(vcpu, gpa, type);
		if (r <= 0)
			return r;
	}
}

int kvm_arch_vcpu_ioctl_run(struct kvm_vcpu *vcpu)
{
	int r;

	if (vcpu->vm_bugged || vcpu->host_bug)
		return -EIO;
	vcpu->stack_hi = (uintptr_t)__builtin_frame_address(0);

	if (vcpu->complete_userspace_io) {
		int (*cui)(struct kvm_vcpu *) = vcpu->complete_userspace_io;

		vcpu->complete_userspace_io = NULL;
		r = cui(vcpu);
		if (r <= 0)
			goto out;
	} else if (vcpu->mmio_needed) {
		vcpu->warnings |= WARN_RUN_MMIO_NEEDED;
	}
	r = vcpu_run(vcpu);
out:
	vcpu->stack_hi = 0;
	if (vcpu->vm_bugged || vcpu->host_bug)
		return -EIO;
	return r < 0 ? r : 0;
}
