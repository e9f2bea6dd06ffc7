// SPDX-License-Identifier: GPL-2.0-only
/*
 * The model backend: builds the scenario's VM in the model (memslots for
 * RAM and ROM frames, in-kernel devices, guest page tables, vCPU state),
 * runs the instruction bytes through the Capstone instruction layer and
 * plays userspace for every KVM_EXIT_MMIO, exactly as the real-KVM backend
 * does on /dev/kvm.
 *
 * Everything a run touches lives in struct model_backend and is set up
 * afresh by each run, so runs do not depend on each other.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "decode.h"
#include "pagetable.h"

struct model_backend {
	struct insn_decoder dec;
	struct insn_source src;
	struct kvm kvm;
	struct kvm_vcpu vcpu;
	struct pt_builder pt;
	struct emul_access_log log;
	struct run_limits limits;
	bool vcpu_made;		/* vcpu allocated: reset it per case */
	/* ram_pattern_byte() of frame 0: other frames XOR one byte into it */
	u8 pattern[PAGE_SIZE] __attribute__((aligned(8)));
	u8 frames[SCN_MAX_MAPS][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
	u8 pt_pool[SCN_PT_POOL_PAGES][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
};

const char *run_outcome_name(enum run_outcome o)
{
	static const char *const names[NR_OUTCOMES] = {
		[OUTCOME_RETIRED] = "retired",
		[OUTCOME_EXCEPTION] = "exception",
		[OUTCOME_EMULATION_FAILURE] = "emulation-failure",
		[OUTCOME_BUDGET] = "budget",
		[OUTCOME_KVM_ERROR] = "kvm-error",
		[OUTCOME_HOST_BUG] = "host-bug",
		[OUTCOME_NOT_RUN] = "not-run",
	};

	return o < NR_OUTCOMES ? names[o] : "unknown";
}

void run_result_reset(struct run_result *r)
{
	/* the arrays are large and bounded by their counts: clear the rest */
	memset(r, 0, offsetof(struct run_result, trace));
	r->trace.nr = r->trace.lost = 0;
	r->nr_exits = 0;
	r->exits_lost = false;
	r->has_accesses = false;
	r->accesses.nr = r->accesses.lost = 0;
	memset(r->regs, 0, sizeof(r->regs));
	r->rip = r->rflags = 0;
	r->warnings = 0;
	r->mmio_pending = false;
	r->mmio_exits = 0;
	r->mnemonic[0] = 0;
	r->outcome = OUTCOME_NOT_RUN;
}

const struct kvm_profile *scenario_profile(const struct scenario *s,
					   const struct kvm_profile *override)
{
	if (override)
		return override;
	if (s->profile >= 0)
		return kvm_profile_at(s->profile);
	return kvm_profile_find("7.1");
}

struct model_backend *model_backend_create(void)
{
	struct model_backend *mb = aligned_alloc(PAGE_SIZE, sizeof(*mb));

	if (!mb)
		return NULL;
	memset(mb, 0, sizeof(*mb));
	for (unsigned int i = 0; i < PAGE_SIZE; i++)
		mb->pattern[i] = ram_pattern_byte(i);
	mb->limits = RUN_LIMITS_DEFAULT;
	if (insn_decoder_init(&mb->dec)) {
		free(mb);
		return NULL;
	}
	return mb;
}

void model_backend_set_limits(struct model_backend *mb, struct run_limits lim)
{
	mb->limits.max_exits = clamp_t(unsigned int, lim.max_exits, 1, RESULT_MAX_EXITS);
	mb->limits.max_passes = max_t(unsigned int, lim.max_passes, 1);
	mb->limits.max_entries = run_limits_entries(lim);
}

void model_backend_destroy(struct model_backend *mb)
{
	if (!mb)
		return;
	insn_decoder_fini(&mb->dec);
	if (mb->vcpu_made)
		kvm_vcpu_destroy(&mb->vcpu);
	free(mb);
}

/* ram_pattern_byte(gpa + i) for the whole frame, a word at a time */
static void fill_ram_pattern(const struct model_backend *mb, u8 *page, u64 gpa)
{
	u64 frame = ram_pattern_byte(gpa & PAGE_MASK) ^ ram_pattern_byte(0);
	u64 x = frame * 0x0101010101010101ULL;
	unsigned int i;

	for (i = 0; i < PAGE_SIZE; i += 8) {
		u64 w;

		memcpy(&w, mb->pattern + i, 8);
		w ^= x;
		memcpy(page + i, &w, 8);
	}
}

/* Memslots and devices for every frame the layout names. */
static int model_setup_memory(struct model_backend *mb, const struct scenario *s,
			      const struct scn_map *maps, unsigned int nr_maps)
{
	struct kvm *kvm = &mb->kvm;
	unsigned int i, j, nr_frames = 0;
	int r;

	kvm_init(kvm);
	r = kvm_set_memslot(kvm, SCN_PT_POOL_GPA, sizeof(mb->pt_pool), &mb->pt_pool[0][0], false);
	if (r)
		return r;
	if (!(s->ctl & SCN_CTL_NO_IRQCHIP)) {
		r = kvm_register_ioapic(kvm, IOAPIC_DEFAULT_BASE);
		if (r)
			return r;
	}
	for (i = 0; i < nr_maps; i++) {
		const struct scn_map *m = &maps[i];

		/* one slot or device per frame, however many GVAs alias it */
		for (j = 0; j < i; j++)
			if (maps[j].gpa == m->gpa)
				break;
		if (j < i)
			continue;
		switch (m->kind) {
		case SCN_KIND_RAM:
		case SCN_KIND_ROM:
			fill_ram_pattern(mb, mb->frames[nr_frames], m->gpa);
			r = kvm_set_memslot(kvm, m->gpa, PAGE_SIZE, mb->frames[nr_frames],
					    m->kind == SCN_KIND_ROM);
			nr_frames++;
			break;
		case SCN_KIND_IOEVENTFD:
			r = kvm_register_ioeventfd(kvm, m->gpa + m->ev_offset, m->ev_len, false, 0);
			break;
		case SCN_KIND_COALESCED:
			r = kvm_register_coalesced_mmio(kvm, m->gpa, PAGE_SIZE);
			break;
		default:
			r = 0;	/* MMIO, IOAPIC, LAPIC: no memslot */
			break;
		}
		if (r)
			return r;
	}
	return 0;
}

static int model_setup_paging(struct model_backend *mb, const struct scenario *s,
			      const struct scn_map *maps, unsigned int nr_maps)
{
	enum pt_format fmt = s->mode == SCN_MODE_LONG64 ? PT_4LEVEL : PT_2LEVEL;
	unsigned int i;
	int r;

	if (!scenario_paging(s))
		return pt_init(&mb->pt, PT_NONE, &mb->pt_pool[0][0], SCN_PT_POOL_GPA,
			       SCN_PT_POOL_PAGES);
	r = pt_init(&mb->pt, fmt, &mb->pt_pool[0][0], SCN_PT_POOL_GPA, SCN_PT_POOL_PAGES);
	if (r)
		return r;
	for (i = 0; i < nr_maps; i++) {
		r = pt_map_scenario(&mb->pt, &maps[i]);
		if (r)
			return r;
	}
	return 0;
}

static u64 gdt_desc(u32 base, u32 limit, u8 access, u8 flags)
{
	return (u64)(limit & 0xffff) | ((u64)(base & 0xffffff) << 16) |
	       ((u64)access << 40) | ((u64)((limit >> 16) & 0xf) << 48) |
	       ((u64)(flags & 0xf) << 52) | ((u64)(base >> 24) << 56);
}

void harness_gdt(struct kvm_gdt *gdt)
{
	static const struct {
		u16 sel;
		u32 base, limit;
		u8 access, flags;
	} t[] = {
		{ HARNESS_SEL_CODE64, 0, 0xfffff, 0x9b, 0xa },
		{ HARNESS_SEL_DATA, 0, 0xfffff, 0x93, 0xc },
		{ HARNESS_SEL_TSS, HARNESS_TSS_BASE, 0x67, 0x8b, 0 },
		{ HARNESS_SEL_CODE32, 0, 0xfffff, 0x9b, 0xc },
		{ HARNESS_SEL_CODE16, 0, 0xffff, 0x9b, 0 },
		{ HARNESS_SEL_UCODE64, 0, 0xfffff, 0xfb, 0xa },
		{ HARNESS_SEL_UDATA, 0, 0xfffff, 0xf3, 0xc },
		{ HARNESS_SEL_UCODE32, 0, 0xfffff, 0xfb, 0xc },
		{ HARNESS_SEL_UCODE16, 0, 0xffff, 0xfb, 0 },
		{ HARNESS_SEL_DATA16, 0, 0xffff, 0x93, 0 },
		{ HARNESS_SEL_UDATA16, 0, 0xffff, 0xf3, 0 },
		{ HARNESS_SEL_UCPUNODE, 0, 0, 0xf5, 0x4 },
	};
	unsigned int i;

	_Static_assert(HARNESS_GDT_ENTRIES <= KVM_MODEL_GDT_ENTRIES, "the model keeps the GDT");
	memset(gdt, 0, sizeof(*gdt));
	gdt->limit = HARNESS_GDT_ENTRIES * 8 - 1;
	for (i = 0; i < ARRAY_SIZE(t); i++)
		gdt->desc[t[i].sel >> 3] = gdt_desc(t[i].base, t[i].limit, t[i].access,
						    t[i].flags);
}

/*
 * A segment limit above 0xfffff needs the G bit (4 KiB units): KVM's
 * emulator then scales it (desc_limit_scaled()), so the low 12 bits are
 * ones.  The kvm backend sets G for such a limit, so both targets use the
 * scaled limit (6.18.44: CS limit 0x600000, EIP 0x600001, and a 2-byte
 * read at DS limit 0x40001000 + 0xffe retire there).
 */
static u32 segment_limit(u32 limit)
{
	return limit > 0xfffff ? limit | 0xfff : limit;
}

void harness_segment(const struct scenario *s, unsigned int seg, struct harness_segment *out)
{
	static const u16 sels[SCN_NR_MODES][2][2] = {	/* [mode][user][cs] */
		[SCN_MODE_PROT16] = {
			{ HARNESS_SEL_DATA16, HARNESS_SEL_CODE16 },
			{ HARNESS_SEL_UDATA16, HARNESS_SEL_UCODE16 },
		},
		[SCN_MODE_PROT32] = {
			{ HARNESS_SEL_DATA, HARNESS_SEL_CODE32 },
			{ HARNESS_SEL_UDATA, HARNESS_SEL_UCODE32 },
		},
		[SCN_MODE_PROT32_PAGING] = {
			{ HARNESS_SEL_DATA, HARNESS_SEL_CODE32 },
			{ HARNESS_SEL_UDATA, HARNESS_SEL_UCODE32 },
		},
		[SCN_MODE_LONG64] = {
			{ HARNESS_SEL_DATA, HARNESS_SEL_CODE64 },
			{ HARNESS_SEL_UDATA, HARNESS_SEL_UCODE64 },
		},
	};
	struct scn_segment sg = scenario_segment(s, seg);
	bool cs = seg == VCPU_SREG_CS, long64 = s->mode == SCN_MODE_LONG64;
	bool is16 = s->mode == SCN_MODE_REAL16 || s->mode == SCN_MODE_PROT16;
	unsigned int mode = s->mode < SCN_NR_MODES ? s->mode : SCN_MODE_REAL16;

	*out = (struct harness_segment){
		.base = sg.base,
		.limit = segment_limit(sg.limit),
		.selector = long64 && s->cpl == 3 && !cs && seg != VCPU_SREG_SS ? 0 :
			    sels[mode][s->cpl == 3][cs],
		.type = cs ? 0xb : 0x3,
		.dpl = s->cpl,
		.db = !is16 && !(long64 && cs),
		.l = long64 && cs,
	};
}

static void model_setup_cpu(struct kvm_vcpu *vcpu, const struct scenario *s,
			    const struct pt_builder *pt)
{
	unsigned int i;

	for (i = 0; i < NR_VCPU_REGS; i++)
		vcpu->regs[i] = scenario_reg(s, i);
	vcpu->rip = scenario_reg(s, SCN_REG_RIP);
	vcpu->rflags = scenario_reg(s, SCN_REG_RFLAGS) | X86_EFLAGS_FIXED;
	vcpu->cpl = s->cpl;

	for (i = 0; i < NR_VCPU_SREGS; i++) {
		struct harness_segment h;

		harness_segment(s, i, &h);
		vcpu->sregs.seg[i] = (struct kvm_segment){
			.base = h.base,
			.limit = h.limit,
			.selector = h.selector,
			.type = h.type,
			.present = true,
			.s = true,
			.dpl = h.dpl,
			.db = h.db,
			.l = h.l,
		};
	}
	harness_gdt(&vcpu->sregs.gdt);
	vcpu->sregs.cr0 = s->mode == SCN_MODE_REAL16 ? 0 : X86_CR0_PE;
	if (scenario_paging(s))
		vcpu->sregs.cr0 |= X86_CR0_PG;
	if (s->ctl & SCN_CTL_CR0_WP)
		vcpu->sregs.cr0 |= X86_CR0_WP;
	vcpu->sregs.cr3 = pt->root;
	vcpu->sregs.cr4 = (s->ctl & SCN_CTL_CR4_OSFXSR) ? X86_CR4_OSFXSR : 0;
	vcpu->sregs.efer = (s->ctl & SCN_CTL_EFER_NXE) ? EFER_NX : 0;
	if (s->mode == SCN_MODE_LONG64) {
		vcpu->sregs.cr4 |= X86_CR4_PAE;
		vcpu->sregs.efer |= EFER_LME | EFER_LMA;
	}
}

static void model_record(struct run_result *r, const struct kvm_vcpu *vcpu)
{
	memcpy(r->regs, vcpu->regs, sizeof(r->regs));
	r->rip = vcpu->rip;
	r->rflags = vcpu->rflags;
	r->cs_base = vcpu->sregs.seg[VCPU_SREG_CS].base;
	r->trace.nr = vcpu->trace.nr;
	r->trace.lost = vcpu->trace.lost;
	memcpy(r->trace.ev, vcpu->trace.ev, vcpu->trace.nr * sizeof(vcpu->trace.ev[0]));
	r->warnings = vcpu->warnings;
	r->mmio_pending = vcpu->mmio_needed;
	r->mmio_exits = vcpu->stat_mmio_exits;
	if (vcpu->emulate_ctxt->mnemonic) {
		strncpy(r->mnemonic, vcpu->emulate_ctxt->mnemonic, sizeof(r->mnemonic) - 1);
		r->mnemonic[sizeof(r->mnemonic) - 1] = 0;
	}
}

/* Play userspace: answer reads from mmio-data, then the default pattern. */
static void model_userspace_loop(struct kvm_vcpu *vcpu, const struct scenario *s,
				 unsigned int max_exits, struct run_result *r)
{
	struct kvm_run *run = vcpu->run;
	unsigned int pos = 0, n;

	for (n = 0; n < max_exits; n++) {
		int rc = kvm_arch_vcpu_ioctl_run(vcpu);

		if (rc) {
			r->kvm_errno = -rc;
			r->outcome = vcpu->host_bug ? OUTCOME_HOST_BUG : OUTCOME_KVM_ERROR;
			return;
		}
		/* like a VMM, empty the coalesced MMIO ring at every exit */
		vcpu->kvm->coalesced_ring.first = vcpu->kvm->coalesced_ring.last;
		/*
		 * The kvm backend gets the registers in kvm_run at every exit
		 * (KVM_CAP_SYNC_REGS), which commits an in-flight emulation's
		 * register cache: so does this userspace.
		 */
		kvm_vcpu_get_regs(vcpu);
		switch (run->exit_reason) {
		case KVM_EXIT_MMIO:
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			r->outcome = OUTCOME_EMULATION_FAILURE;
			return;
		case KVM_EXIT_HLT:
			r->outcome = vcpu->exception_delivered ? OUTCOME_EXCEPTION
							       : OUTCOME_RETIRED;
			r->exception = vcpu->delivered;
			return;
		default:
			r->outcome = OUTCOME_BUDGET;
			return;
		}
		mmio_exit_record(r, s, &pos, run->mmio.phys_addr, run->mmio.len,
				 run->mmio.is_write, run->mmio.data);
	}
	r->exits_lost = true;
	r->outcome = OUTCOME_BUDGET;
}

int model_backend_run(struct model_backend *mb, const struct scenario *s,
		      const struct kvm_profile *profile, struct run_result *r)
{
	struct kvm_host_config host = {
		.tdp = s->ctl & SCN_CTL_TDP,
		.irqchip_in_kernel = !(s->ctl & SCN_CTL_NO_IRQCHIP),
		.split_lock_detect = s->ctl & SCN_CTL_SPLIT_LOCK,
		/*
		 * kvm_pvm runs only 64-bit CPL 3 code natively (backend_kvm.h),
		 * and only with a canonical RSP: else KVM's emulator runs it
		 * from the start (6.18.44: cmpsb with RSI on MMIO and RDI
		 * unmapped exits at RSI first with RSP 0x0000800000000000 or
		 * 0xffff7fffffffffff, faults at RDI with 0x00007ffffffff000,
		 * 0xffff800000000000 or 0; an RMW on read-only MMIO the same)
		 */
		.native_entry = s->mode == SCN_MODE_LONG64 && s->cpl == 3 &&
				is_canonical(scenario_reg(s, VCPU_REGS_RSP)),
		/* nor legacy paging: prot32-paging is compatibility mode there */
		.compat_paging = s->mode == SCN_MODE_PROT32_PAGING,
	};
	struct scn_map maps[SCN_MAX_MAPS];
	unsigned int nr_maps = scenario_maps(s, maps);
	struct kvm_vcpu *vcpu = &mb->vcpu;
	int ret;

	run_result_reset(r);
	profile = scenario_profile(s, profile);

	ret = model_setup_memory(mb, s, maps, nr_maps);
	if (!ret)
		ret = model_setup_paging(mb, s, maps, nr_maps);
	if (ret)
		return ret;
	if (!mb->vcpu_made) {
		ret = kvm_vcpu_create(vcpu, &mb->kvm, profile, &host);
		if (ret)
			return ret;
		mb->vcpu_made = true;
	} else {
		kvm_vcpu_reset(vcpu, &mb->kvm, profile, &host);
	}
	model_setup_cpu(vcpu, s, &mb->pt);

	mb->src = (struct insn_source){ .dec = &mb->dec, .len = s->insn_len };
	memcpy(mb->src.bytes, s->insn, s->insn_len);
	vcpu->guest = &insn_guest_ops;
	vcpu->guest_priv = &mb->src;
	vcpu->insn_rip = vcpu->rip;
	vcpu->insn_cs_base = vcpu->sregs.seg[VCPU_SREG_CS].base;
	vcpu->entry_budget = run_limits_entries(mb->limits);
	vcpu->pass_budget = mb->limits.max_passes;
	vcpu->access_log = &mb->log;
	kvm_vcpu_reset_observations(vcpu);

	model_userspace_loop(vcpu, s, mb->limits.max_exits, r);
	model_record(r, vcpu);
	if (mb->src.last.status == INSN_NOT_MODELLED) {
		r->not_modelled = true;
		if (!r->mnemonic[0] && mb->src.last.name)
			snprintf(r->mnemonic, sizeof(r->mnemonic), "%s", mb->src.last.name);
	}
	r->has_accesses = true;
	r->accesses.nr = mb->log.nr;
	r->accesses.lost = mb->log.lost;
	r->accesses.exception_invocation = mb->log.exception_invocation;
	r->accesses.failure_invocation = mb->log.failure_invocation;
	memcpy(r->accesses.a, mb->log.a, mb->log.nr * sizeof(mb->log.a[0]));
	return 0;
}
