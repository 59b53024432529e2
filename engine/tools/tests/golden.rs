//! Golden renders: hashes of exact output that pin every sample between commits.
//!
//! The relative tests (block sizes, hosts) cannot see a DSP edit that changes every render
//! alike; these can. A hash changes only deliberately: when a change is meant to alter the
//! sound, run `ROSIN_PRINT_GOLDEN=1 cargo test --release --test golden -- --nocapture`, paste
//! the new table, and commit it on its own with the reason.
//!
//! The network has two kernels (AVX2/FMA and portable) that differ in rounding; both are pinned
//! on one machine by forcing the portable one.

use rosin_core::library::Library;
use rosin_core::{MidiEvent, Model, PerformanceSettings, Synth, VoiceMode};
use rosin_testkit::{fixture, hash_samples, render_blocks};
use rosin_tools::render::{self, midi_file, RenderOptions};
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

/// (render name, FNV-1a 64 of its f32 samples).
const GOLDEN: &[(&str, u64)] = &[
    ("fma/fixture-48k", 0x77a4e35240407f33),
    ("fma/fixture-44k1-mono", 0xc4a7bb284cd3a5dc),
    ("fma/violins-48k", 0x000c61ee5a1cd5fb),
    ("fma/violas-48k", 0x9e90dc6186e1e63a),
    ("fma/celli-48k", 0xdee3f121d16d5651),
    ("fma/basses-48k", 0x11f4cd2b922017d5),
    ("fma/celli-96k-mono", 0x3b845a8a7fbac82e),
    ("fma/demo-violins", 0x223baa519ed89acf),
    ("fma/demo-violas", 0xb6de39dd2e1e13c8),
    ("fma/demo-celli", 0x851d8347f3e5ab2f),
    ("fma/demo-basses", 0x0e5f836713700744),
    ("fma/demo-mix", 0xb1ec6786d7a6c923),
    ("fma/demo-hall-mix", 0x97278de70afcf055),
    ("portable/fixture-48k", 0x86d44eef9acd805c),
    ("portable/fixture-44k1-mono", 0xd2b7efbfef69bc65),
    ("portable/violins-48k", 0xd30d2aa2b8e3904f),
    ("portable/violas-48k", 0x1eebfb9b07d64de9),
    ("portable/celli-48k", 0x4af394a1e65d08e5),
    ("portable/basses-48k", 0xf9d5e5b71babc59e),
    ("portable/celli-96k-mono", 0x1bf37d33394d266f),
    ("portable/demo-violins", 0xd9878cc0a3b8339f),
    ("portable/demo-violas", 0x07a141a3d745f69c),
    ("portable/demo-celli", 0x40ef8430f4ab681b),
    ("portable/demo-basses", 0x031d90b3eef67e87),
    ("portable/demo-mix", 0xb8474b3685fdf6a6),
    ("portable/demo-hall-mix", 0x6da263cf793154f9),
];

fn on(key: u8, velocity: u8) -> MidiEvent {
    MidiEvent::NoteOn { key, velocity }
}
fn off(key: u8) -> MidiEvent {
    MidiEvent::NoteOff { key, velocity: 0 }
}
fn cc(cc: u8, value: u8) -> MidiEvent {
    MidiEvent::ControlChange { cc, value }
}

/// Every articulation by keyswitch, a CC1 swell, CC11, vibrato, bend and the pedal: 2.5 s.
fn phrase(sr: u32) -> Vec<(usize, MidiEvent)> {
    let s = |t: f64| (t * sr as f64) as usize;
    let mut ev = vec![
        (s(0.0), cc(1, 30)),
        (s(0.0), cc(21, 90)),
        (s(0.01), on(60, 90)),
        (s(0.02), on(67, 70)),
        (s(0.4), on(13, 100)), // short
        (s(0.41), on(72, 120)),
        (s(0.5), off(72)),
        (s(0.55), on(14, 100)), // tremolo
        (s(0.56), on(64, 80)),
        (s(0.8), MidiEvent::PitchBend { value: -3000 }),
        (s(0.9), cc(64, 127)),
        (s(1.0), off(64)),
        (s(1.2), cc(64, 0)),
        (s(1.25), MidiEvent::PitchBend { value: 0 }),
        (s(1.3), off(60)),
        (s(1.35), on(15, 100)), // pizzicato
        (s(1.4), on(55, 127)),
        (s(1.6), off(55)),
        (s(1.7), off(67)),
        (s(1.8), on(12, 100)), // sustain
        (s(1.81), on(62, 100)),
        (s(2.3), off(62)),
    ];
    for i in 0..60 {
        ev.push((s(0.03 + i as f64 * 0.02), cc(1, (30.0 + 1.5 * i as f64) as u8)));
        ev.push((s(0.04 + i as f64 * 0.02), cc(11, (127 - i / 3) as u8)));
    }
    ev.sort_by_key(|e| e.0);
    ev
}

fn render_phrase(model: Arc<Model>, settings: PerformanceSettings, sr: u32) -> Vec<f32> {
    let events: Vec<(u64, MidiEvent)> = phrase(sr).into_iter().map(|(t, e)| (t as u64, e)).collect();
    let mut synth = Synth::new(model, settings, sr as f32);
    render_blocks(&mut synth, (2.5 * sr as f64) as usize, &events, || 300)
}

fn demo_stems(lib: &Library) -> Vec<(String, Vec<f32>)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../demo/strings-demo.mid");
    let song = midi_file::read_midi_file(&path).expect("demo MIDI");
    let opts = RenderOptions::default();
    let plans = render::plan_tracks(&song, &path, lib, &opts).expect("demo plan");
    let stems = render::render_song(&plans, &song, &opts, &AtomicU64::new(0));
    let mix = render::mix(&stems.iter().map(|s| s.audio.as_slice()).collect::<Vec<_>>());
    // The stereo mix as `rosin render` writes it (before its gain): every track in its seat,
    // in the hall.
    let stereo_mix = render::output::master(&plans, &stems, &opts).mix;
    let mut out: Vec<(String, Vec<f32>)> = stems.into_iter().map(|s| (s.section, s.audio)).collect();
    out.push(("mix".into(), mix));
    out.push(("hall-mix".into(), stereo_mix));
    out
}

/// Every pinned render under both kernels: (name, hash).
fn renders() -> Vec<(String, u64)> {
    let fma = fixture::fixed_spectrum_model(8, 8, 8, 1).net.uses_fma_kernel();
    let mut out = Vec::new();
    for kernel in ["fma", "portable"] {
        if kernel == "fma" && !fma {
            continue; // this machine runs the portable kernel only
        }
        let prepare = |mut m: Model| {
            if kernel == "portable" {
                m.net.use_portable_kernel();
            }
            Arc::new(m)
        };
        let mut lib = Library::default();
        for (name, m) in &Library::embedded().expect("embedded models").models {
            lib.insert(name, prepare(Model::clone(m)));
        }
        let fixture = prepare(fixture::fixed_spectrum_model(16, 32, 32, 5));
        let poly = PerformanceSettings::default();
        let mono = PerformanceSettings { voice_mode: VoiceMode::MonoLegato, ..Default::default() };
        let mut add = |name: String, audio: &[f32]| out.push((format!("{kernel}/{name}"), hash_samples(audio)));
        add("fixture-48k".into(), &render_phrase(fixture.clone(), poly.clone(), 48_000));
        add("fixture-44k1-mono".into(), &render_phrase(fixture, mono.clone(), 44_100));
        for section in ["violins", "violas", "celli", "basses"] {
            let m = lib.get(section).expect("section").clone();
            add(format!("{section}-48k"), &render_phrase(m, poly.clone(), 48_000));
        }
        add("celli-96k-mono".into(), &render_phrase(lib.get("celli").unwrap().clone(), mono.clone(), 96_000));
        for (name, audio) in demo_stems(&lib) {
            add(format!("demo-{name}"), &audio);
        }
    }
    out
}

#[test]
fn renders_match_their_golden_hashes() {
    let got = renders();
    if std::env::var_os("ROSIN_PRINT_GOLDEN").is_some() {
        println!("const GOLDEN: &[(&str, u64)] = &[");
        for (name, h) in &got {
            println!("    ({name:?}, 0x{h:016x}),");
        }
        println!("];");
    }
    let mut wrong = Vec::new();
    for (name, h) in &got {
        match GOLDEN.iter().find(|(n, _)| n == name) {
            Some((_, g)) if g == h => {}
            Some((_, g)) => wrong.push(format!("{name}: 0x{h:016x}, golden 0x{g:016x}")),
            None => wrong.push(format!("{name}: 0x{h:016x}, no golden hash")),
        }
    }
    assert!(
        wrong.is_empty(),
        "renders differ from their golden hashes (if the change is meant to alter the sound, \
         see this file's header):\n{}",
        wrong.join("\n")
    );
}
