//! Analysis: one recorded note → per-frame features at [`CONTROL_RATE_HZ`] (one feature frame per control frame) that the model learns to
//! predict and the synthesizer turns back into sound.
//!
//! Conventions (shared with `synth`):
//! - Frame `i` is centred at sample `round(i · fs / 250)`; `frames = ceil(len · 250 / fs)`.
//!   Samples outside the recording read as zero.
//! - `f0_hz`: refined f0 of voiced frames, 0.0 where unvoiced or silent.
//! - `periodicity`: normalised cross-correlation of the signal with itself one period later
//!   (0..1; about 1 − YIN's aperiodicity). Voiced means ≥ 0.5.
//! - `rms`: `sqrt(Σ w²x² / Σ w²)` over the analysis window pair around the frame (Blackman–Harris,
//!   6 expected periods): for a sinusoid of peak amplitude a it is a/√2, for noise it is σ.
//! - `harmonic`: `H_b` = ln *peak* amplitude of the partials at the band centres of
//!   `BandLayout::HARMONIC_V1`, so that `a_k = exp(layout.interpolate(H, k·f0))` reproduces the
//!   partials; floored at ln(1e-7). Partials run up to min(20 kHz, 0.45 fs).
//! - `noise`: `N_b = ½ ln S(f_b)` with `S` the one-sided PSD (power per Hz; noise variance is
//!   `∫₀^{fs/2} S df`) at band centres of `BandLayout::NOISE_V1`; floored at ½ ln(1e-16).
//! - In unvoiced frames (tremolo and pizzicato attacks are noisy) H and N are still measured,
//!   with partials at multiples of the f0 interpolated from the nearest voiced frames (held before
//!   the first and after the last; the expected f0 if no frame is voiced).
//! - Non-finite input samples are treated as zero, so NaN input yields silence: f0 = 0,
//!   periodicity = 0, rms = 0 and both envelopes at their floors. No input panics.
//!
//! How (see the submodules):
//! 1. Pitch (`stft`, `f0`): each frame is two FFTs of Blackman–Harris windows (6 expected
//!    periods) placed half an expected period before and after the centre. Their cross-spectrum
//!    gives the period (searched within ±1.5 semitones of the expected f0), a sub-cent f0 from the
//!    phase advance of the low partials over that lag, and the periodicity.
//! 2. The note is resampled along its own f0 contour so that every period is exactly `M` samples
//!    (`warp`): vibrato and glides no longer smear partials or spoil their cancellation.
//! 3. Envelopes (`envelope`), per frame on the warped note: subtracting two windows one period
//!    apart cancels every partial and leaves the noise, whose PSD gives N; the energy of each
//!    partial's cell (±f0/2) minus that noise gives a_k, which is turned into band values so that
//!    reading them back at k·f0 returns a_k.

mod envelope;
mod f0;
mod stft;
mod warp;

#[cfg(test)]
mod tests;

use rosin_core::bands::BandLayout;

use envelope::{Envelopes, WarpedPair, HARMONIC_FLOOR, NOISE_FLOOR};
use stft::{FramePair, Setup, Signal};
use warp::{warp, Contour, Interpolator};

use rosin_core::formulas::CONTROL_RATE_HZ;

/// Per-frame features of one note. Envelope matrices are row-major, one row per frame.
#[derive(Debug, Clone, PartialEq)]
pub struct NoteFeatures {
    pub frames: usize,
    /// Per frame; 0.0 where unvoiced or silent.
    pub f0_hz: Vec<f32>,
    /// 0..1 voicing confidence.
    pub periodicity: Vec<f32>,
    /// Linear RMS of the signal around the frame.
    pub rms: Vec<f32>,
    /// `frames × HARMONIC_V1.count`: ln peak partial amplitude at band centres, floor ln(1e-7).
    pub harmonic: Vec<f32>,
    /// `frames × NOISE_V1.count`: ln amplitude spectral density (½ ln PSD), floor ½ ln(1e-16).
    pub noise: Vec<f32>,
}

impl NoteFeatures {
    /// Harmonic envelope of frame `i`.
    pub fn harmonic_frame(&self, i: usize) -> &[f32] {
        let n = BandLayout::HARMONIC_V1.count;
        &self.harmonic[i * n..(i + 1) * n]
    }

    /// Noise envelope of frame `i`.
    pub fn noise_frame(&self, i: usize) -> &[f32] {
        let n = BandLayout::NOISE_V1.count;
        &self.noise[i * n..(i + 1) * n]
    }

    pub(crate) fn silent(frames: usize) -> NoteFeatures {
        NoteFeatures {
            frames,
            f0_hz: vec![0.0; frames],
            periodicity: vec![0.0; frames],
            rms: vec![0.0; frames],
            harmonic: vec![HARMONIC_FLOOR; frames * BandLayout::HARMONIC_V1.count],
            noise: vec![NOISE_FLOOR; frames * BandLayout::NOISE_V1.count],
        }
    }
}

/// Number of frames for `len` samples: `ceil(len · 250 / fs)` (0 for an empty input or fs = 0).
pub fn frame_count(len: usize, sample_rate: u32) -> usize {
    if sample_rate == 0 {
        return 0;
    }
    let num = len as u64 * CONTROL_RATE_HZ as u64;
    num.div_ceil(sample_rate as u64) as usize
}

/// Centre sample of frame `i`: `round(i · fs / 250)`.
pub fn frame_centre(i: usize, sample_rate: u32) -> i64 {
    let rate = CONTROL_RATE_HZ as u64;
    ((2 * i as u64 * sample_rate as u64 + rate) / (2 * rate)) as i64
}

/// Analyse one note. `expected_f0_hz` (from the note's label) sets the analysis window (6 periods)
/// and confines the pitch search to ±1.5 semitones around it; an invalid one is replaced by 110 Hz,
/// and it is clamped to [20 Hz, fs/8].
///
/// Two passes: (1) f0, periodicity and rms per frame on the recording; (2) the recording is
/// time-warped along the f0 contour (unvoiced frames take the contour interpolated from the nearest
/// voiced frames, or the expected f0 if none is voiced) and the harmonic and noise envelopes are
/// measured on the warped note, where every partial is exactly periodic.
pub fn analyse_note(audio: &[f32], sample_rate: u32, expected_f0_hz: f32) -> NoteFeatures {
    let frames = frame_count(audio.len(), sample_rate);
    let mut out = NoteFeatures::silent(frames);
    if frames == 0 {
        return out;
    }
    let setup = Setup::new(sample_rate, expected_f0_hz);
    let (fs, f_exp, limit_hz) = (setup.fs, setup.f_exp, setup.limit_hz);
    // Warped samples per period: even (the two windows sit ±M/2 from the centre) and ≥ 1.15
    // expected periods, so the warped grid oversamples even the lowest allowed f0.
    let m = 2 * (0.575 * setup.period).ceil() as usize;
    let mut wpair = WarpedPair::new(m);
    // Real samples the warped frames can reach beyond the ends (periods are ≤ 1.12 P_exp).
    let margin = (wpair.reach() as f64 / m as f64 * 1.15 * setup.period).ceil() as usize + 8;
    let signal = Signal::new(audio, setup.reach().max(margin + warp::Interpolator::REACH + 2));

    // Pass 1: pitch.
    let mut pair = FramePair::new(setup);
    let mut contour = vec![0.0f64; frames];
    let mut voiced = vec![false; frames];
    let mut silent = vec![false; frames];
    for i in 0..frames {
        pair.load(&signal, frame_centre(i, sample_rate));
        let p = f0::pitch(&pair);
        out.rms[i] = p.mean_square.sqrt() as f32;
        out.periodicity[i] = p.periodicity as f32;
        silent[i] = p.silent;
        if p.voiced {
            out.f0_hz[i] = p.f0 as f32;
            contour[i] = p.f0;
            voiced[i] = true;
        }
    }
    if silent.iter().all(|&s| s) {
        return out;
    }
    fill_contour(&mut contour, &voiced, f_exp);

    // Pass 2: envelopes on the warped note.
    let centres: Vec<i64> = (0..frames).map(|i| frame_centre(i, sample_rate)).collect();
    let interp = Interpolator::shared();
    let path = Contour { centres: &centres, f0_hz: &contour };
    let warped = warp(interp, &signal, (audio.len(), fs), &path, m, margin);
    let mut env = Envelopes::new((limit_hz * 1.2 / f_exp).ceil() as usize + 2);
    let (hc, nc) = (BandLayout::HARMONIC_V1.count, BandLayout::NOISE_V1.count);
    for i in 0..frames {
        if silent[i] {
            continue;
        }
        wpair.load(&warped.samples, warped.centres[i]);
        let noise = &mut out.noise[i * nc..(i + 1) * nc];
        env.noise_envelope(&wpair, contour[i], fs, noise);
        let harmonic = &mut out.harmonic[i * hc..(i + 1) * hc];
        env.harmonic_envelope(&wpair, contour[i], limit_hz, noise, harmonic);
    }
    out
}

/// f0 contour for the warp and for partial positions: voiced frames keep their f0, unvoiced ones
/// are interpolated linearly between the nearest voiced frames (held beyond the first and last),
/// and a note with no voiced frame uses the expected f0. Clamped to the search range (±12%).
fn fill_contour(contour: &mut [f64], voiced: &[bool], f_exp: f64) {
    let n = contour.len();
    let mut prev: Option<usize> = None;
    let mut i = 0;
    while i < n {
        if voiced[i] {
            prev = Some(i);
            i += 1;
            continue;
        }
        let next = (i..n).find(|&j| voiced[j]);
        let end = next.unwrap_or(n);
        for j in i..end {
            contour[j] = match (prev, next) {
                (Some(p), Some(q)) => {
                    let t = (j - p) as f64 / (q - p) as f64;
                    contour[p] + t * (contour[q] - contour[p])
                }
                (Some(p), None) => contour[p],
                (None, Some(q)) => contour[q],
                (None, None) => f_exp,
            };
        }
        i = end;
    }
    for c in contour.iter_mut() {
        *c = c.clamp(f_exp / 1.12, f_exp * 1.12);
    }
}

/// f0 track at [`CONTROL_RATE_HZ`] (one feature frame per control frame) and periodicity (0..1), searched within ±1.5 semitones of
/// `expected_f0_hz`. f0 is 0.0 in unvoiced (periodicity < 0.5) and silent frames.
pub fn estimate_f0(audio: &[f32], sample_rate: u32, expected_f0_hz: f32) -> (Vec<f32>, Vec<f32>) {
    let frames = frame_count(audio.len(), sample_rate);
    let mut f0 = vec![0.0; frames];
    let mut periodicity = vec![0.0; frames];
    if frames == 0 {
        return (f0, periodicity);
    }
    let setup = Setup::new(sample_rate, expected_f0_hz);
    let signal = Signal::new(audio, setup.reach());
    let mut pair = FramePair::new(setup);
    for i in 0..frames {
        pair.load(&signal, frame_centre(i, sample_rate));
        let p = f0::pitch(&pair);
        periodicity[i] = p.periodicity as f32;
        if p.voiced {
            f0[i] = p.f0 as f32;
        }
    }
    (f0, periodicity)
}

/// Median of |1200·log2(f / reference)| over voiced frames (finite f > 0); `None` if there are
/// none or the reference is not a positive finite frequency.
pub fn median_abs_cents(measured: &[f32], reference_hz: f32) -> Option<f32> {
    if !(reference_hz.is_finite() && reference_hz > 0.0) {
        return None;
    }
    let mut cents: Vec<f64> = measured
        .iter()
        .filter(|f| f.is_finite() && **f > 0.0)
        .map(|&f| (1200.0 * (f as f64 / reference_hz as f64).log2()).abs())
        .collect();
    if cents.is_empty() {
        return None;
    }
    cents.sort_by(|a, b| a.total_cmp(b));
    let n = cents.len();
    let median = if n % 2 == 1 { cents[n / 2] } else { 0.5 * (cents[n / 2 - 1] + cents[n / 2]) };
    Some(median as f32)
}
