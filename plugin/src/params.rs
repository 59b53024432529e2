//! The plugin's parameters (automatable) and persisted non-parameter state.
//!
//! Parameters map onto [`PerformanceSettings`] (read every block) or, for the continuous
//! performance controls (dynamic, expression, vibrato), set the engine's channel controllers
//! when they move, exactly as the matching MIDI CC would.

use crate::model_source::ModelField;
use nice_plug::prelude::*;
use rosin_core::performance::{CcMap, PerformanceSettings};
use rosin_core::room::RoomSettings;
use rosin_core::{stage, Articulation, Section, VoiceMode};
use std::sync::atomic::AtomicU32;
use std::sync::Arc;

/// Version of the plugin state layout. Version 0 (no field) had no model record; see
/// [`crate::Rosin::filter_state`] for the migration.
pub const STATE_VERSION: u32 = 1;

/// An enum parameter over one of the engine's enums, whose variants and names it takes from
/// the engine (`ALL`, `DISPLAY_NAMES`, `index`, `from_index`) instead of restating them. Values
/// are stored by index, as nice-plug's derive without ids does, so saved states stay valid.
macro_rules! engine_enum_param {
    ($(#[$doc:meta])* $param:ident($engine:ty)) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $param(pub $engine);

        impl Enum for $param {
            fn variants() -> &'static [&'static str] {
                &<$engine>::DISPLAY_NAMES
            }
            fn ids() -> Option<&'static [&'static str]> {
                None
            }
            fn to_index(self) -> usize {
                self.0.index()
            }
            fn from_index(index: usize) -> Self {
                $param(<$engine>::from_index(index).unwrap_or_default())
            }
        }
    };
}

engine_enum_param!(
    /// The section parameter: which embedded section plays.
    SectionParam(Section)
);
engine_enum_param!(
    /// The articulation parameter: what plays before a keyswitch, CC32 or program change picks another.
    ArticulationParam(Articulation)
);

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoiceModeParam {
    #[name = "Poly"]
    Poly,
    #[name = "Mono legato"]
    MonoLegato,
}

/// Where the section sits: in its seat on the stage (as `rosin render` seats it), or where the
/// Pan parameter says.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlacementParam {
    #[name = "Section's seat"]
    Seat,
    #[name = "Pan"]
    Pan,
}

impl VoiceModeParam {
    pub fn mode(self) -> VoiceMode {
        match self {
            VoiceModeParam::Poly => VoiceMode::Poly,
            VoiceModeParam::MonoLegato => VoiceMode::MonoLegato,
        }
    }
}

/// Rounds to a grid of `1 / per_unit`, so values that went through a host's normalised
/// round trip (state restore, VST3 controller sync) land exactly where they were; the grids
/// are far finer than anything audible.
pub fn snap(x: f32, per_unit: f32) -> f32 {
    (x * per_unit).round() / per_unit
}

#[derive(Params)]
pub struct RosinParams {
    /// Layout version of the saved state.
    #[persist = "state-version"]
    pub state_version: Arc<AtomicU32>,
    /// Which model is loaded: an embedded section or a model file.
    #[persist = "model"]
    pub model: ModelField,

    #[id = "section"]
    pub section: EnumParam<SectionParam>,
    #[id = "artic"]
    pub articulation: EnumParam<ArticulationParam>,
    #[id = "dynamic"]
    pub dynamic: FloatParam,
    #[id = "expression"]
    pub expression: FloatParam,
    #[id = "vib-depth"]
    pub vibrato_depth: FloatParam,
    #[id = "vib-rate"]
    pub vibrato_rate: FloatParam,
    #[id = "voice-mode"]
    pub voice_mode: EnumParam<VoiceModeParam>,
    #[id = "glide"]
    pub glide: FloatParam,
    #[id = "bend-range"]
    pub bend_range: IntParam,
    #[id = "release"]
    pub release: FloatParam,
    #[id = "dyn-range"]
    pub dynamic_range: FloatParam,
    #[id = "gain"]
    pub gain: FloatParam,
    /// How much of the recordings' fluctuation and take-to-take difference plays (0 the
    /// averaged note, 1 as recorded, 2 exaggerated).
    #[id = "variation"]
    pub variation: FloatParam,
    /// Seed of the takes: saved with the project, so a bounce repeats exactly.
    #[id = "seed"]
    pub seed: IntParam,

    /// Seat or the Pan parameter; CC10 moves the section either way.
    #[id = "placement"]
    pub placement: EnumParam<PlacementParam>,
    #[id = "pan"]
    pub pan: FloatParam,
    /// The hall: how much of it (0 dry), how long it rings, how soon it starts, how dark it is.
    #[id = "room-wet"]
    pub room_wet: FloatParam,
    #[id = "room-decay"]
    pub room_decay: FloatParam,
    #[id = "room-pre-delay"]
    pub room_pre_delay: FloatParam,
    #[id = "room-damping"]
    pub room_damping: FloatParam,

    #[id = "cc-dynamic"]
    pub cc_dynamic: IntParam,
    #[id = "cc-expression"]
    pub cc_expression: IntParam,
    #[id = "cc-vib-depth"]
    pub cc_vibrato_depth: IntParam,
    #[id = "cc-vib-rate"]
    pub cc_vibrato_rate: IntParam,
    #[id = "cc-artic"]
    pub cc_articulation: IntParam,
    #[id = "cc-sustain"]
    pub cc_sustain: IntParam,
    #[id = "cc-variation"]
    pub cc_variation: IntParam,
    #[id = "ks-enabled"]
    pub keyswitches: BoolParam,
    #[id = "ks-base"]
    pub keyswitch_base: IntParam,
}

/// "C", "40 L", "25 R": how mixers write a pan position.
fn pan_to_string(pan: f32) -> String {
    match (100.0 * pan).round() {
        p if p == 0.0 => "C".to_string(),
        p if p < 0.0 => format!("{:.0} L", -p),
        p => format!("{p:.0} R"),
    }
}

/// Reads what [`pan_to_string`] writes, and a plain number from -100 (left) to 100 (right).
fn pan_from_string(text: &str) -> Option<f32> {
    let t = text.trim().to_ascii_uppercase();
    if t == "C" || t == "CENTRE" || t == "CENTER" {
        return Some(0.0);
    }
    let (number, sign) = match t.strip_suffix('L').or_else(|| t.strip_prefix('L')) {
        Some(n) => (n, -1.0),
        None => match t.strip_suffix('R').or_else(|| t.strip_prefix('R')) {
            Some(n) => (n, 1.0),
            None => (t.as_str(), 1.0),
        },
    };
    let v: f32 = number.trim().parse().ok()?;
    Some((sign * v / 100.0).clamp(-1.0, 1.0))
}

fn cc_param(name: &str, default: u8) -> IntParam {
    IntParam::new(name, default as i32, IntRange::Linear { min: 0, max: 127 })
        .with_value_to_string(Arc::new(|v| format!("CC{v}")))
        .with_string_to_value(Arc::new(|s| s.trim().trim_start_matches("CC").trim().parse().ok()))
}

impl Default for RosinParams {
    fn default() -> Self {
        let d = PerformanceSettings::default();
        let room = RoomSettings::default();
        let seconds = |digits| formatters::v2s_f32_rounded(digits);
        RosinParams {
            state_version: Arc::new(AtomicU32::new(STATE_VERSION)),
            model: ModelField::default(),
            section: EnumParam::new("Section", SectionParam(Section::Violins)),
            articulation: EnumParam::new("Articulation", ArticulationParam(d.articulation)),
            dynamic: FloatParam::new("Dynamic", 0.5, FloatRange::Linear { min: 0.0, max: 1.0 })
                .with_value_to_string(formatters::v2s_f32_percentage(0))
                .with_string_to_value(formatters::s2v_f32_percentage())
                .with_unit("%"),
            expression: FloatParam::new("Expression", 1.0, FloatRange::Linear { min: 0.0, max: 1.0 })
                .with_value_to_string(formatters::v2s_f32_percentage(0))
                .with_string_to_value(formatters::s2v_f32_percentage())
                .with_unit("%"),
            vibrato_depth: FloatParam::new(
                "Vibrato depth",
                d.default_vibrato_depth as f32 / 127.0,
                FloatRange::Linear { min: 0.0, max: 1.0 },
            )
            .with_value_to_string(formatters::v2s_f32_percentage(0))
            .with_string_to_value(formatters::s2v_f32_percentage())
            .with_unit("%"),
            vibrato_rate: FloatParam::new(
                "Vibrato rate",
                PerformanceSettings::vibrato_rate_hz(d.default_vibrato_rate as f32),
                {
                    let (min, max) = PerformanceSettings::VIBRATO_RATE_RANGE_HZ;
                    FloatRange::Linear { min, max }
                },
            )
            .with_value_to_string(seconds(2))
            .with_unit(" Hz"),
            voice_mode: EnumParam::new("Voice mode", VoiceModeParam::Poly),
            glide: FloatParam::new(
                "Glide",
                d.glide_seconds,
                FloatRange::Skewed { min: 0.0, max: 1.0, factor: FloatRange::skew_factor(-1.5) },
            )
            .with_value_to_string(seconds(3))
            .with_unit(" s"),
            bend_range: IntParam::new(
                "Bend range",
                d.bend_range_semitones as i32,
                IntRange::Linear { min: 0, max: 24 },
            )
            .with_unit(" st"),
            release: FloatParam::new(
                "Release",
                d.release_seconds,
                FloatRange::Skewed { min: 0.01, max: 5.0, factor: FloatRange::skew_factor(-1.5) },
            )
            .with_value_to_string(seconds(2))
            .with_unit(" s"),
            dynamic_range: FloatParam::new(
                "Dynamic range",
                d.dynamic_range_db,
                FloatRange::Linear { min: 0.0, max: 60.0 },
            )
            .with_value_to_string(seconds(1))
            .with_unit(" dB"),
            gain: FloatParam::new(
                "Output gain",
                util::db_to_gain(0.0),
                FloatRange::Skewed {
                    min: util::db_to_gain(-60.0),
                    max: util::db_to_gain(12.0),
                    factor: FloatRange::gain_skew_factor(-60.0, 12.0),
                },
            )
            .with_smoother(SmoothingStyle::Logarithmic(30.0))
            .with_unit(" dB")
            .with_value_to_string(formatters::v2s_f32_gain_to_db(1))
            .with_string_to_value(formatters::s2v_f32_gain_to_db()),
            variation: FloatParam::new("Variation", d.variation, FloatRange::Linear { min: 0.0, max: 2.0 })
                .with_value_to_string(formatters::v2s_f32_percentage(0))
                .with_string_to_value(formatters::s2v_f32_percentage())
                .with_unit("%"),
            seed: IntParam::new("Take seed", d.seed as i32, IntRange::Linear { min: 0, max: 9_999 }),
            placement: EnumParam::new("Placement", PlacementParam::Seat),
            pan: FloatParam::new("Pan", 0.0, FloatRange::Linear { min: -1.0, max: 1.0 })
                .with_value_to_string(Arc::new(pan_to_string))
                .with_string_to_value(Arc::new(pan_from_string)),
            room_wet: FloatParam::new("Room", room.wet, FloatRange::Linear { min: 0.0, max: 1.0 })
                .with_value_to_string(formatters::v2s_f32_percentage(0))
                .with_string_to_value(formatters::s2v_f32_percentage())
                .with_unit("%"),
            room_decay: FloatParam::new("Room decay", room.decay_s, {
                let (min, max) = RoomSettings::DECAY_RANGE;
                FloatRange::Skewed { min, max, factor: FloatRange::skew_factor(-1.0) }
            })
            .with_value_to_string(seconds(2))
            .with_unit(" s"),
            room_pre_delay: FloatParam::new("Pre-delay", 1000.0 * room.pre_delay_s, {
                let (min, max) = RoomSettings::PRE_DELAY_RANGE;
                FloatRange::Linear { min: 1000.0 * min, max: 1000.0 * max }
            })
            .with_value_to_string(seconds(1))
            .with_unit(" ms"),
            room_damping: FloatParam::new("Room damping", room.damping, FloatRange::Linear { min: 0.0, max: 1.0 })
                .with_value_to_string(formatters::v2s_f32_percentage(0))
                .with_string_to_value(formatters::s2v_f32_percentage())
                .with_unit("%"),
            cc_dynamic: cc_param("Dynamic CC", d.cc.dynamic),
            cc_expression: cc_param("Expression CC", d.cc.expression),
            cc_vibrato_depth: cc_param("Vibrato depth CC", d.cc.vibrato_depth),
            cc_vibrato_rate: cc_param("Vibrato rate CC", d.cc.vibrato_rate),
            cc_articulation: cc_param("Articulation CC (UACC)", d.cc.articulation),
            cc_sustain: cc_param("Sustain pedal CC", d.cc.sustain),
            cc_variation: cc_param("Variation CC", d.cc.variation),
            keyswitches: BoolParam::new("Keyswitches", d.keyswitches_enabled),
            keyswitch_base: IntParam::new(
                "Keyswitch base",
                d.keyswitch_base as i32,
                IntRange::Linear { min: 0, max: 124 },
            )
            .with_value_to_string(formatters::v2s_i32_key_formatter())
            .with_string_to_value(formatters::s2v_i32_key_formatter()),
        }
    }
}

impl RosinParams {
    /// The Vibrato depth parameter as the controller value (0..127) it stands for. New notes and
    /// a controller reset (CC121, which hosts send on transport start) take it from the
    /// settings, and moving the parameter sets the controller to the same value: one value
    /// whichever way it arrives (an unrounded depth once played differently after a reopen).
    pub fn vibrato_depth_cc(&self) -> u8 {
        (self.vibrato_depth.value() * 127.0).round().clamp(0.0, 127.0) as u8
    }

    /// The Vibrato rate parameter as its controller value (0..127), for the same reason.
    pub fn vibrato_rate_cc(&self) -> u8 {
        PerformanceSettings::vibrato_rate_cc(self.vibrato_rate.value()).round().clamp(0.0, 127.0) as u8
    }

    /// Writes every parameter-driven setting into `s` in place (no allocation).
    pub fn apply_to(&self, s: &mut PerformanceSettings) {
        s.articulation = self.articulation.value().0;
        s.voice_mode = self.voice_mode.value().mode();
        s.glide_seconds = snap(self.glide.value(), 10_000.0);
        s.bend_range_semitones = self.bend_range.value() as f32;
        s.release_seconds = snap(self.release.value(), 10_000.0);
        s.dynamic_range_db = snap(self.dynamic_range.value(), 100.0);
        s.default_vibrato_depth = self.vibrato_depth_cc();
        s.default_vibrato_rate = self.vibrato_rate_cc();
        s.variation = snap(self.variation.value(), 10_000.0);
        s.seed = self.seed.value().max(0) as u64;
        s.cc = CcMap {
            dynamic: self.cc_dynamic.value() as u8,
            expression: self.cc_expression.value() as u8,
            vibrato_depth: self.cc_vibrato_depth.value() as u8,
            vibrato_rate: self.cc_vibrato_rate.value() as u8,
            articulation: self.cc_articulation.value() as u8,
            sustain: self.cc_sustain.value() as u8,
            variation: self.cc_variation.value() as u8,
        };
        s.keyswitches_enabled = self.keyswitches.value();
        s.keyswitch_base = self.keyswitch_base.value() as u8;
    }

    /// Where the section sits when CC10 does not say: its seat, or the Pan parameter.
    pub fn pan_setting(&self) -> f32 {
        match self.placement.value() {
            PlacementParam::Seat => stage::seat(self.section.value().0),
            PlacementParam::Pan => snap(self.pan.value(), 10_000.0),
        }
    }

    /// The hall as the parameters set it (on the grids a host's round trip lands on exactly).
    pub fn room_settings(&self) -> RoomSettings {
        RoomSettings {
            pre_delay_s: snap(self.room_pre_delay.value(), 10.0) / 1000.0,
            decay_s: snap(self.room_decay.value(), 1000.0),
            damping: snap(self.room_damping.value(), 10_000.0),
            wet: snap(self.room_wet.value(), 10_000.0),
        }
    }

    /// Settings for a new engine: the engine's defaults overridden by the parameters.
    pub fn settings(&self) -> PerformanceSettings {
        let mut s = PerformanceSettings::default();
        self.apply_to(&mut s);
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pan_reads_back_what_it_writes() {
        for pan in [-1.0f32, -0.55, 0.0, 0.4, 1.0] {
            assert_eq!(pan_from_string(&pan_to_string(pan)), Some(pan), "{}", pan_to_string(pan));
        }
        assert_eq!(pan_to_string(-0.55), "55 L");
        assert_eq!(pan_from_string("r 30"), Some(0.3));
        assert_eq!(pan_from_string("-20"), Some(-0.2));
        assert_eq!(pan_from_string("left"), None);
    }

    #[test]
    fn default_room_and_seat_are_the_engine_defaults() {
        let p = RosinParams::default();
        assert_eq!(p.room_settings(), RoomSettings::default());
        assert_eq!(p.pan_setting(), stage::seat(Section::Violins));
    }
}
