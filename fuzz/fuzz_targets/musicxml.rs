//! `parse_musicxml_bytes` on arbitrary bytes (plain MusicXML or `.mxl`): Ok or a typed error, never
//! a panic. A song that parses gets its event positions and length computed, and a short one
//! (under 2 s) is rendered through the public render API (`plan_tracks` + `render_track`) with the
//! fixture model, so the whole score -> audio path runs in bounded time.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use rosin_fuzz::check_and_render_song;
use rosin_tools::render::musicxml::parse_musicxml_bytes;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.musicxml");
    if let Ok(song) = parse_musicxml_bytes(data, path, &[]) {
        check_and_render_song(&song, path);
    }
});
