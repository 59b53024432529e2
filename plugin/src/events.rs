//! Host note events -> engine MIDI events.

use nice_plug::prelude::NoteEvent;
use rosin_core::performance::NoteExpression;
use rosin_core::MidiEvent;

fn byte(v: f32) -> u8 {
    if v.is_finite() {
        (v * 127.0).round().clamp(0.0, 127.0) as u8
    } else {
        0
    }
}

/// The engine event for a host event, if it has one. Channels are not distinguished (one
/// instance plays one instrument). Velocities arrive normalised; a note-on keeps at least 1.
pub fn to_midi<S>(ev: &NoteEvent<S>) -> Option<MidiEvent> {
    match *ev {
        NoteEvent::NoteOn { key, velocity, .. } => {
            Some(MidiEvent::NoteOn { key: key.number()?.min(127), velocity: byte(velocity).max(1) })
        }
        NoteEvent::NoteOff { key, velocity, .. } => {
            Some(MidiEvent::NoteOff { key: key.number()?.min(127), velocity: byte(velocity) })
        }
        NoteEvent::Choke { key, .. } => Some(MidiEvent::NoteOff { key: key.number()?.min(127), velocity: 0 }),
        NoteEvent::MidiCC { cc, value, .. } => Some(MidiEvent::ControlChange { cc: cc.min(127), value: byte(value) }),
        NoteEvent::MidiPitchBend { value, .. } => {
            let v = if value.is_finite() { (value * 16383.0).round().clamp(0.0, 16383.0) } else { 8192.0 };
            Some(MidiEvent::PitchBend { value: v as i16 - 8192 })
        }
        NoteEvent::MidiProgramChange { program, .. } => Some(MidiEvent::ProgramChange { program: program.min(127) }),
        _ => None,
    }
}

/// The per-note expression a host event carries (CLAP note expressions, VST3 note
/// expressions), with the key it applies to. Pan and pressure have no engine control.
pub fn to_expression<S>(ev: &NoteEvent<S>) -> Option<(u8, NoteExpression)> {
    let (key, e) = match *ev {
        NoteEvent::PolyTuning { key, tuning, .. } => (key, NoteExpression::Tuning(tuning)),
        NoteEvent::PolyVolume { key, gain, .. } => (key, NoteExpression::Volume(gain)),
        NoteEvent::PolyExpression { key, expression, .. } => (key, NoteExpression::Expression(expression)),
        NoteEvent::PolyVibrato { key, vibrato, .. } => (key, NoteExpression::Vibrato(vibrato)),
        NoteEvent::PolyBrightness { key, brightness, .. } => (key, NoteExpression::Brightness(brightness)),
        _ => return None,
    };
    Some((key.number()?.min(127), e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nice_plug::prelude::NoteEvent;

    #[test]
    fn raw_midi_round_trips_exactly() {
        for bytes in [
            [0x90u8, 60, 1],
            [0x90, 60, 127],
            [0x80, 61, 0],
            [0xb0, 1, 77],
            [0xe0, 0, 0],
            [0xe0, 127, 127],
            [0xe0, 0, 64],
            [0xe0, 5, 33],
        ] {
            let ev = NoteEvent::<()>::from_midi(0, &bytes).unwrap();
            assert_eq!(to_midi(&ev), MidiEvent::from_bytes(bytes[0], bytes[1], bytes[2]), "{bytes:?}");
        }
        let ev = NoteEvent::<()>::from_midi(0, &[0xc0, 3]).unwrap();
        assert_eq!(to_midi(&ev), Some(MidiEvent::ProgramChange { program: 3 }));
    }

    #[test]
    fn note_expressions_reach_their_key() {
        use nice_plug::midi::{Channel, Key, VoiceID};
        let (voice_id, channel, key) = (VoiceID::ID(7), Channel::Number(0), Key::Number(64));
        let tuning = NoteEvent::<()>::PolyTuning { timing: 0, voice_id, channel, key, tuning: 0.25 };
        assert_eq!(to_expression(&tuning), Some((64, NoteExpression::Tuning(0.25))));
        let gain = NoteEvent::<()>::PolyVolume { timing: 0, voice_id, channel, key, gain: 0.5 };
        assert_eq!(to_expression(&gain), Some((64, NoteExpression::Volume(0.5))));
        let wild =
            NoteEvent::<()>::PolyBrightness { timing: 0, voice_id, channel, key: Key::Wildcard, brightness: 1.0 };
        assert_eq!(to_expression(&wild), None);
        assert_eq!(to_expression(&NoteEvent::<()>::NoteOn { timing: 0, voice_id, channel, key, velocity: 1.0 }), None);
    }
}
