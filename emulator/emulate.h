/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The instruction emulator's context (arch/x86/kvm/kvm_emulate.h in the
 * kernel): decode cache, operands, register cache, the mem_read and io_read
 * caches (spec 1.5) and the return codes that flow between emulate.c and
 * x86.c.
 *
 * A decoder (tests' hand-written decodes, or the Capstone instruction
 * layer) fills the decode part; x86_emulate_insn() then runs one pass.
 */
#ifndef FRAGFUZZ_EMULATE_H
#define FRAGFUZZ_EMULATE_H

#include "vcpu.h"

/* emulator op return codes (X86EMUL_*) */
#define X86EMUL_CONTINUE	0
#define X86EMUL_UNHANDLEABLE	1
#define X86EMUL_PROPAGATE_FAULT	2
#define X86EMUL_RETRY_INSTR	3
#define X86EMUL_CMPXCHG_FAILED	4
#define X86EMUL_IO_NEEDED	5

/* x86_emulate_insn() results */
#define EMULATION_OK		0
#define EMULATION_FAILED	1
#define EMULATION_RESTART	2

enum x86emul_mode {
	X86EMUL_MODE_REAL,
	X86EMUL_MODE_VM86,
	X86EMUL_MODE_PROT16,
	X86EMUL_MODE_PROT32,
	X86EMUL_MODE_PROT64,
};

/* decode flags (the subset of emulate.c's opcode flags the model uses) */
#define Mov		BIT(0)	/* destination is written without being read */
#define NoWrite		BIT(1)	/* no writeback (cmp, test, bt) */
#define SrcWrite	BIT(2)	/* source register is written back (xadd, cmpxchg) */
#define String		BIT(3)	/* one element per pass, REP aware */
#define TwoMemOp	BIT(4)	/* movs, cmps, push/pop r/m: no GPA shortcut */
#define Aligned		BIT(5)	/* 16-byte SSE: #GP unless aligned */
#define Unaligned	BIT(6)
#define Stack		BIT(7)
#define NoAccess	BIT(8)	/* memory operand is not accessed (lea) */
#define Lock		BIT(9)	/* LOCK allowed; writeback through cmpxchg */
#define ImplicitLock	BIT(10)	/* xchg with memory */
#define Aligned16	BIT(11)	/* 16-byte alignment whatever the size (fxsave) */

#define REPE_PREFIX	0xf3
#define REPNE_PREFIX	0xf2

enum operand_type { OP_NONE, OP_REG, OP_MEM, OP_MEM_STR, OP_IMM };

struct segmented_address {
	u64 ea;
	unsigned int seg;
};

struct operand {
	enum operand_type type;
	unsigned int bytes;
	unsigned int count;
	union {
		unsigned long *reg;		/* OP_REG: in the register cache */
		struct segmented_address mem;
		unsigned int xmm;		/* OP_REG with bytes == 16 */
	} addr;
	u8 reg_nr;				/* OP_REG: GPR number */
	/*
	 * OP_REG, 1 byte: AH/CH/DH/BH, the second byte of GPR reg_nr.  KVM's
	 * decode_register() points the operand at that byte, so a fetch and a
	 * writeback touch bits 15:8 only.
	 */
	bool hi8;
	bool is_xmm;
	union {
		unsigned long val;
		u64 val64;
		u8 valptr[16];
	};
	u64 orig_val;
	void *data;				/* OP_MEM_STR source */
};

struct read_cache {
	u8 data[1024];
	unsigned long pos;
	unsigned long end;
};

struct x86_emulate_ctxt;

typedef int (*emulate_handler)(struct x86_emulate_ctxt *ctxt);

/* x86_emulate_ops: the emulator's interface to memory (x86.c side) */
struct x86_emulate_ops {
	int (*read_emulated)(struct x86_emulate_ctxt *ctxt, unsigned long addr, void *val,
			     unsigned int bytes, struct x86_exception *exception);
	int (*write_emulated)(struct x86_emulate_ctxt *ctxt, unsigned long addr,
			      const void *val, unsigned int bytes,
			      struct x86_exception *exception);
	int (*cmpxchg_emulated)(struct x86_emulate_ctxt *ctxt, unsigned long addr,
				const void *old, const void *new, unsigned int bytes,
				struct x86_exception *exception);
	/* port I/O of @count elements of @size bytes; 0: userspace must finish it */
	int (*pio_in_emulated)(struct x86_emulate_ctxt *ctxt, unsigned int size,
			       u16 port, void *val, unsigned int count);
	int (*pio_out_emulated)(struct x86_emulate_ctxt *ctxt, unsigned int size,
				u16 port, const void *val, unsigned int count);
	/* the std path (spec 7.1): guest RAM through the page walk, never MMIO */
	int (*read_std)(struct x86_emulate_ctxt *ctxt, unsigned long addr, void *val,
			unsigned int bytes, struct x86_exception *exception);
	int (*write_std)(struct x86_emulate_ctxt *ctxt, unsigned long addr, const void *val,
			 unsigned int bytes, struct x86_exception *exception);
	/*
	 * Model only, no KVM counterpart: the CPU's own first access of a
	 * natively run instruction, checked with @write rights before KVM's
	 * emulator runs, up to the first page that traps into KVM.  It
	 * moves no data.
	 */
	int (*native_access)(struct x86_emulate_ctxt *ctxt, unsigned long addr,
			     unsigned int bytes, bool write, struct x86_exception *exception);
};

/* x86.c's implementation, which every vCPU's emulator context uses */
extern const struct x86_emulate_ops kvm_x86_emulate_ops;

struct x86_emulate_ctxt {
	const struct x86_emulate_ops *ops;
	struct kvm_vcpu *vcpu;

	unsigned long eflags;
	unsigned long eip;		/* committed RIP; _eip is the next one */
	enum x86emul_mode mode;
	bool tf;			/* RFLAGS.TF when the instruction was decoded */
	bool have_exception;
	bool not_modelled;		/* decode failed on a row KVM emulates (R_NOTMOD) */
	struct x86_exception exception;

	/* this pass starts from the CPU's own execution (host.native_entry) */
	bool native_entry;

	/* GPA shortcut (spec 3.1): set on PF emulation with TDP */
	bool gpa_available;
	gpa_t gpa_val;

	/* decode cache: filled by the decoder, kept across no-decode replay */
	const char *mnemonic;
	emulate_handler execute;
	u64 d;
	u8 rep_prefix;
	bool lock_prefix;
	u8 op_bytes;
	u8 ad_bytes;
	u8 insn_len;
	u8 insn_fetched;		/* see insn_decoded.fetched */
	u64 _eip;
	u64 imm;			/* spare immediate for handlers (enter) */
	struct operand src;
	struct operand src2;
	struct operand dst;

	/* register cache (reg_read/reg_write), kept across no-decode replay */
	unsigned long _regs[NR_VCPU_REGS];
	u32 regs_valid;
	u32 regs_dirty;

	struct read_cache io_read;
	struct read_cache mem_read;
};

int x86_emulate_insn(struct x86_emulate_ctxt *ctxt);
void init_decode_cache(struct x86_emulate_ctxt *ctxt);
void emulator_invalidate_register_cache(struct x86_emulate_ctxt *ctxt);
void emulator_writeback_register_cache(struct x86_emulate_ctxt *ctxt);
unsigned long reg_read(struct x86_emulate_ctxt *ctxt, unsigned int nr);
unsigned long *reg_write(struct x86_emulate_ctxt *ctxt, unsigned int nr);
unsigned long *reg_rmw(struct x86_emulate_ctxt *ctxt, unsigned int nr);
void emulator_fetch_register_operand(struct x86_emulate_ctxt *ctxt, struct operand *op);
int emulator_stack_size(const struct x86_emulate_ctxt *ctxt);

/* emulate.c memory helpers usable by handlers */
int segmented_read(struct x86_emulate_ctxt *ctxt, struct segmented_address addr,
		   void *data, unsigned int size);
int segmented_write(struct x86_emulate_ctxt *ctxt, struct segmented_address addr,
		    const void *data, unsigned int size);
int emulate_push(struct x86_emulate_ctxt *ctxt, const void *data, int bytes);
int emulate_pop(struct x86_emulate_ctxt *ctxt, void *dest, int len);

/* handlers (emulate.c) */
int em_mov(struct x86_emulate_ctxt *ctxt);
int em_add(struct x86_emulate_ctxt *ctxt);
int em_cmp(struct x86_emulate_ctxt *ctxt);
int em_push(struct x86_emulate_ctxt *ctxt);
int em_pop(struct x86_emulate_ctxt *ctxt);
int em_enter(struct x86_emulate_ctxt *ctxt);
int em_leave(struct x86_emulate_ctxt *ctxt);
int em_pusha(struct x86_emulate_ctxt *ctxt);
int em_popa(struct x86_emulate_ctxt *ctxt);
int em_cmpxchg(struct x86_emulate_ctxt *ctxt);
int em_cmpxchg8b(struct x86_emulate_ctxt *ctxt);
int em_xchg(struct x86_emulate_ctxt *ctxt);
int em_cmps(struct x86_emulate_ctxt *ctxt);
int em_fix_hypercall(struct x86_emulate_ctxt *ctxt);
int em_in(struct x86_emulate_ctxt *ctxt);
int em_out(struct x86_emulate_ctxt *ctxt);
int em_fxsave(struct x86_emulate_ctxt *ctxt);
int em_fxrstor(struct x86_emulate_ctxt *ctxt);

#endif
