//! Placing the tracks of a render on a stage: each track's pan over time, from `--pan`, the
//! file's CC10 or the seating, and the stereo stem it makes of the engine's mono output.
//!
//! The seating, the pan law, CC10's scale and the panner are [`rosin_core::stage`]'s, shared
//! with the plugin. A file's CC10 is
//! honoured when it places the track: a value away from the centre, or one that moves. A lone
//! CC10 of 63–65 at the start is what notation programs export for every part whatever the
//! score says (MuseScore 3 writes 63), so it leaves the track in its seat (`--pan N=0` centres a
//! track for certain).

use super::TrackPlan;
use rosin_core::performance::MidiEvent;
pub use rosin_core::stage::EXPORTED_CENTRE;
use rosin_core::stage::{pan_from_cc10, Panner, SEATS};
use serde::Serialize;

/// Seats per section, for its first, second, … track (further tracks share the last seat).
#[derive(Debug, Clone, PartialEq)]
pub struct Seating {
    pub seats: Vec<(String, Vec<f32>)>,
}

impl Default for Seating {
    fn default() -> Self {
        Seating { seats: SEATS.iter().map(|(section, seats)| (section.name().to_string(), seats.to_vec())).collect() }
    }
}

impl Seating {
    /// The seat of the `nth` (0-based) track playing `section`; the centre for a section the
    /// seating does not know (a model of one's own under another name).
    pub fn seat(&self, section: &str, nth: usize) -> f32 {
        self.seats
            .iter()
            .find(|(s, _)| s == section)
            .and_then(|(_, seats)| seats.get(nth).or(seats.last()).copied())
            .unwrap_or(0.0)
    }

    /// Moves every seat of `section` to `pan` (`--seat SECTION=PAN`).
    pub fn set(&mut self, section: &str, pan: f32) {
        match self.seats.iter_mut().find(|(s, _)| s == section) {
            Some((_, seats)) => *seats = vec![pan],
            None => self.seats.push((section.to_string(), vec![pan])),
        }
    }
}

/// Why a track sits where it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlacementSource {
    /// `--pan N=PAN`.
    Flag,
    /// The file's CC10.
    Cc10,
    /// The seating of its section.
    Seat,
    /// `--mono`: no placement.
    Mono,
}

/// A track's place: where it starts, why, and how often the file's CC10 moves it after that.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Placement {
    pub pan: f32,
    pub why: PlacementSource,
    pub moves: usize,
    /// (sample, pan) from the start: the pan the track moves to at each sample position.
    #[serde(skip)]
    pub timeline: Vec<(u64, f32)>,
}

impl std::fmt::Display for Placement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let side = |p: f32| match p {
            p if p.abs() < 0.005 => "centre".to_string(),
            p if p < 0.0 => format!("pan {:.0}% left", -100.0 * p),
            p => format!("pan {:.0}% right", 100.0 * p),
        };
        match self.why {
            PlacementSource::Mono => write!(f, "mono"),
            PlacementSource::Flag => write!(f, "{} (--pan)", side(self.pan)),
            PlacementSource::Seat => write!(f, "{} (seat)", side(self.pan)),
            PlacementSource::Cc10 if self.moves > 0 => {
                write!(f, "{} (CC10, then {} moves)", side(self.pan), self.moves)
            }
            PlacementSource::Cc10 => write!(f, "{} (CC10)", side(self.pan)),
        }
    }
}

/// Each track's placement. `track_pans` are the `--pan` choices by track number.
pub fn place_tracks(plans: &[TrackPlan], seating: &Seating, track_pans: &[(usize, f32)]) -> Vec<Placement> {
    let mut seen: Vec<(&str, usize)> = Vec::new();
    plans
        .iter()
        .map(|plan| {
            let nth = match seen.iter_mut().find(|(s, _)| *s == plan.section) {
                Some((_, n)) => {
                    *n += 1;
                    *n
                }
                None => {
                    seen.push((&plan.section, 0));
                    0
                }
            };
            if let Some(&(_, pan)) = track_pans.iter().find(|(n, _)| *n == plan.track) {
                return Placement { pan, why: PlacementSource::Flag, moves: 0, timeline: vec![(0, pan)] };
            }
            let cc10: Vec<(u64, u8)> = plan
                .events
                .iter()
                .filter_map(|&(t, e)| match e {
                    MidiEvent::ControlChange { cc: 10, value } => Some((t, value)),
                    _ => None,
                })
                .collect();
            let moves = cc10.windows(2).filter(|w| w[0].1 != w[1].1).count();
            if moves > 0 || cc10.iter().any(|&(_, v)| !EXPORTED_CENTRE.contains(&v)) {
                let mut timeline: Vec<(u64, f32)> = cc10.iter().map(|&(t, v)| (t, pan_from_cc10(v))).collect();
                // Before the first CC10 the track already sits where it first goes.
                timeline[0].0 = 0;
                return Placement { pan: timeline[0].1, why: PlacementSource::Cc10, moves, timeline };
            }
            let pan = seating.seat(&plan.section, nth);
            Placement { pan, why: PlacementSource::Seat, moves: 0, timeline: vec![(0, pan)] }
        })
        .collect()
}

/// The mono `audio` placed by `timeline` as interleaved stereo (left, right), through the same
/// [`Panner`] the plugin plays through.
pub fn to_stereo(audio: &[f32], timeline: &[(u64, f32)], sample_rate: u32) -> Vec<f32> {
    let mut panner = Panner::new(timeline.first().map_or(0.0, |p| p.1), sample_rate as f32);
    let mut left = audio.to_vec();
    let mut right = vec![0.0f32; audio.len()];
    let mut pos = 0;
    for &(at, pan) in timeline.iter().skip(1) {
        let at = (at as usize).clamp(pos, audio.len());
        panner.process(&mut left[pos..at], &mut right[pos..at]);
        panner.move_to(pan);
        pos = at;
    }
    panner.process(&mut left[pos..], &mut right[pos..]);
    left.iter().zip(&right).flat_map(|(l, r)| [*l, *r]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rosin_core::model::fixture;
    use rosin_core::PerformanceSettings;
    use std::sync::Arc;

    fn plan(track: usize, section: &str, events: Vec<(u64, MidiEvent)>) -> TrackPlan {
        let model = Arc::new(fixture::fixed_spectrum_model(8, 8, 8, 1));
        TrackPlan::from_events(track, "t", section, model, events, &PerformanceSettings::default())
    }
    fn cc10(t: u64, value: u8) -> (u64, MidiEvent) {
        (t, MidiEvent::ControlChange { cc: 10, value })
    }

    #[test]
    fn seats_flags_and_cc10_in_that_order_of_strength() {
        let plans = vec![
            plan(1, "violins", vec![cc10(0, 63)]),
            plan(2, "violins", vec![]),
            plan(3, "violas", vec![cc10(100, 0), cc10(200, 127)]),
            plan(4, "celli", vec![cc10(0, 20)]),
            plan(5, "basses", vec![]),
            plan(6, "fiddle", vec![]),
            plan(7, "violins", vec![]),
        ];
        let p = place_tracks(&plans, &Seating::default(), &[(4, 0.9)]);
        // A lone centre CC10 keeps the seat; the second violins sit inside the first.
        assert_eq!((p[0].pan, p[0].why), (-0.55, PlacementSource::Seat));
        assert_eq!((p[1].pan, p[1].why), (-0.25, PlacementSource::Seat));
        assert_eq!((p[2].pan, p[2].why, p[2].moves), (-1.0, PlacementSource::Cc10, 1));
        assert_eq!(p[2].timeline, vec![(0, -1.0), (200, 1.0)]);
        assert_eq!((p[3].pan, p[3].why), (0.9, PlacementSource::Flag), "--pan wins over CC10");
        assert_eq!(p[4].pan, 0.6);
        assert_eq!(p[5].pan, 0.0, "an unknown section sits in the centre");
        assert_eq!(p[6].pan, -0.25, "a third violin track shares the last violin seat");
        let mut seating = Seating::default();
        seating.set("violins", -0.1);
        seating.set("fiddle", 0.3);
        let p = place_tracks(&plans, &seating, &[]);
        assert_eq!((p[0].pan, p[1].pan, p[5].pan), (-0.1, -0.1, 0.3));
    }

    #[test]
    fn stereo_keeps_the_power_and_glides_between_positions() {
        let audio = vec![0.5f32; 4800];
        let out = to_stereo(&audio, &[(0, -1.0), (2400, 1.0)], 48_000);
        assert_eq!(out.len(), 9600);
        assert_eq!((out[0], out[1]), (0.5, 0.0));
        let last = out.len() - 2;
        assert!(out[last].abs() < 1e-6 && (out[last + 1] - 0.5).abs() < 1e-6);
        for f in out.chunks(2) {
            assert!(((f[0] * f[0] + f[1] * f[1]) - 0.25).abs() < 1e-5, "power kept");
        }
        // The move takes 10 ms (480 samples), not one sample.
        let mid = 2 * (2400 + 240);
        assert!(out[mid] > 0.1 && out[mid + 1] > 0.1, "{} {}", out[mid], out[mid + 1]);
        assert!(out[2 * 2400 + 2 * 480 + 2] < 1e-6);
        let centre = to_stereo(&[1.0], &[(0, 0.0)], 48_000);
        assert!((centre[0] - centre[1]).abs() < 1e-7);
    }
}
