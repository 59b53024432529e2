//! `rosin train`: fits a section's control network to analysed recordings with candle.
//!
//! Supervised on analysed frames: the network sees (pitch, dynamic, articulation, time since
//! onset, ...) and predicts the frame's level and spectral envelopes. Sequences always start at
//! the note onset, because the real-time voice starts its GRU from zero at note-on; long notes
//! are trained in chunks with the state carried over (truncated backpropagation through time).
//! Release and legato inputs never occur in the recordings (no recorded releases or
//! transitions), so random sequences are marked released or legato with unchanged targets: the
//! network learns that they do not change the timbre, and the synthesizer's release envelope
//! does the rest.
//!
//! Then, optionally ([`finetune`]), the network is fine-tuned on the recordings' audio: its
//! outputs are played through a differentiable copy of the synthesizer ([`ddsp`]) and compared
//! with the recording by the multi-scale spectral distance ([`mss`]) that `rosin eval` reports.

pub mod brightness;
pub mod data;
pub mod ddsp;
pub mod finetune;
pub mod fluctuation_fit;
pub mod gru_op;
pub mod mss;
pub mod net;
pub mod recordings;

use candle_core::{DType, Device, Tensor};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use data::Sequence;
use rosin_core::articulation::Articulation;
use rosin_core::bands::BandLayout;
use rosin_core::model::card::{ModelCard, NetworkShape, TrainingInfo, CONTROL_RATE_HZ, FORMAT_VERSION};
use rosin_core::model::inputs::compress_time;
use rosin_core::model::Model;
use rosin_tools::dataset::store::{Manifest, PreparedNote};

#[derive(Debug, Clone)]
pub struct TrainConfig {
    pub name: String,
    pub instrument: String,
    pub input_hidden: usize,
    pub gru_hidden: usize,
    pub output_hidden: usize,
    pub batch: usize,
    pub chunk: usize,
    /// Optimiser steps: given, the learning-rate schedule follows them and `max_seconds` only
    /// stops a run early; None, the run lasts `max_seconds` (see [`schedule_position`]).
    pub max_steps: Option<usize>,
    pub max_seconds: f64,
    pub learning_rate: f64,
    /// Give every batch of notes the same expected number of steps, however long its notes.
    pub balance_batches: bool,
    /// Loss weight of the level output relative to one spectral band.
    pub loudness_weight: f32,
    /// The exported weights are an exponential moving average of the trained ones with this
    /// decay per step (0 exports the last step's). Frame targets of a section recording are
    /// noisy, so single steps wander; the average is what generalises.
    pub ema_decay: f64,
    /// Weight of the [`brightness`] prior (the loudest dynamic brighter than the softest, at
    /// every pitch);
    /// 0 trains without it.
    pub brightness_weight: f32,
    pub seed: u64,
    pub command: String,
    /// Start from these weights (a model of the same shape) instead of random ones; its output
    /// statistics are kept.
    pub init: Option<rosin_core::model::NetworkWeights>,
    /// Audio-domain fine-tune after the frame-level training (see [`finetune`]); None skips it.
    pub fine_tune: Option<finetune::FineTuneConfig>,
    /// Fit the sampled fluctuation part on the trained network's residuals (see
    /// [`fluctuation_fit`]); None ships the averaged network alone.
    pub fluctuation: Option<fluctuation_fit::FitConfig>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            name: "Model".into(),
            instrument: String::new(),
            input_hidden: 64,
            gru_hidden: 64,
            output_hidden: 128,
            batch: 16,
            chunk: 100,
            max_steps: None,
            max_seconds: 480.0,
            learning_rate: 3e-3,
            balance_batches: true,
            loudness_weight: 24.0,
            ema_decay: 0.999,
            brightness_weight: 1.0,
            seed: 1,
            command: String::new(),
            fine_tune: None,
            init: None,
            fluctuation: Some(fluctuation_fit::FitConfig::default()),
        }
    }
}

/// Progress after each optimiser step.
pub struct Progress {
    /// "frames" (frame-level training) or "audio" (the fine-tune).
    pub stage: &'static str,
    pub step: usize,
    pub elapsed: f64,
    pub fraction: f64,
    pub loss: f32,
}

pub struct TrainResult {
    pub model: Model,
    /// (step, training loss averaged over recent steps).
    pub train_curve: Vec<(usize, f32)>,
    /// (step, held-out frame loss).
    pub heldout_curve: Vec<(usize, f32)>,
    /// Fine-tune steps: (step, spectral distance, frame loss), training segments.
    pub fine_tune_curve: finetune::FineTuneCurve,
    pub steps: usize,
    pub seconds: f64,
    /// What the fluctuation fit found (None when it was skipped or found no judged frames).
    pub fluctuation: Option<fluctuation_fit::FitReport>,
}

/// Where a run stands in its cosine learning-rate schedule (0 → 1) and whether it is over.
/// Bounded by steps, the schedule follows the step count alone, so the same command trains
/// the same weights on any machine and under any load (wall time entering the schedule did
/// not: held-out evaluations and other processes shifted it); the time limit then only stops a
/// run early. Bounded by time, it follows the wall clock.
pub(crate) fn schedule_position(step: usize, max_steps: Option<usize>, elapsed: f64, max_seconds: f64) -> (f64, bool) {
    let time = if max_seconds > 0.0 { elapsed / max_seconds } else { f64::INFINITY };
    match max_steps {
        Some(n) => {
            let steps = step as f64 / n.max(1) as f64;
            (steps.min(1.0), n == 0 || steps >= 1.0 || time >= 1.0)
        }
        None => (time.min(1.0), time >= 1.0),
    }
}

use rosin_core::rng::XorShift64 as Rng;

/// `n` values uniform in `offset ± scale/2`, the same for the same `seed`.
pub(crate) fn uniform_values(n: usize, seed: u64, scale: f32, offset: f32) -> Vec<f32> {
    let mut rng = Rng::from_seed(seed);
    (0..n).map(|_| offset + scale * (rng.unit() - 0.5)).collect()
}

/// `n` deterministic values uniform in `offset ± scale/2`, for tests.
#[cfg(test)]
pub(crate) fn test_values(n: usize, seed: u64, scale: f32, offset: f32) -> Vec<f32> {
    let mut rng = Rng::new(seed | 1);
    (0..n).map(|_| offset + scale * (rng.unit() - 0.5)).collect()
}

/// The card for a model trained on `train` notes of one instrument.
pub fn make_card(
    cfg: &TrainConfig,
    manifest: &Manifest,
    train: &[PreparedNote],
    held_out: &[PreparedNote],
) -> ModelCard {
    let mut articulations: Vec<Articulation> = train.iter().map(|n| n.entry.articulation).collect();
    articulations.sort();
    articulations.dedup();
    let harmonic_bands: BandLayout = manifest.harmonic_bands;
    let noise_bands: BandLayout = manifest.noise_bands;
    let keys = train.iter().map(|n| n.entry.key);
    let max_layers = train.iter().map(|n| n.entry.layer_count).max().unwrap_or(1);
    let mut held: Vec<String> = held_out
        .iter()
        .map(|n| format!("{} key {} layer {} ({})", n.entry.articulation, n.entry.key, n.entry.layer, n.entry.source))
        .collect();
    held.sort();
    ModelCard {
        format_version: FORMAT_VERSION,
        name: cfg.name.clone(),
        instrument: cfg.instrument.clone(),
        control_rate_hz: CONTROL_RATE_HZ,
        network: NetworkShape {
            inputs: NetworkShape::inputs_for(articulations.len()),
            input_hidden: cfg.input_hidden,
            gru_hidden: cfg.gru_hidden,
            output_hidden: cfg.output_hidden,
            outputs: NetworkShape::outputs_for(&harmonic_bands, &noise_bands),
        },
        articulations,
        harmonic_bands,
        noise_bands,
        key_range: [keys.clone().min().unwrap_or(0), keys.max().unwrap_or(127)],
        layer_dynamics: (0..max_layers).map(|l| rosin_tools::dataset::layer_dynamic(l, max_layers)).collect(),
        fluctuation: None,
        training: TrainingInfo {
            source: manifest.source.clone(),
            licence: manifest.licence.clone(),
            command: cfg.command.clone(),
            held_out: held,
            notes: String::new(),
        },
        metrics: Default::default(),
    }
}

/// A batch chunk: inputs (B, T, I), targets (B, T, Y), mask (B, T, 1).
struct Chunk {
    x: Tensor,
    y: Tensor,
    mask: Tensor,
}

/// Cuts a batch of sequences (padded to the longest) into chunks of `chunk` frames, applying
/// the release/legato augmentation.
fn batch_chunks(
    seqs: &[&Sequence],
    chunk: usize,
    ni: usize,
    no: usize,
    mean: &[f32],
    std: &[f32],
    rng: &mut Rng,
    dev: &Device,
) -> candle_core::Result<Vec<Chunk>> {
    let b = seqs.len();
    let longest = seqs.iter().map(|s| s.frames).max().unwrap_or(0);
    let mut x = vec![0.0f32; b * longest * ni];
    let mut y = vec![0.0f32; b * longest * no];
    let mut m = vec![0.0f32; b * longest];
    for (i, s) in seqs.iter().enumerate() {
        let release_at = if rng.unit() < 0.25 { Some(rng.below(s.frames)) } else { None };
        let legato = s.is_long && rng.unit() < 0.2;
        for t in 0..s.frames {
            let xr = &mut x[(i * longest + t) * ni..(i * longest + t + 1) * ni];
            xr.copy_from_slice(&s.inputs[t * ni..(t + 1) * ni]);
            if let Some(r) = release_at.filter(|&r| t >= r) {
                xr[3] = compress_time((t - r) as f32 / CONTROL_RATE_HZ);
                xr[4] = 1.0;
            }
            if legato {
                xr[5] = 1.0;
            }
            let yr = &mut y[(i * longest + t) * no..(i * longest + t + 1) * no];
            for (k, v) in yr.iter_mut().enumerate() {
                *v = (s.targets[t * no + k] - mean[k]) / std[k];
            }
            m[i * longest + t] = 1.0;
        }
    }
    let x = Tensor::from_vec(x, (b, longest, ni), dev)?;
    let y = Tensor::from_vec(y, (b, longest, no), dev)?;
    let m = Tensor::from_vec(m, (b, longest, 1), dev)?;
    let mut chunks = Vec::new();
    let mut start = 0;
    while start < longest {
        let len = chunk.min(longest - start);
        chunks.push(Chunk { x: x.narrow(1, start, len)?, y: y.narrow(1, start, len)?, mask: m.narrow(1, start, len)? });
        start += len;
    }
    Ok(chunks)
}

/// Weighted mean absolute error over unmasked frames; `weights` (1, 1, Y) sums to Y, so the
/// loss stays in standardised units.
fn masked_l1(pred: &Tensor, target: &Tensor, mask: &Tensor, weights: &Tensor) -> candle_core::Result<Tensor> {
    let no = pred.dim(2)? as f64;
    let diff = (pred - target)?.abs()?.broadcast_mul(mask)?.broadcast_mul(weights)?;
    let count = (mask.sum_all()? * no)?;
    diff.sum_all()?.div(&count.clamp(1.0, f64::INFINITY)?)
}

/// Per-output loss weights: the level (output 0) counts `loudness_weight` times as much as one
/// spectral band. Unweighted, it is one of ~145 outputs and the network barely learns how fast
/// a short note or a pizzicato dies away, though level is what a listener hears first.
fn output_weights(outputs: usize, loudness_weight: f32, dev: &Device) -> candle_core::Result<Tensor> {
    let mut w = vec![1.0f32; outputs];
    w[0] = loudness_weight.max(0.0);
    let scale = outputs as f32 / w.iter().sum::<f32>();
    Tensor::from_vec(w.into_iter().map(|x| x * scale).collect(), (1, 1, outputs), dev)
}

/// Mean L1 (standardised units) of the network on whole sequences, without training.
fn evaluate(
    net: &net::TrainNet,
    seqs: &[Sequence],
    mean: &[f32],
    std: &[f32],
    dev: &Device,
) -> candle_core::Result<f32> {
    let (ni, no) = (net.shape.inputs, net.shape.outputs);
    let mut total = 0.0f64;
    let mut count = 0.0f64;
    for s in seqs {
        let x = Tensor::from_slice(&s.inputs, (1, s.frames, ni), dev)?;
        let y: Vec<f32> = s.targets.iter().enumerate().map(|(i, v)| (v - mean[i % no]) / std[i % no]).collect();
        let y = Tensor::from_vec(y, (1, s.frames, no), dev)?;
        let mut h = Tensor::zeros((1, net.shape.gru_hidden), DType::F32, dev)?;
        let mut start = 0;
        while start < s.frames {
            let len = 250.min(s.frames - start);
            let (p, h2) = net.forward(&x.narrow(1, start, len)?, &h)?;
            h = h2.detach();
            let d = (p - y.narrow(1, start, len)?)?.abs()?.sum_all()?.to_scalar::<f32>()?;
            total += d as f64;
            count += (len * no) as f64;
            start += len;
        }
    }
    Ok((total / count.max(1.0)) as f32)
}

/// Exponential moving average of the parameters, kept beside the optimiser.
struct Ema {
    decay: f64,
    steps: usize,
    averages: Vec<Tensor>,
}

impl Ema {
    fn new(vars: &[candle_core::Var], decay: f64) -> candle_core::Result<Self> {
        let averages = vars.iter().map(|v| v.as_tensor().detach().copy()).collect::<candle_core::Result<_>>()?;
        Ok(Ema { decay: decay.clamp(0.0, 0.99999), steps: 0, averages })
    }

    fn update(&mut self, vars: &[candle_core::Var]) -> candle_core::Result<()> {
        if self.decay == 0.0 {
            return Ok(());
        }
        self.steps += 1;
        // Warm-up: early on the average would be dominated by the random initial weights.
        let d = self.decay.min((1.0 + self.steps as f64) / (10.0 + self.steps as f64));
        for (a, v) in self.averages.iter_mut().zip(vars) {
            *a = ((&*a * d)? + (v.as_tensor().detach() * (1.0 - d))?)?;
        }
        Ok(())
    }

    /// Puts the averaged weights into the variables (the network then is the averaged one).
    fn install(&self, vars: &[candle_core::Var]) -> candle_core::Result<()> {
        if self.decay == 0.0 {
            return Ok(());
        }
        for (a, v) in self.averages.iter().zip(vars) {
            v.set(a)?;
        }
        Ok(())
    }
}

/// Trains one model on `train` notes (all of one instrument); `held_out` notes are only
/// evaluated, never trained on. `audio[i]` is the recording of `train[i]` where the
/// fine-tune should hear it (empty: no fine-tune).
pub fn train(
    cfg: &TrainConfig,
    manifest: &Manifest,
    train: &[PreparedNote],
    held_out: &[PreparedNote],
    audio: &[Option<&[f32]>],
    mut progress: impl FnMut(&Progress),
) -> candle_core::Result<TrainResult> {
    let dev = Device::Cpu;
    let card = make_card(cfg, manifest, train, held_out);
    let shape = card.network;
    let seqs: Vec<Sequence> = train.iter().map(|n| data::build_sequence(n, &card)).collect();
    let held_seqs: Vec<Sequence> = held_out
        .iter()
        .filter(|n| card.articulation_slot(n.entry.articulation).is_some())
        .map(|n| data::build_sequence(n, &card))
        .collect();
    let (mut mean, mut std) = data::target_stats(&seqs, shape.outputs);
    let net = net::TrainNet::new(shape, cfg.seed, &dev)?;
    if let Some(w) = &cfg.init {
        net.load(w)?;
        mean = w.get("output.mean").to_vec();
        std = w.get("output.std").to_vec();
    }
    let mut opt =
        AdamW::new(net.vars(), ParamsAdamW { lr: cfg.learning_rate, weight_decay: 1e-5, ..Default::default() })?;

    // Batches of notes of similar length waste little on padding.
    let mut order: Vec<usize> = (0..seqs.len()).collect();
    order.sort_by_key(|&i| seqs[i].frames);
    let batches: Vec<Vec<usize>> = order.chunks(cfg.batch.max(1)).map(|c| c.to_vec()).collect();
    // A batch of looped 8 s sustains is 20 chunks (optimiser steps), a batch of pizzicati 2 or 3:
    // picked uniformly, short notes and every onset would get a sliver of the training. Picking
    // a batch with probability proportional to 1 / its chunk count gives every batch the same
    // expected number of steps.
    let pick_weights: Vec<f64> = batches
        .iter()
        .map(|b| {
            let longest = b.iter().map(|&i| seqs[i].frames).max().unwrap_or(1);
            1.0 / longest.div_ceil(cfg.chunk.max(1)).max(1) as f64
        })
        .collect();
    let pick_total: f64 = pick_weights.iter().sum();
    let mut rng = Rng::new(cfg.seed.wrapping_mul(0x2545_F491_4F6C_DD1D) | 1);
    let weights = output_weights(shape.outputs, cfg.loudness_weight, &dev)?;
    let mut ema = Ema::new(&net.vars(), cfg.ema_decay)?;
    let prior = match cfg.brightness_weight > 0.0 {
        true => brightness::BrightnessPrior::new(
            &card.layer_dynamics,
            card.key_range,
            card.harmonic_bands,
            &mean,
            &std,
            &dev,
        )?,
        false => None,
    };
    let mut penalties = Vec::new();
    let started = std::time::Instant::now();
    let mut step = 0;
    let mut train_curve = Vec::new();
    let mut heldout_curve = Vec::new();
    let mut recent = Vec::new();
    let eval_every = 100;
    'outer: loop {
        if schedule_position(0, cfg.max_steps, 0.0, cfg.max_seconds).1 {
            break;
        }
        let batch = if cfg.balance_batches {
            let mut r = rng.unit() as f64 * pick_total;
            let mut chosen = batches.len() - 1;
            for (i, w) in pick_weights.iter().enumerate() {
                if r < *w {
                    chosen = i;
                    break;
                }
                r -= w;
            }
            &batches[chosen]
        } else {
            &batches[rng.below(batches.len())]
        };
        let picked: Vec<&Sequence> = batch.iter().map(|&i| &seqs[i]).collect();
        let chunks = batch_chunks(&picked, cfg.chunk, shape.inputs, shape.outputs, &mean, &std, &mut rng, &dev)?;
        let mut h = Tensor::zeros((picked.len(), shape.gru_hidden), DType::F32, &dev)?;
        // The prior plays a few random sequences of the batch at one random pitch each, soft
        // and loud (see [`brightness`]), each pass with its own recurrent state.
        let prior_rows = match &prior {
            Some(p) => {
                let rows = brightness::pick_rows(picked.len(), &mut rng);
                let keys = p.draw_keys(rows.len(), &mut rng);
                Some((Tensor::new(rows, &dev)?, keys))
            }
            None => None,
        };
        let prior_state =
            Tensor::zeros((prior_rows.as_ref().map_or(0, |r| r.1.len()), shape.gru_hidden), DType::F32, &dev)?;
        let (mut h_soft, mut h_loud) = (prior_state.clone(), prior_state);
        for c in chunks {
            let elapsed = started.elapsed().as_secs_f64();
            let (fraction, done) = schedule_position(step, cfg.max_steps, elapsed, cfg.max_seconds);
            if done {
                break 'outer;
            }
            // Cosine decay to a tenth of the initial rate over the run.
            let lr = cfg.learning_rate * (0.1 + 0.9 * 0.5 * (1.0 + (std::f64::consts::PI * fraction).cos()));
            opt.set_learning_rate(lr);
            let (pred, h_next) = net.forward(&c.x, &h)?;
            let frame_loss = masked_l1(&pred, &c.y, &c.mask, &weights)?;
            let mut loss = frame_loss.clone();
            if let (Some(p), Some((rows, keys))) = (&prior, &prior_rows) {
                let (x, mask) = (c.x.contiguous()?.index_select(rows, 0)?, c.mask.contiguous()?.index_select(rows, 0)?);
                let (x_soft, x_loud) = p.soft_and_loud(&x, keys)?;
                let (pred_soft, h_soft_next) = net.forward(&x_soft, &h_soft)?;
                let (pred_loud, h_loud_next) = net.forward(&x_loud, &h_loud)?;
                (h_soft, h_loud) = (h_soft_next.detach(), h_loud_next.detach());
                let penalty = p.penalty(&x_soft, &x_loud, &pred_soft, &pred_loud, &mask)?;
                penalties.push(penalty.to_scalar::<f32>()?);
                loss = (loss + (penalty * cfg.brightness_weight as f64)?)?;
            }
            opt.backward_step(&loss)?;
            ema.update(&net.vars())?;
            h = h_next.detach();
            let l = frame_loss.to_scalar::<f32>()?;
            recent.push(l);
            step += 1;
            if step % 20 == 0 {
                train_curve.push((step, recent.iter().sum::<f32>() / recent.len() as f32));
                recent.clear();
            }
            if step % eval_every == 0 && !held_seqs.is_empty() {
                heldout_curve.push((step, evaluate(&net, &held_seqs, &mean, &std, &dev)?));
            }
            progress(&Progress { stage: "frames", step, elapsed, fraction, loss: l });
        }
    }
    ema.install(&net.vars())?;
    if !held_seqs.is_empty() {
        heldout_curve.push((step, evaluate(&net, &held_seqs, &mean, &std, &dev)?));
    }
    let mut fine_tune_curve = Vec::new();
    let frame_seconds = started.elapsed().as_secs_f64();
    if let Some(ft) = &cfg.fine_tune {
        let notes: Vec<finetune::AudioNote> = train
            .iter()
            .zip(audio)
            .filter_map(|(note, a)| a.map(|audio| finetune::AudioNote { note, audio }))
            .collect();
        fine_tune_curve = finetune::fine_tune(
            &net,
            &card,
            &mean,
            &std,
            &weights,
            prior.as_ref(),
            &notes,
            ft,
            |s, fraction, loss| {
                progress(&Progress {
                    stage: "audio",
                    step: s,
                    elapsed: started.elapsed().as_secs_f64(),
                    fraction,
                    loss,
                })
            },
        )?;
        if !held_seqs.is_empty() {
            heldout_curve.push((step, evaluate(&net, &held_seqs, &mean, &std, &dev)?));
        }
    }
    let weights = net.export(&mean, &std)?;
    let mut card = card;
    card.metrics.insert("training_steps".into(), step.into());
    card.metrics.insert("training_seconds".into(), (started.elapsed().as_secs_f64().round()).into());
    if let Some(&(s, spectral, _)) = fine_tune_curve.last() {
        card.metrics.insert("fine_tune_steps".into(), s.into());
        card.metrics
            .insert("fine_tune_seconds".into(), (started.elapsed().as_secs_f64() - frame_seconds).round().into());
        card.metrics.insert("fine_tune_train_mss".into(), serde_json::json!(spectral));
    }
    if let Some(&(_, l)) = train_curve.last() {
        card.metrics.insert("train_frame_l1".into(), serde_json::json!(l));
    }
    if !penalties.is_empty() {
        // The prior's last thousand steps: octaves the loud prediction fell short of its margin.
        let tail = &penalties[penalties.len().saturating_sub(1000)..];
        card.metrics
            .insert("train_brightness_penalty".into(), serde_json::json!(tail.iter().sum::<f32>() / tail.len() as f32));
    }
    if let Some(&(_, l)) = heldout_curve.last() {
        card.metrics.insert("heldout_frame_l1".into(), serde_json::json!(l));
    }
    let mut model = Model::new(card, weights);
    let mut fluctuation = None;
    if let Some(fit_cfg) = cfg.fluctuation {
        if let Some((f, report)) = fluctuation_fit::fit(&model, train, fit_cfg) {
            model.card.metrics.insert("fluctuation_fit".into(), serde_json::to_value(&report).unwrap_or_default());
            model = model.with_fluctuation(Some(f));
            fluctuation = Some(report);
        }
    }
    Ok(TrainResult {
        fluctuation,
        model,
        train_curve,
        heldout_curve,
        fine_tune_curve,
        steps: step,
        seconds: started.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::schedule_position;

    /// Bounded by steps, the schedule ignores the clock (so slow or busy machines train the same
    /// weights) and the time limit only stops the run; bounded by time, the clock is the schedule.
    #[test]
    fn schedule_follows_steps_when_they_are_given() {
        assert_eq!(schedule_position(250, Some(1000), 1e-3, 480.0), (0.25, false));
        assert_eq!(schedule_position(250, Some(1000), 400.0, 480.0), (0.25, false));
        assert_eq!(schedule_position(1000, Some(1000), 1.0, 480.0), (1.0, true));
        assert!(schedule_position(10, Some(1000), 480.0, 480.0).1, "the time cap stops it");
        assert!(schedule_position(0, Some(0), 0.0, 480.0).1);
        assert_eq!(schedule_position(5, None, 120.0, 480.0), (0.25, false));
        assert_eq!(schedule_position(5, None, 500.0, 480.0), (1.0, true));
        assert!(schedule_position(0, None, 0.0, 0.0).1, "no time, no run");
        assert_eq!(schedule_position(3, Some(4), 1e9, f64::INFINITY), (0.75, false));
    }
}
