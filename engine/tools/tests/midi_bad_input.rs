//! MIDI files as they come from the wild: running status, sysex, zero tempo, overlapping and
//! unterminated notes. Each is either read correctly or refused with an error naming the file;
//! none makes a render hang, ring for ever or panic.

use rosin_core::library::Library;
use rosin_core::MidiEvent;
use rosin_tools::render::midi_file::parse_midi_bytes;
use rosin_tools::render::{self, RenderOptions};
use std::path::Path;
use std::sync::atomic::AtomicU64;

/// A type-0 file, 480 ticks per quarter (120 bpm: 960 ticks per second), from raw track bytes.
fn smf(track: &[u8]) -> Vec<u8> {
    let mut f = b"MThd\0\0\0\x06\0\0\0\x01\x01\xe0MTrk".to_vec();
    f.extend_from_slice(&(track.len() as u32).to_be_bytes());
    f.extend_from_slice(track);
    f
}

fn events(bytes: &[u8]) -> Vec<(f64, MidiEvent)> {
    let song = parse_midi_bytes(bytes, Path::new("wild.mid")).expect("parses");
    song.tracks.iter().flat_map(|t| t.events.iter().map(|e| (e.time_s, e.event))).collect()
}

/// Renders the file with the embedded violins; returns (stem length in seconds, song end).
fn render_len(bytes: &[u8]) -> (f64, f64) {
    let song = parse_midi_bytes(bytes, Path::new("wild.mid")).expect("parses");
    let lib = Library::embedded().unwrap();
    let opts = RenderOptions { default_section: Some("violins".into()), ..Default::default() };
    let plans = render::plan_tracks(&song, Path::new("wild.mid"), &lib, &opts).expect("plans");
    let stems = render::render_song(&plans, &song, &opts, &AtomicU64::new(0));
    assert!(stems.iter().all(|s| s.audio.iter().all(|x| x.is_finite())));
    (stems[0].audio.len() as f64 / opts.sample_rate as f64, song.duration_s)
}

#[test]
fn running_status_is_read() {
    // Note-on C4, then (running status) note-on E4, then velocity-0 "note-offs" for both.
    let track = [
        0x00, 0x90, 60, 100, // note on
        0x00, 64, 90, // running status: note on E4
        0x83, 0x60, 60, 0, // 480 ticks later: C4 off (velocity 0)
        0x00, 64, 0, // E4 off
        0x00, 0xFF, 0x2F, 0x00,
    ];
    let ev = events(&smf(&track));
    assert_eq!(ev.len(), 4, "{ev:?}");
    assert_eq!(ev[1], (0.0, MidiEvent::NoteOn { key: 64, velocity: 90 }));
    assert!((ev[2].0 - 0.5).abs() < 1e-9);
    assert!(matches!(ev[3].1, MidiEvent::NoteOff { key: 64, .. }));
}

#[test]
fn sysex_and_escape_packets_are_skipped() {
    let track = [
        0x00, 0xF0, 0x05, 0x7E, 0x7F, 0x09, 0x01, 0xF7, // GM reset sysex
        0x00, 0x90, 60, 100, //
        0x60, 0xF7, 0x02, 0x01, 0x02, // an escape / continuation packet
        0x60, 0x80, 60, 0, //
        0x00, 0xFF, 0x2F, 0x00,
    ];
    let ev = events(&smf(&track));
    assert_eq!(ev.len(), 2, "sysex must not become events: {ev:?}");
    assert_eq!(ev[0].1, MidiEvent::NoteOn { key: 60, velocity: 100 });
}

#[test]
fn zero_tempo_is_an_error_naming_the_file() {
    let track = [0x00, 0xFF, 0x51, 0x03, 0, 0, 0, 0x00, 0x90, 60, 100, 0x60, 0x80, 60, 0, 0x00, 0xFF, 0x2F, 0x00];
    let err = parse_midi_bytes(&smf(&track), Path::new("zero-tempo.mid")).expect_err("a zero tempo is refused");
    let text = err.to_string();
    assert!(text.contains("zero-tempo.mid") && text.contains("tempo"), "{text}");
}

#[test]
fn overlapping_notes_on_one_key_render_and_end() {
    // C4 on twice without an off between, then one off: the render ends within the release.
    let track = [
        0x00, 0x90, 60, 100, //
        0x83, 0x60, 0x90, 60, 80, // 0.5 s: C4 again
        0x83, 0x60, 0x80, 60, 0, // 1 s: one off
        0x00, 0xFF, 0x2F, 0x00,
    ];
    let (len, end) = render_len(&smf(&track));
    assert!((end - 1.0).abs() < 1e-9);
    assert!(len < end + 1.0, "overlapping notes rang {len:.2} s for a {end:.2} s song");
}

#[test]
fn unterminated_notes_are_released_at_the_end_of_the_song() {
    // C4 and E4 never end; a controller at 2 s is the last event. The render must not ring
    // to the 8 s tail limit.
    let track = [
        0x00, 0x90, 60, 100, //
        0x00, 0x90, 64, 100, //
        0x8F, 0x00, 0xB0, 11, 100, // 1920 ticks = 2 s
        0x00, 0xFF, 0x2F, 0x00,
    ];
    let (len, end) = render_len(&smf(&track));
    assert!((end - 2.0).abs() < 1e-9);
    assert!(len > end, "the release after the end must be rendered");
    assert!(len < end + 1.0, "unterminated notes rang {len:.2} s for a {end:.2} s song");
}
