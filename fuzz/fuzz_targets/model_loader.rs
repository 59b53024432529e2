//! `Model::from_bytes` on arbitrary bytes: Ok or a typed error, never a panic or a huge
//! allocation. A model that loads must also be safe to play: it is prepared for and installed
//! into a synth, which renders a few control frames of a note whose output must be finite and
//! within the engine's output bound.
#![no_main]

use std::path::Path;
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use rosin_core::synth::PreparedModel;
use rosin_core::{MidiEvent, Model, PerformanceSettings, Synth};
use rosin_fuzz::{assert_output_ok, fixture_model};

fuzz_target!(|data: &[u8]| {
    let Ok(model) = Model::from_bytes(data, Path::new("fuzz.safetensors")) else {
        return;
    };
    let model = Arc::new(model);
    let rate = 48_000.0;
    let settings = PerformanceSettings { max_voices: 2, ..PerformanceSettings::default() };
    // Once as the synth's own model, once swapped in over another one, as the plug-in does.
    let mut direct = Synth::new(model.clone(), settings.clone(), rate);
    let mut swapped = Synth::new(fixture_model(), settings, rate);
    let prepared = PreparedModel::new(model.clone(), rate, swapped.voice_slots());
    let old = swapped.install_model(prepared);
    assert!(Arc::ptr_eq(swapped.model(), &model), "a matching preparation must be installed");
    drop(old);
    let mut out = vec![0.0f32; 1024];
    for synth in [&mut direct, &mut swapped] {
        synth.handle_event(MidiEvent::NoteOn { key: 60, velocity: 100 });
        synth.handle_event(MidiEvent::NoteOn { key: 67, velocity: 30 });
        // 4096 samples: about 21 control frames at 48 kHz.
        for i in 0..4 {
            if i == 2 {
                synth.handle_event(MidiEvent::NoteOff { key: 60, velocity: 64 });
            }
            synth.process(&mut out);
            assert_output_ok(&out, "loaded model");
        }
    }
});
