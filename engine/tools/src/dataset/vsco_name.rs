//! The sample-naming scheme of the VSCO2 section strings in MuseScore_General.
//!
//! `<section><technique>_<note>_v<layer>[<copy>][_r<take>[<copy>]]<channel>`, e.g. `Violins_A2_v1L`,
//! `CellPzz_E1_v2_r2R`, `Violas_D5_v1eL`:
//! - section + technique: `Violins`/`Violas`/`Celli`/`Basses` alone are the sustain samples;
//!   `Vlns`/`Viol`/`Cell`/`Bass` + `Atk` (short bow strokes, the staccato stand-in), `Trm`
//!   (tremolo) or `Pzz` (pizzicato).
//! - note: a note name whose octave numbering puts middle C at C3 (`Celli_A2` is MIDI 57, 220 Hz;
//!   checked against the sample headers' original pitch and the measured f0 of the audio).
//! - `v<n>`: the dynamic layer as recorded (v1 < v2 < v3).
//! - lowercase letters after the layer or take number mark derived copies (`e`, `f`, and for the
//!   basses `a`, `b`: pitch-shifted to extend the range) or alternative takes (`Violins_G2_v1b`).
//! - `_r<n>`: round-robin take; `L`/`R`: the two channels of a stereo pair.

use rosin_core::articulation::Articulation;

/// One channel of a stereo pair, or a mono sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Channel {
    Left,
    Mono,
    Right,
}

/// A parsed VSCO2 sample name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VscoName {
    /// "violins", "violas", "celli" or "basses".
    pub section: &'static str,
    pub articulation: Articulation,
    /// The MIDI key the name states.
    pub name_key: u8,
    /// The `v<n>` number.
    pub velocity: u8,
    /// Lowercase letters after the layer and take numbers (`"e"`, `"b"`, ...), concatenated.
    pub suffix: String,
    pub round_robin: Option<u8>,
    pub channel: Channel,
    /// The name without its channel letter, shared by both channels of a pair.
    pub base: String,
}

impl VscoName {
    /// `e`/`f` suffixes mark copies pitch-shifted up from the highest recorded note.
    pub fn is_marked_pitch_shifted(&self) -> bool {
        self.suffix.contains(['e', 'f'])
    }
}

/// Parses a sample name of the scheme above; `None` for every other sample in the SoundFont.
pub(crate) fn parse(name: &str) -> Option<VscoName> {
    let (prefix, rest) = name.split_once('_')?;
    let (section, articulation) = section_and_articulation(prefix)?;
    let (body, channel) = match rest.strip_suffix('L') {
        Some(b) => (b, Channel::Left),
        None => match rest.strip_suffix('R') {
            Some(b) => (b, Channel::Right),
            None => (rest, Channel::Mono),
        },
    };
    let mut fields = body.split('_');
    let name_key = super::note_name::parse_note(fields.next()?, 3)?;
    let (velocity, mut suffix) = numbered(fields.next()?, 'v')?;
    let round_robin = match fields.next() {
        Some(field) => {
            let (take, s) = numbered(field, 'r')?;
            suffix.push_str(&s);
            Some(take)
        }
        None => None,
    };
    if fields.next().is_some() {
        return None;
    }
    Some(VscoName {
        section,
        articulation,
        name_key,
        velocity,
        suffix,
        round_robin,
        channel,
        base: format!("{prefix}_{body}"),
    })
}

fn section_and_articulation(prefix: &str) -> Option<(&'static str, Articulation)> {
    let long = match prefix {
        "Violins" => Some("violins"),
        "Violas" => Some("violas"),
        "Celli" => Some("celli"),
        "Basses" => Some("basses"),
        _ => None,
    };
    if let Some(section) = long {
        return Some((section, Articulation::Sustain));
    }
    if prefix.len() != 7 || !prefix.is_ascii() {
        return None;
    }
    let (short, technique) = prefix.split_at(4);
    let section = match short {
        "Vlns" => "violins",
        "Viol" => "violas",
        "Cell" => "celli",
        "Bass" => "basses",
        _ => return None,
    };
    let articulation = match technique {
        "Atk" => Articulation::Short,
        "Trm" => Articulation::Tremolo,
        "Pzz" => Articulation::Pizzicato,
        _ => return None,
    };
    Some((section, articulation))
}

/// `<letter><1-3 digits><lowercase letters>` -> (number 1..=255, letters).
fn numbered(field: &str, letter: char) -> Option<(u8, String)> {
    let rest = field.strip_prefix(letter)?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let (number, suffix) = rest.split_at(digits);
    if number.is_empty() || number.len() > 3 || !suffix.bytes().all(|b| b.is_ascii_lowercase()) {
        return None;
    }
    let n: u8 = number.parse().ok()?;
    (n > 0).then(|| (n, suffix.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_vsco_scheme() {
        let n = parse("Violins_A2_v1L").unwrap();
        assert_eq!(
            (n.section, n.articulation, n.name_key, n.velocity, n.channel),
            ("violins", Articulation::Sustain, 57, 1, Channel::Left)
        );
        assert_eq!(n.base, "Violins_A2_v1");
        assert_eq!(n.round_robin, None);

        let n = parse("CellPzz_E1_v2_r2R").unwrap();
        assert_eq!((n.section, n.articulation, n.name_key), ("celli", Articulation::Pizzicato, 40));
        assert_eq!((n.velocity, n.round_robin, n.channel), (2, Some(2), Channel::Right));

        let n = parse("VlnsPzz_D5_v2_r1eL").unwrap();
        assert!(n.is_marked_pitch_shifted());
        let n = parse("Violas_D5_v1fR").unwrap();
        assert!(n.is_marked_pitch_shifted());
        let n = parse("Basses_G#2_v3aL").unwrap();
        assert_eq!((n.name_key, n.suffix.as_str()), (56, "a"));
        assert!(!n.is_marked_pitch_shifted());
        let n = parse("ViolAtk_E4_v1_r1L").unwrap();
        assert_eq!(n.articulation, Articulation::Short);
        let n = parse("BassTrm_A#0_v1").unwrap();
        assert_eq!((n.articulation, n.name_key, n.channel), (Articulation::Tremolo, 34, Channel::Mono));
    }

    #[test]
    fn ignores_other_samples() {
        for s in [
            "Violin-A3",
            "Viola_C3",
            "Violins2_A2_v1L",
            "Cello-A#1",
            "Bass_E1_v1L",
            "VlnsXyz_A2_v1L",
            "Violins_A2",
            "Violins_A2_x1L",
            "Violins_A2_v1_q1L",
            "Violins_A2_v1_r1_zL",
            "Violins_A2_v0L",
            "Violins_A2_v1XL",
            "Piano C4",
        ] {
            assert_eq!(parse(s), None, "{s}");
        }
    }
}
