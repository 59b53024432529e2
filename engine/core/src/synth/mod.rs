//! The real-time instrument: voices, polyphony and voice stealing, monophonic legato,
//! sustain pedal, and the shared noise generator. Everything is allocated in [`Synth::new`];
//! [`Synth::handle_event`] and [`Synth::process`] never allocate, lock or block.
//!
//! Output depends only on the events and the sample positions they arrive at, never on how
//! the audio is cut into blocks: voices and the noise generator advance on their own frame
//! clocks, and every block is split exactly at those frame boundaries.

pub mod harmonic;
pub mod host;
pub mod noise;
pub mod voice;

use crate::model::Model;
use crate::performance::{Action, Controllers, MidiEvent, PerformanceSettings, VoiceControls, VoiceMode};
use harmonic::{TablePlans, TableScratch};
use noise::NoiseGenerator;
use std::sync::Arc;
use voice::{Voice, VoiceContext, VoiceNet, VoiceState};

/// A model with everything the audio thread needs for it allocated in advance (build it on a
/// background thread, hand it over with [`Synth::install_model`]).
pub struct PreparedModel {
    model: Arc<Model>,
    nets: Vec<VoiceNet>,
    noise: NoiseGenerator,
    sample_rate: f32,
}

impl PreparedModel {
    pub fn new(model: Arc<Model>, sample_rate: f32, voice_slots: usize) -> Self {
        let sample_rate = engine_sample_rate(sample_rate);
        PreparedModel {
            nets: (0..voice_slots).map(|_| VoiceNet::new(&model)).collect(),
            noise: NoiseGenerator::new(sample_rate, &model.card.noise_bands),
            sample_rate,
            model,
        }
    }

    pub fn model(&self) -> &Arc<Model> {
        &self.model
    }
}

/// Extra voice slots beyond the polyphony limit, for notes that are fading out after being
/// stolen, so a new note never has to wait for one.
const STEAL_SLOTS: usize = 16;

/// The sample rate an engine runs at when asked for `sample_rate` (the range it supports).
fn engine_sample_rate(sample_rate: f32) -> f32 {
    sample_rate.clamp(8_000.0, 768_000.0)
}

/// The polyphony an engine with `settings` has.
fn polyphony(settings: &PerformanceSettings) -> usize {
    settings.max_voices.clamp(1, 256)
}

/// Voice slots an engine with `settings` has: the polyphony plus room for stolen voices to fade.
fn voice_slots_for(settings: &PerformanceSettings) -> usize {
    polyphony(settings) + STEAL_SLOTS
}

/// Fade of a stolen voice.
const STEAL_SECONDS: f32 = 0.005;
/// Output never leaves this range (+24 dBFS), whatever a model or controller does.
const OUTPUT_LIMIT: f32 = 16.0;

pub struct Synth {
    model: Arc<Model>,
    settings: PerformanceSettings,
    controllers: Controllers,
    voices: Vec<Voice>,
    plans: TablePlans,
    scratch: TableScratch,
    noise: NoiseGenerator,
    sample_rate: f32,
    sample_rate_int: u64,
    limit_hz: f32,
    note_counter: u64,
    /// Notes started per articulation (in [`crate::Articulation::ALL`] order) since construction or
    /// reset: the engine's own record of what it played, for render reports and tests.
    notes_played: [u64; 4],
    /// Keys held down, in order (monophonic legato returns to the previous one).
    held: [u8; 128],
    held_len: usize,
}

impl Synth {
    /// Allocates everything the instrument will ever need at this sample rate.
    pub fn new(model: Arc<Model>, settings: PerformanceSettings, sample_rate: f32) -> Self {
        let sample_rate = engine_sample_rate(sample_rate);
        let plans = TablePlans::new();
        let scratch = TableScratch::new(&plans);
        let max_voices = polyphony(&settings);
        let voices = (0..voice_slots_for(&settings)).map(|_| Voice::new(&model)).collect();
        let mut noise = NoiseGenerator::new(sample_rate, &model.card.noise_bands);
        noise.reset(settings.seed);
        Synth {
            controllers: Controllers::new(&settings),
            settings: PerformanceSettings { max_voices, ..settings },
            voices,
            plans,
            scratch,
            noise,
            sample_rate,
            sample_rate_int: sample_rate.round() as u64,
            limit_hz: crate::formulas::band_limit_hz(sample_rate),
            note_counter: 0,
            notes_played: [0; 4],
            held: [0; 128],
            held_len: 0,
            model,
        }
    }

    pub fn model(&self) -> &Arc<Model> {
        &self.model
    }

    pub fn sample_rate(&self) -> f32 {
        self.sample_rate
    }

    pub fn settings(&self) -> &PerformanceSettings {
        &self.settings
    }

    pub fn controllers(&self) -> &Controllers {
        &self.controllers
    }

    /// Number of voice slots, for [`PreparedModel::new`].
    pub fn voice_slots(&self) -> usize {
        self.voices.len()
    }

    /// Swaps in a model prepared off the audio thread and returns the previous one, to be
    /// dropped off the audio thread too. Real-time safe: no allocation, no deallocation.
    /// Sounding notes continue with the new model (their network state restarts; the
    /// per-frame crossfade keeps the change click-free). A preparation for another sample
    /// rate or voice count is handed straight back unused.
    pub fn install_model(&mut self, mut prepared: PreparedModel) -> PreparedModel {
        if !self.accepts(&prepared) {
            return prepared;
        }
        for (v, net) in self.voices.iter_mut().zip(prepared.nets.iter_mut()) {
            std::mem::swap(&mut v.net, net);
            v.net.state.reset();
        }
        std::mem::swap(&mut self.model, &mut prepared.model);
        std::mem::swap(&mut self.noise, &mut prepared.noise);
        self.noise.reset(self.settings.seed);
        prepared
    }

    /// Whether `prepared` was prepared for this engine's sample rate and voice count (what
    /// [`Synth::install_model`] takes).
    pub fn accepts(&self, prepared: &PreparedModel) -> bool {
        prepared.nets.len() == self.voices.len() && prepared.sample_rate == self.sample_rate
    }

    /// Whether this engine already is what [`Synth::new`] would build for `sample_rate` and
    /// `settings` (same rate, same voice slots): a host's re-activation can then keep it.
    pub fn is_built_for(&self, sample_rate: f32, settings: &PerformanceSettings) -> bool {
        self.sample_rate == engine_sample_rate(sample_rate) && self.voices.len() == voice_slots_for(settings)
    }

    /// Silences everything and forgets all controller state.
    pub fn reset(&mut self) {
        for v in &mut self.voices {
            v.kill();
        }
        self.controllers = Controllers::new(&self.settings);
        self.noise.reset(self.settings.seed);
        self.held_len = 0;
        self.note_counter = 0;
        self.notes_played = [0; 4];
    }

    /// How many notes each articulation played (in [`crate::Articulation::ALL`] order; legato
    /// transitions count as notes), since construction or the last [`Synth::reset`].
    pub fn notes_played(&self) -> [u64; 4] {
        self.notes_played
    }

    /// Voices currently sounding (playing, releasing or fading after a steal).
    pub fn active_voices(&self) -> usize {
        self.voices.iter().filter(|v| !v.is_free()).count()
    }

    /// Applies one MIDI message at the current position.
    pub fn handle_event(&mut self, ev: MidiEvent) {
        match self.controllers.handle(ev, &self.settings) {
            Action::NoteOn { key, velocity, articulation } => self.note_on(key, velocity, articulation),
            Action::NoteOff { key } => self.note_off(key),
            Action::SustainReleased => {
                for v in &mut self.voices {
                    if v.sustained && v.state == VoiceState::Playing {
                        v.release();
                    }
                }
            }
            Action::AllNotesOff => {
                self.held_len = 0;
                for v in &mut self.voices {
                    v.release();
                }
            }
            Action::AllSoundOff => {
                self.held_len = 0;
                let fade = self.steal_samples();
                for v in &mut self.voices {
                    v.steal(fade);
                }
            }
            Action::Nothing => {}
        }
    }

    fn steal_samples(&self) -> u32 {
        (STEAL_SECONDS * self.sample_rate) as u32
    }

    fn push_held(&mut self, key: u8) {
        self.remove_held(key);
        if self.held_len < self.held.len() {
            self.held[self.held_len] = key;
            self.held_len += 1;
        }
    }

    fn remove_held(&mut self, key: u8) {
        if let Some(i) = self.held[..self.held_len].iter().position(|&k| k == key) {
            self.held.copy_within(i + 1..self.held_len, i);
            self.held_len -= 1;
        }
    }

    fn note_on(&mut self, key: u8, velocity: u8, articulation: crate::articulation::Articulation) {
        self.push_held(key);
        self.notes_played[articulation.index()] += 1;
        let frame_seconds = 1.0 / self.model.card.control_rate_hz;
        if self.settings.voice_mode == VoiceMode::MonoLegato {
            // Legato: a held note (same articulation family) glides to the new key.
            if let Some(v) = self.voices.iter_mut().find(|v| v.state == VoiceState::Playing && !v.sustained) {
                if v.controls.articulation.is_long() && articulation.is_long() {
                    v.controls.legato_to(key, self.settings.glide_seconds, frame_seconds);
                    return;
                }
            }
            for v in &mut self.voices {
                v.release();
            }
        } else {
            for v in &mut self.voices {
                if v.state == VoiceState::Playing && v.controls.key == key {
                    v.release();
                }
            }
        }
        let sounding =
            self.voices.iter().filter(|v| matches!(v.state, VoiceState::Playing | VoiceState::Released)).count();
        if sounding >= self.settings.max_voices {
            // Oldest-note stealing, released notes first.
            let victim = self
                .voices
                .iter_mut()
                .filter(|v| matches!(v.state, VoiceState::Playing | VoiceState::Released))
                .min_by_key(|v| (v.state == VoiceState::Playing, v.order));
            if let Some(v) = victim {
                v.steal((STEAL_SECONDS * self.sample_rate) as u32);
            }
        }
        let slot = match self.voices.iter().position(|v| v.is_free()) {
            Some(i) => i,
            None => {
                // Every slot is busy fading: cut the quietest fade short.
                let i = self
                    .voices
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| v.state == VoiceState::Stolen)
                    .min_by(|a, b| a.1.fade().total_cmp(&b.1.fade()))
                    .map(|(i, _)| i)
                    .unwrap_or(0);
                self.voices[i].kill();
                i
            }
        };
        self.note_counter += 1;
        let controls = VoiceControls::start(key, velocity, articulation, self.note_counter as u32);
        self.voices[slot].start(controls, self.note_counter);
    }

    fn note_off(&mut self, key: u8) {
        self.remove_held(key);
        let frame_seconds = 1.0 / self.model.card.control_rate_hz;
        let sustain = self.controllers.sustain;
        if self.settings.voice_mode == VoiceMode::MonoLegato && self.held_len > 0 {
            let back_to = self.held[self.held_len - 1];
            if let Some(v) = self.voices.iter_mut().find(|v| v.state == VoiceState::Playing && v.controls.key == key) {
                if v.controls.articulation.is_long() {
                    v.controls.legato_to(back_to, self.settings.glide_seconds, frame_seconds);
                    return;
                }
            }
        }
        for v in &mut self.voices {
            if v.state == VoiceState::Playing && v.controls.key == key && !v.sustained {
                if sustain {
                    v.sustained = true;
                } else {
                    v.release();
                }
            }
        }
    }

    /// Renders `out.len()` mono samples (overwriting `out`).
    pub fn process(&mut self, out: &mut [f32]) {
        let _ftz = crate::denormals::FlushToZero::new();
        out.fill(0.0);
        let mut done = 0;
        while done < out.len() {
            if self.noise.samples_until_frame() == 0 {
                self.gather_noise();
                self.noise.make_frame();
            }
            let n = (out.len() - done).min(self.noise.samples_until_frame());
            let span = &mut out[done..done + n];
            let ctx = VoiceContext {
                model: &self.model,
                plans: &self.plans,
                controllers: &self.controllers,
                settings: &self.settings,
                sample_rate: self.sample_rate,
                sample_rate_int: self.sample_rate_int,
                limit_hz: self.limit_hz,
            };
            for v in &mut self.voices {
                if !v.is_free() {
                    v.render_add(&ctx, &mut self.scratch, span);
                }
            }
            self.noise.render_add(span);
            done += n;
        }
        for s in out.iter_mut() {
            // NaN fails both comparisons in clamp's favour only if handled explicitly.
            *s = if s.is_finite() { s.clamp(-OUTPUT_LIMIT, OUTPUT_LIMIT) } else { 0.0 };
        }
    }

    /// Renders a block with events at sample offsets (sorted by offset), sample-accurately.
    pub fn process_with_events(&mut self, out: &mut [f32], events: &[(usize, MidiEvent)]) {
        let mut pos = 0;
        for &(at, ev) in events {
            let at = at.min(out.len());
            if at > pos {
                self.process(&mut out[pos..at]);
                pos = at;
            }
            self.handle_event(ev);
        }
        if pos < out.len() {
            self.process(&mut out[pos..]);
        }
    }

    /// Renders `out` as the stretch of a timeline that starts at absolute sample `start`, taking
    /// the events (sorted, at absolute sample positions) that fall inside it from the front of
    /// `events`; returns how many it took, so the caller advances its slice. The one way every
    /// offline renderer and test drives the synth block by block; allocation-free.
    pub fn render_timeline(&mut self, out: &mut [f32], start: u64, events: &[(u64, MidiEvent)]) -> usize {
        let end = start + out.len() as u64;
        let mut pos = 0;
        let mut taken = 0;
        for &(at, ev) in events {
            if at >= end {
                break;
            }
            let at = at.saturating_sub(start) as usize;
            if at > pos {
                self.process(&mut out[pos..at]);
                pos = at;
            }
            self.handle_event(ev);
            taken += 1;
        }
        if pos < out.len() {
            self.process(&mut out[pos..]);
        }
        taken
    }

    fn gather_noise(&mut self) {
        let acc = self.noise.band_power_mut();
        for v in &self.voices {
            if v.is_free() {
                continue;
            }
            let g = if v.state == VoiceState::Stolen { v.fade() * v.fade() } else { 1.0 };
            for (a, p) in acc.iter_mut().zip(&v.net.noise_power) {
                *a += p * g;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixture::fixed_spectrum_model;

    fn on(key: u8) -> MidiEvent {
        MidiEvent::NoteOn { key, velocity: 100 }
    }

    /// The timeline helper gives what events applied at their offsets give, for any cut.
    #[test]
    fn render_timeline_matches_process_with_events() {
        let model = Arc::new(fixed_spectrum_model(8, 16, 16, 2));
        let events: Vec<(u64, MidiEvent)> =
            vec![(10, on(60)), (500, on(64)), (500, MidiEvent::ControlChange { cc: 1, value: 90 }), (3000, on(67))];
        let mut reference = vec![0.0; 4000];
        let relative: Vec<(usize, MidiEvent)> = events.iter().map(|&(t, e)| (t as usize, e)).collect();
        Synth::new(model.clone(), Default::default(), 48_000.0).process_with_events(&mut reference, &relative);
        for block in [1usize, 7, 500, 4000] {
            let mut synth = Synth::new(model.clone(), Default::default(), 48_000.0);
            let mut out = vec![0.0; 4000];
            let mut rest = &events[..];
            for (i, chunk) in out.chunks_mut(block).enumerate() {
                let taken = synth.render_timeline(chunk, (i * block) as u64, rest);
                rest = &rest[taken..];
            }
            assert!(rest.is_empty());
            assert!(out == reference, "block {block}");
        }
    }

    /// The plugin's fallback plays nothing audible, whatever is asked of it.
    #[test]
    fn silent_model_is_silent() {
        let mut synth = Synth::new(Arc::new(Model::silent()), Default::default(), 48_000.0);
        let mut out = vec![0.0; 48_000];
        let events = [(0, MidiEvent::ControlChange { cc: 1, value: 127 }), (0, on(60)), (100, on(40)), (200, on(90))];
        synth.process_with_events(&mut out, &events);
        let peak = out.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        assert!(peak < 1e-9, "peak {peak}");
    }
}
