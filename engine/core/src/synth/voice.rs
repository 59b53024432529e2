//! One sounding note: its control frames, its network state and its wavetable oscillator.

use super::harmonic::{TablePlans, TableScratch, WaveTable};
use crate::formulas;
use crate::model::fluctuation::{take_seed, FluctuationState};
use crate::model::{inputs, Model, NetState};
use crate::performance::{pitch_to_hz, Controllers, PerformanceSettings, VoiceControls};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoiceState {
    Free,
    /// Key (or pedal) held.
    Playing,
    /// Released; sounding its release.
    Released,
    /// Taken for a new note: fading out over a few milliseconds.
    Stolen,
}

/// Below this release level the voice ends (-80 dB).
const RELEASE_END: f32 = 1e-4;
/// Short notes whose level stays below -100 dB this long have died away.
const DEAD_SECONDS: f32 = 0.3;

/// Read-only context every voice needs to render.
pub struct VoiceContext<'a> {
    pub model: &'a Model,
    pub plans: &'a TablePlans,
    pub controllers: &'a Controllers,
    pub settings: &'a PerformanceSettings,
    pub sample_rate: f32,
    pub sample_rate_int: u64,
    /// Highest partial frequency: min(20 kHz, 0.45 fs).
    pub limit_hz: f32,
}

/// The parts of a voice whose sizes depend on the model: swapped as a unit on model change.
pub struct VoiceNet {
    pub(crate) state: NetState,
    inputs: Vec<f32>,
    outputs: Vec<f32>,
    /// Noise power spectral density per noise band for the current frame.
    pub noise_power: Vec<f32>,
    /// The note's take: its sampled fluctuation (see [`crate::model::fluctuation`]).
    pub fluctuation: FluctuationState,
}

impl VoiceNet {
    pub fn new(model: &Model) -> Self {
        let shape = model.card.network;
        VoiceNet {
            state: model.net.new_state(),
            inputs: vec![0.0; shape.inputs],
            outputs: vec![0.0; shape.outputs],
            noise_power: vec![0.0; model.card.noise_bands.count],
            fluctuation: FluctuationState::new(model.fluctuation.as_ref().map(|f| &f.shape)),
        }
    }
}

pub struct Voice {
    pub state: VoiceState,
    /// Note-on order, for oldest-note stealing.
    pub order: u64,
    /// Key released while the sustain pedal was down.
    pub sustained: bool,
    pub controls: VoiceControls,
    pub net: VoiceNet,
    table_a: WaveTable,
    table_b: WaveTable,
    phase: f64,
    dphase: f64,
    ddphase: f64,
    last_f0: f32,
    ramp: f32,
    ramp_step: f32,
    frame: u64,
    until_frame: u32,
    ending: bool,
    fade: f32,
    fade_step: f32,
    quiet_seconds: f32,
    /// Overall linear gain of the latest frame, for meters and for the end-of-note test.
    pub level: f32,
}

/// The dynamic the network is told: CC1 clamped to the range of dynamics it was trained on
/// (its recorded layers). Beyond them a network only extrapolates, and measured on retrained
/// models that is where brightness stopped following CC1; past the outer layers the timbre holds
/// and the CC1 level curve alone makes the note softer or louder, as a sampler's outer
/// velocity layer would.
/// The pitch the network is told: clamped to the keys it was trained on, for the same reason.
/// Past them the oscillator still plays the real pitch through the envelope of the outermost
/// trained key (its harmonic envelope is on absolute-frequency bands, so the partials keep
/// sampling the same body resonances); measured on the violins' held-out pizzicato at key 86,
/// three semitones above the highest trained one, see README "Where Rosin is behind".
fn network_pitch(pitch: f32, key_range: [u8; 2]) -> f32 {
    let (lo, hi) = (key_range[0] as f32, key_range[1] as f32);
    if lo <= hi {
        pitch.clamp(lo, hi)
    } else {
        pitch
    }
}

fn network_dynamic(dynamic: f32, layers: &[f32]) -> f32 {
    let lo = layers.iter().cloned().fold(f32::INFINITY, f32::min);
    let hi = layers.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
    if lo <= hi {
        dynamic.clamp(lo, hi)
    } else {
        dynamic
    }
}

impl Voice {
    pub fn new(model: &Model) -> Self {
        Voice {
            state: VoiceState::Free,
            order: 0,
            sustained: false,
            controls: VoiceControls::default(),
            net: VoiceNet::new(model),
            table_a: WaveTable::new(),
            table_b: WaveTable::new(),
            phase: 0.0,
            dphase: 0.0,
            ddphase: 0.0,
            last_f0: 0.0,
            ramp: 0.0,
            ramp_step: 0.0,
            frame: 0,
            until_frame: 0,
            ending: false,
            fade: 1.0,
            fade_step: 0.0,
            quiet_seconds: 0.0,
            level: 0.0,
        }
    }

    pub fn is_free(&self) -> bool {
        self.state == VoiceState::Free
    }

    /// Starts a note now. The first control frame is computed at the first rendered sample.
    pub fn start(&mut self, controls: VoiceControls, order: u64) {
        self.state = VoiceState::Playing;
        self.order = order;
        self.sustained = false;
        self.controls = controls;
        self.net.state.reset();
        self.net.fluctuation.reset();
        self.table_a.clear();
        self.table_b.clear();
        self.net.noise_power.fill(0.0);
        self.phase = 0.0;
        self.dphase = 0.0;
        self.ddphase = 0.0;
        self.last_f0 = 0.0;
        self.ramp = 1.0;
        self.ramp_step = 0.0;
        self.frame = 0;
        self.until_frame = 0;
        self.ending = false;
        self.fade = 1.0;
        self.fade_step = 0.0;
        self.quiet_seconds = 0.0;
        self.level = 0.0;
    }

    pub fn release(&mut self) {
        if self.state == VoiceState::Playing {
            self.state = VoiceState::Released;
            self.sustained = false;
            self.controls.release();
        }
    }

    /// Fades out over `samples` and then frees itself (voice stealing, all-sound-off).
    pub fn steal(&mut self, samples: u32) {
        if self.state != VoiceState::Free && self.state != VoiceState::Stolen {
            self.state = VoiceState::Stolen;
            self.fade_step = self.fade / samples.max(1) as f32;
        }
    }

    pub fn kill(&mut self) {
        self.state = VoiceState::Free;
        self.net.noise_power.fill(0.0);
        self.level = 0.0;
    }

    /// Remaining fade of a stolen voice (lower = closer to silent).
    pub fn fade(&self) -> f32 {
        self.fade
    }

    /// Adds this voice's next `out.len()` samples into `out`.
    pub fn render_add(&mut self, ctx: &VoiceContext, scratch: &mut TableScratch, mut out: &mut [f32]) {
        while !out.is_empty() && self.state != VoiceState::Free {
            if self.until_frame == 0 {
                if self.ending {
                    self.kill();
                    return;
                }
                self.next_frame(ctx, scratch);
            }
            let n = out.len().min(self.until_frame as usize);
            let (now, rest) = out.split_at_mut(n);
            self.render_span(now);
            self.until_frame -= n as u32;
            out = rest;
        }
    }

    #[inline]
    fn render_span(&mut self, out: &mut [f32]) {
        let (a, b) = (&self.table_a, &self.table_b);
        let stolen = self.state == VoiceState::Stolen;
        if !a.audible && !b.audible {
            for _ in 0..out.len() {
                self.advance_phase();
                if stolen {
                    // A silent stolen voice still fades out (and ends), sample by sample as below.
                    self.fade = (self.fade - self.fade_step).max(0.0);
                }
            }
            self.ramp += self.ramp_step * out.len() as f32;
            if stolen && self.fade <= 0.0 {
                self.kill();
            }
            return;
        }
        for o in out.iter_mut() {
            let p = self.phase as f32;
            let s = a.read(p) + (b.read(p) - a.read(p)) * self.ramp;
            if stolen {
                *o += s * self.fade;
                self.fade = (self.fade - self.fade_step).max(0.0);
            } else {
                *o += s;
            }
            self.ramp += self.ramp_step;
            self.phase += self.dphase;
            if self.phase >= 1.0 {
                self.phase -= 1.0;
            }
            self.dphase += self.ddphase;
        }
        if stolen && self.fade <= 0.0 {
            self.kill();
        }
    }

    #[inline(always)]
    fn advance_phase(&mut self) {
        self.phase += self.dphase;
        if self.phase >= 1.0 {
            self.phase -= 1.0;
        }
        self.dphase += self.ddphase;
    }

    /// Computes control frame `self.frame`: network step, next wavetable, noise spectrum.
    fn next_frame(&mut self, ctx: &VoiceContext, scratch: &mut TableScratch) {
        let start = formulas::control_frame_start(self.frame, ctx.sample_rate_int);
        let end = formulas::control_frame_start(self.frame + 1, ctx.sample_rate_int);
        let hop = (end - start).max(1) as u32;
        let dt = hop as f32 / ctx.sample_rate;
        self.frame += 1;
        self.until_frame = hop;

        let fc = self.controls.advance(dt, ctx.controllers, ctx.settings);
        let card = &ctx.model.card;
        let slot = card.articulation_slot(self.controls.articulation).unwrap_or(0);
        let vi = inputs::VoiceInputs {
            pitch: network_pitch(fc.pitch, card.key_range),
            dynamic: network_dynamic(fc.dynamic, &card.layer_dynamics),
            seconds_since_on: self.controls.seconds_since_on,
            seconds_since_off: self.controls.seconds_since_off,
            released: self.controls.released,
            legato: self.controls.legato,
            articulation_slot: slot,
        };
        let net = &mut self.net;
        inputs::encode(&vi, &mut net.inputs);
        ctx.model.net.step(&mut net.state, &net.inputs, &mut net.outputs);
        if let Some(f) = &ctx.model.fluctuation {
            let variation = ctx.controllers.variation.unwrap_or(ctx.settings.variation);
            let seed = take_seed(ctx.settings.seed, self.order);
            f.apply(&mut net.fluctuation, slot, vi.dynamic, &card.layer_dynamics, seed, variation, &mut net.outputs);
        }

        // Release envelope: exponential, -60 dB after `release_seconds`.
        let mut release_db = 0.0;
        if self.controls.released {
            release_db = -60.0 * self.controls.seconds_since_off / ctx.settings.release_seconds.max(1e-3);
        }
        let gain_db = fc.level_db + release_db;
        let log_gain = self.net.outputs[0].clamp(-30.0, 5.0) + gain_db * (std::f32::consts::LN_10 / 20.0);
        self.level = log_gain.exp();
        if !self.controls.articulation.is_long() && self.level < 1e-5 && self.controls.seconds_since_on > 0.5 {
            self.quiet_seconds += dt;
        } else {
            self.quiet_seconds = 0.0;
        }
        let finished =
            (self.controls.released && release_db < 20.0 * RELEASE_END.log10()) || self.quiet_seconds > DEAD_SECONDS;

        let f0 = pitch_to_hz(fc.pitch).clamp(1.0, 0.5 * ctx.sample_rate);
        let f0_from = if self.last_f0 > 0.0 { self.last_f0 } else { f0 };
        self.last_f0 = f0;

        std::mem::swap(&mut self.table_a, &mut self.table_b);
        let nh = card.harmonic_bands.count;
        if finished {
            self.table_b.clear();
            self.net.noise_power.fill(0.0);
            self.ending = true;
        } else {
            self.table_b.build(
                ctx.plans,
                scratch,
                &card.harmonic_bands,
                &self.net.outputs[1..1 + nh],
                log_gain,
                f0,
                f0.max(f0_from),
                ctx.limit_hz,
            );
            for (p, &n) in self.net.noise_power.iter_mut().zip(&self.net.outputs[1 + nh..]) {
                *p = crate::model::fastmath::exp(2.0 * (log_gain + n.clamp(-40.0, 10.0)));
            }
        }
        if self.state == VoiceState::Stolen {
            // A fading voice keeps its level rather than starting a new crossfade.
            self.table_b.copy_from(&self.table_a);
        }
        self.ramp = 0.0;
        self.ramp_step = 1.0 / hop as f32;
        // Phase increment moves linearly from the previous frame's f0 to this one's.
        let sr = ctx.sample_rate as f64;
        self.dphase = f0_from as f64 / sr;
        self.ddphase = (f0 as f64 - f0_from as f64) / sr / hop as f64;
    }
}

#[cfg(test)]
mod tests {
    use crate::model::fixture::fixed_spectrum_model;
    use crate::{MidiEvent, PerformanceSettings, Synth};
    use std::sync::Arc;

    #[test]
    fn network_hears_only_trained_dynamics() {
        let layers = [0.3, 0.9];
        assert_eq!(super::network_dynamic(0.0, &layers), 0.3);
        assert_eq!(super::network_dynamic(0.5, &layers), 0.5);
        assert_eq!(super::network_dynamic(1.0, &layers), 0.9);
        // A card without layers (a model from a single-layer folder still has one) passes it on.
        assert_eq!(super::network_dynamic(0.7, &[]), 0.7);
        assert_eq!(super::network_dynamic(0.7, &[0.5]), 0.5);
    }

    #[test]
    fn network_hears_only_trained_keys() {
        assert_eq!(super::network_pitch(86.0, [55, 83]), 83.0);
        assert_eq!(super::network_pitch(40.5, [55, 83]), 55.0);
        assert_eq!(super::network_pitch(69.25, [55, 83]), 69.25);
        // A malformed range passes the pitch on rather than panicking in `clamp`.
        assert_eq!(super::network_pitch(69.0, [83, 55]), 69.0);
    }

    /// Found by fuzzing (fuzz/ event_stream): a stolen voice whose wavetables are silent (here
    /// key 127 at 22.05 kHz, whose fundamental lies above the band limit) never advanced its
    /// fade, so it stayed `Stolen` for ever: all-sound-off did not free it, and the render tail
    /// ran to its limit.
    #[test]
    fn silent_stolen_voice_is_freed() {
        let model = Arc::new(fixed_spectrum_model(8, 8, 8, 1));
        let mut synth = Synth::new(model, PerformanceSettings::default(), 22_050.0);
        let mut out = vec![0.0f32; 512];
        synth.handle_event(MidiEvent::NoteOn { key: 127, velocity: 100 });
        synth.process(&mut out);
        assert_eq!(synth.active_voices(), 1);
        synth.handle_event(MidiEvent::ControlChange { cc: 120, value: 0 });
        // The 5 ms steal fade and the control frame it ends in.
        for _ in 0..2 {
            synth.process(&mut out);
        }
        assert_eq!(synth.active_voices(), 0);
    }
}
