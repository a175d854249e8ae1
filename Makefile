# pvpn — top-level build.  `make` builds into $(BUILD)/, `make check` runs
# every test, `make demo` shows a real tunnel, `make bench` measures.
#
# Sources are found by folder, so a new file in a room needs no edit here:
#   ROOM/*.c                 -> $(BUILD)/libpvpn.a (except main-*.c)
#   ROOM/main-NAME.c         -> $(BUILD)/NAME       (a program)
#   tests/unit/test_*.c      -> $(BUILD)/tests/unit/test_*   (cmocka)
#   tests/kernel/test_*.c    -> $(BUILD)/tests/kernel/test_* (cmocka, needs root)
#   tests/fuzz/fuzz_*.c      -> $(BUILD)/fuzz/fuzz_*  (clang libFuzzer)

BUILD   ?= build
PREFIX  ?= /usr/local
DESTDIR ?=
SAN     ?=
CC      ?= cc
FUZZ_CC ?= clang

ifeq ($(V),1)
Q :=
else
Q := @
endif

PKGS := libmnl libsodium libcrypto libssl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wno-unused-parameter
HARDEN   := -fstack-protector-strong -fPIE -D_FORTIFY_SOURCE=2
CFLAGS   ?= -O2 -g
ALL_CFLAGS := -std=gnu11 $(WARN) $(HARDEN) $(CFLAGS) -I. $(PKG_CFLAGS) -MMD -MP
LDFLAGS_HARDEN := -pie -Wl,-z,relro,-z,now

ifeq ($(SAN),1)
# Sanitizers do not mix with _FORTIFY_SOURCE; keep the rest.
HARDEN   := -fstack-protector-strong -fPIE
ALL_CFLAGS := -std=gnu11 $(WARN) $(HARDEN) -O1 -g -fno-omit-frame-pointer \
              -fsanitize=address,undefined -fno-sanitize-recover=all \
              -I. $(PKG_CFLAGS) -MMD -MP
LDFLAGS_HARDEN += -fsanitize=address,undefined
endif

ROOMS := lib ike-lite kernel-xfrm policy ctl tools/ikedump
ALL_SRC  := $(foreach r,$(ROOMS),$(wildcard $(r)/*.c))
MAIN_SRC := $(foreach r,$(ROOMS),$(wildcard $(r)/main-*.c))
LIB_SRC  := $(filter-out $(MAIN_SRC),$(ALL_SRC))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
MAIN_OBJ := $(MAIN_SRC:%.c=$(BUILD)/obj/%.o)
PROGS    := $(foreach m,$(MAIN_SRC),$(BUILD)/$(patsubst main-%.c,%,$(notdir $(m))))

UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)
KERNEL_SRC := $(wildcard tests/kernel/test_*.c)
KERNEL_BIN := $(KERNEL_SRC:tests/kernel/%.c=$(BUILD)/tests/kernel/%)
TESTLIB_SRC := $(wildcard tests/lib/*.c)
TESTLIB_OBJ := $(TESTLIB_SRC:%.c=$(BUILD)/obj/%.o)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN   := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)

.PHONY: all deps check unit san kernel interop fuzz fuzz-short fuzz-long demo bench bench-short \
        install clean tests

all: $(PROGS)

.SECONDARY:

deps:
	$(Q)scripts/install-deps

$(BUILD)/libpvpn.a: $(LIB_OBJ)
	@mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

define prog_rule
$(BUILD)/$(patsubst main-%.c,%,$(notdir $(1))): $(BUILD)/obj/$(1:.c=.o) $(BUILD)/libpvpn.a
	@$$(if $$(Q),echo "  LINK    $$@")
	$$(Q)$$(CC) $$(LDFLAGS_HARDEN) $$(LDFLAGS) -o $$@ $$^ $$(PKG_LIBS)
endef
$(foreach m,$(MAIN_SRC),$(eval $(call prog_rule,$(m))))

$(BUILD)/tests/unit/%: $(BUILD)/obj/tests/unit/%.o $(TESTLIB_OBJ) $(BUILD)/libpvpn.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS_HARDEN) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS)

$(BUILD)/tests/kernel/%: $(BUILD)/obj/tests/kernel/%.o $(TESTLIB_OBJ) $(BUILD)/libpvpn.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS_HARDEN) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS)

tests: all $(UNIT_BIN) $(KERNEL_BIN)

# Unit tests: deterministic, no privileges, no network.
unit: tests
	$(Q)tests/run-unit $(BUILD)

# The same unit tests under ASan + UBSan, in a separate build folder.
san:
	$(Q)$(MAKE) --no-print-directory BUILD=$(BUILD)/san SAN=1 unit

# Kernel tests (XFRM, rtnetlink, traffic through ESP): on the host when it
# can install an ESP SA, otherwise inside Debian's kernel under QEMU.
kernel: tests
	$(Q)tests/run-kernel $(BUILD) tests/kernel/suite

# Interop against a real strongSwan responder (always needs ESP).
interop: tests
	$(Q)tests/run-kernel $(BUILD) tests/interop/suite

# libFuzzer targets, built with clang.  Each links the room sources directly
# so every decoder is instrumented.
FUZZ_CFLAGS := -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -I. $(PKG_CFLAGS) \
               -DPVPN_FUZZING
# The room sources are compiled once with the fuzzing flags into their own
# archive; each target links only what it uses from it.
FUZZ_OBJ := $(LIB_SRC:%.c=$(BUILD)/fuzz/obj/%.o)
$(BUILD)/fuzz/obj/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZ-CC $<")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@
$(BUILD)/fuzz/libpvpn-fuzz.a: $(FUZZ_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^
$(BUILD)/fuzz/%: tests/fuzz/%.c $(BUILD)/fuzz/libpvpn-fuzz.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZ-LD $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(BUILD)/fuzz/libpvpn-fuzz.a $(PKG_LIBS)

fuzz: $(FUZZ_BIN)
fuzz-short: $(FUZZ_BIN)
	$(Q)tests/run-fuzz $(BUILD) short
fuzz-long: $(FUZZ_BIN)
	$(Q)tests/run-fuzz $(BUILD) long

check: deps
	$(Q)$(MAKE) --no-print-directory all tests
	$(Q)$(MAKE) --no-print-directory unit
	$(Q)$(MAKE) --no-print-directory san
	$(Q)$(MAKE) --no-print-directory fuzz-short
	$(Q)$(MAKE) --no-print-directory kernel
	$(Q)$(MAKE) --no-print-directory interop
	$(Q)tests/run-kernel $(BUILD) tests/demo/run
	$(Q)$(MAKE) --no-print-directory bench-short
	@echo "make check: all suites passed"

demo: deps
	$(Q)$(MAKE) --no-print-directory all tests
	$(Q)tests/run-kernel $(BUILD) tests/demo/run

bench: deps
	$(Q)$(MAKE) --no-print-directory all tests
	$(Q)tests/run-kernel $(BUILD) tests/bench/run

# A few connects, no 100-tunnel run: make check runs it so the bench cannot rot.
bench-short: all tests
	$(Q)PVPN_BENCH_MODE=short tests/run-kernel $(BUILD) tests/bench/run

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin
	$(if $(wildcard $(BUILD)/pvpnd),install -m 0755 $(BUILD)/pvpnd $(DESTDIR)$(PREFIX)/sbin/pvpnd)
	$(if $(wildcard $(BUILD)/pvpn),install -m 0755 $(BUILD)/pvpn $(DESTDIR)$(PREFIX)/bin/pvpn)
	$(if $(wildcard $(BUILD)/pvpn-ikedump),install -m 0755 $(BUILD)/pvpn-ikedump $(DESTDIR)$(PREFIX)/bin/pvpn-ikedump)
	install -d $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man8
	$(foreach m,$(wildcard docs/*.5),install -m 0644 $(m) $(DESTDIR)$(PREFIX)/share/man/man5/;)
	$(foreach m,$(wildcard docs/*.8),install -m 0644 $(m) $(DESTDIR)$(PREFIX)/share/man/man8/;)
	install -d $(DESTDIR)$(PREFIX)/lib/systemd/system $(DESTDIR)$(PREFIX)/share/bash-completion/completions
	sed 's|/usr/local/sbin/pvpnd|$(PREFIX)/sbin/pvpnd|' contrib/pvpnd.service > $(DESTDIR)$(PREFIX)/lib/systemd/system/pvpnd.service
	install -m 0644 contrib/bash-completion/pvpn $(DESTDIR)$(PREFIX)/share/bash-completion/completions/pvpn

clean:
	rm -rf $(BUILD)

-include $(LIB_OBJ:.o=.d) $(MAIN_OBJ:.o=.d) $(TESTLIB_OBJ:.o=.d)
-include $(UNIT_SRC:tests/unit/%.c=$(BUILD)/obj/tests/unit/%.d)
-include $(KERNEL_SRC:tests/kernel/%.c=$(BUILD)/obj/tests/kernel/%.d)
