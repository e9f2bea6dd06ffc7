# SPDX-License-Identifier: GPL-2.0-only
#
# fragfuzz.  The two commands of README.md:
#   make check   build and run the tests (CI runs exactly this)
#   make fuzz    install missing packages, build and run a fuzzing campaign
# Honours CC, CFLAGS, LDFLAGS.  Everything is built under build/.

CC ?= cc
O := build
WARN := -Wall -Wextra -Werror -Wno-unused-parameter
CFLAGS ?= -O2 -g
INCLUDES := -Iemulator -Iharness -Itests
ALL_CFLAGS := -std=gnu11 -D_GNU_SOURCE $(WARN) $(INCLUDES) $(CFLAGS)
LDLIBS := -lcapstone

# ASan-instrumented helper for the CVE tests; any compiler with ASan works
ASAN_CC ?= $(shell for c in clang-19 clang gcc; do \
		command -v $$c >/dev/null 2>&1 && echo $$c && break; done)
ASAN_FLAGS := -O1 -g -fsanitize=address -fno-omit-frame-pointer

MODEL_SRCS := $(sort $(wildcard emulator/*.c)) harness/pagetable.c harness/scenario.c
HARNESS_SRCS := harness/backend_model.c harness/oracle.c harness/violation.c harness/report.c \
	harness/mmio_exit.c harness/fidelity.c harness/fuzz_findings.c \
	harness/kvm/backend_kvm.c harness/kvm/kvm_devices.c harness/kvm/kvm_trace.c
TEST_LIB_SRCS := tests/env.c tests/scripts.c
TEST_SRCS := tests/runner.c $(sort $(wildcard tests/test_*.c)) $(TEST_LIB_SRCS)
CVE_SRCS := tests/cve_repro.c $(TEST_LIB_SRCS) $(MODEL_SRCS)
HEADERS := $(wildcard emulator/*.h harness/*.h harness/kvm/*.h tests/*.h)

MODEL_OBJS := $(MODEL_SRCS:%.c=$(O)/%.o)
HARNESS_OBJS := $(HARNESS_SRCS:%.c=$(O)/%.o)
TEST_OBJS := $(TEST_SRCS:%.c=$(O)/%.o)

# libFuzzer targets need clang with the fuzzer runtime (libclang-rt-19-dev).
# Coverage goes to the code under test only: the emulator core that
# mirrors KVM's path (x86.c, emulate.c, handlers.c), edge counters without
# comparison tracing.  libFuzzer's cost is per covered edge per run, and the
# input parser (scenario.c) and decoder (decode.c) executed three edges for
# every two of the core while the core's edges already tell instruction
# families, operand kinds and page splits apart.  Measured on 2M runs from
# the seed corpus (7.1, seed 7): 2.5x the exec/s of instrumenting them too,
# and the corpus reaches 92% of the edges that build's corpus reaches.
# The targets' own input handling keeps comparison tracing; sanitizers
# still cover everything.
FUZZ_CC ?= clang-19
FUZZ_ASAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_ASAN_FLAGS := -O1 -g $(FUZZ_ASAN) -fsanitize=fuzzer
FUZZ_PLAIN_FLAGS := -O2 -g -fsanitize=fuzzer
FUZZ_CMP_SRCS := harness/fuzz_model.c
FUZZ_EDGE_SRCS := emulator/x86.c emulator/emulate.c emulator/handlers.c
FUZZ_NOCOV_SRCS := $(HARNESS_SRCS) harness/pagetable.c harness/scenario.c harness/fuzz_common.c \
	$(filter-out $(FUZZ_CMP_SRCS) $(FUZZ_EDGE_SRCS),$(sort $(wildcard emulator/*.c)))
FUZZ_CFLAGS := -std=gnu11 -D_GNU_SOURCE $(WARN) $(INCLUDES)
FUZZ_COV_CMP := -fsanitize=fuzzer-no-link
FUZZ_COV_EDGE := -fsanitize=fuzzer-no-link -fno-sanitize-coverage=trace-cmp,indirect-calls

$(O)/fuzz-asan/cmp/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -O1 -g $(FUZZ_ASAN) $(FUZZ_COV_CMP) -c -o $@ $<

$(O)/fuzz-asan/edge/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -O1 -g $(FUZZ_ASAN) $(FUZZ_COV_EDGE) -c -o $@ $<

$(O)/fuzz-asan/nocov/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -O1 -g $(FUZZ_ASAN) -c -o $@ $<

$(O)/fuzz-plain/cmp/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -O2 -g $(FUZZ_COV_CMP) -c -o $@ $<

$(O)/fuzz-plain/edge/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -O2 -g $(FUZZ_COV_EDGE) -c -o $@ $<

$(O)/fuzz-plain/nocov/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -O2 -g -c -o $@ $<

FUZZ_ASAN_OBJS := $(FUZZ_CMP_SRCS:%.c=$(O)/fuzz-asan/cmp/%.o) \
	$(FUZZ_EDGE_SRCS:%.c=$(O)/fuzz-asan/edge/%.o) $(FUZZ_NOCOV_SRCS:%.c=$(O)/fuzz-asan/nocov/%.o)
FUZZ_PLAIN_OBJS := $(FUZZ_CMP_SRCS:%.c=$(O)/fuzz-plain/cmp/%.o) \
	$(FUZZ_EDGE_SRCS:%.c=$(O)/fuzz-plain/edge/%.o) $(FUZZ_NOCOV_SRCS:%.c=$(O)/fuzz-plain/nocov/%.o)

# fragfuzz_kvm: the same objects with fuzz_kvm.c in place of fuzz_model.c
# (comparison tracing on its input handling, like fuzz_model.c).  Building
# it needs no /dev/kvm; running it does.  The plain build is the kernel
# target (ASan watches only this process; the model target has it), the
# ASan+UBSan build checks the harness around the kernel.
FUZZ_KVM_ASAN_OBJS := $(filter-out $(O)/fuzz-asan/cmp/harness/fuzz_model.o,$(FUZZ_ASAN_OBJS)) \
	$(O)/fuzz-asan/cmp/harness/fuzz_kvm.o
FUZZ_KVM_PLAIN_OBJS := $(filter-out $(O)/fuzz-plain/cmp/harness/fuzz_model.o,$(FUZZ_PLAIN_OBJS)) \
	$(O)/fuzz-plain/cmp/harness/fuzz_kvm.o

CORPUS_TXT := $(sort $(wildcard corpus/*.txt))
CORPUS_BIN := $(CORPUS_TXT:corpus/%.txt=$(O)/corpus/%.bin)

.PHONY: all check clean fuzz fuzz-build asan-tools deps bench bench-bugs


all: $(O)/fragfuzz-tests $(O)/fragfuzz $(O)/kvm-probe $(O)/kvm-iobus-order

# Install missing Debian packages (as root), or print the apt-get line.
deps:
	@fuzz/deps

$(O)/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(O)/libmodel.a: $(MODEL_OBJS)
	$(AR) rcs $@ $^

$(O)/libharness.a: $(HARNESS_OBJS)
	$(AR) rcs $@ $^

$(O)/fragfuzz-tests: $(TEST_OBJS) $(O)/libharness.a $(O)/libmodel.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/fragfuzz: $(O)/harness/fragfuzz.o $(O)/libharness.a $(O)/libmodel.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/corpus/%.bin: corpus/%.txt $(O)/fragfuzz
	@mkdir -p $(dir $@)
	$(O)/fragfuzz encode $< $@

$(O)/fuzz/fragfuzz_model: $(FUZZ_ASAN_OBJS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_ASAN_FLAGS) -o $@ $^ $(LDLIBS)

$(O)/fuzz/fragfuzz_model_plain: $(FUZZ_PLAIN_OBJS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_PLAIN_FLAGS) -o $@ $^ $(LDLIBS)

$(O)/fuzz/fragfuzz_kvm: $(FUZZ_KVM_PLAIN_OBJS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_PLAIN_FLAGS) -o $@ $^ $(LDLIBS)

$(O)/fuzz/fragfuzz_kvm_asan: $(FUZZ_KVM_ASAN_OBJS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_ASAN_FLAGS) -o $@ $^ $(LDLIBS)

$(O)/fuzz/trivial_plain: fuzz/trivial.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_PLAIN_FLAGS) -o $@ $<

$(O)/fuzz/trivial_asan: fuzz/trivial.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_ASAN_FLAGS) -o $@ $<

# Throughput: make bench [BENCH_SECONDS=60] [KERNEL=7.1]
bench: fuzz-build $(O)/fuzz/trivial_plain $(O)/fuzz/trivial_asan
	fuzz/bench

# Time to find the modelled bugs from an empty corpus (about 25 minutes)
bench-bugs: fuzz-build
	fuzz/bench-bugs

# Standalone /dev/kvm probe (settles model questions on the real kernel)
$(O)/kvm-probe: harness/kvm/kvm_probe.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $<

# Standalone reproducer of the MMIO bus order finding (iobus-missed)
$(O)/kvm-iobus-order: harness/kvm/iobus_order.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $<

fuzz-build: deps $(O)/fragfuzz $(CORPUS_BIN) $(O)/fuzz/fragfuzz_model $(O)/fuzz/fragfuzz_model_plain \
	$(O)/fuzz/fragfuzz_kvm $(O)/fuzz/fragfuzz_kvm_asan

# make fuzz [FUZZ_SECONDS=60] [FUZZ_JOBS=1] [KERNEL=7.1] [BUILD=asan|plain (kvm: plain)]
#           [BACKEND=model|kvm]  (kvm: needs /dev/kvm; KERNEL defaults to 6.18.24)
fuzz: fuzz-build
	FUZZ_SECONDS=$(or $(FUZZ_SECONDS),60) FUZZ_JOBS=$(or $(FUZZ_JOBS),1) \
	KERNEL=$(or $(KERNEL),$(if $(filter kvm,$(BACKEND)),6.18.24,7.1)) \
	BUILD=$(BUILD) BACKEND=$(or $(BACKEND),model) fuzz/campaign

$(O)/asan/cve-repro: $(CVE_SRCS) $(HEADERS)
	@mkdir -p $(dir $@)
	$(ASAN_CC) -std=gnu11 -D_GNU_SOURCE $(WARN) $(INCLUDES) $(ASAN_FLAGS) \
		-o $@ $(CVE_SRCS) $(LDLIBS)

# The CVE tests skip with one line when no ASan-capable compiler exists.
asan-tools:
	@$(MAKE) --no-print-directory $(O)/asan/cve-repro || \
		echo "# ASan build of cve-repro failed: CVE tests will skip"

check: deps $(O)/fragfuzz-tests $(O)/fragfuzz $(O)/kvm-probe $(O)/kvm-iobus-order $(CORPUS_BIN) asan-tools
	$(O)/fragfuzz-tests

clean:
	rm -rf $(O)
