//! Helpers shared by the fuzz targets: the models they play and scratch files for the readers
//! that only take a path.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rosin_core::model::fixture::fixed_spectrum_model;
use rosin_core::Model;

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
