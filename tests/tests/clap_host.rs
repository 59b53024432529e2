//! Hosts the bundled `Rosin.clap` with clack-host: instantiate, activate at several sample
//! rates and block sizes, play notes / CCs / keyswitches / program changes / bend, and check
//! the output is finite, non-silent, and bit-identical to what `rosin_core::Synth` renders for
//! the same events (output gain 0 dB), placed in the section's seat and the hall by
//! `rosin_core::stage::LiveStage`; offline render mode gives the same; state saves and
//! restores; the placement and room parameters and CC10 act.
//!
//! Needs the bundle: `cargo xtask bundle rosin --release` first (scripts/test-plugin.sh does),
//! or `ROSIN_CLAP=/path/to/Rosin.clap`. Without it the tests only say so, unless
//! `ROSIN_REQUIRE_PLUGIN_BUILDS=1` (set by scripts/test-plugin.sh), which makes them fail.

fn bundled() -> bool {
    plugin_build_present(&bundle_path(), "cargo xtask bundle rosin --release")
}

use clack_extensions::latency::PluginLatency;
use clack_extensions::state::PluginState;
use clack_host::prelude::*;
use rosin_core::performance::PerformanceSettings;
use rosin_core::room::RoomSettings;
use rosin_core::stage::{pan_gains, seat, LiveStage};
use rosin_core::{MidiEvent, Model, Section, Synth};
use std::sync::Arc;

use clack_host::events::event_types::{MidiEvent as ClapMidiEvent, ParamValueEvent};
use common::{
    bundle_path, instantiate, load_entry, load_state, param_id, plugin_build_present, render_events, render_with,
    save_state, TestHost,
};
use rosin_tests::host as common;

/// The model the plugin plays by default: embedded violins, or silence while this build embeds
/// no trained model (the same rule as `rosin::model_source::embedded_model`).
fn default_model() -> Model {
    match rosin_core::library::embedded("violins") {
        Some(m) => m.expect("embedded violins model is valid"),
        None => Model::silent(),
    }
}

/// A performance: raw MIDI at sample positions (sorted). Keyswitches (C#0 = 13 short,
/// D#0 = 15 pizzicato, C0 = 12 sustain), UACC CC32, program change, CC1/11/21/20, bend, pedal.
fn performance(sample_rate: f32) -> (Vec<(usize, [u8; 3])>, usize) {
    let s = |sec: f32| (sec * sample_rate) as usize;
    let mut ev = vec![
        (0, [0xB0, 1, 70]),
        (0, [0x90, 60, 100]),
        (s(0.05), [0x90, 64, 90]),
        (s(0.10), [0xB0, 11, 100]),
        (s(0.15), [0xB0, 21, 90]),
        (s(0.18), [0xB0, 20, 30]),
        (s(0.20), [0xE0, 0x00, 0x50]),
        (s(0.25), [0x80, 60, 0]),
        (s(0.27), [0x90, 13, 100]), // keyswitch: short
        (s(0.27) + 1, [0x80, 13, 0]),
        (s(0.30), [0x90, 67, 110]),
        (s(0.34), [0x80, 67, 0]),
        (s(0.36), [0xB0, 32, 56]), // UACC: pizzicato
        (s(0.38), [0x90, 55, 80]),
        (s(0.40), [0x80, 55, 0]),
        (s(0.42), [0xC0, 2, 0]), // program: tremolo
        (s(0.43), [0xB0, 64, 127]),
        (s(0.44), [0x90, 72, 100]),
        (s(0.50), [0x80, 72, 0]),
        (s(0.55), [0xB0, 64, 0]),
        (s(0.56), [0x90, 12, 64]), // keyswitch: sustain
        (s(0.56), [0x80, 12, 0]),
        (s(0.57), [0xE0, 0x00, 0x40]),
        (s(0.58), [0x90, 48, 127]),
        (s(0.60), [0xB0, 1, 20]),
        (s(0.70), [0xB0, 1, 120]),
        (s(0.80), [0x80, 48, 0]),
        (s(0.80), [0x80, 64, 0]),
    ];
    ev.sort_by_key(|e| e.0);
    (ev, s(1.2))
}

/// What the engine renders for the performance, in one go.
fn reference(sample_rate: f32) -> Vec<f32> {
    reference_with(default_model(), sample_rate)
}

fn reference_with(model: Model, sample_rate: f32) -> Vec<f32> {
    let (events, len) = performance(sample_rate);
    let mut synth = Synth::new(Arc::new(model), PerformanceSettings::default(), sample_rate);
    let events: Vec<(usize, MidiEvent)> =
        events.iter().filter_map(|(t, b)| MidiEvent::from_bytes(b[0], b[1], b[2]).map(|e| (*t, e))).collect();
    let mut out = vec![0.0; len];
    synth.process_with_events(&mut out, &events);
    out
}

/// The engine's mono output as the plugin plays it by default: in `section`'s seat, in the
/// default hall.
fn on_stage(mono: &[f32], section: Section, sample_rate: f32) -> (Vec<f32>, Vec<f32>) {
    let mut stage = LiveStage::new(seat(section), RoomSettings::default(), sample_rate);
    let (mut left, mut right) = (mono.to_vec(), vec![0.0; mono.len()]);
    stage.place(&mut left, &mut right);
    stage.add_room(&mut left, &mut right);
    (left, right)
}

fn render(
    plugin: &mut PluginInstance<TestHost>,
    sample_rate: f32,
    blocks: &[usize],
    offline: bool,
) -> (Vec<f32>, Vec<f32>) {
    let (events, len) = performance(sample_rate);
    render_events(plugin, sample_rate, blocks, offline, &events, len)
}

fn assert_plays(left: &[f32], right: &[f32], reference: &(Vec<f32>, Vec<f32>), what: &str) {
    assert!(left.iter().chain(right).all(|s| s.is_finite()), "{what}: non-finite output");
    let peak = left.iter().chain(right).fold(0.0f32, |m, s| m.max(s.abs()));
    assert!(peak > 1e-3, "{what}: silent (peak {peak})");
    for (channel, (out, expected)) in [(left, &reference.0), (right, &reference.1)].into_iter().enumerate() {
        if let Some(i) = out.iter().zip(expected).position(|(a, b)| a.to_bits() != b.to_bits()) {
            panic!(
                "{what}: channel {channel} differs from the engine on stage from sample {i}: plugin {} expected {}",
                out[i], expected[i]
            );
        }
    }
}

/// [`reference`] on the default stage.
fn reference_on_stage(sample_rate: f32) -> (Vec<f32>, Vec<f32>) {
    on_stage(&reference(sample_rate), Section::Violins, sample_rate)
}

#[test]
fn renders_what_the_engine_renders_at_every_rate_and_block_size() {
    if !bundled() {
        return;
    }
    let entry = load_entry();
    let mut plugin = instantiate(&entry);
    let latency = plugin.plugin_handle().get_extension::<PluginLatency>();
    for sample_rate in [44_100.0f32, 48_000.0] {
        let expected = reference_on_stage(sample_rate);
        for blocks in [&[512usize][..], &[64], &[4096], &[1, 7, 128, 333, 2048, 5, 1024]] {
            let (l, r) = render(&mut plugin, sample_rate, blocks, false);
            assert_plays(&l, &r, &expected, &format!("{sample_rate} Hz, blocks {blocks:?}"));
        }
        if let Some(latency) = &latency {
            assert_eq!(latency.get(&plugin.plugin_handle()), 0, "latency");
        }
        let (l, r) = render(&mut plugin, sample_rate, &[256], true);
        assert_plays(&l, &r, &expected, &format!("{sample_rate} Hz offline"));
    }
}

#[test]
fn state_round_trips() {
    if !bundled() {
        return;
    }
    let entry = load_entry();
    let mut a = instantiate(&entry);
    let state_ext = a.plugin_handle().get_extension::<PluginState>().expect("state extension");
    let mut saved = Vec::new();
    state_ext.save(&a.plugin_handle(), &mut saved).expect("save");
    let text = String::from_utf8_lossy(&saved).to_string();
    assert!(text.contains("state-version"), "state has no version: {text}");
    assert!(text.contains("violins"), "state has no model identity: {text}");

    let mut b = instantiate(&entry);
    let state_b = b.plugin_handle().get_extension::<PluginState>().unwrap();
    state_b.load(&b.plugin_handle(), &mut saved.as_slice()).expect("load");
    let mut again = Vec::new();
    state_b.save(&b.plugin_handle(), &mut again).expect("save again");
    assert_eq!(String::from_utf8_lossy(&again), text, "state changed in a round trip");

    // The restored instance still plays exactly what the engine plays.
    let (l, r) = render(&mut b, 48_000.0, &[480], false);
    assert_plays(&l, &r, &reference_on_stage(48_000.0), "restored instance");
}

#[test]
fn old_state_without_version_or_model_loads() {
    if !bundled() {
        return;
    }
    let entry = load_entry();
    let mut a = instantiate(&entry);
    let ext = a.plugin_handle().get_extension::<PluginState>().unwrap();
    let mut saved = Vec::new();
    ext.save(&a.plugin_handle(), &mut saved).unwrap();
    // A version-0 state: no "state-version" and no "model" field.
    // nice-plug's CLAP state: a little-endian u64 length, then JSON.
    let mut json: serde_json::Value = serde_json::from_slice(&saved[8..]).expect("state is JSON");
    let fields = json.get_mut("fields").and_then(|f| f.as_object_mut()).expect("fields");
    fields.remove("state-version");
    fields.remove("model");
    let body = serde_json::to_vec(&json).unwrap();
    let mut old = (body.len() as u64).to_le_bytes().to_vec();
    old.extend_from_slice(&body);
    let mut b = instantiate(&entry);
    let ext_b = b.plugin_handle().get_extension::<PluginState>().unwrap();
    ext_b.load(&b.plugin_handle(), &mut old.as_slice()).expect("old state loads");
    let mut migrated = Vec::new();
    ext_b.save(&b.plugin_handle(), &mut migrated).unwrap();
    let text = String::from_utf8_lossy(&migrated);
    assert!(text.contains("state-version") && text.contains("violins"), "not migrated: {text}");
}

fn with_model_record(state: &serde_json::Value, record: serde_json::Value) -> serde_json::Value {
    let mut state = state.clone();
    // nice-plug keeps each persisted field as a JSON string.
    state["fields"]["model"] = serde_json::Value::String(record.to_string());
    state
}

#[test]
fn a_bad_model_file_in_the_state_leaves_the_section_model_playing() {
    if !bundled() {
        return;
    }
    let entry = load_entry();
    let dir = std::env::temp_dir().join(format!("rosin-clap-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let corrupt = dir.join("corrupt.safetensors");
    std::fs::write(&corrupt, b"this is not a model").unwrap();
    for path in [dir.join("missing.safetensors"), corrupt] {
        let mut plugin = instantiate(&entry);
        let state = save_state(&mut plugin);
        let record = serde_json::json!({"source": {"kind": "file", "path": path}, "section": "violins"});
        load_state(&mut plugin, &with_model_record(&state, record));
        let (l, r) = render(&mut plugin, 48_000.0, &[480], false);
        assert_plays(&l, &r, &reference_on_stage(48_000.0), &format!("bad model file {}", path.display()));
        // The project keeps asking for the file (it may come back), the violins play meanwhile.
        let saved = save_state(&mut plugin).to_string();
        assert!(saved.contains(path.file_name().unwrap().to_str().unwrap()), "{saved}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A host restores a project and starts at once (an offline bounce): the model the state names
/// plays from the very first sample, at the constructed rate and at another (the state's model
/// is parsed and prepared while the state loads, not by activation, and not later).
#[test]
fn a_restored_model_plays_from_the_first_sample() {
    if !bundled() {
        return;
    }
    let entry = load_entry();
    for (name, sample_rate) in [("celli", 48_000.0), ("basses", 44_100.0)] {
        let Some(model) = rosin_core::library::embedded(name) else { continue };
        let mut plugin = instantiate(&entry);
        let state = save_state(&mut plugin);
        let record = serde_json::json!({"source": {"kind": "embedded", "name": name}, "section": "violins"});
        load_state(&mut plugin, &with_model_record(&state, record));
        let (l, r) = render(&mut plugin, sample_rate, &[512], true);
        assert_plays(
            &l,
            &r,
            &on_stage(&reference_with(model.unwrap(), sample_rate), Section::Violins, sample_rate),
            &format!("restored {name} at {sample_rate} Hz"),
        );
    }
}

/// Performance parameters moved away from their defaults survive "reset all controllers"
/// (CC121, which hosts send on transport start): after it the engine plays them, exactly as an
/// engine whose controllers were set to them.
#[test]
fn parameters_survive_reset_all_controllers() {
    if !bundled() {
        return;
    }
    let entry = load_entry();
    let mut plugin = instantiate(&entry);
    // nice-plug's CLAP values of continuous parameters are normalised: 0.75 of 3.5..8 Hz.
    let ids: Vec<(ClapId, f64)> =
        [("Dynamic", 0.8), ("Expression", 0.7), ("Vibrato depth", 0.6), ("Vibrato rate", 0.75)]
            .iter()
            .map(|(name, value)| (param_id(&mut plugin, name), *value))
            .collect();
    let sample_rate = 48_000.0;
    let len = 24_000;
    let (l, r) = render_with(&mut plugin, sample_rate, &[480], false, len, |pos, _, events, _| {
        if pos == 0 {
            for &(id, value) in &ids {
                events.push(&ParamValueEvent::new(0, id, Pckn::match_all(), value));
            }
            events.push(&ClapMidiEvent::new(10, 0, [0xB0, 121, 0]));
            events.push(&ClapMidiEvent::new(100, 0, [0x90, 64, 90]));
        }
    });
    let settings = PerformanceSettings {
        default_vibrato_depth: (0.6f32 * 127.0).round() as u8,
        default_vibrato_rate: {
            let (lo, hi) = PerformanceSettings::VIBRATO_RATE_RANGE_HZ;
            PerformanceSettings::vibrato_rate_cc(lo + 0.75 * (hi - lo)).round() as u8
        },
        ..Default::default()
    };
    let mut synth = Synth::new(Arc::new(default_model()), settings, sample_rate);
    let mut expected = vec![0.0; len];
    // The parameters set the controllers at sample 0 and again right after the reset.
    for (from, to) in [(0, 10), (10, len)] {
        if from == 10 {
            synth.handle_event(MidiEvent::ControlChange { cc: 121, value: 0 });
        }
        synth.set_dynamic(Some(0.8));
        synth.set_expression(0.7);
        synth.process_with_events(
            &mut expected[from..to],
            &[(100 - from.min(100), MidiEvent::NoteOn { key: 64, velocity: 90 })][..usize::from(from == 10)],
        );
    }
    assert_plays(&l, &r, &on_stage(&expected, Section::Violins, sample_rate), "after CC121");
}

/// Largest sample-to-sample step in a stretch of audio (a click shows as an outlier).
fn max_step(x: &[f32]) -> f32 {
    x.windows(2).map(|w| (w[1] - w[0]).abs()).fold(0.0, f32::max)
}

#[test]
fn changing_section_swaps_the_model_while_notes_sound() {
    if !bundled() {
        return;
    }
    let entry = load_entry();
    let mut plugin = instantiate(&entry);
    let section = param_id(&mut plugin, "Section");
    let sample_rate = 48_000.0;
    let len = (3.0 * sample_rate) as usize;
    let change_at = (1.0 * sample_rate) as usize;
    let (l, r) = render_with(&mut plugin, sample_rate, &[480], false, len, |pos, n, events, _| {
        if pos == 0 {
            events.push(&ClapMidiEvent::new(0, 0, [0xB0, 1, 90]));
            events.push(&ClapMidiEvent::new(0, 0, [0x90, 57, 100]));
            events.push(&ClapMidiEvent::new(0, 0, [0x90, 64, 100]));
        }
        if (pos..pos + n).contains(&change_at) {
            // Violas (index 1).
            events.push(&ParamValueEvent::new((change_at - pos) as u32, section, Pckn::match_all(), 1.0));
        }
        if pos >= change_at {
            // Give the loader thread real time to load and hand the model over mid-note.
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    });
    assert!(l.iter().chain(&r).all(|s| s.is_finite()));
    // Up to the change the plugin plays what the engine plays; after it, the new model (its
    // networks restart) makes it differ: the swap happened on the audio thread, mid-note.
    let mut synth = Synth::new(Arc::new(default_model()), PerformanceSettings::default(), sample_rate);
    let mut unswapped = vec![0.0; len];
    let ev = [(0, [0xB0u8, 1, 90]), (0, [0x90, 57, 100]), (0, [0x90, 64, 100])];
    let ev: Vec<(usize, MidiEvent)> =
        ev.iter().map(|(t, b)| (*t, MidiEvent::from_bytes(b[0], b[1], b[2]).unwrap())).collect();
    synth.process_with_events(&mut unswapped, &ev);
    let (unswapped, _) = on_stage(&unswapped, Section::Violins, sample_rate);
    assert!(l[..change_at].iter().zip(&unswapped).all(|(a, b)| a.to_bits() == b.to_bits()), "differs before the swap");
    assert!(l[change_at..].iter().zip(&unswapped[change_at..]).any(|(a, b)| a != b), "the model was never swapped in");
    let state = save_state(&mut plugin).to_string();
    assert!(state.contains("violas"), "the section change did not reach the model record: {state}");
    let settle = (0.3 * sample_rate) as usize;
    let before = max_step(&l[settle..change_at]);
    let after = max_step(&l[change_at..]);
    let tail_peak = l[len - settle..].iter().fold(0.0f32, |m, s| m.max(s.abs()));
    assert!(tail_peak > 1e-3, "the held notes stopped after the swap");
    assert!(after < 2.0 * before + 1e-3, "click at the swap: step {after} after vs {before} before");
}

/// Placement "Pan" at the centre with the room off plays the engine's output at the pan law's
/// centre gain in both channels, exactly; a CC10 then moves the section to the left within the
/// 10 ms glide; the seat and the room are what the defaults play.
#[test]
fn pan_room_and_cc10_act() {
    if !bundled() {
        return;
    }
    let entry = load_entry();
    let mut plugin = instantiate(&entry);
    let ids: Vec<(ClapId, f64)> = [("Placement", 1.0), ("Pan", 0.5), ("Room", 0.0)]
        .iter()
        .map(|(name, value)| (param_id(&mut plugin, name), *value))
        .collect();
    let sample_rate = 48_000.0;
    let (events, len) = performance(sample_rate);
    let cc10_at = (0.6 * sample_rate) as usize;
    let (l, r) = render_with(&mut plugin, sample_rate, &[480], false, len, |pos, n, out, _| {
        if pos == 0 {
            for &(id, value) in &ids {
                out.push(&ParamValueEvent::new(0, id, Pckn::match_all(), value));
            }
        }
        for (t, bytes) in events.iter().filter(|(t, _)| (pos..pos + n).contains(t)) {
            out.push(&ClapMidiEvent::new((t - pos) as u32, 0, *bytes));
        }
        if (pos..pos + n).contains(&cc10_at) {
            out.push(&ClapMidiEvent::new((cc10_at - pos) as u32, 0, [0xB0, 10, 0]));
        }
    });
    let mono = reference(sample_rate);
    let (centre, _) = pan_gains(0.0);
    let same = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits());
    // The parameters arrive with the first block: the section glides from its seat to the
    // centre over the first 10 ms.
    let settled = (0.010 * sample_rate) as usize;
    let expected: Vec<f32> = mono[settled..cc10_at].iter().map(|x| x * centre).collect();
    let energy = |x: &[f32]| x.iter().map(|v| v * v).sum::<f32>();
    assert!(energy(&l[..200]) > 1.5 * energy(&r[..200]), "starts from the violins' seat, left of centre");
    assert!(
        same(&l[settled..cc10_at], &expected) && same(&r[settled..cc10_at], &expected),
        "centre, dry: the engine at -3 dB"
    );
    let after = cc10_at + (0.011 * sample_rate) as usize;
    let right_peak = r[after..].iter().fold(0.0f32, |m, s| m.max(s.abs()));
    let left_peak = l[after..].iter().fold(0.0f32, |m, s| m.max(s.abs()));
    assert!(left_peak > 1e-3 && right_peak < 1e-6, "CC10 0 is hard left: left {left_peak}, right {right_peak}");
    assert!(same(&l[after..], &mono[after..]), "hard left is the engine's output at unity");
}
