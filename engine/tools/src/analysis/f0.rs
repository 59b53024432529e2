//! Frame-level pitch: coarse period from the cross-correlation of a frame's two windowed
//! segments, then a sub-cent refinement from the phase advance of the low partials.
//!
//! Why not plain YIN with parabolic interpolation: on harmonic-rich tones the correlation peak is
//! only a few samples wide, and a parabola through it is off by several hundredths of a sample,
//! which is several cents at 2 kHz. The phase of a partial advances by exactly `ω_k·P` over the
//! lag `P` between the two windows (whatever the window, wherever in the main lobe it is read), so
//! `ω_k` follows from one `atan2`, with no interpolation bias. Leakage from a neighbour of relative
//! amplitude ε only moves it by ~ε/k, and Blackman–Harris keeps ε below 1e-4.
//!
//! Amplitude modulation (`tests::f0_under_synth_amplitude_jitter`): the synth's partials carry
//! ±1 dB of frame-to-frame jitter, linearly interpolated. It moves this reading by < 0.5 c
//! (median) above ~200 Hz and ~0.7 c at 65 Hz, where the jitter's 125 Hz bandwidth reaches the
//! neighbours and the image. Reading each partial exactly at `k·f0` (a DTFT of the whole window,
//! iterated) is ~1.5× better there and on noise, but its time kernel is wider (the ±2-bin sum
//! weighs roughly the product of the two windows): vibrato curvature bias rose from 0.85 to 1.34 c
//! (110 Hz, ±30 c at 6 Hz) and the warped noise envelope degraded, so the bin sum is kept.
//!
//! The period search is confined to ±[`SEARCH_SEMITONES`] around the expected f0, which rules out
//! octave errors; the expected f0 comes from the note's label.

use std::f64::consts::TAU;

use realfft::num_complex::Complex;

use super::stft::{FramePair, PERIODS_PER_WINDOW};

/// Half-width of the period search around the expected f0 (vibrato plus tuning).
pub(crate) const SEARCH_SEMITONES: f64 = 1.5;
/// Frames with periodicity below this are unvoiced (f0 = 0).
pub(crate) const VOICED_PERIODICITY: f64 = 0.5;
/// Window-weighted mean square below which a frame is silence (−160 dBFS).
pub(crate) const SILENCE_MEAN_SQUARE: f64 = 1e-16;
/// The coarse correlation uses partials up to this number (smooths it so a coarse grid finds it).
const COARSE_PARTIALS: f64 = 8.5;
/// Partials used for the phase refinement.
const REFINE_PARTIALS: usize = 8;
/// Coarse lag grid step in periods.
const GRID_STEPS_PER_PERIOD: f64 = 128.0;

pub(crate) struct Pitch {
    /// Refined f0 in Hz whether voiced or not (0 for silence).
    pub f0: f64,
    pub periodicity: f64,
    pub voiced: bool,
    pub silent: bool,
    pub mean_square: f64,
}

/// `Σ_m w_m Re(cross[m] e^{-iω_m δ})` for bins `lo..hi`: the cross-correlation of the pair's
/// segments with an extra lag δ (content shifted by δ), which peaks at `δ = P_exp − P_true`.
/// `two_sided` counts interior bins twice (negative frequencies), as Parseval needs.
fn correlation(pair: &FramePair, lo: usize, hi: usize, delta: f64, two_sided: bool) -> f64 {
    if hi <= lo {
        return 0.0;
    }
    let w = -TAU * delta / pair.setup.n_fft as f64;
    // Four interleaved phasor recurrences: a single one is latency-bound.
    const LANES: usize = 4;
    let step = Complex::new((LANES as f64 * w).cos(), (LANES as f64 * w).sin());
    let mut ph = [Complex::new(0.0f64, 0.0); LANES];
    for (l, p) in ph.iter_mut().enumerate() {
        let a = w * (lo + l) as f64;
        *p = Complex::new(a.cos(), a.sin());
    }
    let mut acc = [0.0f64; LANES];
    let cross = &pair.cross[lo..hi];
    let mut chunks = cross.chunks_exact(LANES);
    for chunk in &mut chunks {
        for l in 0..LANES {
            let c = chunk[l];
            acc[l] += c.re as f64 * ph[l].re - c.im as f64 * ph[l].im;
            ph[l] *= step;
        }
    }
    for (l, c) in chunks.remainder().iter().enumerate() {
        acc[l] += c.re as f64 * ph[l].re - c.im as f64 * ph[l].im;
    }
    let sum = acc.iter().sum::<f64>();
    if !two_sided {
        return sum;
    }
    // Interior bins count twice; DC and Nyquist once.
    let mut ends = 0.0;
    for m in [0, pair.setup.n_fft / 2] {
        if m >= lo && m < hi {
            let a = w * m as f64;
            let c = pair.cross[m];
            ends += c.re as f64 * a.cos() - c.im as f64 * a.sin();
        }
    }
    2.0 * sum - ends
}

pub(crate) fn pitch(pair: &FramePair) -> Pitch {
    let s = &pair.setup;
    let mean_square = pair.mean_square();
    if mean_square.is_nan() || mean_square <= SILENCE_MEAN_SQUARE {
        return Pitch { f0: 0.0, periodicity: 0.0, voiced: false, silent: true, mean_square };
    }
    let bins = pair.bins();
    // Bins below half the expected f0 hold no partial, only DC and rumble: leave them out.
    let m_lo = ((0.5 * s.f_exp / s.bin_hz).ceil() as usize).max(1).min(bins - 1);
    let m_hi = (((COARSE_PARTIALS * s.f_exp).min(0.5 * s.fs) / s.bin_hz) as usize).min(bins - 1);

    // Coarse: maximise the band-limited correlation over the allowed lags.
    let ratio = 2f64.powf(SEARCH_SEMITONES / 12.0);
    let d_lo = s.period - s.period * ratio;
    let d_hi = s.period - s.period / ratio;
    let h = s.period / GRID_STEPS_PER_PERIOD;
    let mut grid = [0.0f64; 64];
    let n_grid = (((d_hi - d_lo) / h).ceil() as usize + 1).min(grid.len());
    let h = (d_hi - d_lo) / (n_grid - 1) as f64;
    let mut best = 0;
    for j in 0..n_grid {
        grid[j] = correlation(pair, m_lo, m_hi + 1, d_lo + j as f64 * h, false);
        if grid[j] > grid[best] {
            best = j;
        }
    }
    let mut jf = best as f64;
    if best > 0 && best + 1 < n_grid {
        let (a, b, c) = (grid[best - 1], grid[best], grid[best + 1]);
        let den = a - 2.0 * b + c;
        if den < 0.0 {
            jf += (0.5 * (a - c) / den).clamp(-0.5, 0.5);
        }
    }
    let f_coarse = s.fs / (s.period - (d_lo + jf * h));

    // Refine: phase advance of partial k over the lag P between the two windows.
    let half_width_hz = 2.0 * s.f_exp / PERIODS_PER_WINDOW; // ±2 window bins: the main lobe core
    let (mut acc, mut wsum) = (0.0, 0.0);
    for k in 1..=REFINE_PARTIALS {
        let fk = k as f64 * f_coarse;
        if fk + half_width_hz >= 0.5 * s.fs {
            break;
        }
        let a = (((fk - half_width_hz) / s.bin_hz).ceil().max(1.0)) as usize;
        let b = (((fk + half_width_hz) / s.bin_hz).floor() as usize).min(bins - 1);
        let mut z = Complex::new(0.0f64, 0.0);
        for m in a..=b {
            z += Complex::new(pair.cross[m].re as f64, pair.cross[m].im as f64);
        }
        let mag = z.norm();
        if mag.is_nan() || mag <= 0.0 {
            continue;
        }
        let psi = z.im.atan2(z.re);
        let predicted = TAU * fk / s.fs * s.period;
        let wraps = ((predicted - psi) / TAU).round();
        let omega = (psi + TAU * wraps) / s.period;
        let weight = mag * (k * k) as f64;
        acc += weight * omega * s.fs / TAU / k as f64;
        wsum += weight;
    }
    let mut f0 = f_coarse;
    if wsum > 0.0 {
        let refined = acc / wsum;
        if (refined / f_coarse - 1.0).abs() < 0.01 {
            f0 = refined;
        }
    }

    // Periodicity: full-band normalised correlation at the refined period.
    let delta = s.period - s.fs / f0;
    let num = correlation(pair, m_lo, bins, delta, true);
    let below: f64 = (0..m_lo).map(|m| pair.side_weight(m) * pair.power[m] as f64).sum();
    let den = pair.energy - below;
    let periodicity = if den > 0.0 { (num / den).clamp(0.0, 1.0) } else { 0.0 };
    Pitch { f0, periodicity, voiced: periodicity >= VOICED_PERIODICITY, silent: false, mean_square }
}
