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
    /// What users read: parameter values, the editor's buttons.
    pub const DISPLAY_NAMES: [&'static str; 4] = ["Sustain", "Short", "Tremolo", "Pizzicato"];

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

    pub fn display_name(self) -> &'static str {
        Self::DISPLAY_NAMES[self.index()]
    }

    /// The CC32 value that selects it by default (Spitfire's UACC: 1 long, 40 staccato,
    /// 11 tremolo, 56 pizzicato).
    pub fn default_uacc(self) -> u8 {
        match self {
            Articulation::Sustain => 1,
            Articulation::Short => 40,
            Articulation::Tremolo => 11,
            Articulation::Pizzicato => 56,
        }
    }

    /// The program change that selects it by default: its index (0 sustain … 3 pizzicato).
    pub fn default_program(self) -> u8 {
        self.index() as u8
    }

    /// General MIDI string programs and what they play: notation programs (MuseScore,
    /// Sibelius, Finale, Dorico) switch articulations in exported MIDI with these. 40 violin,
    /// 41 viola, 42 cello, 43 contrabass, 48/49 string ensembles play arco; 44 is "tremolo
    /// strings", 45 "pizzicato strings". They do not overlap [`Articulation::default_program`].
    pub const GM_PROGRAMS: [(u8, Articulation); 8] = [
        (40, Articulation::Sustain),
        (41, Articulation::Sustain),
        (42, Articulation::Sustain),
        (43, Articulation::Sustain),
        (44, Articulation::Tremolo),
        (45, Articulation::Pizzicato),
        (48, Articulation::Sustain),
        (49, Articulation::Sustain),
    ];

    /// Every program change that selects an articulation by default: 0–3 (one per
    /// articulation) and the General MIDI string programs.
    pub fn default_programs() -> Vec<(u8, Articulation)> {
        Self::ALL.iter().map(|a| (a.default_program(), *a)).chain(Self::GM_PROGRAMS).collect()
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
