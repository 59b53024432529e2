//! The voice's synthesis as differentiable candle ops, for the audio-domain fine-tune.
//!
//! Why: the frame loss compares the network's envelopes with analysed ones, but what a
//! listener (and `rosin eval`) compares is the sound. These two ops render what
//! [`rosin_core::synth::voice::Voice`] renders from the same network outputs, with gradients, so a
//! multi-scale spectral loss on the audio can train the network. They mirror the voice rather
//! than reuse it because the voice's wavetables have no backward pass:
//! - [`HarmonicOsc`]: partial k has amplitude `exp(log_gain + env(k·f0)) · taper(k·f0)` at each
//!   control frame (exactly [`rosin_core::synth::harmonic::WaveTable::build`]), interpolated
//!   linearly per sample from the previous frame's to this frame's over one control hop, with
//!   the synth's fixed start phases. f0 is constant per row (the note's key, as `rosin eval`
//!   plays it), so each partial is a complex phasor rotated by a constant step.
//! - [`NoiseOla`]: the shared noise generator's overlap-add of random-phase frames whose bin
//!   magnitudes follow the noise bands' log power ([`rosin_core::synth::noise::NoiseGenerator`]),
//!   with the random phases fixed per op so the backward pass sees the same noise.
//!
//! Both are linear in their per-frame amplitudes, so the backward pass is one correlation of the
//! incoming gradient with the same oscillators (harmonic) or one forward FFT per noise frame.

use candle_core::{bail, CpuStorage, CustomOp1, CustomOp2, Layout, Result, Shape, Tensor};
use realfft::num_complex::Complex32;
use realfft::RealFftPlanner;
use rosin_core::bands::BandLayout;
use rosin_core::formulas;

/// Sample index where control frame `t` (counted from the note onset) starts, as the voice
/// computes it.
pub fn frame_start(t: usize, sample_rate: u32) -> usize {
    formulas::control_frame_start(t as u64, sample_rate as u64) as usize
}

/// What every row of a batch shares: sample rate and layouts.
#[derive(Clone, Copy)]
pub struct SynthSetup {
    pub sample_rate: u32,
    pub harmonic: BandLayout,
    pub noise: BandLayout,
}

impl SynthSetup {
    /// Highest partial or noise frequency: min(20 kHz, 0.45 fs), as in the synth.
    pub fn limit_hz(&self) -> f32 {
        formulas::band_limit_hz(self.sample_rate as f32)
    }
}

/// One batch row: a segment of a note starting at control frame `first_frame` of the note.
#[derive(Clone, Debug)]
pub struct RowSpec {
    pub f0_hz: f32,
    pub first_frame: usize,
}

impl RowSpec {
    /// Samples the row's `frames` control frames cover.
    pub fn samples(&self, frames: usize, sample_rate: u32) -> usize {
        frame_start(self.first_frame + frames, sample_rate) - frame_start(self.first_frame, sample_rate)
    }
}

fn contiguous<'a>(s: &'a CpuStorage, l: &Layout) -> Result<&'a [f32]> {
    let data = s.as_slice::<f32>()?;
    match l.contiguous_offsets() {
        Some((a, b)) => Ok(&data[a..b]),
        None => bail!("ddsp: inputs must be contiguous"),
    }
}

/// Per-row partial layout: band interpolation position and taper of each partial.
struct Partials {
    lower: Vec<usize>,
    frac: Vec<f32>,
    taper: Vec<f32>,
    /// Unit phasor rotation per sample, (re, im).
    step: Vec<(f64, f64)>,
}

fn partials(setup: &SynthSetup, f0: f32) -> Partials {
    let limit = setup.limit_hz();
    let count = ((limit / f0.max(1.0)) as usize).min(rosin_core::synth::harmonic::MAX_PARTIALS);
    let taper = formulas::PartialTaper::new(limit);
    let layout = &setup.harmonic;
    let mut p = Partials { lower: vec![], frac: vec![], taper: vec![], step: vec![] };
    for k in 1..=count {
        let hz = k as f32 * f0;
        let pos = layout.position(hz);
        p.lower.push(pos.lower);
        p.frac.push(pos.frac);
        p.taper.push(taper.gain(hz));
        let w = std::f64::consts::TAU * k as f64 * f0 as f64 / setup.sample_rate as f64;
        p.step.push((w.cos(), w.sin()));
    }
    p
}

/// Harmonic oscillator bank: `env (B, T, H)` (log amplitude per harmonic band, relative to
/// the gain) and `log_gain (B, T, 1)` → audio `(B, N)`, N = the longest row's samples (shorter
/// rows end in silence).
pub struct HarmonicOsc {
    pub setup: SynthSetup,
    pub rows: Vec<RowSpec>,
}

impl HarmonicOsc {
    pub fn run(&self, env: &Tensor, log_gain: &Tensor) -> Result<Tensor> {
        env.contiguous()?.apply_op2(&log_gain.contiguous()?, self.clone_op())
    }

    fn clone_op(&self) -> HarmonicOsc {
        HarmonicOsc { setup: self.setup, rows: self.rows.clone() }
    }

    fn samples(&self, frames: usize) -> usize {
        self.rows.iter().map(|r| r.samples(frames, self.setup.sample_rate)).max().unwrap_or(0)
    }

    /// Runs row `b` over its frames. `amps(t)` gives frame t's partial amplitudes; `visit` is
    /// called for every sample with (sample, hop t, ramp r, imaginary parts of the phasors).
    /// Forward and backward share this walk so their phases agree exactly.
    fn walk(&self, b: usize, frames: usize, p: &Partials, mut visit: impl FnMut(usize, usize, f32, &[f32])) {
        let row = &self.rows[b];
        let sr = self.setup.sample_rate;
        let phases = rosin_core::synth::harmonic::partial_phases();
        let n = p.lower.len();
        let (mut re, mut im) = (vec![0.0f32; n], vec![0.0f32; n]);
        let step: Vec<(f32, f32)> = p.step.iter().map(|&(c, d)| (c as f32, d as f32)).collect();
        let origin = frame_start(row.first_frame, sr);
        for t in 0..frames {
            let start = frame_start(row.first_frame + t, sr) - origin;
            let end = frame_start(row.first_frame + t + 1, sr) - origin;
            // Exact phasors at each hop's start (no drift), rotated per sample inside it.
            let cycles = row.f0_hz as f64 * start as f64 / sr as f64;
            for k in 0..n {
                let ph = std::f64::consts::TAU * ((k + 1) as f64 * cycles).fract() + phases[k + 1] as f64;
                re[k] = ph.cos() as f32;
                im[k] = ph.sin() as f32;
            }
            let hop = (end - start).max(1) as f32;
            for s in start..end {
                visit(s, t, (s - start) as f32 / hop, &im);
                for ((x, y), &(c, d)) in re.iter_mut().zip(im.iter_mut()).zip(&step) {
                    let (a, b) = (*x, *y);
                    *x = a * c - b * d;
                    *y = a * d + b * c;
                }
            }
        }
    }
}

/// Partial amplitudes of every frame of one row: (T, n).
fn amplitudes(p: &Partials, env: &[f32], gain: &[f32], frames: usize, bands: usize) -> Vec<f32> {
    let n = p.lower.len();
    let mut a = vec![0.0f32; frames * n];
    for t in 0..frames {
        let e = &env[t * bands..(t + 1) * bands];
        for k in 0..n {
            let lo = p.lower[k];
            let hi = (lo + 1).min(bands - 1);
            let v = e[lo] + (e[hi] - e[lo]) * p.frac[k];
            a[t * n + k] = (gain[t] + v).exp() * p.taper[k];
        }
    }
    a
}

impl CustomOp2 for HarmonicOsc {
    fn name(&self) -> &'static str {
        "rosin-harmonic-osc"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> Result<(CpuStorage, Shape)> {
        let (bsz, frames, bands) = l1.shape().dims3()?;
        if l2.shape().dims3()? != (bsz, frames, 1) || self.rows.len() != bsz {
            bail!("harmonic osc: shapes {:?} {:?} for {} rows", l1.shape(), l2.shape(), self.rows.len());
        }
        let (env, gain) = (contiguous(s1, l1)?, contiguous(s2, l2)?);
        let total = self.samples(frames);
        let mut out = vec![0.0f32; bsz * total];
        for b in 0..bsz {
            let p = partials(&self.setup, self.rows[b].f0_hz);
            let n = p.lower.len();
            let a = amplitudes(&p, &env[b * frames * bands..], &gain[b * frames..], frames, bands);
            let row_out = &mut out[b * total..(b + 1) * total];
            let zero = vec![0.0f32; n];
            self.walk(b, frames, &p, |s, t, r, im| {
                let cur = &a[t * n..(t + 1) * n];
                // Onset: the first frame ramps up from silence, as a voice's first table does.
                let prev = if t == 0 {
                    if self.rows[b].first_frame == 0 {
                        &zero[..]
                    } else {
                        cur
                    }
                } else {
                    &a[(t - 1) * n..t * n]
                };
                let mut acc = 0.0f32;
                for k in 0..n {
                    acc += (prev[k] + (cur[k] - prev[k]) * r) * im[k];
                }
                row_out[s] = acc;
            });
        }
        Ok((CpuStorage::F32(out), Shape::from((bsz, total))))
    }

    fn bwd(
        &self,
        env_t: &Tensor,
        gain_t: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let (bsz, frames, bands) = env_t.dims3()?;
        let env = env_t.flatten_all()?.to_vec1::<f32>()?;
        let gain = gain_t.flatten_all()?.to_vec1::<f32>()?;
        let g = grad.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
        let total = self.samples(frames);
        let mut d_env = vec![0.0f32; bsz * frames * bands];
        let mut d_gain = vec![0.0f32; bsz * frames];
        for b in 0..bsz {
            let p = partials(&self.setup, self.rows[b].f0_hz);
            let n = p.lower.len();
            let a = amplitudes(&p, &env[b * frames * bands..], &gain[b * frames..], frames, bands);
            // dL/da for every frame's partials: hop t contributes r·g·sin to frame t and
            // (1 − r)·g·sin to frame t − 1.
            let mut da = vec![0.0f32; frames * n];
            let ramps_from_silence = self.rows[b].first_frame == 0;
            let row_g = &g[b * total..(b + 1) * total];
            self.walk(b, frames, &p, |s, t, r, im| {
                let gs = row_g[s];
                if gs == 0.0 {
                    return;
                }
                let (to_cur, to_prev) =
                    if t == 0 { (if ramps_from_silence { r } else { 1.0 }, 0.0) } else { (r, 1.0 - r) };
                let (before, from_t) = da.split_at_mut(t * n);
                for k in 0..n {
                    from_t[k] += gs * to_cur * im[k];
                }
                if to_prev != 0.0 {
                    let prev = &mut before[(t - 1) * n..];
                    for k in 0..n {
                        prev[k] += gs * to_prev * im[k];
                    }
                }
            });
            for t in 0..frames {
                let de = &mut d_env[(b * frames + t) * bands..(b * frames + t + 1) * bands];
                let mut dg = 0.0f32;
                for k in 0..n {
                    // a = exp(gain + env(k)) · taper: da/d(gain) = a, da/d(env) = a · weight.
                    let x = da[t * n + k] * a[t * n + k];
                    dg += x;
                    let lo = p.lower[k];
                    let hi = (lo + 1).min(bands - 1);
                    de[lo] += x * (1.0 - p.frac[k]);
                    de[hi] += x * p.frac[k];
                }
                d_gain[b * frames + t] = dg;
            }
        }
        let dev = env_t.device();
        Ok((
            Some(Tensor::from_vec(d_env, (bsz, frames, bands), dev)?),
            Some(Tensor::from_vec(d_gain, (bsz, frames, 1), dev)?),
        ))
    }
}

/// Filtered noise: `log_power (B, T, N)` (natural log of the noise bands' power spectral
/// density per control frame) → audio `(B, samples)`. One op holds one draw of random phases.
pub struct NoiseOla {
    setup: SynthSetup,
    rows: Vec<RowSpec>,
    size: usize,
    /// Random unit phasors, per row, per noise frame, per bin (drawn lazily in the forward
    /// pass from `seed` so forward and backward agree).
    seed: u64,
}

impl NoiseOla {
    pub fn new(setup: SynthSetup, rows: Vec<RowSpec>, seed: u64) -> Self {
        let size = formulas::noise_frame_size(setup.sample_rate as f32);
        NoiseOla { setup, rows, size, seed }
    }

    pub fn run(&self, log_power: &Tensor) -> Result<Tensor> {
        log_power.contiguous()?.apply_op1(NoiseOla {
            setup: self.setup,
            rows: self.rows.clone(),
            size: self.size,
            seed: self.seed,
        })
    }

    fn samples(&self, frames: usize) -> usize {
        self.rows.iter().map(|r| r.samples(frames, self.setup.sample_rate)).max().unwrap_or(0)
    }

    fn hop(&self) -> usize {
        self.size / 2
    }

    fn top_bin(&self) -> usize {
        let sr = self.setup.sample_rate as f32;
        ((self.setup.limit_hz() * self.size as f32 / sr) as usize).min(self.size / 2)
    }

    fn window(&self) -> Vec<f32> {
        formulas::noise_window(self.size)
    }

    /// The control frame whose noise spectrum a noise frame made at `pos` (samples from the
    /// row's start) uses: the latest one computed by then.
    fn frame_at(&self, row: &RowSpec, pos: usize, frames: usize) -> usize {
        let sr = self.setup.sample_rate;
        let abs = frame_start(row.first_frame, sr) + pos;
        let t = formulas::control_frame_at(abs as u64, sr as u64) as usize;
        t.saturating_sub(row.first_frame).min(frames - 1)
    }

    fn phasors(&self, b: usize, count: usize) -> Vec<Complex32> {
        let mut rng = super::Rng::new((self.seed ^ (b as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1);
        (0..count).map(|_| Complex32::from_polar(1.0, rng.unit() * std::f32::consts::TAU)).collect()
    }

    /// Bin positions on the noise bands and the log of the bin scale.
    fn bins(&self) -> (Vec<rosin_core::bands::BandPosition>, f32) {
        let sr = self.setup.sample_rate as f32;
        let pos = (0..=self.size / 2).map(|j| self.setup.noise.position(j as f32 * sr / self.size as f32)).collect();
        (pos, 0.5 * (sr / (2.0 * self.size as f32)).ln())
    }
}

impl CustomOp1 for NoiseOla {
    fn name(&self) -> &'static str {
        "rosin-noise-ola"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let (bsz, frames, bands) = l.shape().dims3()?;
        if self.rows.len() != bsz || frames == 0 {
            bail!("noise ola: shape {:?} for {} rows", l.shape(), self.rows.len());
        }
        let lp = contiguous(s, l)?;
        let total = self.samples(frames);
        let (size, hop, top) = (self.size, self.hop(), self.top_bin());
        let window = self.window();
        let (bin_pos, half_ln_scale) = self.bins();
        let plan = RealFftPlanner::<f32>::new().plan_fft_inverse(size);
        let mut spec = vec![Complex32::new(0.0, 0.0); size / 2 + 1];
        let mut frame = vec![0.0f32; size];
        let mut scratch = vec![Complex32::new(0.0, 0.0); plan.get_scratch_len()];
        let mut out = vec![0.0f32; bsz * total];
        let noise_frames = total.div_ceil(hop);
        for b in 0..bsz {
            let ph = self.phasors(b, noise_frames * top);
            let row_len = self.rows[b].samples(frames, self.setup.sample_rate);
            for k in 0..noise_frames {
                let pos = k * hop;
                if pos >= row_len {
                    break;
                }
                let t = self.frame_at(&self.rows[b], pos, frames);
                let e = &lp[(b * frames + t) * bands..(b * frames + t + 1) * bands];
                spec.fill(Complex32::new(0.0, 0.0));
                for j in 1..top {
                    let p = bin_pos[j];
                    let v = e[p.lower] + (e[p.lower + 1] - e[p.lower]) * p.frac;
                    spec[j] = ph[k * top + j] * (0.5 * v + half_ln_scale).exp();
                }
                let _ = plan.process_with_scratch(&mut spec, &mut frame, &mut scratch);
                for m in 0..size.min(row_len - pos) {
                    out[b * total + pos + m] += frame[m] * window[m];
                }
            }
        }
        Ok((CpuStorage::F32(out), Shape::from((bsz, total))))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        let (bsz, frames, bands) = arg.dims3()?;
        let lp = arg.flatten_all()?.to_vec1::<f32>()?;
        let g = grad.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
        let total = self.samples(frames);
        let (size, hop, top) = (self.size, self.hop(), self.top_bin());
        let window = self.window();
        let (bin_pos, half_ln_scale) = self.bins();
        let plan = RealFftPlanner::<f32>::new().plan_fft_forward(size);
        let mut buf = vec![0.0f32; size];
        let mut spec = vec![Complex32::new(0.0, 0.0); size / 2 + 1];
        let mut scratch = vec![Complex32::new(0.0, 0.0); plan.get_scratch_len()];
        let mut d = vec![0.0f32; bsz * frames * bands];
        let noise_frames = total.div_ceil(hop);
        for b in 0..bsz {
            let ph = self.phasors(b, noise_frames * top);
            let row_len = self.rows[b].samples(frames, self.setup.sample_rate);
            for k in 0..noise_frames {
                let pos = k * hop;
                if pos >= row_len {
                    break;
                }
                buf.fill(0.0);
                for m in 0..size.min(row_len - pos) {
                    buf[m] = g[b * total + pos + m] * window[m];
                }
                let _ = plan.process_with_scratch(&mut buf, &mut spec, &mut scratch);
                let t = self.frame_at(&self.rows[b], pos, frames);
                let e = &lp[(b * frames + t) * bands..(b * frames + t + 1) * bands];
                let de = &mut d[(b * frames + t) * bands..(b * frames + t + 1) * bands];
                for j in 1..top {
                    let p = bin_pos[j];
                    let v = e[p.lower] + (e[p.lower + 1] - e[p.lower]) * p.frac;
                    let mag = (0.5 * v + half_ln_scale).exp();
                    // x[m] = Σ_j 2 Re(X_j e^{+iωm}) for 0 < j < N/2, so
                    // dL/d|X_j| = 2 Re(phasor_j · conj(FFT(g)_j)); d|X_j|/dv = |X_j| / 2.
                    let dmag = 2.0 * (ph[k * top + j] * spec[j].conj()).re;
                    let dv = dmag * mag * 0.5;
                    de[p.lower] += dv * (1.0 - p.frac);
                    de[p.lower + 1] += dv * p.frac;
                }
            }
        }
        Ok(Some(Tensor::from_vec(d, (bsz, frames, bands), arg.device())?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_values;
    use candle_core::{Device, Var};

    fn setup(sr: u32) -> SynthSetup {
        SynthSetup { sample_rate: sr, harmonic: BandLayout::HARMONIC_V1, noise: BandLayout::NOISE_V1 }
    }

    /// A held note through the real voice and through the op give the same sound.
    #[test]
    fn harmonic_osc_matches_the_voice() -> Result<()> {
        use rosin_core::synth::harmonic::{TablePlans, TableScratch, WaveTable};
        let sr = 44_100;
        let s = setup(sr);
        let layout = s.harmonic;
        let frames = 40;
        let f0 = 261.63f32;
        let env = test_values(frames * layout.count, 7, 2.0, -1.0);
        let gain: Vec<f32> = (0..frames).map(|t| -3.0 + 0.05 * t as f32).collect();
        // Reference: the voice's crossfaded tables, built exactly as the voice builds them.
        let plans = TablePlans::new();
        let mut scratch = TableScratch::new(&plans);
        let (mut a, mut b) = (WaveTable::new(), WaveTable::new());
        let mut reference = vec![];
        let mut phase = 0.0f64;
        for t in 0..frames {
            std::mem::swap(&mut a, &mut b);
            b.build(
                &plans,
                &mut scratch,
                &layout,
                &env[t * layout.count..(t + 1) * layout.count],
                gain[t],
                f0,
                f0,
                s.limit_hz(),
            );
            let hop = frame_start(t + 1, sr) - frame_start(t, sr);
            for i in 0..hop {
                let r = i as f32 / hop as f32;
                let p = phase as f32;
                reference.push(a.read(p) + (b.read(p) - a.read(p)) * r);
                phase += f0 as f64 / sr as f64;
                if phase >= 1.0 {
                    phase -= 1.0;
                }
            }
        }
        let dev = Device::Cpu;
        let op = HarmonicOsc { setup: s, rows: vec![RowSpec { f0_hz: f0, first_frame: 0 }] };
        let audio = op
            .run(
                &Tensor::from_vec(env, (1, frames, layout.count), &dev)?,
                &Tensor::from_vec(gain, (1, frames, 1), &dev)?,
            )?
            .flatten_all()?
            .to_vec1::<f32>()?;
        assert_eq!(audio.len(), reference.len());
        let err: f32 = audio.iter().zip(&reference).map(|(x, y)| (x - y).powi(2)).sum::<f32>().sqrt();
        let norm: f32 = reference.iter().map(|y| y * y).sum::<f32>().sqrt();
        assert!(norm > 1.0 && err / norm < 0.02, "relative error {} of {norm}", err / norm);
        Ok(())
    }

    /// The op's noise has the synth's noise generator's level for the same band power.
    #[test]
    fn noise_level_matches_the_generator() -> Result<()> {
        use rosin_core::synth::noise::NoiseGenerator;
        let sr = 44_100;
        let s = setup(sr);
        let frames = 250;
        let nb = s.noise.count;
        let lp: Vec<f32> = (0..frames * nb).map(|i| -14.0 - 0.05 * (i % nb) as f32).collect();
        let mut gen = NoiseGenerator::new(sr as f32, &s.noise);
        let row = RowSpec { f0_hz: 100.0, first_frame: 0 };
        let len = row.samples(frames, sr);
        let mut reference = vec![0.0f32; len];
        let mut pos = 0;
        while pos < len {
            if gen.samples_until_frame() == 0 {
                for (p, &v) in gen.band_power_mut().iter_mut().zip(&lp[..nb]) {
                    *p = v.exp();
                }
                gen.make_frame();
            }
            let n = gen.samples_until_frame().min(len - pos);
            gen.render_add(&mut reference[pos..pos + n]);
            pos += n;
        }
        let op = NoiseOla::new(s, vec![row], 7);
        let audio = op.run(&Tensor::from_vec(lp, (1, frames, nb), &Device::Cpu)?)?.flatten_all()?.to_vec1::<f32>()?;
        let rms = |x: &[f32]| (x[2000..].iter().map(|v| v * v).sum::<f32>() / (x.len() - 2000) as f32).sqrt();
        let ratio_db = 20.0 * (rms(&audio) / rms(&reference)).log10();
        assert!(ratio_db.abs() < 0.3, "op noise is {ratio_db} dB off the generator's");
        Ok(())
    }

    /// Gradients of Σ c·audio against central differences, for both ops.
    #[test]
    fn gradients_match_finite_differences() -> Result<()> {
        let dev = Device::Cpu;
        let sr = 8_000;
        let s = setup(sr);
        let frames = 6;
        let rows = vec![RowSpec { f0_hz: 300.0, first_frame: 0 }, RowSpec { f0_hz: 410.0, first_frame: 3 }];
        let (hb, nb) = (s.harmonic.count, s.noise.count);
        let env = Var::from_vec(test_values(2 * frames * hb, 3, 1.0, -0.5), (2, frames, hb), &dev)?;
        let gain = Var::from_vec(test_values(2 * frames, 5, 1.0, -1.0), (2, frames, 1), &dev)?;
        let lp = Var::from_vec(test_values(2 * frames * nb, 9, 2.0, -12.0), (2, frames, nb), &dev)?;
        let osc = HarmonicOsc { setup: s, rows: rows.clone() };
        let noise = NoiseOla::new(s, rows.clone(), 42);
        let n = osc.samples(frames);
        let c = Tensor::from_vec(test_values(2 * n, 11, 2.0, 0.0), (2, n), &dev)?;
        let loss = |e: &Tensor, g: &Tensor, l: &Tensor| -> Result<Tensor> {
            let audio = (osc.run(e, g)? + noise.run(l)?)?;
            (audio * &c)?.sum_all()
        };
        let grads = loss(env.as_tensor(), gain.as_tensor(), lp.as_tensor())?.backward()?;
        let eps = 1e-2f32;
        let check = |var: &Var, idx: &[usize]| -> Result<()> {
            let analytic = grads.get(var).expect("gradient").flatten_all()?.to_vec1::<f32>()?;
            let base = var.as_tensor().flatten_all()?.to_vec1::<f32>()?;
            for &i in idx {
                let mut plus = base.clone();
                plus[i] += eps;
                let mut minus = base.clone();
                minus[i] -= eps;
                let shape = var.as_tensor().shape().clone();
                let f = |v: Vec<f32>| -> Result<f32> {
                    let t = Tensor::from_vec(v, shape.clone(), &dev)?;
                    let (e, g, l) = if var.as_tensor().dims3()?.2 == hb {
                        (t, gain.as_tensor().clone(), lp.as_tensor().clone())
                    } else if var.as_tensor().dims3()?.2 == 1 {
                        (env.as_tensor().clone(), t, lp.as_tensor().clone())
                    } else {
                        (env.as_tensor().clone(), gain.as_tensor().clone(), t)
                    };
                    loss(&e, &g, &l)?.to_scalar::<f32>()
                };
                let numeric = (f(plus)? - f(minus)?) / (2.0 * eps);
                let tol = 2e-2 * numeric.abs().max(analytic[i].abs()) + 1e-3;
                assert!((numeric - analytic[i]).abs() <= tol, "index {i}: numeric {numeric}, analytic {}", analytic[i]);
            }
            Ok(())
        };
        // Bands under partials (300 Hz and 410 Hz harmonics), first/last frames, both rows.
        let band = s.harmonic.position(900.0).lower;
        check(&env, &[band, 5 * hb + band, (frames + 2) * hb + band + 1])?;
        check(&gain, &[0, 3, frames + 1, 2 * frames - 1])?;
        let nband = s.noise.position(1000.0).lower;
        check(&lp, &[nband, 2 * nb + nband + 1, (frames + 4) * nb + nband])?;
        // Every frame's gain gets a gradient.
        let dg = grads.get(&gain).expect("gradient").flatten_all()?.to_vec1::<f32>()?;
        assert!(dg.iter().all(|&x| x != 0.0), "{dg:?}");
        Ok(())
    }
}
