//! A prepared dataset on disk: `manifest.json` (labels, split, provenance) and
//! `features.safetensors` (analysed frames per note), written by `rosin dataset` and read by
//! `rosin train`. Analysis is the slow part, so it is done once.

use super::{split, DatasetError, NoteRecording};
use crate::analysis::{self, NoteFeatures};
use rosin_core::articulation::Articulation;
use rosin_core::bands::BandLayout;
use rosin_core::performance::pitch_to_hz;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format_version: u32,
    /// Where the recordings came from and under what licence (copied into model cards).
    pub source: String,
    pub licence: String,
    /// The SoundFont or WAV folder the notes were read from, for tools that need the audio
    /// again (the fine-tune). Absent in datasets written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recordings: Option<PathBuf>,
    pub command: String,
    pub frame_rate: f32,
    pub harmonic_bands: BandLayout,
    pub noise_bands: BandLayout,
    pub notes: Vec<NoteEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NoteEntry {
    pub id: String,
    pub instrument: String,
    pub articulation: Articulation,
    pub key: u8,
    pub layer: u8,
    pub layer_count: u8,
    pub held_out: bool,
    pub sample_rate: u32,
    pub samples: usize,
    pub frames: usize,
    /// Loop start and end as frame indices, for extending sustained notes during training.
    pub loop_frames: Option<(usize, usize)>,
    /// Median |f0 - labelled pitch| over voiced frames, in cents (None if never voiced).
    pub f0_error_cents: Option<f32>,
    pub source: String,
}

/// One note's labels and analysed frames.
pub struct PreparedNote {
    pub entry: NoteEntry,
    pub features: NoteFeatures,
}

pub const MANIFEST: &str = "manifest.json";
pub const FEATURES: &str = "features.safetensors";

fn io_err(path: &Path, e: std::io::Error) -> DatasetError {
    DatasetError::Io { path: path.to_owned(), source: e }
}

fn malformed(path: &Path, problem: impl Into<String>) -> DatasetError {
    DatasetError::BadDataset { path: path.to_owned(), what: problem.into() }
}

/// Analyses one recording (frames at [`rosin_core::formulas::CONTROL_RATE_HZ`]).
pub fn prepare(rec: &NoteRecording, id: String, held_out: bool) -> PreparedNote {
    let features = analysis::analyse_note(&rec.audio, rec.sample_rate, pitch_to_hz(rec.key as f32));
    let to_frame =
        |s: usize| (s as f64 * rosin_core::formulas::CONTROL_RATE_HZ as f64 / rec.sample_rate as f64).round() as usize;
    let entry = NoteEntry {
        id,
        instrument: rec.instrument.clone(),
        articulation: rec.articulation,
        key: rec.key,
        layer: rec.layer,
        layer_count: rec.layer_count,
        held_out,
        sample_rate: rec.sample_rate,
        samples: rec.audio.len(),
        frames: features.frames,
        loop_frames: rec.loop_range.map(|(a, b)| (to_frame(a), to_frame(b).min(features.frames))),
        f0_error_cents: analysis::median_abs_cents(&features.f0_hz, pitch_to_hz(rec.key as f32)),
        source: rec.source.clone(),
    };
    PreparedNote { entry, features }
}

/// Marks held-out notes by the fixed split rule.
pub fn held_out_flags(recs: &[NoteRecording]) -> Vec<bool> {
    let held = split::held_out_keys(recs);
    recs.iter()
        .map(|r| held.get(&(r.instrument.clone(), r.articulation)).is_some_and(|keys| keys.contains(&r.key)))
        .collect()
}

/// Writes a prepared dataset to `dir`.
pub fn write(dir: &Path, manifest: &Manifest, notes: &[PreparedNote]) -> Result<(), DatasetError> {
    std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    let mut buffers: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for n in notes {
        let f = &n.features;
        let bytes = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        let id = &n.entry.id;
        buffers.push((format!("{id}.f0"), vec![f.frames], bytes(&f.f0_hz)));
        buffers.push((format!("{id}.periodicity"), vec![f.frames], bytes(&f.periodicity)));
        buffers.push((format!("{id}.rms"), vec![f.frames], bytes(&f.rms)));
        buffers.push((format!("{id}.harmonic"), vec![f.frames, manifest.harmonic_bands.count], bytes(&f.harmonic)));
        buffers.push((format!("{id}.noise"), vec![f.frames, manifest.noise_bands.count], bytes(&f.noise)));
    }
    let views: Vec<(String, safetensors::tensor::TensorView)> = buffers
        .iter()
        .map(|(n, s, b)| {
            (n.clone(), safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), b).unwrap())
        })
        .collect();
    let path = dir.join(FEATURES);
    safetensors::serialize_to_file(views, None, &path).map_err(|e| malformed(&path, e.to_string()))?;
    let path = dir.join(MANIFEST);
    std::fs::write(&path, serde_json::to_string_pretty(manifest).unwrap()).map_err(|e| io_err(&path, e))
}

/// Reads a prepared dataset, optionally only the notes `keep` accepts.
pub fn read(dir: &Path, keep: impl Fn(&NoteEntry) -> bool) -> Result<(Manifest, Vec<PreparedNote>), DatasetError> {
    let mpath = dir.join(MANIFEST);
    let text = std::fs::read_to_string(&mpath).map_err(|e| io_err(&mpath, e))?;
    let manifest: Manifest = serde_json::from_str(&text).map_err(|e| malformed(&mpath, e.to_string()))?;
    let fpath: PathBuf = dir.join(FEATURES);
    let bytes = std::fs::read(&fpath).map_err(|e| io_err(&fpath, e))?;
    let st = safetensors::SafeTensors::deserialize(&bytes).map_err(|e| malformed(&fpath, e.to_string()))?;
    let get = |name: String, len: usize| -> Result<Vec<f32>, DatasetError> {
        let t = st.tensor(&name).map_err(|_| malformed(&fpath, format!("tensor {name} is missing")))?;
        let v: Vec<f32> = t.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        if v.len() != len {
            return Err(malformed(&fpath, format!("tensor {name} has {} values, expected {len}", v.len())));
        }
        Ok(v)
    };
    let mut notes = Vec::new();
    for e in manifest.notes.iter().filter(|e| keep(e)) {
        let (id, fr) = (&e.id, e.frames);
        let features = NoteFeatures {
            frames: fr,
            f0_hz: get(format!("{id}.f0"), fr)?,
            periodicity: get(format!("{id}.periodicity"), fr)?,
            rms: get(format!("{id}.rms"), fr)?,
            harmonic: get(format!("{id}.harmonic"), fr * manifest.harmonic_bands.count)?,
            noise: get(format!("{id}.noise"), fr * manifest.noise_bands.count)?,
        };
        notes.push(PreparedNote { entry: e.clone(), features });
    }
    Ok((manifest, notes))
}

/// Counts per (instrument, articulation): (train notes, held-out notes).
pub fn summary(entries: &[NoteEntry]) -> Vec<((String, Articulation), (usize, usize))> {
    let mut m: HashMap<(String, Articulation), (usize, usize)> = HashMap::new();
    for e in entries {
        let c = m.entry((e.instrument.clone(), e.articulation)).or_default();
        if e.held_out {
            c.1 += 1
        } else {
            c.0 += 1
        }
    }
    let mut v: Vec<_> = m.into_iter().collect();
    v.sort();
    v
}
