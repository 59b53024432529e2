//! What Rosin's audio thread runs, and nothing else: the model format and its real-time
//! runtime ([`model`]), the performance layer that turns MIDI into per-voice controls
//! ([`performance`]) and the synthesizer ([`synth`]), with what places its output in a hall:
//! the pan law ([`stage`]) and the room ([`room`]). No threads, processes, files other than
//! model files, or host code: every function reachable from [`Synth::process`] is
//! allocation-free. Offline work (analysis, datasets, rendering, eval) lives in `rosin-tools`,
//! training in `rosin-train`.

pub mod articulation;
pub mod bands;
pub mod denormals;
pub mod formulas;
pub mod handoff;
pub mod library;
pub mod model;
pub mod performance;
pub mod rng;
pub mod room;
pub mod section;
pub mod stage;
pub mod synth;

pub use articulation::Articulation;
pub use model::{Model, ModelCard, ModelError};
pub use performance::{MidiEvent, PerformanceSettings, VoiceMode};
pub use section::Section;
pub use synth::Synth;
