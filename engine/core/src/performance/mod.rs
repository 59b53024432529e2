//! MIDI -> per-voice controls: articulation switching (keyswitches, CC32/UACC, program
//! change), controller smoothing, vibrato, bend, glide and the dynamic level curve.

pub mod controllers;
pub mod event;
pub mod settings;
pub mod voice_controls;

pub use controllers::{keyswitch, Action, Controllers};
pub use event::MidiEvent;
pub use settings::{CcMap, PerformanceSettings, VoiceMode};
pub use voice_controls::{pitch_to_hz, FrameControls, NoteExpression, VoiceControls};
