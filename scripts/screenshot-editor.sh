#!/usr/bin/env bash
# Screenshots the plugin editor under Xvfb (hosted by pedalboard) into docs/editor.png.
# Needs: cargo xtask bundle rosin --release; scripts/setup-test-deps.sh; xvfb, imagemagick
# (apt-get install xvfb imagemagick).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-docs/editor.png}
mkdir -p "$(dirname "$OUT")"
xvfb-run -a -s "-screen 0 900x700x24" .venv/bin/python - "$OUT" <<'PY'
import subprocess, sys, threading, time
from pedalboard import load_plugin

out = sys.argv[1]
plugin = load_plugin("target/bundled/Rosin.vst3")
# Play something so the meter and the noise envelope show.
plugin([(bytes([0x90, 60, 100]), 0.0), (bytes([0x90, 67, 90]), 0.0)], duration=0.5, sample_rate=48000, num_channels=2)
done = threading.Event()

def shoot():
    time.sleep(5)
    subprocess.run(["import", "-window", "root", out], check=True)
    done.set()

threading.Thread(target=shoot, daemon=True).start()
plugin.show_editor(done)
print("wrote", out)
PY
