//! Which section plays a MIDI track: what a musician reads in its name, else its program.

use rosin_core::Section;

/// Guesses the string section of a MIDI track from its name, instrument name or GM program.
pub fn section_for_track(name: Option<&str>, instrument: Option<&str>, program: Option<u8>) -> Option<Section> {
    for text in [name, instrument].into_iter().flatten() {
        let t = text.to_ascii_lowercase();
        let words: Vec<&str> = t.split(|c: char| !c.is_ascii_alphanumeric()).collect();
        let has = |abbrev: &[&str]| words.iter().any(|w| abbrev.contains(w));
        // Order matters: "violoncello" contains "viol", "contrabass" contains "bass".
        if t.contains("cello") || t.contains("violoncel") || has(&["vc", "vcl", "vcs"]) {
            return Some(Section::Celli);
        }
        if t.contains("viola") || has(&["vla", "vlas", "vle"]) {
            return Some(Section::Violas);
        }
        if t.contains("bass") || has(&["cb", "kb", "db"]) {
            return Some(Section::Basses);
        }
        if t.contains("violin") || has(&["vln", "vn", "vl", "vns", "vlns"]) {
            return Some(Section::Violins);
        }
    }
    match program? {
        40 | 44..=49 => Some(Section::Violins),
        41 => Some(Section::Violas),
        42 => Some(Section::Celli),
        43 => Some(Section::Basses),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::section_for_track;
    use rosin_core::Section;

    #[test]
    fn sections_from_names_and_programs() {
        assert_eq!(section_for_track(Some("Violins I"), None, None), Some(Section::Violins));
        assert_eq!(section_for_track(Some("Violas"), None, None), Some(Section::Violas));
        assert_eq!(section_for_track(Some("Violoncello"), None, None), Some(Section::Celli));
        assert_eq!(section_for_track(Some("Contrabass"), None, None), Some(Section::Basses));
        assert_eq!(section_for_track(Some("Track 3"), None, Some(42)), Some(Section::Celli));
        assert_eq!(section_for_track(None, None, None), None);
    }
}
