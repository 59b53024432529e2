//! Rosin as a VST3/CLAP instrument (nice-plug glue; no DSP here).
//!
//! Threads:
//! - audio: [`Rosin::process`] feeds host events into [`rosin_core::Synth`] at their exact
//!   sample positions, applies parameters, installs models handed over by the loader;
//!   `activate` and `reset` may run here too (hosts differ), so they parse, load and lock
//!   nothing, and allocate only for a new sample rate;
//! - loader ([`shared::spawn_loader`]): loads and validates models, prepares them for the
//!   running engine, and drops the ones the audio thread hands back;
//! - GUI ([`editor`]): shows the model card and meter, asks the loader for model files (chosen
//!   in a dialog that runs as its own process on a helper thread, [`file_dialog`]).

pub mod editor;
pub mod events;
pub mod file_dialog;
pub mod meter;
pub mod model_source;
pub mod params;
pub mod shared;

use crossbeam::channel::Sender;
use nice_plug::prelude::*;
use params::{snap, RosinParams, STATE_VERSION};
use rosin_core::stage::LiveStage;
use rosin_core::{MidiEvent, Synth};
use shared::{AudioSide, EngineConfig, LoaderRequest, Shared};
use std::num::NonZeroU32;
use std::sync::atomic::Ordering;
use std::sync::Arc;

pub struct Rosin {
    params: Arc<RosinParams>,
    shared: Arc<Shared>,
    loader: Sender<LoaderRequest>,
    loader_thread: Option<std::thread::JoinHandle<()>>,
    /// The engine and the audio thread's ends of the model hand-off and the meter.
    audio: AudioSide,
    /// Where the section sits and the hall around it (the stereo half of the output).
    stage: LiveStage,
    /// Parameter values last applied as channel controllers (they act when they move).
    last: Controls,
    /// Their defaults (computed once: building parameters allocates).
    defaults: Controls,
}

#[derive(Clone, Copy, PartialEq)]
struct Controls {
    dynamic: f32,
    expression: f32,
    /// Controller values (0..127): what the settings carry too (see `RosinParams::vibrato_depth_cc`).
    vibrato_depth: u8,
    vibrato_rate: u8,
}

impl Controls {
    /// Sets the engine's controllers where these values differ from `reference`.
    fn set_in(self, synth: &mut Synth, reference: Controls) {
        if self.dynamic != reference.dynamic {
            synth.set_dynamic(Some(self.dynamic));
        }
        if self.expression != reference.expression {
            synth.set_expression(self.expression);
        }
        if self.vibrato_depth != reference.vibrato_depth {
            synth.set_vibrato_depth(f32::from(self.vibrato_depth) / 127.0);
        }
        if self.vibrato_rate != reference.vibrato_rate {
            synth.set_vibrato_rate(f32::from(self.vibrato_rate));
        }
    }

    fn of(p: &RosinParams) -> Self {
        Controls {
            dynamic: snap(p.dynamic.value(), 10_000.0),
            expression: snap(p.expression.value(), 10_000.0),
            vibrato_depth: p.vibrato_depth_cc(),
            vibrato_rate: p.vibrato_rate_cc(),
        }
    }
}

impl Default for Rosin {
    fn default() -> Self {
        let params = Arc::new(RosinParams::default());
        let (shared, audio) = Shared::new(&params);
        let shared = Arc::new(shared);
        Shared::follow_restores(&shared, &params);
        let (tx, rx) = shared::channel();
        let loader_thread = shared::spawn_loader(shared.clone(), params.clone(), rx);
        Rosin {
            stage: LiveStage::new(params.pan_setting(), params.room_settings(), audio.synth.sample_rate()),
            last: Controls::of(&params),
            defaults: Controls::of(&params),
            params,
            shared,
            loader: tx,
            loader_thread,
            audio,
        }
    }
}

impl Rosin {
    /// Applies the continuous-control parameters that moved since the last block (or, with
    /// `force`, all that differ from their defaults, e.g. after a reset).
    fn apply_controls(&mut self, force: bool) {
        let now = Controls::of(&self.params);
        now.set_in(&mut self.audio.synth, if force { self.defaults } else { self.last });
        self.last = now;
    }

    /// Silences the engine and returns it to the parameters' settings, as a new one would be.
    fn restart(&mut self) {
        let params = &self.params;
        let synth = &mut self.audio.synth;
        synth.update_settings(|s| params.apply_to(s));
        synth.reset();
        self.apply_controls(true);
        self.stage.set_pan(self.params.pan_setting());
        self.stage.set_room(self.params.room_settings());
        self.stage.reset();
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
    /// Room in nice-plug's per-block event queues before its wrapper grows them on the audio
    /// thread: every parameter moved on every sample of a 1,024-sample block (20 × 1,024, what
    /// Steinberg's validator and pluginval do at smaller blocks), plus a host sending every
    /// controller of every channel at once (VST3 carries them as 16 × 130 proxy parameters),
    /// plus notes. About 1.7 MB per instance (24- and 28-byte events, two queues in VST3).
    /// tests/tests/dense_automation.rs proves no allocation under that load.
    const INPUT_EVENT_CAPACITY: usize = 32_768;

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

    /// May run on the host's audio thread. Installs the newest model the loader or a state
    /// restore prepared (already parsed and built), and keeps the engine when it already runs at
    /// this sample rate: then nothing is allocated. A new rate builds a new engine here (a
    /// bounded cost, measured in plugin/tests/activation.rs) and frees the old one.
    fn activate(
        &mut self,
        _audio_io_layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        context: &mut impl ActivateContext<Self>,
    ) -> bool {
        let audio = &mut self.audio;
        audio.models.receive_all(&mut audio.synth);
        // The voice count is no parameter: the engine's own settings say what it needs.
        if !audio.synth.is_built_for(buffer_config.sample_rate, audio.synth.settings()) {
            let settings = self.params.settings();
            audio.synth = Synth::new(audio.synth.model().clone(), settings, buffer_config.sample_rate);
            self.shared.engine.publish(EngineConfig::of(&audio.synth));
        }
        if self.stage.sample_rate() != buffer_config.sample_rate {
            self.stage =
                LiveStage::new(self.params.pan_setting(), self.params.room_settings(), buffer_config.sample_rate);
        }
        self.restart();
        context.set_latency_samples(0);
        true
    }

    fn reset(&mut self) {
        self.restart();
    }

    fn deactivate(&mut self) {}

    fn process(
        &mut self,
        buffer: &mut Buffer,
        _aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        self.audio.models.receive(&mut self.audio.synth);
        self.apply_controls(false);
        let params = self.params.clone();
        let samples = buffer.samples();
        let channels = buffer.as_slice();
        let synth = &mut self.audio.synth;
        synth.update_settings(|s| params.apply_to(s));

        let stage = &mut self.stage;
        stage.set_pan(params.pan_setting());
        stage.set_room(params.room_settings());
        let (first, rest) = channels.split_at_mut(1);
        let left = &mut first[0][..samples];
        let right = &mut rest[0][..samples];
        // The engine renders mono into the left channel, up to each event; the stage places
        // that stretch in stereo, so a CC10 moves the section from its own sample on.
        let mut render_to = |synth: &mut Synth, stage: &mut LiveStage, from: usize, to: usize| {
            let mono = &mut left[from..to];
            synth.process(mono);
            // Unity gain (within what a normalised round trip can disturb) leaves the engine's
            // output untouched, bit for bit.
            if params.gain.smoothed.is_smoothing() || (params.gain.value() - 1.0).abs() > 1e-6 {
                for s in mono.iter_mut() {
                    *s *= params.gain.smoothed.next();
                }
            }
            stage.place(mono, &mut right[from..to]);
        };
        let mut pos = 0;
        while let Some(event) = context.next_event() {
            let at = (event.timing() as usize).min(samples);
            if at > pos {
                render_to(synth, stage, pos, at);
                pos = at;
            }
            if let Some(ev) = events::to_midi(&event) {
                synth.handle_event(ev);
                match ev {
                    // Reset all controllers returns them to the instrument's settings, and the
                    // parameters are part of those (hosts send CC121 on transport start).
                    MidiEvent::ControlChange { cc: 121, .. } => self.last.set_in(synth, self.defaults),
                    MidiEvent::ControlChange { cc: 10, value } => stage.cc10(value),
                    _ => {}
                }
            } else if let Some((key, expression)) = events::to_expression(&event) {
                synth.note_expression(key, expression);
            }
        }
        if pos < samples {
            render_to(synth, stage, pos, samples);
        }
        stage.add_room(left, right);
        self.audio.meter.publish(synth, left, right);
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
