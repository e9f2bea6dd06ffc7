// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest physical memory: memslots backed by host buffers (spec 3.2).
 * Models kvm_vcpu_read_guest()/kvm_vcpu_write_guest(): reads work on any
 * slot, writes fail on KVM_MEM_READONLY slots, both fail where there is no
 * slot; the caller then treats the access as MMIO.
 */
#include <errno.h>
#include <string.h>

#include "kvm.h"

void kvm_init(struct kvm *kvm)
{
	/* everything else is only read below these counts */
	kvm->nr_memslots = 0;
	kvm->nr_iodevs = 0;
	kvm->coalesced_ring.first = 0;
	kvm->coalesced_ring.last = 0;
	kvm->memslots_generation++;
}

int kvm_set_memslot(struct kvm *kvm, gpa_t gpa, u64 size, u8 *hva, bool readonly)
{
	gfn_t gfn = gpa >> PAGE_SHIFT, npages = size >> PAGE_SHIFT;
	unsigned int i;

	if (offset_in_page(gpa) || offset_in_page(size) || !size || !hva)
		return -EINVAL;
	if (gfn + npages < gfn)
		return -EINVAL;
	for (i = 0; i < kvm->nr_memslots; i++) {
		const struct kvm_memslot *s = &kvm->memslots[i];

		if (gfn < s->base_gfn + s->npages && s->base_gfn < gfn + npages)
			return -EEXIST;
	}
	if (kvm->nr_memslots == KVM_MODEL_MAX_MEMSLOTS)
		return -ENOSPC;
	kvm->memslots[kvm->nr_memslots++] = (struct kvm_memslot){
		.base_gfn = gfn,
		.npages = npages,
		.hva = hva,
		.readonly = readonly,
	};
	kvm->memslots_generation++;
	return 0;
}

const struct kvm_memslot *gfn_to_memslot(const struct kvm *kvm, gfn_t gfn)
{
	unsigned int i;

	for (i = 0; i < kvm->nr_memslots; i++) {
		const struct kvm_memslot *s = &kvm->memslots[i];

		if (gfn >= s->base_gfn && gfn - s->base_gfn < s->npages)
			return s;
	}
	return NULL;
}

u8 *gpa_to_hva(const struct kvm *kvm, gpa_t gpa, bool write)
{
	const struct kvm_memslot *s = gfn_to_memslot(kvm, gpa >> PAGE_SHIFT);

	if (!s || (write && s->readonly))
		return NULL;
	return s->hva + (gpa - (s->base_gfn << PAGE_SHIFT));
}

int kvm_vcpu_read_guest(const struct kvm *kvm, gpa_t gpa, void *data, u64 len)
{
	u8 *dst = data;

	while (len) {
		u64 seg = min_t(u64, len, PAGE_SIZE - offset_in_page(gpa));
		const u8 *hva = gpa_to_hva(kvm, gpa, false);

		if (!hva)
			return -EFAULT;
		memcpy(dst, hva, seg);
		dst += seg;
		gpa += seg;
		len -= seg;
	}
	return 0;
}

int kvm_vcpu_write_guest(struct kvm *kvm, gpa_t gpa, const void *data, u64 len)
{
	const u8 *src = data;

	while (len) {
		u64 seg = min_t(u64, len, PAGE_SIZE - offset_in_page(gpa));
		u8 *hva = gpa_to_hva(kvm, gpa, true);

		if (!hva)
			return -EFAULT;
		memcpy(hva, src, seg);
		src += seg;
		gpa += seg;
		len -= seg;
	}
	return 0;
}
