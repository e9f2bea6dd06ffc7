// SPDX-License-Identifier: GPL-2.0-only
/*
 * The instruction layer (see decode.h and INSTRUCTIONS.md): instruction
 * bytes -> the decode KVM's emulate.c would produce.
 *
 * Steps, in the order KVM's decoder takes them:
 *  1. legacy/REX prefixes with KVM's rules (last segment override and
 *     last F2/F3 win, 66/67 toggle the mode defaults, a legacy prefix after
 *     REX cancels it, REX.W beats 66);
 *  2. opcode map and one row of the KVM emulation table below (grouped
 *     like KVM's opcode tables: one-byte, groups, two-byte, 0f 38);
 *  3. Capstone must accept the bytes (with LOCK removed: KVM decodes a
 *     misplaced LOCK and raises #UD later), otherwise emulation failure;
 *  4. operand sizes (Stack/NearBranch promotion in 64-bit mode, SSE 16,
 *     MMX 8), ModRM/SIB/displacement/immediates, the length;
 *  5. cross-check with Capstone's memory operand; known differences are
 *     fix-ups, anything else is INSN_DISAGREE;
 *  6. at fill time: effective addresses from the register cache, register
 *     operands fetched, the bit-offset address move, and the checks KVM
 *     makes before touching memory (LOCK, No64, SSE/MMX state).
 */
#include <stdlib.h>
#include <string.h>

#include "decode.h"


/* ---- the KVM emulation table ---- */

enum opkind {
	O_NONE,
	O_E,		/* ModRM r/m: ByteOp ? 1 : op_bytes */
	O_E8, O_E16, O_E32,
	O_EM64,		/* cmpxchg8b/16b: 8, or 16 with REX.W */
	O_EFAR,		/* far pointer: op_bytes + 2, memory only */
	O_G,		/* ModRM reg */
	O_ACC,		/* rAX */
	O_OPREG,	/* register in the opcode's low bits (+REX.B) */
	O_V, O_W,	/* XMM reg, XMM r/m (16) */
	O_P, O_Q,	/* MMX reg, MMX r/m (8) */
	O_I,		/* immediate, ByteOp ? 1 : min(op_bytes, 4), sign-extended */
	O_IB,		/* imm8 sign-extended */
	O_IUB,		/* imm8 zero-extended */
	O_IW,		/* imm16 zero-extended */
	O_IV,		/* immediate of op_bytes (mov r, imm64) */
	O_ONE, O_CL,	/* shift counts */
	O_SI, O_DI,	/* string operands: [seg:rSI], [ES:rDI] */
	O_MOFFS,	/* [seg:moffs] (ad_bytes immediate address) */
	O_XLAT,		/* [seg:rBX + AL] */
	O_SEGARG,	/* segment number from the row (OP_IMM) */
	O_SEGREG,	/* segment number from ModRM.reg (OP_IMM) */
	O_DX,		/* port number in DX (OP_REG, 2 bytes) */
	O_IFAR,		/* immediate far pointer: offset (op_bytes), selector (2) */
};

/* row flags */
#define R_BYTE		BIT(0)	/* ByteOp */
#define R_STACK		BIT(1)	/* 64-bit: op_bytes 4 -> 8 */
#define R_NEAR		BIT(2)	/* 64-bit: op_bytes -> 8 */
#define R_NO64		BIT(3)	/* #UD in 64-bit mode */
#define R_ONLY64	BIT(4)	/* no entry outside 64-bit mode */
#define R_MEMONLY	BIT(5)	/* no entry for mod == 3 */
#define R_SSE		BIT(6)
#define R_MMX		BIT(7)
#define R_BITOP		BIT(8)	/* register bit offset moves the address */
#define R_INCSP		BIT(9)	/* pop r/m: [rsp] is addressed after the pop */
#define R_NOTMOD	BIT(10)	/* KVM emulates it, this model does not */
#define R_PFX		BIT(11)	/* row selected by the SIMD prefix */
#define R_STK_ACCESS	BIT(12)	/* implicit stack access */
#define R_CC		BIT(13)	/* condition code = opcode & 15 (ctxt->imm) */
#define R_MODRM		BIT(14)	/* has ModRM without r/m operand kinds */
#define R_CS_LAX	BIT(15)	/* Capstone rejects some encodings KVM decodes */
#define R_UD_REG	BIT(16)	/* register form decodes, then #UD (far pointer) */
#define R_UD		BIT(17)	/* #UD, no operand access: KVM D(Undefined), or the host (ud2) */
#define R_NO16		BIT(18)	/* No16: a 66 prefix still gives 4-byte operands */
#define R_NOT16		BIT(19)	/* no entry in real mode and 16-bit protected mode */

enum { PFX_ANY, PFX_NONE, PFX_66, PFX_F3, PFX_F2 };

struct insn_row {
	u8 map;			/* 0: one-byte, 1: 0f, 2: 0f 38 */
	u8 op, n;		/* opcodes op .. op + n - 1 */
	s8 reg;			/* ModRM.reg for groups, -1 for any */
	u8 pfx;
	u8 dst, src, src2;
	u8 arg;			/* segment for O_SEGARG */
	u32 flags;
	u64 d;			/* emulate.h decode flags */
	emulate_handler execute;
	const char *name;
};

#define ROW(m, o, cnt, r, p, ds, s, s2, a, fl, dd, fn, nm)			\
	{ .map = m, .op = o, .n = cnt, .reg = r, .pfx = p, .dst = ds, .src = s,	\
	  .src2 = s2, .arg = a, .flags = fl, .d = dd, .execute = fn, .name = nm }
/* one-byte opcode */
#define I1(o, ds, s, s2, fl, dd, fn, nm)	ROW(0, o, 1, -1, PFX_ANY, ds, s, s2, 0, fl, dd, fn, nm)
/* one-byte group member */
#define G1(o, r, ds, s, s2, fl, dd, fn, nm)	ROW(0, o, 1, r, PFX_ANY, ds, s, s2, 0, fl, dd, fn, nm)
/* two-byte opcode (0f xx) */
#define I2(o, ds, s, s2, fl, dd, fn, nm)	ROW(1, o, 1, -1, PFX_ANY, ds, s, s2, 0, fl, dd, fn, nm)
#define G2(o, r, ds, s, s2, fl, dd, fn, nm)	ROW(1, o, 1, r, PFX_ANY, ds, s, s2, 0, fl, dd, fn, nm)
/* SIMD-prefix selected */
#define P2(m, o, p, ds, s, s2, fl, dd, fn, nm)	ROW(m, o, 1, -1, p, ds, s, s2, 0, (fl) | R_PFX, dd, fn, nm)
/* segment register push/pop */
#define SEG(m, o, seg, fl, fn, nm)	ROW(m, o, 1, -1, PFX_ANY, O_NONE, O_NONE, O_SEGARG, seg, \
					    (fl) | R_STACK | R_STK_ACCESS, Stack, fn, nm)
/* KVM emulates these; the model does not (emulation failure, INSN_NOT_MODELLED) */
#define NM(m, o, cnt, r, fl, nm)	ROW(m, o, cnt, r, PFX_ANY, O_NONE, O_NONE, O_NONE, 0, \
					    (fl) | R_NOTMOD, 0, NULL, nm)

/* the six ALU encodings of 00-3d */
#define ALU6(base, fn, memd, regd, nm)						\
	I1(base + 0, O_E, O_G, O_NONE, R_BYTE, memd, fn, nm " r/m8,r8"),	\
	I1(base + 1, O_E, O_G, O_NONE, 0, memd, fn, nm " r/m,r"),		\
	I1(base + 2, O_G, O_E, O_NONE, R_BYTE, regd, fn, nm " r8,r/m8"),	\
	I1(base + 3, O_G, O_E, O_NONE, 0, regd, fn, nm " r,r/m"),		\
	I1(base + 4, O_ACC, O_I, O_NONE, R_BYTE, regd, fn, nm " al,imm8"),	\
	I1(base + 5, O_ACC, O_I, O_NONE, 0, regd, fn, nm " eax,imm")

/* group 1 (80/81/82/83): one row per ModRM.reg */
#define GRP1(o, s, fl, nm)							\
	G1(o, 0, O_E, s, O_NONE, fl, Lock, em_add, "add " nm),			\
	G1(o, 1, O_E, s, O_NONE, fl, Lock, em_or, "or " nm),			\
	G1(o, 2, O_E, s, O_NONE, fl, Lock, em_adc, "adc " nm),			\
	G1(o, 3, O_E, s, O_NONE, fl, Lock, em_sbb, "sbb " nm),			\
	G1(o, 4, O_E, s, O_NONE, fl, Lock, em_and, "and " nm),			\
	G1(o, 5, O_E, s, O_NONE, fl, Lock, em_sub, "sub " nm),			\
	G1(o, 6, O_E, s, O_NONE, fl, Lock, em_xor, "xor " nm),			\
	G1(o, 7, O_E, s, O_NONE, fl, NoWrite, em_cmp, "cmp " nm)

/* group 2 (shifts/rotates): count in src2, always read-modify-write */
#define GRP2(o, s2, fl, nm)							\
	G1(o, 0, O_E, O_NONE, s2, fl, 0, em_rol, "rol " nm),			\
	G1(o, 1, O_E, O_NONE, s2, fl, 0, em_ror, "ror " nm),			\
	G1(o, 2, O_E, O_NONE, s2, fl, 0, em_rcl, "rcl " nm),			\
	G1(o, 3, O_E, O_NONE, s2, fl, 0, em_rcr, "rcr " nm),			\
	G1(o, 4, O_E, O_NONE, s2, fl, 0, em_shl, "shl " nm),			\
	G1(o, 5, O_E, O_NONE, s2, fl, 0, em_shr, "shr " nm),			\
	G1(o, 6, O_E, O_NONE, s2, fl, 0, em_shl, "sal " nm),			\
	G1(o, 7, O_E, O_NONE, s2, fl, 0, em_sar, "sar " nm)

/* group 3 (f6/f7) */
#define GRP3(o, fl, nm)								\
	G1(o, 0, O_E, O_I, O_NONE, fl, NoWrite, em_test, "test " nm ",imm"),	\
	G1(o, 1, O_E, O_I, O_NONE, fl, NoWrite, em_test, "test " nm ",imm"),	\
	G1(o, 2, O_E, O_NONE, O_NONE, fl, Lock, em_not, "not " nm),		\
	G1(o, 3, O_E, O_NONE, O_NONE, fl, Lock, em_neg, "neg " nm),		\
	G1(o, 4, O_NONE, O_NONE, O_E, fl, 0, em_mul_ex, "mul " nm),		\
	G1(o, 5, O_NONE, O_NONE, O_E, fl, 0, em_imul_ex, "imul " nm),		\
	G1(o, 6, O_NONE, O_NONE, O_E, fl, 0, em_div_ex, "div " nm),		\
	G1(o, 7, O_NONE, O_NONE, O_E, fl, 0, em_idiv_ex, "idiv " nm)

/* bt/bts/btr/btc with a register or an imm8 bit offset */
#define BT(fn, d, nm, o, r)							\
	I2(o, O_E, O_G, O_NONE, R_BITOP, d, fn, nm " r/m,r"),			\
	G2(0xba, r, O_E, O_IUB, O_NONE, R_BITOP, d, fn, nm " r/m,imm8")

static const struct insn_row kvm_table[] = {
	/* ---- one-byte opcodes, 00-3f ---- */
	ALU6(0x00, em_add, Lock, 0, "add"),
	SEG(0, 0x06, VCPU_SREG_ES, R_NO64, em_push_sreg, "push es"),
	SEG(0, 0x07, VCPU_SREG_ES, R_NO64, em_pop_sreg, "pop es"),
	ALU6(0x08, em_or, Lock, 0, "or"),
	SEG(0, 0x0e, VCPU_SREG_CS, R_NO64, em_push_sreg, "push cs"),
	ALU6(0x10, em_adc, Lock, 0, "adc"),
	SEG(0, 0x16, VCPU_SREG_SS, R_NO64, em_push_sreg, "push ss"),
	SEG(0, 0x17, VCPU_SREG_SS, R_NO64, em_pop_sreg, "pop ss"),
	ALU6(0x18, em_sbb, Lock, 0, "sbb"),
	SEG(0, 0x1e, VCPU_SREG_DS, R_NO64, em_push_sreg, "push ds"),
	SEG(0, 0x1f, VCPU_SREG_DS, R_NO64, em_pop_sreg, "pop ds"),
	ALU6(0x20, em_and, Lock, 0, "and"),
	ALU6(0x28, em_sub, Lock, 0, "sub"),
	NM(0, 0x2f, 1, -1, R_NO64, "das"),
	ALU6(0x30, em_xor, Lock, 0, "xor"),
	ALU6(0x38, em_cmp, NoWrite, NoWrite, "cmp"),
	/* ---- 40-7f ---- */
	ROW(0, 0x40, 8, -1, PFX_ANY, O_OPREG, O_NONE, O_NONE, 0, 0, 0, em_inc, "inc r"),
	ROW(0, 0x48, 8, -1, PFX_ANY, O_OPREG, O_NONE, O_NONE, 0, 0, 0, em_dec, "dec r"),
	ROW(0, 0x50, 8, -1, PFX_ANY, O_NONE, O_OPREG, O_NONE, 0, R_STACK | R_STK_ACCESS,
	    Stack, em_push, "push r"),
	ROW(0, 0x58, 8, -1, PFX_ANY, O_OPREG, O_NONE, O_NONE, 0, R_STACK | R_STK_ACCESS,
	    Stack, em_pop, "pop r"),
	I1(0x60, O_NONE, O_NONE, O_NONE, R_NO64 | R_STK_ACCESS, 0, em_pusha, "pusha"),
	I1(0x61, O_NONE, O_NONE, O_NONE, R_NO64 | R_STK_ACCESS, 0, em_popa, "popa"),
	I1(0x63, O_G, O_E32, O_NONE, R_ONLY64, Mov, em_movsxd, "movsxd r,r/m32"),
	I1(0x68, O_NONE, O_I, O_NONE, R_STACK | R_STK_ACCESS, Mov | Stack, em_push, "push imm"),
	I1(0x69, O_G, O_E, O_I, 0, 0, em_imul_3op, "imul r,r/m,imm"),
	I1(0x6a, O_NONE, O_IB, O_NONE, R_STACK | R_STK_ACCESS, Mov | Stack, em_push, "push imm8"),
	I1(0x6b, O_G, O_E, O_IB, 0, 0, em_imul_3op, "imul r,r/m,imm8"),
	I1(0x6c, O_DI, O_DX, O_NONE, R_BYTE, Mov | String | Unaligned, em_in, "insb"),
	I1(0x6d, O_DI, O_DX, O_NONE, 0, Mov | String | Unaligned, em_in, "ins"),
	I1(0x6e, O_DX, O_SI, O_NONE, R_BYTE, String, em_out, "outsb"),
	I1(0x6f, O_DX, O_SI, O_NONE, 0, String, em_out, "outs"),
	ROW(0, 0x70, 16, -1, PFX_ANY, O_NONE, O_IB, O_NONE, 0, R_NEAR | R_CC, 0, em_jcc, "jcc rel8"),
	/* ---- 80-bf ---- */
	GRP1(0x80, O_I, R_BYTE, "r/m8,imm8"),
	GRP1(0x81, O_I, 0, "r/m,imm"),
	GRP1(0x82, O_I, R_BYTE | R_NO64, "r/m8,imm8 (82)"),
	GRP1(0x83, O_IB, 0, "r/m,imm8"),
	I1(0x84, O_E, O_G, O_NONE, R_BYTE, NoWrite, em_test, "test r/m8,r8"),
	I1(0x85, O_E, O_G, O_NONE, 0, NoWrite, em_test, "test r/m,r"),
	I1(0x86, O_E, O_G, O_NONE, R_BYTE, Lock | ImplicitLock, em_xchg, "xchg r/m8,r8"),
	I1(0x87, O_E, O_G, O_NONE, 0, Lock | ImplicitLock, em_xchg, "xchg r/m,r"),
	I1(0x88, O_E, O_G, O_NONE, R_BYTE, Mov, em_mov, "mov r/m8,r8"),
	I1(0x89, O_E, O_G, O_NONE, 0, Mov, em_mov, "mov r/m,r"),
	I1(0x8a, O_G, O_E, O_NONE, R_BYTE, Mov, em_mov, "mov r8,r/m8"),
	I1(0x8b, O_G, O_E, O_NONE, 0, Mov, em_mov, "mov r,r/m"),
	I1(0x8c, O_E, O_NONE, O_SEGREG, R_CS_LAX, Mov, em_mov_rm_sreg, "mov r/m,sreg"),
	I1(0x8d, O_G, O_E, O_NONE, R_MEMONLY, NoAccess, em_lea, "lea"),
	I1(0x8e, O_NONE, O_E16, O_SEGREG, R_CS_LAX, 0, em_mov_sreg_rm, "mov sreg,r/m16"),
	G1(0x8f, 0, O_E, O_NONE, O_NONE, R_STACK | R_INCSP | R_STK_ACCESS,
	   Mov | Stack | TwoMemOp, em_pop, "pop r/m"),
	NM(0, 0x90, 10, -1, 0, "xchg eax,r/nop/cbw/cwd"),
	I1(0x9a, O_NONE, O_IFAR, O_NONE, R_NO64 | R_STK_ACCESS, 0, em_call_far, "call far ptr"),
	NM(0, 0x9b, 1, -1, 0, "wait"),
	I1(0x9c, O_NONE, O_NONE, O_NONE, R_STACK | R_STK_ACCESS, Stack, em_pushf, "pushf"),
	I1(0x9d, O_NONE, O_NONE, O_NONE, R_STACK | R_STK_ACCESS, Stack, em_popf, "popf"),
	NM(0, 0x9e, 2, -1, 0, "sahf/lahf"),
	I1(0xa0, O_ACC, O_MOFFS, O_NONE, R_BYTE, Mov, em_mov, "mov al,moffs"),
	I1(0xa1, O_ACC, O_MOFFS, O_NONE, 0, Mov, em_mov, "mov eax,moffs"),
	I1(0xa2, O_MOFFS, O_ACC, O_NONE, R_BYTE, Mov, em_mov, "mov moffs,al"),
	I1(0xa3, O_MOFFS, O_ACC, O_NONE, 0, Mov, em_mov, "mov moffs,eax"),
	I1(0xa4, O_DI, O_SI, O_NONE, R_BYTE, Mov | String | TwoMemOp, em_mov, "movsb"),
	I1(0xa5, O_DI, O_SI, O_NONE, 0, Mov | String | TwoMemOp, em_mov, "movs"),
	I1(0xa6, O_DI, O_SI, O_NONE, R_BYTE, NoWrite | String | TwoMemOp, em_cmps, "cmpsb"),
	I1(0xa7, O_DI, O_SI, O_NONE, 0, NoWrite | String | TwoMemOp, em_cmps, "cmps"),
	I1(0xa8, O_ACC, O_I, O_NONE, R_BYTE, NoWrite, em_test, "test al,imm8"),
	I1(0xa9, O_ACC, O_I, O_NONE, 0, NoWrite, em_test, "test eax,imm"),
	I1(0xaa, O_DI, O_ACC, O_NONE, R_BYTE, Mov | String, em_mov, "stosb"),
	I1(0xab, O_DI, O_ACC, O_NONE, 0, Mov | String, em_mov, "stos"),
	I1(0xac, O_ACC, O_SI, O_NONE, R_BYTE, Mov | String, em_mov, "lodsb"),
	I1(0xad, O_ACC, O_SI, O_NONE, 0, Mov | String, em_mov, "lods"),
	/* scas compares rAX - [rDI]: the reversed compare em_cmps does */
	I1(0xae, O_DI, O_ACC, O_NONE, R_BYTE, NoWrite | String, em_cmps, "scasb"),
	I1(0xaf, O_DI, O_ACC, O_NONE, 0, NoWrite | String, em_cmps, "scas"),
	ROW(0, 0xb0, 8, -1, PFX_ANY, O_OPREG, O_I, O_NONE, 0, R_BYTE, Mov, em_mov, "mov r8,imm8"),
	ROW(0, 0xb8, 8, -1, PFX_ANY, O_OPREG, O_IV, O_NONE, 0, 0, Mov, em_mov, "mov r,imm"),
	/* ---- c0-ff ---- */
	GRP2(0xc0, O_IUB, R_BYTE, "r/m8,imm8"),
	GRP2(0xc1, O_IUB, 0, "r/m,imm8"),
	I1(0xc2, O_NONE, O_IW, O_NONE, R_NEAR | R_STK_ACCESS, 0, em_ret_near_imm, "ret imm16"),
	I1(0xc3, O_NONE, O_NONE, O_NONE, R_NEAR | R_STK_ACCESS, 0, em_ret, "ret"),
	ROW(0, 0xc4, 1, -1, PFX_ANY, O_G, O_EFAR, O_SEGARG, VCPU_SREG_ES, R_NO64 | R_MEMONLY,
	    0, em_lseg, "les"),
	ROW(0, 0xc5, 1, -1, PFX_ANY, O_G, O_EFAR, O_SEGARG, VCPU_SREG_DS, R_NO64 | R_MEMONLY,
	    0, em_lseg, "lds"),
	G1(0xc6, 0, O_E, O_I, O_NONE, R_BYTE, Mov, em_mov, "mov r/m8,imm8"),
	G1(0xc7, 0, O_E, O_I, O_NONE, 0, Mov, em_mov, "mov r/m,imm"),
	/* group 11 /1-/7 are D(Undefined) in KVM's table: #UD (xabort, xbegin too) */
	G1(0xc6, 1, O_NONE, O_NONE, O_NONE, R_UD, 0, NULL, "group 11 /1"),
	G1(0xc6, 2, O_NONE, O_NONE, O_NONE, R_UD, 0, NULL, "group 11 /2"),
	G1(0xc6, 3, O_NONE, O_NONE, O_NONE, R_UD, 0, NULL, "group 11 /3"),
	G1(0xc6, 4, O_NONE, O_NONE, O_NONE, R_UD, 0, NULL, "group 11 /4"),
	G1(0xc6, 5, O_NONE, O_NONE, O_NONE, R_UD, 0, NULL, "group 11 /5"),
	G1(0xc6, 6, O_NONE, O_NONE, O_NONE, R_UD, 0, NULL, "group 11 /6"),
	G1(0xc6, 7, O_NONE, O_NONE, O_NONE, R_UD, 0, NULL, "group 11 /7 (xabort)"),
	G1(0xc7, 1, O_NONE, O_NONE, O_NONE, R_UD, 0, NULL, "group 11 /1"),
	G1(0xc7, 2, O_NONE, O_NONE, O_NONE, R_UD, 0, NULL, "group 11 /2"),
	G1(0xc7, 3, O_NONE, O_NONE, O_NONE, R_UD, 0, NULL, "group 11 /3"),
	G1(0xc7, 4, O_NONE, O_NONE, O_NONE, R_UD, 0, NULL, "group 11 /4"),
	G1(0xc7, 5, O_NONE, O_NONE, O_NONE, R_UD, 0, NULL, "group 11 /5"),
	G1(0xc7, 6, O_NONE, O_NONE, O_NONE, R_UD, 0, NULL, "group 11 /6"),
	G1(0xc7, 7, O_NONE, O_NONE, O_NONE, R_UD, 0, NULL, "group 11 /7 (xbegin)"),
	I1(0xc8, O_NONE, O_IW, O_IUB, R_STACK | R_STK_ACCESS, Stack, em_enter, "enter"),
	I1(0xc9, O_NONE, O_NONE, O_NONE, R_STACK | R_STK_ACCESS, Stack, em_leave, "leave"),
	I1(0xca, O_NONE, O_IW, O_NONE, R_STK_ACCESS, 0, em_ret_far_imm, "retf imm16"),
	I1(0xcb, O_NONE, O_NONE, O_NONE, R_STK_ACCESS, 0, em_ret_far, "retf"),
	NM(0, 0xcc, 2, -1, 0, "int3/int"),
	NM(0, 0xce, 1, -1, R_NO64, "into"),
	I1(0xcf, O_NONE, O_NONE, O_NONE, R_STK_ACCESS, 0, em_iret, "iret"),
	GRP2(0xd0, O_ONE, R_BYTE, "r/m8,1"),
	GRP2(0xd1, O_ONE, 0, "r/m,1"),
	GRP2(0xd2, O_CL, R_BYTE, "r/m8,cl"),
	GRP2(0xd3, O_CL, 0, "r/m,cl"),
	NM(0, 0xd4, 3, -1, R_NO64, "aam/aad/salc"),
	I1(0xd7, O_ACC, O_XLAT, O_NONE, R_BYTE, Mov, em_mov, "xlat"),
	NM(0, 0xd9, 1, 7, R_MODRM | R_MEMONLY, "fnstcw"),
	NM(0, 0xdb, 1, 4, R_MODRM, "fninit"),
	NM(0, 0xdd, 1, 7, R_MODRM | R_MEMONLY, "fnstsw"),
	NM(0, 0xe0, 4, -1, 0, "loop/jcxz"),
	I1(0xe4, O_ACC, O_IUB, O_NONE, R_BYTE, 0, em_in, "in al,imm8"),
	I1(0xe5, O_ACC, O_IUB, O_NONE, 0, 0, em_in, "in eax,imm8"),
	I1(0xe6, O_IUB, O_ACC, O_NONE, R_BYTE, 0, em_out, "out imm8,al"),
	I1(0xe7, O_IUB, O_ACC, O_NONE, 0, 0, em_out, "out imm8,eax"),
	I1(0xe8, O_NONE, O_I, O_NONE, R_NEAR | R_STK_ACCESS, 0, em_call, "call rel"),
	I1(0xe9, O_NONE, O_I, O_NONE, R_NEAR, 0, em_jmp_rel, "jmp rel"),
	I1(0xea, O_NONE, O_IFAR, O_NONE, R_NO64, 0, em_jmp_far, "jmp far ptr"),
	I1(0xeb, O_NONE, O_IB, O_NONE, R_NEAR, 0, em_jmp_rel, "jmp rel8"),
	I1(0xec, O_ACC, O_DX, O_NONE, R_BYTE, 0, em_in, "in al,dx"),
	I1(0xed, O_ACC, O_DX, O_NONE, 0, 0, em_in, "in eax,dx"),
	I1(0xee, O_DX, O_ACC, O_NONE, R_BYTE, 0, em_out, "out dx,al"),
	I1(0xef, O_DX, O_ACC, O_NONE, 0, 0, em_out, "out dx,eax"),
	/* KVM decodes icebp (so LOCK is #UD) but cannot emulate it */
	I1(0xf1, O_NONE, O_NONE, O_NONE, 0, 0, em_not_implemented, "icebp"),
	NM(0, 0xf4, 2, -1, 0, "hlt/cmc"),
	GRP3(0xf6, R_BYTE, "r/m8"),
	GRP3(0xf7, 0, "r/m"),
	NM(0, 0xf8, 6, -1, 0, "clc/stc/cli/sti/cld/std"),
	G1(0xfe, 0, O_E, O_NONE, O_NONE, R_BYTE, Lock, em_inc, "inc r/m8"),
	G1(0xfe, 1, O_E, O_NONE, O_NONE, R_BYTE, Lock, em_dec, "dec r/m8"),
	G1(0xff, 0, O_E, O_NONE, O_NONE, 0, Lock, em_inc, "inc r/m"),
	G1(0xff, 1, O_E, O_NONE, O_NONE, 0, Lock, em_dec, "dec r/m"),
	G1(0xff, 2, O_NONE, O_E, O_NONE, R_NEAR | R_STK_ACCESS, 0, em_call_near_abs,
	   "call r/m"),
	G1(0xff, 3, O_NONE, O_EFAR, O_NONE, R_STK_ACCESS | R_UD_REG | R_CS_LAX, 0, em_call_far,
	   "call far m"),
	G1(0xff, 4, O_NONE, O_E, O_NONE, R_NEAR, 0, em_jmp_abs, "jmp r/m"),
	G1(0xff, 5, O_NONE, O_EFAR, O_NONE, R_UD_REG | R_CS_LAX, 0, em_jmp_far, "jmp far m"),
	G1(0xff, 6, O_NONE, O_E, O_NONE, R_STACK | R_STK_ACCESS, Stack | TwoMemOp, em_push,
	   "push r/m"),

	/* ---- two-byte opcodes (0f xx) ---- */
	NM(1, 0x00, 2, -1, R_MODRM, "group 6/7 (descriptor tables: std path)"),
	NM(1, 0x05, 5, -1, 0, "syscall/clts/sysret/invd/wbinvd"),
	/*
	 * N in KVM's table, yet #UD on 6.18.44/kvm_pvm in 32- and 64-bit code
	 * (ud0 0f ff, ud1 0f b9 fail); real16 and prot16 code goes through
	 * KVM's emulator, which has no entry: emulation failure there
	 */
	I2(0x0b, O_NONE, O_NONE, O_NONE, R_UD | R_NOT16, 0, NULL, "ud2"),
	P2(1, 0x10, PFX_NONE, O_V, O_W, O_NONE, R_SSE, Mov | Unaligned, em_mov, "movups xmm,m"),
	P2(1, 0x10, PFX_66, O_V, O_W, O_NONE, R_SSE, Mov | Unaligned, em_mov, "movupd xmm,m"),
	P2(1, 0x11, PFX_NONE, O_W, O_V, O_NONE, R_SSE, Mov | Unaligned, em_mov, "movups m,xmm"),
	P2(1, 0x11, PFX_66, O_W, O_V, O_NONE, R_SSE, Mov | Unaligned, em_mov, "movupd m,xmm"),
	G2(0x18, 0, O_NONE, O_E, O_NONE, 0, NoAccess, NULL, "prefetchnta"),
	G2(0x18, 1, O_NONE, O_E, O_NONE, 0, NoAccess, NULL, "prefetcht0"),
	G2(0x18, 2, O_NONE, O_E, O_NONE, 0, NoAccess, NULL, "prefetcht1"),
	G2(0x18, 3, O_NONE, O_E, O_NONE, 0, NoAccess, NULL, "prefetcht2"),
	/*
	 * NoAccess hint/reserved NOPs as 6.18.44 runs them: 0f 0d and 0f 18 in
	 * any form, 0f 19/1c/1d with a memory operand only (register forms fail
	 * emulation; so do 0f 1a/1b and 0f 1e except endbr, not modelled)
	 */
	I2(0x18, O_NONE, O_E, O_NONE, R_CS_LAX, NoAccess, NULL, "reserved nop r/m"),
	I2(0x19, O_NONE, O_E, O_NONE, R_CS_LAX | R_MEMONLY, NoAccess, NULL, "reserved nop m"),
	I2(0x1c, O_NONE, O_E, O_NONE, R_CS_LAX | R_MEMONLY, NoAccess, NULL, "reserved nop m"),
	I2(0x1d, O_NONE, O_E, O_NONE, R_CS_LAX | R_MEMONLY, NoAccess, NULL, "reserved nop m"),
	/*
	 * 0f 1e on memory: decoded but not emulated, so a LOCK is #UD first
	 * (6.18.44, every mode: f0 0f 1e 00 #UD, 0f 1e 00 emulation failure)
	 */
	I2(0x1e, O_NONE, O_E, O_NONE, R_CS_LAX | R_MEMONLY, NoAccess, em_not_implemented,
	   "reserved nop m (0f 1e)"),
	I2(0x1f, O_NONE, O_E, O_NONE, 0, NoAccess, NULL, "nop r/m"),
	I2(0x0d, O_NONE, O_E, O_NONE, R_CS_LAX, NoAccess, NULL, "prefetch/prefetchw"),
	/*
	 * group 15 /0 and /1 with memory (any SIMD prefix: KVM's group15 has no
	 * prefix table for them): fxsave/fxrstor, the image through the std
	 * path, never MMIO; the operand is only an address (NoAccess)
	 */
	G2(0xae, 0, O_NONE, O_E, O_NONE, R_MEMONLY, NoAccess | NoWrite | Aligned16, em_fxsave,
	   "fxsave"),
	G2(0xae, 1, O_NONE, O_E, O_NONE, R_MEMONLY, NoAccess | NoWrite | Aligned16, em_fxrstor,
	   "fxrstor"),
	/* clflush/clflushopt: KVM reads the byte (SrcMem | ByteOp): an MMIO read exit */
	ROW(1, 0xae, 1, 7, PFX_NONE, O_NONE, O_E8, O_NONE, 0, R_MEMONLY | R_PFX, 0, NULL,
	    "clflush"),
	ROW(1, 0xae, 1, 7, PFX_66, O_NONE, O_E8, O_NONE, 0, R_MEMONLY | R_PFX, 0, NULL,
	    "clflushopt"),
	NM(1, 0x20, 4, -1, R_MODRM, "mov cr/dr"),
	P2(1, 0x28, PFX_NONE, O_V, O_W, O_NONE, R_SSE, Mov | Aligned, em_mov, "movaps xmm,m"),
	P2(1, 0x28, PFX_66, O_V, O_W, O_NONE, R_SSE, Mov | Aligned, em_mov, "movapd xmm,m"),
	P2(1, 0x29, PFX_NONE, O_W, O_V, O_NONE, R_SSE, Mov | Aligned, em_mov, "movaps m,xmm"),
	P2(1, 0x29, PFX_66, O_W, O_V, O_NONE, R_SSE, Mov | Aligned, em_mov, "movapd m,xmm"),
	P2(1, 0x2b, PFX_NONE, O_W, O_V, O_NONE, R_SSE | R_MEMONLY, Mov, em_mov, "movntps m,xmm"),
	P2(1, 0x2b, PFX_66, O_W, O_V, O_NONE, R_SSE | R_MEMONLY, Mov, em_mov, "movntpd m,xmm"),
	NM(1, 0x30, 6, -1, 0, "wrmsr/rdtsc/rdmsr/rdpmc/sysenter/sysexit"),
	ROW(1, 0x40, 16, -1, PFX_ANY, O_G, O_E, O_NONE, 0, R_CC, 0, em_cmov, "cmovcc"),
	P2(1, 0x6f, PFX_NONE, O_P, O_Q, O_NONE, R_MMX, Mov, em_mov, "movq mm,mm/m64"),
	P2(1, 0x6f, PFX_66, O_V, O_W, O_NONE, R_SSE, Mov | Aligned, em_mov, "movdqa xmm,m"),
	P2(1, 0x6f, PFX_F3, O_V, O_W, O_NONE, R_SSE, Mov | Unaligned, em_mov, "movdqu xmm,m"),
	P2(1, 0x7f, PFX_NONE, O_Q, O_P, O_NONE, R_MMX, Mov, em_mov, "movq mm/m64,mm"),
	P2(1, 0x7f, PFX_66, O_W, O_V, O_NONE, R_SSE, Mov | Aligned, em_mov, "movdqa m,xmm"),
	P2(1, 0x7f, PFX_F3, O_W, O_V, O_NONE, R_SSE, Mov | Unaligned, em_mov, "movdqu m,xmm"),
	ROW(1, 0x80, 16, -1, PFX_ANY, O_NONE, O_I, O_NONE, 0, R_NEAR | R_CC, 0, em_jcc, "jcc rel"),
	ROW(1, 0x90, 16, -1, PFX_ANY, O_E, O_NONE, O_NONE, 0, R_BYTE | R_CC, Mov, em_setcc,
	    "setcc"),
	SEG(1, 0xa0, VCPU_SREG_FS, 0, em_push_sreg, "push fs"),
	SEG(1, 0xa1, VCPU_SREG_FS, 0, em_pop_sreg, "pop fs"),
	NM(1, 0xa2, 1, -1, 0, "cpuid"),
	I2(0xa4, O_E, O_G, O_IUB, 0, 0, em_shld, "shld r/m,r,imm8"),
	I2(0xa5, O_E, O_G, O_CL, 0, 0, em_shld, "shld r/m,r,cl"),
	SEG(1, 0xa8, VCPU_SREG_GS, 0, em_push_sreg, "push gs"),
	SEG(1, 0xa9, VCPU_SREG_GS, 0, em_pop_sreg, "pop gs"),
	I2(0xac, O_E, O_G, O_IUB, 0, 0, em_shrd, "shrd r/m,r,imm8"),
	I2(0xad, O_E, O_G, O_CL, 0, 0, em_shrd, "shrd r/m,r,cl"),
	BT(em_bt, NoWrite, "bt", 0xa3, 4),
	BT(em_bts, Lock, "bts", 0xab, 5),
	BT(em_btr, Lock, "btr", 0xb3, 6),
	BT(em_btc, Lock, "btc", 0xbb, 7),
	I2(0xaf, O_G, O_E, O_NONE, 0, 0, em_imul, "imul r,r/m"),
	I2(0xb0, O_E, O_G, O_NONE, R_BYTE, Lock | SrcWrite, em_cmpxchg, "cmpxchg r/m8,r8"),
	I2(0xb1, O_E, O_G, O_NONE, 0, Lock | SrcWrite, em_cmpxchg, "cmpxchg r/m,r"),
	ROW(1, 0xb2, 1, -1, PFX_ANY, O_G, O_EFAR, O_SEGARG, VCPU_SREG_SS, R_MEMONLY, 0, em_lseg,
	    "lss"),
	ROW(1, 0xb4, 1, -1, PFX_ANY, O_G, O_EFAR, O_SEGARG, VCPU_SREG_FS, R_MEMONLY, 0, em_lseg,
	    "lfs"),
	ROW(1, 0xb5, 1, -1, PFX_ANY, O_G, O_EFAR, O_SEGARG, VCPU_SREG_GS, R_MEMONLY, 0, em_lseg,
	    "lgs"),
	I2(0xb6, O_G, O_E8, O_NONE, 0, Mov, em_movzx, "movzx r,r/m8"),
	I2(0xb7, O_G, O_E16, O_NONE, 0, Mov, em_movzx, "movzx r,r/m16"),
	NM(1, 0xbc, 2, -1, R_MODRM, "bsf/bsr"),
	I2(0xbe, O_G, O_E8, O_NONE, 0, Mov, em_movsx, "movsx r,r/m8"),
	I2(0xbf, O_G, O_E16, O_NONE, 0, Mov, em_movsx, "movsx r,r/m16"),
	I2(0xc0, O_E, O_G, O_NONE, R_BYTE, Lock | SrcWrite, em_xadd, "xadd r/m8,r8"),
	I2(0xc1, O_E, O_G, O_NONE, 0, Lock | SrcWrite, em_xadd, "xadd r/m,r"),
	I2(0xc3, O_E, O_G, O_NONE, R_MEMONLY | R_NO16, Mov, em_mov, "movnti m,r"),
	G2(0xc7, 1, O_EM64, O_NONE, O_NONE, R_MEMONLY, Lock, em_cmpxchg8b,
	   "cmpxchg8b/16b"),
	NM(1, 0xc8, 8, -1, 0, "bswap"),
	P2(1, 0xe7, PFX_66, O_W, O_V, O_NONE, R_SSE | R_MEMONLY, Mov, em_mov, "movntdq m,xmm"),

	/* ---- 0f 38 ---- */
	P2(2, 0xf0, PFX_NONE, O_G, O_E, O_NONE, R_MEMONLY, Mov, em_movbe, "movbe r,m"),
	P2(2, 0xf1, PFX_NONE, O_E, O_G, O_NONE, R_MEMONLY, Mov, em_movbe, "movbe m,r"),
	P2(2, 0xf0, PFX_66, O_G, O_E, O_NONE, R_MEMONLY, Mov, em_movbe, "movbe r,m"),
	P2(2, 0xf1, PFX_66, O_E, O_G, O_NONE, R_MEMONLY, Mov, em_movbe, "movbe m,r"),
};

/* ---- decoder lifetime ---- */

/* Index the table by (map, opcode) once, keeping table order. */
static void insn_index_rows(struct insn_decoder *dec)
{
	unsigned int i, op;

	for (i = 0; i < ARRAY_SIZE(kvm_table); i++) {
		const struct insn_row *r = &kvm_table[i];

		for (op = r->op; op < (unsigned int)r->op + r->n && op < 256; op++) {
			u8 *nr = &dec->nr_cand[r->map][op];

			if (*nr == INSN_CANDIDATES_ALL)
				continue;
			if (*nr == INSN_MAX_CANDIDATES) {
				*nr = INSN_CANDIDATES_ALL;
				continue;
			}
			dec->cand[r->map][op][(*nr)++] = (u16)i;
		}
	}
}

int insn_decoder_init(struct insn_decoder *dec)
{
	static const cs_mode modes[INSN_NR_CS_MODES] = { CS_MODE_16, CS_MODE_32, CS_MODE_64 };
	int i;

	memset(dec, 0, sizeof(*dec));
	insn_index_rows(dec);
	for (i = 0; i < INSN_NR_CS_MODES; i++) {
		if (cs_open(CS_ARCH_X86, modes[i], &dec->cs[i]) != CS_ERR_OK)
			goto fail;
		cs_option(dec->cs[i], CS_OPT_DETAIL, CS_OPT_ON);
		dec->insn[i] = cs_malloc(dec->cs[i]);
		if (!dec->insn[i])
			goto fail;
	}
	return 0;
fail:
	insn_decoder_fini(dec);
	return -1;
}

void insn_decoder_fini(struct insn_decoder *dec)
{
	int i;

	for (i = 0; i < INSN_NR_CS_MODES; i++) {
		if (dec->insn[i])
			cs_free(dec->insn[i], 1);
		if (dec->cs[i])
			cs_close(&dec->cs[i]);
		dec->insn[i] = NULL;
		dec->cs[i] = 0;
	}
}

/* ---- helpers ---- */

static bool is_mode64(enum x86emul_mode mode)
{
	return mode == X86EMUL_MODE_PROT64;
}

static bool is_kind_rm(u8 k)
{
	return k == O_E || k == O_E8 || k == O_E16 || k == O_E32 || k == O_EM64 ||
	       k == O_EFAR || k == O_W || k == O_Q;
}

static bool is_kind_modrm(u8 k)
{
	return is_kind_rm(k) || k == O_G || k == O_V || k == O_P || k == O_SEGREG;
}

static bool row_has_modrm(const struct insn_row *r)
{
	return (r->flags & R_MODRM) || r->reg >= 0 || is_kind_modrm(r->dst) ||
	       is_kind_modrm(r->src) || is_kind_modrm(r->src2);
}

static unsigned int imm_size(const struct insn_decoded *d, u8 k)
{
	bool byte = d->row->flags & R_BYTE;

	switch (k) {
	case O_I:
		return byte ? 1 : (d->op_bytes == 8 ? 4 : d->op_bytes);
	case O_IB:
	case O_IUB:
		return 1;
	case O_IW:
		return 2;
	case O_IV:
		return d->op_bytes;
	case O_MOFFS:
		return d->ad_bytes;
	case O_IFAR:
		return d->op_bytes + 2u;
	default:
		return 0;
	}
}

/* size of an r/m or implicit memory operand of kind @k */
static unsigned int kind_bytes(const struct insn_decoded *d, u8 k)
{
	bool byte = d->row->flags & R_BYTE;

	switch (k) {
	case O_E8:
		return 1;
	case O_E16:
		return 2;
	case O_E32:
		return 4;
	case O_EM64:
		return d->op_bytes == 8 ? 16 : 8;
	case O_EFAR:
	case O_IFAR:
		return d->op_bytes + 2;
	case O_DX:
		return 2;
	case O_W:
	case O_V:
		return 16;
	case O_Q:
	case O_P:
		return 8;
	default:
		return byte ? 1 : d->op_bytes;
	}
}

static u64 read_le(const u8 *p, unsigned int n)
{
	u64 v = 0;

	memcpy(&v, p, n);
	return v;
}

static s64 sext(u64 v, unsigned int bytes)
{
	unsigned int sh = 64 - bytes * 8;

	return bytes >= 8 ? (s64)v : (s64)(v << sh) >> sh;
}

/* Capstone register -> GPR number (or INSN_REG_RIP), -1 if none */
static int cs_gpr(unsigned int r)
{
	switch (r) {
	case X86_REG_RAX: case X86_REG_EAX: case X86_REG_AX: return 0;
	case X86_REG_RCX: case X86_REG_ECX: case X86_REG_CX: return 1;
	case X86_REG_RDX: case X86_REG_EDX: case X86_REG_DX: return 2;
	case X86_REG_RBX: case X86_REG_EBX: case X86_REG_BX: return 3;
	case X86_REG_RSP: case X86_REG_ESP: case X86_REG_SP: return 4;
	case X86_REG_RBP: case X86_REG_EBP: case X86_REG_BP: return 5;
	case X86_REG_RSI: case X86_REG_ESI: case X86_REG_SI: return 6;
	case X86_REG_RDI: case X86_REG_EDI: case X86_REG_DI: return 7;
	case X86_REG_R8: case X86_REG_R8D: case X86_REG_R8W: return 8;
	case X86_REG_R9: case X86_REG_R9D: case X86_REG_R9W: return 9;
	case X86_REG_R10: case X86_REG_R10D: case X86_REG_R10W: return 10;
	case X86_REG_R11: case X86_REG_R11D: case X86_REG_R11W: return 11;
	case X86_REG_R12: case X86_REG_R12D: case X86_REG_R12W: return 12;
	case X86_REG_R13: case X86_REG_R13D: case X86_REG_R13W: return 13;
	case X86_REG_R14: case X86_REG_R14D: case X86_REG_R14W: return 14;
	case X86_REG_R15: case X86_REG_R15D: case X86_REG_R15W: return 15;
	case X86_REG_RIP: case X86_REG_EIP: case X86_REG_IP: return INSN_REG_RIP;
	default: return -1;
	}
}

/* ---- step 1: prefixes ---- */

struct prefix_scan {
	unsigned int pos;	/* first opcode byte */
	unsigned int nr_lock;
	unsigned int lock_at[INSN_MAX_LEN];
};

static void scan_prefixes(enum x86emul_mode mode, const u8 *b, unsigned int n,
			  struct insn_decoded *d, struct prefix_scan *ps)
{
	unsigned int def_op = mode == X86EMUL_MODE_PROT32 || is_mode64(mode) ? 4 : 2;
	unsigned int def_ad = is_mode64(mode) ? 8 : def_op;
	unsigned int i;

	d->op_bytes = (u8)def_op;
	d->ad_bytes = (u8)def_ad;
	d->seg_override = -1;
	ps->nr_lock = 0;
	for (i = 0; i < n; i++) {
		switch (b[i]) {
		case 0x66:
			d->op_prefix = true;
			d->op_bytes = (u8)(def_op ^ 6);
			break;
		case 0x67:
			d->ad_bytes = (u8)(is_mode64(mode) ? def_ad ^ 12 : def_ad ^ 6);
			break;
		case 0x26: case 0x2e: case 0x36: case 0x3e:
			d->seg_override = (b[i] >> 3) & 3;
			break;
		case 0x64: case 0x65:
			d->seg_override = b[i] & 7;
			break;
		case 0xf0:
			d->lock_prefix = true;
			ps->lock_at[ps->nr_lock++] = i;
			break;
		case 0xf2: case 0xf3:
			d->rep_prefix = b[i];
			break;
		case 0x40 ... 0x4f:
			if (!is_mode64(mode))
				goto done;
			d->rex = b[i];
			continue;
		default:
			goto done;
		}
		d->rex = 0;	/* a legacy prefix after REX cancels it */
	}
done:
	ps->pos = i;
	if (d->rex & 8)
		d->op_bytes = 8;
}

/* ---- step 2: the table row ---- */

static const struct insn_row *find_row(const struct insn_decoder *dec,
				       const struct insn_decoded *d, unsigned int map,
				       u8 op, bool have_modrm, u8 modrm, enum x86emul_mode mode)
{
	bool mode64 = is_mode64(mode);
	bool mode16 = mode == X86EMUL_MODE_REAL || mode == X86EMUL_MODE_PROT16;
	u8 simd = d->op_prefix ? PFX_66 : d->rep_prefix == 0xf3 ? PFX_F3 :
		  d->rep_prefix == 0xf2 ? PFX_F2 : PFX_NONE;
	unsigned int i, nr = dec->nr_cand[map][op];
	bool all = nr == INSN_CANDIDATES_ALL;

	/* only the rows indexed for this opcode: the decode is on the hot path */
	for (i = 0; i < (all ? ARRAY_SIZE(kvm_table) : nr); i++) {
		const struct insn_row *r = &kvm_table[all ? i : dec->cand[map][op][i]];

		if (r->map != map || op < r->op || op >= r->op + r->n)
			continue;
		if (r->reg >= 0 && (!have_modrm || ((modrm >> 3) & 7) != r->reg))
			continue;
		if (r->flags & R_PFX) {
			/* both 66 and F2/F3 on a prefixed opcode: no entry */
			if (d->op_prefix && d->rep_prefix)
				return NULL;
			if (r->pfx != simd)
				continue;
		}
		if ((r->flags & R_MEMONLY) && have_modrm && (modrm >> 6) == 3)
			continue;
		if ((r->flags & R_ONLY64) && !mode64)
			continue;
		if ((r->flags & R_NOT16) && mode16)
			continue;
		return r;
	}
	return NULL;
}

/* ---- step 4: ModRM, SIB, displacement (KVM's decode_modrm rules) ---- */

static int parse_modrm(struct insn_decoded *d, const u8 *b, unsigned int n, unsigned int p,
		       bool mode64, unsigned int *end)
{
	u8 mod, rm;

	if (p >= n)
		return -1;
	d->modrm = b[p++];
	mod = d->modrm >> 6;
	rm = d->modrm & 7;
	d->base = -1;
	d->index = -1;
	d->scale = 1;
	d->disp = 0;
	if (mod == 3) {
		d->mem = false;
		*end = p;
		return 0;
	}
	d->mem = true;
	d->mem_seg = VCPU_SREG_DS;
	if (d->ad_bytes == 2) {
		static const s8 base16[8] = { 3, 3, 5, 5, 6, 7, 5, 3 };
		static const s8 index16[8] = { 6, 7, 6, 7, -1, -1, -1, -1 };

		d->base = base16[rm];
		d->index = index16[rm];
		if (rm == 6 && mod == 0) {
			d->base = -1;
			if (p + 2 > n)
				return -1;
			d->disp = (s64)read_le(b + p, 2);
			p += 2;
		}
		if (rm == 2 || rm == 3 || (rm == 6 && mod != 0))
			d->mem_seg = VCPU_SREG_SS;
	} else {
		if (rm == 4) {
			u8 sib;

			if (p >= n)
				return -1;
			sib = b[p++];
			d->index = (s8)(((sib >> 3) & 7) | ((d->rex & 2) << 2));
			if (d->index == 4)
				d->index = -1;
			d->scale = (u8)(1 << (sib >> 6));
			d->base = (s8)((sib & 7) | ((d->rex & 1) << 3));
			if ((d->base & 7) == 5 && mod == 0) {
				d->base = -1;
				if (p + 4 > n)
					return -1;
				d->disp = sext(read_le(b + p, 4), 4);
				p += 4;
			}
		} else if (rm == 5 && mod == 0) {
			d->base = mode64 ? INSN_REG_RIP : -1;
			if (p + 4 > n)
				return -1;
			d->disp = sext(read_le(b + p, 4), 4);
			p += 4;
		} else {
			d->base = (s8)(rm | ((d->rex & 1) << 3));
		}
		if (d->base == VCPU_REGS_RSP || d->base == VCPU_REGS_RBP)
			d->mem_seg = VCPU_SREG_SS;
	}
	if (mod == 1) {
		if (p + 1 > n)
			return -1;
		d->disp = sext(b[p], 1);
		p += 1;
	} else if (mod == 2) {
		unsigned int sz = d->ad_bytes == 2 ? 2 : 4;

		if (p + sz > n)
			return -1;
		d->disp = sext(read_le(b + p, sz), sz);
		p += sz;
	}
	if (d->seg_override >= 0)
		d->mem_seg = (u8)d->seg_override;
	*end = p;
	return 0;
}

static bool kind_is_mem(const struct insn_decoded *d, u8 k)
{
	if (is_kind_rm(k))
		return d->mem;
	return k == O_SI || k == O_DI || k == O_MOFFS || k == O_XLAT;
}

/* ---- step 3/5: Capstone ---- */

static enum insn_cs_mode cs_mode_of(enum x86emul_mode mode)
{
	if (is_mode64(mode))
		return INSN_CS_64;
	return mode == X86EMUL_MODE_PROT32 ? INSN_CS_32 : INSN_CS_16;
}

static void cs_summarise(const cs_insn *insn, struct insn_cs_facts *f)
{
	const cs_x86 *x = &insn->detail->x86;
	int i;

	*f = (struct insn_cs_facts){ .ok = true, .size = (u8)insn->size, .id = insn->id };
	for (i = 0; i < x->op_count; i++) {
		const cs_x86_op *op = &x->operands[i];

		if (op->type != X86_OP_MEM)
			continue;
		f->has_mem = true;
		f->mem_size = op->size;
		f->mem_base = op->mem.base;
		f->mem_index = op->mem.index;
		f->mem_scale = op->mem.scale;
		f->mem_disp = op->mem.disp;
		break;
	}
	if (x->op_count && x->operands[0].type == X86_OP_REG) {
		f->op0_reg = true;
		f->op0_size = x->operands[0].size;
	}
}

static u32 cs_cache_slot(enum insn_cs_mode m, const u8 *b, unsigned int n)
{
	u32 h = 2166136261u ^ (m * 16 + n);	/* FNV-1a */
	unsigned int i;

	for (i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return (h ^ (h >> 15)) & (INSN_CS_CACHE_SIZE - 1);
}

/* Capstone's facts for @b[0..n), from the cache or from Capstone. */
static const struct insn_cs_facts *cs_decode(struct insn_decoder *dec, enum insn_cs_mode m,
					     const u8 *b, unsigned int n)
{
	struct insn_cs_cache_entry *e = &dec->cs_cache[cs_cache_slot(m, b, n)];
	const u8 *code = b;
	size_t size = n;
	u64 addr = 0;

	dec->cs_calls++;
	if (n && e->n == n && e->mode == m && !memcmp(e->bytes, b, n)) {
		dec->cs_hits++;
		return &e->facts;
	}
	e->facts = (struct insn_cs_facts){ 0 };
	if (cs_disasm_iter(dec->cs[m], &code, &size, &addr, dec->insn[m]))
		cs_summarise(dec->insn[m], &e->facts);
	e->n = (u8)n;
	e->mode = (u8)m;
	memcpy(e->bytes, b, n);
	return &e->facts;
}

static void cs_crosscheck(struct insn_decoded *d, const struct insn_cs_facts *f)
{
	u64 amask = d->ad_bytes == 8 ? ~0ULL : BIT(d->ad_bytes * 8) - 1;

	if (f->has_mem)
		d->cs_mem_bytes = f->mem_size;
	if (d->row->flags & R_STK_ACCESS)
		d->fixups |= INSN_FIX_IMPLICIT_STACK;
	if (d->row->src == O_SI || d->row->dst == O_DI || d->row->src == O_XLAT)
		d->fixups |= INSN_FIX_IMPLICIT_STRING;
	if (d->cs_len != d->len)
		d->fixups |= INSN_FIX_LENGTH;

	if (!d->has_modrm || !d->mem || d->row->d & NoAccess)
		return;
	if (!f->has_mem) {
		d->status = INSN_DISAGREE;
		return;
	}
	if (cs_gpr(f->mem_base) != d->base || cs_gpr(f->mem_index) != d->index ||
	    (d->index >= 0 && f->mem_scale != d->scale) ||
	    ((u64)f->mem_disp & amask) != ((u64)d->disp & amask)) {
		d->status = INSN_DISAGREE;
		return;
	}
	if (d->mem_bytes != f->mem_size)
		d->fixups |= INSN_FIX_SIZE;
	if (f->op0_reg && d->row->dst == O_G && f->op0_size != kind_bytes(d, O_G))
		d->fixups |= INSN_FIX_PREFIX;
	if (d->row->flags & R_BITOP && d->row->src == O_G)
		d->fixups |= INSN_FIX_BIT_OFFSET;
}

/* ---- the register-independent decode ---- */

/*
 * An Undefined row (group 11 /1-/7) or a No64 row in 64-bit mode:
 * x86_decode_insn() fetches the ModRM byte, SIB, displacement
 * (decode_modrm()) and immediates (decode_operand()) before
 * x86_emulate_insn() raises the #UD, and __do_insn_fetch_bytes() refuses
 * any byte past the 15th with #GP(0).  So an instruction whose bytes by
 * KVM's decode need more than 15 is #GP(0), not #UD (6.18.44: 11 REX
 * prefixes, then c6 9e disp32: #GP(0), kc3 f035f88b388c; 4a x 12, 2e 9a
 * ptr16:32: #GP(0)).  Otherwise d->len is the length KVM fetches, when the
 * bytes hold it, so that the CS-limit check of the fetch (x86.c) comes
 * first too.  The values of displacement and immediates do not matter,
 * only whether they are there: the bytes are parsed padded with zeros,
 * once ModRM and SIB, which decide the length, are within the @n given.
 * Sizes are the table's (the No64 rows that matter here, 9a and ea, take
 * op_bytes + 2 as KVM's OpImmFAddr does).
 */
static void undefined_length(struct insn_decoded *d, const u8 *bytes, unsigned int n,
			     unsigned int p, bool mode64)
{
	const struct insn_row *row = d->row;
	u8 tmp[INSN_MAX_LEN + 8] = { 0 };
	unsigned int end = p;

	if (row_has_modrm(row)) {
		u8 modrm;

		if (p >= n)
			return;
		modrm = bytes[p];
		if (d->ad_bytes != 2 && (modrm >> 6) != 3 && (modrm & 7) == 4 && p + 1 >= n)
			return;		/* SIB unknown */
		memcpy(tmp, bytes, n);
		if (parse_modrm(d, tmp, sizeof(tmp), p, mode64, &end))
			return;
	}
	end += imm_size(d, row->dst) + imm_size(d, row->src) + imm_size(d, row->src2);
	if (end > INSN_MAX_LEN)
		d->exc_vector = GP_VECTOR;
	else if (end <= n)
		d->len = (u8)end;
}

/*
 * Opcodes whose entry in KVM's tables is a group or a mode-dual entry
 * with ModRM: x86_decode_insn() fetches the ModRM byte before it finds
 * that the /reg or the mode has no row (63 outside 64-bit mode: arpl is
 * no row of KVM's).  Real mode, CS limit 0: `63 0f` is #GP(0) on 6.18.44.
 */
static bool kvm_modrm_first(unsigned int map, u8 op)
{
	if (map == 1)
		return op == 0x00 || op == 0x01 || op == 0x18 || (op >= 0x71 && op <= 0x73) ||
		       op == 0xae || op == 0xba || op == 0xc7;
	return map == 0 && (op == 0x63 || (op >= 0x80 && op <= 0x83) || op == 0x8f ||
			    op == 0xc0 || op == 0xc1 || op == 0xc6 || op == 0xc7 ||
			    (op >= 0xd0 && op <= 0xd3) || op == 0xf6 || op == 0xf7 ||
			    op == 0xfe || op == 0xff ||
			    /* the x87 escapes KVM has (fnstcw, fnstsw...) */
			    op == 0xd9 || op == 0xdb || op == 0xdd);
}

int insn_decode(struct insn_decoder *dec, enum x86emul_mode mode, const u8 *bytes,
		unsigned int n, struct insn_decoded *d)
{
	bool mode64 = is_mode64(mode);
	enum insn_cs_mode csm = cs_mode_of(mode);
	const struct insn_cs_facts *cs;
	const struct insn_row *row;
	struct prefix_scan ps;
	unsigned int p, map = 0, i, end;
	bool have_modrm;
	u8 op, modrm = 0;

	memset(d, 0, sizeof(*d));
	if (n > INSN_MAX_LEN)
		n = INSN_MAX_LEN;
	d->status = INSN_UNDECODABLE;
	scan_prefixes(mode, bytes, n, d, &ps);
	p = ps.pos;
	if (p >= n)
		return d->status;
	op = bytes[p++];
	if (op == 0x0f) {
		if (p >= n)
			return d->status;
		map = 1;
		op = bytes[p++];
		if (op == 0x38 || op == 0x3a) {
			if (p >= n)
				return d->status;
			map = op == 0x38 ? 2 : 3;
			op = bytes[p++];
		}
	}
	d->opcode = op;
	have_modrm = p < n;
	if (have_modrm)
		modrm = bytes[p];

	/* VEX (c4/c5 in 64-bit mode or with mod == 3) is NotImpl in KVM */
	if (map == 0 && (op == 0xc4 || op == 0xc5) && (mode64 || (modrm >> 6) == 3)) {
		d->status = cs_decode(dec, csm, bytes, n)->ok ? INSN_NOT_EMULATED
							      : INSN_UNDECODABLE;
		d->fetched = (u8)(p + have_modrm);
		return d->status;
	}
	row = find_row(dec, d, map, op, have_modrm, modrm, mode);

	/* Capstone must accept it: with LOCK removed, KVM decodes a stray LOCK */
	cs = cs_decode(dec, csm, bytes, n);
	if (cs->ok) {
		d->cs_len = cs->size;
		d->cs_id = cs->id;
	} else if (ps.nr_lock) {
		u8 tmp[INSN_MAX_LEN];
		unsigned int k = 0, j = 0;

		for (i = 0; i < n; i++) {
			if (j < ps.nr_lock && ps.lock_at[j] == i) {
				j++;
				continue;
			}
			/*
			 * a REX byte a later legacy prefix cancelled stays
			 * out: without the LOCK it could end up next to the
			 * opcode and count (43 f0 8e 0b is [rbx], not [r11])
			 */
			if (mode64 && i + 1 < ps.pos && (bytes[i] & 0xf0) == 0x40)
				continue;
			tmp[k++] = bytes[i];
		}
		cs = cs_decode(dec, csm, tmp, k);
		if (cs->ok) {
			d->cs_len = (u8)(cs->size + (n - k));
			d->cs_id = cs->id;
			d->fixups |= INSN_FIX_CS_REJECTS;
		}
	}
	if (!row) {
		/* undecodable for Capstone and absent from KVM's tables */
		d->status = d->cs_len ? INSN_NOT_EMULATED : INSN_UNDECODABLE;
		d->fetched = (u8)(p + (have_modrm && kvm_modrm_first(map, op)));
		return d->status;
	}
	d->row = row;
	d->name = row->name;
	/* No64 opcodes decode (Capstone may reject them) and then #UD */
	if ((row->flags & R_NO64 && mode64) || (row->flags & R_UD)) {
		d->status = INSN_EXCEPTION;
		d->exc_vector = UD_VECTOR;
		if (!d->cs_len)
			d->fixups |= INSN_FIX_CS_REJECTS;
		undefined_length(d, bytes, n, p, mode64);
		return d->status;
	}
	if (!d->cs_len) {
		/* 8c/8e with segment register 6/7: KVM decodes, then #UD */
		if (!(row->flags & R_CS_LAX))
			return d->status;
		d->fixups |= INSN_FIX_CS_REJECTS;
	}
	if (row->flags & R_NOTMOD) {
		d->status = INSN_NOT_MODELLED;
		return d->status;
	}

	/* operand size, as KVM adjusts it after the table lookup */
	if (mode64) {
		if (d->op_bytes == 4 && (row->flags & R_STACK))
			d->op_bytes = 8;
		else if (row->flags & R_NEAR)
			d->op_bytes = 8;
	}
	if ((row->flags & R_NO16) && d->op_bytes == 2)
		d->op_bytes = 4;
	if (row->flags & R_SSE)
		d->op_bytes = 16;
	else if (row->flags & R_MMX)
		d->op_bytes = 8;
	d->has_modrm = row_has_modrm(row);
	end = p;
	if (d->has_modrm && parse_modrm(d, bytes, n, p, mode64, &end)) {
		d->status = INSN_UNDECODABLE;
		return d->status;
	}
	if (d->has_modrm && !d->mem) {
		/* far pointer from a register: decoded, then #UD before any access */
		if (row->flags & R_UD_REG) {
			d->status = INSN_EXCEPTION;
			d->exc_vector = UD_VECTOR;
			return d->status;
		}
		/* register forms of memory-only rows were filtered by find_row */
		d->mem_seg = VCPU_SREG_DS;
	}
	/* immediates, in encoding order: src, src2 (enter: imm16, imm8) */
	{
		unsigned int s1 = imm_size(d, row->src), s2 = imm_size(d, row->src2);
		unsigned int sd = imm_size(d, row->dst);

		if (end + s1 + s2 + sd > n) {
			/* too few bytes: d->len says how many KVM would fetch */
			d->len = (u8)min_t(unsigned int, end + s1 + s2 + sd, INSN_MAX_LEN);
			d->status = INSN_UNDECODABLE;
			return d->status;
		}
		if (sd) {
			d->imm = read_le(bytes + end, sd);
			end += sd;
		}
		if (s1) {
			d->imm = read_le(bytes + end, s1);
			end += s1;
		}
		if (s2) {
			d->imm2 = read_le(bytes + end, s2);
			end += s2;
		}
	}
	d->len = (u8)end;

	/* memory operand facts */
	for (i = 0; i < 3; i++) {
		u8 k = i == 0 ? row->dst : i == 1 ? row->src : row->src2;

		if (is_kind_rm(k) && d->mem)
			d->mem_bytes = kind_bytes(d, k);
		if (kind_is_mem(d, k) && !(row->d & NoAccess))
			d->accesses_memory = true;
	}
	if (row->flags & R_STK_ACCESS)
		d->accesses_memory = true;
	/* movbe's #UD comes after the source read: a store never accesses */
	if (row->execute == em_movbe && row->dst != O_G)
		d->accesses_memory = false;
	if (row->src == O_MOFFS || row->dst == O_MOFFS)
		d->mem_seg = d->seg_override >= 0 ? (u8)d->seg_override : VCPU_SREG_DS;

	/*
	 * x86_emulate_insn() raises the LOCK #UD before it runs a handler, so
	 * a handler that would fail (iret, enter below) is #UD with a LOCK on
	 * a row without Lock (lock enter: #UD on 6.18.44)
	 */
	if (d->lock_prefix && !(row->d & Lock) &&
	    ((row->execute == em_iret && mode != X86EMUL_MODE_REAL) ||
	     (row->execute == em_enter && (d->imm2 & 31)))) {
		d->status = INSN_EXCEPTION;
		d->exc_vector = UD_VECTOR;
		return d->status;
	}
	/*
	 * IRET outside real mode: em_iret fails before any access, after
	 * x86_decode_insn() fetched the whole instruction, whose fetch past
	 * the CS limit is #GP(0) first (prot16 `66 cf` with CS limit 0:
	 * #GP(0) on 6.18.44, 587 findings of one campaign)
	 */
	if (row->execute == em_iret && mode != X86EMUL_MODE_REAL) {
		d->status = INSN_NOT_EMULATED;
		d->accesses_memory = false;
		d->fetched = d->len;
		return d->status;
	}
	/* ENTER with a nesting level: em_enter fails before any access, the same */
	if (row->execute == em_enter && (d->imm2 & 31)) {
		d->status = INSN_NOT_EMULATED;
		d->accesses_memory = false;
		d->fetched = d->len;
		return d->status;
	}

	d->status = INSN_OK;
	if (d->cs_len)
		cs_crosscheck(d, cs);
	else
		d->fixups |= INSN_FIX_LENGTH;
	if (d->status != INSN_OK)
		d->accesses_memory = false;
	return d->status;
}

/* ---- step 6: filling the emulator context ---- */

static u64 ad_mask_of(const struct x86_emulate_ctxt *ctxt)
{
	return ctxt->ad_bytes == 8 ? ~0ULL : BIT(ctxt->ad_bytes * 8) - 1;
}

static u64 modrm_ea(struct x86_emulate_ctxt *ctxt, const struct insn_decoded *d)
{
	u64 ea = (u64)d->disp;

	if (d->base == INSN_REG_RIP)
		ea += ctxt->_eip;
	else if (d->base >= 0)
		ea += reg_read(ctxt, d->base);
	if (d->index >= 0)
		ea += reg_read(ctxt, d->index) * d->scale;
	if (d->base == VCPU_REGS_RSP && (d->row->flags & R_INCSP))
		ea += d->op_bytes;
	return ea & ad_mask_of(ctxt);
}

static void gpr_operand(struct x86_emulate_ctxt *ctxt, struct insn_source *src,
			struct operand *op, unsigned int nr, unsigned int bytes)
{
	op->type = OP_REG;
	op->bytes = bytes;
	op->reg_nr = (u8)nr;
	op->hi8 = false;
	if (bytes == 1 && !src->last.rex && nr >= 4 && nr < 8) {
		/* without REX, byte registers 4-7 are AH, CH, DH, BH */
		op->reg_nr = (u8)(nr - 4);
		op->hi8 = true;
	}
	emulator_fetch_register_operand(ctxt, op);
}

static void decode_operand(struct x86_emulate_ctxt *ctxt, struct insn_source *src,
			   struct operand *op, u8 kind, bool dst)
{
	const struct insn_decoded *d = &src->last;
	const struct insn_row *row = d->row;
	unsigned int rm = (d->modrm & 7) | ((d->rex & 1) << 3);
	unsigned int reg = ((d->modrm >> 3) & 7) | ((d->rex & 4) << 1);
	unsigned int bytes = kind_bytes(d, kind);
	u64 amask = ad_mask_of(ctxt);

	*op = (struct operand){ .type = OP_NONE, .bytes = bytes, .count = 1 };
	switch (kind) {
	case O_NONE:
		break;
	case O_E: case O_E8: case O_E16: case O_E32: case O_EM64: case O_EFAR:
		if (d->mem) {
			op->type = OP_MEM;
			op->addr.mem.ea = modrm_ea(ctxt, d);
			op->addr.mem.seg = d->mem_seg;
		} else {
			gpr_operand(ctxt, src, op, rm, bytes);
		}
		break;
	case O_G:
		gpr_operand(ctxt, src, op, reg, bytes);
		break;
	case O_ACC:
		gpr_operand(ctxt, src, op, VCPU_REGS_RAX, bytes);
		break;
	case O_OPREG:
		gpr_operand(ctxt, src, op, (d->opcode & 7) | ((d->rex & 1) << 3), bytes);
		break;
	case O_W:
	case O_V:
		if (kind == O_W && d->mem) {
			op->type = OP_MEM;
			op->addr.mem.ea = modrm_ea(ctxt, d);
			op->addr.mem.seg = d->mem_seg;
			break;
		}
		op->type = OP_REG;
		op->is_xmm = true;
		op->addr.xmm = kind == O_W ? rm : reg;
		emulator_fetch_register_operand(ctxt, op);
		break;
	case O_Q:
	case O_P:
		if (kind == O_Q && d->mem) {
			op->type = OP_MEM;
			op->addr.mem.ea = modrm_ea(ctxt, d);
			op->addr.mem.seg = d->mem_seg;
			break;
		}
		op->type = OP_REG;
		op->addr.reg = &src->mm[(kind == O_Q ? d->modrm : d->modrm >> 3) & 7];
		op->val64 = *op->addr.reg;
		break;
	case O_I:
	case O_IB:
		op->type = OP_IMM;
		op->bytes = row->flags & R_BYTE ? 1 : d->op_bytes;
		op->val64 = (u64)sext(op == &ctxt->src2 ? d->imm2 : d->imm, imm_size(d, kind));
		break;
	case O_IUB:
	case O_IW:
	case O_IV:
		op->type = OP_IMM;
		op->bytes = imm_size(d, kind);
		op->val64 = op == &ctxt->src2 ? d->imm2 : d->imm;
		break;
	case O_ONE:
		op->type = OP_IMM;
		op->val64 = 1;
		break;
	case O_CL:
		op->type = OP_IMM;
		op->val64 = reg_read(ctxt, VCPU_REGS_RCX) & 0xff;
		break;
	case O_SI:
		op->type = OP_MEM;
		op->addr.mem.ea = reg_read(ctxt, VCPU_REGS_RSI) & amask;
		op->addr.mem.seg = d->seg_override >= 0 ? (u8)d->seg_override : VCPU_SREG_DS;
		break;
	case O_DI:
		op->type = OP_MEM;
		op->addr.mem.ea = reg_read(ctxt, VCPU_REGS_RDI) & amask;
		op->addr.mem.seg = VCPU_SREG_ES;
		break;
	case O_MOFFS:
		op->type = OP_MEM;
		op->addr.mem.ea = d->imm & amask;
		op->addr.mem.seg = d->mem_seg;
		break;
	case O_XLAT:
		op->type = OP_MEM;
		op->bytes = 1;
		op->addr.mem.ea = (reg_read(ctxt, VCPU_REGS_RBX) +
				   (reg_read(ctxt, VCPU_REGS_RAX) & 0xff)) & amask;
		op->addr.mem.seg = d->seg_override >= 0 ? (u8)d->seg_override : VCPU_SREG_DS;
		break;
	case O_SEGARG:
		op->type = OP_IMM;
		op->val64 = row->arg;
		break;
	case O_SEGREG:
		op->type = OP_IMM;
		op->val64 = reg;
		break;
	case O_DX:
		gpr_operand(ctxt, src, op, VCPU_REGS_RDX, 2);
		break;
	case O_IFAR:
		op->type = OP_IMM;
		op->val64 = d->imm;	/* offset, then selector, little endian */
		break;
	}
}

/* fetch_bit_operand: a register bit offset moves the address (decode time) */
static void fetch_bit_operand(struct x86_emulate_ctxt *ctxt)
{
	unsigned int bits = ctxt->dst.bytes * 8;

	if (ctxt->dst.type == OP_MEM && ctxt->src.type == OP_REG) {
		s64 sv = sext(ctxt->src.val64, ctxt->src.bytes) & ~(s64)(bits - 1);

		ctxt->dst.addr.mem.ea = (ctxt->dst.addr.mem.ea + (u64)(sv >> 3)) &
					ad_mask_of(ctxt);
	}
	ctxt->src.val64 &= bits - 1;
}

static int decode_exception(struct x86_emulate_ctxt *ctxt, int vec)
{
	ctxt->exception.vector = (u8)vec;
	ctxt->exception.error_code = 0;
	/* #GP(0) at decode: the 15-byte limit of the fetch */
	ctxt->exception.error_code_valid = vec == GP_VECTOR;
	ctxt->have_exception = true;
	return EMULATION_FAILED;
}

static int insn_fill_ctxt(struct x86_emulate_ctxt *ctxt, struct insn_source *src)
{
	const struct insn_decoded *d = &src->last;
	const struct insn_row *row = d->row;
	const struct kvm_sregs *sr = &ctxt->vcpu->sregs;

	ctxt->mnemonic = row->name;
	ctxt->execute = row->execute;
	ctxt->d = row->d;
	ctxt->rep_prefix = d->rep_prefix;
	ctxt->lock_prefix = d->lock_prefix;
	ctxt->op_bytes = d->op_bytes;
	ctxt->ad_bytes = d->ad_bytes;
	ctxt->insn_len = d->len;
	ctxt->_eip = ctxt->eip + d->len;
	if (ctxt->mode != X86EMUL_MODE_PROT64)
		ctxt->_eip = (u32)ctxt->_eip;
	if (row->flags & R_CC)
		ctxt->imm = d->opcode & 15;
	else
		ctxt->imm = 0;

	/* KVM decodes src, then src2, then dst */
	decode_operand(ctxt, src, &ctxt->src, row->src, false);
	decode_operand(ctxt, src, &ctxt->src2, row->src2, false);
	decode_operand(ctxt, src, &ctxt->dst, row->dst, true);
	if (row->flags & R_BITOP)
		fetch_bit_operand(ctxt);

	/* checks x86_emulate_insn makes before any operand access */
	if (ctxt->lock_prefix && (!(ctxt->d & Lock) || ctxt->dst.type != OP_MEM))
		return decode_exception(ctxt, UD_VECTOR);
	if (row->execute == em_in || row->execute == em_out) {
		struct operand *data = row->execute == em_in ? &ctxt->dst : &ctxt->src;
		unsigned int iopl = (ctxt->eflags >> 12) & 3;

		/*
		 * check_perm_in/out: the element is at most 4 bytes (REX.W
		 * is ignored); with CPL > IOPL (or in VM86 mode) the TSS I/O
		 * bitmap decides, read through the std path: not modelled.
		 */
		if (data->bytes > 4)
			data->bytes = 4;
		if (ctxt->mode == X86EMUL_MODE_VM86 ||
		    (ctxt->mode != X86EMUL_MODE_REAL && ctxt->vcpu->cpl > iopl)) {
			src->last.status = INSN_NOT_MODELLED;
			return EMULATION_FAILED;
		}
	}
	if (row->flags & (R_SSE | R_MMX)) {
		if ((sr->cr0 & X86_CR0_EM) ||
		    ((row->flags & R_SSE) && !(sr->cr4 & X86_CR4_OSFXSR)))
			return decode_exception(ctxt, UD_VECTOR);
		if (sr->cr0 & X86_CR0_TS)
			return decode_exception(ctxt, NM_VECTOR);
	}
	return EMULATION_OK;
}

static int insn_decode_cb(struct x86_emulate_ctxt *ctxt, void *priv)
{
	struct insn_source *src = priv;

	int r;

	insn_decode(src->dec, ctxt->mode, src->bytes, src->len, &src->last);
	switch (src->last.status) {
	case INSN_OK:
		r = insn_fill_ctxt(ctxt, src);
		ctxt->not_modelled = src->last.status == INSN_NOT_MODELLED;
		return r;
	case INSN_EXCEPTION:
		ctxt->insn_len = src->last.len;	/* 0 unless the whole length is known */
		return decode_exception(ctxt, src->last.exc_vector);
	default:
		ctxt->not_modelled = src->last.status == INSN_NOT_MODELLED;
		ctxt->insn_fetched = src->last.fetched;
		return EMULATION_FAILED;
	}
}

static bool insn_fault_gpa(struct kvm_vcpu *vcpu, void *priv, gpa_t *gpa)
{
	const struct insn_source *src = priv;

	*gpa = src->fault_gpa;
	return src->has_fault_gpa;
}

const struct kvm_guest_ops insn_guest_ops = {
	.decode = insn_decode_cb,
	.fault_gpa = insn_fault_gpa,
};

void insn_source_init(struct insn_source *src, struct insn_decoder *dec,
		      const u8 *bytes, unsigned int len)
{
	memset(src, 0, sizeof(*src));
	src->dec = dec;
	if (len > INSN_MAX_LEN)
		len = INSN_MAX_LEN;
	memcpy(src->bytes, bytes, len);
	src->len = (u8)len;
}

/* ---- statistics over random byte strings ---- */

static u64 xorshift64(u64 *s)
{
	u64 x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

void insn_stats(unsigned int n, u64 seed, enum x86emul_mode mode, struct insn_stats *out)
{
	struct insn_decoder dec;
	struct insn_decoded d;
	u64 s = seed ? seed : 0x9e3779b97f4a7c15ULL;
	unsigned int i, j;

	memset(out, 0, sizeof(*out));
	if (insn_decoder_init(&dec))
		return;
	for (i = 0; i < n; i++) {
		u8 b[INSN_MAX_LEN];

		for (j = 0; j < INSN_MAX_LEN; j++)
			b[j] = (u8)(xorshift64(&s) >> 56);
		insn_decode(&dec, mode, b, INSN_MAX_LEN, &d);
		out->total++;
		if (d.cs_len)
			out->capstone_ok++;
		if (d.row && d.status != INSN_UNDECODABLE && d.status != INSN_NOT_EMULATED)
			out->kvm_decoded++;
		switch (d.status) {
		case INSN_OK:
			/* a stray LOCK is #UD before any access */
			if (d.lock_prefix && (!(d.row->d & Lock) || !d.mem)) {
				out->exception++;
				break;
			}
			out->emulated++;
			if (d.accesses_memory)
				out->memory++;
			break;
		case INSN_EXCEPTION:
			out->exception++;
			break;
		case INSN_NOT_MODELLED:
			out->not_modelled++;
			break;
		default:
			break;
		}
	}
	insn_decoder_fini(&dec);
}
