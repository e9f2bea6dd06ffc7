// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host execution of ALU instructions (see fastop.h).  Each instruction and
 * size is one asm statement: the flags go in with popf and come out with
 * pushf.  The stack pointer first steps over the x86-64 red zone, where
 * the compiler may keep locals of this leaf code.
 */
#include "fastop.h"

#define ARITH_FLAGS	0x8d5UL		/* CF PF AF ZF SF OF */
#define FIXED_FLAG	0x2UL

#if defined(__x86_64__)

#define FOP_IN	"lea -128(%%rsp), %%rsp\n\tpush %[fl]\n\tpopf\n\t"
#define FOP_OUT	"\n\tpushf\n\tpop %[fl]\n\tlea 128(%%rsp), %%rsp"

/* op src, dst */
#define FOP_RR(mn, sfx)								\
	asm(FOP_IN mn sfx " %[s], %[d]" FOP_OUT					\
	    : [d] "+r" (d), [fl] "+r" (fl) : [s] "r" (s) : "cc")
/* op %cl, dst */
#define FOP_CL(mn, sfx)								\
	asm(FOP_IN mn sfx " %%cl, %[d]" FOP_OUT					\
	    : [d] "+r" (d), [fl] "+r" (fl) : "c" (count) : "cc")
/* op %cl, src, dst */
#define FOP_CL3(mn, sfx)							\
	asm(FOP_IN mn sfx " %%cl, %[s], %[d]" FOP_OUT				\
	    : [d] "+r" (d), [fl] "+r" (fl) : [s] "r" (s), "c" (count) : "cc")
/* op src; rAX (and rDX) implicit */
#define FOP_AX(mn, sfx)								\
	asm(FOP_IN mn sfx " %[s]" FOP_OUT					\
	    : "+a" (d), [fl] "+r" (fl) : [s] "r" (s) : "cc")
#define FOP_AXDX(mn, sfx)							\
	asm(FOP_IN mn sfx " %[s]" FOP_OUT					\
	    : "+a" (d), "+d" (x), [fl] "+r" (fl) : [s] "r" (s) : "cc")

#define FOP_SHIFTS(sfx)								\
	case FOP_ROL: FOP_CL("rol", sfx); break;				\
	case FOP_ROR: FOP_CL("ror", sfx); break;				\
	case FOP_RCL: FOP_CL("rcl", sfx); break;				\
	case FOP_RCR: FOP_CL("rcr", sfx); break;				\
	case FOP_SHL: FOP_CL("shl", sfx); break;				\
	case FOP_SHR: FOP_CL("shr", sfx); break;				\
	case FOP_SAR: FOP_CL("sar", sfx); break

/* 2, 4 and 8 bytes: every op */
#define FOP_WIDE(T, sfx)							\
	do {									\
		T d = (T)*dst, s = (T)src, x = (T)*dx;				\
										\
		switch (op) {							\
		case FOP_AND: FOP_RR("and", sfx); break;			\
		case FOP_OR: FOP_RR("or", sfx); break;				\
		case FOP_XOR: FOP_RR("xor", sfx); break;			\
		case FOP_BT: FOP_RR("bt", sfx); break;				\
		case FOP_BTS: FOP_RR("bts", sfx); break;			\
		case FOP_BTR: FOP_RR("btr", sfx); break;			\
		case FOP_BTC: FOP_RR("btc", sfx); break;			\
		case FOP_IMUL2: FOP_RR("imul", sfx); break;			\
		FOP_SHIFTS(sfx);						\
		case FOP_SHLD: FOP_CL3("shld", sfx); break;			\
		case FOP_SHRD: FOP_CL3("shrd", sfx); break;			\
		case FOP_MUL: FOP_AXDX("mul", sfx); break;			\
		case FOP_IMUL: FOP_AXDX("imul", sfx); break;			\
		case FOP_DIV: FOP_AXDX("div", sfx); break;			\
		case FOP_IDIV: FOP_AXDX("idiv", sfx); break;			\
		default: return false;						\
		}								\
		*dst = (*dst & ~(u64)(T)~(T)0) | d;				\
		if (op >= FOP_MUL)						\
			*dx = (*dx & ~(u64)(T)~(T)0) | x;			\
	} while (0)

static bool fastop_byte(enum fastop op, u64 *dst, u64 src, u8 count, unsigned long *flags)
{
	unsigned long fl = *flags;
	u8 s = (u8)src;

	if (op >= FOP_MUL) {
		u16 d = (u16)*dst;	/* AX */

		switch (op) {
		case FOP_MUL: FOP_AX("mul", "b"); break;
		case FOP_IMUL: FOP_AX("imul", "b"); break;
		case FOP_DIV: FOP_AX("div", "b"); break;
		case FOP_IDIV: FOP_AX("idiv", "b"); break;
		default: return false;
		}
		*dst = (*dst & ~0xffffULL) | d;
	} else {
		u8 d = (u8)*dst;

		switch (op) {
		case FOP_AND: FOP_RR("and", "b"); break;
		case FOP_OR: FOP_RR("or", "b"); break;
		case FOP_XOR: FOP_RR("xor", "b"); break;
		FOP_SHIFTS("b");
		default: return false;
		}
		*dst = (*dst & ~0xffULL) | d;
	}
	*flags = fl;
	return true;
}

bool fastop_run(enum fastop op, unsigned int bytes, u64 *dst, u64 *dx, u64 src, u8 count,
		unsigned long *flags)
{
	unsigned long fl = (*flags & ARITH_FLAGS) | FIXED_FLAG;
	u64 unused = 0;

	if (!dx)
		dx = &unused;
	switch (bytes) {
	case 1:
		if (!fastop_byte(op, dst, src, count, &fl))
			return false;
		break;
	case 2:
		FOP_WIDE(u16, "w");
		break;
	case 4:
		FOP_WIDE(u32, "l");
		break;
	case 8:
		FOP_WIDE(u64, "q");
		break;
	default:
		return false;
	}
	*flags = (*flags & ~ARITH_FLAGS) | (fl & ARITH_FLAGS);
	return true;
}

#else

bool fastop_run(enum fastop op, unsigned int bytes, u64 *dst, u64 *dx, u64 src, u8 count,
		unsigned long *flags)
{
	return false;
}

#endif
