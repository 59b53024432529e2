//! Offline rendering: a standard MIDI file or a MusicXML score ([`musicxml`]) -> one WAV stem per
//! track, a mix and a report.
//!
//! Each track with notes gets its own [`Synth`] with the model chosen for it ([`sections`]),
//! its dynamics controller ([`dynamics`]) and the articulations the file writes as text or
//! implies ([`articulations`]), fed the track's events at their exact sample positions. Tracks
//! render in parallel; each track's output depends only on its events, so the files are
//! bit-identical from run to run. One common gain ([`gain`]) keeps every stem and the mix
//! below full scale, and [`report`] says what was chosen and why.

pub mod articulations;
pub mod dynamics;
pub mod gain;
pub mod midi_file;
pub mod musicxml;
pub mod output;
pub mod report;
pub mod sections;
pub mod stage;
pub mod wav;

use articulations::{plan_articulations, ArticulationSource, AutoShort};
use dynamics::{cc_map_for, choose_dynamic_source, DynamicSource};
use gain::GainMode;
use midi_file::{MidiSong, MidiTrack};
use rosin_core::library::Library;
use rosin_core::model::Model;
use rosin_core::performance::controllers::keyswitch;
use rosin_core::performance::{MidiEvent, PerformanceSettings};
use rosin_core::synth::Synth;
use sections::{section_by_range, section_from_name, section_from_program, SectionReason};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleFormat {
    Int24,
    Float32,
}

#[derive(Debug, Clone)]
pub struct RenderOptions {
    pub sample_rate: u32,
    pub format: SampleFormat,
    pub write_mix: bool,
    /// Block size used to drive the synthesizer (output does not depend on it).
    pub block_size: usize,
    /// Longest release tail rendered after the last event.
    pub max_tail_seconds: f64,
    pub settings: PerformanceSettings,
    /// Explicit section per track number ([`MidiTrack::number`]: 1, 2, … among the tracks with
    /// notes), overriding the guess from names and programs.
    pub track_sections: Vec<(usize, String)>,
    /// Section for tracks whose name and program name none (before the range decides).
    pub default_section: Option<String>,
    /// The controller that carries dynamics in every track, instead of the per-track choice
    /// of [`dynamics::choose_dynamic_source`].
    pub dynamic_cc: Option<u8>,
    /// Short detached notes play "short" in tracks whose file chooses no articulation.
    pub auto_short: Option<AutoShort>,
    /// How the common gain of the stems is chosen.
    pub gain: GainMode,
    /// Stereo stems and mix, each track placed on the stage ([`stage`]); false: mono files
    /// of the engine's output as it is.
    pub stereo: bool,
    /// Where each section sits when neither `--pan` nor the file places a track.
    pub seating: stage::Seating,
    /// Explicit pan (-1 left … +1 right) per track number (`--pan N=PAN`).
    pub track_pans: Vec<(usize, f32)>,
    /// The hall on the stereo mix ([`rosin_core::room`]); None or wet 0: dry.
    pub room: Option<rosin_core::room::RoomSettings>,
    /// The room on every stem too (then the stems still sum to the mix).
    pub wet_stems: bool,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            sample_rate: 48_000,
            format: SampleFormat::Int24,
            write_mix: true,
            block_size: 512,
            max_tail_seconds: 8.0,
            settings: PerformanceSettings::default(),
            track_sections: Vec::new(),
            default_section: None,
            dynamic_cc: None,
            auto_short: None,
            gain: GainMode::Normalize,
            stereo: true,
            seating: stage::Seating::default(),
            track_pans: Vec::new(),
            room: Some(rosin_core::room::RoomSettings::default()),
            wet_stems: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    Midi(#[from] midi_file::MidiFileError),
    #[error(transparent)]
    MusicXml(#[from] musicxml::MusicXmlError),
    #[error("{path}: track {track} (\"{name}\"): {problem}")]
    Track { path: PathBuf, track: usize, name: String, problem: String },
    #[error("{}: the file has no notes to render", .0.display())]
    NoNotes(PathBuf),
    #[error("{}: --{flag} {number}=…: there is no track {number}; the file has {count} tracks with notes (1-{count})", path.display())]
    NoSuchTrack { path: PathBuf, flag: &'static str, number: usize, count: usize },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("unsupported sample rate {0} Hz (use 22050..=192000)")]
    SampleRate(u32),
}

/// One rendered track.
pub struct Stem {
    pub track: usize,
    pub name: String,
    pub section: String,
    pub model: Arc<Model>,
    pub audio: Vec<f32>,
    /// The engine's record of the notes each articulation played ([`Synth::notes_played`]).
    pub notes_played: [u64; 4],
}

/// A plan for one track: its events with sample positions, the model to play them and why.
pub struct TrackPlan {
    /// The track's number as users see it ([`MidiTrack::number`]).
    pub track: usize,
    /// The track's position in the file ([`MidiTrack::index`]): its takes are seeded from it,
    /// so a track plays the same takes as the plugin does for the same MIDI (file position 0
    /// for a one-track file), whatever the numbering shown.
    pub take_index: usize,
    pub name: String,
    pub section: String,
    pub section_reason: SectionReason,
    pub model: Arc<Model>,
    pub events: Vec<(u64, MidiEvent)>,
    /// The performance settings of this track (its dynamics controller).
    pub settings: PerformanceSettings,
    pub dynamic_source: DynamicSource,
    pub articulation_source: ArticulationSource,
    pub articulation_texts: usize,
    pub auto_shorts: usize,
    /// Keys of the notes played (keyswitches left out), in order.
    pub keys: Vec<u8>,
    /// The first CC10 (pan) of the track and how many pan changes follow it, kept for the
    /// stereo mix.
    pub pan: Option<u8>,
    pub pan_changes: usize,
}

impl TrackPlan {
    /// A plan that plays `events` exactly as given, chosen by the caller (`--section`), with
    /// dynamics from CC1 or velocity: for benchmarks and tests that build their own events.
    pub fn from_events(
        track: usize,
        name: &str,
        section: &str,
        model: Arc<Model>,
        events: Vec<(u64, MidiEvent)>,
        settings: &PerformanceSettings,
    ) -> TrackPlan {
        let keys = played_keys(events.iter().map(|(_, e)| e), settings);
        TrackPlan {
            track,
            take_index: track,
            name: name.to_string(),
            section: section.to_string(),
            section_reason: SectionReason::Flag,
            model,
            events,
            settings: settings.clone(),
            dynamic_source: choose_dynamic_source(std::iter::empty(), Some(settings.cc.dynamic)),
            articulation_source: ArticulationSource::File,
            articulation_texts: 0,
            auto_shorts: 0,
            keys,
            pan: None,
            pan_changes: 0,
        }
    }

    /// Notes outside the model's trained keys: (count, lowest, highest). They still play: the
    /// network hears the nearest trained key, the oscillator the real pitch.
    pub fn out_of_range(&self) -> Option<(usize, u8, u8)> {
        let [lo, hi] = self.model.card.key_range;
        let outside: Vec<u8> = self.keys.iter().copied().filter(|k| !(lo..=hi).contains(k)).collect();
        let (min, max) = (outside.iter().min()?, outside.iter().max()?);
        Some((outside.len(), *min, *max))
    }
}

/// Reads a score for rendering: a MusicXML score (`.musicxml`, `.xml`, `.mxl`) through
/// [`musicxml`], anything else as a standard MIDI file. `track_sections` are the `--section`
/// choices: a MusicXML part with one is rendered whatever instrument it names.
pub fn read_score(path: &Path, track_sections: &[(usize, String)]) -> Result<MidiSong, RenderError> {
    if musicxml::is_musicxml_path(path) {
        Ok(musicxml::read_musicxml_file(path, track_sections)?)
    } else {
        Ok(midi_file::read_midi_file(path)?)
    }
}

/// Chooses a model, dynamics source and articulations for every track with notes.
pub fn plan_tracks(
    song: &MidiSong,
    midi_path: &Path,
    lib: &Library,
    opts: &RenderOptions,
) -> Result<Vec<TrackPlan>, RenderError> {
    let count = song.tracks_with_notes().count();
    let numbers = opts
        .track_sections
        .iter()
        .map(|(n, _)| (*n, "section"))
        .chain(opts.track_pans.iter().map(|(n, _)| (*n, "pan")));
    for (number, flag) in numbers {
        if number == 0 || number > count {
            return Err(RenderError::NoSuchTrack { path: midi_path.to_owned(), flag, number, count });
        }
    }
    let mut plans = Vec::new();
    for track in song.tracks.iter().filter(|t| t.has_notes()) {
        let track_error = |problem: String| RenderError::Track {
            path: midi_path.to_owned(),
            track: track.number,
            name: track.display_name(),
            problem,
        };
        let keys = played_keys(track.events.iter().map(|e| &e.event), &opts.settings);
        let (section, section_reason) = pick_section(track, &keys, lib, opts).ok_or_else(|| {
            track_error(format!(
                "it plays only keyswitches, so nothing says which instrument plays it; choose one with \
                 --section {}=<{}>",
                track.number,
                lib.names().join("|")
            ))
        })?;
        let model = lib.get(&section).cloned().ok_or_else(|| {
            track_error(format!("no model named \"{section}\" (available: {})", lib.names().join(", ")))
        })?;
        let dynamic_source = choose_dynamic_source(track.events.iter().map(|e| &e.event), opts.dynamic_cc);
        let settings =
            PerformanceSettings { cc: cc_map_for(dynamic_source, &opts.settings.cc), ..opts.settings.clone() };
        let events =
            track.events.iter().map(|e| (midi_file::seconds_to_sample(e.time_s, opts.sample_rate), e.event)).collect();
        let arts = plan_articulations(events, &track.texts, opts.sample_rate, &settings, opts.auto_short);
        let pans: Vec<u8> = track
            .events
            .iter()
            .filter_map(|e| match e.event {
                MidiEvent::ControlChange { cc: 10, value } => Some(value),
                _ => None,
            })
            .collect();
        plans.push(TrackPlan {
            track: track.number,
            take_index: track.index,
            name: track.display_name(),
            section,
            section_reason,
            model,
            events: arts.events,
            settings,
            dynamic_source,
            articulation_source: arts.source,
            articulation_texts: arts.texts_read,
            auto_shorts: arts.auto_shorts,
            keys,
            pan: pans.first().copied(),
            pan_changes: pans.windows(2).filter(|w| w[0] != w[1]).count(),
        });
    }
    if plans.is_empty() {
        return Err(RenderError::NoNotes(midi_path.to_owned()));
    }
    Ok(plans)
}

/// Keys of the notes played, keyswitches left out, in order.
fn played_keys<'a>(events: impl Iterator<Item = &'a MidiEvent>, settings: &PerformanceSettings) -> Vec<u8> {
    events
        .filter_map(|e| match *e {
            MidiEvent::NoteOn { key, .. } if keyswitch(key, settings).is_none() => Some(key),
            _ => None,
        })
        .collect()
}

/// The section for a track and why: flag, name, program, `--default-section`, then range.
fn pick_section(
    track: &MidiTrack,
    keys: &[u8],
    lib: &Library,
    opts: &RenderOptions,
) -> Option<(String, SectionReason)> {
    if let Some((_, s)) = opts.track_sections.iter().find(|(i, _)| *i == track.number) {
        return Some((s.clone(), SectionReason::Flag));
    }
    for text in [track.name.as_deref(), track.instrument_name.as_deref()].into_iter().flatten() {
        if let Some(section) = section_from_name(text) {
            return Some((section.name().to_string(), SectionReason::Name { text: text.to_string() }));
        }
    }
    let programs = track.events.iter().filter_map(|e| match e.event {
        MidiEvent::ProgramChange { program } => Some(program),
        _ => None,
    });
    for program in programs {
        if let Some(section) = section_from_program(program) {
            return Some((section.name().to_string(), SectionReason::Program { program }));
        }
    }
    if let Some(s) = &opts.default_section {
        return Some((s.clone(), SectionReason::Default));
    }
    section_by_range(keys, lib)
}

/// Renders one track: its audio and the engine's record of the notes each articulation
/// played. `progress` counts rendered samples across threads.
pub fn render_track(
    plan: &TrackPlan,
    end_sample: u64,
    opts: &RenderOptions,
    progress: &AtomicU64,
) -> (Vec<f32>, [u64; 4]) {
    // Each track plays its own takes: two parts in unison are two players, not one copied.
    let settings = PerformanceSettings {
        seed: rosin_core::model::fluctuation::take_seed(opts.settings.seed, plan.take_index as u64),
        ..plan.settings.clone()
    };
    let mut synth = Synth::new(plan.model.clone(), settings, opts.sample_rate as f32);
    let tail_limit = end_sample + (opts.max_tail_seconds * opts.sample_rate as f64) as u64;
    let block = opts.block_size.max(1);
    let mut audio: Vec<f32> = Vec::with_capacity(end_sample as usize + opts.sample_rate as usize);
    let mut buf = vec![0.0f32; block];
    // When the song is over, notes the file never ended (and a pedal it left down) are released,
    // so they fade with the release instead of ringing to the tail limit.
    let mut events = plan.events.clone();
    let song_end = events.partition_point(|(at, _)| *at <= end_sample);
    events.splice(
        song_end..song_end,
        [
            (end_sample, MidiEvent::ControlChange { cc: 64, value: 0 }),
            (end_sample, MidiEvent::ControlChange { cc: 123, value: 0 }),
        ],
    );
    let mut rest = &events[..];
    let mut pos = 0u64;
    loop {
        let len = if pos < end_sample { block.min((end_sample - pos) as usize) } else { block };
        let taken = synth.render_timeline(&mut buf[..len], pos, rest);
        rest = &rest[taken..];
        audio.extend_from_slice(&buf[..len]);
        pos += len as u64;
        progress.fetch_add(len as u64, Ordering::Relaxed);
        if pos >= end_sample && (synth.active_voices() == 0 || pos >= tail_limit) {
            break;
        }
    }
    // The loop stops on a block boundary; cut where the sound ends so the length, like the
    // samples, does not depend on the block size.
    let last_sound = audio.iter().rposition(|x| *x != 0.0).map_or(0, |i| i + 1);
    audio.truncate((last_sound.max(end_sample as usize)).min(tail_limit as usize));
    (audio, synth.notes_played())
}

/// Renders every track of a song (in parallel) to stems of equal length.
pub fn render_song(plans: &[TrackPlan], song: &MidiSong, opts: &RenderOptions, progress: &AtomicU64) -> Vec<Stem> {
    let end = song.duration_samples(opts.sample_rate);
    let mut audios: Vec<(Vec<f32>, [u64; 4])> = vec![(Vec::new(), [0; 4]); plans.len()];
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(plans.len().max(1));
    std::thread::scope(|scope| {
        let chunk = plans.len().div_ceil(threads);
        for (plan_chunk, out_chunk) in plans.chunks(chunk).zip(audios.chunks_mut(chunk)) {
            scope.spawn(move || {
                for (p, out) in plan_chunk.iter().zip(out_chunk.iter_mut()) {
                    *out = render_track(p, end, opts, progress);
                }
            });
        }
    });
    let len = audios.iter().map(|a| a.0.len()).max().unwrap_or(0);
    plans
        .iter()
        .zip(audios)
        .map(|(p, (mut audio, notes_played))| {
            audio.resize(len, 0.0);
            Stem {
                track: p.track,
                name: p.name.clone(),
                section: p.section.clone(),
                model: p.model.clone(),
                audio,
                notes_played,
            }
        })
        .collect()
}

/// The plain sum of the stems' audio (mono or interleaved alike): what a producer gets by
/// summing the stem files, so the stems and the mix share one gain ([`gain`]) instead of the
/// mix having its own.
pub fn mix<A: AsRef<[f32]>>(stems: &[A]) -> Vec<f32> {
    let len = stems.iter().map(|s| s.as_ref().len()).max().unwrap_or(0);
    let mut out = vec![0.0f32; len];
    for s in stems {
        for (o, x) in out.iter_mut().zip(s.as_ref()) {
            *o += x;
        }
    }
    out
}

/// A file-system-safe version of a track name.
pub fn file_stem_for(track: usize, name: &str) -> String {
    let clean: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect::<String>();
    let clean = clean.trim_matches('_');
    format!("{track:02}-{}", if clean.is_empty() { "track" } else { clean })
}
