# Included by the Makefile: training and quality evaluation (hours and minutes of CPU; never part of check).

# --- Training (hours of CPU; never part of check) ------------------------------------
# Resumable: re-running continues from the checkpoint in the cache; with no cache
# it starts from the committed weights of that width when there are some.
TRAIN_WIDTH   ?= 16
TRAIN_MINUTES ?= 0
# The next cycle of the shipped model of that width, from its recipe
# (scripts/train/next-cycle.sh: the last run's options, TRAIN_CYCLE more steps, the next
# seed); a width with no shipped model needs TRAIN_ARGS.
TRAIN_CYCLE   ?= 9000
TRAIN_RECIPE  := model/weights/dsfn-w$(TRAIN_WIDTH).dsfn.recipe
TRAIN_ARGS    ?= $(shell scripts/train/next-cycle.sh $(TRAIN_RECIPE) $(TRAIN_CYCLE))
TRAIN_DIR     := $(CACHE_DIR)/train
train: $(TRAINER) ffmpeg
	scripts/train/fetch-training-photos.sh $(TRAIN_DIR) $(FFMPEG)
	scripts/train/fetch-training-clips.sh $(TRAIN_DIR) $(FFMPEG)
	$(TRAINER) --photos $(TRAIN_DIR)/photos --clips $(TRAIN_DIR)/clips --checkpoint $(TRAIN_DIR)/ckpt-w$(TRAIN_WIDTH) \
	    --out $(TRAIN_DIR)/dsfn-w$(TRAIN_WIDTH).dsfn --init model/weights/dsfn-w$(TRAIN_WIDTH).dsfn \
	    --snapshots $(TRAIN_DIR)/snapshots-w$(TRAIN_WIDTH) \
	    --width $(TRAIN_WIDTH) --minutes $(TRAIN_MINUTES) $(TRAIN_ARGS)

# Quantization-aware fine-tuning for precision=int8: TRAIN_INT8_STEPS more steps of the
# shipped model with its int8 arithmetic simulated at the ranges of its MODEL.int8 (make
# quantize), at a tenth of the usual learning rate; writes the weights, their recipe
# and their MODEL.int8 to $(TRAIN_DIR)/int8/. Resumable like make train.
# TRAIN_INT8_TEACHER=WEIGHTS learns those weights' pictures instead of the truth
# (dsfn-train --teacher, distillation).
TRAIN_INT8_STEPS   ?= 4000
TRAIN_INT8_LR      ?= 2e-05
TRAIN_INT8_TEACHER ?=
TRAIN_INT8_ARGS    ?= $(shell scripts/train/next-cycle.sh $(TRAIN_RECIPE) $(TRAIN_INT8_STEPS)) --lr $(TRAIN_INT8_LR) \
                      $(if $(TRAIN_INT8_TEACHER),--teacher $(TRAIN_INT8_TEACHER))
train-int8: $(TRAINER) ffmpeg
	scripts/train/fetch-training-photos.sh $(TRAIN_DIR) $(FFMPEG)
	scripts/train/fetch-training-clips.sh $(TRAIN_DIR) $(FFMPEG)
	@mkdir -p $(TRAIN_DIR)/int8
	$(TRAINER) --photos $(TRAIN_DIR)/photos --clips $(TRAIN_DIR)/clips --checkpoint $(TRAIN_DIR)/ckpt-int8-w$(TRAIN_WIDTH) \
	    --out $(TRAIN_DIR)/int8/dsfn-w$(TRAIN_WIDTH).dsfn --init model/weights/dsfn-w$(TRAIN_WIDTH).dsfn \
	    --int8-ranges model/weights/dsfn-w$(TRAIN_WIDTH).dsfn.int8 \
	    --width $(TRAIN_WIDTH) --minutes $(TRAIN_MINUTES) $(TRAIN_INT8_ARGS)

# --- Quality evaluation (minutes of CPU; never part of check) ---------------------------
# EVAL_MODEL: one or more weights files, a row each; the first is the one in the
# side-by-side pictures (eval/pictures/CLIP.png, shown by eval/REPORT.md).
EVAL_MODEL     ?= model/weights/dsfn-w$(TRAIN_WIDTH).dsfn
EVAL_KEYFRAMES ?= 60
# The committed pictures show the standard protocol: a variant of the inputs
# (EVAL_BLUR, EVAL_REDUCE, EVAL_PAD, EVAL_SET; see scripts/eval/eval.sh) writes none unless asked to.
EVAL_PICTURES  ?= $(if $(EVAL_BLUR)$(EVAL_REDUCE)$(EVAL_PAD)$(EVAL_SET),-,eval/pictures)
eval: ffmpeg
	scripts/eval/eval.sh $(BUILD) $(CACHE_DIR)/eval $(EVAL_KEYFRAMES) $(EVAL_PICTURES) $(EVAL_MODEL)

# Which precisions precision=auto may choose for each EVAL_MODEL: make eval in fp32,
# bf16 and (with MODEL.int8 beside it) int8, and the "precisions" line of the model's
# recipe (scripts/eval/eval-precisions.sh).
eval-precisions: ffmpeg
	scripts/eval/eval-precisions.sh $(BUILD) $(CACHE_DIR)/eval $(EVAL_KEYFRAMES) $(EVAL_MODEL)

# The activation ranges precision=int8 needs (QUANTIZE_MODEL.int8, beside it), measured
# over the training photos and clips (fetched as make train fetches them). Then
# make eval-precisions says whether auto may take int8.
QUANTIZE_MODEL ?= model/weights/dsfn-w$(TRAIN_WIDTH).dsfn
quantize: $(TOOL) ffmpeg
	scripts/train/fetch-training-photos.sh $(TRAIN_DIR) $(FFMPEG)
	scripts/train/fetch-training-clips.sh $(TRAIN_DIR) $(FFMPEG)
	$(TOOL) quantize $(QUANTIZE_MODEL) --photos $(TRAIN_DIR)/photos --clips $(TRAIN_DIR)/clips --force

# Keyframes of each input frame alone against the sequence, for the first EVAL_MODEL
# (reads the inputs the last `make eval` left in the cache).
eval-frames-alone: ffmpeg
	scripts/eval/eval-frames-alone.sh $(BUILD) $(CACHE_DIR)/eval $(firstword $(EVAL_MODEL))

# PSNR of the interior and of bands along the edges, for every EVAL_MODEL (reads the
# inputs the last `make eval` left in the cache).
eval-edges: ffmpeg
	scripts/eval/eval-edges.sh $(BUILD) $(CACHE_DIR)/eval $(EVAL_MODEL)

# Quality against training time, from the snapshots `make train` leaves in the cache.
EVAL_CURVE_DIR       ?= eval/curve
EVAL_CURVE_KEYFRAMES ?= 30
eval-curve: ffmpeg
	scripts/setup/install-deps.sh --check $@ gnuplot-nox
	scripts/eval/eval-curve.sh $(BUILD) $(CACHE_DIR)/eval $(EVAL_CURVE_KEYFRAMES) $(EVAL_CURVE_DIR) \
	    $(wildcard $(TRAIN_DIR)/snapshots-w*)
