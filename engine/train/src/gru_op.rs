//! The GRU recurrence as one fused candle op with a hand-written backward pass.
//!
//! Why: unrolled into candle ops, every frame of every chunk costs a dozen small tensor ops
//! forward and again backward, and at our sizes (batch 16, hidden 64) that bookkeeping, not the
//! arithmetic, is the training time. The fused op runs the recurrence in plain loops over
//! contiguous f32 and does back-propagation through time itself (NOTES-candle.md measured
//! 1.8–2.4x for this on larger nets). The input projection `gi` is computed for the whole chunk
//! by one matmul outside the op.
//!
//! Conventions are PyTorch's (and the runtime's, [`rosin_core::model::runtime`]):
//! `r = σ(gi_r + W_hr h + b_hr)`, `z = σ(gi_z + W_hz h + b_hz)`,
//! `n = tanh(gi_n + r ⊙ (W_hn h + b_hn))`, `h' = (1 − z) ⊙ n + z ⊙ h`.
//! The initial state is a constant of the op (training detaches it between chunks), so the op
//! differentiates with respect to `gi`, `W_hh` and `b_hh` only.

use candle_core::{bail, CpuStorage, CustomOp3, Layout, Result, Shape, Tensor};

/// Fused recurrence: `gi (B, T, 3H)`, `W_hh (3H, H)`, `b_hh (3H)` → hidden states `(B, T, H)`.
pub struct GruRecurrence {
    /// Initial state, (B, H) row-major.
    h0: Vec<f32>,
}

impl GruRecurrence {
    /// `h0`: (B, H); its gradient is not needed (it is detached between chunks).
    pub fn new(h0: &Tensor) -> Result<Self> {
        Ok(GruRecurrence { h0: h0.detach().flatten_all()?.to_vec1::<f32>()? })
    }

    /// Runs the recurrence: hidden states `(B, T, H)` from `gi`, `W_hh`, `b_hh`.
    pub fn run(h0: &Tensor, gi: &Tensor, hh_w: &Tensor, hh_b: &Tensor) -> Result<Tensor> {
        gi.contiguous()?.apply_op3(&hh_w.contiguous()?, &hh_b.contiguous()?, GruRecurrence::new(h0)?)
    }
}

#[derive(Clone, Copy)]
struct Dims {
    b: usize,
    t: usize,
    h: usize,
}

fn contiguous<'a>(s: &'a CpuStorage, l: &Layout) -> Result<&'a [f32]> {
    let data = s.as_slice::<f32>()?;
    match l.contiguous_offsets() {
        Some((a, b)) => Ok(&data[a..b]),
        None => bail!("gru recurrence: inputs must be contiguous"),
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Gate values saved by the forward pass for the backward pass, each (B, T, H).
struct Gates {
    r: Vec<f32>,
    z: Vec<f32>,
    n: Vec<f32>,
    /// `W_hn h + b_hn`, the part of the candidate that `r` scales.
    hn: Vec<f32>,
}

fn forward(gi: &[f32], whh: &[f32], bhh: &[f32], h0: &[f32], d: Dims, mut gates: Option<&mut Gates>) -> Vec<f32> {
    let Dims { b, t, h } = d;
    // `W_hh` transposed to (H, 3H): `gh = b + Σ_k h[k] · row k` is then a run of contiguous
    // multiply-adds the compiler vectorises.
    let wt = rosin_core::model::runtime::transpose(whh, 3 * h, h);
    let mut out = vec![0.0f32; b * t * h];
    let mut gh = vec![0.0f32; 3 * h];
    let mut prev = vec![0.0f32; h];
    for bi in 0..b {
        prev.copy_from_slice(&h0[bi * h..(bi + 1) * h]);
        for ti in 0..t {
            gh.copy_from_slice(bhh);
            for (k, &hk) in prev.iter().enumerate() {
                for (g, &w) in gh.iter_mut().zip(&wt[k * 3 * h..(k + 1) * 3 * h]) {
                    *g += hk * w;
                }
            }
            let row = (bi * t + ti) * h;
            let gi_row = &gi[(bi * t + ti) * 3 * h..(bi * t + ti + 1) * 3 * h];
            for j in 0..h {
                let r = sigmoid(gi_row[j] + gh[j]);
                let z = sigmoid(gi_row[h + j] + gh[h + j]);
                let n = (gi_row[2 * h + j] + r * gh[2 * h + j]).tanh();
                let next = n + z * (prev[j] - n);
                out[row + j] = next;
                if let Some(g) = gates.as_deref_mut() {
                    g.r[row + j] = r;
                    g.z[row + j] = z;
                    g.n[row + j] = n;
                    g.hn[row + j] = gh[2 * h + j];
                }
            }
            prev.copy_from_slice(&out[row..row + h]);
        }
    }
    out
}

impl CustomOp3 for GruRecurrence {
    fn name(&self) -> &'static str {
        "gru-recurrence"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (b, t, h3) = l1.shape().dims3()?;
        let h = h3 / 3;
        if h3 != 3 * h || l2.shape().dims2()? != (h3, h) || l3.shape().dims1()? != h3 || self.h0.len() != b * h {
            bail!(
                "gru recurrence: shapes gi {:?}, W_hh {:?}, b_hh {:?}, h0 {}",
                l1.shape(),
                l2.shape(),
                l3.shape(),
                self.h0.len()
            );
        }
        let d = Dims { b, t, h };
        let out = forward(contiguous(s1, l1)?, contiguous(s2, l2)?, contiguous(s3, l3)?, &self.h0, d, None);
        Ok((CpuStorage::F32(out), Shape::from((b, t, h))))
    }

    fn bwd(
        &self,
        gi: &Tensor,
        whh: &Tensor,
        bhh: &Tensor,
        res: &Tensor,
        grad_res: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (b, t, h3) = gi.dims3()?;
        let h = h3 / 3;
        let d = Dims { b, t, h };
        let flat = |x: &Tensor| x.flatten_all().and_then(|x| x.to_vec1::<f32>());
        let (gi_v, w, bias, hs, dout) = (flat(gi)?, flat(whh)?, flat(bhh)?, flat(res)?, flat(grad_res)?);
        let mut g = Gates {
            r: vec![0.0; b * t * h],
            z: vec![0.0; b * t * h],
            n: vec![0.0; b * t * h],
            hn: vec![0.0; b * t * h],
        };
        forward(&gi_v, &w, &bias, &self.h0, d, Some(&mut g));

        let mut dgi = vec![0.0f32; b * t * 3 * h];
        let mut dw = vec![0.0f32; 3 * h * h];
        let mut db = vec![0.0f32; 3 * h];
        let mut dh = vec![0.0f32; h]; // gradient flowing into h_t from later steps
        let mut dgh = vec![0.0f32; 3 * h];
        for bi in 0..b {
            dh.fill(0.0);
            for ti in (0..t).rev() {
                let row = (bi * t + ti) * h;
                let prev = if ti == 0 { &self.h0[bi * h..(bi + 1) * h] } else { &hs[row - h..row] };
                let dgi_row = &mut dgi[(bi * t + ti) * 3 * h..(bi * t + ti + 1) * 3 * h];
                for j in 0..h {
                    let (r, z, n, hn) = (g.r[row + j], g.z[row + j], g.n[row + j], g.hn[row + j]);
                    let dhj = dh[j] + dout[row + j];
                    let dn = dhj * (1.0 - z);
                    let dz = dhj * (prev[j] - n);
                    let da_n = dn * (1.0 - n * n);
                    let da_r = da_n * hn * r * (1.0 - r);
                    let da_z = dz * z * (1.0 - z);
                    dgi_row[j] = da_r;
                    dgi_row[h + j] = da_z;
                    dgi_row[2 * h + j] = da_n;
                    dgh[j] = da_r;
                    dgh[h + j] = da_z;
                    dgh[2 * h + j] = da_n * r;
                    // The direct path h -> h' through z.
                    dh[j] = dhj * z;
                }
                for (jj, &gj) in dgh.iter().enumerate() {
                    db[jj] += gj;
                    let w_row = &w[jj * h..(jj + 1) * h];
                    for (dhk, &wk) in dh.iter_mut().zip(w_row) {
                        *dhk += gj * wk;
                    }
                    for (dwk, &pk) in dw[jj * h..(jj + 1) * h].iter_mut().zip(prev) {
                        *dwk += gj * pk;
                    }
                }
            }
        }
        let dev = gi.device();
        Ok((
            Some(Tensor::from_vec(dgi, (b, t, 3 * h), dev)?),
            Some(Tensor::from_vec(dw, (3 * h, h), dev)?),
            Some(Tensor::from_vec(db, 3 * h, dev)?),
        ))
    }
}
