// SPDX-License-Identifier: GPL-2.0-only
/*
 * In-kernel local APIC MMIO page, as far as it decides which chunks the
 * kernel absorbs (spec 3.3).  Any chunk starting inside the page is
 * handled (no exit).  Reads of 1, 2 or 4 bytes within the first 4 bytes of
 * a readable register return its bytes; every other read (crossing the
 * register's first dword, 8 bytes, a register the xAPIC does not read, an
 * offset past 0x3f0) leaves the destination untouched.  Writes other than
 * aligned 4-byte ones are ignored.  Reset values and the readable set are
 * those of KVM's in-kernel xAPIC (vCPU 0, 6 LVT entries), as measured on
 * 6.18.44 (emulator/README.md).
 */
#include <errno.h>
#include <string.h>

#include "vcpu.h"

#define APIC_ID		0x20
#define APIC_LVR	0x30
#define APIC_DFR	0xe0
#define APIC_SPIV	0xf0
#define APIC_LVTT	0x320
#define APIC_LVTTHMR	0x330
#define APIC_LVTPC	0x340
#define APIC_LVT0	0x350
#define APIC_LVT1	0x360
#define APIC_LVTERR	0x370
#define APIC_LVT_MASKED	0x10000
#define APIC_DM_EXTINT	0x700
#define APIC_LAST_READ	0x3f0	/* past this offset nothing reads */

/* bit i: register at offset i * 16 reads; ISR, TMR, IRR are 0x100-0x270 */
#define APIC_REG(off)	BIT((off) >> 4)
#define APIC_READABLE	(APIC_REG(0x20) | APIC_REG(0x30) | APIC_REG(0x80) | APIC_REG(0x90) | \
			 APIC_REG(0xa0) | APIC_REG(0xd0) | APIC_REG(0xe0) | APIC_REG(0xf0) | \
			 (0xffffffULL << 16) | APIC_REG(0x280) | (0x3ffULL << 48) | \
			 APIC_REG(0x3e0))

void kvm_lapic_reset(struct kvm_lapic *apic)
{
	static const u32 masked[] = { APIC_LVTT, APIC_LVTTHMR, APIC_LVTPC, APIC_LVT1,
				      APIC_LVTERR };
	unsigned int i;

	memset(apic, 0, sizeof(*apic));
	apic->base_address = APIC_DEFAULT_PHYS_BASE;
	apic->regs[APIC_LVR >> 4] = 0x50014;	/* version 0x14, 6 LVT entries */
	apic->regs[APIC_DFR >> 4] = 0xffffffff;
	apic->regs[APIC_SPIV >> 4] = 0xff;	/* software-disabled, vector 0xff */
	for (i = 0; i < ARRAY_SIZE(masked); i++)
		apic->regs[masked[i] >> 4] = APIC_LVT_MASKED;
	/* the BSP's LINT0 is ExtINT, unmasked (KVM_X86_QUIRK_LINT0_REENABLED) */
	apic->regs[APIC_LVT0 >> 4] = APIC_DM_EXTINT;
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
	if ((len == 1 || len == 2 || len == 4) && align + len <= 4 &&
	    offset <= APIC_LAST_READ && (APIC_READABLE & APIC_REG(offset))) {
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
	if (offset == APIC_LVR)
		return 0;
	memcpy(&apic->regs[(offset >> 4) & 0xff], val, 4);
	/*
	 * kvm_lapic_reg_write(): the xAPIC ID is the top byte only (6.18.44: a
	 * rep movsd that wrote 0x50515253 to offset 0x20 read 0x50000000 back)
	 */
	if (offset == APIC_ID)
		apic->regs[APIC_ID >> 4] &= 0xff000000;
	return 0;
}
