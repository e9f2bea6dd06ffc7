// SPDX-License-Identifier: GPL-2.0-only
/*
 * fragfuzz_model: libFuzzer target running each input (a scenario, binary
 * form) on the model and checking the result with the oracle.
 *
 * The campaign chooses the kernel and host through the environment:
 *   FRAGFUZZ_KERNEL=7.1|6.18.24|6.18|6.2|4.14|3.13   (default 7.1)
 *   FRAGFUZZ_MMU=shadow|tdp     override the scenario's MMU
 *   FRAGFUZZ_REPORT_KNOWN=1     also stop on known upstream behaviour
 *   FRAGFUZZ_IGNORE=k1,k2|all   never stop on these violation kinds (the
 *                               oracle still runs; sanitizers still stop)
 *
 * Every violation kind stops at its own function, so crash dedupe by top
 * frames keeps distinct bugs apart.  The per-run state lives in one
 * context made at initialisation and set up afresh by every run; nothing
 * is printed unless an input is about to be reported.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "oracle.h"
#include "report.h"

struct fuzz_ctx {
	struct model_backend *mb;
	const struct kvm_profile *profile;
	int mmu_override;	/* -1 none, 0 shadow, 1 tdp */
	bool report_known;
	bool ignore[NR_VIOLATION_KINDS];
	struct scenario s;
	struct run_result r;
	struct violation_list vl;
};

static struct fuzz_ctx *fuzz_ctx;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_stack_use_after_return=1:detect_leaks=0";
}
#endif
#endif

static void fuzz_parse_ignore(struct fuzz_ctx *ctx, const char *list)
{
	char buf[512], *tok, *save = NULL;
	int kind;

	if (!list)
		return;
	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "all")) {
			memset(ctx->ignore, 1, sizeof(ctx->ignore));
			continue;
		}
		kind = violation_from_name(tok);
		if (kind < 0) {
			fprintf(stderr, "fragfuzz_model: unknown violation kind '%s' in "
				"FRAGFUZZ_IGNORE\n", tok);
			exit(2);
		}
		ctx->ignore[kind] = true;
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *kernel = getenv("FRAGFUZZ_KERNEL");
	const char *mmu = getenv("FRAGFUZZ_MMU");
	const char *known = getenv("FRAGFUZZ_REPORT_KNOWN");
	struct fuzz_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		abort();
	ctx->profile = kvm_profile_find(kernel ? kernel : "7.1");
	if (!ctx->profile) {
		fprintf(stderr, "fragfuzz_model: unknown FRAGFUZZ_KERNEL '%s'\n", kernel);
		exit(2);
	}
	ctx->mmu_override = !mmu ? -1 : !strcmp(mmu, "tdp") ? 1 : 0;
	ctx->report_known = known && strcmp(known, "0");
	fuzz_parse_ignore(ctx, getenv("FRAGFUZZ_IGNORE"));
	ctx->mb = model_backend_create();
	if (!ctx->mb) {
		fprintf(stderr, "fragfuzz_model: cannot create the model backend\n");
		exit(2);
	}
	fuzz_ctx = ctx;
	return 0;
}

/* One crash site per violation kind (ClusterFuzz keeps frames by name). */
#define VIOLATION_SITE(fn)						\
	__attribute__((noinline)) static void fn(void)			\
	{								\
		__asm__ volatile("");					\
		abort();						\
	}

VIOLATION_SITE(violation_unsatisfied_read_trace)
VIOLATION_SITE(violation_completion_read_trace)
VIOLATION_SITE(violation_completion_read_gpa)
VIOLATION_SITE(violation_inkernel_read_trace)
VIOLATION_SITE(violation_write_trace)
VIOLATION_SITE(violation_phantom_trace)
VIOLATION_SITE(violation_exit_chunking)
VIOLATION_SITE(violation_exit_sequence)
VIOLATION_SITE(violation_exit_write_data)
VIOLATION_SITE(violation_read_data)
VIOLATION_SITE(violation_replay_mismatch)
VIOLATION_SITE(violation_write_dropped)
VIOLATION_SITE(violation_translation)
VIOLATION_SITE(violation_noncanonical_access)
VIOLATION_SITE(violation_pending_mmio)
VIOLATION_SITE(violation_kvm_warn)
VIOLATION_SITE(violation_kvm_bug)
VIOLATION_SITE(violation_fidelity)

static void (*const violation_sites[NR_VIOLATION_KINDS])(void) = {
	[V_UNSATISFIED_READ_TRACE] = violation_unsatisfied_read_trace,
	[V_COMPLETION_READ_TRACE] = violation_completion_read_trace,
	[V_COMPLETION_READ_GPA] = violation_completion_read_gpa,
	[V_INKERNEL_READ_TRACE] = violation_inkernel_read_trace,
	[V_WRITE_TRACE] = violation_write_trace,
	[V_PHANTOM_TRACE] = violation_phantom_trace,
	[V_EXIT_CHUNKING] = violation_exit_chunking,
	[V_EXIT_SEQUENCE] = violation_exit_sequence,
	[V_EXIT_WRITE_DATA] = violation_exit_write_data,
	[V_READ_DATA] = violation_read_data,
	[V_REPLAY_MISMATCH] = violation_replay_mismatch,
	[V_WRITE_DROPPED] = violation_write_dropped,
	[V_TRANSLATION] = violation_translation,
	[V_NONCANONICAL_ACCESS] = violation_noncanonical_access,
	[V_PENDING_MMIO] = violation_pending_mmio,
	[V_KVM_WARN] = violation_kvm_warn,
	[V_KVM_BUG] = violation_kvm_bug,
	[V_FIDELITY] = violation_fidelity,
};

static void fuzz_report(struct fuzz_ctx *ctx, const struct violation *v)
{
	fprintf(stderr, "==fragfuzz== VIOLATION %s%s (kernel %s): %s\n",
		violation_name(v->kind), v->known ? " (known)" : "", ctx->profile->name,
		v->detail);
	fprintf(stderr, "==fragfuzz== scenario:\n");
	scenario_format_text(&ctx->s, stderr);
	fprintf(stderr, "==fragfuzz== result:\n");
	report_text(stderr, "input", ctx->profile, &ctx->r, &ctx->vl);
	fflush(stderr);
	violation_sites[v->kind]();
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_ctx *ctx = fuzz_ctx;
	unsigned int i;

	if (scenario_decode(&ctx->s, data, size, NULL, 0))
		return 0;	/* "fz" header with an unknown version */
	if (ctx->mmu_override >= 0) {
		ctx->s.ctl &= ~SCN_CTL_TDP;
		if (ctx->mmu_override)
			ctx->s.ctl |= SCN_CTL_TDP;
	}
	if (model_backend_run(ctx->mb, &ctx->s, ctx->profile, &ctx->r))
		return 0;
	memset(&ctx->vl, 0, sizeof(ctx->vl));
	oracle_check(&ctx->s, ctx->profile, &ctx->r, &ctx->r.accesses, &ctx->vl);
	for (i = 0; i < ctx->vl.nr; i++)
		if ((!ctx->vl.v[i].known || ctx->report_known) && !ctx->ignore[ctx->vl.v[i].kind])
			fuzz_report(ctx, &ctx->vl.v[i]);
	return 0;
}
