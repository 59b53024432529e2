//! The PNG figures of `rosin eval`: spectrograms of one held-out note per articulation
//! (recording | Rosin | sampler), their level envelopes and two repeated shorts' takes (life),
//! and the CC1 sweep.

use super::{metrics, NoteAudio, Report};
use rosin_core::articulation::Articulation;
use std::path::Path;

/// Writes `<section>-spectrograms.png` and `<section>-dynamics.png` into `out`; `audio` is the
/// second half of [`super::evaluate`]'s answer, note by note as `report.notes`.
pub fn write_plots(out: &Path, section: &str, report: &Report, audio: &[NoteAudio]) -> Result<(), String> {
    // One note per articulation: recording, Rosin, sampler side by side, up to 8 kHz and 3 s.
    let mut panels = Vec::new();
    for art in Articulation::ALL {
        let Some((i, _)) = report.notes.iter().enumerate().find(|(_, n)| n.articulation == art) else { continue };
        let a = &audio[i];
        let size = 1024;
        let hop = size / 4;
        let max_bin = (8_000.0 * size as f32 / a.sample_rate as f32) as usize;
        let frames = (3 * a.sample_rate as usize / hop).max(1);
        for (what, x) in [("recording", &a.recording), ("Rosin", &a.rosin), ("sampler", &a.sampler)] {
            let spec: Vec<Vec<f32>> = metrics::magnitude_spectrogram(x, size)
                .into_iter()
                .take(frames)
                .map(|f| f[..max_bin].iter().map(|m| metrics::db(*m)).collect())
                .collect();
            panels.push((
                format!("{what}: {}", a.label),
                spec,
                hop as f32 / a.sample_rate as f32,
                a.sample_rate as f32 / size as f32,
            ));
        }
    }
    crate::plot::spectrograms(
        &out.join(format!("{section}-spectrograms.png")),
        &format!("{section}: held-out notes (never trained on) - recording | Rosin | sampler repitch"),
        &panels,
        -90.0,
    )?;
    if !report.envelopes.is_empty() {
        crate::plot::curve_panels(
            &out.join(format!("{section}-life.png")),
            &format!("{section}: level envelopes of held-out notes - recording | Rosin | sampler"),
            "s",
            "dB (10 ms RMS)",
            &report.envelopes,
        )?;
    }
    let d = &report.dynamics;
    let loud: Vec<(f32, f32)> = d.points.iter().map(|p| (p.0 as f32, p.1)).collect();
    let cent: Vec<(f32, f32)> = d.points.iter().map(|p| (p.0 as f32, p.2 / 100.0)).collect();
    crate::plot::curves(
        &out.join(format!("{section}-dynamics.png")),
        &format!("{section}: CC1 sweep on key {}", d.key),
        "CC1",
        "RMS dBFS  |  centroid / 100 Hz",
        &[("loudness (dBFS)", loud), ("spectral centroid (x100 Hz)", cent)],
        false,
    )
}
