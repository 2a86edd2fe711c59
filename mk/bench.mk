# Included by the Makefile: speed and memory benchmarks (minutes; never part of check).

# --- Speed against the roofline (minutes; never part of check) -------------------------
bench: ffmpeg $(TOOL)
	scripts/setup/install-deps.sh --check $@ time
	scripts/bench/bench.sh $(BUILD) $(BENCH_MODEL) $(BENCH_THREADS) $(BENCH_REPEATS) $(BENCH_ENSEMBLE) $(BENCH_EDGE_MIRROR)
	scripts/bench/bench-sample.sh $(BUILD) $(BENCH_REPEATS)
	scripts/bench/bench-busy.sh $(BUILD) $(BENCH_REPEATS)

# The sample clip four ways: the classic FFmpeg chain, dsfn's defaults, dsfn fp32, dsfn int8
# (also a part of make bench).
bench-sample: ffmpeg
	scripts/bench/bench-sample.sh $(BUILD) $(BENCH_REPEATS)

# The sample clip beside CPU-bound processes the bench starts and stops (also the
# last part of make bench).
bench-busy: ffmpeg
	scripts/bench/bench-busy.sh $(BUILD) $(BENCH_REPEATS)

# make bench on Debian's LibTorch 1.13 (this build) and on the torch wheel's 2.x
# (make libtorch2), one after the other in one run, same model and settings.
bench-libtorch2: ffmpeg $(TOOL) libtorch2
	scripts/setup/install-deps.sh --check $@ time
	for b in $(BUILD) $(TORCH2_BUILD); do \
	    echo "== $$b"; \
	    scripts/bench/bench.sh $$b $(BENCH_MODEL) $(BENCH_THREADS) $(BENCH_REPEATS) $(BENCH_ENSEMBLE) $(BENCH_EDGE_MIRROR) || exit 1; done

# dsfn-parallel against one run on this machine: one run with all threads, then
# --jobs 2 with one thread each, on the same input, in one run of this target.
bench-parallel: ffmpeg tools
	scripts/setup/install-deps.sh --check $@ parallel time
	scripts/bench/bench-parallel.sh $(BUILD) $(BENCH_PARALLEL_MODEL) $(BENCH_PARALLEL_SIZE) $(BENCH_PARALLEL_FRAMES) $(BENCH_PARALLEL_SEGMENT)
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
	scripts/bench/bench-memory.sh $(BUILD) $(BENCH_MODEL) 10000 32x24 $(BENCH_THREADS)

# --- A 1920x1080 input (-> 7680x4320) with the default settings: runs to completion,
# within the memory the engine chooses (2 frames in; ~1.5 min and ~12 GiB here) ---------
bench-large: ffmpeg
	scripts/setup/install-deps.sh --check $@ time
	/usr/bin/time -o $(BUILD)/bench-large.time -f "%e s, peak RSS %M KB" $(FFMPEG) -nostdin -v verbose \
	    -f lavfi -i "testsrc2=size=1920x1080:rate=25,trim=end_frame=2" -vf dsfn -f framecrc - \
	    > $(BUILD)/bench-large.log 2>&1
	grep -E "frames in|engine time" $(BUILD)/bench-large.log | tail -n 2
	cat $(BUILD)/bench-large.time
