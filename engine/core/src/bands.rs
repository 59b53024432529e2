//! The fixed frequency-band layout on which models describe spectral envelopes.
//!
//! Envelopes are functions of *frequency*, not harmonic number, so one model plays every pitch:
//! partial k of a note at f0 reads the envelope at k·f0. Bands are log-spaced because both the
//! ear and the string body resonances are roughly constant-Q.

use serde::{Deserialize, Serialize};

/// Log-spaced band centres between `min_hz` and `max_hz` (inclusive), `count` of them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BandLayout {
    pub count: usize,
    pub min_hz: f32,
    pub max_hz: f32,
}

/// Where a frequency falls between two band centres: the envelope value there is
/// `(1 - frac) * env[lower] + frac * env[lower + 1]` (clamped at both ends).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandPosition {
    pub lower: usize,
    pub frac: f32,
}

impl BandLayout {
    /// The harmonic-envelope layout of format version 1.
    pub const HARMONIC_V1: BandLayout = BandLayout { count: 96, min_hz: 25.0, max_hz: 20_000.0 };
    /// The noise-envelope layout of format version 1.
    pub const NOISE_V1: BandLayout = BandLayout { count: 48, min_hz: 40.0, max_hz: 20_000.0 };

    /// Centre frequency of band `i`.
    pub fn centre(&self, i: usize) -> f32 {
        if self.count < 2 {
            return self.min_hz;
        }
        let t = i as f32 / (self.count - 1) as f32;
        self.min_hz * (self.max_hz / self.min_hz).powf(t)
    }

    pub fn centres(&self) -> Vec<f32> {
        (0..self.count).map(|i| self.centre(i)).collect()
    }

    /// Fractional band index of a frequency (may be outside 0..count-1).
    #[inline]
    pub fn fractional_index(&self, hz: f32) -> f32 {
        let hz = hz.max(1e-3);
        (hz / self.min_hz).ln() / (self.max_hz / self.min_hz).ln() * (self.count - 1) as f32
    }

    /// Interpolation position of a frequency, clamped to the layout's range.
    #[inline]
    pub fn position(&self, hz: f32) -> BandPosition {
        let x = self.fractional_index(hz).clamp(0.0, (self.count - 1) as f32);
        let lower = (x.floor() as usize).min(self.count.saturating_sub(2));
        BandPosition { lower, frac: x - lower as f32 }
    }

    /// Envelope value at a frequency by linear interpolation between band centres.
    #[inline]
    pub fn interpolate(&self, env: &[f32], hz: f32) -> f32 {
        let p = self.position(hz);
        let a = env[p.lower];
        let b = env[(p.lower + 1).min(self.count - 1)];
        a + (b - a) * p.frac
    }

    pub fn is_valid(&self) -> bool {
        self.count >= 2
            && self.count <= 1024
            && self.min_hz.is_finite()
            && self.max_hz.is_finite()
            && self.min_hz > 0.0
            && self.max_hz > self.min_hz
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centres_span_the_range_and_positions_invert_them() {
        let b = BandLayout::HARMONIC_V1;
        assert!((b.centre(0) - 25.0).abs() < 1e-3);
        assert!((b.centre(b.count - 1) - 20_000.0).abs() < 0.1);
        for i in 0..b.count - 1 {
            // A centre may land a rounding error below its index: check the position it denotes.
            let p = b.position(b.centre(i));
            assert!((p.lower as f32 + p.frac - i as f32).abs() < 1e-3, "band {i}: {p:?}");
        }
        let env: Vec<f32> = (0..b.count).map(|i| i as f32).collect();
        let mid = (b.centre(10) * b.centre(11)).sqrt();
        assert!((b.interpolate(&env, mid) - 10.5).abs() < 1e-3);
        assert_eq!(b.interpolate(&env, 1.0), 0.0);
        assert_eq!(b.interpolate(&env, 1e6), (b.count - 1) as f32);
    }
}
