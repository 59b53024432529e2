//! One gain for every stem of a render, so stems never clip and their balance holds.
//!
//! Rosin's level follows the recordings, which are normalised near full scale: one ff voice
//! peaks at -7 to -2 dBFS held and -3 to 0 dBFS short (README, "Levels"), so a double stop at
//! velocity 127 or four sections together sum past full scale. Clipping is never silent:
//! by default the whole render (every stem and the mix, which is their plain sum) is turned down
//! by one common gain so its loudest sample sits at [`CEILING_DBFS`]; a render that already
//! peaks below the ceiling is left exactly as rendered (the gain only ever lowers), so levels
//! stay comparable between renders that do not clip. `--gain DB` sets a fixed gain instead and
//! `--no-normalize` renders at 0 dB; both then report any clipped samples.

use serde::Serialize;

/// The loudest sample a normalised render reaches.
pub const CEILING_DBFS: f32 = -1.0;

/// How the common gain is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "mode")]
pub enum GainMode {
    /// Lower everything just enough that the loudest sample is at [`CEILING_DBFS`].
    Normalize,
    /// A fixed gain in dB (`--gain`; `--no-normalize` is 0 dB).
    Fixed { db: f32 },
}

/// Peak absolute sample value.
pub fn peak(audio: &[f32]) -> f32 {
    audio.iter().fold(0.0f32, |m, x| m.max(x.abs()))
}

/// Linear value in dBFS (silence reads -inf as a very low number, not NaN).
pub fn to_dbfs(linear: f32) -> f32 {
    20.0 * linear.max(1e-10).log10()
}

/// The linear gain for a render whose loudest stem or mix sample is `loudest` (linear).
pub fn common_gain(mode: GainMode, loudest: f32) -> f32 {
    match mode {
        GainMode::Fixed { db } => db_to_gain(db),
        GainMode::Normalize => {
            let ceiling = db_to_gain(CEILING_DBFS);
            // Rounding of the product can land one ulp above the ceiling: aim a hair below.
            if loudest > ceiling {
                ceiling / loudest * (1.0 - f32::EPSILON)
            } else {
                1.0
            }
        }
    }
}

/// dB -> linear factor.
pub fn db_to_gain(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalising_only_lowers() {
        assert!((to_dbfs(common_gain(GainMode::Normalize, 2.0)) - (-1.0 - 6.0206)).abs() < 1e-3);
        assert_eq!(common_gain(GainMode::Normalize, 0.5), 1.0);
        assert!((to_dbfs(common_gain(GainMode::Fixed { db: 3.0 }, 2.0)) - 3.0).abs() < 1e-4);
        for loudest in [0.8913, 0.9, 1.0, 1.7, 2.3, 16.0] {
            let g = common_gain(GainMode::Normalize, loudest);
            assert!(loudest * g <= db_to_gain(CEILING_DBFS), "{loudest}");
        }
    }
}
