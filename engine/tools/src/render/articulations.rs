//! Articulations a file asks for in ways the engine's controllers do not read: playing
//! techniques written as text ("pizz.", "arco", "trem.", "stacc."), and, when the file chooses
//! none at all, short notes followed by a gap (`--auto-articulation`).
//!
//! Both become program changes inserted into the track's events, so the engine plays them
//! through the same path as a keyswitch or a program change from the file, and its record of
//! what each note played ([`rosin_core::Synth::notes_played`]) counts them.

use rosin_core::performance::controllers::keyswitch;
use rosin_core::{Articulation, MidiEvent, PerformanceSettings};
use serde::Serialize;

use super::midi_file::TimedText;

/// The articulation a playing-technique text names, if any.
pub fn articulation_from_text(text: &str) -> Option<Articulation> {
    let lower = text.to_lowercase();
    lower.split(|c: char| !c.is_alphanumeric()).find_map(|word| match word {
        "pizz" | "pizzicato" | "pizzicati" => Some(Articulation::Pizzicato),
        "arco" | "ord" | "ordinario" | "norm" | "normale" | "nat" | "naturale" | "legato" => {
            Some(Articulation::Sustain)
        }
        "trem" | "tremolo" | "tremolando" => Some(Articulation::Tremolo),
        "stacc" | "staccato" | "staccatissimo" | "spicc" | "spiccato" | "sautille" | "sautillé" => {
            Some(Articulation::Short)
        }
        _ => None,
    })
}

/// Where a track's articulations came from, for the render report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ArticulationSource {
    /// Keyswitches, CC32, program changes or technique texts in the file.
    File,
    /// Nothing in the file chose one; `--auto-articulation` made short notes short.
    Auto,
    /// Nothing chose one: everything plays the default articulation.
    Default,
}

/// What [`plan_articulations`] decided.
#[derive(Debug, Clone)]
pub struct ArticulationPlan {
    /// The track's events with the inserted program changes.
    pub events: Vec<(u64, MidiEvent)>,
    pub source: ArticulationSource,
    /// Technique texts that named an articulation.
    pub texts_read: usize,
    /// Onsets `--auto-articulation` made short.
    pub auto_shorts: usize,
}

/// Settings for the automatic short articulation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AutoShort {
    /// Notes shorter than this (seconds) may play short…
    pub max_seconds: f64,
    /// …when the next note starts at least this long after they end, or this fraction of the
    /// note's length, whichever is longer (a detached note, not a fast legato line).
    pub min_gap_seconds: f64,
    pub min_gap_fraction: f64,
}

impl Default for AutoShort {
    fn default() -> Self {
        AutoShort { max_seconds: 0.25, min_gap_seconds: 0.04, min_gap_fraction: 0.25 }
    }
}

/// Adds the program changes for technique texts and, if asked and nothing in the file chose an
/// articulation, for automatic shorts. `events` are sorted by sample; `texts` carry seconds.
pub fn plan_articulations(
    mut events: Vec<(u64, MidiEvent)>,
    texts: &[TimedText],
    sample_rate: u32,
    settings: &PerformanceSettings,
    auto: Option<AutoShort>,
) -> ArticulationPlan {
    let program_for = |a: Articulation| settings.programs.iter().find(|(_, x)| *x == a).map(|(p, _)| *p);
    let mut inserted: Vec<(u64, MidiEvent)> = Vec::new();
    let mut texts_read = 0;
    for t in texts {
        if let Some(program) = articulation_from_text(&t.text).and_then(program_for) {
            inserted.push((
                super::midi_file::seconds_to_sample(t.time_s, sample_rate),
                MidiEvent::ProgramChange { program },
            ));
            texts_read += 1;
        }
    }
    let chosen = texts_read > 0 || events.iter().any(|(_, e)| chooses_articulation(*e, settings));
    let mut auto_shorts = 0;
    let source = if chosen {
        ArticulationSource::File
    } else if let Some(auto) = auto {
        let (changes, shorts) = auto_short_changes(&events, sample_rate, settings, auto, program_for);
        inserted.extend(changes);
        auto_shorts = shorts;
        ArticulationSource::Auto
    } else {
        ArticulationSource::Default
    };
    if !inserted.is_empty() {
        events = merge_before_notes(&events, inserted);
    }
    ArticulationPlan { events, source, texts_read, auto_shorts }
}

/// Puts each inserted event after the file's events up to its sample but before the note-ons
/// at that sample: it then overrides a program the file sets at the same moment and applies to
/// the notes that start there. The file's own order is untouched.
fn merge_before_notes(events: &[(u64, MidiEvent)], mut inserted: Vec<(u64, MidiEvent)>) -> Vec<(u64, MidiEvent)> {
    inserted.sort_by_key(|&(at, _)| at);
    let mut out = Vec::with_capacity(events.len() + inserted.len());
    let mut pending = inserted.into_iter().peekable();
    for &(at, e) in events {
        let is_note_on = matches!(e, MidiEvent::NoteOn { .. });
        while let Some(&(ins_at, ins)) = pending.peek() {
            if ins_at < at || (ins_at == at && is_note_on) {
                out.push((ins_at, ins));
                pending.next();
            } else {
                break;
            }
        }
        out.push((at, e));
    }
    out.extend(pending);
    out
}

/// Whether an event selects an articulation other than arco. A lone arco program does not
/// count: notation programs write program 48 or 40–43 at the start of every part.
fn chooses_articulation(e: MidiEvent, s: &PerformanceSettings) -> bool {
    let picks = |a: Articulation| a != Articulation::Sustain;
    match e {
        MidiEvent::NoteOn { key, .. } => keyswitch(key, s).is_some(),
        MidiEvent::ProgramChange { program } => s.programs.iter().any(|&(p, a)| p == program && picks(a)),
        MidiEvent::ControlChange { cc, value } => {
            cc == s.cc.articulation && s.uacc.iter().any(|&(u, a)| u == value && picks(a))
        }
        _ => false,
    }
}

/// Program changes that make detached short notes short and switch back before long ones.
/// Notes starting at one sample (a chord) are one onset: short only if all of them are.
fn auto_short_changes(
    events: &[(u64, MidiEvent)],
    sample_rate: u32,
    s: &PerformanceSettings,
    auto: AutoShort,
    program_for: impl Fn(Articulation) -> Option<u8>,
) -> (Vec<(u64, MidiEvent)>, usize) {
    let sr = sample_rate as f64;
    // (onset sample, end sample) of every played note.
    let mut notes: Vec<(u64, u64)> = Vec::new();
    let mut open: [Option<usize>; 128] = [None; 128];
    for &(at, e) in events {
        match e {
            MidiEvent::NoteOn { key, .. } if keyswitch(key, s).is_none() => {
                if let Some(i) = open[key as usize & 127].take() {
                    notes[i].1 = at;
                }
                open[key as usize & 127] = Some(notes.len());
                notes.push((at, u64::MAX));
            }
            MidiEvent::NoteOff { key, .. } => {
                if let Some(i) = open[key as usize & 127].take() {
                    notes[i].1 = at;
                }
            }
            _ => {}
        }
    }
    let (Some(short), Some(long)) = (program_for(Articulation::Short), program_for(s.articulation)) else {
        return (Vec::new(), 0);
    };
    let mut onsets: Vec<u64> = notes.iter().map(|n| n.0).collect();
    onsets.dedup();
    let mut changes = Vec::new();
    let mut shorts = 0;
    let mut playing_short = false;
    for (i, &onset) in onsets.iter().enumerate() {
        let next_onset = onsets.get(i + 1).copied();
        let is_short = notes.iter().filter(|n| n.0 == onset).all(|&(start, end)| {
            let length = end.saturating_sub(start) as f64 / sr;
            let gap = match next_onset {
                Some(next) => next.saturating_sub(end) as f64 / sr,
                None => f64::INFINITY,
            };
            end != u64::MAX
                && length < auto.max_seconds
                && gap >= auto.min_gap_seconds.max(auto.min_gap_fraction * length)
        });
        if is_short != playing_short {
            changes.push((onset, MidiEvent::ProgramChange { program: if is_short { short } else { long } }));
            playing_short = is_short;
        }
        shorts += is_short as usize;
    }
    (changes, shorts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(key: u8) -> MidiEvent {
        MidiEvent::NoteOn { key, velocity: 100 }
    }
    fn off(key: u8) -> MidiEvent {
        MidiEvent::NoteOff { key, velocity: 0 }
    }

    #[test]
    fn texts_name_techniques() {
        assert_eq!(articulation_from_text("pizz."), Some(Articulation::Pizzicato));
        assert_eq!(articulation_from_text("Arco"), Some(Articulation::Sustain));
        assert_eq!(articulation_from_text("trem."), Some(Articulation::Tremolo));
        assert_eq!(articulation_from_text("stacc."), Some(Articulation::Short));
        assert_eq!(articulation_from_text("sul tasto, pizz. (ossia)"), Some(Articulation::Pizzicato));
        assert_eq!(articulation_from_text("Allegro"), None);
    }

    #[test]
    fn texts_become_program_changes_before_their_notes() {
        let s = PerformanceSettings::default();
        let events = vec![(0, on(60)), (1000, off(60)), (1000, on(62)), (2000, off(62))];
        let texts = [TimedText { time_s: 1000.0 / 48_000.0, text: "pizz.".into() }];
        let plan = plan_articulations(events, &texts, 48_000, &s, Some(AutoShort::default()));
        assert_eq!(plan.source, ArticulationSource::File);
        assert_eq!(plan.texts_read, 1);
        assert_eq!(plan.events[2], (1000, MidiEvent::ProgramChange { program: 3 }));
        assert_eq!(plan.events[3], (1000, on(62)));
        assert_eq!(plan.events.len(), 5);
    }

    #[test]
    fn auto_short_only_when_the_file_chooses_nothing() {
        let s = PerformanceSettings::default();
        let sr = 1000;
        // Two detached 100 ms notes, then a 1 s note and a legato 100 ms note right after it.
        let events = vec![
            (0, MidiEvent::ProgramChange { program: 48 }),
            (0, on(60)),
            (100, off(60)),
            (300, on(62)),
            (400, off(62)),
            (600, on(64)),
            (1600, off(64)),
            (1600, on(65)),
            (1700, off(65)),
            (1705, on(67)),
            (2800, off(67)),
        ];
        let plan = plan_articulations(events.clone(), &[], sr, &s, Some(AutoShort::default()));
        assert_eq!(plan.source, ArticulationSource::Auto);
        assert_eq!(plan.auto_shorts, 2);
        let changes: Vec<_> =
            plan.events.iter().filter(|(_, e)| matches!(e, MidiEvent::ProgramChange { .. })).copied().collect();
        assert_eq!(
            changes,
            vec![
                (0, MidiEvent::ProgramChange { program: 48 }),
                (0, MidiEvent::ProgramChange { program: 1 }),
                (600, MidiEvent::ProgramChange { program: 0 }),
            ]
        );
        // The inserted change comes after the file's program 48 and before the first note.
        assert_eq!(plan.events[2], (0, on(60)));
        let none = plan_articulations(events.clone(), &[], sr, &s, None);
        assert_eq!(none.source, ArticulationSource::Default);
        let mut chosen = events;
        chosen.insert(0, (0, MidiEvent::ProgramChange { program: 45 }));
        assert_eq!(
            plan_articulations(chosen, &[], sr, &s, Some(AutoShort::default())).source,
            ArticulationSource::File
        );
    }
}
