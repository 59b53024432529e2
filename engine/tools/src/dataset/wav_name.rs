//! Labels carried by WAV file names: `<instrument>_<articulation>_<pitch>_<layer>.wav`.
//!
//! - instrument: any name of letters, digits and `-` (lowercased), e.g. `violins`, `cello`.
//! - articulation: `sustain`, `short`, `tremolo`, `pizzicato` (any case), or the common aliases
//!   `sus`/`long`/`arco`, `staccato`/`stacc`/`spiccato`, `trem`, `pizz`.
//! - pitch: a note name with C4 = 60 (`A4`, `F#3`, `Bb2`, `Fs3`, `C-1`) or a MIDI number (`57`).
//! - layer: `v1`, `v2`, ... (v1 softest) or a dynamic `ppp` `pp` `p` `mp` `mf` `f` `ff` `fff`. Only
//!   the order matters: the dataset renumbers layers 0.. per instrument and articulation.

use rosin_core::articulation::Articulation;

/// A dynamic-layer label as written; ordered softest first within one scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum LayerLabel {
    /// `v<n>`, n in 1..=255.
    Numbered(u8),
    /// Index into [`DYNAMICS`].
    Dynamic(u8),
}

impl LayerLabel {
    pub fn scheme(self) -> &'static str {
        match self {
            LayerLabel::Numbered(_) => "v1, v2, ...",
            LayerLabel::Dynamic(_) => "ppp..fff",
        }
    }
}

const DYNAMICS: [&str; 8] = ["ppp", "pp", "p", "mp", "mf", "f", "ff", "fff"];

/// The labels of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WavLabel {
    pub instrument: String,
    pub articulation: Articulation,
    pub key: u8,
    pub layer: LayerLabel,
}

/// Parses a file stem (the name without `.wav`); the error says what is wrong with it.
pub(crate) fn parse_stem(stem: &str) -> Result<WavLabel, String> {
    let fields: Vec<&str> = stem.split('_').collect();
    let [instrument, articulation, pitch, layer] = fields[..] else {
        return Err(format!("it has {} underscore-separated fields instead of 4", fields.len()));
    };
    if instrument.is_empty() || !instrument.chars().all(|c| c.is_alphanumeric() || c == '-') {
        return Err(format!("'{instrument}' is not an instrument name"));
    }
    let articulation =
        parse_articulation(articulation).ok_or_else(|| format!("'{articulation}' is not an articulation"))?;
    let key = parse_pitch(pitch).ok_or_else(|| format!("'{pitch}' is not a pitch"))?;
    let layer = parse_layer(layer).ok_or_else(|| format!("'{layer}' is not a dynamic layer"))?;
    Ok(WavLabel { instrument: instrument.to_lowercase(), articulation, key, layer })
}

fn parse_articulation(s: &str) -> Option<Articulation> {
    Articulation::from_name(s).or_else(|| match s.to_ascii_lowercase().as_str() {
        "sus" | "long" | "arco" => Some(Articulation::Sustain),
        "staccato" | "stacc" | "spiccato" => Some(Articulation::Short),
        "trem" => Some(Articulation::Tremolo),
        "pizz" => Some(Articulation::Pizzicato),
        _ => None,
    })
}

fn parse_pitch(s: &str) -> Option<u8> {
    if !s.is_empty() && s.len() <= 3 && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<u8>().ok().filter(|&k| k <= 127);
    }
    super::note_name::parse_note(s, 4)
}

fn parse_layer(s: &str) -> Option<LayerLabel> {
    let lower = s.to_ascii_lowercase();
    if let Some(i) = DYNAMICS.iter().position(|d| *d == lower) {
        return Some(LayerLabel::Dynamic(i as u8));
    }
    let digits = lower.strip_prefix('v')?;
    if digits.is_empty() || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u8>().ok().filter(|&n| n > 0).map(LayerLabel::Numbered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_labels() {
        let l = parse_stem("violins_sustain_A4_v1").unwrap();
        assert_eq!(l.instrument, "violins");
        assert_eq!(l.articulation, Articulation::Sustain);
        assert_eq!(l.key, 69);
        assert_eq!(l.layer, LayerLabel::Numbered(1));

        let l = parse_stem("Cello_Pizzicato_57_v2").unwrap();
        assert_eq!((l.instrument.as_str(), l.articulation, l.key), ("cello", Articulation::Pizzicato, 57));

        let l = parse_stem("viola_staccato_F#3_ff").unwrap();
        assert_eq!((l.articulation, l.key, l.layer), (Articulation::Short, 54, LayerLabel::Dynamic(6)));
        assert!(LayerLabel::Dynamic(1) < LayerLabel::Dynamic(4)); // pp < mf
        assert_eq!(parse_stem("bass_trem_Bb0_p").unwrap().key, 22);
        assert_eq!(parse_stem("double-bass_pizz_0_v12").unwrap().layer, LayerLabel::Numbered(12));
    }

    #[test]
    fn explains_bad_names() {
        for (stem, why) in [
            ("violin_A4_v1", "3 underscore"),
            ("violins_sustain_A4_v1_extra", "5 underscore"),
            ("_sustain_A4_v1", "instrument"),
            ("vi olins_sustain_A4_v1", "instrument"),
            ("violins_legato_A4_v1", "articulation"),
            ("violins_sustain_H4_v1", "pitch"),
            ("violins_sustain_128_v1", "pitch"),
            ("violins_sustain_A4_loud", "layer"),
            ("violins_sustain_A4_v0", "layer"),
            ("violins_sustain_A4_v", "layer"),
        ] {
            let err = parse_stem(stem).unwrap_err();
            assert!(err.contains(why), "{stem}: {err}");
        }
    }
}
