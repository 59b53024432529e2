//! The control network in candle, for training: the same MLP -> GRU -> MLP and tensor names as
//! the real-time runtime ([`rosin_core::model::runtime`]), so export is a plain copy of the weights.
//!
//! The input layer and the GRU's input projection run over the whole chunk as matmuls; the
//! recurrence itself is one fused op with its own backward pass ([`super::gru_op`]), because
//! unrolled into candle ops its bookkeeping, not its arithmetic, was the training time.

use candle_core::{DType, Device, Result, Tensor, Var, D};
use candle_nn::{Init, VarBuilder, VarMap};
use rosin_core::model::card::NetworkShape;
use rosin_core::model::weights::{expected_tensors, NetworkWeights};

pub struct TrainNet {
    pub shape: NetworkShape,
    pub varmap: VarMap,
    input_w: Tensor,
    input_b: Tensor,
    ih_w: Tensor,
    hh_w: Tensor,
    ih_b: Tensor,
    hh_b: Tensor,
    hidden_w: Tensor,
    hidden_b: Tensor,
    output_w: Tensor,
    output_b: Tensor,
}

impl TrainNet {
    /// A network with uniform ±1/sqrt(fan_in) weights drawn from `seed` (candle's own `Init`
    /// draws from an unseeded generator, so the same command would train a different model on
    /// every run) and zero biases.
    pub fn new(shape: NetworkShape, seed: u64, dev: &Device) -> Result<Self> {
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, dev);
        let (i, a, h, o, y) = (shape.inputs, shape.input_hidden, shape.gru_hidden, shape.output_hidden, shape.outputs);
        let bias = |n: usize, name: &str| vb.get_with_hints(n, name, Init::Const(0.0));
        // The k-th weight matrix draws from `seed + k`.
        let weight = |dims: (usize, usize), name: &str, fan_in: usize, k: u64| -> Result<Tensor> {
            let w = vb.get_with_hints(dims, name, Init::Const(0.0))?;
            let bound = (1.0 / fan_in as f32).sqrt();
            let values = super::uniform_values(dims.0 * dims.1, seed.wrapping_add(k), 2.0 * bound, 0.0);
            if let Some(var) = varmap.data().lock().unwrap().get(name) {
                var.set(&Tensor::from_vec(values, dims, dev)?)?;
            }
            Ok(w)
        };
        let input_w = weight((a, i), "input.weight", i, 0)?;
        let input_b = bias(a, "input.bias")?;
        let ih_w = weight((3 * h, a), "gru.weight_ih", h, 1)?;
        let hh_w = weight((3 * h, h), "gru.weight_hh", h, 2)?;
        let ih_b = bias(3 * h, "gru.bias_ih")?;
        let hh_b = bias(3 * h, "gru.bias_hh")?;
        let hidden_w = weight((o, h + i), "hidden.weight", h + i, 3)?;
        let hidden_b = bias(o, "hidden.bias")?;
        let output_w = weight((y, o), "output.weight", o, 4)?;
        let output_b = bias(y, "output.bias")?;
        Ok(TrainNet { shape, varmap, input_w, input_b, ih_w, hh_w, ih_b, hh_b, hidden_w, hidden_b, output_w, output_b })
    }

    pub fn vars(&self) -> Vec<Var> {
        self.varmap.all_vars()
    }

    /// Runs a chunk: inputs (B, T, I) from state h0 (B, H) -> standardised outputs (B, T, Y)
    /// and the final state.
    pub fn forward(&self, x: &Tensor, h0: &Tensor) -> Result<(Tensor, Tensor)> {
        let t_len = x.dim(1)?;
        let a = x.broadcast_matmul(&self.input_w.t()?)?.broadcast_add(&self.input_b)?.relu()?;
        let gi = a.broadcast_matmul(&self.ih_w.t()?)?.broadcast_add(&self.ih_b)?;
        let hseq = super::gru_op::GruRecurrence::run(h0, &gi, &self.hh_w, &self.hh_b)?; // (B, T, H)
        let h = hseq.narrow(1, t_len - 1, 1)?.squeeze(1)?;
        Ok((self.output_layers(&hseq, x)?, h))
    }

    fn output_layers(&self, hseq: &Tensor, x: &Tensor) -> Result<Tensor> {
        let hx = Tensor::cat(&[hseq, x], D::Minus1)?;
        let o = hx.broadcast_matmul(&self.hidden_w.t()?)?.broadcast_add(&self.hidden_b)?.relu()?;
        o.broadcast_matmul(&self.output_w.t()?)?.broadcast_add(&self.output_b)
    }

    /// The same network unrolled frame by frame in plain candle ops: the reference the fused
    /// recurrence is tested against.
    #[cfg(test)]
    pub fn forward_unrolled(&self, x: &Tensor, h0: &Tensor) -> Result<(Tensor, Tensor)> {
        let (_b, t_len, _) = x.dims3()?;
        let hs = self.shape.gru_hidden;
        let in_wt = self.input_w.t()?;
        let ih_wt = self.ih_w.t()?;
        let hh_wt = self.hh_w.t()?;
        let mut h = h0.clone();
        let mut states = Vec::with_capacity(t_len);
        for t in 0..t_len {
            let xt = x.narrow(1, t, 1)?.squeeze(1)?;
            let a = xt.matmul(&in_wt)?.broadcast_add(&self.input_b)?.relu()?;
            let gi = a.matmul(&ih_wt)?.broadcast_add(&self.ih_b)?;
            let gh = h.matmul(&hh_wt)?.broadcast_add(&self.hh_b)?;
            let r = candle_nn::ops::sigmoid(&(gi.narrow(1, 0, hs)? + gh.narrow(1, 0, hs)?)?)?;
            let z = candle_nn::ops::sigmoid(&(gi.narrow(1, hs, hs)? + gh.narrow(1, hs, hs)?)?)?;
            let n = (gi.narrow(1, 2 * hs, hs)? + (r * gh.narrow(1, 2 * hs, hs)?)?)?.tanh()?;
            // h' = n + z (h - n)
            h = (&n + (z * (h - &n)?)?)?;
            states.push(h.clone());
        }
        let hseq = Tensor::stack(&states, 1)?; // (B, T, H)
        Ok((self.output_layers(&hseq, x)?, h))
    }

    /// Starts from a trained model's weights (same shape), e.g. to fine-tune a shipped model.
    pub fn load(&self, weights: &NetworkWeights) -> Result<()> {
        if weights.shape != self.shape {
            candle_core::bail!("initial model's network {:?} differs from {:?}", weights.shape, self.shape);
        }
        let data = self.varmap.data().lock().unwrap();
        for (name, var) in data.iter() {
            var.set(&Tensor::from_slice(weights.get(name), var.shape(), var.device())?)?;
        }
        Ok(())
    }

    /// The trained weights in the model file's layout, with the output statistics.
    pub fn export(&self, mean: &[f32], std: &[f32]) -> Result<NetworkWeights> {
        let data = self.varmap.data().lock().unwrap();
        let mut tensors = Vec::new();
        for (name, _) in expected_tensors(&self.shape) {
            let v = match name {
                "output.mean" => mean.to_vec(),
                "output.std" => std.to_vec(),
                _ => data.get(name).expect("every weight is a variable").as_tensor().flatten_all()?.to_vec1::<f32>()?,
            };
            tensors.push(v);
        }
        Ok(NetworkWeights { shape: self.shape, tensors })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seeded(shape: &[usize], seed: u64) -> Vec<f32> {
        crate::test_values(shape.iter().product(), seed, 2.0, 0.0)
    }

    /// The fused recurrence gives the unrolled network's outputs, final state and the gradient
    /// of every parameter (each non-zero), from a non-zero initial state.
    #[test]
    fn fused_recurrence_matches_the_unrolled_network() -> Result<()> {
        let dev = Device::Cpu;
        let shape = NetworkShape { inputs: 7, input_hidden: 9, gru_hidden: 6, output_hidden: 11, outputs: 5 };
        let net = TrainNet::new(shape, 1, &dev)?;
        // Larger-than-initial recurrent weights so the gates are far from linear.
        for (name, var) in net.varmap.data().lock().unwrap().iter() {
            if name == "gru.weight_hh" || name.ends_with("bias") {
                let dims = var.as_tensor().dims().to_vec();
                var.set(&Tensor::from_vec(seeded(&dims, dims.len() as u64 + 3), dims.as_slice(), &dev)?)?;
            }
        }
        let (b, t) = (3, 13);
        let x = Tensor::from_vec(seeded(&[b, t, 7], 11), (b, t, 7), &dev)?;
        let h0 = (Tensor::from_vec(seeded(&[b, 6], 5), (b, 6), &dev)? * 0.5)?;
        let probe = Tensor::from_vec(seeded(&[b, t, 5], 17), (b, t, 5), &dev)?;
        let (y_fused, h_fused) = net.forward(&x, &h0)?;
        let (y_ref, h_ref) = net.forward_unrolled(&x, &h0)?;
        let max_diff =
            |a: &Tensor, b: &Tensor| -> Result<f32> { (a - b)?.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>() };
        assert!(max_diff(&y_fused, &y_ref)? < 1e-5);
        assert!(max_diff(&h_fused, &h_ref)? < 1e-5);
        // A loss that weighs every output differently, and also uses the final state.
        let loss = |y: &Tensor, h: &Tensor| -> Result<Tensor> { (y * &probe)?.sum_all()? + h.sqr()?.sum_all()? };
        let g_fused = loss(&y_fused, &h_fused)?.backward()?;
        let g_ref = loss(&y_ref, &h_ref)?.backward()?;
        for var in net.vars() {
            let a = g_fused.get(var.as_tensor()).expect("fused: every parameter gets a gradient");
            let r = g_ref.get(var.as_tensor()).expect("unrolled gradient");
            let scale = r.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()?;
            let diff = max_diff(a, r)?;
            assert!(scale > 0.0, "a parameter of shape {:?} got a zero gradient", var.dims());
            assert!(diff <= 1e-4 * scale.max(1.0), "gradient of {:?} differs by {diff} (scale {scale})", var.dims());
        }
        Ok(())
    }

    /// `--seed` decides the initial weights: the same seed gives the same network, another seed
    /// another one; weights within ±1/sqrt(fan_in), biases zero.
    #[test]
    fn initial_weights_follow_the_seed() -> Result<()> {
        let dev = Device::Cpu;
        let shape = NetworkShape { inputs: 7, input_hidden: 9, gru_hidden: 6, output_hidden: 11, outputs: 5 };
        let weights = |seed| -> Result<Vec<(String, Vec<f32>)>> {
            let net = TrainNet::new(shape, seed, &dev)?;
            let data = net.varmap.data().lock().unwrap();
            let mut all: Vec<_> = data
                .iter()
                .map(|(n, v)| Ok((n.clone(), v.as_tensor().flatten_all()?.to_vec1::<f32>()?)))
                .collect::<Result<_>>()?;
            all.sort_by(|a, b| a.0.cmp(&b.0));
            Ok(all)
        };
        let (a, b, c) = (weights(1)?, weights(1)?, weights(2)?);
        assert_eq!(a, b);
        for ((name, x), (_, z)) in a.iter().zip(&c) {
            if name.contains("bias") {
                assert!(x.iter().chain(z).all(|v| *v == 0.0), "{name}");
                continue;
            }
            assert_ne!(x, z, "{name}");
            let fan_in = match name.as_str() {
                "input.weight" => 7,
                "hidden.weight" => 6 + 7,
                "output.weight" => 11,
                _ => 6,
            };
            let bound = (1.0 / fan_in as f32).sqrt();
            assert!(x.iter().all(|v| v.abs() <= bound), "{name}");
            assert!(x.iter().any(|v| v.abs() > 0.5 * bound), "{name}");
        }
        Ok(())
    }
}
