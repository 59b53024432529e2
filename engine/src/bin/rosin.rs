//! `rosin`: render MIDI files to stems, inspect models, build datasets, train and evaluate.

use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use rosin_engine::library::Library;
use rosin_engine::model::Model;
use rosin_engine::performance::{PerformanceSettings, VoiceMode};
use rosin_engine::render::{self, midi_file, RenderOptions, SampleFormat};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

#[derive(Parser)]
#[command(name = "rosin", version, about = "Rosin: a neural orchestral strings instrument")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Render a standard MIDI file to one WAV stem per track (and a mix).
    Render(RenderArgs),
    /// Analyse labelled recordings (a SoundFont's VSCO2 strings or a WAV folder) into a dataset.
    Dataset(DatasetArgs),
    /// Train one instrument's model from a dataset.
    #[cfg(feature = "train")]
    Train(TrainArgs),
    /// Held-out fidelity of models vs a sampler and the synth's ceiling; pitch; dynamics sweep.
    Eval(EvalArgs),
    /// Measure speed: CPU per voice-second and offline render speed.
    Bench(BenchArgs),
    /// Print a model's card.
    Info {
        /// A .safetensors model file, or the name of an embedded model (e.g. "violins").
        model: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// 24-bit integer PCM.
    Int24,
    /// 32-bit float.
    Float32,
}

#[derive(Clone, Copy, ValueEnum)]
enum Mode {
    Poly,
    Mono,
}

#[derive(clap::Args)]
struct RenderArgs {
    /// The MIDI file (type 0 or 1).
    midi: PathBuf,
    /// Output folder (default: out/<midi file name>).
    #[arg(short, long)]
    out: Option<PathBuf>,
    #[arg(long, default_value_t = 48_000, value_parser = clap::value_parser!(u32).range(22_050..=192_000))]
    sample_rate: u32,
    #[arg(long, value_enum, default_value_t = Format::Int24)]
    format: Format,
    /// Do not write mix.wav.
    #[arg(long)]
    no_mix: bool,
    /// Instrument for a track: TRACK=SECTION (e.g. 2=celli). Repeatable.
    #[arg(long = "section", value_parser = parse_track_section)]
    sections: Vec<(usize, String)>,
    /// Instrument for tracks whose name and program give no hint.
    #[arg(long)]
    default_section: Option<String>,
    /// Use a model file for a section: SECTION=PATH (e.g. violins=my.safetensors). Repeatable.
    #[arg(long = "model", value_parser = parse_model_arg)]
    models: Vec<(String, PathBuf)>,
    /// Polyphonic, or monophonic legato.
    #[arg(long, value_enum, default_value_t = Mode::Poly)]
    mode: Mode,
    /// Pitch-bend range in semitones.
    #[arg(long, default_value_t = 2.0)]
    bend_range: f32,
    /// Release time in seconds.
    #[arg(long, default_value_t = 0.35)]
    release: f32,
    /// Block size used internally (the output does not depend on it).
    #[arg(long, default_value_t = 512)]
    block_size: usize,
    /// No progress bar.
    #[arg(short, long)]
    quiet: bool,
}

#[derive(clap::Args)]
struct DatasetArgs {
    /// SoundFont to read the VSCO2 section strings from (default: the Debian package's file).
    #[arg(long, conflicts_with = "wav_folder")]
    sf2: Option<PathBuf>,
    /// Folder of <instrument>_<articulation>_<pitch>_<layer>.wav files instead of a SoundFont.
    #[arg(long)]
    wav_folder: Option<PathBuf>,
    /// Output folder for manifest.json and features.safetensors.
    #[arg(short, long, default_value = "dataset-cache/vsco2-strings")]
    out: PathBuf,
    /// Only these instruments (comma separated), e.g. violins,celli.
    #[arg(long, value_delimiter = ',')]
    instruments: Vec<String>,
    /// Licence of the recordings, for model cards (a WAV folder has no way to say).
    #[arg(long)]
    licence: Option<String>,
    #[arg(short, long)]
    quiet: bool,
}

#[cfg(feature = "train")]
#[derive(clap::Args)]
struct TrainArgs {
    /// Dataset folder written by `rosin dataset`.
    #[arg(long, default_value = "dataset-cache/vsco2-strings")]
    dataset: PathBuf,
    /// Instrument in the dataset to train (e.g. violins).
    #[arg(long)]
    instrument: String,
    /// Model file to write (its card goes beside it as .json, the loss curve as .loss.png).
    #[arg(short, long)]
    out: PathBuf,
    /// Name shown to users (default: the instrument, capitalised).
    #[arg(long)]
    name: Option<String>,
    /// Wall-clock budget in minutes (with --steps: only a cap that stops the run early).
    #[arg(long, default_value_t = 8.0)]
    minutes: f64,
    /// Optimiser steps. Given, the learning-rate schedule follows the steps, so the same command
    /// trains the same weights on any machine; not given, the run lasts --minutes.
    #[arg(long)]
    steps: Option<usize>,
    /// GRU size: 64 measured better than 128 on held-out notes at the same number of steps,
    /// trains 1.5x faster and plays 1.5x cheaper (see model-weights/README.md).
    #[arg(long, default_value_t = 64)]
    gru_hidden: usize,
    #[arg(long, default_value_t = 64)]
    input_hidden: usize,
    #[arg(long, default_value_t = 128)]
    output_hidden: usize,
    #[arg(long, default_value_t = 16)]
    batch: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Pick batches uniformly, so long notes get most steps (the old behaviour).
    #[arg(long)]
    unbalanced: bool,
    /// Loss weight of the level output relative to one spectral band.
    #[arg(long, default_value_t = 24.0)]
    loudness_weight: f32,
    /// Ship an exponential moving average of the weights with this decay per step (0: the last
    /// step's weights).
    #[arg(long, default_value_t = 0.999)]
    ema_decay: f64,
    /// Weight of the prior that, at every pitch of the trained range, the loudest trained dynamic
    /// is brighter than the softest (by 0.05 octave of power-weighted mean partial frequency);
    /// 0 fits each key's layers as recorded.
    #[arg(long, default_value_t = 1.0)]
    brightness_weight: f32,
    /// Then fine-tune this long on the recordings' audio through a differentiable copy of the
    /// synthesizer (multi-scale spectral loss); 0 skips it.
    #[arg(long, default_value_t = 0.0)]
    fine_tune_minutes: f64,
    /// Start from this model's weights (same network shape) instead of random ones; with
    /// `--minutes 0` only the fine-tune runs.
    #[arg(long)]
    init: Option<PathBuf>,
    /// Fine-tune steps, as --steps (--fine-tune-minutes then only caps the time).
    #[arg(long)]
    fine_tune_steps: Option<usize>,
    /// Learning rate of the fine-tune.
    #[arg(long, default_value_t = 3e-4)]
    fine_tune_lr: f64,
    /// Weight of the frame loss kept in the fine-tune's objective.
    #[arg(long, default_value_t = 1.0)]
    fine_tune_frame_weight: f32,
    /// Weight of the multi-scale spectral distance in the fine-tune's objective (0: the
    /// ablation, frame loss only on the same segments).
    #[arg(long, default_value_t = 1.0)]
    fine_tune_spectral_weight: f32,
    /// Weight of the brightness prior in the fine-tune (see --brightness-weight; 0 there turns
    /// it off here too).
    #[arg(long, default_value_t = 5.0)]
    fine_tune_brightness_weight: f32,
    /// SoundFont or WAV folder the dataset was made from (the fine-tune needs the audio;
    /// default: the Debian package's SoundFont).
    #[arg(long)]
    recordings: Option<PathBuf>,
    #[arg(short, long)]
    quiet: bool,
}

#[derive(clap::Args)]
struct EvalArgs {
    /// Models to evaluate: embedded names or SECTION=PATH (default: every embedded model).
    models: Vec<String>,
    /// SoundFont holding the recordings (default: the Debian package's file).
    #[arg(long)]
    sf2: Option<PathBuf>,
    /// Folder for the JSON reports and PNG plots.
    #[arg(short, long, default_value = "docs/eval")]
    out: PathBuf,
    /// Write the measured metrics into the model cards (model-weights/<name>.safetensors + .json).
    #[arg(long)]
    update_cards: bool,
}

#[derive(clap::Args)]
struct BenchArgs {
    /// Model to measure (file or embedded name).
    #[arg(long, default_value = "violins")]
    model: String,
    /// Voice counts to measure.
    #[arg(long, value_delimiter = ',', default_values_t = vec![1usize, 16, 64])]
    voices: Vec<usize>,
    #[arg(long, default_value_t = 48_000)]
    sample_rate: u32,
    #[arg(long, default_value_t = 512)]
    block: usize,
    /// Seconds of audio per measurement.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// MIDI file for the offline render measurement.
    #[arg(long, default_value = "demo/strings-demo.mid")]
    midi: PathBuf,
    /// Also write the figures as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// SoundFont for the FluidSynth comparison and the model-size figures.
    #[arg(long, default_value = DEFAULT_SF2)]
    sf2: PathBuf,
    /// Skip the side-by-side run of FluidSynth.
    #[arg(long)]
    no_sampler: bool,
    /// Where the FluidSynth comparison writes its MIDI and WAV files.
    #[arg(long, default_value = "out/bench")]
    sampler_dir: PathBuf,
}

fn parse_track_section(s: &str) -> Result<(usize, String), String> {
    let (t, n) = s.split_once('=').ok_or("expected TRACK=SECTION, e.g. 2=celli")?;
    Ok((t.trim().parse().map_err(|_| format!("\"{t}\" is not a track number"))?, n.trim().to_string()))
}

fn parse_model_arg(s: &str) -> Result<(String, PathBuf), String> {
    let (n, p) = s.split_once('=').ok_or("expected SECTION=PATH, e.g. violins=model.safetensors")?;
    Ok((n.trim().to_string(), PathBuf::from(p.trim())))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Render(args) => render_cmd(args),
        Command::Info { model } => info_cmd(&model),
        Command::Dataset(args) => dataset_cmd(args),
        Command::Bench(args) => bench_cmd(args),
        Command::Eval(args) => eval_cmd(args),
        #[cfg(feature = "train")]
        Command::Train(args) => train_cmd(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

type AnyError = Box<dyn std::error::Error>;

fn load_model_arg(spec: &str) -> Result<Model, AnyError> {
    let path = Path::new(spec);
    if path.exists() || spec.ends_with(".safetensors") {
        return Ok(Model::load(path)?);
    }
    match rosin_engine::library::embedded(spec) {
        Some(m) => Ok(m?),
        None => Err(format!(
            "{spec}: no such model file, and no embedded model of that name (embedded: {})",
            rosin_engine::library::embedded_names().join(", ")
        )
        .into()),
    }
}

fn info_cmd(spec: &str) -> Result<(), AnyError> {
    let m = load_model_arg(spec)?;
    println!("{}", m.card.to_json_pretty());
    println!("parameters: {}", m.card.network.parameter_count());
    Ok(())
}

fn render_cmd(a: RenderArgs) -> Result<(), AnyError> {
    let song = midi_file::read_midi_file(&a.midi)?;
    let mut lib = Library::embedded()?;
    for (section, path) in &a.models {
        lib.insert(section, Arc::new(Model::load(path)?));
    }
    if lib.models.is_empty() {
        return Err(
            "no models: none are embedded in this build (model-weights/ is empty) and none given with --model".into()
        );
    }
    let opts = RenderOptions {
        sample_rate: a.sample_rate,
        format: match a.format {
            Format::Int24 => SampleFormat::Int24,
            Format::Float32 => SampleFormat::Float32,
        },
        write_mix: !a.no_mix,
        block_size: a.block_size.clamp(1, 1 << 16),
        settings: PerformanceSettings {
            voice_mode: match a.mode {
                Mode::Poly => VoiceMode::Poly,
                Mode::Mono => VoiceMode::MonoLegato,
            },
            bend_range_semitones: a.bend_range.clamp(0.0, 48.0),
            release_seconds: a.release.clamp(0.005, 30.0),
            ..Default::default()
        },
        track_sections: a.sections.clone(),
        default_section: a.default_section.clone(),
        ..Default::default()
    };
    let plans = render::plan_tracks(&song, &a.midi, &lib, &opts)?;
    let out_dir = a.out.clone().unwrap_or_else(|| {
        PathBuf::from("out").join(a.midi.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default())
    });
    std::fs::create_dir_all(&out_dir)
        .map_err(|e| format!("{}: cannot create output folder: {e}", out_dir.display()))?;

    let total = plans.len() as u64 * song.duration_samples(opts.sample_rate).max(1);
    let bar = if a.quiet { ProgressBar::hidden() } else { ProgressBar::new(total) };
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {percent}% ({elapsed} elapsed, eta {eta})")
            .unwrap()
            .progress_chars("=> "),
    );
    bar.set_message(format!("rendering {} tracks", plans.len()));
    let progress = AtomicU64::new(0);
    let started = std::time::Instant::now();
    let stems = std::thread::scope(|s| {
        let job = s.spawn(|| render::render_song(&plans, &song, &opts, &progress));
        while !job.is_finished() {
            bar.set_position(progress.load(Ordering::Relaxed).min(total));
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        job.join().expect("render thread panicked")
    });
    let seconds = started.elapsed().as_secs_f64();
    bar.finish_and_clear();

    let audio_seconds = stems.first().map(|s| s.audio.len()).unwrap_or(0) as f64 / opts.sample_rate as f64;
    for stem in &stems {
        let path = out_dir.join(format!("{}.wav", render::file_stem_for(stem.track, &stem.name)));
        let clipped = render::write_wav(&path, &stem.audio, opts.sample_rate, opts.format)?;
        let peak = stem.audio.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        println!(
            "{}  track {} \"{}\" -> {} (peak {:.1} dBFS{})",
            path.display(),
            stem.track,
            stem.name,
            stem.model.card.name,
            20.0 * peak.max(1e-9).log10(),
            if clipped > 0 { format!(", {clipped} samples clipped") } else { String::new() }
        );
    }
    if opts.write_mix {
        let path = out_dir.join("mix.wav");
        let mix = render::mix(&stems);
        let clipped = render::write_wav(&path, &mix, opts.sample_rate, opts.format)?;
        println!(
            "{}  mix of {} stems{}",
            path.display(),
            stems.len(),
            if clipped > 0 { format!(" ({clipped} samples clipped)") } else { String::new() }
        );
    }
    println!(
        "rendered {:.1} s of audio x {} tracks in {:.2} s ({:.0}x real time)",
        audio_seconds,
        stems.len(),
        seconds,
        audio_seconds * stems.len() as f64 / seconds.max(1e-9)
    );
    Ok(())
}

fn bar(quiet: bool, len: u64, msg: String) -> ProgressBar {
    let bar = if quiet { ProgressBar::hidden() } else { ProgressBar::new(len) };
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({elapsed} elapsed, eta {eta})")
            .unwrap()
            .progress_chars("=> "),
    );
    bar.set_message(msg);
    bar
}

/// The SoundFont installed by Debian's musescore-general-soundfont-lossless (scripts/setup.sh).
const DEFAULT_SF2: &str = "/usr/share/sounds/sf2/MuseScore_General_Full.sf2";
const VSCO_SOURCE: &str = "VSCO2 Community Edition section strings (Versilian Studios), as packaged in MuseScore_General_Full.sf2 (Debian musescore-general-soundfont-lossless)";
const VSCO_LICENCE: &str = "samples CC0 1.0 (VSCO2 Community Edition); SoundFont adaptation MIT (MuseScore_General)";

fn dataset_cmd(a: DatasetArgs) -> Result<(), AnyError> {
    use rosin_engine::dataset::{self, store};
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let (mut recs, source, licence) = if let Some(dir) = &a.wav_folder {
        let recs = dataset::read_wav_folder(dir)?;
        (
            recs,
            format!("WAV folder {}", dir.display()),
            a.licence.clone().unwrap_or_else(|| "unknown (not given with --licence)".into()),
        )
    } else {
        let path = a.sf2.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_SF2));
        if !path.exists() && a.sf2.is_none() {
            return Err(format!(
                "{}: not found; install it with `bash scripts/setup.sh` (Debian package musescore-general-soundfont-lossless) or pass --sf2",
                path.display()
            )
            .into());
        }
        (
            dataset::read_sf2_strings(&path)?,
            VSCO_SOURCE.to_string(),
            a.licence.clone().unwrap_or_else(|| VSCO_LICENCE.into()),
        )
    };
    if !a.instruments.is_empty() {
        recs.retain(|r| a.instruments.iter().any(|i| i.eq_ignore_ascii_case(&r.instrument)));
        if recs.is_empty() {
            return Err(format!("no recordings of {} in the source", a.instruments.join(", ")).into());
        }
    }
    let held = store::held_out_flags(&recs);
    let bar = bar(a.quiet, recs.len() as u64, "analysing".into());
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut prepared: Vec<(usize, store::PreparedNote)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= recs.len() {
                            break out;
                        }
                        out.push((i, store::prepare(&recs[i], format!("n{i:04}"), held[i])));
                        bar.inc(1);
                    }
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().expect("analysis thread panicked")).collect()
    });
    bar.finish_and_clear();
    prepared.sort_by_key(|p| p.0);
    let notes: Vec<store::PreparedNote> = prepared.into_iter().map(|p| p.1).collect();
    let manifest = store::Manifest {
        format_version: 1,
        source,
        licence,
        command,
        frame_rate: rosin_engine::analysis::FRAME_RATE,
        harmonic_bands: rosin_engine::bands::BandLayout::HARMONIC_V1,
        noise_bands: rosin_engine::bands::BandLayout::NOISE_V1,
        notes: notes.iter().map(|n| n.entry.clone()).collect(),
    };
    store::write(&a.out, &manifest, &notes)?;
    println!("{:<10} {:<10} {:>6} {:>9}", "instrument", "artic.", "train", "held out");
    for ((inst, art), (t, h)) in store::summary(&manifest.notes) {
        println!("{inst:<10} {:<10} {t:>6} {h:>9}", art.to_string());
    }
    let mut errs: Vec<f32> = manifest.notes.iter().filter_map(|n| n.f0_error_cents).collect();
    errs.sort_by(f32::total_cmp);
    let minutes: f64 = manifest.notes.iter().map(|n| n.samples as f64 / n.sample_rate as f64).sum::<f64>() / 60.0;
    println!(
        "{} notes, {minutes:.1} minutes; f0 vs labelled pitch: median {:.1} cents, 90th percentile {:.1} cents",
        manifest.notes.len(),
        errs.get(errs.len() / 2).copied().unwrap_or(f32::NAN),
        errs.get(errs.len() * 9 / 10).copied().unwrap_or(f32::NAN)
    );
    println!("wrote {}", a.out.display());
    Ok(())
}

#[cfg(feature = "train")]
fn train_cmd(a: TrainArgs) -> Result<(), AnyError> {
    use rosin_engine::dataset::store;
    use rosin_engine::train::{self, TrainConfig};
    let inst = a.instrument.to_ascii_lowercase();
    let (manifest, notes) = store::read(&a.dataset, |e| e.instrument == inst)?;
    if notes.is_empty() {
        return Err(format!("{}: no notes of instrument \"{inst}\"", a.dataset.display()).into());
    }
    let (held, trainset): (Vec<_>, Vec<_>) = notes.into_iter().partition(|n| n.entry.held_out);
    let name = a.name.clone().unwrap_or_else(|| {
        let mut c = inst.chars();
        c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
    });
    let cfg = TrainConfig {
        name: name.clone(),
        instrument: format!("{name} section ({})", manifest.source),
        input_hidden: a.input_hidden,
        gru_hidden: a.gru_hidden,
        output_hidden: a.output_hidden,
        batch: a.batch,
        max_steps: a.steps,
        max_seconds: a.minutes * 60.0,
        seed: a.seed,
        balance_batches: !a.unbalanced,
        loudness_weight: a.loudness_weight,
        ema_decay: a.ema_decay,
        brightness_weight: a.brightness_weight,
        command: std::env::args().collect::<Vec<_>>().join(" "),
        fine_tune: (a.fine_tune_minutes > 0.0 || a.fine_tune_steps.is_some()).then(|| {
            train::finetune::FineTuneConfig {
                // Steps without minutes: no time cap.
                max_seconds: if a.fine_tune_minutes > 0.0 { a.fine_tune_minutes * 60.0 } else { f64::INFINITY },
                max_steps: a.fine_tune_steps,
                learning_rate: a.fine_tune_lr,
                frame_loss_weight: a.fine_tune_frame_weight,
                spectral_loss_weight: a.fine_tune_spectral_weight,
                brightness_weight: a.fine_tune_brightness_weight,
                seed: a.seed,
                ..Default::default()
            }
        }),
        init: match &a.init {
            Some(p) => Some(Model::load(p)?.weights),
            None => None,
        },
        ..Default::default()
    };
    let recordings = if cfg.fine_tune.is_some() { fine_tune_audio(&a, &trainset)? } else { Vec::new() };
    let audio: Vec<Option<&[f32]>> = recordings.iter().map(|r| r.as_deref()).collect();
    println!("training {name}: {} notes ({} held out and never trained on)", trainset.len(), held.len());
    let bar = bar(a.quiet, 1000, format!("training {name}"));
    let result = train::train(&cfg, &manifest, &trainset, &held, &audio, |p| {
        bar.set_position((p.fraction * 1000.0) as u64);
        bar.set_message(format!("training {name} ({}): step {} loss {:.3}", p.stage, p.step, p.loss));
    })?;
    bar.finish_and_clear();
    if let Some(dir) = a.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    result.model.save(&a.out)?;
    let png = a.out.with_extension("loss.png");
    let curve = |c: &[(usize, f32)]| c.iter().map(|&(s, l)| (s as f32, l)).collect::<Vec<_>>();
    if let Err(e) = rosin_engine::plot::curves(
        &png,
        &format!("{name}: frame loss (L1, standardised)"),
        "optimiser step",
        "loss",
        &[("training", curve(&result.train_curve)), ("held out", curve(&result.heldout_curve))],
        false,
    ) {
        eprintln!("warning: {e}");
    }
    if let (Some(first), Some(last)) = (result.fine_tune_curve.first(), result.fine_tune_curve.last()) {
        let png = a.out.with_extension("finetune.png");
        let series = |f: fn(&(usize, f32, f32)) -> f32| {
            result.fine_tune_curve.iter().map(|p| (p.0 as f32, f(p))).collect::<Vec<_>>()
        };
        if let Err(e) = rosin_engine::plot::curves(
            &png,
            &format!("{name}: audio fine-tune (training segments)"),
            "fine-tune step",
            "loss",
            &[("spectral distance", series(|p| p.1)), ("frame loss", series(|p| p.2))],
            false,
        ) {
            eprintln!("warning: {e}");
        }
        println!(
            "fine-tune: {} steps; spectral distance on training segments {:.3} -> {:.3}, frame loss {:.3} -> {:.3}",
            last.0, first.1, last.1, first.2, last.2
        );
    }
    // A step-bounded run cut short by its time cap did not finish its schedule: say so, since
    // then the result depends on the machine's speed.
    let fine_tune_steps = result.fine_tune_curve.last().map_or(0, |x| x.0);
    for (what, asked, done, flag) in [
        ("frame-level training", a.steps.filter(|_| a.minutes > 0.0), result.steps, "--minutes"),
        ("fine-tune", a.fine_tune_steps, fine_tune_steps, "--fine-tune-minutes"),
    ] {
        if let Some(asked) = asked.filter(|&n| done < n) {
            eprintln!(
                "warning: {what} stopped by its time cap after {done} of {asked} steps; its learning-rate schedule did not finish (raise {flag} to reproduce the intended run)"
            );
        }
    }
    // With `--minutes 0` (fine-tune only) there is no frame-level curve to quote.
    let last = |curve: &[(usize, f32)]| curve.last().map_or("-".to_string(), |x| format!("{:.3}", x.1));
    println!(
        "{}: {} frame-level + {} fine-tune steps in {:.0} s; final training loss {}, held-out loss {}; {} parameters, {} bytes",
        a.out.display(),
        result.steps,
        fine_tune_steps,
        result.seconds,
        last(&result.train_curve),
        last(&result.heldout_curve),
        result.model.card.network.parameter_count(),
        std::fs::metadata(&a.out)?.len()
    );
    Ok(())
}

/// The recorded audio of every training note, for the fine-tune: read again from the dataset's
/// source (SoundFont or WAV folder) and matched by instrument, articulation, key, layer and
/// sample name. A note without a match is left out of the fine-tune, not of training.
#[cfg(feature = "train")]
fn fine_tune_audio(
    a: &TrainArgs,
    notes: &[rosin_engine::dataset::store::PreparedNote],
) -> Result<Vec<Option<Vec<f32>>>, AnyError> {
    let path = a.recordings.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_SF2));
    let recs = if path.is_dir() {
        rosin_engine::dataset::read_wav_folder(&path)?
    } else {
        rosin_engine::dataset::read_sf2_strings(&path)?
    };
    let mut found = 0;
    let out: Vec<Option<Vec<f32>>> = notes
        .iter()
        .map(|n| {
            let e = &n.entry;
            let r = recs.iter().find(|r| {
                r.instrument == e.instrument
                    && r.articulation == e.articulation
                    && r.key == e.key
                    && r.layer == e.layer
                    && r.source == e.source
                    && r.sample_rate == e.sample_rate
            });
            found += r.is_some() as usize;
            r.map(|r| r.audio.clone())
        })
        .collect();
    if found == 0 {
        return Err(
            format!("{}: none of the {} training notes found for the fine-tune", path.display(), notes.len()).into()
        );
    }
    println!("fine-tune: audio of {found} of {} training notes from {}", notes.len(), path.display());
    Ok(out)
}

fn bench_cmd(a: BenchArgs) -> Result<(), AnyError> {
    use rosin_engine::bench;
    let model = Arc::new(load_model_arg(&a.model)?);
    let s = model.card.network;
    println!(
        "model {} (input {} -> GRU {} -> {} -> {} outputs, {} parameters), {} Hz, block {}",
        model.card.name,
        s.inputs,
        s.gru_hidden,
        s.output_hidden,
        s.outputs,
        s.parameter_count(),
        a.sample_rate,
        a.block
    );
    println!("{:>7} {:>14} {:>22} {:>18}", "voices", "CPU s / s", "CPU s per voice-second", "% of one core");
    let mut costs = Vec::new();
    for &v in &a.voices {
        let c = bench::voice_cost(model.clone(), v, a.seconds, a.sample_rate, a.block);
        println!("{:>7} {:>14.4} {:>22.6} {:>17.1}%", v, c.core_fraction, c.per_voice_second, 100.0 * c.core_fraction);
        costs.push(c);
    }
    if let Some(c) = costs.iter().max_by_key(|c| c.voices) {
        println!(
            "voices that fit in real time on one core (at {} voices' cost): {:.0}",
            c.voices,
            1.0 / c.per_voice_second
        );
    }

    let mut render_json = serde_json::Value::Null;
    let mut sampler_json = serde_json::Value::Null;
    if a.midi.exists() {
        let song = midi_file::read_midi_file(&a.midi)?;
        let lib = Library::embedded()?;
        let opts = RenderOptions { sample_rate: a.sample_rate, ..Default::default() };
        let plans = render::plan_tracks(&song, &a.midi, &lib, &opts)?;
        let progress = AtomicU64::new(0);
        let wall = std::time::Instant::now();
        let cpu0 = bench::thread_cpu_seconds();
        // One thread, so CPU time and wall time both mean "one core".
        let end = song.duration_samples(opts.sample_rate);
        let mut len = 0;
        for p in &plans {
            len = len.max(render::render_track(p, end, &opts, &progress).len());
        }
        let cpu = bench::thread_cpu_seconds() - cpu0;
        let wall = wall.elapsed().as_secs_f64();
        let audio = len as f64 / opts.sample_rate as f64;
        println!(
            "offline render of {} ({} tracks, {:.1} s of audio) on one core: {:.2} s CPU, {:.2} s wall -> {:.0}x real time per track-set (CPU), {:.0}x (wall)",
            a.midi.display(),
            plans.len(),
            audio,
            cpu,
            wall,
            audio / cpu,
            audio / wall
        );
        render_json = serde_json::json!({"midi": a.midi, "tracks": plans.len(), "audio_seconds": audio, "cpu_seconds": cpu, "wall_seconds": wall, "realtime_multiple_cpu": audio / cpu});

        if !a.no_sampler {
            let dir = a.sampler_dir.clone();
            match bench::sampler::compare_with_fluidsynth(&plans, &opts.settings, opts.sample_rate, &a.sf2, &dir) {
                Ok(c) => {
                    println!(
                        "FluidSynth ({}) on the same notes from the same VSCO2 samples ({}), passage played {} times: {:.2} s CPU, of which {:.2} s start-up (loading the SoundFont) -> {:.3} s CPU per pass of {:.1} s ({:.0}x real time)",
                        c.fluidsynth_version,
                        c.soundfont.display(),
                        c.repeats,
                        c.with_notes.cpu_seconds,
                        c.start_up_only.cpu_seconds,
                        c.render_cpu_seconds,
                        c.render_audio_seconds,
                        c.render_audio_seconds / c.render_cpu_seconds
                    );
                    println!(
                        "CPU-time ratio Rosin / FluidSynth for the passage, rendering only: {:.1} (goal <= 3); with FluidSynth's start-up counted once: {:.2}",
                        cpu / c.render_cpu_seconds,
                        cpu / (c.render_cpu_seconds + c.start_up_only.cpu_seconds)
                    );
                    sampler_json = serde_json::json!({"fluidsynth": c, "ratio_render_only": cpu / c.render_cpu_seconds, "ratio_with_start_up": cpu / (c.render_cpu_seconds + c.start_up_only.cpu_seconds), "midi_written": dir.join("sampler.mid")});
                }
                Err(e) => println!("FluidSynth comparison skipped: {e}"),
            }
        }
    }

    let mut size_json = Vec::new();
    match rosin_engine::dataset::sf2::Sf2::open(&a.sf2) {
        Ok(sf2) => {
            println!(
                "{:<8} {:>11} {:>16} {:>19} {:>12} {:>14}",
                "model", "model kB", "recordings MB", "trained-on MB", "smaller by", "training time"
            );
            for name in rosin_engine::library::embedded_names() {
                let model_bytes = rosin_engine::library::embedded_bytes(name).map_or(0, |b| b.len()) as u64;
                let rec = bench::recording_bytes(&sf2, name);
                let card = rosin_engine::library::embedded(name).and_then(Result::ok).map(|m| m.card);
                let train_s = card.as_ref().and_then(|c| c.metrics.get("training_seconds")).and_then(|v| v.as_f64());
                println!(
                    "{:<8} {:>11.0} {:>16.1} {:>19.1} {:>11.0}x {:>13}",
                    name,
                    model_bytes as f64 / 1e3,
                    rec.all_bytes as f64 / 1e6,
                    rec.training_bytes as f64 / 1e6,
                    rec.training_bytes as f64 / model_bytes.max(1) as f64,
                    train_s.map_or("?".into(), |s| format!("{:.1} min", s / 60.0))
                );
                size_json.push(serde_json::json!({"model": name, "model_bytes": model_bytes, "recordings": rec, "training_seconds": train_s}));
            }
        }
        Err(e) => println!("model size vs recordings skipped: {e}"),
    }
    if let Some(path) = &a.json {
        let j = serde_json::json!({"model": model.card.name, "voice_cost": costs, "render": render_json, "sampler": sampler_json, "sizes": size_json});
        std::fs::write(path, serde_json::to_string_pretty(&j)?)?;
    }
    Ok(())
}

fn eval_cmd(a: EvalArgs) -> Result<(), AnyError> {
    use rosin_engine::eval;
    let path = a.sf2.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_SF2));
    if !path.exists() {
        return Err(format!("{}: not found; run `bash scripts/setup.sh` or pass --sf2", path.display()).into());
    }
    let specs: Vec<String> = if a.models.is_empty() {
        rosin_engine::library::embedded_names().iter().map(|s| s.to_string()).collect()
    } else {
        a.models.clone()
    };
    if specs.is_empty() {
        return Err("no models to evaluate (none embedded, none given)".into());
    }
    let recordings = rosin_engine::dataset::read_sf2_strings(&path)?;
    std::fs::create_dir_all(&a.out)?;
    // "neighb.": the nearest trained recordings' own features replayed at the held-out pitch
    // (the better of below/above, chosen knowing the answer); "n/ceil": its ratio to the ceiling.
    println!(
        "{:<9} {:<10} {:>5} {:>7} {:>7} {:>7} {:>7} {:>6} {:>6} {:>6} {:>6} {:>7} {:>9}",
        "model",
        "artic.",
        "notes",
        "rosin",
        "sampler",
        "ceiling",
        "neighb.",
        "r/samp",
        "r/ceil",
        "n/ceil",
        "f0 ct",
        "rec. ct",
        "loud dB"
    );
    for spec in &specs {
        let (section, model) = match spec.split_once('=') {
            Some((s, p)) => (s.to_ascii_lowercase(), Model::load(Path::new(p))?),
            None => (spec.to_ascii_lowercase(), load_model_arg(spec)?),
        };
        let model = Arc::new(model);
        let (report, audio) = eval::evaluate(&model, &section, &recordings);
        if report.notes.is_empty() {
            return Err(format!("{section}: no held-out recordings of this instrument in {}", path.display()).into());
        }
        let row = |label: &str, s: &eval::Summary| {
            println!(
                "{:<9} {:<10} {:>5} {:>7.3} {:>7.3} {:>7.3} {:>7.3} {:>6.2} {:>6.2} {:>6.2} {:>6.2} {:>7.2} {:>4.1}/{:<4.1}",
                section,
                label,
                s.notes,
                s.rosin,
                s.sampler,
                s.resynthesis,
                s.neighbour_resynthesis,
                s.rosin_over_sampler,
                s.rosin_over_resynthesis,
                s.neighbour_resynthesis_over_resynthesis,
                s.median_f0_error_cents,
                s.median_recording_f0_spread_cents,
                s.loudness_shape_db,
                s.sampler_loudness_shape_db
            )
        };
        for (art, s) in &report.per_articulation {
            row(art.name(), s);
        }
        row("ALL", &report.overall);
        let d = &report.dynamics;
        println!(
            "{section}: CC1 0->127 on key {}: loudness {:+.1} dB (monotonic {:.0}%), centroid {:.0} -> {:.0} Hz (monotonic {:.0}%)",
            d.key, d.range_db, 100.0 * d.loudness_monotonic, d.centroid_low_hz, d.centroid_high_hz, 100.0 * d.centroid_monotonic
        );
        let lb = &report.layer_brightness;
        println!(
            "{section}: loud layer brighter than soft (sustain, centroid) at {}/{} keys in the recordings, {}/{} in Rosin; same direction at {}/{}",
            lb.recording_rising,
            lb.keys.len(),
            lb.rosin_rising,
            lb.keys.len(),
            lb.agreeing,
            lb.keys.len()
        );
        std::fs::write(a.out.join(format!("{section}.json")), serde_json::to_string_pretty(&report)?)?;
        #[cfg(feature = "train")]
        eval_plots(&a.out, &section, &report, &audio)?;
        #[cfg(not(feature = "train"))]
        let _ = &audio;
        if a.update_cards {
            let file = PathBuf::from("model-weights").join(format!("{section}.safetensors"));
            let mut m = Model::load(&file)?;
            let o = &report.overall;
            let metrics = serde_json::json!({
                "heldout_notes": o.notes,
                "mss_rosin": o.rosin, "mss_sampler": o.sampler, "mss_resynthesis": o.resynthesis,
                "mss_neighbour_resynthesis": o.neighbour_resynthesis,
                "rosin_over_sampler": o.rosin_over_sampler, "rosin_over_resynthesis": o.rosin_over_resynthesis,
                "rosin_over_neighbour_resynthesis": o.rosin_over_neighbour_resynthesis,
                "neighbour_resynthesis_over_resynthesis": o.neighbour_resynthesis_over_resynthesis,
                "median_f0_error_cents": o.median_f0_error_cents,
                "median_recording_f0_spread_cents": o.median_recording_f0_spread_cents,
                "loudness_shape_error_db": o.loudness_shape_db,
                "cc1_sweep_range_db": d.range_db,
                "cc1_sweep_centroid_hz": [d.centroid_low_hz, d.centroid_high_hz],
                "cc1_sweep_centroid_monotonic": d.centroid_monotonic,
                "layer_brightness_keys": lb.keys.len(),
                "layer_brightness_rising_recordings": lb.recording_rising,
                "layer_brightness_rising_rosin": lb.rosin_rising,
                "layer_brightness_agreeing": lb.agreeing,
                "per_articulation": report.per_articulation.iter().map(|(a, s)| (a.name().to_string(), serde_json::json!({
                    "notes": s.notes, "mss_rosin": s.rosin, "mss_sampler": s.sampler, "mss_resynthesis": s.resynthesis,
                    "mss_neighbour_resynthesis": s.neighbour_resynthesis,
                    "median_f0_error_cents": s.median_f0_error_cents,
                    "median_recording_f0_spread_cents": s.median_recording_f0_spread_cents}))).collect::<serde_json::Map<_, _>>(),
                "command": "cargo run --release -p rosin-engine -- eval --update-cards",
            });
            m.card.metrics.insert("heldout".into(), metrics);
            m.save(&file)?;
            println!("updated {}", file.display());
        }
    }
    println!("reports and plots in {}", a.out.display());
    Ok(())
}

#[cfg(feature = "train")]
fn eval_plots(
    out: &Path,
    section: &str,
    report: &rosin_engine::eval::Report,
    audio: &[rosin_engine::eval::NoteAudio],
) -> Result<(), AnyError> {
    use rosin_engine::eval::metrics;
    // One note per articulation: recording, Rosin, sampler side by side, up to 8 kHz and 3 s.
    let mut panels = Vec::new();
    for art in rosin_engine::Articulation::ALL {
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
    rosin_engine::plot::spectrograms(
        &out.join(format!("{section}-spectrograms.png")),
        &format!("{section}: held-out notes (never trained on) - recording | Rosin | sampler repitch"),
        &panels,
        -90.0,
    )?;
    let d = &report.dynamics;
    let loud: Vec<(f32, f32)> = d.points.iter().map(|p| (p.0 as f32, p.1)).collect();
    let cent: Vec<(f32, f32)> = d.points.iter().map(|p| (p.0 as f32, p.2 / 100.0)).collect();
    rosin_engine::plot::curves(
        &out.join(format!("{section}-dynamics.png")),
        &format!("{section}: CC1 sweep on key {}", d.key),
        "CC1",
        "RMS dBFS  |  centroid / 100 Hz",
        &[("loudness (dBFS)", loud), ("spectral centroid (x100 Hz)", cent)],
        false,
    )?;
    Ok(())
}
