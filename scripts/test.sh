#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what it needs (Debian packages via
# scripts/setup.sh, Python packages into .venv via scripts/setup-test-deps.sh), bundles the
# plugin, then runs every Rust test (engine, CLI, CLAP host, allocation storm) and the VST3 test.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
# The host tests must not skip for want of a plugin build.
export ROSIN_REQUIRE_PLUGIN_BUILDS=1
# Tests that train on the real recordings must not skip for want of the SoundFont.
export ROSIN_REQUIRE_SOUNDFONT=1
started=$SECONDS
step() { echo; echo "== test.sh step $1 of 8: $2 ($(( (SECONDS - started) / 60 )) min so far)"; }
step 1 "system packages (SoundFont, fluidsynth, Ardour; apt)"
bash scripts/setup.sh
step 2 "Python test environment (.venv: pedalboard, numpy, pytest, mido)"
bash scripts/setup-test-deps.sh
# Plugin bundles first: the CLAP host tests load them.
step 3 "plugin bundles (Rosin.clap, Rosin.vst3)"
cargo xtask bundle rosin --release
step 4 "plugin with assert_process_allocs (the allocation storm test loads it)"
cargo build -p rosin --profile alloccheck --features assert_process_allocs
step 5 "every Rust test (engine, CLI, training, CLAP host, allocation storm)"
# The plugin's own tests on their own: built with the workspace, the plugin crate would get the
# workspace's unified dependency features and be rebuilt by every bundle step (and the bundle
# by every test step); apart, a second unchanged run compiles nothing.
cargo test --workspace --release --exclude rosin
cargo test --release -p rosin
step 6 "VST3 in pedalboard"
ROSIN_VST3="$PWD/target/bundled/Rosin.vst3" .venv/bin/python -m pytest -q tests/vst3
# Rosin.vst3 in Ardour, headless: bounce vs `rosin render`, state across save and reopen.
step 7 "Rosin.vst3 in Ardour, headless"
ROSIN_REQUIRE_DAW=1 .venv/bin/python -m pytest -q -s tests/daw
# Short, bounded fuzzing of every reader and the event stream (fuzz/README.md has the long runs).
step 8 "fuzz smoke, 20 s per target"
bash scripts/fuzz-smoke.sh
echo
echo "== test.sh: all 8 steps passed in $(( (SECONDS - started) / 60 )) min"
