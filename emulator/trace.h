/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The kvm:kvm_mmio tracepoint (spec section 4): every emission is recorded
 * as (type, len, gpa, val) and printable in the kernel's format.
 */
#ifndef FRAGFUZZ_TRACE_H
#define FRAGFUZZ_TRACE_H

#include "types.h"

#define KVM_TRACE_MMIO_READ_UNSATISFIED	0
#define KVM_TRACE_MMIO_READ		1
#define KVM_TRACE_MMIO_WRITE		2

#define KVM_MMIO_TRACE_MAX	128

struct kvm_mmio_event {
	u8 type;
	u32 len;
	u64 gpa;
	u64 val;
};

struct kvm_mmio_trace {
	struct kvm_mmio_event ev[KVM_MMIO_TRACE_MAX];
	unsigned int nr;
	unsigned int lost;	/* events past KVM_MMIO_TRACE_MAX */
};

struct kvm_profile;

/*
 * Record one event.  @val is the kernel's pointer argument: the profile
 * decides whether min(8, len) bytes are copied (e39d200fa5bf and later) or
 * a whole u64 is loaded from it, as before CVE-2017-17741 was fixed.
 */
void trace_kvm_mmio(struct kvm_mmio_trace *trace, const struct kvm_profile *profile,
		    int type, u32 len, u64 gpa, const void *val);

const char *kvm_mmio_type_name(int type);
/* "kvm_mmio: mmio read len 4 gpa 0x1ffe val 0x44332211" */
int kvm_mmio_event_format(const struct kvm_mmio_event *e, char *buf, size_t size);

#endif
