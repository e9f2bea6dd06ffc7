// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM_MMIO_BUS and the in-kernel devices on it (spec 3.3): an IOAPIC
 * register window (read/write), ioeventfds (write only, exact (addr, len)
 * match or any length for len 0, optional datamatch) and coalesced MMIO
 * zones (write only, appended to the ring while it has room).
 *
 * A bus device is a candidate for (addr, len) when the access starts at or
 * after its base and, unless the device length is 0, ends inside it; the
 * device's own handler then accepts or refuses, and the first acceptance
 * wins (kvm_io_bus_cmp() and __kvm_io_bus_write() in virt/kvm/kvm_main.c).
 */
#include <errno.h>
#include <string.h>

#include "kvm.h"

#define IOAPIC_RTE_MASKED	BIT(16)

static int kvm_io_bus_register(struct kvm *kvm, struct kvm_io_device dev)
{
	if (kvm->nr_iodevs == KVM_MODEL_MAX_IODEVS)
		return -ENOSPC;
	kvm->mmio_bus[kvm->nr_iodevs++] = dev;
	return 0;
}

int kvm_register_ioapic(struct kvm *kvm, gpa_t base)
{
	struct kvm_io_device dev = {
		.type = KVM_IODEV_IOAPIC,
		.addr = base,
		.len = IOAPIC_MEM_LENGTH,
	};
	unsigned int i;

	/* at reset every redirection entry is masked */
	for (i = 0; i < IOAPIC_NUM_PINS; i++)
		dev.ioapic.redirtbl[i] = IOAPIC_RTE_MASKED;
	return kvm_io_bus_register(kvm, dev);
}

int kvm_register_ioeventfd(struct kvm *kvm, gpa_t addr, u32 len,
			   bool has_datamatch, u64 datamatch)
{
	if (len != 0 && len != 1 && len != 2 && len != 4 && len != 8)
		return -EINVAL;
	if (has_datamatch && !len)
		return -EINVAL;
	return kvm_io_bus_register(kvm, (struct kvm_io_device){
		.type = KVM_IODEV_IOEVENTFD,
		.addr = addr,
		.len = len,
		.ioeventfd = {
			.len = len,
			.has_datamatch = has_datamatch,
			.datamatch = datamatch,
		},
	});
}

int kvm_register_coalesced_mmio(struct kvm *kvm, gpa_t addr, u32 size)
{
	if (!size)
		return -EINVAL;
	return kvm_io_bus_register(kvm, (struct kvm_io_device){
		.type = KVM_IODEV_COALESCED,
		.addr = addr,
		.len = size,
	});
}

static bool kvm_io_bus_range_match(const struct kvm_io_device *dev, gpa_t addr, int len)
{
	if (addr < dev->addr)
		return false;
	if (!dev->len)
		return addr == dev->addr;
	return addr + len <= dev->addr + dev->len;
}

static u64 load_le(const void *val, int len)
{
	const u8 *p = val;
	u64 v = 0;
	int i;

	for (i = len - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void store_le(void *val, int len, u64 v)
{
	u8 *p = val;
	int i;

	for (i = 0; i < len; i++, v >>= 8)
		p[i] = (u8)v;
}

/* The IOAPIC indirect registers: 0 id, 1 version, 2 arbitration, 0x10+ RTEs. */
static u32 ioapic_read_indirect(const struct kvm_ioapic *ioapic)
{
	u32 reg = ioapic->ioregsel;

	switch (reg) {
	case 0:
		return (ioapic->id & 0xf) << 24;
	case 1:
		return ((IOAPIC_NUM_PINS - 1) << 16) | 0x11;
	case 2:
		return (ioapic->id & 0xf) << 24;
	default:
		reg -= 0x10;
		if (reg / 2 >= IOAPIC_NUM_PINS)
			return ~0U;
		return (u32)(ioapic->redirtbl[reg / 2] >> (32 * (reg & 1)));
	}
}

static void ioapic_write_indirect(struct kvm_ioapic *ioapic, u32 val)
{
	u32 reg = ioapic->ioregsel, idx, shift;

	if (reg == 0) {
		ioapic->id = (val >> 24) & 0xf;
		return;
	}
	if (reg < 0x10)
		return;
	idx = (reg - 0x10) / 2;
	if (idx >= IOAPIC_NUM_PINS)
		return;
	shift = 32 * ((reg - 0x10) & 1);
	ioapic->redirtbl[idx] &= ~(0xffffffffULL << shift);
	ioapic->redirtbl[idx] |= (u64)val << shift;
}

/*
 * Register window: IOREGSEL at +0, IOWIN at +0x10, everything else reads
 * as 0.  Any length is accepted inside the window; reads of 1, 2, 4 or 8
 * bytes return the register (8: zero-extended), other lengths leave the
 * destination untouched, writes of other lengths are ignored (measured on
 * 6.18.44, emulator/README.md).
 */
static int ioapic_mmio_read(struct kvm_ioapic *ioapic, gpa_t off, int len, void *val)
{
	u64 result = 0;

	if (len != 1 && len != 2 && len != 4 && len != 8)
		return 0;

	switch (off) {
	case 0x00:
		result = ioapic->ioregsel;
		break;
	case 0x10:
		result = ioapic_read_indirect(ioapic);
		break;
	}
	store_le(val, len, result);
	return 0;
}

static int ioapic_mmio_write(struct kvm_ioapic *ioapic, gpa_t off, int len, const void *val)
{
	u32 data;

	if (len != 1 && len != 2 && len != 4 && len != 8)
		return 0;
	data = (u32)load_le(val, len > 4 ? 4 : len);

	switch (off) {
	case 0x00:
		ioapic->ioregsel = data & 0xff;
		break;
	case 0x10:
		ioapic_write_indirect(ioapic, data);
		break;
	}
	return 0;
}

static int ioeventfd_write(struct kvm_io_device *dev, gpa_t addr, int len, const void *val)
{
	struct kvm_ioeventfd *p = &dev->ioeventfd;

	if (addr != dev->addr)
		return -EOPNOTSUPP;
	if (p->len && (u32)len != p->len)
		return -EOPNOTSUPP;
	if (p->has_datamatch && load_le(val, len) != p->datamatch)
		return -EOPNOTSUPP;
	p->signals++;
	return 0;
}

static int coalesced_mmio_write(struct kvm *kvm, gpa_t addr, int len, const void *val)
{
	struct kvm_coalesced_ring *ring = &kvm->coalesced_ring;
	u32 next = (ring->last + 1) % KVM_COALESCED_MMIO_MAX;
	struct kvm_coalesced_mmio *e;

	/* a full ring refuses the chunk, which then goes to userspace */
	if (next == ring->first)
		return -EOPNOTSUPP;
	e = &ring->entries[ring->last];
	e->phys_addr = addr;
	e->len = len;
	memset(e->data, 0, sizeof(e->data));
	memcpy(e->data, val, len);
	ring->last = next;
	return 0;
}

int kvm_io_bus_read(struct kvm *kvm, gpa_t addr, int len, void *val)
{
	unsigned int i;

	for (i = 0; i < kvm->nr_iodevs; i++) {
		struct kvm_io_device *dev = &kvm->mmio_bus[i];

		if (!kvm_io_bus_range_match(dev, addr, len))
			continue;
		if (dev->type == KVM_IODEV_IOAPIC)
			return ioapic_mmio_read(&dev->ioapic, addr - dev->addr, len, val);
	}
	return -EOPNOTSUPP;
}

int kvm_io_bus_write(struct kvm *kvm, gpa_t addr, int len, const void *val)
{
	unsigned int i;

	for (i = 0; i < kvm->nr_iodevs; i++) {
		struct kvm_io_device *dev = &kvm->mmio_bus[i];
		int r = -EOPNOTSUPP;

		if (!kvm_io_bus_range_match(dev, addr, len))
			continue;
		switch (dev->type) {
		case KVM_IODEV_IOAPIC:
			r = ioapic_mmio_write(&dev->ioapic, addr - dev->addr, len, val);
			break;
		case KVM_IODEV_IOEVENTFD:
			r = ioeventfd_write(dev, addr, len, val);
			break;
		case KVM_IODEV_COALESCED:
			r = coalesced_mmio_write(kvm, addr, len, val);
			break;
		}
		if (!r)
			return 0;
	}
	return -EOPNOTSUPP;
}
