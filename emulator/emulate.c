// SPDX-License-Identifier: GPL-2.0-only
/*
 * The emulate.c side of the model: one emulator pass over a decoded
 * instruction (x86_emulate_insn), the register cache, linearization, the
 * mem_read cache (spec 1.5), push/pop and the instruction handlers whose
 * memory access pattern matters for MMIO (spec section 7).
 *
 * Memory goes through ctxt->ops (x86.c): reads via read_emulated() and the
 * mem_read cache, writes via segmented_write() or, with LOCK, through
 * segmented_cmpxchg().
 */
#include <string.h>

#include "emulate.h"

/* ---- register cache (kept across no-decode replay, spec 1.6) ---- */

unsigned long reg_read(struct x86_emulate_ctxt *ctxt, unsigned int nr)
{
	if (!(ctxt->regs_valid & (1U << nr))) {
		ctxt->regs_valid |= 1U << nr;
		ctxt->_regs[nr] = ctxt->vcpu->regs[nr];
	}
	return ctxt->_regs[nr];
}

unsigned long *reg_write(struct x86_emulate_ctxt *ctxt, unsigned int nr)
{
	ctxt->regs_valid |= 1U << nr;
	ctxt->regs_dirty |= 1U << nr;
	return &ctxt->_regs[nr];
}

unsigned long *reg_rmw(struct x86_emulate_ctxt *ctxt, unsigned int nr)
{
	reg_read(ctxt, nr);
	return reg_write(ctxt, nr);
}

void emulator_invalidate_register_cache(struct x86_emulate_ctxt *ctxt)
{
	ctxt->regs_dirty = 0;
	ctxt->regs_valid = 0;
}

/*
 * The dirty bits stay: a register operand's pointer into the cache is taken
 * (and marked dirty) at decode time, so a writeback in the middle of the
 * instruction (userspace reading the registers at an exit) must not lose
 * the write that comes after it.
 */
void emulator_writeback_register_cache(struct x86_emulate_ctxt *ctxt)
{
	u32 dirty = ctxt->regs_dirty;

	while (dirty) {
		unsigned int nr = __builtin_ctz(dirty);

		ctxt->vcpu->regs[nr] = ctxt->_regs[nr];
		dirty &= dirty - 1;
	}
}

void init_decode_cache(struct x86_emulate_ctxt *ctxt)
{
	ctxt->lock_prefix = false;
	ctxt->rep_prefix = 0;
	ctxt->gpa_available = false;
	ctxt->regs_valid = 0;
	ctxt->regs_dirty = 0;
	ctxt->io_read.pos = 0;
	ctxt->io_read.end = 0;
	ctxt->mem_read.pos = 0;
	ctxt->mem_read.end = 0;
}

static unsigned long ad_mask(const struct x86_emulate_ctxt *ctxt)
{
	return ctxt->ad_bytes == 8 ? ~0UL : (1UL << (ctxt->ad_bytes * 8)) - 1;
}

static void assign_masked(unsigned long *dest, unsigned long src, unsigned long mask)
{
	*dest = (*dest & ~mask) | (src & mask);
}

/* What a 1/2/4/8-byte register write does to the full register. */
static void assign_register(unsigned long *reg, u64 val, int bytes)
{
	switch (bytes) {
	case 1:
		*reg = (*reg & ~0xffUL) | (u8)val;
		break;
	case 2:
		*reg = (*reg & ~0xffffUL) | (u16)val;
		break;
	case 4:
		*reg = (u32)val;	/* 32-bit writes zero-extend */
		break;
	case 8:
		*reg = val;
		break;
	}
}

/* A register operand's write: a high-byte register keeps bits 7:0 and 63:16. */
static void assign_register_operand(struct operand *op, u64 val)
{
	if (op->hi8)
		*op->addr.reg = (*op->addr.reg & ~0xff00UL) | ((unsigned long)(u8)val << 8);
	else
		assign_register(op->addr.reg, val, op->bytes);
}

int emulator_stack_size(const struct x86_emulate_ctxt *ctxt)
{
	if (ctxt->mode == X86EMUL_MODE_PROT64)
		return 8;
	return ctxt->vcpu->sregs.seg[VCPU_SREG_SS].db ? 4 : 2;
}

static unsigned long stack_mask(const struct x86_emulate_ctxt *ctxt)
{
	int size = emulator_stack_size(ctxt);

	return size == 8 ? ~0UL : (1UL << (size * 8)) - 1;
}

static void rsp_increment(struct x86_emulate_ctxt *ctxt, long inc)
{
	unsigned long *rsp = reg_rmw(ctxt, VCPU_REGS_RSP);

	assign_masked(rsp, *rsp + inc, stack_mask(ctxt));
}

static void register_address_increment(struct x86_emulate_ctxt *ctxt, int reg, long inc)
{
	unsigned long *r = reg_rmw(ctxt, reg);

	assign_masked(r, *r + inc, ad_mask(ctxt));
}

static int emulate_exception(struct x86_emulate_ctxt *ctxt, int vec, u16 error, bool valid)
{
	ctxt->exception.vector = (u8)vec;
	ctxt->exception.error_code = error;
	ctxt->exception.error_code_valid = valid;
	return X86EMUL_PROPAGATE_FAULT;
}

static int emulate_gp(struct x86_emulate_ctxt *ctxt, int err)
{
	return emulate_exception(ctxt, GP_VECTOR, (u16)err, true);
}

static int emulate_ss(struct x86_emulate_ctxt *ctxt, int err)
{
	return emulate_exception(ctxt, SS_VECTOR, (u16)err, true);
}

/* ---- linearization (__linearize) ---- */

/*
 * Accesses of 16 bytes or more need natural alignment unless the opcode is
 * flagged Unaligned (movdqu/movups); smaller ones never fault here.
 */
static unsigned int insn_alignment(const struct x86_emulate_ctxt *ctxt, unsigned int size)
{
	if (size < 16 || (ctxt->d & Unaligned))
		return 1;
	if (ctxt->d & Aligned16)
		return 16;
	return size;
}

static int __linearize(struct x86_emulate_ctxt *ctxt, struct segmented_address addr,
		       unsigned int size, bool write, unsigned long *linear)
{
	const struct kvm_segment *seg = &ctxt->vcpu->sregs.seg[addr.seg];
	u64 la;

	if (ctxt->mode == X86EMUL_MODE_PROT64) {
		la = addr.ea;
		if (addr.seg == VCPU_SREG_FS || addr.seg == VCPU_SREG_GS)
			la += seg->base;
		/*
		 * Only the first byte is checked, and the size is bounded by
		 * 2^48 - la, so an access may run past the canonical
		 * boundary (spec 2.1).
		 */
		if (!is_canonical(la))
			goto bad;
		if (la < BIT(48) && size > BIT(48) - la)
			goto bad;
	} else {
		u64 lim = seg->limit;

		la = seg->base + (u32)addr.ea;
		if (ctxt->mode != X86EMUL_MODE_REAL) {
			if (seg->unusable || !seg->present)
				goto bad;
			/* code segments and read-only data segments */
			if (write && ((seg->type & 8) || !(seg->type & 2)))
				goto bad;
		}
		if (!(seg->type & 8) && (seg->type & 4)) {
			/* expand-down: valid offsets are above the limit */
			if ((u32)addr.ea <= lim)
				goto bad;
			lim = seg->db ? 0xffffffff : 0xffff;
		}
		if ((u32)addr.ea > lim)
			goto bad;
		if (lim != 0xffffffff && size > lim + 1 - (u32)addr.ea)
			goto bad;
		la &= 0xffffffff;
	}
	if (la & (insn_alignment(ctxt, size) - 1))
		return emulate_gp(ctxt, 0);
	*linear = la;
	return X86EMUL_CONTINUE;
bad:
	if (addr.seg == VCPU_SREG_SS)
		return emulate_ss(ctxt, 0);
	return emulate_gp(ctxt, 0);
}

/* ---- memory access helpers ---- */

/* read_emulated(): every emulated read is staged through mem_read (1.5) */
static int read_emulated(struct x86_emulate_ctxt *ctxt, unsigned long addr,
			 void *dest, unsigned int size)
{
	struct read_cache *mc = &ctxt->mem_read;
	int rc;

	if (mc->pos < mc->end)
		goto read_cached;

	if (mc->end + size >= sizeof(mc->data)) {
		/* KVM_EMULATOR_BUG_ON: the VM is marked bugged */
		ctxt->vcpu->warnings |= WARN_READ_CACHE_OVERFLOW;
		ctxt->vcpu->vm_bugged = true;
		return X86EMUL_UNHANDLEABLE;
	}

	rc = ctxt->ops->read_emulated(ctxt, addr, mc->data + mc->end, size,
				      &ctxt->exception);
	if (rc != X86EMUL_CONTINUE)
		return rc;

	mc->end += size;

read_cached:
	memcpy(dest, mc->data + mc->pos, size);
	mc->pos += size;
	return X86EMUL_CONTINUE;
}

int segmented_read(struct x86_emulate_ctxt *ctxt, struct segmented_address addr,
		   void *data, unsigned int size)
{
	unsigned long linear;
	int rc;

	rc = __linearize(ctxt, addr, size, false, &linear);
	if (rc != X86EMUL_CONTINUE)
		return rc;
	return read_emulated(ctxt, linear, data, size);
}

int segmented_write(struct x86_emulate_ctxt *ctxt, struct segmented_address addr,
		    const void *data, unsigned int size)
{
	unsigned long linear;
	int rc;

	rc = __linearize(ctxt, addr, size, true, &linear);
	if (rc != X86EMUL_CONTINUE)
		return rc;
	return ctxt->ops->write_emulated(ctxt, linear, data, size, &ctxt->exception);
}

static int segmented_cmpxchg(struct x86_emulate_ctxt *ctxt, struct segmented_address addr,
			     const void *orig_data, const void *data, unsigned int size)
{
	unsigned long linear;
	int rc;

	rc = __linearize(ctxt, addr, size, true, &linear);
	if (rc != X86EMUL_CONTINUE)
		return rc;
	return ctxt->ops->cmpxchg_emulated(ctxt, linear, orig_data, data, size,
					   &ctxt->exception);
}

int emulate_push(struct x86_emulate_ctxt *ctxt, const void *data, int bytes)
{
	struct segmented_address addr;

	rsp_increment(ctxt, -bytes);
	addr.ea = reg_read(ctxt, VCPU_REGS_RSP) & stack_mask(ctxt);
	addr.seg = VCPU_SREG_SS;
	return segmented_write(ctxt, addr, data, bytes);
}

int emulate_pop(struct x86_emulate_ctxt *ctxt, void *dest, int len)
{
	struct segmented_address addr;
	int rc;

	addr.ea = reg_read(ctxt, VCPU_REGS_RSP) & stack_mask(ctxt);
	addr.seg = VCPU_SREG_SS;
	rc = segmented_read(ctxt, addr, dest, len);
	if (rc != X86EMUL_CONTINUE)
		return rc;
	rsp_increment(ctxt, len);
	return rc;
}

/* ---- arithmetic flags (only what decides string ends and cmpxchg) ---- */

static void set_sub_flags(struct x86_emulate_ctxt *ctxt, u64 a, u64 b, unsigned int bytes)
{
	unsigned int bits = bytes * 8;
	u64 mask = bits == 64 ? ~0ULL : (1ULL << bits) - 1;
	u64 sign = 1ULL << (bits - 1);
	u64 res = (a - b) & mask;
	unsigned long fl = ctxt->eflags;

	a &= mask;
	b &= mask;
	fl &= ~(X86_EFLAGS_CF | X86_EFLAGS_PF | X86_EFLAGS_AF | X86_EFLAGS_ZF |
		X86_EFLAGS_SF | X86_EFLAGS_OF);
	if (a < b)
		fl |= X86_EFLAGS_CF;
	if (!res)
		fl |= X86_EFLAGS_ZF;
	if (res & sign)
		fl |= X86_EFLAGS_SF;
	if ((a ^ b) & (a ^ res) & sign)
		fl |= X86_EFLAGS_OF;
	if ((a ^ b ^ res) & 0x10)
		fl |= X86_EFLAGS_AF;
	if (!(__builtin_popcount((unsigned int)(res & 0xff)) & 1))
		fl |= X86_EFLAGS_PF;
	ctxt->eflags = fl;
}

static void set_add_flags(struct x86_emulate_ctxt *ctxt, u64 a, u64 b, unsigned int bytes)
{
	unsigned int bits = bytes * 8;
	u64 mask = bits == 64 ? ~0ULL : (1ULL << bits) - 1;
	u64 sign = 1ULL << (bits - 1);
	u64 res = (a + b) & mask;
	unsigned long fl = ctxt->eflags;

	a &= mask;
	b &= mask;
	fl &= ~(X86_EFLAGS_CF | X86_EFLAGS_PF | X86_EFLAGS_AF | X86_EFLAGS_ZF |
		X86_EFLAGS_SF | X86_EFLAGS_OF);
	if (res < a)
		fl |= X86_EFLAGS_CF;
	if (!res)
		fl |= X86_EFLAGS_ZF;
	if (res & sign)
		fl |= X86_EFLAGS_SF;
	if (~(a ^ b) & (a ^ res) & sign)
		fl |= X86_EFLAGS_OF;
	if ((a ^ b ^ res) & 0x10)
		fl |= X86_EFLAGS_AF;
	if (!(__builtin_popcount((unsigned int)(res & 0xff)) & 1))
		fl |= X86_EFLAGS_PF;
	ctxt->eflags = fl;
}

/* ---- handlers ---- */

int em_mov(struct x86_emulate_ctxt *ctxt)
{
	memcpy(ctxt->dst.valptr, ctxt->src.valptr, sizeof(ctxt->src.valptr));
	return X86EMUL_CONTINUE;
}

int em_add(struct x86_emulate_ctxt *ctxt)
{
	set_add_flags(ctxt, ctxt->dst.val64, ctxt->src.val64, ctxt->dst.bytes);
	ctxt->dst.val64 += ctxt->src.val64;
	/* the result has the operand size: no carry out into dst.val */
	if (ctxt->dst.bytes < 8)
		ctxt->dst.val64 &= (1ULL << (ctxt->dst.bytes * 8)) - 1;
	return X86EMUL_CONTINUE;
}

int em_cmp(struct x86_emulate_ctxt *ctxt)
{
	set_sub_flags(ctxt, ctxt->dst.val64, ctxt->src.val64, ctxt->dst.bytes);
	return X86EMUL_CONTINUE;
}

int em_push(struct x86_emulate_ctxt *ctxt)
{
	/* the source is ctxt->src.val: emulator context, not the stack */
	return emulate_push(ctxt, &ctxt->src.val, ctxt->op_bytes);
}

int em_pop(struct x86_emulate_ctxt *ctxt)
{
	return emulate_pop(ctxt, &ctxt->dst.val, ctxt->op_bytes);
}

/*
 * ENTER imm16, 0: pushes a copy of RBP that lives in this function's stack
 * frame.  Before 0b16e69d17d8 a split push leaves the second fragment's
 * data pointer on this frame after it returned (CVE-2026-31588, spec 7.4).
 */
int em_enter(struct x86_emulate_ctxt *ctxt)
{
	unsigned int frame_size = (unsigned int)ctxt->src.val;
	unsigned int nesting_level = ctxt->src2.val & 31;
	unsigned long rbp;
	int rc;

	if (nesting_level)
		return X86EMUL_UNHANDLEABLE;

	rbp = reg_read(ctxt, VCPU_REGS_RBP);
	rc = emulate_push(ctxt, &rbp, emulator_stack_size(ctxt));
	if (rc != X86EMUL_CONTINUE)
		return rc;
	assign_masked(reg_rmw(ctxt, VCPU_REGS_RBP), reg_read(ctxt, VCPU_REGS_RSP),
		      stack_mask(ctxt));
	assign_masked(reg_rmw(ctxt, VCPU_REGS_RSP),
		      reg_read(ctxt, VCPU_REGS_RSP) - frame_size, stack_mask(ctxt));
	return X86EMUL_CONTINUE;
}

int em_leave(struct x86_emulate_ctxt *ctxt)
{
	assign_masked(reg_rmw(ctxt, VCPU_REGS_RSP), reg_read(ctxt, VCPU_REGS_RBP),
		      stack_mask(ctxt));
	return emulate_pop(ctxt, reg_rmw(ctxt, VCPU_REGS_RBP), ctxt->op_bytes);
}

/* PUSHA: eight separate emulated writes, each resetting the fragments (2.4) */
int em_pusha(struct x86_emulate_ctxt *ctxt)
{
	unsigned long old_esp = reg_read(ctxt, VCPU_REGS_RSP);
	int reg, rc;

	for (reg = VCPU_REGS_RAX; reg <= VCPU_REGS_RDI; reg++) {
		ctxt->src.val = reg == VCPU_REGS_RSP ? old_esp : reg_read(ctxt, reg);
		rc = em_push(ctxt);
		if (rc != X86EMUL_CONTINUE)
			return rc;
	}
	return X86EMUL_CONTINUE;
}

int em_popa(struct x86_emulate_ctxt *ctxt)
{
	int reg = VCPU_REGS_RDI;
	unsigned long val = 0;
	int rc;

	while (reg >= VCPU_REGS_RAX) {
		if (reg == VCPU_REGS_RSP) {
			rsp_increment(ctxt, ctxt->op_bytes);
			--reg;
		}
		rc = emulate_pop(ctxt, &val, ctxt->op_bytes);
		if (rc != X86EMUL_CONTINUE)
			return rc;
		assign_register(reg_rmw(ctxt, reg), val, ctxt->op_bytes);
		--reg;
	}
	return X86EMUL_CONTINUE;
}

int em_cmpxchg(struct x86_emulate_ctxt *ctxt)
{
	/* compare the accumulator with the destination just read */
	ctxt->dst.orig_val = ctxt->dst.val64;
	ctxt->src.orig_val = ctxt->src.val64;
	set_sub_flags(ctxt, reg_read(ctxt, VCPU_REGS_RAX), ctxt->dst.orig_val,
		      ctxt->dst.bytes);
	if (ctxt->eflags & X86_EFLAGS_ZF) {
		ctxt->src.type = OP_NONE;
		ctxt->dst.val64 = ctxt->src.orig_val;
	} else {
		/* failure: accumulator gets the old value, which is written back too */
		ctxt->src.type = OP_REG;
		ctxt->src.reg_nr = VCPU_REGS_RAX;
		ctxt->src.hi8 = false;
		ctxt->src.addr.reg = reg_rmw(ctxt, VCPU_REGS_RAX);
		ctxt->src.bytes = ctxt->dst.bytes;
		ctxt->src.val64 = ctxt->dst.orig_val;
		ctxt->dst.val64 = ctxt->dst.orig_val;
	}
	return X86EMUL_CONTINUE;
}

/* CMPXCHG8B: always writes back, the old value on a compare failure (7.6) */
int em_cmpxchg8b(struct x86_emulate_ctxt *ctxt)
{
	u64 old = ctxt->dst.orig_val;

	if (ctxt->dst.bytes == 16)
		return X86EMUL_UNHANDLEABLE;	/* cmpxchg16b: read, then fail */

	if ((u32)old != (u32)reg_read(ctxt, VCPU_REGS_RAX) ||
	    (u32)(old >> 32) != (u32)reg_read(ctxt, VCPU_REGS_RDX)) {
		*reg_write(ctxt, VCPU_REGS_RAX) = (u32)old;
		*reg_write(ctxt, VCPU_REGS_RDX) = (u32)(old >> 32);
		ctxt->eflags &= ~X86_EFLAGS_ZF;
	} else {
		ctxt->dst.val64 = ((u64)(u32)reg_read(ctxt, VCPU_REGS_RCX) << 32) |
				  (u32)reg_read(ctxt, VCPU_REGS_RBX);
		ctxt->eflags |= X86_EFLAGS_ZF;
	}
	return X86EMUL_CONTINUE;
}

int em_xchg(struct x86_emulate_ctxt *ctxt)
{
	u64 reg_val = ctxt->src.val64;

	/* register gets the memory value, memory the register (implicit LOCK) */
	assign_register_operand(&ctxt->src, ctxt->dst.val64);
	ctxt->dst.val64 = reg_val;
	ctxt->lock_prefix = true;
	return X86EMUL_CONTINUE;
}

int em_cmps(struct x86_emulate_ctxt *ctxt)
{
	/* CMPS compares [RSI] (src) with [RDI] (dst): flags of src - dst */
	set_sub_flags(ctxt, ctxt->src.val64, ctxt->dst.val64, ctxt->dst.bytes);
	return X86EMUL_CONTINUE;
}

/*
 * emulator_fix_hypercall() (x86.c, reached from a #UD on VMCALL/VMMCALL):
 * patches the 3-byte hypercall at RIP from an on-stack buffer.  Modelled
 * here because it is an emulator-initiated write from the stack (7.4).
 */
int em_fix_hypercall(struct x86_emulate_ctxt *ctxt)
{
	u8 instruction[3] = { 0x0f, 0x01, 0xc1 };	/* the host's VMCALL */
	struct segmented_address addr = { .ea = ctxt->eip, .seg = VCPU_SREG_CS };
	unsigned long linear;
	int rc;

	/* the kernel linearizes CS:RIP itself, no segment checks for a fetch */
	if (ctxt->mode == X86EMUL_MODE_PROT64)
		linear = addr.ea;
	else
		linear = (ctxt->vcpu->sregs.seg[VCPU_SREG_CS].base + (u32)addr.ea) & 0xffffffff;
	rc = ctxt->ops->write_emulated(ctxt, linear, instruction, sizeof(instruction),
				       &ctxt->exception);
	return rc;
}

/* ---- fxsave, fxrstor (em_fxsave, em_fxrstor) ---- */

/*
 * The image KVM moves: the legacy area (160 bytes) and XMM0-7 with
 * CR4.OSFXSR (288); fxstate_size() in emulate.c.
 */
#define FXSTATE_LEGACY		160
#define FXSTATE_XMM		288
#define FXSTATE_FCW		0
#define FXSTATE_MXCSR		24
#define FXSTATE_XMM0		160

static unsigned int fxstate_size(const struct x86_emulate_ctxt *ctxt)
{
	return ctxt->vcpu->sregs.cr4 & X86_CR4_OSFXSR ? FXSTATE_XMM : FXSTATE_LEGACY;
}

/*
 * check_fxsr(): the guest has FXSR (CPUID, as the kvm backend's vCPU
 * has); CR0.TS or CR0.EM is #NM; in 64-bit mode KVM does not emulate
 * them at all (spec 7.1).
 */
static int check_fxsr(struct x86_emulate_ctxt *ctxt)
{
	if (ctxt->vcpu->sregs.cr0 & (X86_CR0_TS | X86_CR0_EM))
		return emulate_exception(ctxt, NM_VECTOR, 0, false);
	if (ctxt->mode == X86EMUL_MODE_PROT64)
		return X86EMUL_UNHANDLEABLE;
	return X86EMUL_CONTINUE;
}

/*
 * fxsave m512: the whole image is linearized at once (segment limit for
 * its size, then 16-byte alignment: the row is Aligned16: #GP(0), #SS(0)
 * off SS), then written by the std path: no MMIO exit ever; a page that is
 * not writable RAM ends it with IO_NEEDED, after which KVM re-enters the
 * guest on the same instruction (spec 7.1: an apparent livelock).  The
 * x87 part of the image is a fresh vCPU's (FCW 0x37f, MXCSR 0x1f80,
 * MXCSR_MASK left 0): the model does not track the FPU, and guest RAM is
 * not compared (harness/fidelity.c).
 */
int em_fxsave(struct x86_emulate_ctxt *ctxt)
{
	u8 image[FXSTATE_XMM] = { 0 };
	unsigned int size = fxstate_size(ctxt);
	unsigned long linear;
	u32 mxcsr = 0x1f80;
	u16 fcw = 0x37f;
	int rc;

	rc = check_fxsr(ctxt);
	if (rc != X86EMUL_CONTINUE)
		return rc;
	memcpy(image + FXSTATE_FCW, &fcw, sizeof(fcw));
	memcpy(image + FXSTATE_MXCSR, &mxcsr, sizeof(mxcsr));
	memcpy(image + FXSTATE_XMM0, ctxt->vcpu->xmm, FXSTATE_XMM - FXSTATE_XMM0);
	rc = __linearize(ctxt, ctxt->src.addr.mem, size, true, &linear);
	if (rc != X86EMUL_CONTINUE)
		return rc;
	return ctxt->ops->write_std(ctxt, linear, image, size, &ctxt->exception);
}

/*
 * fxrstor m512: linearized as fxsave (for a read), read by the std path,
 * then MXCSR[31:16] set is #GP(0).  The host's fxrstor then loads it: the
 * model keeps XMM0-7 of a 288-byte image; with the 160-byte one KVM fills
 * the rest from the current state (fxregs_fixup()), so XMM stays.
 */
int em_fxrstor(struct x86_emulate_ctxt *ctxt)
{
	u8 image[FXSTATE_XMM];
	unsigned int size = fxstate_size(ctxt);
	unsigned long linear;
	u32 mxcsr;
	int rc;

	rc = check_fxsr(ctxt);
	if (rc != X86EMUL_CONTINUE)
		return rc;
	rc = __linearize(ctxt, ctxt->src.addr.mem, size, false, &linear);
	if (rc != X86EMUL_CONTINUE)
		return rc;
	rc = ctxt->ops->read_std(ctxt, linear, image, size, &ctxt->exception);
	if (rc != X86EMUL_CONTINUE)
		return rc;
	memcpy(&mxcsr, image + FXSTATE_MXCSR, sizeof(mxcsr));
	if (mxcsr >> 16)
		return emulate_gp(ctxt, 0);
	if (size == FXSTATE_XMM)
		memcpy(ctxt->vcpu->xmm, image + FXSTATE_XMM0, FXSTATE_XMM - FXSTATE_XMM0);
	return X86EMUL_CONTINUE;
}

/* ---- port I/O ---- */

/*
 * The PIO read-ahead of spec 7.5.  Once io_read is drained, a batch of n
 * elements is read from the port, n = min(in_page, 1024 / size, count)
 * (at least 1).  in_page is a byte count (to the end of RDI's page with
 * DF=0, from its start with DF=1) that is compared as an element count;
 * count is the address-masked RCX truncated to 32 bits with any REP
 * prefix, else 1.  REP INS with DF=0 hands the whole batch to the
 * writeback as one OP_MEM_STR write; every other use takes one element
 * per pass, and emulate.c's restart rule runs until io_read is drained.
 */
static int pio_in_emulated(struct x86_emulate_ctxt *ctxt, unsigned int size, u16 port,
			   void *dest)
{
	struct read_cache *rc = &ctxt->io_read;

	if (rc->pos == rc->end) {
		u64 rdi_off = offset_in_page(reg_read(ctxt, VCPU_REGS_RDI));
		unsigned int count = 1, in_page, n;

		if (ctxt->rep_prefix)
			count = (unsigned int)(reg_read(ctxt, VCPU_REGS_RCX) & ad_mask(ctxt));
		if (ctxt->eflags & X86_EFLAGS_DF)
			in_page = (unsigned int)rdi_off;
		else
			in_page = (unsigned int)(PAGE_SIZE - rdi_off);
		n = min_t(unsigned int, in_page, sizeof(rc->data) / size);
		n = min_t(unsigned int, n, count);
		if (!n)
			n = 1;
		rc->pos = 0;
		rc->end = 0;
		if (!ctxt->ops->pio_in_emulated(ctxt, size, port, rc->data, n))
			return 0;
		rc->end = n * size;
	}

	if (ctxt->rep_prefix && (ctxt->d & String) && !(ctxt->eflags & X86_EFLAGS_DF)) {
		ctxt->dst.data = rc->data + rc->pos;
		ctxt->dst.type = OP_MEM_STR;
		ctxt->dst.count = (unsigned int)((rc->end - rc->pos) / size);
		rc->pos = rc->end;
	} else {
		memcpy(dest, rc->data + rc->pos, size);
		rc->pos += size;
	}
	return 1;
}

/* IN/INS: port in src (imm8 or DX), data to dst (rAX or ES:rDI) */
int em_in(struct x86_emulate_ctxt *ctxt)
{
	if (!pio_in_emulated(ctxt, ctxt->dst.bytes, (u16)ctxt->src.val, ctxt->dst.valptr))
		return X86EMUL_IO_NEEDED;
	return X86EMUL_CONTINUE;
}

/*
 * OUT/OUTS: data in src (rAX or seg:rSI, already read), port in dst.  The
 * result of the port write is not checked: a write to userspace finishes
 * the instruction and exits afterwards.
 */
int em_out(struct x86_emulate_ctxt *ctxt)
{
	ctxt->ops->pio_out_emulated(ctxt, ctxt->src.bytes, (u16)ctxt->dst.val,
				    ctxt->src.valptr, 1);
	ctxt->dst.type = OP_NONE;
	return X86EMUL_CONTINUE;
}

/* ---- one emulator pass ---- */

static void write_register_operand(struct x86_emulate_ctxt *ctxt, struct operand *op)
{
	if (op->is_xmm) {
		memcpy(ctxt->vcpu->xmm[op->addr.xmm], op->valptr, 16);
		return;
	}
	assign_register_operand(op, op->val64);
}

static int writeback(struct x86_emulate_ctxt *ctxt, struct operand *op)
{
	switch (op->type) {
	case OP_REG:
		write_register_operand(ctxt, op);
		break;
	case OP_MEM:
		if (ctxt->lock_prefix)
			return segmented_cmpxchg(ctxt, op->addr.mem, &op->orig_val,
						 op->valptr, op->bytes);
		return segmented_write(ctxt, op->addr.mem, op->valptr, op->bytes);
	case OP_MEM_STR:
		return segmented_write(ctxt, op->addr.mem, op->data, op->bytes * op->count);
	default:
		break;
	}
	return X86EMUL_CONTINUE;
}

static void string_addr_inc(struct x86_emulate_ctxt *ctxt, int reg, struct operand *op)
{
	long step = (long)op->count * op->bytes;

	if (ctxt->eflags & X86_EFLAGS_DF)
		step = -step;
	register_address_increment(ctxt, reg, step);
	op->addr.mem.ea = reg_read(ctxt, reg) & ad_mask(ctxt);
}

/* REPE/REPNE end on ZF for cmps/scas; plain REP only ends via RCX == 0 */
static bool string_insn_completed(struct x86_emulate_ctxt *ctxt)
{
	if (!(ctxt->d & NoWrite))
		return false;
	if (ctxt->rep_prefix == REPE_PREFIX && !(ctxt->eflags & X86_EFLAGS_ZF))
		return true;
	if (ctxt->rep_prefix == REPNE_PREFIX && (ctxt->eflags & X86_EFLAGS_ZF))
		return true;
	return false;
}

/*
 * Register operands are fetched at decode time, as emulate.c's
 * fetch_register_operand() does: a no-decode replay reuses the value.
 */
void emulator_fetch_register_operand(struct x86_emulate_ctxt *ctxt, struct operand *op)
{
	if (op->type != OP_REG)
		return;
	if (op->is_xmm) {
		memcpy(op->valptr, ctxt->vcpu->xmm[op->addr.xmm], 16);
		return;
	}
	op->addr.reg = reg_rmw(ctxt, op->reg_nr);
	op->val64 = *op->addr.reg;
	if (op->hi8)
		op->val64 >>= 8;
	if (op->bytes < 8)
		op->val64 &= (1ULL << (op->bytes * 8)) - 1;
}

/*
 * The first access the CPU makes, for an instruction that runs natively
 * until an access traps into KVM (emulator/README.md, "The CPU's first
 * access").  Where KVM's emulator reads in another order than the CPU
 * accesses, a fault of the CPU's first access reaches the guest before
 * KVM sees the instruction: no exit, no trace event.  Two cases differ
 * (both seen on 6.18.44 kvm_pvm, 64-bit CPL 3):
 *  - a read-modify-write whose destination is its only memory operand:
 *    the CPU's first access is the destination with write intent, KVM's
 *    emulator reads it first (a read-only page gave #PF W=1 without the
 *    read exit of the emulator's order);
 *  - cmps: the CPU's first access is ES:rDI, KVM's emulator reads DS:rSI
 *    first (rSI on MMIO, rDI unmapped gave #PF at rDI without an exit);
 *  - enter: the CPU pushes rBP with the operand size, KVM's em_enter()
 *    with the stack size (`66 c8 00 00 00` with RSP 0x40001004 and
 *    0x40001000 unmapped: #PF at 0x40001002 with no write; KVM's 8-byte
 *    push would have traced its first 4 bytes and faulted at 0x40001000).
 * The CPU goes on to a second page only through RAM (ops->native_access);
 * once a page traps into KVM (MMIO), a later page or access is KVM's
 * order again.  A segmentation failure is left to KVM's order (no
 * scenario can tell them apart: its segments have no type).
 */
static int native_first_access(struct x86_emulate_ctxt *ctxt)
{
	const struct operand *op = &ctxt->dst;
	bool src_mem = ctxt->src.type == OP_MEM && !(ctxt->d & NoAccess);
	unsigned long linear;
	bool write;

	/*
	 * enter: the CPU pushes rBP with the operand size (2 bytes with 66
	 * in 64-bit mode), where em_enter() pushes the stack size (8)
	 */
	if (ctxt->execute == em_enter) {
		struct segmented_address addr = {
			.ea = (reg_read(ctxt, VCPU_REGS_RSP) - ctxt->op_bytes) & stack_mask(ctxt),
			.seg = VCPU_SREG_SS,
		};

		if (__linearize(ctxt, addr, ctxt->op_bytes, true, &linear) != X86EMUL_CONTINUE)
			return X86EMUL_CONTINUE;
		return ctxt->ops->native_access(ctxt, linear, ctxt->op_bytes, true,
						&ctxt->exception);
	}
	if (op->type != OP_MEM)
		return X86EMUL_CONTINUE;
	if ((ctxt->d & TwoMemOp) && (ctxt->d & NoWrite) && (ctxt->d & String))
		write = false;		/* cmps */
	else if (!(ctxt->d & (Mov | NoWrite)) && !src_mem && ctxt->src2.type != OP_MEM)
		write = true;		/* read-modify-write */
	else
		return X86EMUL_CONTINUE;

	if (__linearize(ctxt, op->addr.mem, op->bytes, write, &linear) != X86EMUL_CONTINUE)
		return X86EMUL_CONTINUE;
	return ctxt->ops->native_access(ctxt, linear, op->bytes, write, &ctxt->exception);
}

int x86_emulate_insn(struct x86_emulate_ctxt *ctxt)
{
	enum operand_type saved_dst_type = ctxt->dst.type;
	int rc = X86EMUL_CONTINUE;
	bool is_string = ctxt->rep_prefix && (ctxt->d & String);

	ctxt->mem_read.pos = 0;

	if (is_string && !(reg_read(ctxt, VCPU_REGS_RCX) & ad_mask(ctxt))) {
		/* REP with a zero count: no access, RIP moves on */
		ctxt->eip = ctxt->_eip;
		ctxt->eflags &= ~X86_EFLAGS_RF;
		goto done;
	}

	if (ctxt->native_entry) {
		ctxt->native_entry = false;
		rc = native_first_access(ctxt);
		if (rc != X86EMUL_CONTINUE)
			goto done;
	}

	if (ctxt->src.type == OP_MEM && !(ctxt->d & NoAccess)) {
		rc = segmented_read(ctxt, ctxt->src.addr.mem, ctxt->src.valptr, ctxt->src.bytes);
		if (rc != X86EMUL_CONTINUE)
			goto done;
	}
	ctxt->src.orig_val = ctxt->src.val64;

	if (ctxt->src2.type == OP_MEM) {
		rc = segmented_read(ctxt, ctxt->src2.addr.mem, ctxt->src2.valptr,
				    ctxt->src2.bytes);
		if (rc != X86EMUL_CONTINUE)
			goto done;
	}

	if (ctxt->dst.type == OP_MEM && !(ctxt->d & Mov)) {
		rc = segmented_read(ctxt, ctxt->dst.addr.mem, ctxt->dst.valptr, ctxt->dst.bytes);
		if (rc != X86EMUL_CONTINUE) {
			/* a read-modify-write faults as a write (spec: W=1) */
			if (!(ctxt->d & NoWrite) && rc == X86EMUL_PROPAGATE_FAULT &&
			    ctxt->exception.vector == PF_VECTOR)
				ctxt->exception.error_code |= PFERR_WRITE_MASK;
			goto done;
		}
	}
	ctxt->dst.orig_val = ctxt->dst.val64;

	/*
	 * With its operands read, a REP string instruction runs with RF set
	 * (cleared when it completes, below); any other clears RF.  Seen on
	 * 6.18.44: RF given in RFLAGS is gone after an emulated mov.
	 */
	if (is_string)
		ctxt->eflags |= X86_EFLAGS_RF;
	else
		ctxt->eflags &= ~X86_EFLAGS_RF;

	if (ctxt->execute) {
		rc = ctxt->execute(ctxt);
		if (rc != X86EMUL_CONTINUE)
			goto done;
	}

	/*
	 * x86_emulate_insn() writes a SrcWrite source register back before
	 * the destination, so where both name one register (xadd al, al;
	 * xadd dh, dh) the destination's value is what stays.
	 */
	if (ctxt->d & SrcWrite) {
		rc = writeback(ctxt, &ctxt->src);
		if (rc != X86EMUL_CONTINUE)
			goto done;
	}
	if (!(ctxt->d & NoWrite)) {
		rc = writeback(ctxt, &ctxt->dst);
		if (rc != X86EMUL_CONTINUE)
			goto done;
	}

	ctxt->dst.type = saved_dst_type;

	if (ctxt->d & String) {
		if (ctxt->src.type == OP_MEM)
			string_addr_inc(ctxt, VCPU_REGS_RSI, &ctxt->src);
		if (ctxt->dst.type == OP_MEM || ctxt->dst.type == OP_MEM_STR)
			string_addr_inc(ctxt, VCPU_REGS_RDI, &ctxt->dst);
	}

	if (is_string) {
		struct read_cache *r = &ctxt->io_read;
		unsigned int count = ctxt->src.type == OP_MEM ? ctxt->src.count : ctxt->dst.count;

		register_address_increment(ctxt, VCPU_REGS_RCX, -(long)count);
		if (!string_insn_completed(ctxt)) {
			/*
			 * Re-enter the guest every 1024 iterations, and after
			 * a drained PIO read-ahead batch (spec 7.5).
			 */
			if ((r->end != 0 || (reg_read(ctxt, VCPU_REGS_RCX) & 0x3ff)) &&
			    (r->end == 0 || r->end != r->pos)) {
				ctxt->mem_read.end = 0;
				emulator_writeback_register_cache(ctxt);
				return EMULATION_RESTART;
			}
			goto done;	/* RIP stays on the instruction */
		}
		ctxt->eflags &= ~X86_EFLAGS_RF;
	}

	ctxt->eip = ctxt->_eip;

done:
	ctxt->dst.type = saved_dst_type;
	if (rc == X86EMUL_PROPAGATE_FAULT)
		ctxt->have_exception = true;
	if (rc == X86EMUL_CONTINUE)
		emulator_writeback_register_cache(ctxt);
	return rc == X86EMUL_UNHANDLEABLE ? EMULATION_FAILED : EMULATION_OK;
}
