# Included by the Makefile: FFmpeg with the dsfn filter, from a Debian source release and patches/.

# The filter's source files go into FFmpeg's tree; the engine's headers are
# found through libdsfn.pc's Cflags. Every build has FFmpeg's CUDA hwcontext
# (ffnvcodec: headers only, the driver is loaded at run time), so dsfn's CUDA
# frames are compiled, and negotiated in the tests, on machines without a GPU.
FF_SOURCES := $(addprefix $(FFSRC)/libavfilter/,vf_dsfn.c dsfn_cuda.c dsfn_cuda.h)
FF_CONFIG  := --prefix=$(PREFIX) --enable-libdsfn --enable-ffnvcodec --enable-gpl --disable-doc --disable-ffplay \
              --disable-debug --cc="$(CC)" $(if $(filter yes,$(HAVE_X264)),--enable-libx264) \
              $(FF_EXTRA_CONFIG)
FFNVCODEC_PC := $(BUILD)/pkgconfig/ffnvcodec.pc

PATCHES := $(wildcard patches/ffmpeg$(FFMPEG_VERSION)/*.patch)

# The Debian tree is unpacked afresh from the cache whenever the patches change;
# a tree of the user's own is patched once.
$(FFSRC)/.patched: $(PATCHES)
ifeq ($(FFMPEG_SOURCE),)
	scripts/setup/fetch-ffmpeg-source.sh $(FFMPEG_VERSION) $(CACHE_DIR) $(FFSRC)
endif
	scripts/setup/patch-ffmpeg.sh $(FFSRC) patches/ffmpeg$(FFMPEG_VERSION)
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

$(FFNVCODEC_PC): scripts/setup/fetch-ffnvcodec.sh
	scripts/setup/fetch-ffnvcodec.sh $(CACHE_DIR) $(@D) $(FFOBJ)

$(FFOBJ)/.configured: $(FFSRC)/.patched $(BUILD)/pkgconfig/libdsfn.pc $(FFNVCODEC_PC) config.mk $(FFOBJ)/configure-args \
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
