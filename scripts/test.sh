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
bash scripts/setup.sh
bash scripts/setup-test-deps.sh
# Plugin bundles first: the CLAP host tests load them.
cargo xtask bundle rosin --release
cargo build -p rosin --profile alloccheck --features assert_process_allocs
cargo test --workspace --release
ROSIN_VST3="$PWD/target/bundled/Rosin.vst3" .venv/bin/python -m pytest -q tests/vst3
# Rosin.vst3 in Ardour, headless: bounce vs `rosin render`, state across save and reopen.
ROSIN_REQUIRE_DAW=1 .venv/bin/python -m pytest -q -s tests/daw
# Short, bounded fuzzing of every reader and the event stream (fuzz/README.md has the long runs).
bash scripts/fuzz-smoke.sh
