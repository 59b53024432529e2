//! Per-voice control values at the control rate: smoothing, vibrato, glide, dynamics.
//!
//! Everything here advances once per control frame, so its state depends only on frame times
//! and never on how the host cut the audio into blocks. The synthesizer interpolates the
//! resulting amplitudes per sample, so stepwise updates here make no zipper noise.

use super::controllers::Controllers;
use super::settings::PerformanceSettings;
use crate::articulation::Articulation;

#[derive(Debug, Clone, Copy, Default)]
pub struct VoiceControls {
    pub key: u8,
    pub velocity: u8,
    pub articulation: Articulation,
    /// Glide: pitch offset from `key` in semitones, moving linearly to zero.
    glide_offset: f32,
    glide_step: f32,
    dynamic: f32,
    expression: f32,
    vibrato_depth: f32,
    vibrato_phase: f32,
    bend: f32,
    pub seconds_since_on: f32,
    pub seconds_since_off: f32,
    pub released: bool,
    pub legato: bool,
    first: bool,
    /// Per-note expressions (CLAP note expressions, MPE-like control from a host).
    expr: NoteExpressions,
}

/// One per-note expression from a host, for one sounding note.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NoteExpression {
    /// Pitch offset in semitones.
    Tuning(f32),
    /// Gain ratio, 1 = unity.
    Volume(f32),
    /// 0..1, multiplies the level like CC11 does for the channel.
    Expression(f32),
    /// 0..1: this note's vibrato depth, replacing the channel's CC21.
    Vibrato(f32),
    /// 0..1, 0.5 neutral: moves the timbre (the network's dynamic input) without the level.
    Brightness(f32),
}

#[derive(Debug, Clone, Copy)]
struct NoteExpressions {
    tuning: f32,
    volume: f32,
    expression: f32,
    vibrato: Option<f32>,
    brightness: f32,
}

impl Default for NoteExpressions {
    fn default() -> Self {
        NoteExpressions { tuning: 0.0, volume: 1.0, expression: 1.0, vibrato: None, brightness: 0.5 }
    }
}

/// The musical state of a voice at one frame, ready for the network and the oscillator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameControls {
    /// Fractional MIDI pitch including bend, glide and vibrato.
    pub pitch: f32,
    pub dynamic: f32,
    /// Level in dB from dynamic curve and expression (0 dB at ff, full expression).
    pub level_db: f32,
}

/// Hz of a fractional MIDI key (A4 = 69 = 440 Hz).
#[inline]
pub fn pitch_to_hz(pitch: f32) -> f32 {
    440.0 * ((pitch - 69.0) / 12.0).exp2()
}

impl VoiceControls {
    pub fn start(key: u8, velocity: u8, articulation: Articulation, phase_seed: u32) -> Self {
        VoiceControls {
            key,
            velocity,
            articulation,
            vibrato_phase: (phase_seed.wrapping_mul(2_654_435_761) >> 8) as f32 / (1u32 << 24) as f32,
            first: true,
            expr: NoteExpressions::default(),
            ..Default::default()
        }
    }

    fn target_dynamic(&self, c: &Controllers) -> f32 {
        match c.dynamic {
            Some(d) if self.articulation.is_long() => d,
            _ => self.velocity as f32 / 127.0,
        }
    }

    /// Moves to a new key without a new attack (monophonic legato).
    pub fn legato_to(&mut self, key: u8, glide_seconds: f32, frame_seconds: f32) {
        let current = self.key as f32 + self.glide_offset;
        self.key = key;
        self.glide_offset = current - key as f32;
        let frames = (glide_seconds / frame_seconds).max(1.0);
        self.glide_step = self.glide_offset.abs() / frames;
        self.legato = true;
    }

    pub fn release(&mut self) {
        self.released = true;
    }

    /// Applies a per-note expression (non-finite values are ignored).
    pub fn set_expression(&mut self, e: NoteExpression) {
        let x = &mut self.expr;
        match e {
            NoteExpression::Tuning(v) if v.is_finite() => x.tuning = v.clamp(-48.0, 48.0),
            NoteExpression::Volume(v) if v.is_finite() => x.volume = v.clamp(0.0, 4.0),
            NoteExpression::Expression(v) if v.is_finite() => x.expression = v.clamp(0.0, 1.0),
            NoteExpression::Vibrato(v) if v.is_finite() => x.vibrato = Some(v.clamp(0.0, 1.0)),
            NoteExpression::Brightness(v) if v.is_finite() => x.brightness = v.clamp(0.0, 1.0),
            _ => {}
        }
    }

    /// Advances by one control frame of `dt` seconds and returns the frame's controls.
    pub fn advance(&mut self, dt: f32, c: &Controllers, s: &PerformanceSettings) -> FrameControls {
        let target_dyn = self.target_dynamic(c);
        if self.first {
            self.first = false;
            self.dynamic = target_dyn;
            self.expression = c.expression;
            self.vibrato_depth = self.expr.vibrato.unwrap_or(c.vibrato_depth);
            self.bend = c.bend;
        } else {
            let a = 1.0 - (-dt / s.smoothing_seconds.max(1e-4)).exp();
            // Shorts keep their velocity dynamic for the whole note.
            self.dynamic += (target_dyn - self.dynamic) * a;
            self.expression += (c.expression - self.expression) * a;
            let depth = self.expr.vibrato.unwrap_or(c.vibrato_depth);
            self.vibrato_depth += (depth - self.vibrato_depth) * a;
            // Bend follows faster: it is a pitch gesture, and pitch steps are phase-continuous.
            let ab = 1.0 - (-dt / 0.004f32).exp();
            self.bend += (c.bend - self.bend) * ab;
            self.seconds_since_on += dt;
            if self.released {
                self.seconds_since_off += dt;
            }
        }
        if self.glide_offset != 0.0 {
            let step = self.glide_step.min(self.glide_offset.abs());
            self.glide_offset -= step * self.glide_offset.signum();
        }

        // Vibrato fades in over 0.5 s on long notes; shorts and pizzicato get none.
        let mut vibrato = 0.0;
        if self.articulation.is_long() {
            let rate = PerformanceSettings::vibrato_rate_hz(c.vibrato_rate);
            self.vibrato_phase = (self.vibrato_phase + rate * dt).fract();
            let fade = (self.seconds_since_on / 0.5).min(1.0);
            let cents = s.max_vibrato_cents * self.vibrato_depth * fade;
            vibrato = cents / 100.0 * (std::f32::consts::TAU * self.vibrato_phase).sin();
        }
        let x = &self.expr;
        let expression_db = 40.0 * (self.expression * x.expression).max(1e-3).log10();
        let volume_db = 20.0 * x.volume.max(1e-6).log10();
        FrameControls {
            pitch: self.key as f32 + self.glide_offset + self.bend + vibrato + x.tuning,
            dynamic: (self.dynamic + 0.6 * (x.brightness - 0.5)).clamp(0.0, 1.0),
            level_db: s.dynamic_level_db(self.dynamic) + expression_db + volume_db,
        }
    }
}
