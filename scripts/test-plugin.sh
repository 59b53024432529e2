#!/usr/bin/env bash
# Builds the plugin bundles and runs the host tests: the CLAP host tests (clack-host, Rust:
# rendering vs the engine, state, and an assert_process_allocs MIDI storm) and the VST3 test
# (pedalboard, Python). Run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
# The host tests fail (rather than skip) if a plugin build is missing.
export ROSIN_REQUIRE_PLUGIN_BUILDS=1
cargo xtask bundle rosin --release
# The real-time check build: release + debug assertions, aborting on any allocation in process().
cargo build -p rosin --profile alloccheck --features assert_process_allocs
cargo test --release -p rosin
cargo test --release -p rosin-tests --test clap_host --test alloc_storm --test dense_automation
bash scripts/setup-test-deps.sh
# The DAW test compares with `rosin render`.
cargo build --release -p rosin-cli
ROSIN_VST3="$PWD/target/bundled/Rosin.vst3" .venv/bin/python -m pytest -q tests/vst3
# Rosin.vst3 in Ardour, headless: bounce vs `rosin render`, state across save and reopen.
ROSIN_REQUIRE_DAW=1 .venv/bin/python -m pytest -q -s tests/daw
