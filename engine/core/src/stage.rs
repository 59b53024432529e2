//! Where a section sits on the stage: the seating, the pan law, the scale of MIDI CC10 and the
//! panner that glides between positions, kept here so the offline render and the plugin place a
//! section the same way, sample for sample.
//!
//! The seating is the modern ("American") one, seen from the audience: first violins left,
//! second violins beside them, violas centre-right, celli right, basses behind the celli further
//! right.

use crate::room::{Room, RoomSettings};
use crate::section::Section;

/// Seats (pan positions) of each section, for its first, second, … part: `rosin render`'s
/// default stage and the plugin's "Section's seat" placement.
pub const SEATS: [(Section, &[f32]); 4] = [
    (Section::Violins, &[-0.55, -0.25]),
    (Section::Violas, &[0.15]),
    (Section::Celli, &[0.4]),
    (Section::Basses, &[0.6]),
];

/// The seat of a section's first part.
pub fn seat(section: Section) -> f32 {
    SEATS.iter().find(|(s, _)| *s == section).map_or(0.0, |(_, seats)| seats[0])
}

/// CC10 values that notation programs write for a part nobody panned (MuseScore 3 writes 63,
/// others 64): alone, they leave a part in its seat.
pub const EXPORTED_CENTRE: std::ops::RangeInclusive<u8> = 63..=65;

/// How long a pan move takes: a new position (a CC10 step, a moved parameter) glides over 10 ms
/// instead of clicking.
pub const PAN_GLIDE_SECONDS: f64 = 0.010;

/// Constant-power gains (left, right) for `pan` in -1 (hard left) … 0 (centre) … +1 (hard
/// right): the two gains' squares sum to 1, so a section keeps its loudness wherever it sits
/// (the centre is -3 dB per channel, 0 dB summed in power).
pub fn pan_gains(pan: f32) -> (f32, f32) {
    let angle = (pan.clamp(-1.0, 1.0) + 1.0) * std::f32::consts::FRAC_PI_4;
    (angle.cos(), angle.sin())
}

/// MIDI CC10 as a pan position: 64 is the centre, 0 hard left, 127 hard right (the two halves
/// have 64 and 63 steps, as the MIDI spec's pan has).
pub fn pan_from_cc10(value: u8) -> f32 {
    let v = value.min(127) as f32;
    if v < 64.0 {
        (v - 64.0) / 64.0
    } else {
        (v - 64.0) / 63.0
    }
}

/// Places a mono signal in stereo at a pan position that glides to each new position over
/// [`PAN_GLIDE_SECONDS`]. Sample by sample, so the output does not depend on block sizes.
#[derive(Debug, Clone)]
pub struct Panner {
    glide: usize,
    pan: f32,
    from: f32,
    target: f32,
    left_in_glide: usize,
}

impl Panner {
    pub fn new(pan: f32, sample_rate: f32) -> Panner {
        let glide = ((PAN_GLIDE_SECONDS * sample_rate as f64) as usize).max(1);
        Panner { glide, pan, from: pan, target: pan, left_in_glide: 0 }
    }

    /// Where the panner is heading (the position it sits at once a glide ends).
    pub fn target(&self) -> f32 {
        self.target
    }

    /// Glides from where it is now to `pan`.
    pub fn move_to(&mut self, pan: f32) {
        if pan != self.target {
            (self.from, self.target, self.left_in_glide) = (self.pan, pan, self.glide);
        }
    }

    /// Sits at `pan` at once (a reset, a new engine).
    pub fn jump_to(&mut self, pan: f32) {
        (self.pan, self.from, self.target, self.left_in_glide) = (pan, pan, pan, 0);
    }

    /// Pans the mono signal in `left` into `left` and `right` (same lengths).
    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        for (l, r) in left.iter_mut().zip(right.iter_mut()) {
            if self.left_in_glide > 0 {
                self.left_in_glide -= 1;
                self.pan = self.target + (self.from - self.target) * self.left_in_glide as f32 / self.glide as f32;
            }
            let (gl, gr) = pan_gains(self.pan);
            let x = *l;
            *l = x * gl;
            *r = x * gr;
        }
    }
}

/// A live part's position from its pan setting and MIDI CC10: whichever moved last wins, as a
/// knob and the controller mapped to it would. A CC10 inside [`EXPORTED_CENTRE`] counts only
/// once the part has had a CC10 outside it (as `rosin render` ignores a lone exported centre), so
/// a MIDI file from a notation program leaves the part in its seat.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PanControl {
    setting: f32,
    cc10: Option<f32>,
    cc10_placed: bool,
}

impl PanControl {
    pub fn new(setting: f32) -> PanControl {
        PanControl { setting, cc10: None, cc10_placed: false }
    }

    /// The position to play at.
    pub fn position(&self) -> f32 {
        self.cc10.unwrap_or(self.setting)
    }

    /// The setting (a parameter, the seat): when it moves, it takes over from CC10.
    pub fn set(&mut self, setting: f32) {
        if setting != self.setting {
            self.setting = setting;
            self.cc10 = None;
        }
    }

    pub fn cc10(&mut self, value: u8) {
        self.cc10_placed |= !EXPORTED_CENTRE.contains(&value);
        if self.cc10_placed {
            self.cc10 = Some(pan_from_cc10(value));
        }
    }

    /// Back to the setting, CC10 forgotten (a reset; not CC121, which by the MIDI spec's
    /// RP-015 leaves pan alone).
    pub fn reset(&mut self) {
        *self = PanControl::new(self.setting);
    }
}

/// A live part's way onto the stage, mono in, stereo out: placed by its pan setting and CC10
/// ([`PanControl`], [`Panner`]), then the hall ([`Room`]) around it. The plugin's output; one
/// `rosin render` stem with `--wet-stems`, sample for sample. Allocates only in [`Self::new`].
pub struct LiveStage {
    control: PanControl,
    panner: Panner,
    room: Room,
    /// The room was skipped (wet 0) and holds stale input: cleared before it plays again.
    room_idle: bool,
    sample_rate: f32,
}

impl LiveStage {
    pub fn new(pan: f32, room: RoomSettings, sample_rate: f32) -> LiveStage {
        LiveStage {
            control: PanControl::new(pan),
            panner: Panner::new(pan, sample_rate),
            room: Room::new(room, sample_rate),
            room_idle: false,
            sample_rate,
        }
    }

    pub fn sample_rate(&self) -> f32 {
        self.sample_rate
    }

    /// The pan setting (read every block): a move glides there and takes over from CC10.
    pub fn set_pan(&mut self, setting: f32) {
        self.control.set(setting);
        self.panner.move_to(self.control.position());
    }

    /// MIDI CC10 at the current sample.
    pub fn cc10(&mut self, value: u8) {
        self.control.cc10(value);
        self.panner.move_to(self.control.position());
    }

    /// The room's settings (read every block); a change allocates nothing.
    pub fn set_room(&mut self, settings: RoomSettings) {
        if settings.clamped() != self.room.settings() {
            self.room.set_settings(settings);
        }
    }

    /// Pans the mono signal in `left` into `left` and `right`: call it for each stretch between
    /// events, so a CC10 acts at its own sample.
    pub fn place(&mut self, left: &mut [f32], right: &mut [f32]) {
        self.panner.process(left, right);
    }

    /// Adds the room to the placed block.
    pub fn add_room(&mut self, left: &mut [f32], right: &mut [f32]) {
        if self.room.settings().wet == 0.0 {
            self.room_idle = true;
            return;
        }
        if self.room_idle {
            self.room.reset();
            self.room_idle = false;
        }
        self.room.process(left, right);
    }

    /// Silence and the setting's position (a transport jump, a new song): the room emptied, CC10
    /// forgotten, the panner at the setting at once.
    pub fn reset(&mut self) {
        self.control.reset();
        self.panner.jump_to(self.control.position());
        self.room.reset();
        self.room_idle = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_power_from_left_to_right() {
        let (l, r) = pan_gains(-1.0);
        assert!((l - 1.0).abs() < 1e-6 && r.abs() < 1e-6);
        let (l, r) = pan_gains(1.0);
        assert!(l.abs() < 1e-6 && (r - 1.0).abs() < 1e-6);
        let (l, r) = pan_gains(0.0);
        assert!((l - r).abs() < 1e-6 && (20.0 * l.log10() + 3.01).abs() < 0.01);
        for i in -10..=10 {
            let (l, r) = pan_gains(i as f32 / 10.0);
            assert!((l * l + r * r - 1.0).abs() < 1e-5);
        }
        assert_eq!(pan_gains(5.0), pan_gains(1.0));
    }

    #[test]
    fn cc10_centre_and_ends() {
        assert_eq!(pan_from_cc10(64), 0.0);
        assert_eq!(pan_from_cc10(0), -1.0);
        assert_eq!(pan_from_cc10(127), 1.0);
        assert!(pan_from_cc10(32) < 0.0 && pan_from_cc10(96) > 0.0);
    }

    #[test]
    fn the_panner_glides_and_does_not_depend_on_blocks() {
        let sr = 48_000.0;
        let mut whole = Panner::new(-1.0, sr);
        let (mut l, mut r) = (vec![0.5f32; 2000], vec![0.0f32; 2000]);
        whole.process(&mut l[..100], &mut r[..100]);
        whole.move_to(1.0);
        whole.process(&mut l[100..], &mut r[100..]);
        assert_eq!((l[0], r[0]), (0.5, 0.0));
        assert!(l[100 + 240] > 0.1 && r[100 + 240] > 0.1, "halfway through the 10 ms glide");
        assert!(l[100 + 480] < 1e-6 && (r[100 + 480] - 0.5).abs() < 1e-6);
        let mut blocks = Panner::new(-1.0, sr);
        let (mut l2, mut r2) = (vec![0.5f32; 2000], vec![0.0f32; 2000]);
        for (a, b) in [(0, 7), (7, 100), (100, 101), (101, 613), (613, 2000)] {
            if a == 100 {
                blocks.move_to(1.0);
            }
            blocks.process(&mut l2[a..b], &mut r2[a..b]);
        }
        assert!(l == l2 && r == r2);
        blocks.jump_to(0.0);
        let (mut x, mut y) = ([1.0f32], [0.0f32]);
        blocks.process(&mut x, &mut y);
        assert_eq!((x[0], y[0]), pan_gains(0.0));
    }

    #[test]
    fn the_latest_of_setting_and_cc10_wins_and_a_lone_exported_centre_is_ignored() {
        let mut p = PanControl::new(seat(Section::Violins));
        p.cc10(63);
        assert_eq!(p.position(), -0.55, "a lone exported centre keeps the seat");
        p.cc10(100);
        assert!(p.position() > 0.5);
        p.cc10(64);
        assert_eq!(p.position(), 0.0, "after a real move, the centre counts");
        p.set(-0.55);
        assert_eq!(p.position(), 0.0, "an unmoved setting leaves CC10 in charge");
        p.set(0.3);
        assert_eq!(p.position(), 0.3, "a moved setting takes over");
        p.cc10(0);
        p.reset();
        assert_eq!(p.position(), 0.3);
        p.cc10(64);
        assert_eq!(p.position(), 0.3, "reset forgets that CC10 had placed the part");
    }
}
