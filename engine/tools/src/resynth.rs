//! Analysis-resynthesis: plays analysed features straight through the synthesizer, without a
//! network. Its distance to the recording is the ceiling any model can reach with this synth.

use crate::analysis::{frame_centre, NoteFeatures};
use rosin_core::bands::BandLayout;
use rosin_core::formulas::CONTROL_RATE_HZ;
use rosin_core::synth::harmonic::{TablePlans, TableScratch, WaveTable};
use rosin_core::synth::noise::NoiseGenerator;

/// Renders `len` samples at `sample_rate` from per-frame features (frame i centred at
/// `frame_centre(i)`); unvoiced frames use `fallback_f0`.
pub fn resynthesize(features: &NoteFeatures, sample_rate: u32, len: usize, fallback_f0: f32) -> Vec<f32> {
    let sr = sample_rate as f32;
    let layout = BandLayout::HARMONIC_V1;
    let plans = TablePlans::new();
    let mut scratch = TableScratch::new(&plans);
    let mut noise = NoiseGenerator::new(sr, &BandLayout::NOISE_V1);
    let limit = rosin_core::formulas::band_limit_hz(sr);
    let (mut a, mut b) = (WaveTable::new(), WaveTable::new());
    let mut out = vec![0.0f32; len];
    let f0_of = |i: usize| {
        let f = features.f0_hz.get(i).copied().unwrap_or(0.0);
        if f > 0.0 {
            f
        } else {
            fallback_f0
        }
    };
    let frames = features.frames;
    if frames == 0 {
        return out;
    }
    let build = |t: &mut WaveTable, i: usize, s: &mut TableScratch| {
        let f0 = f0_of(i);
        let f0_next = f0_of((i + 1).min(frames - 1));
        t.build(&plans, s, &layout, features.harmonic_frame(i), 0.0, f0, f0.max(f0_next), limit);
    };
    build(&mut b, 0, &mut scratch);
    let mut phase = 0.0f64;
    // Harmonic part: crossfade table i -> i+1 between their frame centres.
    for i in 0..frames {
        std::mem::swap(&mut a, &mut b);
        if i + 1 < frames {
            build(&mut b, i + 1, &mut scratch);
        } else {
            b.copy_from(&a);
        }
        let start = if i == 0 { 0 } else { frame_centre(i, sample_rate).max(0) as usize };
        let end = if i + 1 < frames { frame_centre(i + 1, sample_rate) as usize } else { len };
        let (s0, s1) = (frame_centre(i, sample_rate) as f64, frame_centre(i + 1, sample_rate) as f64);
        let (f0a, f0b) = (f0_of(i) as f64, f0_of((i + 1).min(frames - 1)) as f64);
        for n in start..end.min(len) {
            let r = ((n as f64 - s0) / (s1 - s0)).clamp(0.0, 1.0);
            let p = phase as f32;
            out[n] += a.read(p) + (b.read(p) - a.read(p)) * r as f32;
            phase += (f0a + (f0b - f0a) * r) / sample_rate as f64;
            phase -= phase.floor();
        }
    }
    // Noise part: each overlap-add frame takes the analysed spectrum nearest in time.
    let mut pos = 0;
    while pos < len {
        if noise.samples_until_frame() == 0 {
            let i = ((pos as f64 * CONTROL_RATE_HZ as f64 / sample_rate as f64).round() as usize).min(frames - 1);
            for (p, &n) in noise.band_power_mut().iter_mut().zip(features.noise_frame(i)) {
                *p = (2.0 * n).exp();
            }
            noise.make_frame();
        }
        let n = noise.samples_until_frame().min(len - pos);
        noise.render_add(&mut out[pos..pos + n]);
        pos += n;
    }
    out
}
