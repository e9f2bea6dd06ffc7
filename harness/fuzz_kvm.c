// SPDX-License-Identifier: GPL-2.0-only
/*
 * fragfuzz_kvm: libFuzzer target running each input (a scenario, binary
 * form) on the real kernel through /dev/kvm and on the model.  The kernel's
 * result is judged by the oracle (with the model's list of emulator memory
 * calls), and the two results are compared (V_FIDELITY).  Scenarios the
 * kvm backend cannot set up are skipped at once, and so are instructions
 * the model does not emulate (run_result.not_modelled).
 *
 * Environment:
 *   FRAGFUZZ_KERNEL=V           model profile (default: this host's,
 *                               KVM_BACKEND_HOST_PROFILE)
 *   FRAGFUZZ_MMU=shadow|tdp|scenario
 *                               the MMU the model assumes (default shadow:
 *                               these hosts run KVM with shadow paging;
 *                               "scenario" keeps each input's own choice)
 *   FRAGFUZZ_REPORT_KNOWN=1     also stop on known upstream behaviour
 *   FRAGFUZZ_IGNORE=k1,k2|all   never stop on these violation kinds
 *   FRAGFUZZ_MAX_EXITS=n        exits per input, both sides (default 32)
 *   FRAGFUZZ_MAX_PASSES=n       the model's emulator passes (default 4096:
 *                               the kernel runs a rep string's passes
 *                               anyway, so compare as many as is cheap)
 *   FRAGFUZZ_MAX_ENTRIES=n      entries at the same RIP for an instruction
 *                               that is no REP string (a jump to itself),
 *                               both sides (default 16; each is a KVM_RUN)
 *   FRAGFUZZ_MAX_NS=n           the kernel's time per input (default 5 ms;
 *                               `fragfuzz run` allows 50 ms)
 *   FRAGFUZZ_FINDINGS=DIR       do not stop on a finding: file it by class
 *                               in DIR and go on (fuzz_findings.h)
 *
 * As in fragfuzz_model, every violation kind stops at its own function and
 * nothing is printed unless an input is about to be reported.  Without
 * /dev/kvm the target refuses to start with one line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "fuzz_common.h"
#include "fidelity.h"
#include "fuzz_findings.h"
#include "kvm/backend_kvm.h"
#include "oracle.h"
#include "report.h"

enum kvm_fuzz_mmu { KF_MMU_SHADOW, KF_MMU_TDP, KF_MMU_SCENARIO };

/*
 * Exits per input: each costs a KVM_RUN here (15-20 us on this host, most
 * of it the MSR read of every vCPU ioctl), and over 40 s of this target 5%
 * of the inputs (16 exits or more) took 55% of the KVM_RUN time.  32
 * covers every access of up to 240 bytes, split over two pages or not; a
 * longer REP string is cut there on both sides and compared up to the cut.
 * 60 s from the seeds (FRAGFUZZ_IGNORE=all): 64 exits 8,423 and 8,602
 * exec/s, 968 and 976 edges; 32 exits 10,381 exec/s, 991 edges (three
 * later runs of the final code: 8,572, 8,706, 8,671; runs vary).
 * FRAGFUZZ_MAX_EXITS=64 gives the model target's limit.
 */
#define KF_MAX_EXITS	32
#define KF_MAX_PASSES	4096
#define KF_MAX_NS	5000000		/* the kernel's time per input: 5 ms */
#define KF_MAX_NOTES	5		/* order-dependent findings printed */
#define KF_HISTORY	64		/* cases kept for an order-dependent finding */

struct kvm_fuzz {
	struct model_backend *mb;
	struct kvm_backend *kb;
	struct fuzz_env env;	/* FRAGFUZZ_KERNEL, _REPORT_KNOWN, _IGNORE, limits */
	enum kvm_fuzz_mmu mmu;
	bool traced;
	unsigned int setup_errors;	/* kvm set-up failures other than -EOPNOTSUPP */
	unsigned int order_dependent;	/* findings a new backend did not give */
	struct scenario s;
	/*
	 * The last KF_HISTORY cases the backend ran, s the newest once it ran
	 * (nr_run counts them): what an order-dependent finding depends on
	 * is among them, or older (reports only).
	 */
	struct scenario hist[KF_HISTORY];
	unsigned long nr_run;
	struct run_result model, kernel, fresh;
	struct violation_list model_vl, kernel_vl;
	struct fuzz_findings *findings;	/* FRAGFUZZ_FINDINGS: go on after findings */
};

static struct kvm_fuzz *kf;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

/* at exit (libFuzzer's time limit, a signal): the classes filed */
static void kf_summary(void)
{
	if (kf && kf->findings)
		fuzz_findings_summary(kf->findings, stderr);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *mmu = getenv("FRAGFUZZ_MMU"), *findings = getenv("FRAGFUZZ_FINDINGS");
	struct kvm_fuzz *f;
	char why[256];

	if (!kvm_backend_available(why, sizeof(why))) {
		fprintf(stderr, "fragfuzz_kvm: %s: this target needs real KVM\n", why);
		exit(1);
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		abort();
	fuzz_parse_env("fragfuzz_kvm", KVM_BACKEND_HOST_PROFILE, (struct run_limits){
		.max_exits = KF_MAX_EXITS, .max_passes = KF_MAX_PASSES, .max_ns = KF_MAX_NS,
		.max_entries = FUZZ_MAX_ENTRIES,
	}, &f->env);
	if (!mmu || !strcmp(mmu, "shadow")) {
		f->mmu = KF_MMU_SHADOW;
	} else if (!strcmp(mmu, "tdp")) {
		f->mmu = KF_MMU_TDP;
	} else if (!strcmp(mmu, "scenario")) {
		f->mmu = KF_MMU_SCENARIO;
	} else {
		fprintf(stderr, "fragfuzz_kvm: FRAGFUZZ_MMU must be shadow, tdp or scenario\n");
		exit(2);
	}
	f->mb = model_backend_create();
	if (!f->mb) {
		fprintf(stderr, "fragfuzz_kvm: cannot create the model backend\n");
		exit(2);
	}
	model_backend_set_limits(f->mb, f->env.limits);
	f->kb = kvm_backend_create(why, sizeof(why));
	if (!f->kb) {
		fprintf(stderr, "fragfuzz_kvm: kvm backend: %s\n", why);
		exit(1);
	}
	kvm_backend_set_limits(f->kb, f->env.limits);
	f->traced = kvm_backend_traced(f->kb);
	if (findings && *findings) {
		int r;

		f->findings = calloc(1, sizeof(*f->findings));
		r = f->findings ? fuzz_findings_init(f->findings, findings) : -ENOMEM;
		if (r) {
			fprintf(stderr, "fragfuzz_kvm: FRAGFUZZ_FINDINGS=%s: %s\n", findings,
				strerror(-r));
			exit(2);
		}
		atexit(kf_summary);
	}
	kf = f;
	return 0;
}

/*
 * The oracle on the kernel's result @k, with the model's list of emulator
 * calls (a model cut short by its limits has not got them all), and the
 * comparison with the model.
 */
static void kf_judge(struct kvm_fuzz *f, const struct run_result *k, struct violation_list *vl)
{
	if (fidelity_oracle_applies(&f->model, k))
		oracle_check(&f->s, f->env.profile, k, &f->model.accesses, vl);
	fidelity_check(f->env.profile, &f->s, &f->model, k, f->traced, vl);
}

/*
 * The backend serves case after case.  Does a new backend give the finding
 * too?  If not, it depends on what ran before (state the harness or KVM
 * kept from one case to the next), and is noted, not stopped on.
 */
static bool kf_fresh_gives_it(struct kvm_fuzz *f, const struct violation *v)
{
	struct violation_list vl = { 0 };
	struct kvm_backend *kb;
	char why[256];
	unsigned int i;
	int r;

	kb = kvm_backend_create(why, sizeof(why));
	if (!kb)
		return true;
	kvm_backend_set_limits(kb, f->env.limits);
	r = kvm_backend_run(kb, &f->s, &f->fresh);
	if (!r)
		kf_judge(f, &f->fresh, &vl);
	kvm_backend_destroy(kb);
	for (i = 0; i < vl.nr; i++)
		if (vl.v[i].kind == v->kind && vl.v[i].known == v->known)
			return true;
	return r != 0;
}

/* The first few order-dependent findings, with the case that ran before. */
static void kf_note_order_dependent(struct kvm_fuzz *f, const struct violation *v)
{
	if (++f->order_dependent > KF_MAX_NOTES)
		return;
	fprintf(stderr, "==fragfuzz== order-dependent %s (a new kvm backend does not give it, "
		"not stopped on): %s\n", violation_name(v->kind), v->detail);
	scenario_format_text(&f->s, stderr);
	if (f->nr_run >= 2) {
		fprintf(stderr, "==fragfuzz== the case before it:\n");
		scenario_format_text(&f->hist[(f->nr_run - 2) % KF_HISTORY], stderr);
	}
	fflush(stderr);
}

/* The scenario, then both sides: the kernel's (with the oracle) and the model's. */
static void kf_report(struct kvm_fuzz *f, const struct violation *v)
{
	fprintf(stderr, "==fragfuzz== VIOLATION %s%s (kvm, model kernel %s%s): %s\n",
		violation_name(v->kind), v->known ? " (known)" : "", f->env.profile->name,
		f->traced ? "" : ", traces not compared: no kvm_mmio trace", v->detail);
	fprintf(stderr, "==fragfuzz== limits: --max-exits %u --max-passes %u --max-entries %u\n",
		f->env.limits.max_exits, f->env.limits.max_passes, f->env.limits.max_entries);
	fprintf(stderr, "==fragfuzz== scenario:\n");
	scenario_format_text(&f->s, stderr);
	fprintf(stderr, "==fragfuzz== kvm result:\n");
	report_text(stderr, "input [kvm]", f->env.profile, &f->kernel, &f->kernel_vl);
	fprintf(stderr, "==fragfuzz== model result:\n");
	report_text(stderr, "input [model]", f->env.profile, &f->model, &f->model_vl);
	fflush(stderr);
	/* no tracefs instance or perf event is left behind by the abort */
	kvm_backend_destroy(f->kb);
	f->kb = NULL;
	fuzz_violation_site(v->kind);
}

/*
 * An order-dependent finding: the cases the backend ran before it, oldest
 * first, as DIR/<key>.before/000.txt..., so that `fragfuzz run --backend
 * kvm` over them and the finding can try to give it again.
 */
static void kf_file_history(struct kvm_fuzz *f, const char *key)
{
	unsigned long first = f->nr_run > KF_HISTORY ? f->nr_run - KF_HISTORY : 0, i;
	FILE *out;

	for (i = first; i + 1 < f->nr_run; i++) {
		out = fuzz_findings_open_nth(f->findings, key, "before", (unsigned int)(i - first));
		if (!out)
			return;
		scenario_format_text(&f->hist[i % KF_HISTORY], out);
		fclose(out);
	}
}

/*
 * FRAGFUZZ_FINDINGS: count @v in its class; the first of a class is
 * checked on a new backend and written out (scenario and both results).
 */
static void kf_file(struct kvm_fuzz *f, const struct violation *v)
{
	char key[FUZZ_FINDING_KEY];
	bool fresh;
	FILE *out;

	fuzz_finding_key(&f->s, v, key, sizeof(key));
	out = fuzz_findings_add(f->findings, key);
	if (!out)
		return;
	fresh = kf_fresh_gives_it(f, v);
	fprintf(out, "# %s%s: %s\n", violation_name(v->kind), v->known ? " (known)" : "",
		v->detail);
	fprintf(out, "# fragfuzz_kvm finding, limits --max-exits %u --max-passes %u "
		"--max-entries %u%s\n", f->env.limits.max_exits, f->env.limits.max_passes,
		f->env.limits.max_entries,
		fresh ? "" : "; order-dependent: a new kvm backend does not give it");
	scenario_format_text(&f->s, out);
	fclose(out);
	out = fuzz_findings_open(f->findings, key, "report");
	if (!out)
		return;
	oracle_check(&f->s, f->env.profile, &f->model, &f->model.accesses, &f->model_vl);
	report_text(out, "input [kvm]", f->env.profile, &f->kernel, &f->kernel_vl);
	report_text(out, "input [model]", f->env.profile, &f->model, &f->model_vl);
	fprintf(out, "# rip, rsp, rflags: kvm 0x%llx 0x%llx 0x%llx, model 0x%llx 0x%llx 0x%llx\n",
		(unsigned long long)f->kernel.rip,
		(unsigned long long)f->kernel.regs[VCPU_REGS_RSP],
		(unsigned long long)f->kernel.rflags, (unsigned long long)f->model.rip,
		(unsigned long long)f->model.regs[VCPU_REGS_RSP],
		(unsigned long long)f->model.rflags);
	fclose(out);
	if (!fresh)
		kf_file_history(f, key);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct kvm_fuzz *f = kf;
	unsigned int i;
	int r;

	if (scenario_decode(&f->s, data, size, NULL, 0))
		return 0;	/* "fz" header with an unknown version */
	if (f->mmu != KF_MMU_SCENARIO) {
		f->s.ctl &= ~SCN_CTL_TDP;
		if (f->mmu == KF_MMU_TDP)
			f->s.ctl |= SCN_CTL_TDP;
	}
	fidelity_host_scenario(&f->s);
	/* the kernel first: what it cannot run is refused before any work */
	r = kvm_backend_run(f->kb, &f->s, &f->kernel);
	if (r != -EOPNOTSUPP)
		f->hist[f->nr_run++ % KF_HISTORY] = f->s;
	if (r) {
		if (r != -EOPNOTSUPP && f->setup_errors++ < 5)
			fprintf(stderr, "fragfuzz_kvm: case not run: %s (%s)\n", strerror(-r),
				kvm_backend_why(f->kb));
		return 0;
	}
	/*
	 * A gap of the model (KVM emulates it, the model does not), or a case
	 * whose accesses reach the kvm backend's own pages (its code page sits
	 * where the layout has none): the kernel ran another guest than the
	 * scenario, so neither the oracle nor the comparison applies.  A
	 * write KVM's bus missed is judged by the oracle alone (iobus-missed).
	 */
	if (model_backend_run(f->mb, &f->s, f->env.profile, &f->model) ||
	    (fidelity_skip_reason(&f->s, &f->model, &f->kernel) && !f->kernel.iobus_missed))
		return 0;

	memset(&f->kernel_vl, 0, sizeof(f->kernel_vl));
	memset(&f->model_vl, 0, sizeof(f->model_vl));
	kf_judge(f, &f->kernel, &f->kernel_vl);
	for (i = 0; i < f->kernel_vl.nr; i++) {
		const struct violation *v = &f->kernel_vl.v[i];

		if ((!v->known || f->env.report_known) && !f->env.ignore[v->kind]) {
			if (f->findings) {
				kf_file(f, v);
				continue;
			}
			if (!kf_fresh_gives_it(f, v)) {
				kf_note_order_dependent(f, v);
				return 0;
			}
			/* the model's own verdict, for the report only */
			oracle_check(&f->s, f->env.profile, &f->model, &f->model.accesses,
				     &f->model_vl);
			kf_report(f, v);
		}
	}
	return 0;
}
