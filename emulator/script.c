// SPDX-License-Identifier: GPL-2.0-only
/*
 * Access scripts as a guest instruction provider: the "decode" copies the
 * hand-written description into the emulator context, computing effective
 * addresses from the register cache as the real decoder would.
 */
#include "script.h"

static void script_operand_decode(struct x86_emulate_ctxt *ctxt, struct operand *op,
				  const struct script_operand *s)
{
	*op = (struct operand){ .type = s->type, .bytes = s->bytes, .count = 1 };

	switch (s->type) {
	case OP_REG:
		op->reg_nr = s->reg;
		op->is_xmm = s->xmm;
		op->addr.xmm = s->reg;
		emulator_fetch_register_operand(ctxt, op);
		break;
	case OP_MEM:
	case OP_MEM_STR: {
		u64 ea = (u64)s->disp;
		u64 mask = ctxt->ad_bytes == 8 ? ~0ULL : BIT(ctxt->ad_bytes * 8) - 1;

		if (s->base != SCRIPT_NO_BASE)
			ea += reg_read(ctxt, s->base);
		op->addr.mem.ea = ea & mask;
		op->addr.mem.seg = s->seg;
		break;
	}
	case OP_IMM:
		op->val64 = s->imm;
		break;
	case OP_NONE:
		break;
	}
}

static int script_decode(struct x86_emulate_ctxt *ctxt, void *priv)
{
	const struct script_insn *s = priv;

	ctxt->mnemonic = s->name;
	ctxt->execute = s->execute;
	ctxt->d = s->d;
	ctxt->rep_prefix = s->rep_prefix;
	ctxt->lock_prefix = s->lock_prefix;
	ctxt->op_bytes = s->op_bytes;
	ctxt->ad_bytes = s->ad_bytes;
	ctxt->insn_len = s->len;
	ctxt->_eip = ctxt->eip + s->len;
	if (ctxt->mode != X86EMUL_MODE_PROT64)
		ctxt->_eip = (u32)ctxt->_eip;
	script_operand_decode(ctxt, &ctxt->src, &s->src);
	script_operand_decode(ctxt, &ctxt->src2, &s->src2);
	script_operand_decode(ctxt, &ctxt->dst, &s->dst);
	return EMULATION_OK;
}

static bool script_fault_gpa(struct kvm_vcpu *vcpu, void *priv, gpa_t *gpa)
{
	const struct script_insn *s = priv;

	*gpa = s->fault_gpa;
	return s->has_fault_gpa;
}

const struct kvm_guest_ops script_guest_ops = {
	.decode = script_decode,
	.fault_gpa = script_fault_gpa,
};
