//! Time warping: resample the note onto a grid of `M` samples per *cycle of its own f0 contour*.
//!
//! Why: the noise is measured by cancelling the partials between two windows one period apart
//! (a comb). With vibrato, partial k glides by k·Δf between the windows and no longer cancels:
//! at 110 Hz with ±30 cents vibrato the noise estimate came out ~16 dB too high. After warping,
//! the f0 contour is constant (exactly `M` samples per period), so every partial of a
//! quasi-periodic note is exactly periodic and cancels, whatever the vibrato or glide; harmonic
//! energies stop smearing across cells as well.
//!
//! The warp is one global resampling per note (not per frame): warped sample `j` sits at the time
//! where the contour's phase is `φ₀ + j/M` cycles. `M` is ≥ 1.15 expected periods in samples, so
//! the warped grid always oversamples the recording (no content is lost) and images of the
//! interpolation land above the recording's Nyquist, where nothing is measured.

use std::sync::OnceLock;

use super::stft::Signal;

/// Interpolation kernel length (windowed sinc): flat to 0.4535 fs (20 kHz at 44.1 kHz),
/// images attenuated by ~49 dB.
const TAPS: usize = 32;
/// Fractional positions tabulated; values between rows are linearly interpolated.
const PHASES: usize = 1024;
const KAISER_BETA: f64 = 4.45;

/// Zeroth-order modified Bessel function (series), for the Kaiser window.
fn bessel_i0(x: f64) -> f64 {
    let (mut sum, mut term) = (1.0, 1.0);
    for k in 1..64 {
        term *= (x / (2.0 * k as f64)).powi(2);
        sum += term;
        if term < 1e-17 * sum {
            break;
        }
    }
    sum
}

/// Band-limited fractional-position interpolator (Kaiser-windowed sinc, tabulated).
pub(crate) struct Interpolator {
    /// `(PHASES + 1) × TAPS`; row p holds the taps for fractional position p / PHASES.
    table: Vec<f32>,
}

impl Interpolator {
    /// The one table, built on first use (≈1 ms) and shared by every analysis.
    pub fn shared() -> &'static Interpolator {
        static TABLE: OnceLock<Interpolator> = OnceLock::new();
        TABLE.get_or_init(Interpolator::new)
    }

    fn new() -> Interpolator {
        let half = (TAPS / 2) as f64;
        let norm = bessel_i0(KAISER_BETA);
        let mut table = vec![0.0f32; (PHASES + 1) * TAPS];
        for p in 0..=PHASES {
            let frac = p as f64 / PHASES as f64;
            let row = &mut table[p * TAPS..(p + 1) * TAPS];
            let mut taps = [0.0f64; TAPS];
            for (q, tap) in taps.iter_mut().enumerate() {
                // Tap q multiplies x[n0 − (TAPS/2 − 1) + q]; τ is the distance to the output point.
                let tau = frac + (TAPS / 2 - 1) as f64 - q as f64;
                let sinc = if tau.abs() < 1e-12 {
                    1.0
                } else {
                    (std::f64::consts::PI * tau).sin() / (std::f64::consts::PI * tau)
                };
                let r = (tau / half).clamp(-1.0, 1.0);
                *tap = sinc * bessel_i0(KAISER_BETA * (1.0 - r * r).sqrt()) / norm;
            }
            // Unit DC gain at every position, so slow envelopes are not modulated.
            let sum: f64 = taps.iter().sum();
            for (o, t) in row.iter_mut().zip(taps) {
                *o = (t / sum) as f32;
            }
        }
        Interpolator { table }
    }

    /// Signal value at (fractional) sample position `t`.
    #[inline]
    fn at(&self, signal: &Signal, t: f64) -> f32 {
        // floor() without a libm call (no SSE4.1 in the baseline x86-64 target).
        let mut n0 = t as i64;
        if (n0 as f64) > t {
            n0 -= 1;
        }
        let pos = (t - n0 as f64) * PHASES as f64;
        let p = (pos as usize).min(PHASES - 1);
        let a = (pos - p as f64) as f32;
        let x = signal.slice(n0 - (TAPS / 2 - 1) as i64, TAPS);
        let r0 = &self.table[p * TAPS..(p + 1) * TAPS];
        let r1 = &self.table[(p + 1) * TAPS..(p + 2) * TAPS];
        // Blend the two rows and take the dot product in 4 independent lanes (vectorizes; a
        // single float accumulator would serialise on the add latency).
        let mut acc = [0.0f32; 4];
        for ((xc, c0), c1) in x.chunks_exact(4).zip(r0.chunks_exact(4)).zip(r1.chunks_exact(4)) {
            for i in 0..4 {
                acc[i] += xc[i] * (c0[i] + a * (c1[i] - c0[i]));
            }
        }
        (acc[0] + acc[1]) + (acc[2] + acc[3])
    }

    /// Samples the interpolator reads beyond a position on either side.
    pub const REACH: usize = TAPS / 2 + 1;
}

/// The note resampled onto its own phase: `samples[j]` is the signal where the f0 contour's
/// phase is `(j − origin) / M` cycles past its phase at sample 0.
pub(crate) struct Warped {
    pub samples: Vec<f32>,
    /// Warped index of each frame centre (rounded: ≤ half a warped sample off).
    pub centres: Vec<i64>,
}

/// An f0 contour: `f0_hz[i]` at sample `centres[i]` (sorted, the first at 0, at least one).
pub(crate) struct Contour<'a> {
    pub centres: &'a [i64],
    pub f0_hz: &'a [f64],
}

/// Warp `signal` (of `len` samples at `fs`) along `contour`, `m` warped samples per cycle,
/// covering `margin` samples beyond both ends. The contour is linear between centres and constant
/// beyond the first and last, so the phase is piecewise quadratic and its inverse is exact.
pub(crate) fn warp(
    interp: &Interpolator,
    signal: &Signal,
    (len, fs): (usize, f64),
    contour: &Contour,
    m: usize,
    margin: usize,
) -> Warped {
    let (centres, f0_hz) = (contour.centres, contour.f0_hz);
    let n = centres.len();
    // Phase (cycles) at each frame centre.
    let mut phase = vec![0.0f64; n];
    for i in 1..n {
        let dt = (centres[i] - centres[i - 1]) as f64 / fs;
        phase[i] = phase[i - 1] + 0.5 * (f0_hz[i - 1] + f0_hz[i]) * dt;
    }
    let inv_b: Vec<f64> = f0_hz.iter().map(|f| 1.0 / f).collect();
    let phase_at = |t: f64| -> f64 {
        if t <= centres[0] as f64 {
            phase[0] + f0_hz[0] * (t - centres[0] as f64) / fs
        } else {
            phase[n - 1] + f0_hz[n - 1] * (t - centres[n - 1] as f64) / fs
        }
    };
    let t_start = -(margin as f64);
    let t_end = (len + margin) as f64;
    let phi_start = phase_at(t_start.min(centres[0] as f64));
    let phi_end = if t_end >= centres[n - 1] as f64 { phase_at(t_end) } else { phase[n - 1] };
    let mf = m as f64;
    let inv_m = 1.0 / mf;
    let count = ((phi_end - phi_start) * mf).floor() as usize + 1;
    let mut samples = Vec::with_capacity(count);
    let mut i = 0; // interval [centres[i], centres[i+1]] holding the current phase
    for j in 0..count {
        let phi = phi_start + j as f64 * inv_m;
        let t = if phi <= phase[0] {
            centres[0] as f64 + (phi - phase[0]) * fs / f0_hz[0]
        } else {
            while i + 1 < n && phase[i + 1] < phi {
                i += 1;
            }
            if i + 1 >= n {
                centres[n - 1] as f64 + (phi - phase[n - 1]) * fs / f0_hz[n - 1]
            } else {
                // φ − Φ_i = (f_i τ + ½ (f_{i+1} − f_i) τ² / Δ) / fs, solved for τ ∈ [0, Δ].
                let delta = (centres[i + 1] - centres[i]) as f64;
                let a = 0.5 * (f0_hz[i + 1] - f0_hz[i]) / delta;
                let b = f0_hz[i];
                let c = (phi - phase[i]) * fs;
                // τ = 2c / (b + √(b² + 4ac)); the contour changes little within 4 ms, so
                // q = ac/b² is tiny and the series c/b·(1 − q + 2q²) is exact to ~5q³ and needs
                // no square root or division per sample.
                let c_over_b = c * inv_b[i];
                let q = a * c_over_b * inv_b[i];
                let tau = if q.abs() < 1e-3 {
                    c_over_b * (1.0 - q + 2.0 * q * q)
                } else {
                    2.0 * c / (b + (b * b + 4.0 * a * c).max(0.0).sqrt())
                };
                centres[i] as f64 + tau
            }
        };
        samples.push(interp.at(signal, t));
    }
    let frame_centres = phase.iter().map(|&p| ((p - phi_start) * mf).round() as i64).collect();
    Warped { samples, centres: frame_centres }
}
