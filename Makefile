# vf_dsfn build driver: libdsfn (engine + network, C++/LibTorch), the dsfn
# tools, and FFmpeg with the dsfn filter. ./configure writes config.mk; a plain
# `make` runs it with the defaults when it is missing.

BUILD   := build
OBJDIR  := $(BUILD)/obj
LIBDSFN := $(BUILD)/lib/libdsfn.a
TOOL    := $(BUILD)/bin/dsfn-tool
FFMPEG  := $(BUILD)/bin/ffmpeg
FFPROBE := $(BUILD)/bin/ffprobe

all: ffmpeg tools

# A fresh checkout: install the Debian packages, then configure with the defaults.
config.mk: | configure
	scripts/install-deps.sh
	./configure

-include config.mk
# A second LibTorch for one build folder (make check-libtorch2): its flags
# (scripts/libtorch-flags.sh) override config.mk's.
ifneq ($(TORCH_MK),)
include $(TORCH_MK)
endif

FFSRC := $(if $(FFMPEG_SOURCE),$(FFMPEG_SOURCE),build/ffmpeg-src-$(FFMPEG_VERSION))
FFOBJ := $(BUILD)/ffmpeg
NPROC := $(shell nproc 2>/dev/null || echo 2)

CC  := $(CCACHE) gcc
CXX := $(CCACHE) g++
OPTFLAGS ?= -O2 -g
SANITIZE ?=

# ccache (when ./configure found it) for every compiler call, ours and FFmpeg's, in
# one cache outside the repository that a clone at any other path hits: paths
# under the clone are hashed relative to it, the working directory is not hashed,
# and __FILE__ and the debug info hold paths relative to the clone
# (-ffile-prefix-map). The folder's suffix is bumped when these settings change,
# so an old cache is never read with new ones; ccache checks its own entries.
ifneq ($(CCACHE),)
export CCACHE_DIR ?= $(CACHE_DIR)/ccache-1
# ccache checks its entries but stops at a configuration it cannot read (a damaged
# ccache.conf): such a cache is set aside, and the build starts a new one.
ifneq ($(shell CCACHE_DIR="$(CCACHE_DIR)" ccache --show-config > /dev/null 2>&1 && echo ok),ok)
$(warning ccache cannot read the cache in $(CCACHE_DIR): moved aside to $(CCACHE_DIR).unreadable)
$(shell rm -rf "$(CCACHE_DIR).unreadable"; mv "$(CCACHE_DIR)" "$(CCACHE_DIR).unreadable")
endif
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1
export CCACHE_MAXSIZE ?= 12G
# The precompiled LibTorch header below: ccache hashes the .gch itself.
export CCACHE_SLOPPINESS := pch_defines,time_macros
endif
PREFIX_MAP := -ffile-prefix-map=$(CURDIR)=.

# Includes name their folder: "net/dsfn_net.h", "kernels/...", "memory/...", "train/...",
# "tools/...", "engine/..." (the engine's own), and "dsfn/engine.h" (its public headers,
# as FFmpeg's build finds them through libdsfn.pc).
ENGINE_INCLUDE := libavfilter-dsfn/engine/include
DSFN_CPPFLAGS := -I. -Imodel -Ilibavfilter-dsfn -I$(ENGINE_INCLUDE) -MMD -MP
DSFN_CXXFLAGS := -std=c++17 -fPIC -pthread -Wall -Wextra $(OPTFLAGS) $(SANITIZE) $(PREFIX_MAP) $(TORCH_CXXFLAGS)
DSFN_CFLAGS   := -std=c11 -fPIC -Wall -Wextra $(OPTFLAGS) $(SANITIZE) $(PREFIX_MAP)

# LibTorch's C++ API (<torch/torch.h>), precompiled once per build folder with the
# C++ flags above: parsing and instantiating it was most of each C++ file's compile
# time (bench/REPORT.md). Every C++ file gets it with -include (PCH_INCLUDE); one
# built with other flags (OpenMP, -O3: the kernels below) would not match the
# .gch and goes without. The flags are copied now, so no file's own reach the .gch.
PCH_H        := $(OBJDIR)/pch/torch_api.h
PCH          := $(PCH_H).gch
PCH_CXXFLAGS := $(DSFN_CXXFLAGS)
PCH_INCLUDE  := -include $(PCH_H)
$(PCH): config.mk $(TORCH_MK)
	@mkdir -p $(@D)
	echo '#include <torch/torch.h>' > $(PCH_H)
	$(CXX) $(PCH_CXXFLAGS) -x c++-header $(PCH_H) -o $@

# libstdc++ first: PyPI's libtorch.so (2.x) exports its own copies of
# std::filesystem, which crash when our calls bind to them instead.
TORCH_LINK    := $(SANITIZE) -Wl,--push-state,--no-as-needed -lstdc++ -Wl,--pop-state \
                 $(TORCH_LDFLAGS) $(TORCH_LIBS) -lgomp -lstdc++ -lm -lpthread

# libdsfn: what the filter needs (engine, network, kernels) and nothing else; the
# tools and the trainer link their own objects besides it, and the recipe module
# (the text beside a weights file). Dependencies run one way:
# tools, trainer -> recipe, net -> kernels; filter -> engine -> net.
NET_SRC     := model/net/dsfn_net.cpp model/net/deform_conv.cpp model/net/weights_file.cpp model/net/mirror_edges.cpp
KERNELS_SRC := model/kernels/deform_sample.cpp model/kernels/map_to_picture.cpp
MEMORY_SRC  := model/memory/block_cache.cpp model/memory/memory_policy.cpp
ENGINE_SRC  := $(wildcard libavfilter-dsfn/engine/*.cpp)
LIB_CXX_SRC := $(NET_SRC) $(KERNELS_SRC) $(MEMORY_SRC) $(ENGINE_SRC)
RECIPE_OBJS := $(OBJDIR)/model/recipe/recipe.o
TRAIN_SRC   := model/train/train_data.cpp model/train/training.cpp model/train/train_options.cpp model/train/mixed_precision.cpp
TRAIN_OBJS  := $(TRAIN_SRC:%.cpp=$(OBJDIR)/%.o) $(RECIPE_OBJS)
TRAINER     := $(BUILD)/bin/dsfn-train
TOOLS_SRC   := tools/widen.cpp tools/weights_average.cpp tools/conv_cost.cpp
TOOLS_OBJS  := $(TOOLS_SRC:%.cpp=$(OBJDIR)/%.o)
LIB_C_SRC   := $(wildcard libavfilter-dsfn/engine/*.c)
LIB_OBJS    := $(LIB_CXX_SRC:%.cpp=$(OBJDIR)/%.o) $(LIB_C_SRC:%.c=$(OBJDIR)/%.o)

$(OBJDIR)/%.o: %.cpp config.mk $(TORCH_MK) $(PCH)
	@mkdir -p $(@D)
	$(CXX) $(DSFN_CPPFLAGS) $(DSFN_CXXFLAGS) $(PCH_INCLUDE) -c $< -o $@

$(OBJDIR)/%.o: %.c config.mk $(TORCH_MK)
	@mkdir -p $(@D)
	$(CC) $(DSFN_CPPFLAGS) $(DSFN_CFLAGS) -c $< -o $@

# Shipped models: the filter looks for them beside its binary (model_path.h), so
# each build folder holds copies where an installed prefix has them.
MODEL_INSTALL_DIR := $(PREFIX)/share/vf_dsfn/models
SHIPPED_MODELS    := $(wildcard model/weights/*.dsfn)
BUILD_MODELS      := $(SHIPPED_MODELS:model/weights/%=$(BUILD)/share/vf_dsfn/models/%)
$(OBJDIR)/libavfilter-dsfn/engine/model_path.o: DSFN_CFLAGS += -DDSFN_MODEL_INSTALL_DIR='"$(MODEL_INSTALL_DIR)"'
$(BUILD)/share/vf_dsfn/models/%.dsfn: model/weights/%.dsfn
	@mkdir -p $(@D)
	cp -p $< $@

# The fused deformable sampler's channel loops need the vectoriser's full cost model,
# and its corner loop (float to int conversions) vectorises only without trapping math.
# at::parallel_for is a header template that runs serially unless the file that
# calls it is built with OpenMP (LibTorch's own runtime, libgomp, linked below).
$(OBJDIR)/model/kernels/deform_sample.o: DSFN_CXXFLAGS += -O3 -fno-trapping-math -fopenmp
# The picture conversion's clamp-and-round loop likewise, and its rows in parallel.
$(OBJDIR)/model/kernels/map_to_picture.o: DSFN_CXXFLAGS += -O3 -fno-trapping-math -fopenmp
# Without LibTorch, or with other flags than the precompiled header's.
NO_PCH_OBJS := model/kernels/deform_sample.o model/kernels/map_to_picture.o model/memory/memory_policy.o \
               libavfilter-dsfn/engine/core_share.o model/recipe/recipe.o
$(NO_PCH_OBJS:%=$(OBJDIR)/%): PCH_INCLUDE :=

$(LIBDSFN): $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(TOOL): $(OBJDIR)/tools/dsfn_tool.o $(TOOLS_OBJS) $(RECIPE_OBJS) $(LIBDSFN)
	@mkdir -p $(@D)
	$(CXX) -o $@ $^ $(TORCH_LINK)

$(TRAINER): $(OBJDIR)/model/train/dsfn_train.o $(TRAIN_OBJS) $(LIBDSFN)
	@mkdir -p $(@D)
	$(CXX) -o $@ $^ $(TORCH_LINK)

# dsfn-parallel (GNU parallel over segments) and the per-segment command it runs.
PARALLEL_BIN := $(BUILD)/bin/dsfn-parallel $(BUILD)/bin/dsfn-segment
$(BUILD)/bin/dsfn-parallel: tools/dsfn-parallel.sh
	@mkdir -p $(@D)
	install -m 755 $< $@
$(BUILD)/bin/dsfn-segment: tools/dsfn-segment.sh
	@mkdir -p $(@D)
	install -m 755 $< $@

tools: $(TOOL) $(TRAINER) $(PARALLEL_BIN)

# pkg-config description of libdsfn, for FFmpeg's configure (--enable-libdsfn): its
# Version is the engine's API version, which the patch sets' configure requires.
# Rewritten only when its text changes, so an edit elsewhere in this Makefile
# does not make FFmpeg configure again.
DSFN_API_VERSION := $(shell sed -n 's/^\#define DSFN_ENGINE_API_VERSION \([0-9]*\)$$/\1/p' $(ENGINE_INCLUDE)/dsfn/engine.h)
$(BUILD)/pkgconfig/libdsfn.pc: config.mk Makefile $(TORCH_MK) $(ENGINE_INCLUDE)/dsfn/engine.h
	@mkdir -p $(@D)
	@printf '%s\n' 'Name: libdsfn' 'Description: DSFN engine for the dsfn filter' 'Version: $(DSFN_API_VERSION)' \
	    'Cflags: -I$(CURDIR)/$(ENGINE_INCLUDE)' \
	    'Libs: -L$(CURDIR)/$(BUILD)/lib -ldsfn $(TORCH_LINK)' > $@.tmp
	@if cmp -s $@.tmp $@; then rm $@.tmp; touch -r $(FFOBJ)/.configured $@ 2>/dev/null || true; \
	 else mv $@.tmp $@; echo "wrote $@"; fi

# --- FFmpeg -------------------------------------------------------------------
# The filter's one source file goes into FFmpeg's tree; the engine's headers are
# found through libdsfn.pc's Cflags.
FF_SOURCES := $(FFSRC)/libavfilter/vf_dsfn.c
FF_CONFIG  := --prefix=$(PREFIX) --enable-libdsfn --enable-gpl --disable-doc --disable-ffplay \
              --disable-debug --cc="$(CC)" $(if $(filter yes,$(HAVE_X264)),--enable-libx264) \
              $(FF_EXTRA_CONFIG)

PATCHES := $(wildcard patches/ffmpeg$(FFMPEG_VERSION)/*.patch)

# The Debian tree is unpacked afresh from the cache whenever the patches change;
# a tree of the user's own is patched once.
$(FFSRC)/.patched: $(PATCHES)
ifeq ($(FFMPEG_SOURCE),)
	scripts/fetch-ffmpeg-source.sh $(FFMPEG_VERSION) $(CACHE_DIR) $(FFSRC)
endif
	scripts/patch-ffmpeg.sh $(FFSRC) patches/ffmpeg$(FFMPEG_VERSION)
	@# Copies of the engine's headers that earlier versions put in the tree would
	@# shadow the real ones (vf_dsfn.c includes "dsfn/engine.h").
	rm -rf $(FFSRC)/libavfilter/dsfn
	for f in $(FF_SOURCES:$(FFSRC)/libavfilter/%=%); do cp libavfilter-dsfn/$$f $(FFSRC)/libavfilter/$$f; done
	touch $@

# Our filter sources, installed into the tree; cp keeps FFmpeg's own
# dependency tracking, so an edit rebuilds just what depends on it.
$(FFSRC)/libavfilter/%: libavfilter-dsfn/% | $(FFSRC)/.patched
	@mkdir -p $(@D)
	cp $< $@

# FFmpeg's configure line, rewritten only when it changes, so that a change of
# options (FF_EXTRA_CONFIG, the ASan build's codec list) configures afresh.
$(FFOBJ)/configure-args: FORCE
	@mkdir -p $(@D)
	@echo '$(strip $(FF_CONFIG))' | cmp -s - $@ || echo '$(strip $(FF_CONFIG))' > $@

$(FFOBJ)/.configured: $(FFSRC)/.patched $(BUILD)/pkgconfig/libdsfn.pc config.mk $(FFOBJ)/configure-args \
                      | $(LIBDSFN) $(FF_SOURCES)
	@# Another source tree (another release): start afresh. FFmpeg's configure links
	@# src to the tree with ln -sf, which leaves an existing link to the old one.
	@if [ "$$(cat $(FFOBJ)/.source 2>/dev/null)" != "$(abspath $(FFSRC))" ]; then \
	    find $(FFOBJ) -mindepth 1 -maxdepth 1 ! -name configure-args -exec rm -rf {} +; fi
	@mkdir -p $(FFOBJ) && echo "$(abspath $(FFSRC))" > $(FFOBJ)/.source
	cd $(FFOBJ) && PKG_CONFIG_PATH="$(CURDIR)/$(BUILD)/pkgconfig$${PKG_CONFIG_PATH:+:$$PKG_CONFIG_PATH}" \
	    $(abspath $(FFSRC))/configure $(FF_CONFIG) > configure.log 2>&1 || \
	    { tail -n 30 configure.log; echo "FFmpeg configure failed: see $(FFOBJ)/configure.log"; exit 1; }
	touch $@

# FFmpeg's make does not see libdsfn.a changing: relink when it has. The binaries
# are copied, then renamed, so that one still running (a long bench) is replaced.
ffmpeg: $(FFOBJ)/.configured $(FF_SOURCES) $(LIBDSFN) $(BUILD_MODELS)
	@if [ -f $(FFOBJ)/ffmpeg_g ] && [ $(LIBDSFN) -nt $(FFOBJ)/ffmpeg_g ]; then \
	    rm -f $(FFOBJ)/ffmpeg_g $(FFOBJ)/ffprobe_g; fi
	$(MAKE) -C $(FFOBJ) -j$(NPROC) ffmpeg ffprobe
	@mkdir -p $(BUILD)/bin
	cp -p $(FFOBJ)/ffmpeg $(FFMPEG).new && mv -f $(FFMPEG).new $(FFMPEG)
	cp -p $(FFOBJ)/ffprobe $(FFPROBE).new && mv -f $(FFPROBE).new $(FFPROBE)

FORCE:

.PHONY: all tools ffmpeg install install-files clean distclean check check-torch2 unit-tests e2e-tests parallel-tests params demo train eval eval-frames-alone eval-edges eval-curve \
        fuzz check-asan libtorch2 check-libtorch2 check-valgrind \
        accelerator-pack accelerator-build accelerator-unit-tests bench bench-busy bench-libtorch2 bench-memory bench-large bench-parallel

# The main job: build, then enhance the sample clip with the shipped model.
demo: ffmpeg tools
	scripts/demo.sh $(BUILD)

# --- Tests ---------------------------------------------------------------------
UNIT_SRC  := $(wildcard tests/unit/*.c)
TEST_CFLAGS := -Itests/unit -DDSFN_TEST_HAS_CUDA=$(TORCH_HAS_CUDA) $(shell pkg-config --cflags check 2>/dev/null)
UNIT_TEST := $(BUILD)/tests/unit-tests

$(OBJDIR)/tests/unit/%.o: tests/unit/%.c config.mk $(TORCH_MK)
	@mkdir -p $(@D)
	$(CC) $(DSFN_CPPFLAGS) $(DSFN_CFLAGS) $(TEST_CFLAGS) -c $< -o $@

$(OBJDIR)/tests/unit/%.o: tests/unit/%.cpp config.mk $(TORCH_MK) $(PCH)
	@mkdir -p $(@D)
	$(CXX) $(DSFN_CPPFLAGS) $(DSFN_CXXFLAGS) $(PCH_INCLUDE) $(TEST_CFLAGS) -c $< -o $@

UNIT_OBJS := $(UNIT_SRC:%.c=$(OBJDIR)/%.o) $(patsubst %.cpp,$(OBJDIR)/%.o,$(wildcard tests/unit/*.cpp))

$(UNIT_TEST): $(UNIT_OBJS) $(TRAIN_OBJS) $(TOOLS_OBJS) $(LIBDSFN) | $(BUILD_MODELS)
	@mkdir -p $(@D)
	$(CXX) -o $@ $^ $(shell pkg-config --libs check) $(TORCH_LINK)

# Check's default 4 s per test also counts the forked test's exit, which with
# LibTorch's CUDA libraries loaded from a cold page cache took longer than that.
unit-tests: $(UNIT_TEST) $(TOOL)
	cd $(BUILD)/tests && CK_DEFAULT_TIMEOUT=$${CK_DEFAULT_TIMEOUT:-60} ./unit-tests

e2e-tests: ffmpeg $(TOOL)
	DSFN_E2E_FFMPEG_VERSION=$(FFMPEG_VERSION) tests/e2e/run.sh $(BUILD)

# dsfn-parallel's suite: identical output, ssh hosts, the Slurm sample, failures.
parallel-tests: ffmpeg $(TOOL) $(PARALLEL_BIN)
	scripts/install-deps.sh parallel rsync openssh-client openssh-server
	tests/e2e/parallel.sh $(BUILD)

# Build everything in parallel, then run the suites one after the other; each
# step prints its seconds (scripts/timed.sh).
TIMED := scripts/timed.sh
check:
	$(TIMED) "check: patch sets" scripts/check-patch-sets.sh
	$(TIMED) "check: build" $(MAKE) -j$(NPROC) $(UNIT_TEST) $(TOOL) $(PARALLEL_BIN) ffmpeg
	$(TIMED) "check: unit tests" $(MAKE) unit-tests
	$(TIMED) "check: end-to-end tests" $(MAKE) e2e-tests
	$(TIMED) "check: dsfn-parallel tests" $(MAKE) parallel-tests

# --- Sanitizers --------------------------------------------------------------------
# Both suites again on a second build: libdsfn, the tools, the unit tests and
# FFmpeg (with the filter) under ASan + UBSan. Any report fails the run (see
# scripts/run-sanitized.sh); LibTorch itself is not instrumented.
# That FFmpeg has every filter and device but only the codecs and formats the
# end-to-end tests use (their mp4 test takes mpeg4 here, not libx264): all of
# libavcodec under ASan was most of CI's time. A test needing more adds it here.
ASAN_FF_CODECS := --disable-encoders --disable-decoders --disable-parsers --disable-hwaccels \
                  --disable-muxers --disable-demuxers \
                  --enable-encoder=rawvideo,wrapped_avframe,mpeg4,aac \
                  --enable-decoder=rawvideo,wrapped_avframe,mpeg4,h264,aac,pcm_s16le \
                  --enable-parser=mpeg4video,h264,aac \
                  --enable-muxer=framecrc,null,mp4,rawvideo --enable-demuxer=mov,concat
# Its FFmpeg is another release than the default's, so CI builds and tests each
# release: the default in make check, this one here, 7.1 in check-libtorch2.
ASAN_FFMPEG_VERSION ?= 8.1
ASAN_BUILD := build/asan
ASAN_VARS  := BUILD=$(ASAN_BUILD) OPTFLAGS="-O1 -g" FFMPEG_VERSION=$(ASAN_FFMPEG_VERSION) FFMPEG_SOURCE= \
              SANITIZE="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
              FF_EXTRA_CONFIG="--toolchain=gcc-asan --extra-cflags=-fsanitize=undefined \
                               --extra-ldflags=-fsanitize=undefined --enable-debug --disable-stripping \
                               $(ASAN_FF_CODECS)"
check-asan:
	$(TIMED) "check-asan: build" $(MAKE) $(ASAN_VARS) -j$(NPROC) $(ASAN_BUILD)/tests/unit-tests $(ASAN_BUILD)/bin/dsfn-tool ffmpeg
	$(TIMED) "check-asan: unit and end-to-end tests" \
	    scripts/run-sanitized.sh $(ASAN_BUILD) $(MAKE) $(ASAN_VARS) unit-tests e2e-tests

# --- LibTorch 2.x with CUDA (PyPI's torch wheel) -------------------------------------
# Both suites again on a third build, against the pinned torch wheel that
# scripts/fetch-libtorch.sh installs into the cache: device=cpu, and on a machine
# without a GPU the suites check that device=cuda fails clearly. Its FFmpeg has
# the ASan build's codecs and formats. The built ffmpeg must need libtorch_cuda and
# c10_cuda (the linker's --as-needed would drop them, and CUDA would be "unavailable").
TORCH2_BUILD := build/torch2
TORCH2_MK    := $(TORCH2_BUILD)/libtorch.mk
TORCH2_VARS  := BUILD=$(TORCH2_BUILD) TORCH_MK=$(TORCH2_MK) FF_EXTRA_CONFIG="$(ASAN_FF_CODECS)"
libtorch2:
	@mkdir -p $(TORCH2_BUILD)
	dir=$$(scripts/fetch-libtorch.sh $(CACHE_DIR)) && scripts/libtorch-flags.sh "$$dir" > $(TORCH2_MK).new
	@if cmp -s $(TORCH2_MK).new $(TORCH2_MK); then rm $(TORCH2_MK).new; else mv $(TORCH2_MK).new $(TORCH2_MK); fi
	$(MAKE) $(TORCH2_VARS) -j$(NPROC) $(TORCH2_BUILD)/tests/unit-tests $(TORCH2_BUILD)/bin/dsfn-tool ffmpeg
	scripts/check-cuda-linked.sh $(TORCH2_BUILD)/bin/ffmpeg

# The suites on that LibTorch run as the accelerator run's rehearsal: the
# same script, from a copy of exactly what a `device` run carries (the files git
# sees and the pack), on the CPU with tiny sizes. It builds its own libdsfn,
# tools, unit tests and ffmpeg, runs both suites with device=cpu (device=cuda
# must fail with "CUDA is not available") and checks that ffmpeg needs libtorch_cuda.
REHEARSAL := $(TORCH2_BUILD)/rehearsal
check-libtorch2:
	$(TIMED) "check-libtorch2: pack" $(MAKE) accelerator-pack
	$(TIMED) "check-libtorch2: torch wheel" sh -c 'scripts/fetch-libtorch.sh $(CACHE_DIR) > /dev/null'
	rm -rf $(REHEARSAL) && mkdir -p $(REHEARSAL)/tree
	git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t $(REHEARSAL)/tree
	cp -r $(ACCEL_PACK) $(REHEARSAL)/tree/
	cd $(REHEARSAL)/tree && PYTHON=$$($(CURDIR)/scripts/fetch-libtorch.sh $(CACHE_DIR) --python) \
	    $(CURDIR)/$(TIMED) "check-libtorch2: rehearsal" scripts/accelerator-run.sh --cpu --out $(CURDIR)/$(REHEARSAL)/out

# --- The accelerator run (scripts/accelerator-run.sh; a lent GPU machine) -------------
# Its ffmpeg: the end-to-end suite's codecs and formats, JPEG in and PPM out for the
# training data, no assembly (that machine has no nasm), and pkg-config-lite.sh
# for libdsfn.pc (that machine may have no pkg-config; the rehearsal uses it too).
ACCEL_PACK      := accelerator-pack
ACCEL_BUILD     := build/accel
# The path is relative to FFmpeg's object folder, where its configure runs: the
# clone's absolute path in FFmpeg's config.h (which every FFmpeg file includes)
# would make every file a ccache miss in a clone at another path.
SPACE           := $(subst ,, )
ACCEL_FF_CONFIG := $(ASAN_FF_CODECS) --enable-decoder=mjpeg --enable-encoder=ppm --enable-muxer=image2 \
                   --enable-demuxer=image2 --disable-x86asm \
                   --pkg-config=$(subst $(SPACE),/,$(patsubst %,..,$(subst /, ,$(ACCEL_BUILD)/ffmpeg)))/scripts/pkg-config-lite.sh
ACCEL_VARS      := BUILD=$(ACCEL_BUILD) HAVE_X264=no FF_EXTRA_CONFIG="$(ACCEL_FF_CONFIG)"
HAVE_CHECK      := $(shell pkg-config --exists check 2>/dev/null && echo yes)
accelerator-pack:
	scripts/accelerator-pack.sh $(CACHE_DIR) $(ACCEL_PACK)
accelerator-build:
	$(MAKE) $(ACCEL_VARS) -j$(NPROC) ffmpeg tools $(if $(HAVE_CHECK),$(ACCEL_BUILD)/tests/unit-tests)
accelerator-unit-tests:
	$(MAKE) $(ACCEL_VARS) unit-tests

# Memcheck on short ffmpeg jobs with the normal build (valgrind from Debian).
check-valgrind: ffmpeg $(TOOL)
	scripts/install-deps.sh valgrind
	$(TIMED) "check-valgrind" scripts/valgrind-check.sh $(BUILD)

# --- Training (hours of CPU; never part of check) ------------------------------------
# Resumable: re-running continues from the checkpoint in the cache; with no cache
# it starts from the committed weights of that width when there are some.
TRAIN_WIDTH   ?= 16
TRAIN_MINUTES ?= 0
# The next cycle of the shipped model of that width, from its recipe
# (scripts/next-cycle.sh: the last run's options, TRAIN_CYCLE more steps, the next
# seed); a width with no shipped model needs TRAIN_ARGS.
TRAIN_CYCLE   ?= 9000
TRAIN_RECIPE  := model/weights/dsfn-w$(TRAIN_WIDTH).dsfn.recipe
TRAIN_ARGS    ?= $(shell scripts/next-cycle.sh $(TRAIN_RECIPE) $(TRAIN_CYCLE))
TRAIN_DIR     := $(CACHE_DIR)/train
train: $(TRAINER) ffmpeg
	scripts/fetch-training-photos.sh $(TRAIN_DIR) $(FFMPEG)
	scripts/fetch-training-clips.sh $(TRAIN_DIR) $(FFMPEG)
	$(TRAINER) --photos $(TRAIN_DIR)/photos --clips $(TRAIN_DIR)/clips --checkpoint $(TRAIN_DIR)/ckpt-w$(TRAIN_WIDTH) \
	    --out $(TRAIN_DIR)/dsfn-w$(TRAIN_WIDTH).dsfn --init model/weights/dsfn-w$(TRAIN_WIDTH).dsfn \
	    --snapshots $(TRAIN_DIR)/snapshots-w$(TRAIN_WIDTH) \
	    --width $(TRAIN_WIDTH) --minutes $(TRAIN_MINUTES) $(TRAIN_ARGS)

# --- Quality evaluation (minutes of CPU; never part of check) ---------------------------
# EVAL_MODEL: one or more weights files, a row each; the first is the one in the
# side-by-side pictures (eval/pictures/CLIP.png, shown by eval/REPORT.md).
EVAL_MODEL     ?= model/weights/dsfn-w$(TRAIN_WIDTH).dsfn
EVAL_KEYFRAMES ?= 60
# The committed pictures show the standard protocol: a variant of the inputs
# (EVAL_BLUR, EVAL_REDUCE, EVAL_PAD, EVAL_SET; see scripts/eval.sh) writes none unless asked to.
EVAL_PICTURES  ?= $(if $(EVAL_BLUR)$(EVAL_REDUCE)$(EVAL_PAD)$(EVAL_SET),-,eval/pictures)
eval: ffmpeg
	scripts/eval.sh $(BUILD) $(CACHE_DIR)/eval $(EVAL_KEYFRAMES) $(EVAL_PICTURES) $(EVAL_MODEL)

# Keyframes of each input frame alone against the sequence, for the first EVAL_MODEL
# (reads the inputs the last `make eval` left in the cache).
eval-frames-alone: ffmpeg
	scripts/eval-frames-alone.sh $(BUILD) $(CACHE_DIR)/eval $(firstword $(EVAL_MODEL))

# PSNR of the interior and of bands along the edges, for every EVAL_MODEL (reads the
# inputs the last `make eval` left in the cache).
eval-edges: ffmpeg
	scripts/eval-edges.sh $(BUILD) $(CACHE_DIR)/eval $(EVAL_MODEL)

# Quality against training time, from the snapshots `make train` leaves in the cache.
EVAL_CURVE_DIR       ?= eval/curve
EVAL_CURVE_KEYFRAMES ?= 30
eval-curve: ffmpeg
	scripts/install-deps.sh gnuplot-nox
	scripts/eval-curve.sh $(BUILD) $(CACHE_DIR)/eval $(EVAL_CURVE_KEYFRAMES) $(EVAL_CURVE_DIR) \
	    $(wildcard $(TRAIN_DIR)/snapshots-w*)

# --- Speed against the roofline (minutes; never part of check) -------------------------
bench: ffmpeg $(TOOL)
	scripts/install-deps.sh time
	scripts/bench.sh $(BUILD) $(BENCH_MODEL) $(BENCH_THREADS) $(BENCH_REPEATS) $(BENCH_ENSEMBLE) $(BENCH_EDGE_MIRROR)
	scripts/bench-busy.sh $(BUILD) $(BENCH_REPEATS)

# The sample clip beside CPU-bound processes the bench starts and stops (also the
# last part of make bench).
bench-busy: ffmpeg
	scripts/bench-busy.sh $(BUILD) $(BENCH_REPEATS)

# make bench on Debian's LibTorch 1.13 (this build) and on the torch wheel's 2.x
# (make libtorch2), one after the other in one run, same model and settings.
bench-libtorch2: ffmpeg $(TOOL) libtorch2
	scripts/install-deps.sh time
	for b in $(BUILD) $(TORCH2_BUILD); do \
	    echo "== $$b"; \
	    scripts/bench.sh $$b $(BENCH_MODEL) $(BENCH_THREADS) $(BENCH_REPEATS) $(BENCH_ENSEMBLE) $(BENCH_EDGE_MIRROR) || exit 1; done

# dsfn-parallel against one run on this machine: one run with all threads, then
# --jobs 2 with one thread each, on the same input, in one run of this target.
bench-parallel: ffmpeg tools
	scripts/install-deps.sh parallel time
	scripts/bench-parallel.sh $(BUILD) $(BENCH_PARALLEL_MODEL) $(BENCH_PARALLEL_SIZE) $(BENCH_PARALLEL_FRAMES) $(BENCH_PARALLEL_SEGMENT)
BENCH_PARALLEL_MODEL   ?= dsfn-w16
BENCH_PARALLEL_SIZE    ?= 160x90
BENCH_PARALLEL_FRAMES  ?= 120
BENCH_PARALLEL_SEGMENT ?= 30

# --- Long run: RSS stays flat over 10,000 frames (minutes; never part of check) --------
BENCH_MODEL   ?= dsfn-w32
BENCH_THREADS ?= 0
BENCH_REPEATS ?= 3
BENCH_ENSEMBLE ?= 1
# BENCH_EDGE_MIRROR: the filter's edge_mirror; empty: the filter's default
BENCH_EDGE_MIRROR ?=
bench-memory: ffmpeg
	scripts/bench-memory.sh $(BUILD) $(BENCH_MODEL) 10000 32x24 $(BENCH_THREADS)

# --- A 1920x1080 input (-> 7680x4320) with the default settings: runs to completion,
# within the memory the engine chooses (2 frames in; ~1.5 min and ~12 GiB here) ---------
bench-large: ffmpeg
	scripts/install-deps.sh time
	/usr/bin/time -o $(BUILD)/bench-large.time -f "%e s, peak RSS %M KB" $(FFMPEG) -nostdin -v verbose \
	    -f lavfi -i "testsrc2=size=1920x1080:rate=25,trim=end_frame=2" -vf dsfn -f framecrc - \
	    > $(BUILD)/bench-large.log 2>&1
	grep -E "frames in|engine time" $(BUILD)/bench-large.log | tail -n 2
	cat $(BUILD)/bench-large.time

# --- Fuzzing the weights loader (clang's libFuzzer; minutes, never part of check) --------
# Resumable: the corpus grows in $(FUZZ_DIR)/corpus and each run starts from it.
FUZZ_SECONDS ?= 600
FUZZ_DIR     := $(BUILD)/fuzz
FUZZER       := $(FUZZ_DIR)/fuzz-weights
FUZZ_SRC     := model/net/dsfn_net.cpp model/net/deform_conv.cpp model/kernels/deform_sample.cpp model/net/weights_file.cpp \
                tests/fuzz/fuzz_weights.cpp
FUZZ_FLAGS   := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -O1 -g

$(FUZZER): $(FUZZ_SRC) $(wildcard model/*/*.h) config.mk
	scripts/install-deps.sh clang libclang-rt-14-dev
	@mkdir -p $(@D)
	clang++ $(FUZZ_FLAGS) -std=c++17 -Imodel $(TORCH_CXXFLAGS) $(FUZZ_SRC) -o $@ $(TORCH_LINK)

fuzz: $(FUZZER)
	@mkdir -p $(FUZZ_DIR)/corpus $(FUZZ_DIR)/findings
	$(FUZZER) -max_total_time=$(FUZZ_SECONDS) -timeout=30 -rss_limit_mb=3072 -max_len=32768 \
	    -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/findings/ $(FUZZ_DIR)/corpus tests/fuzz/seeds

# Compile-check the C++ sources against LibTorch 2.x headers (Debian trixie's).
check-torch2:
	scripts/check-libtorch2-headers.sh $(CACHE_DIR)

# Parameter count of the paper's width-64 network.
params: $(TOOL)
	$(TOOL) params --width 64

# --- Install -----------------------------------------------------------------
# The installed ffmpeg finds the models beside itself (PREFIX/bin -> PREFIX/share),
# so a prefix can be staged under DESTDIR, moved or installed anywhere.
install: ffmpeg tools
	$(MAKE) install-files

# make install without building first (the end-to-end suite installs what it tested).
install-files: $(PARALLEL_BIN)
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(FFMPEG) $(FFPROBE) $(TOOL) $(PARALLEL_BIN) $(DESTDIR)$(PREFIX)/bin/
	install -d $(DESTDIR)$(MODEL_INSTALL_DIR)
	install -m 644 $(SHIPPED_MODELS) $(DESTDIR)$(MODEL_INSTALL_DIR)/

clean:
	rm -rf $(OBJDIR) $(BUILD)/lib $(BUILD)/bin $(BUILD)/tests $(BUILD)/pkgconfig
	if [ -f $(FFOBJ)/Makefile ]; then $(MAKE) -C $(FFOBJ) clean; fi

distclean:
	rm -rf $(BUILD) config.mk

-include $(shell find $(OBJDIR) -name '*.d' 2>/dev/null)
