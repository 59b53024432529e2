//! The multi-scale spectral distance of `rosin eval` ([`rosin_tools::eval::metrics`]) as a
//! differentiable loss, for the audio-domain fine-tune.
//!
//! Why custom ops: as candle ops the STFT is a DFT matmul whose basis candle would also
//! differentiate; a realfft-based op with its own backward (NOTES-candle.md: ~5x faster) does
//! only the needed work. The distance between spectrograms is fused too: as candle ops (sub,
//! abs, log, mean and candle's backward of each) forward + backward of the loss took ~130 ms at
//! the fine-tune's batch (8 x 1 s at 44.1 kHz, 2 cores), ~100 ms of it in those ops; fused, ~50 ms.

use candle_core::{bail, CpuStorage, CustomOp1, CustomOp2, Layout, Result, Shape, Storage, Tensor};
use realfft::num_complex::Complex32;
use realfft::{RealFftPlanner, RealToComplex};
use rosin_tools::eval::metrics;
use std::sync::{Arc, Mutex};

/// FFT sizes of the distance at a sample rate (the same as `rosin eval`'s).
pub fn sizes_for(sample_rate: u32) -> Vec<usize> {
    metrics::scaled_sizes(sample_rate)
}

/// STFT magnitudes: audio `(B, N)` → `(B, frames, size/2 + 1)`, framed, windowed and scaled
/// exactly as [`metrics::magnitude_spectrogram`].
pub struct StftMagnitude {
    size: usize,
    /// `X·norm/|X|` of every bin of the forward pass (None: not kept). The backward pass needs
    /// only this, so keeping it spares it a second FFT of every frame.
    phase: Option<Mutex<Vec<Complex32>>>,
}

impl StftMagnitude {
    /// An op to differentiate through.
    pub fn new(size: usize) -> Self {
        StftMagnitude { size, phase: Some(Mutex::new(Vec::new())) }
    }

    /// An op for constants: its backward pass, if ever run, recomputes the spectrum.
    pub fn constant(size: usize) -> Self {
        StftMagnitude { size, phase: None }
    }

    pub fn hop(&self) -> usize {
        (self.size / 4).max(1)
    }

    /// Frames of `n` samples: starts `0, hop, ..` while `start + size <= max(n, size)`.
    pub fn frames(&self, n: usize) -> usize {
        n.saturating_sub(self.size) / self.hop() + 1
    }

    pub fn bins(&self) -> usize {
        self.size / 2 + 1
    }

    fn window(&self) -> (Vec<f32>, f32) {
        let w: Vec<f32> =
            (0..self.size).map(|i| 0.5 - 0.5 * (std::f32::consts::TAU * i as f32 / self.size as f32).cos()).collect();
        let norm = 2.0 / w.iter().sum::<f32>();
        (w, norm)
    }
}

/// Per-call state shared by every row: plan, window and framing.
struct Frames {
    fft: Arc<dyn RealToComplex<f32>>,
    window: Vec<f32>,
    norm: f32,
    size: usize,
    hop: usize,
    frames: usize,
    bins: usize,
}

impl Frames {
    fn new(op: &StftMagnitude, n: usize) -> Self {
        let (window, norm) = op.window();
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(op.size);
        Frames { fft, window, norm, size: op.size, hop: op.hop(), frames: op.frames(n), bins: op.bins() }
    }

    /// Windowed frame starting at `start` of `row` (zeros past its end) into `buf`.
    fn fill(&self, row: &[f32], start: usize, buf: &mut [f32]) {
        let have = self.size.min(row.len().saturating_sub(start));
        for ((b, &x), &w) in buf.iter_mut().zip(&row[start..start + have]).zip(&self.window) {
            *b = x * w;
        }
        buf[have..].fill(0.0);
    }

    /// Spectrum of frame `f` of `row` into `spec`; `buf` is clobbered.
    fn spectrum(&self, row: &[f32], f: usize, buf: &mut [f32], spec: &mut [Complex32], scratch: &mut [Complex32]) {
        self.fill(row, f * self.hop, buf);
        self.fft.process_with_scratch(buf, spec, scratch).expect("buffer sizes match the plan");
    }

    /// Magnitudes of one row's frames into `mags`, and `X·norm/|X|` into `phase` if kept.
    fn forward_row(&self, row: &[f32], mags: &mut [f32], mut phase: Option<&mut [Complex32]>) {
        let mut buf = vec![0.0f32; self.size];
        let mut spec = self.fft.make_output_vec();
        let mut scratch = self.fft.make_scratch_vec();
        for f in 0..self.frames {
            self.spectrum(row, f, &mut buf, &mut spec, &mut scratch);
            let range = f * self.bins..(f + 1) * self.bins;
            match phase.as_deref_mut() {
                Some(ph) => {
                    for ((m, p), c) in mags[range.clone()].iter_mut().zip(&mut ph[range]).zip(&spec) {
                        let a = (c.re * c.re + c.im * c.im).sqrt();
                        *m = a * self.norm;
                        *p = unit(*c, a, self.norm);
                    }
                }
                None => {
                    for (m, c) in mags[range].iter_mut().zip(&spec) {
                        *m = (c.re * c.re + c.im * c.im).sqrt() * self.norm;
                    }
                }
            }
        }
    }
}

/// `c·scale/|c|`; zero where |c| ≈ 0 (no direction to push the magnitude up along).
fn unit(c: Complex32, abs: f32, scale: f32) -> Complex32 {
    if abs > 1e-20 {
        c * (scale / abs)
    } else {
        Complex32::new(0.0, 0.0)
    }
}

/// Runs `f` on every item, spread over candle's CPU worker threads (which otherwise spin idle
/// between candle's own ops); `CANDLE_NUM_THREADS=1` keeps it on the calling thread.
fn for_each_parallel<T: Send>(items: Vec<T>, f: impl Fn(T) + Sync) {
    let items: Vec<Mutex<Option<T>>> = items.into_iter().map(|t| Mutex::new(Some(t))).collect();
    candle_core::utils::barrier_pool().execute_chunked(items.len(), |range| {
        for i in range {
            let item = items[i].lock().map(|mut t| t.take()).unwrap_or(None);
            if let Some(item) = item {
                f(item);
            }
        }
    });
}

fn contiguous<'a>(s: &'a CpuStorage, l: &Layout) -> Result<&'a [f32]> {
    match l.contiguous_offsets() {
        Some((a, b)) => Ok(&s.as_slice::<f32>()?[a..b]),
        None => bail!("stft magnitude: input must be contiguous"),
    }
}

impl CustomOp1 for StftMagnitude {
    fn name(&self) -> &'static str {
        "rosin-stft-magnitude"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let (b, n) = l.shape().dims2()?;
        if self.size < 2 {
            bail!("stft magnitude: size {} (at least 2)", self.size);
        }
        let x = contiguous(s, l)?;
        let fr = Frames::new(self, n);
        let per_row = fr.frames * fr.bins;
        let mut out = vec![0.0f32; b * per_row];
        let mut phase = match &self.phase {
            Some(_) => vec![Complex32::new(0.0, 0.0); b * per_row],
            None => Vec::new(),
        };
        // An empty `phase` (not kept) gives every row None.
        let mut phase_rows = phase.chunks_mut(per_row);
        let items: Vec<_> = out.chunks_mut(per_row).enumerate().map(|(r, m)| (r, m, phase_rows.next())).collect();
        for_each_parallel(items, |(r, mags, ph)| fr.forward_row(&x[r * n..(r + 1) * n], mags, ph));
        if let Some(keep) = &self.phase {
            if let Ok(mut k) = keep.lock() {
                *k = phase;
            }
        }
        Ok((CpuStorage::F32(out), Shape::from((b, fr.frames, fr.bins))))
    }

    /// `d|X_j|/dx_i = Re(X_j/|X_j| · e^{+2πi·ji/size})`, so the gradient of a windowed frame is
    /// an inverse real FFT of `g_j·norm·X_j/|X_j|` (halved where the inverse counts a bin twice);
    /// windowed again, frames overlap-add into dL/dx.
    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        let (b, n) = arg.dims2()?;
        let fr = Frames::new(self, n);
        let per_row = fr.frames * fr.bins;
        // Taken, not copied: a second backward pass through the same graph recomputes it.
        let kept = self.phase.as_ref().and_then(|k| k.lock().ok().map(|mut k| std::mem::take(&mut *k)));
        let kept = kept.filter(|k| k.len() == b * per_row);
        let arg = arg.contiguous()?;
        let grad = grad.contiguous()?;
        let (x_store, x_layout) = arg.storage_and_layout();
        let (g_store, g_layout) = grad.storage_and_layout();
        let (x, g) = match (&*x_store, &*g_store) {
            (Storage::Cpu(xs), Storage::Cpu(gs)) => (contiguous(xs, x_layout)?, contiguous(gs, g_layout)?),
            _ => bail!("stft magnitude: backward on the CPU only"),
        };
        let ifft = RealFftPlanner::<f32>::new().plan_fft_inverse(fr.size);
        let nyquist = if fr.size.is_multiple_of(2) { fr.bins - 1 } else { usize::MAX };
        let mut dx = vec![0.0f32; b * n];
        let items: Vec<(usize, &mut [f32])> = dx.chunks_mut(n.max(1)).enumerate().collect();
        for_each_parallel(items, |(r, dxr)| {
            let row = &x[r * n..(r + 1) * n];
            let mut buf = vec![0.0f32; fr.size];
            let mut spec = fr.fft.make_output_vec();
            let mut scratch = vec![Complex32::new(0.0, 0.0); fr.fft.get_scratch_len().max(ifft.get_scratch_len())];
            for f in 0..fr.frames {
                let range = r * per_row + f * fr.bins..r * per_row + (f + 1) * fr.bins;
                match &kept {
                    Some(ph) => spec.copy_from_slice(&ph[range.clone()]),
                    None => {
                        fr.spectrum(row, f, &mut buf, &mut spec, &mut scratch);
                        for c in spec.iter_mut() {
                            *c = unit(*c, (c.re * c.re + c.im * c.im).sqrt(), fr.norm);
                        }
                    }
                }
                for (j, (c, &gj)) in spec.iter_mut().zip(&g[range]).enumerate() {
                    *c = if j == 0 || j == nyquist { Complex32::new(c.re * gj, 0.0) } else { *c * (0.5 * gj) };
                }
                ifft.process_with_scratch(&mut spec, &mut buf, &mut scratch).expect("buffer sizes match the plan");
                let start = f * fr.hop;
                let have = fr.size.min(n.saturating_sub(start));
                for ((d, &v), &w) in dxr[start..start + have].iter_mut().zip(&buf).zip(&fr.window) {
                    *d += v * w;
                }
            }
        });
        Ok(Some(Tensor::from_vec(dx, (b, n), arg.device())?))
    }
}

/// Offset inside the logarithm, as in [`metrics::multiscale_spectral_distance`].
const LOG_EPS: f32 = 1e-5;

/// Elements per parallel work item of [`SpectralDistance`].
const CHUNK: usize = 1 << 14;

/// `(pred, target)` spectrograms → the scalar mean of `100·|p − t| + |ln(p + ε) − ln(t + ε)|`,
/// differentiated for `pred` only. Both terms change sign with `p − t` (ln is monotonic), so
/// `dL/dp = sign(p − t)·(100 + 1/(p + ε)) / count`; zero where `p = t`.
struct SpectralDistance;

impl CustomOp2 for SpectralDistance {
    fn name(&self) -> &'static str {
        "rosin-spectral-distance"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> Result<(CpuStorage, Shape)> {
        if l1.shape() != l2.shape() {
            bail!("spectral distance: shapes {:?} and {:?}", l1.shape(), l2.shape());
        }
        let (p, t) = (contiguous(s1, l1)?, contiguous(s2, l2)?);
        let mut sums = vec![(0.0f64, 0.0f64); p.len().div_ceil(CHUNK)];
        let items: Vec<_> = sums.iter_mut().zip(p.chunks(CHUNK).zip(t.chunks(CHUNK))).collect();
        for_each_parallel(items, |(sum, (p, t))| {
            let (mut lin, mut log) = (0.0f64, 0.0f64);
            for (&p, &t) in p.iter().zip(t) {
                lin += (p - t).abs() as f64;
                log += ((p + LOG_EPS) / (t + LOG_EPS)).ln().abs() as f64;
            }
            *sum = (lin, log);
        });
        let (lin, log) = sums.iter().fold((0.0, 0.0), |(a, b), (c, d)| (a + c, b + d));
        let value = (100.0 * lin + log) / p.len().max(1) as f64;
        Ok((CpuStorage::F32(vec![value as f32]), Shape::from(())))
    }

    fn bwd(
        &self,
        pred: &Tensor,
        target: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let scale = grad.to_scalar::<f32>()? / pred.elem_count().max(1) as f32;
        let (pred, target) = (pred.contiguous()?, target.contiguous()?);
        let (p_store, p_layout) = pred.storage_and_layout();
        let (t_store, t_layout) = target.storage_and_layout();
        let (p, t) = match (&*p_store, &*t_store) {
            (Storage::Cpu(ps), Storage::Cpu(ts)) => (contiguous(ps, p_layout)?, contiguous(ts, t_layout)?),
            _ => bail!("spectral distance: backward on the CPU only"),
        };
        let mut dp = vec![0.0f32; p.len()];
        let items: Vec<_> = dp.chunks_mut(CHUNK).zip(p.chunks(CHUNK).zip(t.chunks(CHUNK))).collect();
        for_each_parallel(items, |(d, (p, t))| {
            for ((d, &p), &t) in d.iter_mut().zip(p).zip(t) {
                let g = scale * (100.0 + 1.0 / (p + LOG_EPS));
                *d = if p > t {
                    g
                } else if p < t {
                    -g
                } else {
                    0.0
                };
            }
        });
        Ok((Some(Tensor::from_vec(dp, pred.shape(), pred.device())?), None))
    }
}

/// Magnitudes of the target audio `(B, N)` at every size (constants of the loss).
pub fn target_magnitudes(target: &Tensor, sizes: &[usize]) -> Result<Vec<Tensor>> {
    let target = target.detach().contiguous()?;
    sizes.iter().map(|&size| target.apply_op1(StftMagnitude::constant(size))).collect()
}

/// Mean over sizes of mean(100·|a − b|) + mean(|ln(a + 1e-5) − ln(b + 1e-5)|) over (B, frames,
/// bins): for one row it equals [`metrics::multiscale_spectral_distance`] of same-length signals,
/// for a batch the rows' mean. `target_mags` from [`target_magnitudes`] with the same `sizes`.
pub fn mss_loss(pred: &Tensor, target_mags: &[Tensor], sizes: &[usize]) -> Result<Tensor> {
    if sizes.is_empty() || sizes.len() != target_mags.len() {
        bail!("mss loss: {} sizes for {} target spectrograms", sizes.len(), target_mags.len());
    }
    let pred = pred.contiguous()?;
    let op = |size| if pred.track_op() { StftMagnitude::new(size) } else { StftMagnitude::constant(size) };
    let mut total: Option<Tensor> = None;
    for (&size, t) in sizes.iter().zip(target_mags) {
        let p = pred.apply_op1(op(size))?;
        let term = p.apply_op2(&t.detach().contiguous()?, SpectralDistance)?;
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
        let r = crate::test_values(n, seed, 0.2, 0.0);
        r.iter().enumerate().map(|(i, v)| 0.3 * (i as f32 * 0.07).sin() + v).collect()
    }

    /// Magnitudes of `(b, n)` audio by a direct DFT in f64: an independent reference, smooth and
    /// precise enough for finite differences with a tiny step.
    fn reference_mags(x: &[f64], b: usize, n: usize, size: usize) -> Vec<f64> {
        let op = StftMagnitude::constant(size);
        let w: Vec<f64> =
            (0..size).map(|k| 0.5 - 0.5 * (std::f64::consts::TAU * k as f64 / size as f64).cos()).collect();
        let norm = 2.0 / w.iter().sum::<f64>();
        let mut out = Vec::new();
        for r in 0..b {
            for f in 0..op.frames(n) {
                let frame: Vec<f64> = (0..size)
                    .map(|k| x.get(r * n + f * op.hop() + k).filter(|_| f * op.hop() + k < n).unwrap_or(&0.0) * w[k])
                    .collect();
                for j in 0..op.bins() {
                    let (mut re, mut im) = (0.0, 0.0);
                    for (k, v) in frame.iter().enumerate() {
                        let a = std::f64::consts::TAU * ((j * k) % size) as f64 / size as f64;
                        re += v * a.cos();
                        im -= v * a.sin();
                    }
                    out.push(re.hypot(im) * norm);
                }
            }
        }
        out
    }

    /// dL/dx at the given flat sample indices by central differences of an f64 `loss`.
    fn finite_differences(x: &[f32], at: &[usize], loss: impl Fn(&[f64]) -> f64) -> Vec<f64> {
        let eps = 1e-6;
        let x: Vec<f64> = x.iter().map(|&v| v as f64).collect();
        at.iter()
            .map(|&i| {
                let mut v = x.clone();
                v[i] = x[i] + eps;
                let up = loss(&v);
                v[i] = x[i] - eps;
                (up - loss(&v)) / (2.0 * eps)
            })
            .collect()
    }

    /// `analytic[at[k]]` agrees with `numeric[k]` to 2e-4 relative (1e-6 absolute).
    fn assert_gradients_match(at: &[usize], numeric: &[f64], analytic: &[f32], what: &str) {
        for (&i, &num) in at.iter().zip(numeric) {
            let ana = analytic[i] as f64;
            assert!(
                (num - ana).abs() <= 2e-4 * num.abs().max(ana.abs()) + 1e-6,
                "{what} sample {i}: numeric {num}, analytic {ana}"
            );
        }
    }

    #[test]
    fn magnitudes_match_the_eval_spectrogram() -> Result<()> {
        let dev = Device::Cpu;
        for &(n, size) in &[(3000usize, 512usize), (1000, 64), (100, 256), (64, 64), (65, 16), (2047, 2048), (301, 16)]
        {
            let rows = 3;
            let x: Vec<f32> = (0..rows).flat_map(|r| noise(n, 3 + r as u64)).collect();
            let xt = Tensor::from_slice(&x, (rows, n), &dev)?;
            for op in [StftMagnitude::new(size), StftMagnitude::constant(size)] {
                let frames = op.frames(n);
                let ours = xt.apply_op1(op)?.to_vec3::<f32>()?;
                for (r, ours) in ours.iter().enumerate() {
                    let theirs = metrics::magnitude_spectrogram(&x[r * n..(r + 1) * n], size);
                    assert_eq!((ours.len(), theirs.len()), (frames, frames), "n {n} size {size}");
                    for (a, b) in ours.iter().zip(&theirs) {
                        assert_eq!(a.len(), b.len());
                        for (p, q) in a.iter().zip(b) {
                            assert!((p - q).abs() <= 1e-6 + 1e-5 * q.abs(), "n {n} size {size}: {p} vs {q}");
                        }
                    }
                }
            }
        }
        Ok(())
    }

    #[test]
    fn loss_equals_the_eval_distance() -> Result<()> {
        let dev = Device::Cpu;
        for &(n, sr) in &[(20_000usize, 44_100u32), (7_000, 24_000), (1_000, 44_100)] {
            let sizes = sizes_for(sr);
            let rows = 3;
            let target: Vec<f32> = (0..rows).flat_map(|r| noise(n, 5 + r as u64)).collect();
            let pred: Vec<f32> =
                (0..rows).flat_map(|r| noise(n, 50 + r as u64).iter().map(|v| 0.7 * v).collect::<Vec<_>>()).collect();
            let tt = Tensor::from_slice(&target, (rows, n), &dev)?;
            let pt = Tensor::from_slice(&pred, (rows, n), &dev)?;
            let target_mags = target_magnitudes(&tt, &sizes)?;
            // One row: the eval metric itself.
            let one = mss_loss(&pt.narrow(0, 0, 1)?, &target_magnitudes(&tt.narrow(0, 0, 1)?, &sizes)?, &sizes)?
                .to_scalar::<f32>()?;
            let theirs: Vec<f32> = (0..rows)
                .map(|r| {
                    metrics::multiscale_spectral_distance(&target[r * n..(r + 1) * n], &pred[r * n..(r + 1) * n], sr)
                })
                .collect();
            assert!((one - theirs[0]).abs() <= 1e-4 * theirs[0], "n {n}: {one} vs {}", theirs[0]);
            // A batch: every row has as many bins, so the batch loss is the rows' mean distance.
            let batch = mss_loss(&pt, &target_mags, &sizes)?.to_scalar::<f32>()?;
            let mean = theirs.iter().sum::<f32>() / rows as f32;
            assert!((batch - mean).abs() <= 1e-4 * mean, "n {n}: {batch} vs {mean}");
        }
        Ok(())
    }

    /// Gradient of Σ c·|STFT| (smooth, unlike the L1 loss) against central differences, through
    /// both backward paths (phase kept by the forward pass, and recomputed), including N < size
    /// and a tail that no frame covers.
    #[test]
    fn magnitude_gradient_matches_finite_differences() -> Result<()> {
        let dev = Device::Cpu;
        for &(b, n, size) in &[(2usize, 300usize, 64usize), (1, 50, 64), (2, 301, 16)] {
            let x0 = noise(b * n, 7);
            let probe = StftMagnitude::constant(size);
            let (frames, bins) = (probe.frames(n), probe.bins());
            let c = crate::test_values(b * frames * bins, 11, 2.0, 0.0);
            let ct = Tensor::from_slice(&c, (b, frames, bins), &dev)?;
            let at: Vec<usize> = [1usize, 17, 31, 32, 49, 150, 299]
                .iter()
                .flat_map(|&i| [i, n + i])
                .filter(|&i| i < b * n && i % n < n)
                .collect();
            let numeric = finite_differences(&x0, &at, |v| {
                reference_mags(v, b, n, size).iter().zip(&c).map(|(m, c)| m * *c as f64).sum()
            });
            for keep in [true, false] {
                let x = Var::from_slice(&x0, (b, n), &dev)?;
                let op = if keep { StftMagnitude::new(size) } else { StftMagnitude::constant(size) };
                let grads = (x.as_tensor().apply_op1(op)? * &ct)?.sum_all()?.backward()?;
                let analytic = grads.get(&x).expect("gradient").flatten_all()?.to_vec1::<f32>()?;
                assert_gradients_match(&at, &numeric, &analytic, &format!("b {b} n {n} size {size} keep {keep}"));
            }
        }
        Ok(())
    }

    /// The whole loss against central differences of an f64 reference. The target spectrograms
    /// sit at least 0.01 away from the prediction's, on both sides, so no |.| changes sign within
    /// ±eps.
    #[test]
    fn loss_gradient_matches_finite_differences() -> Result<()> {
        let dev = Device::Cpu;
        let (b, n, sizes) = (2usize, 300usize, [64usize, 16]);
        let x0 = noise(b * n, 13);
        let signs = crate::test_values(b * n * 64, 17, 2.0, 0.0);
        let targets: Vec<Vec<f64>> = sizes
            .iter()
            .map(|&size| {
                let x: Vec<f64> = x0.iter().map(|&v| v as f64).collect();
                let m = reference_mags(&x, b, n, size);
                m.iter()
                    .zip(&signs)
                    .map(|(&m, &s)| if s > 0.0 || m < 0.02 { 1.3 * m + 0.01 } else { m - 0.01 })
                    .collect()
            })
            .collect();
        let target_mags: Vec<Tensor> = sizes
            .iter()
            .zip(&targets)
            .map(|(&size, t)| {
                let op = StftMagnitude::constant(size);
                let t: Vec<f32> = t.iter().map(|&v| v as f32).collect();
                Tensor::from_vec(t, (b, op.frames(n), op.bins()), &dev)
            })
            .collect::<Result<_>>()?;
        let loss_f64 = |v: &[f64]| -> f64 {
            let mut total = 0.0;
            for (&size, t) in sizes.iter().zip(&targets) {
                let m = reference_mags(v, b, n, size);
                let sum: f64 = m
                    .iter()
                    .zip(t)
                    .map(|(&p, &q)| 100.0 * (p - q).abs() + ((p + 1e-5).ln() - (q + 1e-5).ln()).abs())
                    .sum();
                total += sum / m.len() as f64;
            }
            total / sizes.len() as f64
        };
        let x = Var::from_slice(&x0, (b, n), &dev)?;
        let loss = mss_loss(x.as_tensor(), &target_mags, &sizes)?;
        let value = loss.to_scalar::<f32>()? as f64;
        let reference = loss_f64(&x0.iter().map(|&v| v as f64).collect::<Vec<_>>());
        assert!((value - reference).abs() <= 1e-4 * value, "{value} vs {reference}");
        let analytic = loss.backward()?.get(&x).expect("gradient").flatten_all()?.to_vec1::<f32>()?;
        let at = [1usize, 5, 17, 64, 150, 287, 299, 300, 301, 420, 599];
        let numeric = finite_differences(&x0, &at, loss_f64);
        assert_gradients_match(&at, &numeric, &analytic, "loss");
        Ok(())
    }

    /// The fused distance equals the same formula as candle ops (abs, log, mean) under autograd.
    #[test]
    fn fused_distance_matches_candle_ops() -> Result<()> {
        let dev = Device::Cpu;
        let shape = (3, 40_001);
        let count = shape.0 * shape.1;
        let p0: Vec<f32> = crate::test_values(count, 29, 1.0, 0.5).iter().map(|v| v.powi(4)).collect();
        let t: Vec<f32> = crate::test_values(count, 31, 1.0, 0.5).iter().map(|v| v.powi(4)).collect();
        let t = Tensor::from_vec(t, shape, &dev)?;
        let p = Var::from_vec(p0, shape, &dev)?;
        let fused = p.as_tensor().apply_op2(&t, SpectralDistance)?;
        let ops = (((p.as_tensor() - &t)?.abs()?.mean_all()? * 100.0)?
            + ((p.as_tensor() + 1e-5)?.log()? - (&t + 1e-5)?.log()?)?.abs()?.mean_all()?)?;
        let (a, b) = (fused.to_scalar::<f32>()?, ops.to_scalar::<f32>()?);
        assert!((a - b).abs() <= 1e-5 * b, "{a} vs {b}");
        let ga = (fused * 3.0)?.backward()?.get(&p).expect("gradient").flatten_all()?.to_vec1::<f32>()?;
        let gb = (ops * 3.0)?.backward()?.get(&p).expect("gradient").flatten_all()?.to_vec1::<f32>()?;
        // Where p = t (here both 0 at index 0) candle's |.| takes slope +1; the fused op takes 0.
        let (pv, tv) = (p.as_tensor().flatten_all()?.to_vec1::<f32>()?, t.flatten_all()?.to_vec1::<f32>()?);
        for (i, (x, y)) in ga.iter().zip(&gb).enumerate() {
            let want = if pv[i] == tv[i] { 0.0 } else { *y };
            assert!((x - want).abs() <= 1e-5 * want.abs() + 1e-12, "{i}: {x} vs {want}");
        }
        Ok(())
    }

    /// Every sample inside some frame moves the loss; sample 0 (on the window's zero) and samples
    /// after the last whole frame do not, as in `rosin eval`.
    #[test]
    fn every_framed_sample_gets_a_gradient() -> Result<()> {
        let dev = Device::Cpu;
        let (b, n, sizes) = (2usize, 301usize, [64usize, 16]);
        let target = Tensor::from_vec(noise(b * n, 19), (b, n), &dev)?;
        let x = Var::from_vec(noise(b * n, 23), (b, n), &dev)?;
        let loss = mss_loss(x.as_tensor(), &target_magnitudes(&target, &sizes)?, &sizes)?;
        let grad = loss.backward()?.get(&x).expect("gradient").to_vec2::<f32>()?;
        let covered = sizes
            .iter()
            .map(|&s| {
                let op = StftMagnitude::constant(s);
                (op.frames(n) - 1) * op.hop() + s
            })
            .max()
            .unwrap_or(0);
        assert_eq!(covered, 300);
        for row in &grad {
            for (i, g) in row.iter().enumerate() {
                if i == 0 || i >= covered {
                    assert_eq!(*g, 0.0, "sample {i}");
                } else {
                    assert!(g.is_finite() && *g != 0.0, "sample {i}: {g}");
                }
            }
        }
        Ok(())
    }

    /// Forward + backward at the fine-tune's batch size; `--ignored --nocapture` prints the time.
    #[test]
    #[ignore]
    fn time_training_batch() -> Result<()> {
        let dev = Device::Cpu;
        let (b, n) = (8, 44_100);
        let sizes = sizes_for(44_100);
        let target = Tensor::from_vec(crate::test_values(b * n, 3, 0.5, 0.0), (b, n), &dev)?;
        let pred = Var::from_vec(crate::test_values(b * n, 5, 0.5, 0.0), (b, n), &dev)?;
        let time = |f: &mut dyn FnMut() -> Result<()>| -> Result<f64> {
            let mut best = f64::MAX;
            for _ in 0..7 {
                let t0 = std::time::Instant::now();
                f()?;
                best = best.min(t0.elapsed().as_secs_f64());
            }
            Ok(best)
        };
        let mut mags = Vec::new();
        let t_target = time(&mut || {
            mags = target_magnitudes(&target, &sizes)?;
            Ok(())
        })?;
        let t_forward = time(&mut || mss_loss(pred.as_tensor(), &mags, &sizes)?.to_scalar::<f32>().map(|_| ()))?;
        let t_both = time(&mut || {
            let grads = mss_loss(pred.as_tensor(), &mags, &sizes)?.backward()?;
            grads.get(&pred).expect("gradient").sum_all()?.to_scalar::<f32>().map(|_| ())
        })?;
        println!(
            "mss B={b} N={n} sizes {sizes:?}: target spectrograms {:.1} ms, loss forward {:.1} ms, forward+backward {:.1} ms (best of 7)",
            t_target * 1e3,
            t_forward * 1e3,
            t_both * 1e3
        );
        Ok(())
    }
}
