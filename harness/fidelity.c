// SPDX-License-Identifier: GPL-2.0-only
/*
 * The model-vs-kernel differential (see fidelity.h): the same scenario run
 * by the model and by real KVM, field by field.  Each difference is one
 * V_FIDELITY violation "field: model X, kvm Y".
 *
 * Nothing is compared (fidelity_skip_reason()) when
 *  - the model does not emulate the instruction at all
 *    (run_result.not_modelled: a known gap of the model, listed in
 *    emulator/INSTRUCTIONS.md; the fuzz targets skip such inputs);
 *  - kvm_pvm handles the instruction outside KVM's emulator (rdrand,
 *    fences, iret in long mode...: host_handled());
 *  - the instruction touches memory the kvm backend keeps for itself where
 *    the scenario's layout has nothing, a harness limit: the kernel sees
 *    harness RAM there, the model the layout's hole.  That is any GPA in
 *    the reserved region (SCN_RESERVED_START..END), and with paging the
 *    pages of RIP and RIP + 4 KiB (the kvm backend's code pages) and, in
 *    long mode, the identity-mapped reserved region, where the layout maps
 *    nothing.  Judged from the model's access list, and from its final RIP
 *    (a branch into those pages other than the code pages);
 *  - with the irqchip on, the instruction reads a port of the kernel's PIC
 *    (reads_pic_port()).
 *
 * Compared, always:
 *  - the KVM_EXIT_MMIO sequence (GPA, length, direction, first 8 data
 *    bytes): the first exit that differs;
 *  - the kvm_mmio trace events, when the kernel's were read: the first
 *    event that differs;
 *  - the outcome (retired, exception, emulation failure, ...);
 *  - the final RIP (for an exception: the RIP in the frame, i.e. of the
 *    faulting instruction).
 * Compared when both sides end with the same exception:
 *  - the error code (present or not, and its value) and, for #PF, CR2.
 * Compared when both sides end the same way (retired, the same exception,
 * or emulation failure; not after an exit budget, a KVM error or a case
 * that was not run, where the state is wherever the run stopped):
 *  - the GPRs: all 16 in long mode, the low 32 bits in the legacy modes
 *    (the upper halves are not visible there);
 *  - RFLAGS, all bits.  Nothing is masked: KVM computes arithmetic flags
 *    by running the instruction on the host CPU, undefined flags included,
 *    and so does the model (emulator/fastop.c).
 * The callers run the model on the scenario as the host runs it
 * (fidelity_host_scenario()).
 *
 * Run limits: a side that ends as OUTCOME_BUDGET stopped wherever its
 * limit caught it (exits, emulator passes, time; struct run_limits), and
 * the two sides' limits are not the same thing.  Then only what both did
 * is compared: the exits and trace events of the shorter side must lead
 * the other's, and a side that ran to completion must not have fewer
 * exits or events than one that was cut short; the outcome, RIP and
 * registers are not compared.
 *
 * The #DF normalisation, a fallback for a harness limit of the kvm
 * backend: in a legacy mode it has no IST, and kvm_pvm does not deliver
 * through task gates, so an exception frame goes on the guest's own stack
 * at SS:ESP.  When that stack is not writable RAM the delivery faults and
 * the VM shuts down.  The backend then names the vector KVM was delivering
 * (vCPU events), and only when KVM names none does its result say #DF.
 * (kvm_pvm pushes that frame at the flat ESP: the SS base and limit play
 * no part, see fidelity_frame_undeliverable().)
 * The model does not push frames (it records the exception it raised), so
 * "model raised X in a legacy mode and X's frame cannot land in writable
 * RAM of the scenario's layout" (fidelity_frame_undeliverable(), computed
 * from the layout, SS and ESP) is taken as equal to a kvm #DF.  Only the
 * vector, error code and CR2 are then not compared; the registers and RIP
 * still are (a shutdown pushes nothing and leaves them as the fault did).
 */
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "fidelity.h"

#define DF_VECTOR	8

static const char *const reg_names[NR_VCPU_REGS] = {
	"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

static int fmt_exit(char *buf, size_t size, const struct run_result *r, unsigned int i)
{
	const struct run_exit *x;
	int n;
	unsigned int j;

	if (i >= r->nr_exits)
		return snprintf(buf, size, "none");
	x = &r->exits[i];
	n = snprintf(buf, size, "%c 0x%llx/%u ", x->write ? 'W' : 'R',
		     (unsigned long long)x->gpa, x->len);
	for (j = 0; j < x->len && j < 8 && n > 0 && (size_t)n < size; j++)
		n += snprintf(buf + n, size - n, "%02x", x->data[j]);
	return n;
}

static int fmt_event(char *buf, size_t size, const struct kvm_mmio_trace *t, unsigned int i)
{
	const struct kvm_mmio_event *e;

	if (i >= t->nr)
		return snprintf(buf, size, "none");
	e = &t->ev[i];
	return snprintf(buf, size, "%s len %u gpa 0x%llx val 0x%llx",
			kvm_mmio_type_name(e->type), e->len, (unsigned long long)e->gpa,
			(unsigned long long)e->val);
}

static bool exit_equal(const struct run_exit *a, const struct run_exit *b)
{
	return a->gpa == b->gpa && a->len == b->len && a->write == b->write &&
	       !memcmp(a->data, b->data, min_t(u32, a->len, 8));
}

static bool event_equal(const struct kvm_mmio_event *a, const struct kvm_mmio_event *b)
{
	return a->type == b->type && a->len == b->len && a->gpa == b->gpa && a->val == b->val;
}

/*
 * The flags native 64-bit user code keeps on kvm_pvm: the arithmetic
 * flags, TF, IF, DF, AC, VIF, VIP and ID; bit 1 set; IOPL, NT, RF, VM
 * and the reserved bits clear (6.18.44: `66 9c` with RFLAGS 0x3ffdbd3d
 * pushed 0x0d17; 3,000 findings of the final campaign).
 */
#define NATIVE_USER_FLAGS	0x3c0fd5ULL

void fidelity_host_scenario(struct scenario *s)
{
	s->regs[SCN_REG_RFLAGS] &= ~X86_EFLAGS_VM;
	if (s->mode == SCN_MODE_LONG64 && s->cpl == 3) {
		s->regs[SCN_REG_RFLAGS] = (scenario_reg(s, SCN_REG_RFLAGS) & NATIVE_USER_FLAGS) |
					  X86_EFLAGS_FIXED;
		s->regs_set |= BIT(SCN_REG_RFLAGS);
	}
}

/* Is the byte at linear address @la writable RAM in @s's layout? -1: reserved region */
static int writable_ram(const struct scenario *s, const struct scn_map *maps, unsigned int nr,
			u64 la)
{
	bool paging = scenario_paging(s);
	u64 gpa = la;
	unsigned int i;

	if (paging) {
		for (i = 0; i < nr; i++)
			if (maps[i].gva == (la & PAGE_MASK))
				break;
		if (i == nr || (maps[i].flags & SCN_MAP_NOT_PRESENT))
			return 0;
		/* a supervisor write ignores R/W unless CR0.WP */
		if (!(maps[i].flags & SCN_MAP_WRITE) && (s->ctl & SCN_CTL_CR0_WP))
			return 0;
		gpa = maps[i].gpa | (la & ~PAGE_MASK);
	}
	if (gpa >= SCN_RESERVED_START && gpa < SCN_RESERVED_END)
		return -1;
	for (i = 0; i < nr; i++)
		if (maps[i].gpa == (gpa & PAGE_MASK))
			return maps[i].kind == SCN_KIND_RAM;
	return 0;	/* no frame: MMIO */
}

/*
 * Where a legacy-mode exception frame of @r goes: 1 some slot is not
 * writable RAM, 0 all are, -1 some slot is in the harness's region.
 */
static int frame_slots(const struct scenario *s, const struct run_result *r)
{
	struct scn_map maps[SCN_MAX_MAPS];
	unsigned int nr, slot, nr_slots, i;
	bool real = s->mode == SCN_MODE_REAL16;
	u32 sp, base;
	int bad = 0;

	if (s->mode == SCN_MODE_LONG64 || r->outcome != OUTCOME_EXCEPTION)
		return 0;
	/* a CPL 3 fault switches to the TSS stack, which the harness keeps in RAM */
	if (s->cpl != 0 && !real)
		return 0;
	nr = scenario_maps(s, maps);
	/* real mode: FLAGS, CS, IP (2 bytes each); else a 32-bit gate's [error code,] EIP, CS, EFLAGS */
	slot = real ? 2 : 4;
	nr_slots = 3 + (!real && r->exception.error_code_valid);
	sp = (u32)scenario_reg(s, VCPU_REGS_RSP);
	/*
	 * kvm_pvm pushes a protected-mode frame at the flat ESP, ignoring the
	 * SS base and limit (seen on 6.18.44: SS base 0x1000 with ESP in RAM
	 * delivers, with only SS.base + ESP in RAM it shuts down), and all 32
	 * bits of ESP also in prot16 (ESP 0x12340004: a #UD frame at
	 * 0x1233fff8, not 0x1234fff8); real mode goes by the architecture,
	 * SS.base + SP, SP wrapping in 16 bits (SS base 0x5000, SP 0x1ff0:
	 * the frame at 0x6fea).
	 */
	base = real ? scenario_segment(s, VCPU_SREG_SS).base : 0;
	for (i = 0; i < nr_slots * slot; i++) {
		u32 off = sp - 1 - i;
		int w;

		if (real)
			off &= 0xffff;
		w = writable_ram(s, maps, nr, (u32)(base + off));
		if (w < 0)
			return -1;	/* the harness's region: not the layout's to say */
		if (!w)
			bad = 1;
	}
	return bad;
}

bool fidelity_frame_undeliverable(const struct scenario *s, const struct run_result *r)
{
	return frame_slots(s, r) > 0;
}

static bool gpa_reserved(u64 gpa)
{
	return gpa >= SCN_RESERVED_START && gpa < SCN_RESERVED_END;
}

/* Is the linear page @page backed by the kvm backend's own memory? */
static bool harness_page(const struct scenario *s, const struct scn_map *maps, unsigned int nr,
			 u64 page, u64 code_page)
{
	unsigned int i;

	if (!scenario_paging(s))
		return gpa_reserved(page) ||
		       (s->mode == SCN_MODE_REAL16 && page == HARNESS_RM_HANDLER);
	for (i = 0; i < nr; i++)
		if (maps[i].gva == page)
			return gpa_reserved(maps[i].gpa);
	if (page == code_page || page == code_page + PAGE_SIZE)
		return true;
	/* prot32-paging runs in compatibility mode with the same tables */
	return (s->mode == SCN_MODE_LONG64 || s->mode == SCN_MODE_PROT32_PAGING) &&
	       gpa_reserved(page);
}

static bool touches_harness(const struct scenario *s, const struct run_result *m)
{
	struct scn_map maps[SCN_MAX_MAPS];
	unsigned int nr = scenario_maps(s, maps), i;
	bool long64 = s->mode == SCN_MODE_LONG64;
	u64 rip = scenario_reg(s, SCN_REG_RIP);
	u64 code = long64 ? rip : (u32)(scenario_segment(s, VCPU_SREG_CS).base + (u32)rip);

	for (i = 0; m->has_accesses && i < m->accesses.nr; i++) {
		const struct emul_access *a = &m->accesses.a[i];
		u64 first = a->la & PAGE_MASK, last = a->la + (a->bytes ? a->bytes - 1 : 0);
		/* 64-bit code: long64, or prot32-paging after a far transfer */
		bool wide = long64 || (a->la >> 32);
		u64 page;

		if (!wide)
			last = (u32)last;
		last &= PAGE_MASK;
		for (page = first;; page = wide ? page + PAGE_SIZE : (u32)(page + PAGE_SIZE)) {
			if (harness_page(s, maps, nr, page, code & PAGE_MASK))
				return true;
			if (page == last)
				break;
		}
	}
	/*
	 * The access the model faulted on, which a long rep string logs past
	 * the log's room (EMUL_ACCESS_MAX): the kernel may have found the
	 * backend's code page there (kc3/6516618c790a: rep movsw downwards
	 * into the second code page; the kernel copied its sentinel bytes).
	 */
	if (m->outcome == OUTCOME_EXCEPTION && m->exception.vector == PF_VECTOR) {
		u64 cr2 = long64 || (m->exception.address >> 32) ? m->exception.address :
			  (u32)m->exception.address;

		return harness_page(s, maps, nr, cr2 & PAGE_MASK, code & PAGE_MASK);
	}
	return false;
}

/*
 * Instructions kvm_pvm handles its own way (fuzz/known-issues.md,
 * "Host-specific decoding on kvm_pvm" and "kvm_pvm handles some
 * instructions outside KVM's emulator"), which the model, being KVM's
 * emulator, does not copy: the reason, or NULL.  Some retire without the
 * single-step trap, so the guest runs on into whatever follows: neither a
 * comparison nor the oracle applies (fidelity_skip_reason()).
 */
/* The last F2/F3 among the prefixes before offset @op, 0 if none. */
static u8 last_f2_f3(const struct scenario *s, unsigned int op)
{
	u8 last = 0;
	unsigned int i;

	for (i = 0; i < op && i < s->insn_len; i++)
		if (s->insn[i] == 0xf2 || s->insn[i] == 0xf3)
			last = s->insn[i];
	return last;
}

static const char *host_handled(const struct scenario *s)
{
	unsigned int i = scenario_opcode_offset(s, NULL);
	u8 op = i < s->insn_len ? s->insn[i] : 0, op2 = 0, modrm = 0;

	if (i + 1 < s->insn_len)
		op2 = s->insn[i + 1];
	if (i + 2 < s->insn_len)
		modrm = s->insn[i + 2];
	/* prot32-paging runs in compatibility mode on kvm_pvm (backend_kvm.h) */
	if (op == 0xcf && (s->mode == SCN_MODE_LONG64 || s->mode == SCN_MODE_PROT32_PAGING))
		return "iret in long mode: kvm_pvm handles it outside KVM's emulator";
	if (op == 0x0f) {
		bool has_modrm = i + 2 < s->insn_len;

		/* rdrand, rdseed: 0f c7 /6, /7, register forms */
		if (op2 == 0xc7 && has_modrm && (modrm >> 6) == 3 && ((modrm >> 3) & 7) >= 6)
			return "rdrand/rdseed: kvm_pvm retires them outside KVM's emulator";
		/* rdfsbase, rdgsbase, wrfsbase, wrgsbase: f3 0f ae /0-/3, registers */
		if (op2 == 0xae && has_modrm && (modrm >> 6) == 3 && ((modrm >> 3) & 7) <= 3 &&
		    last_f2_f3(s, i) == 0xf3)
			return "rd/wr fs/gs base: kvm_pvm retires them outside KVM's emulator";
		/* lfence, mfence, sfence */
		if (op2 == 0xae && has_modrm && (modrm == 0xe8 || modrm == 0xf0 || modrm == 0xf8))
			return "a fence: kvm_pvm retires it outside KVM's emulator";
		/* endbr64/endbr32 */
		if (op2 == 0x1e && has_modrm && (modrm == 0xfa || modrm == 0xfb))
			return "endbr: kvm_pvm retires it outside KVM's emulator";
		/* the reserved hint NOPs with a memory operand */
		if ((op2 == 0x19 || op2 == 0x1c || op2 == 0x1d) && has_modrm && (modrm >> 6) != 3)
			return "hint NOP 0f 19/1c/1d on memory: the kernel differs by mode, not modelled";
		/* rsm outside SMM: the kernel raises an exception, the model fails */
		if (op2 == 0xaa)
			return "rsm outside SMM: not modelled";
		/*
		 * fxsave/fxrstor in 64-bit mode: KVM's emulator gives up
		 * (check_fxsr()), and the host then has the CPU run it again
		 * unless its memory is MMIO (fuzz/known-issues.md)
		 */
		if (op2 == 0xae && has_modrm && (modrm >> 6) != 3 && ((modrm >> 3) & 7) <= 1 &&
		    s->mode == SCN_MODE_LONG64)
			return "fxsave/fxrstor in 64-bit mode: KVM gives up and the CPU runs it again";
	}
	return NULL;
}

const char *fidelity_host_gap(const struct scenario *s, bool exits_differ)
{
	const char *why = host_handled(s);

	if (!why && s->mode == SCN_MODE_LONG64 && s->cpl == 3 && !exits_differ)
		why = "native 64-bit CPL 3 code on kvm_pvm runs on the host CPU until it faults";
	return why;
}

/*
 * A read (in, ins) that may touch a port of the kernel's i8259 PIC
 * (0x20-0x21, 0xa0-0xa1, ELCR 0x4d0-0x4d1), present with the irqchip:
 * the kernel answers it without an exit from the PIC's state (IMR 0x00 at
 * reset: `e4 21` read 0x00 on 6.18.44), the model has no PIC and answers
 * as its port device answers every port, (u8)(port + k).  The PIC's
 * state is not the model's to track (a write to it stays in the VM), so
 * such reads are not compared.  Writes are, but for one with TF set: the
 * kernel's PIC takes it and the single-step #DB comes, the model's write
 * exits to userspace and loses it (singlestep-lost; real16 `e6 21` with
 * TF: kernel #DB, model retired).
 */
static bool reads_pic_port(const struct scenario *s)
{
	static const u16 pic_ports[] = { 0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1 };
	unsigned int i = scenario_opcode_offset(s, NULL), size, j;
	u8 op = i < s->insn_len ? s->insn[i] : 0;
	u32 port;

	if (s->ctl & SCN_CTL_NO_IRQCHIP)
		return false;
	/* out, outs: only with TF (above) */
	if ((op == 0xe6 || op == 0xe7 || op == 0xee || op == 0xef || op == 0x6e || op == 0x6f) &&
	    !(scenario_reg(s, SCN_REG_RFLAGS) & X86_EFLAGS_TF))
		return false;
	if (op == 0xe4 || op == 0xe5 || op == 0xe6 || op == 0xe7) {
		if (i + 1 >= s->insn_len)
			return false;
		port = s->insn[i + 1];
	} else if (op == 0xec || op == 0xed || op == 0x6c || op == 0x6d ||
		   op == 0xee || op == 0xef || op == 0x6e || op == 0x6f) {
		port = (u16)scenario_reg(s, VCPU_REGS_RDX);
	} else {
		return false;
	}
	size = (op & 1) ? 4 : 1;	/* 2 or 4: either may reach the port */
	for (j = 0; j < ARRAY_SIZE(pic_ports); j++)
		if (pic_ports[j] >= port && pic_ports[j] < port + size)
			return true;
	return false;
}

/*
 * The model retired at a linear RIP in the kvm backend's own pages, other
 * than its two code pages (a taken branch there): the kvm backend's guest
 * stops there too, and where that is the exception stubs it takes the
 * stop for the delivery of the stub's vector (prot32 `e9 03 41 00 00`
 * jumps to 0x604108, stub 16: "exception vector 16").  The RIP is in the
 * CS the instruction ended with (a far transfer): a real-mode iret to
 * F000:0000 lands on the backend's real-mode handler, which reads as
 * vector 0xf000 - CS, #DE (resolved/real16-iret-tf-target-de.txt).
 */
static bool retired_into_harness(const struct scenario *s, const struct run_result *m)
{
	struct scn_map maps[SCN_MAX_MAPS];
	unsigned int nr;
	bool long64 = s->mode == SCN_MODE_LONG64;
	u64 rip = scenario_reg(s, SCN_REG_RIP), code, la;

	if (m->outcome != OUTCOME_RETIRED)
		return false;
	code = long64 ? rip : (u32)(scenario_segment(s, VCPU_SREG_CS).base + (u32)rip);
	la = long64 ? m->rip : (u32)(m->cs_base + (u32)m->rip);
	code &= PAGE_MASK;
	la &= PAGE_MASK;
	if (la == code || la == code + PAGE_SIZE)
		return false;
	nr = scenario_maps(s, maps);
	return harness_page(s, maps, nr, la, code);
}

/*
 * prot32-paging runs in compatibility mode on kvm_pvm.  An instruction
 * KVM's emulator cannot do there (the model: emulation failure, or #UD at
 * CPL 3) is retried natively, and kvm_pvm's native fetch takes the bare
 * RIP, without the CS base: with a CS base the kernel ends in a #PF at RIP
 * (error 0x10) where the model fails (fragfuzz_kvm campaign of 2026-11-25:
 * 23 of 55 stops, `37`, `3f`, `27`, `63 0f`, `62 03` with CS base
 * 0x37373737; with CS base 0 both fail).
 */
static bool compat_native_retry(const struct scenario *s, const struct run_result *m)
{
	if (s->mode != SCN_MODE_PROT32_PAGING || !scenario_segment(s, VCPU_SREG_CS).base)
		return false;
	return m->outcome == OUTCOME_EMULATION_FAILURE ||
	       (s->cpl == 3 && m->outcome == OUTCOME_EXCEPTION && m->exception.vector == UD_VECTOR);
}

bool fidelity_oracle_applies(const struct run_result *m, const struct run_result *k)
{
	bool m_cut = m->outcome == OUTCOME_BUDGET, k_cut = k->outcome == OUTCOME_BUDGET;

	if (!m_cut && !k_cut)
		return true;
	return m_cut && k_cut && k->nr_exits <= m->nr_exits && k->trace.nr <= m->trace.nr;
}

const char *fidelity_skip_reason(const struct scenario *s, const struct run_result *m,
				 const struct run_result *k)
{
	const char *why = host_handled(s);

	if (m->not_modelled)
		return "the model does not emulate the instruction (KVM does)";
	if (k->iobus_missed)
		return "KVM's MMIO bus missed a device the kvm backend registered (iobus-missed)";
	/*
	 * Native 64-bit CPL 3 code with RFLAGS.AC: the host keeps CR0.AM set,
	 * so the CPU raises #AC on a misaligned access before anything traps
	 * into KVM (fuzz/known-issues.md, native CPL 3); the model has no
	 * alignment check
	 */
	if (s->mode == SCN_MODE_LONG64 && s->cpl == 3 &&
	    (scenario_reg(s, SCN_REG_RFLAGS) & X86_EFLAGS_AC) &&
	    k->outcome == OUTCOME_EXCEPTION && k->exception.vector == AC_VECTOR)
		return "native CPL 3 #AC (the host keeps CR0.AM set), which the model does not raise";
	/*
	 * The in-kernel LAPIC sends what the guest writes to its ICR (a rep
	 * movs through the APIC page sent an NMI to itself on 6.18.44); the
	 * model's LAPIC delivers nothing, and the harness raises no NMI or
	 * interrupt of its own
	 */
	if (!(s->ctl & SCN_CTL_NO_IRQCHIP) && k->outcome == OUTCOME_EXCEPTION &&
	    (k->exception.vector == NMI_VECTOR || k->exception.vector >= 32))
		return "the kernel's LAPIC delivered an interrupt (an ICR write), which the model does not send";
	/*
	 * ... or an INIT: the vCPU is reset and goes on at the reset vector
	 * (a rep movsd into the APIC page ended in an emulation failure at
	 * RIP 0xfff0 on 6.18.44); no case starts or jumps there
	 */
	if (!(s->ctl & SCN_CTL_NO_IRQCHIP) && k->rip == 0xfff0 && m->rip != 0xfff0)
		return "the kernel's LAPIC sent an INIT (an ICR write) and reset the vCPU, which the model does not";
	if (why)
		return why;
	if (compat_native_retry(s, m))
		return "prot32-paging with a CS base: kvm_pvm retries what KVM cannot emulate natively, at the bare RIP";
	if (touches_harness(s, m))
		return "the instruction touches the kvm backend's own pages (code, tables)";
	/* the kvm backend reads the delivered frame back from RAM */
	if (frame_slots(s, m) < 0)
		return "the exception frame goes to the kvm backend's own pages";
	if (retired_into_harness(s, m))
		return "the instruction branches into the kvm backend's own pages";
	if (reads_pic_port(s))
		return "a read of the kernel's PIC ports, or a write with TF (irqchip on): the model has no PIC";
	return NULL;
}

/* A kvm #DF that is the model's undeliverable legacy-mode fault. */
static bool df_normalised(const struct scenario *s, const struct run_result *m,
			  const struct run_result *k)
{
	return m->outcome == OUTCOME_EXCEPTION && k->outcome == OUTCOME_EXCEPTION &&
	       k->exception.vector == DF_VECTOR && m->exception.vector != DF_VECTOR &&
	       fidelity_frame_undeliverable(s, m);
}

static bool regs_comparable(enum run_outcome o)
{
	return o == OUTCOME_RETIRED || o == OUTCOME_EXCEPTION || o == OUTCOME_EMULATION_FAILURE;
}

/* A complete run has at least the exits or events a run cut short had. */
static unsigned int count_check(const struct kvm_profile *p, const char *what,
				unsigned int nm, unsigned int nk, bool m_cut, bool k_cut,
				struct violation_list *out)
{
	char a[32], b[32];

	if ((m_cut || nm >= nk) && (k_cut || nk >= nm))
		return 0;
	snprintf(a, sizeof(a), "%u%s", nm, m_cut ? " (run limit)" : "");
	snprintf(b, sizeof(b), "%u%s", nk, k_cut ? " (run limit)" : "");
	violation_add(out, p, V_FIDELITY, "%s: model %s, kvm %s", what, a, b);
	return 1;
}

/* One side or both stopped at a run limit: compare what both did. */
static unsigned int limit_prefix_check(const struct kvm_profile *p, const struct run_result *m,
				       const struct run_result *k, bool traced,
				       struct violation_list *out)
{
	bool m_cut = m->outcome == OUTCOME_BUDGET, k_cut = k->outcome == OUTCOME_BUDGET;
	char a[64], b[64];
	unsigned int i;

	for (i = 0; i < m->nr_exits && i < k->nr_exits; i++) {
		if (exit_equal(&m->exits[i], &k->exits[i]))
			continue;
		fmt_exit(a, sizeof(a), m, i);
		fmt_exit(b, sizeof(b), k, i);
		violation_add(out, p, V_FIDELITY, "exits within a run limit (model %u, kvm %u): "
			      "exit %u model %s, kvm %s", m->nr_exits, k->nr_exits, i, a, b);
		return 1;
	}
	if (count_check(p, "exits", m->nr_exits, k->nr_exits, m_cut, k_cut, out))
		return 1;
	for (i = 0; traced && i < m->trace.nr && i < k->trace.nr; i++) {
		if (event_equal(&m->trace.ev[i], &k->trace.ev[i]))
			continue;
		fmt_event(a, sizeof(a), &m->trace, i);
		fmt_event(b, sizeof(b), &k->trace, i);
		violation_add(out, p, V_FIDELITY, "trace within a run limit (model %u, kvm %u): "
			      "event %u model %s, kvm %s", m->trace.nr, k->trace.nr, i, a, b);
		return 1;
	}
	return traced ? count_check(p, "trace events", m->trace.nr, k->trace.nr, m_cut, k_cut,
				    out) : 0;
}

static void fmt_error_code(char *buf, size_t size, const struct x86_exception *e)
{
	if (e->error_code_valid)
		snprintf(buf, size, "0x%x", e->error_code);
	else
		snprintf(buf, size, "none");
}

/* fidelity_check() without the host gaps; *exits_differ: in exits or trace */
static unsigned int fidelity_compare(const struct kvm_profile *p, const struct scenario *s,
				     const struct run_result *m, const struct run_result *k,
				     bool traced, struct violation_list *out, bool *exits_differ)
{
	char a[64], b[64];
	unsigned int i, n = 0;
	bool same_end = false;

	if (fidelity_skip_reason(s, m, k))
		return 0;
	if (m->outcome == OUTCOME_BUDGET || k->outcome == OUTCOME_BUDGET) {
		n = limit_prefix_check(p, m, k, traced, out);
		*exits_differ = n;
		return n;
	}
	for (i = 0; i < m->nr_exits || i < k->nr_exits; i++) {
		if (i < m->nr_exits && i < k->nr_exits && exit_equal(&m->exits[i], &k->exits[i]))
			continue;
		fmt_exit(a, sizeof(a), m, i);
		fmt_exit(b, sizeof(b), k, i);
		violation_add(out, p, V_FIDELITY, "exits (model %u, kvm %u): exit %u model %s, kvm %s",
			      m->nr_exits, k->nr_exits, i, a, b);
		*exits_differ = true;
		n++;
		break;
	}
	for (i = 0; traced && (i < m->trace.nr || i < k->trace.nr); i++) {
		if (i < m->trace.nr && i < k->trace.nr &&
		    event_equal(&m->trace.ev[i], &k->trace.ev[i]))
			continue;
		fmt_event(a, sizeof(a), &m->trace, i);
		fmt_event(b, sizeof(b), &k->trace, i);
		violation_add(out, p, V_FIDELITY, "trace (model %u, kvm %u): event %u model %s, kvm %s",
			      m->trace.nr, k->trace.nr, i, a, b);
		*exits_differ = true;
		n++;
		break;
	}

	if (m->outcome != k->outcome) {
		violation_add(out, p, V_FIDELITY, "outcome: model %s, kvm %s",
			      run_outcome_name(m->outcome), run_outcome_name(k->outcome));
		n++;
	} else if (m->outcome != OUTCOME_EXCEPTION) {
		same_end = regs_comparable(m->outcome);
	} else if (df_normalised(s, m, k)) {
		same_end = true;
	} else if (m->exception.vector != k->exception.vector) {
		violation_add(out, p, V_FIDELITY, "exception vector: model %u, kvm %u",
			      m->exception.vector, k->exception.vector);
		n++;
	} else {
		const struct x86_exception *em = &m->exception, *ek = &k->exception;

		same_end = true;
		if (em->error_code_valid != ek->error_code_valid ||
		    (em->error_code_valid && em->error_code != ek->error_code)) {
			fmt_error_code(a, sizeof(a), em);
			fmt_error_code(b, sizeof(b), ek);
			violation_add(out, p, V_FIDELITY, "error code: model %s, kvm %s", a, b);
			n++;
		}
		if (em->vector == PF_VECTOR && em->address != ek->address) {
			violation_add(out, p, V_FIDELITY, "cr2: model 0x%llx, kvm 0x%llx",
				      (unsigned long long)em->address,
				      (unsigned long long)ek->address);
			n++;
		}
	}

	if (m->rip != k->rip) {
		violation_add(out, p, V_FIDELITY, "rip: model 0x%llx, kvm 0x%llx",
			      (unsigned long long)m->rip, (unsigned long long)k->rip);
		n++;
	}
	if (!same_end)
		return n;
	for (i = 0; i < NR_VCPU_REGS; i++) {
		u64 mask = s->mode == SCN_MODE_LONG64 ? ~0ULL : 0xffffffffULL;

		/* what a side could not read back (run_result.rsp_lost) */
		if (i == VCPU_REGS_RSP)
			mask &= ~(m->rsp_lost | k->rsp_lost);

		if (!((m->regs[i] ^ k->regs[i]) & mask))
			continue;
		violation_add(out, p, V_FIDELITY, "%s: model 0x%llx, kvm 0x%llx", reg_names[i],
			      (unsigned long long)(m->regs[i] & mask),
			      (unsigned long long)(k->regs[i] & mask));
		n++;
	}
	/*
	 * RFLAGS[63:32] are reserved: a scenario may set them, KVM's emulator
	 * carries them along, the CPU drops them (native 64-bit code on
	 * kvm_pvm; seen on 6.18.44 also whenever TF is set), so they say
	 * nothing about the instruction.  Campaign kc1: stos/movntdq at CPL 3.
	 * Bits a side could not read back (run_result.rflags_lost) neither.
	 */
	if ((u32)((m->rflags ^ k->rflags) & ~(m->rflags_lost | k->rflags_lost))) {
		violation_add(out, p, V_FIDELITY, "rflags: model 0x%llx, kvm 0x%llx",
			      (unsigned long long)m->rflags, (unsigned long long)k->rflags);
		n++;
	}
	return n;
}

unsigned int fidelity_check(const struct kvm_profile *p, const struct scenario *s,
			    const struct run_result *m, const struct run_result *k,
			    bool traced, struct violation_list *out)
{
	bool exits_differ = false;
	unsigned int first = out->nr, i;
	unsigned int n = fidelity_compare(p, s, m, k, traced, out, &exits_differ);

	if (!n || !fidelity_host_gap(s, exits_differ))
		return n;
	for (i = first; i < out->nr; i++) {
		if (out->v[i].kind != V_FIDELITY || out->v[i].known)
			continue;
		out->v[i].known = true;
		out->nr_unknown--;
	}
	return n;
}
