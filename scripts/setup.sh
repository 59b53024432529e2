#!/usr/bin/env bash
# Installs what Rosin's data, plots and tests need beyond the Rust toolchain, on Debian/Ubuntu:
#  - musescore-general-soundfont-lossless: the VSCO2 section-string recordings (training, eval, dataset tests)
#  - fonts-dejavu-core: labels in PNG plots
#  - fluidsynth: the sampler reference in benchmarks
#  - ardour: the DAW the plugin test hosts Rosin.vst3 in (tests/daw, headless; about 80 packages)
# Idempotent: installs only what is missing. Uses sudo when not root.
set -euo pipefail

packages=(musescore-general-soundfont-lossless fonts-dejavu-core fluidsynth ardour)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# The test environment (.venv) needs Python's venv module; Debian ships it apart from python3.
if ! python3 -c "import ensurepip, venv" 2>/dev/null; then
  missing+=(python3-venv)
fi
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "setup: system packages present (${packages[*]})"
