//! The one home of every formula and constant that the voice shares with analysis,
//! analysis-resynthesis and training's differentiable copy of the synth. Change one here and
//! every caller changes with it; none of them restates it.

/// Control frames per second: the network runs once per frame, analysis writes one feature
/// frame per control frame, whatever the sample rate.
pub const CONTROL_RATE_HZ: f32 = 250.0;

/// Partials and noise stop at this fraction of the sample rate (a margin below Nyquist)…
const BAND_LIMIT_FRACTION: f64 = 0.45;
/// …and never above 20 kHz, where nobody hears them.
const BAND_LIMIT_MAX_HZ: f64 = 20_000.0;

/// Highest partial or noise frequency at a sample rate: min(20 kHz, 0.45 fs).
#[inline]
pub fn band_limit_hz(sample_rate: f32) -> f32 {
    (BAND_LIMIT_FRACTION as f32 * sample_rate).min(BAND_LIMIT_MAX_HZ as f32)
}

/// [`band_limit_hz`] in double precision, for the analysis of recordings.
#[inline]
pub fn band_limit_hz_f64(sample_rate: f64) -> f64 {
    (BAND_LIMIT_FRACTION * sample_rate).min(BAND_LIMIT_MAX_HZ)
}

/// Partials fade out over the top 15 % below the band limit, so none pops in or out as the
/// pitch moves.
pub const TAPER_START: f32 = 0.85;

/// The fade of partials near the band limit ([`TAPER_START`]): a smoothstep from 1 at
/// `TAPER_START * limit` to 0 at the limit.
#[derive(Debug, Clone, Copy)]
pub struct PartialTaper {
    from_hz: f32,
    span_hz: f32,
}

impl PartialTaper {
    pub fn new(limit_hz: f32) -> Self {
        let from_hz = TAPER_START * limit_hz;
        PartialTaper { from_hz, span_hz: limit_hz - from_hz }
    }

    /// Gain of a partial at `hz` (1 below the taper).
    #[inline]
    pub fn gain(&self, hz: f32) -> f32 {
        if hz > self.from_hz {
            let x = 1.0 - ((hz - self.from_hz) / self.span_hz).min(1.0);
            x * x * (3.0 - 2.0 * x)
        } else {
            1.0
        }
    }
}

/// Noise overlap-add frame length: about 5.3 ms (256 samples at 48 kHz), a power of two.
pub fn noise_frame_size(sample_rate: f32) -> usize {
    ((sample_rate / 187.5) as usize).next_power_of_two().max(64)
}

/// The noise frames' sine window: with a hop of half the frame, its squares sum to one, so the
/// overlap-added noise keeps the power the spectrum asks for.
pub fn noise_window(size: usize) -> Vec<f32> {
    (0..size).map(|i| (std::f32::consts::PI * (i as f32 + 0.5) / size as f32).sin()).collect()
}

/// First sample of control frame `frame`, counted from a note's first sample. Integer
/// arithmetic, so frame boundaries never drift and never depend on block sizes.
#[inline]
pub fn control_frame_start(frame: u64, sample_rate: u64) -> u64 {
    frame * sample_rate / CONTROL_RATE_HZ as u64
}

/// The control frame that sample `sample` (counted from a note's first sample) falls in on the
/// exact 1/250 s grid. [`control_frame_start`] rounds boundaries down to whole samples, so at
/// the first sample of a frame this can still name the frame before (training's noise frames
/// read their spectrum this way).
#[inline]
pub fn control_frame_at(sample: u64, sample_rate: u64) -> u64 {
    sample * CONTROL_RATE_HZ as u64 / sample_rate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_tile_the_samples() {
        for sr in [22_050u64, 44_100, 48_000, 96_000, 192_000] {
            for f in 0..1000 {
                let (a, b) = (control_frame_start(f, sr), control_frame_start(f + 1, sr));
                assert!(b > a);
                assert!(
                    f.saturating_sub(1) <= control_frame_at(a, sr) && control_frame_at(a, sr) <= f,
                    "{sr} Hz frame {f}"
                );
                assert_eq!(control_frame_at(b - 1, sr), f);
            }
        }
    }

    #[test]
    fn band_limit_and_taper() {
        assert_eq!(band_limit_hz(48_000.0), 20_000.0);
        assert_eq!(band_limit_hz(22_050.0), 0.45 * 22_050.0);
        assert_eq!(band_limit_hz_f64(44_100.0), 0.45 * 44_100.0);
        let t = PartialTaper::new(20_000.0);
        assert_eq!(t.gain(16_000.0), 1.0);
        assert_eq!(t.gain(20_000.0), 0.0);
        assert!((t.gain(18_500.0) - 0.5).abs() < 1e-6);
    }

    #[test]
    fn noise_window_keeps_power_at_half_overlap() {
        let n = noise_frame_size(48_000.0);
        assert_eq!(n, 256);
        let w = noise_window(n);
        for i in 0..n / 2 {
            assert!((w[i] * w[i] + w[i + n / 2] * w[i + n / 2] - 1.0).abs() < 1e-5);
        }
    }
}
