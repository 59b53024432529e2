//! Selecting the VSCO2 Community Edition section strings from MuseScore_General's SoundFont.
//!
//! What is kept, and why (found by inspecting `MuseScore_General_Full.sf2` of Debian's
//! `musescore-general-soundfont-lossless`):
//! - Samples are chosen by name, not by preset: the presets layer the
//!   same samples several times (Fast/Slow/Expr. variants, the `Violins2` section made of the
//!   Violins samples with offsets), so walking samples visits every recording exactly once.
//!   Names read `<section><technique>_<note>_v<layer>[<copy>][_r<take>]<L|R>`: `Violins_`,
//!   `Violas_`, `Celli_`, `Basses_` are sustain; `Vlns`/`Viol`/`Cell`/`Bass` + `Atk` (short bow
//!   strokes, the staccato stand-in), `Trm` (tremolo) or `Pzz` (pizzicato). Note octaves put
//!   middle C at C3 (`Celli_A2` is MIDI 57, 220 Hz).
//! - Root key: an instrument zone's overridingRootKey when one sets it, else the sample header's
//!   original pitch. In this file no string zone overrides it, the pitch correction is 0 and the
//!   original pitch matches both the name and the measured f0.
//! - Derived copies are not recordings and are left out: names marked `e`/`f`, and any sample
//!   whose root key differs from the note in its name (the basses' `G#2_v1a`/`v1b` are G#2 shifted
//!   up to D and G#). `Violins_G2_v1b` keeps its named pitch and is a real take, so it stays.
//! - Dynamic layer: from the `v<n>` in the name, ranked per (section, articulation); the zones
//!   carry no velocity ranges (each layer is its own instrument), so the name is the only label.
//! - Round-robin takes (`_r1`, `_r2`) are separate recordings and are all kept.
//! - Stereo pairs (`...L`/`...R`, paired by name because a few links are broken) are mixed to mono
//!   by averaging; the SoundFont's author phase-aligned them for exactly that.
//! - Loop points are kept only where an instrument zone actually loops the sample (sustain and
//!   tremolo); pizzicato and short samples carry meaningless loop fields.
//!
//! The result for MuseScore_General_Full.sf2 (v0.2.1, 16-bit, no `sm24`): 433 recordings,
//! 23.4 minutes, all 44.1 kHz except `Basses_C#2_v1` (48 kHz). Violins 11 keys, violas 12-13,
//! celli 12-13 per articulation and layer; the basses, which the SoundFont's author assembled
//! from solo-bass samples, have 7-10 keys, and their louder pizzicato and short layers cover only
//! the lowest 4.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use super::layers::rank_layers;
use super::sf2::Sf2;
use super::vsco_name::{self, Channel, VscoName};
use super::{DatasetError, NoteRecording};
use rosin_core::articulation::Articulation;

/// One selected recording, before its audio is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StringSample {
    pub instrument: &'static str,
    pub articulation: Articulation,
    pub key: u8,
    pub layer: u8,
    pub layer_count: u8,
    /// The `v<n>` label the layer was ranked from.
    pub velocity_label: u8,
    pub round_robin: Option<u8>,
    /// Indices into [`Sf2::samples`]: left (or mono) first, then right.
    pub sample_ids: Vec<usize>,
    /// Whether an instrument zone loops this sample.
    pub looped: bool,
}

/// A sample that looked like a VSCO2 string sample but is not a recording to train on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Excluded {
    pub sample: String,
    pub reason: String,
}

/// What [`select_strings`] keeps and leaves out.
#[derive(Debug, Clone, Default)]
pub struct StringSelection {
    pub chosen: Vec<StringSample>,
    pub excluded: Vec<Excluded>,
}

/// The channels of one recording, gathered under their shared base name.
struct Group {
    name: VscoName,
    key: u8,
    looped: bool,
    channels: Vec<(Channel, usize)>,
}

/// How the instruments use one sample.
#[derive(Default, Clone, Copy)]
struct Usage {
    root_override: Option<u8>,
    looped: bool,
}

/// Chooses the section-string recordings of an opened SoundFont (no audio is read).
/// Sorted by section (violins, violas, celli, basses), articulation, key, layer, take.
pub fn select_strings(sf2: &Sf2) -> StringSelection {
    let usage = sample_usage(sf2);
    let mut excluded = Vec::new();
    // Keyed by base name so that the two channels of a pair meet.
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for (id, header) in sf2.samples.iter().enumerate() {
        let Some(parsed) = vsco_name::parse(&header.name) else {
            continue;
        };
        let use_ = usage.get(&id).copied().unwrap_or_default();
        let mut exclude = |reason: String| excluded.push(Excluded { sample: header.name.clone(), reason });
        if parsed.is_marked_pitch_shifted() {
            exclude("pitch-shifted copy (e/f suffix)".into());
            continue;
        }
        let root = use_.root_override.unwrap_or(header.original_pitch);
        if root > 127 {
            exclude(format!("no root key (original pitch {root})"));
            continue;
        }
        if root != parsed.name_key {
            exclude(format!("pitch-shifted copy: named key {} but root key {root}", parsed.name_key));
            continue;
        }
        let group = groups.entry(parsed.base.clone()).or_insert_with(|| Group {
            name: parsed.clone(),
            key: root,
            looped: false,
            channels: Vec::new(),
        });
        group.looped |= use_.looped;
        group.channels.push((parsed.channel, id));
    }

    let labels: Vec<(&str, Articulation, u8)> =
        groups.values().map(|g| (g.name.section, g.name.articulation, g.name.velocity)).collect();
    let ranks = rank_layers(&labels);
    let mut chosen: Vec<StringSample> = groups
        .into_values()
        .zip(ranks)
        .map(|(mut g, (layer, layer_count))| {
            g.channels.sort();
            StringSample {
                instrument: g.name.section,
                articulation: g.name.articulation,
                key: g.key,
                layer,
                layer_count,
                velocity_label: g.name.velocity,
                round_robin: g.name.round_robin,
                sample_ids: g.channels.into_iter().map(|(_, id)| id).collect(),
                looped: g.looped,
            }
        })
        .collect();
    chosen.sort_by_key(|s| {
        (section_order(s.instrument), s.articulation, s.key, s.layer, s.round_robin, s.sample_ids.first().copied())
    });
    StringSelection { chosen, excluded }
}

fn section_order(section: &str) -> usize {
    ["violins", "violas", "celli", "basses"].iter().position(|s| *s == section).unwrap_or(usize::MAX)
}

/// Per sample id: the first overriding root key any instrument zone sets for it, and whether any
/// zone loops it.
fn sample_usage(sf2: &Sf2) -> HashMap<usize, Usage> {
    let mut usage: HashMap<usize, Usage> = HashMap::new();
    for instrument in &sf2.instruments {
        for zone in &instrument.zones {
            let Some(id) = zone.sample_id() else { continue };
            let u = usage.entry(id).or_default();
            if u.root_override.is_none() {
                u.root_override = instrument.zone_root_key(zone);
            }
            u.looped |= instrument.zone_loops(zone);
        }
    }
    usage
}

/// Reads the VSCO2 section strings (violins, violas, celli, basses × sustain, short, tremolo,
/// pizzicato) from a SoundFont as mono labelled notes. See the module documentation for what is
/// selected and why.
pub fn read_sf2_strings(path: &Path) -> Result<Vec<NoteRecording>, DatasetError> {
    let sf2 = Sf2::open(path)?;
    let selection = select_strings(&sf2);
    if selection.chosen.is_empty() {
        return Err(DatasetError::NoStrings { path: path.to_path_buf() });
    }
    selection.chosen.iter().map(|s| read_one(&sf2, s)).collect()
}

/// Reads, checks and mixes the channels of one selected recording.
fn read_one(sf2: &Sf2, s: &StringSample) -> Result<NoteRecording, DatasetError> {
    let headers: Vec<_> = s.sample_ids.iter().map(|&id| &sf2.samples[id]).collect();
    let first = headers[0];
    let names: Vec<&str> = headers.iter().map(|h| h.name.as_str()).collect();
    let bad = |what: String| DatasetError::BadSample { path: sf2.path().to_path_buf(), sample: names.join("+"), what };
    if first.sample_rate == 0 {
        return Err(bad("its sample rate is 0".into()));
    }
    if headers.iter().any(|h| h.sample_rate != first.sample_rate) {
        return Err(bad("its channels have different sample rates".into()));
    }
    let mut audio = sf2.read_sample(s.sample_ids[0])?;
    for &id in &s.sample_ids[1..] {
        let other = sf2.read_sample(id)?;
        audio.truncate(other.len());
        for (a, b) in audio.iter_mut().zip(&other) {
            *a += b;
        }
    }
    if audio.is_empty() {
        return Err(bad("it holds no sample data".into()));
    }
    let gain = 1.0 / s.sample_ids.len() as f32;
    audio.iter_mut().for_each(|a| *a *= gain);
    let loop_range = first.relative_loop().filter(|&(_, end)| s.looped && end <= audio.len());
    Ok(NoteRecording {
        instrument: s.instrument.to_string(),
        articulation: s.articulation,
        key: s.key,
        layer: s.layer,
        layer_count: s.layer_count,
        sample_rate: first.sample_rate,
        audio,
        loop_range,
        source: format!("{}#{}", sf2.path().display(), names.join("+")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::sf2::SampleType;
    use crate::dataset::test_support::{build_sf2, find, TempDir, TestSample, TestZone};

    fn constant(name: &str, value: i16, root: u8, kind: u16) -> TestSample {
        let mut s = TestSample::new(name, vec![value; 200], root);
        s.sample_type = kind;
        s
    }

    /// A SoundFont with VSCO-style names: two layers of a stereo sustain note, two round-robin
    /// pizzicato takes, an overridden root key, and the copies and strangers that must be skipped.
    fn vsco_like() -> Vec<u8> {
        let (l, r, m) = (SampleType::LEFT, SampleType::RIGHT, SampleType::MONO);
        let samples = [
            constant("Violins_A2_v1L", 1000, 57, l),
            constant("Violins_A2_v1R", 3000, 57, r),
            constant("Violins_A2_v2L", 2000, 57, l),
            constant("Violins_A2_v2R", 2000, 57, r),
            constant("Violins_D5_v1eL", 1000, 92, l),
            constant("Basses_G#2_v1aL", 1000, 62, l),
            constant("VlnsPzz_C4_v1_r1", 500, 72, m),
            constant("VlnsPzz_C4_v1_r2", 600, 72, m),
            constant("Celli_C1_v3", 700, 0, m),
            constant("Piano C4", 800, 60, m),
        ];
        let mut zones: Vec<TestZone> = (0..samples.len() as u16).map(TestZone::new).collect();
        for z in &mut zones[0..4] {
            z.loops = true;
        }
        zones[8].root_override = Some(36);
        build_sf2(&samples, &zones, false)
    }

    #[test]
    fn selects_recordings_and_skips_copies() {
        let dir = TempDir::new("vsco-select");
        let path = dir.write("strings.sf2", &vsco_like());
        let sf2 = Sf2::open(&path).unwrap();
        let sel = select_strings(&sf2);
        type Row<'a> = (&'a str, Articulation, u8, u8, u8, Vec<usize>);
        let got: Vec<Row> = sel
            .chosen
            .iter()
            .map(|s| (s.instrument, s.articulation, s.key, s.layer, s.layer_count, s.sample_ids.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("violins", Articulation::Sustain, 57, 0, 2, vec![0, 1]),
                ("violins", Articulation::Sustain, 57, 1, 2, vec![2, 3]),
                ("violins", Articulation::Pizzicato, 72, 0, 1, vec![6]),
                ("violins", Articulation::Pizzicato, 72, 0, 1, vec![7]),
                ("celli", Articulation::Sustain, 36, 0, 1, vec![8]),
            ]
        );
        let excluded: Vec<&str> = sel.excluded.iter().map(|e| e.sample.as_str()).collect();
        assert_eq!(excluded, vec!["Violins_D5_v1eL", "Basses_G#2_v1aL"]);
    }

    #[test]
    fn reads_mixed_mono_notes() {
        let dir = TempDir::new("vsco-read");
        let path = dir.write("strings.sf2", &vsco_like());
        let recs = read_sf2_strings(&path).unwrap();
        assert_eq!(recs.len(), 5);
        let first = &recs[0];
        assert_eq!(first.audio.len(), 200);
        assert!(first.audio.iter().all(|&v| v == 2000.0 / 32768.0));
        assert_eq!(first.loop_range, Some((50, 100)));
        assert_eq!(first.sample_rate, 44_100);
        assert!(first.source.ends_with("strings.sf2#Violins_A2_v1L+Violins_A2_v1R"));
        // Pizzicato zones do not loop, so their loop fields are dropped.
        assert_eq!(recs[2].loop_range, None);
        assert_eq!(recs[2].audio[0], 500.0 / 32768.0);
        assert_eq!(recs[4].key, 36);
    }

    #[test]
    fn no_strings_is_an_error() {
        let dir = TempDir::new("vsco-none");
        let bytes = build_sf2(&[TestSample::new("Piano C4", vec![100; 50], 60)], &[TestZone::new(0)], false);
        let err = read_sf2_strings(&dir.write("piano.sf2", &bytes)).unwrap_err();
        assert!(matches!(err, DatasetError::NoStrings { .. }), "{err}");
        assert!(err.to_string().contains("piano.sf2"));
    }

    #[test]
    fn selected_sample_outside_smpl_is_an_error() {
        let dir = TempDir::new("vsco-range");
        let mut bytes = vsco_like();
        let rec = find(&bytes, b"shdr") + 8 + 46 * 7;
        bytes[rec + 24..rec + 28].copy_from_slice(&u32::MAX.to_le_bytes());
        let err = read_sf2_strings(&dir.write("broken.sf2", &bytes)).unwrap_err();
        assert!(matches!(&err, DatasetError::BadSample { sample, .. } if sample == "VlnsPzz_C4_v1_r2"), "{err}");
    }

    /// Checks the real SoundFont when it is installed (Debian `musescore-general-soundfont-lossless`).
    #[test]
    fn real_musescore_soundfont() {
        let path = Path::new("/usr/share/sounds/sf2/MuseScore_General_Full.sf2");
        if !path.exists() {
            eprintln!("skipped: {} is not installed", path.display());
            return;
        }
        let recs = read_sf2_strings(path).unwrap();
        let mut cells: BTreeMap<(String, Articulation, u8), std::collections::BTreeSet<u8>> = BTreeMap::new();
        for r in &recs {
            // Every channel is a recording at its named pitch: no e/f (or other shifted) copies.
            let (_, names) = r.source.split_once(".sf2#").unwrap();
            for name in names.split('+') {
                let parsed = vsco_name::parse(name).unwrap();
                assert!(!parsed.is_marked_pitch_shifted(), "{name}");
                assert_eq!(parsed.name_key, r.key, "{name}");
            }
            assert!(!r.audio.is_empty() && r.sample_rate >= 44_100);
            assert_eq!(r.layer_count, 2, "{r:?}");
            assert_eq!(r.loop_range.is_some(), r.articulation.is_long(), "{r:?}");
            cells.entry((r.instrument.clone(), r.articulation, r.layer)).or_default().insert(r.key);
        }
        // 4 sections x 4 articulations x 2 layers.
        assert_eq!(cells.len(), 32, "{:?}", cells.keys().collect::<Vec<_>>());
        for section in ["violins", "violas", "celli", "basses"] {
            for articulation in Articulation::ALL {
                for layer in 0..2 {
                    let keys = &cells[&(section.to_string(), articulation, layer)];
                    // The basses were assembled from solo-bass samples and have fewer notes
                    // (7-9 keys; their loud pizzicato and short layers only the lowest 4).
                    let min = match (section, articulation, layer) {
                        ("basses", Articulation::Pizzicato | Articulation::Short, 1) => 4,
                        ("basses", _, _) => 7,
                        _ => 10,
                    };
                    assert!(keys.len() >= min, "{section} {articulation} {layer}: {keys:?}");
                }
            }
        }
        let minutes: f64 = recs.iter().map(NoteRecording::duration_secs).sum::<f64>() / 60.0;
        assert!((20.0..28.0).contains(&minutes), "{minutes} minutes");
    }
}
