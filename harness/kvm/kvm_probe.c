// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvm-probe: run one x86 instruction in a fresh 32-bit protected-mode guest
 * (paging off) on /dev/kvm and print every exit, in the style of kvmtool and
 * the KVM selftests.  Standalone; it does not link with the model.
 *
 *   kvm-probe [--esp V] [--reg NAME=V]... [--ram GPA]... [--trace]
 *	       [--get-regs | --resync] HEX...
 *   kvm-probe --builtin [--trace] [--get-regs | --resync]
 *
 * HEX is the instruction bytes ("61", "8b 07" or "8b07"); `hlt` is appended.
 * --ram adds a one-page RAM memslot at GPA (filled with 0x11 * (n+1) per
 * byte).  Every GPA outside the memslots is userspace MMIO: byte i of a read
 * at GPA g is answered with (u8)(g + i), so a register loaded from MMIO shows
 * which address it came from.  The run stops at HLT, an internal error, a
 * shutdown, or after MAX_EXITS exits.  Every case gets a fresh VM, so no MMIO
 * exchange is left half done.  --trace records kvm:kvm_mmio through a private
 * tracefs instance filtered to this process.  --get-regs does KVM_GET_REGS
 * before answering each MMIO exit (KVM then copies the emulator's GPR cache
 * to the vCPU), --resync also KVM_SET_REGS with the values read, as a VMM
 * that syncs registers would (KVM then drops the emulator's GPR cache).
 *
 * Guest memory: one RAM memslot at RAM_GPA holding the GDT, an IDT whose
 * stubs record the vector in MARKER and halt, the code, and a default stack.
 *
 * Build: cc -std=gnu11 -O2 -Wall -Wextra -Werror -o build/kvm-probe \
 *		harness/kvm/kvm_probe.c
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <linux/kvm.h>

#define RAM_GPA		0x100000ULL
#define RAM_SIZE	0x100000ULL
#define GDT_GPA		(RAM_GPA + 0x0000)
#define IDT_GPA		(RAM_GPA + 0x1000)
#define STUB_GPA	(RAM_GPA + 0x2000)	/* 256 stubs of 16 bytes */
#define CODE_GPA	(RAM_GPA + 0x4000)
#define MARKER_GPA	(RAM_GPA + 0x5000)
#define STACK_TOP	(RAM_GPA + RAM_SIZE - 0x1000)
#define PAGE_SIZE	0x1000ULL

#define SEL_CODE	0x08
#define SEL_DATA	0x10
#define SEL_TSS		0x18

#define MAX_EXITS	64
#define MAX_BYTES	15
#define MAX_RAM		4
#define MAX_EXPECT	16
#define MARKER_VALID	0x80000000u

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

enum gpr { R_EAX, R_ECX, R_EDX, R_EBX, R_ESP, R_EBP, R_ESI, R_EDI, NR_GPRS };

static const char *const gpr_names[NR_GPRS] = {
	"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
};

/* Distinct initial values, so a register a case does not load stands out. */
static const uint32_t gpr_defaults[NR_GPRS] = {
	0xa0a0a0a0, 0xc0c0c0c0, 0xd0d0d0d0, 0xb0b0b0b0,
	(uint32_t)STACK_TOP, 0xe0e0e0e0, 0x51515151, 0xd1d1d1d1,
};

struct mmio_exit {
	uint64_t gpa;
	uint32_t len;
	bool is_write;
};

struct probe_case {
	const char *name;
	uint8_t bytes[MAX_BYTES];
	int nbytes;
	uint32_t gpr[NR_GPRS];
	uint64_t ram[MAX_RAM];		/* extra one-page RAM memslots */
	int nram;
	/* The exits the SDM's semantics give (optional, --builtin only). */
	struct mmio_exit expect[MAX_EXPECT];
	int nexpect;
};

struct vm {
	int kvm_fd, vm_fd, vcpu_fd;
	struct kvm_run *run;
	size_t run_size;
	uint8_t *ram;
	uint8_t *extra[MAX_RAM];
	int nextra;
};

static void die(const char *what)
{
	fprintf(stderr, "kvm-probe: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int kvm_ioctl(int fd, unsigned long req, void *arg, const char *what)
{
	int r = ioctl(fd, req, arg);

	if (r < 0)
		die(what);
	return r;
}

static void set_memslot(struct vm *v, uint32_t slot, uint64_t gpa,
			uint64_t size, void *hva)
{
	struct kvm_userspace_memory_region mr = {
		.slot = slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)hva,
	};

	kvm_ioctl(v->vm_fd, KVM_SET_USER_MEMORY_REGION, &mr,
		  "KVM_SET_USER_MEMORY_REGION");
}

static void *alloc_guest(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	return p;
}

static inline void *gpa_ptr(struct vm *v, uint64_t gpa)
{
	return v->ram + (gpa - RAM_GPA);
}

static void put32(uint8_t *p, uint32_t x)
{
	memcpy(p, &x, sizeof(x));
}

static uint64_t gdt_entry(uint32_t base, uint32_t limit, uint8_t access,
			  uint8_t flags)
{
	return (uint64_t)(limit & 0xffff) |
	       ((uint64_t)(base & 0xffffff) << 16) |
	       ((uint64_t)access << 40) |
	       ((uint64_t)((limit >> 16) & 0xf) << 48) |
	       ((uint64_t)(flags & 0xf) << 52) |
	       ((uint64_t)(base >> 24) << 56);
}

/*
 * GDT (flat code, flat data, a TSS), and an IDT of 32-bit interrupt gates to
 * stubs "mov dword [MARKER], MARKER_VALID | vector; hlt; jmp hlt".
 */
static void setup_tables(struct vm *v)
{
	uint64_t *gdt = gpa_ptr(v, GDT_GPA);
	uint8_t *idt = gpa_ptr(v, IDT_GPA);
	int vec;

	gdt[0] = 0;
	gdt[SEL_CODE >> 3] = gdt_entry(0, 0xfffff, 0x9b, 0xc);
	gdt[SEL_DATA >> 3] = gdt_entry(0, 0xfffff, 0x93, 0xc);
	gdt[SEL_TSS >> 3] = gdt_entry(0, 0x67, 0x8b, 0x0);

	for (vec = 0; vec < 256; vec++) {
		uint32_t stub = STUB_GPA + vec * 16;
		uint8_t *s = gpa_ptr(v, stub);
		uint8_t *g = idt + vec * 8;

		s[0] = 0xc7;
		s[1] = 0x05;
		put32(s + 2, (uint32_t)MARKER_GPA);
		put32(s + 6, MARKER_VALID | vec);
		s[10] = 0xf4;		/* hlt */
		s[11] = 0xeb;		/* jmp hlt */
		s[12] = 0xfd;

		g[0] = stub & 0xff;
		g[1] = (stub >> 8) & 0xff;
		g[2] = SEL_CODE;
		g[3] = 0;
		g[4] = 0;
		g[5] = 0x8e;		/* present, DPL0, 32-bit interrupt gate */
		g[6] = (stub >> 16) & 0xff;
		g[7] = (stub >> 24) & 0xff;
	}
}

static void flat_segment(struct kvm_segment *s, uint16_t sel, uint8_t type)
{
	memset(s, 0, sizeof(*s));
	s->base = 0;
	s->limit = 0xffffffff;
	s->selector = sel;
	s->type = type;
	s->present = 1;
	s->dpl = 0;
	s->db = 1;
	s->s = 1;
	s->g = 1;
}

static void setup_sregs(struct vm *v)
{
	struct kvm_sregs sr;

	kvm_ioctl(v->vcpu_fd, KVM_GET_SREGS, &sr, "KVM_GET_SREGS");
	flat_segment(&sr.cs, SEL_CODE, 0xb);
	flat_segment(&sr.ds, SEL_DATA, 0x3);
	sr.es = sr.ds;
	sr.fs = sr.ds;
	sr.gs = sr.ds;
	sr.ss = sr.ds;

	memset(&sr.tr, 0, sizeof(sr.tr));
	sr.tr.selector = SEL_TSS;
	sr.tr.limit = 0x67;
	sr.tr.type = 0xb;		/* busy 32-bit TSS */
	sr.tr.present = 1;

	memset(&sr.ldt, 0, sizeof(sr.ldt));
	sr.ldt.type = 0x2;
	sr.ldt.unusable = 1;

	sr.gdt.base = GDT_GPA;
	sr.gdt.limit = 4 * 8 - 1;
	sr.idt.base = IDT_GPA;
	sr.idt.limit = 256 * 8 - 1;

	sr.cr0 = 0x1;			/* PE; paging off */
	sr.cr3 = 0;
	sr.cr4 = 0;
	sr.efer = 0;
	kvm_ioctl(v->vcpu_fd, KVM_SET_SREGS, &sr, "KVM_SET_SREGS");
}

static void setup_regs(struct vm *v, const struct probe_case *c)
{
	struct kvm_regs r;

	memset(&r, 0, sizeof(r));
	r.rax = c->gpr[R_EAX];
	r.rcx = c->gpr[R_ECX];
	r.rdx = c->gpr[R_EDX];
	r.rbx = c->gpr[R_EBX];
	r.rsp = c->gpr[R_ESP];
	r.rbp = c->gpr[R_EBP];
	r.rsi = c->gpr[R_ESI];
	r.rdi = c->gpr[R_EDI];
	r.rip = CODE_GPA;
	r.rflags = 0x2;
	kvm_ioctl(v->vcpu_fd, KVM_SET_REGS, &r, "KVM_SET_REGS");
}

static void vm_create(struct vm *v, const struct probe_case *c)
{
	int i, mmap_size;

	memset(v, 0, sizeof(*v));
	v->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (v->kvm_fd < 0)
		die("/dev/kvm");
	v->vm_fd = kvm_ioctl(v->kvm_fd, KVM_CREATE_VM, 0, "KVM_CREATE_VM");

	if (ioctl(v->vm_fd, KVM_CHECK_EXTENSION,
		  KVM_CAP_EXIT_ON_EMULATION_FAILURE) > 0) {
		struct kvm_enable_cap cap = {
			.cap = KVM_CAP_EXIT_ON_EMULATION_FAILURE,
			.args = { 1 },
		};

		kvm_ioctl(v->vm_fd, KVM_ENABLE_CAP, &cap,
			  "KVM_ENABLE_CAP(EXIT_ON_EMULATION_FAILURE)");
	}

	v->ram = alloc_guest(RAM_SIZE);
	set_memslot(v, 0, RAM_GPA, RAM_SIZE, v->ram);
	for (i = 0; i < c->nram; i++) {
		v->extra[i] = alloc_guest(PAGE_SIZE);
		memset(v->extra[i], 0x11 * (i + 1), PAGE_SIZE);
		set_memslot(v, 1 + i, c->ram[i], PAGE_SIZE, v->extra[i]);
	}
	v->nextra = c->nram;

	v->vcpu_fd = kvm_ioctl(v->vm_fd, KVM_CREATE_VCPU, 0,
			       "KVM_CREATE_VCPU");
	mmap_size = kvm_ioctl(v->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0,
			      "KVM_GET_VCPU_MMAP_SIZE");
	v->run_size = mmap_size;
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->vcpu_fd, 0);
	if (v->run == MAP_FAILED)
		die("mmap(kvm_run)");

	setup_tables(v);
	memcpy(gpa_ptr(v, CODE_GPA), c->bytes, c->nbytes);
	((uint8_t *)gpa_ptr(v, CODE_GPA))[c->nbytes] = 0xf4;	/* hlt */
	setup_sregs(v);
	setup_regs(v, c);
}

static void vm_destroy(struct vm *v)
{
	int i;

	munmap(v->run, v->run_size);
	close(v->vcpu_fd);
	close(v->vm_fd);
	close(v->kvm_fd);
	munmap(v->ram, RAM_SIZE);
	for (i = 0; i < v->nextra; i++)
		munmap(v->extra[i], PAGE_SIZE);
}

/* ---- tracefs: a private instance with kvm:kvm_mmio for this pid ---- */

#define TRACEFS		"/sys/kernel/tracing"

static char trace_dir[256];

static int write_file(const char *dir, const char *file, const char *s)
{
	char path[512];
	int fd, r;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = write(fd, s, strlen(s)) < 0 ? -errno : 0;
	close(fd);
	return r;
}

static int trace_start(void)
{
	char pid[32];
	struct stat st;

	if (stat(TRACEFS "/instances", &st) < 0) {
		fprintf(stderr, "kvm-probe: %s/instances missing (mount -t tracefs nodev %s)\n",
			TRACEFS, TRACEFS);
		return -1;
	}
	snprintf(trace_dir, sizeof(trace_dir), "%s/instances/kvm-probe-%d",
		 TRACEFS, (int)getpid());
	if (mkdir(trace_dir, 0700) < 0) {
		fprintf(stderr, "kvm-probe: mkdir %s: %s\n", trace_dir,
			strerror(errno));
		trace_dir[0] = 0;
		return -1;
	}
	snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (write_file(trace_dir, "set_event_pid", pid) < 0 ||
	    write_file(trace_dir, "trace", "") < 0 ||
	    write_file(trace_dir, "events/kvm/kvm_mmio/enable", "1\n") < 0) {
		fprintf(stderr, "kvm-probe: cannot set up %s\n", trace_dir);
		return -1;
	}
	return 0;
}

/* Print the recorded events (indented) and clear the buffer. */
static void trace_dump(void)
{
	char path[512], line[512];
	FILE *f;

	if (!trace_dir[0])
		return;
	snprintf(path, sizeof(path), "%s/trace", trace_dir);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *ev = strstr(line, "kvm_mmio: ");

		if (line[0] == '#')
			continue;
		printf("  trace: %s", ev ? ev + 10 : line);
	}
	fclose(f);
	write_file(trace_dir, "trace", "");
}

static void trace_stop(void)
{
	if (!trace_dir[0])
		return;
	write_file(trace_dir, "events/kvm/kvm_mmio/enable", "0\n");
	if (rmdir(trace_dir) < 0)
		fprintf(stderr, "kvm-probe: rmdir %s: %s\n", trace_dir,
			strerror(errno));
	trace_dir[0] = 0;
}

/* ---- running a case ---- */

static const char *exit_name(uint32_t reason)
{
	switch (reason) {
	case KVM_EXIT_MMIO:		return "MMIO";
	case KVM_EXIT_HLT:		return "HLT";
	case KVM_EXIT_SHUTDOWN:		return "SHUTDOWN";
	case KVM_EXIT_INTERNAL_ERROR:	return "INTERNAL_ERROR";
	case KVM_EXIT_FAIL_ENTRY:	return "FAIL_ENTRY";
	case KVM_EXIT_IO:		return "IO";
	default:			return "other";
	}
}

static void print_bytes(const uint8_t *b, int n)
{
	int i;

	for (i = 0; i < n; i++)
		printf("%s%02x", i ? " " : "", b[i]);
}

/* Returns the number of MMIO exits that differ from c->expect. */
static int run_case(const struct probe_case *c, bool trace, int resync)
{
	struct mmio_exit seen[MAX_EXITS];
	int nseen = 0, n, i, diffs = 0;
	struct kvm_regs r;
	uint32_t marker;
	struct vm v;
	bool stop = false;

	printf("== %s: bytes ", c->name);
	print_bytes(c->bytes, c->nbytes);
	printf(" (+f4), esp %#x", c->gpr[R_ESP]);
	for (i = 0; i < c->nram; i++)
		printf(", ram page %#llx", (unsigned long long)c->ram[i]);
	printf("\n");

	vm_create(&v, c);
	if (trace && trace_start() < 0)
		trace_stop();

	for (n = 0; n < MAX_EXITS && !stop; n++) {
		struct kvm_run *run = v.run;

		if (ioctl(v.vcpu_fd, KVM_RUN, 0) < 0) {
			printf("  exit %2d: KVM_RUN failed: %s\n", n,
			       strerror(errno));
			break;
		}
		printf("  exit %2d: %s", n, exit_name(run->exit_reason));
		switch (run->exit_reason) {
		case KVM_EXIT_MMIO:
			if (!run->mmio.is_write) {
				for (i = 0; i < (int)run->mmio.len; i++)
					run->mmio.data[i] =
						(uint8_t)(run->mmio.phys_addr + i);
			}
			printf(" %s gpa %#llx len %u data ",
			       run->mmio.is_write ? "W" : "R",
			       (unsigned long long)run->mmio.phys_addr,
			       run->mmio.len);
			print_bytes(run->mmio.data, run->mmio.len);
			if (resync) {
				kvm_ioctl(v.vcpu_fd, KVM_GET_REGS, &r,
					  "KVM_GET_REGS");
				printf(" (vcpu esp %08llx)", r.rsp);
				if (resync > 1)
					kvm_ioctl(v.vcpu_fd, KVM_SET_REGS, &r,
						  "KVM_SET_REGS");
			}
			if (nseen < MAX_EXITS) {
				seen[nseen].gpa = run->mmio.phys_addr;
				seen[nseen].len = run->mmio.len;
				seen[nseen].is_write = run->mmio.is_write;
				nseen++;
			}
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			printf(" suberror %u ndata %u",
			       run->internal.suberror, run->internal.ndata);
			for (i = 0; i < (int)run->internal.ndata && i < 16; i++)
				printf(" %#llx",
				       (unsigned long long)run->internal.data[i]);
			stop = true;
			break;
		case KVM_EXIT_FAIL_ENTRY:
			printf(" reason %#llx",
			       (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
			stop = true;
			break;
		case KVM_EXIT_IO:
			printf(" port %#x dir %u size %u", run->io.port,
			       run->io.direction, run->io.size);
			stop = true;
			break;
		default:
			if (run->exit_reason != KVM_EXIT_HLT &&
			    run->exit_reason != KVM_EXIT_SHUTDOWN)
				printf(" (%u)", run->exit_reason);
			stop = true;
			break;
		}
		printf("\n");
	}
	if (!stop)
		printf("  stopped after %d exits\n", MAX_EXITS);

	if (trace) {
		trace_dump();
		trace_stop();
	}

	kvm_ioctl(v.vcpu_fd, KVM_GET_REGS, &r, "KVM_GET_REGS");
	memcpy(&marker, gpa_ptr(&v, MARKER_GPA), sizeof(marker));
	if (marker & MARKER_VALID)
		printf("  exception: vector %u\n", marker & 0xff);
	printf("  regs: eax %08llx ecx %08llx edx %08llx ebx %08llx\n"
	       "        esp %08llx ebp %08llx esi %08llx edi %08llx\n"
	       "        eip %08llx eflags %08llx (esp %+lld)\n",
	       r.rax, r.rcx, r.rdx, r.rbx, r.rsp, r.rbp, r.rsi, r.rdi,
	       r.rip, r.rflags,
	       (long long)r.rsp - (long long)c->gpr[R_ESP]);

	if (c->nexpect) {
		for (i = 0; i < c->nexpect || i < nseen; i++) {
			const struct mmio_exit *e = i < c->nexpect ?
						    &c->expect[i] : NULL;
			const struct mmio_exit *s = i < nseen ? &seen[i] : NULL;

			if (e && s && e->gpa == s->gpa && e->len == s->len &&
			    e->is_write == s->is_write)
				continue;
			diffs++;
			printf("  DIFF exit %d: expected ", i);
			if (e)
				printf("%c %#llx/%u", e->is_write ? 'W' : 'R',
				       (unsigned long long)e->gpa, e->len);
			else
				printf("none");
			printf(", got ");
			if (s)
				printf("%c %#llx/%u", s->is_write ? 'W' : 'R',
				       (unsigned long long)s->gpa, s->len);
			else
				printf("none");
			printf("\n");
		}
		printf("  %s: %d of %d expected MMIO exits as the SDM says\n",
		       diffs ? "MISMATCH" : "OK", c->nexpect - diffs,
		       c->nexpect);
	}
	vm_destroy(&v);
	return diffs;
}

/* ---- cases ---- */

#define R4(a)	{ (a), 4, false }
#define W4(a)	{ (a), 4, true }

static struct probe_case builtin_cases[] = {
	{
		/* POPA: EDI,ESI,EBP,(skip),EBX,EDX,ECX,EAX from ESP+0..0x1c */
		.name = "popa-mmio",
		.bytes = { 0x61 }, .nbytes = 1,
		.gpr = { [R_ESP] = 0x40001004 },
		.expect = {
			R4(0x40001004), R4(0x40001008), R4(0x4000100c),
			R4(0x40001014), R4(0x40001018), R4(0x4000101c),
			R4(0x40001020),
		},
		.nexpect = 7,
	},
	{
		/* First two pops from RAM, the rest from MMIO at 0x40001000 */
		.name = "popa-ram-then-mmio",
		.bytes = { 0x61 }, .nbytes = 1,
		.gpr = { [R_ESP] = 0x40000ff8 },
		.ram = { 0x40000000 }, .nram = 1,
		.expect = {
			R4(0x40001000), R4(0x40001008), R4(0x4000100c),
			R4(0x40001010), R4(0x40001014),
		},
		.nexpect = 5,
	},
	{
		/* mov eax, [edi] split over two MMIO pages */
		.name = "mov-split-mmio",
		.bytes = { 0x8b, 0x07 }, .nbytes = 2,
		.gpr = { [R_EDI] = 0x40001ffe },
		.expect = {
			{ 0x40001ffe, 2, false }, { 0x40002000, 2, false },
		},
		.nexpect = 2,
	},
	{
		/* PUSHA: EAX,ECX,EDX,EBX,ESP,EBP,ESI,EDI to ESP-4..ESP-0x20 */
		.name = "pusha-mmio",
		.bytes = { 0x60 }, .nbytes = 1,
		.gpr = { [R_ESP] = 0x40001010 },
		.expect = {
			W4(0x4000100c), W4(0x40001008), W4(0x40001004),
			W4(0x40001000), W4(0x40000ffc), W4(0x40000ff8),
			W4(0x40000ff4), W4(0x40000ff0),
		},
		.nexpect = 8,
	},
};

/* Fill the registers a case leaves zero with the distinct defaults. */
static void case_defaults(struct probe_case *c)
{
	int i;

	for (i = 0; i < NR_GPRS; i++)
		if (!c->gpr[i])
			c->gpr[i] = gpr_defaults[i];
}

static int parse_hex_bytes(struct probe_case *c, const char *s)
{
	while (*s) {
		char hex[3] = { 0 };
		char *end;

		if (*s == ' ' || *s == ',') {
			s++;
			continue;
		}
		if (!s[1] || c->nbytes >= MAX_BYTES)
			return -1;
		hex[0] = s[0];
		hex[1] = s[1];
		c->bytes[c->nbytes++] = (uint8_t)strtoul(hex, &end, 16);
		if (*end)
			return -1;
		s += 2;
	}
	return 0;
}

static int parse_reg(struct probe_case *c, const char *s)
{
	const char *eq = strchr(s, '=');
	int i;

	if (!eq)
		return -1;
	for (i = 0; i < NR_GPRS; i++) {
		size_t len = strlen(gpr_names[i]);

		if ((size_t)(eq - s) == len &&
		    !strncasecmp(s, gpr_names[i], len)) {
			c->gpr[i] = (uint32_t)strtoul(eq + 1, NULL, 0);
			return 0;
		}
	}
	return -1;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: kvm-probe [--esp V] [--reg NAME=V]... [--ram GPA]... [--trace]\n"
		"                 [--get-regs | --resync] HEX...\n"
		"       kvm-probe --builtin [--trace] [--get-regs | --resync]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct probe_case c = { .name = "cmdline" };
	bool builtin = false, trace = false;
	int resync = 0;
	int i, diffs = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--builtin")) {
			builtin = true;
		} else if (!strcmp(a, "--trace")) {
			trace = true;
		} else if (!strcmp(a, "--get-regs")) {
			resync = 1;
		} else if (!strcmp(a, "--resync")) {
			resync = 2;
		} else if (!strcmp(a, "--esp") && i + 1 < argc) {
			c.gpr[R_ESP] = (uint32_t)strtoul(argv[++i], NULL, 0);
		} else if (!strcmp(a, "--reg") && i + 1 < argc) {
			if (parse_reg(&c, argv[++i]) < 0)
				usage();
		} else if (!strcmp(a, "--ram") && i + 1 < argc) {
			if (c.nram >= MAX_RAM)
				usage();
			c.ram[c.nram++] = strtoull(argv[++i], NULL, 0) &
					  ~(PAGE_SIZE - 1);
		} else if (a[0] == '-') {
			usage();
		} else if (parse_hex_bytes(&c, a) < 0) {
			usage();
		}
	}

	if (access("/dev/kvm", R_OK | W_OK) < 0) {
		printf("kvm-probe: /dev/kvm not usable (%s); skipping\n",
		       strerror(errno));
		return 0;
	}

	if (builtin) {
		for (i = 0; i < (int)ARRAY_SIZE(builtin_cases); i++) {
			case_defaults(&builtin_cases[i]);
			diffs += run_case(&builtin_cases[i], trace, resync) != 0;
		}
		printf("%d of %zu cases differ from the SDM\n", diffs,
		       ARRAY_SIZE(builtin_cases));
		return 0;
	}
	if (!c.nbytes)
		usage();
	case_defaults(&c);
	run_case(&c, trace, resync);
	return 0;
}
