//! A hall around the sections: pre-delay, early reflections and a feedback delay network.
//!
//! The late tail is Jot's feedback delay network: eight delay lines of mutually prime lengths
//! (30–74 ms) mixed through an orthogonal (Hadamard) matrix, each line losing what a room of the
//! chosen decay time (T60) loses over its length, with a one-pole low-pass in every line so the
//! highs die sooner (damping). Left and right read the lines with orthogonal sign patterns, so
//! the tail is decorrelated between the channels as a room's is. Early reflections are taps of
//! the pre-delayed input, each from its own side, so the placement survives into the room.
//!
//! Everything is allocated in [`Room::new`]; [`Room::process`] allocates nothing, takes no lock
//! and runs sample by sample, so the output does not depend on block sizes.

/// The hall's settings (what a user turns).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoomSettings {
    /// Time from the direct sound to the first reflection, in seconds (0 to 0.2).
    pub pre_delay_s: f32,
    /// Time for the tail to fall 60 dB at low and middle frequencies, in seconds (0.2 to 10).
    pub decay_s: f32,
    /// How much sooner the highs die: 0 as long as the mids, 1 much sooner.
    pub damping: f32,
    /// Level of the room (early reflections and tail) added to the dry sound, 0 to 1.
    pub wet: f32,
}

impl Default for RoomSettings {
    /// A medium concert hall, heard from the conductor's desk.
    fn default() -> Self {
        RoomSettings { pre_delay_s: 0.02, decay_s: 2.0, damping: 0.5, wet: 0.3 }
    }
}

impl RoomSettings {
    pub const PRE_DELAY_RANGE: (f32, f32) = (0.0, 0.2);
    pub const DECAY_RANGE: (f32, f32) = (0.2, 10.0);

    /// How long after the input stops the room is still audible (to -60 dB), in seconds: the
    /// length a render's tail needs.
    pub fn tail_seconds(self) -> f32 {
        let s = self.clamped();
        s.pre_delay_s + s.decay_s
    }

    /// The settings forced into their ranges (NaN to the defaults).
    pub fn clamped(self) -> RoomSettings {
        let d = RoomSettings::default();
        let c = |v: f32, lo: f32, hi: f32, def: f32| if v.is_nan() { def } else { v.clamp(lo, hi) };
        RoomSettings {
            pre_delay_s: c(self.pre_delay_s, Self::PRE_DELAY_RANGE.0, Self::PRE_DELAY_RANGE.1, d.pre_delay_s),
            decay_s: c(self.decay_s, Self::DECAY_RANGE.0, Self::DECAY_RANGE.1, d.decay_s),
            damping: c(self.damping, 0.0, 1.0, d.damping),
            wet: c(self.wet, 0.0, 1.0, d.wet),
        }
    }
}

const LINES: usize = 8;
/// Delay-line lengths in milliseconds: mutually prime at 48 kHz, spread so the echo density
/// builds quickly without a flutter.
const LINE_MS: [f32; LINES] = [29.7, 37.1, 41.1, 43.7, 53.3, 59.9, 67.1, 73.7];
/// Early reflections: (milliseconds after the pre-delay, gain, side: 0 left input to left, 1
/// right input to right).
const EARLY: [(f32, f32, usize); 8] = [
    (0.0, 0.42, 0),
    (3.1, 0.40, 1),
    (7.9, 0.33, 0),
    (11.3, 0.31, 1),
    (17.2, 0.25, 0),
    (19.9, 0.24, 1),
    (26.3, 0.18, 0),
    (31.7, 0.17, 1),
];
/// Sign patterns with which the channels read the lines: orthogonal, so the tails decorrelate.
const LEFT_SIGNS: [f32; LINES] = [1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0];
const RIGHT_SIGNS: [f32; LINES] = [1.0, 1.0, -1.0, -1.0, 1.0, 1.0, -1.0, -1.0];

/// A duration in milliseconds as a whole number of samples (at least one).
fn ms_to_samples(ms: f32, sample_rate: f32) -> usize {
    ((ms * 0.001 * sample_rate).round() as usize).max(1)
}

/// A circular delay buffer.
struct Delay {
    buf: Vec<f32>,
    pos: usize,
}

impl Delay {
    fn new(len: usize) -> Delay {
        Delay { buf: vec![0.0; len.max(1)], pos: 0 }
    }
    /// The sample written `len()` samples ago.
    fn read(&self) -> f32 {
        self.buf[self.pos]
    }
    /// The sample written `ago` writes before the last one (0: the last one; up to len - 1).
    fn tap(&self, ago: usize) -> f32 {
        let n = self.buf.len();
        self.buf[(self.pos + 2 * n - 1 - ago.min(n - 1)) % n]
    }
    fn write(&mut self, x: f32) {
        self.buf[self.pos] = x;
        self.pos = (self.pos + 1) % self.buf.len();
    }
    fn clear(&mut self) {
        self.buf.iter_mut().for_each(|v| *v = 0.0);
        self.pos = 0;
    }
}

/// In-place 8-point Walsh–Hadamard transform scaled to be orthogonal (energy-preserving).
fn hadamard8(x: &mut [f32; LINES]) {
    let mut h = 1;
    while h < LINES {
        for i in (0..LINES).step_by(2 * h) {
            for j in i..i + h {
                let (a, b) = (x[j], x[j + h]);
                x[j] = a + b;
                x[j + h] = a - b;
            }
        }
        h *= 2;
    }
    let scale = 1.0 / (LINES as f32).sqrt();
    x.iter_mut().for_each(|v| *v *= scale);
}

pub struct Room {
    settings: RoomSettings,
    sample_rate: f32,
    /// Input (left, right), long enough for the longest pre-delay plus the longest early tap.
    input: [Delay; 2],
    pre_delay: usize,
    early: [(usize, f32, usize); EARLY.len()],
    lines: [Delay; LINES],
    /// Per line: loss per pass (for the decay time) and the low-pass state and coefficient.
    gain: [f32; LINES],
    lowpass: [f32; LINES],
    lowpass_coeff: f32,
}

impl Room {
    /// A room at `sample_rate` (allocates every buffer it will use, for any settings: changing
    /// them later allocates nothing).
    pub fn new(settings: RoomSettings, sample_rate: f32) -> Room {
        let longest_early = ms_to_samples(EARLY[EARLY.len() - 1].0, sample_rate);
        let longest_pre_delay = (RoomSettings::PRE_DELAY_RANGE.1 * sample_rate).round() as usize;
        let input_len = longest_pre_delay + longest_early + 1;
        let mut room = Room {
            settings,
            sample_rate,
            input: [Delay::new(input_len), Delay::new(input_len)],
            pre_delay: 0,
            early: [(0, 0.0, 0); EARLY.len()],
            lines: std::array::from_fn(|i| Delay::new(ms_to_samples(LINE_MS[i], sample_rate))),
            gain: [0.0; LINES],
            lowpass: [0.0; LINES],
            lowpass_coeff: 0.0,
        };
        room.set_settings(settings);
        room
    }

    /// New settings (clamped to their ranges), in place: allocates nothing, so the audio thread
    /// may call it. The tail already ringing keeps going with the new decay.
    pub fn set_settings(&mut self, settings: RoomSettings) {
        let settings = settings.clamped();
        let sample_rate = self.sample_rate;
        let pre_delay = (settings.pre_delay_s * sample_rate).round() as usize;
        let longest_early = ms_to_samples(EARLY[EARLY.len() - 1].0, sample_rate);
        // Each pass through line i lasts its length; a T60 of decay_s loses 60 dB over
        // decay_s, so the line keeps 10^(-3 · length / (decay_s · rate)).
        for (g, line) in self.gain.iter_mut().zip(&self.lines) {
            *g = 10f32.powf(-3.0 * line.buf.len() as f32 / (settings.decay_s * sample_rate));
        }
        self.early = std::array::from_fn(|i| {
            let (m, g, side) = EARLY[i];
            (pre_delay + ms_to_samples(m, sample_rate).min(longest_early), g, side)
        });
        self.settings = settings;
        self.pre_delay = pre_delay;
        // 0: no damping; up to 0.7: the highs lose much more per pass than the mids.
        self.lowpass_coeff = 0.7 * settings.damping;
    }

    pub fn settings(&self) -> RoomSettings {
        self.settings
    }

    /// The pre-delay in samples.
    pub fn pre_delay_samples(&self) -> usize {
        self.pre_delay
    }

    /// Silences the room (a new song, a transport jump).
    pub fn reset(&mut self) {
        self.input.iter_mut().for_each(Delay::clear);
        self.lines.iter_mut().for_each(Delay::clear);
        self.lowpass = [0.0; LINES];
    }

    /// Adds the room to the stereo signal in place: out = dry + wet · (early + tail).
    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        let wet = self.settings.wet;
        let c = self.lowpass_coeff;
        for (l, r) in left.iter_mut().zip(right.iter_mut()) {
            self.input[0].write(*l);
            self.input[1].write(*r);
            let mut early = [0.0f32; 2];
            for &(ago, g, side) in &self.early {
                early[side] += g * self.input[side].tap(ago);
            }
            // The tail is fed from the pre-delayed input, both sides into alternate lines.
            let feed = [self.input[0].tap(self.pre_delay), self.input[1].tap(self.pre_delay)];
            let mut x: [f32; LINES] = std::array::from_fn(|i| self.lines[i].read());
            let (mut tail_l, mut tail_r) = (0.0f32, 0.0f32);
            for ((v, sl), sr) in x.iter().zip(LEFT_SIGNS).zip(RIGHT_SIGNS) {
                tail_l += sl * v;
                tail_r += sr * v;
            }
            for i in 0..LINES {
                // Damping: a one-pole low-pass in the loop, then the loss of one pass.
                self.lowpass[i] = (1.0 - c) * x[i] + c * self.lowpass[i];
                x[i] = self.gain[i] * self.lowpass[i];
            }
            hadamard8(&mut x);
            for (i, line) in self.lines.iter_mut().enumerate() {
                line.write(x[i] + 0.5 * feed[i % 2]);
            }
            let tail_scale = 1.0 / (LINES as f32).sqrt();
            *l += wet * (early[0] + tail_scale * tail_l);
            *r += wet * (early[1] + tail_scale * tail_r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SR: f32 = 48_000.0;

    fn impulse_response(settings: RoomSettings, seconds: f32, left: bool) -> (Vec<f32>, Vec<f32>) {
        let n = (seconds * SR) as usize;
        let (mut l, mut r) = (vec![0.0f32; n], vec![0.0f32; n]);
        if left {
            l[0] = 1.0;
        } else {
            r[0] = 1.0;
        }
        Room::new(settings, SR).process(&mut l, &mut r);
        (l, r)
    }

    /// Energy in dB of a 50 ms window starting at `t` seconds.
    fn window_db(x: &[f32], t: f32) -> f32 {
        let a = (t * SR) as usize;
        let e: f32 = x[a..a + (0.05 * SR) as usize].iter().map(|v| v * v).sum();
        10.0 * e.max(1e-30).log10()
    }

    #[test]
    fn the_tail_falls_60_db_in_the_decay_time() {
        for decay in [1.0f32, 2.5] {
            let s = RoomSettings { damping: 0.0, pre_delay_s: 0.01, decay_s: decay, wet: 1.0 };
            let (l, r) = impulse_response(s, decay + 1.0, true);
            let both: Vec<f32> = l.iter().zip(&r).map(|(a, b)| a + b).collect();
            // The slope between 0.2 s and 0.2 + decay/2, extrapolated to 60 dB.
            let (t0, t1) = (0.2, 0.2 + decay / 2.0);
            let slope = (window_db(&both, t1) - window_db(&both, t0)) / (t1 - t0);
            let t60 = -60.0 / slope;
            eprintln!("decay {decay} s: measured T60 {t60:.2} s");
            assert!((t60 / decay - 1.0).abs() < 0.15, "decay {decay} s: measured T60 {t60:.2} s");
        }
    }

    #[test]
    fn damping_shortens_the_highs_and_the_channels_decorrelate() {
        let bright = RoomSettings { damping: 0.0, ..Default::default() };
        let dark = RoomSettings { damping: 1.0, ..Default::default() };
        // Energy of the sample-to-sample difference (a crude high-pass) late in the tail.
        let hf = |s: RoomSettings| {
            let (l, _) = impulse_response(s, 1.5, true);
            let a = (1.0 * SR) as usize;
            l[a..].windows(2).map(|w| (w[1] - w[0]).powi(2)).sum::<f32>()
        };
        eprintln!("late high-frequency energy, damping 1 / damping 0: {:.4}", hf(dark) / hf(bright));
        assert!(hf(dark) < 0.1 * hf(bright), "{} vs {}", hf(dark), hf(bright));
        let (l, r) = impulse_response(RoomSettings::default(), 2.0, true);
        let (a, b) = ((0.1 * SR) as usize, (1.5 * SR) as usize);
        let dot: f32 = l[a..b].iter().zip(&r[a..b]).map(|(x, y)| x * y).sum();
        let el: f32 = l[a..b].iter().map(|x| x * x).sum();
        let er: f32 = r[a..b].iter().map(|x| x * x).sum();
        let corr = dot / (el * er).sqrt();
        eprintln!("tail L/R correlation {corr:.3}");
        assert!(corr.abs() < 0.3, "tail L/R correlation {corr}");
        assert!(el > 0.0 && er > 0.0, "the tail reaches both sides");
    }

    #[test]
    fn early_reflections_keep_the_side_and_the_dry_sound_passes_unchanged() {
        let s = RoomSettings { pre_delay_s: 0.03, ..Default::default() };
        let (l, r) = impulse_response(s, 0.2, true);
        assert_eq!(l[0], 1.0, "dry passes");
        let pre = (0.03 * SR) as usize;
        assert!(l[1..pre].iter().chain(&r[..pre]).all(|v| *v == 0.0), "nothing before the pre-delay");
        let early_l: f32 = l[pre..pre + (0.035 * SR) as usize].iter().map(|v| v * v).sum();
        let early_r: f32 = r[pre..pre + (0.035 * SR) as usize].iter().map(|v| v * v).sum();
        assert!(early_l > 4.0 * early_r, "a left source reflects mostly on the left: {early_l} vs {early_r}");
        let (l0, r0) = impulse_response(RoomSettings { wet: 0.0, ..Default::default() }, 0.5, true);
        assert!(l0[1..].iter().chain(&r0).all(|v| *v == 0.0), "wet 0 is dry");
    }

    #[test]
    fn output_does_not_depend_on_block_sizes_and_reset_silences() {
        let n = 20_000;
        let input: Vec<f32> = (0..n).map(|i| (i as f32 * 0.013).sin() * (i % 977) as f32 / 977.0).collect();
        let whole = {
            let (mut l, mut r) = (input.clone(), input.iter().map(|v| -v).collect::<Vec<_>>());
            Room::new(RoomSettings::default(), SR).process(&mut l, &mut r);
            (l, r)
        };
        let mut room = Room::new(RoomSettings::default(), SR);
        let (mut l, mut r) = (input.clone(), input.iter().map(|v| -v).collect::<Vec<_>>());
        let mut pos = 0;
        for size in [1usize, 7, 512, 33, 4096].iter().cycle() {
            if pos >= n {
                break;
            }
            let end = (pos + size).min(n);
            room.process(&mut l[pos..end], &mut r[pos..end]);
            pos = end;
        }
        assert!(l == whole.0 && r == whole.1);
        room.reset();
        let (mut zl, mut zr) = (vec![0.0f32; 1000], vec![0.0f32; 1000]);
        room.process(&mut zl, &mut zr);
        assert!(zl.iter().chain(&zr).all(|v| *v == 0.0));
    }

    #[test]
    fn settings_are_clamped() {
        let s = RoomSettings { pre_delay_s: -1.0, decay_s: 100.0, damping: f32::NAN, wet: 2.0 }.clamped();
        assert_eq!(s, RoomSettings { pre_delay_s: 0.0, decay_s: 10.0, damping: 0.5, wet: 1.0 });
    }

    #[test]
    fn new_settings_in_place_play_as_a_room_built_with_them() {
        let input: Vec<f32> = (0..30_000).map(|i| (i as f32 * 0.021).sin() * (i % 613) as f32 / 613.0).collect();
        let wanted = RoomSettings { pre_delay_s: 0.11, decay_s: 4.0, damping: 0.2, wet: 0.6 };
        let run = |room: &mut Room| {
            let (mut l, mut r) = (input.clone(), input.iter().map(|v| 0.5 * v).collect::<Vec<_>>());
            room.process(&mut l, &mut r);
            (l, r)
        };
        let mut moved = Room::new(RoomSettings::default(), SR);
        moved.set_settings(wanted);
        assert_eq!(moved.settings(), wanted);
        assert!(run(&mut moved) == run(&mut Room::new(wanted, SR)));
    }
}
