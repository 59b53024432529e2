//! Harmonic oscillator bank as a pair of single-cycle wavetables, crossfaded per sample.
//!
//! All partials of a harmonic sound share one phase φ, so one period of the waveform is
//! Σ a_k sin(2πkφ + θ_k): an inverse FFT of the partial amplitudes gives it exactly. At each
//! control frame the voice builds the next table B; between frames it plays
//! `(1 - r)·A(φ) + r·B(φ)` with r ramping 0→1, which is exactly every partial's amplitude
//! interpolated linearly per sample, with phase continuity, at the cost of two table reads
//! per sample however many partials there are (cello C2 gets all ~300 below 20 kHz).
//! Tables are oversampled 8× relative to the highest partial so linear interpolation
//! between table entries stays below -40 dB of error at the top partial.

use crate::bands::BandLayout;
use crate::formulas::PartialTaper;
use crate::model::fastmath;
use crate::rng::XorShift32;
use realfft::num_complex::Complex32;
use realfft::{ComplexToReal, RealFftPlanner};
use std::sync::Arc;

pub const MIN_TABLE: usize = 64;
pub const MAX_TABLE: usize = 8192;
/// The most partials any note gets (MAX_TABLE / 8): 20 kHz / 1024 ≈ 19.5 Hz, below any string.
pub const MAX_PARTIALS: usize = MAX_TABLE / 8;

/// Inverse-FFT plans for every table size, created once at activate time and shared.
pub struct TablePlans {
    plans: Vec<Arc<dyn ComplexToReal<f32>>>, // index log2(n) - log2(MIN_TABLE)
    /// Fixed pseudo-random start phases per partial: a low crest factor like real strings,
    /// identical on every run.
    phases: Vec<Complex32>,
    /// ln k for every partial number: band positions of k·f0 are then one multiply-add each.
    ln_k: Vec<f32>,
}

/// The fixed pseudo-random start phase θ_k of partial k (index k, θ_0 = 0): a low crest factor
/// like real strings, identical on every run. Training's differentiable oscillator uses the same.
pub fn partial_phases() -> Vec<f32> {
    let mut rng = XorShift32::new(0x1234_5678);
    (0..=MAX_PARTIALS)
        .map(|k| {
            let u = rng.unit();
            if k == 0 {
                0.0
            } else {
                u * std::f32::consts::TAU
            }
        })
        .collect()
}

impl TablePlans {
    pub fn new() -> Self {
        let mut planner = RealFftPlanner::<f32>::new();
        let mut plans = Vec::new();
        let mut n = MIN_TABLE;
        while n <= MAX_TABLE {
            plans.push(planner.plan_fft_inverse(n));
            n *= 2;
        }
        let phases = partial_phases()
            .into_iter()
            // sin(x + θ) = cos(x + θ - π/2)
            .map(|theta| Complex32::from_polar(0.5, theta - std::f32::consts::FRAC_PI_2))
            .collect();
        let ln_k = (0..=MAX_PARTIALS).map(|k| (k.max(1) as f32).ln()).collect();
        TablePlans { plans, phases, ln_k }
    }

    fn plan(&self, n: usize) -> &Arc<dyn ComplexToReal<f32>> {
        &self.plans[(n.trailing_zeros() - MIN_TABLE.trailing_zeros()) as usize]
    }

    /// Scratch sizes a caller must provide to [`WaveTable::build`].
    pub fn spectrum_len() -> usize {
        MAX_TABLE / 2 + 1
    }

    pub fn scratch_len(&self) -> usize {
        self.plans.iter().map(|p| p.get_scratch_len()).max().unwrap_or(0)
    }
}

impl Default for TablePlans {
    fn default() -> Self {
        Self::new()
    }
}

/// Shared scratch memory for building tables (one per engine; voices build one at a time).
pub struct TableScratch {
    spectrum: Vec<Complex32>,
    fft: Vec<Complex32>,
}

impl TableScratch {
    pub fn new(plans: &TablePlans) -> Self {
        TableScratch {
            spectrum: vec![Complex32::new(0.0, 0.0); TablePlans::spectrum_len()],
            fft: vec![Complex32::new(0.0, 0.0); plans.scratch_len()],
        }
    }
}

/// One single-cycle table with a guard sample (`data[len] == data[0]`) for interpolation.
#[derive(Clone)]
pub struct WaveTable {
    data: Vec<f32>,
    len: usize,
    /// False when the table is all zeros (lets silent voices skip work).
    pub audible: bool,
}

impl WaveTable {
    pub fn new() -> Self {
        WaveTable { data: vec![0.0; MAX_TABLE + 1], len: MIN_TABLE, audible: false }
    }

    pub fn clear(&mut self) {
        self.data[..=self.len].fill(0.0);
        self.audible = false;
    }

    /// Builds the table for a note at `f0_hz` whose partial k has peak amplitude
    /// `exp(log_gain + env(k·f0))`, all partials up to `limit_hz`. `f0_max_hz` is the highest
    /// f0 the table will be played at before the next frame (for the band limit).
    #[allow(clippy::too_many_arguments)]
    pub fn build(
        &mut self,
        plans: &TablePlans,
        scratch: &mut TableScratch,
        layout: &BandLayout,
        env: &[f32],
        log_gain: f32,
        f0_hz: f32,
        f0_max_hz: f32,
        limit_hz: f32,
    ) {
        let top = f0_max_hz.max(f0_hz).max(1.0);
        let partials = ((limit_hz / top) as usize).min(MAX_PARTIALS);
        if partials == 0 || log_gain < -30.0 {
            self.clear();
            return;
        }
        let n = (8 * partials).next_power_of_two().clamp(MIN_TABLE, MAX_TABLE);
        let half = n / 2;
        let spec = &mut scratch.spectrum[..=half];
        spec.fill(Complex32::new(0.0, 0.0));
        let taper = PartialTaper::new(limit_hz);
        // Fractional band index of k·f0 = base + slope · ln k (see BandLayout::fractional_index).
        let slope = (layout.count - 1) as f32 / (layout.max_hz / layout.min_hz).ln();
        let base = layout.fractional_index(f0_hz);
        let last = (layout.count - 1) as f32;
        for k in 1..=partials {
            let top_freq = k as f32 * top;
            let x = (base + slope * plans.ln_k[k]).clamp(0.0, last);
            let lower = (x as usize).min(layout.count - 2);
            let frac = x - lower as f32;
            let e = env[lower] + (env[lower + 1] - env[lower]) * frac;
            let a = fastmath::exp(log_gain + e) * taper.gain(top_freq);
            spec[k] = plans.phases[k] * a;
        }
        let data = &mut self.data[..n];
        // realfft's inverse needs purely real DC and Nyquist bins; both are zero here.
        let _ = plans.plan(n).process_with_scratch(spec, data, &mut scratch.fft);
        self.data[n] = self.data[0];
        self.len = n;
        self.audible = true;
    }

    /// Copies another table in place (no allocation, unlike `clone_from`).
    pub fn copy_from(&mut self, other: &WaveTable) {
        self.data[..=other.len].copy_from_slice(&other.data[..=other.len]);
        self.len = other.len;
        self.audible = other.audible;
    }

    /// Linearly interpolated value at phase `phi` in [0, 1).
    #[inline(always)]
    pub fn read(&self, phi: f32) -> f32 {
        let x = phi * self.len as f32;
        let i = (x as usize).min(self.len - 1);
        let f = x - i as f32;
        // SAFETY-free indexing: i + 1 <= len, and data has len + 1 entries.
        let a = self.data[i];
        let b = self.data[i + 1];
        a + (b - a) * f
    }
}

impl Default for WaveTable {
    fn default() -> Self {
        Self::new()
    }
}
