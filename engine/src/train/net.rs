//! The control network in candle, for training: the same MLP -> GRU -> MLP and tensor names as
//! the real-time runtime ([`crate::model::runtime`]), so export is a plain copy of the weights.
//!
//! The GRU is unrolled step by step, computing each step's input projection from that step's
//! input rows: slicing a precomputed (B, T, 3H) projection instead would make every step's
//! backward pass touch the whole tensor (quadratic in T, see NOTES-candle.md).

use crate::model::card::NetworkShape;
use crate::model::weights::{expected_tensors, NetworkWeights};
use candle_core::{DType, Device, Result, Tensor, Var, D};
use candle_nn::{Init, VarBuilder, VarMap};

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
    pub fn new(shape: NetworkShape, dev: &Device) -> Result<Self> {
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, dev);
        let (i, a, h, o, y) = (shape.inputs, shape.input_hidden, shape.gru_hidden, shape.output_hidden, shape.outputs);
        let kaiming =
            |fan_in: usize| Init::Uniform { lo: -(1.0 / fan_in as f64).sqrt(), up: (1.0 / fan_in as f64).sqrt() };
        let input_w = vb.get_with_hints((a, i), "input.weight", kaiming(i))?;
        let input_b = vb.get_with_hints(a, "input.bias", Init::Const(0.0))?;
        let ih_w = vb.get_with_hints((3 * h, a), "gru.weight_ih", kaiming(h))?;
        let hh_w = vb.get_with_hints((3 * h, h), "gru.weight_hh", kaiming(h))?;
        let ih_b = vb.get_with_hints(3 * h, "gru.bias_ih", Init::Const(0.0))?;
        let hh_b = vb.get_with_hints(3 * h, "gru.bias_hh", Init::Const(0.0))?;
        let hidden_w = vb.get_with_hints((o, h + i), "hidden.weight", kaiming(h + i))?;
        let hidden_b = vb.get_with_hints(o, "hidden.bias", Init::Const(0.0))?;
        let output_w = vb.get_with_hints((y, o), "output.weight", kaiming(o))?;
        let output_b = vb.get_with_hints(y, "output.bias", Init::Const(0.0))?;
        Ok(TrainNet { shape, varmap, input_w, input_b, ih_w, hh_w, ih_b, hh_b, hidden_w, hidden_b, output_w, output_b })
    }

    pub fn vars(&self) -> Vec<Var> {
        self.varmap.all_vars()
    }

    /// Runs a chunk: inputs (B, T, I) from state h0 (B, H) -> standardised outputs (B, T, Y)
    /// and the final state.
    pub fn forward(&self, x: &Tensor, h0: &Tensor) -> Result<(Tensor, Tensor)> {
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
        let hx = Tensor::cat(&[&hseq, x], D::Minus1)?;
        let o = hx.broadcast_matmul(&self.hidden_w.t()?)?.broadcast_add(&self.hidden_b)?.relu()?;
        let y = o.broadcast_matmul(&self.output_w.t()?)?.broadcast_add(&self.output_b)?;
        Ok((y, h))
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
