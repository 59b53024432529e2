//! Which controller carries a track's dynamics.
//!
//! Files carry dynamics in different places: Rosin's own CC1 (modulation, the usual dynamics
//! fader of orchestral libraries), CC2 (breath; MuseScore's single-note dynamics), CC11
//! (expression), CC7 (channel volume) or only in note velocities (most notation exports and
//! quartet files from the web). The default precedence, per track:
//!
//! 1. `--dynamic-cc N` when given;
//! 2. CC1 if the track has any;
//! 3. CC2, then CC11, then CC7, if the track moves it (two or more values: a single CC7 = 100
//!    or CC11 = 127 at the start is a mixer setting, not dynamics);
//! 4. velocity (every note's dynamic from its velocity, as when no CC1 ever arrives).
//!
//! The chosen controller drives the dynamic (timbre and level, like CC1); when it is CC11 it no
//! longer also acts as expression, which would apply it twice.

use rosin_core::performance::CcMap;
use rosin_core::MidiEvent;
use serde::Serialize;

/// Where a track's dynamics come from, for the render report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "from")]
pub enum DynamicSource {
    /// A controller: its number and why it was chosen.
    Controller { cc: u8, why: DynamicWhy },
    /// Note velocities only.
    Velocity,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DynamicWhy {
    /// `--dynamic-cc`.
    Flag,
    /// CC1 is in the track.
    Present,
    /// The track moves this controller and has no CC1.
    Moves,
}

impl std::fmt::Display for DynamicSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DynamicSource::Controller { cc, why: DynamicWhy::Flag } => write!(f, "CC{cc} (--dynamic-cc)"),
            DynamicSource::Controller { cc, .. } => write!(f, "CC{cc}"),
            DynamicSource::Velocity => write!(f, "velocity"),
        }
    }
}

/// Controllers read as dynamics after CC1, in order, when the track moves them.
pub const FALLBACK_DYNAMIC_CCS: [u8; 3] = [2, 11, 7];

/// The dynamic source of a track's events (see the module documentation).
pub fn choose_dynamic_source<'a>(
    events: impl Iterator<Item = &'a MidiEvent> + Clone,
    forced: Option<u8>,
) -> DynamicSource {
    if let Some(cc) = forced {
        return DynamicSource::Controller { cc, why: DynamicWhy::Flag };
    }
    let values = |wanted: u8| {
        let mut seen = [false; 128];
        for e in events.clone() {
            if let MidiEvent::ControlChange { cc, value } = *e {
                if cc == wanted {
                    seen[value as usize & 127] = true;
                }
            }
        }
        seen.iter().filter(|&&s| s).count()
    };
    let primary = CcMap::default().dynamic;
    if values(primary) > 0 {
        return DynamicSource::Controller { cc: primary, why: DynamicWhy::Present };
    }
    for cc in FALLBACK_DYNAMIC_CCS {
        if values(cc) >= 2 {
            return DynamicSource::Controller { cc, why: DynamicWhy::Moves };
        }
    }
    DynamicSource::Velocity
}

/// The controller map that plays `source`: the dynamic on its controller, and expression off
/// when that is the same controller.
pub fn cc_map_for(source: DynamicSource, base: &CcMap) -> CcMap {
    let mut map = *base;
    if let DynamicSource::Controller { cc, .. } = source {
        map.dynamic = cc;
        if map.expression == cc {
            map.expression = CcMap::NONE;
        }
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cc(cc: u8, value: u8) -> MidiEvent {
        MidiEvent::ControlChange { cc, value }
    }

    #[test]
    fn precedence_cc1_then_moving_cc2_cc11_cc7_then_velocity() {
        let pick = |events: &[MidiEvent]| choose_dynamic_source(events.iter(), None);
        assert_eq!(pick(&[cc(7, 100), cc(1, 64)]), DynamicSource::Controller { cc: 1, why: DynamicWhy::Present });
        assert_eq!(
            pick(&[cc(7, 100), cc(2, 40), cc(2, 80)]),
            DynamicSource::Controller { cc: 2, why: DynamicWhy::Moves }
        );
        assert_eq!(
            pick(&[cc(7, 100), cc(11, 40), cc(11, 80)]),
            DynamicSource::Controller { cc: 11, why: DynamicWhy::Moves }
        );
        assert_eq!(
            pick(&[cc(7, 100), cc(7, 60), cc(11, 127)]),
            DynamicSource::Controller { cc: 7, why: DynamicWhy::Moves }
        );
        // A mixer setting at the start is not dynamics.
        assert_eq!(pick(&[cc(7, 100), cc(11, 127), cc(10, 64)]), DynamicSource::Velocity);
        assert_eq!(
            choose_dynamic_source([cc(1, 3)].iter(), Some(11)),
            DynamicSource::Controller { cc: 11, why: DynamicWhy::Flag }
        );
    }

    #[test]
    fn cc11_as_dynamic_is_not_expression_too() {
        let map = cc_map_for(DynamicSource::Controller { cc: 11, why: DynamicWhy::Moves }, &CcMap::default());
        assert_eq!((map.dynamic, map.expression), (11, CcMap::NONE));
        let map = cc_map_for(DynamicSource::Velocity, &CcMap::default());
        assert_eq!(map, CcMap::default());
    }
}
