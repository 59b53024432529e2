#!/usr/bin/env bash
# Rebuilds the shipped models in model-weights/ from the VSCO2 recordings:
# dataset analysis, then one model per section, two sections at a time (one core each):
# frame-level training, then the audio-domain fine-tune through the differentiable synth.
# Usage: bash scripts/train-all.sh [frame-level minutes, default 6.5] [fine-tune minutes, default 3]
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-6.5}
fine_tune_minutes=${2:-3}
bash scripts/setup.sh
cargo build --release -p rosin-engine --bin rosin
rosin=target/release/rosin
$rosin dataset -o dataset-cache/vsco2-strings --quiet
mkdir -p model-weights
# train NAME FRAME_MINUTES FINE_TUNE_MINUTES [more rosin train arguments]
train() {
  CANDLE_NUM_THREADS=1 $rosin train --dataset dataset-cache/vsco2-strings --instrument "$1" \
    -o "model-weights/$1.safetensors" --minutes "$2" --fine-tune-minutes "$3" --quiet "${@:4}"
}
# Violas: seed 2, kept from the frame-level-only models (whose seed 1 had brightness falling
# with CC1); see README "Training choices".
train violins "$minutes" "$fine_tune_minutes" & train violas "$minutes" "$fine_tune_minutes" --seed 2 & wait
train celli "$minutes" "$fine_tune_minutes" & train basses "$minutes" "$fine_tune_minutes" & wait
