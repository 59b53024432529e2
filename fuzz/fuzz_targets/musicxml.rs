//! `parse_musicxml_bytes` on arbitrary bytes (plain MusicXML or `.mxl`): Ok or a typed error, never
//! a panic. A song that parses gets its event positions and length computed, and a short one
//! (under 2 s) is rendered through the public render API (`plan_tracks` + `render_track`) with the
//! fixture model, so the whole score -> audio path runs in bounded time.
#![no_main]

use std::path::Path;
use std::sync::atomic::AtomicU64;

use libfuzzer_sys::fuzz_target;
use rosin_core::library::Library;
use rosin_tools::render::musicxml::parse_musicxml_bytes;
use rosin_tools::render::{plan_tracks, render_track, RenderOptions};
use rosin_core::PerformanceSettings;
use rosin_fuzz::{assert_output_ok, fixture_model};

/// Longest song rendered.
const MAX_RENDER_SECONDS: f64 = 2.0;
/// Sample rate of the render (low, to keep executions fast).
const RENDER_RATE: u32 = 22_050;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.musicxml");
    let Ok(song) = parse_musicxml_bytes(data, path, &[]) else {
        return;
    };
    let samples = song.event_samples(48_000);
    let end = song.duration_samples(48_000);
    assert_eq!(samples.len(), song.tracks.len());
    for (track, positions) in song.tracks.iter().zip(&samples) {
        assert_eq!(track.events.len(), positions.len());
        assert!(positions.windows(2).all(|w| w[0] <= w[1]), "event positions go back in time");
        assert!(positions.iter().all(|&p| p <= end), "an event lies after the song's end");
    }
    if !(song.duration_s < MAX_RENDER_SECONDS) {
        return;
    }
    let lib = Library { models: vec![("violins".to_string(), fixture_model())] };
    let opts = RenderOptions {
        sample_rate: RENDER_RATE,
        max_tail_seconds: 0.5,
        settings: PerformanceSettings { max_voices: 16, ..PerformanceSettings::default() },
        default_section: Some("violins".to_string()),
        ..RenderOptions::default()
    };
    let Ok(plans) = plan_tracks(&song, path, &lib, &opts) else {
        return;
    };
    let end = song.duration_samples(RENDER_RATE);
    let tail = (opts.max_tail_seconds * f64::from(RENDER_RATE)) as u64;
    let progress = AtomicU64::new(0);
    for plan in &plans {
        let (audio, _) = render_track(plan, end, &opts, &progress);
        assert!(audio.len() as u64 <= end + tail, "{} samples rendered for a {end}-sample song", audio.len());
        assert_output_ok(&audio, "rendered track");
    }
});
