"""Hosts the bundled Rosin.vst3 with pedalboard: render MIDI, check the audio, state round trip.

The VST3 exposes ~2,080 MIDI-CC proxy parameters, so loading is slow: the plugin is loaded
once per session and parameters are touched as little as possible.

Needs `cargo xtask bundle rosin --release` and `scripts/setup-test-deps.sh`; set ROSIN_VST3
to use another bundle.
"""

import os
from pathlib import Path

import numpy as np
import pytest
from pedalboard import load_plugin

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = Path(os.environ.get("ROSIN_VST3", ROOT / "target" / "bundled" / "Rosin.vst3"))
SR = 48_000


@pytest.fixture(scope="session")
def rosin():
    assert BUNDLE.exists(), f"{BUNDLE} is missing: run `cargo xtask bundle rosin --release`"
    plugin = load_plugin(str(BUNDLE))
    assert plugin.is_instrument
    return plugin


def phrase():
    """(raw MIDI bytes, seconds): a keyswitch, notes, CC1 and CC11 moves, a bend."""
    return [
        (bytes([0xB0, 1, 90]), 0.0),
        (bytes([0x90, 60, 100]), 0.0),
        (bytes([0x90, 67, 90]), 0.1),
        (bytes([0xB0, 11, 110]), 0.2),
        (bytes([0xE0, 0x00, 0x50]), 0.3),
        (bytes([0x80, 60, 0]), 0.5),
        (bytes([0x80, 67, 0]), 0.5),
        (bytes([0x90, 13, 100]), 0.55),  # keyswitch C#0: short
        (bytes([0x80, 13, 0]), 0.56),
        (bytes([0x90, 64, 110]), 0.6),
        (bytes([0x80, 64, 0]), 0.7),
    ]


def render(plugin, seconds=1.2):
    plugin.reset()
    return plugin(phrase(), duration=seconds, sample_rate=SR, num_channels=2, buffer_size=512)


def test_renders_midi(rosin):
    audio = render(rosin)
    assert audio.shape == (2, int(1.2 * SR))
    assert np.all(np.isfinite(audio))
    assert np.max(np.abs(audio)) > 1e-3, "silent"
    # The violins sit left of centre (their seat), in the hall: the channels differ.
    left, right = (float(np.sum(c.astype(np.float64) ** 2)) for c in audio)
    assert left > 2.0 * right > 0.0, f"violins not in their seat: left {left}, right {right}"
    # The notes end at 0.7 s plus release: what follows is the hall's tail, and it decays.
    early_tail = np.max(np.abs(audio[:, int(0.95 * SR):int(1.0 * SR)]))
    late_tail = np.max(np.abs(audio[:, int(1.15 * SR):]))
    assert late_tail < early_tail and late_tail < np.max(np.abs(audio)) * 0.25, (early_tail, late_tail)


def test_deterministic(rosin):
    assert np.array_equal(render(rosin), render(rosin))


def test_state_round_trip(rosin):
    # pedalboard wraps the VST3 component state (which holds nice-plug's JSON) in JUCE's
    # encoding, so only round-trip behaviour is checked here; the CLAP test checks the content.
    state = rosin.raw_state
    assert len(state) > 100
    before = render(rosin)
    rosin.raw_state = state
    assert rosin.raw_state == state
    assert np.array_equal(render(rosin), before)
