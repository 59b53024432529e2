//! The figures of `rosin bench` as one serialisable [`BenchReport`], and the measurements that
//! are not in the parent module: offline render speed ([`offline_render`]), the FluidSynth
//! comparison's ratios ([`sampler_figures`]) and model size against recordings
//! ([`model_sizes`]).
//!
//! The JSON layout is the one the reports in `docs/bench/*.json` have (keys sorted, `render`
//! and `sampler` null when not measured), so old and new reports compare field by field.

use super::sampler::{compare_with_fluidsynth, SamplerComparison};
use super::{recording_bytes, thread_cpu_seconds, RecordingBytes, VoiceCost};
use crate::dataset::sf2::Sf2;
use crate::dataset::DatasetError;
use crate::render::{self, midi_file, RenderError, RenderOptions, TrackPlan};
use rosin_core::library::{self, Library};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;

/// Everything `rosin bench --json` writes.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// The measured model's name (its card's).
    pub model: String,
    pub voice_cost: Vec<VoiceCost>,
    pub render: Option<RenderSpeed>,
    pub sampler: Option<SamplerFigures>,
    /// Empty when the SoundFont could not be read.
    pub sizes: Vec<ModelSize>,
}

impl BenchReport {
    /// Pretty JSON with keys in sorted order, as `docs/bench/*.json` have them.
    pub fn to_json_pretty(&self) -> String {
        let value = serde_json::to_value(self).expect("a bench report always serialises");
        serde_json::to_string_pretty(&value).expect("a JSON value always serialises")
    }

    /// Writes [`Self::to_json_pretty`] to `path`.
    pub fn write_json(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, self.to_json_pretty())
    }
}

/// The offline render of a MIDI file with the embedded models on one thread.
#[derive(Debug, Clone, Serialize)]
pub struct RenderSpeed {
    pub midi: PathBuf,
    pub tracks: usize,
    pub audio_seconds: f64,
    pub cpu_seconds: f64,
    pub wall_seconds: f64,
    /// Audio seconds of the whole song (all tracks) per CPU second.
    pub realtime_multiple_cpu: f64,
}

/// [`RenderSpeed`] with what the FluidSynth comparison needs to play the same notes.
pub struct OfflineRender {
    pub speed: RenderSpeed,
    pub plans: Vec<TrackPlan>,
    pub options: RenderOptions,
}

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Model(#[from] rosin_core::model::ModelError),
}

/// Renders `midi` track after track on the calling thread (so CPU time and wall time both mean
/// "one core") with the embedded models and times it.
pub fn offline_render(midi: &Path, sample_rate: u32) -> Result<OfflineRender, BenchError> {
    let song = midi_file::read_midi_file(midi).map_err(RenderError::from)?;
    let lib = Library::embedded()?;
    let options = RenderOptions { sample_rate, ..Default::default() };
    let plans = render::plan_tracks(&song, midi, &lib, &options)?;
    let progress = AtomicU64::new(0);
    let wall = std::time::Instant::now();
    let cpu0 = thread_cpu_seconds();
    let end = song.duration_samples(options.sample_rate);
    let mut len = 0;
    for p in &plans {
        len = len.max(render::render_track(p, end, &options, &progress).0.len());
    }
    let cpu = thread_cpu_seconds() - cpu0;
    let wall = wall.elapsed().as_secs_f64();
    let audio = len as f64 / options.sample_rate as f64;
    let speed = RenderSpeed {
        midi: midi.to_owned(),
        tracks: plans.len(),
        audio_seconds: audio,
        cpu_seconds: cpu,
        wall_seconds: wall,
        realtime_multiple_cpu: audio / cpu,
    };
    Ok(OfflineRender { speed, plans, options })
}

/// FluidSynth on the same notes, and Rosin's CPU time over its.
#[derive(Debug, Clone, Serialize)]
pub struct SamplerFigures {
    pub fluidsynth: SamplerComparison,
    /// Rosin's CPU seconds for the passage over FluidSynth's, rendering only.
    pub ratio_render_only: f64,
    /// The same with FluidSynth's start-up (loading the SoundFont) counted once.
    pub ratio_with_start_up: f64,
    /// The MIDI file FluidSynth played.
    pub midi_written: PathBuf,
}

/// Runs FluidSynth on the notes of `render` from `soundfont`, writing its files into `dir`.
pub fn sampler_figures(render: &OfflineRender, soundfont: &Path, dir: &Path) -> Result<SamplerFigures, String> {
    let o = &render.options;
    let c = compare_with_fluidsynth(&render.plans, o.sample_rate, soundfont, dir)?;
    Ok(sampler_ratios(c, render.speed.cpu_seconds, dir))
}

/// The ratios of [`SamplerFigures`] from a comparison and Rosin's CPU seconds.
pub fn sampler_ratios(c: SamplerComparison, rosin_cpu_seconds: f64, dir: &Path) -> SamplerFigures {
    let cpu = rosin_cpu_seconds;
    SamplerFigures {
        ratio_render_only: cpu / c.render_cpu_seconds,
        ratio_with_start_up: cpu / (c.render_cpu_seconds + c.start_up_only.cpu_seconds),
        fluidsynth: c,
        midi_written: dir.join("sampler.mid"),
    }
}

/// One embedded model's size against the recordings it was trained on.
#[derive(Debug, Clone, Serialize)]
pub struct ModelSize {
    pub model: String,
    pub model_bytes: u64,
    pub recordings: RecordingBytes,
    /// From the model card's metrics, when it has them.
    pub training_seconds: Option<f64>,
}

impl ModelSize {
    /// How many times smaller the model is than the recordings it was trained on.
    pub fn smaller_by(&self) -> f64 {
        self.recordings.training_bytes as f64 / self.model_bytes.max(1) as f64
    }
}

/// [`ModelSize`] of every embedded model, against its section's VSCO2 recordings in `sf2`.
pub fn model_sizes(sf2: &Path) -> Result<Vec<ModelSize>, DatasetError> {
    let sf2 = Sf2::open(sf2)?;
    Ok(library::embedded_names()
        .into_iter()
        .map(|name| {
            let model_bytes = library::embedded_bytes(name).map_or(0, |b| b.len()) as u64;
            let card = library::embedded(name).and_then(Result::ok).map(|m| m.card);
            ModelSize {
                model: name.to_string(),
                model_bytes,
                recordings: recording_bytes(&sf2, name),
                training_seconds: card
                    .as_ref()
                    .and_then(|c| c.metrics.get("training_seconds"))
                    .and_then(|v| v.as_f64()),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::super::sampler::SamplerRun;
    use super::*;

    /// The keys of a JSON object, recursively, as "a", "a.b", "a[].c".
    fn keys(v: &serde_json::Value, prefix: &str, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    let p = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                    out.push(p.clone());
                    keys(x, &p, out);
                }
            }
            serde_json::Value::Array(a) => {
                if let Some(x) = a.first() {
                    keys(x, &format!("{prefix}[]"), out);
                }
            }
            _ => {}
        }
    }

    fn example() -> BenchReport {
        let run = |s: f64| SamplerRun { cpu_seconds: s, wall_seconds: s, audio_seconds: 2.0 };
        let comparison = SamplerComparison {
            fluidsynth_version: "FluidSynth runtime version 2.3.1".into(),
            soundfont: "/x.sf2".into(),
            with_notes: run(6.4),
            start_up_only: run(0.4),
            repeats: 10,
            render_cpu_seconds: 0.6,
            render_audio_seconds: 38.0,
        };
        BenchReport {
            model: "Violins".into(),
            voice_cost: vec![VoiceCost {
                voices: 1,
                sample_rate: 48_000,
                block: 512,
                audio_seconds: 10.0,
                cpu_seconds: 0.02,
                per_voice_second: 0.002,
                core_fraction: 0.002,
            }],
            render: Some(RenderSpeed {
                midi: "demo/strings-demo.mid".into(),
                tracks: 4,
                audio_seconds: 38.0,
                cpu_seconds: 0.5,
                wall_seconds: 0.5,
                realtime_multiple_cpu: 76.0,
            }),
            sampler: Some(sampler_ratios(comparison, 0.3, Path::new("out/bench"))),
            sizes: vec![ModelSize {
                model: "violins".into(),
                model_bytes: 200_000,
                recordings: RecordingBytes {
                    recordings: 130,
                    all_bytes: 60_000_000,
                    training_bytes: 40_000_000,
                    training_seconds_of_audio: 250.0,
                },
                training_seconds: Some(486.0),
            }],
        }
    }

    #[test]
    fn ratios_are_rosin_over_fluidsynth() {
        let s = example().sampler.unwrap();
        assert!((s.ratio_render_only - 0.5).abs() < 1e-12);
        assert!((s.ratio_with_start_up - 0.3).abs() < 1e-12);
        assert_eq!(s.midi_written, Path::new("out/bench/sampler.mid"));
        assert_eq!(example().sizes[0].smaller_by(), 200.0);
    }

    #[test]
    fn json_has_the_layout_of_the_reports_in_docs_bench() {
        let r = example();
        let mut ours = Vec::new();
        keys(&serde_json::to_value(&r).unwrap(), "", &mut ours);
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/bench");
        for entry in std::fs::read_dir(&docs).into_iter().flatten().flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            let theirs: serde_json::Value = serde_json::from_str(&text).unwrap();
            let mut expected = Vec::new();
            keys(&theirs, "", &mut expected);
            assert_eq!(ours, expected, "{}", entry.path().display());
        }
        // Keys come out sorted, as serde_json's objects hold them, so files diff cleanly.
        let text = r.to_json_pretty();
        assert!(text.find("\"model\"").unwrap() < text.find("\"render\"").unwrap());
        assert!(text.find("\"sizes\"").unwrap() < text.find("\"voice_cost\"").unwrap());
        let empty = BenchReport { render: None, sampler: None, sizes: Vec::new(), ..r };
        let v: serde_json::Value = serde_json::from_str(&empty.to_json_pretty()).unwrap();
        assert!(v["render"].is_null() && v["sampler"].is_null() && v["sizes"] == serde_json::json!([]));
    }
}
