/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The in-kernel device frames of a scenario on real KVM, for the real-KVM
 * backend (backend_kvm.c), as the model backend sets them up:
 *
 *  - irqchip on (the scenario's default): KVM_CREATE_IRQCHIP before the
 *    vCPU, so the IOAPIC window (0xfec00000, 0x100 bytes) and the APIC
 *    page (0xfee00000, xAPIC mode, enabled) are in the kernel whatever the
 *    maps say.  The APIC base cannot move: the model and the scenario
 *    format keep the LAPIC at its default GPA.  The irqchip of a VM cannot
 *    be changed, so a case whose setting differs from the VM's runs in
 *    another VM (kvm_devices_want_irqchip(); the backend keeps one of
 *    each, each with its own struct kvm_devices);
 *  - ioeventfd frames: one KVM_IOEVENTFD (frame + ev_offset, ev_len, no
 *    datamatch) with its own eventfd, drained at the end of each case;
 *  - coalesced frames: one KVM_REGISTER_COALESCED_MMIO zone per frame.
 *    The ring (the vCPU mmap's page KVM_COALESCED_MMIO_PAGE_OFFSET) is
 *    emptied at every exit, as a VMM does and as the model backend does,
 *    and its entries are logged for the case.
 *
 * With an irqchip some LAPIC and IOAPIC reads are handled but leave the
 * read buffer as it was; on real KVM that buffer is the emulator's read
 * cache, which keeps earlier instructions' bytes.  Before a case that can
 * reach those devices, an emulated popa of zeros in the scratch page clears
 * it, so the case sees zeros like a fresh vCPU (and the model) does.  With
 * a trace, only cases whose layout names the devices are primed first; one
 * whose trace shows a read of them unprimed runs again, primed
 * (kvm_devices_run_again()).
 *
 * Registrations stay from case to case, parked when the next case has
 * no such frame: a registration frees the old MMIO bus after an SRCU
 * grace period (call_srcu()), and the VM's next memslot change or
 * unregistration waits for that grace period, 3-10 ms here.  For the same
 * reason the backend runs cases with ioeventfd or coalesced frames in VMs
 * of their own (kvm_devices_want_registrations()), so that the memslot
 * changes of all other cases never wait.  A parked one that takes a write
 * of a case (its eventfd signals, or the ring has an entry in its zone)
 * makes the case run again without it (kvm_devices_run_again()); one on
 * a frame the next case maps as anything but RAM goes before that case.
 * A case that may have changed LAPIC, IOAPIC or PIC state (a write traced
 * into the APIC page or the IOAPIC window, a case that may have written
 * MSRs, or any case when there is no trace) has that state put back to a
 * fresh vCPU's before the next case.
 *
 * The host switch split-lock cannot be set per VM: KVM falls back to a
 * plain write for a cache-line-split CMPXCHG only when the host CPU has
 * split-lock detection.  A scenario asking for the other setting is not
 * supported.
 *
 * This header does not include <linux/kvm.h> (see backend_kvm.h).
 */
#ifndef FRAGFUZZ_KVM_DEVICES_H
#define FRAGFUZZ_KVM_DEVICES_H

#include <stddef.h>

#include "scenario.h"
#include "trace.h"

#define KVM_DEVICES_MAX_RING	512	/* ring entries logged per case */

/* One coalesced write as the kernel put it in the ring. */
struct kvm_devices_ring_entry {
	u64 gpa;
	u32 len;
	u8 data[8];		/* len bytes are valid */
};

/* What the devices saw in the last case. */
struct kvm_devices_log {
	struct kvm_devices_ring_entry ring[KVM_DEVICES_MAX_RING];
	unsigned int nr_ring;
	bool ring_lost;		/* more than KVM_DEVICES_MAX_RING */
	u64 ioeventfd_signals;	/* over all ioeventfds of the case */
};

struct kvm_devices;

/*
 * Checks what @kvm_fd offers (and reads /proc/cpuinfo), or takes it from
 * @like if not NULL; NULL only when out of memory.
 */
struct kvm_devices *kvm_devices_create(int kvm_fd, const struct kvm_devices *like);
void kvm_devices_destroy(struct kvm_devices *kd);

/*
 * Can this kernel set up @s's devices?  0, or -EOPNOTSUPP with the reason
 * in @why.
 */
int kvm_devices_supported(const struct kvm_devices *kd, const struct scenario *s,
			  const struct scn_map *maps, unsigned int nr, char *why, size_t whylen);

/* Does @s run with the in-kernel irqchip (a VM that has one)? */
bool kvm_devices_want_irqchip(const struct scenario *s);
/* Has @s frames that need registrations (ioeventfd, coalesced zone)? */
bool kvm_devices_want_registrations(const struct scn_map *maps, unsigned int nr);

/* A new VM, before its vCPU: the irqchip, if @irqchip. */
int kvm_devices_vm_init(struct kvm_devices *kd, int vm_fd, bool irqchip);
/*
 * Its vCPU, after KVM_SET_CPUID2, with the vCPU mmap (@run, @run_size
 * bytes): xAPIC at the default base; the fresh LAPIC, IOAPIC and PIC
 * state; the coalesced ring.  @scratch (host) at @scratch_gpa is a RAM
 * page for kvm_devices alone, reachable with paging off.  @sync_regs: the
 * vCPU takes registers through @run (KVM_CAP_SYNC_REGS).
 */
int kvm_devices_vcpu_init(struct kvm_devices *kd, int vcpu_fd, void *run, size_t run_size,
			  u8 *scratch, u64 scratch_gpa, bool sync_regs);
/* The VM is going: forget its registrations (closes the eventfds). */
void kvm_devices_vm_gone(struct kvm_devices *kd);

/*
 * Before the case runs, before its registers are set (this may run the
 * vCPU): registrations, device state, read cache, empty ring and log.
 * @traced: the backend reads the case's kvm_mmio events; @prime: prime the
 * read cache whatever the case (kvm_devices_run_again()); @unpark: drop
 * every parked registration.
 */
int kvm_devices_setup(struct kvm_devices *kd, const struct scenario *s,
		      const struct scn_map *maps, unsigned int nr, bool traced, bool prime,
		      bool unpark);
/*
 * Would kvm_devices_setup() for @maps unregister anything (a parked
 * registration hit, or on one of @maps' frames, or no room)?  Did the last
 * one register anything?  A registration starts an SRCU grace period that
 * the VM's next unregistration or memslot change waits for (see the top).
 */
bool kvm_devices_would_unregister(const struct kvm_devices *kd, const struct scn_map *maps,
				  unsigned int nr);
bool kvm_devices_registered(const struct kvm_devices *kd);
/*
 * Did the last kvm_devices_setup() run the vCPU (the read-cache priming)?
 * Its RIP, segments and control registers are then the priming code's.
 */
bool kvm_devices_ran_vcpu(const struct kvm_devices *kd);
/*
 * Run the vCPU so that KVM has no read completion left (an
 * mmio_read_completed that the instruction's replay did not take, spec
 * 5.4): an emulated read takes it, and the read cache is zeroed after.
 * Its RIP, segments and control registers are then the priming code's.
 * 0, or -errno (the VM should go).
 */
int kvm_devices_clear_reads(struct kvm_devices *kd);
/* After every return from KVM_RUN: empty the ring into the log. */
void kvm_devices_exit(struct kvm_devices *kd);
/*
 * At a write exit to @gpa, @len bytes, before kvm_devices_exit(): should
 * a device registered in this VM (parked or not) have taken the write?  A
 * coalesced zone holding the whole write, with room in its ring (KVM exits
 * when the ring is full), or an ioeventfd at @gpa of that length or of
 * length 0.  KVM's own rules: coalesced_mmio_write(), ioeventfd_in_range().
 */
bool kvm_devices_should_take(const struct kvm_devices *kd, u64 gpa, u32 len);
/*
 * After the case: the ring and the eventfds into the log; @t (NULL if
 * there is no trace) and @dirty (the case may have written MSRs) decide
 * whether the device state must be reset before the next case.
 */
void kvm_devices_collect(struct kvm_devices *kd, const struct kvm_mmio_trace *t, bool dirty);
/*
 * After the backend finished a case's pending exchanges without entering
 * the guest, with @t the kvm_mmio events of that (NULL: none read): the
 * device state is put back if they wrote it.  The log stays the case's.
 */
void kvm_devices_settled(struct kvm_devices *kd, const struct kvm_mmio_trace *t);

/*
 * After kvm_devices_collect(): is the case to be run again?  A parked
 * registration took one of its writes (this VM's next kvm_devices_setup()
 * drops it), or it read the LAPIC or IOAPIC with the read cache not primed
 * (*@prime: the run again is to prime, in whichever VM).
 */
bool kvm_devices_run_again(const struct kvm_devices *kd, bool *prime);

const struct kvm_devices_log *kvm_devices_log(const struct kvm_devices *kd);

#endif
