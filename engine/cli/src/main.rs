//! `rosin`: render MIDI files to stems, inspect models, build datasets, train and evaluate.
//!
//! Argument parsing ([`args`]) and printing only: the work is done by rosin-tools and
//! rosin-train, whose functions return the reports printed here.

mod args;

use args::{BenchArgs, Cli, Command, DatasetArgs, EvalArgs, RenderArgs, TrainArgs};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use rosin_core::library::Library;
use rosin_core::model::Model;
use rosin_tools::dataset::DEFAULT_SF2;
use rosin_tools::render;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Render(args) => render_cmd(args),
        Command::Info { model, json } => info_cmd(&model, json),
        Command::Dataset(args) => dataset_cmd(args),
        Command::Bench(args) => bench_cmd(args),
        Command::Eval(args) => eval_cmd(args),
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
    match rosin_core::library::embedded(spec) {
        Some(m) => Ok(m?),
        None => Err(format!(
            "{spec}: no such model file, and no embedded model of that name (embedded: {})",
            rosin_core::library::embedded_names().join(", ")
        )
        .into()),
    }
}

/// The whole command line, as the dataset manifest and the model card record it.
fn command_line() -> String {
    std::env::args().collect::<Vec<_>>().join(" ")
}

fn info_cmd(spec: &str, json: bool) -> Result<(), AnyError> {
    let m = load_model_arg(spec)?;
    if json {
        println!("{}", m.card.to_json_pretty());
        return Ok(());
    }
    let c = &m.card;
    let n = c.network;
    let note = |k: u8| {
        const NAMES: [&str; 12] = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"];
        format!("{}{}", NAMES[k as usize % 12], k as i32 / 12 - 1)
    };
    println!("{} ({spec})", c.name);
    println!("  instrument     {}", c.instrument);
    println!("  articulations  {}", c.articulations.iter().map(|a| a.name()).collect::<Vec<_>>().join(", "));
    println!(
        "  trained keys   {}-{} ({}-{}); dynamic layers at {}",
        c.key_range[0],
        c.key_range[1],
        note(c.key_range[0]),
        note(c.key_range[1]),
        c.layer_dynamics.iter().map(|d| format!("{d:.2}")).collect::<Vec<_>>().join(", ")
    );
    println!(
        "  network        {} inputs -> {} -> GRU {} -> {} -> {} outputs, {} parameters, {} Hz control rate",
        n.inputs,
        n.input_hidden,
        n.gru_hidden,
        n.output_hidden,
        n.outputs,
        n.parameter_count(),
        c.control_rate_hz
    );
    match &c.fluctuation {
        Some(f) => println!("  takes          fluctuation part: {} components, order {}", f.components, f.order),
        None => println!("  takes          none (every repetition plays the averaged note)"),
    }
    // The rest is free-form in the card: read it as JSON, skip what a card lacks.
    let card: serde_json::Value = serde_json::from_str(&c.to_json_pretty())?;
    let text = |v: &serde_json::Value| v.as_str().map(str::to_string);
    if let Some(t) = card.get("training") {
        for (label, key) in [("source", "source"), ("licence", "licence"), ("command", "command")] {
            if let Some(v) = t.get(key).and_then(text) {
                println!("  {label:<14} {v}");
            }
        }
        if let Some(held) = t.get("held_out").and_then(|v| v.as_array()) {
            println!("  held out       {} recordings (not trained on)", held.len());
        }
    }
    if let Some(h) = card.pointer("/metrics/heldout") {
        let num = |k: &str| h.get(k).and_then(|v| v.as_f64());
        if let (Some(r), Some(s)) = (num("mss_rosin"), num("mss_sampler")) {
            println!(
                "  held-out fit   spectral distance {r:.3} (a sampler repitching the nearest recording: {s:.3}, ratio {:.2})",
                r / s
            );
        }
        if let Some(p) = num("median_f0_error_cents") {
            println!("  pitch          median error {p:.1} cents");
        }
        if let Some(d) = num("cc1_sweep_range_db") {
            println!("  CC1 0 -> 127   {d:.1} dB");
        }
    }
    println!("  (the whole card: rosin info {spec} --json)");
    Ok(())
}

fn render_cmd(a: RenderArgs) -> Result<(), AnyError> {
    let song = render::read_score(&a.midi, &a.sections)?;
    let mut lib = Library::embedded()?;
    for (section, path) in &a.models {
        // A model under a name nothing plays is a typo ("fiddles"), not a wish.
        let used = rosin_core::Section::from_name(section).is_some()
            || a.sections.iter().any(|(_, s)| s == section)
            || a.default_section.as_deref() == Some(section.as_str());
        if !used {
            return Err(format!(
                "--model {section}={}: no track plays \"{section}\" (the sections are {}; a model under another \
                 name needs --section N={section} or --default-section {section})",
                path.display(),
                rosin_core::Section::ALL.map(|s| s.name()).join(", ")
            )
            .into());
        }
        lib.insert(section, Arc::new(Model::load(path)?));
    }
    if let Some((section, _)) = a.seats.iter().find(|(s, _)| lib.get(s).is_none()) {
        return Err(format!(
            "--seat {section}=…: no model plays \"{section}\" (the models are {})",
            lib.names().join(", ")
        )
        .into());
    }
    if lib.models.is_empty() {
        return Err(
            "no models: none are embedded in this build (model-weights/ is empty) and none given with --model".into()
        );
    }
    let opts = a.options();
    let plans = render::plan_tracks(&song, &a.midi, &lib, &opts)?;
    let out_dir = a.out_dir();
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
    let cpu_started = rosin_tools::bench::process_cpu_seconds();
    // The render runs on its own threads; this one only moves the progress bar.
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
    let report = render::output::write_render(&a.midi, &plans, &stems, &opts, &out_dir)?;
    println!("{}", report.summary());
    println!("{}  what was chosen and why", out_dir.join(render::report::REPORT_FILE).display());
    let cpu = rosin_tools::bench::process_cpu_seconds() - cpu_started;
    println!(
        "rendered the {:.1} s song ({} tracks, {:.1} s with the release tails{}) in {:.2} s: {:.0}x faster than \
         real time ({:.2} s CPU on {} threads)",
        song.duration_s,
        stems.len(),
        audio_seconds,
        if report.duration_s > audio_seconds + 1e-3 {
            format!("; the files {:.1} s with the hall's tail", report.duration_s)
        } else {
            String::new()
        },
        seconds,
        audio_seconds / seconds.max(1e-9),
        cpu,
        std::thread::available_parallelism().map_or(1, |n| n.get()).min(stems.len().max(1))
    );
    Ok(())
}

/// A progress bar counting `len` of `unit` ("notes", "steps", "s").
/// What `rosin eval`'s table columns mean, printed above it.
const EVAL_COLUMNS: &str = "\
Held-out notes (never trained on), per model and articulation. Distances are the multi-scale
spectral distance to the recording (lower is closer):
  rosin    Rosin playing the note from MIDI
  sampler  the nearest trained recording, resampled to the pitch (what a sampler plays)
  ceiling  the synthesizer replaying the recording's own analysed features (the best any model
           driving this synthesizer could do)
  neighb.  the nearest trained recording's features replayed at the held-out pitch (the better
           of the neighbours below and above, chosen knowing the answer)
  r/samp, r/ceil, n/ceil  ratios of those distances (r = rosin, n = neighb.)
  f0 ct    Rosin's median pitch error in cents; rec. ct: the recording's own pitch spread
  loud dB  mean |difference| of the 20 ms loudness contour from the recording's, overall level
           removed: Rosin / sampler
";

fn bar(quiet: bool, len: u64, msg: String, unit: &str) -> ProgressBar {
    let bar = if quiet { ProgressBar::hidden() } else { ProgressBar::new(len) };
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{msg}} [{{bar:40}}] {{pos}}/{{len}} {unit} ({{elapsed}} elapsed, eta {{eta}})"
        ))
        .unwrap()
        .progress_chars("=> "),
    );
    bar.set_message(msg);
    bar
}

fn dataset_cmd(a: DatasetArgs) -> Result<(), AnyError> {
    use rosin_tools::dataset::build;
    let command = command_line();
    let loaded = build::load(&a.source(), &a.instruments, a.licence.as_deref())?;
    let bar = bar(a.quiet, loaded.recordings.len() as u64, "analysing".into(), "notes");
    let report = build::build(&loaded, &a.out, &command, &|| bar.inc(1))?;
    bar.finish_and_clear();
    println!("{:<10} {:<10} {:>6} {:>9}", "instrument", "artic.", "train", "held out");
    for c in &report.cells {
        println!("{:<10} {:<10} {:>6} {:>9}", c.instrument, c.articulation.to_string(), c.train, c.held_out);
    }
    println!(
        "{} notes, {:.1} minutes; f0 vs labelled pitch: median {:.1} cents, 90th percentile {:.1} cents",
        report.notes, report.minutes, report.median_f0_error_cents, report.p90_f0_error_cents
    );
    println!("wrote {}", report.out.display());
    Ok(())
}

fn train_cmd(a: TrainArgs) -> Result<(), AnyError> {
    use rosin_tools::dataset::store;
    use rosin_train::TrainConfig;
    let inst = a.instrument.to_ascii_lowercase();
    if !a.dataset.join(store::MANIFEST).exists() {
        return Err(format!(
            "{}: no dataset here (no {}); make one first with `rosin dataset --out {}` \
             (add --wav-folder DIR for your own recordings)",
            a.dataset.display(),
            store::MANIFEST,
            a.dataset.display()
        )
        .into());
    }
    let (manifest, notes) = store::read(&a.dataset, |e| e.instrument == inst)?;
    if notes.is_empty() {
        return Err(format!("{}: no notes of instrument \"{inst}\"", a.dataset.display()).into());
    }
    let (held, trainset): (Vec<_>, Vec<_>) = notes.into_iter().partition(|n| n.entry.held_out);
    let name = a.display_name();
    let init = match &a.init {
        Some(p) => Some(Model::load(p)?),
        None => None,
    };
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
        command: match &init {
            // Training from another model's weights: its recipe is part of this one's.
            Some(m) if !m.card.training.command.is_empty() => {
                format!("{} && {}", m.card.training.command, command_line())
            }
            _ => command_line(),
        },
        fine_tune: a.fine_tune(),
        init: init.as_ref().map(|m| m.weights.clone()),
        fluctuation: (!a.no_fluctuation).then(rosin_train::fluctuation_fit::FitConfig::default),
        ..Default::default()
    };
    println!("training {name}: {} notes ({} held out and never trained on)", trainset.len(), held.len());
    // The fine-tune's audio is read now, so a wrong source fails before the training rather than
    // after it; what was found is said when the fine-tune starts.
    let (recordings, fine_tune_found) = match cfg.fine_tune {
        Some(_) => {
            let source =
                a.recordings.clone().or_else(|| manifest.recordings.clone()).unwrap_or_else(|| DEFAULT_SF2.into());
            let r = rosin_train::recordings::fine_tune_audio(&source, &trainset, &manifest.source)?;
            let m = &r.report;
            let found =
                format!("fine-tune: audio of {} of {} training notes from {}", m.found, m.notes, m.source.display());
            (r.audio, Some(found))
        }
        None => (Vec::new(), None),
    };
    let audio: Vec<Option<&[f32]>> = recordings.iter().map(|r| r.as_deref()).collect();
    let fine_tune_limits = cfg.fine_tune.as_ref().map(|f| (f.max_steps, f.max_seconds));
    let mut stage_bar: Option<(&'static str, ProgressBar, bool)> = None;
    let result = rosin_train::train(&cfg, &manifest, &trainset, &held, &audio, |p| {
        if stage_bar.as_ref().is_none_or(|(stage, _, _)| *stage != p.stage) {
            if let Some((_, b, _)) = stage_bar.take() {
                b.finish_and_clear();
            }
            let (steps, seconds) = match p.stage {
                "audio" => fine_tune_limits.unwrap_or((None, 0.0)),
                _ => (cfg.max_steps, cfg.max_seconds),
            };
            if p.stage == "audio" {
                if let Some(found) = &fine_tune_found {
                    println!("{found}");
                }
            }
            let what = if p.stage == "audio" { "fine-tune" } else { "training" };
            let b = match steps {
                Some(n) => bar(a.quiet, n as u64, format!("{what} {name}"), "steps"),
                None => bar(a.quiet, seconds.ceil() as u64, format!("{what} {name}"), "s"),
            };
            stage_bar = Some((p.stage, b, steps.is_some()));
        }
        let (_, b, counts_steps) = stage_bar.as_ref().unwrap();
        b.set_position(if *counts_steps {
            p.step as u64
        } else {
            (p.fraction * b.length().unwrap_or(0) as f64) as u64
        });
        b.set_message(format!(
            "{} {name}: step {} loss {:.3}",
            if p.stage == "audio" { "fine-tune" } else { "training" },
            p.step,
            p.loss
        ));
    })?;
    if let Some((_, b, _)) = stage_bar {
        b.finish_and_clear();
    }
    let mut result = result;
    if let (Some(m), 0, None) = (&init, result.steps, &cfg.fine_tune) {
        // Nothing was trained (only the fluctuation fitted): the network's figures are the
        // initial model's.
        let mut metrics = m.card.metrics.clone();
        if let Some(fit) = result.model.card.metrics.get("fluctuation_fit") {
            metrics.insert("fluctuation_fit".into(), fit.clone());
        }
        result.model.card.metrics = metrics;
    }
    if let Some(f) = &result.fluctuation {
        let arts: Vec<String> = f
            .per_articulation
            .iter()
            .map(|(a, within, take, pairs)| format!("{a} {within:.3}/{take:.3} ({pairs} take pairs)"))
            .collect();
        println!(
            "fluctuation: fitted on {} notes ({} frames), {:.0}% of the residual in its components; level residual within notes/between takes (ln): {}",
            f.notes,
            f.frames,
            100.0 * f.explained,
            arts.join(", ")
        );
    }
    if let Some(dir) = a.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    result.model.save(&a.out)?;
    // A run that trained no frame-level steps (fine-tune or fluctuation fit only) keeps the
    // loss curve of the model it started from.
    if !result.train_curve.is_empty() {
        let png = a.out.with_extension("loss.png");
        let curve = |c: &[(usize, f32)]| c.iter().map(|&(s, l)| (s as f32, l)).collect::<Vec<_>>();
        if let Err(e) = rosin_tools::plot::curves(
            &png,
            &format!("{name}: frame loss (L1, standardised)"),
            "optimiser step",
            "loss",
            &[("training", curve(&result.train_curve)), ("held out", curve(&result.heldout_curve))],
            false,
        ) {
            eprintln!("warning: {e}");
        }
    }
    if let (Some(first), Some(last)) = (result.fine_tune_curve.first(), result.fine_tune_curve.last()) {
        let png = a.out.with_extension("finetune.png");
        let series = |f: fn(&(usize, f32, f32)) -> f32| {
            result.fine_tune_curve.iter().map(|p| (p.0 as f32, f(p))).collect::<Vec<_>>()
        };
        if let Err(e) = rosin_tools::plot::curves(
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

fn bench_cmd(a: BenchArgs) -> Result<(), AnyError> {
    use rosin_tools::bench::{self, report};
    if !a.sf2.exists() && a.sf2 != std::path::Path::new(DEFAULT_SF2) {
        return Err(format!("--sf2 {}: no such file", a.sf2.display()).into());
    }
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
    let room = bench::room_cost(a.seconds, a.sample_rate, a.block);
    println!("the hall on a stereo signal (rosin render's mix): {:.2}% of one core", 100.0 * room);
    if let Some(c) = costs.iter().max_by_key(|c| c.voices) {
        println!(
            "voices that fit in real time on one core (at {} voices' cost): {:.0}",
            c.voices,
            1.0 / c.per_voice_second
        );
    }

    let (mut render, mut sampler) = (None, None);
    if a.midi.exists() {
        let r = report::offline_render(&a.midi, a.sample_rate)?;
        let (audio, cpu, wall) = (r.speed.audio_seconds, r.speed.cpu_seconds, r.speed.wall_seconds);
        println!(
            "offline render of {} ({} tracks, {:.1} s of audio) on one core: {:.2} s CPU, {:.2} s wall -> {:.0}x real time per track-set (CPU), {:.0}x (wall)",
            a.midi.display(),
            r.speed.tracks,
            audio,
            cpu,
            wall,
            audio / cpu,
            audio / wall
        );
        if !a.no_sampler {
            match report::sampler_figures(&r, &a.sf2, &a.sampler_dir) {
                Ok(f) => {
                    let c = &f.fluidsynth;
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
                        f.ratio_render_only, f.ratio_with_start_up
                    );
                    sampler = Some(f);
                }
                Err(e) => println!("FluidSynth comparison skipped: {e}"),
            }
        }
        render = Some(r.speed);
    }

    let sizes = match report::model_sizes(&a.sf2) {
        Ok(sizes) => {
            println!(
                "{:<8} {:>11} {:>16} {:>19} {:>12} {:>14}",
                "model", "model kB", "recordings MB", "trained-on MB", "smaller by", "training time"
            );
            for m in &sizes {
                println!(
                    "{:<8} {:>11.0} {:>16.1} {:>19.1} {:>11.0}x {:>13}",
                    m.model,
                    m.model_bytes as f64 / 1e3,
                    m.recordings.all_bytes as f64 / 1e6,
                    m.recordings.training_bytes as f64 / 1e6,
                    m.smaller_by(),
                    m.training_seconds.map_or("?".into(), |s| format!("{:.1} min", s / 60.0))
                );
            }
            sizes
        }
        Err(e) => {
            println!("model size vs recordings skipped: {e}");
            Vec::new()
        }
    };
    if let Some(path) = &a.json {
        let r = report::BenchReport { model: model.card.name.clone(), voice_cost: costs, render, sampler, sizes };
        r.write_json(path)?;
    }
    Ok(())
}

fn eval_cmd(a: EvalArgs) -> Result<(), AnyError> {
    use rosin_tools::eval::{self, cards};
    let path = a.sf2.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_SF2));
    if !path.exists() {
        return Err(format!("{}: not found; run `bash scripts/setup.sh` or pass --sf2", path.display()).into());
    }
    let specs: Vec<String> = if a.models.is_empty() {
        rosin_core::library::embedded_names().iter().map(|s| s.to_string()).collect()
    } else {
        a.models.clone()
    };
    if specs.is_empty() {
        return Err("no models to evaluate (none embedded, none given)".into());
    }
    let recordings = rosin_tools::dataset::read_sf2_strings(&path)?;
    let out = match (&a.out, a.update_docs) {
        (_, true) => PathBuf::from("docs/eval"),
        (Some(dir), false) => dir.clone(),
        (None, false) => PathBuf::from("out/eval"),
    };
    std::fs::create_dir_all(&out)?;
    println!("{EVAL_COLUMNS}");
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
        // Life: level fluctuation depth (std/mean of the detrended 20 ms envelope, 0.3-2.5 s),
        // its modulation spectrum per octave band, stroke rate, centroid fluctuation depth.
        for l in &report.life {
            for (who, st) in [("recording", &l.recording), ("rosin", &l.rosin), ("sampler", &l.sampler)] {
                println!(
                    "{section}: life {:<9} {:<9} depth {:.3}  mod dB 2-4 {:>6.1} 4-8 {:>6.1} 8-16 {:>6.1} 16-32 {:>6.1}  stroke {:>4.1} Hz  centroid depth {:.3}",
                    l.articulation.name(),
                    who,
                    st.level_depth,
                    st.modulation_db[0],
                    st.modulation_db[1],
                    st.modulation_db[2],
                    st.modulation_db[3],
                    st.stroke_rate_hz,
                    st.centroid_depth
                );
            }
        }
        for t in &report.takes {
            println!(
                "{section}: takes {:<9} {} pairs: recordings' r1/r2 distance {:.3}, Rosin's seed 1/2 {:.3} ({:.2}x)",
                t.articulation.name(),
                t.pairs,
                t.recordings,
                t.rosin,
                t.rosin_over_recordings
            );
        }
        std::fs::write(out.join(format!("{section}.json")), serde_json::to_string_pretty(&report)?)?;
        eval::plots::write_plots(&out, &section, &report, &audio)?;
        if a.update_cards {
            let file = cards::update_card(&a.weights_dir, &section, &cards::HeldoutMetrics::from_report(&report))?;
            println!("updated {}", file.display());
        }
    }
    println!("reports and plots in {}", out.display());
    Ok(())
}
