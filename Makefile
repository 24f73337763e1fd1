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
		 $(BUILD)/selftests/devmem_fuzz $(BUILD)/selftests/devmem_export \
		 $(BUILD)/selftests/host/libdevmem_test
TOOL_BINS     := $(BUILD)/tools/devmem-nc $(BUILD)/ctl/devmemctl $(BUILD)/ctl/asan/devmemctl

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

.PHONY: all tools deps check-long kernel kernel-fast kernel-tree kernel-patches checkpatch regen regen-check \
	headers selftests check demo bench fuzz install install-libdevmem clean distclean help

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

# -- libdevmem -------------------------------------------------------------
# static and shared (soname libdevmem.so.0, exports from a version script),
# and a pkg-config file for PREFIX
LIBDEVMEM_VERSION := 0.1.0
LIBDEVMEM_DIR  := tools/lib/devmem
LIBDEVMEM_SRCS := $(wildcard $(LIBDEVMEM_DIR)/*.c)
LIBDEVMEM_HDRS := $(LIBDEVMEM_DIR)/libdevmem.h $(LIBDEVMEM_DIR)/internal.h
LIBDEVMEM_OUT  := $(BUILD)/lib
LIBDEVMEM_OBJS := $(LIBDEVMEM_SRCS:$(LIBDEVMEM_DIR)/%.c=$(LIBDEVMEM_OUT)/obj/%.o)
LIBDEVMEM_A    := $(LIBDEVMEM_OUT)/libdevmem.a
LIBDEVMEM_SO   := $(LIBDEVMEM_OUT)/libdevmem.so.$(LIBDEVMEM_VERSION)
LIBDEVMEM_PC   := $(LIBDEVMEM_OUT)/libdevmem.pc
LIBDEVMEM_LIBS := $(LIBDEVMEM_A) $(LIBDEVMEM_SO) $(LIBDEVMEM_OUT)/libdevmem.so.0 \
		  $(LIBDEVMEM_OUT)/libdevmem.so $(LIBDEVMEM_PC)
LIBDIR         ?= $(PREFIX)/lib
LIBDEVMEM_MAN3 := Documentation/libdevmem.3 Documentation/devmem_nl_open.3 \
		  Documentation/devmem_rx_recv.3 Documentation/devmem_tx_send.3 \
		  Documentation/devmem_udmabuf_create.3
# what the library's users compile with and link (statically)
LIBDEVMEM_CFLAGS := -I$(CURDIR)/$(LIBDEVMEM_DIR)
LIBDEVMEM_LDLIBS := $(LIBDEVMEM_A) $(shell pkg-config --libs libnl-genl-3.0 2>/dev/null)

$(LIBDEVMEM_OUT)/obj/%.o: $(LIBDEVMEM_DIR)/%.c $(LIBDEVMEM_HDRS) include/uapi/linux/devmem.h \
		$(BUILD)/usr/.devmem-state
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS) -fPIC -fvisibility=hidden -I$(CURDIR)/include/uapi $(UAPI) \
		$(NL_CFLAGS) -c -o $@ $<

$(LIBDEVMEM_A): $(LIBDEVMEM_OBJS)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(LIBDEVMEM_SO): $(LIBDEVMEM_OBJS) $(LIBDEVMEM_DIR)/libdevmem.map
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) -shared -Wl,-soname,libdevmem.so.0 \
		-Wl,--version-script=$(LIBDEVMEM_DIR)/libdevmem.map -Wl,--no-undefined \
		-o $@ $(LIBDEVMEM_OBJS) $(shell pkg-config --libs libnl-genl-3.0 2>/dev/null)

$(LIBDEVMEM_OUT)/libdevmem.so.0 $(LIBDEVMEM_OUT)/libdevmem.so: $(LIBDEVMEM_SO)
	$(Q)ln -sf $(notdir $<) $@

# for PREFIX as it was at build time; make install writes the installed
# one for its own PREFIX and LIBDIR
LIBDEVMEM_PC_SED = sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		   -e 's|@VERSION@|$(LIBDEVMEM_VERSION)|'
$(LIBDEVMEM_PC): $(LIBDEVMEM_DIR)/libdevmem.pc.in Makefile
	@mkdir -p $(@D)
	$(Q)$(LIBDEVMEM_PC_SED) $< > $@

# -- tools ----------------------------------------------------------------
tools: headers
	$(Q)$(MAKE) --no-print-directory $(if $(Q),-s) $(LIBDEVMEM_LIBS) $(TOOL_BINS)

NC_SRCS := $(wildcard tools/devmem-nc/*.c)
NC_HDRS := $(wildcard tools/devmem-nc/*.h)

$(BUILD)/tools/devmem-nc: $(NC_SRCS) $(NC_HDRS) $(LIBDEVMEM_A) $(LIBDEVMEM_DIR)/libdevmem.h \
		include/uapi/linux/devmem.h $(BUILD)/usr/.devmem-state
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS) -I$(CURDIR)/include/uapi $(UAPI) $(NL_CFLAGS) $(LIBDEVMEM_CFLAGS) \
		-o $@ $(NC_SRCS) $(LIBDEVMEM_LDLIBS) $(NL_LIBS)

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

CTL_DEPS := $(CTL_SRCS) ctl/devmemctl.h bpf/devmem_bpf.h $(BPF_SKELS) \
	    include/uapi/linux/devmem.h $(BUILD)/usr/.devmem-state $(LIBDEVMEM_A) \
	    $(LIBDEVMEM_DIR)/libdevmem.h
CTL_CFLAGS := -I$(CURDIR)/include/uapi $(UAPI) -I$(BPF_OUT) -Ibpf $(NL_CFLAGS) $(LIBDEVMEM_CFLAGS)

$(BUILD)/ctl/devmemctl: $(CTL_DEPS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS) $(CTL_CFLAGS) -o $@ $(CTL_SRCS) $(LIBDEVMEM_LDLIBS) $(NL_LIBS) $(BPF_LIBS)

# the same with AddressSanitizer and UBSan, libdevmem's sources built in
# (sanitized too): the selftests run the CLI and the agent with it. With
# clang: gcc 12's combined runtime prints UBSan reports on stderr whatever
# log_path says, and a daemon's stderr is /dev/null
ASAN_CC ?= $(CLANG)
$(BUILD)/ctl/asan/devmemctl: $(CTL_DEPS) $(LIBDEVMEM_SRCS) $(LIBDEVMEM_HDRS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(ASAN_CC) $(CFLAGS) -fsanitize=address,undefined -fno-omit-frame-pointer \
		-fno-sanitize-recover=undefined $(CTL_CFLAGS) -o $@ $(CTL_SRCS) \
		$(LIBDEVMEM_SRCS) $(NL_LIBS) $(BPF_LIBS)

# -- selftests ------------------------------------------------------------
selftests: headers
	$(Q)$(MAKE) --no-print-directory $(if $(Q),-s) $(SELFTEST_BINS)

# the devmem family's client; this tree's uAPI header comes first, so it
# builds before the kernel's headers carry linux/devmem.h
$(BUILD)/selftests/devmem_nl: selftests/devmem_nl.c include/uapi/linux/devmem.h $(BUILD)/usr/.devmem-state \
		$(LIBDEVMEM_A) $(LIBDEVMEM_DIR)/libdevmem.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS) -I$(CURDIR)/include/uapi $(UAPI) $(NL_CFLAGS) $(LIBDEVMEM_CFLAGS) \
		-o $@ $< $(LIBDEVMEM_LDLIBS) $(NL_LIBS)

# devmem TX prober: the harness, libnl, and devmem-nc's byte pattern
$(BUILD)/selftests/devmem_tx: selftests/devmem_tx.c tools/devmem-nc/pattern.h \
		include/uapi/linux/devmem.h $(BUILD)/usr/.devmem-state $(LIBDEVMEM_A) \
		$(LIBDEVMEM_DIR)/libdevmem.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS) -I$(CURDIR)/include/uapi $(UAPI) $(HARNESS) -Itools/devmem-nc \
		$(LIBDEVMEM_CFLAGS) -o $@ $< $(LIBDEVMEM_LDLIBS) $(NL_LIBS)

# host unit tests of libdevmem: the library's sources built in, sanitized
$(BUILD)/selftests/host/libdevmem_test: selftests/host/libdevmem_test.c $(LIBDEVMEM_SRCS) \
		$(LIBDEVMEM_HDRS) include/uapi/linux/devmem.h $(BUILD)/usr/.devmem-state
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS) -fsanitize=address,undefined -fno-omit-frame-pointer \
		$(HARNESS) -Wno-sign-compare \
		-I$(CURDIR)/$(LIBDEVMEM_DIR) -I$(CURDIR)/include/uapi $(UAPI) $(NL_CFLAGS) \
		-o $@ $< $(LIBDEVMEM_SRCS) $(NL_LIBS)

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

# make check and the tests too long for its hour (DEVMEM_LONG=1): the
# urgent-pointer wrap (2 GiB through a bound queue)
check-long: deps regen-check all
	$(Q)DEVMEM_LONG=1 selftests/check.sh

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

# libdevmem alone (what is built already: no kernel tree, no headers step)
install-libdevmem: $(LIBDEVMEM_LIBS)
	$(Q)install -D -m 0644 $(LIBDEVMEM_A) $(DESTDIR)$(LIBDIR)/libdevmem.a
	$(Q)install -D -m 0755 $(LIBDEVMEM_SO) $(DESTDIR)$(LIBDIR)/$(notdir $(LIBDEVMEM_SO))
	$(Q)ln -sf $(notdir $(LIBDEVMEM_SO)) $(DESTDIR)$(LIBDIR)/libdevmem.so.0
	$(Q)ln -sf $(notdir $(LIBDEVMEM_SO)) $(DESTDIR)$(LIBDIR)/libdevmem.so
	$(Q)mkdir -p $(DESTDIR)$(LIBDIR)/pkgconfig
	$(Q)$(LIBDEVMEM_PC_SED) $(LIBDEVMEM_DIR)/libdevmem.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/libdevmem.pc
	$(Q)install -D -m 0644 $(LIBDEVMEM_DIR)/libdevmem.h $(DESTDIR)$(PREFIX)/include/libdevmem.h
	$(Q)install -D -m 0644 include/uapi/linux/devmem.h $(DESTDIR)$(PREFIX)/include/linux/devmem.h
	$(Q)for p in $(LIBDEVMEM_MAN3); do \
		install -D -m 0644 $$p $(DESTDIR)$(PREFIX)/share/man/man3/$${p##*/} || exit; done

# user space only: devmemctl (BPF objects embedded), devmem-nc, libdevmem,
# man pages, completion
install: tools install-libdevmem
	$(Q)install -D -m 0755 $(BUILD)/tools/devmem-nc $(DESTDIR)$(PREFIX)/bin/devmem-nc
	$(Q)install -D -m 0644 Documentation/netdevsim-devmem.rst \
		$(DESTDIR)$(PREFIX)/share/doc/devmem-tcp/netdevsim-devmem.rst
	$(Q)install -D -m 0755 $(BUILD)/ctl/devmemctl $(DESTDIR)$(PREFIX)/sbin/devmemctl
	$(Q)install -D -m 0644 Documentation/devmemctl.8 $(DESTDIR)$(PREFIX)/share/man/man8/devmemctl.8
	$(Q)install -D -m 0644 Documentation/devmem-nc.1 $(DESTDIR)$(PREFIX)/share/man/man1/devmem-nc.1
	$(Q)install -D -m 0644 ctl/devmemctl.bash-completion \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/devmemctl

clean:
	$(Q)rm -rf $(BUILD)/selftests $(BUILD)/tools $(BUILD)/vm $(BUILD)/usr $(BUILD)/headers-obj \
		$(BUILD)/lib
	$(Q)rm -rf $(BUILD)/kernel-debug $(BUILD)/kernel-fast

# also drops the unpacked kernel tree (and any commits made in it)
distclean:
	$(Q)rm -rf $(BUILD)
