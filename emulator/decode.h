/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The instruction layer: x86 instruction bytes -> the emulator-level decode
 * KVM's emulate.c would produce (handler, decode flags, prefixes, operand
 * sizes, effective addresses), so that the model makes the same emulated
 * reads, writes, cmpxchgs, pushes and string elements in the same order.
 *
 * Capstone decides whether the bytes are an instruction at all; the
 * operand layout is then decoded by KVM's rules (prefix handling, ModRM,
 * default segments, operand-size promotion) from one row of the KVM
 * emulation table in decode.c, and cross-checked against Capstone's
 * detail.  Where Capstone 4 and KVM legitimately differ (implicit stack and
 * string operands, access sizes) a fix-up is recorded.  See INSTRUCTIONS.md.
 */
#ifndef FRAGFUZZ_DECODE_H
#define FRAGFUZZ_DECODE_H

#include <capstone/capstone.h>

#include "emulate.h"

#define INSN_MAX_LEN	15

/* One Capstone handle per CPU mode; the caller owns the decoder. */
enum insn_cs_mode { INSN_CS_16, INSN_CS_32, INSN_CS_64, INSN_NR_CS_MODES };

#define INSN_NR_MAPS		4	/* one-byte, 0f, 0f 38, 0f 3a */
#define INSN_MAX_CANDIDATES	12
#define INSN_CANDIDATES_ALL	0xff	/* too many: scan the whole table */

/* What a decode takes from Capstone's answer for some bytes. */
struct insn_cs_facts {
	bool ok;			/* Capstone accepts the bytes */
	u8 size;			/* its instruction length */
	unsigned int id;		/* its instruction id */
	bool has_mem;			/* it lists a memory operand: */
	u8 mem_size;
	int mem_base, mem_index;	/* x86_reg */
	int mem_scale;
	s64 mem_disp;
	bool op0_reg;			/* its first operand is a register */
	u8 op0_size;
};

/*
 * Capstone answers by (mode, bytes), direct-mapped.  A fuzzer mutates the
 * layout and registers far more often than the instruction bytes, and a
 * Capstone decode with detail costs as much as the rest of a model run.
 * An entry is a pure function of its key, so a hit gives exactly what a
 * miss computes and runs stay deterministic.
 */
#define INSN_CS_CACHE_SIZE	1024	/* a power of two */

struct insn_cs_cache_entry {
	u8 n;				/* key length; 0: empty */
	u8 mode;			/* enum insn_cs_mode */
	u8 bytes[INSN_MAX_LEN];
	struct insn_cs_facts facts;
};

struct insn_decoder {
	csh cs[INSN_NR_CS_MODES];
	cs_insn *insn[INSN_NR_CS_MODES];	/* preallocated, reused */
	/* table rows that can match each (map, opcode), in table order */
	u16 cand[INSN_NR_MAPS][256][INSN_MAX_CANDIDATES];
	u8 nr_cand[INSN_NR_MAPS][256];
	struct insn_cs_cache_entry cs_cache[INSN_CS_CACHE_SIZE];
	u64 cs_calls, cs_hits;			/* statistics only */
};

int insn_decoder_init(struct insn_decoder *dec);
void insn_decoder_fini(struct insn_decoder *dec);

enum insn_status {
	INSN_OK,		/* KVM decodes it and the model emulates it */
	INSN_EXCEPTION,		/* KVM raises an exception before any access */
	INSN_UNDECODABLE,	/* Capstone rejects the bytes: emulation failure */
	INSN_NOT_EMULATED,	/* KVM's tables have no entry: emulation failure */
	INSN_NOT_MODELLED,	/* KVM emulates it, this model does not (yet) */
	INSN_DISAGREE,		/* Capstone and the KVM-rule decode disagree */
};

/* Fix-ups: where the KVM decode differs from Capstone 4's detail. */
#define INSN_FIX_IMPLICIT_STACK	BIT(0)	/* stack access Capstone does not list */
#define INSN_FIX_IMPLICIT_STRING BIT(1)	/* string/xlat operands from the register cache */
#define INSN_FIX_SIZE		BIT(2)	/* memory access size differs */
#define INSN_FIX_LENGTH		BIT(3)	/* instruction length differs */
#define INSN_FIX_BIT_OFFSET	BIT(4)	/* bt* register offset moves the address */
#define INSN_FIX_CS_REJECTS	BIT(5)	/* Capstone rejects bytes KVM decodes */
#define INSN_FIX_PREFIX		BIT(6)	/* Capstone ignores a prefix KVM honours */

struct insn_row;

/* The register-independent part of a decode. */
struct insn_decoded {
	enum insn_status status;
	const struct insn_row *row;
	const char *name;		/* family name from the KVM table */
	u8 len;				/* KVM's instruction length */
	/*
	 * bytes KVM's decoder has fetched when it gives up on an opcode it
	 * has no row for (prefixes and opcode; a VEX form also its ModRM),
	 * or the whole instruction when its handler gives up (iret outside
	 * real mode, enter with a nesting level): their fetch can be #GP(0)
	 * past the CS limit first
	 */
	u8 fetched;
	u8 cs_len;			/* Capstone's length, 0 if rejected */
	unsigned int cs_id;		/* Capstone instruction id */
	u8 opcode;			/* last opcode byte */
	u8 op_bytes, ad_bytes;
	u8 rep_prefix, rex;
	bool lock_prefix, op_prefix;
	s8 seg_override;		/* VCPU_SREG_* or -1 */
	/* ModRM */
	bool has_modrm;
	u8 modrm;
	bool mem;			/* r/m is a memory operand */
	s8 base, index;			/* GPR numbers or -1; INSN_REG_RIP */
	u8 scale;
	s64 disp;
	u8 mem_seg;			/* default or overridden segment */
	u64 imm, imm2;
	u8 exc_vector;			/* INSN_EXCEPTION */
	bool accesses_memory;		/* some operand (or stack/string) is accessed */
	unsigned int mem_bytes;		/* size of the r/m memory access, 0 if none */
	unsigned int cs_mem_bytes;	/* Capstone's size for it, 0 if none */
	u32 fixups;			/* INSN_FIX_* */
};

#define INSN_REG_RIP	16

int insn_decode(struct insn_decoder *dec, enum x86emul_mode mode, const u8 *bytes,
		unsigned int n, struct insn_decoded *out);

/*
 * An instruction source for struct kvm_guest_ops: the bytes at RIP.  Point
 * vcpu->guest at &insn_guest_ops and vcpu->guest_priv at the source.
 */
struct insn_source {
	struct insn_decoder *dec;
	u8 bytes[INSN_MAX_LEN];
	u8 len;
	/* TDP: the GPA hardware would report for the emulation's fault */
	bool has_fault_gpa;
	gpa_t fault_gpa;
	/* MMX registers: the vCPU has none (see INSTRUCTIONS.md) */
	unsigned long mm[8];
	/* result of the last decode callback */
	struct insn_decoded last;
};

extern const struct kvm_guest_ops insn_guest_ops;

void insn_source_init(struct insn_source *src, struct insn_decoder *dec,
		      const u8 *bytes, unsigned int len);

struct insn_stats {
	unsigned int total;
	unsigned int capstone_ok;	/* Capstone decodes the string */
	unsigned int kvm_decoded;	/* KVM's tables have an entry */
	unsigned int emulated;		/* ... and the model emulates it */
	unsigned int not_modelled;	/* KVM emulates, model does not */
	unsigned int exception;		/* decode-stage #UD/#NM */
	unsigned int memory;		/* emulated and accesses memory */
};

void insn_stats(unsigned int n, u64 seed, enum x86emul_mode mode, struct insn_stats *out);

/* ---- handlers.c: emulate.c-style handlers for the instruction layer ---- */
int em_or(struct x86_emulate_ctxt *ctxt);
int em_adc(struct x86_emulate_ctxt *ctxt);
int em_sbb(struct x86_emulate_ctxt *ctxt);
int em_and(struct x86_emulate_ctxt *ctxt);
int em_sub(struct x86_emulate_ctxt *ctxt);
int em_xor(struct x86_emulate_ctxt *ctxt);
int em_test(struct x86_emulate_ctxt *ctxt);
int em_inc(struct x86_emulate_ctxt *ctxt);
int em_dec(struct x86_emulate_ctxt *ctxt);
int em_not(struct x86_emulate_ctxt *ctxt);
int em_neg(struct x86_emulate_ctxt *ctxt);
int em_rol(struct x86_emulate_ctxt *ctxt);
int em_ror(struct x86_emulate_ctxt *ctxt);
int em_rcl(struct x86_emulate_ctxt *ctxt);
int em_rcr(struct x86_emulate_ctxt *ctxt);
int em_shl(struct x86_emulate_ctxt *ctxt);
int em_shr(struct x86_emulate_ctxt *ctxt);
int em_sar(struct x86_emulate_ctxt *ctxt);
int em_shld(struct x86_emulate_ctxt *ctxt);
int em_shrd(struct x86_emulate_ctxt *ctxt);
int em_bt(struct x86_emulate_ctxt *ctxt);
int em_bts(struct x86_emulate_ctxt *ctxt);
int em_btr(struct x86_emulate_ctxt *ctxt);
int em_btc(struct x86_emulate_ctxt *ctxt);
int em_xadd(struct x86_emulate_ctxt *ctxt);
int em_mul_ex(struct x86_emulate_ctxt *ctxt);
int em_imul_ex(struct x86_emulate_ctxt *ctxt);
int em_div_ex(struct x86_emulate_ctxt *ctxt);
int em_idiv_ex(struct x86_emulate_ctxt *ctxt);
int em_imul(struct x86_emulate_ctxt *ctxt);
int em_imul_3op(struct x86_emulate_ctxt *ctxt);
int em_movzx(struct x86_emulate_ctxt *ctxt);
int em_movsx(struct x86_emulate_ctxt *ctxt);
int em_movsxd(struct x86_emulate_ctxt *ctxt);
int em_movbe(struct x86_emulate_ctxt *ctxt);
int em_lea(struct x86_emulate_ctxt *ctxt);
int em_cmov(struct x86_emulate_ctxt *ctxt);
int em_setcc(struct x86_emulate_ctxt *ctxt);
int em_jcc(struct x86_emulate_ctxt *ctxt);
int em_jmp_rel(struct x86_emulate_ctxt *ctxt);
int em_jmp_abs(struct x86_emulate_ctxt *ctxt);
int em_call(struct x86_emulate_ctxt *ctxt);
int em_call_near_abs(struct x86_emulate_ctxt *ctxt);
int em_ret(struct x86_emulate_ctxt *ctxt);
int em_ret_near_imm(struct x86_emulate_ctxt *ctxt);
int em_pushf(struct x86_emulate_ctxt *ctxt);
int em_popf(struct x86_emulate_ctxt *ctxt);
int em_push_sreg(struct x86_emulate_ctxt *ctxt);
int em_pop_sreg(struct x86_emulate_ctxt *ctxt);
int em_lseg(struct x86_emulate_ctxt *ctxt);
int em_mov_rm_sreg(struct x86_emulate_ctxt *ctxt);
int em_mov_sreg_rm(struct x86_emulate_ctxt *ctxt);
int em_call_far(struct x86_emulate_ctxt *ctxt);
int em_jmp_far(struct x86_emulate_ctxt *ctxt);
int em_ret_far(struct x86_emulate_ctxt *ctxt);
int em_ret_far_imm(struct x86_emulate_ctxt *ctxt);
int em_iret(struct x86_emulate_ctxt *ctxt);
int em_not_implemented(struct x86_emulate_ctxt *ctxt);

/* condition code test used by jcc/setcc/cmov (cc in ctxt->imm) */
bool insn_test_cc(unsigned int cc, unsigned long flags);

#endif
