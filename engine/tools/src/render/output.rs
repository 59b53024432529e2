//! Finishing a render: one common gain, the stem and mix files, and the report beside them.

use super::gain::{common_gain, peak, to_dbfs, CEILING_DBFS};
use super::report::{
    articulation_counts, OutOfRange, OutputReport, RenderReport, RoomReport, TrackReport, REPORT_FILE,
};
use super::stage::{place_tracks, to_stereo, Placement, PlacementSource};
use super::wav::write_wav;
use super::{file_stem_for, mix, RenderError, RenderOptions, SampleFormat, Stem, TrackPlan};
use rosin_core::room::{Room, RoomSettings};
use std::path::{Path, PathBuf};

/// The files' audio before the common gain: each stem placed (interleaved stereo, or mono as
/// rendered), the room on the mix (and on each stem with `wet_stems`), every file the same length.
pub struct Mastered {
    pub channels: u16,
    pub placements: Vec<Placement>,
    pub stems: Vec<Vec<f32>>,
    pub mix: Vec<f32>,
}

/// Places `stems` on the stage and adds the room as `opts` say. The room is linear, so with
/// wet stems their sum is still the mix (to rounding).
pub fn master(plans: &[TrackPlan], stems: &[Stem], opts: &RenderOptions) -> Mastered {
    if !opts.stereo {
        let placements = plans
            .iter()
            .map(|_| Placement { pan: 0.0, why: PlacementSource::Mono, moves: 0, timeline: Vec::new() })
            .collect();
        let stems: Vec<Vec<f32>> = stems.iter().map(|s| s.audio.clone()).collect();
        let mix = mix(&stems);
        return Mastered { channels: 1, placements, stems, mix };
    }
    let placements = place_tracks(plans, &opts.seating, &opts.track_pans);
    let mut outputs: Vec<Vec<f32>> =
        stems.iter().zip(&placements).map(|(s, p)| to_stereo(&s.audio, &p.timeline, opts.sample_rate)).collect();
    let room = opts.room.filter(|r| r.wet > 0.0);
    if let Some(settings) = room {
        // Room for the tail: every file grows by it, so all stay the same length.
        let tail = 2 * (settings.tail_seconds() * opts.sample_rate as f32).ceil() as usize;
        outputs.iter_mut().for_each(|o| o.resize(o.len() + tail, 0.0));
        if opts.wet_stems {
            outputs.iter_mut().for_each(|o| add_room(o, settings, opts.sample_rate));
        }
    }
    let mut mixed = mix(&outputs);
    if let (Some(settings), false) = (room, opts.wet_stems) {
        add_room(&mut mixed, settings, opts.sample_rate);
    }
    Mastered { channels: 2, placements, stems: outputs, mix: mixed }
}

/// Adds a fresh [`Room`] to interleaved stereo audio.
fn add_room(interleaved: &mut [f32], settings: RoomSettings, sample_rate: u32) {
    let (mut l, mut r): (Vec<f32>, Vec<f32>) = interleaved.chunks_exact(2).map(|f| (f[0], f[1])).unzip();
    Room::new(settings, sample_rate as f32).process(&mut l, &mut r);
    for (f, (a, b)) in interleaved.chunks_exact_mut(2).zip(l.into_iter().zip(r)) {
        f[0] = a;
        f[1] = b;
    }
}

/// Masters the stems ([`master`]), applies the common gain, writes every stem, the mix (if
/// asked) and `render-report.json` into `out_dir`, and returns the report. The gain is chosen
/// from the stems *and* their sum, written or not, so `--no-mix` does not change the stems.
/// `stems` keep the engine's mono output.
pub fn write_render(
    input: &Path,
    plans: &[TrackPlan],
    stems: &[Stem],
    opts: &RenderOptions,
    out_dir: &Path,
) -> Result<RenderReport, RenderError> {
    let Mastered { channels, placements, stems: mut outputs, mix: mut mixed } = master(plans, stems, opts);
    let stem_peaks: Vec<f32> = outputs.iter().map(|a| peak(a)).collect();
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
        duration_s: mixed.len() as f64 / channels as f64 / opts.sample_rate as f64,
        room: opts.room.filter(|r| r.wet > 0.0 && opts.stereo).map(|settings| RoomReport {
            pre_delay_s: settings.pre_delay_s,
            decay_s: settings.decay_s,
            damping: settings.damping,
            wet: settings.wet,
            on_stems: opts.wet_stems,
        }),
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

#[cfg(test)]
mod tests {
    use super::*;
    use rosin_core::model::fixture;
    use rosin_core::PerformanceSettings;
    use std::sync::Arc;

    fn two_tracks() -> (Vec<TrackPlan>, Vec<Stem>) {
        let model = Arc::new(fixture::fixed_spectrum_model(8, 8, 8, 1));
        let plans: Vec<TrackPlan> = ["violins", "basses"]
            .iter()
            .enumerate()
            .map(|(i, s)| TrackPlan::from_events(i + 1, s, s, model.clone(), vec![], &PerformanceSettings::default()))
            .collect();
        let stems = plans
            .iter()
            .enumerate()
            .map(|(i, p)| Stem {
                track: p.track,
                name: p.name.clone(),
                section: p.section.clone(),
                model: model.clone(),
                // A short burst: the room's tail is what follows it.
                audio: (0..9600)
                    .map(|t| if t < 2400 { ((t * (i + 3)) as f32 * 0.05).sin() * 0.5 } else { 0.0 })
                    .collect(),
                notes_played: [0; 4],
            })
            .collect();
        (plans, stems)
    }

    fn energy(x: &[f32]) -> f32 {
        x.iter().map(|v| v * v).sum()
    }

    #[test]
    fn dry_stems_and_a_wet_mix_all_the_same_length() {
        let (plans, stems) = two_tracks();
        let opts = RenderOptions::default();
        let m = master(&plans, &stems, &opts);
        assert_eq!(m.channels, 2);
        let tail = 2 * ((0.02 + 2.0) * 48_000.0f32).ceil() as usize;
        assert!(m.stems.iter().all(|s| s.len() == 2 * 9600 + tail) && m.mix.len() == 2 * 9600 + tail);
        // The stems are dry: silent after the burst; the mix rings on.
        let after = 2 * 4800;
        assert!(m.stems.iter().all(|s| energy(&s[after..]) == 0.0));
        assert!(energy(&m.mix[after..]) > 1e-3 * energy(&m.mix[..after]), "the hall rings after the notes");
        // Without the room the mix is exactly the sum of the stems.
        let dry = master(&plans, &stems, &RenderOptions { room: None, ..RenderOptions::default() });
        assert_eq!(dry.mix.len(), 2 * 9600);
        assert!(dry.mix.iter().enumerate().all(|(i, v)| *v == dry.stems[0][i] + dry.stems[1][i]));
    }

    #[test]
    fn wet_stems_still_sum_to_the_mix() {
        let (plans, stems) = two_tracks();
        let m = master(&plans, &stems, &RenderOptions { wet_stems: true, ..RenderOptions::default() });
        assert!(m.stems.iter().all(|s| energy(&s[2 * 4800..]) > 0.0), "every stem has the room");
        let worst =
            m.mix.iter().enumerate().map(|(i, v)| (v - m.stems[0][i] - m.stems[1][i]).abs()).fold(0.0f32, f32::max);
        assert!(worst < 1e-6, "{worst}");
        let wet_mix_of_dry = master(&plans, &stems, &RenderOptions::default()).mix;
        let worst = m.mix.iter().zip(&wet_mix_of_dry).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(worst < 1e-5, "the room is linear: wet stems sum to the wet mix ({worst})");
    }

    #[test]
    fn mono_is_the_engine_output_itself() {
        let (plans, stems) = two_tracks();
        let m = master(&plans, &stems, &RenderOptions { stereo: false, ..RenderOptions::default() });
        assert_eq!(m.channels, 1);
        assert!(m.stems[0] == stems[0].audio && m.placements.iter().all(|p| p.why == PlacementSource::Mono));
    }
}
