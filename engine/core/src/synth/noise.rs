//! Filtered noise for all voices at once, by windowed overlap-add in the frequency domain.
//!
//! Independent Gaussian-like noises with power spectra S_v(f) sum to one noise with spectrum
//! Σ S_v(f), so one generator per instrument serves every voice: the cost does not grow with
//! polyphony. Every hop (about 2.7 ms) a frame with random phases and magnitudes shaped by the
//! summed spectrum is inverse-transformed, sine-windowed (sin² + cos² = 1 keeps the power of
//! overlapping independent frames constant) and added into a ring of pending output.

use crate::bands::{BandLayout, BandPosition};
use crate::formulas;
use crate::model::fastmath;
use crate::rng::XorShift32;
use realfft::num_complex::Complex32;
use realfft::{ComplexToReal, RealFftPlanner};
use std::sync::Arc;

pub struct NoiseGenerator {
    size: usize,
    hop: usize,
    sample_rate: f32,
    plan: Arc<dyn ComplexToReal<f32>>,
    window: Vec<f32>,
    bin_pos: Vec<BandPosition>,
    /// Bins at or above this carry no noise: the same band limit as the partials.
    top_bin: usize,
    /// Summed noise power per band for the next frame (filled by the voices).
    band_power: Vec<f32>,
    log_power: Vec<f32>,
    spectrum: Vec<Complex32>,
    frame: Vec<f32>,
    scratch: Vec<Complex32>,
    /// Pending output: `ring[pos..]` then `ring[..pos]`, `size` samples.
    ring: Vec<f32>,
    pos: usize,
    until_frame: usize,
    rng: XorShift32,
    silent_frames: u32,
    /// Unit phasors for random phases: a table lookup instead of a sine and a cosine per bin.
    phasors: Vec<Complex32>,
}

/// Where the noise phases' sequence starts (after every reset).
const NOISE_SEED: u32 = 0x9e37_79b9;

/// Random phases are quantised to this many steps (plenty for noise; 32 kB of table).
const PHASE_STEPS: usize = 4096;

impl NoiseGenerator {
    /// About 5.3 ms frames (256 samples at 48 kHz), scaled to the sample rate.
    pub fn new(sample_rate: f32, layout: &BandLayout) -> Self {
        let size = formulas::noise_frame_size(sample_rate);
        let hop = size / 2;
        let plan = RealFftPlanner::<f32>::new().plan_fft_inverse(size);
        let window = formulas::noise_window(size);
        let bin_pos = (0..=size / 2).map(|j| layout.position(j as f32 * sample_rate / size as f32)).collect();
        let scratch = vec![Complex32::new(0.0, 0.0); plan.get_scratch_len()];
        let limit_hz = formulas::band_limit_hz(sample_rate);
        let top_bin = ((limit_hz * size as f32 / sample_rate) as usize).min(size / 2);
        NoiseGenerator {
            top_bin,
            size,
            hop,
            sample_rate,
            plan,
            window,
            bin_pos,
            band_power: vec![0.0; layout.count],
            log_power: vec![0.0; layout.count],
            spectrum: vec![Complex32::new(0.0, 0.0); size / 2 + 1],
            frame: vec![0.0; size],
            scratch,
            ring: vec![0.0; size],
            pos: 0,
            until_frame: 0,
            rng: XorShift32::new(NOISE_SEED),
            silent_frames: 2,
            phasors: (0..PHASE_STEPS)
                .map(|i| Complex32::from_polar(1.0, std::f32::consts::TAU * i as f32 / PHASE_STEPS as f32))
                .collect(),
        }
    }

    /// Silences the generator and restarts its phases from `seed` (the render's take seed:
    /// another seed is other bow noise; seed 0 is the generator's historical sequence).
    pub fn reset(&mut self, seed: u64) {
        self.ring.fill(0.0);
        self.pos = 0;
        self.until_frame = 0;
        self.rng = XorShift32::new(NOISE_SEED ^ (seed as u32) ^ ((seed >> 32) as u32).rotate_left(16));
        self.band_power.fill(0.0);
        self.silent_frames = 2;
    }

    /// Samples until the next frame must be made (0 means now).
    pub fn samples_until_frame(&self) -> usize {
        self.until_frame
    }

    /// The per-band power accumulator the voices add their noise spectra into before
    /// [`Self::make_frame`]. Units: one-sided PSD (power per Hz) at the band centres.
    pub fn band_power_mut(&mut self) -> &mut [f32] {
        &mut self.band_power
    }

    /// A random unit phasor (xorshift32; the top bits pick the phase).
    #[inline]
    fn random_phasor(&mut self) -> Complex32 {
        self.phasors[(self.rng.next_u32() >> (32 - PHASE_STEPS.trailing_zeros())) as usize]
    }

    /// Turns the accumulated band power into one windowed frame added to the pending output,
    /// then clears the accumulator.
    pub fn make_frame(&mut self) {
        debug_assert_eq!(self.until_frame, 0);
        self.until_frame = self.hop;
        let total: f32 = self.band_power.iter().sum();
        if !(total > 1e-20) {
            // Nothing to add; the random sequence only advances on audible frames.
            self.band_power.fill(0.0);
            self.silent_frames = self.silent_frames.saturating_add(1);
            return;
        }
        self.silent_frames = 0;
        for (l, p) in self.log_power.iter_mut().zip(&self.band_power) {
            *l = p.max(1e-30).ln();
        }
        // |X_j| = sqrt(S(f_j) · fs / (2N)) gives variance Σ S Δf with realfft's unnormalised
        // inverse; in logs, one exp per bin: exp(½ ln S + ½ ln(fs / 2N)).
        let half_ln_scale = 0.5 * (self.sample_rate / (2.0 * self.size as f32)).ln();
        self.spectrum.fill(Complex32::new(0.0, 0.0));
        for j in 1..self.top_bin {
            let p = self.bin_pos[j];
            let lp = self.log_power[p.lower] + (self.log_power[p.lower + 1] - self.log_power[p.lower]) * p.frac;
            let mag = fastmath::exp(0.5 * lp + half_ln_scale);
            self.spectrum[j] = self.random_phasor() * mag;
        }
        let _ = self.plan.process_with_scratch(&mut self.spectrum, &mut self.frame, &mut self.scratch);
        // The ring from `pos` to its end, then from its start: two straight loops, no modulo.
        let (tail, head) = self.ring.split_at_mut(self.pos);
        let (first, second) = self.frame.split_at(head.len());
        let (w1, w2) = self.window.split_at(head.len());
        for ((r, f), w) in head.iter_mut().zip(first).zip(w1) {
            *r += f * w;
        }
        for ((r, f), w) in tail.iter_mut().zip(second).zip(w2) {
            *r += f * w;
        }
        self.band_power.fill(0.0);
    }

    /// Adds the next `out.len()` pending samples into `out`; `out.len()` must not pass the next
    /// frame (see [`Self::samples_until_frame`]).
    pub fn render_add(&mut self, out: &mut [f32]) {
        debug_assert!(out.len() <= self.until_frame);
        let n = self.size;
        if self.silent_frames >= 3 {
            self.pos = (self.pos + out.len()) & (n - 1);
        } else {
            for o in out.iter_mut() {
                *o += self.ring[self.pos];
                self.ring[self.pos] = 0.0;
                self.pos = (self.pos + 1) & (n - 1); // size is a power of two
            }
        }
        self.until_frame -= out.len();
    }
}
