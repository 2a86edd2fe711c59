# vf_dsfn build driver: libdsfn (engine + network, C++/LibTorch), the dsfn
# tools, and FFmpeg with the dsfn filter. ./configure writes config.mk; a plain
# `make` runs it with the defaults when it is missing.

BUILD   := build
OBJDIR  := $(BUILD)/obj
LIBDSFN := $(BUILD)/lib/libdsfn.a
TOOL    := $(BUILD)/bin/dsfn-tool
FFMPEG  := $(BUILD)/bin/ffmpeg
FFPROBE := $(BUILD)/bin/ffprobe

# What users run (README.md):
#   make demo          build, then enhance the sample clip with the shipped model
#   make check         build, then the unit, end-to-end and dsfn-parallel suites
#   make install       ffmpeg, ffprobe, the tools and the models under PREFIX
#   make install-deps  every Debian package any target uses (the two above install their own)
# and for those who work on it: make eval | eval-* | bench | bench-* | train | quantize |
# check-asan | check-libtorch2 | check-valgrind | check-trixie-headers | fuzz |
# accelerator-pack | params | clean | distclean. mk/ holds the rules, by role.
all: ffmpeg tools

help:
	@sed -n '/^# What users run/,/^all:/{/^all:/d;s/^# \{0,1\}//;p}' Makefile

include mk/build.mk
include mk/ffmpeg.mk
include mk/check.mk
include mk/accelerator.mk
include mk/train-eval.mk
include mk/bench.mk
include mk/install.mk

# The main job: build (on every core, as make check does), then enhance the sample
# clip with the shipped model.
demo:
	$(MAKE) -j$(NPROC) ffmpeg tools
	scripts/demo/demo.sh $(BUILD)

# Every Debian package a target here uses; make check and make demo install what
# they need themselves, the other targets only say what is missing (install-deps.sh --check).
OPTIONAL_PACKAGES := parallel rsync openssh-client openssh-server time valgrind gnuplot-nox clang libclang-rt-14-dev
install-deps:
	scripts/setup/install-deps.sh $(OPTIONAL_PACKAGES)

.PHONY: all help tools ffmpeg install install-files install-deps clean distclean check check-trixie-headers unit-tests e2e-tests \
        parallel-tests params demo train train-int8 quantize eval eval-precisions eval-frames-alone eval-edges eval-curve fuzz check-asan libtorch2 \
        check-libtorch2 check-valgrind accelerator-pack accelerator-build accelerator-unit-tests bench bench-sample bench-busy \
        bench-libtorch2 bench-memory bench-large bench-parallel

-include $(shell find $(OBJDIR) -name '*.d' 2>/dev/null)
