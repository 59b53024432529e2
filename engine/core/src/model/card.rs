//! The model card: everything a model file says about itself besides its weights.
//!
//! It travels inside the safetensors header (metadata key [`CARD_METADATA_KEY`]) so a model is
//! one self-describing file, and is also written beside it as `<name>.json` for people to read.

use crate::articulation::Articulation;
use crate::bands::BandLayout;
use serde::{Deserialize, Serialize};

pub const CARD_METADATA_KEY: &str = "rosin.card";
/// The only format version this build reads. Older versions get a migration here when v2 exists.
pub const FORMAT_VERSION: u32 = 1;
pub use crate::formulas::CONTROL_RATE_HZ;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    pub format_version: u32,
    /// Short name shown to users, e.g. "Violins".
    pub name: String,
    /// Longer description of the instrument, e.g. "VSCO2 CE violin section".
    pub instrument: String,
    /// Articulations in the model's one-hot input order.
    pub articulations: Vec<Articulation>,
    pub control_rate_hz: f32,
    pub network: NetworkShape,
    pub harmonic_bands: BandLayout,
    pub noise_bands: BandLayout,
    /// Lowest and highest MIDI key the training data covered (the model still plays outside).
    pub key_range: [u8; 2],
    /// Model dynamic input (0..1) given to each recorded dynamic layer, softest first.
    pub layer_dynamics: Vec<f32>,
    pub training: TrainingInfo,
    /// Sizes of the stochastic part ([`crate::model::fluctuation`]); absent in a model that
    /// plays only the network's averaged note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fluctuation: Option<crate::model::fluctuation::FluctuationShape>,
    #[serde(default)]
    pub metrics: serde_json::Map<String, serde_json::Value>,
}

/// Sizes of the MLP -> GRU -> MLP control network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkShape {
    pub inputs: usize,
    pub input_hidden: usize,
    pub gru_hidden: usize,
    pub output_hidden: usize,
    pub outputs: usize,
}

/// Where the training audio came from and how the model was made.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TrainingInfo {
    pub source: String,
    pub licence: String,
    pub command: String,
    /// Held-out recordings as "articulation key layer" strings, never used for training.
    pub held_out: Vec<String>,
    #[serde(default)]
    pub notes: String,
}

impl NetworkShape {
    /// Input count for a model with `articulations` one-hot slots (see [`crate::model::inputs`]).
    pub fn inputs_for(articulations: usize) -> usize {
        crate::model::inputs::FIXED_INPUTS + articulations
    }

    /// Output count for the given band layouts: log amplitude, harmonic bands, noise bands.
    pub fn outputs_for(harmonic: &BandLayout, noise: &BandLayout) -> usize {
        1 + harmonic.count + noise.count
    }

    pub fn parameter_count(&self) -> usize {
        let (i, a, h, o, y) = (self.inputs, self.input_hidden, self.gru_hidden, self.output_hidden, self.outputs);
        (i * a + a) + (3 * h * a + 3 * h * h + 6 * h) + ((h + i) * o + o) + (o * y + y) + 2 * y
    }
}

impl ModelCard {
    pub fn articulation_slot(&self, a: Articulation) -> Option<usize> {
        self.articulations.iter().position(|&x| x == a)
    }

    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("a model card always serialises")
    }
}
