//! Training examples: each analysed note becomes a sequence of network inputs and target
//! outputs, frame by frame from its onset.

use rosin_core::formulas::CONTROL_RATE_HZ;
use rosin_core::model::inputs::{self, VoiceInputs, MAX_SECONDS};
use rosin_core::model::ModelCard;
use rosin_tools::dataset::store::PreparedNote;

/// One note as network inputs and targets (row-major, one row per frame).
pub struct Sequence {
    pub frames: usize,
    pub inputs: Vec<f32>,
    pub targets: Vec<f32>,
    pub articulation_slot: usize,
    pub is_long: bool,
}

/// Targets of one frame: ln RMS, then harmonic and noise envelopes relative to it.
pub fn frame_targets(note: &PreparedNote, f: usize, out: &mut [f32]) {
    let feat = &note.features;
    let nh = feat.harmonic.len() / feat.frames.max(1);
    let nn = feat.noise.len() / feat.frames.max(1);
    let ln_rms = feat.rms[f].max(1e-7).ln();
    out[0] = ln_rms;
    for b in 0..nh {
        out[1 + b] = feat.harmonic[f * nh + b] - ln_rms;
    }
    for b in 0..nn {
        out[1 + nh + b] = feat.noise[f * nn + b] - ln_rms;
    }
}

/// The pitch the network is told: the measured f0 where it is trustworthy (so vibrato in the
/// recording maps to the right spectral envelope), else the labelled key.
fn frame_pitch(note: &PreparedNote, f: usize) -> f32 {
    let key = note.entry.key as f32;
    let f0 = note.features.f0_hz[f];
    if f0 > 0.0 && note.features.periodicity[f] > 0.5 {
        let p = 69.0 + 12.0 * (f0 / 440.0).log2();
        if (p - key).abs() < 1.5 {
            return p;
        }
    }
    key
}

/// Frame indices to play: the note from its onset, sustained notes extended by repeating their
/// loop (as a sampler would) until [`MAX_SECONDS`], so long held notes are in the training data.
pub fn frame_order(note: &PreparedNote) -> Vec<usize> {
    let frames = note.features.frames;
    let target = (MAX_SECONDS * CONTROL_RATE_HZ) as usize;
    match note.entry.loop_frames {
        Some((a, b)) if b > a + 25 && b <= frames => {
            let mut order: Vec<usize> = (0..b).collect();
            while order.len() < target {
                order.extend(a..b);
            }
            order.truncate(target.max(b));
            order
        }
        // Without a loop, drop the last frames, whose analysis window runs past the end.
        _ if note.entry.articulation.is_long() => (0..frames.saturating_sub(8)).collect(),
        _ => (0..frames).collect(),
    }
}

/// What the network is told the pitch is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PitchInput {
    /// The recording's measured f0 (training: vibrato maps to the right envelope).
    Measured,
    /// The labelled key, steady, as a note played without vibrato tells it.
    Key,
}

pub fn build_sequence(note: &PreparedNote, card: &ModelCard) -> Sequence {
    build_sequence_with(note, card, PitchInput::Measured)
}

pub fn build_sequence_with(note: &PreparedNote, card: &ModelCard, pitch: PitchInput) -> Sequence {
    let order = frame_order(note);
    let ni = card.network.inputs;
    let no = card.network.outputs;
    let slot = card.articulation_slot(note.entry.articulation).unwrap_or(0);
    let dynamic = rosin_tools::dataset::layer_dynamic(note.entry.layer, note.entry.layer_count);
    let mut seq = Sequence {
        frames: order.len(),
        inputs: vec![0.0; order.len() * ni],
        targets: vec![0.0; order.len() * no],
        articulation_slot: slot,
        is_long: note.entry.articulation.is_long(),
    };
    for (t, &f) in order.iter().enumerate() {
        let v = VoiceInputs {
            pitch: match pitch {
                PitchInput::Measured => frame_pitch(note, f),
                PitchInput::Key => note.entry.key as f32,
            },
            dynamic,
            seconds_since_on: t as f32 / CONTROL_RATE_HZ,
            seconds_since_off: 0.0,
            released: false,
            legato: false,
            articulation_slot: slot,
        };
        inputs::encode(&v, &mut seq.inputs[t * ni..(t + 1) * ni]);
        frame_targets(note, f, &mut seq.targets[t * no..(t + 1) * no]);
    }
    seq
}

/// Per-output mean and standard deviation over all training frames (the network predicts
/// standardised targets; the model file stores these to undo it).
pub fn target_stats(seqs: &[Sequence], outputs: usize) -> (Vec<f32>, Vec<f32>) {
    let mut sum = vec![0.0f64; outputs];
    let mut sq = vec![0.0f64; outputs];
    let mut n = 0f64;
    for s in seqs {
        for row in s.targets.chunks_exact(outputs) {
            for (i, &v) in row.iter().enumerate() {
                sum[i] += v as f64;
                sq[i] += (v as f64) * (v as f64);
            }
            n += 1.0;
        }
    }
    let mean: Vec<f32> = sum.iter().map(|s| (s / n.max(1.0)) as f32).collect();
    let std = sq
        .iter()
        .zip(&mean)
        .map(|(q, &m)| ((q / n.max(1.0) - (m as f64).powi(2)).max(0.0).sqrt() as f32).max(0.05))
        .collect();
    (mean, std)
}
