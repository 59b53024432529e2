//! Analytically built models for tests and benchmarks of the runtime and synthesizer.
//!
//! These are not instruments: their weights are small and random, their output biases give a
//! fixed, string-like spectrum (partials falling 6 dB per octave, a little noise). Shipped
//! instruments come from `rosin train`.

use super::card::{ModelCard, NetworkShape, TrainingInfo, CONTROL_RATE_HZ, FORMAT_VERSION};
use super::weights::NetworkWeights;
use super::Model;
use crate::articulation::Articulation;
use crate::bands::BandLayout;

/// A model with the given hidden sizes whose sound is a steady sawtooth-like tone.
pub fn fixed_spectrum_model(input_hidden: usize, gru_hidden: usize, output_hidden: usize, seed: u64) -> Model {
    let harmonic_bands = BandLayout::HARMONIC_V1;
    let noise_bands = BandLayout::NOISE_V1;
    let articulations = Articulation::ALL.to_vec();
    let shape = NetworkShape {
        inputs: NetworkShape::inputs_for(articulations.len()),
        input_hidden,
        gru_hidden,
        output_hidden,
        outputs: NetworkShape::outputs_for(&harmonic_bands, &noise_bands),
    };
    let mut w = NetworkWeights::random(shape, seed);
    // Tiny output weights: the network still runs in full, but the sound is set by the bias.
    let names = super::weights::expected_tensors(&shape);
    let idx = |n: &str| names.iter().position(|(m, _)| *m == n).unwrap();
    for v in &mut w.tensors[idx("output.weight")] {
        *v *= 1e-3;
    }
    let bias = &mut w.tensors[idx("output.bias")];
    bias[0] = -2.5; // overall level: about -22 dBFS per partial envelope unit
    for (i, c) in harmonic_bands.centres().iter().enumerate() {
        bias[1 + i] = -(c / 100.0).max(1.0).ln(); // -6 dB per octave above 100 Hz
    }
    for (i, c) in noise_bands.centres().iter().enumerate() {
        bias[1 + harmonic_bands.count + i] = -9.0 - 0.5 * (c / 1000.0).max(1.0).ln();
    }
    let card = synthetic_card(
        "Fixture",
        "synthetic test tone (not an instrument)",
        "rosin_core::model::fixture::fixed_spectrum_model",
        shape,
    );
    Model::new(card, w)
}

/// The card of a model made in code rather than trained: every articulation, the default bands.
pub(super) fn synthetic_card(name: &str, instrument: &str, command: &str, network: NetworkShape) -> ModelCard {
    ModelCard {
        format_version: FORMAT_VERSION,
        name: name.into(),
        instrument: instrument.into(),
        articulations: Articulation::ALL.to_vec(),
        control_rate_hz: CONTROL_RATE_HZ,
        network,
        harmonic_bands: BandLayout::HARMONIC_V1,
        noise_bands: BandLayout::NOISE_V1,
        key_range: [24, 108],
        layer_dynamics: vec![0.3, 0.9],
        fluctuation: None,
        training: TrainingInfo {
            source: "generated in code".into(),
            licence: "MIT".into(),
            command: command.into(),
            held_out: vec![],
            notes: String::new(),
        },
        metrics: Default::default(),
    }
}

/// `model` with a small fluctuation part (a resonant level process at about 6 Hz, a brightness
/// process, take offsets on every articulation), for tests of takes, seeds and variation. Not
/// fitted to anything: shipped models get theirs from `rosin train`.
pub fn with_test_fluctuation(model: Model) -> Model {
    use super::fluctuation::{Fluctuation, FluctuationShape};
    let card = &model.card;
    let width = Model::fluctuation_width(card);
    let arts = card.articulations.len();
    let layers = card.layer_dynamics.len().max(1);
    let shape = FluctuationShape { components: 2, order: 2 };
    let mut basis = vec![0.0f32; 2 * width];
    basis[0] = 1.0;
    for b in 1..width {
        basis[width + b] = (b as f32 / width as f32) - 0.5;
    }
    // x_t = 2 r cos(w) x_{t-1} - r² x_{t-2}: a resonance at 6 Hz (w = 2π 6 / 250), r = 0.97.
    let (r, w) = (0.97f32, std::f32::consts::TAU * 6.0 / 250.0);
    let ar: Vec<f32> = (0..arts).flat_map(|_| [2.0 * r * w.cos(), -r * r, 0.9, 0.0]).collect();
    let innovation = vec![0.03f32; arts * layers * 2];
    let take = vec![0.1f32; arts * layers * 2];
    let f = Fluctuation::from_tensors(shape, arts, layers, width, [basis, ar, innovation, take])
        .expect("the test fluctuation is well formed");
    model.with_fluctuation(Some(f))
}
