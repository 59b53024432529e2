//! The hand-written real-time network gives the same outputs as a candle forward pass of the
//! same weights (read back from the model file bytes), over a long sequence of frames.

use candle_core::{DType, Device, Tensor};
use rosin_core::model::{fixture, inputs, Model};
use std::path::Path;

fn candle_forward(model_bytes: &[u8], xs: &[Vec<f32>]) -> Vec<Vec<f32>> {
    let dev = Device::Cpu;
    let ts = candle_core::safetensors::load_buffer(model_bytes, &dev).unwrap();
    let t = |n: &str| ts.get(n).unwrap().to_dtype(DType::F32).unwrap();
    let lin = |x: &Tensor, w: &str, b: &str| x.matmul(&t(w).t().unwrap()).unwrap().broadcast_add(&t(b)).unwrap();
    let h_size = t("gru.weight_hh").dim(1).unwrap();
    let mut h = Tensor::zeros((1, h_size), DType::F32, &dev).unwrap();
    let mut outs = Vec::new();
    for x in xs {
        let x = Tensor::from_slice(x, (1, x.len()), &dev).unwrap();
        let a = lin(&x, "input.weight", "input.bias").relu().unwrap();
        let gi = lin(&a, "gru.weight_ih", "gru.bias_ih");
        let gh = lin(&h, "gru.weight_hh", "gru.bias_hh");
        let part = |g: &Tensor, i: usize| g.narrow(1, i * h_size, h_size).unwrap();
        let r = candle_nn::ops::sigmoid(&(part(&gi, 0) + part(&gh, 0)).unwrap()).unwrap();
        let z = candle_nn::ops::sigmoid(&(part(&gi, 1) + part(&gh, 1)).unwrap()).unwrap();
        let n = (part(&gi, 2) + (r * part(&gh, 2)).unwrap()).unwrap().tanh().unwrap();
        h = ((z.ones_like().unwrap() - &z).unwrap() * n).unwrap().add(&(z * &h).unwrap()).unwrap();
        let hx = Tensor::cat(&[&h, &x], 1).unwrap();
        let o = lin(&hx, "hidden.weight", "hidden.bias").relu().unwrap();
        let y = lin(&o, "output.weight", "output.bias");
        let y = y.broadcast_mul(&t("output.std")).unwrap().broadcast_add(&t("output.mean")).unwrap();
        outs.push(y.flatten_all().unwrap().to_vec1::<f32>().unwrap());
    }
    outs
}

#[test]
fn runtime_matches_candle_to_1e5() {
    for (a, h, o) in [(32, 64, 64), (64, 128, 128)] {
        let mut model = fixture::fixed_spectrum_model(a, h, o, 7);
        // Full-size random output weights so every output depends on the recurrence.
        let names = rosin_core::model::expected_tensors(&model.card.network);
        let i = names.iter().position(|(n, _)| *n == "output.weight").unwrap();
        for v in &mut model.weights.tensors[i] {
            *v *= 1000.0;
        }
        let model = Model::new(model.card.clone(), model.weights.clone());
        let bytes = model.to_bytes();
        let reloaded = Model::from_bytes(&bytes, Path::new("memory")).unwrap();

        let shape = model.card.network;
        let frames = 600;
        let xs: Vec<Vec<f32>> = (0..frames)
            .map(|f| {
                let mut x = vec![0.0; shape.inputs];
                let v = inputs::VoiceInputs {
                    pitch: 40.0 + 30.0 * ((f as f32) * 0.01).sin(),
                    dynamic: 0.5 + 0.5 * ((f as f32) * 0.013).cos(),
                    seconds_since_on: f as f32 / rosin_core::formulas::CONTROL_RATE_HZ,
                    seconds_since_off: if f > 400 {
                        (f - 400) as f32 / rosin_core::formulas::CONTROL_RATE_HZ
                    } else {
                        0.0
                    },
                    released: f > 400,
                    legato: f % 97 > 50,
                    articulation_slot: (f / 150) % 4,
                };
                inputs::encode(&v, &mut x);
                x
            })
            .collect();
        let expected = candle_forward(&bytes, &xs);
        let mut state = reloaded.net.new_state();
        let mut y = vec![0.0; shape.outputs];
        let mut worst = 0.0f32;
        for (x, e) in xs.iter().zip(&expected) {
            reloaded.net.step(&mut state, x, &mut y);
            for (a, b) in y.iter().zip(e) {
                worst = worst.max((a - b).abs() / b.abs().max(1.0));
            }
        }
        println!("hidden {h}: worst difference {worst:e} over {frames} frames");
        assert!(worst < 1e-5, "hidden {h}: runtime differs from candle by {worst}");
    }
}
