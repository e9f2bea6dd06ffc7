// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvm-iobus-order: does a device on KVM's MMIO bus stop taking writes
 * because of the order in which the bus's devices were registered?
 *
 * Found by fragfuzz_kvm as an order-dependent finding (a coalesced MMIO
 * zone whose writes exited to userspace after ~170 earlier cases, see
 * fuzz/open-fidelity/order-dependent/).  KVM keeps a bus's devices in an
 * array that kvm_io_bus_get_first_dev() binary-searches with
 * kvm_io_bus_cmp() (virt/kvm/kvm_main.c).  That comparison ignores the
 * lengths when the second range has length 0 (an ioeventfd that matches
 * one address, any width), and kvm_io_bus_register_dev() inserts a new
 * device before the first one that compares greater.  A range that ends
 * exactly where a zero-length ioeventfd starts compares equal to it, so
 * it is inserted after it, out of address order, and the search for an
 * address inside it can then miss it.
 *
 * Each case makes a new VM (no irqchip), registers three devices in the
 * given order (coalesced zone A at 0x1000, ioeventfd E at 0x3000 with
 * length 0, coalesced zone B at 0x2000), and runs one real-mode
 * `mov [0x2000], al; hlt`.  The write belongs to zone B: it should go to
 * the coalesced ring with no exit.
 *
 * The same search also walks only one run of ranges that hold the
 * address, and overlapping ranges of different lengths are not one run in
 * that order: the PIO cases register ioeventfds of 1, 2 and 4 bytes at
 * every port 0x80-0x8f (or only the 1-byte one at 0x86) and run
 * `mov dx, 0x86; out dx, al; hlt`, which should not exit.
 *
 * Prints one line per case and exits 0 when no write exited, 1 when one
 * did, 2 on a set-up error.
 *
 *   build/kvm-iobus-order
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kvm.h>

#define CODE_GPA	0xf000ULL	/* one RAM page: real-mode code at CS 0 */
#define ZONE_A		0x1000ULL
#define ZONE_B		0x2000ULL
#define IOEVENTFD_GPA	0x3000ULL	/* ZONE_B's end: the trigger */

struct iobus_case {
	const char *name;
	/* 'A', 'B', 'E' in registration order; 'P': all port widths, 'p': 0x86/1 */
	const char *order;
};

static const struct iobus_case cases[] = {
	{ "zones first, ioeventfd last", "ABE" },
	{ "ioeventfd before zone B", "AEB" },
	{ "ioeventfd first", "EAB" },
	{ "PIO, only 0x86/1", "p" },
	{ "PIO, 1/2/4 at every port", "P" },
};

/* PIO ioeventfds: 0x86/1 only, or every width at every port 0x80-0x8f */
static int register_ports(int vm, bool all, int efd)
{
	static const unsigned int widths[] = { 1, 2, 4 };
	struct kvm_ioeventfd io = { .fd = efd, .flags = KVM_IOEVENTFD_FLAG_PIO };
	unsigned int port, i;

	if (!all) {
		io.addr = 0x86;
		io.len = 1;
		return ioctl(vm, KVM_IOEVENTFD, &io);
	}
	for (port = 0x80; port < 0x90; port++) {
		for (i = 0; i < 3; i++) {
			if (port + widths[i] > 0x90)
				continue;
			io.addr = port;
			io.len = widths[i];
			if (ioctl(vm, KVM_IOEVENTFD, &io) < 0)
				return -1;
		}
	}
	return 0;
}

static int register_dev(int vm, char dev, int efd)
{
	struct kvm_coalesced_mmio_zone z = { .size = 0x1000 };
	struct kvm_ioeventfd io = { .addr = IOEVENTFD_GPA, .len = 0, .fd = efd };

	if (dev == 'P' || dev == 'p')
		return register_ports(vm, dev == 'P', efd);
	if (dev == 'E')
		return ioctl(vm, KVM_IOEVENTFD, &io);
	z.addr = dev == 'A' ? ZONE_A : ZONE_B;
	return ioctl(vm, KVM_REGISTER_COALESCED_MMIO, &z);
}

/* 0: the write was coalesced; 1: it exited; -errno on a set-up error */
static int run_case(int kvm, const struct iobus_case *c, char *what, size_t size)
{
	static const uint8_t code[] = { 0xa2, 0x00, 0x20, 0xf4 };	/* mov [0x2000], al; hlt */
	static const uint8_t pio[] = { 0xba, 0x86, 0x00, 0xee, 0xf4 };	/* mov dx, 0x86; out dx, al; hlt */
	struct kvm_userspace_memory_region mem = {
		.slot = 0, .guest_phys_addr = CODE_GPA, .memory_size = 0x1000,
	};
	struct kvm_coalesced_mmio_ring *ring;
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = CODE_GPA, .rax = 0x5a, .rflags = 2 };
	struct kvm_run *run = MAP_FAILED;
	int vm = -1, vcpu = -1, efd = -1, r = 0, ring_page, run_size;
	uint8_t *page = MAP_FAILED;
	const char *p;

	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	ring_page = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_MMIO);
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	page = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	efd = eventfd(0, EFD_CLOEXEC);
	if (vm < 0 || ring_page <= 0 || run_size <= 0 || page == MAP_FAILED || efd < 0) {
		r = -errno;
		snprintf(what, size, "set-up: %s", ring_page <= 0 ? "no coalesced MMIO" :
			 strerror(errno));
		goto out;
	}
	if (c->order[0] == 'P' || c->order[0] == 'p')
		memcpy(page, pio, sizeof(pio));
	else
		memcpy(page, code, sizeof(code));
	mem.userspace_addr = (uint64_t)(uintptr_t)page;
	vcpu = ioctl(vm, KVM_SET_USER_MEMORY_REGION, &mem) < 0 ? -1 :
	       ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu >= 0)
		run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (vcpu < 0 || run == MAP_FAILED || ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0) {
		r = -errno;
		snprintf(what, size, "vCPU: %s", strerror(errno));
		goto out;
	}
	/* real mode as reset leaves it, CS base 0 */
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0 || ioctl(vcpu, KVM_SET_REGS, &regs) < 0) {
		r = -errno;
		snprintf(what, size, "registers: %s", strerror(errno));
		goto out;
	}
	for (p = c->order; *p; p++) {
		if (register_dev(vm, *p, efd) < 0) {
			r = -errno;
			snprintf(what, size, "register %c: %s", *p, strerror(errno));
			goto out;
		}
	}
	if (ioctl(vcpu, KVM_RUN, 0) < 0) {
		r = -errno;
		snprintf(what, size, "KVM_RUN: %s", strerror(errno));
		goto out;
	}
	ring = (struct kvm_coalesced_mmio_ring *)((uint8_t *)run + ring_page * 0x1000);
	if (run->exit_reason == KVM_EXIT_IO) {
		snprintf(what, size, "KVM_EXIT_IO out of %u byte to port 0x%x", run->io.size,
			 run->io.port);
		r = 1;
	} else if (run->exit_reason == KVM_EXIT_HLT && (c->order[0] == 'P' || c->order[0] == 'p')) {
		snprintf(what, size, "taken by the ioeventfd, then hlt");
	} else if (run->exit_reason == KVM_EXIT_MMIO) {
		snprintf(what, size, "KVM_EXIT_MMIO write of %u byte at 0x%llx, ring empty",
			 run->mmio.len, (unsigned long long)run->mmio.phys_addr);
		r = 1;
	} else if (run->exit_reason == KVM_EXIT_HLT && ring->last != ring->first) {
		snprintf(what, size, "coalesced: ring entry at 0x%llx, then hlt",
			 (unsigned long long)ring->coalesced_mmio[ring->first].phys_addr);
	} else {
		snprintf(what, size, "unexpected exit reason %u", run->exit_reason);
		r = -EIO;
	}
out:
	if (run != MAP_FAILED)
		munmap(run, run_size);
	if (vcpu >= 0)
		close(vcpu);
	if (vm >= 0)
		close(vm);
	if (efd >= 0)
		close(efd);
	if (page != MAP_FAILED)
		munmap(page, 0x1000);
	return r;
}

int main(void)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC), ret = 0;
	unsigned int i;

	if (kvm < 0) {
		printf("kvm-iobus-order: /dev/kvm not available (%s)\n", strerror(errno));
		return 2;
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char what[160];
		int r = run_case(kvm, &cases[i], what, sizeof(what));

		printf("%-6s %s (order %s): %s\n", r == 0 ? "ok" : r > 0 ? "EXIT" : "error",
		       cases[i].name, cases[i].order, what);
		if (r < 0)
			ret = 2;
		else if (r > 0 && !ret)
			ret = 1;
	}
	close(kvm);
	return ret;
}
