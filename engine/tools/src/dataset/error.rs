//! The one error type of the dataset readers.
//!
//! Every variant names the file it is about, so that `rosin dataset` can print one line that tells a
//! user which file to fix and what is wrong with it.

use std::path::PathBuf;

/// Why a SoundFont, a WAV file or a dataset folder could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("{}: cannot read the file: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{}: not a SoundFont 2 file: {what}", .path.display())]
    NotSoundFont { path: PathBuf, what: String },

    #[error("{}: the file is truncated: {what}", .path.display())]
    Truncated { path: PathBuf, what: String },

    #[error(
        "{}: the '{chunk}' chunk claims {claimed} bytes but only {available} bytes remain in the file \
         (or in the chunk that contains it); the file is truncated or corrupt",
        .path.display()
    )]
    ChunkTooLarge { path: PathBuf, chunk: String, claimed: u64, available: u64 },

    #[error("{}: the required '{chunk}' chunk is missing", .path.display())]
    MissingChunk { path: PathBuf, chunk: String },

    #[error("{}: the '{chunk}' chunk is malformed: {what}", .path.display())]
    Malformed { path: PathBuf, chunk: String, what: String },

    #[error("{}: sample \"{sample}\" is unusable: {what}", .path.display())]
    BadSample { path: PathBuf, sample: String, what: String },

    #[error("{}: not supported: {what}", .path.display())]
    Unsupported { path: PathBuf, what: String },

    #[error(
        "{}: no VSCO2 section-string samples (Violins, Violas, Celli, Basses) were found in this SoundFont",
        .path.display()
    )]
    NoStrings { path: PathBuf },

    #[error("{}: not a readable WAV file: {source}", .path.display())]
    Wav {
        path: PathBuf,
        #[source]
        source: hound::Error,
    },

    #[error(
        "{}: the file name does not carry a label ({why}); expected \
         <instrument>_<articulation>_<pitch>_<layer>.wav, e.g. violins_sustain_A4_v1.wav or \
         cello_pizzicato_57_pp.wav (articulation: sustain, short, tremolo or pizzicato; pitch: a note \
         name with C4 = 60 or a MIDI number; layer: v1, v2, ... or ppp..fff)",
        .path.display()
    )]
    Unlabelled { path: PathBuf, why: String },

    #[error("{}: the file contains no audio", .path.display())]
    Empty { path: PathBuf },

    #[error("{}: the file is silent (peak {peak_dbfs:.1} dBFS, below -60 dBFS)", .path.display())]
    Silent { path: PathBuf, peak_dbfs: f32 },

    #[error("{}: invalid audio: {what}", .path.display())]
    InvalidAudio { path: PathBuf, what: String },

    #[error("{}: no .wav files were found in this folder", .path.display())]
    NoWavFiles { path: PathBuf },

    #[error("{}: not a usable prepared dataset: {what}", .path.display())]
    BadDataset { path: PathBuf, what: String },

    #[error("{}: inconsistent layer labels: {what}", .path.display())]
    InconsistentLayers { path: PathBuf, what: String },
}

impl DatasetError {
    /// The file (or folder) the error is about.
    pub fn path(&self) -> &std::path::Path {
        match self {
            DatasetError::Io { path, .. }
            | DatasetError::NotSoundFont { path, .. }
            | DatasetError::Truncated { path, .. }
            | DatasetError::ChunkTooLarge { path, .. }
            | DatasetError::MissingChunk { path, .. }
            | DatasetError::Malformed { path, .. }
            | DatasetError::BadDataset { path, .. }
            | DatasetError::BadSample { path, .. }
            | DatasetError::Unsupported { path, .. }
            | DatasetError::NoStrings { path }
            | DatasetError::Wav { path, .. }
            | DatasetError::Unlabelled { path, .. }
            | DatasetError::Empty { path }
            | DatasetError::Silent { path, .. }
            | DatasetError::InvalidAudio { path, .. }
            | DatasetError::NoWavFiles { path }
            | DatasetError::InconsistentLayers { path, .. } => path,
        }
    }
}
