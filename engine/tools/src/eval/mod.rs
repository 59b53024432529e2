//! `rosin eval`: how close a model's renders come to held-out recordings, next to a sampler
//! repitching the nearest trained recording, to analysis-resynthesis (the synth's ceiling) and to
//! the nearest trained recordings' own features replayed at the held-out pitch (what reproducing
//! the training notes and moving them in pitch reaches); pitch accuracy; and how loudness and
//! brightness follow CC1.

pub mod cards;
pub mod life;
pub mod metrics;
#[cfg(feature = "plot")]
pub mod plots;

use crate::analysis::{self, NoteFeatures};
use crate::dataset::{self, NoteRecording};
use crate::resynth;
use rosin_core::articulation::Articulation;
use rosin_core::model::Model;
use rosin_core::performance::{MidiEvent, PerformanceSettings};
use rosin_core::synth::Synth;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

/// Settings for measurement renders: no synthetic vibrato (pitch is measured exactly), the
/// rest at defaults.
pub fn eval_settings() -> PerformanceSettings {
    PerformanceSettings { default_vibrato_depth: 0, ..Default::default() }
}

/// Takes of each long held-out note whose life statistics are averaged (see [`NoteResult::life`]).
pub const LIFE_TAKES: u64 = 4;

/// Renders one held note of `len` samples: CC1 and velocity both at the dynamic.
pub fn render_note(
    model: &Arc<Model>,
    key: u8,
    dynamic: f32,
    art: Articulation,
    sample_rate: u32,
    len: usize,
) -> Vec<f32> {
    render_take(model, key, dynamic, art, sample_rate, len, 0)
}

/// [`render_note`] as the take `seed` plays it.
pub fn render_take(
    model: &Arc<Model>,
    key: u8,
    dynamic: f32,
    art: Articulation,
    sample_rate: u32,
    len: usize,
    seed: u64,
) -> Vec<f32> {
    let settings = PerformanceSettings { articulation: art, seed, ..eval_settings() };
    let mut synth = Synth::new(model.clone(), settings, sample_rate as f32);
    let v = (dynamic * 127.0).round().clamp(1.0, 127.0) as u8;
    synth.handle_event(MidiEvent::ControlChange { cc: 1, value: v });
    synth.handle_event(MidiEvent::NoteOn { key, velocity: v });
    let mut out = vec![0.0; len];
    for chunk in out.chunks_mut(1024) {
        synth.process(chunk);
    }
    out
}

#[derive(Debug, Clone, Serialize)]
pub struct NoteResult {
    pub articulation: Articulation,
    pub key: u8,
    pub layer: u8,
    pub seconds: f32,
    /// Multi-scale spectral distance to the recording (lower is better).
    pub rosin: f32,
    pub sampler: f32,
    pub resynthesis: f32,
    /// The recording's nearest trained neighbours (same articulation and layer, the nearest key
    /// below and the nearest above), their own analysed features replayed at the held-out pitch
    /// and length through the same synth ([`fit_neighbour_features`]); the better of the two,
    /// chosen knowing the answer, so it is optimistic. It is what a model could reach by
    /// reproducing its training notes exactly and moving them in pitch: the part of the gap to
    /// `resynthesis` that the training set holds no information to close. With one neighbour
    /// (held-out key at the edge of the range) that one.
    pub neighbour_resynthesis: f32,
    /// Key of the trained recording the sampler repitched.
    pub sampler_source_key: u8,
    /// Key of the neighbour whose replay gave `neighbour_resynthesis`.
    pub neighbour_source_key: u8,
    /// Median |f0 error| of the render in cents, over frames within 30 dB of its peak.
    pub f0_error_cents: Option<f32>,
    /// The same tracker on the recording: median |deviation| in cents from the recording's own
    /// median pitch, over its frames within 30 dB of its peak. A section is several players a
    /// few cents apart, so this is how steady the tracker reads a real note of this kind; it
    /// puts the render's figure in proportion.
    pub recording_f0_spread_cents: Option<f32>,
    /// Mean |loudness contour difference| in dB after level alignment (envelope shape).
    pub loudness_shape_db: f32,
    pub sampler_loudness_shape_db: f32,
    /// Life statistics of long notes ([`life`]): recording, Rosin, sampler.
    pub life: Option<[life::LifeStats; 3]>,
}

/// Life statistics of one articulation's held-out long notes, averaged.
#[derive(Debug, Clone, Serialize)]
pub struct LifeSummary {
    pub articulation: Articulation,
    pub notes: usize,
    pub recording: life::LifeStats,
    pub rosin: life::LifeStats,
    pub sampler: life::LifeStats,
}

/// Take-to-take distance: multi-scale spectral distance between the recordings' two takes of one
/// key and layer, and between two of Rosin's takes (seeds 1 and 2) of the same note.
#[derive(Debug, Clone, Serialize)]
pub struct TakeSummary {
    pub articulation: Articulation,
    pub pairs: usize,
    pub recordings: f32,
    pub rosin: f32,
    pub rosin_over_recordings: f32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub notes: usize,
    pub rosin: f32,
    pub sampler: f32,
    pub resynthesis: f32,
    pub neighbour_resynthesis: f32,
    pub rosin_over_sampler: f32,
    pub rosin_over_resynthesis: f32,
    pub rosin_over_neighbour_resynthesis: f32,
    /// How far the training set's own notes, moved in pitch, stay from the ceiling.
    pub neighbour_resynthesis_over_resynthesis: f32,
    pub median_f0_error_cents: f32,
    pub median_recording_f0_spread_cents: f32,
    pub loudness_shape_db: f32,
    pub sampler_loudness_shape_db: f32,
}

#[derive(Debug, Clone, Serialize)]
pub struct DynamicsSweep {
    pub key: u8,
    /// (CC1 value, RMS dB, spectral centroid Hz) per step.
    pub points: Vec<(u8, f32, f32)>,
    pub range_db: f32,
    pub centroid_low_hz: f32,
    pub centroid_high_hz: f32,
    /// Fraction of consecutive steps where loudness does not fall.
    pub loudness_monotonic: f32,
    pub centroid_monotonic: f32,
}

/// Brightness of the soft and the loud recorded layer against the model's, key by key: one
/// sweep at one key says little when a single recording there is unusual.
#[derive(Debug, Clone, Serialize)]
pub struct LayerBrightness {
    /// (key, recording soft, recording loud, Rosin soft, Rosin loud): spectral centroids in Hz
    /// of sustained notes (recordings: their middle half; Rosin: 0.5–1 s after the onset).
    pub keys: Vec<(u8, f32, f32, f32, f32)>,
    /// Keys where the loud layer is brighter: in the recordings, and in Rosin.
    pub recording_rising: usize,
    pub rosin_rising: usize,
    /// Keys where Rosin's soft-to-loud change goes the recordings' way.
    pub agreeing: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub model: String,
    pub instrument: String,
    pub notes: Vec<NoteResult>,
    pub overall: Summary,
    pub per_articulation: Vec<(Articulation, Summary)>,
    pub dynamics: DynamicsSweep,
    pub layer_brightness: LayerBrightness,
    pub life: Vec<LifeSummary>,
    pub takes: Vec<TakeSummary>,
    /// Level envelopes for the life picture: (panel title, named curves of (s, dB)).
    #[serde(skip)]
    pub envelopes: Vec<(String, Vec<(String, Vec<(f32, f32)>)>)>,
}

fn summarise(notes: &[&NoteResult]) -> Summary {
    let mean = |f: &dyn Fn(&NoteResult) -> f32| notes.iter().map(|n| f(n)).sum::<f32>() / notes.len().max(1) as f32;
    let median = |f: &dyn Fn(&NoteResult) -> Option<f32>| {
        let mut v: Vec<f32> = notes.iter().filter_map(|n| f(n)).collect();
        v.sort_by(f32::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f32::NAN)
    };
    let (r, s, c) = (mean(&|n| n.rosin), mean(&|n| n.sampler), mean(&|n| n.resynthesis));
    let nb = mean(&|n| n.neighbour_resynthesis);
    Summary {
        notes: notes.len(),
        rosin: r,
        sampler: s,
        resynthesis: c,
        neighbour_resynthesis: nb,
        rosin_over_sampler: r / s,
        rosin_over_resynthesis: r / c,
        rosin_over_neighbour_resynthesis: r / nb,
        neighbour_resynthesis_over_resynthesis: nb / c,
        median_f0_error_cents: median(&|n| n.f0_error_cents),
        median_recording_f0_spread_cents: median(&|n| n.recording_f0_spread_cents),
        loudness_shape_db: mean(&|n| n.loudness_shape_db),
        sampler_loudness_shape_db: mean(&|n| n.sampler_loudness_shape_db),
    }
}

/// The three signals compared for one held-out note, for plots.
pub struct NoteAudio {
    pub recording: Vec<f32>,
    pub rosin: Vec<f32>,
    pub sampler: Vec<f32>,
    pub sample_rate: u32,
    pub label: String,
}

/// f0 track of `audio` with the frames more than 30 dB below its loudest set to 0 (unjudged):
/// pitch is judged where the note is audible.
fn audible_f0(audio: &[f32], sr: u32, key_hz: f32) -> Vec<f32> {
    let len = audio.len();
    let (mut f0, _) = analysis::estimate_f0(audio, sr, key_hz);
    let frame_len = (sr as usize / 250).max(1);
    let frame_db: Vec<f32> = (0..f0.len())
        .map(|i| {
            let c = analysis::frame_centre(i, sr).max(0) as usize;
            let (a, b) = (c.saturating_sub(frame_len).min(len), (c + frame_len).min(len));
            metrics::db(metrics::rms(&audio[a..b]))
        })
        .collect();
    let loudest = frame_db.iter().cloned().fold(f32::MIN, f32::max);
    for (f, d) in f0.iter_mut().zip(&frame_db) {
        if *d < loudest - 30.0 {
            *f = 0.0;
        }
    }
    f0
}

/// Median of the voiced frames of an f0 track (Hz).
fn own_median_hz(f0: &[f32]) -> Option<f32> {
    let mut v: Vec<f32> = f0.iter().copied().filter(|f| f.is_finite() && *f > 0.0).collect();
    v.sort_by(f32::total_cmp);
    v.get(v.len() / 2).copied()
}

/// Features of `src` (analysed at its own key) replayed at another pitch and length: every f0
/// multiplied by `pitch_ratio` (unvoiced frames stay 0), and `frames` frames long, holding the
/// last frame where `src` is shorter and truncating where it is longer. Everything else (levels,
/// harmonic and noise envelopes, periodicity) is kept as analysed.
pub fn fit_neighbour_features(src: &NoteFeatures, frames: usize, pitch_ratio: f32) -> NoteFeatures {
    if src.frames == 0 {
        return NoteFeatures::silent(frames);
    }
    let (nh, nn) = (src.harmonic.len() / src.frames, src.noise.len() / src.frames);
    let mut out = NoteFeatures {
        frames,
        f0_hz: Vec::with_capacity(frames),
        periodicity: Vec::with_capacity(frames),
        rms: Vec::with_capacity(frames),
        harmonic: Vec::with_capacity(frames * nh),
        noise: Vec::with_capacity(frames * nn),
    };
    for i in 0..frames {
        let j = i.min(src.frames - 1);
        out.f0_hz.push(src.f0_hz[j] * pitch_ratio);
        out.periodicity.push(src.periodicity[j]);
        out.rms.push(src.rms[j]);
        out.harmonic.extend_from_slice(&src.harmonic[j * nh..(j + 1) * nh]);
        out.noise.extend_from_slice(&src.noise[j * nn..(j + 1) * nn]);
    }
    out
}

/// Analysed features of trained recordings by index into the `trained` slice given to
/// [`evaluate_note`]; filled on demand, so a recording neighbouring several held-out notes is
/// analysed once.
pub type TrainedFeatures = HashMap<usize, NoteFeatures>;

/// Multi-scale spectral distance from `rec` to `features` resynthesized at its length and
/// sample rate, level-matched.
fn resynthesis_distance(rec: &NoteRecording, features: &NoteFeatures) -> f32 {
    let key_hz = rosin_core::performance::pitch_to_hz(rec.key as f32);
    let audio = resynth::resynthesize(features, rec.sample_rate, rec.audio.len(), key_hz);
    let audio = metrics::match_rms(&audio, &rec.audio);
    metrics::multiscale_spectral_distance(&rec.audio, &audio, rec.sample_rate)
}

/// `neighbour` analysed at its key, moved to `rec`'s key and length, resynthesized and compared
/// with `rec` (multi-scale spectral distance after level matching).
pub fn neighbour_distance(rec: &NoteRecording, neighbour: &NoteRecording, neighbour_features: &NoteFeatures) -> f32 {
    let ratio = rosin_core::performance::pitch_to_hz(rec.key as f32)
        / rosin_core::performance::pitch_to_hz(neighbour.key as f32);
    let frames = analysis::frame_count(rec.audio.len(), rec.sample_rate);
    resynthesis_distance(rec, &fit_neighbour_features(neighbour_features, frames, ratio))
}

/// [`NoteResult::neighbour_resynthesis`] and the key it came from: the better of the trained
/// recordings of `rec`'s articulation and layer nearest below and above its key (of its
/// articulation in any layer if that layer has none).
pub fn neighbour_resynthesis(
    rec: &NoteRecording,
    trained: &[&NoteRecording],
    cache: &mut TrainedFeatures,
) -> (f32, u8) {
    let same_layer = |t: &&NoteRecording| t.articulation == rec.articulation && t.layer == rec.layer;
    let any_layer = |t: &&NoteRecording| t.articulation == rec.articulation;
    let pool: Vec<(usize, &NoteRecording)> = if trained.iter().any(same_layer) {
        trained.iter().copied().enumerate().filter(|(_, t)| same_layer(t)).collect()
    } else {
        trained.iter().copied().enumerate().filter(|(_, t)| any_layer(t)).collect()
    };
    let layer_gap = |t: &NoteRecording| (t.layer as i32 - rec.layer as i32).abs();
    let below = pool.iter().filter(|(_, t)| t.key < rec.key).max_by_key(|(_, t)| (t.key, -layer_gap(t)));
    let above = pool.iter().filter(|(_, t)| t.key > rec.key).min_by_key(|(_, t)| (t.key, layer_gap(t)));
    [below, above]
        .into_iter()
        .flatten()
        .map(|&(i, n)| {
            let features = cache.entry(i).or_insert_with(|| {
                analysis::analyse_note(&n.audio, n.sample_rate, rosin_core::performance::pitch_to_hz(n.key as f32))
            });
            (neighbour_distance(rec, n, features), n.key)
        })
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .expect("every held-out articulation has trained notes")
}

/// The trained recording the sampler reference plays for `rec`: the nearest key in the same
/// layer, else the nearest key in any layer, of the same articulation.
fn sampler_source<'a>(rec: &NoteRecording, trained: &[&'a NoteRecording]) -> Option<&'a NoteRecording> {
    trained
        .iter()
        .filter(|t| t.articulation == rec.articulation && t.layer == rec.layer)
        .min_by_key(|t| ((t.key as i32 - rec.key as i32).abs(), t.key))
        .or_else(|| {
            trained
                .iter()
                .filter(|t| t.articulation == rec.articulation)
                .min_by_key(|t| (t.key as i32 - rec.key as i32).abs())
        })
        .copied()
}

/// The sampler reference: `source` repitched to `rec`'s key and length, looping sustained
/// samples for as long as the note is held, as a sampler does.
fn sampler_render(rec: &NoteRecording, source: &NoteRecording) -> Vec<f32> {
    let len = rec.audio.len();
    let ratio = source.sample_rate as f32 / rec.sample_rate as f32;
    let semitones = rec.key as f32 - source.key as f32 + 12.0 * ratio.log2();
    let need = (len as f32 * (semitones / 12.0).exp2()) as usize + 8;
    metrics::repitch(&metrics::looped(&source.audio, source.loop_range, need), semitones, len)
}

/// Evaluates one held-out recording against the model and the references (`cache` holds the
/// analysed features of `trained`, see [`TrainedFeatures`]).
pub fn evaluate_note(
    model: &Arc<Model>,
    rec: &NoteRecording,
    trained: &[&NoteRecording],
    cache: &mut TrainedFeatures,
) -> (NoteResult, NoteAudio) {
    let sr = rec.sample_rate;
    let len = rec.audio.len();
    let dynamic = dataset::layer_dynamic(rec.layer, rec.layer_count);
    let render = render_note(model, rec.key, dynamic, rec.articulation, sr, len);
    let nearest = sampler_source(rec, trained).expect("every held-out articulation has trained notes");
    let resampled = sampler_render(rec, nearest);
    let key_hz = rosin_core::performance::pitch_to_hz(rec.key as f32);
    let features = analysis::analyse_note(&rec.audio, sr, key_hz);
    let resynthesis = resynthesis_distance(rec, &features);
    let (neighbour, neighbour_key) = neighbour_resynthesis(rec, trained, cache);

    let render_n = metrics::match_rms(&render, &rec.audio);
    let sampler_n = metrics::match_rms(&resampled, &rec.audio);
    let f0 = audible_f0(&render, sr, key_hz);
    let rec_f0 = audible_f0(&rec.audio, sr, key_hz);
    let window = (sr / 50) as usize;
    let result = NoteResult {
        articulation: rec.articulation,
        key: rec.key,
        layer: rec.layer,
        seconds: len as f32 / sr as f32,
        rosin: metrics::multiscale_spectral_distance(&rec.audio, &render_n, sr),
        sampler: metrics::multiscale_spectral_distance(&rec.audio, &sampler_n, sr),
        resynthesis,
        neighbour_resynthesis: neighbour,
        sampler_source_key: nearest.key,
        neighbour_source_key: neighbour_key,
        f0_error_cents: analysis::median_abs_cents(&f0, key_hz),
        recording_f0_spread_cents: own_median_hz(&rec_f0).and_then(|m| analysis::median_abs_cents(&rec_f0, m)),
        loudness_shape_db: metrics::loudness_shape_error(&rec.audio, &render, window),
        sampler_loudness_shape_db: metrics::loudness_shape_error(&rec.audio, &resampled, window),
        life: rec.articulation.is_long().then(|| {
            // One take's modulation spectrum is a single periodogram (±2-4 dB per band); the
            // figure is the mean over several takes, as the recording's is over several notes.
            let takes: Vec<life::LifeStats> = (1..=LIFE_TAKES)
                .map(|seed| {
                    life::life_stats(&render_take(model, rec.key, dynamic, rec.articulation, sr, len, seed), sr)
                })
                .collect();
            [life::life_stats(&rec.audio, sr), life::mean_stats(&takes), life::life_stats(&resampled, sr)]
        }),
    };
    let audio = NoteAudio {
        recording: rec.audio.clone(),
        rosin: render_n,
        sampler: sampler_n,
        sample_rate: sr,
        label: format!("{} key {} layer {}", rec.articulation, rec.key, rec.layer),
    };
    (result, audio)
}

/// CC1 swept from 0 to 127 on a sustained note in the middle of the model's range.
pub fn dynamics_sweep(model: &Arc<Model>, sample_rate: u32) -> DynamicsSweep {
    let [lo, hi] = model.card.key_range;
    let key = ((lo as u16 + hi as u16) / 2) as u8;
    let steps: Vec<u8> = (0..=127).step_by(8).chain(std::iter::once(127)).collect();
    let points: Vec<(u8, f32, f32)> = steps
        .iter()
        .map(|&cc| {
            // Each value held long enough for smoothing and the attack to settle.
            let audio =
                render_note(model, key, cc as f32 / 127.0, Articulation::Sustain, sample_rate, sample_rate as usize);
            let steady = &audio[sample_rate as usize / 2..];
            (cc, metrics::db(metrics::rms(steady)), metrics::spectral_centroid(steady, sample_rate))
        })
        .collect();
    let mono = |i: usize| {
        points.windows(2).filter(|w| if i == 1 { w[1].1 >= w[0].1 - 0.1 } else { w[1].2 >= w[0].2 * 0.99 }).count()
            as f32
            / (points.len() - 1) as f32
    };
    DynamicsSweep {
        key,
        range_db: points.last().unwrap().1 - points[0].1,
        centroid_low_hz: points[0].2,
        centroid_high_hz: points.last().unwrap().2,
        loudness_monotonic: mono(1),
        centroid_monotonic: mono(2),
        points,
    }
}

/// Soft vs loud layer brightness at every key with both layers of sustained recordings.
pub fn layer_brightness(model: &Arc<Model>, recordings: &[&NoteRecording]) -> LayerBrightness {
    let layers = &model.card.layer_dynamics;
    let (soft_dyn, loud_dyn) = (layers.first().copied().unwrap_or(0.3), layers.last().copied().unwrap_or(0.9));
    let mut keys: Vec<u8> =
        recordings.iter().filter(|r| r.articulation == Articulation::Sustain).map(|r| r.key).collect();
    keys.sort();
    keys.dedup();
    let centroid_of = |audio: &[f32], sr: u32| {
        let n = audio.len();
        metrics::spectral_centroid(&audio[n / 4..(3 * n / 4).max(n / 4 + 1)], sr)
    };
    let mut out = Vec::new();
    for key in keys {
        let at = |layer: u8| {
            recordings.iter().find(|r| r.articulation == Articulation::Sustain && r.key == key && r.layer == layer)
        };
        let top = recordings.iter().filter(|r| r.key == key).map(|r| r.layer_count).max().unwrap_or(1);
        let (Some(soft), Some(loud)) = (at(0), at(top.saturating_sub(1))) else { continue };
        if top < 2 {
            continue;
        }
        let sr = 44_100;
        let render = |d: f32| {
            let a = render_note(model, key, d, Articulation::Sustain, sr, sr as usize);
            metrics::spectral_centroid(&a[sr as usize / 2..], sr)
        };
        out.push((
            key,
            centroid_of(&soft.audio, soft.sample_rate),
            centroid_of(&loud.audio, loud.sample_rate),
            render(soft_dyn),
            render(loud_dyn),
        ));
    }
    LayerBrightness {
        recording_rising: out.iter().filter(|k| k.2 > k.1).count(),
        rosin_rising: out.iter().filter(|k| k.4 > k.3).count(),
        agreeing: out.iter().filter(|k| (k.2 > k.1) == (k.4 > k.3)).count(),
        keys: out,
    }
}

/// Evaluates a model on the held-out recordings of its instrument among `recordings`.
pub fn evaluate(model: &Arc<Model>, instrument: &str, recordings: &[NoteRecording]) -> (Report, Vec<NoteAudio>) {
    let mine: Vec<NoteRecording> = recordings
        .iter()
        .filter(|r| r.instrument == instrument && model.card.articulation_slot(r.articulation).is_some())
        .cloned()
        .collect();
    let layer_brightness = layer_brightness(model, &mine.iter().collect::<Vec<_>>());
    let (train, held) = dataset::split(mine);
    let trained: Vec<&NoteRecording> = train.iter().collect();
    let mut cache = TrainedFeatures::new();
    let (notes, audio): (Vec<NoteResult>, Vec<NoteAudio>) =
        held.iter().map(|r| evaluate_note(model, r, &trained, &mut cache)).unzip();
    let per_articulation = Articulation::ALL
        .iter()
        .filter_map(|&a| {
            let sel: Vec<&NoteResult> = notes.iter().filter(|n| n.articulation == a).collect();
            (!sel.is_empty()).then(|| (a, summarise(&sel)))
        })
        .collect();
    let overall = summarise(&notes.iter().collect::<Vec<_>>());
    let life = Articulation::ALL
        .iter()
        .filter_map(|&a| {
            let sel: Vec<&[life::LifeStats; 3]> =
                notes.iter().filter(|n| n.articulation == a).filter_map(|n| n.life.as_ref()).collect();
            let of = |i: usize| life::mean_stats(&sel.iter().map(|l| l[i]).collect::<Vec<_>>());
            (!sel.is_empty()).then(|| LifeSummary {
                articulation: a,
                notes: sel.len(),
                recording: of(0),
                rosin: of(1),
                sampler: of(2),
            })
        })
        .collect();
    let takes = take_distances(model, &held);
    let envelopes = life_envelopes(model, &held, &trained);
    let report = Report {
        envelopes,
        life,
        takes,
        model: model.card.name.clone(),
        instrument: instrument.to_string(),
        dynamics: dynamics_sweep(model, 44_100),
        layer_brightness,
        notes,
        overall,
        per_articulation,
    };
    (report, audio)
}

/// 10 ms RMS envelope in dB over the first `seconds`: (time, dB) points.
fn envelope_db(x: &[f32], sr: u32, seconds: f32) -> Vec<(f32, f32)> {
    let w = (sr / 100) as usize;
    let n = (x.len() / w).min((seconds * 100.0) as usize);
    (0..n).map(|i| (i as f32 * 0.01, metrics::db(metrics::rms(&x[i * w..(i + 1) * w])).max(-90.0))).collect()
}

/// The life picture's panels: a held-out sustain and tremolo (recording | Rosin | sampler) and
/// two repetitions of a held-out short recorded in two takes (the recordings' takes | Rosin's
/// takes 1 and 2 | the sampler, which plays its one sample twice).
fn life_envelopes(
    model: &Arc<Model>,
    held: &[NoteRecording],
    trained: &[&NoteRecording],
) -> Vec<(String, Vec<(String, Vec<(f32, f32)>)>)> {
    let sampler = |rec: &NoteRecording| sampler_source(rec, trained).map(|n| sampler_render(rec, n));
    let mut panels = Vec::new();
    for art in [Articulation::Sustain, Articulation::Tremolo] {
        let Some(rec) = held.iter().find(|r| r.articulation == art) else { continue };
        let (sr, len) = (rec.sample_rate, rec.audio.len());
        let dynamic = dataset::layer_dynamic(rec.layer, rec.layer_count);
        let label = format!("{art} key {} layer {}", rec.key, rec.layer);
        let rosin = render_take(model, rec.key, dynamic, art, sr, len, 1);
        let level = |x: &[f32]| metrics::match_rms(x, &rec.audio);
        panels.push((format!("recording: {label}"), vec![("recording".into(), envelope_db(&rec.audio, sr, 3.0))]));
        panels.push((format!("Rosin: {label}"), vec![("take 1".into(), envelope_db(&level(&rosin), sr, 3.0))]));
        if let Some(s) = sampler(rec) {
            panels.push((format!("sampler: {label}"), vec![("sampler".into(), envelope_db(&level(&s), sr, 3.0))]));
        }
    }
    let shorts: Vec<&NoteRecording> = held.iter().filter(|r| r.articulation == Articulation::Short).collect();
    let pair = shorts
        .iter()
        .enumerate()
        .find_map(|(i, a)| shorts[i + 1..].iter().find(|b| b.key == a.key && b.layer == a.layer).map(|b| (*a, *b)));
    if let Some((a, b)) = pair {
        let (sr, len) = (a.sample_rate, a.audio.len().min(b.audio.len()));
        let dynamic = dataset::layer_dynamic(a.layer, a.layer_count);
        let label = format!("short key {} layer {}", a.key, a.layer);
        let seconds = len as f32 / sr as f32;
        let level = |x: &[f32]| metrics::match_rms(&x[..len], &a.audio[..len]);
        panels.push((
            format!("recordings' two takes: {label}"),
            vec![
                ("take r1".into(), envelope_db(&a.audio, sr, seconds)),
                ("take r2".into(), envelope_db(&level(&b.audio), sr, seconds)),
            ],
        ));
        let takes: Vec<(String, Vec<(f32, f32)>)> = [1, 2]
            .iter()
            .map(|&seed| {
                let x = render_take(model, a.key, dynamic, Articulation::Short, sr, len, seed);
                (format!("take {seed}"), envelope_db(&level(&x), sr, seconds))
            })
            .collect();
        panels.push((format!("Rosin's takes 1 and 2: {label}"), takes));
        if let Some(s) = sampler(a) {
            let env = envelope_db(&level(&s), sr, seconds);
            panels.push((format!("sampler, twice: {label}"), vec![("both".into(), env)]));
        }
    }
    panels
}

/// [`TakeSummary`] per articulation over the held-out keys recorded in more than one take.
pub fn take_distances(model: &Arc<Model>, held: &[NoteRecording]) -> Vec<TakeSummary> {
    let mut out = Vec::new();
    for a in Articulation::ALL {
        let mine: Vec<&NoteRecording> = held.iter().filter(|r| r.articulation == a).collect();
        let (mut recs, mut rosin) = (Vec::new(), Vec::new());
        for (i, x) in mine.iter().enumerate() {
            let Some(y) = mine[i + 1..].iter().find(|y| y.key == x.key && y.layer == x.layer) else { continue };
            if mine[..i].iter().any(|z| z.key == x.key && z.layer == x.layer) {
                continue;
            }
            let sr = x.sample_rate;
            let len = x.audio.len().min(y.audio.len());
            let (xa, ya) = (&x.audio[..len], metrics::match_rms(&y.audio[..len], &x.audio[..len]));
            recs.push(metrics::multiscale_spectral_distance(xa, &ya, sr));
            let dynamic = dataset::layer_dynamic(x.layer, x.layer_count);
            let one = render_take(model, x.key, dynamic, a, sr, len, 1);
            let two = metrics::match_rms(&render_take(model, x.key, dynamic, a, sr, len, 2), &one);
            rosin.push(metrics::multiscale_spectral_distance(&one, &two, sr));
        }
        if recs.is_empty() {
            continue;
        }
        let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
        out.push(TakeSummary {
            articulation: a,
            pairs: recs.len(),
            recordings: mean(&recs),
            rosin: mean(&rosin),
            rosin_over_recordings: mean(&rosin) / mean(&recs),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rosin_core::bands::BandLayout;
    use rosin_core::performance::pitch_to_hz;

    #[test]
    fn fit_neighbour_features_moves_pitch_and_fits_length() {
        let (nh, nn) = (BandLayout::HARMONIC_V1.count, BandLayout::NOISE_V1.count);
        let mut src = NoteFeatures::silent(3);
        src.f0_hz = vec![0.0, 100.0, 200.0];
        src.rms = vec![0.1, 0.2, 0.3];
        for i in 0..3 {
            src.harmonic[i * nh..(i + 1) * nh].fill(i as f32);
            src.noise[i * nn..(i + 1) * nn].fill(-(i as f32));
        }
        let long = fit_neighbour_features(&src, 5, 1.5);
        assert_eq!(long.frames, 5);
        assert_eq!((long.f0_hz.len(), long.rms.len(), long.periodicity.len()), (5, 5, 5));
        assert_eq!((long.harmonic.len(), long.noise.len()), (5 * nh, 5 * nn));
        // Unvoiced stays 0, voiced frames scale, the last frame is held.
        assert_eq!(long.f0_hz, vec![0.0, 150.0, 300.0, 300.0, 300.0]);
        assert_eq!(long.rms, vec![0.1, 0.2, 0.3, 0.3, 0.3]);
        assert_eq!(long.harmonic_frame(4), src.harmonic_frame(2));
        assert_eq!(long.noise_frame(3), src.noise_frame(2));
        assert_eq!(long.harmonic_frame(1), src.harmonic_frame(1));
        let short = fit_neighbour_features(&src, 2, 0.5);
        assert_eq!(short.frames, 2);
        assert_eq!(short.f0_hz, vec![0.0, 50.0]);
        assert_eq!((short.harmonic.len(), short.noise.len()), (2 * nh, 2 * nn));
        assert_eq!(short.harmonic_frame(1), src.harmonic_frame(1));
        assert_eq!(fit_neighbour_features(&NoteFeatures::silent(0), 4, 2.0).frames, 4);
    }

    /// A harmonic tone whose partials follow a fixed spectral envelope `exp(-f / rolloff_hz)`
    /// (so it keeps its timbre when moved in pitch), with a 50 ms attack.
    fn recording(key: u8, layer: u8, rolloff_hz: f32) -> NoteRecording {
        let sr = 44_100;
        let f0 = pitch_to_hz(key as f32);
        let len = sr as usize * 6 / 10;
        let partials: Vec<(f32, f32)> =
            (1..).map(|h| h as f32 * f0).take_while(|f| *f < 10_000.0).map(|f| (f, (-f / rolloff_hz).exp())).collect();
        let audio = (0..len)
            .map(|n| {
                let t = n as f32 / sr as f32;
                let env = (t / 0.05).min(1.0);
                0.1 * env * partials.iter().map(|(f, a)| a * (std::f32::consts::TAU * f * t).sin()).sum::<f32>()
            })
            .collect();
        NoteRecording {
            instrument: "test".into(),
            articulation: Articulation::Sustain,
            key,
            layer,
            layer_count: 2,
            sample_rate: sr,
            audio,
            loop_range: None,
            source: format!("synthetic key {key}"),
        }
    }

    #[test]
    fn neighbour_resynthesis_picks_the_better_neighbour_of_the_same_layer() {
        let held = recording(60, 1, 2_000.0);
        let ceiling = resynthesis_distance(&held, &analysis::analyse_note(&held.audio, 44_100, pitch_to_hz(60.0)));
        // The held-out note itself as its own neighbour, at its own pitch: exactly the ceiling.
        let own = analysis::analyse_note(&held.audio, 44_100, pitch_to_hz(60.0));
        assert_eq!(neighbour_distance(&held, &held, &own), ceiling);

        // Below: the same timbre 3 semitones down. Above: a darker one. Key 59 is nearer but
        // another layer, so it is not a neighbour.
        let (below, above, other_layer) = (recording(57, 1, 2_000.0), recording(63, 1, 500.0), recording(59, 0, 500.0));
        let trained = [&below, &above, &other_layer];
        let mut cache = TrainedFeatures::new();
        let (d, key) = neighbour_resynthesis(&held, &trained, &mut cache);
        assert_eq!(key, 57);
        assert_eq!(cache.len(), 2, "both same-layer neighbours analysed, the other layer not");
        // The same timbre moved in pitch replays about as well as the note's own features.
        assert!(d.is_finite() && (d / ceiling - 1.0).abs() < 0.2, "neighbour {d} ceiling {ceiling}");
        let darker = neighbour_distance(&held, &above, &cache[&1]);
        assert!(darker > 1.2 * d, "darker neighbour {darker} vs {d}");
        // Same answer from the cache.
        assert_eq!(neighbour_resynthesis(&held, &trained, &mut cache), (d, key));

        // At the edge of the range, the one neighbour there is.
        let (d_edge, key_edge) = neighbour_resynthesis(&held, &[&above, &other_layer], &mut TrainedFeatures::new());
        assert_eq!((d_edge, key_edge), (darker, 63));
    }
}
