//! The default instruments embedded from model-weights/, and choosing one for a MIDI track.

use crate::model::{Model, ModelError};
use std::path::Path;
use std::sync::Arc;

include!(concat!(env!("OUT_DIR"), "/embedded_models.rs"));

/// Names of the embedded models (file stems, e.g. "violins").
pub fn embedded_names() -> Vec<&'static str> {
    EMBEDDED.iter().map(|(n, _)| *n).collect()
}

/// Loads an embedded model by file stem (case-insensitive).
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

/// Guesses the string section of a MIDI track from its name, instrument name or GM program.
/// Returns a section name ("violins", "violas", "celli", "basses").
pub fn section_for_track(name: Option<&str>, instrument: Option<&str>, program: Option<u8>) -> Option<&'static str> {
    for text in [name, instrument].into_iter().flatten() {
        let t = text.to_ascii_lowercase();
        let words: Vec<&str> = t.split(|c: char| !c.is_ascii_alphanumeric()).collect();
        let has = |abbrev: &[&str]| words.iter().any(|w| abbrev.contains(w));
        // Order matters: "violoncello" contains "viol", "contrabass" contains "bass".
        if t.contains("cello") || t.contains("violoncel") || has(&["vc", "vcl", "vcs"]) {
            return Some("celli");
        }
        if t.contains("viola") || has(&["vla", "vlas", "vle"]) {
            return Some("violas");
        }
        if t.contains("bass") || has(&["cb", "kb", "db"]) {
            return Some("basses");
        }
        if t.contains("violin") || has(&["vln", "vn", "vl", "vns", "vlns"]) {
            return Some("violins");
        }
    }
    match program? {
        40 | 44..=49 => Some("violins"),
        41 => Some("violas"),
        42 => Some("celli"),
        43 => Some("basses"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::section_for_track;

    #[test]
    fn sections_from_names_and_programs() {
        assert_eq!(section_for_track(Some("Violins I"), None, None), Some("violins"));
        assert_eq!(section_for_track(Some("Violas"), None, None), Some("violas"));
        assert_eq!(section_for_track(Some("Violoncello"), None, None), Some("celli"));
        assert_eq!(section_for_track(Some("Contrabass"), None, None), Some("basses"));
        assert_eq!(section_for_track(Some("Track 3"), None, Some(42)), Some("celli"));
        assert_eq!(section_for_track(None, None, None), None);
    }
}
