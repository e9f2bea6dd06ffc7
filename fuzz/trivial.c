// SPDX-License-Identifier: GPL-2.0-only
/* The yardstick for `make bench`: a libFuzzer target that does nothing. */
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return size > 3 && data[0] == 'f' && data[1] == 'z' && data[2] == 'z';
}
