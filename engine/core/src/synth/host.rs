//! Controls for hosts (the plugin): edit settings in place and set channel controllers
//! directly, without allocating or freeing anything, so a plugin's parameters can drive them on
//! the audio thread. A controller set here behaves exactly like the matching MIDI CC arriving
//! at the same sample position, but at full resolution.

use super::Synth;
use crate::performance::PerformanceSettings;

impl Synth {
    /// The one way to change settings of a running synth, safe on the audio thread: the edit
    /// happens in place, so nothing is freed (replacing the settings would free their lists).
    /// The voice count is allocated at construction: an edit of `max_voices` is undone and
    /// reported by returning `false`, so a caller can build a new [`Synth`] off the audio thread.
    pub fn update_settings(&mut self, edit: impl FnOnce(&mut PerformanceSettings)) -> bool {
        let max_voices = self.settings.max_voices;
        let articulation = self.settings.articulation;
        edit(&mut self.settings);
        let kept = self.settings.max_voices == max_voices;
        self.settings.max_voices = max_voices;
        if self.settings.articulation != articulation {
            self.controllers.articulation = self.settings.articulation;
        }
        kept
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

    /// A per-note expression for the sounding (not yet released) notes of `key`.
    pub fn note_expression(&mut self, key: u8, expression: crate::performance::NoteExpression) {
        for v in
            self.voices.iter_mut().filter(|v| v.state == super::voice::VoiceState::Playing && v.controls.key == key)
        {
            v.controls.set_expression(expression);
        }
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

#[cfg(test)]
mod tests {
    use crate::model::fixture::fixed_spectrum_model;
    use crate::performance::{MidiEvent, PerformanceSettings};
    use crate::{Articulation, Synth};
    use std::sync::Arc;

    fn synth() -> Synth {
        Synth::new(Arc::new(fixed_spectrum_model(16, 32, 16, 3)), PerformanceSettings::default(), 48_000.0)
    }

    /// A reset engine plays exactly like a new one (a host's re-activation keeps the engine):
    /// after notes, bends, pedal and controllers, the same phrase gives the same samples.
    #[test]
    fn a_reset_engine_sounds_like_a_new_one() {
        let phrase = [
            (0, MidiEvent::ControlChange { cc: 64, value: 127 }),
            (0, MidiEvent::NoteOn { key: 60, velocity: 100 }),
            (300, MidiEvent::PitchBend { value: 3_000 }),
            (600, MidiEvent::ControlChange { cc: 1, value: 30 }),
            (900, MidiEvent::NoteOn { key: 67, velocity: 60 }),
            (1500, MidiEvent::NoteOff { key: 60, velocity: 0 }),
        ];
        let mut used = synth();
        let mut first = vec![0.0; 9600];
        used.process_with_events(&mut first, &phrase);
        used.reset();
        let (mut again, mut fresh) = (vec![0.0; 9600], vec![0.0; 9600]);
        used.process_with_events(&mut again, &phrase);
        synth().process_with_events(&mut fresh, &phrase);
        assert!(fresh.iter().any(|s| s.abs() > 1e-4));
        assert_eq!(again, fresh);
    }

    /// Setting a controller directly sounds exactly like the CC that sets the same value.
    #[test]
    fn controller_setters_match_their_ccs() {
        let (mut a, mut b) = (synth(), synth());
        let on = MidiEvent::NoteOn { key: 60, velocity: 100 };
        let (mut x, mut y) = (vec![0.0; 4800], vec![0.0; 4800]);
        a.process_with_events(&mut x[..1000], &[(0, on)]);
        b.process_with_events(&mut y[..1000], &[(0, on)]);
        a.set_dynamic(Some(90.0 / 127.0));
        a.set_expression(100.0 / 127.0);
        a.set_vibrato_depth(70.0 / 127.0);
        a.set_vibrato_rate(30.0);
        a.process(&mut x[1000..]);
        let ccs =
            [(1u8, 90u8), (11, 100), (21, 70), (20, 30)].map(|(cc, value)| (0, MidiEvent::ControlChange { cc, value }));
        b.process_with_events(&mut y[1000..], &ccs);
        assert_eq!(x, y);
        assert!(x.iter().any(|s| s.abs() > 1e-4));
    }

    #[test]
    fn update_settings_switches_articulation_and_keeps_voice_count() {
        let mut s = synth();
        let slots = s.voice_slots();
        let kept = s.update_settings(|p| {
            p.articulation = Articulation::Pizzicato;
            p.max_voices = 3;
        });
        assert!(!kept, "a changed voice count must be reported");
        assert!(s.update_settings(|p| p.glide_seconds = 0.1));
        assert_eq!(s.controllers().articulation, Articulation::Pizzicato);
        assert_eq!(s.settings().max_voices, PerformanceSettings::default().max_voices);
        assert_eq!(s.voice_slots(), slots);
    }
}
