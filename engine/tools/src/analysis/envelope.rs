//! Per-frame harmonic and noise envelopes on the model's band layouts, measured on the
//! time-warped note (see `warp`), where the f0 contour is exactly `M` samples per period.
//!
//! Each frame is a pair of Blackman–Harris windows (6 periods) half a period before and after the
//! frame centre, `D₋` and `D₊`. Both envelopes are measured so that resynthesis (partials of peak
//! amplitude `a_k` plus Gaussian noise of PSD `S(f)`) gives back the frame's power spectrum:
//! - Noise first, from the comb `E = D₊ − D₋`: the two windows are exactly one period apart, so
//!   every partial cancels, main lobe and sidelobes alike, and only noise is left. Its power gain
//!   for noise is known per bin, `G = 2 − 2ρ cos(2π m M / N)` (ρ: window autocorrelation at the
//!   lag), so `S = 2 Σ|E|² / (fs_w Σw² ΣG)` over a band's bins (`fs_w = M·f0`, the warped
//!   sampling rate). Only bins at least a third of the way to the next partial are used, so a
//!   partial that does not cancel perfectly (amplitude change, inharmonicity) contributes little.
//!   A band holds few independent bins at low frequencies, and the log of a few exponentials is
//!   biased low, so `N_b` gets the Gamma-distribution correction `ln n − ψ(n)` (n: the band's
//!   effective degrees of freedom). N is then unbiased on average over frames (the quantity a
//!   model trained with a squared loss learns); its per-frame median sits a few tenths of a dB high.
//! - Then harmonics: the energy in partial k's cell (all bins within ±f0/2 of k·f0), minus the
//!   noise energy that cell holds by the noise estimate, converted to peak amplitude by Parseval
//!   (`a² = 4 P / (N Σw²)`). Energy rather than the peak bin makes the estimate immune to where
//!   the partial falls between bins and to smearing by vibrato, and keeps harmonic + noise energy
//!   equal to the measured energy.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

use rosin_core::bands::BandLayout;

use super::stft::{blackman_harris, good_fft_len, PERIODS_PER_WINDOW};

/// Floor of harmonic band values: ln(1e-7) (−140 dB re. full-scale peak amplitude).
pub(crate) const HARMONIC_FLOOR: f32 = -16.118_095;
/// Floor of noise band values: 0.5·ln(1e-16).
pub(crate) const NOISE_FLOOR: f32 = -18.420_681;
/// A partial's power never drops below this fraction of its cell's measured power, so partials
/// buried in noise keep a smooth, slightly low value (adding ≤ 5% power on resynthesis) instead of
/// jumping to the floor whenever the noise estimate happens to exceed the cell energy.
const HARMONIC_KEEP: f64 = 0.05;
/// Noise is measured only where `cos φ ≤` this, i.e. at least 1/3 of the way between partials.
const NOISE_MAX_COS: f64 = -0.5;
/// Noise is measured only below this fraction of the recording's sample rate: above it the
/// recording's own anti-alias filter and the warp's interpolator roll off.
const NOISE_MAX_FRACTION_OF_FS: f64 = 0.46;

/// The two spectra of one frame of the warped note.
pub(crate) struct WarpedPair {
    /// Warped samples per period.
    pub m: usize,
    n_win: usize,
    pub n_fft: usize,
    window: Vec<f32>,
    /// `Σ w²` of the window: the PSD and amplitude scale.
    pub sum_w2: f64,
    fft: Arc<dyn RealToComplex<f32>>,
    input: Vec<f32>,
    scratch: Vec<Complex<f32>>,
    plus: Vec<Complex<f32>>,
    minus: Vec<Complex<f32>>,
    /// `½(|D₊|² + |D₋|²)` per bin, and its running sum (`prefix[m]` = sum of bins below m).
    power: Vec<f32>,
    prefix: Vec<f64>,
    /// Comb noise power gain per bin where the bin is used for noise, 0 where it is not.
    gain: Vec<f32>,
    /// ρ²(d): squared correlation of the noise in bins d apart (transform of w², normalised).
    corr2: Vec<f64>,
}

impl WarpedPair {
    /// `m` (even) warped samples per period.
    pub fn new(m: usize) -> WarpedPair {
        let span = PERIODS_PER_WINDOW * m as f64;
        let half_span = (span / 2.0).round() as i64;
        let n_win = 2 * half_span as usize + 1;
        let window: Vec<f32> = (-half_span..=half_span).map(|j| blackman_harris(j as f64, span) as f32).collect();
        let sum_w2: f64 = window.iter().map(|&w| (w as f64).powi(2)).sum();
        let lagged: f64 = window.iter().zip(&window[m.min(n_win)..]).map(|(&a, &b)| a as f64 * b as f64).sum();
        let rho = lagged / sum_w2;
        let n_fft = good_fft_len(n_win);
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(n_fft);
        let bins = n_fft / 2 + 1;
        let gain = (0..bins)
            .map(|k| {
                let c = (std::f64::consts::TAU * (k * m) as f64 / n_fft as f64).cos();
                if c <= NOISE_MAX_COS {
                    (2.0 - 2.0 * rho * c) as f32
                } else {
                    0.0
                }
            })
            .collect::<Vec<f32>>();
        // Correlation of the noise at bins d apart: |transform of w²| at d, normalised.
        let reach = (8.0 * n_fft as f64 / n_win as f64).ceil() as usize + 1;
        let corr2: Vec<f64> = (0..=reach)
            .map(|d| {
                let w = std::f64::consts::TAU * d as f64 / n_fft as f64;
                let (mut re, mut im) = (0.0, 0.0);
                for (j, &v) in window.iter().enumerate() {
                    let v2 = (v as f64).powi(2);
                    re += v2 * (w * j as f64).cos();
                    im -= v2 * (w * j as f64).sin();
                }
                (re * re + im * im) / (sum_w2 * sum_w2)
            })
            .collect();
        WarpedPair {
            m,
            n_win,
            n_fft,
            window,
            sum_w2,
            input: fft.make_input_vec(),
            scratch: fft.make_scratch_vec(),
            plus: vec![Complex::new(0.0, 0.0); bins],
            minus: vec![Complex::new(0.0, 0.0); bins],
            power: vec![0.0; bins],
            prefix: vec![0.0; bins + 1],
            gain,
            corr2,
            fft,
        }
    }

    fn bins(&self) -> usize {
        self.power.len()
    }

    /// Samples of the warped note a frame reads on either side of its centre.
    pub fn reach(&self) -> usize {
        self.m / 2 + self.n_win / 2 + 1
    }

    /// Transform the pair of windows around warped sample `centre`.
    pub fn load(&mut self, y: &[f32], centre: i64) {
        let half_win = (self.n_win / 2) as i64;
        let half_lag = (self.m / 2) as i64;
        for is_plus in [true, false] {
            let start = centre + if is_plus { half_lag } else { -half_lag } - half_win;
            if start >= 0 && start as usize + self.n_win <= y.len() {
                let x = &y[start as usize..start as usize + self.n_win];
                for ((d, &w), &x) in self.input.iter_mut().zip(&self.window).zip(x) {
                    *d = w * x;
                }
            } else {
                // Beyond the warped note (cannot happen with the margins analyse_note uses).
                for (j, (d, &w)) in self.input.iter_mut().zip(&self.window).enumerate() {
                    let idx = start + j as i64;
                    let inside = idx >= 0 && (idx as usize) < y.len();
                    *d = if inside { w * y[idx as usize] } else { 0.0 };
                }
            }
            self.input[self.n_win..].fill(0.0);
            let out = if is_plus { &mut self.plus } else { &mut self.minus };
            self.fft
                .process_with_scratch(&mut self.input, out, &mut self.scratch)
                .expect("FFT buffer lengths are fixed at construction");
        }
        let mut acc = 0.0f64;
        self.prefix[0] = 0.0;
        for k in 0..self.power.len() {
            let p = 0.5 * (self.plus[k].norm_sqr() + self.minus[k].norm_sqr());
            self.power[k] = p;
            acc += p as f64;
            self.prefix[k + 1] = acc;
        }
    }
}

pub(crate) struct Envelopes {
    harm: BandLayout,
    noise: BandLayout,
    /// Noise band edges in Hz (geometric midpoints between centres), `count + 1` of them.
    noise_edges: Vec<f64>,
    /// ln k for k = 1.. (index k−1), so partial frequencies need no logarithm per frame.
    ln_k: Vec<f64>,
    /// Per partial (index k−1): ln peak amplitude and squared peak amplitude.
    ln_amp: Vec<f64>,
    amp2: Vec<f64>,
    /// Degrees of freedom of each noise band's estimate (see `dof`).
    dof_cache: Vec<Option<(usize, usize, f64)>>,
}

impl Envelopes {
    /// `max_partials`: the most partials a frame can have (band limit over the lowest f0).
    pub fn new(max_partials: usize) -> Envelopes {
        let harm = BandLayout::HARMONIC_V1;
        let noise = BandLayout::NOISE_V1;
        let ratio = ((noise.max_hz / noise.min_hz) as f64).powf(1.0 / (noise.count - 1) as f64);
        let noise_edges = (0..=noise.count).map(|b| noise.min_hz as f64 * ratio.powf(b as f64 - 0.5)).collect();
        let max_partials = max_partials.max(1);
        Envelopes {
            harm,
            noise,
            noise_edges,
            ln_k: (1..=max_partials).map(|k| (k as f64).ln()).collect(),
            ln_amp: vec![0.0; max_partials],
            amp2: vec![0.0; max_partials],
            dof_cache: vec![None; noise.count],
        }
    }

    /// Noise envelope `N_b = ½ ln S(f_b)` of a frame whose local f0 is `f0` (so warped bin k is
    /// at `k·M·f0/N` Hz), for a recording at `fs`.
    pub fn noise_envelope(&mut self, pair: &WarpedPair, f0: f64, fs: f64, out: &mut [f32]) {
        let fs_w = pair.m as f64 * f0;
        let hz_per_bin = fs_w / pair.n_fft as f64;
        let max_bin = ((NOISE_MAX_FRACTION_OF_FS * fs / hz_per_bin) as usize).min(pair.bins() - 2);
        let scale = 2.0 / (fs_w * pair.sum_w2);
        for (b, o) in out.iter_mut().enumerate().take(self.noise.count) {
            let lo = ((self.noise_edges[b] / hz_per_bin).ceil() as usize).max(1);
            let hi = ((self.noise_edges[b + 1] / hz_per_bin).ceil() as usize).min(max_bin + 1);
            let (mut se, mut sg, mut cnt) = (0.0f64, 0.0f64, 0u32);
            for k in lo..hi.max(lo) {
                let g = pair.gain[k];
                if g > 0.0 {
                    se += (pair.plus[k] - pair.minus[k]).norm_sqr() as f64;
                    sg += g as f64;
                    cnt += 1;
                }
            }
            if cnt == 0 {
                *o = f32::NAN; // filled below
                continue;
            }
            let psd = scale * se / sg;
            // The estimate is spread like a Gamma variable of shape n (n independent exponentials),
            // for which E[ln] = ln(mean) − (ln n − ψ(n)): undo that bias so the envelope is
            // unbiased in the log domain where the model learns it.
            let n = self.dof(pair, b, lo, hi);
            let bias = n.ln() - digamma(n);
            *o = ((0.5 * (psd.ln() + bias)) as f32).max(NOISE_FLOOR);
        }
        fill_gaps(out, NOISE_FLOOR);
    }

    /// Independent exponentials the noise estimate of band `b` (bins `lo..hi`) is worth:
    /// `(Σ g)² / Σ_ij g_i g_j ρ²(i−j)` over the band's noise bins. Cached per band: recomputed
    /// when a narrow band's bin range changes, or a wide band's width by more than 10% (its
    /// bias correction is small and varies slowly with width).
    fn dof(&mut self, pair: &WarpedPair, b: usize, lo: usize, hi: usize) -> f64 {
        if let Some((clo, chi, n)) = self.dof_cache[b] {
            let (w, cw) = (hi.saturating_sub(lo), chi.saturating_sub(clo));
            let same = if cw < 40 { (clo, chi) == (lo, hi) } else { w.abs_diff(cw) * 10 <= cw };
            if same {
                return n;
            }
        }
        let (mut s1, mut s2) = (0.0, 0.0);
        let reach = pair.corr2.len() - 1;
        for i in lo..hi.max(lo) {
            let gi = pair.gain[i] as f64;
            if gi <= 0.0 {
                continue;
            }
            s1 += gi;
            for j in i.saturating_sub(reach).max(lo)..(i + reach + 1).min(hi) {
                s2 += gi * pair.gain[j] as f64 * pair.corr2[i.abs_diff(j)];
            }
        }
        let n = if s2 > 0.0 { (s1 * s1 / s2).max(0.5) } else { 1.0 };
        self.dof_cache[b] = Some((lo, hi, n));
        n
    }

    /// Harmonic envelope `H_b` (ln peak amplitude at band centres) of a frame whose local f0 is
    /// `f0`, partials below `limit_hz`, given this frame's noise envelope (whose share is removed
    /// from each partial's cell).
    pub fn harmonic_envelope(&mut self, pair: &WarpedPair, f0: f64, limit_hz: f64, noise: &[f32], out: &mut [f32]) {
        let bins = pair.bins();
        let partials = (((limit_hz / f0).ceil() as usize).saturating_sub(1)).max(1);
        if partials > self.ln_amp.len() {
            // Only if f0 fell below the range the caller sized for; never in practice.
            self.ln_amp.resize(partials, 0.0);
            self.amp2.resize(partials, 0.0);
            self.ln_k = (1..=partials).map(|k| (k as f64).ln()).collect();
        }
        let fs_w = pair.m as f64 * f0;
        let noise_per_bin = 0.5 * fs_w * pair.sum_w2; // E|X|² per unit PSD
        let norm = 4.0 / (pair.n_fft as f64 * pair.sum_w2);
        let floor = HARMONIC_FLOOR as f64;
        // Noise band position of partial k: (ln k + ln f0 − ln f_min) / ln(ratio).
        let nl = self.noise;
        let n_scale = (nl.count - 1) as f64 / ((nl.max_hz / nl.min_hz) as f64).ln();
        let n_base = (f0 / nl.min_hz as f64).ln();
        let n_last = (nl.count - 1) as f64;
        // Cell of partial k: bins from ceil((k − ½)·N/M) up to ceil((k + ½)·N/M), exactly.
        let (n, two_m) = (pair.n_fft, 2 * pair.m);
        let cell_start = |k: usize| ((((2 * k).saturating_sub(1)) * n).div_ceil(two_m)).min(bins);
        let mut a = cell_start(1);
        for k in 1..=partials {
            let b = cell_start(k + 1);
            let p_cell = pair.prefix[b] - pair.prefix[a];
            let x = ((self.ln_k[k - 1] + n_base) * n_scale).clamp(0.0, n_last);
            let lo = (x as usize).min(nl.count - 2);
            let t = x - lo as f64;
            let n_at = noise[lo] as f64 + t * (noise[lo + 1] as f64 - noise[lo] as f64);
            let p_noise = (b - a) as f64 * (2.0 * n_at as f32).exp() as f64 * noise_per_bin;
            a = b;
            let p_h = (p_cell - p_noise).max(HARMONIC_KEEP * p_cell);
            let a2 = norm * p_h;
            // f32 logarithm: ample precision for a log amplitude, and twice as fast.
            let la = 0.5 * (a2 as f32).ln() as f64;
            if la > floor {
                self.ln_amp[k - 1] = la;
                self.amp2[k - 1] = a2;
            } else {
                self.ln_amp[k - 1] = floor;
                self.amp2[k - 1] = (2.0 * floor).exp();
            }
        }
        self.bands(f0, partials, out);
    }

    /// From partial amplitudes to band values. Where partials are sparser than bands (low
    /// frequencies), interpolate ln a_k linearly in log-frequency between neighbouring partials
    /// (then `fit_sparse_partials` makes the read-back at each partial exact). Where a band's
    /// interpolation support (the two neighbouring centres) holds ≥ 2 partials, take the
    /// hat-weighted *power* mean of those partials: reading back then preserves each region's
    /// harmonic energy instead of sampling whichever partial sits nearest the centre. Bands below
    /// f0 take a_1; the first band above the last partial continues the trend through it (so the
    /// last partial reads back right); bands beyond that are at the floor.
    fn bands(&self, f0: f64, partials: usize, out: &mut [f32]) {
        let layout = self.harm;
        let ln_ratio = ((layout.max_hz / layout.min_hz) as f64).ln() / (layout.count - 1) as f64;
        let f_last = partials as f64 * f0;
        let ln_f0 = f0.ln();
        let ln_min = (layout.min_hz as f64).ln();
        let mut prev = HARMONIC_FLOOR as f64;
        for (b, o) in out.iter_mut().enumerate().take(layout.count) {
            let fb = layout.min_hz as f64 * (ln_ratio * b as f64).exp();
            let flo = fb * (-ln_ratio).exp();
            let fhi = fb * ln_ratio.exp();
            let k_lo = ((flo / f0).floor() as usize + 1).max(1);
            let k_hi = (((fhi / f0).ceil() as usize).saturating_sub(1)).min(partials);
            let v = if k_hi > k_lo {
                let (mut num, mut den, mut offset) = (0.0, 0.0, 0.0);
                let ln_fb = ln_min + ln_ratio * b as f64;
                for k in k_lo..=k_hi {
                    let x = (self.ln_k[k - 1] + ln_f0 - ln_fb) / ln_ratio;
                    let wgt = 1.0 - x.abs();
                    if wgt > 0.0 {
                        num += wgt * self.amp2[k - 1];
                        den += wgt;
                        offset += wgt * x;
                    }
                }
                if den > 0.0 {
                    let mean = 0.5 * (num / den).ln();
                    // The mean belongs at the partials' centroid, b + d. Where the partials cover
                    // only the lower part of the hat (the band above the last partial), d < 0:
                    // extend the line from the previous band through it to the centre instead.
                    let d = offset / den;
                    if d < -0.05 && d > -0.7 && b > 0 {
                        mean + (mean - prev) / (1.0 + d) * (-d)
                    } else {
                        mean
                    }
                } else {
                    HARMONIC_FLOOR as f64
                }
            } else if fb <= f0 {
                self.ln_amp[0]
            } else if fb >= f_last {
                if flo < f_last {
                    // First band above the last partial: continue the line from the previous
                    // band through the last partial, so reading back at f_K gives a_K.
                    let t = (f_last / flo).ln() / ln_ratio;
                    let la = self.ln_amp[partials - 1];
                    // (Bounded: this band is only ever read between the previous one and f_K.)
                    if t >= 0.1 && b > 0 {
                        ((la - (1.0 - t) * prev) / t).clamp(la - 1.0, la + 1.0)
                    } else {
                        la
                    }
                } else {
                    HARMONIC_FLOOR as f64
                }
            } else {
                let k = ((fb / f0).floor() as usize).clamp(1, partials - 1);
                let t = (fb / (k as f64 * f0)).ln() / ((k + 1) as f64 / k as f64).ln();
                self.ln_amp[k - 1] + t * (self.ln_amp[k] - self.ln_amp[k - 1])
            };
            *o = (v as f32).max(HARMONIC_FLOOR);
            prev = *o as f64;
        }
        self.fit_sparse_partials(f0, partials, out);
    }

    /// Where partials are more than a band apart (the lowest dozen), sampling the partial-to-
    /// partial line at band centres cuts the corners at each partial (e.g. 0.7 dB at partial 2
    /// when the fundamental is 20 dB weaker). Adjust, for each such partial, the band nearest to
    /// it so that interpolation returns ln a_k exactly at k·f0; for the fundamental adjust the
    /// band below it, which nothing else reads. A few Gauss–Seidel sweeps settle the couplings
    /// between neighbouring partials; each adjustment is bounded to ±1 neper.
    fn fit_sparse_partials(&self, f0: f64, partials: usize, out: &mut [f32]) {
        let layout = self.harm;
        let ln_ratio = ((layout.max_hz / layout.min_hz) as f64).ln() / (layout.count - 1) as f64;
        // Partial k is more than one band from k+1 while ln((k+1)/k) > ln_ratio.
        let sparse = ((1.0 / ln_ratio.exp_m1()).floor() as usize).min(partials);
        let base_x = (f0 / layout.min_hz as f64).ln() / ln_ratio;
        let last = (layout.count - 1) as f64;
        for _ in 0..4 {
            for k in 1..=sparse {
                let x = base_x + self.ln_k[k - 1] / ln_ratio;
                if x <= 0.0 || x >= last {
                    continue;
                }
                let j = x.floor() as usize;
                let t = x - j as f64;
                let la = self.ln_amp[k - 1];
                let (lo, hi) = (out[j] as f64, out[j + 1] as f64);
                if k == 1 || t < 0.5 {
                    if t > 0.9 {
                        continue;
                    }
                    let v = ((la - t * hi) / (1.0 - t)).clamp(lo - 1.0, lo + 1.0);
                    out[j] = (v as f32).max(HARMONIC_FLOOR);
                } else {
                    let v = ((la - (1.0 - t) * lo) / t).clamp(hi - 1.0, hi + 1.0);
                    out[j + 1] = (v as f32).max(HARMONIC_FLOOR);
                }
            }
        }
    }
}

/// ψ(x) for x > 0: recurrence up to x ≥ 6, then the asymptotic series.
fn digamma(mut x: f64) -> f64 {
    let mut acc = 0.0;
    while x < 6.0 {
        acc -= 1.0 / x;
        x += 1.0;
    }
    let inv2 = 1.0 / (x * x);
    acc + x.ln() - 0.5 / x - inv2 * (1.0 / 12.0 - inv2 * (1.0 / 120.0 - inv2 / 252.0))
}

/// Replace NaN entries (bands that got no bins) by linear interpolation between the nearest
/// measured bands, constant beyond the first/last; all `floor` if none was measured.
fn fill_gaps(v: &mut [f32], floor: f32) {
    let mut prev: Option<usize> = None;
    let n = v.len();
    let mut i = 0;
    while i < n {
        if !v[i].is_nan() {
            prev = Some(i);
            i += 1;
            continue;
        }
        let next = (i..n).find(|&j| !v[j].is_nan());
        match (prev, next) {
            (Some(p), Some(q)) => {
                for j in i..q {
                    let t = (j - p) as f32 / (q - p) as f32;
                    v[j] = v[p] + t * (v[q] - v[p]);
                }
                i = q;
            }
            (None, Some(q)) => {
                let val = v[q];
                v[i..q].fill(val);
                i = q;
            }
            (Some(p), None) => {
                let val = v[p];
                v[i..].fill(val);
                i = n;
            }
            (None, None) => {
                v.fill(floor);
                i = n;
            }
        }
    }
}
