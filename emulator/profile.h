/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kernel profiles: every behaviour difference between the kernel versions
 * fragfuzz models is one named switch here, and only here.  The presets in
 * profile.c say which upstream commit flipped each switch.
 */
#ifndef FRAGFUZZ_PROFILE_H
#define FRAGFUZZ_PROFILE_H

#include "types.h"

struct kvm_profile {
	const char *name;
	const char *description;

	/*
	 * a08d3b3b99ef "kvm: x86: fix emulator buffer overflow
	 * (CVE-2014-0049)", v3.13.6: complete_emulated_mmio() ends the
	 * exchange when cur >= nr instead of cur == nr.
	 */
	bool completion_end_ge;

	/*
	 * e39d200fa5bf "KVM: Fix stack-out-of-bounds read in write_mmio"
	 * (CVE-2017-17741), v4.15: the kvm_mmio tracepoint copies min(8, len)
	 * bytes through a pointer instead of loading a u64 from it.
	 */
	bool trace_val_by_pointer;

	/*
	 * 0dc902267cb3 "KVM: x86: Suppress pending MMIO write exits if
	 * emulator detects exception", v6.3: an exception clears mmio_needed
	 * (dropping a pending write) and WARNs if the pending MMIO was a read.
	 */
	bool exception_clears_mmio_needed;

	/*
	 * 0b16e69d17d8 "KVM: x86: Use scratch field in MMIO fragment to hold
	 * small write values" (CVE-2026-31588), 7.1 and 6.18.24+: writes of
	 * at most 8 bytes are copied into frag->val; reads and >8-byte writes
	 * from the kernel stack WARN and fail with UNHANDLEABLE.
	 */
	bool fragment_write_scratch;

	/*
	 * 4f11fded5381 "KVM: x86: Trace unsatisfied MMIO reads on a per-page
	 * basis" (series patch 03), 7.1: unsatisfied-read is emitted by
	 * vcpu_mmio_read() once per unsatisfied page piece instead of once
	 * per exchange with the current (second-piece) length.
	 */
	bool unsatisfied_read_per_page;

	/*
	 * Series patch 13 (4f09e62afcd6), 7.1: completion without
	 * mmio_needed is a KVM_BUG_ON (VM bugged, KVM_RUN returns -EIO)
	 * instead of a host BUG_ON.
	 */
	bool completion_bug_is_kvm_bug;

	/*
	 * Series patch 14 (e2138c4a5be1), 7.1: exits are prepared by
	 * kvm_prepare_emulated_mmio_exit(), which WARNs on !mmio_needed or
	 * !nr_fragments and KVM_BUG_ONs a chunk longer than 8 bytes.
	 */
	bool prepare_exit_checks;
};

/* Host switches, independent of the kernel version. */
struct kvm_host_config {
	bool tdp;		/* EPT/NPT: gpa_available on PF emulation (3.1) */
	bool irqchip_in_kernel;	/* in-kernel LAPIC and IOAPIC (3.3) */
	bool split_lock_detect;	/* cmpxchg falls back on cache-line splits (6) */
	/*
	 * The instruction under test runs on the CPU until its first memory
	 * access traps into KVM, so that access is the CPU's (emulator/README.md,
	 * "The CPU's first access").  False: KVM's emulator runs it from the
	 * start, as kvm_pvm does for all but 64-bit CPL 3 code.
	 */
	bool native_entry;
	/*
	 * 32-bit paging runs as IA-32e compatibility mode: kvm_pvm has no
	 * legacy paging, so the kvm backend runs such guests with EFER.LMA,
	 * 32-bit code segments and 4-level tables holding the same mappings
	 * (harness/kvm/backend_kvm.c, kb_long_mode()).  KVM's emulator then
	 * sees long mode: a far transfer to a code segment with L set enters
	 * 64-bit mode (assign_eip_far()), L and D both set is #GP, and a
	 * linear address above 4 GiB (64-bit code) is not mapped.  The walk
	 * of the 32-bit tables stays as it is.
	 */
	bool compat_paging;
};

const struct kvm_profile *kvm_profile_find(const char *name);
const struct kvm_profile *kvm_profile_at(unsigned int idx);
unsigned int kvm_profile_count(void);

#endif
