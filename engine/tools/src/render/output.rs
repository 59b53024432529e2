//! Finishing a render: one common gain, the stem and mix files, and the report beside them.

use super::gain::{common_gain, peak, to_dbfs, CEILING_DBFS};
use super::report::{articulation_counts, OutOfRange, OutputReport, RenderReport, TrackReport, REPORT_FILE};
use super::stage::{place_tracks, to_stereo, Placement, PlacementSource};
use super::wav::write_wav;
use super::{file_stem_for, mix, RenderError, RenderOptions, SampleFormat, Stem, TrackPlan};
use std::path::{Path, PathBuf};

/// Places the stems on the stage (unless mono), applies the common gain, writes every stem, the
/// mix (if asked) and `render-report.json` into `out_dir`, and returns the report. The gain is
/// chosen from the stems *and* their sum, written or not, so `--no-mix` does not change the
/// stems. `stems` keep the engine's mono output.
pub fn write_render(
    input: &Path,
    plans: &[TrackPlan],
    stems: &[Stem],
    opts: &RenderOptions,
    out_dir: &Path,
) -> Result<RenderReport, RenderError> {
    let placements = if opts.stereo {
        place_tracks(plans, &opts.seating, &opts.track_pans)
    } else {
        plans
            .iter()
            .map(|_| Placement { pan: 0.0, why: PlacementSource::Mono, moves: 0, timeline: Vec::new() })
            .collect()
    };
    let channels: u16 = if opts.stereo { 2 } else { 1 };
    // What each stem file holds: interleaved stereo, or the mono output itself.
    let mut outputs: Vec<Vec<f32>> = stems
        .iter()
        .zip(&placements)
        .map(|(s, p)| if opts.stereo { to_stereo(&s.audio, &p.timeline, opts.sample_rate) } else { s.audio.clone() })
        .collect();
    let stem_peaks: Vec<f32> = outputs.iter().map(|a| peak(a)).collect();
    let mut mixed = mix(&outputs);
    let mix_peak = peak(&mixed);
    let loudest = stem_peaks.iter().copied().fold(mix_peak, f32::max);
    let g = common_gain(opts.gain, loudest);
    let scale = |audio: &mut [f32]| {
        if g != 1.0 {
            audio.iter_mut().for_each(|x| *x *= g);
        }
    };

    let mut tracks = Vec::with_capacity(stems.len());
    for (((stem, plan), before), (audio, placement)) in
        stems.iter().zip(plans).zip(stem_peaks).zip(outputs.iter_mut().zip(placements))
    {
        scale(audio);
        let file = PathBuf::from(format!("{}.wav", file_stem_for(stem.track, &stem.name)));
        let clipped_samples = write_wav(&out_dir.join(&file), audio, channels, opts.sample_rate, opts.format)?;
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
            placement,
            output: OutputReport {
                file,
                peak_dbfs_before: to_dbfs(before),
                peak_dbfs_after: to_dbfs(peak(audio)),
                clipped_samples,
            },
        });
    }
    let mix = if opts.write_mix {
        scale(&mut mixed);
        let file = PathBuf::from("mix.wav");
        let clipped_samples = write_wav(&out_dir.join(&file), &mixed, channels, opts.sample_rate, opts.format)?;
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
        channels,
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
