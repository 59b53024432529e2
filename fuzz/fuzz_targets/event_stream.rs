//! Arbitrary MIDI event streams into the real-time synth (embedded violins model): arbitrary
//! event values (raw channel messages decoded like a host's, and `MidiEvent`s built directly with
//! any field values), arbitrary sample offsets inside each block, block sizes 1..=8192, sample
//! rates 22.05..192 kHz, poly or mono-legato, 1..=16 voices; at most 48 000 samples per input.
//!
//! Checks: every output sample finite and within the documented bound (`OUTPUT_LIMIT`, +24
//! dBFS); then all-notes-off (CC123) plus the release time leaves no voice sounding, and
//! all-sound-off (CC120) plus a few milliseconds of fade does too.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use rosin_core::{MidiEvent, PerformanceSettings, Synth, VoiceMode};
use rosin_fuzz::{assert_output_ok, default_model};

const RATES: [u32; 5] = [22_050, 44_100, 48_000, 96_000, 192_000];
const MAX_TOTAL_SAMPLES: usize = 48_000;
const MAX_BLOCK: usize = 8192;

#[derive(Debug, Arbitrary)]
enum Event {
    /// A raw channel-voice message, decoded as a host's would be.
    Raw(u8, u8, u8),
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
    PitchBend {
        value: i16,
    },
    ProgramChange {
        program: u8,
    },
}

impl Event {
    fn to_midi(&self) -> Option<MidiEvent> {
        Some(match *self {
            Event::Raw(status, d1, d2) => return MidiEvent::from_bytes(status, d1, d2),
            Event::NoteOn { key, velocity } => MidiEvent::NoteOn { key, velocity },
            Event::NoteOff { key, velocity } => MidiEvent::NoteOff { key, velocity },
            Event::ControlChange { cc, value } => MidiEvent::ControlChange { cc, value },
            Event::PitchBend { value } => MidiEvent::PitchBend { value },
            Event::ProgramChange { program } => MidiEvent::ProgramChange { program },
        })
    }
}

#[derive(Debug, Arbitrary)]
struct Block {
    size: u16,
    events: Vec<(u16, Event)>,
}

#[derive(Debug, Arbitrary)]
struct Input {
    rate: u8,
    mono_legato: bool,
    max_voices: u8,
    /// End with all-sound-off instead of all-notes-off.
    sound_off: bool,
    blocks: Vec<Block>,
}

fuzz_target!(|input: Input| {
    let rate = RATES[usize::from(input.rate) % RATES.len()];
    let settings = PerformanceSettings {
        voice_mode: if input.mono_legato { VoiceMode::MonoLegato } else { VoiceMode::Poly },
        max_voices: 1 + usize::from(input.max_voices) % 16,
        ..PerformanceSettings::default()
    };
    let release_seconds = settings.release_seconds;
    let mut synth = Synth::new(default_model(), settings, rate as f32);
    let mut buf = vec![0.0f32; MAX_BLOCK];
    let mut events: Vec<(usize, MidiEvent)> = Vec::new();
    let mut total = 0;
    for block in &input.blocks {
        let size = (1 + usize::from(block.size) % MAX_BLOCK).min(MAX_TOTAL_SAMPLES - total);
        if size == 0 {
            break;
        }
        events.clear();
        events.extend(block.events.iter().filter_map(|(at, e)| Some((usize::from(*at) % (size + 1), e.to_midi()?))));
        // process_with_events wants events sorted by offset; keep arrival order within one.
        events.sort_by_key(|&(at, _)| at);
        let out = &mut buf[..size];
        synth.process_with_events(out, &events);
        assert_output_ok(out, "event stream");
        total += size;
    }

    // Silence everything and check that every voice becomes free.
    let (cc, seconds) = if input.sound_off {
        // Steal fade (5 ms) plus a few control frames (4 ms each) of slack.
        (120, 0.005 + 0.02)
    } else {
        // Release to -80 dB (RELEASE_END): 80/60 of release_seconds, measured in whole control
        // frames, then the frame in which the voice ends: a few frames (4 ms each) of slack.
        (123, release_seconds * 80.0 / 60.0 + 0.02)
    };
    synth.handle_event(MidiEvent::ControlChange { cc, value: 0 });
    let mut left = (seconds * rate as f32).ceil() as usize;
    while left > 0 {
        let n = left.min(MAX_BLOCK);
        synth.process(&mut buf[..n]);
        assert_output_ok(&buf[..n], "after notes off");
        left -= n;
    }
    assert_eq!(synth.active_voices(), 0, "voices still sounding {seconds} s after CC{cc}");
});
