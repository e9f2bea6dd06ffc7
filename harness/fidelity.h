/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The model-vs-kernel differential: compares two run_results of the same
 * scenario, the model's and real KVM's, and adds one V_FIDELITY violation
 * per aspect that differs.  Pure C: needs no /dev/kvm.
 */
#ifndef FRAGFUZZ_FIDELITY_H
#define FRAGFUZZ_FIDELITY_H

#include <stdbool.h>

#include "profile.h"
#include "result.h"
#include "violation.h"

/*
 * Model against kernel: one V_FIDELITY violation in @out per aspect that
 * differs (exits: gpa/len/dir/data; trace events, only if @traced; outcome;
 * exception vector; final RIP).  Returns the number of aspects that differ.
 */
unsigned int fidelity_check(const struct kvm_profile *p, const struct run_result *model,
			    const struct run_result *kvm, bool traced,
			    struct violation_list *out);

#endif
