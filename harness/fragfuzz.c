// SPDX-License-Identifier: GPL-2.0-only
/*
 * fragfuzz: command-line front end.
 *
 *   fragfuzz run [--backend model|kvm|both] [--kernel V] [--json] [--known]
 *                [--max-exits N] [--max-passes N] [--max-entries N] FILE...
 *   fragfuzz encode [TEXT [BIN]]      text scenario -> binary
 *   fragfuzz decode [BIN]             binary (or text) scenario -> text
 *   fragfuzz stats [-n N] [--seed S] [--kernel V]
 *
 * run exits 0 when no unknown violation was found, 1 when one was, 2 on
 * bad input or usage.  "-" or no FILE means standard input.  --backend kvm
 * runs the scenario on /dev/kvm (the oracle then uses the model's access
 * list; the kernel profile defaults to the host's, 6.18.24); both runs
 * the model and the kernel and adds a V_FIDELITY violation per difference.
 * With kvm and both, the scenario is taken as this host runs it: shadow
 * paging (kvm_pvm) and RFLAGS.VM dropped (fidelity_host_scenario()).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "decode.h"
#include "fidelity.h"
#include "kvm/backend_kvm.h"
#include "oracle.h"
#include "report.h"

#define MAX_INPUT	(1 << 20)

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fragfuzz run [--backend model|kvm|both] [--kernel V] [--json] [--known]\n"
		"                    [--max-exits N] [--max-passes N] [--max-entries N] FILE...\n"
		"       fragfuzz encode [TEXT [BIN]]\n"
		"       fragfuzz decode [BIN]\n"
		"       fragfuzz stats [-n N] [--seed S] [--kernel V] [--insn]\n"
		"kernels:");
	for (unsigned int i = 0; i < kvm_profile_count(); i++)
		fprintf(f, " %s", kvm_profile_at(i)->name);
	fprintf(f, "\n");
}

/* Read a whole file ("-" = stdin); returns its size or -errno. */
static long read_input(const char *path, u8 *buf, size_t size)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, size, f);
	if (f != stdin)
		fclose(f);
	if (n == size)
		return -EFBIG;
	buf[n] = 0;
	return (long)n;
}

/* Binary or text, whichever the file is; 0 or -EINVAL with @err set. */
static int load_scenario(const char *path, struct scenario *s, char *err, size_t errlen)
{
	static u8 buf[MAX_INPUT + 1];
	long n = read_input(path, buf, MAX_INPUT);

	if (n < 0) {
		snprintf(err, errlen, "%s", strerror((int)-n));
		return (int)n;
	}
	if (scenario_is_text(buf, n))
		return scenario_parse_text(s, (const char *)buf, err, errlen);
	return scenario_decode(s, buf, n, err, errlen);
}

static const struct kvm_profile *parse_kernel(const char *name)
{
	const struct kvm_profile *p = kvm_profile_find(name);

	if (!p) {
		fprintf(stderr, "fragfuzz: unknown kernel '%s'\n", name);
		usage(stderr);
		exit(2);
	}
	return p;
}

enum run_backend { RUN_MODEL, RUN_KVM, RUN_BOTH };

/*
 * --backend kvm|both for one scenario: the kernel's result judged by the
 * oracle with the model's access list, and with both the model's report
 * and the differences between the two.  Returns 0, 1 or 2 as cmd_run.
 */
static int run_kvm_case(struct model_backend *mb, struct kvm_backend *kb,
			const struct scenario *scn, const struct kvm_profile *p,
			const char *path, enum run_backend which, bool json)
{
	static struct run_result rm, rk;
	static struct scenario hs;
	const struct scenario *s = &hs;
	struct violation_list vm = { 0 }, vk = { 0 };
	char name[512];
	int r;

	/* as the host runs it: shadow paging (kvm_pvm), RFLAGS.VM dropped */
	hs = *scn;
	hs.ctl &= ~SCN_CTL_TDP;
	fidelity_host_scenario(&hs);
	if (model_backend_run(mb, s, p, &rm)) {
		fprintf(stderr, "fragfuzz: %s: the model cannot set this case up\n", path);
		return 2;
	}
	r = kvm_backend_run(kb, s, &rk);
	if (r) {
		fprintf(stderr, "fragfuzz: %s: the kvm backend cannot run this case (%s%s)\n",
			path, r == -EOPNOTSUPP ? "not supported yet: " : "", kvm_backend_why(kb));
		return 2;
	}
	if (fidelity_oracle_applies(&rm, &rk))
		oracle_check(s, p, &rk, &rm.accesses, &vk);
	if (which == RUN_BOTH) {
		oracle_check(s, p, &rm, &rm.accesses, &vm);
		fidelity_check(p, s, &rm, &rk, kvm_backend_traced(kb), &vk);
		snprintf(name, sizeof(name), "%s [model]", path);
		if (json)
			report_json(stdout, name, p, &rm, &vm);
		else
			report_text(stdout, name, p, &rm, &vm);
	}
	snprintf(name, sizeof(name), "%s [kvm]", path);
	if (json)
		report_json(stdout, name, p, &rk, &vk);
	else
		report_text(stdout, name, p, &rk, &vk);
	if (which == RUN_BOTH && !json) {
		unsigned int i, n = 0;

		bool known = false;

		printf("fidelity:");
		for (i = 0; i < vk.nr; i++) {
			if (vk.v[i].kind != V_FIDELITY)
				continue;
			printf("%s %s", n++ ? ";" : "", vk.v[i].detail);
			known = vk.v[i].known;
		}
		if (known)
			printf(" (known: %s)", fidelity_host_gap(s, false));
		if (fidelity_skip_reason(s, &rm, &rk))
			printf(" not compared: %s%s%s%s\n", fidelity_skip_reason(s, &rm, &rk),
			       rm.not_modelled ? " ('" : "", rm.not_modelled ? rm.mnemonic : "",
			       rm.not_modelled ? "')" : "");
		else
			printf("%s%s%s\n", n ? "" : " same",
			       rm.outcome == OUTCOME_BUDGET || rk.outcome == OUTCOME_BUDGET ?
			       " (up to a run limit)" : "",
			       kvm_backend_traced(kb) ? "" : " (traces not compared: no kvm_mmio trace)");
	}
	return vk.nr_unknown || vm.nr_unknown ? 1 : 0;
}

/* A per-case limit: 1..@max, as the fuzz targets' FRAGFUZZ_MAX_* take. */
static int parse_limit(const char *opt, const char *arg, unsigned int max, unsigned int *out)
{
	unsigned long n;
	char *end;

	n = strtoul(arg, &end, 0);
	if (*end || !*arg || n < 1 || n > max) {
		fprintf(stderr, "fragfuzz: %s wants 1..%u, got '%s'\n", opt, max, arg);
		return -EINVAL;
	}
	*out = (unsigned int)n;
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "backend", required_argument, NULL, 'b' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'j' },
		{ "known", no_argument, NULL, 'K' },
		{ "max-exits", required_argument, NULL, 'E' },
		{ "max-passes", required_argument, NULL, 'P' },
		{ "max-entries", required_argument, NULL, 'N' },
		{ NULL, 0, NULL, 0 },
	};
	struct run_limits limits = RUN_LIMITS_DEFAULT;
	const struct kvm_profile *override = NULL;
	enum run_backend which = RUN_MODEL;
	struct kvm_backend *kb = NULL;
	struct model_backend *mb;
	bool json = false;
	int c, i, ret = 0;

	while ((c = getopt_long(argc, argv, "b:k:jKE:P:N:", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (!strcmp(optarg, "model")) {
				which = RUN_MODEL;
			} else if (!strcmp(optarg, "kvm")) {
				which = RUN_KVM;
			} else if (!strcmp(optarg, "both")) {
				which = RUN_BOTH;
			} else {
				fprintf(stderr, "fragfuzz: backend '%s' is not available "
					"(this build has: model, kvm, both)\n", optarg);
				return 2;
			}
			break;
		case 'k':
			override = parse_kernel(optarg);
			break;
		case 'j':
			json = true;
			break;
		case 'K':
			break;	/* known violations are always listed by run */
		case 'E':
		case 'P':
			if (parse_limit(c == 'E' ? "--max-exits" : "--max-passes", optarg,
					c == 'E' ? RESULT_MAX_EXITS : RUN_LIMITS_DEFAULT.max_passes,
					c == 'E' ? &limits.max_exits : &limits.max_passes))
				return 2;
			break;
		case 'N':
			if (parse_limit("--max-entries", optarg, RUN_LIMITS_DEFAULT_ENTRIES,
					&limits.max_entries))
				return 2;
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (which != RUN_MODEL) {
		char err[256];

		kb = kvm_backend_create(err, sizeof(err));
		if (!kb) {
			fprintf(stderr, "fragfuzz: kvm backend unavailable: %s\n", err);
			return 2;
		}
		if (!override)
			override = kvm_profile_find(KVM_BACKEND_HOST_PROFILE);
		kvm_backend_set_limits(kb, limits);
	}
	mb = model_backend_create();
	if (!mb) {
		fprintf(stderr, "fragfuzz: cannot create the model backend\n");
		kvm_backend_destroy(kb);
		return 2;
	}
	model_backend_set_limits(mb, limits);
	for (i = optind; i < argc || (i == optind && argc == optind); i++) {
		const char *path = i < argc ? argv[i] : "-";
		static struct scenario s;
		static struct run_result r;
		struct violation_list vl = { 0 };
		const struct kvm_profile *p;
		char err[256];

		if (load_scenario(path, &s, err, sizeof(err))) {
			fprintf(stderr, "fragfuzz: %s: %s\n", path, err);
			ret = 2;
			continue;
		}
		p = scenario_profile(&s, override);
		if (kb) {
			int rc = run_kvm_case(mb, kb, &s, p, path, which, json);

			if (rc > ret)
				ret = rc;
			continue;
		}
		if (model_backend_run(mb, &s, p, &r)) {
			fprintf(stderr, "fragfuzz: %s: the model cannot set this case up\n", path);
			ret = 2;
			continue;
		}
		oracle_check(&s, p, &r, &r.accesses, &vl);
		if (json)
			report_json(stdout, path, p, &r, &vl);
		else
			report_text(stdout, path, p, &r, &vl);
		if (vl.nr_unknown && ret == 0)
			ret = 1;
	}
	model_backend_destroy(mb);
	kvm_backend_destroy(kb);
	return ret;
}

static int cmd_encode(int argc, char **argv)
{
	const char *in = argc > 1 ? argv[1] : "-";
	static u8 out[4096];
	struct scenario s;
	char err[256];
	FILE *f = stdout;
	int n;

	if (load_scenario(in, &s, err, sizeof(err))) {
		fprintf(stderr, "fragfuzz: %s: %s\n", in, err);
		return 2;
	}
	n = scenario_encode(&s, out, sizeof(out));
	if (n < 0) {
		fprintf(stderr, "fragfuzz: %s: cannot encode\n", in);
		return 2;
	}
	if (argc > 2 && !(f = fopen(argv[2], "wb"))) {
		fprintf(stderr, "fragfuzz: %s: %s\n", argv[2], strerror(errno));
		return 2;
	}
	fwrite(out, 1, n, f);
	if (f != stdout)
		fclose(f);
	return 0;
}

static int cmd_decode(int argc, char **argv)
{
	const char *in = argc > 1 ? argv[1] : "-";
	struct scenario s;
	char err[256];

	if (load_scenario(in, &s, err, sizeof(err))) {
		fprintf(stderr, "fragfuzz: %s: %s\n", in, err);
		return 2;
	}
	scenario_format_text(&s, stdout);
	return 0;
}

static u64 xorshift64(u64 *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Random 15-byte strings per CPU mode: decoded, emulated, touching memory. */
static int cmd_stats_insn(unsigned long n, u64 seed)
{
	static const struct { enum x86emul_mode mode; const char *name; } modes[] = {
		{ X86EMUL_MODE_PROT16, "16-bit" },
		{ X86EMUL_MODE_PROT32, "32-bit" },
		{ X86EMUL_MODE_PROT64, "64-bit" },
	};
	unsigned int i;

	printf("random 15-byte strings: %lu per mode (seed %" PRIu64 ")\n", n, seed);
	printf("  %-7s %9s %9s %9s %9s %9s\n", "mode", "capstone", "kvm-table", "emulated",
	       "memory", "#UD/#NM");
	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		struct insn_stats st;

		insn_stats((unsigned int)n, seed, modes[i].mode, &st);
		printf("  %-7s %8.2f%% %8.2f%% %8.2f%% %8.2f%% %8.2f%%\n", modes[i].name,
		       100.0 * st.capstone_ok / st.total, 100.0 * st.kvm_decoded / st.total,
		       100.0 * st.emulated / st.total, 100.0 * st.memory / st.total,
		       100.0 * st.exception / st.total);
	}
	return 0;
}

/* Shares of random inputs that reach the code under test (issue 4). */
static int cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "insn", no_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	const struct kvm_profile *p = kvm_profile_find("7.1");
	bool insn = false;
	unsigned long n = 100000, i, accessed = 0, crossing = 0, two_frags = 0, exits = 0;
	unsigned long outcomes[NR_OUTCOMES] = { 0 };
	struct model_backend *mb;
	u64 seed = 1, seed0;
	int c;

	while ((c = getopt_long(argc, argv, "n:s:k:", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			n = strtoul(optarg, NULL, 0);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0) | 1;
			break;
		case 'k':
			p = parse_kernel(optarg);
			break;
		case 'i':
			insn = true;
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (insn)
		return cmd_stats_insn(n, seed);
	mb = model_backend_create();
	if (!mb)
		return 2;
	seed0 = seed;
	for (i = 0; i < n; i++) {
		static struct scenario s;
		static struct run_result r;
		u8 buf[160];
		size_t len = xorshift64(&seed) % sizeof(buf), k;
		bool cross = false, two = false;

		for (k = 0; k < len; k++)
			buf[k] = (u8)xorshift64(&seed);
		if (scenario_decode(&s, buf, len, NULL, 0) || model_backend_run(mb, &s, p, &r))
			continue;
		outcomes[r.outcome]++;
		if (r.accesses.nr)
			accessed++;
		if (r.nr_exits)
			exits++;
		for (k = 0; k < r.accesses.nr; k++) {
			const struct emul_access *a = &r.accesses.a[k];

			if (((a->la + a->bytes - 1) ^ a->la) & PAGE_MASK)
				cross = true;
			if (oracle_access_fragments(&s, a) == 2)
				two = true;
		}
		crossing += cross;
		two_frags += two;
	}
	printf("random inputs: %lu (seed %" PRIu64 ", kernel %s)\n", n, seed0, p->name);
	printf("  with an emulated access:        %6.2f%%\n", 100.0 * accessed / n);
	printf("  with a page-crossing access:    %6.2f%%\n", 100.0 * crossing / n);
	printf("  with two MMIO fragments:        %6.2f%%\n", 100.0 * two_frags / n);
	printf("  with at least one MMIO exit:    %6.2f%%\n", 100.0 * exits / n);
	for (i = 0; i < NR_OUTCOMES; i++)
		if (outcomes[i])
			printf("  outcome %-18s %6.2f%%\n", run_outcome_name(i),
			       100.0 * outcomes[i] / n);
	model_backend_destroy(mb);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "encode"))
		return cmd_encode(argc - 1, argv + 1);
	if (!strcmp(argv[1], "decode"))
		return cmd_decode(argc - 1, argv + 1);
	if (!strcmp(argv[1], "stats"))
		return cmd_stats(argc - 1, argv + 1);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "fragfuzz: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
