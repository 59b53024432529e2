//! The per-frame spectral front end of the pitch pass (on the recording itself).
//!
//! Every frame is analysed through a *pair* of Blackman–Harris windowed spectra whose windows sit
//! half an expected period before and after the frame centre (`c ∓ P/2`, `P = fs / expected_f0`,
//! fractional). For a periodic signal the two windowed segments are the same waveform shifted by
//! one period, which gives, from only two FFTs per frame:
//! - the period (the cross-correlation of the two segments, searched over ±1.5 semitones),
//! - a sub-cent f0 (phase advance of each low partial over the known lag `P`, centred on `c`),
//! - the periodicity (normalised cross-correlation at the found period),
//! - the frame's mean square (Parseval over the pair).
//!
//! The harmonic and noise envelopes use the same pair geometry on the time-warped note
//! (`envelope`, `warp`).
//!
//! The window is pitch-adaptive: it spans [`PERIODS_PER_WINDOW`] periods of the expected f0, so the
//! partials are always the same number of bins apart whatever the note; Blackman–Harris (−92 dB
//! sidelobes) keeps a partial from leaking into its neighbours' cells.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

/// Window length in periods of the expected f0. Six periods of Blackman–Harris puts neighbouring
/// partials 6 bins apart (main lobe ±4 bins), and has about the time resolution of a 4.3-period Hann
/// window (RMS duration 0.6 periods): 146 ms at 41 Hz, 14 ms at 440 Hz.
pub(crate) const PERIODS_PER_WINDOW: f64 = 6.0;

/// 4-term Blackman–Harris (92 dB) coefficients, centred form `Σ a_m cos(2π m t / T)`.
const BH4: [f64; 4] = [0.35875, 0.48829, 0.14128, 0.01168];

/// Continuous centred Blackman–Harris window of span `span` samples, evaluated at offset `t`
/// from its centre (0 outside). Evaluating it at fractional offsets lets a window sit at a
/// fractional sample position exactly, which the period-lag comb needs.
pub(crate) fn blackman_harris(t: f64, span: f64) -> f64 {
    if t.abs() > 0.5 * span {
        return 0.0;
    }
    let x = std::f64::consts::TAU * t / span;
    BH4[0] + BH4[1] * x.cos() + BH4[2] * (2.0 * x).cos() + BH4[3] * (3.0 * x).cos()
}

/// Smallest even `n >= min` of the form 2^a·3^b·5^c: RustFFT is fast on these, and they waste
/// less zero padding than powers of two (the analysis needs no padding beyond the window).
pub(crate) fn good_fft_len(min: usize) -> usize {
    let mut n = min.max(16);
    loop {
        if n.is_multiple_of(2) {
            let mut m = n;
            for p in [2, 3, 5] {
                while m.is_multiple_of(p) {
                    m /= p;
                }
            }
            if m == 1 {
                return n;
            }
        }
        n += 1;
    }
}

/// Everything about a note's analysis that does not change from frame to frame.
pub(crate) struct Setup {
    pub fs: f64,
    /// The expected f0 (clamped to a sane range), which sets the window and the search range.
    pub f_exp: f64,
    /// Expected period in samples (fractional): the lag between the two windows of a pair.
    pub period: f64,
    /// Samples per window buffer (covers the span at any fractional position).
    pub n_win: usize,
    pub n_fft: usize,
    /// Hz per FFT bin.
    pub bin_hz: f64,
    /// Upper frequency limit of synthesized partials: min(20 kHz, 0.45 fs).
    pub limit_hz: f64,
    /// Window samples for the segment after / before the centre, and where they start
    /// relative to the frame centre.
    pub win_plus: Vec<f32>,
    pub win_minus: Vec<f32>,
    pub off_plus: i64,
    pub off_minus: i64,
    /// Per-bin phase correction `e^{-iω_m Δ'}` that turns `B₊·conj(B₋)` of the raw FFTs into the
    /// cross-spectrum of the two windowed segments referenced to their own (fractional) centres.
    pub rot: Vec<Complex<f32>>,
    /// `Σ w²` of one window: the amplitude and mean-square scale.
    pub sum_w2: f64,
}

impl Setup {
    pub fn new(sample_rate: u32, expected_f0_hz: f32) -> Setup {
        let fs = sample_rate as f64;
        let f_exp = sanitize_expected_f0(expected_f0_hz as f64, fs);
        let period = fs / f_exp;
        let span = PERIODS_PER_WINDOW * period;
        let n_win = span.floor() as usize + 2;
        let n_fft = good_fft_len(n_win);
        let half = 0.5 * period;
        // Window of the later segment, centred at c + P/2, and of the earlier one at c − P/2.
        let off_plus = (half - 0.5 * span).floor() as i64;
        let off_minus = (-half - 0.5 * span).floor() as i64;
        let win_plus: Vec<f32> =
            (0..n_win).map(|j| blackman_harris((off_plus + j as i64) as f64 - half, span) as f32).collect();
        let win_minus: Vec<f32> =
            (0..n_win).map(|j| blackman_harris((off_minus + j as i64) as f64 + half, span) as f32).collect();
        // Offsets of buffer start from window centre; the FFT phase is referenced to buffer start.
        let u_plus = off_plus as f64 - half;
        let u_minus = off_minus as f64 + half;
        let delta = u_plus - u_minus;
        let rot = (0..=n_fft / 2)
            .map(|m| {
                let w = std::f64::consts::TAU * m as f64 / n_fft as f64;
                let ph = -w * delta;
                Complex::new(ph.cos() as f32, ph.sin() as f32)
            })
            .collect();
        let sum_w2 = 0.5
            * (win_plus.iter().map(|&w| (w as f64).powi(2)).sum::<f64>()
                + win_minus.iter().map(|&w| (w as f64).powi(2)).sum::<f64>());
        Setup {
            fs,
            f_exp,
            period,
            n_win,
            n_fft,
            bin_hz: fs / n_fft as f64,
            limit_hz: rosin_core::formulas::band_limit_hz_f64(fs),
            win_plus,
            win_minus,
            off_plus,
            off_minus,
            rot,
            sum_w2,
        }
    }

    /// How far the analysis reaches either side of a frame centre, in samples.
    pub fn reach(&self) -> usize {
        (self.off_plus.abs().max(self.off_minus.abs()) as usize) + self.n_win + 2
    }
}

/// The expected f0 decides the window and search range, so a nonsensical one is replaced:
/// non-finite or non-positive → 110 Hz; otherwise clamped to [20 Hz, fs/8] (a period of at
/// least 8 samples keeps the window long enough to resolve partials).
fn sanitize_expected_f0(f: f64, fs: f64) -> f64 {
    let f = if f.is_finite() && f > 0.0 { f } else { 110.0 };
    f.clamp(20.0, (fs / 8.0).max(20.0))
}

/// The input signal with zero padding on both sides (so windows near the ends read zeros) and
/// non-finite samples replaced by zero (NaN/inf input analyses as silence instead of poisoning
/// every FFT it touches).
pub(crate) struct Signal {
    data: Vec<f32>,
    offset: usize,
}

impl Signal {
    pub fn new(audio: &[f32], pad: usize) -> Signal {
        let mut data = vec![0.0f32; audio.len() + 2 * pad];
        for (d, &x) in data[pad..].iter_mut().zip(audio) {
            *d = if x.is_finite() { x } else { 0.0 };
        }
        Signal { data, offset: pad }
    }

    /// `len` samples starting at signal position `start` (may be negative within the padding).
    #[inline]
    pub fn slice(&self, start: i64, len: usize) -> &[f32] {
        let s = (self.offset as i64 + start) as usize;
        &self.data[s..s + len]
    }
}

/// The two spectra of one frame and the quantities derived from them that every analysis needs.
pub(crate) struct FramePair {
    pub setup: Setup,
    fft: Arc<dyn RealToComplex<f32>>,
    input: Vec<f32>,
    scratch: Vec<Complex<f32>>,
    /// Raw FFT of the later / earlier windowed segment.
    pub plus: Vec<Complex<f32>>,
    pub minus: Vec<Complex<f32>>,
    /// `½(|B₊|² + |B₋|²)` per bin: the frame's power spectrum, centred on the frame.
    pub power: Vec<f32>,
    /// Centred cross-spectrum `D₊·conj(D₋)` per bin.
    pub cross: Vec<Complex<f32>>,
    /// Two-sided sum of `power` (Parseval: `n_fft · Σ w²x²`, averaged over the pair).
    pub energy: f64,
}

impl FramePair {
    pub fn new(setup: Setup) -> FramePair {
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(setup.n_fft);
        let bins = setup.n_fft / 2 + 1;
        FramePair {
            input: fft.make_input_vec(),
            scratch: fft.make_scratch_vec(),
            plus: vec![Complex::new(0.0, 0.0); bins],
            minus: vec![Complex::new(0.0, 0.0); bins],
            power: vec![0.0; bins],
            cross: vec![Complex::new(0.0, 0.0); bins],
            energy: 0.0,
            fft,
            setup,
        }
    }

    pub fn bins(&self) -> usize {
        self.power.len()
    }

    /// Transform the pair of segments around `centre` and fill `power` and `cross`.
    pub fn load(&mut self, signal: &Signal, centre: i64) {
        let n_win = self.setup.n_win;
        for (is_plus, off) in [(true, self.setup.off_plus), (false, self.setup.off_minus)] {
            let win = if is_plus { &self.setup.win_plus } else { &self.setup.win_minus };
            let x = signal.slice(centre + off, n_win);
            for ((d, &w), &s) in self.input.iter_mut().zip(win).zip(x) {
                *d = w * s;
            }
            self.input[n_win..].fill(0.0);
            let out = if is_plus { &mut self.plus } else { &mut self.minus };
            // Lengths are fixed at construction, so this cannot fail.
            self.fft
                .process_with_scratch(&mut self.input, out, &mut self.scratch)
                .expect("FFT buffer lengths are fixed at construction");
        }
        let bins = self.power.len();
        let spectra = self.plus.iter().zip(&self.minus).zip(&self.setup.rot);
        for ((p, c), ((a, b), r)) in self.power.iter_mut().zip(self.cross.iter_mut()).zip(spectra) {
            *p = 0.5 * (a.norm_sqr() + b.norm_sqr());
            *c = a * b.conj() * r;
        }
        // Energy in 8 lanes (a single accumulator serialises on the add latency).
        let mut lanes = [0.0f64; 8];
        for chunk in self.power.chunks(8) {
            for (l, &p) in lanes.iter_mut().zip(chunk) {
                *l += p as f64;
            }
        }
        // Interior bins count twice (negative frequencies); DC and Nyquist once.
        let energy: f64 = lanes.iter().sum();
        self.energy = 2.0 * energy - self.power[0] as f64 - self.power[bins - 1] as f64;
    }

    /// Weight of bin `m` in a two-sided (Parseval) sum over the one-sided spectrum.
    #[inline]
    pub fn side_weight(&self, m: usize) -> f64 {
        if m == 0 || 2 * m == self.setup.n_fft {
            1.0
        } else {
            2.0
        }
    }

    /// Window-weighted mean square of the frame, `Σ w²x² / Σ w²` averaged over the pair.
    pub fn mean_square(&self) -> f64 {
        self.energy / (self.setup.n_fft as f64 * self.setup.sum_w2)
    }
}
