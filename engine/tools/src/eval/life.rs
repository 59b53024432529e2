//! The statistics of life: how a note moves, which the spectral distance cannot see (an averaged,
//! perfectly steady note scores well on it). Measured the same way on recordings, renders and the
//! sampler reference.
//!
//! - **Level fluctuation depth**: the 20 ms RMS envelope (5 ms hop) from 0.3 s to 2.5 s after the
//!   onset, a quadratic trend removed, standard deviation over mean.
//! - **Modulation spectrum**: power of that detrended, mean-normalised envelope in the octave bands
//!   2–4, 4–8, 8–16 and 16–32 Hz, in dB.
//! - **Stroke rate**: the envelope's dominant modulation between 4 and 16 Hz (tremolo's bow
//!   strokes).
//! - **Timbre fluctuation depth**: the same depth for the spectral centroid over time.

use super::metrics;
use serde::Serialize;

pub const MODULATION_BANDS_HZ: [(f32, f32); 4] = [(2.0, 4.0), (4.0, 8.0), (8.0, 16.0), (16.0, 32.0)];
const WINDOW_SECONDS: f32 = 0.02;
const HOP_SECONDS: f32 = 0.005;
const FROM_SECONDS: f32 = 0.3;
const TO_SECONDS: f32 = 2.5;

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct LifeStats {
    pub level_depth: f32,
    /// dB per band of [`MODULATION_BANDS_HZ`].
    pub modulation_db: [f32; 4],
    pub stroke_rate_hz: f32,
    pub centroid_depth: f32,
}

/// Frames of `audio` from 0.3 s to 2.5 s: (RMS, spectral centroid) per 20 ms window.
fn frames(audio: &[f32], sr: u32) -> (Vec<f32>, Vec<f32>) {
    let win = (WINDOW_SECONDS * sr as f32) as usize;
    let hop = (HOP_SECONDS * sr as f32) as usize;
    let from = (FROM_SECONDS * sr as f32) as usize;
    let to = ((TO_SECONDS * sr as f32) as usize).min(audio.len());
    let (mut rms, mut centroid) = (Vec::new(), Vec::new());
    let mut at = from;
    while at + win <= to {
        let w = &audio[at..at + win];
        rms.push(metrics::rms(w));
        centroid.push(metrics::spectral_centroid(w, sr));
        at += hop;
    }
    (rms, centroid)
}

/// `x` minus its least-squares quadratic trend.
fn detrend_quadratic(x: &[f32]) -> Vec<f64> {
    let n = x.len();
    if n < 3 {
        return x.iter().map(|v| *v as f64).collect();
    }
    let t: Vec<f64> = (0..n).map(|i| 2.0 * i as f64 / (n - 1) as f64 - 1.0).collect();
    // Orthogonal basis on t: 1, t, t² - mean(t²) (t is symmetric, so these are orthogonal).
    let m2 = t.iter().map(|v| v * v).sum::<f64>() / n as f64;
    let basis: [Vec<f64>; 3] = [vec![1.0; n], t.clone(), t.iter().map(|v| v * v - m2).collect()];
    let mut r: Vec<f64> = x.iter().map(|v| *v as f64).collect();
    for b in &basis {
        let bb: f64 = b.iter().map(|v| v * v).sum();
        let c = r.iter().zip(b).map(|(a, b)| a * b).sum::<f64>() / bb.max(1e-30);
        r.iter_mut().zip(b).for_each(|(a, b)| *a -= c * b);
    }
    r
}

fn depth(x: &[f32]) -> f32 {
    let mean = x.iter().map(|v| *v as f64).sum::<f64>() / x.len().max(1) as f64;
    if mean <= 0.0 || x.len() < 8 {
        return 0.0;
    }
    let r = detrend_quadratic(x);
    let var = r.iter().map(|v| v * v).sum::<f64>() / r.len() as f64;
    (var.sqrt() / mean) as f32
}

/// Power spectrum of the detrended, mean-normalised envelope at `freqs` (direct DFT with a Hann
/// window; the envelope is a few hundred frames).
fn modulation_power(env: &[f32], freqs: &[f32]) -> Vec<f64> {
    let mean = env.iter().map(|v| *v as f64).sum::<f64>() / env.len().max(1) as f64;
    let r = detrend_quadratic(env);
    let n = r.len();
    let rate = 1.0 / HOP_SECONDS as f64;
    freqs
        .iter()
        .map(|&f| {
            let (mut re, mut im) = (0.0f64, 0.0f64);
            for (i, v) in r.iter().enumerate() {
                let w = 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / (n.max(2) - 1) as f64).cos();
                let ph = std::f64::consts::TAU * f as f64 * i as f64 / rate;
                re += w * v / mean.max(1e-12) * ph.cos();
                im -= w * v / mean.max(1e-12) * ph.sin();
            }
            (re * re + im * im) / n.max(1) as f64
        })
        .collect()
}

/// Life statistics of one note (needs at least about 0.5 s of audio; shorter notes give zeros).
pub fn life_stats(audio: &[f32], sr: u32) -> LifeStats {
    let (rms, centroid) = frames(audio, sr);
    if rms.len() < 16 {
        return LifeStats::default();
    }
    let grid: Vec<f32> = (0..=240).map(|i| 2.0 + 30.0 * i as f32 / 240.0).collect();
    let power = modulation_power(&rms, &grid);
    let band = |lo: f32, hi: f32| {
        let sel: Vec<f64> = grid.iter().zip(&power).filter(|(f, _)| **f >= lo && **f < hi).map(|(_, p)| *p).collect();
        (10.0 * (sel.iter().sum::<f64>() / sel.len().max(1) as f64).max(1e-20).log10()) as f32
    };
    let mut modulation_db = [0.0; 4];
    for (m, (lo, hi)) in modulation_db.iter_mut().zip(MODULATION_BANDS_HZ) {
        *m = band(lo, hi);
    }
    let stroke_rate_hz = grid
        .iter()
        .zip(&power)
        .filter(|(f, _)| (4.0..=16.0).contains(*f))
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(f, _)| *f)
        .unwrap_or(0.0);
    LifeStats { level_depth: depth(&rms), modulation_db, stroke_rate_hz, centroid_depth: depth(&centroid) }
}

/// Mean of a set of stats (stroke rate: median, as a rate is not additive).
pub fn mean_stats(all: &[LifeStats]) -> LifeStats {
    let n = all.len().max(1) as f32;
    let mut m = LifeStats::default();
    for s in all {
        m.level_depth += s.level_depth / n;
        m.centroid_depth += s.centroid_depth / n;
        for i in 0..4 {
            m.modulation_db[i] += s.modulation_db[i] / n;
        }
    }
    let mut rates: Vec<f32> = all.iter().map(|s| s.stroke_rate_hz).collect();
    rates.sort_by(f32::total_cmp);
    m.stroke_rate_hz = rates.get(rates.len() / 2).copied().unwrap_or(0.0);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(sr: u32, seconds: f32, am_hz: f32, am_depth: f32) -> Vec<f32> {
        (0..(sr as f32 * seconds) as usize)
            .map(|n| {
                let t = n as f32 / sr as f32;
                (1.0 + am_depth * (std::f32::consts::TAU * am_hz * t).sin()) * (std::f32::consts::TAU * 440.0 * t).sin()
            })
            .collect()
    }

    #[test]
    fn a_steady_tone_has_no_life_and_a_tremolo_has_its_rate() {
        let sr = 44_100;
        let steady = life_stats(&tone(sr, 3.0, 6.0, 0.0), sr);
        assert!(steady.level_depth < 0.01, "{steady:?}");
        let trem = life_stats(&tone(sr, 3.0, 7.0, 0.5), sr);
        // A sine AM of depth 0.5 has RMS-envelope std/mean 0.5/√2.
        assert!((trem.level_depth - 0.354).abs() < 0.05, "{trem:?}");
        assert!((trem.stroke_rate_hz - 7.0).abs() < 0.5, "{trem:?}");
        assert!(trem.modulation_db[1] > trem.modulation_db[0] + 10.0, "{trem:?}");
        assert!(trem.modulation_db[1] > steady.modulation_db[1] + 30.0);
        // Too short to judge: zeros, not a panic.
        assert_eq!(life_stats(&tone(sr, 0.2, 7.0, 0.5), sr).level_depth, 0.0);
    }
}
