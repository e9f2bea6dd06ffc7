// SPDX-License-Identifier: GPL-2.0-only
/*
 * Kernel profile presets.  Each preset is the set of switches of
 * profile.h that were in force in that kernel; see the switch comments for
 * the commit that flipped each one.
 */
#include <string.h>

#include "profile.h"

static const struct kvm_profile kvm_profiles[] = {
	{
		.name = "3.13",
		.description = "before a08d3b3b99ef (CVE-2014-0049: completion end test ==)",
	},
	{
		.name = "4.14",
		.description = "before e39d200fa5bf (CVE-2017-17741: write trace loads a u64)",
		.completion_end_ge = true,
	},
	{
		.name = "6.2",
		.description = "before 0dc902267cb3 (exception leaves a pending MMIO write set)",
		.completion_end_ge = true,
		.trace_val_by_pointer = true,
	},
	{
		.name = "6.18",
		.description = "v6.18.0-6.18.23 (CVE-2026-31588, per-exchange unsatisfied-read)",
		.completion_end_ge = true,
		.trace_val_by_pointer = true,
		.exception_clears_mmio_needed = true,
	},
	{
		.name = "6.18.24",
		.description = "6.18.24+ (0b16e69d17d8 backported, old tracing; this host)",
		.completion_end_ge = true,
		.trace_val_by_pointer = true,
		.exception_clears_mmio_needed = true,
		.fragment_write_scratch = true,
	},
	{
		.name = "7.1",
		.description = "after the series \"KVM: x86: Emulator MMIO fix and cleanups\"",
		.completion_end_ge = true,
		.trace_val_by_pointer = true,
		.exception_clears_mmio_needed = true,
		.fragment_write_scratch = true,
		.unsatisfied_read_per_page = true,
		.completion_bug_is_kvm_bug = true,
		.prepare_exit_checks = true,
	},
};

const struct kvm_profile *kvm_profile_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(kvm_profiles); i++)
		if (!strcmp(kvm_profiles[i].name, name))
			return &kvm_profiles[i];
	return NULL;
}

const struct kvm_profile *kvm_profile_at(unsigned int idx)
{
	return idx < ARRAY_SIZE(kvm_profiles) ? &kvm_profiles[idx] : NULL;
}

unsigned int kvm_profile_count(void)
{
	return ARRAY_SIZE(kvm_profiles);
}
