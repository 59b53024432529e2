//! Model files: a safetensors file holding the control network's weights, with its
//! [`ModelCard`] in the header metadata. Loading validates everything and names the file
//! and the problem on failure; a model that loads is safe to run on the audio thread.

pub mod card;
pub mod fastmath;
pub mod fixture;
pub mod fluctuation;
pub mod inputs;
pub mod runtime;
pub mod weights;

pub use card::{ModelCard, NetworkShape, TrainingInfo, CARD_METADATA_KEY, CONTROL_RATE_HZ, FORMAT_VERSION};
pub use fluctuation::{Fluctuation, FluctuationShape, FluctuationState};
pub use runtime::{ControlNet, NetState};
pub use weights::{expected_tensors, NetworkWeights};

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Model files larger than this are refused before reading (the shipped ones are < 1 MB).
pub const MAX_MODEL_BYTES: u64 = 64 << 20;
/// Largest network dimension accepted, so a header cannot ask for absurd allocations.
pub const MAX_DIMENSION: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{path}: cannot read model file: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: model file is {size} bytes, more than the {max} allowed")]
    TooLarge { path: PathBuf, size: u64, max: u64 },
    #[error("{path}: not a valid safetensors file ({reason})")]
    NotSafetensors { path: PathBuf, reason: String },
    #[error("{path}: has no model card (metadata key \"{CARD_METADATA_KEY}\"); is this a Rosin model?")]
    MissingCard { path: PathBuf },
    #[error("{path}: model card is not valid: {reason}")]
    BadCard { path: PathBuf, reason: String },
    #[error("{path}: model format version {found} is not supported (this build reads version {FORMAT_VERSION})")]
    UnsupportedVersion { path: PathBuf, found: u32 },
    #[error("{path}: tensor \"{name}\" is missing")]
    MissingTensor { path: PathBuf, name: String },
    #[error("{path}: tensor \"{name}\" has shape {found:?}, expected {expected:?}")]
    WrongShape { path: PathBuf, name: String, found: Vec<usize>, expected: Vec<usize> },
    #[error("{path}: tensor \"{name}\" has dtype {found}, expected F32")]
    WrongDtype { path: PathBuf, name: String, found: String },
    #[error("{path}: tensor \"{name}\" contains a non-finite value at index {index}")]
    NonFinite { path: PathBuf, name: String, index: usize },
    #[error("{path}: unexpected tensor \"{name}\"")]
    UnexpectedTensor { path: PathBuf, name: String },
}

/// A validated model ready to play: card plus weights and their real-time runtime.
#[derive(Debug, Clone)]
pub struct Model {
    pub card: ModelCard,
    pub weights: NetworkWeights,
    pub net: ControlNet,
    /// The sampled part of each note (None: the network's averaged note only).
    pub fluctuation: Option<Fluctuation>,
}

impl Model {
    /// A model without a fluctuation part (the card's `fluctuation` is cleared to match).
    pub fn new(mut card: ModelCard, weights: NetworkWeights) -> Self {
        let net = ControlNet::new(&weights);
        card.fluctuation = None;
        Model { card, weights, net, fluctuation: None }
    }

    /// This model with `fluctuation` as its sampled part (recorded in the card).
    pub fn with_fluctuation(mut self, fluctuation: Option<Fluctuation>) -> Self {
        self.card.fluctuation = fluctuation.as_ref().map(|f| f.shape);
        self.fluctuation = fluctuation;
        self
    }

    /// The outputs a fluctuation model moves: all of them (level, harmonic and noise envelopes).
    pub fn fluctuation_width(card: &ModelCard) -> usize {
        card.network.outputs
    }

    /// Every tensor a file with this card holds: the network's, then the fluctuation model's.
    pub fn expected_tensors(card: &ModelCard) -> Vec<(&'static str, Vec<usize>)> {
        let mut all = expected_tensors(&card.network);
        if let Some(shape) = &card.fluctuation {
            all.extend(fluctuation::expected_tensors(
                shape,
                card.articulations.len(),
                card.layer_dynamics.len().max(1),
                Self::fluctuation_width(card),
            ));
        }
        all
    }

    /// A model that plays nothing audible (every output at the voice's floor, about -260 dBFS),
    /// for a plugin asked for a section this build embeds no model of: silence is honest where a
    /// stand-in tone would pass for the instrument.
    pub fn silent() -> Model {
        let shape = NetworkShape {
            inputs: NetworkShape::inputs_for(crate::Articulation::ALL.len()),
            input_hidden: 1,
            gru_hidden: 1,
            output_hidden: 1,
            outputs: NetworkShape::outputs_for(
                &crate::bands::BandLayout::HARMONIC_V1,
                &crate::bands::BandLayout::NOISE_V1,
            ),
        };
        let mut w = NetworkWeights::random(shape, 0);
        for ((name, _), t) in expected_tensors(&shape).iter().zip(&mut w.tensors) {
            match *name {
                "output.std" | "output.mean" => {}
                "output.bias" => t.fill(-60.0),
                _ => t.fill(0.0),
            }
        }
        let card = fixture::synthetic_card(
            "Silent",
            "silence (no model of this name is embedded)",
            "rosin_core::Model::silent",
            shape,
        );
        Model::new(card, w)
    }

    /// Reads and validates a model file.
    pub fn load(path: &Path) -> Result<Model, ModelError> {
        let io = |source| ModelError::Io { path: path.to_owned(), source };
        let size = std::fs::metadata(path).map_err(io)?.len();
        if size > MAX_MODEL_BYTES {
            return Err(ModelError::TooLarge { path: path.to_owned(), size, max: MAX_MODEL_BYTES });
        }
        let bytes = std::fs::read(path).map_err(io)?;
        Self::from_bytes(&bytes, path)
    }

    /// Validates a model held in memory; `origin` names it in errors.
    pub fn from_bytes(bytes: &[u8], origin: &Path) -> Result<Model, ModelError> {
        let path = || origin.to_owned();
        if bytes.len() as u64 > MAX_MODEL_BYTES {
            return Err(ModelError::TooLarge { path: path(), size: bytes.len() as u64, max: MAX_MODEL_BYTES });
        }
        let (_, meta) = safetensors::SafeTensors::read_metadata(bytes)
            .map_err(|e| ModelError::NotSafetensors { path: path(), reason: e.to_string() })?;
        let tensors = safetensors::SafeTensors::deserialize(bytes)
            .map_err(|e| ModelError::NotSafetensors { path: path(), reason: e.to_string() })?;
        let card_json = meta
            .metadata()
            .as_ref()
            .and_then(|m| m.get(CARD_METADATA_KEY))
            .ok_or_else(|| ModelError::MissingCard { path: path() })?;
        let card = parse_card(card_json, origin)?;

        let expected = Model::expected_tensors(&card);
        for name in tensors.names() {
            if !expected.iter().any(|(n, _)| *n == name) {
                return Err(ModelError::UnexpectedTensor { path: path(), name: name.to_string() });
            }
        }
        let mut data: Vec<Vec<f32>> = Vec::with_capacity(expected.len());
        for (name, dims) in expected {
            let view =
                tensors.tensor(name).map_err(|_| ModelError::MissingTensor { path: path(), name: name.to_string() })?;
            if view.dtype() != safetensors::Dtype::F32 {
                return Err(ModelError::WrongDtype {
                    path: path(),
                    name: name.to_string(),
                    found: format!("{:?}", view.dtype()),
                });
            }
            if view.shape() != dims.as_slice() {
                return Err(ModelError::WrongShape {
                    path: path(),
                    name: name.to_string(),
                    found: view.shape().to_vec(),
                    expected: dims,
                });
            }
            let values: Vec<f32> =
                view.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
            if let Some(index) = values.iter().position(|v| !v.is_finite()) {
                return Err(ModelError::NonFinite { path: path(), name: name.to_string(), index });
            }
            if name == "output.std" {
                if let Some(index) = values.iter().position(|v| *v <= 0.0 || *v > 1e4) {
                    return Err(ModelError::BadCard {
                        path: path(),
                        reason: format!("output.std[{index}] = {} is not a positive scale", values[index]),
                    });
                }
            }
            data.push(values);
        }
        let network_tensors = expected_tensors(&card.network).len();
        let fluct_data = data.split_off(network_tensors);
        let fluctuation = match card.fluctuation {
            None => None,
            Some(shape) => {
                let [a, b, c, d]: [Vec<f32>; 4] = fluct_data
                    .try_into()
                    .map_err(|_| ModelError::BadCard { path: path(), reason: "fluctuation tensors".into() })?;
                Some(
                    Fluctuation::from_tensors(
                        shape,
                        card.articulations.len(),
                        card.layer_dynamics.len(),
                        Model::fluctuation_width(&card),
                        [a, b, c, d],
                    )
                    .map_err(|reason| ModelError::BadCard { path: path(), reason })?,
                )
            }
        };
        Ok(Model::new(card.clone(), NetworkWeights { shape: card.network, tensors: data })
            .with_fluctuation(fluctuation))
    }

    /// Serialises to safetensors bytes with the card in the header.
    pub fn to_bytes(&self) -> Vec<u8> {
        let names = Model::expected_tensors(&self.card);
        let fluct: Vec<&[f32]> = self.fluctuation.iter().flat_map(|f| f.tensors()).collect();
        let bytes: Vec<Vec<u8>> = self
            .weights
            .tensors
            .iter()
            .map(|t| t.as_slice())
            .chain(fluct)
            .map(|t| t.iter().flat_map(|v| v.to_le_bytes()).collect())
            .collect();
        let views: Vec<(String, safetensors::tensor::TensorView)> = names
            .iter()
            .zip(&bytes)
            .map(|((n, dims), b)| {
                let view = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, dims.clone(), b)
                    .expect("tensor sizes match their shapes");
                (n.to_string(), view)
            })
            .collect();
        let meta = HashMap::from([(CARD_METADATA_KEY.to_string(), serde_json::to_string(&self.card).unwrap())]);
        safetensors::serialize(views, Some(meta)).expect("serialising in memory cannot fail")
    }

    /// Writes `<path>` and the human-readable card beside it as `<stem>.json`.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, self.to_bytes())?;
        std::fs::write(path.with_extension("json"), self.card.to_json_pretty() + "\n")
    }
}

fn parse_card(json: &str, origin: &Path) -> Result<ModelCard, ModelError> {
    let bad = |reason: String| ModelError::BadCard { path: origin.to_owned(), reason };
    // Read the version first so an old or future file gets the right message.
    let version = serde_json::from_str::<serde_json::Value>(json)
        .map_err(|e| bad(e.to_string()))?
        .get("format_version")
        .and_then(|v| v.as_u64())
        .ok_or_else(|| bad("format_version is missing".into()))?;
    if version != FORMAT_VERSION as u64 {
        return Err(ModelError::UnsupportedVersion {
            path: origin.to_owned(),
            found: version.min(u32::MAX as u64) as u32,
        });
    }
    let card: ModelCard = serde_json::from_str(json).map_err(|e| bad(e.to_string()))?;
    let n = &card.network;
    if card.articulations.is_empty() {
        return Err(bad("no articulations".into()));
    }
    for (i, a) in card.articulations.iter().enumerate() {
        if card.articulations[..i].contains(a) {
            return Err(bad(format!("articulation {a} is listed twice")));
        }
    }
    if !card.harmonic_bands.is_valid() || !card.noise_bands.is_valid() {
        return Err(bad("band layout is invalid".into()));
    }
    if (card.control_rate_hz - CONTROL_RATE_HZ).abs() > 1e-3 {
        return Err(bad(format!("control rate {} Hz, expected {CONTROL_RATE_HZ}", card.control_rate_hz)));
    }
    for (what, v) in
        [("input_hidden", n.input_hidden), ("gru_hidden", n.gru_hidden), ("output_hidden", n.output_hidden)]
    {
        if v == 0 || v > MAX_DIMENSION {
            return Err(bad(format!("network {what} = {v} is outside 1..={MAX_DIMENSION}")));
        }
    }
    if n.inputs != NetworkShape::inputs_for(card.articulations.len()) {
        return Err(bad(format!(
            "network has {} inputs but {} articulations need {}",
            n.inputs,
            card.articulations.len(),
            NetworkShape::inputs_for(card.articulations.len())
        )));
    }
    if n.outputs != NetworkShape::outputs_for(&card.harmonic_bands, &card.noise_bands) {
        return Err(bad(format!(
            "network has {} outputs but the band layouts need {}",
            n.outputs,
            NetworkShape::outputs_for(&card.harmonic_bands, &card.noise_bands)
        )));
    }
    if card.layer_dynamics.iter().any(|d| !(0.0..=1.0).contains(d)) {
        return Err(bad("layer_dynamics must lie in 0..1".into()));
    }
    if card.key_range[0] > card.key_range[1] || card.key_range[1] > 127 {
        return Err(bad(format!("key_range {:?} is not a MIDI key range", card.key_range)));
    }
    Ok(card)
}
