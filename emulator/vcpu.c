// SPDX-License-Identifier: GPL-2.0-only
/*
 * vCPU lifetime and the per-case reset of what the harness observes: not
 * part of KVM's emulated-MMIO path, so kept out of x86.c, whose edges are
 * the fuzzers' coverage (Makefile: coverage goes to the emulator core).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "emulate.h"

int kvm_vcpu_create(struct kvm_vcpu *vcpu, struct kvm *kvm,
		    const struct kvm_profile *profile,
		    const struct kvm_host_config *host)
{
	memset(vcpu, 0, sizeof(*vcpu));
	vcpu->run = malloc(sizeof(*vcpu->run));
	vcpu->mmio_fragments = malloc(KVM_MAX_MMIO_FRAGMENTS * sizeof(*vcpu->mmio_fragments));
	vcpu->emulate_ctxt = malloc(sizeof(*vcpu->emulate_ctxt));
	if (!vcpu->run || !vcpu->mmio_fragments || !vcpu->emulate_ctxt) {
		kvm_vcpu_destroy(vcpu);
		return -ENOMEM;
	}
	kvm_vcpu_reset(vcpu, kvm, profile, host);
	return 0;
}

void kvm_vcpu_reset(struct kvm_vcpu *vcpu, struct kvm *kvm,
		    const struct kvm_profile *profile,
		    const struct kvm_host_config *host)
{
	struct kvm_run *run = vcpu->run;
	struct kvm_mmio_fragment *frags = vcpu->mmio_fragments;
	struct x86_emulate_ctxt *ctxt = vcpu->emulate_ctxt;

	memset(vcpu, 0, sizeof(*vcpu));
	memset(run, 0, sizeof(*run));
	memset(frags, 0, KVM_MAX_MMIO_FRAGMENTS * sizeof(*frags));
	memset(ctxt, 0, sizeof(*ctxt));
	vcpu->run = run;
	vcpu->mmio_fragments = frags;
	vcpu->emulate_ctxt = ctxt;
	vcpu->kvm = kvm;
	vcpu->profile = profile;
	vcpu->host = *host;
	ctxt->vcpu = vcpu;
	ctxt->ops = &kvm_x86_emulate_ops;
	vcpu->entry_budget = 4096;
	vcpu->pass_budget = UINT_MAX;
	kvm_lapic_reset(&vcpu->lapic);
	vcpu->lapic.hw_enabled = host->irqchip_in_kernel;
}

void kvm_vcpu_destroy(struct kvm_vcpu *vcpu)
{
	free(vcpu->run);
	free(vcpu->mmio_fragments);
	free(vcpu->emulate_ctxt);
	vcpu->run = NULL;
	vcpu->mmio_fragments = NULL;
	vcpu->emulate_ctxt = NULL;
}

void kvm_vcpu_reset_observations(struct kvm_vcpu *vcpu)
{
	vcpu->trace.nr = 0;
	vcpu->trace.lost = 0;
	vcpu->warnings = 0;
	vcpu->stat_mmio_exits = 0;
	vcpu->stat_insn_emulation = 0;
	vcpu->guest_entries = 0;
	vcpu->passes = 0;
	vcpu->exception_pending = false;
	vcpu->exception_delivered = false;
	vcpu->invocations = 0;
	vcpu->pio.nr = vcpu->pio.lost = 0;
	vcpu->pio.in_elems = vcpu->pio.out_elems = vcpu->pio.userspace_calls = 0;
	if (vcpu->access_log)
		*vcpu->access_log = (struct emul_access_log){ 0 };
}
