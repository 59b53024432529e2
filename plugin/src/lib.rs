//! Rosin as a VST3/CLAP instrument (nice-plug glue; no DSP here).
//!
//! Threads:
//! - audio: [`Rosin::process`] feeds host events into [`rosin_core::Synth`] at their exact
//!   sample positions, applies parameters, installs models handed over by the loader;
//! - loader ([`shared::spawn_loader`]): loads and validates models, prepares them for the
//!   running engine, and drops the ones the audio thread hands back;
//! - GUI ([`editor`]): shows the model card and meter, asks the loader for model files.

pub mod editor;
pub mod events;
pub mod meter;
pub mod model_source;
pub mod params;
pub mod shared;

use crossbeam::channel::Sender;
use nice_plug::prelude::*;
use params::{snap, RosinParams, STATE_VERSION};
use rosin_core::Synth;
use shared::{AudioSide, EngineConfig, LoaderRequest, Shared};
use std::num::NonZeroU32;
use std::sync::atomic::Ordering;
use std::sync::Arc;

pub struct Rosin {
    params: Arc<RosinParams>,
    shared: Arc<Shared>,
    loader: Sender<LoaderRequest>,
    loader_thread: Option<std::thread::JoinHandle<()>>,
    synth: Option<Synth>,
    /// The audio thread's ends of the model hand-off and the meter.
    audio: AudioSide,
    /// Parameter values last applied as channel controllers (they act when they move).
    last: Controls,
    /// Their defaults (computed once: building parameters allocates).
    defaults: Controls,
}

#[derive(Clone, Copy, PartialEq)]
struct Controls {
    dynamic: f32,
    expression: f32,
    vibrato_depth: f32,
    vibrato_rate: f32,
}

impl Controls {
    fn of(p: &RosinParams) -> Self {
        Controls {
            dynamic: snap(p.dynamic.value(), 10_000.0),
            expression: snap(p.expression.value(), 10_000.0),
            vibrato_depth: snap(p.vibrato_depth.value(), 10_000.0),
            vibrato_rate: snap(p.vibrato_rate.value(), 10_000.0),
        }
    }
}

impl Default for Rosin {
    fn default() -> Self {
        let params = Arc::new(RosinParams::default());
        let (shared, audio) = Shared::new();
        let shared = Arc::new(shared);
        let (tx, rx) = shared::channel();
        let loader_thread = shared::spawn_loader(shared.clone(), params.clone(), rx);
        Rosin {
            last: Controls::of(&params),
            defaults: Controls::of(&params),
            params,
            shared,
            loader: tx,
            loader_thread,
            synth: None,
            audio,
        }
    }
}

impl Rosin {
    /// Applies the continuous-control parameters that moved since the last block (or, with
    /// `force`, all that differ from their defaults, e.g. after a reset).
    fn apply_controls(&mut self, force: bool) {
        let Some(synth) = self.synth.as_mut() else { return };
        let now = Controls::of(&self.params);
        let reference = if force { self.defaults } else { self.last };
        if now.dynamic != reference.dynamic {
            synth.set_dynamic(Some(now.dynamic));
        }
        if now.expression != reference.expression {
            synth.set_expression(now.expression);
        }
        if now.vibrato_depth != reference.vibrato_depth {
            synth.set_vibrato_depth(now.vibrato_depth);
        }
        if now.vibrato_rate != reference.vibrato_rate {
            synth.set_vibrato_rate(rosin_core::PerformanceSettings::vibrato_rate_cc(now.vibrato_rate));
        }
        self.last = now;
    }

    /// Installs a model the loader prepared, and hands the replaced one back (lock-free).
    fn receive_model(&mut self) {
        if let Some(synth) = self.synth.as_mut() {
            self.audio.models.receive(synth);
        }
    }
}

impl Drop for Rosin {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::Release);
        if let Some(t) = self.loader_thread.take() {
            let _ = t.join();
        }
    }
}

impl Plugin for Rosin {
    const NAME: &'static str = "Rosin";
    const VENDOR: &'static str = "Rosin";
    const URL: &'static str = "https://example.invalid/rosin";
    const EMAIL: &'static str = "rosin@example.invalid";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[AudioIOLayout {
        main_input_channels: None,
        main_output_channels: NonZeroU32::new(2),
        ..AudioIOLayout::const_default()
    }];

    const MIDI_INPUT: MidiConfig = MidiConfig::MidiCCs;
    const SAMPLE_ACCURATE_AUTOMATION: bool = true;

    type SysExMessage = ();
    type BackgroundTask = ();
    type Editor = editor::RosinEditor;

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    fn editor(&mut self, _async_executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        editor::create(self.params.clone(), self.shared.clone(), self.loader.clone())
    }

    fn filter_state(state: &mut PluginState) {
        // Version 0 (before the field existed) saved no model record: it played the violins.
        let version: u32 = state.fields.get("state-version").and_then(|v| serde_json::from_str(v).ok()).unwrap_or(0);
        if version < 1 && !state.fields.contains_key("model") {
            if let Ok(record) = serde_json::to_string(&model_source::ModelRecord::default()) {
                state.fields.insert("model".into(), record);
            }
        }
        state.fields.insert("state-version".into(), STATE_VERSION.to_string());
    }

    fn activate(
        &mut self,
        _audio_io_layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        context: &mut impl ActivateContext<Self>,
    ) -> bool {
        let shared = self.shared.clone();
        let mut loaded = shared.lock_loaded();
        loaded.engine = None;
        let sample_rate = buffer_config.sample_rate;
        let model = shared.load_for_activation(&self.params, &mut loaded);
        let synth = Synth::new(model, self.params.settings(), sample_rate);
        loaded.engine = Some(EngineConfig { sample_rate, voice_slots: synth.voice_slots() });
        self.synth = Some(synth);
        drop(loaded);
        self.apply_controls(true);
        context.set_latency_samples(0);
        true
    }

    fn reset(&mut self) {
        if let Some(s) = self.synth.as_mut() {
            s.reset();
        }
        self.apply_controls(true);
    }

    fn deactivate(&mut self) {
        self.shared.lock_loaded().engine = None;
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        _aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        self.receive_model();
        self.apply_controls(false);
        let params = self.params.clone();
        let samples = buffer.samples();
        let channels = buffer.as_slice();
        let Some(synth) = self.synth.as_mut() else {
            for c in channels.iter_mut() {
                c.fill(0.0);
            }
            return ProcessStatus::Normal;
        };
        synth.update_settings(|s| params.apply_to(s));

        let (first, rest) = channels.split_at_mut(1);
        let mono = &mut first[0][..samples];
        let mut pos = 0;
        while let Some(event) = context.next_event() {
            let at = (event.timing() as usize).min(samples);
            if at > pos {
                synth.process(&mut mono[pos..at]);
                pos = at;
            }
            if let Some(ev) = events::to_midi(&event) {
                synth.handle_event(ev);
            } else if let Some((key, expression)) = events::to_expression(&event) {
                synth.note_expression(key, expression);
            }
        }
        if pos < samples {
            synth.process(&mut mono[pos..]);
        }

        // Unity gain (within what a normalised round trip can disturb) leaves the engine's
        // output untouched, bit for bit.
        if params.gain.smoothed.is_smoothing() || (params.gain.value() - 1.0).abs() > 1e-6 {
            for s in mono.iter_mut() {
                *s *= params.gain.smoothed.next();
            }
        }
        for c in rest.iter_mut() {
            c[..samples].copy_from_slice(mono);
        }
        self.audio.meter.publish(synth, mono);
        ProcessStatus::Normal
    }
}

impl ClapPlugin for Rosin {
    const CLAP_ID: &'static str = "org.rosin.strings";
    const CLAP_DESCRIPTION: Option<&'static str> = Some("Neural orchestral strings");
    const CLAP_MANUAL_URL: Option<&'static str> = None;
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] =
        &[ClapFeature::Instrument, ClapFeature::Synthesizer, ClapFeature::Stereo];
}

impl Vst3Plugin for Rosin {
    const VST3_CLASS_ID: [u8; 16] = *b"RosinNeuralStrgs";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] = &[Vst3SubCategory::Instrument, Vst3SubCategory::Synth];
}

nice_export_clap!(Rosin);
nice_export_vst3!(Rosin);
