//! The MIDI messages the engine understands, independent of any host or file format.

/// A channel-voice message. Channels are not distinguished: one engine plays one instrument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MidiEvent {
    NoteOn {
        key: u8,
        velocity: u8,
    },
    NoteOff {
        key: u8,
        velocity: u8,
    },
    ControlChange {
        cc: u8,
        value: u8,
    },
    /// 14-bit bend centred on 0: -8192..=8191.
    PitchBend {
        value: i16,
    },
    ProgramChange {
        program: u8,
    },
}

impl MidiEvent {
    /// Decodes a raw channel-voice message (status byte with channel, then data bytes).
    /// A note-on with velocity 0 is a note-off, as the MIDI standard says.
    pub fn from_bytes(status: u8, d1: u8, d2: u8) -> Option<MidiEvent> {
        let (d1, d2) = (d1 & 0x7f, d2 & 0x7f);
        match status & 0xf0 {
            0x80 => Some(MidiEvent::NoteOff { key: d1, velocity: d2 }),
            0x90 if d2 == 0 => Some(MidiEvent::NoteOff { key: d1, velocity: 64 }),
            0x90 => Some(MidiEvent::NoteOn { key: d1, velocity: d2 }),
            0xb0 => Some(MidiEvent::ControlChange { cc: d1, value: d2 }),
            0xc0 => Some(MidiEvent::ProgramChange { program: d1 }),
            0xe0 => Some(MidiEvent::PitchBend { value: ((d2 as i16) << 7 | d1 as i16) - 8192 }),
            _ => None,
        }
    }
}
