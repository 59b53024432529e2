//! `rosin dataset`: reads labelled recordings from a SoundFont or a WAV folder, analyses them on
//! every core and writes the dataset folder (`manifest.json` + `features.safetensors`).
//!
//! Two steps, so a caller can size a progress display between them: [`load`] reads and filters
//! the recordings, [`build`] analyses and writes them and returns a [`BuildReport`].

use super::store::{self, Manifest, PreparedNote};
use super::{DatasetError, NoteRecording};
use rosin_core::articulation::Articulation;
use rosin_core::bands::BandLayout;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The SoundFont installed by Debian's musescore-general-soundfont-lossless (scripts/setup.sh).
pub const DEFAULT_SF2: &str = "/usr/share/sounds/sf2/MuseScore_General_Full.sf2";
/// The manifest's `source` for the VSCO2 strings read from [`DEFAULT_SF2`] (or another copy).
pub const VSCO_SOURCE: &str = "VSCO2 Community Edition section strings (Versilian Studios), as packaged in MuseScore_General_Full.sf2 (Debian musescore-general-soundfont-lossless)";
/// The manifest's `licence` for those strings unless the caller gives one.
pub const VSCO_LICENCE: &str =
    "samples CC0 1.0 (VSCO2 Community Edition); SoundFont adaptation MIT (MuseScore_General)";
/// The manifest's `licence` for a WAV folder unless the caller gives one.
pub const UNKNOWN_LICENCE: &str = "unknown (not given with --licence)";

/// Where the recordings come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A SoundFont's VSCO2 section strings; None: [`DEFAULT_SF2`].
    Sf2(Option<PathBuf>),
    /// A folder of `<instrument>_<articulation>_<pitch>_<layer>.wav` files.
    WavFolder(PathBuf),
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    #[error(
        "{}: not found; install it with `bash scripts/setup.sh` (Debian package musescore-general-soundfont-lossless) or pass --sf2",
        .0.display()
    )]
    DefaultSoundFontMissing(PathBuf),
    #[error("no recordings of {0} in the source")]
    NoRecordingsOf(String),
}

/// Recordings read from a [`Source`], with what the manifest says about them.
pub struct Loaded {
    pub recordings: Vec<NoteRecording>,
    /// The file or folder read, as the manifest records it.
    pub path: PathBuf,
    pub source: String,
    pub licence: String,
}

/// Reads the recordings of `source`, keeping only `instruments` (case-insensitive; empty: all).
/// `licence` overrides the source's default licence text.
pub fn load(source: &Source, instruments: &[String], licence: Option<&str>) -> Result<Loaded, BuildError> {
    let (mut recordings, path, source, default_licence) = match source {
        Source::WavFolder(dir) => {
            (super::read_wav_folder(dir)?, dir.clone(), format!("WAV folder {}", dir.display()), UNKNOWN_LICENCE)
        }
        Source::Sf2(path) => {
            let p = path.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_SF2));
            if path.is_none() && !p.exists() {
                return Err(BuildError::DefaultSoundFontMissing(p));
            }
            (super::read_sf2_strings(&p)?, p, VSCO_SOURCE.to_string(), VSCO_LICENCE)
        }
    };
    // Absolute, so a later `rosin train` from another folder finds the audio again.
    let path = std::path::absolute(&path).unwrap_or(path);
    if !instruments.is_empty() {
        recordings.retain(|r| instruments.iter().any(|i| i.eq_ignore_ascii_case(&r.instrument)));
        if recordings.is_empty() {
            return Err(BuildError::NoRecordingsOf(instruments.join(", ")));
        }
    }
    Ok(Loaded { recordings, path, source, licence: licence.unwrap_or(default_licence).to_string() })
}

/// Notes of one (instrument, articulation) in a built dataset.
#[derive(Debug, Clone, Serialize)]
pub struct CellCount {
    pub instrument: String,
    pub articulation: Articulation,
    pub train: usize,
    pub held_out: usize,
}

/// What [`build`] wrote.
#[derive(Debug, Clone, Serialize)]
pub struct BuildReport {
    pub out: PathBuf,
    pub notes: usize,
    /// Minutes of recorded audio.
    pub minutes: f64,
    /// Median and 90th percentile of |f0 - labelled pitch| in cents over the notes that have
    /// one (NaN, written null, when none has).
    pub median_f0_error_cents: f32,
    pub p90_f0_error_cents: f32,
    pub cells: Vec<CellCount>,
}

/// Analyses every recording (on all cores; `on_note` is called once per finished note, from the
/// worker threads), marks the held-out notes by the fixed split rule and writes the dataset to
/// `out`. `command` is recorded in the manifest.
pub fn build(
    loaded: &Loaded,
    out: &Path,
    command: &str,
    on_note: &(dyn Fn() + Sync),
) -> Result<BuildReport, BuildError> {
    let notes = analyse_all(&loaded.recordings, on_note);
    let manifest = Manifest {
        format_version: 1,
        source: loaded.source.clone(),
        licence: loaded.licence.clone(),
        recordings: Some(loaded.path.clone()),
        command: command.to_string(),
        frame_rate: rosin_core::formulas::CONTROL_RATE_HZ,
        harmonic_bands: BandLayout::HARMONIC_V1,
        noise_bands: BandLayout::NOISE_V1,
        notes: notes.iter().map(|n| n.entry.clone()).collect(),
    };
    store::write(out, &manifest, &notes)?;
    Ok(report(out, &manifest))
}

/// [`store::prepare`] on every recording, in order, ids `n0000`, `n0001`, ...
pub fn analyse_all(recs: &[NoteRecording], on_note: &(dyn Fn() + Sync)) -> Vec<PreparedNote> {
    let held = store::held_out_flags(recs);
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let next = AtomicUsize::new(0);
    let mut prepared: Vec<(usize, PreparedNote)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= recs.len() {
                            break out;
                        }
                        out.push((i, store::prepare(&recs[i], format!("n{i:04}"), held[i])));
                        on_note();
                    }
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().expect("analysis thread panicked")).collect()
    });
    prepared.sort_by_key(|p| p.0);
    prepared.into_iter().map(|p| p.1).collect()
}

/// The figures `rosin dataset` prints about a manifest.
pub fn report(out: &Path, manifest: &Manifest) -> BuildReport {
    let mut errs: Vec<f32> = manifest.notes.iter().filter_map(|n| n.f0_error_cents).collect();
    errs.sort_by(f32::total_cmp);
    let minutes: f64 = manifest.notes.iter().map(|n| n.samples as f64 / n.sample_rate as f64).sum::<f64>() / 60.0;
    BuildReport {
        out: out.to_owned(),
        notes: manifest.notes.len(),
        minutes,
        median_f0_error_cents: errs.get(errs.len() / 2).copied().unwrap_or(f32::NAN),
        p90_f0_error_cents: errs.get(errs.len() * 9 / 10).copied().unwrap_or(f32::NAN),
        cells: store::summary(&manifest.notes)
            .into_iter()
            .map(|((instrument, articulation), (train, held_out))| CellCount {
                instrument,
                articulation,
                train,
                held_out,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::test_support::TempDir;

    fn write_tone(dir: &Path, name: &str, key: u8) {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 22_050,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(dir.join(name), spec).unwrap();
        let hz = 440.0 * 2f32.powf((key as f32 - 69.0) / 12.0);
        for i in 0..11_025 {
            let t = i as f32 / 22_050.0;
            let x = 0.3 * (std::f32::consts::TAU * hz * t).sin() * (i as f32 / 500.0).min(1.0);
            w.write_sample((x * 32767.0) as i16).unwrap();
        }
        w.finalize().unwrap();
    }

    #[test]
    fn builds_a_dataset_from_a_wav_folder_and_reports_it() {
        let src = TempDir::new("build-src");
        for (name, key) in [("C4", 60), ("D4", 62), ("E4", 64), ("G4", 67)] {
            write_tone(src.path(), &format!("violins_sustain_{name}_v1.wav"), key);
        }
        write_tone(src.path(), "celli_sustain_C3_v1.wav", 48);
        let source = Source::WavFolder(src.path().to_owned());
        let none = load(&source, &["violas".into()], None).err().expect("no violas");
        assert_eq!(none.to_string(), "no recordings of violas in the source");
        let loaded = load(&source, &["Violins".into()], None).unwrap();
        assert_eq!(loaded.recordings.len(), 4);
        assert_eq!(loaded.licence, UNKNOWN_LICENCE);
        assert!(loaded.source.starts_with("WAV folder "));

        let out = TempDir::new("build-out");
        let calls = AtomicUsize::new(0);
        let r = build(&loaded, out.path(), "rosin dataset test", &|| {
            calls.fetch_add(1, Ordering::Relaxed);
        })
        .unwrap();
        assert_eq!(calls.load(Ordering::Relaxed), 4);
        assert_eq!(r.notes, 4);
        assert!((r.minutes - 4.0 * 0.5 / 60.0).abs() < 1e-9, "{}", r.minutes);
        assert_eq!(r.cells.len(), 1);
        let c = &r.cells[0];
        assert_eq!(
            (c.instrument.as_str(), c.articulation, c.train + c.held_out),
            ("violins", Articulation::Sustain, 4)
        );
        assert_eq!(c.held_out, 1, "sorted key position 2 is held out");
        assert!(r.median_f0_error_cents < 20.0, "{}", r.median_f0_error_cents);

        let (manifest, notes) = store::read(out.path(), |_| true).unwrap();
        assert_eq!(manifest.command, "rosin dataset test");
        let ids: Vec<&str> = notes.iter().map(|n| n.entry.id.as_str()).collect();
        assert_eq!(ids, ["n0000", "n0001", "n0002", "n0003"]);
        assert_eq!(report(out.path(), &manifest).notes, 4);
    }

    #[test]
    fn a_missing_default_soundfont_is_named_but_a_given_one_reads() {
        // Only meaningful where the default SoundFont is not installed.
        if Path::new(DEFAULT_SF2).exists() {
            return;
        }
        let e = load(&Source::Sf2(None), &[], None).err().unwrap();
        assert!(e.to_string().contains("not found; install it with `bash scripts/setup.sh`"), "{e}");
        let e = load(&Source::Sf2(Some("/nonexistent.sf2".into())), &[], None).err().unwrap();
        assert!(matches!(e, BuildError::Dataset(_)), "{e}");
    }
}
