// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test environment (see env.h).
 */
#include <stdlib.h>
#include <string.h>

#include "env.h"

static void env_flat_segments(struct kvm_vcpu *vcpu, bool db, bool l)
{
	unsigned int i;

	for (i = 0; i < NR_VCPU_SREGS; i++)
		vcpu->sregs.seg[i] = (struct kvm_segment){
			.limit = 0xffffffff,
			.type = i == VCPU_SREG_CS ? 0xb : 0x3,
			.present = true,
			.s = true,
			.db = db,
			.l = l && i == VCPU_SREG_CS,
		};
}

struct env *env_create(const char *profile_name, enum env_mode mode, bool tdp)
{
	const struct kvm_profile *profile = kvm_profile_find(profile_name);
	struct kvm_host_config host = { .tdp = tdp, .irqchip_in_kernel = true };
	struct env *e = calloc(1, sizeof(*e));
	enum pt_format fmt = PT_NONE;
	unsigned int i;

	if (!e || !profile)
		abort();
	kvm_init(&e->kvm);
	if (kvm_vcpu_create(&e->vcpu, &e->kvm, profile, &host))
		abort();
	if (kvm_set_memslot(&e->kvm, ENV_PT_POOL_GPA, sizeof(e->pt_pool), &e->pt_pool[0][0], false))
		abort();

	switch (mode) {
	case ENV_REAL16:
		for (i = 0; i < NR_VCPU_SREGS; i++)
			e->vcpu.sregs.seg[i] = (struct kvm_segment){
				.limit = 0xffff, .type = i == VCPU_SREG_CS ? 0xb : 0x3,
				.present = true, .s = true,
			};
		break;
	case ENV_PROT32:
		env_flat_segments(&e->vcpu, true, false);
		e->vcpu.sregs.cr0 = X86_CR0_PE;
		break;
	case ENV_PROT32_PAGING:
		env_flat_segments(&e->vcpu, true, false);
		e->vcpu.sregs.cr0 = X86_CR0_PE | X86_CR0_PG | X86_CR0_WP;
		fmt = PT_2LEVEL;
		break;
	case ENV_LONG64:
		env_flat_segments(&e->vcpu, false, true);
		e->vcpu.sregs.cr0 = X86_CR0_PE | X86_CR0_PG | X86_CR0_WP;
		e->vcpu.sregs.cr4 = X86_CR4_PAE;
		e->vcpu.sregs.efer = EFER_LME | EFER_LMA | EFER_NX;
		fmt = PT_4LEVEL;
		break;
	}
	if (pt_init(&e->pt, fmt, &e->pt_pool[0][0], ENV_PT_POOL_GPA, ENV_PT_PAGES))
		abort();
	e->vcpu.sregs.cr3 = e->pt.root;
	e->vcpu.rflags = X86_EFLAGS_FIXED;
	/* the fetch is limit-checked like any access: real mode keeps IP below 64 KiB */
	e->vcpu.rip = mode == ENV_REAL16 ? 0xf000 : 0x1000000;
	e->vcpu.guest = &script_guest_ops;
	e->vcpu.guest_priv = &e->insn;
	return e;
}

void env_destroy(struct env *e)
{
	kvm_vcpu_destroy(&e->vcpu);
	free(e);
}

u8 *env_ram(struct env *e, gpa_t gpa, bool readonly)
{
	u8 *p;

	if (e->nr_ram == ENV_MAX_RAM)
		abort();
	p = e->ram[e->nr_ram++];
	if (kvm_set_memslot(&e->kvm, gpa & PAGE_MASK, PAGE_SIZE, p, readonly))
		abort();
	return p;
}

void env_map(struct env *e, gva_t gva, gpa_t gpa, u64 flags)
{
	if (pt_map(&e->pt, gva, gpa, flags, false))
		abort();
}

void env_read_data(struct env *e, const u8 *bytes, unsigned int n)
{
	memcpy(e->rdata + e->nr_rdata, bytes, n);
	e->nr_rdata += n;
}

void env_run(struct env *e)
{
	struct kvm_vcpu *vcpu = &e->vcpu;
	struct kvm_run *run = vcpu->run;

	vcpu->insn_rip = vcpu->rip;
	for (e->nr_runs = 0; e->nr_runs < ENV_MAX_EXITS; e->nr_runs++) {
		struct env_exit *x;

		e->ioctl_rc = kvm_arch_vcpu_ioctl_run(vcpu);
		if (e->ioctl_rc)
			return;
		if (run->exit_reason != KVM_EXIT_MMIO) {
			e->exit_reason = run->exit_reason;
			return;
		}
		x = &e->exits[e->nr_exits++];
		x->gpa = run->mmio.phys_addr;
		x->len = run->mmio.len;
		x->write = run->mmio.is_write;
		if (x->write) {
			memcpy(x->data, run->mmio.data, min_t(u32, x->len, 8));
		} else {
			unsigned int i;

			for (i = 0; i < x->len && i < 8; i++)
				run->mmio.data[i] = e->rpos < e->nr_rdata ?
						    e->rdata[e->rpos++] : 0xee;
			memcpy(x->data, run->mmio.data, min_t(u32, x->len, 8));
		}
	}
}

bool env_trace_is(struct env *e, unsigned int i, const char *want, char *got, size_t n)
{
	char line[128];

	if (i >= e->vcpu.trace.nr) {
		snprintf(got, n, "<no event, %u recorded>", e->vcpu.trace.nr);
		return false;
	}
	kvm_mmio_event_format(&e->vcpu.trace.ev[i], line, sizeof(line));
	/* accept want with or without the "kvm_mmio: " prefix */
	snprintf(got, n, "%s", line);
	if (!strcmp(line, want))
		return true;
	return !strncmp(line, "kvm_mmio: ", 10) && !strcmp(line + 10, want);
}

u64 env_exit_data(const struct env *e, unsigned int i)
{
	u64 v = 0;

	memcpy(&v, e->exits[i].data, min_t(u32, e->exits[i].len, 8));
	return v;
}
