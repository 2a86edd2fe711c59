# Included by the Makefile: the test suites and the checks CI runs besides make check.

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
	scripts/setup/install-deps.sh parallel rsync openssh-client openssh-server
	tests/e2e/parallel.sh $(BUILD)

# Build everything in parallel, then run the suites one after the other; each
# step prints its seconds (scripts/check/timed.sh).
TIMED := scripts/check/timed.sh
check:
	$(TIMED) "check: patch sets" scripts/check/check-patch-sets.sh
	$(TIMED) "check: build" $(MAKE) -j$(NPROC) $(UNIT_TEST) $(TOOL) $(PARALLEL_BIN) ffmpeg
	$(TIMED) "check: unit tests" $(MAKE) unit-tests
	$(TIMED) "check: end-to-end tests" $(MAKE) e2e-tests
	$(TIMED) "check: dsfn-parallel tests" $(MAKE) parallel-tests

# --- Sanitizers --------------------------------------------------------------------
# Both suites again on a second build: libdsfn, the tools, the unit tests and
# FFmpeg (with the filter) under ASan + UBSan. Any report fails the run (see
# scripts/check/run-sanitized.sh); LibTorch itself is not instrumented.
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
	    scripts/check/run-sanitized.sh $(ASAN_BUILD) $(MAKE) $(ASAN_VARS) unit-tests e2e-tests

# Memcheck on short ffmpeg jobs with the normal build (valgrind from Debian).
check-valgrind: ffmpeg $(TOOL)
	scripts/setup/install-deps.sh --check $@ valgrind
	$(TIMED) "check-valgrind" scripts/check/valgrind-check.sh $(BUILD)

# --- Fuzzing the weights loader (clang's libFuzzer; minutes, never part of check) --------
# Resumable: the corpus grows in $(FUZZ_DIR)/corpus and each run starts from it.
FUZZ_SECONDS ?= 600
FUZZ_DIR     := $(BUILD)/fuzz
FUZZER       := $(FUZZ_DIR)/fuzz-weights
FUZZ_SRC     := model/net/dsfn_net.cpp model/net/deform_conv.cpp model/kernels/deform_sample.cpp model/kernels/deform_fused.cpp model/net/weights_file.cpp \
                tests/fuzz/fuzz_weights.cpp
FUZZ_FLAGS   := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -O1 -g

$(FUZZER): $(FUZZ_SRC) $(wildcard model/*/*.h) config.mk
	scripts/setup/install-deps.sh --check fuzz clang libclang-rt-14-dev
	@mkdir -p $(@D)
	clang++ $(FUZZ_FLAGS) -std=c++17 -Imodel $(TORCH_CXXFLAGS) $(FUZZ_SRC) -o $@ $(TORCH_LINK)

fuzz: $(FUZZER)
	@mkdir -p $(FUZZ_DIR)/corpus $(FUZZ_DIR)/findings
	$(FUZZER) -max_total_time=$(FUZZ_SECONDS) -timeout=30 -rss_limit_mb=3072 -max_len=32768 \
	    -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/findings/ $(FUZZ_DIR)/corpus tests/fuzz/seeds

# Compile-check the C++ sources against LibTorch 2.x headers (Debian trixie's),
# beside check-libtorch2, which builds and tests against PyPI's torch wheel.
check-trixie-headers:
	scripts/check/trixie-torch-headers.sh $(CACHE_DIR)
