/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Host execution of ALU instructions, as KVM's emulate.c does with its
 * "fastop" stubs: the instruction itself runs on the host CPU with the
 * guest's six arithmetic flags (CF PF AF ZF SF OF) loaded, and the result
 * and the six flags the host leaves are the guest's.  Where the SDM calls a
 * flag or a result undefined (mul/div flags, AF of logic ops and shifts, OF
 * of multi-bit shifts and rotates, OF/SF/AF/PF of bt*, shld/shrd counts
 * beyond 16 bits), the guest therefore sees what the host CPU model does,
 * and so does the model: it runs on the same machine as the kernel it is
 * compared with.
 *
 * Only x86-64 hosts can; fastop_run() returns false elsewhere and callers
 * keep their C results (equal on every defined bit).
 */
#ifndef FRAGFUZZ_FASTOP_H
#define FRAGFUZZ_FASTOP_H

#include "types.h"

enum fastop {
	/* two operands: *dst op= src (bt*: bit number src, already masked) */
	FOP_AND, FOP_OR, FOP_XOR, FOP_BT, FOP_BTS, FOP_BTR, FOP_BTC, FOP_IMUL2,
	/* *dst shifted by count (the host masks it as for any count) */
	FOP_ROL, FOP_ROR, FOP_RCL, FOP_RCR, FOP_SHL, FOP_SHR, FOP_SAR,
	/* *dst, src, count */
	FOP_SHLD, FOP_SHRD,
	/* *dst = rAX, *dx = rDX (unused for bytes 1: AX is in *dst), src */
	FOP_MUL, FOP_IMUL, FOP_DIV, FOP_IDIV,
	NR_FASTOPS,
};

/*
 * Run @op on @bytes-sized operands (1, 2, 4, 8; bt*, imul2, shld/shrd have
 * no 1-byte form).  @flags: the guest's RFLAGS in; on return its six
 * arithmetic flags are the host's.  *@dst (and *@dx) get the host's
 * results.  FOP_DIV/FOP_IDIV must not fault: the caller checks for #DE
 * first.  false (nothing changed) when the host cannot run it.
 */
bool fastop_run(enum fastop op, unsigned int bytes, u64 *dst, u64 *dx, u64 src, u8 count,
		unsigned long *flags);

#endif
