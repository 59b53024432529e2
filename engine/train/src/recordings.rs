//! The recorded audio of a dataset's training notes, for the fine-tune ([`crate::finetune`]): a
//! dataset keeps only analysed features, so the audio is read again from the dataset's source
//! (SoundFont or WAV folder) and matched note by note.

use rosin_tools::dataset::store::PreparedNote;
use rosin_tools::dataset::{DatasetError, NoteRecording};
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum RecordingsError {
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    #[error(
        "{}: none of the {notes} training notes found for the fine-tune; the dataset was made from \
         {made_from}: pass that SoundFont or WAV folder with --recordings",
        .path.display()
    )]
    NoneFound { path: PathBuf, notes: usize, made_from: String },
}

/// How many notes found their recording.
#[derive(Debug, Clone, Serialize)]
pub struct MatchReport {
    pub source: PathBuf,
    pub found: usize,
    pub notes: usize,
}

/// Audio per training note (None: no recording matched; that note is left out of the
/// fine-tune, not of training), with the [`MatchReport`].
pub struct FineTuneAudio {
    pub audio: Vec<Option<Vec<f32>>>,
    pub report: MatchReport,
}

impl FineTuneAudio {
    /// The audio as [`crate::train`] takes it.
    pub fn as_slices(&self) -> Vec<Option<&[f32]>> {
        self.audio.iter().map(|a| a.as_deref()).collect()
    }
}

/// The recording of `note`: same instrument, articulation, key, layer, source (sample names or
/// WAV path) and sample rate.
pub fn find<'a>(recordings: &'a [NoteRecording], note: &PreparedNote) -> Option<&'a NoteRecording> {
    let e = &note.entry;
    recordings.iter().find(|r| {
        r.instrument == e.instrument
            && r.articulation == e.articulation
            && r.key == e.key
            && r.layer == e.layer
            && r.source == e.source
            && r.sample_rate == e.sample_rate
    })
}

/// Each note's recording's audio, by [`find`].
pub fn match_notes(recordings: &[NoteRecording], notes: &[PreparedNote]) -> Vec<Option<Vec<f32>>> {
    notes.iter().map(|n| find(recordings, n).map(|r| r.audio.clone())).collect()
}

/// Reads `source` (a folder: WAV folder; otherwise a SoundFont's VSCO2 strings) and matches its
/// recordings to `notes`. An error when not one note is found: the source is not the one the
/// dataset was made from (`made_from`, the manifest's words for it, goes into that error).
pub fn fine_tune_audio(
    source: &Path,
    notes: &[PreparedNote],
    made_from: &str,
) -> Result<FineTuneAudio, RecordingsError> {
    let recordings = if source.is_dir() {
        rosin_tools::dataset::read_wav_folder(source)?
    } else {
        rosin_tools::dataset::read_sf2_strings(source)?
    };
    let audio = match_notes(&recordings, notes);
    let found = audio.iter().filter(|a| a.is_some()).count();
    if found == 0 {
        return Err(RecordingsError::NoneFound {
            path: source.to_owned(),
            notes: notes.len(),
            made_from: made_from.into(),
        });
    }
    Ok(FineTuneAudio { audio, report: MatchReport { source: source.to_owned(), found, notes: notes.len() } })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rosin_core::articulation::Articulation;
    use rosin_tools::analysis::NoteFeatures;
    use rosin_tools::dataset::store::NoteEntry;

    fn recording(key: u8, layer: u8, source: &str, fill: f32) -> NoteRecording {
        NoteRecording {
            instrument: "violins".into(),
            articulation: Articulation::Sustain,
            key,
            layer,
            layer_count: 2,
            sample_rate: 44_100,
            audio: vec![fill; 4],
            loop_range: None,
            source: source.into(),
        }
    }

    fn note(r: &NoteRecording) -> PreparedNote {
        let entry = NoteEntry {
            id: "n0000".into(),
            instrument: r.instrument.clone(),
            articulation: r.articulation,
            key: r.key,
            layer: r.layer,
            layer_count: r.layer_count,
            held_out: false,
            sample_rate: r.sample_rate,
            samples: r.audio.len(),
            frames: 0,
            loop_frames: None,
            f0_error_cents: None,
            source: r.source.clone(),
        };
        let features = NoteFeatures {
            frames: 0,
            f0_hz: Vec::new(),
            periodicity: Vec::new(),
            rms: Vec::new(),
            harmonic: Vec::new(),
            noise: Vec::new(),
        };
        PreparedNote { entry, features }
    }

    #[test]
    fn notes_match_their_recording_on_every_label() {
        let recs = vec![recording(60, 0, "a.wav", 0.1), recording(60, 1, "b.wav", 0.2), recording(62, 0, "c.wav", 0.3)];
        let mut other_source = note(&recs[0]);
        other_source.entry.source = "elsewhere.wav".into();
        let mut other_rate = note(&recs[2]);
        other_rate.entry.sample_rate = 48_000;
        let mut other_art = note(&recs[1]);
        other_art.entry.articulation = Articulation::Pizzicato;
        let notes = vec![note(&recs[1]), other_source, note(&recs[2]), other_rate, other_art, note(&recs[0])];
        let got = match_notes(&recs, &notes);
        assert_eq!(got, vec![Some(vec![0.2; 4]), None, Some(vec![0.3; 4]), None, None, Some(vec![0.1; 4])]);
        let audio = FineTuneAudio { audio: got, report: MatchReport { source: "x".into(), found: 3, notes: 6 } };
        assert_eq!(audio.as_slices()[0], Some(&[0.2f32; 4][..]));
        assert_eq!(audio.as_slices()[1], None);
    }

    #[test]
    fn an_unreadable_source_is_an_error_naming_it() {
        let e = fine_tune_audio(Path::new("/nonexistent/strings.sf2"), &[], "VSCO2").err().unwrap();
        assert!(matches!(e, RecordingsError::Dataset(_)), "{e}");
        assert!(e.to_string().contains("/nonexistent/strings.sf2"), "{e}");
    }
}
