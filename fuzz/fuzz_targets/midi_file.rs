//! `parse_midi_bytes` on arbitrary bytes: Ok or a typed error, never a panic. A song that parses
//! gets its event positions and length computed, and a short one (under 2 s) is rendered through
//! the public render API (`plan_tracks` + `render_track`) with the fixture model, so the whole
//! MIDI file -> audio path runs in bounded time.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use rosin_fuzz::check_and_render_song;
use rosin_tools::render::midi_file::parse_midi_bytes;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.mid");
    if let Ok(song) = parse_midi_bytes(data, path) {
        check_and_render_song(&song, path);
    }
});
