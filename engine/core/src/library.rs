//! The default instruments embedded from model-weights/, and a set of loaded ones by name.

use crate::model::{Model, ModelError};
use std::path::Path;
use std::sync::Arc;

include!(concat!(env!("OUT_DIR"), "/embedded_models.rs"));

/// Names of the embedded models (file stems, e.g. "violins").
pub fn embedded_names() -> Vec<&'static str> {
    EMBEDDED.iter().map(|(n, _)| *n).collect()
}

/// Loads an embedded model by file stem (case-insensitive), e.g. [`crate::Section::name`].
pub fn embedded(name: &str) -> Option<Result<Model, ModelError>> {
    EMBEDDED
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(n, bytes)| Model::from_bytes(bytes, Path::new(&format!("<embedded model-weights/{n}.safetensors>"))))
}

/// The stored bytes of an embedded model (file stem, case-insensitive).
pub fn embedded_bytes(name: &str) -> Option<&'static [u8]> {
    EMBEDDED.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, b)| *b)
}

/// A set of loaded instruments addressed by section name.
#[derive(Clone, Default)]
pub struct Library {
    pub models: Vec<(String, Arc<Model>)>,
}

impl Library {
    /// Every embedded default model.
    pub fn embedded() -> Result<Library, ModelError> {
        let mut models = Vec::new();
        for (name, _) in EMBEDDED {
            models.push((name.to_string(), Arc::new(embedded(name).unwrap()?)));
        }
        Ok(Library { models })
    }

    pub fn get(&self, name: &str) -> Option<&Arc<Model>> {
        self.models.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, m)| m)
    }

    pub fn insert(&mut self, name: &str, model: Arc<Model>) {
        self.models.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.models.push((name.to_string(), model));
    }

    pub fn names(&self) -> Vec<&str> {
        self.models.iter().map(|(n, _)| n.as_str()).collect()
    }
}
