//! Takes: every note is a new take of the model's sampled fluctuation, yet renders repeat
//! exactly for the same seed, whatever the blocks; Variation 0 is the averaged note.

use rosin_core::{MidiEvent, Model, PerformanceSettings, Synth};
use rosin_testkit::{fixture, render_blocks, XorShift64};
use std::sync::Arc;

const SR: f32 = 48_000.0;
/// One note: on at 0, off at 0.4 s, then 0.6 s of release (at the default 0.35 s release).
const NOTE: usize = 48_000;

fn averaged() -> Arc<Model> {
    Arc::new(fixture::fixed_spectrum_model(16, 16, 16, 5))
}

fn alive() -> Arc<Model> {
    Arc::new(fixture::with_test_fluctuation(fixture::fixed_spectrum_model(16, 16, 16, 5)))
}

/// The same note (key 64) `times` times in a row, each in its own second.
fn repeated(times: usize) -> Vec<(u64, MidiEvent)> {
    (0..times)
        .flat_map(|i| {
            let at = (i * NOTE) as u64;
            [
                (at, MidiEvent::NoteOn { key: 64, velocity: 100 }),
                (at + (0.4 * SR) as u64, MidiEvent::NoteOff { key: 64, velocity: 0 }),
            ]
        })
        .collect()
}

fn render(model: &Arc<Model>, settings: PerformanceSettings, events: &[(u64, MidiEvent)], block: usize) -> Vec<f32> {
    let mut synth = Synth::new(model.clone(), settings, SR);
    render_blocks(&mut synth, 3 * NOTE, events, || block)
}

/// Mean |level difference| in dB of 10 ms RMS windows over the note's first 0.4 s: how far two
/// takes' envelopes differ (waveforms also differ by the vibrato's per-note phase).
fn envelope_db_distance(a: &[f32], b: &[f32]) -> f32 {
    let w = (0.01 * SR) as usize;
    let db = |x: &[f32]| 10.0 * (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).max(1e-20).log10();
    let n = (0.4 * SR) as usize / w;
    (1..n).map(|i| (db(&a[i * w..(i + 1) * w]) - db(&b[i * w..(i + 1) * w])).abs()).sum::<f32>() / (n - 1) as f32
}

fn distance(a: &[f32], b: &[f32]) -> f32 {
    let d: f32 = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum();
    let e: f32 = a.iter().map(|x| x * x).sum();
    (d / e.max(1e-30)).sqrt()
}

#[test]
fn repetitions_are_new_takes() {
    let out = render(&alive(), PerformanceSettings::default(), &repeated(3), 512);
    let (one, two, three) = (&out[..NOTE], &out[NOTE..2 * NOTE], &out[2 * NOTE..]);
    let (d12, d23) = (envelope_db_distance(one, two), envelope_db_distance(two, three));
    assert!(d12 > 0.3 && d23 > 0.3, "takes' envelopes differ by {d12} and {d23} dB");
    // The averaged model's repetitions have the same envelope, which is what takes are for.
    let flat = render(&averaged(), PerformanceSettings::default(), &repeated(3), 512);
    let flat_d = envelope_db_distance(&flat[NOTE..2 * NOTE], &flat[2 * NOTE..]);
    assert!(flat_d < 0.1 * d23, "averaged repetitions' envelopes differ by {flat_d} dB, takes by {d23}");
}

#[test]
fn the_same_seed_renders_the_same_samples_whatever_the_blocks() {
    let model = alive();
    let events = repeated(3);
    let settings = PerformanceSettings { seed: 42, ..Default::default() };
    let reference = render(&model, settings.clone(), &events, 512);
    for block in [1, 37, 4096] {
        assert!(render(&model, settings.clone(), &events, block) == reference, "block size {block}");
    }
    // Random block sizes too.
    let mut rng = XorShift64::new(9);
    let mut synth = Synth::new(model.clone(), settings.clone(), SR);
    let varied = render_blocks(&mut synth, 3 * NOTE, &events, || 1 + rng.below(700));
    assert!(varied == reference);
    // Another seed, other takes.
    let other = render(&model, PerformanceSettings { seed: 43, ..Default::default() }, &events, 512);
    assert!(distance(&reference, &other) > 0.05);
}

#[test]
fn variation_zero_is_the_averaged_note_and_the_cc_sets_it() {
    let events = repeated(2);
    let still = PerformanceSettings { variation: 0.0, ..Default::default() };
    let averaged_out = render(&averaged(), still.clone(), &events, 512);
    assert!(render(&alive(), still, &events, 512) == averaged_out);

    // Variation CC (22) at 0 does the same from the first note on.
    let mut with_cc = vec![(0, MidiEvent::ControlChange { cc: 22, value: 0 })];
    with_cc.extend(repeated(2));
    let by_cc = render(&alive(), PerformanceSettings::default(), &with_cc, 512);
    assert!(by_cc == averaged_out);

    // More variation moves further from the averaged note.
    let dist = |v: f32| {
        let out = render(&alive(), PerformanceSettings { variation: v, ..Default::default() }, &events, 512);
        distance(&averaged_out, &out)
    };
    let (half, full, double) = (dist(0.5), dist(1.0), dist(2.0));
    assert!(half > 0.0 && half < full && full < double, "{half} {full} {double}");
}

#[test]
fn a_reset_engine_plays_the_same_takes_again() {
    let model = alive();
    let events = repeated(2);
    let mut synth = Synth::new(model.clone(), PerformanceSettings { seed: 7, ..Default::default() }, SR);
    let first = render_blocks(&mut synth, 3 * NOTE, &events, || 256);
    synth.reset();
    let again = render_blocks(&mut synth, 3 * NOTE, &events, || 256);
    assert!(first == again);
}

#[test]
fn a_model_file_keeps_its_fluctuation() {
    let model = alive();
    let dir = std::env::temp_dir().join(format!("rosin-takes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("alive.safetensors");
    model.save(&path).unwrap();
    let loaded = Model::load(&path).unwrap();
    assert_eq!(loaded.fluctuation, model.fluctuation);
    assert_eq!(loaded.card.fluctuation, model.card.fluctuation);
    // A file claiming a fluctuation part it does not hold names the missing tensor.
    let mut card = model.card.clone();
    card.fluctuation = Some(rosin_core::model::FluctuationShape { components: 3, order: 2 });
    let mut bytes_model = (*averaged()).clone();
    bytes_model.card = card;
    let err = Model::from_bytes(&bytes_model.to_bytes(), &path).unwrap_err().to_string();
    assert!(err.contains("fluctuation.basis") && err.contains("alive.safetensors"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}
