//! Controls for hosts (the plugin): edit settings in place and set channel controllers
//! directly, without allocating or freeing anything, so a plugin's parameters can drive them on
//! the audio thread. A controller set here behaves exactly like the matching MIDI CC arriving
//! at the same sample position, but at full resolution.

use super::Synth;
use crate::performance::PerformanceSettings;

impl Synth {
    /// Edits the settings in place. Unlike [`Synth::set_settings`] nothing is dropped (the
    /// old settings' lists would be freed on the audio thread). `max_voices` cannot change.
    pub fn update_settings(&mut self, edit: impl FnOnce(&mut PerformanceSettings)) {
        let max_voices = self.settings.max_voices;
        let articulation = self.settings.articulation;
        edit(&mut self.settings);
        self.settings.max_voices = max_voices;
        if self.settings.articulation != articulation {
            self.controllers.articulation = self.settings.articulation;
        }
    }

    /// The dynamic (what CC1 sets), 0..1; `None` returns longs to taking it from velocity.
    pub fn set_dynamic(&mut self, dynamic: Option<f32>) {
        self.controllers.dynamic = dynamic.map(|d| if d.is_finite() { d.clamp(0.0, 1.0) } else { 0.0 });
    }

    /// Expression (what CC11 sets), 0..1.
    pub fn set_expression(&mut self, expression: f32) {
        self.controllers.expression = if expression.is_finite() { expression.clamp(0.0, 1.0) } else { 1.0 };
    }

    /// Vibrato depth (what CC21 sets), 0..1.
    pub fn set_vibrato_depth(&mut self, depth: f32) {
        self.controllers.vibrato_depth = if depth.is_finite() { depth.clamp(0.0, 1.0) } else { 0.0 };
    }

    /// Vibrato rate on the CC20 scale, 0..127 (see [`PerformanceSettings::vibrato_rate_hz`]).
    pub fn set_vibrato_rate(&mut self, rate: f32) {
        self.controllers.vibrato_rate = if rate.is_finite() { rate.clamp(0.0, 127.0) } else { 64.0 };
    }

    /// Noise envelope (power per noise band) summed over the sounding voices, written into
    /// `out` (as many bands as fit). For level meters and displays; allocation-free.
    pub fn noise_envelope(&self, out: &mut [f32]) -> usize {
        out.fill(0.0);
        let mut n = 0;
        for v in self.voices.iter().filter(|v| !v.is_free()) {
            n = n.max(v.net.noise_power.len().min(out.len()));
            for (o, p) in out.iter_mut().zip(&v.net.noise_power) {
                *o += p;
            }
        }
        n
    }
}
