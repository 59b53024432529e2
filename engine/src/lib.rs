//! Rosin's engine: everything that makes sound or learns, and nothing that knows about hosts.
//!
//! Data flows one way: recordings -> [`analysis`] -> training -> [`model`] files ->
//! [`synth`] (driven by [`performance`]) -> audio, offline through [`render`].

pub mod analysis;
pub mod articulation;
pub mod bands;
pub mod bench;
pub mod dataset;
pub mod denormals;
pub mod eval;
pub mod library;
pub mod model;
pub mod performance;
#[cfg(feature = "train")]
pub mod plot;
pub mod render;
pub mod synth;
#[cfg(feature = "train")]
pub mod train;

pub use articulation::Articulation;
pub use model::{Model, ModelCard, ModelError};
pub use performance::{MidiEvent, PerformanceSettings, VoiceMode};
pub use synth::Synth;
