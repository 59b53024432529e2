//! `rosin dataset` and `rosin train` (with the audio fine-tune) on the real VSCO2 recordings,
//! end to end but briefly: a section's dataset, a few frame-level steps and a few fine-tune
//! steps, and the model file that comes out.

use std::path::{Path, PathBuf};
use std::process::Command;

const SF2: &str = rosin_tools::dataset::DEFAULT_SF2;

fn rosin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rosin"))
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("rosin runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

/// Runs `cmd`, which must fail with exit code 1; returns what it said on stderr.
fn fails(cmd: &mut Command) -> String {
    let out = cmd.output().expect("rosin runs");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{cmd:?}: {err}");
    err
}

#[test]
fn dataset_then_train_with_audio_fine_tune_writes_a_playable_model() {
    if !rosin_testkit::soundfont_installed(SF2) {
        return;
    }
    let dir: PathBuf = std::env::temp_dir().join(format!("rosin-train-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("data");
    let model = dir.join("violas.safetensors");
    run(rosin().args(["dataset", "--instruments", "violas", "--quiet", "-o"]).arg(&data));
    let out = run(rosin()
        .args(["train", "--instrument", "violas", "--steps", "20", "--fine-tune-minutes", "2"])
        .args(["--fine-tune-steps", "4", "--quiet", "--dataset"])
        .arg(&data)
        .arg("-o")
        .arg(&model));
    assert!(out.contains("fine-tune: audio of"), "{out}");
    assert!(out.contains("fine-tune: 4 steps"), "{out}");
    assert!(model.with_extension("finetune.png").exists());
    let info = run(rosin().args(["info", "--json"]).arg(&model));
    assert!(info.contains("fine_tune_steps"), "{info}");
    // The fine-tuned model renders a note.
    let m = std::sync::Arc::new(rosin_core::Model::load(&model).unwrap());
    let audio =
        rosin_tools::eval::render_note(&m, 62, 0.8, rosin_core::articulation::Articulation::Sustain, 44_100, 22_050);
    let rms = (audio.iter().map(|v| v * v).sum::<f32>() / audio.len() as f32).sqrt();
    assert!(rms.is_finite() && rms > 1e-4, "rms {rms}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn train_before_dataset_says_to_make_the_dataset_first() {
    let dir: PathBuf = std::env::temp_dir().join(format!("rosin-train-nodata-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let err = fails(
        rosin()
            .args(["train", "--instrument", "violins", "--steps", "1", "--quiet", "--dataset"])
            .arg(dir.join("not-made-yet"))
            .arg("-o")
            .arg(dir.join("m.safetensors")),
    );
    assert!(err.contains("not-made-yet") && err.contains("rosin dataset --out"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A 1 s harmonic tone at `key`, as a 16-bit WAV.
fn write_tone(path: &Path, key: u8, amplitude: f32) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 22_050,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let hz = 440.0 * 2f32.powf((key as f32 - 69.0) / 12.0);
    for i in 0..22_050 {
        let t = i as f32 / 22_050.0;
        let x: f32 = (1..6).map(|h| (std::f32::consts::TAU * hz * h as f32 * t).sin() / h as f32).sum();
        let fade = (i as f32 / 400.0).min(1.0) * ((22_050 - i) as f32 / 400.0).min(1.0);
        w.write_sample((amplitude * 0.4 * x * fade * 32767.0) as i16).unwrap();
    }
    w.finalize().unwrap();
}

#[test]
fn a_wav_folder_dataset_fine_tunes_from_its_own_folder_and_says_so_after_the_training_line() {
    let dir: PathBuf = std::env::temp_dir().join(format!("rosin-train-wavs-{}", std::process::id()));
    let wavs = dir.join("my recordings");
    std::fs::create_dir_all(&wavs).unwrap();
    for (key, name) in [(57, "A3"), (60, "C4"), (62, "D4"), (64, "E4"), (67, "G4")] {
        for (layer, amp) in [("p", 0.3), ("f", 0.9)] {
            write_tone(&wavs.join(format!("fiddle_sustain_{name}_{layer}.wav")), key, amp);
        }
    }
    let data = dir.join("data");
    // Paths as a user types them, relative to where they are.
    run(rosin().args(["dataset", "--quiet", "--wav-folder", "my recordings", "-o", "data"]).current_dir(&dir));
    // No --recordings: the manifest says where the audio is.
    let out = run(rosin()
        .args(["train", "--instrument", "fiddle", "--steps", "3", "--fine-tune-steps", "2", "--no-fluctuation"])
        .args(["--quiet", "--dataset"])
        .arg(&data)
        .arg("-o")
        .arg(dir.join("fiddle.safetensors"))
        // From another folder: the recorded path is absolute.
        .current_dir(&wavs));
    let training = out.find("training Fiddle:").unwrap_or_else(|| panic!("{out}"));
    let found = out.find("fine-tune: audio of").unwrap_or_else(|| panic!("{out}"));
    assert!(training < found, "the fine-tune's line comes after the training's:\n{out}");
    assert!(out.contains("my recordings"), "{out}");
    assert!(dir.join("fiddle.safetensors").exists());

    // The wrong source: an error that names what the dataset was made from.
    let other = dir.join("other");
    std::fs::create_dir_all(&other).unwrap();
    write_tone(&other.join("viola_sustain_C4_v1.wav"), 60, 0.5);
    let err = fails(
        rosin()
            .args(["train", "--instrument", "fiddle", "--steps", "1", "--fine-tune-steps", "1", "--quiet", "--dataset"])
            .arg(&data)
            .arg("--recordings")
            .arg(&other)
            .arg("-o")
            .arg(dir.join("bad.safetensors")),
    );
    assert!(err.contains("none of the") && err.contains("WAV folder") && err.contains("--recordings"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
