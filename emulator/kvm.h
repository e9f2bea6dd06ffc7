/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The VM-wide part of the model: guest physical memory (memslots) and the
 * in-kernel MMIO bus with its devices (spec 3.2, 3.3).
 */
#ifndef FRAGFUZZ_KVM_H
#define FRAGFUZZ_KVM_H

#include "types.h"

#define KVM_MODEL_MAX_MEMSLOTS	32
#define KVM_MODEL_MAX_IODEVS	16
/* (PAGE_SIZE - ring header) / sizeof(struct kvm_coalesced_mmio) */
#define KVM_COALESCED_MMIO_MAX	170

#define APIC_DEFAULT_PHYS_BASE	0xfee00000ULL
#define IOAPIC_DEFAULT_BASE	0xfec00000ULL
#define IOAPIC_MEM_LENGTH	0x100
#define IOAPIC_NUM_PINS		24

struct kvm_memslot {
	gfn_t base_gfn;
	u64 npages;
	u8 *hva;		/* host backing, npages * PAGE_SIZE bytes */
	bool readonly;		/* KVM_MEM_READONLY: reads work, writes are MMIO */
};

enum kvm_iodev_type {
	KVM_IODEV_IOAPIC,	/* read/write register window */
	KVM_IODEV_IOEVENTFD,	/* write only, exact (addr, len) or len 0 */
	KVM_IODEV_COALESCED,	/* write only, appends to the ring */
};

struct kvm_ioapic {
	u32 ioregsel;
	u32 id;
	u64 redirtbl[IOAPIC_NUM_PINS];
};

struct kvm_ioeventfd {
	u32 len;		/* 0: any length at addr */
	bool has_datamatch;
	u64 datamatch;
	u64 signals;		/* times the eventfd was signalled */
};

struct kvm_io_device {
	enum kvm_iodev_type type;
	gpa_t addr;
	u32 len;		/* bus range; 0 only for len-0 ioeventfd */
	union {
		struct kvm_ioapic ioapic;
		struct kvm_ioeventfd ioeventfd;
	};
};

struct kvm_coalesced_mmio {
	u64 phys_addr;
	u32 len;
	u8 data[8];
};

struct kvm_coalesced_ring {
	u32 first, last;
	struct kvm_coalesced_mmio entries[KVM_COALESCED_MMIO_MAX];
};

struct kvm {
	struct kvm_memslot memslots[KVM_MODEL_MAX_MEMSLOTS];
	unsigned int nr_memslots;
	/* bumped on every memslot change; invalidates the MMIO cache */
	u64 memslots_generation;

	struct kvm_io_device mmio_bus[KVM_MODEL_MAX_IODEVS];
	unsigned int nr_iodevs;
	struct kvm_coalesced_ring coalesced_ring;
};

void kvm_init(struct kvm *kvm);
int kvm_set_memslot(struct kvm *kvm, gpa_t gpa, u64 size, u8 *hva, bool readonly);
const struct kvm_memslot *gfn_to_memslot(const struct kvm *kvm, gfn_t gfn);
u8 *gpa_to_hva(const struct kvm *kvm, gpa_t gpa, bool write);

/* Return 0 or -EFAULT; len may cross pages and slots. */
int kvm_vcpu_read_guest(const struct kvm *kvm, gpa_t gpa, void *data, u64 len);
int kvm_vcpu_write_guest(struct kvm *kvm, gpa_t gpa, const void *data, u64 len);

int kvm_register_ioapic(struct kvm *kvm, gpa_t base);
int kvm_register_ioeventfd(struct kvm *kvm, gpa_t addr, u32 len,
			   bool has_datamatch, u64 datamatch);
int kvm_register_coalesced_mmio(struct kvm *kvm, gpa_t addr, u32 size);

/* KVM_MMIO_BUS: 0 if a device handled (addr, len), -EOPNOTSUPP if not. */
int kvm_io_bus_read(struct kvm *kvm, gpa_t addr, int len, void *val);
int kvm_io_bus_write(struct kvm *kvm, gpa_t addr, int len, const void *val);

#endif
