//! Writes `demo/strings-demo.mid`, the short string passage the README renders:
//!
//! ```text
//! cargo run -p rosin-tools --example make_demo_midi -- demo/strings-demo.mid
//! ```
//!
//! A type-1 file: a tempo track and four parts (Violins, Violas, Celli, Basses), about 37 s, in
//! D minor. Articulations are chosen with keyswitches just before each section (C0 = 12 sustain,
//! C#0 = 13 short, D0 = 14 tremolo, D#0 = 15 pizzicato); CC1 shapes the dynamics, CC11 adds a
//! little expression, and the tempo slows at the end. See `demo/README.md` for the bar-by-bar plan.
//!
//! Uses only midly, so it builds whatever state the rest of the engine is in. The piece is
//! original, written for Rosin, and dedicated to the public domain (CC0 1.0).

use midly::num::{u15, u24, u28, u4, u7};
use midly::{Format, Header, MetaMessage, MidiMessage, Smf, Timing, TrackEvent, TrackEventKind};

const TPQ: u64 = 480;
const BAR: u64 = 4 * TPQ;
/// Bar 0 is a one-beat (1/4) setup bar: programs, initial controllers and the first keyswitch
/// sit there, so that the music itself starts on a clean downbeat.
const PICKUP: u64 = TPQ;

const KS_SUSTAIN: u8 = 12;
const KS_SHORT: u8 = 13;
const KS_TREMOLO: u8 = 14;
const KS_PIZZICATO: u8 = 15;
/// Keyswitches are pressed this many ticks before a section and held for `KS_LEN` ticks.
const KS_LEAD: u64 = 24;
const KS_LEN: u64 = 16;

/// Tick of `beat` (0-based, may be fractional) in 4/4 bar `bar` (1-based). Bar 12 is a 6/4 bar
/// that starts where a 4/4 bar 12 would.
fn at(bar: u64, beat: f64) -> u64 {
    PICKUP + (bar - 1) * BAR + (beat * TPQ as f64).round() as u64
}

/// Note name (`C4` = 60, `F#3`, `Bb1`) to MIDI key.
fn key(name: &str) -> u8 {
    let b = name.as_bytes();
    let pc: i32 = match b[0] {
        b'C' => 0,
        b'D' => 2,
        b'E' => 4,
        b'F' => 5,
        b'G' => 7,
        b'A' => 9,
        b'B' => 11,
        _ => panic!("bad note name {name}"),
    };
    let (acc, rest) = match b.get(1) {
        Some(b'#') => (1, &name[2..]),
        Some(b'b') => (-1, &name[2..]),
        _ => (0, &name[1..]),
    };
    let octave: i32 = rest.parse().expect("octave");
    let k = (octave + 1) * 12 + pc + acc;
    assert!((0..=127).contains(&k), "{name} out of MIDI range");
    k as u8
}

/// One instrument track under construction. Events are kept with their absolute tick and a
/// priority that orders events sharing a tick: metadata, programs, note-offs, controllers,
/// note-ons (so a repeated note is released before it is struck again).
struct Part {
    name: &'static str,
    channel: u8,
    low: u8,
    high: u8,
    events: Vec<(u64, u8, TrackEventKind<'static>)>,
}

impl Part {
    fn new(name: &'static str, channel: u8, program: u8, low: &str, high: &str) -> Part {
        let mut part = Part { name, channel, low: key(low), high: key(high), events: Vec::new() };
        part.meta(0, MetaMessage::TrackName(name.as_bytes()));
        part.meta(0, MetaMessage::InstrumentName(name.as_bytes()));
        part.midi(0, 1, MidiMessage::ProgramChange { program: u7::new(program) });
        part
    }

    fn meta(&mut self, tick: u64, meta: MetaMessage<'static>) {
        self.events.push((tick, 0, TrackEventKind::Meta(meta)));
    }

    fn midi(&mut self, tick: u64, priority: u8, message: MidiMessage) {
        let channel = u4::new(self.channel);
        self.events.push((tick, priority, TrackEventKind::Midi { channel, message }));
    }

    fn raw_note(&mut self, start: u64, len: u64, key: u8, velocity: u8) {
        assert!(len > 0);
        let (key, vel) = (u7::new(key), u7::new(velocity));
        self.midi(start, 4, MidiMessage::NoteOn { key, vel });
        let vel = u7::new(0);
        self.midi(start + len, 2, MidiMessage::NoteOff { key, vel });
    }

    /// A playable note; its range is checked against the section's written range.
    fn note(&mut self, start: u64, len: u64, name: &str, velocity: u8) {
        let k = key(name);
        assert!((self.low..=self.high).contains(&k), "{}: {name} is outside the range", self.name);
        self.raw_note(start, len, k, velocity);
    }

    /// Notes given as (bar, beat, beats, name) with one velocity.
    fn notes(&mut self, velocity: u8, notes: &[(u64, f64, f64, &str)]) {
        for &(bar, beat, beats, name) in notes {
            let start = at(bar, beat);
            let len = (beats * TPQ as f64).round() as u64;
            self.note(start, len, name, velocity);
        }
    }

    /// The keyswitch for the section starting at `tick`.
    fn keyswitch(&mut self, tick: u64, ks: u8) {
        self.raw_note(tick - KS_LEAD, KS_LEN, ks, 100);
    }

    fn cc(&mut self, tick: u64, cc: u8, value: u8) {
        self.midi(tick, 3, MidiMessage::Controller { controller: u7::new(cc), value: u7::new(value) });
    }

    /// A controller curve through (tick, value) breakpoints, linear in between, one message per
    /// `step` ticks (repeated values are not sent again).
    fn cc_curve(&mut self, cc: u8, points: &[(u64, u8)], step: u64) {
        let mut last: Option<u8> = None;
        for w in points.windows(2) {
            let ((t0, v0), (t1, v1)) = (w[0], w[1]);
            let mut t = t0;
            while t < t1 {
                let x = (t - t0) as f64 / (t1 - t0) as f64;
                let v = (v0 as f64 + x * (v1 as f64 - v0 as f64)).round() as u8;
                if last != Some(v) {
                    self.cc(t, cc, v);
                    last = Some(v);
                }
                t += step;
            }
        }
        if let Some(&(t, v)) = points.last() {
            if last != Some(v) {
                self.cc(t, cc, v);
            }
        }
    }

    fn into_track(mut self, end: u64) -> Vec<TrackEvent<'static>> {
        self.events.push((end, 9, TrackEventKind::Meta(MetaMessage::EndOfTrack)));
        to_track(self.events)
    }
}

/// Absolute (tick, priority, event) -> delta-timed track, stable within equal (tick, priority).
fn to_track(mut events: Vec<(u64, u8, TrackEventKind<'static>)>) -> Vec<TrackEvent<'static>> {
    events.sort_by_key(|&(tick, priority, _)| (tick, priority));
    let mut now = 0;
    events
        .into_iter()
        .map(|(tick, _, kind)| {
            let delta = u28::new((tick - now) as u32);
            now = tick;
            TrackEvent { delta, kind }
        })
        .collect()
}

/// Section starts, as ticks.
struct Plan {
    a: u64,
    b: u64,
    c: u64,
    d: u64,
    e: u64,
    last_bar: u64,
    end: u64,
}

const PLAN_SECTIONS: [(&str, u64, u8); 5] = [
    ("A: sustain, chordal opening", 1, KS_SUSTAIN),
    ("B: short, rhythmic ostinato", 4, KS_SHORT),
    ("C: tremolo build-up", 7, KS_TREMOLO),
    ("D: pizzicato", 9, KS_PIZZICATO),
    ("E: sustain, cadence and final chord", 11, KS_SUSTAIN),
];

/// (tick, beats per minute).
fn tempo_map() -> Vec<(u64, f64)> {
    vec![
        (0, 72.0),
        (at(4, 0.0), 96.0),
        // Ritardando into the final chord.
        (at(10, 2.0), 88.0),
        (at(11, 0.0), 76.0),
        (at(11, 2.0), 66.0),
        (at(12, 0.0), 60.0),
    ]
}

fn seconds(tick: u64) -> f64 {
    let map = tempo_map();
    let mut s = 0.0;
    for (i, &(t0, bpm)) in map.iter().enumerate() {
        let t1 = map.get(i + 1).map_or(u64::MAX, |m| m.0).min(tick);
        if t1 > t0 {
            s += (t1 - t0) as f64 / TPQ as f64 * 60.0 / bpm;
        }
    }
    s
}

fn main() {
    let out = std::env::args().nth(1).unwrap_or_else(|| "demo/strings-demo.mid".to_owned());

    let plan = Plan {
        a: at(1, 0.0),
        b: at(4, 0.0),
        c: at(7, 0.0),
        d: at(9, 0.0),
        e: at(11, 0.0),
        last_bar: at(12, 0.0),
        end: at(12, 6.0),
    };

    let mut vln = Part::new("Violins", 0, 40, "G3", "E6");
    let mut vla = Part::new("Violas", 1, 41, "C3", "C6");
    let mut vc = Part::new("Celli", 2, 42, "C2", "A4");
    let mut cb = Part::new("Basses", 3, 43, "E1", "G3");

    for part in [&mut vln, &mut vla, &mut vc, &mut cb] {
        for &(_, bar, ks) in &PLAN_SECTIONS {
            part.keyswitch(at(bar, 0.0), ks);
        }
        // Expression: starts a little low, opens up over bar 1, fades over the final chord.
        part.cc(0, 11, 110);
        part.cc_curve(11, &[(plan.a, 110), (at(2, 0.0), 127)], TPQ / 4);
        part.cc_curve(11, &[(at(12, 2.0), 127), (plan.end, 90)], TPQ / 4);
        part.cc(0, 1, 35);
    }

    // ---- A: bars 1-3, 72 bpm, sustain. i - VI - iv - V (Asus4 - A) with CC1 swells.
    vln.notes(
        78,
        &[
            (1, 0.0, 2.0, "A4"),
            (1, 2.0, 2.0, "D5"),
            (2, 0.0, 2.0, "F5"),
            (2, 2.0, 2.0, "D5"),
            (3, 0.0, 2.0, "E5"),
            (3, 2.0, 2.0, "C#5"),
        ],
    );
    vla.notes(72, &[(1, 0.0, 4.0, "F4"), (2, 0.0, 2.0, "F4"), (2, 2.0, 2.0, "G4"), (3, 0.0, 4.0, "E4")]);
    vc.notes(74, &[(1, 0.0, 4.0, "D3"), (2, 0.0, 2.0, "D3"), (2, 2.0, 2.0, "Bb2"), (3, 0.0, 4.0, "A2")]);
    cb.notes(74, &[(1, 0.0, 4.0, "D2"), (2, 0.0, 2.0, "Bb1"), (2, 2.0, 2.0, "G1"), (3, 0.0, 4.0, "A1")]);
    let swell = |trim: i32| -> Vec<(u64, u8)> {
        [
            (at(1, 0.0), 35),
            (at(1, 2.5), 80),
            (at(2, 0.0), 62),
            (at(2, 2.5), 92),
            (at(3, 0.0), 76),
            (at(3, 2.5), 104),
            (at(3, 3.75), 88),
        ]
        .iter()
        .map(|&(t, v): &(u64, i32)| (t, (v + trim).clamp(0, 127) as u8))
        .collect()
    };
    vln.cc_curve(1, &swell(0), TPQ / 4);
    vla.cc_curve(1, &swell(-3), TPQ / 4);
    vc.cc_curve(1, &swell(0), TPQ / 4);
    cb.cc_curve(1, &swell(-6), TPQ / 4);

    // ---- B: bars 4-6, 96 bpm, short. 3+3+2 accents over a cello eighth-note ostinato.
    // Chords per half bar: Dm Dm | Bb C | A A.
    struct Chord {
        vc: [&'static str; 3], // root, fifth, third (cello octave)
        cb: &'static str,
        vla: &'static str,
        vln: [&'static str; 2],
    }
    let dm = Chord { vc: ["D3", "A3", "F3"], cb: "D2", vla: "F4", vln: ["D5", "A5"] };
    let bb = Chord { vc: ["Bb2", "F3", "D3"], cb: "Bb1", vla: "F4", vln: ["D5", "Bb5"] };
    let c = Chord { vc: ["C3", "G3", "E3"], cb: "C2", vla: "E4", vln: ["E5", "C6"] };
    let a = Chord { vc: ["A2", "E3", "C#3"], cb: "A1", vla: "E4", vln: ["C#5", "A5"] };
    let halves: [(u64, [&Chord; 2]); 3] = [(4, [&dm, &dm]), (5, [&bb, &c]), (6, [&a, &a])];
    let eighth = TPQ / 2;
    let short = TPQ / 4;
    for (bar, chords) in halves {
        for i in 0..8u64 {
            let t = at(bar, 0.0) + i * eighth;
            let ch = chords[(i / 4) as usize];
            let accent = matches!(i, 0 | 3 | 6);
            // Cello ostinato: R R 5 R | R 5 R 3.
            let which = [0, 0, 1, 0, 0, 1, 0, 2][i as usize];
            vc.note(t, short, ch.vc[which], if accent { 112 } else { 84 });
            if accent {
                cb.note(t, short, ch.cb, 108);
                vla.note(t, short, ch.vla, 104);
                // Bar 6 beats 3-4 belong to the violins' run.
                if !(bar == 6 && i >= 4) {
                    for n in ch.vln {
                        vln.note(t, short, n, 106);
                    }
                }
            }
        }
    }
    // Violins: a sixteenth-note run up the melodic minor into the tremolo.
    for (i, n) in ["A4", "B4", "C#5", "D5", "E5", "F5", "G5", "A5"].iter().enumerate() {
        let t = at(6, 2.0) + i as u64 * TPQ / 4;
        vln.note(t, TPQ / 8, n, 80 + 5 * i as u8);
    }
    for part in [&mut vln, &mut vla, &mut vc, &mut cb] {
        part.cc(plan.b, 1, 92);
        part.cc_curve(1, &[(at(6, 0.0), 92), (at(6, 3.75), 108)], TPQ / 4);
    }

    // ---- C: bars 7-8, tremolo build-up. Gm | E dim7 - A7, crescendo on CC1.
    vln.notes(
        72,
        &[
            (7, 0.0, 4.0, "Bb4"),
            (7, 0.0, 4.0, "G5"),
            (8, 0.0, 2.0, "C#5"),
            (8, 0.0, 2.0, "Bb5"),
            (8, 2.0, 2.0, "C#5"),
            (8, 2.0, 2.0, "A5"),
        ],
    );
    vla.notes(72, &[(7, 0.0, 4.0, "D4"), (7, 0.0, 4.0, "G4"), (8, 0.0, 4.0, "E4"), (8, 0.0, 4.0, "G4")]);
    vc.notes(72, &[(7, 0.0, 4.0, "G2"), (8, 0.0, 2.0, "Bb2"), (8, 2.0, 2.0, "A2")]);
    cb.notes(72, &[(7, 0.0, 4.0, "G1"), (8, 0.0, 2.0, "E1"), (8, 2.0, 2.0, "A1")]);
    for part in [&mut vln, &mut vla, &mut vc, &mut cb] {
        part.cc_curve(1, &[(plan.c, 28), (at(8, 0.0), 70), (at(8, 3.75), 122)], TPQ / 4);
    }

    // ---- D: bars 9-10, pizzicato. Dm | Gm - A, the tempo easing from bar 10 beat 3.
    let pizz = 200;
    for (i, n) in [
        "A4", "D5", "F5", "A5", "F5", "D5", "A4", "D5", // bar 9
        "Bb4", "D5", "G5", "D5", "C#5", "E5", "A5", "E5", // bar 10
    ]
    .iter()
    .enumerate()
    {
        let t = plan.d + i as u64 * eighth;
        vln.note(t, pizz, n, if i % 4 == 0 { 104 } else { 88 });
    }
    for (i, n) in ["F4", "D4", "F4", "D4", "G4", "D4", "E4", "C#4"].iter().enumerate() {
        // Off-beat eighths.
        let t = plan.d + i as u64 * TPQ + eighth;
        vla.note(t, pizz, n, 86);
    }
    for (i, n) in ["D3", "A2", "D3", "F3", "G2", "D3", "A2", "C#3"].iter().enumerate() {
        let t = plan.d + i as u64 * TPQ;
        vc.note(t, pizz, n, if i % 4 == 0 { 108 } else { 94 });
    }
    for (i, n) in ["D2", "A1", "G1", "A1"].iter().enumerate() {
        let t = plan.d + i as u64 * 2 * TPQ;
        cb.note(t, pizz, n, 104);
    }
    for part in [&mut vln, &mut vla, &mut vc, &mut cb] {
        part.cc(plan.d, 1, 84);
    }

    // ---- E: bar 11 (Gm - A7) and a 6/4 bar 12: a long D minor chord, dying away.
    vln.notes(
        80,
        &[
            (11, 0.0, 2.0, "Bb4"),
            (11, 0.0, 2.0, "G5"),
            (11, 2.0, 2.0, "C#5"),
            (11, 2.0, 2.0, "G5"),
            (12, 0.0, 6.0, "D5"),
            (12, 0.0, 6.0, "F5"),
        ],
    );
    vla.notes(
        78,
        &[
            (11, 0.0, 2.0, "D4"),
            (11, 0.0, 2.0, "G4"),
            (11, 2.0, 2.0, "E4"),
            (11, 2.0, 2.0, "A4"),
            (12, 0.0, 6.0, "D4"),
            (12, 0.0, 6.0, "A4"),
        ],
    );
    vc.notes(80, &[(11, 0.0, 2.0, "Bb2"), (11, 2.0, 2.0, "A2"), (12, 0.0, 6.0, "D3"), (12, 0.0, 6.0, "A3")]);
    cb.notes(80, &[(11, 0.0, 2.0, "G1"), (11, 2.0, 2.0, "A1"), (12, 0.0, 6.0, "D2")]);
    for part in [&mut vln, &mut vla, &mut vc, &mut cb] {
        part.cc_curve(
            1,
            &[(plan.e, 72), (at(11, 2.0), 96), (plan.last_bar, 100), (at(12, 0.75), 106), (plan.end - TPQ / 4, 14)],
            TPQ / 4,
        );
    }

    // ---- Tempo track.
    let mut tempo: Vec<(u64, u8, TrackEventKind<'static>)> = Vec::new();
    let mut meta = |tick: u64, m: MetaMessage<'static>| tempo.push((tick, 0, TrackEventKind::Meta(m)));
    meta(0, MetaMessage::TrackName(b"Rosin strings demo"));
    meta(0, MetaMessage::Copyright(b"CC0 1.0: written for the Rosin project and dedicated to the public domain"));
    meta(0, MetaMessage::KeySignature(-1, true));
    meta(0, MetaMessage::TimeSignature(1, 2, 24, 8));
    meta(plan.a, MetaMessage::TimeSignature(4, 2, 24, 8));
    meta(plan.last_bar, MetaMessage::TimeSignature(6, 2, 24, 8));
    for &(name, bar, _) in &PLAN_SECTIONS {
        meta(at(bar, 0.0), MetaMessage::Marker(name.as_bytes()));
    }
    for (tick, bpm) in tempo_map() {
        let us = (60_000_000.0 / bpm).round() as u32;
        meta(tick, MetaMessage::Tempo(u24::new(us)));
    }
    tempo.push((plan.end, 9, TrackEventKind::Meta(MetaMessage::EndOfTrack)));

    let end = plan.end;
    let tracks =
        vec![to_track(tempo), vln.into_track(end), vla.into_track(end), vc.into_track(end), cb.into_track(end)];
    let smf = Smf { header: Header::new(Format::Parallel, Timing::Metrical(u15::new(TPQ as u16))), tracks };
    if let Some(dir) = std::path::Path::new(&out).parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir).expect("create the output folder");
        }
    }
    smf.save(&out).expect("write the MIDI file");

    println!("wrote {out}: {:.1} s", seconds(end));
    for &(name, bar, ks) in &PLAN_SECTIONS {
        println!("  bar {bar:>2} at {:>5.2} s  keyswitch {ks}  {name}", seconds(at(bar, 0.0)));
    }
    println!("  final chord {:.2} s to {:.2} s", seconds(plan.last_bar), seconds(end));
    for (i, t) in smf.tracks.iter().enumerate() {
        let notes = t
            .iter()
            .filter(|e| matches!(e.kind, TrackEventKind::Midi { message: MidiMessage::NoteOn { .. }, .. }))
            .count();
        println!("  track {i}: {} events, {notes} note-ons", t.len());
    }
}
