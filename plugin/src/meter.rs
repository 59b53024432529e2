//! Levels the audio thread publishes for the editor, as a typed pair: the [`MeterWriter`]
//! belongs to the audio thread (one, not `Clone`), the [`MeterReader`] to the GUI. Relaxed
//! atomics only: the values are independent readings, no lock, no allocation after [`meter`].

use nice_plug::prelude::AtomicF32;
use rosin_core::Synth;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Bands shown by the editor's noise-envelope view.
pub const METER_BANDS: usize = 64;

struct Values {
    /// Per channel (left, right): the maximum since the reader last took it.
    peak: [AtomicF32; 2],
    rms: [AtomicF32; 2],
    voices: AtomicUsize,
    noise: [AtomicF32; METER_BANDS],
    noise_bands: AtomicUsize,
}

/// The audio thread's side.
pub struct MeterWriter {
    values: Arc<Values>,
    /// Room for the synth's noise envelope, so publishing allocates nothing.
    scratch: [f32; METER_BANDS],
}

/// The editor's side.
#[derive(Clone)]
pub struct MeterReader {
    values: Arc<Values>,
}

/// A connected writer/reader pair (allocates; call it off the audio thread).
pub fn meter() -> (MeterWriter, MeterReader) {
    let values = Arc::new(Values {
        peak: [AtomicF32::new(0.0), AtomicF32::new(0.0)],
        rms: [AtomicF32::new(0.0), AtomicF32::new(0.0)],
        voices: AtomicUsize::new(0),
        noise: std::array::from_fn(|_| AtomicF32::new(0.0)),
        noise_bands: AtomicUsize::new(0),
    });
    (MeterWriter { values: values.clone(), scratch: [0.0; METER_BANDS] }, MeterReader { values })
}

impl MeterWriter {
    /// Publishes the block's peak and RMS per channel, the voice count and the noise envelope.
    pub fn publish(&mut self, synth: &Synth, left: &[f32], right: &[f32]) {
        let v = &self.values;
        for (channel, out) in [left, right].into_iter().enumerate() {
            let (mut peak, mut sum) = (0.0f32, 0.0f32);
            for &s in out {
                peak = peak.max(s.abs());
                sum += s * s;
            }
            let rms = if out.is_empty() { 0.0 } else { (sum / out.len() as f32).sqrt() };
            v.peak[channel].fetch_max(peak, Ordering::Relaxed);
            v.rms[channel].store(rms, Ordering::Relaxed);
        }
        v.voices.store(synth.active_voices(), Ordering::Relaxed);
        let n = synth.noise_envelope(&mut self.scratch);
        for (m, x) in v.noise.iter().zip(self.scratch.iter()) {
            m.store(*x, Ordering::Relaxed);
        }
        v.noise_bands.store(n, Ordering::Relaxed);
    }
}

impl MeterReader {
    /// The highest peaks (left, right) since the last call (and starts new ones).
    pub fn take_peaks(&self) -> [f32; 2] {
        [0, 1].map(|c| self.values.peak[c].swap(0.0, Ordering::Relaxed))
    }

    pub fn voices(&self) -> usize {
        self.values.voices.load(Ordering::Relaxed)
    }

    /// The noise envelope (power per band) into `out`; returns how many bands it holds.
    pub fn noise(&self, out: &mut [f32]) -> usize {
        let n = self.values.noise_bands.load(Ordering::Relaxed).min(out.len());
        for (o, m) in out[..n].iter_mut().zip(&self.values.noise) {
            *o = m.load(Ordering::Relaxed);
        }
        n
    }
}
