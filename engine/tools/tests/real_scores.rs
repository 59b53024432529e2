//! Files as notation programs and DAWs export them: GM program changes for articulations,
//! parts named "Track 5", technique texts, dynamics in velocity and CC2, loud double stops.
//! Rendered with the embedded models through the same path as `rosin render`.

use midly::num::{u15, u28, u4, u7};
use midly::{Format, Header, MetaMessage, MidiMessage, Smf, TrackEvent, TrackEventKind};
use rosin_core::library::Library;
use rosin_tools::render::articulations::{ArticulationSource, AutoShort};
use rosin_tools::render::dynamics::{DynamicSource, DynamicWhy};
use rosin_tools::render::gain::{db_to_gain, GainMode, CEILING_DBFS};
use rosin_tools::render::midi_file::parse_midi_bytes;
use rosin_tools::render::report::RenderReport;
use rosin_tools::render::sections::SectionReason;
use rosin_tools::render::{self, output, RenderOptions, Stem, TrackPlan};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;

/// 480 ticks per quarter at the default 120 bpm: 960 ticks per second.
const TPQ: u16 = 480;
const SECOND: u32 = 960;

type Ev = (u32, TrackEventKind<'static>);

fn midi(message: MidiMessage) -> TrackEventKind<'static> {
    TrackEventKind::Midi { channel: u4::new(0), message }
}
fn on(key: u8, vel: u8) -> TrackEventKind<'static> {
    midi(MidiMessage::NoteOn { key: u7::new(key), vel: u7::new(vel) })
}
fn off(key: u8) -> TrackEventKind<'static> {
    midi(MidiMessage::NoteOff { key: u7::new(key), vel: u7::new(0) })
}
fn cc(controller: u8, value: u8) -> TrackEventKind<'static> {
    midi(MidiMessage::Controller { controller: u7::new(controller), value: u7::new(value) })
}
fn program(p: u8) -> TrackEventKind<'static> {
    midi(MidiMessage::ProgramChange { program: u7::new(p) })
}
fn name(n: &'static str) -> TrackEventKind<'static> {
    TrackEventKind::Meta(MetaMessage::TrackName(n.as_bytes()))
}
fn text(t: &'static str) -> TrackEventKind<'static> {
    TrackEventKind::Meta(MetaMessage::Text(t.as_bytes()))
}

/// A note from `start` for `length` ticks.
fn note(out: &mut Vec<Ev>, start: u32, length: u32, key: u8, vel: u8) {
    out.push((start, on(key, vel)));
    out.push((start + length, off(key)));
}

/// A type-1 file: an empty tempo track, then one track per part (events at absolute ticks).
fn smf(parts: Vec<Vec<Ev>>) -> Vec<u8> {
    let mut tracks = vec![vec![TrackEvent { delta: u28::new(0), kind: TrackEventKind::Meta(MetaMessage::EndOfTrack) }]];
    for mut part in parts {
        part.sort_by_key(|e| e.0);
        let mut now = 0;
        let mut track: Vec<TrackEvent> = part
            .into_iter()
            .map(|(t, kind)| {
                let delta = t - now;
                now = t;
                TrackEvent { delta: u28::new(delta), kind }
            })
            .collect();
        track.push(TrackEvent { delta: u28::new(0), kind: TrackEventKind::Meta(MetaMessage::EndOfTrack) });
        tracks.push(track);
    }
    let smf = Smf { header: Header::new(Format::Parallel, midly::Timing::Metrical(u15::new(TPQ))), tracks };
    let mut bytes = Vec::new();
    smf.write(&mut bytes).unwrap();
    bytes
}

fn plan(bytes: &[u8], opts: &RenderOptions) -> (Vec<TrackPlan>, Vec<Stem>) {
    let song = parse_midi_bytes(bytes, Path::new("score.mid")).expect("parses").with_sample_rate(opts.sample_rate);
    let lib = Library::embedded().unwrap();
    let plans = render::plan_tracks(&song, Path::new("score.mid"), &lib, opts).expect("plans");
    let stems = render::render_song(&plans, &song, opts, &AtomicU64::new(0));
    (plans, stems)
}

fn temp_dir(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rosin-real-scores-{label}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// RMS of `audio` between two times in seconds.
fn rms(audio: &[f32], from_s: f64, to_s: f64, sr: u32) -> f32 {
    let (a, b) = ((from_s * sr as f64) as usize, ((to_s * sr as f64) as usize).min(audio.len()));
    (audio[a..b].iter().map(|x| x * x).sum::<f32>() / (b - a) as f32).sqrt()
}

#[test]
fn gm_program_changes_select_tremolo_pizzicato_and_arco() {
    // Program 48 arco, 44 tremolo, 45 pizzicato, 48 arco again: one note a second each.
    let mut part = vec![(0, name("Violin")), (0, program(48))];
    note(&mut part, 0, 900, 67, 90);
    part.push((SECOND, program(44)));
    note(&mut part, SECOND, 900, 69, 90);
    note(&mut part, 2 * SECOND, 900, 71, 90);
    part.push((3 * SECOND, program(45)));
    note(&mut part, 3 * SECOND, 900, 72, 90);
    note(&mut part, 4 * SECOND, 900, 74, 90);
    part.push((5 * SECOND, program(48)));
    note(&mut part, 5 * SECOND, 900, 76, 90);
    let opts = RenderOptions::default();
    let (plans, stems) = plan(&smf(vec![part]), &opts);
    assert_eq!(plans[0].section, "violins");
    // The engine's record: 2 arco, 2 tremolo, 2 pizzicato ([sustain, short, tremolo, pizz]).
    assert_eq!(stems[0].notes_played, [2, 0, 2, 2]);
    // Where they occur: the pizzicati have died away by the end of their second while the
    // arco and tremolo notes still sound at the end of theirs.
    let a = &stems[0].audio;
    let sr = opts.sample_rate;
    let late = |t: f64| rms(a, t + 0.6, t + 0.9, sr) / rms(a, t + 0.05, t + 0.3, sr);
    for t in [0.0, 1.0, 2.0, 5.0] {
        assert!(late(t) > 0.3, "held note at {t} s: late/early {}", late(t));
    }
    for t in [3.0, 4.0] {
        assert!(late(t) < 0.15, "pizzicato at {t} s: late/early {}", late(t));
    }
}

#[test]
fn an_unnamed_ensemble_bass_line_gets_a_low_section_and_its_low_note_is_reported() {
    // MuseScore's export: "Track 5", program 48, keys 39..54, plus one note below every model.
    let mut part = vec![(0, name("Track 5")), (0, program(48))];
    for (i, key) in (39..=54).enumerate() {
        note(&mut part, i as u32 * 480, 400, key, 80);
    }
    note(&mut part, 16 * 480, 400, 26, 80);
    let (plans, stems) = plan(&smf(vec![part]), &RenderOptions::default());
    let p = &plans[0];
    assert!(p.section == "basses" || p.section == "celli", "{}", p.section);
    assert!(matches!(p.section_reason, SectionReason::Range { lowest: 26, highest: 54, .. }), "{:?}", p.section_reason);
    let [lo, _] = p.model.card.key_range;
    assert!(lo > 26);
    assert_eq!(p.out_of_range(), Some((1, 26, 26)));
    // It still plays, at a sensible level.
    let peak = stems[0].audio.iter().fold(0f32, |m, x| m.max(x.abs()));
    assert!(peak > 0.01 && peak < 4.0, "{peak}");
}

#[test]
fn section_names_programs_and_flags() {
    let part = |n: &'static str, prog: Option<u8>, key: u8| {
        let mut p = vec![(0, name(n))];
        if let Some(prog) = prog {
            p.push((0, program(prog)));
        }
        note(&mut p, 0, 400, key, 80);
        p
    };
    let file = smf(vec![
        part("Celli", None, 48),
        part("2nd Violin", None, 64),
        part("Bratsche", None, 60),
        part("Kb.", None, 36),
        part("Track 6", Some(42), 60),
    ]);
    let opts = RenderOptions { track_sections: vec![(5, "violas".into())], ..Default::default() };
    let (plans, _) = plan(&file, &opts);
    let got: Vec<(&str, &SectionReason)> = plans.iter().map(|p| (p.section.as_str(), &p.section_reason)).collect();
    assert_eq!(got[0], ("celli", &SectionReason::Name { text: "Celli".into() }));
    assert_eq!(got[1].0, "violins");
    assert_eq!(got[2].0, "violas");
    assert_eq!(got[3].0, "basses");
    assert_eq!(got[4], ("violas", &SectionReason::Flag));
    let (plans, _) = plan(&file, &RenderOptions::default());
    assert_eq!(
        (plans[4].section.as_str(), &plans[4].section_reason),
        ("celli", &SectionReason::Program { program: 42 })
    );
}

/// A quartet at velocity 127 with double stops and no CC1: stems and mix are turned down by one
/// gain so nothing passes -1 dBFS, and the gain is reported.
#[test]
fn loud_double_stops_never_clip_the_stems() {
    let voices: [(&'static str, [u8; 2]); 4] =
        [("Violin I", [76, 83]), ("Violin II", [69, 76]), ("Viola", [57, 64]), ("Violoncello", [43, 50])];
    let parts: Vec<Vec<Ev>> = voices
        .iter()
        .map(|&(n, stop)| {
            let mut p = vec![(0, name(n)), (0, program(48)), (0, cc(7, 100))];
            for bar in 0..3 {
                for k in stop {
                    note(&mut p, bar * 2 * SECOND, 2 * SECOND - 50, k, 127);
                }
            }
            p
        })
        .collect();
    let opts = RenderOptions::default();
    let (plans, mut stems) = plan(&smf(parts), &opts);
    assert!(plans.iter().all(|p| p.dynamic_source == DynamicSource::Velocity));
    let dir = temp_dir("loud");
    let report: RenderReport = output::write_render(Path::new("quartet.mid"), &plans, &stems, &opts, &dir).unwrap();
    assert!(
        report.tracks.iter().any(|t| t.output.peak_dbfs_before > 0.0)
            || report.mix.as_ref().unwrap().peak_dbfs_before > 0.0,
        "the test needs a render that would clip: {report:#?}"
    );
    assert!(report.gain_db < 0.0);
    let ceiling = db_to_gain(CEILING_DBFS) as f64;
    let files: Vec<PathBuf> = report
        .tracks
        .iter()
        .map(|t| dir.join(&t.output.file))
        .chain([dir.join(&report.mix.as_ref().unwrap().file)])
        .collect();
    let mut loudest = 0.0f64;
    for f in files {
        let peak = hound::WavReader::open(&f)
            .unwrap()
            .samples::<i32>()
            .map(|s| s.unwrap().unsigned_abs() as f64 / 8_388_607.0)
            .fold(0.0, f64::max);
        assert!(peak <= ceiling + 1e-6, "{}: peak {:.3} dBFS", f.display(), 20.0 * peak.log10());
        loudest = loudest.max(peak);
    }
    assert!(loudest > 0.99 * ceiling, "normalised to the ceiling, not below: {loudest}");
    assert!(report.tracks.iter().all(|t| t.output.clipped_samples == 0));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("render-report.json")).unwrap()).unwrap();
    assert!((json["gain_db"].as_f64().unwrap() - report.gain_db as f64).abs() < 1e-4);
    assert_eq!(json["tracks"][0]["articulations"]["sustain"], 6);
    // With a fixed gain the level is as asked and clipping is counted, not hidden.
    let fixed = RenderOptions { gain: GainMode::Fixed { db: 12.0 }, ..Default::default() };
    let (plans, mut stems) = plan(&smf(vec![vec![(0, name("Viola")), (0, on(60, 127)), (SECOND, off(60))]]), &fixed);
    let report = output::write_render(Path::new("loud.mid"), &plans, &stems, &fixed, &temp_dir("fixed")).unwrap();
    assert!((report.gain_db - 12.0).abs() < 1e-3);
    assert!(report.tracks[0].output.clipped_samples > 0, "{report:#?}");
    assert!(report.summary().contains("clipped"));
}

#[test]
fn technique_texts_and_automatic_shorts() {
    // "pizz." and "arco" as text events.
    let mut part = vec![(0, name("Viola"))];
    note(&mut part, 0, 900, 60, 90);
    part.push((SECOND, text("pizz.")));
    note(&mut part, SECOND, 400, 62, 90);
    note(&mut part, SECOND + 480, 400, 64, 90);
    part.push((2 * SECOND, text("arco")));
    note(&mut part, 2 * SECOND, 900, 65, 90);
    let (plans, stems) = plan(&smf(vec![part]), &RenderOptions::default());
    assert_eq!(plans[0].articulation_texts, 2);
    assert_eq!(stems[0].notes_played, [2, 0, 0, 2]);

    // No articulation chosen: detached 100 ms notes play short with --auto-articulation.
    let mut part = vec![(0, name("Violin")), (0, program(48))];
    for i in 0..4 {
        note(&mut part, i * 240, 96, 67 + i as u8, 100);
    }
    note(&mut part, 4 * 240, 2 * SECOND, 72, 100);
    let file = smf(vec![part]);
    let auto = RenderOptions { auto_short: Some(AutoShort::default()), ..Default::default() };
    let (plans, stems) = plan(&file, &auto);
    assert_eq!(plans[0].articulation_source, ArticulationSource::Auto);
    assert_eq!(stems[0].notes_played, [1, 4, 0, 0]);
    let (_, stems) = plan(&file, &RenderOptions::default());
    assert_eq!(stems[0].notes_played, [5, 0, 0, 0]);
}

#[test]
fn cc2_dynamics_drive_the_level_when_the_file_has_no_cc1() {
    // One long note with a CC2 crescendo (MuseScore's single-note dynamics) and CC7 = 100.
    let mut part = vec![(0, name("Celli")), (0, cc(7, 100)), (0, cc(11, 127)), (0, cc(2, 20))];
    note(&mut part, 0, 4 * SECOND, 48, 64);
    for i in 1..=20u32 {
        part.push((i * SECOND / 5, cc(2, 20 + 5 * i as u8)));
    }
    let opts = RenderOptions::default();
    let (plans, stems) = plan(&smf(vec![part]), &opts);
    assert_eq!(plans[0].dynamic_source, DynamicSource::Controller { cc: 2, why: DynamicWhy::Moves });
    let a = &stems[0].audio;
    let (soft, loud) = (rms(a, 0.3, 0.8, opts.sample_rate), rms(a, 3.3, 3.8, opts.sample_rate));
    assert!(loud > 2.5 * soft, "crescendo: {soft} -> {loud}");
    // --dynamic-cc 11 reads CC11 (flat here) instead: no crescendo.
    let flat = RenderOptions { dynamic_cc: Some(11), ..Default::default() };
    let (plans, stems) = plan(
        &smf(vec![{
            let mut p = vec![(0, name("Celli")), (0, cc(11, 100))];
            note(&mut p, 0, 4 * SECOND, 48, 64);
            for i in 1..=20u32 {
                p.push((i * SECOND / 5, cc(2, 20 + 5 * i as u8)));
            }
            p
        }]),
        &flat,
    );
    assert_eq!(plans[0].dynamic_source, DynamicSource::Controller { cc: 11, why: DynamicWhy::Flag });
    let a = &stems[0].audio;
    let (soft, loud) = (rms(a, 0.3, 0.8, opts.sample_rate), rms(a, 3.3, 3.8, opts.sample_rate));
    assert!(loud < 1.5 * soft, "no crescendo: {soft} -> {loud}");
}

#[test]
fn pan_is_read_and_kept() {
    let mut part = vec![(0, name("Viola")), (0, cc(10, 30))];
    note(&mut part, 0, 400, 60, 80);
    part.push((500, cc(10, 90)));
    let (plans, _) = plan(&smf(vec![part]), &RenderOptions::default());
    assert_eq!((plans[0].pan, plans[0].pan_changes), (Some(30), 1));
    let placed = render::stage::place_tracks(&plans, &Default::default(), &[]);
    assert_eq!(placed[0].why, render::stage::PlacementSource::Cc10);
    assert_eq!(placed[0].timeline.len(), 2, "{:?}", placed[0].timeline);
    assert!(placed[0].pan < -0.5 && placed[0].timeline[1].1 > 0.3);
}

#[test]
fn a_file_without_notes_names_the_file() {
    let file = smf(vec![vec![(0, name("Violin")), (0, cc(1, 64))]]);
    let song = parse_midi_bytes(&file, Path::new("empty.mid")).unwrap();
    let err = render::plan_tracks(&song, Path::new("empty.mid"), &Library::embedded().unwrap(), &Default::default())
        .err()
        .expect("no notes is an error");
    assert!(err.to_string().contains("empty.mid") && err.to_string().contains("no notes"), "{err}");
}

/// MuseScore 3.2.3's MIDI export of tests/data/quartet.musicxml (`mscore3 -o
/// quartet-musescore3.mid quartet.musicxml`): unnamed tracks, programs 40/40/41/42, CC7 and CC10
/// at the start, dynamics and hairpins as CC2, tremolo written out as repeated notes.
#[test]
fn a_musescore_midi_export_gets_its_sections_from_programs_and_dynamics_from_cc2() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/quartet-musescore3.mid");
    let song = render::read_score(&path, &[]).expect("reads");
    let opts = RenderOptions::default();
    let plans = render::plan_tracks(&song, &path, &Library::embedded().unwrap(), &opts).expect("plans");
    let got: Vec<(&str, &SectionReason)> = plans.iter().map(|p| (p.section.as_str(), &p.section_reason)).collect();
    assert_eq!(
        got,
        [
            ("violins", &SectionReason::Program { program: 40 }),
            ("violins", &SectionReason::Program { program: 40 }),
            ("violas", &SectionReason::Program { program: 41 }),
            ("celli", &SectionReason::Program { program: 42 }),
        ]
    );
    for p in &plans {
        assert_eq!(p.dynamic_source, DynamicSource::Controller { cc: 2, why: DynamicWhy::Moves });
        assert_eq!(p.pan, Some(63), "MuseScore writes a centre CC10 for every part");
        assert!(p.out_of_range().is_none());
    }
    // That centre CC10 says nothing: the quartet sits in its seats, the second violins inside
    // the first.
    let placed = render::stage::place_tracks(&plans, &opts.seating, &opts.track_pans);
    let pans: Vec<(f32, render::stage::PlacementSource)> = placed.iter().map(|p| (p.pan, p.why)).collect();
    use render::stage::PlacementSource::Seat;
    assert_eq!(pans, [(-0.55, Seat), (-0.25, Seat), (0.15, Seat), (0.4, Seat)]);
}
