// SPDX-License-Identifier: GPL-2.0-only
/*
 * In-kernel device frames on real KVM (see kvm_devices.h).
 *
 * Only uapi types here: this file includes no model header that reuses a
 * uapi name (scenario.h and trace.h are plain).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "kvm/kvm_devices.h"

#define KD_APIC_BASE		0xfee00000ULL
#define KD_IOAPIC_BASE		0xfec00000ULL
#define KD_IOAPIC_LEN		0x100
#define KD_MSR_APIC_BASE	0x1b
#define KD_APIC_BASE_BSP	BIT(8)
#define KD_APIC_BASE_ENABLE	BIT(11)
#define KD_NR_CHIPS		3	/* PIC master, PIC slave, IOAPIC */
#define KD_RING_MAX		KVM_COALESCED_MMIO_MAX
#define KD_MAX_REGS		128	/* ioeventfds, and zones, a VM keeps */
/*
 * The model's in-kernel port device (emulator/vcpu.h KVM_PIO_DEV_BASE,
 * KVM_PIO_DEV_LEN; not included here, see above): ports 0x80-0x8f.
 */
#define KD_PIO_DEV_BASE		0x80
#define KD_PIO_DEV_LEN		16

/*
 * Priming the read cache: at the scratch page's start one or two "popa"
 * and "out 0xe6, al" (the backend's sentinel), run in flat 32-bit
 * protected mode with ESP on KD_PRIME_POPAS * KD_PRIME_BYTES zero bytes of
 * the page.
 */
#define KD_PRIME_STACK		0x100
#define KD_PRIME_BYTES		32
#define KD_PRIME_POPAS		2
#define KD_SENTINEL_PORT	0xe6
#define KD_CR0_PE		BIT(0)
#define KD_CR0_ET		BIT(4)

struct kd_ioeventfd {
	u64 addr;
	u32 len;
	int fd;
	bool parked;		/* the current case has no such frame */
	bool hit;		/* parked, it took a write: to be dropped */
};

struct kvm_devices {
	/* what the kernel offers */
	bool has_irqchip;
	bool has_ioeventfd;
	int ring_page;			/* KVM_CAP_COALESCED_MMIO: page offset, 0: none */
	bool host_split_lock;		/* the host CPU detects split locks */

	/* the current VM */
	int vm_fd, vcpu_fd;
	bool vm_irqchip;
	bool reset_needed;		/* LAPIC/IOAPIC/PIC state to be put back */
	bool reset_msr;			/* ... and the APIC base MSR */
	bool sync_regs;			/* registers through kvm_run (priming) */
	bool ran_vcpu;			/* the last kvm_devices_setup() primed */
	bool reachable;			/* the case can reach the LAPIC or IOAPIC */
	bool read_unprimed;		/* the case read them, not primed: again */
	struct kvm_lapic_state lapic0;
	struct kvm_irqchip chip0[KD_NR_CHIPS];
	struct kvm_coalesced_mmio_ring *ring;
	struct kvm_run *run;
	struct kvm_sregs sregs0;	/* the fresh vCPU's, for priming */
	u8 *scratch;			/* host view of the scratch page */
	u64 scratch_gpa;
	struct kd_ioeventfd ev[KD_MAX_REGS];
	unsigned int nr_ev;
	int pio_fd;			/* the port device's eventfd, -1: none */
	int epoll_fd;			/* every eventfd of ev[]: the signalled ones */
	u64 zone[KD_MAX_REGS];		/* coalesced zones, a frame each */
	bool zone_parked[KD_MAX_REGS];	/* the current case has no such frame */
	bool zone_hit[KD_MAX_REGS];	/* parked, it took a write: to be dropped */
	unsigned int nr_zones;
	/*
	 * A parked registration took a write of the last case (its eventfd
	 * signalled, its zone has a ring entry): the case must run again
	 * without it (kvm_devices_run_again()).
	 */
	bool parked_hit;
	bool registered;		/* the last kvm_devices_setup() registered */

	struct kvm_devices_log log;
};

/* The "split_lock_detect" CPU flag of /proc/cpuinfo. */
static bool host_has_split_lock_detect(void)
{
	char line[4096];
	bool found = false;
	FILE *f = fopen("/proc/cpuinfo", "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *p;

		if (strncmp(line, "flags", 5))
			continue;
		for (p = strtok(line, " \t\n"); p; p = strtok(NULL, " \t\n"))
			if (!strcmp(p, "split_lock_detect"))
				found = true;
		break;
	}
	fclose(f);
	return found;
}

struct kvm_devices *kvm_devices_create(int kvm_fd, const struct kvm_devices *like)
{
	struct kvm_devices *kd = calloc(1, sizeof(*kd));
	int n;

	if (!kd)
		return NULL;
	kd->vm_fd = kd->vcpu_fd = -1;
	kd->pio_fd = -1;
	kd->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (kd->epoll_fd < 0) {
		free(kd);
		return NULL;
	}
	if (like) {
		kd->has_irqchip = like->has_irqchip;
		kd->has_ioeventfd = like->has_ioeventfd;
		kd->ring_page = like->ring_page;
		kd->host_split_lock = like->host_split_lock;
		return kd;
	}
	kd->has_irqchip = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP) > 0;
	kd->has_ioeventfd = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IOEVENTFD) > 0;
	n = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_MMIO);
	kd->ring_page = n > 0 ? n : 0;
	kd->host_split_lock = host_has_split_lock_detect();
	return kd;
}

void kvm_devices_destroy(struct kvm_devices *kd)
{
	if (!kd)
		return;
	kvm_devices_vm_gone(kd);
	close(kd->epoll_fd);
	free(kd);
}

bool kvm_devices_want_irqchip(const struct scenario *s)
{
	return !(s->ctl & SCN_CTL_NO_IRQCHIP);
}

bool kvm_devices_want_registrations(const struct scn_map *maps, unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (maps[i].kind == SCN_KIND_IOEVENTFD || maps[i].kind == SCN_KIND_COALESCED)
			return true;
	return false;
}

int kvm_devices_supported(const struct kvm_devices *kd, const struct scenario *s,
			  const struct scn_map *maps, unsigned int nr, char *why, size_t whylen)
{
	bool irqchip = kvm_devices_want_irqchip(s);
	unsigned int i;

	if (irqchip && !kd->has_irqchip) {
		snprintf(why, whylen, "irqchip on: KVM has no in-kernel irqchip");
		return -EOPNOTSUPP;
	}
	if (!(s->ctl & SCN_CTL_SPLIT_LOCK) != !kd->host_split_lock) {
		snprintf(why, whylen, "split-lock %s: the host CPU %s split-lock detection",
			 kd->host_split_lock ? "off" : "on", kd->host_split_lock ? "has" : "has no");
		return -EOPNOTSUPP;
	}
	for (i = 0; i < nr; i++) {
		const struct scn_map *m = &maps[i];

		if (m->kind >= SCN_NR_KINDS) {
			snprintf(why, whylen, "map kind %u", m->kind);
			return -EOPNOTSUPP;
		}
		if ((m->kind == SCN_KIND_IOEVENTFD && !kd->has_ioeventfd) ||
		    (m->kind == SCN_KIND_COALESCED && !kd->ring_page)) {
			snprintf(why, whylen, "%s frames: KVM lacks them",
				 scenario_kind_name(m->kind));
			return -EOPNOTSUPP;
		}
		/*
		 * Two devices on the IOAPIC's bus range: KVM's bus sorts
		 * ranges with the same start as equal, so which one sees a
		 * write first is not defined (the model: the IOAPIC).
		 */
		if (irqchip && m->gpa == KD_IOAPIC_BASE &&
		    (m->kind == SCN_KIND_IOEVENTFD || m->kind == SCN_KIND_COALESCED)) {
			snprintf(why, whylen, "%s frame over the IOAPIC window",
				 scenario_kind_name(m->kind));
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

/*
 * The model's port device on real KVM: port writes of 1, 2 and 4 bytes
 * within KD_PIO_DEV_BASE .. + KD_PIO_DEV_LEN - 1 taken inside KVM_RUN,
 * as kernel_pio() takes them for an in-kernel device: no KVM_EXIT_IO,
 * and the emulator finishes the instruction (an OUT with TF set gets its
 * single-step #DB, where an OUT that exits loses it: singlestep-lost).
 * PIO ioeventfds, one per port and size (a bus device matches one address
 * and length), all on one eventfd that nothing reads.  Reads still exit
 * (an ioeventfd has no read side) and are answered as the model's device
 * answers them (backend_kvm.c pio_exit()).  Without them OUT to 0x89 with
 * TF retired on 6.18.44 where the model, with its device, delivered #DB
 * (kc3 a94007f15f57).
 */
static int pio_device_init(struct kvm_devices *kd)
{
	static const u32 sizes[] = { 1, 2, 4 };
	unsigned int i, port;

	if (!kd->has_ioeventfd)
		return 0;
	kd->pio_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (kd->pio_fd < 0)
		return -errno;
	/*
	 * One zero-length (any width) ioeventfd per port where every width
	 * fits, exact widths only at the top.  Overlapping ranges of
	 * different widths (0x84/4 over 0x85/1 and 0x86/1) are not all
	 * found: KVM's bus search walks only a run of ranges that contain
	 * the write, and in its order the ranges holding 0x86 are not one run,
	 * so `out dx, al` to 0x85 or 0x86 exited (6.18.44; iobus-missed,
	 * fuzz/known-issues.md).
	 */
	for (port = KD_PIO_DEV_BASE; port < KD_PIO_DEV_BASE + KD_PIO_DEV_LEN; port++) {
		bool all_fit = port + 4 <= KD_PIO_DEV_BASE + KD_PIO_DEV_LEN;

		for (i = 0; i < ARRAY_SIZE(sizes); i++) {
			struct kvm_ioeventfd io = {
				.addr = port,
				.len = all_fit ? 0 : sizes[i],
				.fd = kd->pio_fd,
				.flags = KVM_IOEVENTFD_FLAG_PIO,
			};

			if (port + sizes[i] > KD_PIO_DEV_BASE + KD_PIO_DEV_LEN)
				continue;
			if (ioctl(kd->vm_fd, KVM_IOEVENTFD, &io) < 0)
				return -errno;
			if (all_fit)
				break;
		}
	}
	return 0;
}

int kvm_devices_vm_init(struct kvm_devices *kd, int vm_fd, bool irqchip)
{
	kvm_devices_vm_gone(kd);
	kd->vm_fd = vm_fd;
	if (irqchip) {
		if (ioctl(vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
			return -errno;
		kd->vm_irqchip = true;
	}
	return pio_device_init(kd);
}

static int set_apic_base(struct kvm_devices *kd)
{
	u64 buf[(sizeof(struct kvm_msrs) + sizeof(struct kvm_msr_entry)) / sizeof(u64)] = { 0 };
	struct kvm_msrs *m = (struct kvm_msrs *)buf;
	int r;

	m->nmsrs = 1;
	m->entries[0].index = KD_MSR_APIC_BASE;
	m->entries[0].data = KD_APIC_BASE | KD_APIC_BASE_ENABLE | KD_APIC_BASE_BSP;
	r = ioctl(kd->vcpu_fd, KVM_SET_MSRS, m);

	return r == 1 ? 0 : r < 0 ? -errno : -EIO;
}

int kvm_devices_vcpu_init(struct kvm_devices *kd, int vcpu_fd, void *run, size_t run_size,
			  u8 *scratch, u64 scratch_gpa, bool sync_regs)
{
	size_t off = (size_t)kd->ring_page * PAGE_SIZE;
	unsigned int i;
	int r;

	kd->vcpu_fd = vcpu_fd;
	kd->run = run;
	kd->sync_regs = sync_regs;
	kd->scratch = scratch;
	kd->scratch_gpa = scratch_gpa;
	if (kd->ring_page && off + PAGE_SIZE <= run_size)
		kd->ring = (struct kvm_coalesced_mmio_ring *)((u8 *)run + off);
	/* the base of the priming code's registers, with or without irqchip */
	if (ioctl(vcpu_fd, KVM_GET_SREGS, &kd->sregs0) < 0)
		return -errno;
	if (!kd->vm_irqchip)
		return 0;
	/* xAPIC, enabled, at the default base: what the model has */
	r = set_apic_base(kd);
	if (r)
		return r;
	if (ioctl(vcpu_fd, KVM_GET_LAPIC, &kd->lapic0) < 0)
		return -errno;
	for (i = 0; i < KD_NR_CHIPS; i++) {
		kd->chip0[i] = (struct kvm_irqchip){ .chip_id = i };
		if (ioctl(kd->vm_fd, KVM_GET_IRQCHIP, &kd->chip0[i]) < 0)
			return -errno;
	}
	return 0;
}

void kvm_devices_vm_gone(struct kvm_devices *kd)
{
	unsigned int i;

	for (i = 0; i < kd->nr_ev; i++)
		close(kd->ev[i].fd);	/* leaves the epoll set too */
	kd->nr_ev = 0;
	if (kd->pio_fd >= 0)
		close(kd->pio_fd);
	kd->pio_fd = -1;
	kd->nr_zones = 0;
	kd->ring = NULL;
	kd->run = NULL;
	kd->vm_fd = kd->vcpu_fd = -1;
	kd->vm_irqchip = false;
	kd->reset_needed = false;
	kd->reset_msr = false;
}

/*
 * The device state of a fresh vCPU and VM.  The APIC base MSR only after
 * a case that may have written MSRs: it costs a vCPU ioctl.
 */
static int reset_state(struct kvm_devices *kd)
{
	unsigned int i;
	int r = kd->reset_msr ? set_apic_base(kd) : 0;

	if (r)
		return r;
	if (ioctl(kd->vcpu_fd, KVM_SET_LAPIC, &kd->lapic0) < 0)
		return -errno;
	for (i = 0; i < KD_NR_CHIPS; i++)
		if (ioctl(kd->vm_fd, KVM_SET_IRQCHIP, &kd->chip0[i]) < 0)
			return -errno;
	kd->reset_needed = false;
	kd->reset_msr = false;
	return 0;
}

static int ioeventfd_assign(struct kvm_devices *kd, u64 addr, u32 len, int fd, bool deassign)
{
	struct kvm_ioeventfd io = {
		.addr = addr,
		.len = len,
		.fd = fd,
		.flags = deassign ? KVM_IOEVENTFD_FLAG_DEASSIGN : 0,
	};

	return ioctl(kd->vm_fd, KVM_IOEVENTFD, &io) < 0 ? -errno : 0;
}

static int zone_register(struct kvm_devices *kd, u64 gpa, bool unregister)
{
	struct kvm_coalesced_mmio_zone z = { .addr = gpa, .size = PAGE_SIZE };

	return ioctl(kd->vm_fd, unregister ? KVM_UNREGISTER_COALESCED_MMIO :
			 KVM_REGISTER_COALESCED_MMIO, &z) < 0 ? -errno : 0;
}

/* The frame's first map decides its kind, so equal frames are equal maps. */
static bool ev_wanted(const struct scn_map *maps, unsigned int nr, u64 addr, u32 len)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (maps[i].kind == SCN_KIND_IOEVENTFD &&
		    maps[i].gpa + maps[i].ev_offset == addr && maps[i].ev_len == len)
			return true;
	return false;
}

static bool zone_wanted(const struct scn_map *maps, unsigned int nr, u64 gpa)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (maps[i].kind == SCN_KIND_COALESCED && maps[i].gpa == gpa)
			return true;
	return false;
}

/*
 * Registrations @s does not want stay in the VM, parked: a change of KVM's
 * MMIO bus is cheap itself, but here it makes the next memslot change wait
 * 3-10 ms (kvm_devices.h).  A parked registration changes a case only if it
 * takes one of the case's writes (reads pass every ioeventfd and coalesced
 * zone by), and a taken write shows: the eventfd signals, or the ring has an
 * entry in the zone.  Such a case is run again without that registration
 * (kvm_devices_run_again()).  Where the case cannot reach them (paging on,
 * frame not mapped) they cannot take anything.
 *
 * A parked registration goes when it took a write (hit), or when the case
 * maps its frame as anything but RAM (a write there would reach the MMIO
 * bus and be taken), or, with @all, in any case.  The rest stay parked.
 */
static bool frame_collides(const struct scn_map *maps, unsigned int nr, u64 gpa)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (maps[i].gpa == (gpa & PAGE_MASK))
			return maps[i].kind != SCN_KIND_RAM;	/* the first map decides */
	return false;
}

/*
 * Can a parked registration of [@addr, @addr + @len) change how KVM finds
 * a device of the case's frames?  KVM keeps the MMIO bus sorted with
 * kvm_io_bus_cmp() and finds a write's device by bsearch
 * (virt/kvm/kvm_main.c).  That comparison ends a zero-length range at its
 * address, and a range "contains" another that starts in it and ends at
 * or before its own end, so a zero-length ioeventfd at A compares as
 * inside a coalesced zone or ioeventfd that ends at A (the frame before
 * A).  Between a parked and a wanted device in that relation the order of
 * registration decides, and a bsearch can turn the wrong way at the one
 * and miss the other: the write exits to userspace although a device
 * would take it (a parked 0x6000/0 ioeventfd hid a wanted zone at 0x5000;
 * a parked zone at 0x5000 hid a wanted 0x6000/0 ioeventfd).  So a parked
 * one goes when a non-RAM frame of the case holds its first or last byte,
 * the byte before it (zero length) or the byte after it (fuzz/known-
 * issues.md, "bus order").
 */
static bool range_collides(const struct scn_map *maps, unsigned int nr, u64 addr, u32 len)
{
	if (frame_collides(maps, nr, addr) || frame_collides(maps, nr, addr + len))
		return true;
	if (!len)
		return addr && frame_collides(maps, nr, addr - 1);
	return frame_collides(maps, nr, addr + len - 1);
}

/*
 * Does the case itself want a zero-length ioeventfd right after another
 * non-RAM frame of its own?  Then KVM's bus order (range_collides()) decides
 * whether that frame's devices are found, and every device of the bus
 * moves the bsearch's pivots: only the case's own registrations may be
 * there, registered in map order, as the model has them (emulator/iodev.c).
 */
static bool bus_order_matters(const struct scn_map *maps, unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++) {
		u64 addr = maps[i].gpa + maps[i].ev_offset;

		/* inside its own frame no other device can end at it */
		if (maps[i].kind == SCN_KIND_IOEVENTFD && !maps[i].ev_len && addr &&
		    !(addr & ~PAGE_MASK) && frame_collides(maps, nr, addr - 1))
			return true;
	}
	return false;
}

/*
 * Does an ioeventfd (zone @z) go before the case even without @all: not
 * wanted, and hit or touching a frame the case maps as non-RAM?
 */
static bool ev_goes(const struct scn_map *maps, unsigned int nr, const struct kd_ioeventfd *e)
{
	return !ev_wanted(maps, nr, e->addr, e->len) &&
	       (e->hit || range_collides(maps, nr, e->addr, e->len));
}

static bool zone_goes(const struct kvm_devices *kd, unsigned int z, const struct scn_map *maps,
		      unsigned int nr)
{
	return !zone_wanted(maps, nr, kd->zone[z]) &&
	       (kd->zone_hit[z] || range_collides(maps, nr, kd->zone[z], PAGE_SIZE));
}

static int drop_unwanted(struct kvm_devices *kd, const struct scn_map *maps, unsigned int nr,
			 bool all)
{
	unsigned int i;
	int r;

	for (i = 0; i < kd->nr_ev;) {
		struct kd_ioeventfd *e = &kd->ev[i];

		e->parked = !ev_wanted(maps, nr, e->addr, e->len);
		if (!(all && e->parked) && !ev_goes(maps, nr, e)) {
			e->hit = false;
			i++;
			continue;
		}
		r = ioeventfd_assign(kd, e->addr, e->len, e->fd, true);
		if (r)
			return r;
		close(e->fd);
		*e = kd->ev[--kd->nr_ev];
	}
	for (i = 0; i < kd->nr_zones;) {
		kd->zone_parked[i] = !zone_wanted(maps, nr, kd->zone[i]);
		if (!(all && kd->zone_parked[i]) && !zone_goes(kd, i, maps, nr)) {
			kd->zone_hit[i] = false;
			i++;
			continue;
		}
		r = zone_register(kd, kd->zone[i], true);
		if (r)
			return r;
		kd->nr_zones--;
		kd->zone[i] = kd->zone[kd->nr_zones];
		kd->zone_parked[i] = kd->zone_parked[kd->nr_zones];
		kd->zone_hit[i] = kd->zone_hit[kd->nr_zones];
	}
	return 0;
}

/* Register what @maps has and the VM does not yet; -ENOSPC: no room. */
static int add_wanted(struct kvm_devices *kd, const struct scn_map *maps, unsigned int nr)
{
	unsigned int i, j;
	int r, fd;

	for (i = 0; i < nr; i++) {
		const struct scn_map *m = &maps[i];
		u64 addr = m->gpa + m->ev_offset;

		if (m->kind == SCN_KIND_IOEVENTFD) {
			for (j = 0; j < kd->nr_ev; j++)
				if (kd->ev[j].addr == addr && kd->ev[j].len == m->ev_len)
					break;
			if (j < kd->nr_ev)
				continue;
			if (kd->nr_ev == KD_MAX_REGS)
				return -ENOSPC;
			fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
			if (fd < 0)
				return -errno;
			r = epoll_ctl(kd->epoll_fd, EPOLL_CTL_ADD, fd, &(struct epoll_event){
					.events = EPOLLIN, .data.fd = fd }) < 0 ? -errno : 0;
			if (!r)
				r = ioeventfd_assign(kd, addr, m->ev_len, fd, false);
			if (r) {
				close(fd);
				return r;
			}
			kd->registered = true;
			kd->ev[kd->nr_ev++] = (struct kd_ioeventfd){
				.addr = addr, .len = m->ev_len, .fd = fd,
			};
		} else if (m->kind == SCN_KIND_COALESCED) {
			for (j = 0; j < kd->nr_zones; j++)
				if (kd->zone[j] == m->gpa)
					break;
			if (j < kd->nr_zones)
				continue;
			if (kd->nr_zones == KD_MAX_REGS)
				return -ENOSPC;
			r = zone_register(kd, m->gpa, false);
			if (r)
				return r;
			kd->registered = true;
			kd->zone_parked[kd->nr_zones] = false;
			kd->zone_hit[kd->nr_zones] = false;
			kd->zone[kd->nr_zones++] = m->gpa;
		}
	}
	return 0;
}

/* Empty the ring; into the log when @log. */
static void ring_drain(struct kvm_devices *kd, bool log)
{
	struct kvm_coalesced_mmio_ring *ring = kd->ring;
	struct kvm_devices_log *l = &kd->log;
	u32 first, last;

	if (!ring)
		return;
	first = __atomic_load_n(&ring->first, __ATOMIC_RELAXED);
	last = __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE);
	while (first != last && first < KD_RING_MAX) {
		const struct kvm_coalesced_mmio *c = &ring->coalesced_mmio[first];
		unsigned int z;

		for (z = 0; log && z < kd->nr_zones; z++) {
			if (kd->zone_parked[z] && (c->phys_addr & PAGE_MASK) == kd->zone[z]) {
				kd->zone_hit[z] = true;
				kd->parked_hit = true;
			}
		}

		if (log && l->nr_ring < KVM_DEVICES_MAX_RING) {
			struct kvm_devices_ring_entry *e = &l->ring[l->nr_ring++];

			e->gpa = c->phys_addr;
			e->len = c->len;
			memset(e->data, 0, sizeof(e->data));
			memcpy(e->data, c->data, min_t(u32, c->len, sizeof(e->data)));
		} else if (log) {
			l->ring_lost = true;
		}
		first = (first + 1) % KD_RING_MAX;
	}
	__atomic_store_n(&ring->first, last, __ATOMIC_RELEASE);
}

/*
 * Read (and so reset) the counters of the signalled eventfds, which the
 * epoll set tells in one call however many are registered.
 */
static u64 eventfds_drain(struct kvm_devices *kd)
{
	struct epoll_event ready[KD_MAX_REGS];
	unsigned int i, j;
	u64 sum = 0, v;
	int n = kd->nr_ev ? epoll_wait(kd->epoll_fd, ready, KD_MAX_REGS, 0) : 0;

	for (j = 0; j < (unsigned int)max_t(int, n, 0); j++) {
		for (i = 0; i < kd->nr_ev && kd->ev[i].fd != ready[j].data.fd; i++)
			;
		if (i == kd->nr_ev || read(kd->ev[i].fd, &v, sizeof(v)) != sizeof(v))
			continue;
		if (kd->ev[i].parked) {
			kd->ev[i].hit = true;
			kd->parked_hit = true;
		} else {
			sum += v;
		}
	}
	return sum;
}

/* Does the layout name the APIC page or the IOAPIC window's frame? */
static bool maps_devices(const struct scn_map *maps, unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (maps[i].gpa == KD_APIC_BASE || maps[i].gpa == KD_IOAPIC_BASE)
			return true;
	return false;
}

/*
 * Can the case reach the APIC page or the IOAPIC window?  With paging off
 * every GPA is reachable; with paging only the mapped frames.
 */
static bool reaches_devices(const struct scenario *s, const struct scn_map *maps,
			    unsigned int nr)
{
	if (s->mode != SCN_MODE_LONG64 && s->mode != SCN_MODE_PROT32_PAGING)
		return true;
	return maps_devices(maps, nr);
}

/*
 * The LAPIC and IOAPIC leave the read buffer untouched for some reads
 * (kvm_devices.h), and that buffer is the emulator's read cache, which
 * keeps the bytes of earlier emulated reads, earlier cases' too.  Zero its
 * first KD_PRIME_BYTES (more than one instruction reads) with @popas
 * emulated popa of zeros, as a fresh vCPU (and the model) has them.  The
 * first read of the first popa also takes a read completion KVM still
 * holds (kvm_devices_clear_reads()), with no zeros read: a second popa
 * then zeroes the cache.
 */
static int prime_read_cache(struct kvm_devices *kd, unsigned int popas)
{
	struct kvm_segment seg = {
		.limit = 0xffffffff, .selector = 0x10, .type = 0x3, .present = 1, .s = 1,
		.db = 1, .g = 1,
	};
	struct kvm_sregs sr = kd->sregs0;
	struct kvm_regs regs = {
		.rip = kd->scratch_gpa + KD_PRIME_POPAS - popas,
		.rsp = kd->scratch_gpa + KD_PRIME_STACK,
		.rflags = 2,
	};
	unsigned int steps = 0;
	int r, tries = 0;

	memset(kd->scratch, 0x61, KD_PRIME_POPAS);	/* popa */
	kd->scratch[KD_PRIME_POPAS] = 0xe6;		/* out imm8, al */
	kd->scratch[KD_PRIME_POPAS + 1] = KD_SENTINEL_PORT;
	memset(kd->scratch + KD_PRIME_STACK, 0, KD_PRIME_POPAS * KD_PRIME_BYTES);
	sr.ds = sr.es = sr.ss = sr.fs = sr.gs = seg;
	seg.selector = 0x08;
	seg.type = 0xb;
	sr.cs = seg;
	sr.cr0 = KD_CR0_PE | KD_CR0_ET;
	sr.cr3 = sr.cr4 = sr.efer = 0;
	/*
	 * Each vCPU ioctl costs an MSR read in kvm_arch_vcpu_load() that is
	 * most of its time on this host: the registers go with the KVM_RUN
	 * (sync regs) where KVM has that.  The vCPU is not halted: a case
	 * that could halt it left it dirty, and the backend made it runnable
	 * (restore_extended()).
	 */
	if (kd->sync_regs) {
		kd->run->s.regs.sregs = sr;
		kd->run->s.regs.regs = regs;
		kd->run->kvm_dirty_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
	} else if (ioctl(kd->vcpu_fd, KVM_SET_SREGS, &sr) < 0 ||
		   ioctl(kd->vcpu_fd, KVM_SET_REGS, &regs) < 0) {
		return -errno;
	}
	/*
	 * A few instructions: a signal may interrupt, nothing loops.  With
	 * the backend's single-stepping (KVM_GUESTDBG_SINGLESTEP, still set
	 * from the last case) each popa ends with KVM_EXIT_DEBUG; after the
	 * last one that is as good as the sentinel.
	 */
	kd->ran_vcpu = true;
	for (;;) {
		r = ioctl(kd->vcpu_fd, KVM_RUN, 0);
		/* EINTR is the backend's guard timer: the VM goes */
		if (r < 0 && errno == EAGAIN && ++tries < 3)
			continue;
		if (r < 0)
			return -errno;
		if (kd->run->exit_reason != KVM_EXIT_DEBUG)
			break;
		if (++steps >= popas)
			return 0;
	}
	if (kd->run->exit_reason != KVM_EXIT_IO || kd->run->io.port != KD_SENTINEL_PORT)
		return -EIO;
	return 0;
}

int kvm_devices_clear_reads(struct kvm_devices *kd)
{
	if (!kd->scratch)
		return -EOPNOTSUPP;
	return prime_read_cache(kd, KD_PRIME_POPAS);
}

int kvm_devices_setup(struct kvm_devices *kd, const struct scenario *s,
		      const struct scn_map *maps, unsigned int nr, bool traced, bool prime,
		      bool unpark)
{
	/*
	 * Where the bus order matters the case's registrations go in anew,
	 * in map order as on a new VM and in the model, after all others
	 * (the kept ones would sit where earlier cases put them).
	 */
	int r = bus_order_matters(maps, nr) ? drop_unwanted(kd, NULL, 0, true) :
		drop_unwanted(kd, maps, nr, unpark);

	kd->ran_vcpu = false;
	kd->registered = false;
	if (!r)
		r = add_wanted(kd, maps, nr);
	/* no room, or a parked one collides with a wanted one: drop the parked */
	if (r == -ENOSPC || r == -EEXIST) {
		r = drop_unwanted(kd, maps, nr, true);
		if (!r)
			r = add_wanted(kd, maps, nr);
	}
	if (!r && kd->vm_irqchip && kd->reset_needed)
		r = reset_state(kd);
	/*
	 * Priming runs the vCPU (five ioctls): only for a case whose layout
	 * names the devices, or when there is no trace to tell whether the
	 * case read them.  A case that read them unprimed runs again primed
	 * (kvm_devices_collect()).
	 */
	kd->reachable = kd->vm_irqchip && kd->scratch && reaches_devices(s, maps, nr);
	if (!r && kd->reachable && (prime || !traced || maps_devices(maps, nr)))
		r = prime_read_cache(kd, 1);
	if (r)
		return r;
	eventfds_drain(kd);
	ring_drain(kd, false);
	kd->parked_hit = false;
	kd->read_unprimed = false;
	kd->log.nr_ring = 0;
	kd->log.ring_lost = false;
	kd->log.ioeventfd_signals = 0;
	return 0;
}

bool kvm_devices_should_take(const struct kvm_devices *kd, u64 gpa, u32 len)
{
	const struct kvm_coalesced_mmio_ring *ring = kd->ring;
	unsigned int i;

	for (i = 0; i < kd->nr_ev; i++)
		if (kd->ev[i].addr == gpa && (!kd->ev[i].len || kd->ev[i].len == len))
			return true;
	if (!ring)
		return false;
	/* KVM keeps one entry free: full when last + 1 meets first */
	if ((__atomic_load_n(&ring->last, __ATOMIC_ACQUIRE) + 1) % KD_RING_MAX ==
	    __atomic_load_n(&ring->first, __ATOMIC_RELAXED))
		return false;
	for (i = 0; i < kd->nr_zones; i++)
		if (gpa >= kd->zone[i] && gpa + len <= kd->zone[i] + PAGE_SIZE)
			return true;
	return false;
}

void kvm_devices_exit(struct kvm_devices *kd)
{
	ring_drain(kd, true);
}

static bool in_device_state(u64 gpa)
{
	return (gpa & PAGE_MASK) == KD_APIC_BASE ||
	       (gpa >= KD_IOAPIC_BASE && gpa < KD_IOAPIC_BASE + KD_IOAPIC_LEN);
}

/* Does event @e touch the LAPIC or IOAPIC state (its first or last byte)? */
static bool event_in_device_state(const struct kvm_mmio_event *e)
{
	return in_device_state(e->gpa) || in_device_state(e->gpa + e->len - 1);
}

void kvm_devices_collect(struct kvm_devices *kd, const struct kvm_mmio_trace *t, bool dirty)
{
	unsigned int i;

	ring_drain(kd, true);
	kd->log.ioeventfd_signals = eventfds_drain(kd);
	if (!kd->vm_irqchip)
		return;
	if (!t || t->lost || dirty) {
		kd->reset_needed = true;
		kd->reset_msr = true;
	}
	if (!t || t->lost) {
		kd->read_unprimed = kd->reachable && !kd->ran_vcpu;
		return;
	}
	/* a write reaches the LAPIC or IOAPIC only with a 'write' event */
	for (i = 0; i < t->nr; i++) {
		if (!event_in_device_state(&t->ev[i]))
			continue;
		if (t->ev[i].type == KVM_TRACE_MMIO_WRITE)
			kd->reset_needed = true;
		else if (t->ev[i].type == KVM_TRACE_MMIO_READ && !kd->ran_vcpu)
			kd->read_unprimed = true;
	}
}

void kvm_devices_settled(struct kvm_devices *kd, const struct kvm_mmio_trace *t)
{
	unsigned int i;

	if (!kd->vm_irqchip)
		return;
	if (!t || t->lost) {
		kd->reset_needed = true;
		return;
	}
	for (i = 0; i < t->nr; i++)
		if (t->ev[i].type == KVM_TRACE_MMIO_WRITE && event_in_device_state(&t->ev[i]))
			kd->reset_needed = true;
}

bool kvm_devices_would_unregister(const struct kvm_devices *kd, const struct scn_map *maps,
				  unsigned int nr)
{
	unsigned int i, ev = 0, zones = 0;

	if ((kd->nr_ev || kd->nr_zones) && bus_order_matters(maps, nr))
		return true;
	for (i = 0; i < kd->nr_ev; i++)
		if (ev_goes(maps, nr, &kd->ev[i]))
			return true;
	for (i = 0; i < kd->nr_zones; i++)
		if (zone_goes(kd, i, maps, nr))
			return true;
	/*
	 * Room for the case's registrations: counting every wanted one,
	 * registered or not, errs on the side of yes (add_wanted() drops the
	 * parked ones only when it runs out).
	 */
	for (i = 0; i < nr; i++) {
		ev += maps[i].kind == SCN_KIND_IOEVENTFD;
		zones += maps[i].kind == SCN_KIND_COALESCED;
	}
	return kd->nr_ev + ev > KD_MAX_REGS || kd->nr_zones + zones > KD_MAX_REGS;
}

bool kvm_devices_registered(const struct kvm_devices *kd)
{
	return kd->registered;
}

bool kvm_devices_run_again(const struct kvm_devices *kd, bool *prime)
{
	*prime = kd->read_unprimed;
	return kd->parked_hit || kd->read_unprimed;
}

bool kvm_devices_ran_vcpu(const struct kvm_devices *kd)
{
	return kd->ran_vcpu;
}

const struct kvm_devices_log *kvm_devices_log(const struct kvm_devices *kd)
{
	return &kd->log;
}
