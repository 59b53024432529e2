//! Objective measures shared by `rosin eval`, tests and benchmarks.

use realfft::RealFftPlanner;

/// FFT sizes of the multi-scale spectral distance at 44.1/48 kHz; scaled with the sample rate
/// so each scale covers the same time span.
pub const MSS_SIZES: [usize; 6] = [2048, 1024, 512, 256, 128, 64];

/// Magnitude spectrogram (frames × bins), Hann window, hop = size / 4, magnitudes scaled so a
/// full-scale sinusoid reads about its amplitude.
pub fn magnitude_spectrogram(x: &[f32], size: usize) -> Vec<Vec<f32>> {
    let hop = (size / 4).max(1);
    let fft = RealFftPlanner::<f32>::new().plan_fft_forward(size);
    let window: Vec<f32> =
        (0..size).map(|i| 0.5 - 0.5 * (std::f32::consts::TAU * i as f32 / size as f32).cos()).collect();
    let norm = 2.0 / window.iter().sum::<f32>();
    let mut buf = vec![0.0f32; size];
    let mut spec = fft.make_output_vec();
    let mut frames = Vec::new();
    let mut start = 0;
    while start + size <= x.len().max(size) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = x.get(start + i).copied().unwrap_or(0.0) * window[i];
        }
        fft.process(&mut buf, &mut spec).expect("buffer sizes match the plan");
        frames.push(spec.iter().map(|c| c.norm() * norm).collect());
        start += hop;
    }
    frames
}

pub fn scaled_sizes(sample_rate: u32) -> Vec<usize> {
    let scale = (sample_rate as f32 / 44_100.0).max(0.25);
    MSS_SIZES.iter().map(|&s| ((s as f32 * scale).round() as usize).next_power_of_two().max(16)).collect()
}

/// Multi-scale spectral distance: for each FFT size, the mean L1 difference of linear
/// magnitudes plus the mean L1 difference of natural-log magnitudes; averaged over sizes.
/// Both signals are compared over the length of the longer one (the shorter padded with silence).
pub fn multiscale_spectral_distance(a: &[f32], b: &[f32], sample_rate: u32) -> f32 {
    let len = a.len().max(b.len());
    let pad = |x: &[f32]| {
        let mut v = x.to_vec();
        v.resize(len, 0.0);
        v
    };
    let (a, b) = (pad(a), pad(b));
    let sizes = scaled_sizes(sample_rate);
    let mut total = 0.0f64;
    for &size in &sizes {
        let sa = magnitude_spectrogram(&a, size);
        let sb = magnitude_spectrogram(&b, size);
        let (mut lin, mut log, mut n) = (0.0f64, 0.0f64, 0.0f64);
        for (fa, fb) in sa.iter().zip(&sb) {
            for (&x, &y) in fa.iter().zip(fb) {
                lin += (x - y).abs() as f64;
                log += ((x + 1e-5).ln() - (y + 1e-5).ln()).abs() as f64;
                n += 1.0;
            }
        }
        total += (lin * 100.0 + log) / n.max(1.0);
    }
    (total / sizes.len() as f64) as f32
}

pub fn rms(x: &[f32]) -> f32 {
    if x.is_empty() {
        return 0.0;
    }
    (x.iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / x.len() as f64).sqrt() as f32
}

pub fn db(x: f32) -> f32 {
    20.0 * x.max(1e-9).log10()
}

/// Scales `x` to the RMS of `reference` (so spectral distances compare timbre, not level).
pub fn match_rms(x: &[f32], reference: &[f32]) -> Vec<f32> {
    let g = rms(reference) / rms(x).max(1e-12);
    x.iter().map(|v| v * g).collect()
}

/// Plays `x` `semitones` higher by resampling (what a sampler does for a missing note), with
/// cubic Hermite interpolation, producing `len` samples.
pub fn repitch(x: &[f32], semitones: f32, len: usize) -> Vec<f32> {
    let ratio = (semitones / 12.0).exp2() as f64;
    let at = |i: isize| if i < 0 { 0.0 } else { x.get(i as usize).copied().unwrap_or(0.0) };
    (0..len)
        .map(|n| {
            let pos = n as f64 * ratio;
            let i = pos.floor() as isize;
            let t = (pos - i as f64) as f32;
            let (y0, y1, y2, y3) = (at(i - 1), at(i), at(i + 1), at(i + 2));
            let c1 = 0.5 * (y2 - y0);
            let c2 = y0 - 2.5 * y1 + 2.0 * y2 - 0.5 * y3;
            let c3 = 0.5 * (y3 - y0) + 1.5 * (y1 - y2);
            ((c3 * t + c2) * t + c1) * t + y1
        })
        .collect()
}

/// A sustained recording extended the way a sampler plays it: up to the loop end, then the
/// loop region repeated until `min_len` samples.
pub fn looped(x: &[f32], loop_range: Option<(usize, usize)>, min_len: usize) -> Vec<f32> {
    match loop_range {
        Some((a, b)) if b > a + 16 && b <= x.len() => {
            let mut v = x[..b].to_vec();
            while v.len() < min_len {
                v.extend_from_slice(&x[a..b]);
            }
            v
        }
        _ => x.to_vec(),
    }
}

/// RMS in dB over consecutive windows of `window` samples.
pub fn loudness_contour(x: &[f32], window: usize) -> Vec<f32> {
    x.chunks(window.max(1)).map(|c| db(rms(c))).collect()
}

/// Mean |difference| of two loudness contours (dB), after removing the overall level
/// difference, over windows where the reference is within 50 dB of its peak.
pub fn loudness_shape_error(reference: &[f32], other: &[f32], window: usize) -> f32 {
    let a = loudness_contour(reference, window);
    let b = loudness_contour(other, window);
    let peak = a.iter().cloned().fold(f32::MIN, f32::max);
    let pairs: Vec<(f32, f32)> = a.iter().zip(&b).filter(|(x, _)| **x > peak - 50.0).map(|(x, y)| (*x, *y)).collect();
    if pairs.is_empty() {
        return f32::NAN;
    }
    let offset = pairs.iter().map(|(x, y)| x - y).sum::<f32>() / pairs.len() as f32;
    pairs.iter().map(|(x, y)| (x - y - offset).abs()).sum::<f32>() / pairs.len() as f32
}

/// Spectral centroid in Hz of a whole signal (2048-point frames averaged).
pub fn spectral_centroid(x: &[f32], sample_rate: u32) -> f32 {
    let spec = magnitude_spectrogram(x, 2048);
    let (mut num, mut den) = (0.0f64, 0.0f64);
    for f in &spec {
        for (k, &m) in f.iter().enumerate() {
            let p = (m as f64).powi(2);
            num += p * k as f64 * sample_rate as f64 / 2048.0;
            den += p;
        }
    }
    (num / den.max(1e-30)) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(f: f32, sr: u32, len: usize, amp: f32) -> Vec<f32> {
        (0..len).map(|n| amp * (std::f32::consts::TAU * f * n as f32 / sr as f32).sin()).collect()
    }

    #[test]
    fn distance_is_zero_for_identical_and_grows_with_difference() {
        let a = tone(440.0, 44_100, 22_050, 0.5);
        assert_eq!(multiscale_spectral_distance(&a, &a, 44_100), 0.0);
        let near = tone(445.0, 44_100, 22_050, 0.5);
        let far = tone(880.0, 44_100, 22_050, 0.5);
        let d1 = multiscale_spectral_distance(&a, &near, 44_100);
        let d2 = multiscale_spectral_distance(&a, &far, 44_100);
        assert!(d1 > 0.0 && d2 > d1, "{d1} {d2}");
    }

    #[test]
    fn repitch_moves_the_frequency() {
        let sr = 44_100;
        let a = tone(440.0, sr, 44_100, 0.5);
        let up = repitch(&a, 12.0, 20_000);
        let want = tone(880.0, sr, 20_000, 0.5);
        let err: f32 = up.iter().zip(&want).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max);
        assert!(err < 0.01, "{err}");
    }

    #[test]
    fn centroid_and_loudness() {
        let sr = 44_100;
        assert!((spectral_centroid(&tone(1000.0, sr, 44_100, 0.5), sr) - 1000.0).abs() < 30.0);
        let a = tone(440.0, sr, 44_100, 0.5);
        let quiet: Vec<f32> = a.iter().map(|x| x * 0.1).collect();
        assert!(loudness_shape_error(&a, &quiet, 4410) < 0.01);
        assert!((db(rms(&a)) - db(rms(&quiet)) - 20.0).abs() < 0.01);
    }
}
