# Included by the Makefile: installing and cleaning.

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
