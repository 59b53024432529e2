//! The named tensors of a control network, in PyTorch layout ([out, in] matrices).

use super::card::NetworkShape;

/// Tensor names and shapes of format version 1, in file order.
pub fn expected_tensors(s: &NetworkShape) -> Vec<(&'static str, Vec<usize>)> {
    let (i, a, h, o, y) = (s.inputs, s.input_hidden, s.gru_hidden, s.output_hidden, s.outputs);
    vec![
        ("input.weight", vec![a, i]),
        ("input.bias", vec![a]),
        ("gru.weight_ih", vec![3 * h, a]),
        ("gru.weight_hh", vec![3 * h, h]),
        ("gru.bias_ih", vec![3 * h]),
        ("gru.bias_hh", vec![3 * h]),
        ("hidden.weight", vec![o, h + i]),
        ("hidden.bias", vec![o]),
        ("output.weight", vec![y, o]),
        ("output.bias", vec![y]),
        ("output.mean", vec![y]),
        ("output.std", vec![y]),
    ]
}

/// All weights as plain f32 vectors, row-major PyTorch layout.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkWeights {
    pub shape: NetworkShape,
    /// In the order of [`expected_tensors`].
    pub tensors: Vec<Vec<f32>>,
}

impl NetworkWeights {
    pub fn get(&self, name: &str) -> &[f32] {
        let idx = expected_tensors(&self.shape)
            .iter()
            .position(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("unknown tensor {name}"));
        &self.tensors[idx]
    }

    /// Deterministic small random weights (xorshift), for tests and benchmarks of the runtime.
    pub fn random(shape: NetworkShape, seed: u64) -> Self {
        let mut rng = crate::rng::XorShift64::from_seed(seed);
        let mut next = move || rng.unit() * 2.0 - 1.0;
        let tensors = expected_tensors(&shape)
            .into_iter()
            .map(|(name, dims)| {
                let n: usize = dims.iter().product();
                let fan_in = *dims.last().unwrap() as f32;
                match name {
                    "output.std" => vec![1.0; n],
                    "output.mean" => vec![0.0; n],
                    _ => (0..n).map(|_| next() / fan_in.sqrt()).collect(),
                }
            })
            .collect();
        NetworkWeights { shape, tensors }
    }
}
