//! The control network's input vector: how a voice's musical state becomes numbers.
//!
//! Shared by training (targets from recordings) and the real-time voice, so both see the same
//! encoding. Layout: [pitch, dynamic, onset, release, released, legato, articulation one-hot...].

pub const FIXED_INPUTS: usize = 6;

/// Times beyond this read as this: training sees notes (loops extended) up to this long, so the
/// network never meets an input it was not trained on, however long a note is held.
pub const MAX_SECONDS: f32 = 8.0;

/// What a voice knows about itself at one control frame.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct VoiceInputs {
    /// Sounding pitch in fractional MIDI keys (bend, glide and vibrato included).
    pub pitch: f32,
    /// 0 = softest (pp) .. 1 = loudest (ff).
    pub dynamic: f32,
    pub seconds_since_on: f32,
    /// Seconds since the note was released; 0 while held.
    pub seconds_since_off: f32,
    pub released: bool,
    pub legato: bool,
    /// Index into the model's articulation list.
    pub articulation_slot: usize,
}

/// Log-compressed time: fine resolution during attacks, still distinct after many seconds.
#[inline]
pub fn compress_time(seconds: f32) -> f32 {
    const SCALE: f32 = 0.02;
    const NORM: f32 = 6.216_606; // ln(1 + 10 / 0.02)
    (seconds.clamp(0.0, MAX_SECONDS) / SCALE).ln_1p() / NORM
}

/// Pitch in fractional MIDI keys as the network reads it (input 0).
#[inline]
pub fn encode_pitch(key: f32) -> f32 {
    (key - 60.0) / 24.0
}

/// Writes the encoded inputs into `out` (length FIXED_INPUTS + articulation count).
#[inline]
pub fn encode(v: &VoiceInputs, out: &mut [f32]) {
    out[0] = encode_pitch(v.pitch);
    out[1] = v.dynamic.clamp(0.0, 1.0);
    out[2] = compress_time(v.seconds_since_on);
    out[3] = compress_time(v.seconds_since_off);
    out[4] = if v.released { 1.0 } else { 0.0 };
    out[5] = if v.legato { 1.0 } else { 0.0 };
    for (i, x) in out[FIXED_INPUTS..].iter_mut().enumerate() {
        *x = if i == v.articulation_slot { 1.0 } else { 0.0 };
    }
}
