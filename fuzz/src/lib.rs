//! Helpers shared by the fuzz targets: the models they play and scratch files for the readers
//! that only take a path.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rosin_core::library::Library;
use rosin_core::model::fixture::fixed_spectrum_model;
use rosin_core::{Model, PerformanceSettings};
use rosin_tools::render::midi_file::MidiSong;
use rosin_tools::render::{plan_tracks, render_track, RenderOptions};

/// Bound the engine documents for [`rosin_core::Synth::process`] output (+24 dBFS): see
/// `OUTPUT_LIMIT` in engine/core/src/synth/mod.rs.
pub const OUTPUT_LIMIT: f32 = 16.0;

/// A small analytic model (cheap to run), built once per process.
pub fn fixture_model() -> Arc<Model> {
    static MODEL: OnceLock<Arc<Model>> = OnceLock::new();
    MODEL.get_or_init(|| Arc::new(fixed_spectrum_model(8, 8, 8, 1))).clone()
}

/// The embedded default violins model (the real instrument), loaded once per process; the
/// fixture model if this build embeds none.
pub fn default_model() -> Arc<Model> {
    static MODEL: OnceLock<Arc<Model>> = OnceLock::new();
    MODEL
        .get_or_init(|| match rosin_core::library::embedded("violins") {
            Some(m) => Arc::new(m.expect("the embedded violins model loads")),
            None => fixture_model(),
        })
        .clone()
}

/// Every sample finite and within the documented output bound.
pub fn assert_output_ok(out: &[f32], what: &str) {
    for (i, s) in out.iter().enumerate() {
        assert!(s.is_finite() && s.abs() <= OUTPUT_LIMIT, "{what}: sample {i} = {s}");
    }
}

/// A per-process scratch folder on tmpfs where there is one (each execution rewrites one file,
/// so the file system should be cheap), removed by nobody: it holds a handful of small files.
pub fn scratch_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let shm = Path::new("/dev/shm");
        let base = if shm.is_dir() { shm.to_path_buf() } else { std::env::temp_dir() };
        let dir = base.join(format!("rosin-fuzz-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the fuzz scratch folder");
        dir
    })
}

/// Writes `bytes` to `<scratch>/<sub>/<name>` (replacing what was there) and returns the path.
pub fn scratch_file(sub: &str, name: &str, bytes: &[u8]) -> PathBuf {
    let dir = scratch_dir().join(sub);
    std::fs::create_dir_all(&dir).expect("create a fuzz scratch folder");
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write a fuzz scratch file");
    path
}

/// Longest song [`check_and_render_song`] renders.
const MAX_RENDER_SECONDS: f64 = 2.0;
/// Sample rate of that render (low, to keep executions fast).
const RENDER_RATE: u32 = 22_050;

/// What every score reader's song must satisfy (event positions in order and within the song),
/// and, for a short song, its render through the public API (`plan_tracks` + `render_track`)
/// with the fixture model: bounded length, finite output within the engine's limit.
pub fn check_and_render_song(song: &MidiSong, path: &Path) {
    let samples = song.event_samples(48_000);
    let end = song.duration_samples(48_000);
    assert_eq!(samples.len(), song.tracks.len());
    for (track, positions) in song.tracks.iter().zip(&samples) {
        assert_eq!(track.events.len(), positions.len());
        assert!(positions.windows(2).all(|w| w[0] <= w[1]), "event positions go back in time");
        assert!(positions.iter().all(|&p| p <= end), "an event lies after the song's end");
    }
    if !(song.duration_s < MAX_RENDER_SECONDS) {
        return;
    }
    let lib = Library { models: vec![("violins".to_string(), fixture_model())] };
    let opts = RenderOptions {
        sample_rate: RENDER_RATE,
        max_tail_seconds: 0.5,
        settings: PerformanceSettings { max_voices: 16, ..PerformanceSettings::default() },
        default_section: Some("violins".to_string()),
        ..RenderOptions::default()
    };
    let Ok(plans) = plan_tracks(song, path, &lib, &opts) else {
        return;
    };
    let end = song.duration_samples(RENDER_RATE);
    let tail = (opts.max_tail_seconds * f64::from(RENDER_RATE)) as u64;
    let progress = std::sync::atomic::AtomicU64::new(0);
    for plan in &plans {
        let (audio, _) = render_track(plan, end, &opts, &progress);
        assert!(audio.len() as u64 <= end + tail, "{} samples rendered for a {end}-sample song", audio.len());
        assert_output_ok(&audio, "rendered track");
    }
}
