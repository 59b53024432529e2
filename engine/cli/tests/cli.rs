//! The `rosin` command line as a user runs it: render, info, and clear failures.

use rosin_core::model::fixture;
use std::path::{Path, PathBuf};
use std::process::Command;

fn rosin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rosin"))
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rosin-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn demo_midi() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../demo/strings-demo.mid")
}

/// A model file every section name maps to, so rendering works with or without trained models.
fn fixture_args(dir: &Path) -> Vec<String> {
    let path = dir.join("fixture.safetensors");
    fixture::fixed_spectrum_model(16, 32, 32, 2).save(&path).unwrap();
    ["violins", "violas", "celli", "basses"]
        .iter()
        .flat_map(|s| ["--model".into(), format!("{s}={}", path.display())])
        .collect()
}

#[test]
fn render_writes_one_stem_per_track_and_a_mix_deterministically() {
    let dir = temp_dir("render");
    let models = fixture_args(&dir);
    let run = |out: &str, extra: &[&str]| {
        let st = rosin()
            .arg("render")
            .arg(demo_midi())
            .args(["-o", dir.join(out).to_str().unwrap(), "--quiet"])
            .args(&models)
            .args(extra)
            .output()
            .unwrap();
        assert!(st.status.success(), "render failed: {}", String::from_utf8_lossy(&st.stderr));
        let mut files: Vec<_> = std::fs::read_dir(dir.join(out)).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        files
    };
    let a = run("a", &[]);
    let names: Vec<String> = a.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(
        names,
        ["01-Violins.wav", "02-Violas.wav", "03-Celli.wav", "04-Basses.wav", "mix.wav", "render-report.json"]
    );
    let b = run("b", &["--block-size", "37"]);
    for (x, y) in a.iter().zip(&b) {
        assert!(
            std::fs::read(x).unwrap() == std::fs::read(y).unwrap(),
            "{} differs between runs/block sizes",
            x.display()
        );
    }
    let r = hound::WavReader::open(&a[0]).unwrap();
    assert_eq!(r.spec().sample_rate, 48_000);
    assert_eq!(r.spec().bits_per_sample, 24);
    assert_eq!(r.spec().channels, 2, "stereo stems by default");
    assert!(r.duration() as f64 / 48_000.0 > 37.0);
    // A plain PCM header (format 1), which Python's `wave` module and older tools open; hound's
    // own writer would use WAVE_FORMAT_EXTENSIBLE for 24-bit.
    let bytes = std::fs::read(&a[0]).unwrap();
    assert_eq!(u16::from_le_bytes([bytes[20], bytes[21]]), 1, "{} is not plain PCM", a[0].display());
    if let Ok(py) = std::process::Command::new("python3")
        .args(["-c", "import sys, wave; w = wave.open(sys.argv[1]); print(w.getsampwidth(), w.getnframes())"])
        .arg(&a[0])
        .output()
    {
        let said = String::from_utf8_lossy(&py.stdout);
        assert!(py.status.success(), "python's wave cannot open the stem: {}", String::from_utf8_lossy(&py.stderr));
        assert_eq!(said.trim(), format!("3 {}", r.duration()));
    }
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&a[5]).unwrap()).unwrap();
    assert_eq!(report["tracks"].as_array().unwrap().len(), 4);
    assert!(report["gain_db"].as_f64().unwrap() <= 0.0);
    let f = run("f", &["--format", "float32", "--sample-rate", "96000", "--no-mix"]);
    assert_eq!(f.len(), 5);
    // --no-mix does not change the stems' gain (it is chosen with the mix either way).
    let g = run("g", &["--format", "float32", "--sample-rate", "96000"]);
    assert!(std::fs::read(&f[0]).unwrap() == std::fs::read(&g[0]).unwrap());
    // A fixed gain is applied and reported.
    let q = run("q", &["--gain", "-12", "--auto-articulation", "--dynamic-cc", "1"]);
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&q[5]).unwrap()).unwrap();
    assert!((report["gain_db"].as_f64().unwrap() + 12.0).abs() < 1e-3, "{report}");
    assert_eq!(report["tracks"][0]["dynamic_source"]["why"], "flag");
    let n = run("n", &["--no-normalize"]);
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&n[5]).unwrap()).unwrap();
    assert_eq!(report["gain_db"].as_f64().unwrap(), 0.0);
    // Placement: the seating by default, --pan and --seat move tracks, --mono writes mono.
    let seats: Vec<(f64, String)> = report["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["placement"]["pan"].as_f64().unwrap(), t["placement"]["why"].as_str().unwrap().to_string()))
        .collect();
    assert!(seats.iter().all(|(_, why)| why == "seat"), "{seats:?}");
    assert!(seats.windows(2).all(|w| w[0].0 < w[1].0), "violins left … basses right: {seats:?}");
    let p = run("p", &["--no-normalize", "--pan", "1=1", "--seat", "basses=-1"]);
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&p[5]).unwrap()).unwrap();
    assert_eq!(report["tracks"][0]["placement"]["why"], "flag");
    let read = |f: &std::path::Path| -> Vec<i32> {
        hound::WavReader::open(f).unwrap().samples::<i32>().map(|s| s.unwrap()).collect()
    };
    let (violins_right, basses_left) = (read(&p[0]), read(&p[3]));
    assert!(
        violins_right.chunks(2).all(|f| f[0] == 0) && violins_right.chunks(2).any(|f| f[1] != 0),
        "violins hard right"
    );
    assert!(basses_left.chunks(2).all(|f| f[1] == 0) && basses_left.chunks(2).any(|f| f[0] != 0), "basses hard left");
    // The hall: on the mix only by default, longer than the song by its tail; --no-room dry.
    let report_of = |files: &[std::path::PathBuf]| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(&files[5]).unwrap()).unwrap()
    };
    let hall = report_of(&n);
    assert_eq!(hall["room"]["on_stems"], false, "{hall}");
    let dry = run("dry", &["--no-normalize", "--no-room"]);
    let dry_report = report_of(&dry);
    assert!(dry_report["room"].is_null());
    let extra = hall["duration_s"].as_f64().unwrap() - dry_report["duration_s"].as_f64().unwrap();
    assert!((extra - 2.02).abs() < 0.01, "the files grow by the room's tail: {extra}");
    let long = run("long", &["--no-normalize", "--room-decay", "4", "--room-wet", "0.5", "--wet-stems"]);
    let long_report = report_of(&long);
    assert_eq!(
        (long_report["room"]["decay_s"].as_f64(), long_report["room"]["on_stems"].as_bool()),
        (Some(4.0), Some(true))
    );
    let m = run("m", &["--no-normalize", "--mono"]);
    assert_eq!(hound::WavReader::open(&m[4]).unwrap().spec().channels, 1);
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&m[5]).unwrap()).unwrap();
    assert_eq!(
        (report["channels"].as_u64(), report["tracks"][2]["placement"]["why"].as_str()),
        (Some(1), Some("mono"))
    );
    let r = hound::WavReader::open(&f[0]).unwrap();
    assert_eq!((r.spec().sample_rate, r.spec().sample_format), (96_000, hound::SampleFormat::Float));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_midi_and_model_files_fail_with_a_message_naming_them() {
    let dir = temp_dir("bad");
    let models = fixture_args(&dir);
    let bad_midi = dir.join("broken.mid");
    std::fs::write(&bad_midi, b"MThd\x00\x00\x00\x06\x00\x01").unwrap();
    let out = rosin().arg("render").arg(&bad_midi).args(&models).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("broken.mid"));

    // A well-formed file with no notes: a clear error naming it.
    let empty = dir.join("no-notes.mid");
    std::fs::write(
        &empty,
        b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x01\xe0MTrk\x00\x00\x00\x08\x00\xb0\x01\x40\x00\xff\x2f\x00",
    )
    .unwrap();
    let out = rosin().arg("render").arg(&empty).args(&models).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no-notes.mid") && err.contains("no notes"), "{err}");
    for bad in [
        &["--gain", "100"][..],
        &["--dynamic-cc", "200"],
        &["--auto-articulation", "5"],
        &["--gain", "-3", "--no-normalize"],
    ] {
        let out = rosin().arg("render").arg(demo_midi()).args(bad).args(&models).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad:?} should be refused");
    }

    let missing = rosin().args(["render", "/no/such/file.mid"]).args(&models).output().unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/no/such/file.mid"));

    let bad_model = dir.join("bad.safetensors");
    std::fs::write(&bad_model, b"\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":").unwrap();
    let out = rosin()
        .arg("render")
        .arg(demo_midi())
        .arg("--model")
        .arg(format!("violins={}", bad_model.display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.safetensors"));

    let info = rosin().arg("info").arg(&bad_model).output().unwrap();
    assert_eq!(info.status.code(), Some(1));
    let ok = rosin().args(["info", "--json"]).arg(dir.join("fixture.safetensors")).output().unwrap();
    assert!(ok.status.success());
    assert!(String::from_utf8_lossy(&ok.stdout).contains("\"format_version\": 1"));
    let summary = rosin().args(["info", "violins"]).output().unwrap();
    let text = String::from_utf8_lossy(&summary.stdout);
    assert!(summary.status.success(), "{}", String::from_utf8_lossy(&summary.stderr));
    for line in ["articulations", "trained keys", "network", "(the whole card: rosin info violins --json)"] {
        assert!(text.contains(line), "{line} missing from: {text}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

fn quartet_musicxml() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools/tests/data/quartet.musicxml")
}

#[test]
fn render_reads_a_musicxml_score() {
    let dir = temp_dir("musicxml");
    let out = dir.join("quartet");
    let st = rosin()
        .arg("render")
        .arg(quartet_musicxml())
        .args(["-o", out.to_str().unwrap(), "--quiet", "--no-mix"])
        .args(fixture_args(&dir))
        .output()
        .unwrap();
    assert!(st.status.success(), "render failed: {}", String::from_utf8_lossy(&st.stderr));
    let stems = std::fs::read_dir(&out)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "wav"))
        .count();
    assert_eq!(stems, 4);
}

#[test]
fn a_malformed_musicxml_score_fails_naming_the_file() {
    let dir = temp_dir("musicxml-bad");
    let bad = dir.join("broken-score.musicxml");
    std::fs::write(&bad, "<score-partwise><part-list><score-part id=\"P1\">").unwrap();
    let st =
        rosin().arg("render").arg(&bad).args(["-o", dir.join("out").to_str().unwrap(), "--quiet"]).output().unwrap();
    assert_eq!(st.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&st.stderr);
    assert!(stderr.contains("broken-score.musicxml"), "{stderr}");
}

/// The mistakes a newcomer makes are refused with a message saying what is wrong, not silently
/// rendered differently: exit 1 for a wrong value in context, 2 for an unparsable one.
#[test]
fn cli_mistakes_are_caught() {
    let dir = temp_dir("mistakes");
    let models = fixture_args(&dir);
    let render =
        |extra: &[&str]| rosin().arg("render").arg(demo_midi()).args(&models).args(extra).arg("-q").output().unwrap();
    let expect = |out: std::process::Output, code: i32, text: &str| {
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(code), "{err}");
        assert!(err.contains(text), "expected \"{text}\" in: {err}");
    };
    let fixture = dir.join("fixture.safetensors");
    expect(render(&["--model", &format!("fiddles={}", fixture.display())]), 1, "no track plays \"fiddles\"");
    expect(render(&["--section", "9=celli"]), 1, "there is no track 9; the file has 4 tracks with notes");
    expect(render(&["--section", "0=celli"]), 1, "there is no track 0");
    expect(render(&["--release=-1"]), 2, "outside 0.005..30");
    expect(render(&["--block-size", "0"]), 2, "block-size");
    expect(render(&["--pan", "9=0.5"]), 1, "--pan 9=…: there is no track 9");
    expect(render(&["--pan", "1=1.5"]), 2, "outside -1..1");
    expect(render(&["--seat", "fiddles=0.2"]), 1, "--seat fiddles=…: no model plays \"fiddles\"");
    expect(render(&["--mono", "--pan", "1=0"]), 2, "cannot be used with");
    expect(render(&["--room-decay", "30"]), 2, "outside 0.2..10");
    expect(render(&["--room-wet", "1.5"]), 2, "outside 0..1");
    expect(render(&["--no-room", "--room-decay", "1"]), 2, "cannot be used with");
    // A model under a new name is fine when a track plays it.
    let out = rosin()
        .arg("render")
        .arg(demo_midi())
        .args(&models)
        .args(["--model", &format!("fiddles={}", fixture.display()), "--section", "1=fiddles", "-q"])
        .args(["-o", dir.join("fiddles").to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("-> fiddles (by --section)"), "{stdout}");
    assert!(stdout.contains("faster than real time") && stdout.contains("s CPU"), "{stdout}");
    // bench: a SoundFont that does not exist is an error (FluidSynth would fall back to its
    // own), and --voices takes space-separated counts as its help shows.
    let out = rosin().args(["bench", "--voices", "1", "16", "--sf2", "/nonexistent.sf2"]).output().unwrap();
    expect(out, 1, "--sf2 /nonexistent.sf2: no such file");
    std::fs::remove_dir_all(&dir).ok();
}
