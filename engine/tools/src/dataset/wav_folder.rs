//! Reading a folder of labelled single-note WAV recordings (see [`super::wav_name`] for the naming
//! scheme).
//!
//! Every `.wav` file directly in the folder must be labelled and hold audible audio: a training set
//! that silently skipped a mislabelled or broken file would quietly train a different instrument,
//! so any such file stops the read with an error naming it. Names starting with `.` (editor and
//! macOS metadata files) and non-WAV files are ignored.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::layers::rank_layers;
use super::wav_name::{self, LayerLabel, WavLabel};
use super::{DatasetError, NoteRecording};
use rosin_core::articulation::Articulation;

/// Files quieter than this peak (in dBFS) are rejected as silent.
pub const SILENCE_DBFS: f32 = -60.0;

/// Reads every labelled `.wav` in `dir` as a mono note. Sorted by instrument, articulation, key,
/// layer and file name; `layer`/`layer_count` are ranked per (instrument, articulation).
pub fn read_wav_folder(dir: &Path) -> Result<Vec<NoteRecording>, DatasetError> {
    let io = |source| DatasetError::Io { path: dir.to_path_buf(), source };
    let mut files: Vec<PathBuf> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let is_wav = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("wav"));
        let hidden = path.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if is_wav && !hidden && path.is_file() {
            files.push(path);
        }
    }
    if files.is_empty() {
        return Err(DatasetError::NoWavFiles { path: dir.to_path_buf() });
    }
    files.sort();

    // All names first: a labelling mistake is reported before minutes of decoding.
    let labels = files.iter().map(|f| label_of(f)).collect::<Result<Vec<_>, _>>()?;
    check_layer_schemes(&files, &labels)?;
    let items: Vec<(&str, Articulation, LayerLabel)> =
        labels.iter().map(|l| (l.instrument.as_str(), l.articulation, l.layer)).collect();
    let ranks = rank_layers(&items);

    let mut recs = Vec::with_capacity(files.len());
    for ((path, label), (layer, layer_count)) in files.iter().zip(labels).zip(ranks) {
        let (audio, sample_rate) = read_mono(path)?;
        recs.push(NoteRecording {
            instrument: label.instrument,
            articulation: label.articulation,
            key: label.key,
            layer,
            layer_count,
            sample_rate,
            audio,
            loop_range: None,
            // The name within the folder, not the path as typed: the fine-tune matches notes
            // to files again later, perhaps from another working directory.
            source: path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned()),
        });
    }
    recs.sort_by(|a, b| {
        (&a.instrument, a.articulation, a.key, a.layer, &a.source).cmp(&(
            &b.instrument,
            b.articulation,
            b.key,
            b.layer,
            &b.source,
        ))
    });
    Ok(recs)
}

fn label_of(path: &Path) -> Result<WavLabel, DatasetError> {
    let unlabelled = |why: String| DatasetError::Unlabelled { path: path.to_path_buf(), why };
    let stem =
        path.file_stem().and_then(|s| s.to_str()).ok_or_else(|| unlabelled("the name is not valid UTF-8".into()))?;
    wav_name::parse_stem(stem).map_err(unlabelled)
}

/// One (instrument, articulation) must use one layer scheme: v-numbers and dynamics have no
/// common order.
fn check_layer_schemes(files: &[PathBuf], labels: &[WavLabel]) -> Result<(), DatasetError> {
    let mut first: BTreeMap<(&str, Articulation), (&Path, LayerLabel)> = BTreeMap::new();
    for (file, label) in files.iter().zip(labels) {
        let cell = (label.instrument.as_str(), label.articulation);
        let (other_file, other) = *first.entry(cell).or_insert((file, label.layer));
        if std::mem::discriminant(&other) != std::mem::discriminant(&label.layer) {
            return Err(DatasetError::InconsistentLayers {
                path: file.clone(),
                what: format!(
                    "its layer uses {} but {} (same instrument and articulation) uses {}; \
                     use one scheme per instrument and articulation",
                    label.layer.scheme(),
                    other_file.display(),
                    other.scheme()
                ),
            });
        }
    }
    Ok(())
}

/// Decodes a WAV file (8/16/24/32-bit integer or 32-bit float, any channel count and rate) and
/// mixes it to mono in -1..1. Rejects empty, non-finite and silent audio.
pub(crate) fn read_mono(path: &Path) -> Result<(Vec<f32>, u32), DatasetError> {
    let wav_err = |source| DatasetError::Wav { path: path.to_path_buf(), source };
    let invalid = |what: String| DatasetError::InvalidAudio { path: path.to_path_buf(), what };
    let reader = hound::WavReader::open(path).map_err(wav_err)?;
    let spec = reader.spec();
    let channels = usize::from(spec.channels);
    if channels == 0 {
        return Err(invalid("the header says 0 channels".into()));
    }
    if spec.sample_rate == 0 {
        return Err(invalid("the header says 0 Hz".into()));
    }
    // The header's length is not trusted for allocation: cap it by what the file can hold.
    let file_len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let bytes_per_sample = u64::from(spec.bits_per_sample.div_ceil(8).max(1));
    let capacity = u64::from(reader.len()).min(file_len / bytes_per_sample) as usize;
    let mut interleaved = Vec::with_capacity(capacity);
    match spec.sample_format {
        hound::SampleFormat::Float => {
            if spec.bits_per_sample != 32 {
                return Err(invalid(format!("{}-bit float samples; only 32-bit float is read", spec.bits_per_sample)));
            }
            for s in reader.into_samples::<f32>() {
                interleaved.push(s.map_err(wav_err)?);
            }
        }
        hound::SampleFormat::Int => {
            if !(1..=32).contains(&spec.bits_per_sample) {
                return Err(invalid(format!("{}-bit samples", spec.bits_per_sample)));
            }
            let scale = 1.0 / (2f64.powi(i32::from(spec.bits_per_sample) - 1));
            for s in reader.into_samples::<i32>() {
                interleaved.push((f64::from(s.map_err(wav_err)?) * scale) as f32);
            }
        }
    }
    let mono: Vec<f32> =
        interleaved.chunks_exact(channels).map(|frame| frame.iter().sum::<f32>() / channels as f32).collect();
    if mono.is_empty() {
        return Err(DatasetError::Empty { path: path.to_path_buf() });
    }
    if mono.iter().any(|s| !s.is_finite()) {
        return Err(invalid("it contains NaN or infinite samples".into()));
    }
    let peak = mono.iter().fold(0f32, |m, s| m.max(s.abs()));
    let peak_dbfs = 20.0 * peak.log10();
    if peak_dbfs < SILENCE_DBFS {
        return Err(DatasetError::Silent { path: path.to_path_buf(), peak_dbfs });
    }
    Ok((mono, spec.sample_rate))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::test_support::TempDir;

    /// Writes `frames` (one Vec per frame, one value per channel, in -1..1) in the given format.
    fn write_wav(path: &Path, rate: u32, bits: u16, float: bool, frames: &[Vec<f64>]) {
        let spec = hound::WavSpec {
            channels: frames.first().map_or(1, |f| f.len() as u16),
            sample_rate: rate,
            bits_per_sample: bits,
            sample_format: if float { hound::SampleFormat::Float } else { hound::SampleFormat::Int },
        };
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        for frame in frames {
            for &v in frame {
                if float {
                    w.write_sample(v as f32).unwrap();
                } else {
                    let full = 2f64.powi(i32::from(bits) - 1);
                    let q = (v * full).round().clamp(-full, full - 1.0) as i32;
                    if bits == 8 {
                        w.write_sample(q as i8).unwrap();
                    } else {
                        w.write_sample(q).unwrap();
                    }
                }
            }
        }
        w.finalize().unwrap();
    }

    fn tone(n: usize, amp: f64, channels: usize) -> Vec<Vec<f64>> {
        (0..n)
            .map(|i| {
                let v = amp * (i as f64 * 0.05).sin();
                (0..channels).map(|c| v / (c + 1) as f64).collect()
            })
            .collect()
    }

    #[test]
    fn reads_labelled_files_in_every_format() {
        let dir = TempDir::new("wav-ok");
        let d = dir.path();
        write_wav(&d.join("violins_sustain_A4_v1.wav"), 44_100, 16, false, &tone(1000, 0.5, 2));
        write_wav(&d.join("violins_sustain_A4_v2.wav"), 48_000, 24, false, &tone(800, 0.8, 1));
        write_wav(&d.join("violins_sustain_C5_v1.wav"), 96_000, 32, true, &tone(600, 0.3, 1));
        write_wav(&d.join("cello_pizzicato_57_pp.wav"), 44_100, 32, false, &tone(500, 0.2, 1));
        write_wav(&d.join("cello_pizzicato_57_ff.wav"), 22_050, 8, false, &tone(400, 0.9, 1));
        write_wav(&d.join("Cello_Pizz_C3_mf.WAV"), 44_100, 16, false, &tone(300, 0.5, 3));
        dir.write("notes.txt", b"not audio");
        dir.write(".violins_sustain_A4_v1.wav", b"metadata, not audio");

        let recs = read_wav_folder(d).unwrap();
        let labels: Vec<(&str, Articulation, u8, u8, u8, u32, usize)> = recs
            .iter()
            .map(|r| {
                (r.instrument.as_str(), r.articulation, r.key, r.layer, r.layer_count, r.sample_rate, r.audio.len())
            })
            .collect();
        let (s, p) = (Articulation::Sustain, Articulation::Pizzicato);
        assert_eq!(
            labels,
            vec![
                ("cello", p, 48, 1, 3, 44_100, 300),
                ("cello", p, 57, 0, 3, 44_100, 500),
                ("cello", p, 57, 2, 3, 22_050, 400),
                ("violins", s, 69, 0, 2, 44_100, 1000),
                ("violins", s, 69, 1, 2, 48_000, 800),
                ("violins", s, 72, 0, 2, 96_000, 600),
            ]
        );
        // Stereo is averaged: left 0.5 sin, right 0.25 sin -> 0.375 sin (16-bit precision).
        let stereo = &recs[3];
        assert!(stereo.source.ends_with("violins_sustain_A4_v1.wav"));
        for (i, &v) in stereo.audio.iter().enumerate() {
            assert!((f64::from(v) - 0.375 * (i as f64 * 0.05).sin()).abs() < 1e-4, "{i}");
        }
        // 24-bit, 32-bit int, 32-bit float and 8-bit all land in -1..1 at the written level.
        let peak = |r: &NoteRecording| r.audio.iter().fold(0f32, |m, v| m.max(v.abs()));
        assert!((peak(&recs[4]) - 0.8).abs() < 1e-3);
        assert!((peak(&recs[1]) - 0.2).abs() < 1e-3);
        assert!((peak(&recs[5]) - 0.3).abs() < 1e-3);
        assert!((peak(&recs[2]) - 0.9).abs() < 1e-2);
        assert!(recs.iter().all(|r| r.loop_range.is_none()));
    }

    fn single_error(name: &str, write: impl FnOnce(&Path)) -> DatasetError {
        let dir = TempDir::new("wav-err");
        write(&dir.path().join(name));
        let err = read_wav_folder(dir.path()).unwrap_err();
        assert!(err.to_string().contains(name), "{err}");
        assert!(err.path().ends_with(name), "{err}");
        err
    }

    #[test]
    fn unlabelled_names_are_errors() {
        let err = single_error("my recording.wav", |p| write_wav(p, 44_100, 16, false, &tone(100, 0.5, 1)));
        assert!(matches!(err, DatasetError::Unlabelled { .. }), "{err}");
        assert!(err.to_string().contains("<instrument>_<articulation>_<pitch>_<layer>.wav"));
        let err = single_error("violins_legato_A4_v1.wav", |p| write_wav(p, 44_100, 16, false, &tone(100, 0.5, 1)));
        assert!(err.to_string().contains("'legato' is not an articulation"), "{err}");
    }

    #[test]
    fn broken_wavs_are_errors() {
        let err =
            single_error("violins_sustain_A4_v1.wav", |p| std::fs::write(p, b"RIFF\x10\0\0\0WAVEgarbage!").unwrap());
        assert!(matches!(err, DatasetError::Wav { .. }), "{err}");

        let err = single_error("violins_sustain_A4_v1.wav", |p| std::fs::write(p, b"").unwrap());
        assert!(matches!(err, DatasetError::Wav { .. }), "{err}");

        // A valid header whose data is cut short.
        let err = single_error("violins_sustain_A4_v1.wav", |p| {
            write_wav(p, 44_100, 16, false, &tone(1000, 0.5, 1));
            let bytes = std::fs::read(p).unwrap();
            std::fs::write(p, &bytes[..bytes.len() - 700]).unwrap();
        });
        assert!(matches!(err, DatasetError::Wav { .. }), "{err}");
    }

    #[test]
    fn empty_silent_and_non_finite_audio_are_errors() {
        let err = single_error("violins_sustain_A4_v1.wav", |p| write_wav(p, 44_100, 16, false, &[]));
        assert!(matches!(err, DatasetError::Empty { .. }), "{err}");

        let err =
            single_error("violins_sustain_A4_v1.wav", |p| write_wav(p, 44_100, 16, false, &vec![vec![0.0]; 1000]));
        assert!(matches!(err, DatasetError::Silent { .. }), "{err}");

        // -70 dBFS is still too quiet.
        let err = single_error("violins_sustain_A4_v1.wav", |p| {
            write_wav(p, 44_100, 32, true, &tone(1000, 10f64.powf(-70.0 / 20.0), 1))
        });
        assert!(matches!(err, DatasetError::Silent { peak_dbfs, .. } if peak_dbfs < -69.0), "{err}");

        let err = single_error("violins_sustain_A4_v1.wav", |p| {
            write_wav(p, 44_100, 32, true, &[vec![0.5], vec![f64::NAN], vec![0.5]])
        });
        assert!(matches!(err, DatasetError::InvalidAudio { .. }), "{err}");
    }

    #[test]
    fn folder_errors() {
        let dir = TempDir::new("wav-none");
        dir.write("readme.txt", b"nothing here");
        let err = read_wav_folder(dir.path()).unwrap_err();
        assert!(matches!(err, DatasetError::NoWavFiles { .. }), "{err}");

        let missing = dir.path().join("missing");
        let err = read_wav_folder(&missing).unwrap_err();
        assert!(matches!(err, DatasetError::Io { .. }), "{err}");
        assert!(err.to_string().contains("missing"), "{err}");

        let dir = TempDir::new("wav-mixed");
        let d = dir.path();
        write_wav(&d.join("violins_sustain_A4_v1.wav"), 44_100, 16, false, &tone(100, 0.5, 1));
        write_wav(&d.join("violins_sustain_B4_pp.wav"), 44_100, 16, false, &tone(100, 0.5, 1));
        // Other cells may use the other scheme.
        write_wav(&d.join("violins_pizzicato_B4_pp.wav"), 44_100, 16, false, &tone(100, 0.5, 1));
        let err = read_wav_folder(d).unwrap_err();
        assert!(matches!(err, DatasetError::InconsistentLayers { .. }), "{err}");
        assert!(err.to_string().contains("violins_sustain_B4_pp.wav"), "{err}");
    }

    /// Random damage to a WAV must give Ok or Err, never a panic.
    #[test]
    fn random_corruption_never_panics() {
        let dir = TempDir::new("wav-fuzz");
        let path = dir.path().join("violins_sustain_A4_v1.wav");
        write_wav(&path, 44_100, 24, false, &tone(64, 0.5, 2));
        let good = std::fs::read(&path).unwrap();
        let mut rng = rosin_core::rng::XorShift64::new(0x9E37_79B9_7F4A_7C15);
        let mut next = move || rng.next_u64();
        for round in 0..600 {
            let mut bytes = good.clone();
            if round % 3 == 0 {
                bytes.truncate((next() % bytes.len() as u64) as usize);
            }
            // Mostly the header, where the sizes and format live.
            for _ in 0..1 + next() % 3 {
                if bytes.is_empty() {
                    break;
                }
                let i = (next() % bytes.len().min(64) as u64) as usize;
                bytes[i] = next() as u8;
            }
            std::fs::write(&path, &bytes).unwrap();
            let _ = read_wav_folder(dir.path());
        }
    }
}
