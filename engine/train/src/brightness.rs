//! A cross-key dynamics prior: at every pitch in the trained range and every moment of a note,
//! the loudest trained dynamic is brighter than the softest.
//!
//! Bowed strings get brighter as they get louder (more bow pressure and speed drive the upper
//! partials harder), and a player's CC1 sweep should show it. The recordings only say so on
//! average: their dynamic layers are loudness-normalised and recorded key by key, and at some
//! keys the loud take is darker than the soft one (violas at key 69: spectral centroid 1,049 →
//! 680 Hz). A network fitted frame by frame copies each key's accident and carries it to the
//! keys around it. This prior plays a few sequences of each batch twice more, at one random
//! pitch of the trained range (any pitch, not only recorded keys: between two keys the network
//! is otherwise free to do anything), once at the softest and once at the loudest trained
//! dynamic, estimates both predictions' brightness and penalises frames where the loud one is
//! not brighter by [`MARGIN_OCTAVES`]. It needs no recording at that pitch or dynamic, so it
//! constrains how the layers relate without inventing targets.

use super::Rng;
use candle_core::{Device, Result, Tensor, D};
use rosin_core::bands::BandLayout;
use rosin_core::model::inputs::encode_pitch;
use rosin_core::performance::pitch_to_hz;

/// Input column holding the dynamic (see `model::inputs::encode`).
const DYNAMIC_INPUT: usize = 1;
/// Input column holding the pitch (see `model::inputs::encode_pitch`).
const PITCH_INPUT: usize = 0;

/// Sequences of each batch the prior plays (twice each, soft and loud). Each is an extra pass
/// through the network; two rows of a 16-note batch add about a fifth to a step, and as
/// batches are drawn every note's timing and articulation gets its turn.
pub(crate) const ROWS: usize = 2;

/// How much brighter the loud prediction must be, in octaves of the power-weighted mean
/// partial frequency. Small against what the recordings show where they agree with physics
/// (violas' median soft-to-loud rise over their 13 keys: 0.13 octave), but a step: a tie
/// leaves the measured centroid to the noise component's whims.
pub(crate) const MARGIN_OCTAVES: f32 = 0.05;

/// [`ROWS`] distinct row indices of a batch of `batch` (all of them when it is smaller), in
/// ascending order.
pub(super) fn pick_rows(batch: usize, rng: &mut Rng) -> Vec<u32> {
    let mut rows: Vec<u32> = (0..batch as u32).collect();
    // Partial Fisher-Yates: the first ROWS places get a uniform random subset.
    for i in 0..ROWS.min(batch) {
        let j = i + rng.below(batch - i);
        rows.swap(i, j);
    }
    rows.truncate(ROWS.min(batch));
    rows.sort_unstable();
    rows
}

pub struct BrightnessPrior {
    /// Softest and loudest trained dynamic inputs.
    soft: f32,
    loud: f32,
    /// Lowest and highest trained key (the network is told no pitch outside them).
    keys: (f32, f32),
    harmonic: BandLayout,
    /// De-standardisation of the harmonic outputs (1, 1, bands).
    mean: Tensor,
    std: Tensor,
    /// log2 of each band's centre frequency (1, 1, bands).
    log2_hz: Tensor,
}

impl BrightnessPrior {
    /// None when the model has a single dynamic (nothing to compare). `mean`/`std` are the
    /// standardisation of all outputs: level first, then the harmonic bands.
    pub fn new(
        layer_dynamics: &[f32],
        key_range: [u8; 2],
        harmonic: BandLayout,
        mean: &[f32],
        std: &[f32],
        dev: &Device,
    ) -> Result<Option<Self>> {
        let (Some(&soft), Some(&loud)) = (layer_dynamics.first(), layer_dynamics.last()) else { return Ok(None) };
        if loud <= soft {
            return Ok(None);
        }
        let n = harmonic.count;
        let row = |v: Vec<f32>| Tensor::from_vec(v, (1, 1, n), dev);
        Ok(Some(BrightnessPrior {
            soft,
            loud,
            keys: (key_range[0] as f32, key_range[1].max(key_range[0]) as f32),
            harmonic,
            mean: row(mean[1..1 + n].to_vec())?,
            std: row(std[1..1 + n].to_vec())?,
            log2_hz: row(harmonic.centres().iter().map(|f| f.log2()).collect())?,
        }))
    }

    /// One pitch per row, uniform over the trained key range (fractional keys included).
    pub(super) fn draw_keys(&self, rows: usize, rng: &mut Rng) -> Vec<f32> {
        let (lo, hi) = self.keys;
        (0..rows).map(|_| lo + (hi - lo) * rng.unit()).collect()
    }

    /// The inputs `x` (B, T, I) with row b's pitch set to `keys[b]`, at the softest and at the
    /// loudest trained dynamic; every other input (time, release, articulation) kept.
    pub fn soft_and_loud(&self, x: &Tensor, keys: &[f32]) -> Result<(Tensor, Tensor)> {
        let (b, t, ni) = x.dims3()?;
        let mut v = x.flatten_all()?.to_vec1::<f32>()?;
        for (row, &key) in v.chunks_exact_mut(t * ni).zip(keys) {
            for frame in row.chunks_exact_mut(ni) {
                frame[PITCH_INPUT] = encode_pitch(key);
            }
        }
        let at = |dynamic: f32| {
            let mut v = v.clone();
            v.chunks_exact_mut(ni).for_each(|frame| frame[DYNAMIC_INPUT] = dynamic);
            Tensor::from_vec(v, (b, t, ni), x.device())
        };
        Ok((at(self.soft)?, at(self.loud)?))
    }

    /// How many partials of each frame's pitch fall in each harmonic band (B, T, bands): a band
    /// of relative width w around f holds about f·w / f0 partials, none below the fundamental.
    fn partials_per_band(&self, x: &Tensor) -> Result<Tensor> {
        let (b, t, ni) = x.dims3()?;
        let inputs = x.flatten_all()?.to_vec1::<f32>()?;
        let centres = self.harmonic.centres();
        let ratio = (self.harmonic.max_hz / self.harmonic.min_hz).powf(1.0 / (self.harmonic.count - 1) as f32);
        let width = ratio.sqrt() - 1.0 / ratio.sqrt();
        let mut out = Vec::with_capacity(b * t * centres.len());
        for row in inputs.chunks_exact(ni) {
            let f0 = pitch_to_hz(60.0 + 24.0 * row[PITCH_INPUT]);
            out.extend(centres.iter().map(|&f| if f >= f0 / ratio.sqrt() { f * width / f0 } else { 0.0 }));
        }
        Tensor::from_vec(out, (b, t, centres.len()), x.device())
    }

    /// Power-weighted mean log2 frequency of the predicted harmonic spectrum, per frame (B, T).
    pub fn brightness(&self, pred: &Tensor, x: &Tensor) -> Result<Tensor> {
        let n = self.harmonic.count;
        let ln_amp = pred.narrow(D::Minus1, 1, n)?.broadcast_mul(&self.std)?.broadcast_add(&self.mean)?;
        // Relative to each frame's strongest band, so exp cannot overflow whatever the level.
        let ln_amp = ln_amp.broadcast_sub(&ln_amp.max_keepdim(D::Minus1)?.detach())?;
        let power = (ln_amp * 2.0)?.exp()?.mul(&self.partials_per_band(x)?)?;
        let total = power.sum(D::Minus1)?;
        power.broadcast_mul(&self.log2_hz)?.sum(D::Minus1)?.div(&(total + 1e-12)?)
    }

    /// Mean over unmasked frames of how far (octaves) the loud prediction falls short of being
    /// [`MARGIN_OCTAVES`] brighter than the soft one; 0 where it is. `pred_soft` answers
    /// `x_soft` and `pred_loud` answers `x_loud` (from [`Self::soft_and_loud`]); `mask` is (B, T, 1).
    pub fn penalty(
        &self,
        x_soft: &Tensor,
        x_loud: &Tensor,
        pred_soft: &Tensor,
        pred_loud: &Tensor,
        mask: &Tensor,
    ) -> Result<Tensor> {
        let rise = (self.brightness(pred_loud, x_loud)? - self.brightness(pred_soft, x_soft)?)?;
        let shortfall = rise.affine(-1.0, MARGIN_OCTAVES as f64)?.relu()?;
        let mask = mask.squeeze(D::Minus1)?;
        shortfall.mul(&mask)?.sum_all()?.div(&mask.sum_all()?.clamp(1.0, f64::INFINITY)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Var};

    const SOFT: f32 = 0.3;
    const LOUD: f32 = 0.9;

    /// Inputs of `frames` frames at `key` and `dynamic`, time input counting up, the rest zero.
    fn inputs(key: f32, dynamic: f32, frames: usize, ni: usize) -> Tensor {
        let mut v = vec![0.0f32; frames * ni];
        for (t, row) in v.chunks_exact_mut(ni).enumerate() {
            row[PITCH_INPUT] = encode_pitch(key);
            row[DYNAMIC_INPUT] = dynamic;
            row[2] = t as f32;
        }
        Tensor::from_vec(v, (1, frames, ni), &Device::Cpu).unwrap()
    }

    /// Outputs whose harmonic envelope falls by `tilt` nepers per band (standardisation 0/1).
    fn outputs(tilt: f32, frames: usize) -> Tensor {
        let n = BandLayout::HARMONIC_V1.count;
        let mut v = vec![0.0f32; frames * (1 + n)];
        for row in v.chunks_exact_mut(1 + n) {
            for (b, y) in row[1..].iter_mut().enumerate() {
                *y = -tilt * b as f32;
            }
        }
        Tensor::from_vec(v, (1, frames, 1 + n), &Device::Cpu).unwrap()
    }

    fn prior() -> BrightnessPrior {
        let n = BandLayout::HARMONIC_V1.count;
        BrightnessPrior::new(
            &[SOFT, LOUD],
            [48, 86],
            BandLayout::HARMONIC_V1,
            &vec![0.0; 1 + n],
            &vec![1.0; 1 + n],
            &Device::Cpu,
        )
        .unwrap()
        .unwrap()
    }

    fn values(t: &Tensor) -> Vec<f32> {
        t.flatten_all().unwrap().to_vec1::<f32>().unwrap()
    }

    #[test]
    fn rows_are_a_distinct_random_subset() {
        let mut rng = Rng::new(7);
        let mut seen = [0usize; 16];
        for _ in 0..400 {
            let rows = pick_rows(16, &mut rng);
            assert_eq!(rows.len(), ROWS);
            assert!(rows.windows(2).all(|w| w[0] < w[1]) && rows[ROWS - 1] < 16, "{rows:?}");
            for r in rows {
                seen[r as usize] += 1;
            }
        }
        assert!(seen.iter().all(|&n| n > 20), "every row gets its turn: {seen:?}");
        assert_eq!(pick_rows(1, &mut rng), vec![0]);
    }

    /// Pitches cover the trained range, between keys too; each row gets its own pitch at both
    /// ends of the dynamic range, and nothing else changes.
    #[test]
    fn pairs_are_one_random_pitch_at_both_dynamics() {
        let p = prior();
        let keys = p.draw_keys(2000, &mut Rng::new(3));
        assert!(keys.iter().all(|k| (48.0..=86.0).contains(k)));
        assert!(keys.iter().any(|k| *k < 49.0) && keys.iter().any(|k| *k > 85.0));
        assert!(keys.iter().any(|k| k.fract() > 0.2 && k.fract() < 0.8), "fractional keys too");
        let n = BrightnessPrior::new(&[0.5], [48, 86], BandLayout::HARMONIC_V1, &[0.0; 97], &[1.0; 97], &Device::Cpu);
        assert!(n.unwrap().is_none(), "one dynamic: nothing to compare");

        let x = Tensor::cat(&[inputs(60.0, SOFT, 3, 8), inputs(70.0, LOUD, 3, 8)], 0).unwrap();
        let (soft, loud) = p.soft_and_loud(&x, &[50.5, 80.0]).unwrap();
        for (t, dynamic) in [(&soft, SOFT), (&loud, LOUD)] {
            let v = values(t);
            for (i, frame) in v.chunks_exact(8).enumerate() {
                let key = if i < 3 { 50.5 } else { 80.0 };
                assert_eq!(frame[PITCH_INPUT], encode_pitch(key));
                assert_eq!(frame[DYNAMIC_INPUT], dynamic);
                assert_eq!(frame[2], (i % 3) as f32, "time kept");
            }
        }
    }

    /// A flat spectrum at A4: partials every 440 Hz up to the top band, so the power-weighted
    /// mean log2 frequency is that of the partials' frequencies, counted per band.
    #[test]
    fn brightness_reads_the_partials_of_the_frames_pitch() {
        let p = prior();
        let b = values(&p.brightness(&outputs(0.0, 1), &inputs(69.0, SOFT, 1, 8)).unwrap())[0];
        let expected = (1..=45).map(|k| (440.0 * k as f32).log2()).sum::<f32>() / 45.0;
        assert!((b - expected).abs() < 0.3, "{b} vs {expected}");
        // A steeper tilt is darker; a higher pitch with the same envelope is brighter.
        let darker = values(&p.brightness(&outputs(0.2, 1), &inputs(69.0, SOFT, 1, 8)).unwrap())[0];
        assert!(darker < b - 1.0, "{darker} vs {b}");
        let higher = values(&p.brightness(&outputs(0.2, 1), &inputs(81.0, SOFT, 1, 8)).unwrap())[0];
        assert!(higher > darker + 0.5, "{higher} vs {darker}");
    }

    /// Zero when the loud prediction is clearly brighter; the margin when both are the same;
    /// more when the loud is darker; and its gradient brightens the loud prediction.
    #[test]
    fn penalty_until_loud_is_brighter_by_the_margin_and_its_gradient_brightens_the_loud() {
        let p = prior();
        let mask = Tensor::ones((1, 3, 1), DType::F32, &Device::Cpu).unwrap();
        let (xs, xl) = p.soft_and_loud(&inputs(62.0, SOFT, 3, 8), &[62.0]).unwrap();
        let value =
            |soft: &Tensor, loud: &Tensor| p.penalty(&xs, &xl, soft, loud, &mask).unwrap().to_scalar::<f32>().unwrap();
        let (bright, dark) = (outputs(0.05, 3), outputs(0.15, 3));
        assert_eq!(value(&dark, &bright), 0.0, "loud clearly brighter");
        assert!((value(&bright, &bright) - MARGIN_OCTAVES).abs() < 1e-5, "a tie costs the margin");
        let wrong = value(&bright, &dark);
        assert!(wrong > 0.1 + MARGIN_OCTAVES, "loud darker than soft: {wrong}");

        let loud = Var::from_tensor(&dark).unwrap();
        let grads = p.penalty(&xs, &xl, &bright, loud.as_tensor(), &mask).unwrap().backward().unwrap();
        let g = values(grads.get(&loud).unwrap());
        let n = BandLayout::HARMONIC_V1.count;
        let (low, high) = (g[1..1 + n / 4].iter().sum::<f32>(), g[1 + 3 * n / 4..1 + n].iter().sum::<f32>());
        assert!(high < 0.0 && high < low, "descent raises the high bands: low {low}, high {high}");
    }
}
