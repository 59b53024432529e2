//! Real-time safety and soak through a real host: a build with nice-plug's
//! `assert_process_allocs` (which aborts the process on any allocation or deallocation inside
//! `process()`) plays a long random MIDI storm: notes, CCs (including all-notes-off /
//! all-sound-off / reset), keyswitches, UACC, program changes, extreme bends, the sustain pedal
//! held down through long stretches, parameter automation that hot-swaps the model, at varying
//! block sizes and two sample rates. Output must stay finite and bounded, and after all notes
//! off every voice must end (exact silence once the release is over).
//!
//! CI plays 20 s per sample rate; the long soak is
//!   ROSIN_SOAK_SECONDS=1800 cargo test --release -p rosin-tests --test alloc_storm -- --nocapture
//!
//! Needs the alloccheck build (`cargo build -p rosin --profile alloccheck --features
//! assert_process_allocs`, which scripts/test-plugin.sh does); set ROSIN_ALLOCCHECK_CLAP to
//! use another file. Without it the test says how to build it, and fails if
//! `ROSIN_REQUIRE_PLUGIN_BUILDS=1` (set by scripts/test-plugin.sh).

use clack_host::events::event_types::{MidiEvent as ClapMidiEvent, ParamValueEvent};
use clack_host::prelude::*;
use common::{instantiate, load_entry_from, param_id, plugin_build_present, render_with};
use rosin_tests::host as common;
use std::path::PathBuf;

fn alloccheck_build() -> PathBuf {
    if let Some(p) = std::env::var_os("ROSIN_ALLOCCHECK_CLAP") {
        return p.into();
    }
    common::target_dir().join("alloccheck").join("librosin.so")
}

/// xorshift64*: a reproducible storm without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn storm(seed: u64, len: usize, sample_rate: f32) -> Vec<(usize, [u8; 3])> {
    let mut rng = Rng(seed);
    let mut events = Vec::new();
    let mut t = 0usize;
    // Every fifth stretch of 4 s has the pedal held down throughout (and the storm's own CC64
    // and reset messages left out), so sustained notes pile up for seconds.
    let stretch = (4.0 * sample_rate) as usize;
    let pedal_held = |t: usize| (t / stretch) % 5 == 4;
    let mut pedal_was = false;
    while t < len {
        t += rng.below(400) as usize;
        let held = pedal_held(t);
        if held != pedal_was && t < len {
            events.push((t, [0xB0, 64, if held { 127 } else { 0 }]));
            pedal_was = held;
        }
        let ch = rng.below(16) as u8;
        let bytes = match rng.below(100) {
            0..=34 => [0x90 | ch, 24 + rng.below(84) as u8, 1 + rng.below(127) as u8],
            35..=64 => [0x80 | ch, 24 + rng.below(84) as u8, 0],
            65..=69 => [0x90 | ch, 12 + rng.below(4) as u8, 100], // keyswitches
            70..=84 => {
                let cc = [1u8, 11, 20, 21, 32, 64, 7, 10][rng.below(8) as usize];
                [0xB0 | ch, cc, rng.below(128) as u8]
            }
            85..=86 => [0xB0 | ch, [120u8, 121, 123][rng.below(3) as usize], 0],
            87..=90 => [0xC0 | ch, rng.below(6) as u8, 0],
            91..=97 => [0xE0 | ch, rng.below(128) as u8, rng.below(128) as u8],
            _ => [0x90 | ch, 60, 0], // note-on with velocity 0 = note-off
        };
        let pedal_or_reset = bytes[0] & 0xF0 == 0xB0 && matches!(bytes[1], 64 | 120 | 121 | 123);
        if t < len && !(held && pedal_or_reset) {
            events.push((t, bytes));
        }
    }
    events
}

#[test]
fn random_midi_storm_does_not_allocate_on_the_audio_thread() {
    let build = alloccheck_build();
    if !plugin_build_present(&build, "cargo build -p rosin --profile alloccheck --features assert_process_allocs") {
        return;
    }
    let entry = load_entry_from(&build);
    let mut plugin = instantiate(&entry);
    // Parameters moved during the storm: the section (each change hot-swaps the model on the
    // audio thread), articulation, dynamic, output gain, voice mode, and the stage: placement,
    // pan and every room setting (which the room takes in place, without allocating).
    let params: Vec<(ClapId, f64)> = [
        ("Section", 3.0),
        ("Articulation", 3.0),
        ("Dynamic", 1.0),
        ("Output gain", 2.0),
        ("Voice mode", 1.0),
        ("Placement", 1.0),
        ("Pan", 1.0),
        ("Room", 1.0),
        ("Room decay", 1.0),
        ("Pre-delay", 1.0),
        ("Room damping", 1.0),
    ]
    .iter()
    .map(|(name, max)| (param_id(&mut plugin, name), *max))
    .collect();
    let room = param_id(&mut plugin, "Room");
    let seconds: f64 = std::env::var("ROSIN_SOAK_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(20.0);
    for (seed, sample_rate) in [(1u64, 48_000.0f32), (2, 44_100.0)] {
        let storm_len = (seconds * sample_rate as f64) as usize;
        // Then everything off, and 1.5 s for the releases to end.
        let len = storm_len + (1.5 * sample_rate) as usize;
        let mut events = storm(seed, storm_len, sample_rate);
        events.push((storm_len, [0xB0, 64, 0]));
        events.push((storm_len, [0xB0, 123, 0]));
        let mut rng = Rng(seed ^ 0x5eed);
        let mut next = 0;
        let blocks = [1, 64, 333, 2048, 17, 4096, 512];
        let (l, r) = render_with(&mut plugin, sample_rate, &blocks, false, len, |pos, n, buffer, _| {
            while next < events.len() && events[next].0 < pos + n {
                let (t, bytes) = events[next];
                buffer.push(&ClapMidiEvent::new((t - pos) as u32, 0, bytes));
                next += 1;
            }
            if (pos..pos + n).contains(&storm_len) {
                // The room off with the notes: what still sounds after that is a voice.
                buffer.push(&ParamValueEvent::new((storm_len - pos) as u32, room, Pckn::match_all(), 0.0));
            }
            if pos < storm_len && rng.below(20) == 0 {
                let (id, max) = params[rng.below(params.len() as u64) as usize];
                let value = if max == 1.0 || max == 2.0 {
                    rng.below(1000) as f64 / 1000.0 * max
                } else {
                    rng.below(max as u64 + 1) as f64
                };
                buffer.push(&ParamValueEvent::new(rng.below(n as u64) as u32, id, Pckn::match_all(), value));
                // Let the loader thread deliver models while the storm goes on.
                std::thread::sleep(std::time::Duration::from_micros(300));
            }
            buffer.sort(); // CLAP wants events in time order
        });
        assert!(l.iter().chain(&r).all(|s| s.is_finite()));
        let peak = l.iter().chain(&r).fold(0.0f32, |m, s| m.max(s.abs()));
        // The engine limits its output to +24 dBFS; output gain adds at most +12 dB; the hall at
        // full wet adds its reflections and tail (their gains sum to under 4).
        assert!(peak <= 4.0 * 64.0, "output peak {peak} beyond the engine's limit, the gain range and the room");
        assert!(l.iter().any(|s| s.abs() > 1e-4), "the storm was silent");
        let last_half_second = len - (0.5 * sample_rate) as usize;
        assert!(
            l[last_half_second..].iter().chain(&r[last_half_second..]).all(|&s| s == 0.0),
            "a voice still sounds 1 s after all notes off (leak)"
        );
        println!(
            "soak {sample_rate} Hz: {seconds} s storm, {} events, peak {peak:.2}, silent after release",
            events.len()
        );
    }
}
