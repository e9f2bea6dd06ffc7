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
 *   FRAGFUZZ_MAX_EXITS=n        exits per input (default 64; `fragfuzz run`
 *                               allows 512: --max-exits reproduces)
 *   FRAGFUZZ_MAX_PASSES=n       emulator passes per input (default 256)
 *   FRAGFUZZ_MAX_ENTRIES=n      guest entries at the same RIP for an
 *                               instruction that is no REP string (16)
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
#include "fuzz_common.h"
#include "report.h"

struct fuzz_ctx {
	struct model_backend *mb;
	struct fuzz_env env;	/* FRAGFUZZ_KERNEL, _REPORT_KNOWN, _IGNORE, limits */
	int mmu_override;	/* -1 none, 0 shadow, 1 tdp */
	struct scenario s;
	struct run_result r;
	struct violation_list vl;
};

static struct fuzz_ctx *fuzz_ctx;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *mmu = getenv("FRAGFUZZ_MMU");
	struct fuzz_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		abort();
	fuzz_parse_env("fragfuzz_model", "7.1", (struct run_limits){
		.max_exits = FUZZ_MAX_EXITS, .max_passes = FUZZ_MAX_PASSES,
		.max_entries = FUZZ_MAX_ENTRIES,
	}, &ctx->env);
	ctx->mmu_override = !mmu ? -1 : !strcmp(mmu, "tdp") ? 1 : 0;
	ctx->mb = model_backend_create();
	if (!ctx->mb) {
		fprintf(stderr, "fragfuzz_model: cannot create the model backend\n");
		exit(2);
	}
	model_backend_set_limits(ctx->mb, ctx->env.limits);
	fuzz_ctx = ctx;
	return 0;
}

/*
 * The hot path keeps kinds only (a terse list); an input about to be
 * reported is checked again with the details, which are deterministic.
 */
static void fuzz_report(struct fuzz_ctx *ctx, enum violation_kind kind)
{
	const struct violation *v = NULL;
	unsigned int i;

	ctx->vl = (struct violation_list){ .terse = false };
	oracle_check(&ctx->s, ctx->env.profile, &ctx->r, &ctx->r.accesses, &ctx->vl);
	for (i = 0; i < ctx->vl.nr && !v; i++)
		if (ctx->vl.v[i].kind == kind)
			v = &ctx->vl.v[i];
	fprintf(stderr, "==fragfuzz== VIOLATION %s%s (kernel %s): %s\n", violation_name(kind),
		v && v->known ? " (known)" : "", ctx->env.profile->name, v ? v->detail : "?");
	fprintf(stderr, "==fragfuzz== limits: --max-exits %u --max-passes %u --max-entries %u\n",
		ctx->env.limits.max_exits, ctx->env.limits.max_passes,
		ctx->env.limits.max_entries);
	fprintf(stderr, "==fragfuzz== scenario:\n");
	scenario_format_text(&ctx->s, stderr);
	fprintf(stderr, "==fragfuzz== result:\n");
	report_text(stderr, "input", ctx->env.profile, &ctx->r, &ctx->vl);
	fflush(stderr);
	fuzz_violation_site(kind);
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
	if (model_backend_run(ctx->mb, &ctx->s, ctx->env.profile, &ctx->r))
		return 0;
	ctx->vl.nr = ctx->vl.nr_unknown = 0;
	ctx->vl.terse = true;
	oracle_check(&ctx->s, ctx->env.profile, &ctx->r, &ctx->r.accesses, &ctx->vl);
	for (i = 0; i < ctx->vl.nr; i++)
		if ((!ctx->vl.v[i].known || ctx->env.report_known) && !ctx->env.ignore[ctx->vl.v[i].kind])
			fuzz_report(ctx, ctx->vl.v[i].kind);
	return 0;
}
