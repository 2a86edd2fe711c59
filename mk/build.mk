# Included by the Makefile: configuration, compiler settings, libdsfn, the tools and libdsfn.pc.

# A fresh checkout: install the Debian packages, then configure with the defaults.
config.mk: | configure
	scripts/setup/install-deps.sh
	./configure

-include config.mk
# A second LibTorch for one build folder (make check-libtorch2): its flags
# (scripts/setup/libtorch-flags.sh) override config.mk's.
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

# libdsfn: what the filter needs (engine, network, kernels, and the recipe module:
# precision=auto reads which precisions a model was evaluated in) and nothing
# else; the tools and the trainer link their own objects besides it.
# Dependencies run one way: tools, trainer -> recipe, int8 -> net -> kernels;
# filter -> engine -> recipe, int8, net.
NET_SRC     := model/net/dsfn_net.cpp model/net/deform_conv.cpp model/net/weights_file.cpp model/net/mirror_edges.cpp
KERNELS_SRC := model/kernels/deform_sample.cpp model/kernels/deform_fused.cpp model/kernels/deform_u8.cpp \
               model/kernels/map_to_picture.cpp model/kernels/quantize_u8.cpp model/kernels/concat_channels.cpp
INT8_SRC    := model/int8/activation_ranges.cpp model/int8/range_observer.cpp model/int8/int8_runner.cpp \
               model/int8/quantized_conv.cpp model/int8/onednn_conv.cpp \
               model/int8/fake_quant_runner.cpp
ONEDNN_SRC  := model/onednn/onednn_engine.cpp model/onednn/float_conv.cpp model/onednn/float_runner.cpp
MEMORY_SRC  := model/memory/block_cache.cpp model/memory/memory_policy.cpp
RECIPE_SRC  := model/recipe/recipe.cpp
ENGINE_SRC  := $(wildcard libavfilter-dsfn/engine/*.cpp)
LIB_CXX_SRC := $(NET_SRC) $(KERNELS_SRC) $(INT8_SRC) $(ONEDNN_SRC) $(MEMORY_SRC) $(RECIPE_SRC) $(ENGINE_SRC)
TRAIN_SRC   := model/train/train_data.cpp model/train/train_sources.cpp model/train/training.cpp model/train/train_options.cpp model/train/mixed_precision.cpp
TRAIN_OBJS  := $(TRAIN_SRC:%.cpp=$(OBJDIR)/%.o)
TRAINER     := $(BUILD)/bin/dsfn-train
TOOLS_SRC   := tools/widen.cpp tools/weights_average.cpp tools/conv_cost.cpp tools/op_profile.cpp tools/quantize.cpp
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
# each build folder holds copies where an installed prefix has them; with their
# recipes, whose "precisions" line precision=auto reads, and the activation ranges
# of precision=int8 (MODEL.int8, from dsfn-tool quantize).
MODEL_INSTALL_DIR := $(PREFIX)/share/vf_dsfn/models
SHIPPED_MODELS    := $(wildcard model/weights/*.dsfn) $(wildcard model/weights/*.dsfn.recipe) \
                     $(wildcard model/weights/*.dsfn.int8)
BUILD_MODELS      := $(SHIPPED_MODELS:model/weights/%=$(BUILD)/share/vf_dsfn/models/%)
$(OBJDIR)/libavfilter-dsfn/engine/model_path.o: DSFN_CFLAGS += -DDSFN_MODEL_INSTALL_DIR='"$(MODEL_INSTALL_DIR)"'
$(BUILD)/share/vf_dsfn/models/%: model/weights/%
	@mkdir -p $(@D)
	cp -p $< $@

# The fused deformable sampler's channel loops need the vectoriser's full cost model,
# and its corner loop (float to int conversions) vectorises only without trapping math.
# at::parallel_for is a header template that runs serially unless the file that
# calls it is built with OpenMP (LibTorch's own runtime, libgomp, linked below).
$(OBJDIR)/model/kernels/deform_sample.o $(OBJDIR)/model/kernels/deform_fused.o $(OBJDIR)/model/kernels/deform_u8.o: \
    DSFN_CXXFLAGS += -O3 -fno-trapping-math -fopenmp
# The picture conversion's clamp-and-round loop likewise, and its rows in parallel.
$(OBJDIR)/model/kernels/map_to_picture.o: DSFN_CXXFLAGS += -O3 -fno-trapping-math -fopenmp
# The int8 conversions' loops likewise, and the concatenation's.
$(OBJDIR)/model/kernels/quantize_u8.o $(OBJDIR)/model/kernels/concat_channels.o: \
    DSFN_CXXFLAGS += -O3 -fno-trapping-math -fopenmp
# ASan's fake stack (detect_stack_use_after_return, scripts/check/run-sanitized.sh)
# gives frames 32-byte alignment, while the kernels keep 64-byte vectors on the stack
# and GCC stores them with aligned moves: in sanitized builds their frames stay on
# the real stack.
ifneq ($(SANITIZE),)
$(KERNELS_SRC:%.cpp=$(OBJDIR)/%.o): DSFN_CXXFLAGS += --param=asan-use-after-return=0
endif
# Without LibTorch, or with other flags than the precompiled header's.
NO_PCH_OBJS := model/kernels/deform_sample.o model/kernels/deform_fused.o model/kernels/deform_u8.o model/kernels/map_to_picture.o model/kernels/quantize_u8.o model/kernels/concat_channels.o model/memory/memory_policy.o \
               libavfilter-dsfn/engine/core_share.o model/recipe/recipe.o
$(NO_PCH_OBJS:%=$(OBJDIR)/%): PCH_INCLUDE :=

$(LIBDSFN): $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(TOOL): $(OBJDIR)/tools/dsfn_tool.o $(TOOLS_OBJS) $(TRAIN_OBJS) $(LIBDSFN)
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
# Rewritten only when its text changes, so an edit elsewhere in the Makefiles
# does not make FFmpeg configure again.
DSFN_API_VERSION := $(shell sed -n 's/^\#define DSFN_ENGINE_API_VERSION \([0-9]*\)$$/\1/p' $(ENGINE_INCLUDE)/dsfn/engine.h)
$(BUILD)/pkgconfig/libdsfn.pc: config.mk mk/build.mk $(TORCH_MK) $(ENGINE_INCLUDE)/dsfn/engine.h
	@mkdir -p $(@D)
	@printf '%s\n' 'Name: libdsfn' 'Description: DSFN engine for the dsfn filter' 'Version: $(DSFN_API_VERSION)' \
	    'Cflags: -I$(CURDIR)/$(ENGINE_INCLUDE)' \
	    'Libs: -L$(CURDIR)/$(BUILD)/lib -ldsfn $(TORCH_LINK)' > $@.tmp
	@if cmp -s $@.tmp $@; then rm $@.tmp; touch -r $(FFOBJ)/.configured $@ 2>/dev/null || true; \
	 else mv $@.tmp $@; echo "wrote $@"; fi

# Parameter count of the paper's width-64 network.
params: $(TOOL)
	$(TOOL) params --width 64
