// SPDX-License-Identifier: GPL-2.0-only
/*
 * The instruction layer end to end: instruction BYTES run through the
 * model (vcpu->guest = &insn_guest_ops), asserting the exact MMIO exit
 * sequence (order, GPA, size, direction, write data), the outcome and the
 * registers a checker needs.  Table-driven: one row per family per mode,
 * each with a page-split access.  Then the spec's worked examples E1-E11
 * from bytes, with the assertions of test_examples.c.
 *
 * Layout of every case: two MMIO pages (GPA 0x1000 and 0x2000) meeting at
 * linear P (64-bit: 0x40001000 via paging, 32-bit: 0x2000 flat), and a RAM
 * stack/scratch page at linear and physical S = 0xa000 filled with bytes
 * equal to their page offset.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "decode.h"
#include "examples.h"
#include "scripts.h"
#include "test_common.h"
#include "test_model.h"

#define S	0xa000ULL

static const char *const insn_profiles[] = { "6.18.24", "7.1" };

/* pseudo registers for set/want lists */
enum {
	R_RIP = NR_VCPU_REGS, R_CF, R_ZF, R_MM0, R_XMM0LO, R_ESSEL, R_SSSEL, R_DSSEL, R_FSSEL,
	R_STACKQ,	/* the qword at the current RSP (RAM page) */
	R_CSSEL, R_CSBASE,
	R_ERR,		/* the delivered exception's error code, -1: none */
	R_FLAGS,	/* RFLAGS */
};

enum { K_UNUSED, K_ABS, K_P, K_S };	/* value is absolute, P + v, S + v */

struct regval {
	u8 reg, kind;
	s64 val;
};

#define A(r, v)	{ (r), K_ABS, (s64)(v) }
#define PR(r, v) { (r), K_P, (s64)(v) }
#define SR(r, v) { (r), K_S, (s64)(v) }

#define OUT_RETIRED	0
#define OUT_FAIL	(-1)
#define OUT_AGAIN	(-2)	/* no exit, RIP stays: the guest runs it again */
#define OUT_EXC(v)	(100 + (v))

struct insn_case {
	const char *name;
	enum env_mode mode;
	const char *hex;
	struct regval set[5];
	u64 rflags;
	const char *rdata;	/* what userspace answers reads with; NULL: 11 22 33 .. */
	const char *exits;	/* "R1ffe:2 W2000:2=aabb" */
	int outcome;
	struct regval want[4];
};

#define L64	ENV_LONG64
#define P32	ENV_PROT32
#define R16	ENV_REAL16

static const struct insn_case insn_cases[] = {
	/* ---- moves ---- */
	{ "mov r32,m", L64, "8b07", { PR(7, -2) }, 0, NULL, "R1ffe:2 R2000:2", 0,
	  { A(0, 0x44332211) } },
	{ "mov r32,m", P32, "8b07", { PR(7, -2) }, 0, NULL, "R1ffe:2 R2000:2", 0,
	  { A(0, 0x44332211) } },
	{ "mov m,r32", L64, "8907", { PR(7, -2), A(0, 0xaabbccdd) }, 0, NULL,
	  "W1ffe:2=ccdd W2000:2=aabb", 0, { { 0 } } },
	{ "mov m,r32", P32, "8907", { PR(7, -2), A(0, 0xaabbccdd) }, 0, NULL,
	  "W1ffe:2=ccdd W2000:2=aabb", 0, { { 0 } } },
	{ "mov m16,imm16", L64, "66c7073412", { PR(7, -1) }, 0, NULL, "W1fff:1=34 W2000:1=12",
	  0, { { 0 } } },
	{ "mov m16,imm16", P32, "66c7073412", { PR(7, -1) }, 0, NULL, "W1fff:1=34 W2000:1=12",
	  0, { { 0 } } },
	{ "mov m8,ah", L64, "8827", { PR(7, -1), A(0, 0x5a00) }, 0, NULL, "W1fff:1=5a", 0,
	  { { 0 } } },
	{ "mov ah,m8", P32, "8a27", { PR(7, -1), A(0, 0x12345678) }, 0, NULL, "R1fff:1", 0,
	  { A(0, 0x12341178) } },
	{ "mov rax,moffs64", L64, "48a1fe0f004000000000", { { 0 } }, 0, NULL,
	  "R1ffe:2 R2000:6", 0, { A(0, 0x8877665544332211ULL) } },
	{ "mov eax,moffs32", P32, "a1fe1f0000", { { 0 } }, 0, NULL, "R1ffe:2 R2000:2", 0,
	  { A(0, 0x44332211) } },
	{ "mov moffs32,eax", P32, "a3ff1f0000", { A(0, 0xaabbccdd) }, 0, NULL,
	  "W1fff:1=dd W2000:3=aabbcc", 0, { { 0 } } },
	{ "movzx r32,m16", L64, "0fb707", { PR(7, -1) }, 0, NULL, "R1fff:1 R2000:1", 0,
	  { A(0, 0x2211) } },
	{ "movsx r32,m16", P32, "0fbf07", { PR(7, -1) }, 0, "ff80", "R1fff:1 R2000:1", 0,
	  { A(0, 0xffff80ff) } },
	{ "movsxd r64,m32", L64, "486307", { PR(7, -2) }, 0, "00000080", "R1ffe:2 R2000:2", 0,
	  { A(0, 0xffffffff80000000ULL) } },
	{ "movnti with 66 still stores 4 bytes (No16)", P32, "660fc307",
	  { PR(7, -2), A(0, 0xaabbccdd) }, 0, NULL, "W1ffe:2=ccdd W2000:2=aabb", 0, { { 0 } } },
	{ "movnti m32,r32", L64, "0fc307", { PR(7, -2), A(0, 0xaabbccdd) }, 0, NULL,
	  "W1ffe:2=ccdd W2000:2=aabb", 0, { { 0 } } },
	{ "address size 32 in 64-bit mode", L64, "678b07", { A(7, 0x140000ffeULL) }, 0, NULL,
	  "R1ffe:2 R2000:2", 0, { A(0, 0x44332211) } },
	{ "address size 16 in 32-bit mode", P32, "678b05", { A(7, 0x51ffe) }, 0, NULL,
	  "R1ffe:2 R2000:2", 0, { A(0, 0x44332211) } },
	{ "xlat", P32, "d7", { PR(3, -0x11), A(0, 0x10) }, 0, NULL, "R1fff:1", 0,
	  { A(0, 0x11) } },
	{ "lea does not access", L64, "8d47fe", { PR(7, 0) }, 0, NULL, "", 0,
	  { PR(0, -2) } },
	/* ---- ALU read-modify-write ---- */
	{ "add m,r", L64, "0107", { PR(7, -2), A(0, 1) }, 0, NULL,
	  "R1ffe:2 R2000:2 W1ffe:2=2212 W2000:2=4433", 0, { { 0 } } },
	{ "add m,r", P32, "0107", { PR(7, -2), A(0, 1) }, 0, NULL,
	  "R1ffe:2 R2000:2 W1ffe:2=2212 W2000:2=4433", 0, { { 0 } } },
	{ "lock add m,r", L64, "f00107", { PR(7, -2), A(0, 1) }, 0, NULL,
	  "R1ffe:2 R2000:2 W1ffe:2=2212 W2000:2=4433", 0, { { 0 } } },
	{ "lock add m,r", P32, "f00107", { PR(7, -2), A(0, 1) }, 0, NULL,
	  "R1ffe:2 R2000:2 W1ffe:2=2212 W2000:2=4433", 0, { { 0 } } },
	{ "sub m,imm8", P32, "832f01", { PR(7, -2) }, 0, NULL,
	  "R1ffe:2 R2000:2 W1ffe:2=2210 W2000:2=4433", 0, { { 0 } } },
	{ "cmp m,r (NoWrite)", L64, "3907", { PR(7, -2), A(0, 0x44332211) }, 0, NULL,
	  "R1ffe:2 R2000:2", 0, { A(R_ZF, 1) } },
	{ "test m,r (NoWrite)", P32, "8507", { PR(7, -2), A(0, 1) }, 0, NULL,
	  "R1ffe:2 R2000:2", 0, { A(R_ZF, 0) } },
	{ "inc m", L64, "ff07", { PR(7, -2) }, 0, NULL,
	  "R1ffe:2 R2000:2 W1ffe:2=2212 W2000:2=4433", 0, { { 0 } } },
	{ "not m", P32, "f717", { PR(7, -2) }, 0, NULL,
	  "R1ffe:2 R2000:2 W1ffe:2=ddee W2000:2=bbcc", 0, { { 0 } } },
	{ "neg m8 (no split)", L64, "f61f", { PR(7, -1) }, 0, NULL, "R1fff:1 W1fff:1=ef", 0,
	  { A(R_CF, 1) } },
	{ "shl m,4", L64, "c12704", { PR(7, -2) }, 0, NULL,
	  "R1ffe:2 R2000:2 W1ffe:2=2110 W2000:2=4332", 0, { { 0 } } },
	{ "rol m,cl (count 0 still writes)", P32, "d307", { PR(7, -2), A(1, 0x20) }, 0, NULL,
	  "R1ffe:2 R2000:2 W1ffe:2=2211 W2000:2=4433", 0, { { 0 } } },
	{ "imul r,m,imm8", L64, "6b0703", { PR(7, -2) }, 0, NULL, "R1ffe:2 R2000:2", 0,
	  { A(0, 0xcc996633) } },
	{ "mul m", P32, "f727", { PR(7, -2), A(0, 2) }, 0, NULL, "R1ffe:2 R2000:2", 0,
	  { A(0, 0x88664422), A(2, 0) } },
	{ "div m by zero: read then #DE", L64, "f737", { PR(7, -2) }, 0, "00000000",
	  "R1ffe:2 R2000:2", OUT_EXC(DE_VECTOR), { { 0 } } },
	{ "cmove false still reads", L64, "0f4407", { PR(7, -2), A(0, 0xdead00001234ULL) }, 0,
	  NULL, "R1ffe:2 R2000:2", 0, { A(0, 0x1234) } },
	{ "sete m8", P32, "0f9407", { PR(7, -1) }, X86_EFLAGS_ZF, NULL, "W1fff:1=01", 0,
	  { { 0 } } },
	/* ---- bit tests ---- */
	{ "bt m,r moves the address", L64, "0fa307", { PR(7, -6), A(0, 36) }, 0, NULL,
	  "R1ffe:2 R2000:2", 0, { A(R_CF, 1) } },
	{ "bt m,r moves the address", P32, "0fa307", { PR(7, -6), A(0, 36) }, 0, NULL,
	  "R1ffe:2 R2000:2", 0, { A(R_CF, 1) } },
	{ "bt m,r negative offset", L64, "0fa307", { PR(7, 2), A(0, 0xffffffe4) }, 0, NULL,
	  "R1ffe:2 R2000:2", 0, { A(R_CF, 1) } },
	{ "bts m,r", P32, "0fab07", { PR(7, -6), A(0, 37) }, 0, NULL,
	  "R1ffe:2 R2000:2 W1ffe:2=2231 W2000:2=4433", 0, { A(R_CF, 0) } },
	{ "bt m,imm8 keeps the address", L64, "0fba2704", { PR(7, -2) }, 0, NULL,
	  "R1ffe:2 R2000:2", 0, { A(R_CF, 1) } },
	/* ---- exchange and compare-exchange ---- */
	{ "xchg m,r (implicit lock)", L64, "8707", { PR(7, -2), A(0, 0xaabbccdd) }, 0, NULL,
	  "R1ffe:2 R2000:2 W1ffe:2=ccdd W2000:2=aabb", 0, { A(0, 0x44332211) } },
	{ "xchg m8,ah", P32, "8627", { PR(7, -1), A(0, 0xaabbccdd) }, 0, NULL,
	  "R1fff:1 W1fff:1=cc", 0, { A(0, 0xaabb11dd) } },
	{ "cmpxchg m,r split", P32, "0fb10f", { PR(7, -2), A(0, 0x44332211), A(1, 9) }, 0,
	  NULL, "R1ffe:2 R2000:2 W1ffe:2=0009 W2000:2=0000", 0, { A(R_ZF, 1) } },
	{ "cmpxchg8b split", L64, "0fc70f",
	  { PR(7, -4), A(0, 0x44332211), A(2, 0x88776655), A(3, 0xb0b0b0b0), A(1, 0xc0c0c0c0) },
	  0, NULL, "R1ffc:4 R2000:4 W1ffc:4=b0b0b0b0 W2000:4=c0c0c0c0", 0, { A(R_ZF, 1) } },
	{ "cmpxchg16b: 16-byte read, then failure", L64, "480fc70f", { PR(7, -16) }, 0, NULL,
	  "R1ff0:8 R1ff8:8", OUT_FAIL, { { 0 } } },
	{ "cmpxchg16b misaligned: #GP", L64, "480fc70f", { PR(7, -8) }, 0, NULL, "",
	  OUT_EXC(GP_VECTOR), { { 0 } } },
	{ "xadd m,r", P32, "0fc107", { PR(7, -2), A(0, 1) }, 0, NULL,
	  "R1ffe:2 R2000:2 W1ffe:2=2212 W2000:2=4433", 0, { A(0, 0x44332211) } },
	/*
	 * xadd register forms: KVM writes the source register back before
	 * the destination, and AH/CH/DH/BH (no REX) are bits 15:8 of their
	 * GPR; the kernel results of 6.18.44 (fuzz/open-fidelity/resolved/
	 * *-xadd-high-byte.txt).
	 */
	{ "xadd dh,dh: the sum stays", L64, "0fc0f6", { A(2, 0x40000ff9) }, 0, NULL, "", 0,
	  { A(2, 0x40001ef9) } },
	{ "xadd bh,bh: the sum stays", R16, "0fc0ff", { A(3, 0x0ffc) }, 0, NULL, "", 0,
	  { A(3, 0x1efc) } },
	{ "xadd ah,al: AH the sum, AL the old AH", L64, "0fc0c4", { A(0, 0x1234) }, 0, NULL,
	  "", 0, { A(0, 0x4612) } },
	{ "xadd al,ah: AL the sum, AH the old AL", P32, "0fc0e0", { A(0, 0x1234) }, 0, NULL,
	  "", 0, { A(0, 0x3446) } },
	{ "xadd ch,dl: two registers' second and first bytes", P32, "0fc0d5",
	  { A(1, 0xaa1bcc), A(2, 0xdd22) }, 0, NULL, "", 0, { A(1, 0xaa3dcc), A(2, 0xdd1b) } },
	{ "xadd sil,sil with REX is not DH", L64, "400fc0f6", { A(6, 0x1281), A(2, 0x3344) },
	  0, NULL, "", 0, { A(6, 0x1202), A(2, 0x3344), A(R_CF, 1) } },
	{ "xadd spl,r9b: with REX byte 4 is SPL", L64, "440fc0cc",
	  { A(4, 0x7f10), A(9, 0x0201) }, 0, NULL, "", 0, { A(4, 0x7f11), A(9, 0x0210) } },
	{ "xadd ax,cx", R16, "0fc1c8", { A(0, 0xffff1234), A(1, 0xeeee0101) }, 0, NULL, "", 0,
	  { A(0, 0xffff1335), A(1, 0xeeee1234) } },
	{ "xadd eax,ecx zero-extends both", L64, "0fc1c8",
	  { A(0, 0xffffffff00000001ULL), A(1, 0xaaaaaaaa00000002ULL) }, 0, NULL, "", 0,
	  { A(0, 3), A(1, 1) } },
	{ "xadd rax,rax: the sum stays", L64, "480fc1c0", { A(0, 0x8000000000000001ULL) }, 0,
	  NULL, "", 0, { A(0, 2), A(R_CF, 1) } },
	{ "xadd m8,ch", P32, "0fc02f", { PR(7, -1), A(1, 0xaa05cc) }, 0, NULL,
	  "R1fff:1 W1fff:1=16", 0, { A(1, 0xaa11cc) } },
	{ "cmpxchg ah,cl failure: AL gets the old AH", L64, "0fb0cc", { A(0, 0x1234) }, 0,
	  NULL, "", 0, { A(0, 0x1212), A(R_ZF, 0) } },
	/* ---- stack ---- */
	{ "push m (TwoMemOp)", L64, "ff37", { PR(7, -4), SR(4, 0x800) }, 0, NULL,
	  "R1ffc:4 R2000:4", 0, { SR(4, 0x7f8), A(R_STACKQ, 0x8877665544332211ULL) } },
	{ "push m (TwoMemOp)", P32, "ff37", { PR(7, -2), SR(4, 0x800) }, 0, NULL,
	  "R1ffe:2 R2000:2", 0, { SR(4, 0x7fc) } },
	{ "pop m", L64, "8f07", { PR(7, -4), SR(4, 0x800) }, 0, NULL,
	  "W1ffc:4=03020100 W2000:4=07060504", 0, { SR(4, 0x808) } },
	{ "pop m", P32, "8f07", { PR(7, -2), SR(4, 0x800) }, 0, NULL,
	  "W1ffe:2=0100 W2000:2=0302", 0, { SR(4, 0x804) } },
	{ "push r, split stack", L64, "50", { PR(4, 4), A(0, 0x1122334455667788ULL) }, 0, NULL,
	  "W1ffc:4=55667788 W2000:4=11223344", 0, { PR(4, -4) } },
	{ "push r, split stack", P32, "50", { PR(4, 2), A(0, 0x55667788) }, 0, NULL,
	  "W1ffe:2=7788 W2000:2=5566", 0, { PR(4, -2) } },
	{ "pop r, split stack", L64, "58", { PR(4, -4) }, 0, NULL, "R1ffc:4 R2000:4", 0,
	  { A(0, 0x8877665544332211ULL), PR(4, 4) } },
	{ "pop r, split stack", P32, "58", { PR(4, -2) }, 0, NULL, "R1ffe:2 R2000:2", 0,
	  { A(0, 0x44332211), PR(4, 2) } },
	{ "push imm8", L64, "6a80", { PR(4, 4) }, 0, NULL, "W1ffc:4=ffffff80 W2000:4=ffffffff",
	  0, { { 0 } } },
	{ "pushf", L64, "9c", { PR(4, 4) }, X86_EFLAGS_ZF, NULL,
	  "W1ffc:4=00000042 W2000:4=00000000", 0, { { 0 } } },
	{ "popf", P32, "9d", { PR(4, -2) }, 0, "d5080000", "R1ffe:2 R2000:2", 0,
	  { A(R_CF, 1), A(R_ZF, 1) } },
	{ "call m", L64, "ff17", { PR(7, -4), SR(4, 0x800) }, 0, "0000000200000000",
	  "R1ffc:4 R2000:4", 0, { A(R_RIP, 0x2000000), A(R_STACKQ, 0x1000002), SR(4, 0x7f8) } },
	{ "call m", P32, "ff17", { PR(7, -2), SR(4, 0x800) }, 0, "00000002",
	  "R1ffe:2 R2000:2", 0, { A(R_RIP, 0x2000000), SR(4, 0x7fc) } },
	{ "call rel32, split stack", L64, "e800000000", { PR(4, 4) }, 0, NULL,
	  "W1ffc:4=01000005 W2000:4=00000000", 0, { A(R_RIP, 0x1000005) } },
	{ "jmp m", L64, "ff27", { PR(7, -4) }, 0, "0000000200000000", "R1ffc:4 R2000:4", 0,
	  { A(R_RIP, 0x2000000) } },
	{ "ret", L64, "c3", { PR(4, -4) }, 0, "0000000200000000", "R1ffc:4 R2000:4", 0,
	  { A(R_RIP, 0x2000000), PR(4, 4) } },
	{ "ret imm16", P32, "c20800", { PR(4, -2) }, 0, "00000002", "R1ffe:2 R2000:2", 0,
	  { A(R_RIP, 0x2000000), PR(4, 10) } },
	{ "leave", L64, "c9", { PR(5, -4) }, 0, NULL, "R1ffc:4 R2000:4", 0,
	  { A(5, 0x8877665544332211ULL), PR(4, 4) } },
	{ "enter 8,0", P32, "c8080000", { PR(4, 2), A(5, 0x11223344) }, 0, NULL,
	  "W1ffe:2=3344 W2000:2=1122", 0, { PR(5, -2), PR(4, -10) } },
	{ "enter with nesting level: failure", L64, "c8080001", { PR(4, 4) }, 0, NULL, "",
	  OUT_FAIL, { { 0 } } },
	/*
	 * POPA from MMIO: each pop's read exits and the instruction is
	 * replayed with the register cache kept, so RSP was already advanced
	 * by the pops that completed: the addresses skew (see INSTRUCTIONS.md).
	 */
	{ "popa replays with the advanced RSP", P32, "61", { PR(4, -4) }, 0, NULL,
	  "R1ffc:4 R2000:4 R2008:4 R2018:4 R202c:4 R2044:4 R2060:4", 0, { { 0 } } },
	/* RFLAGS.TF and RF, as on 6.18.44 */
	{ "mov r32,m with TF: #DB trap after the completed read", L64, "8b07", { PR(7, -2) },
	  X86_EFLAGS_TF, NULL, "R1ffe:2 R2000:2", OUT_EXC(DB_VECTOR),
	  { A(0, 0x44332211), A(R_RIP, 0x1000002), A(R_FLAGS, 0x102), A(R_ERR, ~0ULL) } },
	{ "mov m,r32 with TF: no #DB after an MMIO write exit", L64, "8907",
	  { PR(7, -2), A(0, 0xaabbccdd) }, X86_EFLAGS_TF, NULL, "W1ffe:2=ccdd W2000:2=aabb", 0,
	  { A(R_FLAGS, 0x102) } },
	{ "mov m,r32 with TF: #DB after a RAM write", P32, "8907",
	  { SR(7, 0x10), A(0, 0xaabbccdd) }, X86_EFLAGS_TF, NULL, "", OUT_EXC(DB_VECTOR),
	  { A(R_RIP, 0x1000002), A(R_FLAGS, 0x102) } },
	{ "mov r32,m clears RF", P32, "8b07", { PR(7, -2) }, X86_EFLAGS_RF, NULL,
	  "R1ffe:2 R2000:2", 0, { A(R_FLAGS, 0x2) } },
	{ "rep movsb with RF: cleared once done", L64, "f3a4", { SR(6, 0x10), SR(7, 0x20),
	  A(1, 2) }, X86_EFLAGS_RF, NULL, "", 0, { A(1, 0), A(R_FLAGS, 0x2) } },
	/* hint NOPs and cache control as KVM's table has them (seen on 6.18.44) */
	{ "clflush reads the byte: one MMIO read exit", L64, "0f ae 3f", { PR(7, -1) }, 0,
	  NULL, "R1fff:1", 0, { { 0 } } },
	{ "clflushopt reads the byte too", P32, "660fae3f", { PR(7, -1) }, 0, NULL, "R1fff:1",
	  0, { { 0 } } },
	{ "prefetchw: no access", L64, "0f0d0f", { PR(7, -1) }, 0, NULL, "", 0, { { 0 } } },
	{ "0f 18 /7 reserved nop: no access", P32, "0f183f", { PR(7, -1) }, 0, NULL, "", 0,
	  { { 0 } } },
	{ "0f 1c with a register operand: emulation failure", L64, "0f1cc0", { { 0 } }, 0,
	  NULL, "", OUT_FAIL, { { 0 } } },
	{ "0f 1e on memory: decoded, not emulated", L64, "0f1e07", { PR(7, -1) }, 0, NULL, "",
	  OUT_FAIL, { { 0 } } },
	{ "lock 0f 1e on memory: #UD before the failing handler", L64, "f00f1e07", { PR(7, -1) },
	  0, NULL, "", OUT_EXC(UD_VECTOR), { { 0 } } },
	{ "lock 0f 1e on memory, real mode: #UD", R16, "f00f1e00", { { 0 } }, 0, NULL, "",
	  OUT_EXC(UD_VECTOR), { { 0 } } },
	{ "icebp: decoded, not emulated", P32, "f1", { { 0 } }, 0, NULL, "", OUT_FAIL,
	  { { 0 } } },
	{ "lock icebp: #UD", P32, "f0f1", { { 0 } }, 0, NULL, "", OUT_EXC(UD_VECTOR),
	  { { 0 } } },
	{ "popf (32-bit) clears RFLAGS[63:32]", P32, "9d", { SR(4, 0x10) },
	  0x6050000100000000ULL, NULL, "", 0, { A(R_FLAGS, 0x1112), SR(4, 0x14) } },
	{ "16-bit movbe: R 2, then #UD", L64, "660f38f007", { PR(7, -1) }, 0, NULL,
	  "R1fff:1 R2000:1", OUT_EXC(UD_VECTOR), { { 0 } } },
	{ "ud2: #UD (not in KVM's table; kvm_pvm delivers #UD)", L64, "0f0b", { { 0 } }, 0,
	  NULL, "", OUT_EXC(UD_VECTOR), { A(R_FLAGS, 0x10002) } },
	{ "ud2: #UD (not in KVM's table; kvm_pvm delivers #UD)", P32, "0f0b", { { 0 } }, 0,
	  NULL, "", OUT_EXC(UD_VECTOR), { A(R_FLAGS, 0x10002) } },
	/* real16/prot16 code goes through KVM's emulator, which has no ud2 (6.18.44) */
	{ "ud2 in real mode: not in KVM's table, emulation failure", R16, "0f0b", { { 0 } }, 0,
	  NULL, "", OUT_FAIL, { { 0 } } },
	/* the LOCK #UD comes before em_enter gives up on the level (6.18.44) */
	{ "lock enter with a nesting level: #UD, not emulation failure", P32, "f0c8c8c808",
	  { { 0 } }, 0, NULL, "", OUT_EXC(UD_VECTOR), { { 0 } } },
	{ "enter with a nesting level: emulation failure", P32, "c8c8c808", { { 0 } }, 0,
	  NULL, "", OUT_FAIL, { { 0 } } },
	/* a REX before a LOCK is cancelled: [rbx], and mov cs is #UD (6.18.44) */
	{ "REX, lock, mov cs,m16: the REX is cancelled, #UD", L64, "43f08e0b", { { 0 } }, 0,
	  NULL, "", OUT_EXC(UD_VECTOR), { { 0 } } },
	{ "xbegin (c7 /7): group 11's Undefined, #UD", L64, "c7f880000000", { { 0 } }, 0,
	  NULL, "", OUT_EXC(UD_VECTOR), { A(R_FLAGS, 0x10002) } },
	{ "xabort (c6 /7): #UD", P32, "c6f801", { { 0 } }, 0, NULL, "", OUT_EXC(UD_VECTOR),
	  { A(R_FLAGS, 0x10002) } },
	{ "c7 /1 with an MMIO operand: #UD before any access", P32, "c70f", { PR(7, -1) }, 0,
	  NULL, "", OUT_EXC(UD_VECTOR), { { 0 } } },
	{ "c6 /4 in real mode: #UD", R16, "c6e001", { { 0 } }, 0, NULL, "",
	  OUT_EXC(UD_VECTOR), { { 0 } } },
	/*
	 * KVM fetches an Undefined row's ModRM, SIB and displacement before
	 * the #UD: past the 15th byte that is #GP(0) (6.18.44, kc3 f035f88b388c)
	 */
	{ "c6 /3 [rsi+disp32] after 11 REX: 18 bytes, #GP(0) not #UD", L64,
	  "4e4e4e4e4e4e4e4e4e4e4ec69e9b", { { 0 } }, 0, NULL, "", OUT_EXC(GP_VECTOR),
	  { A(R_ERR, 0) } },
	{ "c7 /4 [rsp+disp32] after 11 REX: SIB, 18 bytes, #GP(0)", L64,
	  "4e4e4e4e4e4e4e4e4e4e4ec7a42400", { { 0 } }, 0, NULL, "", OUT_EXC(GP_VECTOR),
	  { A(R_ERR, 0) } },
	{ "call far ptr (No64) after 9 REX: 16 bytes with the pointer, #GP(0)", L64,
	  "4141414141414141419a0000000000", { { 0 } }, 0, NULL, "", OUT_EXC(GP_VECTOR),
	  { A(R_ERR, 0) } },
	{ "call far ptr (No64) after 8 REX: 15 bytes, #UD", L64,
	  "41414141414141419a000000000000", { { 0 } }, 0, NULL, "", OUT_EXC(UD_VECTOR),
	  { A(R_ERR, ~0ULL) } },
	{ "c6 /3 [rsi+disp8] after 11 REX: 14 bytes, #UD", L64,
	  "4e4e4e4e4e4e4e4e4e4e4ec65e02", { { 0 } }, 0, NULL, "", OUT_EXC(UD_VECTOR),
	  { A(R_ERR, ~0ULL) } },
	/*
	 * fxsave/fxrstor (group 15 /0, /1): Aligned16 over the whole image,
	 * the std path (no MMIO exit), not emulated in 64-bit mode; 6.18.44:
	 * kc3 03d57fbe3bd0, 467bf861384d, c536e9ba44c4, real16-fxsave.txt
	 */
	{ "fxsave to RAM, 16-aligned: the image written, no exit", P32, "0fae07",
	  { SR(7, 0), SR(4, 0) }, 0, NULL, "", 0, { A(R_STACKQ, 0x037f) } },
	{ "fxsave with an f2 prefix is fxsave", P32, "f20fae07", { SR(7, 0), SR(4, 0) }, 0,
	  NULL, "", 0, { A(R_STACKQ, 0x037f) } },
	{ "fxsave to RAM, 8-aligned: #GP(0)", P32, "0fae07", { SR(7, 8), SR(4, 8) }, 0, NULL,
	  "", OUT_EXC(GP_VECTOR), { A(R_ERR, 0), A(R_STACKQ, 0x0f0e0d0c0b0a0908ULL) } },
	{ "fxsave to MMIO: the std path, no exit, run again", P32, "0fae07", { PR(7, -0x10) },
	  0, NULL, "", OUT_AGAIN, { { 0 } } },
	{ "fxsave [bp] past the real-mode SS limit: #SS(0)", R16, "0fae4600",
	  { A(5, 0xfff0) }, 0, NULL, "", OUT_EXC(SS_VECTOR), { A(R_ERR, 0) } },
	{ "fxsave in 64-bit mode: not emulated", L64, "0fae07", { SR(7, 0) }, 0, NULL, "",
	  OUT_FAIL, { { 0 } } },
	{ "fxsave register form: no row", P32, "0faec0", { { 0 } }, 0, NULL, "", OUT_FAIL,
	  { { 0 } } },
	{ "lock fxsave: #UD", P32, "f00fae07", { SR(7, 0) }, 0, NULL, "", OUT_EXC(UD_VECTOR),
	  { { 0 } } },
	{ "fxrstor, 16-aligned RAM image with MXCSR[31:16] set: #GP(0)", P32, "0fae0f",
	  { SR(7, 0x20) }, 0, NULL, "", OUT_EXC(GP_VECTOR), { A(R_ERR, 0) } },
	{ "fxrstor, 4-aligned: #GP(0)", R16, "0fae0d", { A(7, 0x1ffc) }, 0, NULL, "",
	  OUT_EXC(GP_VECTOR), { A(R_ERR, 0) } },
	{ "pusha in 64-bit mode: #UD", L64, "60", { PR(4, 4) }, X86_EFLAGS_CF, NULL, "",
	  OUT_EXC(UD_VECTOR), { A(R_FLAGS, 0x10002 | X86_EFLAGS_CF), A(R_ERR, ~0ULL) } },
	{ "push fs (32-bit writes 2 bytes)", P32, "0fa0", { PR(4, 3) }, 0, NULL,
	  "W1fff:1=34 W2000:1=12", 0, { PR(4, -1) } },
	{ "push fs (64-bit writes 8 bytes)", L64, "0fa0", { PR(4, 4) }, 0, NULL,
	  "W1ffc:4=00001234 W2000:4=00000000", 0, { PR(4, -4) } },
	{ "pop fs (reads 2 bytes)", P32, "0fa1", { PR(4, -1) }, 0, "1000", "R1fff:1 R2000:1",
	  0, { PR(4, 3), A(R_FSSEL, 0x10) } },
	{ "mov ds,m16", L64, "8e1f", { PR(7, -1) }, 0, "1300", "R1fff:1 R2000:1",
	  OUT_EXC(GP_VECTOR), { A(R_ERR, 0x10) } },
	{ "mov ds,m16", L64, "8e1f", { PR(7, -1) }, 0, "1000", "R1fff:1 R2000:1", 0,
	  { A(R_DSSEL, 0x10) } },
	/* segment loads against the harness GDT (backend.h), as on 6.18.44 */
	{ "pop fs: zero descriptor is a system one, #GP(sel)", P32, "0fa1", { PR(4, -1) }, 0,
	  "4900", "R1fff:1 R2000:1", OUT_EXC(GP_VECTOR), { PR(4, -1), A(R_ERR, 0x48),
	  A(R_FSSEL, 0x1234) } },
	{ "mov ds,m16: past the GDT limit, #GP(sel)", L64, "8e1f", { PR(7, -1) }, 0, "8300",
	  "R1fff:1 R2000:1", OUT_EXC(GP_VECTOR), { A(R_ERR, 0x80), A(R_FLAGS, 0x10002) } },
	{ "mov es,m16: TSS descriptor, #GP(sel)", P32, "8e07", { PR(7, -1) }, 0, "4000",
	  "R1fff:1 R2000:1", OUT_EXC(GP_VECTOR), { A(R_ERR, 0x40) } },
	{ "mov es,m16: readable code is fine", P32, "8e07", { PR(7, -1) }, 0, "0800",
	  "R1fff:1 R2000:1", 0, { A(R_ESSEL, 8) } },
	{ "mov fs,m16: TI set, no LDT, #GP(sel)", L64, "8e27", { PR(7, -1) }, 0, "0e00",
	  "R1fff:1 R2000:1", OUT_EXC(GP_VECTOR), { A(R_ERR, 0xc) } },
	{ "mov ss,m16: code segment, #GP(sel)", P32, "8e17", { PR(7, -1) }, 0, "0800",
	  "R1fff:1 R2000:1", OUT_EXC(GP_VECTOR), { A(R_ERR, 8) } },
	{ "mov ss,m16: null outside 64-bit mode, #GP(0)", P32, "8e17", { PR(7, -1) }, 0, "0000",
	  "R1fff:1 R2000:1", OUT_EXC(GP_VECTOR), { A(R_ERR, 0) } },
	{ "mov ss,m16: null in 64-bit mode", L64, "8e17", { PR(7, -1) }, 0, "0000",
	  "R1fff:1 R2000:1", 0, { A(R_SSSEL, 0) } },
	{ "mov ss,m16: 1 (RPL != CPL) in 64-bit mode, #GP(0)", L64, "8e17", { PR(7, -1) }, 0,
	  "0100", "R1fff:1 R2000:1", OUT_EXC(GP_VECTOR), { A(R_ERR, 0) } },
	{ "lfs past the GDT limit: #GP(sel), no register written", L64, "0fb407",
	  { PR(7, -2), A(0, 0x55) }, 0, "51505152a2a3", "R1ffe:2 R2000:4", OUT_EXC(GP_VECTOR),
	  { A(R_ERR, 0xa3a0), A(0, 0x55), A(R_FSSEL, 0x1234) } },
	{ "mov seg6,m16: read, then #UD", L64, "8e37", { PR(7, -1) }, 0, NULL,
	  "R1fff:1 R2000:1", OUT_EXC(UD_VECTOR), { { 0 } } },
	{ "mov m,fs (32-bit op stores 2)", L64, "8c27", { PR(7, -1) }, 0, NULL,
	  "W1fff:1=34 W2000:1=12", 0, { { 0 } } },
	{ "mov m,fs with REX.W stores 8", L64, "488c27", { PR(7, -4) }, 0, NULL,
	  "W1ffc:4=00001234 W2000:4=00000000", 0, { { 0 } } },
	{ "les (6-byte far pointer)", P32, "c407", { PR(7, -4) }, 0, "112233440800",
	  "R1ffc:4 R2000:2", 0, { A(0, 0x44332211), A(R_ESSEL, 8) } },
	{ "lss (10-byte far pointer)", L64, "480fb207", { PR(7, -4) }, 0,
	  "11223344556677881800", "R1ffc:4 R2000:6", 0,
	  { A(0, 0x8877665544332211ULL), A(R_SSSEL, 0x18) } },
	/* ---- strings ---- */
	{ "movsd MMIO->RAM", L64, "a5", { PR(6, -2), SR(7, 0x100) }, 0, NULL,
	  "R1ffe:2 R2000:2", 0, { PR(6, 2), SR(7, 0x104) } },
	{ "movsd MMIO->RAM", P32, "a5", { PR(6, -2), SR(7, 0x100) }, 0, NULL,
	  "R1ffe:2 R2000:2", 0, { PR(6, 2), SR(7, 0x104) } },
	{ "rep movsd, 2 elements", L64, "f3a5", { PR(6, -2), SR(7, 0x100), A(1, 2) }, 0, NULL,
	  "R1ffe:2 R2000:2 R2002:4", 0, { A(1, 0), PR(6, 6) } },
	{ "stosd", P32, "ab", { PR(7, -2), A(0, 0xaabbccdd) }, 0, NULL,
	  "W1ffe:2=ccdd W2000:2=aabb", 0, { PR(7, 2) } },
	{ "rep stosb DF=1", L64, "f3aa", { PR(7, 0), A(1, 2), A(0, 0x5a) }, X86_EFLAGS_DF, NULL,
	  "W2000:1=5a W1fff:1=5a", 0, { PR(7, -2), A(1, 0) } },
	{ "lodsd", L64, "ad", { PR(6, -2) }, 0, NULL, "R1ffe:2 R2000:2", 0,
	  { A(0, 0x44332211), PR(6, 2) } },
	{ "lodsd fs: override", L64, "64ad", { PR(6, -0x1002) }, 0, NULL, "R1ffe:2 R2000:2", 0,
	  { A(0, 0x44332211) } },
	{ "lodsd fs: override", P32, "64ad", { PR(6, -0x1002) }, 0, NULL, "R1ffe:2 R2000:2", 0,
	  { A(0, 0x44332211) } },
	{ "cmpsd MMIO vs RAM", P32, "a7", { PR(6, -2), SR(7, 0) }, 0, NULL, "R1ffe:2 R2000:2",
	  0, { A(R_ZF, 0), PR(6, 2) } },
	{ "repe cmpsb ends on mismatch", L64, "f3a6", { PR(6, -1), SR(7, 0), A(1, 5) }, 0,
	  "0005", "R1fff:1 R2000:1", 0, { A(1, 3), PR(6, 1), A(R_ZF, 0) } },
	{ "scasd", L64, "af", { PR(7, -2), A(0, 0x44332211) }, 0, NULL, "R1ffe:2 R2000:2", 0,
	  { A(R_ZF, 1) } },
	{ "repne scasb stops on match", P32, "f2ae", { PR(7, -1), A(1, 9), A(0, 0x22) }, 0,
	  "1122", "R1fff:1 R2000:1", 0, { A(1, 7), A(R_ZF, 1) } },
	{ "rep movsb with RCX=0: no access", L64, "f3a4", { PR(6, -1), SR(7, 0) }, 0, NULL, "",
	  0, { PR(6, -1) } },
	/* ---- SSE/MMX ---- */
	{ "movdqu store split 4/12", L64, "f30f7f07", { PR(7, -4) }, 0, NULL,
	  "W1ffc:4=13121110 W2000:8=1b1a191817161514 W2008:4=1f1e1d1c", 0, { { 0 } } },
	{ "movdqu store split 4/12", P32, "f30f7f07", { PR(7, -4) }, 0, NULL,
	  "W1ffc:4=13121110 W2000:8=1b1a191817161514 W2008:4=1f1e1d1c", 0, { { 0 } } },
	{ "movups load split 8/8", L64, "0f1007", { PR(7, -8) }, 0, NULL, "R1ff8:8 R2000:8", 0,
	  { A(R_XMM0LO, 0x8877665544332211ULL) } },
	{ "movupd store split", P32, "660f1107", { PR(7, -2) }, 0, NULL,
	  "W1ffe:2=1110 W2000:8=1918171615141312 W2008:6=1f1e1d1c1b1a", 0, { { 0 } } },
	{ "movaps misaligned: #GP", L64, "0f2807", { PR(7, -8) }, 0, NULL, "",
	  OUT_EXC(GP_VECTOR), { { 0 } } },
	{ "movapd aligned", P32, "660f2907", { PR(7, -16) }, 0, NULL,
	  "W1ff0:8=1716151413121110 W1ff8:8=1f1e1d1c1b1a1918", 0, { { 0 } } },
	{ "movntps aligned", L64, "0f2b07", { PR(7, -16) }, 0, NULL,
	  "W1ff0:8=1716151413121110 W1ff8:8=1f1e1d1c1b1a1918", 0, { { 0 } } },
	{ "movdqa misaligned: #GP", P32, "660f6f07", { PR(7, -4) }, 0, NULL, "",
	  OUT_EXC(GP_VECTOR), { { 0 } } },
	{ "movntdq misaligned: #GP", L64, "660fe707", { PR(7, -4) }, 0, NULL, "",
	  OUT_EXC(GP_VECTOR), { { 0 } } },
	{ "mmx movq load split", L64, "0f6f07", { PR(7, -4) }, 0, NULL, "R1ffc:4 R2000:4", 0,
	  { A(R_MM0, 0x8877665544332211ULL) } },
	{ "mmx movq store split", P32, "0f7f07", { PR(7, -3) }, 0, NULL,
	  "W1ffd:3=030201 W2000:5=0807060504", 0, { { 0 } } },
	{ "movbe load: read, then #UD", L64, "0f38f007", { PR(7, -2) }, 0, NULL,
	  "R1ffe:2 R2000:2", OUT_EXC(UD_VECTOR), { { 0 } } },
	{ "movbe load: read, then #UD", P32, "0f38f007", { PR(7, -2) }, 0, NULL,
	  "R1ffe:2 R2000:2", OUT_EXC(UD_VECTOR), { { 0 } } },
	{ "movbe store: #UD, no access", L64, "0f38f107", { PR(7, -2) }, 0, NULL, "",
	  OUT_EXC(UD_VECTOR), { { 0 } } },
	/* ---- port I/O (in-kernel device at 0x80: k-th byte read is 0x80 + k) ---- */
	{ "in al,dx", L64, "ec", { A(2, 0x80) }, 0, NULL, "", 0, { A(0, 0x80) } },
	{ "in eax,imm8", P32, "e584", { { 0 } }, 0, NULL, "", 0, { A(0, 0x87868584) } },
	{ "in ax,dx", R16, "ed", { A(2, 0x10082), A(0, 0xaaaa5555) }, 0, NULL, "", 0,
	  { A(0, 0xaaaa8382) } },
	{ "out dx,al does not access memory", P32, "ee", { A(2, 0x81) }, 0, NULL, "", 0,
	  { { 0 } } },
	{ "insd to MMIO, split", P32, "6d", { PR(7, -2), A(2, 0x80) }, 0, NULL,
	  "W1ffe:2=8180 W2000:2=8382", 0, { PR(7, 2) } },
	{ "insd to MMIO, split", L64, "6d", { PR(7, -2), A(2, 0x80) }, 0, NULL,
	  "W1ffe:2=8180 W2000:2=8382", 0, { PR(7, 2) } },
	{ "insw to MMIO, split", R16, "6d", { PR(7, -1), A(2, 0x80) }, 0, NULL,
	  "W1fff:1=80 W2000:1=81", 0, { PR(7, 1) } },
	{ "ins with REX.W moves 4 bytes", L64, "486d", { PR(7, -2), A(2, 0x80) }, 0, NULL,
	  "W1ffe:2=8180 W2000:2=8382", 0, { PR(7, 2) } },
	{ "insb DF=1", P32, "6c", { PR(7, 0), A(2, 0x8f) }, X86_EFLAGS_DF, NULL, "W2000:1=8f",
	  0, { PR(7, -1) } },
	{ "outsd from MMIO, split", L64, "6f", { PR(6, -2), A(2, 0x80) }, 0, NULL,
	  "R1ffe:2 R2000:2", 0, { PR(6, 2) } },
	{ "outsd from MMIO, split", P32, "6f", { PR(6, -2), A(2, 0x80) }, 0, NULL,
	  "R1ffe:2 R2000:2", 0, { PR(6, 2) } },
	{ "outsw from MMIO, split", R16, "6f", { PR(6, -1), A(2, 0x80) }, 0, NULL,
	  "R1fff:1 R2000:1", 0, { PR(6, 1) } },
	{ "rep outsb from MMIO", P32, "f36e", { PR(6, -1), A(2, 0x80), A(1, 2) }, 0, NULL,
	  "R1fff:1 R2000:1", 0, { A(1, 0), PR(6, 1) } },
	/* ---- far transfers and iret ---- */
	{ "call far m", L64, "ff1f", { PR(7, -2), SR(4, 0x800) }, 0, "000000021000",
	  "R1ffe:2 R2000:4", 0,
	  { A(R_RIP, 0x2000000), A(R_CSSEL, 0x10), SR(4, 0x7f8), A(R_STACKQ, 0x1000002) } },
	{ "call far m", P32, "ff1f", { PR(7, -2), SR(4, 0x800) }, 0, "000000020800",
	  "R1ffe:2 R2000:4", 0,
	  { A(R_RIP, 0x2000000), A(R_CSSEL, 8), SR(4, 0x7f8), A(R_STACKQ, 0x1000002) } },
	{ "call far ptr16:32, split push of the offset", P32, "9a000102030800", { SR(4, 6) },
	  0, NULL, "W9ffe:2=0007", 0, { A(R_RIP, 0x03020100), A(R_CSSEL, 8), SR(4, -2) } },
	/* two pushes to MMIO in one pass: the second write replaces the first (2.4) */
	{ "call far ptr16:32, both pushes to MMIO", P32, "9a000102030800", { PR(4, 4) }, 0,
	  NULL, "W1ffc:4=01000007", 0, { A(R_RIP, 0x03020100), PR(4, -4) } },
	/* the CS descriptor is checked first (harness GDT), as on 6.18.44 */
	{ "call far m: data selector, #GP(sel) before any push", L64, "ff1f",
	  { PR(7, -2), SR(4, 0x800) }, 0, "000000021800", "R1ffe:2 R2000:4",
	  OUT_EXC(GP_VECTOR), { A(R_ERR, 0x18), SR(4, 0x800) } },
	/*
	 * Far transfers out of 64-bit mode continue in the mode of the CS they
	 * load (KVM's assign_eip_far()): the offset is checked against a
	 * 16-bit segment's limit, and call far pushes with rSP masked by SS.D
	 * (the harness GDT: 0x38 16-bit code, 0x08 32-bit code).  Seen on
	 * 6.18.44: corpus s11-s15.
	 */
	{ "call far m from 64-bit to 16-bit code past its limit: #GP(0), no push", L64,
	  "ff1f", { PR(7, -2), SR(4, 0x800) }, 0, "00008c023800", "R1ffe:2 R2000:4",
	  OUT_EXC(GP_VECTOR), { A(R_ERR, 0), A(R_CSSEL, 0), SR(4, 0x800) } },
	{ "call far m from 64-bit to 32-bit code: pushes at the low 32 bits of RSP", L64,
	  "ff1f", { PR(7, -2), A(4, 0x140001004ULL) }, 0, "000000020800",
	  "R1ffe:2 R2000:4 W1ffc:4=01000002", 0,
	  { A(R_RIP, 0x2000000), A(R_CSSEL, 8), A(4, 0x140000ffcULL) } },
	{ "call far m16:64 from 64-bit to 32-bit code, offset above 4 GiB: #GP(0)", L64,
	  "48ff1f", { PR(7, -2), SR(4, 0x800) }, 0, "00000000010000000800",
	  "R1ffe:2 R2000:8", OUT_EXC(GP_VECTOR), { A(R_ERR, 0), A(R_CSSEL, 0), SR(4, 0x800) } },
	{ "jmp far m from 64-bit to 16-bit code past its limit: emulation failure", L64,
	  "ff2f", { PR(7, -2) }, 0, "00008c023800", "R1ffe:2 R2000:4", OUT_FAIL, { { 0 } } },
	{ "jmp far m from 64-bit to 16-bit code within its limit", L64, "ff2f", { PR(7, -2) }, 0,
	  "341200003800", "R1ffe:2 R2000:4", 0, { A(R_RIP, 0x1234), A(R_CSSEL, 0x38) } },
	{ "retf from 64-bit to 16-bit code past its limit: emulation failure", L64, "cb",
	  { PR(4, 0) }, 0, "0000010038000000", "R2000:4 R2004:4", OUT_FAIL, { { 0 } } },
	{ "jmp far ptr16:32: zero (system) descriptor, emulation failure", P32,
	  "ea2f00005048 00", { { 0 } }, 0, NULL, "", OUT_FAIL, { { 0 } } },
	{ "jmp far ptr16:32: past the GDT limit, #GP(sel)", P32, "ea100060005020", { { 0 } },
	  0, NULL, "", OUT_EXC(GP_VECTOR), { A(R_ERR, 0x2050) } },
	{ "retf: past the GDT limit, #GP(sel) before RPL checks", P32, "cb", { PR(4, -4) }, 0,
	  "000000022be0", "R1ffc:4 R2000:4", OUT_EXC(GP_VECTOR), { A(R_ERR, 0xe028) } },
	{ "call far m16:16", R16, "ff1f", { PR(3, -1), SR(4, 0x800) }, 0, "34120010",
	  "R1fff:1 R2000:3", 0,
	  { A(R_RIP, 0x1234), A(R_CSSEL, 0x1000), A(R_CSBASE, 0x10000), SR(4, 0x7fc) } },
	{ "call far m16:32 beyond the CS limit: #GP", R16, "66ff1f", { PR(3, -2), SR(4, 0x800) },
	  0, "000001000010", "R1ffe:2 R2000:4", OUT_EXC(GP_VECTOR),
	  { A(R_CSSEL, 0), A(R_CSBASE, 0), SR(4, 0x800) } },
	{ "call far ptr16:16, split push of IP", R16, "9a34120010", { SR(4, 3) }, 0, NULL,
	  "W9fff:1=05", 0, { A(R_RIP, 0x1234), A(R_CSSEL, 0x1000), SR(4, -1) } },
	{ "call far m with a register: #UD", P32, "ffd8", { { 0 } }, 0, NULL, "",
	  OUT_EXC(UD_VECTOR), { { 0 } } },
	{ "jmp far m", P32, "ff2f", { PR(7, -2) }, 0, "000000020800", "R1ffe:2 R2000:4", 0,
	  { A(R_RIP, 0x2000000), A(R_CSSEL, 8) } },
	{ "jmp far m", L64, "48ff2f", { PR(7, -2) }, 0, "00000002000000001000",
	  "R1ffe:2 R2000:8", 0, { A(R_RIP, 0x2000000), A(R_CSSEL, 0x10) } },
	{ "jmp far m16:16", R16, "ff2f", { PR(3, -1) }, 0, "34120010", "R1fff:1 R2000:3", 0,
	  { A(R_RIP, 0x1234), A(R_CSSEL, 0x1000), A(R_CSBASE, 0x10000) } },
	{ "jmp far ptr16:32", P32, "ea785634120800", { { 0 } }, 0, NULL, "", 0,
	  { A(R_RIP, 0x12345678), A(R_CSSEL, 8) } },
	/*
	 * Pops from an MMIO stack replay with the register cache kept, like
	 * POPA: each replay re-advances rSP for the pops served from
	 * mem_read, so later pops read further up and rSP ends skewed.
	 */
	{ "retf, MMIO stack (replay skew)", L64, "cb", { PR(4, -2) }, 0, "0000000210000000",
	  "R1ffe:2 R2000:2 R2002:4", 0, { A(R_RIP, 0x2000000), A(R_CSSEL, 0x10), PR(4, 10) } },
	{ "retf imm16, MMIO stack (replay skew)", P32, "ca0800", { PR(4, -2) }, 0,
	  "0000000208000000", "R1ffe:2 R2000:2 R2002:4", 0,
	  { A(R_RIP, 0x2000000), A(R_CSSEL, 8), PR(4, 18) } },
	{ "retf 16-bit, MMIO stack (replay skew)", R16, "cb", { PR(4, -1) }, 0, "34120010",
	  "R1fff:1 R2000:1 R2001:2", 0,
	  { A(R_RIP, 0x1234), A(R_CSSEL, 0x1000), A(R_CSBASE, 0x10000), PR(4, 5) } },
	{ "retf 16-bit, split offset pop then RAM", R16, "cb", { SR(4, -1) }, 0, "34",
	  "R9fff:1", 0, { A(R_RIP, 0x0034), A(R_CSSEL, 0x0201), SR(4, 3) } },
	{ "retf to an outer privilege level: failure", P32, "cb", { PR(4, -4) }, 0,
	  "000000020b000000", "R1ffc:4 R2000:4", OUT_FAIL, { { 0 } } },
	{ "iret real mode, split IP pop then RAM", R16, "cf", { SR(4, -1) }, 0, "34", "R9fff:1",
	  0, { A(R_RIP, 0x0034), A(R_CSSEL, 0x0201), A(R_CSBASE, 0x2010), SR(4, 5) } },
	{ "iret real mode, MMIO stack (replay skew)", R16, "cf", { PR(4, -1) }, 0,
	  "34120010d508", "R1fff:1 R2000:1 R2001:2 R2005:2", 0,
	  { A(R_RIP, 0x1234), A(R_CSSEL, 0x1000), A(R_CF, 1), PR(4, 11) } },
	{ "iret 32-bit in real mode, MMIO stack", R16, "66cf", { PR(4, -4) }, 0,
	  "341200000010000041000000", "R1ffc:4 R2000:4 R2008:4", 0,
	  { A(R_RIP, 0x1234), A(R_ZF, 1), A(R_CF, 1), PR(4, 20) } },
	/* RAM stack at S + 0x21: IP 0x2221, CS 0x2423, FLAGS 0x2625 (bit 5 reserved) */
	{ "iret 16-bit clears RFLAGS[63:32] and [31:22], keeps [21:16]", R16, "cf",
	  { SR(4, 0x21) }, 0xabcd0000ffe40000ULL, NULL, "", 0,
	  { A(R_RIP, 0x2221), A(R_FLAGS, 0x242607), SR(4, 0x27) } },
	{ "iret 32-bit clears RFLAGS[63:32], keeps VIF/VIP", R16, "66cf", { PR(4, -4) },
	  0xabcd000000180000ULL, "341200000010000041000000", "R1ffc:4 R2000:4 R2008:4", 0,
	  { A(R_RIP, 0x1234), A(R_FLAGS, 0x180043), PR(4, 20) } },
	{ "iret with EIP above 0xffff: #GP after one pop", R16, "66cf", { PR(4, -2) }, 0,
	  "00000100", "R1ffe:2 R2000:2", OUT_EXC(GP_VECTOR), { PR(4, -2) } },
	{ "iret in protected mode: failure", P32, "cf", { PR(4, -2) }, 0, NULL, "", OUT_FAIL,
	  { { 0 } } },
	/* ---- what KVM refuses ---- */
	{ "lock mov: #UD", L64, "f08b07", { PR(7, -2) }, 0, NULL, "", OUT_EXC(UD_VECTOR),
	  { { 0 } } },
	{ "lock add reg: #UD", P32, "f001c0", { { 0 } }, 0, NULL, "", OUT_EXC(UD_VECTOR),
	  { { 0 } } },
	{ "VEX vmovdqa: failure", L64, "c5f96f07", { PR(7, -2) }, 0, NULL, "", OUT_FAIL,
	  { { 0 } } },
	{ "undecodable: failure", P32, "0f04", { { 0 } }, 0, NULL, "", OUT_FAIL, { { 0 } } },
	{ "paddd xmm,m: failure", L64, "660ffe07", { PR(7, -2) }, 0, NULL, "", OUT_FAIL,
	  { { 0 } } },
};

static u64 boundary(enum env_mode mode)
{
	return mode == ENV_LONG64 ? V1 : 0x2000;
}

static u64 regval(const struct regval *r, enum env_mode mode)
{
	switch (r->kind) {
	case K_P:
		return boundary(mode) + (u64)r->val;
	case K_S:
		return S + (u64)r->val;
	default:
		return (u64)r->val;
	}
}

struct insn_env {
	struct env *e;
	struct insn_decoder dec;
	struct insn_source src;
	u8 *stack;
};

/* a test VMM whose guest instruction is @hex */
static int insn_env_create(struct insn_env *ie, const char *profile, enum env_mode mode,
			   const char *hex)
{
	u8 b[INSN_MAX_LEN];
	unsigned int n = hex_bytes(hex, b, sizeof(b)), i;

	if (insn_decoder_init(&ie->dec))
		return -1;
	ie->e = env_create(profile, mode, false);
	insn_source_init(&ie->src, &ie->dec, b, n);
	ie->e->vcpu.guest = &insn_guest_ops;
	ie->e->vcpu.guest_priv = &ie->src;
	ie->e->vcpu.sregs.cr4 |= X86_CR4_OSFXSR;
	harness_gdt(&ie->e->vcpu.sregs.gdt);
	ie->e->vcpu.sregs.seg[VCPU_SREG_FS].selector = 0x1234;
	ie->e->vcpu.sregs.seg[VCPU_SREG_FS].base = 0x1000;
	memcpy(ie->e->vcpu.xmm[0], example_sixteen, 16);
	ie->src.mm[0] = 0x0807060504030201ULL;
	ie->stack = NULL;
	if (mode == ENV_LONG64) {
		env_map(ie->e, V0, 0x1000, RW);
		env_map(ie->e, V1, 0x2000, RW);
		/*
		 * SS.D as the harness's SS (its flat data segment): ignored in
		 * 64-bit mode, it sizes the stack after a far transfer to
		 * 32-bit or 16-bit code.
		 */
		ie->e->vcpu.sregs.seg[VCPU_SREG_SS].db = true;
	}
	if (mode != ENV_PROT32_PAGING) {
		ie->stack = env_ram(ie->e, S, false);
		for (i = 0; i < PAGE_SIZE; i++)
			ie->stack[i] = (u8)i;
		if (mode == ENV_LONG64)
			env_map(ie->e, S, S, RW);
	}
	return 0;
}

static void insn_env_destroy(struct insn_env *ie)
{
	env_destroy(ie->e);
	insn_decoder_fini(&ie->dec);
}

static u64 want_value(struct insn_env *ie, unsigned int reg)
{
	struct kvm_vcpu *v = &ie->e->vcpu;
	u64 q;

	switch (reg) {
	case R_RIP: return v->rip;
	case R_CF: return !!(v->rflags & X86_EFLAGS_CF);
	case R_ZF: return !!(v->rflags & X86_EFLAGS_ZF);
	case R_MM0: return ie->src.mm[0];
	case R_XMM0LO: memcpy(&q, v->xmm[0], 8); return q;
	case R_ESSEL: return v->sregs.seg[VCPU_SREG_ES].selector;
	case R_SSSEL: return v->sregs.seg[VCPU_SREG_SS].selector;
	case R_DSSEL: return v->sregs.seg[VCPU_SREG_DS].selector;
	case R_FSSEL: return v->sregs.seg[VCPU_SREG_FS].selector;
	case R_CSSEL: return v->sregs.seg[VCPU_SREG_CS].selector;
	case R_CSBASE: return v->sregs.seg[VCPU_SREG_CS].base;
	case R_ERR:
		return v->exception_delivered && v->delivered.error_code_valid ?
		       v->delivered.error_code : ~0ULL;
	case R_FLAGS: return v->rflags;
	case R_STACKQ:
		q = 0;
		if (ie->stack && (v->regs[VCPU_REGS_RSP] & PAGE_MASK) == S)
			memcpy(&q, ie->stack + (v->regs[VCPU_REGS_RSP] & 0xfff),
			       min_t(u64, 8, PAGE_SIZE - (v->regs[VCPU_REGS_RSP] & 0xfff)));
		return q;
	default:
		return v->regs[reg];
	}
}

static void dump_exits(const struct env *e)
{
	unsigned int i;

	printf("# exits:");
	for (i = 0; i < e->nr_exits; i++)
		printf(" %c%llx:%u", e->exits[i].write ? 'W' : 'R',
		       (unsigned long long)e->exits[i].gpa, e->exits[i].len);
	printf("\n");
}

static void run_insn_case(struct test_ctx *t, const struct insn_case *c, const char *profile)
{
	static const u8 pattern[32] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
					0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00,
					0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08 };
	struct insn_env ie;
	struct env *e;
	const char *p;
	unsigned int i, nx = 0;
	u8 rdata[32];

	TEST_ASSERT(!insn_env_create(&ie, profile, c->mode, c->hex), "decoder init failed");
	e = ie.e;
	e->vcpu.rflags |= c->rflags;
	for (i = 0; i < ARRAY_SIZE(c->set) && c->set[i].kind; i++)
		e->vcpu.regs[c->set[i].reg] = regval(&c->set[i], c->mode);
	if (c->rdata)
		env_read_data(e, rdata, hex_bytes(c->rdata, rdata, sizeof(rdata)));
	else
		env_read_data(e, pattern, sizeof(pattern));
	env_run(e);

	/* the exit sequence */
	for (p = c->exits; *p; ) {
		char dir;
		unsigned long long gpa;
		unsigned int len, used = 0;
		u8 data[8];
		unsigned int nd = 0;

		while (*p == ' ')
			p++;
		if (!*p)
			break;
		if (sscanf(p, "%c%llx:%u%n", &dir, &gpa, &len, (int *)&used) < 3)
			TEST_FAIL("bad exit spec '%s'", p);
		p += used;
		if (*p == '=') {
			const char *q = ++p;

			while (*p && *p != ' ')
				p++;
			/* data is written most significant byte first */
			{
				char tmp[20] = { 0 };
				u8 be[8];
				unsigned int k;

				memcpy(tmp, q, min_t(u64, (u64)(p - q), 16));
				nd = hex_bytes(tmp, be, 8);
				for (k = 0; k < nd; k++)
					data[k] = be[nd - 1 - k];
			}
		}
		if (nx >= e->nr_exits)
			insn_env_destroy(&ie);
		TEST_ASSERT(nx < e->nr_exits, "%s: exit %u missing (have %u)", c->name, nx,
			    e->nr_exits);
		if (e->exits[nx].gpa != gpa || e->exits[nx].len != len ||
		    e->exits[nx].write != (dir == 'W') ||
		    (nd && memcmp(e->exits[nx].data, data, nd))) {
			u64 got = env_exit_data(e, nx);

			test_fail(t, __FILE__, __LINE__,
				  "%s: exit %u is %c%llx:%u=%llx, wanted %c%llx:%u", c->name, nx,
				  e->exits[nx].write ? 'W' : 'R',
				  (unsigned long long)e->exits[nx].gpa, e->exits[nx].len,
				  (unsigned long long)got, dir, gpa, len);
			dump_exits(e);
			insn_env_destroy(&ie);
			return;
		}
		nx++;
	}
	if (e->nr_exits != nx) {
		dump_exits(e);
		test_fail(t, __FILE__, __LINE__, "%s: %u exits, wanted %u (first extra %llx:%u)",
			  c->name, e->nr_exits, nx,
			  (unsigned long long)e->exits[nx < e->nr_exits ? nx : 0].gpa,
			  e->exits[nx < e->nr_exits ? nx : 0].len);
		insn_env_destroy(&ie);
		return;
	}

	/* the outcome */
	if (e->ioctl_rc) {
		test_fail(t, __FILE__, __LINE__, "%s: KVM_RUN returned %d", c->name, e->ioctl_rc);
	} else if (c->outcome == OUT_FAIL) {
		if (e->exit_reason != KVM_EXIT_INTERNAL_ERROR)
			test_fail(t, __FILE__, __LINE__, "%s: exit reason %u, wanted internal error",
				  c->name, e->exit_reason);
	} else if (c->outcome == OUT_AGAIN) {
		if (e->exit_reason != KVM_EXIT_INTR || e->vcpu.exception_delivered ||
		    e->vcpu.rip != e->vcpu.insn_rip)
			test_fail(t, __FILE__, __LINE__,
				  "%s: wanted the entry budget on the instruction, got exit %u, exception %d, RIP 0x%llx",
				  c->name, e->exit_reason, e->vcpu.exception_delivered,
				  (unsigned long long)e->vcpu.rip);
	} else if (c->outcome >= 100) {
		if (!e->vcpu.exception_delivered ||
		    e->vcpu.delivered.vector != c->outcome - 100)
			test_fail(t, __FILE__, __LINE__, "%s: wanted exception %d, got %s %u",
				  c->name, c->outcome - 100,
				  e->vcpu.exception_delivered ? "vector" : "exit reason",
				  e->vcpu.exception_delivered ? e->vcpu.delivered.vector :
				  e->exit_reason);
		else if (c->outcome != OUT_EXC(DB_VECTOR) && e->vcpu.rip != e->vcpu.insn_rip)
			test_fail(t, __FILE__, __LINE__, "%s: RIP moved on a fault", c->name);
	} else {
		bool rip_wanted = false;

		for (i = 0; i < ARRAY_SIZE(c->want) && c->want[i].kind; i++)
			rip_wanted |= c->want[i].reg == R_RIP;
		if (e->exit_reason != KVM_EXIT_HLT || e->vcpu.exception_delivered)
			test_fail(t, __FILE__, __LINE__,
				  "%s: not retired (exit %u, exception %d vector %u, status %d)",
				  c->name, e->exit_reason, e->vcpu.exception_delivered,
				  e->vcpu.delivered.vector, ie.src.last.status);
		else if (!rip_wanted && e->vcpu.rip != e->vcpu.insn_rip + ie.src.len)
			test_fail(t, __FILE__, __LINE__, "%s: RIP 0x%llx", c->name,
				  (unsigned long long)e->vcpu.rip);
	}
	for (i = 0; !t->failed && i < ARRAY_SIZE(c->want) && c->want[i].kind; i++) {
		u64 got = want_value(&ie, c->want[i].reg), w = regval(&c->want[i], c->mode);

		if (got != w)
			test_fail(t, __FILE__, __LINE__, "%s: register %u is 0x%llx, wanted 0x%llx",
				  c->name, c->want[i].reg, (unsigned long long)got,
				  (unsigned long long)w);
	}
	if (!t->failed && e->vcpu.warnings)
		test_fail(t, __FILE__, __LINE__, "%s: WARNs 0x%x", c->name, e->vcpu.warnings);
	insn_env_destroy(&ie);
}

struct insn_case_arg {
	const struct insn_case *c;
	const char *profile;
};

static void insn_case_test(struct test_ctx *t, const void *arg)
{
	const struct insn_case_arg *a = arg;

	run_insn_case(t, a->c, a->profile);
}

__attribute__((constructor)) static void register_insn_cases(void)
{
	static struct insn_case_arg args[ARRAY_SIZE(insn_cases) * ARRAY_SIZE(insn_profiles)];
	unsigned int i, j, n = 0;

	for (j = 0; j < ARRAY_SIZE(insn_profiles); j++) {
		for (i = 0; i < ARRAY_SIZE(insn_cases); i++) {
			char *name;

			args[n] = (struct insn_case_arg){ &insn_cases[i], insn_profiles[j] };
			if (asprintf(&name, "insn %s %s [%s]", insn_cases[i].name,
				     insn_cases[i].mode == ENV_LONG64 ? "64" :
				     insn_cases[i].mode == ENV_REAL16 ? "16" : "32",
				     insn_profiles[j]) < 0)
				abort();
			test_register(name, insn_case_test, &args[n++]);
		}
	}
}

/* ---- the instruction fetch: canonical RIP, CS limit ---- */

struct fetch_case {
	const char *name;
	enum env_mode mode;
	u64 rip;
	u32 cs_limit;		/* 0: the environment's */
	bool gp;		/* #GP(0) before anything, else retired */
};

static const struct fetch_case fetch_cases[] = {
	{ "fetch: non-canonical RIP, #GP(0)", L64, 0x800000000000ULL, 0, true },
	{ "fetch: last byte non-canonical, #GP(0)", L64, 0x7ffffffffffeULL, 0, true },
	{ "fetch: last byte canonical", L64, 0x7ffffffffffdULL, 0, false },
	{ "fetch: upper half", L64, 0xffff800000000000ULL, 0, false },
	{ "fetch: EIP past the CS limit, #GP(0)", P32, 0x1000, 0xfff, true },
	{ "fetch: last byte past the CS limit, on the next page, #GP(0)", P32, 0xffe, 0xfff,
	  true },
	/* 6.18.44: the bytes on RIP's page are checked too */
	{ "fetch: last byte past the CS limit, same page, #GP(0)", P32, 0x3ff0, 0x3ff1, true },
	{ "fetch: last byte past the CS limit in real mode, #GP(0)", R16, 0, 1, true },
	{ "fetch: last byte at the CS limit in real mode", R16, 0, 2, false },
	{ "fetch: last byte at the CS limit", P32, 0xffd, 0xfff, false },
	/* the emulator gets all 64 bits of RIP (6.18.44, prot32-paging: #GP(0)) */
	{ "fetch: RIP[63:32] set in a 32-bit mode, #GP(0)", P32, 0x100000ffdULL, 0, true },
	{ "fetch: RIP bit 63 set in a 32-bit mode, #GP(0)", P32, 0x8000000000000ffdULL, 0,
	  true },
	{ "fetch: RIP[63:32] set in real mode, #GP(0)", R16, 0x100000000ULL, 0, true },
};

/* lea eax, [rdi-2]: three bytes, no access */
static void test_fetch_case(struct test_ctx *t, const void *arg)
{
	const struct fetch_case *c = arg;
	struct insn_env ie;
	struct env *e;

	TEST_ASSERT(!insn_env_create(&ie, "6.18.24", c->mode, "8d47fe"), "decoder init failed");
	e = ie.e;
	e->vcpu.rip = c->rip;
	if (c->cs_limit)
		e->vcpu.sregs.seg[VCPU_SREG_CS].limit = c->cs_limit;
	env_run(e);
	if (c->gp) {
		if (!e->vcpu.exception_delivered || e->vcpu.delivered.vector != GP_VECTOR ||
		    e->vcpu.delivered.error_code || e->vcpu.rip != c->rip)
			test_fail(t, __FILE__, __LINE__, "wanted #GP(0) at 0x%llx, got %s %u at 0x%llx",
				  (unsigned long long)c->rip,
				  e->vcpu.exception_delivered ? "vector" : "exit reason",
				  e->vcpu.exception_delivered ? e->vcpu.delivered.vector :
				  e->exit_reason, (unsigned long long)e->vcpu.rip);
	} else if (e->vcpu.exception_delivered || e->exit_reason != KVM_EXIT_HLT ||
		   e->vcpu.rip != c->rip + 3) {
		test_fail(t, __FILE__, __LINE__, "wanted retired, got exception %d vector %u, "
			  "exit %u, RIP 0x%llx", e->vcpu.exception_delivered,
			  e->vcpu.delivered.vector, e->exit_reason,
			  (unsigned long long)e->vcpu.rip);
	}
	insn_env_destroy(&ie);
}

TEST_ROWS(fetch_cases, test_fetch_case);

/*
 * KVM fetches the whole instruction (x86_decode_insn) before it raises the
 * SSE-state #UD or a LOCK #UD (x86_emulate_insn): with the last byte past
 * the CS limit that is #GP(0) (6.18.44: prot16 66 0f 10 34, CS limit 0,
 * CR4.OSFXSR clear).  @hex at EIP 0x3ff0, CS limit 0x3ff1.
 */
struct fetch_order_case {
	const char *name;
	const char *hex;
	u32 cs_limit;
	u8 vector;
};

static const struct fetch_order_case fetch_order_cases[] = {
	{ "fetch before the SSE #UD: last byte past the CS limit, #GP(0)", "0f1007", 0x3ff1,
	  GP_VECTOR },
	{ "fetch before the SSE #UD: all bytes within the CS limit, #UD", "0f1007", 0x3ff2,
	  UD_VECTOR },
	{ "fetch before the LOCK #UD: last byte past the CS limit, #GP(0)", "f08b07", 0x3ff1,
	  GP_VECTOR },
	{ "fetch before the LOCK #UD: all bytes within the CS limit, #UD", "f08b07", 0x3ff2,
	  UD_VECTOR },
};

static void test_fetch_order_case(struct test_ctx *t, const void *arg)
{
	const struct fetch_order_case *c = arg;
	struct insn_env ie;
	struct env *e;

	TEST_ASSERT(!insn_env_create(&ie, "6.18.24", ENV_PROT32, c->hex), "decoder init failed");
	e = ie.e;
	e->vcpu.rip = 0x3ff0;
	e->vcpu.sregs.seg[VCPU_SREG_CS].limit = c->cs_limit;
	e->vcpu.sregs.cr4 &= ~X86_CR4_OSFXSR;
	env_run(e);
	if (!e->vcpu.exception_delivered || e->vcpu.delivered.vector != c->vector ||
	    e->vcpu.rip != 0x3ff0)
		test_fail(t, __FILE__, __LINE__, "wanted vector %u at 0x3ff0, got %s %u at 0x%llx",
			  c->vector, e->vcpu.exception_delivered ? "vector" : "exit reason",
			  e->vcpu.exception_delivered ? e->vcpu.delivered.vector : e->exit_reason,
			  (unsigned long long)e->vcpu.rip);
	insn_env_destroy(&ie);
}

TEST_ROWS(fetch_order_cases, test_fetch_order_case);

/*
 * Too few bytes for KVM's length: the decode says how many KVM would
 * fetch, so that a backend does not take Capstone's shorter length (66
 * with a near branch in 64-bit mode: KVM 64-bit operand, rel32; Capstone
 * rel16), and the guest does not read what follows as the displacement.
 */
TEST(insn_truncated_decode_gives_kvm_length)
{
	static const struct { const char *hex; u8 len, cs_len; } rows[] = {
		{ "660f862704", 7, 5 },	/* jbe rel */
		{ "66e92704", 6, 4 },	/* jmp rel */
	};
	struct insn_decoder dec;
	struct insn_decoded d;
	unsigned int i;

	TEST_ASSERT(!insn_decoder_init(&dec), "decoder init failed");
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		u8 b[INSN_MAX_LEN];
		unsigned int n = hex_bytes(rows[i].hex, b, sizeof(b));

		insn_decode(&dec, X86EMUL_MODE_PROT64, b, n, &d);
		if (d.status != INSN_UNDECODABLE || d.len != rows[i].len ||
		    d.cs_len != rows[i].cs_len)
			test_fail(t, __FILE__, __LINE__, "%s: wanted undecodable, len %u, Capstone "
				  "%u; got status %d, len %u, Capstone %u", rows[i].hex,
				  rows[i].len, rows[i].cs_len, d.status, d.len, d.cs_len);
	}
	insn_decoder_fini(&dec);
}

/* ---- the spec's worked examples E1-E11 from instruction bytes ---- */

#define EXAMPLE(fn, title)	PROFILE_TEST(fn, "insn ", title, insn_profiles)

static struct env *example_env(struct insn_env *ie, const void *arg, enum env_mode mode,
			       const char *hex)
{
	if (insn_env_create(ie, arg, mode, hex))
		abort();
	ie->e->vcpu.regs[VCPU_REGS_RAX] = 0xdeadbeefdeadbeefULL;
	return ie->e;
}

/*
 * The instruction @hex in @mode with test_examples.c's set-up and checks
 * (examples.h); the checks run inside a helper so that a failing
 * TEST_ASSERT (which returns) still lets the environment be freed.
 */
static void run_insn_example(struct test_ctx *t, const void *arg, enum env_mode mode,
			     const char *hex, example_setup_fn setup, example_checks_fn checks)
{
	struct insn_env ie;
	struct env *e = example_env(&ie, arg, mode, hex);

	setup(e);
	env_run(e);
	checks(t, arg, e);
	insn_env_destroy(&ie);
}

EXAMPLE(ie1, "E1 8b 07 split read")
{
	run_insn_example(t, arg, ENV_LONG64, "8b07", example_e1_setup, example_e1_checks);
}

EXAMPLE(ie2, "E2 8b 07 non-contiguous uneven split")
{
	run_insn_example(t, arg, ENV_LONG64, "8b07", example_e2_setup, example_e2_checks);
}

EXAMPLE(ie3a, "E3a 48 8b 07 split MMIO then RAM")
{
	run_insn_example(t, arg, ENV_LONG64, "488b07", example_e3a_setup, example_e3a_checks);
}

EXAMPLE(ie3b, "E3b 48 8b 07 split RAM then MMIO")
{
	run_insn_example(t, arg, ENV_LONG64, "488b07", example_e3b_setup, example_e3b_checks);
}

EXAMPLE(ie4a, "E4a f3 0f 6f 07 16-byte load from one page")
{
	run_insn_example(t, arg, ENV_LONG64, "f30f6f07", example_e4a_setup, example_e4a_checks);
}

EXAMPLE(ie4b, "E4b f3 0f 6f 07 split 8/8")
{
	run_insn_example(t, arg, ENV_LONG64, "f30f6f07", example_e4b_setup, example_e4b_checks);
}

EXAMPLE(ie4c, "E4 66 0f 6f 07 movdqa split: #GP without MMIO")
{
	run_insn_example(t, arg, ENV_LONG64, "660f6f07", example_e4c_setup, example_e4c_checks);
}

EXAMPLE(ie5, "E5 89 07 split write")
{
	run_insn_example(t, arg, ENV_LONG64, "8907", example_e5_setup, example_e5_checks);
}

EXAMPLE(ie6, "E6 c8 00 00 00 ENTER split push")
{
	run_insn_example(t, arg, ENV_LONG64, "c8000000", example_e6_setup, example_e6_checks);
}

EXAMPLE(ie7, "E7 f3 0f 7f 07 store partly absorbed by an ioeventfd")
{
	run_insn_example(t, arg, ENV_LONG64, "f30f7f07", example_e7_setup, example_e7_checks);
}

EXAMPLE(ie8, "E8 60 PUSHA from MMIO into RAM (32-bit)")
{
	run_insn_example(t, arg, ENV_PROT32, "60", example_e8_setup, example_e8_checks);
}

EXAMPLE(ie9, "E9 f3 a4 rep movsb RAM to MMIO")
{
	run_insn_example(t, arg, ENV_LONG64, "f3a4", example_e9_setup, example_e9_checks);
}

static void e10_run(struct test_ctx *t, const void *arg, u8 old, bool equal)
{
	struct insn_env ie;
	struct env *e = example_env(&ie, arg, ENV_LONG64, "f00fb10f");

	example_e10_setup(e, old);
	env_run(e);
	example_e10_checks(t, e, old, equal);
	insn_env_destroy(&ie);
}

EXAMPLE(ie10, "E10 f0 0f b1 0f LOCK CMPXCHG, equal")
{
	e10_run(t, arg, 5, true);
}

EXAMPLE(ie10n, "E10 f0 0f b1 0f LOCK CMPXCHG, not equal")
{
	e10_run(t, arg, 7, false);
}

EXAMPLE(ie11, "E11 a1 fe ff ff ff 32-bit linear wrap")
{
	run_insn_example(t, arg, ENV_PROT32_PAGING, "a1feffffff", example_e11_setup,
			 example_e11_checks);
}
