//! Which model plays: one of the embedded sections or a model file, and loading it.

use nice_plug::params::persist::PersistentField;
use rosin_core::{library, Model, Section};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::{OnceLock, RwLock};

/// The identity of a model, saved in the plugin state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ModelSource {
    /// An embedded default model, by file stem ("violins", ...).
    Embedded { name: String },
    /// A model file chosen by the user.
    File { path: PathBuf },
}

impl ModelSource {
    pub fn embedded(section: Section) -> Self {
        ModelSource::Embedded { name: section.name().to_string() }
    }
}

impl Default for ModelSource {
    fn default() -> Self {
        ModelSource::embedded(Section::Violins)
    }
}

impl std::fmt::Display for ModelSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ModelSource::Embedded { name } => write!(f, "embedded \"{name}\""),
            ModelSource::File { path } => write!(f, "{}", path.display()),
        }
    }
}

/// The persisted model choice: the source, and the section parameter value it was chosen
/// under (so a later change of the section parameter is told apart from a restored file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelRecord {
    pub source: ModelSource,
    pub section: String,
}

impl Default for ModelRecord {
    fn default() -> Self {
        ModelRecord { source: ModelSource::default(), section: Section::Violins.name().to_string() }
    }
}

/// What plays while no trained model of that name is embedded in this build: silence
/// ([`Model::silent`]), with the editor saying why.
pub fn fallback_model() -> Model {
    Model::silent()
}

/// The embedded model of a section, or the fallback when this build embeds none by that name.
pub fn embedded_model(name: &str) -> Result<Model, String> {
    match library::embedded(name) {
        Some(r) => r.map_err(|e| e.to_string()),
        None => Ok(fallback_model()),
    }
}

/// Loads and validates a model; errors name the file and the problem.
pub fn load(source: &ModelSource) -> Result<Model, String> {
    match source {
        ModelSource::Embedded { name } => embedded_model(name),
        ModelSource::File { path } => load_file(path),
    }
}

pub fn load_file(path: &Path) -> Result<Model, String> {
    // Loading runs outside the audio thread, but a panic must still never cross the host boundary.
    match std::panic::catch_unwind(|| Model::load(path)) {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(_) => Err(format!("{}: the model loader failed unexpectedly", path.display())),
    }
}

/// Called with the record a host restores (project load, preset): runs on the thread that
/// restores the state, so the model is ready before the host's next activation.
pub type RestoreHook = Box<dyn Fn(&ModelRecord) + Send + Sync>;

/// The persisted [`ModelRecord`], and who to tell when a host restores one.
#[derive(Default)]
pub struct ModelField {
    record: RwLock<ModelRecord>,
    on_restore: OnceLock<RestoreHook>,
}

impl ModelField {
    pub fn get(&self) -> ModelRecord {
        self.record.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Records a choice made inside the plugin (editor, loader); tells no one.
    pub fn set_record(&self, record: ModelRecord) {
        *self.record.write().unwrap_or_else(|e| e.into_inner()) = record;
    }

    /// Edits the record in place under its lock; returns what `edit` returns.
    pub fn update<R>(&self, edit: impl FnOnce(&mut ModelRecord) -> R) -> R {
        edit(&mut self.record.write().unwrap_or_else(|e| e.into_inner()))
    }

    /// Sets the hook (once; later calls are ignored).
    pub fn on_restore(&self, hook: RestoreHook) {
        let _ = self.on_restore.set(hook);
    }
}

impl<'a> PersistentField<'a, ModelRecord> for ModelField {
    fn set(&self, new_value: ModelRecord) {
        self.set_record(new_value.clone());
        if let Some(hook) = self.on_restore.get() {
            hook(&new_value);
        }
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&ModelRecord) -> R,
    {
        f(&self.record.read().unwrap_or_else(|e| e.into_inner()))
    }
}
