"""Rosin.vst3 in a real DAW: Ardour 7 (Debian `ardour`), headless (its Lua session tool with the
"None (Dummy)" backend, no sound card, no display).

A session with two MIDI tracks, each with Rosin as its instrument (violins and celli), plays two
tracks of the bundled demo; its bounce must be bit-identical to `rosin render` of the same MIDI
(the import puts every event on a whole sample). Parameters set on a track, including the
section (a model), must survive saving and reopening in a new process: read back equal, and the
bounce after reopening, taken at once, identical to the one before.

Ardour 7.3's headless export itself aborts now and then with any instrument (glibc heap
corruption inside ExportHandler; docs/daw.md has the long-run comparison with Ardour's own
synth). A run that dies is retried, at most MAX_TRIES times per step, and counted; a wrong
bounce or a lost parameter fails at once.

Needs Ardour (scripts/setup.sh installs it), the bundle (`cargo xtask bundle rosin --release`),
the `rosin` binary (`cargo build --release -p rosin-cli`, or ROSIN_BIN) and mido/numpy (.venv).
Without Ardour the test skips, unless ROSIN_REQUIRE_DAW=1 (CI), which makes it fail.
"""
import os
import shutil
import subprocess
import sys
import time
import wave
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
ARDOUR_LIB = Path("/usr/lib/ardour7")
LUASESSION = ARDOUR_LIB / "luasession"
RATE = 48_000
SECONDS = 12
MAX_TRIES = 4
# Track name in the session -> (track of demo/strings-demo.mid, Section parameter value).
TRACKS = {"Violins": (1, 0), "Celli": (3, 2)}

aborts = []


def require(condition, message):
    if condition:
        return
    if os.environ.get("ROSIN_REQUIRE_DAW", "0") != "0":
        pytest.fail(message)
    pytest.skip(message)


def read_float_wav(path):
    """A 32-bit float WAV (Ardour's export, rosin render --format float32) as (frames, channels)."""
    data = Path(path).read_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE", path
    pos, fmt, body = 12, None, None
    while pos + 8 <= len(data):
        cid, size = data[pos:pos + 4], int.from_bytes(data[pos + 4:pos + 8], "little")
        chunk = data[pos + 8:pos + 8 + size]
        if cid == b"fmt ":
            fmt = chunk
        elif cid == b"data":
            body = chunk
        pos += 8 + size + (size & 1)
    assert fmt is not None and body is not None, f"{path}: no fmt or data chunk"
    tag, channels = int.from_bytes(fmt[0:2], "little"), int.from_bytes(fmt[2:4], "little")
    if tag == 0xFFFE:  # WAVE_FORMAT_EXTENSIBLE: the sub-format's first two bytes
        tag = int.from_bytes(fmt[24:26], "little")
    bits = int.from_bytes(fmt[14:16], "little")
    assert tag == 3 and bits == 32, f"{path}: not 32-bit float (format {tag}, {bits} bits)"
    return np.frombuffer(body, dtype="<f4").reshape(-1, channels)


class Ardour:
    """Runs Ardour's Lua session tool in a home of its own (plugin folder, scan cache, config)."""

    def __init__(self, work):
        self.work = work
        self.home = work / "home"
        self.env = dict(os.environ, HOME=str(self.home), LD_LIBRARY_PATH=str(ARDOUR_LIB),
                        ARDOUR_DATA_PATH="/usr/share/ardour7", ARDOUR_CONFIG_PATH="/etc/ardour7",
                        ARDOUR_DLL_PATH=str(ARDOUR_LIB))
        self.env.pop("DISPLAY", None)
        self.logs = work / "logs"
        self.logs.mkdir(parents=True)
        self.runs = 0

    def install(self, bundle):
        vst3 = self.home / ".vst3"
        vst3.mkdir(parents=True)
        shutil.copytree(bundle, vst3 / bundle.name)
        # The scan cache keeps whole-second times: a module newer by a fraction of a second reads
        # as "changed, not scanned" and the session tool cannot find it. Whole seconds, past.
        stamp = int(time.time()) - 60
        for p in [vst3 / bundle.name, *(vst3 / bundle.name).rglob("*")]:
            os.utime(p, (stamp, stamp), follow_symlinks=False)
        export = self.home / ".config" / "ardour7" / "export"
        export.mkdir(parents=True)
        for f in (HERE / "export").iterdir():
            shutil.copy(f, export)
        cache = self.home / ".cache" / "ardour7" / "vst"
        try:
            scan = subprocess.run([str(ARDOUR_LIB / "ardour-vst3-scanner"), "-f", str(vst3 / bundle.name)],
                                  env=self.env, capture_output=True, text=True, timeout=120)
            (self.logs / "scan.log").write_text(scan.stdout + scan.stderr)
            assert scan.returncode == 0, f"the VST3 scanner failed: {self.logs / 'scan.log'}"
        except subprocess.TimeoutExpired:
            # Under an LD_PRELOADed sanitizer runtime the scanner can hang in glibc at exit
            # (libp11-kit's destructor); what matters is the cache it wrote.
            assert any(cache.glob("*.v3i")), "the VST3 scanner hung before writing its cache"

    def lua(self, script, what, expect_file=None, **env):
        """Runs a Lua script; a run that dies (signal, abort, no output) is retried."""
        for attempt in range(1, MAX_TRIES + 1):
            self.runs += 1
            log = self.logs / f"{what}-{attempt}.log"
            if expect_file is not None and expect_file.exists():
                expect_file.unlink()
            try:
                run = subprocess.run([str(LUASESSION), str(HERE / "lua" / script)], env=dict(self.env, **env),
                                     capture_output=True, text=True, timeout=150)
                out, rc = run.stdout + run.stderr, run.returncode
            except subprocess.TimeoutExpired as e:
                out = "timed out\n" + "".join(x.decode(errors="replace") if isinstance(x, bytes) else (x or "")
                                              for x in (e.stdout, e.stderr))
                # Done, then hung at exit (seen with a preloaded sanitizer runtime, in glibc's
                # locale lock): the work is there.
                done = ("\ncreated" in out or "\nexported" in out) and (expect_file is None or expect_file.exists())
                rc = 0 if done else -1
            log.write_text(out)
            if rc == 0 and (expect_file is None or expect_file.exists()):
                return out
            # A script error (exit 1: a missing plugin, a failed assert) is a failure, not an abort.
            died = rc < 0 or rc >= 128 or "timed out" in out[:9]
            assert died or rc == 0, f"{what}: Ardour's Lua script failed (exit {rc}): {log}\n{out[-2000:]}"
            aborts.append(f"{what} try {attempt}: exit {rc} ({log})")
            print(f"Ardour run died: {what}, try {attempt}, exit {rc}, log {log}")
        pytest.fail(f"{what}: Ardour died {MAX_TRIES} times in a row: {aborts[-MAX_TRIES:]}")


def session_env(work):
    return dict(SESSION_DIR=str(work / "session"), SESSION_NAME="rosin-test", EXPORT_DIR=str(work / "out"),
                EXPORT_SAMPLES=str(SECONDS * RATE))


def params_in(output):
    values = {}
    for line in output.splitlines():
        if line.startswith("param "):
            key, value = line[len("param "):].rsplit("=", 1)
            values[key] = float(value)
    return values


def test_rosin_in_ardour(tmp_path):
    require(LUASESSION.exists(), f"{LUASESSION} missing: Ardour is not installed (scripts/setup.sh installs it)")
    bundle = ROOT / "target" / "bundled" / "Rosin.vst3"
    assert bundle.exists(), f"{bundle} missing: run `cargo xtask bundle rosin --release` first"
    rosin = Path(os.environ.get("ROSIN_BIN", ROOT / "target" / "release" / "rosin"))
    assert rosin.exists(), f"{rosin} missing: run `cargo build --release -p rosin-cli` first"
    started = time.monotonic()
    ardour = Ardour(tmp_path)
    ardour.install(bundle)
    env = session_env(tmp_path)
    (tmp_path / "out").mkdir()

    ardour.lua("session.lua", "create", RATE=str(RATE), PLUGIN="Rosin", PLUGIN_TYPE="VST3",
               TRACKS=",".join(TRACKS), **env)
    demo = ROOT / "demo" / "strings-demo.mid"
    for name, (track, _) in TRACKS.items():
        imported = subprocess.run([sys.executable, str(HERE / "import_midi.py"),
                                   env["SESSION_DIR"], env["SESSION_NAME"], str(demo), str(track), name,
                                   "--flatten-tempo", "--even-ticks", "--discrete-cc"],
                                  capture_output=True, text=True)
        assert imported.returncode == 0, imported.stdout + imported.stderr

    # 1. The bounce is what `rosin render` makes of the same MIDI.
    sections = ";".join(f"{name}:Section={value}" for name, (_, value) in TRACKS.items())
    first = tmp_path / "out" / "first.wav"
    ardour.lua("bounce.lua", "bounce", expect_file=first, SET=sections, EXPORT_NAME="first", **env)
    bounce = read_float_wav(first)
    assert bounce.shape == (SECONDS * RATE, 2), bounce.shape
    midifiles = next((tmp_path / "session" / "interchange").iterdir()) / "midifiles"
    # Each track in its section's seat with the hall on it, as the plugin plays by default:
    # `rosin render --wet-stems` of the track's MIDI. Ardour's master bus sums the tracks.
    reference = np.zeros((SECONDS * RATE, 2), dtype=np.float32)
    for name, (track, _) in TRACKS.items():
        section = {0: "violins", 2: "celli"}[TRACKS[name][1]]
        out = tmp_path / "render" / name
        subprocess.run([str(rosin), "render", str(midifiles / f"{name}-{track}.mid"), "-o", str(out), "--format",
                        "float32", "--no-mix", "--no-normalize", "--wet-stems", "-q", "--section", f"1={section}"],
                       check=True, capture_output=True)
        stems = list(out.glob("*.wav"))
        assert len(stems) == 1, stems
        stem = read_float_wav(stems[0])
        assert stem.shape[1] == 2, f"{stems[0]} is not stereo"
        n = min(len(stem), len(reference))
        reference[:n] += stem[:n]
    assert np.abs(reference).max() > 0.01, "the reference is silent"
    assert not np.array_equal(bounce[:, 0], bounce[:, 1]), "the bounce is mono: no seat, no hall"
    differ = np.argwhere(bounce.view(np.uint32) != reference.view(np.uint32))
    assert differ.size == 0, (f"the bounce differs from `rosin render` at {len(differ)} samples, first at "
                              f"frame {differ[0][0]} channel {differ[0][1]}: {bounce[tuple(differ[0])]} vs "
                              f"{reference[tuple(differ[0])]}; max difference {np.abs(bounce - reference).max()}")

    # 2. Parameters and the model survive saving and reopening.
    wanted = {"Section": 1, "Articulation": 0, "Dynamic": 0.8, "Expression": 0.7, "Vibrato depth": 0.6,
              "Vibrato rate": 7, "Dynamic range": 42, "Release": 0.8, "Glide": 0.2, "Bend range": 7,
              "Output gain": 0.5}
    before = tmp_path / "out" / "before.wav"
    out = ardour.lua("bounce.lua", "set-state", expect_file=before, EXPORT_NAME="before",
                     SET=";".join(f"Violins:{k}={v}" for k, v in wanted.items()),
                     REPORT=";".join(f"Violins:{k}" for k in wanted), **env)
    after = tmp_path / "out" / "after.wav"
    reopened = ardour.lua("bounce.lua", "reopen", expect_file=after, EXPORT_NAME="after",
                          REPORT=";".join(f"Violins:{k}" for k in wanted), **env)
    set_values, read_back = params_in(out), params_in(reopened)
    for k, v in wanted.items():
        assert abs(set_values[f"Violins:{k}"] - v) <= 1e-4 * max(1, abs(v)), (k, set_values)
        assert abs(read_back[f"Violins:{k}"] - v) <= 1e-4 * max(1, abs(v)), f"{k} after reopening: {read_back}"
    before_audio, after_audio = read_float_wav(before), read_float_wav(after)
    assert not np.array_equal(before_audio, bounce), "the parameters changed nothing"
    assert np.array_equal(before_audio.view(np.uint32), after_audio.view(np.uint32)), (
        "the bounce after reopening differs: a parameter or the model (violas) was lost; max difference "
        f"{np.abs(before_audio - after_audio).max()}")
    print(f"Ardour test: {ardour.runs} Ardour runs, {len(aborts)} died and were retried {aborts}; "
          f"{time.monotonic() - started:.0f} s")
