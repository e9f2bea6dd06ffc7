// SPDX-License-Identifier: GPL-2.0-only
/*
 * Instruction handlers for the instruction layer (decode.c), in the style
 * of emulate.c's em_* functions: each runs between the generic operand
 * reads and the generic writeback of x86_emulate_insn().
 *
 * Semantics are kept only as far as they decide memory accesses and what a
 * checker needs: written values (they become MMIO write data), register
 * results of loads, RSP/RIP, and the flags that end string loops, decide
 * cmpxchg and conditional instructions.  Exceptions (#GP/#SS/#UD/#DE) are
 * raised where KVM raises them relative to the accesses.
 */
#include <string.h>

#include "decode.h"
#include "fastop.h"

#define EFLAGS_IF	BIT(9)
#define EFLAGS_IOPL	(3ULL << 12)
#define EFLAGS_NT	BIT(14)
#define EFLAGS_AC	BIT(18)
#define EFLAGS_ID	BIT(21)
#define ARITH_FLAGS	(X86_EFLAGS_CF | X86_EFLAGS_PF | X86_EFLAGS_AF | X86_EFLAGS_ZF | \
			 X86_EFLAGS_SF | X86_EFLAGS_OF)

typedef unsigned __int128 u128;

/* ---- private helpers (emulate.c keeps its own static) ---- */

static u64 width_mask(unsigned int bytes)
{
	return bytes >= 8 ? ~0ULL : BIT(bytes * 8) - 1;
}

static u64 sign_bit(unsigned int bytes)
{
	return BIT(bytes * 8 - 1);
}

static s64 sign_extend(u64 v, unsigned int bytes)
{
	unsigned int sh = 64 - bytes * 8;

	return bytes >= 8 ? (s64)v : (s64)(v << sh) >> sh;
}

static int raise(struct x86_emulate_ctxt *ctxt, int vec, bool has_err)
{
	ctxt->exception.vector = (u8)vec;
	ctxt->exception.error_code = 0;
	ctxt->exception.error_code_valid = has_err;
	return X86EMUL_PROPAGATE_FAULT;
}

static unsigned long stack_mask(const struct x86_emulate_ctxt *ctxt)
{
	return width_mask(emulator_stack_size(ctxt));
}

static void masked_assign(unsigned long *dst, unsigned long val, unsigned long mask)
{
	*dst = (*dst & ~mask) | (val & mask);
}

static void rsp_add(struct x86_emulate_ctxt *ctxt, long inc)
{
	unsigned long *rsp = reg_rmw(ctxt, VCPU_REGS_RSP);

	masked_assign(rsp, *rsp + inc, stack_mask(ctxt));
}

static void set_szp(struct x86_emulate_ctxt *ctxt, u64 res, unsigned int bytes)
{
	res &= width_mask(bytes);
	if (!res)
		ctxt->eflags |= X86_EFLAGS_ZF;
	if (res & sign_bit(bytes))
		ctxt->eflags |= X86_EFLAGS_SF;
	if (!(__builtin_popcount((unsigned int)(res & 0xff)) & 1))
		ctxt->eflags |= X86_EFLAGS_PF;
}

static u64 do_add(struct x86_emulate_ctxt *ctxt, u64 a, u64 b, unsigned int c,
		  unsigned int bytes)
{
	u64 m = width_mask(bytes);
	u128 full = (u128)(a & m) + (b & m) + c;
	u64 res = (u64)full & m;

	ctxt->eflags &= ~ARITH_FLAGS;
	if ((full >> (bytes * 8)) & 1)
		ctxt->eflags |= X86_EFLAGS_CF;
	if (~(a ^ b) & (a ^ res) & sign_bit(bytes))
		ctxt->eflags |= X86_EFLAGS_OF;
	if ((a ^ b ^ res) & 0x10)
		ctxt->eflags |= X86_EFLAGS_AF;
	set_szp(ctxt, res, bytes);
	return res;
}

static u64 do_sub(struct x86_emulate_ctxt *ctxt, u64 a, u64 b, unsigned int c,
		  unsigned int bytes)
{
	u64 m = width_mask(bytes);
	u64 res = (a - b - c) & m;

	a &= m;
	b &= m;
	ctxt->eflags &= ~ARITH_FLAGS;
	if ((u128)a < (u128)b + c)
		ctxt->eflags |= X86_EFLAGS_CF;
	if ((a ^ b) & (a ^ res) & sign_bit(bytes))
		ctxt->eflags |= X86_EFLAGS_OF;
	if ((a ^ b ^ res) & 0x10)
		ctxt->eflags |= X86_EFLAGS_AF;
	set_szp(ctxt, res, bytes);
	return res;
}

/*
 * The arithmetic flags (and, with @res, the result) the host CPU leaves
 * for @op, which is what KVM's fastop gives the guest: see fastop.h.
 * @flags_in: RFLAGS before the instruction.  Without host execution the C
 * results stand.
 */
static void host_alu(struct x86_emulate_ctxt *ctxt, enum fastop op, unsigned int bytes,
		     u64 dst, u64 src, u8 count, unsigned long flags_in, u64 *res)
{
	unsigned long fl = flags_in;

	if (!fastop_run(op, bytes, &dst, NULL, src, count, &fl))
		return;
	ctxt->eflags = (ctxt->eflags & ~ARITH_FLAGS) | (fl & ARITH_FLAGS);
	if (res)
		*res = dst & width_mask(bytes);
}

/* and/or/xor/test: AF is undefined, so the flags come from the host */
static u64 do_logic(struct x86_emulate_ctxt *ctxt, enum fastop op, u64 a, u64 b,
		    unsigned int bytes)
{
	unsigned long fl = ctxt->eflags;
	u64 res = op == FOP_OR ? a | b : op == FOP_XOR ? a ^ b : a & b;

	ctxt->eflags &= ~ARITH_FLAGS;
	set_szp(ctxt, res, bytes);
	host_alu(ctxt, op, bytes, a, b, 0, fl, NULL);
	return res & width_mask(bytes);
}

static unsigned int carry(const struct x86_emulate_ctxt *ctxt)
{
	return !!(ctxt->eflags & X86_EFLAGS_CF);
}

/* ---- ALU (dst op= src) ---- */

int em_or(struct x86_emulate_ctxt *ctxt)
{
	ctxt->dst.val64 = do_logic(ctxt, FOP_OR, ctxt->dst.val64, ctxt->src.val64,
				   ctxt->dst.bytes);
	return X86EMUL_CONTINUE;
}

int em_and(struct x86_emulate_ctxt *ctxt)
{
	ctxt->dst.val64 = do_logic(ctxt, FOP_AND, ctxt->dst.val64, ctxt->src.val64,
				   ctxt->dst.bytes);
	return X86EMUL_CONTINUE;
}

int em_xor(struct x86_emulate_ctxt *ctxt)
{
	ctxt->dst.val64 = do_logic(ctxt, FOP_XOR, ctxt->dst.val64, ctxt->src.val64,
				   ctxt->dst.bytes);
	return X86EMUL_CONTINUE;
}

int em_test(struct x86_emulate_ctxt *ctxt)
{
	do_logic(ctxt, FOP_AND, ctxt->dst.val64, ctxt->src.val64, ctxt->dst.bytes);
	return X86EMUL_CONTINUE;
}

int em_adc(struct x86_emulate_ctxt *ctxt)
{
	ctxt->dst.val64 = do_add(ctxt, ctxt->dst.val64, ctxt->src.val64, carry(ctxt),
				 ctxt->dst.bytes);
	return X86EMUL_CONTINUE;
}

int em_sub(struct x86_emulate_ctxt *ctxt)
{
	ctxt->dst.val64 = do_sub(ctxt, ctxt->dst.val64, ctxt->src.val64, 0, ctxt->dst.bytes);
	return X86EMUL_CONTINUE;
}

int em_sbb(struct x86_emulate_ctxt *ctxt)
{
	ctxt->dst.val64 = do_sub(ctxt, ctxt->dst.val64, ctxt->src.val64, carry(ctxt),
				 ctxt->dst.bytes);
	return X86EMUL_CONTINUE;
}

/* ---- one-operand RMW ---- */

int em_inc(struct x86_emulate_ctxt *ctxt)
{
	unsigned long cf = ctxt->eflags & X86_EFLAGS_CF;

	ctxt->dst.val64 = do_add(ctxt, ctxt->dst.val64, 1, 0, ctxt->dst.bytes);
	ctxt->eflags = (ctxt->eflags & ~X86_EFLAGS_CF) | cf;
	return X86EMUL_CONTINUE;
}

int em_dec(struct x86_emulate_ctxt *ctxt)
{
	unsigned long cf = ctxt->eflags & X86_EFLAGS_CF;

	ctxt->dst.val64 = do_sub(ctxt, ctxt->dst.val64, 1, 0, ctxt->dst.bytes);
	ctxt->eflags = (ctxt->eflags & ~X86_EFLAGS_CF) | cf;
	return X86EMUL_CONTINUE;
}

int em_not(struct x86_emulate_ctxt *ctxt)
{
	ctxt->dst.val64 = ~ctxt->dst.val64 & width_mask(ctxt->dst.bytes);
	return X86EMUL_CONTINUE;
}

int em_neg(struct x86_emulate_ctxt *ctxt)
{
	ctxt->dst.val64 = do_sub(ctxt, 0, ctxt->dst.val64, 0, ctxt->dst.bytes);
	return X86EMUL_CONTINUE;
}

/* ---- shifts and rotates: count in src2, result always written back ---- */

/* in the order of FOP_ROL .. FOP_SAR */
enum shift_kind { SH_ROL, SH_ROR, SH_RCL, SH_RCR, SH_SHL, SH_SHR, SH_SAR };

static void set_flag(struct x86_emulate_ctxt *ctxt, unsigned long flag, bool on)
{
	if (on)
		ctxt->eflags |= flag;
	else
		ctxt->eflags &= ~flag;
}

static int do_shift(struct x86_emulate_ctxt *ctxt, enum shift_kind kind)
{
	unsigned int bytes = ctxt->dst.bytes, bits = bytes * 8;
	unsigned int cnt = ctxt->src2.val & (bits == 64 ? 63 : 31);
	u64 m = width_mask(bytes), msb = sign_bit(bytes);
	u64 v = ctxt->dst.val64 & m, r = v;
	bool cf = carry(ctxt), of = false;
	unsigned long fl = ctxt->eflags;
	unsigned int i, n;

	if (!cnt)
		return X86EMUL_CONTINUE;

	switch (kind) {
	case SH_ROL:
		n = cnt % bits;
		r = n ? ((v << n) | (v >> (bits - n))) & m : v;
		cf = r & 1;
		of = !!(r & msb) ^ cf;
		break;
	case SH_ROR:
		n = cnt % bits;
		r = n ? ((v >> n) | (v << (bits - n))) & m : v;
		cf = !!(r & msb);
		of = !!(r & msb) ^ !!(r & (msb >> 1));
		break;
	case SH_RCL:
		n = bits < 32 ? cnt % (bits + 1) : cnt;
		for (i = 0; i < n; i++) {
			bool out = r & msb;

			r = ((r << 1) | cf) & m;
			cf = out;
		}
		of = !!(r & msb) ^ cf;
		break;
	case SH_RCR:
		n = bits < 32 ? cnt % (bits + 1) : cnt;
		of = !!(r & msb) ^ cf;
		for (i = 0; i < n; i++) {
			bool out = r & 1;

			r = (r >> 1) | (cf ? msb : 0);
			cf = out;
		}
		break;
	case SH_SHL:
		r = (u64)(((u128)v << cnt) & m);
		cf = cnt <= bits && ((u128)v << cnt) >> bits & 1;
		of = !!(r & msb) ^ cf;
		break;
	case SH_SHR:
		r = cnt >= 64 ? 0 : v >> cnt;
		cf = (v >> (cnt - 1)) & 1;
		of = !!(v & msb);
		break;
	case SH_SAR:
		r = (u64)(sign_extend(v, bytes) >> (cnt > 63 ? 63 : cnt)) & m;
		cf = (sign_extend(v, bytes) >> (cnt - 1 > 63 ? 63 : cnt - 1)) & 1;
		of = false;
		break;
	}
	if (kind >= SH_SHL) {
		ctxt->eflags &= ~(X86_EFLAGS_ZF | X86_EFLAGS_SF | X86_EFLAGS_PF);
		set_szp(ctxt, r, bytes);
	}
	set_flag(ctxt, X86_EFLAGS_CF, cf);
	set_flag(ctxt, X86_EFLAGS_OF, of);
	/* AF, and OF beyond one-bit counts, are undefined: the host's */
	host_alu(ctxt, FOP_ROL + (kind - SH_ROL), bytes, v, 0, (u8)ctxt->src2.val, fl, NULL);
	ctxt->dst.val64 = r;
	return X86EMUL_CONTINUE;
}

int em_rol(struct x86_emulate_ctxt *ctxt) { return do_shift(ctxt, SH_ROL); }
int em_ror(struct x86_emulate_ctxt *ctxt) { return do_shift(ctxt, SH_ROR); }
int em_rcl(struct x86_emulate_ctxt *ctxt) { return do_shift(ctxt, SH_RCL); }
int em_rcr(struct x86_emulate_ctxt *ctxt) { return do_shift(ctxt, SH_RCR); }
int em_shl(struct x86_emulate_ctxt *ctxt) { return do_shift(ctxt, SH_SHL); }
int em_shr(struct x86_emulate_ctxt *ctxt) { return do_shift(ctxt, SH_SHR); }
int em_sar(struct x86_emulate_ctxt *ctxt) { return do_shift(ctxt, SH_SAR); }

/*
 * shld/shrd dst, src, count(src2): counts >= the width give undefined
 * results and AF/OF are undefined; the host's stand (C: count mod width).
 */
static int do_shxd(struct x86_emulate_ctxt *ctxt, bool left)
{
	unsigned int bytes = ctxt->dst.bytes, bits = bytes * 8;
	unsigned int cnt = ctxt->src2.val & (bits == 64 ? 63 : 31);
	u64 m = width_mask(bytes), d = ctxt->dst.val64 & m, s = ctxt->src.val64 & m, r;
	unsigned long fl = ctxt->eflags;
	bool cf;

	if (!cnt)
		return X86EMUL_CONTINUE;
	cnt %= bits;		/* beyond the width: undefined, C takes it mod width */
	if (!cnt) {
		r = d;
		cf = carry(ctxt);
	} else if (left) {
		r = ((d << cnt) | (s >> (bits - cnt))) & m;
		cf = (d >> (bits - cnt)) & 1;
	} else {
		r = ((d >> cnt) | (s << (bits - cnt))) & m;
		cf = (d >> (cnt - 1)) & 1;
	}
	ctxt->eflags &= ~ARITH_FLAGS;
	set_szp(ctxt, r, bytes);
	set_flag(ctxt, X86_EFLAGS_CF, cf);
	set_flag(ctxt, X86_EFLAGS_OF, !!((r ^ d) & sign_bit(bytes)));
	host_alu(ctxt, left ? FOP_SHLD : FOP_SHRD, bytes, d, s, (u8)ctxt->src2.val, fl, &r);
	ctxt->dst.val64 = r;
	return X86EMUL_CONTINUE;
}

int em_shld(struct x86_emulate_ctxt *ctxt) { return do_shxd(ctxt, true); }
int em_shrd(struct x86_emulate_ctxt *ctxt) { return do_shxd(ctxt, false); }

/* ---- bit tests: the decoder already moved the address (fetch_bit_operand) ---- */

static u64 bit_of(const struct x86_emulate_ctxt *ctxt)
{
	return BIT(ctxt->src.val & (ctxt->dst.bytes * 8 - 1));
}

/* CF is the bit; OF, SF, AF and PF are undefined (the host's); ZF stays */
static void bt_flags(struct x86_emulate_ctxt *ctxt, enum fastop op)
{
	unsigned long fl = ctxt->eflags;

	set_flag(ctxt, X86_EFLAGS_CF, ctxt->dst.val64 & bit_of(ctxt));
	host_alu(ctxt, op, ctxt->dst.bytes, ctxt->dst.val64,
		 ctxt->src.val & (ctxt->dst.bytes * 8 - 1), 0, fl, NULL);
}

int em_bt(struct x86_emulate_ctxt *ctxt)
{
	bt_flags(ctxt, FOP_BT);
	return X86EMUL_CONTINUE;
}

int em_bts(struct x86_emulate_ctxt *ctxt)
{
	bt_flags(ctxt, FOP_BTS);
	ctxt->dst.val64 |= bit_of(ctxt);
	return X86EMUL_CONTINUE;
}

int em_btr(struct x86_emulate_ctxt *ctxt)
{
	bt_flags(ctxt, FOP_BTR);
	ctxt->dst.val64 &= ~bit_of(ctxt);
	return X86EMUL_CONTINUE;
}

int em_btc(struct x86_emulate_ctxt *ctxt)
{
	bt_flags(ctxt, FOP_BTC);
	ctxt->dst.val64 ^= bit_of(ctxt);
	return X86EMUL_CONTINUE;
}

/*
 * XADD: the destination gets the sum, the source register the old
 * destination.  With one register as both (xadd al, al) the sum stays
 * because the source is written back first (x86_emulate_insn()).
 */
int em_xadd(struct x86_emulate_ctxt *ctxt)
{
	u64 old = ctxt->dst.val64;

	ctxt->dst.val64 = do_add(ctxt, ctxt->dst.val64, ctxt->src.val64, 0, ctxt->dst.bytes);
	ctxt->src.val64 = old;
	return X86EMUL_CONTINUE;
}

/* ---- group 3 multiply/divide: the r/m operand is src2 (read by emulate.c) ---- */

static void write_acc_pair(struct x86_emulate_ctxt *ctxt, u64 lo, u64 hi, unsigned int bytes)
{
	if (bytes == 1) {
		masked_assign(reg_rmw(ctxt, VCPU_REGS_RAX), (lo & 0xff) | ((hi & 0xff) << 8),
			      0xffff);
		return;
	}
	if (bytes == 2) {
		masked_assign(reg_rmw(ctxt, VCPU_REGS_RAX), lo, 0xffff);
		masked_assign(reg_rmw(ctxt, VCPU_REGS_RDX), hi, 0xffff);
	} else if (bytes == 4) {
		*reg_write(ctxt, VCPU_REGS_RAX) = (u32)lo;
		*reg_write(ctxt, VCPU_REGS_RDX) = (u32)hi;
	} else {
		*reg_write(ctxt, VCPU_REGS_RAX) = lo;
		*reg_write(ctxt, VCPU_REGS_RDX) = hi;
	}
}

static void read_acc_pair(struct x86_emulate_ctxt *ctxt, u64 *lo, u64 *hi, unsigned int bytes)
{
	u64 rax = reg_read(ctxt, VCPU_REGS_RAX), m = width_mask(bytes);

	if (bytes == 1) {
		*lo = rax & 0xff;
		*hi = (rax >> 8) & 0xff;
	} else {
		*lo = rax & m;
		*hi = reg_read(ctxt, VCPU_REGS_RDX) & m;
	}
}

static void mul_flags(struct x86_emulate_ctxt *ctxt, bool overflow)
{
	set_flag(ctxt, X86_EFLAGS_CF, overflow);
	set_flag(ctxt, X86_EFLAGS_OF, overflow);
}

/*
 * mul/imul leave SF, ZF, AF and PF undefined, div/idiv all six: the host's
 * flags for the same operands (@lo/@hi as read_acc_pair() gave them; a
 * divide must not fault, its #DE is decided before).
 */
static void muldiv_flags(struct x86_emulate_ctxt *ctxt, enum fastop op, unsigned int bytes,
			 u64 lo, u64 hi, u64 src, unsigned long flags_in)
{
	unsigned long fl = flags_in;
	u64 ax = bytes == 1 ? lo | hi << 8 : lo, dx = hi;

	if (fastop_run(op, bytes, &ax, &dx, src, 0, &fl))
		ctxt->eflags = (ctxt->eflags & ~ARITH_FLAGS) | (fl & ARITH_FLAGS);
}

int em_mul_ex(struct x86_emulate_ctxt *ctxt)
{
	unsigned int bytes = ctxt->src2.bytes, bits = bytes * 8;
	u64 m = width_mask(bytes), a, hi, hi0;
	unsigned long fl = ctxt->eflags;
	u128 p;

	read_acc_pair(ctxt, &a, &hi0, bytes);
	p = (u128)a * (ctxt->src2.val64 & m);
	hi = bits == 64 ? (u64)(p >> 64) : (u64)(p >> bits) & m;
	write_acc_pair(ctxt, (u64)p & m, hi, bytes);
	mul_flags(ctxt, hi != 0);
	muldiv_flags(ctxt, FOP_MUL, bytes, a, hi0, ctxt->src2.val64, fl);
	return X86EMUL_CONTINUE;
}

int em_imul_ex(struct x86_emulate_ctxt *ctxt)
{
	unsigned int bytes = ctxt->src2.bytes, bits = bytes * 8;
	u64 m = width_mask(bytes), a, hi, hi0;
	unsigned long fl = ctxt->eflags;
	__int128 p;

	read_acc_pair(ctxt, &a, &hi0, bytes);
	p = (__int128)sign_extend(a, bytes) * sign_extend(ctxt->src2.val64, bytes);
	hi = (u64)(p >> bits) & m;
	if (bits == 64)
		hi = (u64)(p >> 64);
	write_acc_pair(ctxt, (u64)p & m, hi, bytes);
	mul_flags(ctxt, p != (__int128)sign_extend((u64)p & m, bytes));
	muldiv_flags(ctxt, FOP_IMUL, bytes, a, hi0, ctxt->src2.val64, fl);
	return X86EMUL_CONTINUE;
}

int em_div_ex(struct x86_emulate_ctxt *ctxt)
{
	unsigned int bytes = ctxt->src2.bytes, bits = bytes * 8;
	u64 m = width_mask(bytes), lo, hi, d = ctxt->src2.val64 & m;
	u128 n, q;

	read_acc_pair(ctxt, &lo, &hi, bytes);
	if (!d)
		return raise(ctxt, DE_VECTOR, false);
	n = ((u128)hi << bits) | lo;
	q = n / d;
	if (q > m)
		return raise(ctxt, DE_VECTOR, false);
	write_acc_pair(ctxt, (u64)q, (u64)(n % d), bytes);
	muldiv_flags(ctxt, FOP_DIV, bytes, lo, hi, d, ctxt->eflags);
	return X86EMUL_CONTINUE;
}

int em_idiv_ex(struct x86_emulate_ctxt *ctxt)
{
	unsigned int bytes = ctxt->src2.bytes, bits = bytes * 8;
	u64 m = width_mask(bytes), lo, hi;
	s64 d = sign_extend(ctxt->src2.val64, bytes);
	u128 un;
	__int128 n, q;

	read_acc_pair(ctxt, &lo, &hi, bytes);
	if (!d)
		return raise(ctxt, DE_VECTOR, false);
	un = ((u128)hi << bits) | lo;
	if (bits < 64 && (un >> (2 * bits - 1)) & 1)
		un |= ~(u128)0 << (2 * bits);	/* sign-extend the dividend */
	/* the most negative 128-bit dividend over -1 overflows */
	if (d == -1 && un == (u128)1 << 127)
		return raise(ctxt, DE_VECTOR, false);
	n = (__int128)un;
	q = n / d;
	if (q != (__int128)sign_extend((u64)q & m, bytes))
		return raise(ctxt, DE_VECTOR, false);
	write_acc_pair(ctxt, (u64)q & m, (u64)(n % d) & m, bytes);
	muldiv_flags(ctxt, FOP_IDIV, bytes, lo, hi, (u64)d, ctxt->eflags);
	return X86EMUL_CONTINUE;
}

static int imul_into_dst(struct x86_emulate_ctxt *ctxt, u64 a, u64 b)
{
	unsigned int bytes = ctxt->dst.bytes;
	__int128 p = (__int128)sign_extend(a, bytes) * sign_extend(b, bytes);
	u64 r = (u64)p & width_mask(bytes);
	unsigned long fl = ctxt->eflags;

	mul_flags(ctxt, p != (__int128)sign_extend(r, bytes));
	host_alu(ctxt, FOP_IMUL2, bytes, a, b, 0, fl, NULL);
	ctxt->dst.val64 = r;
	return X86EMUL_CONTINUE;
}

int em_imul(struct x86_emulate_ctxt *ctxt)
{
	return imul_into_dst(ctxt, ctxt->dst.val64, ctxt->src.val64);
}

int em_imul_3op(struct x86_emulate_ctxt *ctxt)
{
	return imul_into_dst(ctxt, ctxt->src.val64, ctxt->src2.val64);
}

/* ---- moves ---- */

int em_movzx(struct x86_emulate_ctxt *ctxt)
{
	ctxt->dst.val64 = ctxt->src.val64 & width_mask(ctxt->src.bytes);
	return X86EMUL_CONTINUE;
}

int em_movsx(struct x86_emulate_ctxt *ctxt)
{
	ctxt->dst.val64 = (u64)sign_extend(ctxt->src.val64, ctxt->src.bytes);
	return X86EMUL_CONTINUE;
}

int em_movsxd(struct x86_emulate_ctxt *ctxt)
{
	ctxt->dst.val64 = (u64)(s64)(s32)ctxt->src.val64;
	return X86EMUL_CONTINUE;
}

/*
 * MOVBE: the guest CPUID of the target host has no MOVBE, so the handler
 * raises #UD - after emulate.c has already read the memory source (a load
 * makes real MMIO reads first; a store never accesses memory).
 */
int em_movbe(struct x86_emulate_ctxt *ctxt)
{
	return raise(ctxt, UD_VECTOR, false);
}

int em_lea(struct x86_emulate_ctxt *ctxt)
{
	ctxt->dst.val64 = ctxt->src.addr.mem.ea;
	return X86EMUL_CONTINUE;
}

bool insn_test_cc(unsigned int cc, unsigned long fl)
{
	bool cf = fl & X86_EFLAGS_CF, zf = fl & X86_EFLAGS_ZF, sf = fl & X86_EFLAGS_SF;
	bool of = fl & X86_EFLAGS_OF, pf = fl & X86_EFLAGS_PF;
	bool r;

	switch ((cc >> 1) & 7) {
	case 0: r = of; break;
	case 1: r = cf; break;
	case 2: r = zf; break;
	case 3: r = cf || zf; break;
	case 4: r = sf; break;
	case 5: r = pf; break;
	case 6: r = sf != of; break;
	default: r = zf || sf != of; break;
	}
	return (cc & 1) ? !r : r;
}

/* CMOVcc reads its source always; a false 32-bit cmov still zero-extends */
int em_cmov(struct x86_emulate_ctxt *ctxt)
{
	if (insn_test_cc((unsigned int)ctxt->imm, ctxt->eflags))
		ctxt->dst.val64 = ctxt->src.val64;
	else if (ctxt->op_bytes != 4)
		ctxt->dst.type = OP_NONE;
	return X86EMUL_CONTINUE;
}

int em_setcc(struct x86_emulate_ctxt *ctxt)
{
	ctxt->dst.val64 = insn_test_cc((unsigned int)ctxt->imm, ctxt->eflags);
	return X86EMUL_CONTINUE;
}

/* ---- near branches ---- */

/*
 * The new RIP is truncated to the operand size and checked like a one-byte
 * code fetch: canonical in 64-bit mode, CS limit otherwise; #GP(0) if not.
 */
static int assign_eip_near(struct x86_emulate_ctxt *ctxt, u64 dst)
{
	const struct kvm_segment *cs = &ctxt->vcpu->sregs.seg[VCPU_SREG_CS];
	u64 ea = dst & width_mask(ctxt->op_bytes);

	if (ctxt->mode == X86EMUL_MODE_PROT64) {
		if ((u64)((s64)(ea << 16) >> 16) != ea)
			return raise(ctxt, GP_VECTOR, true);
	} else if (ea > cs->limit) {
		return raise(ctxt, GP_VECTOR, true);
	}
	ctxt->_eip = ea;
	return X86EMUL_CONTINUE;
}

int em_jcc(struct x86_emulate_ctxt *ctxt)
{
	if (!insn_test_cc((unsigned int)ctxt->imm, ctxt->eflags))
		return X86EMUL_CONTINUE;
	return assign_eip_near(ctxt, ctxt->_eip + ctxt->src.val64);
}

int em_jmp_rel(struct x86_emulate_ctxt *ctxt)
{
	return assign_eip_near(ctxt, ctxt->_eip + ctxt->src.val64);
}

int em_jmp_abs(struct x86_emulate_ctxt *ctxt)
{
	return assign_eip_near(ctxt, ctxt->src.val64);
}

/* CALL: the target is checked first, then the return address is pushed */
int em_call(struct x86_emulate_ctxt *ctxt)
{
	u64 old_eip = ctxt->_eip;
	int rc;

	rc = assign_eip_near(ctxt, ctxt->_eip + ctxt->src.val64);
	if (rc != X86EMUL_CONTINUE)
		return rc;
	ctxt->src.val64 = old_eip;
	return em_push(ctxt);
}

int em_call_near_abs(struct x86_emulate_ctxt *ctxt)
{
	u64 old_eip = ctxt->_eip;
	int rc;

	rc = assign_eip_near(ctxt, ctxt->src.val64);
	if (rc != X86EMUL_CONTINUE)
		return rc;
	ctxt->src.val64 = old_eip;
	return em_push(ctxt);
}

int em_ret(struct x86_emulate_ctxt *ctxt)
{
	unsigned long eip = 0;
	int rc;

	rc = emulate_pop(ctxt, &eip, ctxt->op_bytes);
	if (rc != X86EMUL_CONTINUE)
		return rc;
	return assign_eip_near(ctxt, eip);
}

int em_ret_near_imm(struct x86_emulate_ctxt *ctxt)
{
	int rc = em_ret(ctxt);

	if (rc != X86EMUL_CONTINUE)
		return rc;
	rsp_add(ctxt, (long)ctxt->src.val);
	return X86EMUL_CONTINUE;
}

/* ---- flags on the stack ---- */

int em_pushf(struct x86_emulate_ctxt *ctxt)
{
	ctxt->src.val = ctxt->eflags & ~X86_EFLAGS_VM;
	return em_push(ctxt);
}

int em_popf(struct x86_emulate_ctxt *ctxt)
{
	unsigned int iopl = (ctxt->eflags & EFLAGS_IOPL) >> 12;
	unsigned int cpl = ctxt->vcpu->cpl;
	unsigned long val = 0, change = ARITH_FLAGS | X86_EFLAGS_TF | X86_EFLAGS_DF |
					EFLAGS_NT | EFLAGS_AC | EFLAGS_ID;
	unsigned long res;
	int rc;

	rc = emulate_pop(ctxt, &val, ctxt->op_bytes);
	if (rc != X86EMUL_CONTINUE)
		return rc;
	switch (ctxt->mode) {
	case X86EMUL_MODE_PROT64:
	case X86EMUL_MODE_PROT32:
	case X86EMUL_MODE_PROT16:
		if (cpl == 0)
			change |= EFLAGS_IOPL;
		if (cpl <= iopl)
			change |= EFLAGS_IF;
		break;
	case X86EMUL_MODE_VM86:
		if (iopl < 3)
			return raise(ctxt, GP_VECTOR, true);
		change |= EFLAGS_IF;
		break;
	default:
		change |= EFLAGS_IOPL | EFLAGS_IF;
		break;
	}
	res = (ctxt->eflags & ~change) | (val & change);
	/*
	 * written back as an op_bytes-sized register: a 4-byte write
	 * zero-extends, so a 32-bit popf clears RFLAGS[63:32] (seen on 6.18.44)
	 */
	if (ctxt->op_bytes == 2)
		masked_assign(&ctxt->eflags, res, 0xffff);
	else
		ctxt->eflags = ctxt->op_bytes == 4 ? (u32)res : res;
	ctxt->dst.type = OP_NONE;
	return X86EMUL_CONTINUE;
}

/* ---- segment registers (see INSTRUCTIONS.md) ---- */

static int raise_err(struct x86_emulate_ctxt *ctxt, int vec, u16 err)
{
	ctxt->exception.vector = (u8)vec;
	ctxt->exception.error_code = err;
	ctxt->exception.error_code_valid = true;
	return X86EMUL_PROPAGATE_FAULT;
}

/* The hidden part a descriptor gives a segment register. */
static void segment_from_desc(struct kvm_segment *s, u16 sel, u64 desc)
{
	u32 limit = (u32)((desc & 0xffff) | ((desc >> 32) & 0xf0000));
	bool g = (desc >> 55) & 1;

	*s = (struct kvm_segment){
		.base = ((desc >> 16) & 0xffffff) | ((desc >> 32) & 0xff000000),
		.limit = g ? limit << 12 | 0xfff : limit,
		.selector = sel,
		.type = (desc >> 40) & 0xf,
		.s = (desc >> 44) & 1,
		.dpl = (desc >> 45) & 3,
		.present = (desc >> 47) & 1,
		.l = (desc >> 53) & 1,
		.db = (desc >> 54) & 1,
	};
}

/*
 * MOV/POP to DS, ES, FS, GS, SS and LDS..LSS, with the checks of KVM's
 * load_segment_descriptor() for these (no transfer of control).  The
 * descriptor comes from the vCPU's GDT (struct kvm_gdt; no LDT).
 *  - real/VM86 mode: selector, and base = selector << 4;
 *  - 64-bit mode: SS = 3 is #GP(0) first;
 *  - null selector: DS/ES/FS/GS become unusable; SS is #GP(0) unless in
 *    64-bit mode with RPL = CPL;
 *  - TI set (no LDT) or the entry past the GDT limit: #GP(selector);
 *  - a system descriptor: #GP(selector);
 *  - SS: RPL = CPL, a writable data segment and DPL = CPL, else
 *    #GP(selector);
 *  - DS/ES/FS/GS: not execute-only code, and for data or non-conforming
 *    code RPL <= DPL and CPL <= DPL, else #GP(selector);
 *  - not present: #SS(selector) for SS, #NP(selector) otherwise;
 *  - the accessed bit is set in the descriptor (a std-path write).
 */
/* The descriptor of non-null @sel: #GP(selector) with TI set (no LDT) or past the limit. */
static int gdt_lookup(struct x86_emulate_ctxt *ctxt, u16 sel, u64 *desc)
{
	const struct kvm_gdt *gdt = &ctxt->vcpu->sregs.gdt;
	unsigned int index = sel >> 3;

	if ((sel & 4) || index * 8 + 7 > gdt->limit)
		return raise_err(ctxt, GP_VECTOR, sel & 0xfffc);
	*desc = index < KVM_MODEL_GDT_ENTRIES ? gdt->desc[index] : 0;
	return X86EMUL_CONTINUE;
}

/* The GDT entry of @sel (raw in @desc) and the hidden part it describes. */
static int gdt_segment(struct x86_emulate_ctxt *ctxt, u16 sel, u64 *desc,
		       struct kvm_segment *d)
{
	int rc = gdt_lookup(ctxt, sel, desc);

	if (rc == X86EMUL_CONTINUE)
		segment_from_desc(d, sel, *desc);
	return rc;
}

/* A descriptor's accessed bit, set in the GDT (a std-path write) */
static void gdt_set_accessed(struct x86_emulate_ctxt *ctxt, u16 sel, u64 *desc)
{
	if ((*desc >> 40) & 1)
		return;
	*desc |= 1ULL << 40;
	if ((sel >> 3) < KVM_MODEL_GDT_ENTRIES)
		ctxt->vcpu->sregs.gdt.desc[sel >> 3] = *desc;
}

static int load_sreg(struct x86_emulate_ctxt *ctxt, u16 sel, unsigned int seg)
{
	struct kvm_vcpu *vcpu = ctxt->vcpu;
	unsigned int cpl = vcpu->cpl, rpl = sel & 3;
	u16 err = sel & 0xfffc;
	struct kvm_segment *s, d;
	u64 desc;
	int rc;

	if (seg > VCPU_SREG_GS || seg == VCPU_SREG_CS)
		return raise(ctxt, UD_VECTOR, false);
	s = &vcpu->sregs.seg[seg];
	if (ctxt->mode == X86EMUL_MODE_REAL || ctxt->mode == X86EMUL_MODE_VM86) {
		s->selector = sel;
		s->base = (u64)sel << 4;
		return X86EMUL_CONTINUE;
	}
	if (seg == VCPU_SREG_SS && sel == 3 && ctxt->mode == X86EMUL_MODE_PROT64)
		return raise_err(ctxt, GP_VECTOR, 0);
	if (!(sel & ~3)) {
		if (seg == VCPU_SREG_SS && (ctxt->mode != X86EMUL_MODE_PROT64 || rpl != cpl))
			return raise_err(ctxt, GP_VECTOR, 0);
		s->selector = sel;
		if (seg != VCPU_SREG_SS)
			s->unusable = true;
		return X86EMUL_CONTINUE;
	}
	rc = gdt_segment(ctxt, sel, &desc, &d);
	if (rc != X86EMUL_CONTINUE)
		return rc;
	if (!d.s)
		return raise_err(ctxt, GP_VECTOR, err);
	if (seg == VCPU_SREG_SS) {
		if (rpl != cpl || (d.type & 0xa) != 0x2 || d.dpl != cpl)
			return raise_err(ctxt, GP_VECTOR, err);
	} else if ((d.type & 0xa) == 0x8 ||
		   ((d.type & 0xc) != 0xc && (rpl > d.dpl || cpl > d.dpl))) {
		return raise_err(ctxt, GP_VECTOR, err);
	}
	if (!d.present)
		return raise_err(ctxt, seg == VCPU_SREG_SS ? SS_VECTOR : NP_VECTOR, err);
	gdt_set_accessed(ctxt, sel, &desc);
	segment_from_desc(s, sel, desc);
	return X86EMUL_CONTINUE;
}

/*
 * PUSH sreg: a 32-bit push moves RSP by 4 but writes only the 2-byte
 * selector (at the lower address + 2): KVM decrements RSP by 2 first and
 * then pushes 2 bytes.  64-bit pushes write 8 bytes.
 */
int em_push_sreg(struct x86_emulate_ctxt *ctxt)
{
	unsigned int seg = (unsigned int)ctxt->src2.val;

	ctxt->src.val = ctxt->vcpu->sregs.seg[seg].selector;
	if (ctxt->op_bytes == 4) {
		rsp_add(ctxt, -2);
		ctxt->op_bytes = 2;
	}
	return em_push(ctxt);
}

/* POP sreg: a 2-byte read, RSP then moves by the rest of the operand size */
int em_pop_sreg(struct x86_emulate_ctxt *ctxt)
{
	unsigned int seg = (unsigned int)ctxt->src2.val;
	unsigned long sel = 0;
	int rc;

	rc = emulate_pop(ctxt, &sel, 2);
	if (rc != X86EMUL_CONTINUE)
		return rc;
	if (ctxt->op_bytes > 2)
		rsp_add(ctxt, ctxt->op_bytes - 2);
	return load_sreg(ctxt, (u16)sel, seg);
}

/* LDS/LES/LFS/LGS/LSS: far pointer = offset (op_bytes) then selector (2) */
int em_lseg(struct x86_emulate_ctxt *ctxt)
{
	unsigned int seg = (unsigned int)ctxt->src2.val;
	u16 sel;
	int rc;

	memcpy(&sel, ctxt->src.valptr + ctxt->op_bytes, 2);
	rc = load_sreg(ctxt, sel, seg);
	if (rc != X86EMUL_CONTINUE)
		return rc;
	ctxt->dst.val64 = ctxt->src.val64 & width_mask(ctxt->op_bytes);
	return X86EMUL_CONTINUE;
}

/* MOV r/m, sreg: a 32-bit memory store is cut to 2 bytes, 64-bit is not */
int em_mov_rm_sreg(struct x86_emulate_ctxt *ctxt)
{
	unsigned int seg = (unsigned int)ctxt->src2.val;

	if (seg > VCPU_SREG_GS)
		return raise(ctxt, UD_VECTOR, false);
	ctxt->dst.val64 = ctxt->vcpu->sregs.seg[seg].selector;
	if (ctxt->dst.bytes == 4 && ctxt->dst.type == OP_MEM)
		ctxt->dst.bytes = 2;
	return X86EMUL_CONTINUE;
}

/* MOV sreg, r/m16: the #UD for CS/invalid registers comes after the read */
int em_mov_sreg_rm(struct x86_emulate_ctxt *ctxt)
{
	unsigned int seg = (unsigned int)ctxt->src2.val;

	ctxt->dst.type = OP_NONE;
	return load_sreg(ctxt, (u16)ctxt->src.val, seg);
}

/* ---- far transfers and IRET (segment loading minimal, see INSTRUCTIONS.md) ---- */

/*
 * CS for a far transfer, with the checks of KVM's load_segment_descriptor()
 * for CS (transfer CALL_JMP, or RET for retf).  Real and VM86 mode:
 * selector, base = selector << 4 (the limit is kept).  Protected mode:
 *  - a null selector is #GP(0); TI set or past the GDT limit #GP(sel);
 *  - a system descriptor (call/task gate, TSS): call/jmp through it is not
 *    implemented by KVM (emulation failure), retf is #GP(sel);
 *  - not code: #GP(sel);
 *  - retf: RPL < CPL is #GP(sel), RPL > CPL (outer privilege level) is
 *    not implemented by KVM (emulation failure); then a conforming segment
 *    needs DPL <= RPL, a non-conforming one DPL = RPL;
 *  - call/jmp: conforming needs DPL <= CPL, non-conforming RPL <= CPL and
 *    DPL = CPL;
 *  - L and D both set in long mode: #GP(sel); not present: #NP(sel).
 * The loaded selector carries RPL = CPL, the hidden part the descriptor's;
 * the mode it gives takes effect in assign_eip_far() (below).
 */
static int load_cs(struct x86_emulate_ctxt *ctxt, u16 sel, bool ret)
{
	struct kvm_segment *cs = &ctxt->vcpu->sregs.seg[VCPU_SREG_CS], d;
	unsigned int cpl = ctxt->vcpu->cpl, rpl = sel & 3;
	u16 err = sel & 0xfffc;
	u64 desc;
	int rc;

	if (ctxt->mode == X86EMUL_MODE_REAL || ctxt->mode == X86EMUL_MODE_VM86) {
		cs->selector = sel;
		cs->base = (u64)sel << 4;
		return X86EMUL_CONTINUE;
	}
	if (!(sel & ~3))
		return raise_err(ctxt, GP_VECTOR, 0);
	rc = gdt_segment(ctxt, sel, &desc, &d);
	if (rc != X86EMUL_CONTINUE)
		return rc;
	if (!d.s)
		return ret ? raise_err(ctxt, GP_VECTOR, err) : X86EMUL_UNHANDLEABLE;
	if (!(d.type & 8))
		return raise_err(ctxt, GP_VECTOR, err);
	if (ret) {
		if (rpl < cpl)
			return raise_err(ctxt, GP_VECTOR, err);
		if (rpl > cpl)
			return X86EMUL_UNHANDLEABLE;
		if ((d.type & 4) ? d.dpl > rpl : d.dpl != rpl)
			return raise_err(ctxt, GP_VECTOR, err);
	} else if ((d.type & 4) ? d.dpl > cpl : (rpl > cpl || d.dpl != cpl)) {
		return raise_err(ctxt, GP_VECTOR, err);
	}
	if (d.l && d.db && is_long_mode(ctxt->vcpu))
		return raise_err(ctxt, GP_VECTOR, err);
	if (!d.present)
		return raise_err(ctxt, NP_VECTOR, err);
	gdt_set_accessed(ctxt, sel, &desc);
	segment_from_desc(cs, (u16)((sel & 0xfffc) | cpl), desc);
	return X86EMUL_CONTINUE;
}

/*
 * The target of a far transfer, checked in the mode the CS just loaded
 * gives: KVM's assign_eip_far() recomputes ctxt->mode from CR0.PE,
 * EFLAGS.VM, EFER.LMA and the new CS's L and D bits (upstream patch "KVM:
 * x86: emulator: introduce emulator_recalc_and_set_mode", v6.2; earlier
 * kernels computed the same mode for the check and kept it only when the
 * check passed), before it checks the offset.  So from 64-bit mode a far pointer into a 16-bit
 * code segment is checked against its 64 KiB limit, one into a 32-bit
 * segment against 4 GiB (an m16:64 offset above 4 GiB is #GP(0), not
 * truncated), and whatever the instruction does next (call far's pushes,
 * retf imm16's rSP adjustment) runs in the new mode: rSP is then masked
 * by SS.D and the stack address is a 32-bit linear one.  Seen on
 * 6.18.44: call far [rdi] in long64 to the harness's CODE16 (0x38) with
 * offset 0x028c0000 is #GP(0) after the pointer read, no push; to CODE32
 * (0x08) with RSP 0x140001004 it pushes at 0x40001000/0x40000ffc (camp2
 * fidelity-long64-ff-r3-*, corpus s11-s17).
 */
static int assign_eip_far(struct x86_emulate_ctxt *ctxt, u64 dst)
{
	const struct kvm_segment *cs = &ctxt->vcpu->sregs.seg[VCPU_SREG_CS];

	if (ctxt->mode != X86EMUL_MODE_REAL && ctxt->mode != X86EMUL_MODE_VM86) {
		if (cs->l && is_long_mode(ctxt->vcpu))
			ctxt->mode = X86EMUL_MODE_PROT64;
		else
			ctxt->mode = cs->db ? X86EMUL_MODE_PROT32 : X86EMUL_MODE_PROT16;
	}
	return assign_eip_near(ctxt, dst);
}

/*
 * CALL FAR (9a ptr16:16/32, ff /3 m16:16/32/64): the far pointer is the
 * source (offset, then selector), read as one access of op_bytes + 2.  CS
 * is loaded and the target checked first (in the new CS's mode, above),
 * then CS and the return offset are pushed, op_bytes each, as two
 * separate writes in that mode.  A failure restores CS and the mode.
 */
int em_call_far(struct x86_emulate_ctxt *ctxt)
{
	struct kvm_segment old_cs = ctxt->vcpu->sregs.seg[VCPU_SREG_CS];
	enum x86emul_mode old_mode = ctxt->mode;
	u64 old_eip = ctxt->_eip;
	u16 sel;
	int rc;

	memcpy(&sel, ctxt->src.valptr + ctxt->op_bytes, 2);
	rc = load_cs(ctxt, sel, false);
	if (rc != X86EMUL_CONTINUE)
		return rc;
	rc = assign_eip_far(ctxt, ctxt->src.val64);
	if (rc != X86EMUL_CONTINUE)
		goto fail;
	ctxt->src.val64 = old_cs.selector;
	rc = em_push(ctxt);
	if (rc != X86EMUL_CONTINUE)
		goto fail;
	ctxt->src.val64 = old_eip;
	rc = em_push(ctxt);
	if (rc != X86EMUL_CONTINUE)
		goto fail;
	return X86EMUL_CONTINUE;
fail:
	ctxt->vcpu->sregs.seg[VCPU_SREG_CS] = old_cs;
	ctxt->mode = old_mode;
	return rc;
}

/* JMP FAR (ea, ff /5): a bad target after the CS load is emulation failure */
int em_jmp_far(struct x86_emulate_ctxt *ctxt)
{
	u16 sel;
	int rc;

	memcpy(&sel, ctxt->src.valptr + ctxt->op_bytes, 2);
	rc = load_cs(ctxt, sel, false);
	if (rc != X86EMUL_CONTINUE)
		return rc;
	if (assign_eip_far(ctxt, ctxt->src.val64) != X86EMUL_CONTINUE)
		return X86EMUL_UNHANDLEABLE;
	return X86EMUL_CONTINUE;
}

/* RETF: pops the offset, then CS (op_bytes each), then loads CS */
int em_ret_far(struct x86_emulate_ctxt *ctxt)
{
	unsigned long eip = 0, cs = 0;
	int rc;

	rc = emulate_pop(ctxt, &eip, ctxt->op_bytes);
	if (rc != X86EMUL_CONTINUE)
		return rc;
	rc = emulate_pop(ctxt, &cs, ctxt->op_bytes);
	if (rc != X86EMUL_CONTINUE)
		return rc;
	rc = load_cs(ctxt, (u16)cs, true);
	if (rc != X86EMUL_CONTINUE)
		return rc;
	if (assign_eip_far(ctxt, eip) != X86EMUL_CONTINUE)
		return X86EMUL_UNHANDLEABLE;
	return X86EMUL_CONTINUE;
}

int em_ret_far_imm(struct x86_emulate_ctxt *ctxt)
{
	int rc = em_ret_far(ctxt);

	if (rc != X86EMUL_CONTINUE)
		return rc;
	rsp_add(ctxt, (long)ctxt->src.val);
	return X86EMUL_CONTINUE;
}

/*
 * IRET in real mode: pops IP (then #GP(0) if it is above 0xffff), CS and
 * FLAGS, op_bytes each, through mem_read.  A 32-bit IRET takes the
 * architectural flags but keeps VM/VIF/VIP; a 16-bit one replaces the
 * low 16 bits.  Reserved bits are cleared, bit 1 set.  KVM's reserved
 * mask (EFLG_RESERVED_ZEROS_MASK in emulate.c) is a plain 32-bit constant
 * whose complement zero-extends into the 64-bit eflags, so either IRET
 * also clears RFLAGS[63:32] (kc3 eceac694673a: `cf` with RFLAGS
 * 0x696d6d203a746572 left no bit above 31 on 6.18.44, where a real-mode
 * delivery keeps them).  IRET in any other mode is not implemented by
 * KVM: emulation failure before any access.
 */
#define IRET_RESERVED	0xffc0802aU
#define EFLAGS_VIF	BIT(19)
#define EFLAGS_VIP	BIT(20)

int em_iret(struct x86_emulate_ctxt *ctxt)
{
	unsigned long eip = 0, cs = 0, fl = 0;
	unsigned long keep = X86_EFLAGS_VM | EFLAGS_VIF | EFLAGS_VIP;
	int rc;

	if (ctxt->mode != X86EMUL_MODE_REAL)
		return X86EMUL_UNHANDLEABLE;
	rc = emulate_pop(ctxt, &eip, ctxt->op_bytes);
	if (rc != X86EMUL_CONTINUE)
		return rc;
	if (eip & ~0xffffUL)
		return raise_err(ctxt, GP_VECTOR, 0);
	rc = emulate_pop(ctxt, &cs, ctxt->op_bytes);
	if (rc != X86EMUL_CONTINUE)
		return rc;
	rc = emulate_pop(ctxt, &fl, ctxt->op_bytes);
	if (rc != X86EMUL_CONTINUE)
		return rc;
	rc = load_cs(ctxt, (u16)cs, false);
	if (rc != X86EMUL_CONTINUE)
		return rc;
	ctxt->_eip = eip;
	if (ctxt->op_bytes == 4)
		ctxt->eflags = (fl & ~(keep | IRET_RESERVED)) | (ctxt->eflags & keep);
	else
		ctxt->eflags = (ctxt->eflags & ~0xffffUL) | fl;
	ctxt->eflags &= ~IRET_RESERVED;
	ctxt->eflags |= X86_EFLAGS_FIXED;
	return X86EMUL_CONTINUE;
}

/* In KVM's table without an emulation (icebp): emulation failure */
int em_not_implemented(struct x86_emulate_ctxt *ctxt)
{
	return X86EMUL_UNHANDLEABLE;
}
