//! The synthesizer's promises: block-size independence, every sample rate, pitch accuracy,
//! full partial count, voice limits, release and legato.

use realfft::RealFftPlanner;
use rosin_core::{MidiEvent, Model, PerformanceSettings, Synth, VoiceMode};
use rosin_testkit::fixture;
use std::sync::Arc;

fn model() -> Arc<Model> {
    Arc::new(fixture::fixed_spectrum_model(32, 64, 64, 3))
}

/// Renders `len` samples with events at absolute sample positions, in blocks of the sizes
/// produced by `block`.
fn render(synth: &mut Synth, len: usize, events: &[(usize, MidiEvent)], block: impl FnMut() -> usize) -> Vec<f32> {
    let events: Vec<(u64, MidiEvent)> = events.iter().map(|&(t, e)| (t as u64, e)).collect();
    rosin_testkit::render_blocks(synth, len, &events, block)
}

fn on(key: u8, vel: u8) -> MidiEvent {
    MidiEvent::NoteOn { key, velocity: vel }
}
fn off(key: u8) -> MidiEvent {
    MidiEvent::NoteOff { key, velocity: 0 }
}
fn cc(cc: u8, value: u8) -> MidiEvent {
    MidiEvent::ControlChange { cc, value }
}

fn busy_passage(sr: usize) -> Vec<(usize, MidiEvent)> {
    let s = |t: f64| (t * sr as f64) as usize;
    let mut ev = vec![
        (s(0.0), cc(1, 40)),
        (s(0.01), on(48, 90)),
        (s(0.013), on(55, 80)),
        (s(0.2), on(13, 100)), // keyswitch: short
        (s(0.21), on(67, 110)),
        (s(0.3), off(67)),
        (s(0.31), on(14, 100)), // tremolo
        (s(0.33), on(72, 70)),
        (s(0.5), MidiEvent::PitchBend { value: 3000 }),
        (s(0.6), cc(64, 127)),
        (s(0.7), off(72)),
        (s(0.9), cc(64, 0)),
        (s(1.0), off(48)),
        (s(1.05), on(15, 100)), // pizzicato
        (s(1.1), on(60, 127)),
        (s(1.4), off(60)),
        (s(1.5), off(55)),
    ];
    for i in 0..100 {
        ev.push((s(0.02 + i as f64 * 0.012), cc(1, (40 + i) as u8)));
        ev.push((s(0.03 + i as f64 * 0.011), cc(11, (127 - i / 2) as u8)));
    }
    ev.sort_by_key(|e| e.0);
    ev
}

#[test]
fn output_is_bit_identical_for_every_block_size() {
    let sr = 48_000;
    let events = busy_passage(sr);
    let len = 2 * sr;
    let reference = render(&mut Synth::new(model(), Default::default(), sr as f32), len, &events, || 512);
    assert!(reference.iter().any(|x| x.abs() > 1e-3), "the passage should make sound");
    for size in [1usize, 7, 64, 8192] {
        let out = render(&mut Synth::new(model(), Default::default(), sr as f32), len, &events, || size);
        assert!(out == reference, "block size {size} changes the output");
    }
    let mut rng = rosin_core::rng::XorShift32::new(99);
    let out = render(&mut Synth::new(model(), Default::default(), sr as f32), len, &events, || {
        1 + (rng.next_u32() % 3000) as usize
    });
    assert!(out == reference, "varying block sizes change the output");
}

/// Frequency of the strongest spectral peak within ±1 semitone of `near`, by a long
/// Hann-windowed FFT with parabolic interpolation on log magnitudes.
fn peak_frequency(x: &[f32], sr: f32, near: f32) -> f32 {
    let n = x.len().next_power_of_two() * 4;
    let mut buf = vec![0.0f32; n];
    for (i, v) in x.iter().enumerate() {
        let w = 0.5 - 0.5 * (std::f32::consts::TAU * i as f32 / x.len() as f32).cos();
        buf[i] = v * w;
    }
    let fft = RealFftPlanner::<f32>::new().plan_fft_forward(n);
    let mut spec = fft.make_output_vec();
    fft.process(&mut buf, &mut spec).unwrap();
    let bin = |f: f32| (f * n as f32 / sr) as usize;
    let (lo, hi) = (bin(near * 0.944), bin(near * 1.06));
    let k = (lo..=hi).max_by(|&a, &b| spec[a].norm().total_cmp(&spec[b].norm())).unwrap();
    let (a, b, c) = (spec[k - 1].norm().ln(), spec[k].norm().ln(), spec[k + 1].norm().ln());
    let delta = 0.5 * (a - c) / (a - 2.0 * b + c);
    (k as f32 + delta) * sr / n as f32
}

fn cents(a: f32, b: f32) -> f32 {
    1200.0 * (a / b).log2()
}

#[test]
fn every_sample_rate_plays_in_tune_including_bend() {
    for sr in [22_050usize, 44_100, 48_000, 96_000, 192_000] {
        for (key, bend) in [(36u8, 0i16), (69, 0), (81, 4096)] {
            let mut synth = Synth::new(model(), Default::default(), sr as f32);
            let events = vec![(0, cc(21, 0)), (0, MidiEvent::PitchBend { value: bend }), (10, on(key, 100))];
            let out = render(&mut synth, sr * 3 / 2, &events, || 1000);
            assert!(out.iter().all(|x| x.is_finite()));
            let expected = 440.0 * 2f32.powf((key as f32 + bend as f32 / 8192.0 * 2.0 - 69.0) / 12.0);
            let f = peak_frequency(&out[sr / 4..], sr as f32, expected);
            let err = cents(f, expected);
            println!("{sr} Hz, key {key}, bend {bend}: {f:.3} Hz, {err:+.3} cents");
            assert!(err.abs() < 3.0, "{sr} Hz key {key} bend {bend}: {err} cents off");
        }
    }
}

#[test]
fn low_notes_get_every_partial_up_to_20_khz_and_nothing_above() {
    let sr = 48_000;
    let mut synth = Synth::new(model(), Default::default(), sr as f32);
    let key = 36; // C2, 65.4 Hz: 305 partials below 20 kHz
    let out = render(&mut synth, sr * 2, &[(0, cc(21, 0)), (0, on(key, 127))], || 512);
    let x = &out[sr / 2..sr / 2 + 32768];
    let n = x.len();
    let mut buf: Vec<f32> = x
        .iter()
        .enumerate()
        .map(|(i, v)| v * (0.5 - 0.5 * (std::f32::consts::TAU * i as f32 / n as f32).cos()))
        .collect();
    let fft = RealFftPlanner::<f32>::new().plan_fft_forward(n);
    let mut spec = fft.make_output_vec();
    fft.process(&mut buf, &mut spec).unwrap();
    let f0 = 440.0 * 2f32.powf((key as f32 - 69.0) / 12.0);
    let hz_per_bin = sr as f32 / n as f32;
    let power_near = |f: f32| {
        let b = (f / hz_per_bin).round() as usize;
        (b - 2..=b + 2).map(|i| spec[i].norm_sqr()).sum::<f32>()
    };
    // Harmonics stand far above the spectrum midway between them, all the way up.
    let mut partials = 0;
    for k in 1..=400 {
        let f = k as f32 * f0;
        if f > rosin_core::formulas::band_limit_hz(sr as f32) {
            break;
        }
        if power_near(f) > 100.0 * power_near(f + 0.5 * f0) {
            partials += 1;
        }
    }
    println!("C2 at 48 kHz: {partials} partials stand 20 dB above the floor between them");
    assert!(partials >= 280, "only {partials} partials");
    // Nothing between 20.5 kHz and Nyquist: no partials above the limit, no aliases.
    let top: f32 = (((20_500.0 / hz_per_bin) as usize)..n / 2).map(|i| spec[i].norm_sqr()).sum();
    let total: f32 = spec.iter().map(|c| c.norm_sqr()).sum();
    println!("energy above 20.5 kHz: {:.1} dB", 10.0 * (top / total).log10());
    assert!(top / total < 1e-7);
}

#[test]
fn polyphony_is_limited_and_every_voice_ends_after_release() {
    let sr = 48_000;
    let settings = PerformanceSettings { max_voices: 64, ..Default::default() };
    let mut synth = Synth::new(model(), settings, sr as f32);
    let mut events: Vec<(usize, MidiEvent)> = (0..100).map(|i| (i * 50, on(24 + (i % 80) as u8, 100))).collect();
    events.extend((0..100).map(|i| (sr / 2 + i, off(24 + (i % 80) as u8))));
    let out = render(&mut synth, sr / 2, &events[..100], || 256);
    assert!(out.iter().all(|x| x.is_finite()));
    assert!(synth.active_voices() <= 64 + 16);
    let sounding = synth.active_voices();
    println!("100 notes on 64 voices: {sounding} voices active");
    let tail =
        render(&mut synth, sr * 2, &events[100..].iter().map(|e| (e.0 - sr / 2, e.1)).collect::<Vec<_>>(), || 256);
    assert_eq!(synth.active_voices(), 0, "voices still active 2 s after all notes ended");
    assert!(tail[tail.len() - 1000..].iter().all(|x| *x == 0.0));
}

#[test]
fn mono_legato_glides_one_voice() {
    let sr = 48_000;
    let settings = PerformanceSettings { voice_mode: VoiceMode::MonoLegato, glide_seconds: 0.05, ..Default::default() };
    let mut synth = Synth::new(model(), settings, sr as f32);
    let events = vec![(0, cc(21, 0)), (0, on(60, 100)), (sr / 2, on(67, 100)), (sr / 2 + 100, off(60))];
    let out = render(&mut synth, sr * 3 / 2, &events, || 128);
    assert_eq!(synth.active_voices(), 1);
    let f = peak_frequency(&out[sr..], sr as f32, 392.0);
    assert!(cents(f, 391.995).abs() < 3.0, "glided to {f} Hz");
}

#[test]
fn dynamic_raises_level_by_the_curve() {
    let sr = 48_000;
    let rms = |cc1: u8| {
        let mut synth = Synth::new(model(), Default::default(), sr as f32);
        let out = render(&mut synth, sr, &[(0, cc(1, cc1)), (0, on(60, 100))], || 512);
        (out[sr / 2..].iter().map(|x| x * x).sum::<f32>() / (sr / 2) as f32).sqrt()
    };
    let db = 20.0 * (rms(127) / rms(0)).log10();
    println!("CC1 0 -> 127: {db:.1} dB");
    assert!((db - 30.0).abs() < 1.0);
}

#[test]
fn note_expressions_tune_and_scale_one_note() {
    use rosin_core::performance::NoteExpression;
    let sr = 48_000;
    let render_with = |exprs: &[NoteExpression]| {
        let mut synth = Synth::new(model(), Default::default(), sr as f32);
        let mut out = vec![0.0; sr];
        synth.process_with_events(&mut out[..10], &[(0, cc(21, 0)), (0, on(69, 100))]);
        for &e in exprs {
            synth.note_expression(69, e);
            synth.note_expression(70, NoteExpression::Tuning(5.0)); // no such note: no effect
        }
        synth.process(&mut out[10..]);
        out
    };
    let plain = render_with(&[]);
    let tuned = render_with(&[NoteExpression::Tuning(0.5)]);
    let f = peak_frequency(&tuned[sr / 4..], sr as f32, 452.9);
    assert!(cents(f, 440.0 * 2f32.powf(0.5 / 12.0)).abs() < 3.0, "tuned to {f} Hz");
    let quiet = render_with(&[NoteExpression::Volume(0.5)]);
    let rms = |x: &[f32]| (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt();
    let db = 20.0 * (rms(&quiet[sr / 2..]) / rms(&plain[sr / 2..])).log10();
    assert!((db + 6.02).abs() < 0.3, "volume 0.5 gave {db} dB");
    let bright = render_with(&[NoteExpression::Brightness(1.0)]);
    assert!(bright != plain, "brightness moves the timbre");
}
