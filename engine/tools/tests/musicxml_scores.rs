//! MusicXML scores through the same path as `rosin render`: the quartet fixture (tempo, dynamics,
//! hairpins, slurs, staccato, pizz./arco texts, a tied tremolo, an accent) rendered with the
//! embedded models, and bad scores that must fail with clear errors.

use rosin_core::library::Library;
use rosin_core::MidiEvent;
use rosin_tools::render::midi_file::{MidiSong, MidiTrack};
use rosin_tools::render::musicxml::{parse_musicxml_bytes, read_musicxml_file, MusicXmlError, LEVELS};
use rosin_tools::render::{self, RenderError, RenderOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;

fn quartet_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/quartet.musicxml")
}

fn quartet() -> MidiSong {
    read_musicxml_file(&quartet_path(), &[]).expect("the quartet parses")
}

/// (on, off, key, velocity) of every note of a track, in onset order.
fn notes(track: &MidiTrack) -> Vec<(f64, f64, u8, u8)> {
    let mut out: Vec<(f64, f64, u8, u8)> = Vec::new();
    let mut open: Vec<(u8, usize)> = Vec::new();
    for e in &track.events {
        match e.event {
            MidiEvent::NoteOn { key, velocity } if velocity > 0 => {
                open.push((key, out.len()));
                out.push((e.time_s, f64::NAN, key, velocity));
            }
            MidiEvent::NoteOff { key, .. } | MidiEvent::NoteOn { key, .. } => {
                let i = open.iter().position(|(k, _)| *k == key).expect("a note-off for a sounding key");
                let (_, idx) = open.remove(i);
                out[idx].1 = e.time_s;
            }
            _ => {}
        }
    }
    assert!(open.is_empty(), "every note ends");
    out
}

/// The CC1 value in force at `t` (after every event at `t`).
fn cc1_at(track: &MidiTrack, t: f64) -> Option<u8> {
    track
        .events
        .iter()
        .take_while(|e| e.time_s <= t + 1e-9)
        .filter_map(|e| match e.event {
            MidiEvent::ControlChange { cc: 1, value } => Some(value),
            _ => None,
        })
        .last()
}

const Q: f64 = 60.0 / 96.0;
const BAR: f64 = 4.0 * Q;

#[test]
fn the_quartet_reads_as_four_named_parts_with_tempo_96() {
    let song = quartet();
    let names: Vec<_> = song.tracks.iter().map(|t| t.name.clone().unwrap()).collect();
    assert_eq!(names, ["Violin I", "Violin II", "Viola", "Violoncello"]);
    assert_eq!(song.tracks.iter().map(|t| t.index).collect::<Vec<_>>(), [0, 1, 2, 3]);
    // midi-program 41/42/43 (1-based) are GM violin, viola, cello.
    assert_eq!(
        song.tracks.iter().map(|t| t.first_program).collect::<Vec<_>>(),
        [Some(40), Some(40), Some(41), Some(42)]
    );
    for t in &song.tracks {
        let n = notes(t);
        // 2 + 4 + 4 + 1 (tied over the barline) + 1.
        assert_eq!(n.len(), 12, "{}", t.display_name());
        assert_eq!(t.note_count, 12);
        let ons: Vec<f64> = n.iter().map(|x| x.0).collect();
        let want = [0.0, 2.0 * Q, BAR, BAR + Q, BAR + 2.0 * Q, BAR + 3.0 * Q, 2.0 * BAR, 2.0 * BAR + Q];
        for (got, want) in ons.iter().zip(want) {
            assert!((got - want).abs() < 1e-9, "{}: onset {got} s, want {want} s", t.display_name());
        }
        // m2 starts at 2.5 s at 96 bpm; the tied tremolo note lasts from m4 to the middle of m5.
        assert!((ons[2] - 2.5).abs() < 1e-9);
        assert!((n[10].0 - 3.0 * BAR).abs() < 1e-9);
        assert!((n[10].1 - (4.0 * BAR + 2.0 * Q)).abs() < 0.02, "tied note ends at {}", n[10].1);
        assert!((n[11].0 - (4.0 * BAR + 2.0 * Q)).abs() < 1e-9);
    }
    // Pitches as MuseScore plays them.
    let keys: Vec<u8> = notes(&song.tracks[0]).iter().map(|n| n.2).collect();
    assert_eq!(keys, [76, 74, 72, 71, 72, 71, 72, 74, 76, 77, 76, 74]);
    assert!((song.duration_s - 5.0 * BAR).abs() < 0.05, "{}", song.duration_s);
}

#[test]
fn slurs_overlap_and_detached_notes_leave_a_gap() {
    let song = quartet();
    for t in &song.tracks {
        let n = notes(t);
        // m1: the slur's first note ends after the second starts; the second (slur stop) ends early.
        assert!(n[0].1 > n[1].0 + 0.01, "{}: slurred notes do not overlap: {:?}", t.display_name(), &n[..2]);
        assert!(n[1].1 < BAR, "{}", t.display_name());
        // m2: staccato quarters do not overlap.
        for w in n[2..6].windows(2) {
            assert!(w[0].1 < w[1].0, "{}: {w:?}", t.display_name());
        }
    }
}

#[test]
fn dynamics_and_hairpins_become_cc1_and_velocity() {
    let song = quartet();
    let t = &song.tracks[0];
    // pp at the start, rising through the crescendo to f at m2.
    assert_eq!(cc1_at(t, 0.0), Some(LEVELS[1]));
    let ramp: Vec<u8> = t
        .events
        .iter()
        .filter(|e| e.time_s > 0.0 && e.time_s < BAR)
        .filter_map(|e| match e.event {
            MidiEvent::ControlChange { cc: 1, value } => Some(value),
            _ => None,
        })
        .collect();
    assert!(ramp.len() > 20, "a value every ~50 ms: {ramp:?}");
    assert!(ramp.windows(2).all(|w| w[0] <= w[1]), "the crescendo only rises: {ramp:?}");
    assert!(cc1_at(t, BAR / 2.0).unwrap() > LEVELS[1] && cc1_at(t, BAR / 2.0).unwrap() < LEVELS[5]);
    assert_eq!(cc1_at(t, BAR), Some(LEVELS[5]));
    // The diminuendo in m2 falls to p at m3; the pizzicati play at p.
    assert!(cc1_at(t, 1.5 * BAR).unwrap() < LEVELS[5] && cc1_at(t, 1.5 * BAR).unwrap() > LEVELS[2]);
    assert_eq!(cc1_at(t, 2.0 * BAR), Some(LEVELS[2]));
    let n = notes(t);
    assert_eq!(n[2].3, LEVELS[5], "the first staccato note plays f");
    assert!(n[6..10].iter().all(|x| x.3 == LEVELS[2]), "pizzicati at p: {:?}", &n[6..10]);
    assert_eq!(n[10].3, LEVELS[4], "the tremolo note plays mf");
    // The accented half note: ff + 20, and a CC1 bump at its start.
    assert_eq!(n[11].3, LEVELS[6] + 20);
    assert!(n[11].3 > n[10].3 && n[11].3 > LEVELS[6]);
    assert_eq!(cc1_at(t, n[11].0), Some(LEVELS[6] + 16));
    assert_eq!(cc1_at(t, n[11].0 + 0.2), Some(LEVELS[6]));
}

#[test]
fn the_quartet_renders_with_its_sections_and_articulations() {
    let song = quartet();
    let opts = RenderOptions::default();
    let song = song.with_sample_rate(opts.sample_rate);
    let lib = Library::embedded().unwrap();
    let plans = render::plan_tracks(&song, &quartet_path(), &lib, &opts).expect("plans");
    let sections: Vec<&str> = plans.iter().map(|p| p.section.as_str()).collect();
    assert_eq!(sections, ["violins", "violins", "violas", "celli"]);
    let stems = render::render_song(&plans, &song, &opts, &AtomicU64::new(0));
    for s in &stems {
        // [sustain, short, tremolo, pizzicato]: m1's two + m5's accent, m2's staccati, the tied
        // tremolo (one note), m3's pizzicati.
        assert_eq!(s.notes_played, [3, 4, 1, 4], "{}", s.name);
        let peak = s.audio.iter().fold(0f32, |m, x| m.max(x.abs()));
        assert!(peak > 1e-3 && peak.is_finite(), "{}: peak {peak}", s.name);
    }
}

fn score(parts: &[(&str, &str, Option<u8>, &str)]) -> Vec<u8> {
    let mut list = String::new();
    let mut body = String::new();
    for (id, name, program, measures) in parts {
        let midi = program
            .map(|p| format!("<midi-instrument id=\"{id}-I1\"><midi-program>{p}</midi-program></midi-instrument>"))
            .unwrap_or_default();
        list.push_str(&format!(
            "<score-part id=\"{id}\"><part-name>{name}</part-name><score-instrument id=\"{id}-I1\">\
             <instrument-name>{name}</instrument-name></score-instrument>{midi}</score-part>"
        ));
        body.push_str(&format!("<part id=\"{id}\">{measures}</part>"));
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><score-partwise version=\"4.0\"><part-list>{list}</part-list>\
         {body}</score-partwise>"
    )
    .into_bytes()
}

const ONE_NOTE: &str = "<measure number=\"1\"><attributes><divisions>1</divisions></attributes>\
    <note><pitch><step>A</step><octave>4</octave></pitch><duration>4</duration></note></measure>";

#[test]
fn malformed_xml_is_an_error_naming_the_file() {
    for bytes in [&b"<score-partwise><part-list>"[..], b"not xml at all", b"", b"PK\x03\x04garbage"] {
        let err = parse_musicxml_bytes(bytes, Path::new("broken.musicxml"), &[]).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("broken.musicxml"), "{msg}");
        assert!(matches!(err, MusicXmlError::Malformed { .. }), "{msg}");
    }
}

#[test]
fn zero_divisions_is_an_error() {
    let m = ONE_NOTE.replace("<divisions>1</divisions>", "<divisions>0</divisions>");
    let err = parse_musicxml_bytes(&score(&[("P1", "Violin", None, &m)]), Path::new("zero.xml"), &[]).unwrap_err();
    assert!(err.to_string().contains("zero.xml"), "{err}");
}

#[test]
fn a_flute_part_is_refused_unless_a_section_is_chosen() {
    let bytes = score(&[("P1", "Violin", Some(41), ONE_NOTE), ("P2", "Flute", Some(74), ONE_NOTE)]);
    let err = parse_musicxml_bytes(&bytes, Path::new("winds.musicxml"), &[]).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("winds.musicxml"), "{msg}");
    assert!(msg.contains("part P2 (\"Flute\"): not a string instrument Rosin plays"), "{msg}");
    assert!(msg.contains("--section 2="), "{msg}");
    // With --section 2=violas it renders.
    let song = parse_musicxml_bytes(&bytes, Path::new("winds.musicxml"), &[(2, "violas".into())]).unwrap();
    assert_eq!(song.tracks.len(), 2);
    assert_eq!(song.tracks[1].first_program, Some(73));
    let opts = RenderOptions { track_sections: vec![(2, "violas".into())], ..Default::default() };
    let plans = render::plan_tracks(&song, Path::new("winds.musicxml"), &Library::embedded().unwrap(), &opts).unwrap();
    assert_eq!(plans[1].section, "violas");
}

#[test]
fn a_score_of_rests_has_no_notes_to_render() {
    let rests = "<measure number=\"1\"><attributes><divisions>1</divisions></attributes>\
        <note><rest/><duration>4</duration></note></measure>";
    let bytes = score(&[("P1", "Violin", None, rests)]);
    let song = parse_musicxml_bytes(&bytes, Path::new("rests.musicxml"), &[]).unwrap();
    assert_eq!(song.tracks.len(), 1);
    assert_eq!(song.tracks[0].note_count, 0);
    let err = render::plan_tracks(
        &song,
        Path::new("rests.musicxml"),
        &Library::embedded().unwrap(),
        &RenderOptions::default(),
    )
    .err()
    .expect("no notes");
    assert!(matches!(err, RenderError::NoNotes(_)));
    assert_eq!(err.to_string(), "rests.musicxml: the file has no notes to render");
}

#[test]
fn read_score_dispatches_on_the_extension() {
    let song = render::read_score(&quartet_path(), &[]).unwrap();
    assert_eq!(song.tracks.len(), 4);
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../demo/strings-demo.mid");
    assert!(render::read_score(&demo, &[]).is_ok());
    let err = render::read_score(Path::new("/nonexistent/score.mxl"), &[]).unwrap_err();
    assert!(matches!(err, RenderError::MusicXml(MusicXmlError::Io { .. })), "{err}");
}

#[test]
fn chords_backup_and_ties_keep_time() {
    // Two voices via <backup>, a chord, a tie across the barline, a grace note that takes no time.
    let m = "<measure number=\"1\"><attributes><divisions>2</divisions></attributes>\
        <note><grace/><pitch><step>B</step><octave>4</octave></pitch></note>\
        <note><pitch><step>C</step><octave>5</octave></pitch><duration>4</duration></note>\
        <note><chord/><pitch><step>E</step><octave>5</octave></pitch><duration>4</duration></note>\
        <note><pitch><step>D</step><octave>5</octave></pitch><duration>4</duration><tie type=\"start\"/></note>\
        <backup><duration>8</duration></backup>\
        <note><pitch><step>C</step><octave>4</octave></pitch><duration>8</duration></note></measure>\
        <measure number=\"2\"><note><pitch><step>D</step><octave>5</octave></pitch><duration>2</duration>\
        <tie type=\"stop\"/></note><note><rest/><duration>6</duration></note></measure>";
    let song = parse_musicxml_bytes(&score(&[("P1", "Viola", None, m)]), Path::new("v.xml"), &[]).unwrap();
    let n = notes(&song.tracks[0]);
    let keys: Vec<(f64, u8)> = n.iter().map(|x| (x.0, x.2)).collect();
    assert_eq!(keys, [(0.0, 72), (0.0, 76), (0.0, 60), (1.0, 74)]);
    // The tied D lasts 3 quarters (1.5 s at 120 bpm).
    assert!((n[3].1 - 2.5).abs() < 0.02, "{:?}", n[3]);
}

/// MuseScore 3.2.3's own export of the quartet (`mscore3 -o quartet-musescore3.mxl
/// quartet.musicxml`): a notation program's compressed MusicXML reads as the hand-written file.
#[test]
fn musescore_compressed_export_reads_like_the_source() {
    let exported = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/quartet-musescore3.mxl");
    let song = render::read_score(&exported, &[]).expect("the .mxl export parses");
    let source = quartet();
    assert_eq!(song.tracks.len(), source.tracks.len());
    for (a, b) in song.tracks.iter().zip(&source.tracks) {
        assert_eq!(a.name, b.name);
        let (na, nb) = (notes(a), notes(b));
        assert_eq!(na.len(), nb.len(), "{:?}", a.name);
        for (x, y) in na.iter().zip(&nb) {
            assert!((x.0 - y.0).abs() < 1e-6 && x.2 == y.2, "{:?}: {x:?} vs {y:?}", a.name);
        }
    }
}
