# devmem TCP — top-level build. See README.md.
#   make            debug kernel + all user space
#   make check      deps, generated files current, build, the selftest suite in one VM boot
#   make demo       deps, build, a readable end-to-end demo in the VM
#   make fuzz       deps, build, the netlink fuzz for hours (FUZZ_SECONDS, FUZZ_COUNT)
#   make V=1        show commands

BUILD  ?= $(CURDIR)/build
KSRC   := $(BUILD)/linux
PREFIX ?= /usr/local
DESTDIR ?=
export BUILD KSRC V

ifeq ($(V),1)
Q :=
else
Q := @
endif

CC      ?= gcc
CFLAGS  ?= -O2 -g
CFLAGS  += -Wall -Wextra -Wno-unused-parameter
UAPI    := -isystem $(BUILD)/usr/include
# -Wno-clobbered: the harness's setjmp around each test trips -Wextra
HARNESS := -I$(KSRC)/tools/testing/selftests -Wno-clobbered

SELFTEST_BINS := $(BUILD)/selftests/udmabuf $(BUILD)/selftests/devmem_nl \
		 $(BUILD)/selftests/devmem_tx $(BUILD)/selftests/devmem_tokens \
		 $(BUILD)/selftests/devmem_fuzz
TOOL_BINS     := $(BUILD)/tools/devmem-nc $(BUILD)/ctl/devmemctl

NL_CFLAGS   := $(shell pkg-config --cflags libnl-genl-3.0 json-c 2>/dev/null)
NL_LIBS     := $(shell pkg-config --libs libnl-genl-3.0 json-c 2>/dev/null)
BPF_LIBS    := $(shell pkg-config --libs libbpf 2>/dev/null || echo -lbpf -lelf -lz)

# BPF: CO-RE against the BTF of the kernel we built (whichever exists;
# evaluated in the sub-make that 'tools' runs, after the kernel build)
BPF_OUT   := $(BUILD)/bpf
VMLINUX   ?= $(firstword $(wildcard $(BUILD)/kernel-debug/vmlinux $(BUILD)/kernel-fast/vmlinux))
CLANG     ?= clang
BPF_CFLAGS := -g -O2 -mcpu=v3 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror
BPF_PROGS := devmem_steer devmem_acct
BPF_SKELS := $(BPF_PROGS:%=$(BPF_OUT)/%.skel.h)
CTL_SRCS  := $(wildcard ctl/*.c)

.PHONY: all tools deps kernel kernel-fast kernel-tree kernel-patches checkpatch regen regen-check \
	headers selftests check demo bench fuzz install clean distclean help

all: kernel tools selftests

help:
	@sed -n '2,7p' Makefile | sed 's/^# //'

deps:
	$(Q)tools/deps.sh

# -- kernel ---------------------------------------------------------------
# The scripts keep their own stamps (tree state, fragments), so these
# targets are phony but cheap when nothing changed.
kernel-tree:
	$(Q)kernel/scripts/tree.sh

kernel: kernel-tree
	$(Q)kernel/scripts/build.sh debug

kernel-fast: kernel-tree
	$(Q)kernel/scripts/build.sh fast

kernel-patches:
	$(Q)kernel/scripts/export-patches.sh

checkpatch: kernel-tree
	$(Q)kernel/scripts/checkpatch.sh

# the devmem family's generated code, uAPI header and docs, from its spec
regen: kernel-tree
	$(Q)kernel/scripts/regen.sh

regen-check: kernel-tree
	$(Q)kernel/scripts/regen.sh --check

headers: kernel-tree
	$(Q)kernel/scripts/headers.sh

# -- tools ----------------------------------------------------------------
tools: headers
	$(Q)$(MAKE) --no-print-directory $(if $(Q),-s) $(TOOL_BINS)

$(BUILD)/tools/devmem-nc: tools/devmem-nc/devmem-nc.c tools/devmem-nc/pattern.h $(BUILD)/usr/.devmem-state
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS) -I$(CURDIR)/include/uapi $(UAPI) $(NL_CFLAGS) -o $@ $< $(NL_LIBS)

# -- BPF and devmemctl -----------------------------------------------------
# The kernel's own build makes vmlinux: never make's built-in rule from
# vmlinux.o (it would race a kernel link running beside user space builds)
ifneq ($(VMLINUX),)
$(VMLINUX): ;
endif

$(BPF_OUT)/vmlinux.h: $(VMLINUX)
	@mkdir -p $(@D)
	$(if $(VMLINUX),,@echo "bpf: vmlinux.h needs a built kernel: run 'make kernel' first" >&2; exit 1)
	@$(if $(Q),echo "  GEN     $@")
	$(Q)bpftool btf dump file $< format c > $@.tmp && mv $@.tmp $@

$(BPF_OUT)/%.bpf.o: bpf/%.bpf.c bpf/devmem_bpf.h $(BPF_OUT)/vmlinux.h
	@$(if $(Q),echo "  CLANG   $@")
	$(Q)$(CLANG) $(BPF_CFLAGS) -I$(BPF_OUT) -Ibpf -c $< -o $@
	$(Q)llvm-strip -g $@

$(BPF_OUT)/%.skel.h: $(BPF_OUT)/%.bpf.o
	@$(if $(Q),echo "  SKEL    $@")
	$(Q)bpftool gen skeleton $< name $* > $@.tmp && mv $@.tmp $@

$(BUILD)/ctl/devmemctl: $(CTL_SRCS) ctl/devmemctl.h bpf/devmem_bpf.h $(BPF_SKELS) \
		include/uapi/linux/devmem.h $(BUILD)/usr/.devmem-state
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS) -I$(CURDIR)/include/uapi $(UAPI) -I$(BPF_OUT) -Ibpf $(NL_CFLAGS) \
		-o $@ $(CTL_SRCS) $(NL_LIBS) $(BPF_LIBS)

# -- selftests ------------------------------------------------------------
selftests: headers
	$(Q)$(MAKE) --no-print-directory $(if $(Q),-s) $(SELFTEST_BINS)

# the devmem family's client; this tree's uAPI header comes first, so it
# builds before the kernel's headers carry linux/devmem.h
$(BUILD)/selftests/devmem_nl: selftests/devmem_nl.c include/uapi/linux/devmem.h $(BUILD)/usr/.devmem-state
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS) -I$(CURDIR)/include/uapi $(UAPI) $(NL_CFLAGS) -o $@ $< $(NL_LIBS)

# devmem TX prober: the harness, libnl, and devmem-nc's byte pattern
$(BUILD)/selftests/devmem_tx: selftests/devmem_tx.c tools/devmem-nc/pattern.h \
		include/uapi/linux/devmem.h $(BUILD)/usr/.devmem-state
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS) -I$(CURDIR)/include/uapi $(UAPI) $(HARNESS) -Itools/devmem-nc \
		$(NL_CFLAGS) -o $@ $< $(NL_LIBS)

# devmem receive with odd control buffers and token arrays: devmem-nc's pattern
$(BUILD)/selftests/devmem_tokens: selftests/devmem_tokens.c tools/devmem-nc/pattern.h \
		$(BUILD)/usr/.devmem-state
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS) $(UAPI) -Itools/devmem-nc -o $@ $<

# the netlink fuzzer: raw netlink, no libraries
$(BUILD)/selftests/devmem_fuzz: selftests/devmem_fuzz.c include/uapi/linux/devmem.h $(BUILD)/usr/.devmem-state
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS) -I$(CURDIR)/include/uapi $(UAPI) -o $@ $<

$(BUILD)/selftests/%: selftests/%.c $(BUILD)/usr/.devmem-state
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS) $(UAPI) $(HARNESS) -o $@ $< $(LDLIBS)

check: deps regen-check all
	$(Q)selftests/check.sh

# the netlink fuzz alone, long: FUZZ_COUNT messages or FUZZ_SECONDS,
# whichever ends first (Documentation/devmem-fuzz.rst)
FUZZ_COUNT   ?= 10000000
FUZZ_SECONDS ?= 28800
fuzz: deps all
	$(Q)tools/vm/run -t $$(($(FUZZ_SECONDS) + 900)) -s $(BUILD)/vm/fuzz -- \
		env FUZZ_COUNT=$(FUZZ_COUNT) FUZZ_SECONDS=$(FUZZ_SECONDS) \
		$(foreach v,FUZZ_SEED FUZZ_DISABLE FUZZ_KNOWN,$(if $($(v)),$(v)=$($(v)))) \
		selftests/run.sh devmem_fuzz.sh

demo: deps all
	$(Q)tools/vm/run -t 600 -- tools/demo.sh

# on the fast kernel: a table per benchmark in build/bench/
bench: deps kernel-fast tools selftests
	$(Q)tools/bench/run.sh

# user space only: devmemctl (BPF objects embedded), devmem-nc, man page, completion
install: tools
	$(Q)install -D -m 0755 $(BUILD)/tools/devmem-nc $(DESTDIR)$(PREFIX)/bin/devmem-nc
	$(Q)install -D -m 0644 Documentation/netdevsim-devmem.rst \
		$(DESTDIR)$(PREFIX)/share/doc/devmem-tcp/netdevsim-devmem.rst
	$(Q)install -D -m 0755 $(BUILD)/ctl/devmemctl $(DESTDIR)$(PREFIX)/sbin/devmemctl
	$(Q)install -D -m 0644 Documentation/devmemctl.8 $(DESTDIR)$(PREFIX)/share/man/man8/devmemctl.8
	$(Q)install -D -m 0644 ctl/devmemctl.bash-completion \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/devmemctl

clean:
	$(Q)rm -rf $(BUILD)/selftests $(BUILD)/tools $(BUILD)/vm $(BUILD)/usr $(BUILD)/headers-obj
	$(Q)rm -rf $(BUILD)/kernel-debug $(BUILD)/kernel-fast

# also drops the unpacked kernel tree (and any commits made in it)
distclean:
	$(Q)rm -rf $(BUILD)
