/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Printing results: the kernel's trace format for events, one line per
 * exit, outcome and verdict; or one JSON object per scenario.
 */
#ifndef FRAGFUZZ_REPORT_H
#define FRAGFUZZ_REPORT_H

#include <stdio.h>

#include "result.h"
#include "scenario.h"
#include "violation.h"

void report_text(FILE *f, const char *name, const struct kvm_profile *p,
		 const struct run_result *r, const struct violation_list *vl);
void report_json(FILE *f, const char *name, const struct kvm_profile *p,
		 const struct run_result *r, const struct violation_list *vl);
void report_trace(FILE *f, const struct kvm_mmio_trace *t, const char *indent);
void report_exits(FILE *f, const struct run_result *r, const char *indent);

#endif
