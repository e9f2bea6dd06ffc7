/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The real-KVM backend: runs a scenario on /dev/kvm and fills the same
 * struct run_result as the model backend, answering MMIO reads by the
 * shared rule of backend.h.  A few VMs, one vCPU each, are reused from
 * case to case (one for each class of case, eight for the classes with
 * device registrations: see backend_kvm.c), with everything a case can
 * change set afresh, so a case's result does not depend on the cases
 * before it.  The kernel's kvm_mmio events of the case come from a perf ring
 * of the calling thread, or from a private tracefs instance (kvm_trace.h).
 *
 * Modes: real16, prot16, prot32 (paging off), prot32-paging and long64, at
 * CPL 0 and (but real16) CPL 3, with RAM, ROM, MMIO and in-kernel device
 * frames (IOAPIC/LAPIC with the irqchip, ioeventfd, coalesced:
 * kvm_devices.h).  Everything else (a split-lock setting the host CPU does
 * not have, no instruction bytes at all, a 16-bit IP that would wrap)
 * makes kvm_backend_run() return -EOPNOTSUPP with the result
 * OUTCOME_NOT_RUN.
 *
 * CPL 3: user code and stack segments (RPL 3 selectors, DPL 3), the code
 * pages mapped as user pages, the harness pages supervisor pages.  A fault
 * switches to the TSS's stack (ESP0, or IST1 in long mode) in RAM, so it is
 * delivered whatever the user stack is.  The sentinel (out 0xe6, al) is
 * #GP(0) at CPL 3 with IOPL < 3: that #GP at a sentinel of the code pages
 * after the instruction counts as retired there.  What kvm_pvm does at CPL 3 (measured on 6.18.44):
 * only 64-bit code runs natively (a MOVBE on RAM retires, as on the CPU;
 * RAM reads go through the shadow page tables); compatibility-mode, 32-bit
 * and 16-bit protected-mode CPL 3 code is emulated like CPL 0 code (MOVBE
 * is #UD: not in the guest CPUID), and there an instruction KVM's emulator
 * cannot do is #UD, not KVM_EXIT_INTERNAL_ERROR, although
 * KVM_CAP_EXIT_ON_EMULATION_FAILURE is on (64-bit CPL 3: internal error).
 * Native 64-bit CPL 3 code does not see the guest's CR4.OSFXSR: an SSE
 * load from RAM retires with it clear (the model, and CPL 0: #UD).
 *
 * real16 runs as real mode (CR0.PE clear) with the scenario's segment
 * bases in the hidden parts (selectors 0, as the model's; kvm_pvm keeps a
 * CS base of 0x600000 in real mode).  Exceptions go through an IVT whose
 * handlers are all at one linear address below 1 MiB with a hardware
 * breakpoint on it (KVM_GUESTDBG_USE_HW_BP): KVM stops with
 * KVM_EXIT_DEBUG before fetching there, and CS names the vector.
 *
 * At CPL 0 in legacy and real mode a fault is delivered on the scenario's
 * own stack.  When that is not RAM, kvm_pvm shuts the VM down at once (no
 * exit for the pushes); the vCPU events still name the vector, which the
 * result reports, with RIP on the instruction (#DF if none is named).
 *
 * prot32-paging runs in compatibility mode.  kvm_pvm has no legacy paging:
 * KVM_SET_SREGS drops CR0.PG unless EFER.LMA is set (it reads back CR0
 * without PG, with CR4.PAE or not), and a guest MOV to CR0 that sets PG
 * outside long mode takes #GP (2-level and PAE tables alike; measured on
 * 6.18.44 kvm_pvm).  So the case runs with EFER.LMA, CR4.PAE, a 32-bit
 * code segment (L=0, D=1) and 4-level tables that map the same 32-bit
 * linear pages.  KVM's emulator runs that as 32-bit protected mode
 * (X86EMUL_MODE_PROT32: 32-bit linear wrap, segment checks) like legacy
 * paging; what differs is the kernel's page walk (64-bit guest format
 * instead of 2-level) and exception delivery (64-bit IDT, the IST stack).
 * NX bits of the layout are left out, as the model's 2-level tables have
 * none.
 *
 * Port I/O: the ports that exit to userspace (KVM_EXIT_IO) are answered as
 * the model's port device answers (emulator/vcpu.h): the k-th byte read in
 * a case is (u8)(port + k), a read-ahead batch in one go; OUT data is
 * taken.  Those exits are not in the result (the model has none).  With
 * the irqchip on, the kernel's PIC answers its own ports (0x20-0x21,
 * 0xa0-0xa1, 0x4d0-0x4d1) without an exit, which the model does not have.
 *
 * Registers go through KVM_CAP_SYNC_REGS where KVM has it;
 * FRAGFUZZ_KVM_NO_SYNC_REGS=1 in the environment uses the ioctls instead.
 * FRAGFUZZ_KVM_NO_SINGLESTEP=1 stops the guest at the sentinel only
 * (see kvm_backend_single_steps()).
 *
 * This header does not include <linux/kvm.h>, so it can sit next to the
 * model's headers (which reuse some uapi names).
 */
#ifndef FRAGFUZZ_BACKEND_KVM_H
#define FRAGFUZZ_BACKEND_KVM_H

#include <stddef.h>

#include "backend.h"	/* struct run_limits */
#include "result.h"
#include "scenario.h"
#include "violation.h"

/* The model profile of the kernel these machines run (spec: 6.18.44). */
#define KVM_BACKEND_HOST_PROFILE	"6.18.24"

struct kvm_backend;

/*
 * Is /dev/kvm there and usable?  false with the reason in @why (one line,
 * for a skip message).
 */
bool kvm_backend_available(char *why, size_t whylen);

/*
 * NULL with a message in @err if /dev/kvm is missing or KVM fails.  When
 * the events cannot be read (no tracefs, perf and tracefs refused) the
 * backend still works, without traces, and says so once on stderr
 * (kvm_backend_traced() is then false).
 */
struct kvm_backend *kvm_backend_create(char *err, size_t errlen);
void kvm_backend_destroy(struct kvm_backend *kb);
bool kvm_backend_traced(const struct kvm_backend *kb);
/* "perf" or "tracefs" (FRAGFUZZ_KVM_TRACE=tracefs), NULL when untraced */
const char *kvm_backend_trace_source(const struct kvm_backend *kb);

/*
 * Run @s: the first instruction of s->insn (bytes that are no whole
 * instruction are -EOPNOTSUPP), until it retires or faults (single-stepped,
 * see kvm_backend_single_steps()); OUTCOME_BUDGET after the limits'
 * exits (kvm_backend_set_limits(); RESULT_MAX_EXITS by default), 1024
 * passes that leave RIP on the instruction, or the limits' time (50 ms).
 * The calling thread gets a real-time signal (SIGRTMAX - 3) for the time
 * limit.  Returns 0 (outcome in @r), -EOPNOTSUPP for cases this version
 * cannot set up, or another -errno if KVM failed while setting up; in
 * both error cases r->outcome is OUTCOME_NOT_RUN.
 */
int kvm_backend_run(struct kvm_backend *kb, const struct scenario *s, struct run_result *r);
/*
 * Limits for the next runs (struct run_limits, backend.h): max_exits caps
 * the KVM_RUN exits of a case (clamped to 1..RESULT_MAX_EXITS), max_ns its
 * guest time (0: RUN_LIMITS_DEFAULT_NS); max_passes is the model's only.
 * A case that reaches one ends as OUTCOME_BUDGET.  Default:
 * RUN_LIMITS_DEFAULT.
 */
void kvm_backend_set_limits(struct kvm_backend *kb, struct run_limits lim);
/*
 * Does @kb stop the guest by single-stepping (KVM_GUESTDBG_SINGLESTEP)?
 * false: KVM refused it, or FRAGFUZZ_KVM_NO_SINGLESTEP=1 is set; the
 * guest then stops at the sentinel (out 0xe6, al) after the instruction's
 * bytes, and a taken branch runs on at its target.
 */
bool kvm_backend_single_steps(const struct kvm_backend *kb);
/* After an error from kvm_backend_run(): why, in a few words. */
const char *kvm_backend_why(const struct kvm_backend *kb);
/*
 * How many VMs @kb has made: one for the first case of each VM it keeps,
 * one more after each case that left KVM with more than it could finish
 * (see vcpu_settle() in backend_kvm.c).
 */
unsigned long kvm_backend_vm_creates(const struct kvm_backend *kb);
/*
 * Runs so far that took a read completion a case left in KVM
 * (kvm_devices_clear_reads()).  With FRAGFUZZ_KVM_KEEP_READS set when the
 * backend was made there are none, and the next case gets that completion
 * (fuzz/known-issues.md, "read completion outlives its instruction").
 */
unsigned long kvm_backend_read_clears(const struct kvm_backend *kb);
/*
 * Times the page-table pool was started again (see setup_paging() in
 * backend_kvm.c), and its size in pages: all of the reserved region from
 * SCN_PT_POOL_GPA on unless set smaller (tests: a small pool starts again
 * at nearly every case with paging).
 */
unsigned long kvm_backend_pool_restarts(const struct kvm_backend *kb);
void kvm_backend_set_pool_pages(struct kvm_backend *kb, unsigned int pages);

/* The coalesced ring entries and ioeventfd signals of the last case. */
struct kvm_devices_log;
const struct kvm_devices_log *kvm_backend_devices_log(const struct kvm_backend *kb);

#endif
