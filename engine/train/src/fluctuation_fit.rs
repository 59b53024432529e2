//! Fits a model's fluctuation part ([`rosin_core::model::fluctuation`]) to the recordings: what
//! the trained network leaves unexplained, frame by frame, is the texture a player adds.
//!
//! 1. The network plays every training note with the recording's own inputs; the residual of
//!    each frame's `[ln level, harmonic bands, noise bands]` is the recording minus that prediction (bands
//!    harmonic bands judged only between the note's fundamental and 8 kHz, noise bands between 100 Hz
//!    and 16 kHz; frames within 30 dB of the note's
//!    loudest, long notes from 0.3 s on, past their onset).
//! 2. Residuals are split into each note's mean (its *take*) and what moves within it.
//!    Component 0 is the level, with the harmonic-band change that goes with it (regression);
//!    the next components are the principal directions of the rest (timbre).
//! 3. Per articulation, each component's pooled autocorrelation gives an autoregressive process
//!    (Yule–Walker / Levinson–Durbin, the maximum-likelihood Gaussian fit); its innovation is
//!    scaled per dynamic layer to that layer's variance.
//! 4. Take offsets: the spread of note means between the recordings' own round-robin takes of
//!    one key and layer (VSCO2's r1/r2); articulations recorded in one take get none.

use crate::data;
use rosin_core::model::fluctuation::{levinson, Fluctuation, FluctuationShape};
use rosin_core::model::Model;
use rosin_core::performance::pitch_to_hz;
use rosin_tools::dataset::store::PreparedNote;

#[derive(Debug, Clone, Copy)]
pub struct FitConfig {
    pub components: usize,
    pub order: usize,
}

impl Default for FitConfig {
    fn default() -> Self {
        // 3 components (level + two timbre directions) carry most of the residual; order 48
        // (192 ms of memory) resolves stroke rates down to about 5 Hz.
        FitConfig { components: 6, order: 48 }
    }
}

/// What the fit found, for the card and the training log.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct FitReport {
    pub notes: usize,
    pub frames: usize,
    /// Per articulation: (name, standard deviation of the within-note level residual in ln
    /// units, of the take offsets, number of take pairs).
    pub per_articulation: Vec<(String, f32, f32, usize)>,
    /// Share of the within-note residual variance (level and judged bands) the components carry.
    pub explained: f32,
}

/// One series the fit learns from: a note's residual (detrended), or the difference between two
/// takes of one key and layer.
struct NoteResidual {
    slot: usize,
    layer: usize,
    /// `[frame][width]` within-note residuals (zero on bands not judged).
    within: Vec<f32>,
    /// Per band: judged?
    mask: Vec<bool>,
    /// Per band mean of the series: the take's offset (only meaningful for take differences).
    mean: Vec<f32>,
    frames: usize,
    /// A difference of two takes (its mean is a take offset) rather than one note's residual.
    take_pair: bool,
}

/// A note's raw residual against the network: `[frame][width]` and which frames are judged.
struct RawResidual {
    slot: usize,
    layer: usize,
    key: u8,
    res: Vec<f32>,
    judged: Vec<bool>,
    mask: Vec<bool>,
    /// Per harmonic band: mean energy share exp(2·envelope) over judged frames (0 where not
    /// judged, and for noise bands: the partials carry the level).
    energy: Vec<f64>,
}

/// Frames of a note that are the recording itself (not the loop repeated for training).
fn recorded_frames(note: &PreparedNote, seq_frames: usize) -> usize {
    let n = match note.entry.loop_frames {
        Some((a, b)) if b > a + 25 && b <= note.features.frames => b,
        _ => seq_frames,
    };
    n.min(seq_frames)
}

fn raw_residual(model: &Model, note: &PreparedNote) -> Option<RawResidual> {
    let card = &model.card;
    let slot = card.articulation_slot(note.entry.articulation)?;
    // The network as a note without vibrato plays it: what the recording does beyond that is
    // what the synthesizer would otherwise lack (vibrato's own level movement included, which
    // the CC21 vibrato then adds on top only where a player asks for more).
    let seq = data::build_sequence_with(note, card, data::PitchInput::Key);
    let (ni, no) = (card.network.inputs, card.network.outputs);
    let width = Model::fluctuation_width(card);
    let frames = recorded_frames(note, seq.frames);
    let mut state = model.net.new_state();
    let mut pred = vec![0.0f32; no];
    let mut res = Vec::with_capacity(frames * width);
    for t in 0..frames {
        model.net.step(&mut state, &seq.inputs[t * ni..(t + 1) * ni], &mut pred);
        let target = &seq.targets[t * no..(t + 1) * no];
        res.extend((0..width).map(|i| target[i] - pred[i]));
    }
    let f0 = pitch_to_hz(note.entry.key as f32);
    let mask: Vec<bool> = std::iter::once(true)
        .chain((0..card.harmonic_bands.count).map(|b| {
            let c = card.harmonic_bands.centre(b);
            c >= 0.9 * f0 && c <= 8_000.0
        }))
        .chain(
            (0..card.noise_bands.count)
                .map(|b| NOISE_JUDGED && (100.0..=16_000.0).contains(&card.noise_bands.centre(b))),
        )
        .collect();
    let loudest = (0..frames).map(|t| seq.targets[t * no]).fold(f32::MIN, f32::max);
    let start =
        if note.entry.articulation.is_long() { (0.3 * rosin_core::formulas::CONTROL_RATE_HZ) as usize } else { 0 };
    let judged: Vec<bool> = (0..frames).map(|t| t >= start && seq.targets[t * no] >= loudest - 30.0 / 8.686).collect();
    let mut energy = vec![0.0f64; width];
    let count = judged.iter().filter(|j| **j).count().max(1) as f64;
    let harmonic_end = 1 + card.harmonic_bands.count;
    for t in (0..frames).filter(|&t| judged[t]) {
        for i in 1..harmonic_end {
            if mask[i] {
                energy[i] += (2.0 * seq.targets[t * no + i] as f64).exp() / count;
            }
        }
    }
    Some(RawResidual { slot, layer: note.entry.layer as usize, key: note.entry.key, res, judged, mask, energy })
}

fn mean_of(within: &[f32], frames: usize, width: usize) -> Vec<f32> {
    let mut mean = vec![0.0f32; width];
    for t in 0..frames {
        for i in 0..width {
            mean[i] += within[t * width + i];
        }
    }
    mean.iter_mut().for_each(|m| *m /= frames.max(1) as f32);
    mean
}

/// Frames over which a slow trend counts as the note's shape rather than its life: 2.2 s, the
/// window `rosin eval` measures fluctuation over (0.3–2.5 s after the onset).
const TREND_FRAMES: usize = 550;
/// Whether the noise bands' residuals are fitted too. Measured on the four sections (`rosin
/// eval`): with them the tremolo's level fluctuation fell to 0.74 (celli) and 0.73 (basses) of
/// the recordings' depth, without them 0.84 and 0.77, at the same spectral distance within 4 %;
/// frame-level noise-band estimates are noisy, and that noise is not texture. The noise
/// envelopes still follow the level component.
const NOISE_JUDGED: bool = false;

/// A note's residual over its judged frames in pieces of [`TREND_FRAMES`], each with a quadratic
/// trend removed per band: the network's systematic error is slow, what a player adds moves.
fn detrended(r: &RawResidual, width: usize) -> Vec<NoteResidual> {
    let all: Vec<usize> = (0..r.judged.len()).filter(|&t| r.judged[t]).collect();
    let mut out = Vec::new();
    for idx in all.chunks(TREND_FRAMES) {
        if let Some(piece) = detrended_piece(r, idx, width) {
            out.push(piece);
        }
    }
    out
}

fn detrended_piece(r: &RawResidual, idx: &[usize], width: usize) -> Option<NoteResidual> {
    let n = idx.len();
    if n < 16 {
        return None;
    }
    let mut within = vec![0.0f32; n * width];
    // Least squares on (1, x, x²) with x in -1..1.
    let xs: Vec<f64> = (0..n).map(|j| 2.0 * j as f64 / (n - 1) as f64 - 1.0).collect();
    let mut ata = [[0.0f64; 3]; 3];
    for &x in &xs {
        let v = [1.0, x, x * x];
        for a in 0..3 {
            for b in 0..3 {
                ata[a][b] += v[a] * v[b];
            }
        }
    }
    let inv = invert3(ata)?;
    for i in 0..width {
        if !r.mask[i] {
            continue;
        }
        let mut atb = [0.0f64; 3];
        for (j, &t) in idx.iter().enumerate() {
            let y = r.res[t * width + i] as f64;
            let x = xs[j];
            atb[0] += y;
            atb[1] += x * y;
            atb[2] += x * x * y;
        }
        let c: Vec<f64> = (0..3).map(|a| (0..3).map(|b| inv[a][b] * atb[b]).sum()).collect();
        for (j, &t) in idx.iter().enumerate() {
            let x = xs[j];
            within[j * width + i] = (r.res[t * width + i] as f64 - (c[0] + c[1] * x + c[2] * x * x)) as f32;
        }
    }
    Some(NoteResidual {
        slot: r.slot,
        layer: r.layer,
        mean: vec![0.0; width],
        within,
        mask: r.mask.clone(),
        frames: n,
        take_pair: false,
    })
}

fn invert3(m: [[f64; 3]; 3]) -> Option<[[f64; 3]; 3]> {
    let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    if det.abs() < 1e-12 {
        return None;
    }
    let mut out = [[0.0f64; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            let (a, b) = ((j + 1) % 3, (j + 2) % 3);
            let (c, d) = ((i + 1) % 3, (i + 2) % 3);
            out[i][j] = (m[a][c] * m[b][d] - m[a][d] * m[b][c]) / det;
        }
    }
    Some(out)
}

/// Two takes of one key and layer, frame by frame: (a - b) / √2 has the variance of one take's
/// deviation from their common cause, and the network's error (the same for both) cancels.
fn take_difference(a: &RawResidual, b: &RawResidual, width: usize) -> Option<NoteResidual> {
    let frames = a.judged.len().min(b.judged.len());
    let idx: Vec<usize> = (0..frames).filter(|&t| a.judged[t] && b.judged[t]).collect();
    if idx.len() < 16 {
        return None;
    }
    let mask: Vec<bool> = a.mask.iter().zip(&b.mask).map(|(x, y)| *x && *y).collect();
    let mut diff = Vec::with_capacity(idx.len() * width);
    for &t in &idx {
        diff.extend((0..width).map(|i| {
            if mask[i] {
                (a.res[t * width + i] - b.res[t * width + i]) * std::f32::consts::FRAC_1_SQRT_2
            } else {
                0.0
            }
        }));
    }
    let mean = mean_of(&diff, idx.len(), width);
    let within: Vec<f32> = diff.iter().enumerate().map(|(j, v)| v - mean[j % width]).collect();
    Some(NoteResidual { slot: a.slot, layer: a.layer, within, mask, mean, frames: idx.len(), take_pair: true })
}

/// The leading eigenvectors of a symmetric matrix (power iteration with deflation).
fn leading_eigenvectors(c: &[f64], n: usize, count: usize) -> Vec<Vec<f64>> {
    let mut m = c.to_vec();
    let mut out = Vec::new();
    for k in 0..count {
        let mut v: Vec<f64> = (0..n).map(|i| 1.0 + ((i * 7 + k * 3) % 5) as f64 * 0.1).collect();
        let mut lambda = 0.0;
        for _ in 0..500 {
            let mut w = vec![0.0f64; n];
            for i in 0..n {
                w[i] = (0..n).map(|j| m[i * n + j] * v[j]).sum();
            }
            let norm = w.iter().map(|x| x * x).sum::<f64>().sqrt();
            if norm <= 1e-20 {
                break;
            }
            lambda = norm;
            v = w.into_iter().map(|x| x / norm).collect();
        }
        for i in 0..n {
            for j in 0..n {
                m[i * n + j] -= lambda * v[i] * v[j];
            }
        }
        out.push(v);
    }
    out
}

/// Fits the fluctuation model of `model` on its training notes.
/// Sum of squares and frame count of component `c`'s series over the notes in `pool` (their
/// ratio is its mean square, all frames weighted alike).
fn sum_of_squares(series: &[Vec<Vec<f64>>], pool: &[usize], c: usize) -> (f64, f64) {
    pool.iter().fold((0.0f64, 0.0f64), |(s, n), &i| {
        (s + series[i][c].iter().map(|v| v * v).sum::<f64>(), n + series[i][c].len() as f64)
    })
}

pub fn fit(model: &Model, notes: &[PreparedNote], cfg: FitConfig) -> Option<(Fluctuation, FitReport)> {
    let card = &model.card;
    let width = Model::fluctuation_width(card);
    let (k, p) = (cfg.components.clamp(1, width), cfg.order.max(1));
    let layers = card.layer_dynamics.len().max(1);
    let arts = card.articulations.len();
    let raw: Vec<RawResidual> = notes.iter().filter_map(|n| raw_residual(model, n)).collect();
    // Articulations recorded in several takes learn from take differences, the rest from
    // their detrended residuals.
    let mut res: Vec<NoteResidual> = Vec::new();
    for slot in 0..arts {
        let mine: Vec<&RawResidual> = raw.iter().filter(|r| r.slot == slot).collect();
        let mut pairs = Vec::new();
        for (i, a) in mine.iter().enumerate() {
            for b in &mine[i + 1..] {
                if a.key == b.key && a.layer == b.layer {
                    pairs.extend(take_difference(a, b, width));
                }
            }
        }
        if pairs.len() >= 4 {
            res.extend(pairs);
        } else {
            res.extend(mine.iter().flat_map(|r| detrended(r, width)));
        }
    }
    if res.is_empty() {
        return None;
    }

    // Component 0: the level and the band change that goes with it.
    let (mut l2, mut lb) = (0.0f64, vec![0.0f64; width]);
    for r in &res {
        for t in 0..r.frames {
            let row = &r.within[t * width..(t + 1) * width];
            l2 += (row[0] as f64).powi(2);
            for i in 1..width {
                lb[i] += row[0] as f64 * row[i] as f64;
            }
        }
    }
    let mut basis = vec![0.0f32; k * width];
    basis[0] = 1.0;
    for i in 1..width {
        basis[i] = (lb[i] / l2.max(1e-12)) as f32;
    }
    // The rest: principal directions of what the level does not explain.
    let nb = width - 1;
    let mut cov = vec![0.0f64; nb * nb];
    let mut counts = vec![0.0f64; nb * nb];
    let rest = |r: &NoteResidual, t: usize, i: usize| -> f64 {
        let row = &r.within[t * width..(t + 1) * width];
        (row[1 + i] - basis[1 + i] * row[0]) as f64
    };
    for r in &res {
        for t in 0..r.frames {
            for i in 0..nb {
                if !r.mask[1 + i] {
                    continue;
                }
                let ui = rest(r, t, i);
                for j in 0..nb {
                    if r.mask[1 + j] {
                        cov[i * nb + j] += ui * rest(r, t, j);
                        counts[i * nb + j] += 1.0;
                    }
                }
            }
        }
    }
    for (c, n) in cov.iter_mut().zip(&counts) {
        *c = if *n > 0.0 { *c / n } else { 0.0 };
    }
    let vectors = leading_eigenvectors(&cov, nb, k - 1);
    for (c, v) in vectors.iter().enumerate() {
        for i in 0..nb {
            basis[(c + 1) * width + 1 + i] = v[i] as f32;
        }
    }
    // The synthesizer's partials take their amplitude from level + envelope, so an envelope
    // direction with a net energy-weighted shift would also move the level, which the
    // recordings' envelopes (relative to their RMS) do not. Remove that shift from every
    // direction: component 0 moves the level alone (plus its brightness change), the others
    // the timbre alone.
    let mut weights = vec![0.0f64; width];
    for r in &raw {
        for i in 1..width {
            weights[i] += r.energy[i];
        }
    }
    let wsum: f64 = weights.iter().sum();
    if wsum > 0.0 {
        for c in 0..k {
            let row = &mut basis[c * width..(c + 1) * width];
            let shift: f64 = (1..width).map(|i| weights[i] * row[i] as f64).sum::<f64>() / wsum;
            for v in row[1..].iter_mut() {
                *v -= shift as f32;
            }
        }
    }
    // Component series of a note (and of its mean, the take).
    let project = |r: &NoteResidual, row: &[f32], c: usize| -> f64 {
        if c == 0 {
            return row[0] as f64;
        }
        (0..nb)
            .filter(|&i| r.mask[1 + i])
            .map(|i| basis[c * width + 1 + i] as f64 * (row[1 + i] - basis[1 + i] * row[0]) as f64)
            .sum()
    };
    let series: Vec<Vec<Vec<f64>>> = res
        .iter()
        .map(|r| {
            (0..k)
                .map(|c| (0..r.frames).map(|t| project(r, &r.within[t * width..(t + 1) * width], c)).collect())
                .collect()
        })
        .collect();
    let means: Vec<Vec<f64>> = res.iter().map(|r| (0..k).map(|c| project(r, &r.mean, c)).collect()).collect();

    // Explained share of the within-note variance.
    let (mut total, mut kept) = (0.0f64, 0.0f64);
    for (r, s) in res.iter().zip(&series) {
        for t in 0..r.frames {
            let energy: f64 = r.within[t * width..(t + 1) * width].iter().map(|v| (*v as f64).powi(2)).sum();
            total += energy;
            let recon: Vec<f64> =
                (0..width).map(|i| (0..k).map(|c| s[c][t] * basis[c * width + i] as f64).sum::<f64>()).collect();
            let err: f64 =
                (0..width).filter(|&i| r.mask[i]).map(|i| (r.within[t * width + i] as f64 - recon[i]).powi(2)).sum();
            kept += energy - err;
        }
    }

    let mut ar = vec![0.0f32; arts * k * p];
    let mut innovation = vec![0.0f32; arts * layers * k];
    let mut take = vec![0.0f32; arts * layers * k];
    let mut report = FitReport {
        notes: res.len(),
        frames: res.iter().map(|r| r.frames).sum(),
        explained: (kept / total.max(1e-12)) as f32,
        ..Default::default()
    };
    for slot in 0..arts {
        let mine: Vec<usize> = (0..res.len()).filter(|&i| res[i].slot == slot).collect();
        if mine.is_empty() {
            continue;
        }
        let mut pairs = 0usize;
        for c in 0..k {
            let mut r = vec![0.0f64; p + 1];
            let mut n = 0.0f64;
            for &i in &mine {
                let x = &series[i][c];
                for lag in 0..=p {
                    if lag < x.len() {
                        r[lag] += x[lag..].iter().zip(x).map(|(a, b)| a * b).sum::<f64>();
                    }
                }
                n += x.len() as f64;
            }
            r.iter_mut().for_each(|v| *v /= n.max(1.0));
            let (a, ratio) = levinson(&r, p);
            for (j, v) in a.iter().enumerate() {
                ar[(slot * k + c) * p + j] = *v as f32;
            }
            for layer in 0..layers {
                let sel: Vec<usize> = mine.iter().copied().filter(|&i| res[i].layer == layer).collect();
                let pool = if sel.is_empty() { &mine } else { &sel };
                let (sq, cnt) = sum_of_squares(&series, pool, c);
                innovation[(slot * layers + layer) * k + c] = ((ratio * sq / cnt.max(1.0)).sqrt() as f32).min(4.0);
                let takes: Vec<usize> = sel.iter().copied().filter(|&i| res[i].take_pair).collect();
                let np = takes.len();
                if np > 0 {
                    // Each difference's mean already has one take's variance (see take_difference).
                    let d2: f64 = takes.iter().map(|&i| means[i][c].powi(2)).sum();
                    take[(slot * layers + layer) * k + c] = ((d2 / np as f64).sqrt() as f32).min(4.0);
                }
                if c == 0 {
                    pairs += np;
                }
            }
        }
        let level_std = {
            let (sq, cnt) = sum_of_squares(&series, &mine, 0);
            (sq / cnt.max(1.0)).sqrt() as f32
        };
        let take_std = (0..layers).map(|l| take[(slot * layers + l) * k]).fold(0.0f32, f32::max);
        report.per_articulation.push((card.articulations[slot].to_string(), level_std, take_std, pairs));
    }
    let shape = FluctuationShape { components: k, order: p };
    let f = Fluctuation::from_tensors(shape, arts, layers, width, [basis, ar, innovation, take]).ok()?;
    Some((f, report))
}
