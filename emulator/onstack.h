/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * object_is_on_stack() for the model: is @p inside a stack frame of the
 * current KVM_RUN call?  Under ASan with detect_stack_use_after_return,
 * locals live in ASan's fake stack, which is asked as well.
 */
#ifndef FRAGFUZZ_ONSTACK_H
#define FRAGFUZZ_ONSTACK_H

#include "vcpu.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FRAGFUZZ_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define FRAGFUZZ_ASAN 1
#endif

#ifdef FRAGFUZZ_ASAN
#include <sanitizer/asan_interface.h>
#endif

static inline bool object_is_on_stack(const struct kvm_vcpu *vcpu, const void *p)
{
	uintptr_t lo = (uintptr_t)__builtin_frame_address(0);
	uintptr_t x = (uintptr_t)p;

#ifdef FRAGFUZZ_ASAN
	void *fake = __asan_get_current_fake_stack();

	if (fake && __asan_addr_is_in_fake_stack(fake, (void *)p, NULL, NULL))
		return true;
#endif
	return vcpu->stack_hi && x >= lo && x < vcpu->stack_hi;
}

#endif
