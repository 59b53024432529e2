//! Rosin's offline tools: everything between recordings and the real-time core that never runs
//! on an audio thread. Analysis of recordings ([`analysis`]), dataset readers ([`dataset`]),
//! analysis-resynthesis ([`resynth`]), MIDI files to stems ([`render`]), evaluation against
//! the recordings ([`eval`]), benchmarks ([`bench`]) and plots ([`plot`]).
//!
//! Data flows one way: recordings -> [`analysis`] -> training (`rosin-train`) -> model files
//! -> `rosin_core::Synth` -> audio, offline through [`render`].

pub mod analysis;
pub mod bench;
pub mod dataset;
pub mod eval;
#[cfg(feature = "plot")]
pub mod plot;
pub mod render;
pub mod resynth;
