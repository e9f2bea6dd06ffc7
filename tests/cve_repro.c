// SPDX-License-Identifier: GPL-2.0-only
/*
 * cve-repro: runs one historical bug trigger through the model, built with
 * ASan, so that a profile that has the bug makes ASan report the real
 * memory-safety error and a fixed profile runs clean.
 *
 *   cve-repro enter-split PROFILE    CVE-2026-31588 (spec E6)
 *   cve-repro pusha-past-nr PROFILE  CVE-2014-0049 (spec E8, repeated KVM_RUN)
 *   cve-repro fix-hypercall PROFILE  CVE-2017-17741 (3-byte on-stack write)
 *
 * Exit status 0 when the run finished without a sanitizer report.
 */
#include <stdio.h>
#include <string.h>

#include "scripts.h"

const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_stack_use_after_return=1:detect_leaks=0";
}

static int enter_split(const char *profile)
{
	struct env *e = env_create(profile, ENV_LONG64, false);

	e->insn = enter_0_0;
	env_map(e, 0x40000000, 0x1000, PT_WRITABLE);
	env_map(e, 0x40001000, 0x2000, PT_WRITABLE);
	e->vcpu.regs[VCPU_REGS_RBP] = 0x1122334455667788ULL;
	e->vcpu.regs[VCPU_REGS_RSP] = 0x40001004;
	env_run(e);
	printf("exits %u, exit 1 data 0x%llx\n", e->nr_exits,
	       e->nr_exits > 1 ? (unsigned long long)env_exit_data(e, 1) : 0ULL);
	env_destroy(e);
	return 0;
}

static int pusha_past_nr(const char *profile)
{
	struct env *e = env_create(profile, ENV_PROT32, false);

	env_ram(e, 0x1000, false);
	pusha_setup(e);
	/* userspace keeps calling KVM_RUN while exits keep coming */
	env_run(e);
	printf("exits %u, KVM_RUN %d\n", e->nr_exits, e->ioctl_rc);
	env_destroy(e);
	return 0;
}

static int fix_hypercall(const char *profile)
{
	static const struct script_insn vmmcall = {
		.name = "vmmcall (#UD, patched to vmcall)", .execute = em_fix_hypercall,
		.d = NoWrite, .op_bytes = 4, .ad_bytes = 8, .len = 3,
	};
	struct env *e = env_create(profile, ENV_LONG64, false);

	e->insn = vmmcall;
	/* code in a read-only slot: the patch write becomes MMIO */
	env_ram(e, 0x5000, true);
	env_map(e, 0x1000000, 0x5000, PT_WRITABLE);
	env_run(e);
	printf("exits %u\n", e->nr_exits);
	env_destroy(e);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 3 || !kvm_profile_find(argv[2])) {
		fprintf(stderr, "usage: cve-repro enter-split|pusha-past-nr|fix-hypercall PROFILE\n");
		return 2;
	}
	if (!strcmp(argv[1], "enter-split"))
		return enter_split(argv[2]);
	if (!strcmp(argv[1], "pusha-past-nr"))
		return pusha_past_nr(argv[2]);
	if (!strcmp(argv[1], "fix-hypercall"))
		return fix_hypercall(argv[2]);
	fprintf(stderr, "cve-repro: unknown case '%s'\n", argv[1]);
	return 2;
}
