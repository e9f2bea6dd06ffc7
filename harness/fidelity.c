// SPDX-License-Identifier: GPL-2.0-only
/*
 * The model-vs-kernel differential (see fidelity.h).
 */
#include <stdio.h>
#include <string.h>

#include "fidelity.h"
static int fmt_exit(char *buf, size_t size, const struct run_result *r, unsigned int i)
{
	const struct run_exit *x;
	int n;
	unsigned int j;

	if (i >= r->nr_exits)
		return snprintf(buf, size, "none");
	x = &r->exits[i];
	n = snprintf(buf, size, "%c 0x%llx/%u ", x->write ? 'W' : 'R',
		     (unsigned long long)x->gpa, x->len);
	for (j = 0; j < x->len && j < 8 && n > 0 && (size_t)n < size; j++)
		n += snprintf(buf + n, size - n, "%02x", x->data[j]);
	return n;
}

static int fmt_event(char *buf, size_t size, const struct kvm_mmio_trace *t, unsigned int i)
{
	const struct kvm_mmio_event *e;

	if (i >= t->nr)
		return snprintf(buf, size, "none");
	e = &t->ev[i];
	return snprintf(buf, size, "%s len %u gpa 0x%llx val 0x%llx",
			kvm_mmio_type_name(e->type), e->len, (unsigned long long)e->gpa,
			(unsigned long long)e->val);
}

static bool exit_equal(const struct run_exit *a, const struct run_exit *b)
{
	return a->gpa == b->gpa && a->len == b->len && a->write == b->write &&
	       !memcmp(a->data, b->data, min_t(u32, a->len, 8));
}

static bool event_equal(const struct kvm_mmio_event *a, const struct kvm_mmio_event *b)
{
	return a->type == b->type && a->len == b->len && a->gpa == b->gpa && a->val == b->val;
}

unsigned int fidelity_check(const struct kvm_profile *p, const struct run_result *m,
			    const struct run_result *k, bool traced,
			    struct violation_list *out)
{
	char a[64], b[64];
	unsigned int i, n = 0;

	for (i = 0; i < m->nr_exits || i < k->nr_exits; i++) {
		if (i < m->nr_exits && i < k->nr_exits && exit_equal(&m->exits[i], &k->exits[i]))
			continue;
		fmt_exit(a, sizeof(a), m, i);
		fmt_exit(b, sizeof(b), k, i);
		violation_add(out, p, V_FIDELITY, "exits (model %u, kvm %u): exit %u model %s, kvm %s",
			      m->nr_exits, k->nr_exits, i, a, b);
		n++;
		break;
	}
	for (i = 0; traced && (i < m->trace.nr || i < k->trace.nr); i++) {
		if (i < m->trace.nr && i < k->trace.nr &&
		    event_equal(&m->trace.ev[i], &k->trace.ev[i]))
			continue;
		fmt_event(a, sizeof(a), &m->trace, i);
		fmt_event(b, sizeof(b), &k->trace, i);
		violation_add(out, p, V_FIDELITY, "trace (model %u, kvm %u): event %u model %s, kvm %s",
			      m->trace.nr, k->trace.nr, i, a, b);
		n++;
		break;
	}
	if (m->outcome != k->outcome) {
		violation_add(out, p, V_FIDELITY, "outcome: model %s, kvm %s",
			      run_outcome_name(m->outcome), run_outcome_name(k->outcome));
		n++;
	} else if (m->outcome == OUTCOME_EXCEPTION &&
		   m->exception.vector != k->exception.vector) {
		violation_add(out, p, V_FIDELITY, "exception: model vector %u, kvm vector %u",
			      m->exception.vector, k->exception.vector);
		n++;
	}
	if (m->rip != k->rip) {
		violation_add(out, p, V_FIDELITY, "rip: model 0x%llx, kvm 0x%llx",
			      (unsigned long long)m->rip, (unsigned long long)k->rip);
		n++;
	}
	return n;
}
