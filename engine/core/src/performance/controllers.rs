//! Channel-wide controller state and what each MIDI message means for the instrument.

use super::event::MidiEvent;
use super::settings::PerformanceSettings;
use crate::articulation::Articulation;

/// The latest controller values (targets; voices smooth them at the control rate).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Controllers {
    /// CC1 in 0..1 once one has arrived; until then longs take their dynamic from velocity.
    pub dynamic: Option<f32>,
    /// CC11 in 0..1.
    pub expression: f32,
    /// CC21 in 0..1.
    pub vibrato_depth: f32,
    /// CC20 raw value 0..127.
    pub vibrato_rate: f32,
    /// Pitch bend in semitones.
    pub bend: f32,
    pub sustain: bool,
    pub articulation: Articulation,
    /// Variation from its controller once one has arrived (else the settings' value).
    pub variation: Option<f32>,
}

/// What a MIDI message asks the synthesizer to do.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Action {
    NoteOn { key: u8, velocity: u8, articulation: Articulation },
    NoteOff { key: u8 },
    SustainReleased,
    AllNotesOff,
    AllSoundOff,
    Nothing,
}

impl Controllers {
    pub fn new(settings: &PerformanceSettings) -> Self {
        Controllers {
            dynamic: None,
            expression: 1.0,
            vibrato_depth: settings.default_vibrato_depth as f32 / 127.0,
            vibrato_rate: settings.default_vibrato_rate as f32,
            bend: 0.0,
            sustain: false,
            articulation: settings.articulation,
            variation: None,
        }
    }

    /// Applies one message; returns the note-level action for the voice allocator.
    pub fn handle(&mut self, ev: MidiEvent, s: &PerformanceSettings) -> Action {
        match ev {
            MidiEvent::NoteOn { key, velocity } => {
                if let Some(a) = keyswitch(key, s) {
                    self.articulation = a;
                    return Action::Nothing;
                }
                Action::NoteOn { key, velocity, articulation: self.articulation }
            }
            MidiEvent::NoteOff { key, .. } => {
                if keyswitch(key, s).is_some() {
                    return Action::Nothing;
                }
                Action::NoteOff { key }
            }
            MidiEvent::PitchBend { value } => {
                self.bend = value.clamp(-8192, 8191) as f32 / 8192.0 * s.bend_range_semitones;
                Action::Nothing
            }
            MidiEvent::ProgramChange { program } => {
                if let Some(&(_, a)) = s.programs.iter().find(|(p, _)| *p == program) {
                    self.articulation = a;
                }
                Action::Nothing
            }
            MidiEvent::ControlChange { cc, value } => self.control_change(cc, value, s),
        }
    }

    fn control_change(&mut self, cc: u8, value: u8, s: &PerformanceSettings) -> Action {
        let v = value.min(127) as f32 / 127.0;
        match cc {
            120 => return Action::AllSoundOff,
            121 => {
                let articulation = self.articulation;
                *self = Controllers::new(s);
                self.articulation = articulation;
                return Action::SustainReleased;
            }
            123..=127 => return Action::AllNotesOff,
            _ => {}
        }
        let map = &s.cc;
        if cc == map.dynamic {
            self.dynamic = Some(v);
        }
        if cc == map.expression {
            self.expression = v;
        }
        if cc == map.vibrato_depth {
            self.vibrato_depth = v;
        }
        if cc == map.vibrato_rate {
            self.vibrato_rate = value as f32;
        }
        if cc == map.variation {
            self.variation = Some(PerformanceSettings::variation_from_cc(value as f32));
        }
        if cc == map.articulation {
            if let Some(&(_, a)) = s.uacc.iter().find(|(u, _)| *u == value) {
                self.articulation = a;
            }
        }
        if cc == map.sustain {
            let down = value >= 64;
            let released = self.sustain && !down;
            self.sustain = down;
            if released {
                return Action::SustainReleased;
            }
        }
        Action::Nothing
    }
}

/// The articulation a key selects, if it is a keyswitch.
pub fn keyswitch(key: u8, s: &PerformanceSettings) -> Option<Articulation> {
    if !s.keyswitches_enabled || key < s.keyswitch_base {
        return None;
    }
    Articulation::from_index((key - s.keyswitch_base) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyswitches_uacc_and_programs_select_articulations() {
        let s = PerformanceSettings::default();
        let mut c = Controllers::new(&s);
        assert_eq!(c.handle(MidiEvent::NoteOn { key: 15, velocity: 100 }, &s), Action::Nothing);
        assert_eq!(c.articulation, Articulation::Pizzicato);
        c.handle(MidiEvent::ControlChange { cc: 32, value: 11 }, &s);
        assert_eq!(c.articulation, Articulation::Tremolo);
        c.handle(MidiEvent::ProgramChange { program: 1 }, &s);
        assert_eq!(c.articulation, Articulation::Short);
        c.handle(MidiEvent::ControlChange { cc: 32, value: 1 }, &s);
        assert_eq!(c.articulation, Articulation::Sustain);
        assert_eq!(
            c.handle(MidiEvent::NoteOn { key: 60, velocity: 90 }, &s),
            Action::NoteOn { key: 60, velocity: 90, articulation: Articulation::Sustain }
        );
    }

    #[test]
    fn bend_and_pedal() {
        let s = PerformanceSettings::default();
        let mut c = Controllers::new(&s);
        c.handle(MidiEvent::PitchBend { value: 8191 }, &s);
        assert!((c.bend - 2.0).abs() < 1e-3);
        c.handle(MidiEvent::PitchBend { value: -8192 }, &s);
        assert_eq!(c.bend, -2.0);
        assert_eq!(c.handle(MidiEvent::ControlChange { cc: 64, value: 127 }, &s), Action::Nothing);
        assert!(c.sustain);
        assert_eq!(c.handle(MidiEvent::ControlChange { cc: 64, value: 0 }, &s), Action::SustainReleased);
    }
}
