// SPDX-License-Identifier: GPL-2.0-only
/*
 * The real-KVM backend (see backend_kvm.h).  One VM and one vCPU serve
 * case after case (two VMs, one with the in-kernel irqchip and one
 * without, each serving the cases of its setting); per case only what a
 * case can change is set again:
 *
 *  - the frame memslots: kept when the next case has the same frame at the
 *    same GPA, else deleted and created (KVM then drops what it cached of
 *    the old ones: shadow pages, MMIO translations);
 *  - the page tables: written to pool pages no case has used since the
 *    pool's memslot was last made (setup_paging()), so the shadow MMU,
 *    which does not see the host's writes, has nothing of them cached;
 *  - the harness pages and the code bytes (host writes);
 *  - GPRs, segment/control registers and pending events, through
 *    KVM_CAP_SYNC_REGS where KVM has it (else by ioctl);
 *  - FPU/SSE, debug registers, XCR0 and a few MSRs, only after a case whose
 *    instruction could have changed them (see case_dirties()).
 *
 * The VMs: a VM's irqchip cannot be switched off, and a case with
 * ioeventfd or coalesced frames registers devices on KVM's MMIO bus, after
 * which the VM's next memslot change waits 3-10 ms (kvm_devices.h).  So
 * cases run in VMs by their class (vm_class()): irqchip or not,
 * registrations or not.  A class with registrations has KB_REGS_VMS VMs,
 * and a case goes to one that needs no memslot change or unregistration
 * for it, else to one whose last registration is old enough that such a
 * change does not wait (vm_pick()).  The VMs are kept side by side, each
 * with its own memslots; all map the same host memory, which every case
 * writes afresh for the VM it runs in.
 *
 * The guest gets the bytes of the first instruction only (code_length()),
 * as the model runs one instruction, and stops right after it:
 *
 *  - single-stepped (KVM_GUESTDBG_SINGLESTEP): KVM_EXIT_DEBUG after the
 *    instruction, wherever it went, RIP and registers the retired state.
 *    Measured on kvm_pvm: the emulator steps an instruction that completes
 *    inside KVM_RUN (a read replay included; a step that ends on the
 *    instruction again is one pass of a rep string, and the run goes on);
 *    one whose last exit is an MMIO write or a port OUT has retired before
 *    that exit and is not stepped (the guest would run on into the next
 *    instruction), so it is finished with KVM_RUN and immediate_exit
 *    (complete_writes()); after an exception the handler's first
 *    instruction runs before the step exit (the stubs start with a nop);
 *    native 64-bit CPL 3 code is stepped with TF and the #DB goes to the
 *    guest (set_guest_debug(), collect());
 *  - else (KVM refuses it, FRAGFUZZ_KVM_NO_SINGLESTEP=1, the case sets
 *    TF, the instruction can load TF: popf, iret; a native REP
 *    instruction) at the sentinel after the bytes; a taken branch (iret)
 *    then runs on at its target.  While KVM single-steps it hides the
 *    guest's own TF (KVM_GET_REGS masks it, and so does turning the step
 *    off), so the TF a popf or iret loads could not be seen.
 *
 * The sentinel is "out 0xe6, al" (e6 e6: it decodes the same at any byte
 * and in every mode), not hlt: with an in-kernel irqchip HLT halts the
 * vCPU inside KVM_RUN until an interrupt or a signal, while port 0xe6
 * always exits.  The exception stubs stop on it too.  At CPL 3 (IOPL 0,
 * no I/O bitmap) it is #GP(0), which collect() tells from a fault of the
 * instruction (at_user_sentinel()).
 *
 * A guest that does not stop within run_limits.max_ns (50 ms unless
 * kvm_backend_set_limits() says otherwise), or makes more than max_exits
 * exits, ends as OUTCOME_BUDGET.
 *
 * Port I/O exits of the instruction itself (KVM_EXIT_IO other than the
 * sentinel's) are answered like the model's port device answers every port
 * (pio_exit()); the model has no such exit, so they are not recorded.
 * Writes to the model's in-kernel port device (0x80-0x8f) do not exit:
 * kvm_devices.c gives every VM PIO ioeventfds there.
 *
 * In-kernel devices (irqchip, ioeventfds, coalesced zones) are kvm_devices.c's;
 * its hooks here are marked "devices:".
 *
 * A case that does not end cleanly (exit budget, time limit, emulation
 * failure, shutdown) may leave an MMIO or I/O exchange half done inside
 * KVM, and a later KVM_RUN would complete it against the next case's
 * state: vcpu_settle() finishes it at once (KVM_RUN with immediate_exit,
 * no guest entry), and everything outside the registers is reset before
 * the next case.  When that does not settle (a completed read that runs on
 * for hundreds of rep passes, an unknown exit, a failed KVM_RUN) the VM
 * and vCPU are dropped and the next case makes new ones (about 0.3 ms,
 * and the next memslot change waits milliseconds), so no exchange is ever
 * left pending for a later case to complete.
 *
 * Guest-physical layout, all inside the scenario's reserved region:
 *
 *   0x600000  code page 0 (all sentinel, the instruction bytes at the RIP offset)
 *   0x601000  code page 1 (all sentinel: the guest may get here)
 *   0x602000  GDT: harness_gdt() (backend.h), the table the model checks
 *   0x603000  IDT (256 gates; real mode: the IVT, see KB_RM_HSEG)
 *   0x604000  exception stubs, 16 bytes each: nop, sentinel
 *   0x605000  TSS
 *   0x606000  kvm_devices.c's scratch page
 *   0x607000  exception stack (long mode: IST1 of every gate), top 0x610000
 *   0x610000  page-table pool (modes with paging), to the end of the
 *             reserved region (the model's pool is at SCN_PT_POOL_GPA)
 *
 * With paging (long64, and prot32-paging, which runs in compatibility
 * mode: see backend_kvm.h) 0x602000-0x60ffff are identity-mapped
 * supervisor pages and the two code pages are mapped at the pages of RIP
 * and RIP + 4 KiB.  In long mode every exception vector has an IST stack
 * in RAM, so an MMIO or unmapped RSP cannot turn a fault into a triple
 * fault.  Legacy protected mode has no IST, and kvm_pvm does not deliver
 * through task gates (it jumps to offset 0 of the gate), so at CPL 0 the
 * frame goes on the guest's own stack: when ESP is not RAM the fault
 * cannot be delivered and the VM shuts down (see shutdown_exception()).
 *
 * Reads are answered exactly like the model backend answers them:
 * s->mmio_data bytes in order, then mmio_default_byte() of each GPA.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/*
 * The model's headers reuse some uapi struct names (kvm_run, kvm_sregs...)
 * for its own types.  This file only needs the uapi ones: rename the
 * model's while its headers are read.
 */
#define kvm_run			model_kvm_run
#define kvm_segment		model_kvm_segment
#define kvm_sregs		model_kvm_sregs
#define kvm_ioeventfd		model_kvm_ioeventfd
#define kvm_coalesced_mmio	model_kvm_coalesced_mmio
#include "backend.h"
#include "decode.h"
#include "pagetable.h"
#include "kvm/backend_kvm.h"
#include "kvm/kvm_devices.h"
#include "kvm/kvm_trace.h"
#undef kvm_run
#undef kvm_segment
#undef kvm_sregs
#undef kvm_ioeventfd
#undef kvm_coalesced_mmio

#include <linux/kvm.h>

#define KB_RESV_GPA		SCN_RESERVED_START
#define KB_RESV_SIZE		(SCN_RESERVED_END - SCN_RESERVED_START)
#define KB_CODE_GPA		SCN_CODE_GPA
#define KB_CODE_PAGES		2
#define KB_GDT_GPA		((u64)HARNESS_GDT_GPA)
#define KB_IDT_GPA		0x603000ULL
#define KB_STUB_GPA		0x604000ULL
#define KB_STUB_SIZE		16
#define KB_TSS_GPA		((u64)HARNESS_TSS_BASE)
#define KB_DEV_SCRATCH_GPA	0x606000ULL
#define KB_STACK_TOP		0x610000ULL
#define KB_HARNESS_START	KB_GDT_GPA	/* identity-mapped in long mode */
#define KB_HARNESS_END		KB_STACK_TOP

/* GDT: harness_gdt() (backend.h), the model's; what the harness itself uses of it */
#define KB_SEL_CODE64		HARNESS_SEL_CODE64	/* long-mode gates */
#define KB_SEL_CODE32		HARNESS_SEL_CODE32	/* legacy gates */
#define KB_SEL_DATA		HARNESS_SEL_DATA	/* TSS SS0 */
#define KB_SEL_TSS		HARNESS_SEL_TSS

/*
 * Real mode: IVT entry v is (KB_RM_HSEG - v):(16 * v), so every vector
 * goes to linear KB_RM_HANDLER, below 1 MiB as real-mode handlers must be
 * (and so in the scenario's space, where no harness page can be).  A
 * hardware breakpoint there (KVM_GUESTDBG_USE_HW_BP) stops the vCPU before
 * it fetches from it; CS tells the vector.
 */
#define KB_RM_HSEG		HARNESS_RM_HANDLER_SEG
#define KB_RM_HANDLER		HARNESS_RM_HANDLER
#define KB_DR6_B0		BIT(0)
#define KB_DR6_BS		BIT(14)
#define KB_DR7_L0		BIT(0)	/* DR0 enabled, execute, 1 byte */
#define KB_DR7_L1		BIT(2)	/* DR1 enabled, execute, 1 byte */
#define KB_DR6_B1		BIT(1)

#define KB_DF_VECTOR		8
#define KB_DB_VECTOR		1
#define KB_NO_VECTOR		0xff	/* in the vCPU events: none seen */
#define KB_MAX_STEPS		RUN_LIMITS_DEFAULT_ENTRIES	/* steps at the same RIP, at most */
/* a REP string goes back to the guest after at most this many iterations */
#define KB_ITERATIONS_PER_STEP	1024
/*
 * vcpu_settle(): runs to finish an exchange.  A REP INS batch goes to
 * memory as one write of up to a page, which reaches MMIO as up to 512
 * 8-byte exits, whatever RCX is.
 */
#define KB_SETTLE_RUNS		1100
/* kvm_backend_run(): runs of a case whose parked registrations took writes */
#define KB_MAX_RERUNS		8
/* memslots: the harness pages and the page-table pool, then the frames */
#define KB_SLOT_HARNESS		0
#define KB_SLOT_PT_POOL		1
#define KB_SLOT_FRAME0		2
/*
 * The page-table pool: all of the reserved region after the harness pages
 * (the model's own pool is at SCN_PT_POOL_GPA; this one needs no fixed
 * place).  The bigger it is, the fewer times it starts again.
 */
#define KB_PT_POOL_GPA		KB_HARNESS_END
#define KB_PT_POOL_SIZE		(SCN_RESERVED_END - KB_PT_POOL_GPA)
#define KB_PT_POOL_PAGES	(KB_PT_POOL_SIZE / PAGE_SIZE)
#define KB_SYNC_ALL		(KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | KVM_SYNC_X86_EVENTS)
#define KB_MAX_MSRS		16
/* the sentinel: out 0xe6, al */
#define KB_SENTINEL_BYTE	0xe6
#define KB_SENTINEL_LEN		2
#define KB_SENTINEL_PORT	0xe6

/* MSRs an emulated instruction may write that matter to later cases */
static const u32 kb_msr_list[] = {
	0x174, 0x175, 0x176,			/* SYSENTER_CS/ESP/EIP */
	0x1a0,					/* MISC_ENABLE */
	0x1d9,					/* DEBUGCTL */
	0x277,					/* PAT */
	0xc0000081, 0xc0000082, 0xc0000083,	/* STAR, LSTAR, CSTAR */
	0xc0000084,				/* SYSCALL_MASK */
	0xc0000102,				/* KERNEL_GS_BASE */
	0xc0000103,				/* TSC_AUX */
};

/*
 * Guest time per case (run_limits.max_ns).  The guest runs until the
 * sentinel, so a branch to itself (eb fe) would keep KVM_RUN busy for
 * ever: a timer signal to the running thread makes KVM_RUN return -EINTR,
 * and the case ends as OUTCOME_BUDGET.
 */
#define KB_TIMER_SIGNAL		(SIGRTMAX - 3)

/* State outside the registers a case may change (case_dirties()) */
#define KB_DIRTY_RUN		BIT(0)	/* the run state: hlt */
#define KB_DIRTY_FPU		BIT(1)	/* x87, MMX, SSE, AVX: the xsave area */
#define KB_DIRTY_ALL		0xffu	/* debug registers, XCR0, MSRs, TPR too */

/* The VM classes (vm_class()): bits, so KB_NR_VM_CLASSES classes. */
#define KB_VM_IRQCHIP		BIT(0)	/* with the in-kernel irqchip */
#define KB_VM_REGISTRATIONS	BIT(1)	/* ioeventfds and coalesced zones */
#define KB_NR_VM_CLASSES	4
/*
 * VMs per class with registrations, and how long after a registration the
 * VM's next memslot change or unregistration would wait: a memslot change
 * right after a registration took 7.9 ms, one 1 ms later 6.9 ms, ... one
 * 8 ms later 7 us (a small KVM program, 20 tries each).
 */
#define KB_REGS_VMS		8
#define KB_NR_VM_SLOTS		(KB_NR_VM_CLASSES * KB_REGS_VMS)
#define KB_REGS_HOT_NS		8500000ULL

/* One VM with its vCPU, and what the backend knows of it. */
struct kb_vm {
	int vm_fd;			/* < 0: none yet, or dropped */
	int vcpu_fd;
	struct kvm_run *run;
	struct kvm_devices *dev;	/* in-kernel device frames */
	/*
	 * vm_stale: the last case may have left state behind that could not
	 * be settled (the VM goes).  dirty: what of the state outside the
	 * registers the last case may have changed (KB_DIRTY_*).
	 */
	bool vm_stale;
	u32 dirty;
	u32 guest_debug;	/* the vCPU's KVM_SET_GUEST_DEBUG control */
	bool bp1;		/* ... with DR1 at bp1_la (tf_run_on()) */
	u64 bp1_la;
	u64 step_la;		/* the linear RIP KVM arms its TF step for */

	/* a fresh vCPU's state, restored per case or when dirty */
	struct kvm_sregs sregs0;
	struct kvm_vcpu_events events0;
	struct kvm_xsave *xsave0;
	struct kvm_fpu fpu0;
	struct kvm_debugregs debugregs0;
	struct kvm_xcrs xcrs0;
	struct kvm_msrs *msrs0;		/* room for KB_MAX_MSRS entries */

	u64 frame_gpa[SCN_MAX_MAPS];	/* frame memslot i: its GPA ... */
	bool frame_ro[SCN_MAX_MAPS];	/* ... read-only (ROM) ... */
	bool frame_used[SCN_MAX_MAPS];	/* ... installed in the VM */
	unsigned long pool_gen;		/* kvm_backend.pool_gen at its pool slot's making */
	u64 hot_until;			/* CLOCK_MONOTONIC ns: see KB_REGS_HOT_NS */
	u64 last_used;			/* CLOCK_MONOTONIC ns */
};

struct kvm_backend {
	int kvm_fd;
	size_t run_size;
	struct kvm_cpuid2 *cpuid;
	bool readonly_mem;
	bool exit_on_emulation_failure;
	bool sync_regs;			/* KVM_CAP_SYNC_REGS has all of KB_SYNC_ALL */
	bool has_xsave, has_xcrs, has_debugregs;
	char why[96];			/* why the last case was not run */
	struct insn_decoder *dec;	/* the model's decoder: instruction lengths */
	unsigned int code_len;		/* bytes of the case's code the guest gets */
	bool loads_tf;			/* the instruction can load RFLAGS.TF */
	bool on_sentinel;		/* the case stopped on the sentinel */
	/*
	 * Single-stepped, and cut at the exit or step budget: the guest ran
	 * nothing but the instruction (case_dirties())
	 */
	bool cut_in_insn;
	bool last_exit_read;		/* the case's last MMIO exit was a read */

	unsigned long vm_creates;
	unsigned long read_clears;	/* kvm_devices_clear_reads() runs */
	bool keep_reads;		/* FRAGFUZZ_KVM_KEEP_READS: no such runs */
	struct kvm_mmio_trace settle_trace;	/* the events of vcpu_settle() */
	/*
	 * The VM in use, in slot vm_slot; idle[i] is the VM of slot i while
	 * another is in use.  Class c has slots c * KB_REGS_VMS on (one for
	 * a class without registrations).  A VM moves between the two by
	 * value (vm_switch()).
	 */
	struct kb_vm vm;
	unsigned int vm_slot;
	struct kb_vm idle[KB_NR_VM_SLOTS];
	bool rerun_prime;	/* the case runs again, primed (kvm_devices_run_again()) */
	bool rerun_unpark;	/* ... in the same VM, without parked registrations */

	/*
	 * Single-stepping: KVM has KVM_CAP_SET_GUEST_DEBUG (and
	 * FRAGFUZZ_KVM_NO_SINGLESTEP is unset); this case is single-stepped.
	 * The vCPU's KVM_SET_GUEST_DEBUG control, and the last debug exit.
	 */
	bool singlestep;
	bool case_singlestep;
	bool case_native_step;	/* ... with TF on native code: #DB to the guest */
	bool debug_exit;
	u64 debug_dr6, debug_pc;
	/*
	 * The runs of tf_run_on(): single-step whatever the instruction can
	 * load; stop at an execute breakpoint at linear stop_la.
	 */
	bool force_step;
	bool stop;
	u64 stop_la;

	u64 pio_read_bytes;	/* port bytes read in this case (pio_exit()) */
	struct run_limits limits;	/* kvm_backend_set_limits() */
	struct kvm_gdt gdt;	/* harness_gdt(): written to KB_GDT_GPA per case */


	u8 *resv;			/* host view of the reserved region */
	u8 *frames;			/* SCN_MAX_MAPS RAM/ROM frames, one per slot */
	struct pt_builder pt;
	/*
	 * The page-table pool: pages from pool_next on have not been used
	 * since the pool was last started again; pool_gen counts the starts
	 * (setup_paging()).
	 */
	unsigned int pool_next;
	unsigned long pool_gen;
	unsigned int pool_pages;	/* kvm_backend_set_pool_pages() */

	/* the per-case timer, directed at timer_tid */
	bool has_timer;
	timer_t timer;
	pid_t timer_tid;

	/* the kernel's kvm_mmio events of the case (kvm_trace.h); NULL: none */
	struct kvm_trace *trace;
};

static volatile sig_atomic_t kb_timer_fired;
/* the timer outside the case's own run loop: set-up, priming, settling */
#define KB_GUARD_NS	100000000ULL	/* 100 ms */

static void kb_timer_handler(int sig)
{
	kb_timer_fired = 1;
}

/* A one-shot timer signalling the calling thread; returns 0 or -errno. */
static int timer_setup(struct kvm_backend *kb)
{
	struct sigaction sa = { .sa_handler = kb_timer_handler };	/* no SA_RESTART */
	struct sigevent sev = {
		.sigev_notify = SIGEV_THREAD_ID,
		.sigev_signo = KB_TIMER_SIGNAL,
	};

	if (kb->has_timer) {
		timer_delete(kb->timer);
		kb->has_timer = false;
	}
	sigemptyset(&sa.sa_mask);
	if (sigaction(KB_TIMER_SIGNAL, &sa, NULL) < 0)
		return -errno;
	kb->timer_tid = gettid();
	sev._sigev_un._tid = kb->timer_tid;
	if (timer_create(CLOCK_MONOTONIC, &sev, &kb->timer) < 0)
		return -errno;
	kb->has_timer = true;
	return 0;
}

static void timer_arm(struct kvm_backend *kb, u64 ns)
{
	struct itimerspec its = {
		.it_value = { .tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000 },
	};

	if (kb->has_timer)
		timer_settime(kb->timer, 0, &its, NULL);
}

/* ---- small helpers ---- */

static u8 *resv_ptr(struct kvm_backend *kb, u64 gpa)
{
	return kb->resv + (gpa - KB_RESV_GPA);
}

static void put_u16(u8 *p, u16 v)
{
	memcpy(p, &v, sizeof(v));
}

static void put_u32(u8 *p, u32 v)
{
	memcpy(p, &v, sizeof(v));
}

static void put_u64(u8 *p, u64 v)
{
	memcpy(p, &v, sizeof(v));
}

static u64 get_u64(const u8 *p)
{
	u64 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Exceptions that push an error code. */
static bool vector_has_error_code(unsigned int vec)
{
	return vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 ||
	       vec == 29 || vec == 30;
}

/* ---- backend lifetime ---- */

static void vm_destroy(struct kvm_backend *kb);

bool kvm_backend_available(char *why, size_t whylen)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		snprintf(why, whylen, "/dev/kvm not available (%s)", strerror(errno));
		return false;
	}
	close(fd);
	return true;
}

static int kb_get_cpuid(struct kvm_backend *kb)
{
	unsigned int nent = 64;

	for (;;) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));

		if (!c)
			return -ENOMEM;
		c->nent = nent;
		if (ioctl(kb->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			kb->cpuid = c;
			return 0;
		}
		free(c);
		if (errno != E2BIG || nent >= 4096)
			return -errno;
		nent *= 2;
	}
}

/*
 * The memory a struct kb_vm needs besides itself; -ENOMEM.  The host's
 * device capabilities are probed once, for the first VM (@like NULL).
 */
static int kb_vm_alloc(struct kvm_backend *kb, struct kb_vm *v, const struct kvm_devices *like)
{
	v->msrs0 = calloc(1, sizeof(*v->msrs0) + KB_MAX_MSRS * sizeof(v->msrs0->entries[0]));
	if (kb->has_xsave)
		v->xsave0 = calloc(1, sizeof(*v->xsave0));
	v->dev = kvm_devices_create(kb->kvm_fd, like);
	return !v->msrs0 || (kb->has_xsave && !v->xsave0) || !v->dev ? -ENOMEM : 0;
}

static u64 now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (u64)t.tv_sec * 1000000000ULL + (u64)t.tv_nsec;
}

/* The VM of slot @slot, wherever it is now (vm_switch()). */
static const struct kb_vm *vm_at(const struct kvm_backend *kb, unsigned int slot)
{
	return slot == kb->vm_slot ? &kb->vm : &kb->idle[slot];
}

/* Make the VM of slot @slot the one in use. */
static void vm_switch(struct kvm_backend *kb, unsigned int slot)
{
	if (slot == kb->vm_slot)
		return;
	kb->idle[kb->vm_slot] = kb->vm;
	kb->vm = kb->idle[slot];
	kb->vm_slot = slot;
}

/* Its VM gone, and its memory. */
static void kb_vm_free(struct kvm_backend *kb, unsigned int slot)
{
	struct kb_vm *v = &kb->idle[slot];

	vm_switch(kb, slot);
	vm_destroy(kb);
	*v = kb->vm;
	kvm_devices_destroy(v->dev);
	free(v->xsave0);
	free(v->msrs0);
	v->dev = NULL;
	v->xsave0 = NULL;
	v->msrs0 = NULL;
}

struct kvm_backend *kvm_backend_create(char *err, size_t errlen)
{
	struct kvm_backend *kb = calloc(1, sizeof(*kb));
	char why[256];
	int n;

	if (!kb) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (n = 0; n < KB_NR_VM_SLOTS; n++) {
		kb->idle[n].vm_fd = kb->idle[n].vcpu_fd = -1;
		kb->idle[n].run = MAP_FAILED;
	}
	kb->vm = kb->idle[0];
	kb->resv = MAP_FAILED;
	kb->frames = MAP_FAILED;
	kb->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kb->kvm_fd < 0) {
		snprintf(err, errlen, "/dev/kvm not available (%s)", strerror(errno));
		goto fail;
	}
	if (ioctl(kb->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		snprintf(err, errlen, "/dev/kvm: unexpected KVM API version");
		goto fail;
	}
	n = ioctl(kb->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (n <= 0) {
		snprintf(err, errlen, "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
		goto fail;
	}
	kb->run_size = (size_t)n;
	kb->readonly_mem = ioctl(kb->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM) > 0;
	kb->exit_on_emulation_failure =
		ioctl(kb->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_EXIT_ON_EMULATION_FAILURE) > 0;
	n = ioctl(kb->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS);
	kb->sync_regs = n > 0 && (n & KB_SYNC_ALL) == KB_SYNC_ALL &&
			!getenv("FRAGFUZZ_KVM_NO_SYNC_REGS");
	kb->has_xsave = ioctl(kb->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) > 0;
	kb->has_xcrs = ioctl(kb->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) > 0;
	kb->has_debugregs = ioctl(kb->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_DEBUGREGS) > 0;
	kb->singlestep = ioctl(kb->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_GUEST_DEBUG) > 0 &&
			 !getenv("FRAGFUZZ_KVM_NO_SINGLESTEP");
	/* to show the kernel's stale read completion (read_completion_left()) */
	kb->keep_reads = getenv("FRAGFUZZ_KVM_KEEP_READS") != NULL;
	kb->dec = calloc(1, sizeof(*kb->dec));
	harness_gdt(&kb->gdt);
	kb->limits = RUN_LIMITS_DEFAULT;
	kb->pool_pages = KB_PT_POOL_PAGES;
	for (n = 0; n < KB_NR_VM_SLOTS; n++) {
		/* a class without registrations uses its first slot only */
		if (n % KB_REGS_VMS && !((n / KB_REGS_VMS) & KB_VM_REGISTRATIONS))
			continue;
		if (kb_vm_alloc(kb, &kb->idle[n], n ? kb->idle[0].dev : NULL)) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	kb->vm = kb->idle[0];
	if (!kb->dec) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (insn_decoder_init(kb->dec)) {
		free(kb->dec);
		kb->dec = NULL;
		snprintf(err, errlen, "cannot set up the instruction decoder");
		goto fail;
	}
	n = kb_get_cpuid(kb);
	if (n) {
		snprintf(err, errlen, "KVM_GET_SUPPORTED_CPUID: %s", strerror(-n));
		goto fail;
	}
	kb->resv = mmap(NULL, KB_RESV_SIZE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	kb->frames = mmap(NULL, SCN_MAX_MAPS * PAGE_SIZE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (kb->resv == MAP_FAILED || kb->frames == MAP_FAILED) {
		snprintf(err, errlen, "mmap guest memory: %s", strerror(errno));
		goto fail;
	}
	n = timer_setup(kb);
	if (n) {
		snprintf(err, errlen, "timer: %s", strerror(-n));
		goto fail;
	}
	kb->trace = kvm_trace_open(why, sizeof(why));
	if (!kb->trace) {
		fprintf(stderr, "fragfuzz: kvm backend: %s; running without kvm_mmio traces\n",
			why);
	}
	return kb;
fail:
	kvm_backend_destroy(kb);
	return NULL;
}

void kvm_backend_destroy(struct kvm_backend *kb)
{
	unsigned int i;

	if (!kb)
		return;
	for (i = 0; i < KB_NR_VM_SLOTS; i++)
		kb_vm_free(kb, i);
	kvm_trace_close(kb->trace);
	if (kb->has_timer)
		timer_delete(kb->timer);
	if (kb->dec)
		insn_decoder_fini(kb->dec);
	free(kb->dec);
	if (kb->resv != MAP_FAILED)
		munmap(kb->resv, KB_RESV_SIZE);
	if (kb->frames != MAP_FAILED)
		munmap(kb->frames, SCN_MAX_MAPS * PAGE_SIZE);
	if (kb->kvm_fd >= 0)
		close(kb->kvm_fd);
	free(kb->cpuid);
	free(kb);
}

bool kvm_backend_traced(const struct kvm_backend *kb)
{
	return kb && kb->trace;
}

const char *kvm_backend_trace_source(const struct kvm_backend *kb)
{
	return kb && kb->trace ? kvm_trace_source(kb->trace) : NULL;
}

/* ---- the reused VM ---- */

static void vm_destroy(struct kvm_backend *kb)
{
	if (kb->vm.run != MAP_FAILED)
		munmap(kb->vm.run, kb->run_size);
	kb->vm.run = MAP_FAILED;
	if (kb->vm.vcpu_fd >= 0)
		close(kb->vm.vcpu_fd);
	if (kb->vm.vm_fd >= 0)
		close(kb->vm.vm_fd);
	kb->vm.vcpu_fd = kb->vm.vm_fd = -1;
	if (kb->vm.dev)
		kvm_devices_vm_gone(kb->vm.dev);	/* devices: */
	memset(kb->vm.frame_used, 0, sizeof(kb->vm.frame_used));
	kb->vm.guest_debug = 0;
	kb->vm.bp1 = false;
	kb->vm.step_la = ~0ULL;
	kb->vm.vm_stale = false;
	kb->vm.dirty = 0;
}

static int set_slot(struct kvm_backend *kb, u32 slot, u64 gpa, u64 size, void *hva, bool ro)
{
	struct kvm_userspace_memory_region mr = {
		.slot = slot,
		.flags = ro ? KVM_MEM_READONLY : 0,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (u64)(uintptr_t)hva,
	};

	return ioctl(kb->vm.vm_fd, KVM_SET_USER_MEMORY_REGION, &mr) < 0 ? -errno : 0;
}

static int del_slot(struct kvm_backend *kb, u32 slot)
{
	struct kvm_userspace_memory_region mr = { .slot = slot };

	return ioctl(kb->vm.vm_fd, KVM_SET_USER_MEMORY_REGION, &mr) < 0 ? -errno : 0;
}

static int set_pool_slot(struct kvm_backend *kb)
{
	kb->vm.pool_gen = kb->pool_gen;
	return set_slot(kb, KB_SLOT_PT_POOL, KB_PT_POOL_GPA, KB_PT_POOL_SIZE,
			resv_ptr(kb, KB_PT_POOL_GPA), false);
}

/*
 * The pool was started again since this VM's pool slot was made: its
 * shadow MMU may hold shadow pages of the tables that were on those pages
 * before.  Deleting the slot drops them all; then it is made again.
 */
static int refresh_pool_slot(struct kvm_backend *kb)
{
	int r;

	if (kb->vm.pool_gen == kb->pool_gen)
		return 0;
	r = del_slot(kb, KB_SLOT_PT_POOL);
	return r ? r : set_pool_slot(kb);
}

/*
 * The MSRs of kb_msr_list this KVM reads back, with a fresh vCPU's values.
 * KVM_GET_MSRS stops at the first MSR it does not know: drop it, retry.
 */
static int save_msrs(struct kvm_backend *kb)
{
	struct kvm_msr_entry *e = kb->vm.msrs0->entries;
	unsigned int i, n = 0;
	int got;

	for (i = 0; i < ARRAY_SIZE(kb_msr_list) && i < KB_MAX_MSRS; i++)
		e[n++] = (struct kvm_msr_entry){ .index = kb_msr_list[i] };
	for (;;) {
		kb->vm.msrs0->nmsrs = n;
		got = ioctl(kb->vm.vcpu_fd, KVM_GET_MSRS, kb->vm.msrs0);
		if (got < 0)
			return -errno;
		if ((unsigned int)got >= n)
			return 0;
		memmove(&e[got], &e[got + 1], (n - got - 1) * sizeof(*e));
		n--;
	}
}

/*
 * What a case may have changed beyond registers and events (kb->vm.dirty):
 * back to fresh, one vCPU ioctl per part.  That includes the run state: a
 * hlt with the irqchip leaves the vCPU halted (KVM_MP_STATE_HALTED,
 * single-stepped or stopped by the time limit), and the next KVM_RUN
 * would block until a signal.
 */
static int restore_extended(struct kvm_backend *kb)
{
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };
	u32 dirty = kb->vm.dirty;

	if ((dirty & KB_DIRTY_RUN) && ioctl(kb->vm.vcpu_fd, KVM_SET_MP_STATE, &mp) < 0)
		return -errno;
	if ((dirty & KB_DIRTY_FPU) &&
	    (kb->has_xsave ? ioctl(kb->vm.vcpu_fd, KVM_SET_XSAVE, kb->vm.xsave0) < 0 :
			     ioctl(kb->vm.vcpu_fd, KVM_SET_FPU, &kb->vm.fpu0) < 0))
		return -errno;
	kb->vm.dirty = 0;
	if (dirty != KB_DIRTY_ALL)
		return 0;
	if (kb->has_debugregs && ioctl(kb->vm.vcpu_fd, KVM_SET_DEBUGREGS, &kb->vm.debugregs0) < 0)
		return -errno;
	if (kb->has_xcrs && ioctl(kb->vm.vcpu_fd, KVM_SET_XCRS, &kb->vm.xcrs0) < 0)
		return -errno;
	if (kb->vm.msrs0->nmsrs &&
	    ioctl(kb->vm.vcpu_fd, KVM_SET_MSRS, kb->vm.msrs0) != (int)kb->vm.msrs0->nmsrs)
		return errno ? -errno : -EIO;
	return 0;
}

/* Record a fresh vCPU's state: what restore_extended() and set_state() use. */
static int save_fresh_state(struct kvm_backend *kb)
{
	if (ioctl(kb->vm.vcpu_fd, KVM_GET_SREGS, &kb->vm.sregs0) < 0 ||
	    ioctl(kb->vm.vcpu_fd, KVM_GET_VCPU_EVENTS, &kb->vm.events0) < 0)
		return -errno;
	/* no exception: a vector no exception has (see shutdown_exception()) */
	kb->vm.events0.exception.nr = KB_NO_VECTOR;
	if (kb->has_xsave ? ioctl(kb->vm.vcpu_fd, KVM_GET_XSAVE, kb->vm.xsave0) < 0 :
			    ioctl(kb->vm.vcpu_fd, KVM_GET_FPU, &kb->vm.fpu0) < 0)
		return -errno;
	if (kb->has_debugregs && ioctl(kb->vm.vcpu_fd, KVM_GET_DEBUGREGS, &kb->vm.debugregs0) < 0)
		return -errno;
	if (kb->has_xcrs && ioctl(kb->vm.vcpu_fd, KVM_GET_XCRS, &kb->vm.xcrs0) < 0)
		return -errno;
	return save_msrs(kb);
}

static int vm_create(struct kvm_backend *kb)
{
	int r;

	kb->vm_creates++;
	kb->vm.vm_fd = ioctl(kb->kvm_fd, KVM_CREATE_VM, 0);
	if (kb->vm.vm_fd < 0)
		return -errno;
	if (kb->exit_on_emulation_failure) {
		struct kvm_enable_cap cap = {
			.cap = KVM_CAP_EXIT_ON_EMULATION_FAILURE,
			.args = { 1 },
		};

		if (ioctl(kb->vm.vm_fd, KVM_ENABLE_CAP, &cap) < 0)
			return -errno;
	}
	/* devices: irqchip (registers devices: the VM is hot, see vm_pick()) */
	r = kvm_devices_vm_init(kb->vm.dev, kb->vm.vm_fd,
				(kb->vm_slot / KB_REGS_VMS) & KB_VM_IRQCHIP);
	if (r)
		return r;
	kb->vm.hot_until = now_ns() + KB_REGS_HOT_NS;
	/*
	 * Only the used parts of the reserved region get memory (small slots
	 * are cheaper to create); the rest of it is never touched.
	 */
	r = set_slot(kb, KB_SLOT_HARNESS, KB_RESV_GPA, KB_HARNESS_END - KB_RESV_GPA,
		     kb->resv, false);
	if (!r)
		r = set_pool_slot(kb);
	if (r)
		return r;

	kb->vm.vcpu_fd = ioctl(kb->vm.vm_fd, KVM_CREATE_VCPU, 0);
	if (kb->vm.vcpu_fd < 0)
		return -errno;
	kb->vm.run = mmap(NULL, kb->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, kb->vm.vcpu_fd, 0);
	if (kb->vm.run == MAP_FAILED)
		return -errno;
	if (ioctl(kb->vm.vcpu_fd, KVM_SET_CPUID2, kb->cpuid) < 0)
		return -errno;
	r = save_fresh_state(kb);
	/* devices: LAPIC, fresh device state, coalesced ring */
	return r ? r : kvm_devices_vcpu_init(kb->vm.dev, kb->vm.vcpu_fd, kb->vm.run, kb->run_size,
					     resv_ptr(kb, KB_DEV_SCRATCH_GPA),
					     KB_DEV_SCRATCH_GPA, kb->sync_regs);
}

/* ---- guest memory ---- */

static void fill_ram_frame(u8 *page, u64 gpa)
{
	unsigned int i;

	for (i = 0; i < PAGE_SIZE; i++)
		page[i] = ram_pattern_byte((gpa & PAGE_MASK) + i);
}

/*
 * One memslot per distinct RAM/ROM frame (the first map of a GPA says
 * which); MMIO frames get none.  Slots the case shares with the last one
 * stay, the others are deleted or created; every frame is refilled.
 */
/* The case's RAM/ROM frames, each GPA once (its first RAM/ROM map): how many */
static unsigned int case_frames(const struct scn_map *maps, unsigned int nr,
				u64 gpa[SCN_MAX_MAPS], bool ro[SCN_MAX_MAPS])
{
	unsigned int i, j, n = 0;

	for (i = 0; i < nr; i++) {
		if (maps[i].kind != SCN_KIND_RAM && maps[i].kind != SCN_KIND_ROM)
			continue;
		for (j = 0; j < n; j++)
			if (gpa[j] == maps[i].gpa)
				break;
		if (j < n)
			continue;
		gpa[n] = maps[i].gpa;
		ro[n++] = maps[i].kind == SCN_KIND_ROM;
	}
	return n;
}

static int setup_frames(struct kvm_backend *kb, const struct scn_map *maps, unsigned int nr)
{
	u64 gpa[SCN_MAX_MAPS];
	bool ro[SCN_MAX_MAPS], placed[SCN_MAX_MAPS] = { false };
	unsigned int i, j, n = case_frames(maps, nr, gpa, ro);
	int r;

	/* keep the slots this case has too, delete the rest */
	for (i = 0; i < SCN_MAX_MAPS; i++) {
		if (!kb->vm.frame_used[i])
			continue;
		for (j = 0; j < n; j++)
			if (!placed[j] && gpa[j] == kb->vm.frame_gpa[i] && ro[j] == kb->vm.frame_ro[i])
				break;
		if (j < n) {
			placed[j] = true;
			fill_ram_frame(kb->frames + i * PAGE_SIZE, gpa[j]);
			continue;
		}
		r = del_slot(kb, KB_SLOT_FRAME0 + i);
		if (r)
			return r;
		kb->vm.frame_used[i] = false;
	}
	/* new frames into free slots */
	for (j = 0; j < n; j++) {
		u8 *page;

		if (placed[j])
			continue;
		for (i = 0; i < SCN_MAX_MAPS - 1 && kb->vm.frame_used[i]; i++)
			;
		page = kb->frames + i * PAGE_SIZE;
		fill_ram_frame(page, gpa[j]);
		r = set_slot(kb, KB_SLOT_FRAME0 + i, gpa[j], PAGE_SIZE, page, ro[j]);
		if (r)
			return r;
		kb->vm.frame_gpa[i] = gpa[j];
		kb->vm.frame_ro[i] = ro[j];
		kb->vm.frame_used[i] = true;
	}
	return 0;
}

/*
 * Does the guest run in long mode?  long64, and prot32-paging: kvm_pvm
 * runs no legacy paging (see backend_kvm.h), so that mode runs as
 * compatibility mode (32-bit code, 4-level tables holding the same 32-bit
 * mappings), which KVM's emulator runs as 32-bit protected mode too.
 */
static bool kb_long_mode(const struct scenario *s)
{
	return s->mode == SCN_MODE_LONG64 || s->mode == SCN_MODE_PROT32_PAGING;
}

/*
 * GDT, IDT, TSS and stubs.  The stub of vector v sits at KB_STUB_GPA +
 * 16 v: nop, the sentinel (out 0xe6, al: it exits with or without an
 * irqchip, where hlt would block in the kernel).  Where the vCPU stopped in
 * the stubs tells the vector (see stub_vector()), the frame tells the
 * rest, CR2 comes from the sregs: the stubs touch no register and no
 * memory, so they work whatever the scenario's data segments are.  The nop
 * is there for single-stepping (KVM_EXIT_DEBUG after it, before the
 * sentinel).  In long mode the gates are 64-bit and use IST1; in legacy
 * mode they go to 32-bit code.
 */
static void setup_tables(struct kvm_backend *kb, const struct scenario *s)
{
	bool long_mode = kb_long_mode(s);
	u8 *gdt = resv_ptr(kb, KB_GDT_GPA), *idt = resv_ptr(kb, KB_IDT_GPA);
	u8 *tss = resv_ptr(kb, KB_TSS_GPA);
	unsigned int vec;

	memset(gdt, 0, PAGE_SIZE);
	memset(idt, 0, PAGE_SIZE);
	memset(tss, 0, PAGE_SIZE);
	/* the model's table, byte for byte (the emulator sets accessed bits) */
	memcpy(gdt, kb->gdt.desc, HARNESS_GDT_ENTRIES * 8);

	if (long_mode) {
		put_u64(tss + 4, KB_STACK_TOP);		/* rsp0 */
		put_u64(tss + 36, KB_STACK_TOP);	/* ist1 */
		put_u16(tss + 102, 104);		/* no I/O bitmap */
	} else {
		put_u32(tss + 4, (u32)KB_STACK_TOP);	/* esp0 */
		put_u16(tss + 8, KB_SEL_DATA);		/* ss0 */
		put_u16(tss + 102, 104);
	}

	for (vec = 0; vec < 256; vec++) {
		u64 stub = KB_STUB_GPA + vec * KB_STUB_SIZE;
		u8 *code = resv_ptr(kb, stub);

		memset(code, KB_SENTINEL_BYTE, KB_STUB_SIZE);
		code[0] = 0x90;				/* nop */
		code[1] = KB_SENTINEL_BYTE;		/* out 0xe6, al */
		code[2] = KB_SENTINEL_BYTE;
		code[3] = 0xeb;				/* jmp back to the out */
		code[4] = 0xfc;

		if (long_mode) {
			u8 *g = idt + vec * 16;

			put_u16(g, (u16)stub);
			put_u16(g + 2, KB_SEL_CODE64);
			g[4] = 1;			/* IST1 */
			g[5] = 0x8e;			/* present, DPL0, interrupt gate */
			put_u16(g + 6, (u16)(stub >> 16));
			put_u32(g + 8, (u32)(stub >> 32));
		} else {
			u8 *g = idt + vec * 8;

			put_u16(g, (u16)stub);
			put_u16(g + 2, KB_SEL_CODE32);
			g[5] = 0x8e;			/* 32-bit interrupt gate */
			put_u16(g + 6, (u16)(stub >> 16));
		}
	}
	if (s->mode == SCN_MODE_REAL16) {
		/* the IVT instead of the gates: see KB_RM_HSEG */
		for (vec = 0; vec < 256; vec++) {
			put_u16(idt + vec * 4, vec * 16);
			put_u16(idt + vec * 4 + 2, KB_RM_HSEG - vec);
		}
	}
}

/* Linear address of the instruction. */
static u64 code_linear(const struct scenario *s)
{
	u64 rip = scenario_reg(s, SCN_REG_RIP);

	if (s->mode == SCN_MODE_LONG64)
		return rip;
	return (u32)(scenario_segment(s, VCPU_SREG_CS).base + (u32)rip);
}

/*
 * Can the instruction load RFLAGS.TF: popf and iret, any operand size and
 * prefixes (by KVM's table row or by Capstone, whichever names it), unless
 * it is #UD or the like before it runs.  (rsm is #UD outside SMM; task
 * switches, which load EFLAGS from a TSS, are not emulated by KVM.)
 */
static bool insn_loads_tf(const struct insn_decoded *d)
{
	if (d->status == INSN_EXCEPTION)
		return false;
	if (d->name && (!strcmp(d->name, "popf") || !strcmp(d->name, "iret")))
		return true;
	switch (d->cs_id) {
	case X86_INS_POPF:
	case X86_INS_POPFD:
	case X86_INS_POPFQ:
	case X86_INS_IRET:
	case X86_INS_IRETD:
	case X86_INS_IRETQ:
		return d->cs_len != 0;
	default:
		return false;
	}
}

/*
 * The model runs the first instruction of s->insn and nothing else; the
 * guest gets the bytes of that one instruction, then the sentinel.  Its
 * length is the model decoder's (KVM's rules, else Capstone's).  When the
 * first instruction stops the guest whatever follows (#UD at decode, not
 * in KVM's tables) all the bytes go in.  Bytes that are no whole
 * instruction are not run: the guest would take the sentinel's bytes as
 * the rest of it, where the model has none.
 */
static int code_length(struct kvm_backend *kb, const struct scenario *s)
{
	static const enum x86emul_mode modes[SCN_NR_MODES] = {
		[SCN_MODE_REAL16] = X86EMUL_MODE_REAL,
		[SCN_MODE_PROT16] = X86EMUL_MODE_PROT16,
		[SCN_MODE_PROT32] = X86EMUL_MODE_PROT32,
		[SCN_MODE_PROT32_PAGING] = X86EMUL_MODE_PROT32,
		[SCN_MODE_LONG64] = X86EMUL_MODE_PROT64,
	};
	struct insn_decoded d;
	unsigned int len;

	insn_decode(kb->dec, modes[s->mode], s->insn, s->insn_len, &d);
	switch (d.status) {
	case INSN_EXCEPTION:
	case INSN_NOT_EMULATED:
		len = s->insn_len;
		break;
	case INSN_OK:
		len = d.len ? d.len : d.cs_len;
		break;
	default:
		/* too few bytes for KVM's length (d.len), whatever Capstone's */
		len = d.status == INSN_UNDECODABLE && d.len ? d.len : d.cs_len;
		break;
	}
	if (!len || len > s->insn_len) {
		snprintf(kb->why, sizeof(kb->why), "the bytes are no whole instruction");
		return -EOPNOTSUPP;
	}
	kb->code_len = len;
	kb->loads_tf = insn_loads_tf(&d);
	return 0;
}

/*
 * The code pages: the sentinel everywhere (after the bytes, wherever RIP
 * stops), the instruction at the linear RIP's place: with paging the code
 * pages are mapped at the page of RIP and the next, so at its page offset;
 * without, they are where the code is (case_supported()).
 */
static void setup_code(struct kvm_backend *kb, const struct scenario *s, u64 la)
{
	u8 *code = resv_ptr(kb, KB_CODE_GPA);
	u64 off = scenario_paging(s) ? la & ~PAGE_MASK : la - KB_CODE_GPA;

	memset(code, KB_SENTINEL_BYTE, KB_CODE_PAGES * PAGE_SIZE);
	memcpy(code + off, s->insn, kb->code_len);
}

static bool gva_mapped(const struct scn_map *maps, unsigned int nr, u64 gva)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if ((maps[i].gva & PAGE_MASK) == (gva & PAGE_MASK))
			return true;
	return false;
}

/*
 * Page tables, built afresh per case: the scenario's maps, the code pages
 * at the pages of the instruction and the next one, the harness pages
 * identity-mapped as supervisor pages.  prot32-paging gets 4-level tables
 * (compatibility mode, see kb_long_mode()) with the same 32-bit mappings
 * and no NX bits, as the model's 2-level tables have none.
 *
 * No translation from an earlier case survives into this one.  The host
 * writes the tables, which shadow paging does not see (spec
 * kvm-on-these-machines.md, "Stale translations"), so every case gets
 * pool pages no earlier case used: the pool is handed out from
 * pool_next on.  When it runs out it starts again at its first page, and
 * every VM deletes and makes its pool slot before its next case
 * (refresh_pool_slot()), which drops every shadow page of the old tables.
 * That is one memslot change per few dozen cases with paging, where
 * deleting one per case cost more than the rest of the case.
 */
static int build_tables(struct kvm_backend *kb, const struct scenario *s,
			const struct scn_map *maps, unsigned int nr, u64 la);

static int setup_paging(struct kvm_backend *kb, const struct scenario *s,
			const struct scn_map *maps, unsigned int nr, u64 la)
{
	int r;

	if (!scenario_paging(s))
		return pt_init(&kb->pt, PT_NONE, NULL, 0, 0);
	r = build_tables(kb, s, maps, nr, la);
	if (r == -ENOSPC && kb->pool_next) {
		kb->pool_next = 0;
		kb->pool_gen++;
		r = build_tables(kb, s, maps, nr, la);
	}
	if (!r)
		kb->pool_next += kb->pt.used;
	return r;
}

static int build_tables(struct kvm_backend *kb, const struct scenario *s,
			const struct scn_map *maps, unsigned int nr, u64 la)
{
	u64 page = la & PAGE_MASK, gva;
	unsigned int i;
	int r;

	r = pt_init(&kb->pt, PT_4LEVEL, resv_ptr(kb, KB_PT_POOL_GPA) + kb->pool_next * PAGE_SIZE,
		    KB_PT_POOL_GPA + kb->pool_next * PAGE_SIZE, kb->pool_pages - kb->pool_next);
	if (r)
		return r;
	for (i = 0; i < nr; i++) {
		struct scn_map m = maps[i];

		if (s->mode != SCN_MODE_LONG64)
			m.flags &= ~SCN_MAP_NX;
		r = pt_map_scenario(&kb->pt, &m);
		if (r)
			return r;
	}
	/* the code pages: the instruction must fit before the second ends */
	for (i = 0; i < KB_CODE_PAGES; i++) {
		gva = page + i * PAGE_SIZE;
		if (s->mode != SCN_MODE_LONG64)
			gva = (u32)gva;		/* 32-bit linear addresses wrap */
		if (gva_mapped(maps, nr, gva) || (gva >= KB_HARNESS_START && gva < KB_HARNESS_END)) {
			/* the layout owns that page: fine if the bytes end before it */
			if (i == 0 ||
			    (la & ~PAGE_MASK) + s->insn_len + KB_SENTINEL_LEN > PAGE_SIZE)
				return -EOPNOTSUPP;
			break;
		}
		r = pt_map(&kb->pt, gva, KB_CODE_GPA + i * PAGE_SIZE,
			   PT_WRITABLE | (s->cpl == 3 ? PT_USER : 0), false);
		if (r)
			return r;
	}
	for (gva = KB_HARNESS_START; gva < KB_HARNESS_END; gva += PAGE_SIZE) {
		if (gva_mapped(maps, nr, gva))
			return -EOPNOTSUPP;	/* the layout claims a harness page */
		r = pt_map(&kb->pt, gva, gva, PT_WRITABLE, false);
		if (r)
			return r;
	}
	return 0;
}

/* ---- vCPU state ---- */

static bool mode_is16(const struct scenario *s)
{
	return s->mode == SCN_MODE_REAL16 || s->mode == SCN_MODE_PROT16;
}

/* The model backend's segment (harness_segment()); G as the limit needs it. */
static void set_segment(struct kvm_segment *k, const struct scenario *s, unsigned int i)
{
	struct harness_segment h;

	harness_segment(s, i, &h);
	*k = (struct kvm_segment){
		.base = h.base,
		.limit = h.limit,
		.selector = h.selector,
		.type = h.type,
		.present = 1,
		.s = 1,
		.dpl = h.dpl,
		.db = h.db,
		.l = h.l,
		.g = h.limit > 0xfffff,
	};
}

/* Is the instruction a REP string instruction (F2/F3 and a string opcode)? */
static bool insn_has_rep(const struct scenario *s)
{
	bool rep;
	unsigned int i = scenario_opcode_offset(s, &rep);
	u8 op = i < s->insn_len ? s->insn[i] : 0;

	/*
	 * a string instruction: an F2/F3 on anything else repeats nothing
	 * (f3 ff 64 ..: a jump to itself, cut at the REP step budget while
	 * the model ran on, and judged against the model's accesses)
	 */
	return rep && ((op >= 0x6c && op <= 0x6f) || (op >= 0xa4 && op <= 0xa7) ||
		       (op >= 0xaa && op <= 0xaf));
}

/* Is the instruction port I/O: IN, OUT, INS, OUTS? */
static bool insn_is_pio(const struct scenario *s)
{
	bool rep;
	unsigned int i = scenario_opcode_offset(s, &rep);
	u8 op = i < s->insn_len ? s->insn[i] : 0;

	return (op >= 0x6c && op <= 0x6f) || (op >= 0xe4 && op <= 0xe7) ||
	       (op >= 0xec && op <= 0xef);
}

/*
 * hlt without the irqchip exits to userspace (KVM_EXIT_HLT) and so stops
 * the case by itself.  Single-stepped it gives the step exit after it
 * instead, and kvm_pvm then gives the KVM_EXIT_HLT at the vCPU's next
 * KVM_RUN, whatever registers and run state the next case set (6.18.44:
 * `f4` then `2f` in long64, the second case "retired" on that stale
 * exit; found by fragfuzz_kvm as an order-dependent finding).
 */
static bool hlt_exits(const struct scenario *s)
{
	unsigned int i = scenario_opcode_offset(s, NULL);

	return i < s->insn_len && s->insn[i] == 0xf4 && !kvm_devices_want_irqchip(s);
}

/*
 * Guest debugging the case needs: single-stepping (KVM_EXIT_DEBUG right
 * after the instruction, wherever it went), unless the scenario sets TF
 * itself or the instruction can load it (KVM would hide it: see the top
 * of the file); the real-mode handler breakpoint.  Set only
 * when it changes (a new vCPU has none).  If KVM refuses single-stepping,
 * the backend stops asking and keeps to the sentinel.
 *
 * Emulated code is stepped by KVM's emulator whatever RIP is.  Code that
 * runs natively (64-bit CPL 3 on kvm_pvm) is stepped with TF, which KVM
 * sets in RFLAGS only while the vCPU's linear RIP is the one it had at
 * KVM_SET_GUEST_DEBUG: for such a case at another RIP than the last time,
 * the registers go in first and single-stepping is set again.  The #DB
 * trap of that step goes to the guest (see collect()).  A native REP
 * string instruction would trap after its first pass, so it is not
 * single-stepped (it cannot branch: the sentinel stops it).  Called after
 * set_state().
 */
static int set_guest_debug(struct kvm_backend *kb, const struct scenario *s, u64 la)
{
	struct kvm_guest_debug gd = { 0 };
	bool native = s->mode == SCN_MODE_LONG64 && s->cpl == 3;

	kb->case_singlestep = kb->singlestep &&
			      (kb->force_step ||
			       (!(scenario_reg(s, SCN_REG_RFLAGS) & X86_EFLAGS_TF) &&
				!kb->loads_tf && !(native && insn_has_rep(s)) && !hlt_exits(s)));
	kb->case_native_step = native && kb->case_singlestep;
	if (kb->case_singlestep)
		gd.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP;
	if (s->mode == SCN_MODE_REAL16) {
		gd.control |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP;
		gd.arch.debugreg[0] = KB_RM_HANDLER;
		gd.arch.debugreg[7] = KB_DR7_L0;
	}
	if (kb->stop) {
		gd.control |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP;
		gd.arch.debugreg[1] = kb->stop_la;
		gd.arch.debugreg[7] |= KB_DR7_L1;
	}
	if (native && kb->case_singlestep && kb->vm.step_la != la) {
		/* KVM takes the linear RIP from the vCPU's RIP and CS now */
		if (kb->sync_regs &&
		    (ioctl(kb->vm.vcpu_fd, KVM_SET_SREGS, &kb->vm.run->s.regs.sregs) < 0 ||
		     ioctl(kb->vm.vcpu_fd, KVM_SET_REGS, &kb->vm.run->s.regs.regs) < 0))
			return -errno;
		kb->vm.guest_debug = 0;	/* set it again at this RIP */
	}
	if (gd.control == kb->vm.guest_debug && kb->stop == kb->vm.bp1 &&
	    (!kb->stop || kb->stop_la == kb->vm.bp1_la))
		return 0;
	if (ioctl(kb->vm.vcpu_fd, KVM_SET_GUEST_DEBUG, &gd) < 0) {
		if (!kb->case_singlestep)
			return -errno;
		kb->singlestep = false;
		return set_guest_debug(kb, s, la);
	}
	kb->vm.guest_debug = gd.control;
	kb->vm.bp1 = kb->stop;
	kb->vm.bp1_la = kb->stop_la;
	kb->vm.step_la = native ? la : ~0ULL;
	return 0;
}

/*
 * Registers, segments, control registers and events for @s, on top of a
 * fresh vCPU's: through the kvm_run sync area (loaded by the next
 * KVM_RUN), or by ioctl.
 */
static int set_state(struct kvm_backend *kb, const struct scenario *s)
{
	bool long_mode = kb_long_mode(s);
	struct kvm_sregs *sr, sr_buf;
	struct kvm_regs *regs, regs_buf;
	struct kvm_vcpu_events *ev, ev_buf;

	if (kb->sync_regs) {
		sr = &kb->vm.run->s.regs.sregs;
		regs = &kb->vm.run->s.regs.regs;
		ev = &kb->vm.run->s.regs.events;
	} else {
		sr = &sr_buf;
		regs = &regs_buf;
		ev = &ev_buf;
	}
	*sr = kb->vm.sregs0;
	set_segment(&sr->es, s, VCPU_SREG_ES);
	set_segment(&sr->cs, s, VCPU_SREG_CS);
	set_segment(&sr->ss, s, VCPU_SREG_SS);
	set_segment(&sr->ds, s, VCPU_SREG_DS);
	set_segment(&sr->fs, s, VCPU_SREG_FS);
	set_segment(&sr->gs, s, VCPU_SREG_GS);
	sr->tr = (struct kvm_segment){
		.base = KB_TSS_GPA, .limit = 0x67, .selector = KB_SEL_TSS,
		.type = 0xb, .present = 1,
	};
	sr->ldt = (struct kvm_segment){ .type = 0x2, .unusable = 1 };
	sr->gdt.base = KB_GDT_GPA;
	sr->gdt.limit = kb->gdt.limit;
	sr->idt.base = KB_IDT_GPA;
	sr->idt.limit = long_mode ? 256 * 16 - 1 : 256 * 8 - 1;
	if (s->mode == SCN_MODE_REAL16)
		sr->idt.limit = 256 * 4 - 1;	/* the IVT */

	sr->cr0 = BIT(4);		/* ET */
	if (s->mode != SCN_MODE_REAL16)
		sr->cr0 |= X86_CR0_PE;
	if (scenario_paging(s))
		sr->cr0 |= X86_CR0_PG;
	if (s->ctl & SCN_CTL_CR0_WP)
		sr->cr0 |= X86_CR0_WP;
	sr->cr2 = 0;
	sr->cr3 = scenario_paging(s) ? kb->pt.root : 0;
	sr->cr4 = (s->ctl & SCN_CTL_CR4_OSFXSR) ? X86_CR4_OSFXSR : 0;
	sr->efer = (s->ctl & SCN_CTL_EFER_NXE) ? EFER_NX : 0;
	if (long_mode) {
		sr->cr4 |= X86_CR4_PAE;
		sr->efer |= EFER_LME | EFER_LMA;
	}

	*regs = (struct kvm_regs){
		.rax = scenario_reg(s, VCPU_REGS_RAX),
		.rbx = scenario_reg(s, VCPU_REGS_RBX),
		.rcx = scenario_reg(s, VCPU_REGS_RCX),
		.rdx = scenario_reg(s, VCPU_REGS_RDX),
		.rsi = scenario_reg(s, VCPU_REGS_RSI),
		.rdi = scenario_reg(s, VCPU_REGS_RDI),
		.rsp = scenario_reg(s, VCPU_REGS_RSP),
		.rbp = scenario_reg(s, VCPU_REGS_RBP),
		.r8 = scenario_reg(s, VCPU_REGS_R8),
		.r9 = scenario_reg(s, VCPU_REGS_R9),
		.r10 = scenario_reg(s, VCPU_REGS_R10),
		.r11 = scenario_reg(s, VCPU_REGS_R11),
		.r12 = scenario_reg(s, VCPU_REGS_R12),
		.r13 = scenario_reg(s, VCPU_REGS_R13),
		.r14 = scenario_reg(s, VCPU_REGS_R14),
		.r15 = scenario_reg(s, VCPU_REGS_R15),
		.rip = scenario_reg(s, SCN_REG_RIP),
		.rflags = scenario_reg(s, SCN_REG_RFLAGS) | X86_EFLAGS_FIXED,
	};
	/* nothing pending, no interrupt shadow, as in a fresh vCPU */
	*ev = kb->vm.events0;

	if (kb->sync_regs) {
		kb->vm.run->kvm_valid_regs = KB_SYNC_ALL;
		kb->vm.run->kvm_dirty_regs = KB_SYNC_ALL;
		return 0;
	}
	if (ioctl(kb->vm.vcpu_fd, KVM_SET_SREGS, sr) < 0 ||
	    ioctl(kb->vm.vcpu_fd, KVM_SET_REGS, regs) < 0 ||
	    ioctl(kb->vm.vcpu_fd, KVM_SET_VCPU_EVENTS, ev) < 0)
		return -errno;
	return 0;
}

static void regs_to_result(const struct kvm_regs *k, struct run_result *r)
{
	r->regs[VCPU_REGS_RAX] = k->rax;
	r->regs[VCPU_REGS_RCX] = k->rcx;
	r->regs[VCPU_REGS_RDX] = k->rdx;
	r->regs[VCPU_REGS_RBX] = k->rbx;
	r->regs[VCPU_REGS_RSP] = k->rsp;
	r->regs[VCPU_REGS_RBP] = k->rbp;
	r->regs[VCPU_REGS_RSI] = k->rsi;
	r->regs[VCPU_REGS_RDI] = k->rdi;
	r->regs[VCPU_REGS_R8] = k->r8;
	r->regs[VCPU_REGS_R9] = k->r9;
	r->regs[VCPU_REGS_R10] = k->r10;
	r->regs[VCPU_REGS_R11] = k->r11;
	r->regs[VCPU_REGS_R12] = k->r12;
	r->regs[VCPU_REGS_R13] = k->r13;
	r->regs[VCPU_REGS_R14] = k->r14;
	r->regs[VCPU_REGS_R15] = k->r15;
	r->rip = k->rip;
	r->rflags = k->rflags;
}

/* ---- running ---- */

/* The vCPU's linear RIP at the last exit: from the sync area, else by ioctl. */
static int exit_linear_rip(struct kvm_backend *kb, u64 *la)
{
	struct kvm_regs regs;
	struct kvm_sregs sr;

	if (kb->sync_regs) {
		regs = kb->vm.run->s.regs.regs;
		sr = kb->vm.run->s.regs.sregs;
	} else if (ioctl(kb->vm.vcpu_fd, KVM_GET_REGS, &regs) < 0 ||
		   ioctl(kb->vm.vcpu_fd, KVM_GET_SREGS, &sr) < 0) {
		return -errno;
	}
	*la = regs.rip;
	if (!(sr.efer & EFER_LMA) || !sr.cs.l)
		*la = (u32)(sr.cs.base + (u32)regs.rip);
	return 0;
}

/*
 * Is the emulation failure of the last exit the case's own instruction's,
 * though the linear RIP moved?  A far transfer that KVM gives up on after
 * loading CS (em_ret_far() and em_jmp_far() return UNHANDLEABLE when
 * assign_eip_far() refuses the new EIP, e.g. a 32-bit EIP past a real-mode
 * CS limit of 0xffff) leaves the new CS with the old RIP: the linear RIP is
 * off the instruction although nothing ran after it.  KVM reports the bytes
 * it fetched for the failing instruction (prepare_emulation_failure_exit(),
 * KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES, up to 15 with the
 * sentinel bytes after the code_len the guest got); with RIP still the
 * case's and those bytes the case's, the failure is the instruction's.  A
 * run-on failure (iret into code in MMIO) fetched nothing, or other bytes,
 * at the popped RIP.
 */
static bool failure_is_own(struct kvm_backend *kb, const struct scenario *s)
{
	struct kvm_run *run = kb->vm.run;
	struct kvm_regs regs;
	unsigned int n;

	if (run->emulation_failure.suberror != KVM_INTERNAL_ERROR_EMULATION ||
	    !(run->emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES))
		return false;
	n = min_t(unsigned int, run->emulation_failure.insn_size, kb->code_len);
	n = min_t(unsigned int, n, sizeof(run->emulation_failure.insn_bytes));
	if (!n || memcmp(run->emulation_failure.insn_bytes, s->insn, n))
		return false;
	if (kb->sync_regs)
		regs = run->s.regs.regs;
	else if (ioctl(kb->vm.vcpu_fd, KVM_GET_REGS, &regs) < 0)
		return false;
	return regs.rip == scenario_reg(s, SCN_REG_RIP);
}

/*
 * A write exit that a device registered in this VM takes: KVM's bus search
 * missed it (harness/kvm/iobus_order.c).  Before the ring is emptied.
 */
static void note_bus_miss(struct kvm_backend *kb, const struct kvm_run *run,
			  struct run_result *r)
{
	if (!run->mmio.is_write || r->iobus_missed ||
	    !kvm_devices_should_take(kb->vm.dev, run->mmio.phys_addr, run->mmio.len))
		return;
	r->iobus_missed = true;
	r->iobus_missed_gpa = run->mmio.phys_addr;
}

/*
 * After a write exit (MMIO write, port OUT) of a retired instruction:
 * complete the exchange (and the write exits of its other fragments)
 * without entering the guest again, KVM_RUN with immediate_exit (the way
 * KVM's selftests finish I/O).  Returns 0, or -errno with the outcome set.
 */
static int complete_writes(struct kvm_backend *kb, const struct scenario *s,
			   struct run_result *r, unsigned int *pos, unsigned int *n)
{
	struct kvm_run *run = kb->vm.run;
	int ret = 0;

	run->immediate_exit = 1;
	for (;;) {
		if (ioctl(kb->vm.vcpu_fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				break;	/* completed, the guest not entered */
			ret = -errno;
			r->kvm_errno = errno;
			r->outcome = OUTCOME_KVM_ERROR;
			break;
		}
		if (run->exit_reason != KVM_EXIT_MMIO || !run->mmio.is_write ||
		    ++*n >= kb->limits.max_exits) {
			/* nothing but write exits can be left; stop as at the budget */
			ret = -EIO;
			r->exits_lost = true;
			r->outcome = OUTCOME_BUDGET;
			break;
		}
		note_bus_miss(kb, run, r);
		kvm_devices_exit(kb->vm.dev);	/* devices: as at run_loop()'s MMIO exits */
		kb->last_exit_read = false;
		mmio_exit_record(r, s, pos, run->mmio.phys_addr, run->mmio.len,
				 run->mmio.is_write, run->mmio.data);
	}
	run->immediate_exit = 0;
	return ret;
}

/*
 * KVM_EXIT_IO: answer as the model's port device answers every port
 * (emulator/vcpu.h: the model has no KVM_EXIT_IO, a port without a device
 * stands for userspace and is answered the same way): the k-th byte read
 * in the case is (u8)(port + k), the whole batch of count elements at
 * once; written data is taken.  Writes to ports 0x80-0x8f go to PIO
 * ioeventfds (kvm_devices.c) without an exit; reads there exit.  With an
 * irqchip the kernel's PIC (no PIT) answers its own ports without an exit.
 */
static void pio_exit(struct kvm_backend *kb)
{
	struct kvm_run *run = kb->vm.run;
	u8 *data = (u8 *)run + run->io.data_offset;
	u64 k = kb->pio_read_bytes + run->io.port;
	u32 i, n = run->io.size * run->io.count;

	if (run->io.direction != KVM_EXIT_IO_IN)
		return;
	if (n > kb->run_size - run->io.data_offset)
		n = kb->run_size - run->io.data_offset;
	for (i = 0; i < n; i++)
		data[i] = (u8)(k + i);
	kb->pio_read_bytes += n;
}

/*
 * KVM_EXIT_SHUTDOWN: a fault that could not be delivered (legacy or real
 * mode at CPL 0, the stack not in RAM: kvm_pvm shuts the VM down at once,
 * with no exit for the pushes).  The vCPU events still name the exception
 * KVM was delivering (exception.nr, set to KB_NO_VECTOR before the run;
 * measured on kvm_pvm 6.18.44): that vector, with RIP on the instruction.
 * If none is named, #DF.
 */
static void shutdown_exception(struct kvm_backend *kb, struct run_result *r)
{
	struct kvm_vcpu_events ev;

	r->outcome = OUTCOME_EXCEPTION;
	r->exception = (struct x86_exception){
		.vector = KB_DF_VECTOR, .error_code_valid = true,
	};
	if (kb->sync_regs)
		ev = kb->vm.run->s.regs.events;
	else if (ioctl(kb->vm.vcpu_fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		return;
	if (ev.exception.nr >= 32)
		return;
	r->exception = (struct x86_exception){
		.vector = ev.exception.nr,
		.error_code_valid = vector_has_error_code(ev.exception.nr),
		.error_code = ev.exception.has_error_code ? (u16)ev.exception.error_code : 0,
	};
}

/*
 * Is this KVM_EXIT_IO the sentinel?  A one-byte "out 0xe6, al" that is not
 * the instruction's own: an exit of the instruction (only port I/O has
 * them) comes with the linear RIP on it (a REP pass, or a read to be
 * completed) or right after it (a write, retired), while the sentinel's
 * comes with RIP KB_SENTINEL_LEN bytes past sentinel bytes, which are
 * outside the instruction (after it, in a stub, wherever a branch went):
 * KVM emulates CPL 0 code here, and the emulator retires an OUT before the
 * exit.  A one-byte "out dx, al" of the case with DX 0xe6 is its own.
 */
static bool sentinel_exit(struct kvm_backend *kb, const struct scenario *s, u64 la)
{
	struct kvm_run *run = kb->vm.run;
	u64 after, end = la + kb->code_len;

	if (run->io.port != KB_SENTINEL_PORT || run->io.direction != KVM_EXIT_IO_OUT ||
	    run->io.size != 1 || run->io.count != 1)
		return false;
	if (exit_linear_rip(kb, &after))
		return false;
	if (s->mode != SCN_MODE_LONG64)
		end = (u32)end;
	return !insn_is_pio(s) || (after != la && after != end);
}

/* RCX 1, for vcpu_settle(); -errno */
static int last_pass(struct kvm_backend *kb)
{
	struct kvm_regs regs;

	if (kb->sync_regs) {
		kb->vm.run->s.regs.regs.rcx = 1;
		kb->vm.run->kvm_dirty_regs = KVM_SYNC_X86_REGS;
		return 0;
	}
	if (ioctl(kb->vm.vcpu_fd, KVM_GET_REGS, &regs) < 0)
		return -errno;
	regs.rcx = 1;
	return ioctl(kb->vm.vcpu_fd, KVM_SET_REGS, &regs) < 0 ? -errno : 0;
}

/*
 * After a case that did not end cleanly (exit budget, time limit,
 * emulation failure, shutdown, step budget): finish whatever exchange KVM
 * still has pending, so that nothing is left for the next case to
 * complete.  KVM_RUN with immediate_exit runs the pending completion
 * (complete_userspace_io) and returns -EINTR without entering the guest;
 * a completion that needs one more exit (the next fragment, the next pass
 * of a rep string) comes back as that exit, answered with zeros, or ends
 * with the single-step exit: run again until KVM has nothing left.  Only
 * exits whose completion is an MMIO or port exchange, or that leave none,
 * are settled.  A REP string cut short by a limit would go on for RCX
 * more passes: RCX is made 1 first, so that the pass in flight is its last
 * (RCX 0 would end the instruction before the pending read is taken, and
 * leave the read for the next case, spec kvm-on-these-machines.md,
 * "Aborting a case").  false: the vCPU did not settle within
 * KB_SETTLE_RUNS runs (the VM goes).  The results are not the case's:
 * call it after collect(), with the sync area read.
 */
static bool vcpu_settle(struct kvm_backend *kb, const struct scenario *s)
{
	struct kvm_run *run = kb->vm.run;
	unsigned int i;
	bool ok = false;

	switch (run->exit_reason) {
	case KVM_EXIT_MMIO:
	case KVM_EXIT_IO:
	case KVM_EXIT_INTR:
	case KVM_EXIT_INTERNAL_ERROR:
	case KVM_EXIT_SHUTDOWN:
	case KVM_EXIT_DEBUG:
		break;
	default:
		return false;
	}
	run->kvm_dirty_regs = 0;
	if (insn_has_rep(s) && last_pass(kb))
		return false;
	run->immediate_exit = 1;
	for (i = 0; i < KB_SETTLE_RUNS; i++) {
		if (ioctl(kb->vm.vcpu_fd, KVM_RUN, 0) < 0) {
			ok = errno == EINTR;	/* completed, the guest not entered */
			break;
		}
		if (run->exit_reason == KVM_EXIT_MMIO) {
			if (!run->mmio.is_write)
				memset(run->mmio.data, 0, sizeof(run->mmio.data));
		} else if (run->exit_reason == KVM_EXIT_IO) {
			if (run->io.direction == KVM_EXIT_IO_IN &&
			    run->io.data_offset < kb->run_size)
				memset((u8 *)run + run->io.data_offset, 0,
				       min_t(u64, (u64)run->io.size * run->io.count,
					     kb->run_size - run->io.data_offset));
		} else if (run->exit_reason != KVM_EXIT_DEBUG &&
			   run->exit_reason != KVM_EXIT_INTERNAL_ERROR &&
			   run->exit_reason != KVM_EXIT_SHUTDOWN) {
			break;	/* not an exchange, not an end: give up */
		}
	}
	run->immediate_exit = 0;
	return ok;
}

/*
 * Is every instruction the guest runs single-stepped by KVM (emulated
 * code, KVM_GUESTDBG_SINGLESTEP), so that a run cut at an exit or step
 * budget ran nothing but the case's instruction?  Native code is left out
 * (the CPU runs it, and its steps come from RFLAGS.TF).
 */
static bool stepped_only(const struct kvm_backend *kb)
{
	return kb->case_singlestep && !kb->case_native_step;
}

/*
 * Play userspace, as model_userspace_loop() does.  Only a case that ends
 * on the sentinel, a debug exit or completed writes leaves the vCPU clean
 * (the instruction, or the exception stub, completed): after any other end
 * the vCPU is settled (vcpu_settle()) or the VM made anew for the next case.
 */
static void run_loop(struct kvm_backend *kb, const struct scenario *s, struct run_result *r)
{
	struct kvm_run *run = kb->vm.run;
	unsigned int pos = 0, n = 0, steps = 0, ios = 0;
	u64 la = code_linear(s), at;
	bool write;
	/*
	 * Steps that end on the instruction again.  For a REP string each
	 * comes after up to 1024 iterations: enough for the model's pass
	 * budget (one pass an iteration) and two more, then the case is cut
	 * short as the model's is (more steps only cost KVM_RUNs).  Any other
	 * instruction that ends on itself (a ret or jump to itself) is one
	 * model entry a step: the model's entry budget, the limits'
	 * max_entries (a step costs a KVM_RUN: 1024 of them, about 20 ms,
	 * cost as much as a thousand other cases).
	 */
	unsigned int max_steps = !insn_has_rep(s) ? run_limits_entries(kb->limits) :
		min_t(unsigned int, KB_MAX_STEPS,
		      kb->limits.max_passes / KB_ITERATIONS_PER_STEP + 2);

	kb->vm.vm_stale = true;
	kb->on_sentinel = false;
	kb->cut_in_insn = false;
	kb->last_exit_read = false;
	kb->debug_exit = false;
	kb->pio_read_bytes = 0;
	while (n < kb->limits.max_exits) {
		if (ioctl(kb->vm.vcpu_fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR && kb_timer_fired) {
				/* out of time: settled or dropped, as at the exit budget */
				r->outcome = OUTCOME_BUDGET;
				return;
			}
			if (errno == EINTR || errno == EAGAIN)
				continue;
			r->kvm_errno = errno;
			r->outcome = OUTCOME_KVM_ERROR;
			return;
		}
		n++;
		switch (run->exit_reason) {
		case KVM_EXIT_MMIO:
			break;
		case KVM_EXIT_IO:
			if (sentinel_exit(kb, s, la)) {
				kb->on_sentinel = true;
				kb->vm.vm_stale = false;
				r->outcome = OUTCOME_RETIRED;	/* or an exception: see collect() */
				return;
			}
			/*
			 * answered inside KVM_RUN on the model's side: no exit
			 * there; bounded like the MMIO exits all the same (at
			 * RESULT_MAX_EXITS a port loop cost a third more time
			 * per case), and a case cut here while the model ran to
			 * its end is not judged by the oracle
			 * (fidelity_oracle_applies())
			 */
			n--;
			if (++ios >= kb->limits.max_exits) {
				kb->cut_in_insn = stepped_only(kb);
				r->outcome = OUTCOME_BUDGET;
				return;
			}
			pio_exit(kb);
			break;
		case KVM_EXIT_HLT:	/* the case's own hlt, without irqchip */
			kb->vm.vm_stale = false;
			r->outcome = OUTCOME_RETIRED;	/* or an exception: see collect() */
			return;
		case KVM_EXIT_DEBUG:
			/*
			 * A single step that ended where the instruction
			 * starts: one pass of a rep string instruction (or a
			 * jump to itself), as the model re-enters the guest
			 * until RIP leaves the instruction.  Else the end:
			 * after the instruction, at the first stub instruction
			 * after an exception, at the real-mode handler
			 * breakpoint (see collect()).
			 */
			if ((run->debug.arch.dr6 & KB_DR6_BS) && !(run->debug.arch.dr6 & KB_DR6_B0) &&
			    run->debug.arch.pc == la) {
				n--;	/* no exit to userspace on the model's side */
				if (++steps < max_steps)
					continue;
				kb->cut_in_insn = stepped_only(kb);
				r->outcome = OUTCOME_BUDGET;
				return;
			}
			kb->debug_exit = true;
			kb->debug_dr6 = run->debug.arch.dr6;
			kb->debug_pc = run->debug.arch.pc;
			kb->vm.vm_stale = false;
			r->outcome = OUTCOME_RETIRED;
			return;
		case KVM_EXIT_INTERNAL_ERROR:
			/*
			 * Not single-stepped (iret, popf...), the guest runs on
			 * after the instruction: a failure with the linear RIP
			 * off the instruction is the next one's (a taken iret
			 * to code in MMIO), and the instruction retired;
			 * unless KVM failed the instruction itself after its
			 * CS load (failure_is_own()).
			 */
			if (!kb->case_singlestep && !kb->debug_exit &&
			    !exit_linear_rip(kb, &at) && at != la &&
			    !failure_is_own(kb, s)) {
				r->outcome = OUTCOME_RETIRED;
				return;
			}
			r->outcome = OUTCOME_EMULATION_FAILURE;
			return;
		case KVM_EXIT_SHUTDOWN:
			shutdown_exception(kb, r);
			return;
		default:
			/* the rest: the model stops the same way */
			r->outcome = OUTCOME_BUDGET;
			return;
		}
		if (run->exit_reason == KVM_EXIT_MMIO) {
			/*
			 * devices: empty the coalesced ring at an MMIO exit only,
			 * where the model's userspace does: not at a rep pass's
			 * step exit or a port exit, which the model has not (a
			 * full ring would end up emptied early).  collect()
			 * empties it at the end.
			 */
			note_bus_miss(kb, run, r);
			kvm_devices_exit(kb->vm.dev);
			mmio_exit_record(r, s, &pos, run->mmio.phys_addr, run->mmio.len,
					 run->mmio.is_write, run->mmio.data);
			write = run->mmio.is_write;
			kb->last_exit_read = !write;
		} else {
			write = run->io.direction == KVM_EXIT_IO_OUT;
		}
		/*
		 * KVM single-steps an emulated instruction only when it
		 * completes inside KVM_RUN: one that ends on a write exit
		 * (MMIO write, port OUT) has retired already (RIP moved on)
		 * and would run on into the next instruction before the step
		 * exit.  Finish it here.
		 */
		/*
		 * The same with the scenario's own TF (not single-stepped):
		 * KVM loses that #DB after a write exit (singlestep-lost), and
		 * the guest would run on at a call's target.
		 */
		if (write && (kb->case_singlestep ||
			      (scenario_reg(s, SCN_REG_RFLAGS) & X86_EFLAGS_TF))) {
			u64 rip = la;

			if (exit_linear_rip(kb, &rip)) {
				r->kvm_errno = errno;
				r->outcome = OUTCOME_KVM_ERROR;
				return;
			}
			if (rip != la) {
				if (complete_writes(kb, s, r, &pos, &n))
					return;
				kb->debug_exit = true;	/* RIP is where it went */
				kb->debug_dr6 = kb->debug_pc = 0;
				kb->vm.vm_stale = false;
				r->outcome = OUTCOME_RETIRED;
				return;
			}
		}
	}
	/* the last exchange is not the case's: vcpu_settle() finishes it */
	kb->cut_in_insn = stepped_only(kb);
	r->exits_lost = true;
	r->outcome = OUTCOME_BUDGET;
}

/* Host pointer to @len bytes of guest RAM at @gpa, or NULL (MMIO, split). */
static u8 *guest_ram(struct kvm_backend *kb, u64 gpa, unsigned int len)
{
	unsigned int i;

	if (gpa >= KB_RESV_GPA && gpa + len <= KB_HARNESS_END)
		return resv_ptr(kb, gpa);
	for (i = 0; i < SCN_MAX_MAPS; i++)
		if (kb->vm.frame_used[i] && (gpa & PAGE_MASK) == kb->vm.frame_gpa[i] &&
		    (gpa & ~PAGE_MASK) + len <= PAGE_SIZE)
			return kb->frames + i * PAGE_SIZE + (gpa & ~PAGE_MASK);
	return NULL;
}

/* @len bytes of guest RAM at @gpa, byte by byte; false if any is not RAM. */
static bool read_ram(struct kvm_backend *kb, u64 gpa, void *buf, unsigned int len)
{
	u8 *out = buf;
	unsigned int i;

	for (i = 0; i < len; i++) {
		u8 *p = guest_ram(kb, gpa + i, 1);

		if (!p)
			return false;
		out[i] = *p;
	}
	return true;
}

/*
 * Legacy and real mode, paging off: after delivery, which succeeded, the
 * frame is in RAM at SS:(E)SP (in protected mode at the flat ESP: kvm_pvm
 * ignores the SS base there), at CPL 0 the scenario's stack, from CPL 3 the
 * TSS's SS0:ESP0 (flat, 32-bit).  Protected mode: [error code,] EIP, CS,
 * EFLAGS, and from CPL 3 ESP, SS; real mode: IP, CS, FLAGS.
 *
 * How kvm_pvm delivers in the 16-bit modes (seen on 6.18.44,
 * fuzz/known-issues.md "Exception delivery in the 16-bit modes"):
 *  - prot16: the stack pointer is 32 bits, also with a 16-bit SS: ESP
 *    0x12340004 was 0x1233fff8 after a #UD, the frame at the flat ESP;
 *  - real mode: 16 bits, and the delivery leaves RSP as the new SP
 *    zero-extended (RSP 0x1234aff0 or 0x10000aff0 was 0xafea after a #UD
 *    or #GP, while INT 10h, KVM's emulator, left 0x1234afea) and clears
 *    RFLAGS.AC with IF and TF (0x40000 of the model's RFLAGS missing
 *    after a #DB), and the frame has only FLAGS[15:0].  So RSP[63:16] and
 *    AC after it are the delivery's.  Before a fault they were the
 *    scenario's: an instruction that faults writes no register back (KVM
 *    commits registers when the instruction completes; a REP string's
 *    earlier iterations touch neither) and a case is one instruction.
 *    Before a trap (the #DB of the scenario's TF) they were the retired
 *    instruction's (66 pop esp, 66 popf), which are gone: reported lost.
 */
static void exception_state_legacy(struct kvm_backend *kb, const struct scenario *s,
				   struct run_result *r, u64 rsp)
{
	bool ec = r->exception.error_code_valid, user = s->cpl == 3;
	bool real = s->mode == SCN_MODE_REAL16;
	u32 mask = real ? 0xffff : 0xffffffff, sp = (u32)rsp & mask;
	/* kvm_pvm pushes a protected-mode frame at the flat ESP (SS base ignored) */
	u32 base = real ? scenario_segment(s, VCPU_SREG_SS).base : 0;
	u64 before = scenario_reg(s, SCN_REG_RFLAGS);
	u32 f[6];
	u16 f16[3];
	unsigned int size;

	if (real) {
		size = sizeof(f16);
		if (!read_ram(kb, (u32)(base + sp), f16, size))
			return;		/* RIP stays the handler's */
		r->rip = f16[0];
		r->rflags = (r->rflags & ~(0xffffULL | X86_EFLAGS_AC)) | f16[2];
		if (r->exception.vector == KB_DB_VECTOR) {
			r->rflags_lost = X86_EFLAGS_AC;
			r->rsp_lost = ~(u64)mask;
		} else {
			/* a fault: the bits above SP and AC as the scenario had them */
			r->rflags |= before & X86_EFLAGS_AC;
			rsp = scenario_reg(s, VCPU_REGS_RSP);
		}
	} else {
		size = (ec + 3 + 2 * user) * 4;
		if (!read_ram(kb, (u32)(base + sp), f, size))
			return;		/* RIP stays the stub's */
		if (ec)
			r->exception.error_code = (u16)f[0];
		r->rip = f[ec];
		r->rflags = f[ec + 2];
		if (user) {
			/* back on the scenario's stack */
			r->regs[VCPU_REGS_RSP] = f[ec + 3];
			return;
		}
	}
	r->regs[VCPU_REGS_RSP] = (rsp & ~(u64)mask) | ((sp + size) & mask);
}

/*
 * Protected and long mode: the vector whose stub the vCPU stopped in (past
 * its sentinel, or single-stepped past the nop), or -1.  The stubs' code
 * segment at CPL 0 with RIP in them: only a delivered exception gets
 * there (or an instruction under test that jumps into them).
 */
static int stub_vector(const struct scenario *s, const struct kvm_regs *regs,
		       const struct kvm_sregs *sr)
{
	u16 sel = kb_long_mode(s) ? KB_SEL_CODE64 : KB_SEL_CODE32;

	if (sr->cs.selector != sel || regs->rip < KB_STUB_GPA ||
	    regs->rip >= KB_STUB_GPA + 256 * KB_STUB_SIZE)
		return -1;
	return (regs->rip - KB_STUB_GPA) / KB_STUB_SIZE;
}

/*
 * Real mode: the vCPU stopped at the handler breakpoint, with the
 * vector in CS (see KB_RM_HSEG)?  Then -1 otherwise.
 */
static int real_mode_vector(struct kvm_backend *kb, const struct kvm_sregs *sr)
{
	u16 vec = KB_RM_HSEG - sr->cs.selector;

	if (!kb->debug_exit || !(kb->debug_dr6 & KB_DR6_B0) || kb->debug_pc != KB_RM_HANDLER ||
	    vec > 255 || sr->cs.base != (u64)sr->cs.selector << 4)
		return -1;
	return vec;
}

/*
 * CPL 3: a #GP(0) at a sentinel byte of the code pages other than the
 * instruction's first byte is the sentinel (OUT with IOPL < 3 and no I/O
 * bitmap; or sentinel bytes the instruction jumped to, which the model
 * reports the same way: retired there).
 */
static bool at_user_sentinel(struct kvm_backend *kb, const struct scenario *s,
			     const struct run_result *r)
{
	u64 la = code_linear(s), at = r->rip, page = la & PAGE_MASK;

	if (r->exception.vector != 13 || r->exception.error_code ||
	    at == scenario_reg(s, SCN_REG_RIP))
		return false;
	if (!scenario_paging(s))
		page = KB_CODE_GPA;	/* the code pages are where the code is */
	if (s->mode == SCN_MODE_LONG64)
		at -= page;
	else	/* the linear address of EIP, in 32 bits */
		at = (u32)(scenario_segment(s, VCPU_SREG_CS).base + (u32)at - page);
	return at < KB_CODE_PAGES * PAGE_SIZE &&
	       *resv_ptr(kb, KB_CODE_GPA + at) == KB_SENTINEL_BYTE;
}

static void collect(struct kvm_backend *kb, const struct scenario *s, struct run_result *r)
{
	struct kvm_sregs sr;
	struct kvm_regs regs;
	int vec;

	if (kb->sync_regs && r->outcome != OUTCOME_KVM_ERROR) {
		/* KVM stored them into the sync area at the last exit */
		regs = kb->vm.run->s.regs.regs;
		sr = kb->vm.run->s.regs.sregs;
	} else if (ioctl(kb->vm.vcpu_fd, KVM_GET_REGS, &regs) < 0 ||
		   ioctl(kb->vm.vcpu_fd, KVM_GET_SREGS, &sr) < 0) {
		r->kvm_errno = errno;
		r->outcome = OUTCOME_KVM_ERROR;
		kb->vm.vm_stale = true;
		return;
	}
	regs_to_result(&regs, r);
	if (r->outcome != OUTCOME_RETIRED)
		return;

	vec = s->mode == SCN_MODE_REAL16 ? real_mode_vector(kb, &sr) : stub_vector(s, &regs, &sr);
	if (vec < 0) {
		/*
		 * Single-stepped: RIP is where the instruction went.  Stopped
		 * on a sentinel: RIP is past it.  Else the case's own hlt
		 * (KVM_EXIT_HLT, no irqchip): RIP is after it, as retired.
		 */
		if (kb->on_sentinel)
			r->rip = regs.rip - KB_SENTINEL_LEN;
		return;
	}
	r->outcome = OUTCOME_EXCEPTION;
	r->exception.vector = vec;
	r->exception.error_code_valid = vector_has_error_code(r->exception.vector);
	if (r->exception.vector == PF_VECTOR)
		r->exception.address = sr.cr2;

	if (kb_long_mode(s)) {
		/* IST1: the CPU aligned the top; [ec,] rip, cs, rflags, rsp, ss */
		const u8 *f = resv_ptr(kb, KB_STACK_TOP - 40);

		if (r->exception.error_code_valid) {
			f -= 8;
			r->exception.error_code = (u16)get_u64(f);
			f += 8;
		}
		r->rip = get_u64(f);
		r->rflags = get_u64(f + 16);
		r->regs[VCPU_REGS_RSP] = get_u64(f + 24);
	} else {
		exception_state_legacy(kb, s, r, regs.rsp);
	}
	if (s->cpl == 3 && at_user_sentinel(kb, s, r)) {
		/*
		 * The instruction retired; the sentinel at CPL 3 is #GP(0).
		 * A fault is delivered with RF set in the pushed RFLAGS
		 * (KVM sets it for every fault it injects, as the CPU does):
		 * that RF is the delivery's, not the instruction's, which
		 * clears RF when it retires.  (An IRET that loads RF = 1
		 * cannot be told apart: its RF is lost here.)
		 */
		r->outcome = OUTCOME_RETIRED;
		r->exception = (struct x86_exception){ 0 };
		r->rflags &= ~(u64)X86_EFLAGS_RF;
	} else if (kb->case_native_step && vec == KB_DB_VECTOR) {
		/*
		 * Native code single-stepped with TF: kvm_pvm delivers the
		 * #DB trap to the guest, with RIP after the instruction, or
		 * still on it (a jump to itself: the model's budget).  A
		 * trap pushes RF as the instruction left it; the TF is
		 * the harness's (cleared below).
		 */
		r->outcome = r->rip == code_linear(s) ? OUTCOME_BUDGET : OUTCOME_RETIRED;
		r->exception = (struct x86_exception){ 0 };
	}
	if (kb->case_singlestep)
		r->rflags &= ~(u64)X86_EFLAGS_TF;	/* KVM's, not the case's */
}

/* What this version can set up; -EOPNOTSUPP otherwise. */
static int case_supported(struct kvm_backend *kb, const struct scenario *s,
			  const struct scn_map *maps, unsigned int nr, u64 la)
{
	unsigned int i;

	if (s->mode >= SCN_NR_MODES) {
		snprintf(kb->why, sizeof(kb->why), "mode %u", s->mode);
		return -EOPNOTSUPP;
	}
	if (!s->insn_len) {
		/* the vCPU would run the harness's sentinel, not the case's bytes */
		snprintf(kb->why, sizeof(kb->why), "no instruction bytes");
		return -EOPNOTSUPP;
	}
	if (s->cpl != 0 && (s->cpl != 3 || s->mode == SCN_MODE_REAL16)) {
		snprintf(kb->why, sizeof(kb->why), "CPL %u in %s", s->cpl,
			 scenario_mode_name(s->mode));
		return -EOPNOTSUPP;
	}
	for (i = 0; i < nr; i++) {
		if (maps[i].kind == SCN_KIND_ROM && !kb->readonly_mem) {
			snprintf(kb->why, sizeof(kb->why), "%s frames",
				 scenario_kind_name(maps[i].kind));
			return -EOPNOTSUPP;
		}
	}
	/* devices: irqchip, split-lock, device frames */
	if (kvm_devices_supported(kb->vm.dev, s, maps, nr, kb->why, sizeof(kb->why)))
		return -EOPNOTSUPP;
	/* 16-bit IP: the bytes and the sentinel must not wrap */
	if (mode_is16(s) &&
	    scenario_reg(s, SCN_REG_RIP) + s->insn_len + KB_SENTINEL_LEN > 0x10000) {
		snprintf(kb->why, sizeof(kb->why), "IP 0x%llx wraps in a 16-bit mode",
			 (unsigned long long)scenario_reg(s, SCN_REG_RIP));
		return -EOPNOTSUPP;
	}
	/* paging off: the code must sit in the code pages themselves */
	if (!scenario_paging(s) &&
	    (la < KB_CODE_GPA ||
	     la + s->insn_len + KB_SENTINEL_LEN > KB_CODE_GPA + KB_CODE_PAGES * PAGE_SIZE)) {
		snprintf(kb->why, sizeof(kb->why), "code outside the code pages");
		return -EOPNOTSUPP;
	}
	return 0;
}

void kvm_backend_set_limits(struct kvm_backend *kb, struct run_limits lim)
{
	kb->limits.max_exits = clamp_t(unsigned int, lim.max_exits, 1, RESULT_MAX_EXITS);
	kb->limits.max_passes = lim.max_passes;
	kb->limits.max_ns = lim.max_ns ? lim.max_ns : RUN_LIMITS_DEFAULT_NS;
	kb->limits.max_entries = min_t(unsigned int, run_limits_entries(lim), KB_MAX_STEPS);
}

bool kvm_backend_single_steps(const struct kvm_backend *kb)
{
	return kb->singlestep;
}

const char *kvm_backend_why(const struct kvm_backend *kb)
{
	return kb->why;
}

/*
 * Two-byte opcodes (0f xx) that change nothing set_state() does not set
 * again: no FPU/MMX/SSE register, debug register, XCR0, MSR, TPR or run
 * state.  Segment and control registers, RFLAGS and the GPRs are set per
 * case anyway.
 */
static bool opcode_0f_keeps_state(u8 op)
{
	switch (op) {
	case 0x00: case 0x02: case 0x03:	/* group 6, lar, lsl */
	case 0x05: case 0x06: case 0x07:	/* syscall, clts, sysret */
	case 0x08: case 0x09: case 0x0b: case 0x0d:	/* invd, wbinvd, ud2, prefetch */
	case 0x18 ... 0x1f:			/* hint NOPs */
	case 0x31 ... 0x35:			/* rdtsc, rdmsr, rdpmc, sysenter/exit */
	case 0x40 ... 0x4f:			/* cmovcc */
	case 0x80 ... 0x9f:			/* jcc, setcc */
	case 0xa0 ... 0xa5:			/* push/pop fs, cpuid, bt, shld */
	case 0xa8 ... 0xa9: case 0xab ... 0xad: case 0xaf:	/* gs, bts, shrd, imul */
	case 0xb0 ... 0xbf:			/* cmpxchg .. movsx */
	case 0xc0: case 0xc1:			/* xadd */
	case 0xc8 ... 0xcf:			/* bswap */
		return true;
	}
	return false;
}

/* What a two-byte opcode (0f @op) can change that set_state() does not set. */
static u32 opcode_0f_dirties(u8 op)
{
	if (opcode_0f_keeps_state(op))
		return 0;
	switch (op) {
	case 0x0e: case 0x0f:			/* femms, 3DNow! */
	case 0x10 ... 0x17: case 0x28 ... 0x2f:	/* SSE moves, conversions */
	case 0x38: case 0x3a:			/* three-byte maps */
	case 0x50 ... 0x7f:			/* SSE, MMX */
	case 0xae:				/* fxrstor, ldmxcsr, xrstor, fences */
	case 0xc2 ... 0xc7:			/* SSE, group 9 (xrstors) */
	case 0xd0 ... 0xff:			/* SSE, MMX */
		return KB_DIRTY_FPU;
	}
	return KB_DIRTY_ALL;	/* group 7, mov cr/dr, wrmsr, ... */
}

/*
 * What of the vCPU state that set_state() does not set could the case
 * have changed (KB_DIRTY_*)?  Only some two-byte opcodes
 * (opcode_0f_dirties()), VEX/EVEX/XOP (c4, c5, 62, 8f: also les, lds,
 * bound, pop outside 64-bit mode; the FPU part), x87 opcodes (the FPU
 * part) and hlt (the run state) can, unless the guest ran more than the
 * instruction (all of it): then RIP did not end right after it (retired)
 * or on it (exception), and the run was not cut inside the single-stepped
 * instruction (kb->cut_in_insn; vcpu_settle() then completes it without
 * entering the guest).  Errs on the side of more.  Each part costs a vCPU
 * ioctl to put back (restore_extended()); KB_DIRTY_ALL also a device reset.
 */
static u32 case_dirties(struct kvm_backend *kb, const struct scenario *s,
			const struct run_result *r)
{
	u64 rip = scenario_reg(s, SCN_REG_RIP), end = rip + kb->code_len;
	bool rep;
	unsigned int i = scenario_opcode_offset(s, &rep);
	u8 op = i < s->insn_len ? s->insn[i] : 0xf4;
	u32 dirty = 0;

	if (op == 0xc4 || op == 0xc5 || op == 0x62 || op == 0x8f || (op >= 0xd8 && op <= 0xdf))
		dirty = KB_DIRTY_FPU;
	else if (op == 0xf4)
		dirty = KB_DIRTY_RUN;
	else if (op == 0x0f)
		dirty = i + 1 < s->insn_len ? opcode_0f_dirties(s->insn[i + 1]) : KB_DIRTY_ALL;
	if (kb->debug_exit || kb->cut_in_insn)
		return dirty;	/* single-stepped: the guest ran nothing else */
	if (s->mode != SCN_MODE_LONG64)
		end = (u32)end;
	if (r->outcome == OUTCOME_RETIRED && r->rip == end)
		return dirty;
	if (r->outcome == OUTCOME_EXCEPTION && r->rip == rip)
		return dirty;
	return KB_DIRTY_ALL;
}

/* devices: which class of VM runs @s (see the top of the file) */
static unsigned int vm_class(const struct scenario *s, const struct scn_map *maps,
			     unsigned int nr)
{
	return (kvm_devices_want_irqchip(s) ? KB_VM_IRQCHIP : 0) |
	       (kvm_devices_want_registrations(maps, nr) ? KB_VM_REGISTRATIONS : 0);
}

/*
 * Would @v change a memslot for the case (setup_frames(), the pool)?  It
 * keeps exactly the slots of the case's frames.
 */
static bool frames_differ(const struct kvm_backend *kb, const struct kb_vm *v,
			  const struct scenario *s, const struct scn_map *maps, unsigned int nr)
{
	u64 gpa[SCN_MAX_MAPS];
	bool ro[SCN_MAX_MAPS];
	unsigned int i, j, n = case_frames(maps, nr, gpa, ro), have = 0;

	if (scenario_paging(s) && v->pool_gen != kb->pool_gen)
		return true;
	for (i = 0; i < n; i++) {
		for (j = 0; j < SCN_MAX_MAPS; j++)
			if (v->frame_used[j] && v->frame_gpa[j] == gpa[i] && v->frame_ro[j] == ro[i])
				break;
		if (j == SCN_MAX_MAPS)
			return true;
	}
	for (j = 0; j < SCN_MAX_MAPS; j++)
		have += v->frame_used[j];
	return have != n;
}

/*
 * The VM for @s: its class's only one, or, for a class with
 * registrations, one that needs no memslot change or unregistration (the
 * SRCU waits) for it; else the least recently used one whose last
 * registration is old enough that those do not wait; else the one that
 * waits least.
 */
static unsigned int vm_pick(struct kvm_backend *kb, const struct scenario *s,
			    const struct scn_map *maps, unsigned int nr)
{
	unsigned int cls = vm_class(s, maps, nr), first = cls * KB_REGS_VMS, i, pick;
	u64 now;

	if (kb->rerun_unpark)
		return kb->vm_slot;
	if (!(cls & KB_VM_REGISTRATIONS))
		return first;
	for (i = first; i < first + KB_REGS_VMS; i++) {
		const struct kb_vm *v = vm_at(kb, i);

		if (v->vm_fd >= 0 && !v->vm_stale && !frames_differ(kb, v, s, maps, nr) &&
		    !kvm_devices_would_unregister(v->dev, maps, nr))
			return i;
	}
	now = now_ns();
	pick = first;
	for (i = first; i < first + KB_REGS_VMS; i++) {
		const struct kb_vm *v = vm_at(kb, i);
		const struct kb_vm *p = vm_at(kb, pick);
		bool cold = v->hot_until <= now, pcold = p->hot_until <= now;

		if (cold != pcold ? cold :
		    cold ? v->last_used < p->last_used : v->hot_until < p->hot_until)
			pick = i;
	}
	return pick;
}

/*
 * The read state the events of @t leave in KVM: 1 a read completion not
 * taken (a last 'unsatisfied-read' with no 'read' after it), 0 taken, -1
 * no read event.
 */
static int completion_in_trace(const struct kvm_mmio_trace *t)
{
	unsigned int i;

	for (i = t->nr; i-- > 0;) {
		if (t->ev[i].type == KVM_TRACE_MMIO_READ)
			return 0;
		if (t->ev[i].type == KVM_TRACE_MMIO_READ_UNSATISFIED)
			return 1;
	}
	return -1;
}

/*
 * Does KVM still hold a read completion after the case (spec 5.4)?  The
 * data of a read exit goes in with the next KVM_RUN, which sets
 * mmio_read_completed, and the first read that misses the read cache in
 * the replay takes it, traced as 'read'.  A replay that faults before it
 * (POPA, whose replay pops elsewhere: fuzz/known-issues.md) leaves the
 * flag set, and nothing clears it: the next emulated read, of any later
 * instruction, the next case's, is served from it without an exit
 * (fuzz/open-fidelity/order-dependent/popa-after-rep-popa/).  Told by the
 * case's events and those of vcpu_settle() (@settled), the last read
 * event first; without a whole trace: a read exit last, or any settling.
 */
static bool read_completion_left(struct kvm_backend *kb, const struct run_result *r,
				 bool settled)
{
	struct kvm_mmio_trace *t = &kb->settle_trace;
	int left = -1;

	if (!kb->trace)
		return kb->last_exit_read || settled;
	if (settled) {	/* run_case() read its events */
		if (t->lost)
			return true;
		left = completion_in_trace(t);
	}
	if (left < 0 && r->trace.lost)
		return kb->last_exit_read;
	if (left < 0)
		left = completion_in_trace(&r->trace);
	return left > 0;
}

static int run_case(struct kvm_backend *kb, const struct scenario *s, struct run_result *r)
{
	struct scn_map maps[SCN_MAX_MAPS];
	unsigned int nr = scenario_maps(s, maps);
	u64 la = code_linear(s);
	bool settled;
	int ret;

	run_result_reset(r);
	kb->why[0] = 0;
	ret = case_supported(kb, s, maps, nr, la);
	if (!ret)
		ret = code_length(kb, s);
	if (ret)
		return ret;
	if (kb->trace && kvm_trace_follow(kb->trace)) {
		kvm_trace_close(kb->trace);	/* cannot follow this thread */
		kb->trace = NULL;
		fprintf(stderr, "fragfuzz: kvm backend: cannot trace thread %d; "
			"running without kvm_mmio traces\n", (int)gettid());
	}

	setup_tables(kb, s);
	setup_code(kb, s, la);
	ret = setup_paging(kb, s, maps, nr, la);
	if (ret) {
		snprintf(kb->why, sizeof(kb->why), ret == -EOPNOTSUPP ?
			 "the layout maps a code or harness page" : "page tables: %s",
			 strerror(-ret));
		return ret;
	}
	vm_switch(kb, vm_pick(kb, s, maps, nr));
	if (kb->vm.vm_stale)
		vm_destroy(kb);
	ret = 0;
	if (kb->vm.vm_fd < 0)
		ret = vm_create(kb);
	else if (kb->vm.dirty)
		ret = restore_extended(kb);
	if (!ret)
		ret = refresh_pool_slot(kb);
	if (!ret)
		ret = setup_frames(kb, maps, nr);
	if (!ret)
		ret = kvm_devices_setup(kb->vm.dev, s, maps, nr, kb->trace != NULL,	/* devices: */
					kb->rerun_prime, kb->rerun_unpark);
	kb->vm.last_used = now_ns();
	if (!ret && kvm_devices_registered(kb->vm.dev))
		kb->vm.hot_until = kb->vm.last_used + KB_REGS_HOT_NS;
	if (!ret && kvm_devices_ran_vcpu(kb->vm.dev))
		kb->vm.step_la = ~0ULL;	/* native stepping: the RIP KVM knows is gone */
	if (!ret)
		ret = set_state(kb, s);
	if (!ret)
		ret = set_guest_debug(kb, s, la);
	if (ret) {
		snprintf(kb->why, sizeof(kb->why), "KVM: %s", strerror(-ret));
		vm_destroy(kb);
		return ret;
	}

	if (kb->trace)
		kvm_trace_read(kb->trace, NULL);	/* nothing from before this case */
	kb_timer_fired = 0;
	timer_arm(kb, kb->limits.max_ns);
	run_loop(kb, s, r);
	timer_arm(kb, KB_GUARD_NS);	/* for vcpu_settle() */
	if (kb->trace)
		kvm_trace_read(kb->trace, &r->trace);
	collect(kb, s, r);
	r->mmio_exits = r->nr_exits;
	/*
	 * A case that did not end cleanly may have changed anything: reset
	 * all, unless it was cut inside the instruction (case_dirties()).
	 */
	kb->vm.dirty = kb->vm.vm_stale && !kb->cut_in_insn ? KB_DIRTY_ALL :
			case_dirties(kb, s, r);
	/* devices: ring and eventfds into the log; device state to reset? */
	kvm_devices_collect(kb->vm.dev, kb->trace ? &r->trace : NULL,
			    kb->vm.dirty == KB_DIRTY_ALL);
	/* no exchange left pending: the VM serves the next case too */
	settled = kb->vm.vm_stale;
	if (kb->vm.vm_stale && r->outcome != OUTCOME_KVM_ERROR && vcpu_settle(kb, s))
		kb->vm.vm_stale = false;
	if (settled && !kb->vm.vm_stale) {
		/* what the settling wrote to the devices (not the case's log) */
		kb->settle_trace.nr = kb->settle_trace.lost = 0;
		if (kb->trace)
			kvm_trace_read(kb->trace, &kb->settle_trace);
		kvm_devices_settled(kb->vm.dev, kb->trace ? &kb->settle_trace : NULL);
	}
	/* nor a read completion that the next case's first read would take */
	if (!kb->vm.vm_stale && !kb->keep_reads && read_completion_left(kb, r, settled)) {
		kb->read_clears++;
		if (kvm_devices_clear_reads(kb->vm.dev))
			kb->vm.vm_stale = true;
		kb->vm.step_la = ~0ULL;	/* native stepping: the RIP KVM knows is gone */
	}
	return 0;
}

/*
 * An instruction that can load TF (iret, popf), with the case's TF clear,
 * is not single-stepped (KVM would hide the TF it loads), and the guest
 * runs on after it: to the sentinel (popf), or at an iret's target, where
 * the scenario's RAM runs as code until something stops it.  When the
 * instruction loads TF, KVM's emulator delivers the single-step #DB only
 * after the instruction that follows (the trap is decided by the TF an
 * instruction starts with): the case ends in a #DB one instruction late,
 * at a RIP and with registers that are not the instruction's (real16 iret
 * popping FLAGS 0x0f0e to 0b0a:0908: #DB with IP 0x90a; kc3 58a520d2005f,
 * a66b15037577).  Without TF it ends wherever the code at the target
 * leads (an iret to RAM at 0b00:0100: retired at 0x20df after an extra
 * write exit; a failure later on reads as a run-on to a failed fetch,
 * run_loop()).  So whenever such a case ran on (not on the sentinel, not a
 * fault on the instruction), it runs again single-stepped, which
 * tells where the instruction went, and once more not stepped with an
 * execute breakpoint there (DR1, which KVM checks before it emulates the
 * next instruction): the vCPU stops right after the instruction, with
 * the TF it loaded in RFLAGS.
 */
static bool tf_run_on(const struct kvm_backend *kb, const struct scenario *s,
		      const struct run_result *r)
{
	if (!kb->singlestep || kb->case_singlestep || !kb->loads_tf || kb->on_sentinel ||
	    (scenario_reg(s, SCN_REG_RFLAGS) & X86_EFLAGS_TF))
		return false;
	if (r->outcome == OUTCOME_EXCEPTION)
		return r->exception.vector == KB_DB_VECTOR ||
		       r->rip != scenario_reg(s, SCN_REG_RIP);
	return r->outcome == OUTCOME_RETIRED || r->outcome == OUTCOME_BUDGET;
}

static int run_tf_again(struct kvm_backend *kb, const struct scenario *s, struct run_result *r)
{
	u64 at;
	int ret;

	kb->force_step = true;
	timer_arm(kb, KB_GUARD_NS);
	ret = run_case(kb, s, r);
	kb->force_step = false;
	if (ret)
		return ret;
	if (r->outcome != OUTCOME_RETIRED || !kb->debug_exit || exit_linear_rip(kb, &at) ||
	    at == code_linear(s)) {
		/* not a plain step: the first run's result stands */
		timer_arm(kb, KB_GUARD_NS);
		return run_case(kb, s, r);
	}
	kb->stop = true;
	kb->stop_la = at;
	timer_arm(kb, KB_GUARD_NS);
	ret = run_case(kb, s, r);
	kb->stop = false;
	return ret;
}

int kvm_backend_run(struct kvm_backend *kb, const struct scenario *s, struct run_result *r)
{
	unsigned int tries;
	int ret;

	/*
	 * Every KVM_RUN of a case (device priming, the case, settling) runs
	 * under a timer: a vCPU that halts with the irqchip, or loops, makes
	 * KVM_RUN return -EINTR instead of blocking the fuzzer for ever.
	 */
	if (gettid() != kb->timer_tid)
		timer_setup(kb);
	timer_arm(kb, KB_GUARD_NS);
	kb->rerun_prime = kb->rerun_unpark = false;
	ret = run_case(kb, s, r);
	/*
	 * devices: a parked registration took a write, or an unprimed read:
	 * again, until a run takes nothing.  The VM that was hit drops what
	 * took the write before it serves a case again, which makes KVM wait
	 * if that VM registered something a moment ago: vm_pick() may take a
	 * cold VM instead, whose own parked registrations may take the write
	 * in turn (and go).  From the third run on, the VM it ran in drops
	 * every parked registration, so the runs end.
	 */
	for (tries = 0; !ret && kvm_devices_run_again(kb->vm.dev, &kb->rerun_prime); tries++) {
		if (tries == KB_MAX_RERUNS) {
			run_result_reset(r);
			snprintf(kb->why, sizeof(kb->why),
				 "parked registrations took writes in %u runs", tries + 1);
			ret = -EAGAIN;
			break;
		}
		kb->rerun_unpark = tries >= 1;
		timer_arm(kb, KB_GUARD_NS);
		ret = run_case(kb, s, r);
	}
	if (!ret && tf_run_on(kb, s, r))
		ret = run_tf_again(kb, s, r);
	timer_arm(kb, 0);
	return ret;
}

unsigned long kvm_backend_vm_creates(const struct kvm_backend *kb)
{
	return kb->vm_creates;
}

unsigned long kvm_backend_read_clears(const struct kvm_backend *kb)
{
	return kb->read_clears;
}

unsigned long kvm_backend_pool_restarts(const struct kvm_backend *kb)
{
	return kb->pool_gen;
}

void kvm_backend_set_pool_pages(struct kvm_backend *kb, unsigned int pages)
{
	kb->pool_pages = clamp_t(unsigned int, pages, 1, KB_PT_POOL_PAGES);
	kb->pool_next = kb->pool_pages;	/* the next case starts it again */
}

const struct kvm_devices_log *kvm_backend_devices_log(const struct kvm_backend *kb)
{
	return kvm_devices_log(kb->vm.dev);
}
