//! What a render did, track by track: printed and written beside the stems as
//! `render-report.json`, so a surprise (a bass line played by violins, a pizzicato passage
//! played arco, a stem turned down) can be seen and traced to its cause.

use super::articulations::ArticulationSource;
use super::dynamics::DynamicSource;
use super::gain::GainMode;
use super::sections::SectionReason;
use rosin_core::Articulation;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// File name of the report in the output folder.
pub const REPORT_FILE: &str = "render-report.json";

/// The room as it was applied.
#[derive(Debug, Clone, Serialize)]
pub struct RoomReport {
    pub pre_delay_s: f32,
    pub decay_s: f32,
    pub damping: f32,
    pub wet: f32,
    /// The stems carry the room too (`--wet-stems`); else only the mix does.
    pub on_stems: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct RenderReport {
    /// The MIDI or MusicXML file rendered.
    pub input: PathBuf,
    pub sample_rate: u32,
    pub format: &'static str,
    /// 2: stereo stems and mix, each track placed; 1: `--mono`.
    pub channels: u16,
    /// The hall added to the mix (and the stems, if asked); None: dry.
    pub room: Option<RoomReport>,
    /// Length of the files in seconds (the song, its release tail and the room's tail).
    pub duration_s: f64,
    /// The one gain applied to every stem and the mix, and how it was chosen.
    pub gain_db: f32,
    pub gain: GainMode,
    pub ceiling_dbfs: f32,
    pub tracks: Vec<TrackReport>,
    pub mix: Option<OutputReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrackReport {
    /// Track number as users count it (1, 2, … among the tracks with notes), as `--section N=…`
    /// takes it.
    pub track: usize,
    pub name: String,
    pub section: String,
    pub section_reason: SectionReason,
    /// The model's card name.
    pub model: String,
    pub notes: usize,
    /// Notes outside the model's trained keys (they still play).
    pub out_of_range: Option<OutOfRange>,
    /// Notes per articulation, from the engine's own record of what it played.
    pub articulations: BTreeMap<&'static str, u64>,
    pub articulation_source: ArticulationSource,
    /// Articulations the file played that the model was not trained on (it plays them with
    /// the conditioning it has, which is not what the file asks for).
    pub missing_articulations: Vec<&'static str>,
    /// Playing-technique texts ("pizz.", "arco", …) read from the file.
    pub articulation_texts: usize,
    /// Onsets `--auto-articulation` made short.
    pub auto_shorts: usize,
    pub dynamic_source: DynamicSource,
    /// The track's first CC10 (0 left, 64 centre, 127 right) and how often it changes after.
    pub pan: Option<u8>,
    pub pan_changes: usize,
    /// Where the stem sits in the stereo stems and mix, and why.
    pub placement: super::stage::Placement,
    #[serde(flatten)]
    pub output: OutputReport,
}

#[derive(Debug, Clone, Serialize)]
pub struct OutOfRange {
    pub count: usize,
    pub lowest: u8,
    pub highest: u8,
    pub trained_keys: [u8; 2],
}

/// One written file and its level before and after the common gain.
#[derive(Debug, Clone, Serialize)]
pub struct OutputReport {
    /// The file's name in the output folder (the report travels with the folder).
    pub file: PathBuf,
    pub peak_dbfs_before: f32,
    pub peak_dbfs_after: f32,
    /// Samples beyond full scale in a 24-bit file (clamped there); 0 for float files.
    pub clipped_samples: usize,
}

/// Counts per articulation name, leaving out the ones that played no note.
pub fn articulation_counts(notes_played: [u64; 4]) -> BTreeMap<&'static str, u64> {
    Articulation::ALL.iter().zip(notes_played).filter(|(_, n)| *n > 0).map(|(a, n)| (a.name(), n)).collect()
}

impl RenderReport {
    /// The report as a person reads it in the terminal.
    pub fn summary(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        for t in &self.tracks {
            let arts: Vec<String> = t.articulations.iter().map(|(a, n)| format!("{n} {a}")).collect();
            let _ = writeln!(
                out,
                "{}  track {} \"{}\" -> {} (by {}); {} notes: {}; dynamics from {}; {}; peak {:.1} dBFS{}",
                t.output.file.display(),
                t.track,
                t.name,
                t.section,
                t.section_reason,
                t.notes,
                if arts.is_empty() { "none".to_string() } else { arts.join(", ") },
                t.dynamic_source,
                t.placement,
                t.output.peak_dbfs_after,
                clip_note(t.output.clipped_samples),
            );
            if !t.missing_articulations.is_empty() {
                let _ = writeln!(
                    out,
                    "    warning: the {} model has no {} articulation; those notes do not play as asked",
                    t.model,
                    t.missing_articulations.join(" or ")
                );
            }
            if let Some(o) = &t.out_of_range {
                let _ = writeln!(
                    out,
                    "    warning: {} note(s) (keys {}-{}) lie outside the {} model's trained keys {}-{}; they play with the timbre of the nearest trained key",
                    o.count, o.lowest, o.highest, t.section, o.trained_keys[0], o.trained_keys[1]
                );
            }
        }
        if let Some(m) = &self.mix {
            let _ = writeln!(
                out,
                "{}  mix, peak {:.1} dBFS{}",
                m.file.display(),
                m.peak_dbfs_after,
                clip_note(m.clipped_samples)
            );
        }
        if let Some(r) = &self.room {
            let _ = writeln!(
                out,
                "room: hall on the {} (decay {:.1} s, pre-delay {:.0} ms, damping {:.2}, wet {:.2})",
                if r.on_stems { "stems and the mix" } else { "mix; stems dry" },
                r.decay_s,
                1000.0 * r.pre_delay_s,
                r.damping,
                r.wet
            );
        }
        let _ = write!(
            out,
            "gain {:+.1} dB on every stem and the mix ({})",
            self.gain_db,
            match self.gain {
                GainMode::Normalize if self.gain_db < 0.0 =>
                    format!("lowered so the loudest sample is at {:.0} dBFS", self.ceiling_dbfs),
                GainMode::Normalize => format!("nothing reached {:.0} dBFS, so left as rendered", self.ceiling_dbfs),
                GainMode::Fixed { .. } => "fixed with --gain / --no-normalize".to_string(),
            }
        );
        out
    }
}

fn clip_note(clipped: usize) -> String {
    if clipped > 0 {
        format!(", WARNING: {clipped} samples clipped at full scale (lower --gain, or let Rosin normalise)")
    } else {
        String::new()
    }
}
