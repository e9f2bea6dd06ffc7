// SPDX-License-Identifier: GPL-2.0-only
/*
 * Result reports, text and JSON (see report.h).
 */
#include <inttypes.h>

#include "report.h"

void report_trace(FILE *f, const struct kvm_mmio_trace *t, const char *indent)
{
	unsigned int i;
	char line[128];

	for (i = 0; i < t->nr; i++) {
		kvm_mmio_event_format(&t->ev[i], line, sizeof(line));
		fprintf(f, "%s%s\n", indent, line);
	}
	if (t->lost)
		fprintf(f, "%s(%u more events lost)\n", indent, t->lost);
}

static void report_exit_data(FILE *f, const struct run_exit *x)
{
	unsigned int i;

	for (i = 0; i < x->len && i < 8; i++)
		fprintf(f, "%s%02x", i ? " " : "", x->data[i]);
}

void report_exits(FILE *f, const struct run_result *r, const char *indent)
{
	unsigned int i;

	for (i = 0; i < r->nr_exits; i++) {
		const struct run_exit *x = &r->exits[i];

		fprintf(f, "%sEXIT{0x%" PRIx64 ",%u,%c,", indent, x->gpa, x->len,
			x->write ? 'W' : 'R');
		report_exit_data(f, x);
		fprintf(f, "}\n");
	}
}

static void report_outcome(FILE *f, const struct run_result *r)
{
	fprintf(f, "outcome: %s", run_outcome_name(r->outcome));
	if (r->outcome == OUTCOME_EXCEPTION) {
		fprintf(f, " vector %u", r->exception.vector);
		if (r->exception.error_code_valid)
			fprintf(f, " error 0x%x", r->exception.error_code);
		if (r->exception.vector == PF_VECTOR)
			fprintf(f, " cr2 0x%" PRIx64, r->exception.address);
	}
	if (r->mnemonic[0])
		fprintf(f, " (%s)", r->mnemonic);
	fprintf(f, "\n");
}

void report_text(FILE *f, const char *name, const struct kvm_profile *p,
		 const struct run_result *r, const struct violation_list *vl)
{
	unsigned int i;

	fprintf(f, "== %s (kernel %s)\n", name, p->name);
	report_trace(f, &r->trace, "  ");
	report_exits(f, r, "  ");
	report_outcome(f, r);
	for (i = 0; i < vl->nr; i++) {
		const char *ref = NULL;

		violation_is_known(vl->v[i].kind, p, &ref);
		fprintf(f, "violation: %s%s: %s\n", violation_name(vl->v[i].kind),
			vl->v[i].known ? " (known)" : "", vl->v[i].detail);
		if (ref)
			fprintf(f, "  known upstream: %s\n", ref);
	}
	fprintf(f, "verdict: %s\n", vl->nr_unknown ? "violation" :
		vl->nr ? "ok (known violations only)" : "ok");
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

void report_json(FILE *f, const char *name, const struct kvm_profile *p,
		 const struct run_result *r, const struct violation_list *vl)
{
	unsigned int i, j;

	fprintf(f, "{\"scenario\":");
	json_string(f, name);
	fprintf(f, ",\"kernel\":\"%s\",\"trace\":[", p->name);
	for (i = 0; i < r->trace.nr; i++) {
		const struct kvm_mmio_event *e = &r->trace.ev[i];

		fprintf(f, "%s{\"type\":\"%s\",\"len\":%u,\"gpa\":\"0x%" PRIx64
			"\",\"val\":\"0x%" PRIx64 "\"}", i ? "," : "",
			kvm_mmio_type_name(e->type), e->len, e->gpa, e->val);
	}
	fprintf(f, "],\"exits\":[");
	for (i = 0; i < r->nr_exits; i++) {
		const struct run_exit *x = &r->exits[i];

		fprintf(f, "%s{\"gpa\":\"0x%" PRIx64 "\",\"len\":%u,\"write\":%s,\"data\":\"",
			i ? "," : "", x->gpa, x->len, x->write ? "true" : "false");
		for (j = 0; j < x->len && j < 8; j++)
			fprintf(f, "%02x", x->data[j]);
		fprintf(f, "\"}");
	}
	fprintf(f, "],\"outcome\":\"%s\"", run_outcome_name(r->outcome));
	if (r->outcome == OUTCOME_EXCEPTION)
		fprintf(f, ",\"exception\":{\"vector\":%u,\"error_code\":%u,\"cr2\":\"0x%" PRIx64 "\"}",
			r->exception.vector,
			r->exception.error_code_valid ? r->exception.error_code : 0,
			r->exception.address);
	fprintf(f, ",\"rip\":\"0x%" PRIx64 "\",\"violations\":[", r->rip);
	for (i = 0; i < vl->nr; i++) {
		fprintf(f, "%s{\"kind\":\"%s\",\"known\":%s,\"detail\":", i ? "," : "",
			violation_name(vl->v[i].kind), vl->v[i].known ? "true" : "false");
		json_string(f, vl->v[i].detail);
		fprintf(f, "}");
	}
	fprintf(f, "]}\n");
}
