// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvm:kvm_mmio recording (spec section 4).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "profile.h"
#include "trace.h"

void trace_kvm_mmio(struct kvm_mmio_trace *trace, const struct kvm_profile *profile,
		    int type, u32 len, u64 gpa, const void *val)
{
	struct kvm_mmio_event *e;
	u64 v = 0;

	if (val) {
		if (profile->trace_val_by_pointer)
			memcpy(&v, val, min_t(u32, len, 8));
		else
			memcpy(&v, val, 8);	/* reads past small sources */
	}
	if (trace->nr == KVM_MMIO_TRACE_MAX) {
		trace->lost++;
		return;
	}
	e = &trace->ev[trace->nr++];
	e->type = (u8)type;
	e->len = len;
	e->gpa = gpa;
	e->val = v;
}

const char *kvm_mmio_type_name(int type)
{
	switch (type) {
	case KVM_TRACE_MMIO_READ_UNSATISFIED:
		return "unsatisfied-read";
	case KVM_TRACE_MMIO_READ:
		return "read";
	case KVM_TRACE_MMIO_WRITE:
		return "write";
	}
	return "unknown";
}

int kvm_mmio_event_format(const struct kvm_mmio_event *e, char *buf, size_t size)
{
	return snprintf(buf, size, "kvm_mmio: mmio %s len %" PRIu32 " gpa 0x%" PRIx64
			" val 0x%" PRIx64, kvm_mmio_type_name(e->type), e->len, e->gpa, e->val);
}
