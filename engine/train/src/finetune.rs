//! Audio-domain fine-tune: after the frame-level training, the network's outputs are played
//! through a differentiable copy of the synthesizer ([`super::ddsp`]) and compared with the
//! recording by the multi-scale spectral distance `rosin eval` reports ([`super::mss`]).
//!
//! Why: the frame loss weighs every analysed band equally and knows nothing of how the synth
//! turns envelopes into sound (crossfades, the noise generator's frames, partials between band
//! centres); the spectral loss judges the sound itself. The network is played as `rosin eval`
//! plays a held-out note: the key's pitch (not the recording's measured one), the layer's
//! dynamic, from the onset or from a random point of a long note. The frame loss stays in the
//! objective, weighted, so the envelopes keep their analysed meaning.

use super::brightness::{self, BrightnessPrior};
use super::data::frame_targets;
use super::ddsp::{frame_start, HarmonicOsc, NoiseOla, RowSpec, SynthSetup};
use super::{masked_l1, mss, net::TrainNet, Ema, Rng};
use candle_core::{DType, Device, Tensor, D};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use rosin_core::model::inputs::{self, VoiceInputs};
use rosin_core::model::ModelCard;
use rosin_tools::dataset::store::PreparedNote;

#[derive(Debug, Clone)]
pub struct FineTuneConfig {
    pub max_seconds: f64,
    /// As [`super::TrainConfig::max_steps`]: given, the schedule follows the steps.
    pub max_steps: Option<usize>,
    pub learning_rate: f64,
    /// Notes per step (all of one articulation and sample rate).
    pub batch: usize,
    /// Longest segment, in control frames.
    pub frames: usize,
    /// Weight of the multi-scale spectral distance (0: the fine-tune only anneals the frame
    /// loss on the same segments, the ablation that shows what the audio loss itself adds).
    pub spectral_loss_weight: f32,
    /// Weight of the frame loss (standardised L1) added to the spectral distance.
    pub frame_loss_weight: f32,
    /// Weight of the brightness prior here. The spectral loss pulls each key's layers towards
    /// their recordings much harder than the frame loss does, so the prior needs more weight
    /// than in the frame-level training to hold (at 1, 1,000 steps left the violas' loud layer
    /// no brighter than the soft one around key 67).
    pub brightness_weight: f32,
    pub ema_decay: f64,
    pub seed: u64,
}

impl Default for FineTuneConfig {
    fn default() -> Self {
        FineTuneConfig {
            max_seconds: 120.0,
            max_steps: None,
            learning_rate: 3e-4,
            batch: 6,
            frames: 160,
            spectral_loss_weight: 1.0,
            frame_loss_weight: 1.0,
            brightness_weight: 5.0,
            ema_decay: 0.99,
            seed: 1,
        }
    }
}

/// A training note and its recorded audio.
pub struct AudioNote<'a> {
    pub note: &'a PreparedNote,
    pub audio: &'a [f32],
}

/// Training curve: (step, spectral distance, frame loss), averaged over recent steps.
pub type FineTuneCurve = Vec<(usize, f32, f32)>;

/// Network inputs for frames `0..frames` of a note as `rosin eval` plays it.
fn eval_inputs(note: &PreparedNote, card: &ModelCard, frames: usize) -> Vec<f32> {
    let ni = card.network.inputs;
    let slot = card.articulation_slot(note.entry.articulation).unwrap_or(0);
    let dynamic = rosin_tools::dataset::layer_dynamic(note.entry.layer, note.entry.layer_count);
    let mut x = vec![0.0f32; frames * ni];
    for t in 0..frames {
        let v = VoiceInputs {
            pitch: note.entry.key as f32,
            dynamic,
            seconds_since_on: t as f32 / rosin_core::formulas::CONTROL_RATE_HZ,
            seconds_since_off: 0.0,
            released: false,
            legato: false,
            articulation_slot: slot,
        };
        inputs::encode(&v, &mut x[t * ni..(t + 1) * ni]);
    }
    x
}

/// Fine-tunes `net` in place; returns the curve. `weights` are the frame loss's output weights;
/// `prior` keeps the frame-level training's brightness prior in force (the spectral loss alone
/// pulls each key's layers back towards their recordings, and 1,000 steps of it undid the prior
/// where the recordings disagree with it).
#[allow(clippy::too_many_arguments)]
pub fn fine_tune(
    net: &TrainNet,
    card: &ModelCard,
    mean: &[f32],
    std: &[f32],
    weights: &Tensor,
    prior: Option<&BrightnessPrior>,
    notes: &[AudioNote],
    cfg: &FineTuneConfig,
    mut progress: impl FnMut(usize, f64, f32),
) -> candle_core::Result<FineTuneCurve> {
    let dev = Device::Cpu;
    let shape = card.network;
    let (ni, no, nh) = (shape.inputs, shape.outputs, card.harmonic_bands.count);
    let usable: Vec<&AudioNote> =
        notes.iter().filter(|n| card.articulation_slot(n.note.entry.articulation).is_some()).collect();
    if usable.is_empty() {
        return Ok(Vec::new());
    }
    let articulations = card.articulations.clone();
    let mut opt =
        AdamW::new(net.vars(), ParamsAdamW { lr: cfg.learning_rate, weight_decay: 1e-5, ..Default::default() })?;
    let mut ema = Ema::new(&net.vars(), cfg.ema_decay)?;
    let mut rng = Rng::from_seed(cfg.seed);
    let mean_t = Tensor::from_slice(mean, (1, 1, no), &dev)?;
    let std_t = Tensor::from_slice(std, (1, 1, no), &dev)?;
    let started = std::time::Instant::now();
    let mut curve = Vec::new();
    let (mut recent_mss, mut recent_frame) = (Vec::new(), Vec::new());
    let mut step = 0;
    loop {
        let elapsed = started.elapsed().as_secs_f64();
        let (fraction, done) = super::schedule_position(step, cfg.max_steps, elapsed, cfg.max_seconds);
        if done {
            break;
        }
        // One articulation per step (in turn), notes of one sample rate: segments of similar
        // length and one synth setup.
        let art = articulations[step % articulations.len()];
        let pool: Vec<&&AudioNote> = usable.iter().filter(|n| n.note.entry.articulation == art).collect();
        if pool.is_empty() {
            step += 1;
            continue;
        }
        let first = pool[rng.below(pool.len())];
        let sr = first.note.entry.sample_rate;
        let same_rate: Vec<&&AudioNote> = pool.iter().copied().filter(|n| n.note.entry.sample_rate == sr).collect();
        let picked: Vec<&AudioNote> = (0..cfg.batch.max(1)).map(|_| *same_rate[rng.below(same_rate.len())]).collect();
        let avail = |n: &AudioNote| n.note.features.frames.min(n.audio.len() * 250 / sr as usize);
        let t_len = picked.iter().map(|n| avail(n)).min().unwrap_or(0).min(cfg.frames);
        if t_len < 8 {
            step += 1;
            continue;
        }
        // Segment starts: the onset, or (half the time, for notes long enough) anywhere later.
        let starts: Vec<usize> = picked
            .iter()
            .map(|n| {
                let room = avail(n) - t_len;
                if room > 25 && rng.unit() < 0.5 {
                    1 + rng.below(room)
                } else {
                    0
                }
            })
            .collect();

        // Network state at each segment's start (no gradient), then the segments themselves.
        let mut h0 = Vec::new();
        let mut xs = Vec::with_capacity(picked.len() * t_len * ni);
        let mut ys = Vec::with_capacity(picked.len() * t_len * no);
        let mut target = Vec::new();
        let mut rows = Vec::new();
        let mut whole_inputs = Vec::new();
        for (n, &s) in picked.iter().zip(&starts) {
            let x = eval_inputs(n.note, card, s + t_len);
            let h = if s == 0 {
                Tensor::zeros((1, shape.gru_hidden), DType::F32, &dev)?
            } else {
                let prefix = Tensor::from_slice(&x[..s * ni], (1, s, ni), &dev)?;
                net.forward(&prefix, &Tensor::zeros((1, shape.gru_hidden), DType::F32, &dev)?)?.1.detach()
            };
            h0.push(h);
            xs.extend_from_slice(&x[s * ni..]);
            let mut row = vec![0.0f32; no];
            for f in s..s + t_len {
                frame_targets(n.note, f, &mut row);
                ys.extend(row.iter().enumerate().map(|(k, v)| (v - mean[k]) / std[k]));
            }
            rows.push(RowSpec { f0_hz: rosin_core::performance::pitch_to_hz(n.note.entry.key as f32), first_frame: s });
            whole_inputs.push(x);
        }
        let setup = SynthSetup { sample_rate: sr, harmonic: card.harmonic_bands, noise: card.noise_bands };
        let samples = rows.iter().map(|r| r.samples(t_len, sr)).max().unwrap_or(0);
        for (n, r) in picked.iter().zip(&rows) {
            let from = frame_start(r.first_frame, sr);
            let len = r.samples(t_len, sr);
            let mut seg: Vec<f32> = n.audio.iter().skip(from).take(len).copied().collect();
            seg.resize(samples, 0.0);
            target.extend(seg);
        }
        let b = picked.len();
        let x = Tensor::from_vec(xs, (b, t_len, ni), &dev)?;
        let y = Tensor::from_vec(ys, (b, t_len, no), &dev)?;
        let target = Tensor::from_vec(target, (b, samples), &dev)?;
        let h0 = Tensor::cat(&h0, 0)?;

        let lr = cfg.learning_rate * (0.1 + 0.9 * 0.5 * (1.0 + (std::f64::consts::PI * fraction).cos()));
        opt.set_learning_rate(lr);
        let (pred, _) = net.forward(&x, &h0)?;
        let frame_loss = masked_l1(&pred, &y, &Tensor::ones((b, t_len, 1), DType::F32, &dev)?, weights)?;
        // The synth's controls, exactly as the voice derives them from the outputs.
        let out = pred.broadcast_mul(&std_t)?.broadcast_add(&mean_t)?;
        let log_gain = out.narrow(D::Minus1, 0, 1)?.clamp(-30f32, 5f32)?;
        let env = out.narrow(D::Minus1, 1, nh)?;
        let noise = out.narrow(D::Minus1, 1 + nh, no - 1 - nh)?.clamp(-40f32, 10f32)?;
        let noise_log_power = (noise.broadcast_add(&log_gain)? * 2.0)?;
        let osc = HarmonicOsc { setup, rows: rows.clone() };
        let audio = (osc.run(&env, &log_gain)? + NoiseOla::new(setup, rows, rng.next_u64()).run(&noise_log_power)?)?;
        // Level-matched per row, as `rosin eval` matches a whole note's RMS.
        let gain = (target.sqr()?.sum_keepdim(1)? / (audio.sqr()?.sum_keepdim(1)? + 1e-12)?)?.sqrt()?;
        let audio = audio.broadcast_mul(&gain)?;
        let sizes = mss::sizes_for(sr);
        let target_mags = mss::target_magnitudes(&target, &sizes)?;
        let spectral = mss::mss_loss(&audio, &target_mags, &sizes)?;
        let mut loss =
            ((&spectral * cfg.spectral_loss_weight as f64)? + (&frame_loss * cfg.frame_loss_weight as f64)?)?;
        if let Some(p) = prior.filter(|_| cfg.brightness_weight > 0.0) {
            // A few of the picked notes' inputs replayed at one random pitch each, soft and loud;
            // the part before the segment sets the state, without gradient, as for `h0`.
            let chosen = brightness::pick_rows(picked.len(), &mut rng);
            let keys = p.draw_keys(chosen.len(), &mut rng);
            let mut penalty = Tensor::zeros((), DType::F32, &dev)?;
            for (&r, &key) in chosen.iter().zip(&keys) {
                let (r, s) = (r as usize, starts[r as usize]);
                let whole = Tensor::from_slice(&whole_inputs[r], (1, s + t_len, ni), &dev)?;
                let (soft, loud) = p.soft_and_loud(&whole, &[key])?;
                let play = |x: &Tensor| -> candle_core::Result<(Tensor, Tensor)> {
                    let zero = Tensor::zeros((1, shape.gru_hidden), DType::F32, &dev)?;
                    let h = if s == 0 { zero } else { net.forward(&x.narrow(1, 0, s)?, &zero)?.1.detach() };
                    let segment = x.narrow(1, s, t_len)?.contiguous()?;
                    Ok((net.forward(&segment, &h)?.0, segment))
                };
                let ((pred_soft, x_soft), (pred_loud, x_loud)) = (play(&soft)?, play(&loud)?);
                let mask = Tensor::ones((1, t_len, 1), DType::F32, &dev)?;
                penalty = (penalty + p.penalty(&x_soft, &x_loud, &pred_soft, &pred_loud, &mask)?)?;
            }
            loss = (loss + (penalty * (cfg.brightness_weight as f64 / chosen.len().max(1) as f64))?)?;
        }
        opt.backward_step(&loss)?;
        ema.update(&net.vars())?;
        step += 1;
        let (s, f) = (spectral.to_scalar::<f32>()?, frame_loss.to_scalar::<f32>()?);
        recent_mss.push(s);
        recent_frame.push(f);
        if step % 10 == 0 {
            let avg = |v: &mut Vec<f32>| {
                let a = v.iter().sum::<f32>() / v.len().max(1) as f32;
                v.clear();
                a
            };
            curve.push((step, avg(&mut recent_mss), avg(&mut recent_frame)));
        }
        progress(step, fraction, s);
    }
    if !recent_mss.is_empty() {
        let n = recent_mss.len() as f32;
        curve.push((step, recent_mss.iter().sum::<f32>() / n, recent_frame.iter().sum::<f32>() / n));
    }
    ema.install(&net.vars())?;
    Ok(curve)
}
