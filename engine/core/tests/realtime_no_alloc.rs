//! After construction, the synthesizer never allocates: not for notes, controllers, voice
//! stealing, legato or the noise generator. A counting global allocator proves it.

use rosin_core::model::fixture;
use rosin_core::{MidiEvent, PerformanceSettings, Synth, VoiceMode};
use rosin_testkit::alloc_count::{counted, CountingAllocator};
use std::sync::Arc;

#[global_allocator]
static A: CountingAllocator = CountingAllocator;

#[test]
fn no_allocation_while_playing() {
    // Events are built before counting starts, so only the synthesizer is counted.
    let n_poly = storm_prebuilt(VoiceMode::Poly);
    let n_mono = storm_prebuilt(VoiceMode::MonoLegato);
    assert_eq!(n_poly, 0, "allocations on the audio path (poly)");
    assert_eq!(n_mono, 0, "allocations on the audio path (mono legato)");
}

fn storm_prebuilt(mode: VoiceMode) -> usize {
    let model = Arc::new(fixture::fixed_spectrum_model(32, 64, 64, 1));
    let settings = PerformanceSettings { voice_mode: mode, max_voices: 8, ..Default::default() };
    let mut synth = Synth::new(model, settings, 48_000.0);
    let mut rng = rosin_core::rng::XorShift32::new(12345);
    let mut next = move || rng.next_u32();
    let blocks: Vec<(usize, Vec<(usize, MidiEvent)>)> = (0..600)
        .map(|block| {
            let len = 1 + (next() as usize % 1024);
            let mut events: Vec<(usize, MidiEvent)> = (0..(next() % 6))
                .map(|_| {
                    let at = next() as usize % len;
                    let ev = match next() % 8 {
                        0..=2 => {
                            MidiEvent::NoteOn { key: 12 + (next() % 90) as u8, velocity: 1 + (next() % 127) as u8 }
                        }
                        3 | 4 => MidiEvent::NoteOff { key: 12 + (next() % 90) as u8, velocity: 0 },
                        5 => MidiEvent::ControlChange {
                            cc: [1, 11, 20, 21, 32, 64][next() as usize % 6],
                            value: (next() % 128) as u8,
                        },
                        6 => MidiEvent::PitchBend { value: (next() % 16384) as i16 - 8192 },
                        _ if block % 97 == 0 => MidiEvent::ControlChange { cc: 120, value: 0 },
                        _ => MidiEvent::ProgramChange { program: (next() % 5) as u8 },
                    };
                    (at, ev)
                })
                .collect();
            events.sort_by_key(|e| e.0);
            (len, events)
        })
        .collect();
    let mut buf = vec![0.0f32; 1024];
    let mut max_voices = 0;
    let (allocations, ()) = counted(|| {
        for (len, events) in &blocks {
            synth.process_with_events(&mut buf[..*len], events);
            max_voices = max_voices.max(synth.active_voices());
        }
    });
    assert!(buf.iter().all(|s| s.is_finite()));
    assert!(max_voices >= 8, "the storm should fill every voice, got {max_voices}");
    allocations
}

#[test]
fn the_room_allocates_nothing_while_processing_or_resetting() {
    use rosin_core::room::{Room, RoomSettings};
    let mut room = Room::new(RoomSettings::default(), 48_000.0);
    let (mut left, mut right) = (vec![0.0f32; 4096], vec![0.0f32; 4096]);
    left[0] = 1.0;
    let (allocations, _) = counted(|| {
        for len in [1usize, 64, 4096, 333, 2048] {
            room.process(&mut left[..len], &mut right[..len]);
        }
        room.reset();
        room.process(&mut left, &mut right);
    });
    assert_eq!(allocations, 0);
}
