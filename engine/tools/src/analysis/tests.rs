//! Tests on generated signals with known answers. Measured errors are printed
//! (`cargo test -- --nocapture`) so the margins are visible, not just pass/fail.

use super::*;

const DB_PER_NEPER: f64 = 8.685_889_638;

/// Deterministic noise for tests.
struct Rng(rosin_core::rng::XorShift64Star);

impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0.unit_f64()
    }

    fn gauss(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

fn limit_hz(fs: u32) -> f64 {
    rosin_core::formulas::band_limit_hz_f64(fs as f64)
}

/// Harmonic tone with instantaneous f0 `f(t)` (Hz), partial peak amplitudes `amp(k)` for all
/// partials below min(20 kHz, 0.45 fs) of the *nominal* `f_nom`, random fixed phases.
/// One period is built exactly by an inverse FFT and read with linear interpolation (2^16 points
/// per period: partial errors < 0.001 dB, spurious components < −120 dB), so tests stay fast in
/// unoptimised builds while the signal is exactly periodic in its phase.
fn tone(fs: u32, secs: f64, f_nom: f64, f: &dyn Fn(f64) -> f64, amp: &dyn Fn(usize) -> f64, seed: u64) -> Vec<f32> {
    const TABLE: usize = 1 << 16;
    let n = (secs * fs as f64) as usize;
    let partials = ((limit_hz(fs) / f_nom).ceil() as usize - 1).max(1);
    let mut rng = Rng(rosin_core::rng::XorShift64Star::new(seed));
    let ifft = realfft::RealFftPlanner::<f64>::new().plan_fft_inverse(TABLE);
    let mut spectrum = ifft.make_input_vec();
    for (k, bin) in spectrum.iter_mut().enumerate().take(partials.min(TABLE / 2 - 1) + 1).skip(1) {
        // a sin(θ + p) = Re(a e^{i(p − π/2)} e^{iθ}); the inverse FFT adds the conjugate half.
        let ph = rng.uniform() * std::f64::consts::TAU - std::f64::consts::FRAC_PI_2;
        *bin = realfft::num_complex::Complex::from_polar(0.5 * amp(k), ph);
    }
    let mut table = ifft.make_output_vec();
    ifft.process(&mut spectrum, &mut table).expect("inverse FFT");
    table.push(table[0]);
    let mut phi = 0.0f64; // cycles
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let pos = phi * TABLE as f64;
        let j = (pos as usize).min(TABLE - 1);
        let frac = pos - j as f64;
        out.push((table[j] + frac * (table[j + 1] - table[j])) as f32);
        phi += f(i as f64 / fs as f64) / fs as f64;
        phi -= phi.floor();
    }
    out
}

fn add_noise(x: &mut [f32], sigma: f64, seed: u64) {
    let mut rng = Rng(rosin_core::rng::XorShift64Star::new(seed));
    for v in x.iter_mut() {
        *v += (sigma * rng.gauss()) as f32;
    }
}

/// Frames whose analysis windows lie entirely inside a signal of `len` samples.
fn steady_frames(len: usize, fs: u32, f_exp: f32) -> std::ops::Range<usize> {
    let reach = (4.0 * fs as f64 / f_exp as f64) as usize; // 3 periods + half a period + margin
    let first = (reach * 250).div_ceil(fs as usize);
    let last = ((len.saturating_sub(reach)) * 250) / fs as usize;
    first..last.max(first)
}

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

#[test]
fn frame_count_and_centres() {
    assert_eq!(frame_count(0, 44_100), 0);
    assert_eq!(frame_count(1, 44_100), 1);
    assert_eq!(frame_count(44_100, 44_100), 250);
    assert_eq!(frame_count(44_101, 44_100), 251);
    assert_eq!(frame_count(100, 0), 0);
    assert_eq!(frame_centre(0, 44_100), 0);
    assert_eq!(frame_centre(1, 44_100), 176); // 176.4
    assert_eq!(frame_centre(3, 44_100), 529); // 529.2
    assert_eq!(frame_centre(5, 44_100), 882);
    assert_eq!(frame_centre(1, 22_050), 88); // 88.2
    assert_eq!(frame_centre(1, 48_000), 192);
}

#[test]
fn f0_of_pure_and_rich_tones() {
    let mut worst = 0.0f32;
    for fs in [44_100u32, 48_000] {
        for f in [41.0f64, 65.4, 440.0, 2000.0] {
            for rich in [false, true] {
                // Label 20 cents off the true pitch: the search must not depend on an exact label.
                let f_exp = (f * 2f64.powf(20.0 / 1200.0)) as f32;
                let amp = |k: usize| {
                    if rich {
                        0.5 / k as f64
                    } else if k == 1 {
                        0.5
                    } else {
                        0.0
                    }
                };
                let x = tone(fs, 0.8, f, &|_| f, &amp, 7);
                let (f0, per) = estimate_f0(&x, fs, f_exp);
                let steady = steady_frames(x.len(), fs, f_exp);
                let voiced = f0[steady.clone()].iter().filter(|&&v| v > 0.0).count();
                assert_eq!(voiced, steady.len(), "all steady frames voiced at {f} Hz");
                let med = median_abs_cents(&f0[steady.clone()], f as f32).unwrap();
                let max = f0[steady.clone()]
                    .iter()
                    .map(|&v| (1200.0 * (v as f64 / f).log2()).abs() as f32)
                    .fold(0.0, f32::max);
                let pmin = per[steady.clone()].iter().cloned().fold(1.0, f32::min);
                eprintln!(
                    "f0 {fs} Hz {f:7.1} Hz {}: median {med:.5} c, max {max:.5} c, min periodicity {pmin:.4}",
                    if rich { "rich" } else { "pure" }
                );
                assert!(med < 0.5, "median error {med} cents at {f} Hz");
                assert!(pmin > 0.9);
                worst = worst.max(med);
            }
        }
    }
    eprintln!("worst median f0 error {worst:.4} cents");
}

#[test]
fn f0_tracks_vibrato() {
    let fs = 44_100;
    for f in [110.0f64, 440.0] {
        let depth = 30.0 / 1200.0;
        let freq = move |t: f64| f * 2f64.powf(depth * (std::f64::consts::TAU * 6.0 * t).sin());
        let x = tone(fs, 2.0, f, &freq, &|k| 0.5 / k as f64, 3);
        let (f0, _) = estimate_f0(&x, fs, f as f32);
        let steady = steady_frames(x.len(), fs, f as f32);
        let mut max_err = 0.0f64;
        for i in steady {
            assert!(f0[i] > 0.0);
            let t = frame_centre(i, fs) as f64 / fs as f64;
            let err = (1200.0 * (f0[i] as f64 / freq(t)).log2()).abs();
            max_err = max_err.max(err);
        }
        eprintln!("vibrato 6 Hz ±30 c at {f} Hz: max error {max_err:.3} cents");
        assert!(max_err < 3.0, "vibrato max error {max_err} cents at {f} Hz");
    }
}

#[test]
fn silence_and_noise_are_unvoiced() {
    let fs = 44_100;
    let x = vec![0.0f32; fs as usize / 2];
    let (f0, per) = estimate_f0(&x, fs, 220.0);
    assert!(f0.iter().all(|&v| v == 0.0));
    assert!(per.iter().all(|&v| v == 0.0));
    let feats = analyse_note(&x, fs, 220.0);
    assert!(feats.rms.iter().all(|&v| v == 0.0));
    assert!(feats.harmonic.iter().all(|&v| v == HARMONIC_FLOOR));
    assert!(feats.noise.iter().all(|&v| v == NOISE_FLOOR));

    let mut x = vec![0.0f32; fs as usize];
    add_noise(&mut x, 0.1, 11);
    let (f0, per) = estimate_f0(&x, fs, 220.0);
    let voiced = f0.iter().filter(|&&v| v > 0.0).count();
    let mut p: Vec<f64> = per.iter().map(|&v| v as f64).collect();
    let med = median(&mut p);
    eprintln!("white noise: {voiced}/{} frames voiced, median periodicity {med:.3}", f0.len());
    assert!(voiced * 20 < f0.len());
    assert!(med < 0.2);
}

/// Max |error| (dB) of partial amplitudes read back through the band layout, over steady frames,
/// for partials whose true amplitude passes `keep`.
fn harmonic_readback_error(
    feats: &NoteFeatures,
    fs: u32,
    f: f64,
    amp: &dyn Fn(usize) -> f64,
    frames: std::ops::Range<usize>,
    keep: &dyn Fn(usize) -> bool,
) -> (f64, f64) {
    let layout = BandLayout::HARMONIC_V1;
    let partials = (limit_hz(fs) / f).ceil() as usize;
    let mut max_err = 0.0f64;
    let mut errs = Vec::new();
    for i in frames {
        let h = feats.harmonic_frame(i);
        let f_frame = if feats.f0_hz[i] > 0.0 { feats.f0_hz[i] as f64 } else { f };
        for k in 1..=partials {
            if !keep(k) || k as f64 * f_frame >= limit_hz(fs) {
                continue;
            }
            let got = layout.interpolate(h, (k as f64 * f_frame) as f32) as f64;
            let err = (got - amp(k).ln()) * DB_PER_NEPER;
            max_err = max_err.max(err.abs());
            errs.push(err);
        }
    }
    (max_err, median(&mut errs))
}

#[test]
fn harmonic_envelope_of_one_over_k_spectra() {
    for (fs, f) in [(44_100u32, 110.0f64), (44_100, 65.4), (48_000, 65.4), (48_000, 1000.0)] {
        let amp = |k: usize| 0.5 / k as f64;
        let x = tone(fs, 1.0, f, &|_| f, &amp, 5);
        let feats = analyse_note(&x, fs, f as f32);
        let steady = steady_frames(x.len(), fs, f as f32);
        let (max_err, med) = harmonic_readback_error(&feats, fs, f, &amp, steady, &|_| true);
        eprintln!("1/k at {f} Hz, fs {fs}: partial read-back max |error| {max_err:.3} dB, median {med:.4} dB");
        assert!(max_err < 0.5, "harmonic error {max_err} dB at {f} Hz");
    }
}

#[test]
fn harmonic_envelope_of_a_formant_spectrum() {
    // Amplitudes that are not a power law: a resonance at 3 kHz over a 1/k slope.
    let fs = 44_100;
    let f = 196.0;
    let amp = move |k: usize| {
        let fk = k as f64 * f;
        0.3 / k as f64 * (1.0 + 4.0 * (-((fk / 3000.0).ln() / 0.3).powi(2)).exp())
    };
    let x = tone(fs, 1.0, f, &|_| f, &amp, 9);
    let feats = analyse_note(&x, fs, f as f32);
    let steady = steady_frames(x.len(), fs, f as f32);
    let (max_err, med) = harmonic_readback_error(&feats, fs, f, &amp, steady, &|_| true);
    eprintln!("formant at {f} Hz: read-back max |error| {max_err:.3} dB, median {med:.4} dB");
    assert!(max_err < 1.0);
}

#[test]
fn harmonic_envelope_with_a_weak_fundamental() {
    // Low strings: the fundamental is far weaker than the next partials.
    let fs = 44_100;
    for f in [41.2f64, 98.0] {
        let amp = |k: usize| match k {
            1 => 0.01,
            2 => 0.1,
            _ => 0.2 / k as f64,
        };
        let x = tone(fs, 1.0, f, &|_| f, &amp, 19);
        let feats = analyse_note(&x, fs, f as f32);
        let steady = steady_frames(x.len(), fs, f as f32);
        let (max_err, med) = harmonic_readback_error(&feats, fs, f, &amp, steady, &|_| true);
        eprintln!("weak fundamental at {f} Hz: read-back max |error| {max_err:.3} dB, median {med:+.4} dB");
        assert!(max_err < 0.5);
    }
}

/// (median, 10th, 90th percentile) of N_b − ½ ln S in dB over all bands and the given frames.
fn noise_error_db(feats: &NoteFeatures, psd: f64, frames: std::ops::Range<usize>) -> (f64, f64, f64) {
    let truth = 0.5 * psd.ln();
    let mut errs: Vec<f64> =
        frames.flat_map(|i| feats.noise_frame(i).iter().map(move |&n| (n as f64 - truth) * DB_PER_NEPER)).collect();
    errs.sort_by(|a, b| a.total_cmp(b));
    let q = |p: f64| errs[((errs.len() - 1) as f64 * p) as usize];
    (q(0.5), q(0.1), q(0.9))
}

#[test]
fn white_noise_psd() {
    for (fs, f_exp, secs) in [(44_100u32, 65.4f32, 4), (44_100, 440.0, 2), (48_000, 98.0, 3)] {
        {
            let sigma = 0.05;
            let mut x = vec![0.0f32; secs * fs as usize];
            add_noise(&mut x, sigma, 21);
            let feats = analyse_note(&x, fs, f_exp);
            let psd = 2.0 * sigma * sigma / fs as f64;
            let steady = steady_frames(x.len(), fs, f_exp);
            let (med, p10, p90) = noise_error_db(&feats, psd, steady.clone());
            // Per-band mean over frames (the log-domain bias a model trained on N_b would learn):
            // is any band biased?
            let nc = BandLayout::NOISE_V1.count;
            let mut worst_band = 0.0f64;
            for b in 0..nc {
                let e: Vec<f64> =
                    steady.clone().map(|i| (feats.noise_frame(i)[b] as f64 - 0.5 * psd.ln()) * DB_PER_NEPER).collect();
                let mean = e.iter().sum::<f64>() / e.len() as f64;
                if BandLayout::NOISE_V1.centre(b) < rosin_core::formulas::band_limit_hz(fs as f32) {
                    worst_band = worst_band.max(mean.abs());
                }
            }
            let mut rms_err: Vec<f64> =
                steady.clone().map(|i| (feats.rms[i] as f64 / sigma).log10().abs() * 20.0).collect();
            let rms_med = median(&mut rms_err);
            eprintln!(
                "white noise fs {fs} f_exp {f_exp}: N error median {med:+.3} dB (p10 {p10:+.2}, p90 {p90:+.2}), worst band mean {worst_band:.2} dB, rms err {rms_med:.3} dB"
            );
            assert!(med.abs() < 1.5);
            assert!(worst_band < 1.5);
            assert!(rms_med < 0.5);
        }
    }
}

#[test]
fn tone_plus_noise() {
    let fs = 44_100;
    for (f, sigma) in [(220.0f64, 1e-3), (220.0, 1e-2), (65.4, 3e-3)] {
        let amp = |k: usize| 0.3 / k as f64;
        let mut x = tone(fs, 1.0, f, &|_| f, &amp, 13);
        add_noise(&mut x, sigma, 17);
        let feats = analyse_note(&x, fs, f as f32);
        let psd = 2.0 * sigma * sigma / fs as f64;
        let steady = steady_frames(x.len(), fs, f as f32);
        let (nmed, p10, p90) = noise_error_db(&feats, psd, steady.clone());
        // "Well above the noise floor": partial power ≥ 30 dB over the noise power in its cell
        // (±f0/2). At 20 dB the partial's interference with the noise alone moves single-frame
        // amplitudes by up to ~±0.8 dB, whatever the estimator.
        let snr = |k: usize| amp(k).powi(2) / 2.0 / (psd * f);
        let keep = |k: usize| snr(k) > 1000.0;
        let (hmax, hmed) = harmonic_readback_error(&feats, fs, f, &amp, steady.clone(), &keep);
        let kept = (1..).take_while(|&k| (k as f64) * f < limit_hz(fs)).filter(|&k| keep(k)).count();
        let keep20 = |k: usize| snr(k) > 100.0 && snr(k) <= 1000.0;
        let (hmax20, hmed20) = harmonic_readback_error(&feats, fs, f, &amp, steady.clone(), &keep20);
        eprintln!(
            "tone {f} Hz + noise σ={sigma}: N error median {nmed:+.3} dB (p10 {p10:+.2}, p90 {p90:+.2}); {kept} partials ≥30 dB over noise: max |err| {hmax:.3} dB, median {hmed:+.4} dB; 20-30 dB: max {hmax20:.3}, median {hmed20:+.4}"
        );
        assert!(nmed.abs() < 1.5, "noise error {nmed} dB");
        assert!(hmax < 0.5, "harmonic error {hmax} dB");
        assert!(feats.f0_hz[steady.clone()].iter().all(|&v| v > 0.0));
    }
}

#[test]
fn resynthesis_energy_is_consistent() {
    // Harmonic energy Σ a_k²/2 (read back through the bands) plus noise energy ∫S df should equal
    // the measured mean square: nothing is counted twice or lost.
    let fs = 44_100;
    let f = 147.0;
    let amp = |k: usize| 0.2 / (k as f64).powf(1.3);
    let mut x = tone(fs, 1.0, f, &|_| f, &amp, 31);
    add_noise(&mut x, 0.01, 37);
    let feats = analyse_note(&x, fs, f as f32);
    let steady = steady_frames(x.len(), fs, f as f32);
    let (h, n) = (BandLayout::HARMONIC_V1, BandLayout::NOISE_V1);
    let mut errs = Vec::new();
    for i in steady {
        let f0 = feats.f0_hz[i] as f64;
        let mut e_h = 0.0;
        let mut k = 1;
        while (k as f64) * f0 < limit_hz(fs) {
            e_h += 0.5 * (2.0 * h.interpolate(feats.harmonic_frame(i), (k as f64 * f0) as f32) as f64).exp();
            k += 1;
        }
        let mut e_n = 0.0;
        let df = 5.0;
        let mut fr = df / 2.0;
        while fr < fs as f64 / 2.0 {
            e_n += (2.0 * n.interpolate(feats.noise_frame(i), fr as f32) as f64).exp() * df;
            fr += df;
        }
        let ms = (feats.rms[i] as f64).powi(2);
        errs.push(10.0 * ((e_h + e_n) / ms).log10());
    }
    let med = median(&mut errs);
    eprintln!("energy: (harmonic + noise) / measured = {med:+.3} dB (median over frames)");
    assert!(med.abs() < 0.5);
}

#[test]
fn edge_cases_do_not_panic() {
    let fs = 44_100;
    let empty = analyse_note(&[], fs, 440.0);
    assert_eq!(empty.frames, 0);
    assert!(empty.f0_hz.is_empty() && empty.harmonic.is_empty() && empty.noise.is_empty());
    assert_eq!(estimate_f0(&[], fs, 440.0).0.len(), 0);

    let short: Vec<f32> = (0..10).map(|i| (i as f32 * 0.3).sin()).collect();
    let f = analyse_note(&short, fs, 440.0);
    assert_eq!(f.frames, 1);
    assert_eq!(f.harmonic.len(), BandLayout::HARMONIC_V1.count);
    assert_eq!(f.noise.len(), BandLayout::NOISE_V1.count);
    assert!(f.harmonic.iter().chain(&f.noise).chain(&f.rms).all(|v| v.is_finite()));

    // NaN / inf input analyses as silence: floors, f0 = 0.
    let nan = vec![f32::NAN; 5000];
    let f = analyse_note(&nan, fs, 440.0);
    assert!(f.f0_hz.iter().all(|&v| v == 0.0));
    assert!(f.harmonic.iter().all(|&v| v == HARMONIC_FLOOR));
    assert!(f.noise.iter().all(|&v| v == NOISE_FLOOR));
    let mut mixed = tone(fs, 0.3, 440.0, &|_| 440.0, &|k| 0.5 / k as f64, 1);
    mixed[1000] = f32::INFINITY;
    mixed[2000] = f32::NAN;
    let f = analyse_note(&mixed, fs, 440.0);
    assert!(f.harmonic.iter().chain(&f.noise).chain(&f.rms).chain(&f.f0_hz).all(|v| v.is_finite()));

    // Nonsense parameters.
    assert_eq!(analyse_note(&short, 0, 440.0).frames, 0);
    for bad in [f32::NAN, 0.0, -5.0, 1e9, f32::INFINITY] {
        let f = analyse_note(&mixed, fs, bad);
        assert!(f.harmonic.iter().chain(&f.noise).all(|v| v.is_finite()));
    }
    let f = analyse_note(&mixed, 8_000, 440.0);
    assert!(f.harmonic.iter().chain(&f.noise).all(|v| v.is_finite()));
    // Full-scale square-ish clipping input.
    let loud: Vec<f32> = mixed.iter().map(|v| if v.is_finite() { v.signum() } else { 0.0 }).collect();
    let f = analyse_note(&loud, fs, 440.0);
    assert!(f.harmonic.iter().chain(&f.noise).all(|v| v.is_finite()));
}

#[test]
fn median_abs_cents_reports_voiced_frames_only() {
    assert_eq!(median_abs_cents(&[], 440.0), None);
    assert_eq!(median_abs_cents(&[0.0, 0.0], 440.0), None);
    assert_eq!(median_abs_cents(&[440.0], f32::NAN), None);
    let up = 440.0 * 2f32.powf(10.0 / 1200.0);
    let m = median_abs_cents(&[0.0, up, 440.0, up, f32::NAN], 440.0).unwrap();
    assert!((m - 10.0).abs() < 1e-2);
}

/// Release-mode timing of a 20 s note: `cargo test --release -- --ignored --nocapture timing`.
#[test]
#[ignore]
fn timing_of_a_twenty_second_note() {
    for fs in [44_100u32, 48_000] {
        for f in [41.2f64, 65.4, 110.0, 440.0, 2000.0] {
            let mut x = tone(fs, 20.0, f, &|_| f, &|k| 0.3 / k as f64, 1);
            add_noise(&mut x, 1e-3, 2);
            let t = std::time::Instant::now();
            let feats = analyse_note(&x, fs, f as f32);
            let dt = t.elapsed().as_secs_f64();
            let t2 = std::time::Instant::now();
            let _ = estimate_f0(&x, fs, f as f32);
            let dt2 = t2.elapsed().as_secs_f64();
            eprintln!(
                "20 s at {fs} Hz, f0 {f:6.1} Hz: analyse_note {dt:.3} s ({} frames), estimate_f0 {dt2:.3} s",
                feats.frames
            );
        }
    }
}

#[test]
fn vibrato_and_glide_tone_plus_noise() {
    // Partials that glide between the two windows of a frame would not cancel in the noise comb
    // (before time warping, ±30 cents of vibrato at 110 Hz read the noise 16 dB too high).
    let fs = 44_100;
    let depth = 30.0 / 1200.0;
    let vibrato_110 = move |t: f64| 110.0 * 2f64.powf(depth * (std::f64::consts::TAU * 6.0 * t).sin());
    let vibrato_440 = move |t: f64| 440.0 * 2f64.powf(depth * (std::f64::consts::TAU * 6.0 * t).sin());
    // A one-semitone portamento up and back down over the note.
    let glide_220 = move |t: f64| 220.0 * 2f64.powf((std::f64::consts::PI * t).sin() / 12.0);
    type Case<'a> = (&'a str, f64, &'a dyn Fn(f64) -> f64);
    let cases: [Case; 3] =
        [("vibrato", 110.0, &vibrato_110), ("vibrato", 440.0, &vibrato_440), ("glide", 220.0, &glide_220)];
    for (name, f, freq) in cases {
        let sigma = 3e-3;
        let amp = |k: usize| 0.3 / k as f64;
        let mut x = tone(fs, 2.0, f, freq, &amp, 41);
        add_noise(&mut x, sigma, 43);
        let expected = if name == "glide" { f * 2f64.powf(0.5 / 12.0) } else { f };
        let feats = analyse_note(&x, fs, expected as f32);
        let psd = 2.0 * sigma * sigma / fs as f64;
        let steady = steady_frames(x.len(), fs, f as f32);
        let (nmed, p10, p90) = noise_error_db(&feats, psd, steady.clone());
        let keep = |k: usize| amp(k).powi(2) / 2.0 / (psd * f) > 1000.0;
        let kept = (1..).take_while(|&k| (k as f64) * f < limit_hz(fs)).filter(|&k| keep(k)).count();
        let (hmax, hmed) = harmonic_readback_error(&feats, fs, f, &amp, steady.clone(), &keep);
        let mut max_cents = 0.0f64;
        for i in steady {
            let t = frame_centre(i, fs) as f64 / fs as f64;
            max_cents = max_cents.max((1200.0 * (feats.f0_hz[i] as f64 / freq(t)).log2()).abs());
        }
        eprintln!(
            "{name} tone {f} Hz + noise σ={sigma}: f0 max error {max_cents:.3} c; N error median {nmed:+.3} dB (p10 {p10:+.2}, p90 {p90:+.2}); {kept} partials ≥30 dB over noise: max |err| {hmax:.3} dB, median {hmed:+.4} dB"
        );
        assert!(nmed.abs() < 1.5);
        assert!(hmax < 1.0);
        assert!(max_cents < 3.0);
    }
}

/// Harmonic tone at an exactly constant `f` (Hz) with what the synthesizer puts on its partials:
/// up to 20 partials of peak amplitude 0.3/k with fixed random phases, each multiplied by an
/// exponential decay (τ from 0.5 s for the fundamental down to 0.1 s for partial 20) and by a
/// per-frame random gain (uniform within ±`jitter_db`) linearly interpolated per sample between
/// frame centres (250 frames/s), like the network's frame-to-frame jitter. `common`: one gain
/// sequence for all partials, else one per partial. Returns the signal and the harmonic power
/// `Σ a_k²/2` at each frame centre.
fn am_tone(fs: u32, secs: f64, f: f64, jitter_db: f64, common: bool, seed: u64) -> (Vec<f32>, Vec<f64>) {
    let n = (secs * fs as f64) as usize;
    let partials = (((limit_hz(fs) / f).ceil() as usize).saturating_sub(1)).clamp(1, 20);
    let frames = frame_count(n, fs) + 2;
    let mut rng = Rng(rosin_core::rng::XorShift64Star::new(seed));
    let phases: Vec<f64> = (0..partials).map(|_| rng.uniform()).collect();
    let gain_rows = if common { 1 } else { partials };
    let gains: Vec<Vec<f64>> = (0..gain_rows)
        .map(|_| (0..frames).map(|_| 10f64.powf(jitter_db * (2.0 * rng.uniform() - 1.0) / 20.0)).collect())
        .collect();
    let tau = |k: usize| 0.5 / (1.0 + 4.0 * (k - 1) as f64 / 19.0);
    let amp_at = |k: usize, j: usize, frame: usize, frac: f64, t: f64| {
        let g = &gains[if common { 0 } else { j }];
        let gain = g[frame] + frac * (g[frame + 1] - g[frame]);
        0.3 / k as f64 * (-t / tau(k)).exp() * gain
    };
    let mut x = vec![0.0f32; n];
    let mut frame = 0;
    for (s, v) in x.iter_mut().enumerate() {
        while frame_centre(frame + 1, fs) <= s as i64 {
            frame += 1;
        }
        let (c0, c1) = (frame_centre(frame, fs), frame_centre(frame + 1, fs));
        let frac = (s as i64 - c0) as f64 / (c1 - c0) as f64;
        let t = s as f64 / fs as f64;
        let mut acc = 0.0;
        for (j, &p) in phases.iter().enumerate() {
            let k = j + 1;
            let cycles = (k as f64 * f * s as f64 / fs as f64 + p).fract();
            acc += amp_at(k, j, frame, frac, t) * (std::f64::consts::TAU * cycles).sin();
        }
        *v = acc as f32;
    }
    let power = (0..frame_count(n, fs))
        .map(|i| {
            let t = frame_centre(i, fs) as f64 / fs as f64;
            (0..partials).map(|j| 0.5 * amp_at(j + 1, j, i, 0.0, t).powi(2)).sum()
        })
        .collect();
    (x, power)
}

#[test]
fn f0_under_synth_amplitude_jitter() {
    // The synth interpolates network frames (±0.5–1 dB jitter) linearly, so each partial carries
    // a piecewise-linear AM whose slope changes every 4 ms; the pitch must not follow it. Below
    // ~100 Hz the jitter's ~125 Hz bandwidth reaches the neighbouring partials and the negative-
    // frequency image, which no reading of a 6-period window separates: there ~0.7 c is the floor
    // (see f0.rs). Without jitter (pure decays, one τ per partial) the reading must stay exact.
    let fs = 44_100;
    let (mut worst_med, mut worst_p90) = (0.0f64, 0.0f64);
    for f in [65.4f64, 98.0, 196.0, 392.0, 784.0] {
        let (med_max, p90_max) = if f < 150.0 { (1.0, 2.5) } else { (0.5, 2.0) };
        for common in [false, true] {
            for (seed, jitter_db) in [(51u64, 1.0f64), (52, 0.5), (53, 0.0)] {
                let (x, power) = am_tone(fs, 1.5, f, jitter_db, common, seed + f as u64);
                let (f0, _) = estimate_f0(&x, fs, f as f32);
                let peak = power.iter().cloned().fold(0.0, f64::max);
                let mut errs = Vec::new();
                for i in steady_frames(x.len(), fs, f as f32) {
                    // Frames within 30 dB of the peak.
                    if power[i] < 1e-3 * peak {
                        continue;
                    }
                    assert!(f0[i] > 0.0, "frame {i} unvoiced at {f} Hz");
                    errs.push((1200.0 * (f0[i] as f64 / f).log2()).abs());
                }
                errs.sort_by(|a, b| a.total_cmp(b));
                let q = |p: f64| errs[((errs.len() - 1) as f64 * p).round() as usize];
                let (med, p90, max) = (q(0.5), q(0.9), q(1.0));
                eprintln!(
                    "AM ±{jitter_db} dB {} at {f} Hz: |error| median {med:.4} c, p90 {p90:.4} c, max {max:.3} c over {} frames",
                    if common { "common" } else { "per partial" },
                    errs.len()
                );
                if jitter_db == 0.0 {
                    assert!(max < 0.01, "pure decay: max error {max} c at {f} Hz");
                }
                assert!(med < med_max && p90 < p90_max, "{f} Hz ±{jitter_db} dB: median {med} c, p90 {p90} c");
                if f >= 150.0 {
                    worst_med = worst_med.max(med);
                    worst_p90 = worst_p90.max(p90);
                }
            }
        }
    }
    eprintln!("AM jitter, 196–784 Hz: worst median {worst_med:.4} c, worst p90 {worst_p90:.4} c");
}
