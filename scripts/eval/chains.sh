# Sourced by scripts/eval/eval.sh and scripts/bench/bench-sample.sh: the plain-FFmpeg
# chains dsfn is compared with, so that the speed bench times the chain the
# evaluation scores.
# mci_chain RATE: motion-compensated interpolation to RATE (e.g. 30 or 50/2).
# minterpolate drops its last frames at the end of the stream: the last input frame
# is repeated twice (tpad) so that every scored frame is made.
mci_chain() { echo "tpad=stop=2:stop_mode=clone,minterpolate=fps=$1:mi_mode=mci:mc_mode=aobmc:me_mode=bidir:vsbmc=1"; }
# best_classic_chain RATE: the best-scoring chain of make eval (lanczos+mci+unsharp0.6).
best_classic_chain() { echo "$(mci_chain "$1"),scale=iw*4:ih*4:flags=lanczos,unsharp=5:5:0.6"; }
