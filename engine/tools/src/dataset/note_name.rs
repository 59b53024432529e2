//! Note names such as `A4`, `F#3`, `Bb-1`, shared by the WAV-folder labels and the VSCO2 sample
//! names (which number their octaves differently).

/// Parses a note name into a MIDI key: a letter A–G (either case), at most one accidental (`#` or
/// `s` sharp, `b` flat) and an octave number, optionally negative.
///
/// `middle_c_octave` is the octave number the naming convention gives middle C (MIDI 60): 4 in
/// scientific pitch notation (C4 = 60), 3 in the Yamaha convention the VSCO2 samples use.
/// Returns `None` for anything else or for keys outside 0..=127.
pub(crate) fn parse_note(s: &str, middle_c_octave: i32) -> Option<u8> {
    let mut chars = s.chars();
    let pitch_class = match chars.next()?.to_ascii_uppercase() {
        'C' => 0,
        'D' => 2,
        'E' => 4,
        'F' => 5,
        'G' => 7,
        'A' => 9,
        'B' => 11,
        _ => return None,
    };
    let rest = chars.as_str();
    let (accidental, octave) = match rest.as_bytes().first()? {
        b'#' | b's' => (1, &rest[1..]),
        b'b' => (-1, &rest[1..]),
        _ => (0, rest),
    };
    let digits = octave.strip_prefix('-').unwrap_or(octave);
    if digits.is_empty() || digits.len() > 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let octave: i32 = octave.parse().ok()?;
    let key = 60 + pitch_class + accidental + 12 * (octave - middle_c_octave);
    u8::try_from(key).ok().filter(|&k| k <= 127)
}

#[cfg(test)]
mod tests {
    use super::parse_note;

    #[test]
    fn scientific_pitch_names() {
        assert_eq!(parse_note("C4", 4), Some(60));
        assert_eq!(parse_note("A4", 4), Some(69));
        assert_eq!(parse_note("a4", 4), Some(69));
        assert_eq!(parse_note("F#3", 4), Some(54));
        assert_eq!(parse_note("Fs3", 4), Some(54));
        assert_eq!(parse_note("Bb2", 4), Some(46));
        assert_eq!(parse_note("bb2", 4), Some(46));
        assert_eq!(parse_note("C-1", 4), Some(0));
        assert_eq!(parse_note("G9", 4), Some(127));
    }

    #[test]
    fn yamaha_octaves_put_middle_c_at_c3() {
        assert_eq!(parse_note("C3", 3), Some(60));
        assert_eq!(parse_note("G2", 3), Some(55));
        assert_eq!(parse_note("E0", 3), Some(28));
    }

    #[test]
    fn rejects_non_notes() {
        for s in ["", "H4", "C", "C#", "C##4", "Cb", "C4x", "C123", "G#9", "Cb-1", "57", "-"] {
            assert_eq!(parse_note(s, 4), None, "{s}");
        }
    }
}
