#!/usr/bin/env bash
# Rebuilds the shipped models in model-weights/ from the VSCO2 recordings:
# dataset analysis, then one model per section, two sections at a time (one core each):
# frame-level training, then the audio-domain fine-tune through the differentiable synth.
# Training is bounded by steps, not time, so the same command gives the same weights (seeded
# initialisation, one candle thread per section); the minute limits are only safety caps.
# Usage: bash scripts/train-all.sh [frame-level steps, default 10000] [fine-tune steps, default 1000]
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-10000}
fine_tune_steps=${2:-1000}
bash scripts/setup.sh
cargo build --release -p rosin-cli --bin rosin
rosin=target/release/rosin
$rosin dataset -o dataset-cache/vsco2-strings --quiet
mkdir -p model-weights
# train NAME [more rosin train arguments]
train() {
  CANDLE_NUM_THREADS=1 $rosin train --dataset dataset-cache/vsco2-strings --instrument "$1" \
    -o "model-weights/$1.safetensors" --steps "$steps" --minutes 8 \
    --fine-tune-steps "$fine_tune_steps" --fine-tune-minutes 4 --quiet "${@:2}"
}
train violins & train violas & wait
train celli & train basses & wait
