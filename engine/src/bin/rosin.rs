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
