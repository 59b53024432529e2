//! Labelled single-note recordings for training and evaluation, read from a SoundFont or from a
//! folder of WAV files.
//!
//! Two sources:
//! - [`read_sf2_strings`]: the VSCO2 Community Edition section strings inside MuseScore_General's
//!   SoundFont (Debian `musescore-general-soundfont-lossless`, samples CC0, adaptation MIT):
//!   violins, violas, celli, basses × sustain, short, tremolo, pizzicato, two dynamic layers each.
//!   [`vsco`] documents which samples are taken and why; [`sf2`] is the general SoundFont reader
//!   underneath.
//! - [`read_wav_folder`]: any folder of `<instrument>_<articulation>_<pitch>_<layer>.wav` files,
//!   e.g. `violins_sustain_A4_v1.wav` or `cello_pizzicato_57_pp.wav` (pitch as a note name with
//!   C4 = 60 or a MIDI number; layer as v1, v2, ... or ppp..fff), so users can make their own
//!   instruments.
//!
//! Both give [`NoteRecording`]s: mono `f32` audio with its labels. Dynamic layers are renumbered
//! 0.. per (instrument, articulation), softest first, because sources name them differently.
//!
//! [`split`] then divides recordings into training and held-out notes by a fixed rule: per
//! (instrument, articulation), sort the distinct root keys ascending and hold out the keys at
//! sorted positions 2, 6, 10, ... (position % 4 == 2) with all their dynamic layers.
//!
//! Every reader returns a [`DatasetError`] naming the file and the problem for bad input; none of
//! them panics on a broken or hostile file.

pub mod build;
mod error;
mod layers;
mod note_name;
mod riff;
pub mod sf2;
mod split;
pub mod store;
pub mod vsco;
mod vsco_name;
mod wav_folder;
mod wav_name;

#[cfg(test)]
mod sf2_tests;
#[cfg(test)]
mod test_support;

use rosin_core::articulation::Articulation;

pub use build::DEFAULT_SF2;
pub use error::DatasetError;
pub use split::{held_out_keys, is_held_out, split};
pub use vsco::read_sf2_strings;
pub use wav_folder::{read_wav_folder, SILENCE_DBFS};

/// One recorded note with its labels.
#[derive(Clone, PartialEq)]
pub struct NoteRecording {
    /// Section or instrument, lowercase: "violins", "violas", "celli", "basses", or the name a WAV
    /// folder's files carry.
    pub instrument: String,
    pub articulation: Articulation,
    /// MIDI root key of the recording (60 = middle C = C4).
    pub key: u8,
    /// Dynamic layer, 0 = softest recorded layer of this (instrument, articulation), ascending.
    pub layer: u8,
    /// How many layers this (instrument, articulation) has.
    pub layer_count: u8,
    pub sample_rate: u32,
    /// Mono audio in -1..1.
    pub audio: Vec<f32>,
    /// Loop start and end in samples from the start of `audio`, where the source loops the note
    /// (SoundFont sustain and tremolo samples, which end shortly after the loop with no release).
    pub loop_range: Option<(usize, usize)>,
    /// Where the audio came from: `<file>#<sample names>` or the WAV path.
    pub source: String,
}

/// The model's dynamic input (0 = pp .. 1 = ff) for recorded layer `layer` of `count`: the
/// softest layer plays at 0.3, the loudest at 0.9, so CC1 can go beyond both (beyond them
/// by level alone: the voice never tells the network a dynamic it was not trained on).
pub fn layer_dynamic(layer: u8, count: u8) -> f32 {
    if count <= 1 {
        return 0.6;
    }
    0.3 + 0.6 * layer as f32 / (count - 1) as f32
}

impl NoteRecording {
    /// Length in seconds.
    pub fn duration_secs(&self) -> f64 {
        if self.sample_rate == 0 {
            return 0.0;
        }
        self.audio.len() as f64 / f64::from(self.sample_rate)
    }
}

/// Leaves the audio out: a test failure printing millions of samples helps nobody.
impl std::fmt::Debug for NoteRecording {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NoteRecording")
            .field("instrument", &self.instrument)
            .field("articulation", &self.articulation)
            .field("key", &self.key)
            .field("layer", &self.layer)
            .field("layer_count", &self.layer_count)
            .field("sample_rate", &self.sample_rate)
            .field("audio_len", &self.audio.len())
            .field("loop_range", &self.loop_range)
            .field("source", &self.source)
            .finish()
    }
}
