/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small TAP-like test harness in the style of KVM selftests: every case
 * prints "ok N - name" or "not ok N - name", the run ends with
 * "N passed, N failed, N skipped".
 */
#ifndef FRAGFUZZ_TEST_H
#define FRAGFUZZ_TEST_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>

struct test_ctx {
	bool failed;
	bool skipped;
	const char *skip_reason;
};

typedef void (*test_fn)(struct test_ctx *t, const void *arg);

void test_register(const char *name, test_fn fn, const void *arg);
/* Register "@prefix@title [profile]" for each of @profiles, the profile its argument. */
void test_register_profiles(const char *prefix, const char *title, test_fn fn,
			    const char *const *profiles, unsigned int n);
void test_fail(struct test_ctx *t, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define TEST(name)							\
	static void test_##name(struct test_ctx *t, const void *arg);	\
	__attribute__((constructor)) static void register_##name(void)	\
	{								\
		test_register(#name, test_##name, NULL);		\
	}								\
	static void test_##name(struct test_ctx *t, const void *arg __attribute__((unused)))

/* A test run once for each profile name of the array @profiles (its arg). */
#define PROFILE_TEST(name, prefix, title, profiles)			\
	static void name(struct test_ctx *t, const void *arg);		\
	__attribute__((constructor)) static void register_##name(void)	\
	{								\
		test_register_profiles(prefix, title, name, profiles,	\
				       sizeof(profiles) / sizeof((profiles)[0])); \
	}								\
	static void name(struct test_ctx *t, const void *arg)

/* Register each row of the array @rows as a test named by its .name, run by @fn. */
#define TEST_ROWS(rows, fn)						\
	__attribute__((constructor)) static void register_##rows(void)	\
	{								\
		unsigned int __i;					\
									\
		for (__i = 0; __i < sizeof(rows) / sizeof((rows)[0]); __i++) \
			test_register((rows)[__i].name, fn, &(rows)[__i]); \
	}

#define TEST_FAIL(fmt, ...)						\
	do {								\
		test_fail(t, __FILE__, __LINE__, fmt, ##__VA_ARGS__);	\
		return;							\
	} while (0)

#define TEST_ASSERT(cond, fmt, ...)					\
	do {								\
		if (!(cond))						\
			TEST_FAIL("%s: " fmt, #cond, ##__VA_ARGS__);	\
	} while (0)

/* "Wanted 0x%lx for '%s', got 0x%lx" */
#define TEST_ASSERT_EQ(got, wanted, what)				\
	do {								\
		uint64_t __g = (uint64_t)(got), __w = (uint64_t)(wanted);	\
		if (__g != __w)						\
			TEST_FAIL("Wanted 0x%" PRIx64 " for '%s', got 0x%" PRIx64, \
				  __w, what, __g);			\
	} while (0)

/* Skip the case with one line, like selftests' TEST_REQUIRE. */
#define TEST_REQUIRE(cond, reason)					\
	do {								\
		if (!(cond)) {						\
			t->skipped = true;				\
			t->skip_reason = reason;			\
			return;						\
		}							\
	} while (0)

#endif
