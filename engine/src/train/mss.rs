//! The multi-scale spectral distance of `rosin eval` ([`crate::eval::metrics`]) as a
//! differentiable loss, for the audio-domain fine-tune.
//!
//! Why a custom op: as candle ops the STFT is a DFT matmul whose basis candle would also
//! differentiate; a realfft-based op with its own backward (NOTES-candle.md: ~5x faster) does
//! only the needed work. The loss itself is built from candle ops on the magnitudes.

use crate::eval::metrics;
use candle_core::{bail, CpuStorage, CustomOp1, Layout, Result, Shape, Tensor};
use realfft::num_complex::Complex32;
use realfft::RealFftPlanner;

/// FFT sizes of the distance at a sample rate (the same as `rosin eval`'s).
pub fn sizes_for(sample_rate: u32) -> Vec<usize> {
    metrics::scaled_sizes(sample_rate)
}

/// STFT magnitudes: audio `(B, N)` → `(B, frames, size/2 + 1)`, framed, windowed and scaled
/// exactly as [`metrics::magnitude_spectrogram`].
pub struct StftMagnitude {
    pub size: usize,
}

impl StftMagnitude {
    fn hop(&self) -> usize {
        (self.size / 4).max(1)
    }

    fn frames(&self, n: usize) -> usize {
        let mut count = 0;
        let mut start = 0;
        while start + self.size <= n.max(self.size) {
            count += 1;
            start += self.hop();
        }
        count
    }

    fn window(&self) -> (Vec<f32>, f32) {
        let w: Vec<f32> =
            (0..self.size).map(|i| 0.5 - 0.5 * (std::f32::consts::TAU * i as f32 / self.size as f32).cos()).collect();
        let norm = 2.0 / w.iter().sum::<f32>();
        (w, norm)
    }
}

impl CustomOp1 for StftMagnitude {
    fn name(&self) -> &'static str {
        "rosin-stft-magnitude"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let (b, n) = l.shape().dims2()?;
        let x = match l.contiguous_offsets() {
            Some((o1, o2)) => &s.as_slice::<f32>()?[o1..o2],
            None => bail!("stft magnitude: input must be contiguous"),
        };
        let (size, hop, frames, bins) = (self.size, self.hop(), self.frames(n), self.size / 2 + 1);
        let (w, norm) = self.window();
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(size);
        let mut buf = vec![0.0f32; size];
        let mut spec = vec![Complex32::new(0.0, 0.0); bins];
        let mut scratch = vec![Complex32::new(0.0, 0.0); fft.get_scratch_len()];
        let mut out = vec![0.0f32; b * frames * bins];
        for r in 0..b {
            let row = &x[r * n..(r + 1) * n];
            for f in 0..frames {
                let start = f * hop;
                for (i, v) in buf.iter_mut().enumerate() {
                    *v = row.get(start + i).copied().unwrap_or(0.0) * w[i];
                }
                let _ = fft.process_with_scratch(&mut buf, &mut spec, &mut scratch);
                let o = &mut out[(r * frames + f) * bins..(r * frames + f + 1) * bins];
                for (m, c) in o.iter_mut().zip(&spec) {
                    *m = c.norm() * norm;
                }
            }
        }
        Ok((CpuStorage::F32(out), Shape::from((b, frames, bins))))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        let (b, n) = arg.dims2()?;
        let x = arg.flatten_all()?.to_vec1::<f32>()?;
        let g = grad.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
        let (size, hop, frames, bins) = (self.size, self.hop(), self.frames(n), self.size / 2 + 1);
        let (w, norm) = self.window();
        let mut planner = RealFftPlanner::<f32>::new();
        let fft = planner.plan_fft_forward(size);
        let ifft = planner.plan_fft_inverse(size);
        let mut buf = vec![0.0f32; size];
        let mut spec = vec![Complex32::new(0.0, 0.0); bins];
        let mut scratch = vec![Complex32::new(0.0, 0.0); fft.get_scratch_len().max(ifft.get_scratch_len())];
        let mut dx = vec![0.0f32; b * n];
        for r in 0..b {
            for f in 0..frames {
                let start = f * hop;
                for (i, v) in buf.iter_mut().enumerate() {
                    *v = x.get(r * n + start + i).filter(|_| start + i < n).copied().unwrap_or(0.0) * w[i];
                }
                let _ = fft.process_with_scratch(&mut buf, &mut spec, &mut scratch);
                // d|X_j|/d buf_i = Re(X_j/|X_j| · e^{+2πi ji/size}): an inverse real FFT of
                // Y_j = c_j X_j/|X_j| (halved where realfft's Hermitian sum counts a bin twice).
                let gf = &g[(r * frames + f) * bins..(r * frames + f + 1) * bins];
                for (j, c) in spec.iter_mut().enumerate() {
                    let mag = c.norm();
                    let y = if mag > 1e-20 { *c * (gf[j] * norm / mag) } else { Complex32::new(0.0, 0.0) };
                    *c = if j == 0 || j == bins - 1 { Complex32::new(y.re, 0.0) } else { y * 0.5 };
                }
                let _ = ifft.process_with_scratch(&mut spec, &mut buf, &mut scratch);
                for i in 0..size.min(n.saturating_sub(start)) {
                    dx[r * n + start + i] += buf[i] * w[i];
                }
            }
        }
        Ok(Some(Tensor::from_vec(dx, (b, n), arg.device())?))
    }
}

/// Magnitudes of the target audio `(B, N)` at every size (constants of the loss).
pub fn target_magnitudes(target: &Tensor, sizes: &[usize]) -> Result<Vec<Tensor>> {
    let target = target.detach().contiguous()?;
    sizes.iter().map(|&size| target.apply_op1(StftMagnitude { size })).collect()
}

/// Mean over sizes of mean(100·|a − b|) + mean(|ln(a + 1e-5) − ln(b + 1e-5)|): for one row it
/// equals [`metrics::multiscale_spectral_distance`] of same-length signals.
pub fn mss_loss(pred: &Tensor, target_mags: &[Tensor], sizes: &[usize]) -> Result<Tensor> {
    let pred = pred.contiguous()?;
    let mut total: Option<Tensor> = None;
    for (&size, t) in sizes.iter().zip(target_mags) {
        let p = pred.apply_op1(StftMagnitude { size })?;
        let lin = ((&p - t)?.abs()?.mean_all()? * 100.0)?;
        let log = ((&p + 1e-5)?.log()? - (t + 1e-5)?.log()?)?.abs()?.mean_all()?;
        let term = (lin + log)?;
        total = Some(match total {
            Some(acc) => (acc + term)?,
            None => term,
        });
    }
    match total {
        Some(t) => t / sizes.len() as f64,
        None => bail!("mss loss: no FFT sizes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    /// A tone plus noise, so every bin has energy.
    fn noise(n: usize, seed: u64) -> Vec<f32> {
        let r = crate::train::test_values(n, seed, 0.2, 0.0);
        r.iter().enumerate().map(|(i, v)| 0.3 * (i as f32 * 0.07).sin() + v).collect()
    }

    #[test]
    fn magnitudes_and_distance_match_the_eval_metric() -> Result<()> {
        let dev = Device::Cpu;
        for &(n, size) in &[(3000usize, 512usize), (1000, 64), (100, 256)] {
            let x = noise(n, 3);
            let ours = Tensor::from_slice(&x, (1, n), &dev)?
                .apply_op1(StftMagnitude { size })?
                .squeeze(0)?
                .to_vec2::<f32>()?;
            let theirs = metrics::magnitude_spectrogram(&x, size);
            assert_eq!(ours.len(), theirs.len());
            for (a, b) in ours.iter().zip(&theirs) {
                for (p, q) in a.iter().zip(b) {
                    assert!((p - q).abs() < 1e-5, "{p} vs {q}");
                }
            }
        }
        let (a, b) = (noise(20_000, 5), noise(20_000, 9));
        let sizes = sizes_for(44_100);
        let at = Tensor::from_slice(&a, (1, a.len()), &dev)?;
        let bt = Tensor::from_slice(&b, (1, b.len()), &dev)?;
        let ours = mss_loss(&bt, &target_magnitudes(&at, &sizes)?, &sizes)?.to_scalar::<f32>()?;
        let theirs = metrics::multiscale_spectral_distance(&a, &b, 44_100);
        assert!((ours - theirs).abs() < 1e-4 * theirs, "{ours} vs {theirs}");
        Ok(())
    }

    /// Gradient of Σ c·|STFT| against central differences (smooth, unlike the L1 loss).
    #[test]
    fn magnitude_gradient_matches_finite_differences() -> Result<()> {
        let dev = Device::Cpu;
        let (b, n, size) = (2, 300, 64);
        let x = Var::from_vec(noise(b * n, 7), (b, n), &dev)?;
        let op = || StftMagnitude { size };
        let frames = op().frames(n);
        let c = Tensor::from_vec(noise(b * frames * (size / 2 + 1), 11), (b, frames, size / 2 + 1), &dev)?;
        let f = |t: &Tensor| -> Result<Tensor> { (t.apply_op1(op())? * &c)?.sum_all() };
        let grads = f(x.as_tensor())?.backward()?;
        let analytic = grads.get(&x).expect("gradient").flatten_all()?.to_vec1::<f32>()?;
        // Every sample inside some frame gets a gradient (sample 0 sits on the window's zero;
        // samples after the last whole frame are not measured, as in `rosin eval`).
        let covered = (frames - 1) * op().hop() + size;
        let inside = analytic.iter().enumerate().filter(|(i, _)| (1..covered).contains(&(i % n)));
        assert!(inside.clone().all(|(_, g)| g.abs() > 0.0), "{analytic:?}");
        assert!(analytic.iter().enumerate().filter(|(i, _)| i % n >= covered).all(|(_, g)| *g == 0.0));
        let base = x.as_tensor().flatten_all()?.to_vec1::<f32>()?;
        let eps = 1e-2f32;
        for &i in &[0usize, 17, 150, 299, 300, 455, 599] {
            let eval = |d: f32| -> Result<f32> {
                let mut v = base.clone();
                v[i] += d;
                f(&Tensor::from_vec(v, (b, n), &dev)?)?.to_scalar::<f32>()
            };
            let numeric = (eval(eps)? - eval(-eps)?) / (2.0 * eps);
            let tol = 2e-2 * numeric.abs().max(analytic[i].abs()) + 1e-3;
            assert!((numeric - analytic[i]).abs() <= tol, "sample {i}: numeric {numeric}, analytic {}", analytic[i]);
        }
        Ok(())
    }
}
