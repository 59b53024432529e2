//! Finishing a render: one common gain, the stem and mix files, and the report beside them.

use super::gain::{common_gain, peak, to_dbfs, CEILING_DBFS};
use super::report::{articulation_counts, OutOfRange, OutputReport, RenderReport, TrackReport, REPORT_FILE};
use super::wav::write_wav;
use super::{file_stem_for, mix, RenderError, RenderOptions, SampleFormat, Stem, TrackPlan};
use std::path::{Path, PathBuf};

/// Applies the common gain to `stems` (in place), writes every stem, the mix (if asked) and
/// `render-report.json` into `out_dir`, and returns the report. The gain is chosen from the
/// stems *and* their sum, written or not, so `--no-mix` does not change the stems.
pub fn write_render(
    input: &Path,
    plans: &[TrackPlan],
    stems: &mut [Stem],
    opts: &RenderOptions,
    out_dir: &Path,
) -> Result<RenderReport, RenderError> {
    let stem_peaks: Vec<f32> = stems.iter().map(|s| peak(&s.audio)).collect();
    let mut mixed = mix(stems);
    let mix_peak = peak(&mixed);
    let loudest = stem_peaks.iter().copied().fold(mix_peak, f32::max);
    let g = common_gain(opts.gain, loudest);
    let scale = |audio: &mut [f32]| {
        if g != 1.0 {
            audio.iter_mut().for_each(|x| *x *= g);
        }
    };

    let mut tracks = Vec::with_capacity(stems.len());
    for ((stem, plan), before) in stems.iter_mut().zip(plans).zip(stem_peaks) {
        scale(&mut stem.audio);
        let file = PathBuf::from(format!("{}.wav", file_stem_for(stem.track, &stem.name)));
        let clipped_samples = write_wav(&out_dir.join(&file), &stem.audio, 1, opts.sample_rate, opts.format)?;
        tracks.push(TrackReport {
            track: plan.track,
            name: plan.name.clone(),
            section: plan.section.clone(),
            section_reason: plan.section_reason.clone(),
            model: plan.model.card.name.clone(),
            notes: plan.keys.len(),
            out_of_range: plan.out_of_range().map(|(count, lowest, highest)| OutOfRange {
                count,
                lowest,
                highest,
                trained_keys: plan.model.card.key_range,
            }),
            articulations: articulation_counts(stem.notes_played),
            articulation_source: plan.articulation_source,
            missing_articulations: rosin_core::Articulation::ALL
                .iter()
                .zip(stem.notes_played)
                .filter(|(a, n)| *n > 0 && !plan.model.card.articulations.contains(a))
                .map(|(a, _)| a.name())
                .collect(),
            articulation_texts: plan.articulation_texts,
            auto_shorts: plan.auto_shorts,
            dynamic_source: plan.dynamic_source,
            pan: plan.pan,
            pan_changes: plan.pan_changes,
            output: OutputReport {
                file,
                peak_dbfs_before: to_dbfs(before),
                peak_dbfs_after: to_dbfs(peak(&stem.audio)),
                clipped_samples,
            },
        });
    }
    let mix = if opts.write_mix {
        scale(&mut mixed);
        let file = PathBuf::from("mix.wav");
        let clipped_samples = write_wav(&out_dir.join(&file), &mixed, 1, opts.sample_rate, opts.format)?;
        Some(OutputReport {
            file,
            peak_dbfs_before: to_dbfs(mix_peak),
            peak_dbfs_after: to_dbfs(peak(&mixed)),
            clipped_samples,
        })
    } else {
        None
    };
    let report = RenderReport {
        input: input.to_owned(),
        sample_rate: opts.sample_rate,
        format: match opts.format {
            SampleFormat::Int24 => "int24",
            SampleFormat::Float32 => "float32",
        },
        duration_s: stems.first().map_or(0, |s| s.audio.len()) as f64 / opts.sample_rate as f64,
        gain_db: to_dbfs(g),
        gain: opts.gain,
        ceiling_dbfs: CEILING_DBFS,
        tracks,
        mix,
    };
    let path = out_dir.join(REPORT_FILE);
    let json = serde_json::to_string_pretty(&report).expect("the report serialises");
    std::fs::write(&path, json + "\n").map_err(|source| RenderError::Io { path, source })?;
    Ok(report)
}
