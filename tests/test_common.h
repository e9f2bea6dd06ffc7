/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Small helpers shared by the test files: where the build and the source
 * tree are, corpus scenarios, hex byte strings.
 */
#ifndef FRAGFUZZ_TEST_COMMON_H
#define FRAGFUZZ_TEST_COMMON_H

#include "scenario.h"

/* The folder @up levels above build/fragfuzz-tests: 1 the build, 2 the source tree. */
bool exe_dir(char *buf, size_t size, unsigned int up);
/* Parse corpus/@name of the source tree into @s; false if it cannot be read or parsed. */
bool load_corpus(const char *name, struct scenario *s);
/* Bytes of "8b 07" or "8b07" into @out, at most @max; how many.  NULL is none. */
unsigned int hex_bytes(const char *s, u8 *out, unsigned int max);

#endif
