//! The command line of `rosin`: what each subcommand takes, and how arguments become the
//! libraries' options.

use clap::{Parser, Subcommand, ValueEnum};
use rosin_core::performance::{PerformanceSettings, VoiceMode};
use rosin_tools::dataset::DEFAULT_SF2;
use rosin_tools::render::articulations::AutoShort;
use rosin_tools::render::gain::GainMode;
use rosin_tools::render::{RenderOptions, SampleFormat};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "rosin", version, about = "Rosin: a neural orchestral strings instrument")]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Render a standard MIDI file to one WAV stem per track (and a mix).
    Render(RenderArgs),
    /// Analyse labelled recordings (a SoundFont's VSCO2 strings or a WAV folder) into a dataset.
    Dataset(DatasetArgs),
    /// Train one instrument's model from a dataset.
    Train(TrainArgs),
    /// Held-out fidelity of models vs a sampler and the synth's ceiling; pitch; dynamics sweep.
    Eval(EvalArgs),
    /// Measure speed: CPU per voice-second and offline render speed.
    Bench(BenchArgs),
    /// Summarise a model: instrument, articulations, keys, network, training and held-out figures.
    Info {
        /// A .safetensors model file, or the name of an embedded model (e.g. "violins").
        model: String,
        /// Print the whole model card as JSON instead.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Format {
    /// 24-bit integer PCM.
    Int24,
    /// 32-bit float.
    Float32,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Mode {
    Poly,
    Mono,
}

#[derive(clap::Args)]
pub(crate) struct RenderArgs {
    /// The MIDI file (type 0, 1 or 2) or MusicXML score (.musicxml, .xml, .mxl).
    pub(crate) midi: PathBuf,
    /// Output folder (default: out/<midi file name>).
    #[arg(short, long)]
    pub(crate) out: Option<PathBuf>,
    #[arg(long, default_value_t = 48_000, value_parser = clap::value_parser!(u32).range(22_050..=192_000))]
    pub(crate) sample_rate: u32,
    #[arg(long, value_enum, default_value_t = Format::Int24)]
    pub(crate) format: Format,
    /// Do not write mix.wav.
    #[arg(long)]
    pub(crate) no_mix: bool,
    /// Instrument for a track: TRACK=SECTION (e.g. 2=celli), tracks counted 1, 2, … among the
    /// tracks with notes, as the output numbers them. Repeatable.
    #[arg(long = "section", value_parser = parse_track_section)]
    pub(crate) sections: Vec<(usize, String)>,
    /// Instrument for tracks whose name and program give no hint.
    #[arg(long)]
    pub(crate) default_section: Option<String>,
    /// Use a model file for a section: SECTION=PATH (e.g. violins=my.safetensors). Repeatable.
    #[arg(long = "model", value_parser = parse_model_arg)]
    pub(crate) models: Vec<(String, PathBuf)>,
    /// Polyphonic, or monophonic legato.
    #[arg(long, value_enum, default_value_t = Mode::Poly)]
    pub(crate) mode: Mode,
    /// Pitch-bend range in semitones.
    #[arg(long, default_value_t = 2.0)]
    pub(crate) bend_range: f32,
    /// Release time in seconds (0.005 to 30).
    #[arg(long, default_value_t = 0.35, value_parser = parse_release)]
    pub(crate) release: f32,
    /// Block size used internally, 1 to 65536 (the output does not depend on it).
    #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..=65_536))]
    pub(crate) block_size: u32,
    /// How much of the recordings' fluctuation and take-to-take difference is played: 0 the
    /// averaged note (every repetition identical), 1 as recorded, up to 2 exaggerated.
    #[arg(long, default_value_t = 1.0, value_parser = parse_variation)]
    pub(crate) variation: f32,
    /// Seed of the takes: the same seed renders the same file; another seed, other takes.
    #[arg(long, default_value_t = 0)]
    pub(crate) seed: u64,
    /// The controller that carries dynamics in every track (default, per track: CC1 if
    /// present, else CC2, CC11 or CC7 if the track moves it, else velocity).
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=127))]
    pub(crate) dynamic_cc: Option<u8>,
    /// In tracks where the file chooses no articulation, notes shorter than SECONDS that are
    /// followed by a gap play "short" (default 0.25 s when given without a value).
    #[arg(long, value_name = "SECONDS", num_args = 0..=1, default_missing_value = "0.25", value_parser = parse_auto_short)]
    pub(crate) auto_articulation: Option<f64>,
    /// A fixed gain in dB for every stem and the mix, instead of lowering the render so its
    /// loudest sample is at -1 dBFS.
    #[arg(long, value_name = "DB", allow_hyphen_values = true, conflicts_with = "no_normalize", value_parser = parse_gain)]
    pub(crate) gain: Option<f32>,
    /// Write the stems at the level they were rendered (0 dB), even if they clip.
    #[arg(long)]
    pub(crate) no_normalize: bool,
    /// Mono stems and mix: the engine's output as it is, no placement and no room.
    #[arg(long, conflicts_with_all = ["pans", "seats", "wet_stems"])]
    pub(crate) mono: bool,
    /// No hall on the mix (the same as --room-wet 0).
    #[arg(long, conflicts_with_all = ["room_decay", "room_wet", "room_pre_delay", "room_damping", "wet_stems"])]
    pub(crate) no_room: bool,
    /// The hall's decay time (T60) in seconds, 0.2 to 10 (default 2).
    #[arg(long, value_name = "SECONDS", value_parser = parse_room_decay)]
    pub(crate) room_decay: Option<f32>,
    /// The hall's level added to the dry sound, 0 to 1 (default 0.3; 0: dry).
    #[arg(long, value_name = "WET", value_parser = parse_unit)]
    pub(crate) room_wet: Option<f32>,
    /// Time from the direct sound to the first reflection in seconds, 0 to 0.2 (default 0.02).
    #[arg(long, value_name = "SECONDS", value_parser = parse_pre_delay)]
    pub(crate) room_pre_delay: Option<f32>,
    /// How much sooner the highs die in the hall, 0 to 1 (default 0.5).
    #[arg(long, value_name = "AMOUNT", value_parser = parse_unit)]
    pub(crate) room_damping: Option<f32>,
    /// The hall on every stem too (by default the stems are dry and only the mix has it).
    #[arg(long)]
    pub(crate) wet_stems: bool,
    /// Place a track: TRACK=PAN, PAN from -1 (left) through 0 (centre) to 1 (right), tracks
    /// numbered as for --section. Overrides the file's CC10 and the seating. Repeatable.
    #[arg(long = "pan", value_name = "TRACK=PAN", allow_hyphen_values = true, value_parser = parse_track_pan)]
    pub(crate) pans: Vec<(usize, f32)>,
    /// Move a section's seat: SECTION=PAN (default violins -0.55 and -0.25 for a second violin
    /// track, violas 0.15, celli 0.4, basses 0.6). Repeatable.
    #[arg(long = "seat", value_name = "SECTION=PAN", allow_hyphen_values = true, value_parser = parse_seat)]
    pub(crate) seats: Vec<(String, f32)>,
    /// No progress bar.
    #[arg(short, long)]
    pub(crate) quiet: bool,
}

/// A number within `range`, in `unit` (" s", " dB"); the error says which bound was crossed.
fn number_in<T>(s: &str, range: std::ops::RangeInclusive<T>, unit: &str) -> Result<T, String>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display,
{
    let text = s.trim().trim_end_matches(unit.trim()).trim();
    let v: T = text.parse().map_err(|_| format!("\"{s}\" is not a number{unit}"))?;
    if !range.contains(&v) {
        return Err(format!("{v}{unit} is outside {}..{}{unit}", range.start(), range.end()));
    }
    Ok(v)
}

fn parse_release(s: &str) -> Result<f32, String> {
    number_in(s, 0.005..=30.0, " s")
}

fn parse_auto_short(s: &str) -> Result<f64, String> {
    number_in(s, 0.01..=2.0, " s")
}

fn parse_gain(s: &str) -> Result<f32, String> {
    number_in(s, -60.0..=24.0, " dB")
}

fn parse_variation(s: &str) -> Result<f32, String> {
    let v: f32 = s.parse().map_err(|_| format!("\"{s}\" is not a number"))?;
    if !(0.0..=2.0).contains(&v) {
        return Err(format!("{v} is outside 0..2 (0 averaged, 1 as recorded, 2 exaggerated)"));
    }
    Ok(v)
}

#[derive(clap::Args)]
pub(crate) struct DatasetArgs {
    /// SoundFont to read the VSCO2 section strings from (default: the Debian package's file).
    #[arg(long, conflicts_with = "wav_folder")]
    pub(crate) sf2: Option<PathBuf>,
    /// Folder of <instrument>_<articulation>_<pitch>_<layer>.wav files instead of a SoundFont.
    #[arg(long)]
    pub(crate) wav_folder: Option<PathBuf>,
    /// Output folder for manifest.json and features.safetensors.
    #[arg(short, long, default_value = "dataset-cache/vsco2-strings")]
    pub(crate) out: PathBuf,
    /// Only these instruments (comma separated), e.g. violins,celli.
    #[arg(long, value_delimiter = ',')]
    pub(crate) instruments: Vec<String>,
    /// Licence of the recordings, for model cards (a WAV folder has no way to say).
    #[arg(long)]
    pub(crate) licence: Option<String>,
    #[arg(short, long)]
    pub(crate) quiet: bool,
}

#[derive(clap::Args)]
pub(crate) struct TrainArgs {
    /// Dataset folder written by `rosin dataset`.
    #[arg(long, default_value = "dataset-cache/vsco2-strings")]
    pub(crate) dataset: PathBuf,
    /// Instrument in the dataset to train (e.g. violins).
    #[arg(long)]
    pub(crate) instrument: String,
    /// Model file to write (its card goes beside it as .json, the loss curve as .loss.png).
    #[arg(short, long)]
    pub(crate) out: PathBuf,
    /// Name shown to users (default: the instrument, capitalised).
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// Wall-clock budget in minutes (with --steps: only a cap that stops the run early).
    #[arg(long, default_value_t = 8.0)]
    pub(crate) minutes: f64,
    /// Optimiser steps. Given, the learning-rate schedule follows the steps, so the same command
    /// trains the same weights on any machine; not given, the run lasts --minutes.
    #[arg(long)]
    pub(crate) steps: Option<usize>,
    /// GRU size: 64 measured better than 128 on held-out notes at the same number of steps,
    /// trains 1.5x faster and plays 1.5x cheaper (see model-weights/README.md).
    #[arg(long, default_value_t = 64)]
    pub(crate) gru_hidden: usize,
    #[arg(long, default_value_t = 64)]
    pub(crate) input_hidden: usize,
    #[arg(long, default_value_t = 128)]
    pub(crate) output_hidden: usize,
    #[arg(long, default_value_t = 16)]
    pub(crate) batch: usize,
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// Pick batches uniformly, so long notes get most steps (the old behaviour).
    #[arg(long)]
    pub(crate) unbalanced: bool,
    /// Loss weight of the level output relative to one spectral band.
    #[arg(long, default_value_t = 24.0)]
    pub(crate) loudness_weight: f32,
    /// Ship an exponential moving average of the weights with this decay per step (0: the last
    /// step's weights).
    #[arg(long, default_value_t = 0.999)]
    pub(crate) ema_decay: f64,
    /// Weight of the prior that, at every pitch of the trained range, the loudest trained dynamic
    /// is brighter than the softest (by 0.05 octave of power-weighted mean partial frequency);
    /// 0 fits each key's layers as recorded.
    #[arg(long, default_value_t = 1.0)]
    pub(crate) brightness_weight: f32,
    /// Then fine-tune this long on the recordings' audio through a differentiable copy of the
    /// synthesizer (multi-scale spectral loss); 0 skips it.
    #[arg(long, default_value_t = 0.0)]
    pub(crate) fine_tune_minutes: f64,
    /// Start from this model's weights (same network shape) instead of random ones; with
    /// `--minutes 0` only the fine-tune runs.
    #[arg(long)]
    pub(crate) init: Option<PathBuf>,
    /// Fine-tune steps, as --steps (--fine-tune-minutes then only caps the time).
    #[arg(long)]
    pub(crate) fine_tune_steps: Option<usize>,
    /// Skip fitting the sampled fluctuation (the model then plays the network's averaged note).
    #[arg(long)]
    pub(crate) no_fluctuation: bool,
    /// Learning rate of the fine-tune.
    #[arg(long, default_value_t = 3e-4)]
    pub(crate) fine_tune_lr: f64,
    /// Weight of the frame loss kept in the fine-tune's objective.
    #[arg(long, default_value_t = 1.0)]
    pub(crate) fine_tune_frame_weight: f32,
    /// Weight of the multi-scale spectral distance in the fine-tune's objective (0: the
    /// ablation, frame loss only on the same segments).
    #[arg(long, default_value_t = 1.0)]
    pub(crate) fine_tune_spectral_weight: f32,
    /// Weight of the brightness prior in the fine-tune (see --brightness-weight; 0 there turns
    /// it off here too).
    #[arg(long, default_value_t = 5.0)]
    pub(crate) fine_tune_brightness_weight: f32,
    /// SoundFont or WAV folder the dataset was made from (the fine-tune needs the audio;
    /// default: the one the dataset's manifest records, else the Debian package's SoundFont).
    #[arg(long)]
    pub(crate) recordings: Option<PathBuf>,
    #[arg(short, long)]
    pub(crate) quiet: bool,
}

#[derive(clap::Args)]
pub(crate) struct EvalArgs {
    /// Models to evaluate: embedded names or SECTION=PATH (default: every embedded model).
    pub(crate) models: Vec<String>,
    /// SoundFont holding the recordings (default: the Debian package's file).
    #[arg(long)]
    pub(crate) sf2: Option<PathBuf>,
    /// Folder for the JSON reports and PNG plots (default: out/eval).
    #[arg(short, long, conflicts_with = "update_docs")]
    pub(crate) out: Option<PathBuf>,
    /// Write the reports and plots into the repository's docs/eval/ (the shipped models' pages).
    #[arg(long)]
    pub(crate) update_docs: bool,
    /// Write the measured metrics into the model cards (<weights-dir>/<name>.safetensors + .json).
    #[arg(long)]
    pub(crate) update_cards: bool,
    /// Folder of the model files whose cards --update-cards writes.
    #[arg(long, default_value = rosin_tools::eval::cards::DEFAULT_WEIGHTS_DIR)]
    pub(crate) weights_dir: PathBuf,
}

#[derive(clap::Args)]
pub(crate) struct BenchArgs {
    /// Model to measure (file or embedded name).
    #[arg(long, default_value = "violins")]
    pub(crate) model: String,
    /// Voice counts to measure (space or comma separated).
    #[arg(long, value_delimiter = ',', num_args = 1.., default_values_t = vec![1usize, 16, 64])]
    pub(crate) voices: Vec<usize>,
    #[arg(long, default_value_t = 48_000)]
    pub(crate) sample_rate: u32,
    #[arg(long, default_value_t = 512)]
    pub(crate) block: usize,
    /// Seconds of audio per measurement.
    #[arg(long, default_value_t = 10.0)]
    pub(crate) seconds: f64,
    /// MIDI file for the offline render measurement.
    #[arg(long, default_value = "demo/strings-demo.mid")]
    pub(crate) midi: PathBuf,
    /// Also write the figures as JSON here.
    #[arg(long)]
    pub(crate) json: Option<PathBuf>,
    /// SoundFont for the FluidSynth comparison and the model-size figures.
    #[arg(long, default_value = DEFAULT_SF2)]
    pub(crate) sf2: PathBuf,
    /// Skip the side-by-side run of FluidSynth.
    #[arg(long)]
    pub(crate) no_sampler: bool,
    /// Where the FluidSynth comparison writes its MIDI and WAV files.
    #[arg(long, default_value = "out/bench")]
    pub(crate) sampler_dir: PathBuf,
}

pub(crate) fn parse_track_section(s: &str) -> Result<(usize, String), String> {
    let (t, n) = s.split_once('=').ok_or("expected TRACK=SECTION, e.g. 2=celli")?;
    Ok((t.trim().parse().map_err(|_| format!("\"{t}\" is not a track number"))?, n.trim().to_string()))
}

fn parse_room_decay(s: &str) -> Result<f32, String> {
    let (lo, hi) = rosin_core::room::RoomSettings::DECAY_RANGE;
    number_in(s, lo..=hi, " s")
}

fn parse_pre_delay(s: &str) -> Result<f32, String> {
    let (lo, hi) = rosin_core::room::RoomSettings::PRE_DELAY_RANGE;
    number_in(s, lo..=hi, " s")
}

fn parse_unit(s: &str) -> Result<f32, String> {
    number_in(s, 0.0..=1.0, "")
}

fn parse_pan(s: &str) -> Result<f32, String> {
    number_in(s, -1.0..=1.0, "")
}

pub(crate) fn parse_track_pan(s: &str) -> Result<(usize, f32), String> {
    let (t, p) = s.split_once('=').ok_or("expected TRACK=PAN, e.g. 2=-0.5")?;
    Ok((t.trim().parse().map_err(|_| format!("\"{t}\" is not a track number"))?, parse_pan(p)?))
}

pub(crate) fn parse_seat(s: &str) -> Result<(String, f32), String> {
    let (n, p) = s.split_once('=').ok_or("expected SECTION=PAN, e.g. violas=-0.2")?;
    Ok((n.trim().to_ascii_lowercase(), parse_pan(p)?))
}

pub(crate) fn parse_model_arg(s: &str) -> Result<(String, PathBuf), String> {
    let (n, p) = s.split_once('=').ok_or("expected SECTION=PATH, e.g. violins=model.safetensors")?;
    Ok((n.trim().to_string(), PathBuf::from(p.trim())))
}

impl RenderArgs {
    pub(crate) fn options(&self) -> RenderOptions {
        RenderOptions {
            sample_rate: self.sample_rate,
            format: match self.format {
                Format::Int24 => SampleFormat::Int24,
                Format::Float32 => SampleFormat::Float32,
            },
            write_mix: !self.no_mix,
            block_size: self.block_size as usize,
            settings: PerformanceSettings {
                voice_mode: match self.mode {
                    Mode::Poly => VoiceMode::Poly,
                    Mode::Mono => VoiceMode::MonoLegato,
                },
                bend_range_semitones: self.bend_range.clamp(0.0, 48.0),
                release_seconds: self.release,
                variation: self.variation,
                seed: self.seed,
                ..Default::default()
            },
            track_sections: self.sections.clone(),
            default_section: self.default_section.clone(),
            dynamic_cc: self.dynamic_cc,
            auto_short: self.auto_articulation.map(|max_seconds| AutoShort { max_seconds, ..Default::default() }),
            gain: match (self.gain, self.no_normalize) {
                (Some(db), _) => GainMode::Fixed { db },
                (None, true) => GainMode::Fixed { db: 0.0 },
                (None, false) => GainMode::Normalize,
            },
            stereo: !self.mono,
            seating: {
                let mut seating = rosin_tools::render::stage::Seating::default();
                for (section, pan) in &self.seats {
                    seating.set(section, *pan);
                }
                seating
            },
            track_pans: self.pans.clone(),
            room: (!self.no_room && !self.mono).then(|| {
                let d = rosin_core::room::RoomSettings::default();
                rosin_core::room::RoomSettings {
                    pre_delay_s: self.room_pre_delay.unwrap_or(d.pre_delay_s),
                    decay_s: self.room_decay.unwrap_or(d.decay_s),
                    damping: self.room_damping.unwrap_or(d.damping),
                    wet: self.room_wet.unwrap_or(d.wet),
                }
            }),
            wet_stems: self.wet_stems,
            ..Default::default()
        }
    }

    /// --out, or out/<midi file name>.
    pub(crate) fn out_dir(&self) -> PathBuf {
        self.out.clone().unwrap_or_else(|| {
            let stem = self.midi.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            PathBuf::from("out").join(stem)
        })
    }
}

impl DatasetArgs {
    pub(crate) fn source(&self) -> rosin_tools::dataset::build::Source {
        use rosin_tools::dataset::build::Source;
        match &self.wav_folder {
            Some(dir) => Source::WavFolder(dir.clone()),
            None => Source::Sf2(self.sf2.clone()),
        }
    }
}

impl TrainArgs {
    /// The name shown to users: --name, or the instrument capitalised.
    pub(crate) fn display_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| {
            let inst = self.instrument.to_ascii_lowercase();
            let mut c = inst.chars();
            c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
        })
    }

    /// The fine-tune's settings, None when neither --fine-tune-minutes nor --fine-tune-steps asks
    /// for one.
    pub(crate) fn fine_tune(&self) -> Option<rosin_train::finetune::FineTuneConfig> {
        (self.fine_tune_minutes > 0.0 || self.fine_tune_steps.is_some()).then(|| {
            rosin_train::finetune::FineTuneConfig {
                // Steps without minutes: no time cap.
                max_seconds: if self.fine_tune_minutes > 0.0 { self.fine_tune_minutes * 60.0 } else { f64::INFINITY },
                max_steps: self.fine_tune_steps,
                learning_rate: self.fine_tune_lr,
                frame_loss_weight: self.fine_tune_frame_weight,
                spectral_loss_weight: self.fine_tune_spectral_weight,
                brightness_weight: self.fine_tune_brightness_weight,
                seed: self.seed,
                ..Default::default()
            }
        })
    }
}
