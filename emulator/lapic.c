// SPDX-License-Identifier: GPL-2.0-only
/*
 * In-kernel local APIC MMIO page, as far as it decides which chunks the
 * kernel absorbs (spec 3.3).  Per-size rules are a spec [U] item; the
 * model's choice: any chunk starting inside the page is handled; reads of
 * 1, 2 or 4 bytes within one 16-byte register return its bytes, other reads
 * leave the destination untouched; writes other than aligned 4-byte ones
 * are ignored.  Both are "handled" (no exit).
 */
#include <errno.h>
#include <string.h>

#include "vcpu.h"

#define APIC_ID		0x20
#define APIC_LVR	0x30

void kvm_lapic_reset(struct kvm_lapic *apic)
{
	memset(apic, 0, sizeof(*apic));
	apic->base_address = APIC_DEFAULT_PHYS_BASE;
	apic->regs[APIC_LVR >> 4] = 0x50014;	/* version 0x14, 6 LVT entries */
}

static bool apic_mmio_in_range(const struct kvm_lapic *apic, gpa_t addr)
{
	return addr >= apic->base_address && addr < apic->base_address + PAGE_SIZE;
}

int kvm_lapic_mmio_read(struct kvm_lapic *apic, gpa_t addr, int len, void *val)
{
	u32 offset, align;

	if (!apic_mmio_in_range(apic, addr) || !apic->hw_enabled)
		return -EOPNOTSUPP;
	offset = (u32)(addr - apic->base_address);
	align = offset & 0xf;
	if ((len == 1 || len == 2 || len == 4) && align + len <= 4) {
		u32 reg = apic->regs[(offset >> 4) & 0xff];

		memcpy(val, (u8 *)&reg + align, len);
	}
	return 0;
}

int kvm_lapic_mmio_write(struct kvm_lapic *apic, gpa_t addr, int len, const void *val)
{
	u32 offset;

	if (!apic_mmio_in_range(apic, addr) || !apic->hw_enabled)
		return -EOPNOTSUPP;
	offset = (u32)(addr - apic->base_address);
	if (len != 4 || (offset & 0xf))
		return 0;
	if (offset != APIC_LVR)
		memcpy(&apic->regs[(offset >> 4) & 0xff], val, 4);
	return 0;
}
