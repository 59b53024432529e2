//! The string sections Rosin ships a model for. Defined once: the plugin's section parameter,
//! the embedded models' file names and `rosin render`'s track choice all read it from here.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Section {
    #[default]
    Violins,
    Violas,
    Celli,
    Basses,
}

impl Section {
    /// High to low, the order of a score and of the plugin's section parameter.
    pub const ALL: [Section; 4] = [Section::Violins, Section::Violas, Section::Celli, Section::Basses];
    /// What users read: parameter values, report lines.
    pub const DISPLAY_NAMES: [&'static str; 4] = ["Violins", "Violas", "Celli", "Basses"];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn from_index(i: usize) -> Option<Section> {
        Self::ALL.get(i).copied()
    }

    /// File stem of the section's embedded model (`model-weights/<name>.safetensors`), and its
    /// name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Section::Violins => "violins",
            Section::Violas => "violas",
            Section::Celli => "celli",
            Section::Basses => "basses",
        }
    }

    pub fn display_name(self) -> &'static str {
        Self::DISPLAY_NAMES[self.index()]
    }

    /// The section named `name` ([`Section::name`], any case).
    pub fn from_name(name: &str) -> Option<Section> {
        Self::ALL.into_iter().find(|s| s.name().eq_ignore_ascii_case(name))
    }
}

impl std::fmt::Display for Section {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::Section;

    #[test]
    fn names_round_trip() {
        for (i, s) in Section::ALL.into_iter().enumerate() {
            assert_eq!(Section::from_index(i), Some(s));
            assert_eq!(Section::from_name(&s.name().to_uppercase()), Some(s));
            assert!(s.display_name().eq_ignore_ascii_case(s.name()));
        }
        assert_eq!(Section::from_name("fiddles"), None);
    }
}
