#!/usr/bin/env bash
# Screenshots the plugin editor under Xvfb into docs/editor.png: a small clack-host program
# (tests/examples/editor_screenshot.rs) embeds the editor in an X11 window through the CLAP gui
# extension. Needs `cargo xtask bundle rosin --release`, xvfb and imagemagick
# (apt-get install xvfb imagemagick).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-docs/editor.png}
mkdir -p "$(dirname "$OUT")"
cargo build --release -p rosin-tests --example editor_screenshot
xvfb-run -a -s "-screen 0 1024x768x24" target/release/examples/editor_screenshot "$OUT"
