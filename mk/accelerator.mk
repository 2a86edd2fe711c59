# Included by the Makefile: the build against PyPI's torch wheel and the accelerator run (docs/ACCELERATOR-RUN.md).

# --- LibTorch 2.x with CUDA (PyPI's torch wheel) -------------------------------------
# Both suites again on a third build, against the pinned torch wheel that
# scripts/setup/fetch-libtorch.sh installs into the cache: device=cpu, and on a machine
# without a GPU the suites check that device=cuda fails clearly. Its FFmpeg has
# the ASan build's codecs and formats. The built ffmpeg must need libtorch_cuda and
# c10_cuda (the linker's --as-needed would drop them, and CUDA would be "unavailable").
TORCH2_BUILD := build/torch2
TORCH2_MK    := $(TORCH2_BUILD)/libtorch.mk
TORCH2_VARS  := BUILD=$(TORCH2_BUILD) TORCH_MK=$(TORCH2_MK) FF_EXTRA_CONFIG="$(ASAN_FF_CODECS)"
libtorch2:
	@mkdir -p $(TORCH2_BUILD)
	dir=$$(scripts/setup/fetch-libtorch.sh $(CACHE_DIR)) && scripts/setup/libtorch-flags.sh "$$dir" > $(TORCH2_MK).new
	@if cmp -s $(TORCH2_MK).new $(TORCH2_MK); then rm $(TORCH2_MK).new; else mv $(TORCH2_MK).new $(TORCH2_MK); fi
	$(MAKE) $(TORCH2_VARS) -j$(NPROC) $(TORCH2_BUILD)/tests/unit-tests $(TORCH2_BUILD)/bin/dsfn-tool ffmpeg
	scripts/check/check-cuda-linked.sh $(TORCH2_BUILD)/bin/ffmpeg

# The suites on that LibTorch run as the accelerator run's rehearsal: the
# same script, from a copy of exactly what a `device` run carries (the files git
# sees and the pack), on the CPU with tiny sizes. It builds its own libdsfn,
# tools, unit tests and ffmpeg, runs both suites with device=cpu (device=cuda
# must fail with "CUDA is not available") and checks that ffmpeg needs libtorch_cuda.
REHEARSAL := $(TORCH2_BUILD)/rehearsal
check-libtorch2:
	$(TIMED) "check-libtorch2: pack" $(MAKE) accelerator-pack
	$(TIMED) "check-libtorch2: torch wheel" sh -c 'scripts/setup/fetch-libtorch.sh $(CACHE_DIR) > /dev/null'
	rm -rf $(REHEARSAL) && mkdir -p $(REHEARSAL)/tree
	git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t $(REHEARSAL)/tree
	cp -r $(ACCEL_PACK) $(REHEARSAL)/tree/
	cd $(REHEARSAL)/tree && PYTHON=$$($(CURDIR)/scripts/setup/fetch-libtorch.sh $(CACHE_DIR) --python) \
	    $(CURDIR)/$(TIMED) "check-libtorch2: rehearsal" scripts/accelerator/accelerator-run.sh --cpu --out $(CURDIR)/$(REHEARSAL)/out

# --- The accelerator run (scripts/accelerator/accelerator-run.sh; a lent GPU machine) -------------
# Its ffmpeg: the end-to-end suite's codecs and formats, JPEG in and PPM out for the
# training data, NVDEC for the GPU pipeline's step, no assembly (that machine has no
# nasm), and pkg-config-lite.sh for libdsfn.pc (that machine may have no pkg-config;
# the rehearsal uses it too).
ACCEL_PACK      := accelerator-pack
ACCEL_BUILD     := build/accel
# The path is relative to FFmpeg's object folder, where its configure runs: the
# clone's absolute path in FFmpeg's config.h (which every FFmpeg file includes)
# would make every file a ccache miss in a clone at another path.
SPACE           := $(subst ,, )
ACCEL_FF_CONFIG := $(ASAN_FF_CODECS) --enable-decoder=mjpeg --enable-encoder=ppm --enable-muxer=image2 \
                   --enable-demuxer=image2 --enable-hwaccel=mpeg4_nvdec,h264_nvdec --disable-x86asm \
                   --pkg-config=$(subst $(SPACE),/,$(patsubst %,..,$(subst /, ,$(ACCEL_BUILD)/ffmpeg)))/scripts/setup/pkg-config-lite.sh
ACCEL_VARS      := BUILD=$(ACCEL_BUILD) HAVE_X264=no FF_EXTRA_CONFIG="$(ACCEL_FF_CONFIG)"
HAVE_CHECK      := $(shell pkg-config --exists check 2>/dev/null && echo yes)
accelerator-pack:
	scripts/accelerator/accelerator-pack.sh $(CACHE_DIR) $(ACCEL_PACK)
accelerator-build:
	$(MAKE) $(ACCEL_VARS) -j$(NPROC) ffmpeg tools $(if $(HAVE_CHECK),$(ACCEL_BUILD)/tests/unit-tests)
accelerator-unit-tests:
	$(MAKE) $(ACCEL_VARS) unit-tests
