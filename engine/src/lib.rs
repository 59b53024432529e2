//! Rosin's engine: everything that makes sound or learns, and nothing that knows about hosts.
//!
//! Data flows one way: recordings -> [`analysis`] -> training -> [`model`] files ->
//! [`synth`] (driven by [`performance`]) -> audio, offline through [`render`].

pub mod articulation;
pub mod bands;
pub mod dataset;
pub mod denormals;
pub mod library;
pub mod model;
pub mod performance;
pub mod render;
pub mod synth;

pub use articulation::Articulation;
pub use model::{Model, ModelCard, ModelError};
pub use performance::{MidiEvent, PerformanceSettings, VoiceMode};
pub use synth::Synth;
