# SPDX-License-Identifier: GPL-2.0-only
#
# fragfuzz: make check (tests), make fuzz (fuzzing campaign), make bench.
# Honours CC, CFLAGS, LDFLAGS; everything is built under build/.

CC ?= cc
O := build
WARN := -Wall -Wextra -Werror -Wno-unused-parameter
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=gnu11 -D_GNU_SOURCE $(WARN) -Iemulator -Iharness $(CFLAGS)

MODEL_SRCS := $(sort $(wildcard emulator/*.c)) harness/pagetable.c
TEST_SRCS := $(sort $(wildcard tests/*.c))

MODEL_OBJS := $(MODEL_SRCS:%.c=$(O)/%.o)
TEST_OBJS := $(TEST_SRCS:%.c=$(O)/%.o)

.PHONY: all check clean fuzz

all: $(O)/fragfuzz-tests

$(O)/%.o: %.c $(wildcard emulator/*.h harness/*.h tests/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(O)/libmodel.a: $(MODEL_OBJS)
	$(AR) rcs $@ $^

$(O)/fragfuzz-tests: $(TEST_OBJS) $(O)/libmodel.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ -lpthread

check: $(O)/fragfuzz-tests
	$(O)/fragfuzz-tests

clean:
	rm -rf $(O)
