//! The articulations a model can play. Shared by datasets, models, the performance layer and the plugin.

use serde::{Deserialize, Serialize};

/// One playing technique. The order is the model's one-hot input order and the default
/// keyswitch order (C0 sustain, C#0 short, D0 tremolo, D#0 pizzicato).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Articulation {
    #[default]
    Sustain,
    Short,
    Tremolo,
    Pizzicato,
}

impl Articulation {
    pub const ALL: [Articulation; 4] =
        [Articulation::Sustain, Articulation::Short, Articulation::Tremolo, Articulation::Pizzicato];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn from_index(i: usize) -> Option<Self> {
        Self::ALL.get(i).copied()
    }

    pub fn name(self) -> &'static str {
        match self {
            Articulation::Sustain => "sustain",
            Articulation::Short => "short",
            Articulation::Tremolo => "tremolo",
            Articulation::Pizzicato => "pizzicato",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        let s = s.to_ascii_lowercase();
        Self::ALL.into_iter().find(|a| a.name() == s)
    }

    /// Long articulations follow CC1 continuously; short ones take their dynamic from velocity.
    pub fn is_long(self) -> bool {
        matches!(self, Articulation::Sustain | Articulation::Tremolo)
    }
}

impl std::fmt::Display for Articulation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
