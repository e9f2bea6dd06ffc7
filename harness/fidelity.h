/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The model-vs-kernel differential: compares two run_results of the same
 * scenario, the model's and real KVM's, and adds one V_FIDELITY violation
 * per field that differs.  Pure C: needs no /dev/kvm.  What is compared,
 * and the one normalisation (a fault whose frame cannot be pushed in a
 * legacy mode is the kernel's #DF/shutdown), is described in fidelity.c.
 */
#ifndef FRAGFUZZ_FIDELITY_H
#define FRAGFUZZ_FIDELITY_H

#include <stdbool.h>

#include "profile.h"
#include "result.h"
#include "scenario.h"
#include "violation.h"

/*
 * Model (@model) against kernel (@kvm) for scenario @s: one V_FIDELITY
 * violation in @out per field that differs, each "field: model X, kvm Y"
 * (exits; trace events, only if @traced; outcome; exception vector, error
 * code and CR2; RIP; GPRs; RFLAGS).  Returns the number of differences;
 * 0 without comparing when @model->not_modelled.  Differences of a
 * recorded host gap (fidelity_host_gap()) are marked known.
 */
unsigned int fidelity_check(const struct kvm_profile *p, const struct scenario *s,
			    const struct run_result *model, const struct run_result *kvm,
			    bool traced, struct violation_list *out);

/*
 * A recorded difference of this host's own handling: the reason, or NULL.
 * Instructions kvm_pvm handles outside KVM's emulator (not compared at
 * all: fidelity_skip_reason() gives the same reason), and native 64-bit
 * CPL 3 code when the exits and trace agree (@exits_differ false; its
 * differences are marked known).  fuzz/known-issues.md has the evidence.
 */
const char *fidelity_host_gap(const struct scenario *s, bool exits_differ);

/*
 * May the oracle judge the kernel's result @k with the model's list of
 * emulator calls (@m's)?  Not when one side was cut by its run limits and
 * the other was not, or the kernel did more than the model's list covers:
 * the oracle expects every event of the list, and a cut run has not made
 * them (a rep outsd cut at its port exits, the model's run complete).
 */
bool fidelity_oracle_applies(const struct run_result *m, const struct run_result *k);

/*
 * Why @model and @kvm are not compared at all, or NULL: the model does not
 * emulate the instruction (run_result.not_modelled), kvm_pvm handles it
 * outside KVM's emulator (fidelity_host_gap()), or the instruction touches
 * memory the kvm backend keeps for itself where the layout has nothing
 * (see fidelity.c).
 */
const char *fidelity_skip_reason(const struct scenario *s, const struct run_result *model,
				 const struct run_result *kvm);

/*
 * @s as this host's KVM runs it, for the model run that is compared with
 * it: kvm_pvm drops RFLAGS.VM at KVM_SET_REGS (seen on 6.18.44: a case
 * with VM set runs in the scenario's protected mode and ends with VM
 * clear), so the model must not run it in VM86 mode.
 */
void fidelity_host_scenario(struct scenario *s);

/*
 * In a legacy (non-long) mode, would delivering @r's exception push its
 * frame at SS:ESP anywhere but writable RAM of @s's layout?  Then the
 * kernel cannot deliver it and shuts the VM down (the kvm backend reports
 * #DF).  false for long mode, for results without an exception, and when
 * the frame touches the harness's reserved region (its backing is the
 * backend's business, not the layout's).
 */
bool fidelity_frame_undeliverable(const struct scenario *s, const struct run_result *r);

#endif
