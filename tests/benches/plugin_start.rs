//! How long a host waits for Rosin: instantiate + activate + the first processed block (a
//! note-on at sample 0, 512 samples at 48 kHz), through the real CLAP bundle and clack-host.
//! Goal: at most 100 ms. A benchmark, not a test:
//!   cargo xtask bundle rosin --release && cargo bench -p rosin-tests --bench plugin_start
//! Prints the median and the worst of the runs, each phase separately. The library itself is
//! loaded once (as a host does when it scans); the first run includes the first-use costs.

use rosin_tests::host as common;

use clack_host::events::event_types::MidiEvent as ClapMidiEvent;
use clack_host::prelude::*;
use std::time::Instant;

const RUNS: usize = 20;

fn main() {
    let bundle = common::bundle_path();
    if !bundle.exists() {
        eprintln!("{} is missing: run `cargo xtask bundle rosin --release` first", bundle.display());
        std::process::exit(1);
    }
    let t = Instant::now();
    let entry = common::load_entry();
    let load_ms = t.elapsed().as_secs_f64() * 1e3;

    let mut phases: Vec<[f64; 4]> = Vec::new();
    for _ in 0..RUNS {
        let t0 = Instant::now();
        let mut plugin = common::instantiate(&entry);
        let t1 = Instant::now();
        let config = PluginAudioConfiguration { sample_rate: 48_000.0, min_frames_count: 1, max_frames_count: 512 };
        let processor = plugin.activate(|_, _| (), config).expect("activate");
        let mut processor = processor.start_processing().expect("start processing");
        let t2 = Instant::now();

        let mut left = vec![0.0f32; 512];
        let mut right = vec![0.0f32; 512];
        let mut ports = AudioPorts::with_capacity(2, 1);
        let mut in_events = EventBuffer::with_capacity(4);
        in_events.push(&ClapMidiEvent::new(0, 0, [0x90, 69, 100]));
        let mut out_events = EventBuffer::new();
        let mut output = ports.with_output_buffers([AudioPortBuffer {
            latency: 0,
            channels: AudioPortBufferType::f32_output_only([&mut left[..], &mut right[..]].into_iter()),
        }]);
        processor
            .process(
                &InputAudioBuffers::empty(),
                &mut output,
                &in_events.as_input(),
                &mut out_events.as_output(),
                Some(0),
                None,
            )
            .expect("process");
        let t3 = Instant::now();
        assert!(left.iter().any(|s| s.abs() > 0.0), "the first block is silent");
        let processor = processor.stop_processing();
        plugin.deactivate(processor);
        drop(plugin);
        let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1e3;
        phases.push([ms(t0, t1), ms(t1, t2), ms(t2, t3), ms(t0, t3)]);
    }
    println!("plugin_start: {} ({RUNS} runs; library load {load_ms:.1} ms, once)", bundle.display());
    for (i, name) in ["instantiate", "activate", "first block", "total"].iter().enumerate() {
        let mut v: Vec<f64> = phases.iter().map(|p| p[i]).collect();
        v.sort_by(f64::total_cmp);
        println!(
            "  {name:<12} median {:>7.2} ms   worst {:>7.2} ms   first run {:>7.2} ms",
            v[v.len() / 2],
            v[v.len() - 1],
            phases[0][i]
        );
    }
    let worst = phases.iter().map(|p| p[3]).fold(0.0, f64::max);
    println!("instantiate + activate + first block: worst {worst:.1} ms (goal <= 100 ms)");
}
