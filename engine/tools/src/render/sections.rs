//! Which section plays a track: the choice a musician would make from what the file says.
//!
//! In order: the user's `--section` flag; the track or instrument name (section names in
//! English, German, French, Italian and Spanish, singular and plural, numbered parts and the
//! usual score abbreviations); a General MIDI solo-string program (40 violin … 43 contrabass);
//! the user's `--default-section`; and last the track's pitch range against each model's
//! trained keys (the card's `key_range`), which is what tells a bass line from a melody when an
//! export names its tracks "Track 5" and gives them all program 48 (String Ensemble).

use rosin_core::library::Library;
use rosin_core::Section;
use serde::Serialize;

/// Why a track got its section, for the render report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "by")]
pub enum SectionReason {
    /// `--section TRACK=NAME`.
    Flag,
    /// The track or instrument name.
    Name { text: String },
    /// A General MIDI solo-string program.
    Program { program: u8 },
    /// `--default-section`.
    Default,
    /// The model whose trained keys hold most of the track's notes.
    Range { lowest: u8, highest: u8, in_range: usize, notes: usize },
}

impl std::fmt::Display for SectionReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SectionReason::Flag => write!(f, "--section"),
            SectionReason::Name { text } => write!(f, "name \"{text}\""),
            SectionReason::Program { program } => write!(f, "program {program}"),
            SectionReason::Default => write!(f, "--default-section"),
            SectionReason::Range { lowest, highest, in_range, notes } => {
                write!(f, "range: keys {lowest}-{highest}, {in_range} of {notes} notes in its range")
            }
        }
    }
}

/// The section named by a track or instrument name, if any.
pub fn section_from_name(text: &str) -> Option<Section> {
    let folded = fold(text);
    let words: Vec<&str> = folded.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect();
    // "Vln1", "Violin2": a part number glued to the name.
    let stems: Vec<&str> =
        words.iter().map(|w| w.trim_end_matches(|c: char| c.is_ascii_digit())).filter(|w| !w.is_empty()).collect();
    let has = |list: &[&str]| stems.iter().any(|w| list.contains(w));
    // Lower sections first: "violoncello" is not a violin, "double bass" is not a cello.
    if has(BASS_WORDS) || compact_initials(&folded) == "db" || (has(&["double", "string"]) && has(&["bass"])) {
        return Some(Section::Basses);
    }
    if has(CELLO_WORDS) {
        return Some(Section::Celli);
    }
    // "Alto" names a viola only on its own (French scores), not an alto flute or saxophone.
    if has(VIOLA_WORDS) || (has(&["alto", "altos"]) && stems.iter().all(|w| is_part_word(w) || w.starts_with("alto"))) {
        return Some(Section::Violas);
    }
    if has(VIOLIN_WORDS) {
        return Some(Section::Violins);
    }
    None
}

const VIOLIN_WORDS: &[&str] = &[
    "violin", "violins", "vln", "vlns", "vn", "vns", "vl", "vls", "violine", "violinen", "geige", "geigen", "violon",
    "violons", "violino", "violini", "violines", "vlino", "vni",
];
const VIOLA_WORDS: &[&str] = &["viola", "violas", "vla", "vlas", "va", "vas", "vle", "viole", "bratsche", "bratschen"];
const CELLO_WORDS: &[&str] = &[
    "cello",
    "celli",
    "cellos",
    "vc",
    "vcs",
    "vcl",
    "vcls",
    "vlc",
    "vlcs",
    "violoncello",
    "violoncelli",
    "violoncellos",
    "violoncelle",
    "violoncelles",
    "violonchelo",
    "violonchelos",
    "chelo",
    "chelos",
    "vclo",
];
const BASS_WORDS: &[&str] = &[
    "bass",
    "basses",
    "contrabass",
    "contrabasses",
    "kontrabass",
    "kontrabasse",
    "kontrabaesse",
    "contrebasse",
    "contrebasses",
    "contrabbasso",
    "contrabbassi",
    "contrabajo",
    "contrabajos",
    "cb",
    "cbs",
    "kb",
    "cbass",
    "bassi",
];

/// Words a part name carries besides the instrument: numbers, ordinals, "solo", "div.".
fn is_part_word(w: &str) -> bool {
    matches!(w, "i" | "ii" | "iii" | "iv" | "st" | "nd" | "rd" | "th" | "solo" | "tutti" | "div" | "section" | "part")
        || w.ends_with("st") && w[..w.len() - 2].chars().all(|c| c.is_ascii_digit())
}

/// Lowercase ASCII with the accents of European languages removed ("Kontrabässe" ->
/// "kontrabaesse", "Violín" -> "violin").
fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        match c {
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'ß' => out.push_str("ss"),
            'á' | 'à' | 'â' | 'ã' | 'å' => out.push('a'),
            'é' | 'è' | 'ê' | 'ë' => out.push('e'),
            'í' | 'ì' | 'î' | 'ï' => out.push('i'),
            'ó' | 'ò' | 'ô' | 'õ' => out.push('o'),
            'ú' | 'ù' | 'û' => out.push('u'),
            'ç' => out.push('c'),
            'ñ' => out.push('n'),
            c => out.push(c),
        }
    }
    out
}

/// "d.b." -> "db": single letters separated by dots.
fn compact_initials(folded: &str) -> String {
    let parts: Vec<&str> = folded.split(|c: char| c == '.' || c.is_whitespace()).filter(|p| !p.is_empty()).collect();
    if parts.len() > 1 && parts.iter().all(|p| p.len() == 1) {
        parts.concat()
    } else {
        String::new()
    }
}

/// The section a General MIDI solo-string program names. The ensemble programs (44 tremolo,
/// 45 pizzicato, 48/49 ensembles, 50/51 synth strings) name no section: the range decides.
pub fn section_from_program(program: u8) -> Option<Section> {
    match program {
        40 => Some(Section::Violins),
        41 => Some(Section::Violas),
        42 => Some(Section::Celli),
        43 => Some(Section::Basses),
        _ => None,
    }
}

/// Semitones above a model's highest trained key that still count as its range when choosing
/// by range: players go up by shifting position well past where the recordings stop, but never
/// below their lowest open string. (Such notes are still reported as outside the trained keys.)
pub const RANGE_TOP_REACH: u8 = 12;

/// The model whose range holds most of `keys` (its trained keys, reaching
/// [`RANGE_TOP_REACH`] higher); among equals, the highest instrument that still reaches the
/// part's lowest note, as a musician would pick it: keys 39–54 fit celli and basses and go to
/// the celli, a first-violin line up to key 85 fits violins and violas and goes to the violins.
/// `None` when `keys` is empty or the library is.
pub fn section_by_range(keys: &[u8], lib: &Library) -> Option<(String, SectionReason)> {
    let (&lowest, &highest) = (keys.iter().min()?, keys.iter().max()?);
    let best = lib
        .models
        .iter()
        .map(|(name, m)| {
            let [lo, hi] = m.card.key_range;
            let top = hi.saturating_add(RANGE_TOP_REACH);
            let inside = keys.iter().filter(|&&k| (lo..=top).contains(&k)).count();
            // Reaching the lowest note with the least room to spare; failing that, the lowest floor.
            let floor_rank = if lo <= lowest { 256 + lo as i32 } else { -(lo as i32) };
            (name, inside, floor_rank)
        })
        .max_by_key(|&(_, inside, floor_rank)| (inside, floor_rank))?;
    Some((best.0.clone(), SectionReason::Range { lowest, highest, in_range: best.1, notes: keys.len() }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rosin_core::model::fixture;
    use std::sync::Arc;

    #[test]
    fn names_in_several_languages_and_abbreviations() {
        let cases: &[(&str, Section)] = &[
            ("Violins I", Section::Violins),
            ("Violin II", Section::Violins),
            ("2nd Violin", Section::Violins),
            ("Vln. 1", Section::Violins),
            ("Vl.", Section::Violins),
            ("Vln1", Section::Violins),
            ("Violine", Section::Violins),
            ("Violon", Section::Violins),
            ("Violino II", Section::Violins),
            ("Violas", Section::Violas),
            ("Vla.", Section::Violas),
            ("Bratsche", Section::Violas),
            ("Alto", Section::Violas),
            ("Altos", Section::Violas),
            ("Celli", Section::Celli),
            ("Cellos", Section::Celli),
            ("Vc.", Section::Celli),
            ("Vlc.", Section::Celli),
            ("Violoncello", Section::Celli),
            ("Violoncelle", Section::Celli),
            ("Basses", Section::Basses),
            ("Cb.", Section::Basses),
            ("Kb.", Section::Basses),
            ("Contrabass", Section::Basses),
            ("Kontrabass", Section::Basses),
            ("Kontrabässe", Section::Basses),
            ("Double bass", Section::Basses),
            ("Contrebasse", Section::Basses),
            ("D.B.", Section::Basses),
            ("Contrabajo", Section::Basses),
        ];
        for (name, want) in cases {
            assert_eq!(section_from_name(name), Some(*want), "{name}");
        }
        for name in ["Track 5", "Strings", "Alto Flute", "Alto Sax", "Bassoon", "Piano", ""] {
            assert_eq!(section_from_name(name), None, "{name}");
        }
    }

    #[test]
    fn programs_name_solo_strings_only() {
        assert_eq!(section_from_program(42), Some(Section::Celli));
        assert_eq!(section_from_program(43), Some(Section::Basses));
        for ensemble in [44, 45, 48, 49, 50] {
            assert_eq!(section_from_program(ensemble), None);
        }
    }

    #[test]
    fn range_picks_the_model_whose_keys_hold_the_notes() {
        let with_range = |lo, hi| {
            let mut m = fixture::fixed_spectrum_model(4, 4, 4, 1);
            m.card.key_range = [lo, hi];
            Arc::new(m)
        };
        let lib = Library {
            models: vec![
                ("violins".into(), with_range(55, 83)),
                ("violas".into(), with_range(48, 86)),
                ("celli".into(), with_range(36, 77)),
                ("basses".into(), with_range(28, 56)),
            ],
        };
        let bass_line: Vec<u8> = (39..=54).collect();
        let (name, reason) = section_by_range(&bass_line, &lib).unwrap();
        assert_eq!(name, "celli");
        assert_eq!(reason, SectionReason::Range { lowest: 39, highest: 54, in_range: 16, notes: 16 });
        let tenor: Vec<u8> = (45..=70).collect();
        assert_eq!(section_by_range(&tenor, &lib).unwrap().0, "celli");
        let melody: Vec<u8> = (62..=81).collect();
        assert_eq!(section_by_range(&melody, &lib).unwrap().0, "violins");
        // A first-violin line past the violins' trained top (83) is still the violins'.
        let high: Vec<u8> = (76..=85).collect();
        assert_eq!(section_by_range(&high, &lib).unwrap().0, "violins");
        let contrabass: Vec<u8> = (28..=45).collect();
        assert_eq!(section_by_range(&contrabass, &lib).unwrap().0, "basses");
        // Below every model: the one that reaches lowest.
        assert_eq!(section_by_range(&[20, 40], &lib).unwrap().0, "basses");
        assert!(section_by_range(&[], &lib).is_none());
    }
}
