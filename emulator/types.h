/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Basic types and page arithmetic shared by the model.
 *
 * PAGE_SIZE is 4 KiB even for guests using large pages: KVM splits
 * emulated accesses on 4 KiB linear boundaries (spec section 0).
 */
#ifndef FRAGFUZZ_TYPES_H
#define FRAGFUZZ_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;
typedef u64 gpa_t;
typedef u64 gva_t;
typedef u64 gfn_t;

#define PAGE_SHIFT	12
#define PAGE_SIZE	(1ULL << PAGE_SHIFT)
#define PAGE_MASK	(~(PAGE_SIZE - 1))
#define offset_in_page(x)	((u64)(x) & (PAGE_SIZE - 1))

#define BIT(n)		(1ULL << (n))
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define min_t(t, a, b)	((t)(a) < (t)(b) ? (t)(a) : (t)(b))
#define max_t(t, a, b)	((t)(a) > (t)(b) ? (t)(a) : (t)(b))
#define clamp_t(t, v, lo, hi)	min_t(t, max_t(t, v, lo), hi)

#endif
