//! Every convention of the performance layer, as settings with orchestral-library defaults.

use crate::articulation::Articulation;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VoiceMode {
    Poly,
    /// One voice; overlapping notes glide to the new pitch without a new attack.
    MonoLegato,
}

/// Which controller number does what.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CcMap {
    pub dynamic: u8,
    pub expression: u8,
    pub vibrato_depth: u8,
    pub vibrato_rate: u8,
    pub articulation: u8,
    pub sustain: u8,
    /// Variation (see [`PerformanceSettings::variation`]): value 64 plays as recorded, 0 the
    /// averaged note, 127 about twice the recordings' fluctuation.
    #[serde(default = "default_variation_cc")]
    pub variation: u8,
}

fn default_variation_cc() -> u8 {
    CcMap::default().variation
}

impl CcMap {
    /// A controller number no MIDI message carries (they are 0..=127): a role mapped to it is
    /// off (say, expression when CC11 already drives the dynamic).
    pub const NONE: u8 = 255;
}

impl Default for CcMap {
    fn default() -> Self {
        CcMap {
            dynamic: 1,
            expression: 11,
            vibrato_depth: 21,
            vibrato_rate: 20,
            articulation: 32,
            sustain: 64,
            variation: 22,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerformanceSettings {
    pub cc: CcMap,
    /// Lowest keyswitch key; articulation i is `keyswitch_base + i` (default 12 = C0, C4 = 60).
    pub keyswitch_base: u8,
    pub keyswitches_enabled: bool,
    /// CC32 values (Spitfire UACC) that select each articulation.
    pub uacc: Vec<(u8, Articulation)>,
    /// Program numbers that select each articulation.
    pub programs: Vec<(u8, Articulation)>,
    pub bend_range_semitones: f32,
    pub voice_mode: VoiceMode,
    pub glide_seconds: f32,
    pub max_voices: usize,
    /// Release time to -60 dB after note-off (recordings of longs end at their loop, so the
    /// release is synthesised).
    pub release_seconds: f32,
    /// Level difference between dynamic 0 (pp) and 1 (ff).
    pub dynamic_range_db: f32,
    /// Vibrato depth (CC21) and rate (CC20) before any controller arrives, 0..127.
    pub default_vibrato_depth: u8,
    pub default_vibrato_rate: u8,
    /// Peak vibrato depth at CC21 = 127, in cents.
    pub max_vibrato_cents: f32,
    /// Time constant of controller smoothing (no zipper noise, still playable).
    pub smoothing_seconds: f32,
    pub articulation: Articulation,
    /// How much of the recordings' note-to-note and within-note fluctuation is played: 0 is the
    /// network's averaged note (every repetition identical), 1 as recorded, more exaggerates.
    #[serde(default = "default_variation")]
    pub variation: f32,
    /// Seed of the takes: with the same seed the same input plays the same takes (renders are
    /// reproducible); another seed plays other takes.
    #[serde(default)]
    pub seed: u64,
}

fn default_variation() -> f32 {
    1.0
}

impl Default for PerformanceSettings {
    fn default() -> Self {
        PerformanceSettings {
            cc: CcMap::default(),
            keyswitch_base: 12,
            keyswitches_enabled: true,
            uacc: Articulation::ALL.iter().map(|a| (a.default_uacc(), *a)).collect(),
            programs: Articulation::default_programs(),
            bend_range_semitones: 2.0,
            voice_mode: VoiceMode::Poly,
            glide_seconds: 0.08,
            max_voices: 64,
            release_seconds: 0.35,
            dynamic_range_db: 30.0,
            default_vibrato_depth: 40,
            default_vibrato_rate: 64,
            max_vibrato_cents: 40.0,
            smoothing_seconds: 0.02,
            articulation: Articulation::Sustain,
            variation: default_variation(),
            seed: 0,
        }
    }
}

impl PerformanceSettings {
    /// Slowest and fastest vibrato (CC20 at 0 and 127).
    pub const VIBRATO_RATE_RANGE_HZ: (f32, f32) = (3.5, 8.0);

    /// Vibrato rate in Hz for a CC value: 3.5 Hz .. 8 Hz, 5.75 Hz at 64.
    pub fn vibrato_rate_hz(value: f32) -> f32 {
        let (lo, hi) = Self::VIBRATO_RATE_RANGE_HZ;
        lo + (hi - lo) * (value / 127.0)
    }

    /// The CC20 value (0..127, fractional) for a vibrato rate in Hz: [`Self::vibrato_rate_hz`]'s
    /// inverse, for hosts that show the rate in Hz.
    pub fn vibrato_rate_cc(hz: f32) -> f32 {
        let (lo, hi) = Self::VIBRATO_RATE_RANGE_HZ;
        ((hz - lo) / (hi - lo) * 127.0).clamp(0.0, 127.0)
    }

    /// Variation for a controller value: 64 is 1 (as recorded), 0 is 0, 127 is 2 (the CC's
    /// scale; [`Self::variation_cc`] is its inverse).
    pub fn variation_from_cc(value: f32) -> f32 {
        (value.clamp(0.0, 127.0) / 63.5).min(2.0)
    }

    /// The controller value (0..127, fractional) for a variation.
    pub fn variation_cc(variation: f32) -> f32 {
        (variation * 63.5).clamp(0.0, 127.0)
    }

    /// Level in dB below ff for a dynamic in 0..1 (linear in dB).
    pub fn dynamic_level_db(&self, dynamic: f32) -> f32 {
        -self.dynamic_range_db * (1.0 - dynamic.clamp(0.0, 1.0))
    }
}
