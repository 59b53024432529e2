//! MusicXML scores (`.musicxml`, `.xml`, compressed `.mxl`) -> the same [`MidiSong`] the MIDI
//! reader gives, so section choice, dynamics, articulations, gain and the report are shared.
//!
//! The score is read with the `musicxml` crate (partwise; a timewise score is converted by it).
//! What is read, and how:
//!
//! - **Parts.** One [`MidiTrack`] per `<score-part>`, in part-list order (the track index is the
//!   position in the part list, as `--section` counts). Its name is the part name, its instrument
//!   name the first score-instrument's, and `first_program` the first midi-instrument's
//!   `midi-program` − 1 (MusicXML counts programs from 1); that program change is also the track's
//!   first event. A part with notes whose names and program name no string instrument (a flute, a
//!   piano) is an error, unless `--section` chooses a section for it. `<part>`s missing from the
//!   part list are ignored. [`SongFormat::Parallel`]; channel 0 everywhere.
//! - **Time.** Positions are counted in `<divisions>` per quarter note (they may change), with
//!   `<backup>` and `<forward>`; a `<chord/>` note starts with the note before it; rests and cue
//!   notes take time but do not sound; grace notes are skipped. A measure lasts as far as its
//!   furthest position. Tempo: `<sound tempo>` (in a direction or directly in the measure) of any
//!   part builds one global tempo map in quarter notes, 120 bpm until the first; a tempo of 0 is
//!   ignored; metronome marks without `<sound tempo>` are not read. Repeats, endings, da capo and
//!   `<offset>` are not applied: the score plays once, as written, top to bottom.
//! - **Pitch.** Step, alter (rounded) and octave, plus the part's `<transpose>` (chromatic and
//!   octave change) so transposing parts sound at concert pitch; notes outside 0..=127 are
//!   dropped. A chain of ties (`<tie>` or `<tied>`) on one key is one note.
//! - **Dynamics.** ppp…fff become CC1 levels ([`LEVELS`]: 16, 30, 46, 60, 74, 90, 106, 120;
//!   pppp and softer 8, ffff and louder 127, mf until the first mark) at the mark's time, and
//!   the velocity of the notes that follow is the CC1 value at their start (so short and
//!   pizzicato notes, which play velocity, follow the dynamics too). fp, sfp, sfpp, sfzp, pf play
//!   the first level for 0.15 s then the second; sf, sfz, sffz, fz, rf, rfz play f (sffz ff) for
//!   0.15 s, then the level before. Hairpins (`<wedge>` crescendo/diminuendo … stop) are a CC1
//!   ramp, a value every 50 ms, from the level at the start to the next dynamics mark at or after
//!   the stop, or one level up (down) when there is none or it goes the other way.
//! - **Articulations.** Staccato, staccatissimo and spiccato make that one note short; a single
//!   tremolo ornament with 3 or more strokes makes it tremolo; `pizzicato="yes"` makes it
//!   pizzicato. `<words>` naming a technique ([`articulation_from_text`]: "pizz.", "arco", "trem.")
//!   set the articulation in force for the notes after it. Each note-on that plays a different
//!   articulation than the one before gets a program change ([`Articulation::default_program`])
//!   just before it. Accent and strong accent: velocity +20 and, for sustained and tremolo notes,
//!   CC1 +16 for 0.1 s at the note's start.
//! - **Slurs.** A note under a slur (from the slur's start to its stop; the note carrying the
//!   stop ends it) ends 30 ms after the next note starts, so the two overlap and the engine plays
//!   them legato; other notes end 10 ms before their written end, so the next one re-attacks.
//! - **Order.** At equal times: note-offs, then program and control changes, then note-ons.
//! - **Bad input.** Text that is neither UTF-8 nor UTF-16 with a byte-order mark, malformed XML or MusicXML, a zero `<divisions>`, a song longer than
//!   [`MAX_SONG_SECONDS`] and a file over [`MAX_FILE_BYTES`] are errors naming the file; nothing
//!   panics.

use std::io::Read;
use std::path::{Path, PathBuf};

use ::musicxml::datatypes::{StartStop, StartStopContinue, Step, TremoloType, WedgeType, YesNo};
use ::musicxml::elements::{
    ArticulationsType, AudibleType, Direction, DirectionTypeContents, DynamicsType, MeasureElement,
    NotationContentTypes, Note, NoteType, OrnamentType, PartElement, PartListElement, ScorePart, Sound,
};

use rosin_core::{Articulation, MidiEvent};

use super::articulations::articulation_from_text;
use super::midi_file::{
    read_limited, LimitedReadError, MidiSong, MidiTrack, SongFormat, TimedEvent, MAX_FILE_BYTES, MAX_SONG_SECONDS,
};
use super::sections::{section_from_name, section_from_program};

/// CC1 levels of ppp, pp, p, mp, mf, f, ff, fff.
pub const LEVELS: [u8; 8] = [16, 30, 46, 60, 74, 90, 106, 120];
const MF: u8 = LEVELS[4];
/// Seconds between CC1 values of a hairpin ramp.
const RAMP_STEP_S: f64 = 0.05;
/// How long sf / fp hold their first level.
const SFORZANDO_S: f64 = 0.15;
/// Accent: velocity added, and CC1 added for [`ACCENT_S`] at the start of a long note.
const ACCENT_VELOCITY: u8 = 20;
const ACCENT_CC: u8 = 16;
const ACCENT_S: f64 = 0.1;
/// A slurred note ends this long after the next one starts.
const LEGATO_OVERLAP_S: f64 = 0.03;
/// Other notes end this long before their written end.
const DETACHED_GAP_S: f64 = 0.01;
const DEFAULT_BPM: f64 = 120.0;

/// A MusicXML score that could not be read, naming the file and the problem.
#[derive(Debug, thiserror::Error)]
pub enum MusicXmlError {
    #[error("could not read MusicXML file {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("MusicXML file {} is {size} bytes; files larger than {limit} bytes are refused", path.display())]
    TooLarge { path: PathBuf, size: u64, limit: u64 },
    #[error("{} is not a usable MusicXML score: {problem}", path.display())]
    Malformed { path: PathBuf, problem: String },
    #[error(
        "{}: part {part} (\"{name}\"): not a string instrument Rosin plays; choose a section for it with \
         --section {track}=<section>",
        path.display()
    )]
    NotStrings { path: PathBuf, part: String, name: String, track: usize },
}

impl MusicXmlError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            MusicXmlError::Io { path, .. }
            | MusicXmlError::TooLarge { path, .. }
            | MusicXmlError::Malformed { path, .. }
            | MusicXmlError::NotStrings { path, .. } => path,
        }
    }
}

/// Whether `path` names a MusicXML score by its extension (`.musicxml`, `.xml`, `.mxl`).
pub fn is_musicxml_path(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| ["musicxml", "xml", "mxl"].iter().any(|x| e.eq_ignore_ascii_case(x)))
}

/// Reads and parses a MusicXML score; files over [`MAX_FILE_BYTES`] are refused before reading.
/// `overrides` are the `--section` choices (track index, section): parts with one are accepted
/// whatever their instrument.
pub fn read_musicxml_file(path: &Path, overrides: &[(usize, String)]) -> Result<MidiSong, MusicXmlError> {
    let bytes = read_limited(path).map_err(|e| match e {
        LimitedReadError::Io(source) => MusicXmlError::Io { path: path.to_path_buf(), source },
        LimitedReadError::TooLarge(size) => {
            MusicXmlError::TooLarge { path: path.to_path_buf(), size, limit: MAX_FILE_BYTES }
        }
    })?;
    parse_musicxml_bytes(&bytes, path, overrides)
}

/// Parses a MusicXML score (plain or `.mxl`) already in memory; `origin` names it in errors.
pub fn parse_musicxml_bytes(
    bytes: &[u8],
    origin: &Path,
    overrides: &[(usize, String)],
) -> Result<MidiSong, MusicXmlError> {
    let malformed = |problem: String| MusicXmlError::Malformed { path: origin.to_path_buf(), problem };
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(MusicXmlError::TooLarge {
            path: origin.to_path_buf(),
            size: bytes.len() as u64,
            limit: MAX_FILE_BYTES,
        });
    }
    if bytes.is_empty() {
        return Err(malformed("the file is empty".into()));
    }
    // The crate indexes into non-UTF-8 text without checking its length, and its zip reader
    // indexes past the end of damaged archives, so `.mxl` archives are unpacked here and text is
    // decoded here (UTF-8, or UTF-16 with a byte-order mark); only checked XML text goes to it.
    let text = if bytes.starts_with(b"PK") { unpack_mxl(bytes).map_err(malformed)? } else { bytes.to_vec() };
    let data = decode_text(&text)
        .ok_or_else(|| malformed("the score is neither UTF-8 nor UTF-16 text (nor a .mxl archive)".into()))?;
    // Belt and braces: a panic inside the reader (say on a damaged archive) is an error, not a crash.
    let read = std::panic::catch_unwind(|| ::musicxml::read_score_data_partwise(data))
        .unwrap_or_else(|_| Err("the MusicXML reader failed on this file".to_string()));
    let score = read.map_err(malformed)?;
    build_song(&score, origin, overrides)
}

/// The score inside a compressed MusicXML (`.mxl`) archive: the root file that
/// `META-INF/container.xml` names, else the first `.musicxml` / `.xml` file outside `META-INF/`.
/// Entries are read up to [`MAX_FILE_BYTES`] (an archive cannot unpack into gigabytes).
fn unpack_mxl(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(damaged)?;
    let rootfile = read_mxl_entry(&mut archive, "META-INF/container.xml").ok().and_then(|c| {
        let c = String::from_utf8_lossy(&c).into_owned();
        let at = c.find("full-path=")? + "full-path=".len();
        let quote = c[at..].chars().next()?;
        let rest = &c[at + quote.len_utf8()..];
        Some(rest[..rest.find(quote)?].to_string())
    });
    let name = match rootfile {
        Some(name) => name,
        None => archive
            .file_names()
            .filter_map(Result::ok)
            .map(|n| n.into_owned())
            .find(|n| !n.starts_with("META-INF/") && (n.ends_with(".musicxml") || n.ends_with(".xml")))
            .ok_or("the .mxl archive holds no .musicxml or .xml score")?,
    };
    read_mxl_entry(&mut archive, &name)
}

fn damaged(e: zip::result::ZipError) -> String {
    format!("the .mxl archive is damaged: {e}")
}

/// One entry of an archive, refused past [`MAX_FILE_BYTES`] unpacked.
fn read_mxl_entry(archive: &mut zip::ZipArchive<std::io::Cursor<&[u8]>>, name: &str) -> Result<Vec<u8>, String> {
    let entry = archive.by_name(name).map_err(damaged)?;
    let mut out = Vec::new();
    entry
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("the .mxl archive is damaged: {name}: {e}"))?;
    if out.len() as u64 > MAX_FILE_BYTES {
        return Err(format!("{name} in the .mxl archive unpacks to more than {MAX_FILE_BYTES} bytes"));
    }
    Ok(out)
}

/// UTF-8 text as is, UTF-16 with a byte-order mark as UTF-8; `None` for anything else.
fn decode_text(bytes: &[u8]) -> Option<Vec<u8>> {
    if std::str::from_utf8(bytes).is_ok() {
        return Some(bytes.to_vec());
    }
    let le = match bytes {
        [0xFF, 0xFE, ..] => true,
        [0xFE, 0xFF, ..] => false,
        _ => return None,
    };
    let units: Vec<u16> = bytes[2..]
        .chunks_exact(2)
        .map(|c| if le { u16::from_le_bytes([c[0], c[1]]) } else { u16::from_be_bytes([c[0], c[1]]) })
        .collect();
    String::from_utf16(&units).ok().map(String::into_bytes)
}

// ---------------------------------------------------------------------------------------------
// Pass 1: each part in quarter notes.

/// A note in quarter notes, before tempo and dynamics.
#[derive(Debug, Clone)]
struct QNote {
    start: f64,
    end: f64,
    key: u8,
    /// The articulation the note itself asks for (staccato, tremolo ornament, pizzicato="yes").
    own: Option<Articulation>,
    /// The articulation in force from technique texts when it starts.
    base: Articulation,
    accent: bool,
    legato: bool,
}

#[derive(Debug, Clone, Copy)]
enum QMark {
    /// A dynamic: the first level at the mark, the second (if any) after [`SFORZANDO_S`];
    /// `restore` returns to the level before after the first.
    Dynamic {
        first: u8,
        then: Option<u8>,
        restore: bool,
    },
    Wedge {
        crescendo: bool,
    },
    WedgeStop,
}

#[derive(Default)]
struct QPart {
    notes: Vec<QNote>,
    marks: Vec<(f64, QMark)>,
}

/// The cursor of one part: `base` quarters plus `offset` divisions (exact within a stretch of
/// one `<divisions>` value).
struct Cursor {
    base: f64,
    offset: i64,
    divisions: u32,
    /// Where the current measure starts and the furthest point reached in it, in quarters.
    measure_start: f64,
    measure_max: f64,
}

impl Cursor {
    fn now(&self) -> f64 {
        self.base + self.offset as f64 / f64::from(self.divisions.max(1))
    }
    /// Moves the offset into `base`, before `divisions` changes.
    fn fold(&mut self) {
        self.base = self.now();
        self.offset = 0;
    }
    fn advance(&mut self, divs: u32) {
        self.offset = self.offset.saturating_add(i64::from(divs));
        self.measure_max = self.measure_max.max(self.now());
    }
    /// `<backup>`: never before the start of the measure.
    fn back(&mut self, divs: u32) {
        self.offset = self.offset.saturating_sub(i64::from(divs));
        if self.now() < self.measure_start {
            self.base = self.measure_start;
            self.offset = 0;
        }
    }
    /// The next measure starts at the furthest point this one reached.
    fn end_measure(&mut self) {
        let end = self.measure_max.max(self.now());
        self.base = end;
        self.offset = 0;
        self.measure_start = end;
        self.measure_max = end;
    }
}

struct PartReader<'a> {
    origin: &'a Path,
    cursor: Cursor,
    have_divisions: bool,
    transpose: i32,
    base: Articulation,
    /// Open slurs by number.
    slurs: Vec<u8>,
    /// Index into `out.notes` of the note an open tie continues, by key.
    open_ties: Vec<(u8, usize)>,
    last_start: f64,
    out: QPart,
    tempos: Vec<(f64, f64)>,
}

fn problem(origin: &Path, p: String) -> MusicXmlError {
    MusicXmlError::Malformed { path: origin.to_path_buf(), problem: p }
}

impl PartReader<'_> {
    fn element(&mut self, part_id: &str, measure: &str, e: &MeasureElement) -> Result<(), MusicXmlError> {
        match e {
            MeasureElement::Attributes(a) => {
                if let Some(d) = &a.content.divisions {
                    let d = d.content.0;
                    if d == 0 {
                        return Err(problem(
                            self.origin,
                            format!("part {part_id}, measure {measure}: <divisions> is 0"),
                        ));
                    }
                    self.cursor.fold();
                    self.cursor.divisions = d;
                    self.have_divisions = true;
                }
                if let Some(t) = a.content.transpose.first() {
                    let oct = t.content.octave_change.as_ref().map_or(0, |o| i32::from(o.content));
                    self.transpose = i32::from(t.content.chromatic.content.0) + 12 * oct;
                }
            }
            MeasureElement::Backup(b) => self.cursor.back(b.content.duration.content.0),
            MeasureElement::Forward(f) => self.cursor.advance(f.content.duration.content.0),
            MeasureElement::Direction(d) => self.direction(d),
            MeasureElement::Sound(s) => self.sound(s),
            MeasureElement::Note(n) => self.note(n, part_id, measure)?,
            _ => {}
        }
        Ok(())
    }

    fn sound(&mut self, s: &Sound) {
        if let Some(t) = &s.attributes.tempo {
            if t.0.is_finite() && t.0 > 0.0 {
                self.tempos.push((self.cursor.now(), t.0));
            }
        }
        if s.attributes.pizzicato == Some(YesNo::Yes) {
            self.base = Articulation::Pizzicato;
        } else if s.attributes.pizzicato == Some(YesNo::No) && self.base == Articulation::Pizzicato {
            self.base = Articulation::Sustain;
        }
    }

    fn direction(&mut self, d: &Direction) {
        let now = self.cursor.now();
        for dt in &d.content.direction_type {
            match &dt.content {
                DirectionTypeContents::Dynamics(list) => {
                    for dy in list {
                        for t in &dy.content {
                            if let Some(mark) = dynamic_mark(t) {
                                self.out.marks.push((now, mark));
                            }
                        }
                    }
                }
                DirectionTypeContents::Wedge(w) => match w.attributes.r#type {
                    WedgeType::Crescendo => self.out.marks.push((now, QMark::Wedge { crescendo: true })),
                    WedgeType::Diminuendo => self.out.marks.push((now, QMark::Wedge { crescendo: false })),
                    WedgeType::Stop => self.out.marks.push((now, QMark::WedgeStop)),
                    WedgeType::Continue => {}
                },
                DirectionTypeContents::Words(words) => {
                    for w in words {
                        if let Some(a) = articulation_from_text(&w.content) {
                            self.base = a;
                        }
                    }
                }
                _ => {}
            }
        }
        if let Some(s) = &d.content.sound {
            self.sound(s);
        }
    }

    fn note(&mut self, n: &Note, part_id: &str, measure: &str) -> Result<(), MusicXmlError> {
        let (chord, audible, duration, ties) = match &n.content.info {
            NoteType::Grace(_) => return Ok(()),
            NoteType::Cue(c) => {
                if c.chord.is_none() {
                    self.last_start = self.cursor.now();
                    self.cursor.advance(c.duration.content.0);
                }
                return Ok(());
            }
            NoteType::Normal(info) => (info.chord.is_some(), &info.audible, info.duration.content.0, &info.tie),
        };
        if !self.have_divisions {
            return Err(problem(
                self.origin,
                format!("part {part_id}, measure {measure}: a note comes before any <divisions>"),
            ));
        }
        let start = if chord { self.last_start } else { self.cursor.now() };
        if !chord {
            self.last_start = start;
            self.cursor.advance(duration);
        }
        let end = start + f64::from(duration) / f64::from(self.cursor.divisions.max(1));

        // Notations: slurs (stops first, then starts), ties, articulations, ornaments.
        let mut tie_start = ties.iter().any(|t| t.attributes.r#type == StartStop::Start);
        let mut tie_stop = ties.iter().any(|t| t.attributes.r#type == StartStop::Stop);
        let mut own = None;
        let mut accent = false;
        let mut slur_stops = Vec::new();
        let mut slur_starts = Vec::new();
        for notations in &n.content.notations {
            for c in &notations.content.notations {
                match c {
                    NotationContentTypes::Tied(t) => match t.attributes.r#type {
                        StartStopContinue::Start => tie_start = true,
                        StartStopContinue::Stop => tie_stop = true,
                        StartStopContinue::Continue => {
                            tie_start = true;
                            tie_stop = true;
                        }
                    },
                    NotationContentTypes::Slur(s) => {
                        let number = s.attributes.number.as_ref().map_or(1, |n| n.0);
                        match s.attributes.r#type {
                            StartStopContinue::Start => slur_starts.push(number),
                            StartStopContinue::Stop => slur_stops.push(number),
                            StartStopContinue::Continue => {}
                        }
                    }
                    NotationContentTypes::Articulations(a) => {
                        for x in &a.content {
                            match x {
                                ArticulationsType::Staccato(_)
                                | ArticulationsType::Staccatissimo(_)
                                | ArticulationsType::Spiccato(_) => own = Some(Articulation::Short),
                                ArticulationsType::Accent(_) | ArticulationsType::StrongAccent(_) => accent = true,
                                _ => {}
                            }
                        }
                    }
                    NotationContentTypes::Ornaments(o) => {
                        for x in &o.content.ornaments {
                            if let OrnamentType::Tremolo(t) = x {
                                let single = matches!(t.attributes.r#type, None | Some(TremoloType::Single));
                                if single && t.content.0 >= 3 && own.is_none() {
                                    own = Some(Articulation::Tremolo);
                                }
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        if own.is_none() && n.attributes.pizzicato == Some(YesNo::Yes) {
            own = Some(Articulation::Pizzicato);
        }
        self.slurs.retain(|s| !slur_stops.contains(s));
        for s in slur_starts {
            if !self.slurs.contains(&s) {
                self.slurs.push(s);
            }
        }
        // A handful of open slurs at most; a file that never closes any must not grow this.
        self.slurs.truncate(16);
        let legato = !self.slurs.is_empty();

        let AudibleType::Pitch(pitch) = audible else {
            return Ok(());
        };
        let step = match pitch.content.step.content {
            Step::C => 0,
            Step::D => 2,
            Step::E => 4,
            Step::F => 5,
            Step::G => 7,
            Step::A => 9,
            Step::B => 11,
        };
        let alter = pitch.content.alter.as_ref().map_or(0, |a| i32::from(a.content.0));
        let key = (i32::from(pitch.content.octave.content.0) + 1) * 12 + step + alter + self.transpose;
        let Ok(key) = u8::try_from(key) else {
            return Ok(());
        };
        if key > 127 {
            return Ok(());
        }

        if tie_stop {
            if let Some(pos) = self.open_ties.iter().position(|(k, _)| *k == key) {
                let (_, idx) = self.open_ties[pos];
                if let Some(prev) = self.out.notes.get_mut(idx) {
                    prev.end = prev.end.max(end);
                    prev.legato = legato;
                }
                if !tie_start {
                    self.open_ties.swap_remove(pos);
                }
                return Ok(());
            }
        }
        self.out.notes.push(QNote { start, end, key, own, base: self.base, accent, legato });
        self.open_ties.retain(|(k, _)| *k != key);
        if tie_start {
            self.open_ties.push((key, self.out.notes.len() - 1));
        }
        Ok(())
    }
}

fn dynamic_mark(t: &DynamicsType) -> Option<QMark> {
    let l = |i: usize| LEVELS[i];
    let plain = |v: u8| Some(QMark::Dynamic { first: v, then: None, restore: false });
    let pair = |a: u8, b: u8| Some(QMark::Dynamic { first: a, then: Some(b), restore: false });
    let sforzando = |a: u8| Some(QMark::Dynamic { first: a, then: None, restore: true });
    match t {
        DynamicsType::Pppppp(_) | DynamicsType::Ppppp(_) | DynamicsType::Pppp(_) => plain(8),
        DynamicsType::Ppp(_) => plain(l(0)),
        DynamicsType::Pp(_) => plain(l(1)),
        DynamicsType::P(_) => plain(l(2)),
        DynamicsType::Mp(_) => plain(l(3)),
        DynamicsType::Mf(_) => plain(l(4)),
        DynamicsType::F(_) => plain(l(5)),
        DynamicsType::Ff(_) => plain(l(6)),
        DynamicsType::Fff(_) => plain(l(7)),
        DynamicsType::Ffff(_) | DynamicsType::Fffff(_) | DynamicsType::Ffffff(_) => plain(127),
        DynamicsType::N(_) => plain(1),
        DynamicsType::Fp(_) => pair(l(5), l(2)),
        DynamicsType::Sfp(_) | DynamicsType::Sfzp(_) => pair(l(5), l(2)),
        DynamicsType::Sfpp(_) => pair(l(5), l(1)),
        DynamicsType::Pf(_) => pair(l(2), l(5)),
        DynamicsType::Sf(_)
        | DynamicsType::Sfz(_)
        | DynamicsType::Fz(_)
        | DynamicsType::Rf(_)
        | DynamicsType::Rfz(_) => sforzando(l(5)),
        DynamicsType::Sffz(_) => sforzando(l(6)),
        DynamicsType::OtherDynamics(_) => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Tempo map.

/// Tempo segments: (start in quarters, start in seconds, seconds per quarter).
struct TempoMap(Vec<(f64, f64, f64)>);

impl TempoMap {
    fn new(mut tempos: Vec<(f64, f64)>) -> TempoMap {
        // Stable: at one position the last (in part order, then document order) wins.
        tempos.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut segs: Vec<(f64, f64, f64)> = vec![(0.0, 0.0, 60.0 / DEFAULT_BPM)];
        for (q, bpm) in tempos {
            let spq = 60.0 / bpm;
            let last = *segs.last().unwrap_or(&(0.0, 0.0, 60.0 / DEFAULT_BPM));
            if q <= last.0 {
                if let Some(l) = segs.last_mut() {
                    l.2 = spq;
                }
            } else {
                segs.push((q, last.1 + (q - last.0) * last.2, spq));
            }
        }
        TempoMap(segs)
    }

    fn seconds(&self, q: f64) -> f64 {
        let i = self.0.partition_point(|s| s.0 <= q).saturating_sub(1);
        let (q0, s0, spq) = self.0.get(i).copied().unwrap_or((0.0, 0.0, 60.0 / DEFAULT_BPM));
        s0 + (q - q0).max(0.0) * spq
    }
}

// ---------------------------------------------------------------------------------------------
// Pass 2: seconds, dynamics curve, events.

fn part_info(sp: &ScorePart) -> (Option<String>, Option<String>, Option<u8>) {
    let clean = |s: &str| {
        let t: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
        (!t.is_empty()).then_some(t)
    };
    let name = clean(&sp.content.part_name.content);
    let instrument = sp.content.score_instrument.first().and_then(|i| clean(&i.content.instrument_name.content));
    let program = sp
        .content
        .midi_instrument
        .iter()
        .find_map(|m| m.content.midi_program.as_ref())
        .map(|p| p.content.0.saturating_sub(1).min(127));
    (name, instrument, program)
}

fn build_song(
    score: &::musicxml::elements::ScorePartwise,
    origin: &Path,
    overrides: &[(usize, String)],
) -> Result<MidiSong, MusicXmlError> {
    let score_parts: Vec<&ScorePart> = score
        .content
        .part_list
        .content
        .content
        .iter()
        .filter_map(|e| match e {
            PartListElement::ScorePart(sp) => Some(sp),
            PartListElement::PartGroup(_) => None,
        })
        .collect();
    if score_parts.is_empty() {
        return Err(problem(origin, "the part list has no parts".into()));
    }

    let mut qparts = Vec::with_capacity(score_parts.len());
    let mut tempos = Vec::new();
    for sp in &score_parts {
        let id = sp.attributes.id.0.as_str();
        let mut reader = PartReader {
            origin,
            cursor: Cursor { base: 0.0, offset: 0, divisions: 1, measure_start: 0.0, measure_max: 0.0 },
            have_divisions: false,
            transpose: 0,
            base: Articulation::Sustain,
            slurs: Vec::new(),
            open_ties: Vec::new(),
            last_start: 0.0,
            out: QPart::default(),
            tempos: Vec::new(),
        };
        if let Some(part) = score.content.part.iter().find(|p| p.attributes.id.0 == id) {
            for pe in &part.content {
                let PartElement::Measure(m) = pe else { continue };
                let number = m.attributes.number.0.as_str();
                for e in &m.content {
                    reader.element(id, number, e)?;
                }
                reader.cursor.end_measure();
                if !reader.cursor.now().is_finite() {
                    return Err(too_long(origin));
                }
            }
        }
        tempos.append(&mut reader.tempos);
        qparts.push(reader.out);
    }
    let tempo = TempoMap::new(tempos);
    // Refuse over-long scores before building any events (hairpin ramps grow with time).
    let last_q = qparts
        .iter()
        .flat_map(|q| q.notes.iter().map(|n| n.end).chain(q.marks.iter().map(|m| m.0)))
        .fold(0.0f64, f64::max);
    let last_s = tempo.seconds(last_q) + SFORZANDO_S + LEGATO_OVERLAP_S;
    if !last_s.is_finite() || last_s > MAX_SONG_SECONDS {
        return Err(too_long(origin));
    }

    let mut tracks = Vec::with_capacity(qparts.len());
    let mut duration_s: f64 = 0.0;
    let mut number = 0;
    for (index, (sp, q)) in score_parts.iter().zip(qparts).enumerate() {
        let (name, instrument_name, program) = part_info(sp);
        // Parts are numbered as users see them: 1, 2, … among the parts that play.
        number += !q.notes.is_empty() as usize;
        let has_override = !q.notes.is_empty() && overrides.iter().any(|(i, _)| *i == number);
        let strings =
            [name.as_deref(), instrument_name.as_deref()].into_iter().flatten().any(|t| section_from_name(t).is_some())
                || program.is_some_and(|p| (40..=51).contains(&p) || section_from_program(p).is_some());
        if !q.notes.is_empty() && !strings && !has_override {
            return Err(MusicXmlError::NotStrings {
                path: origin.to_path_buf(),
                part: sp.attributes.id.0.clone(),
                name: name.clone().or_else(|| instrument_name.clone()).unwrap_or_default(),
                track: number,
            });
        }
        let events = part_events(&q, &tempo, program);
        if let Some(last) = events.last() {
            if !last.time_s.is_finite() || last.time_s > MAX_SONG_SECONDS {
                return Err(too_long(origin));
            }
            duration_s = duration_s.max(last.time_s);
        }
        let note_count =
            events.iter().filter(|e| matches!(e.event, MidiEvent::NoteOn { velocity, .. } if velocity > 0)).count();
        tracks.push(MidiTrack {
            index,
            number: if note_count > 0 { number } else { 0 },
            name,
            instrument_name,
            first_program: program,
            events,
            note_count,
            texts: Vec::new(),
        });
    }
    Ok(MidiSong { tracks, duration_s, format: SongFormat::Parallel, sample_rate: None })
}

fn too_long(origin: &Path) -> MusicXmlError {
    problem(origin, format!("the score lasts longer than {} hours", MAX_SONG_SECONDS / 3600.0))
}

/// One level of [`LEVELS`] up or down from `v` (127 above fff, 8 below ppp).
fn step_level(v: u8, up: bool) -> u8 {
    if up {
        LEVELS.iter().copied().find(|l| *l > v).unwrap_or(127).max(v)
    } else {
        LEVELS.iter().rev().copied().find(|l| *l < v).unwrap_or(8).min(v)
    }
}

/// The CC1 curve: (seconds, value) points, sorted; the value holds until the next point.
struct Curve(Vec<(f64, u8)>);

impl Curve {
    fn at(&self, t: f64) -> u8 {
        let i = self.0.partition_point(|p| p.0 <= t);
        if i == 0 {
            self.0.first().map_or(MF, |p| p.1)
        } else {
            self.0[i - 1].1
        }
    }
}

fn dynamics_curve(q: &QPart, tempo: &TempoMap) -> Curve {
    let mut marks: Vec<(f64, QMark)> = q.marks.iter().map(|(at, m)| (tempo.seconds(*at), *m)).collect();
    marks.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Plain marks as points first; hairpins need the level around them.
    let mut points: Vec<(f64, u8)> = vec![(0.0, MF)];
    let mut level = MF;
    for (t, m) in &marks {
        if let QMark::Dynamic { first, then, restore } = *m {
            points.push((*t, first));
            if let Some(b) = then {
                points.push((t + SFORZANDO_S, b));
                level = b;
            } else if restore {
                points.push((t + SFORZANDO_S, level));
            } else {
                level = first;
            }
        }
    }
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    let plain = Curve(points.clone());
    // Hairpins: a ramp from the level at the start to the next mark at or after the stop.
    let mut open: Option<(f64, bool)> = None;
    let mut ramps = Vec::new();
    for (t, m) in &marks {
        match *m {
            QMark::Wedge { crescendo } => open = Some((*t, crescendo)),
            QMark::WedgeStop => {
                if let Some((t0, up)) = open.take() {
                    ramps.push((t0, *t, up));
                }
            }
            QMark::Dynamic { .. } => {}
        }
    }
    // Ramps are disjoint and in time order; each replaces the plain curve's points inside it.
    points.retain(|p| {
        let i = ramps.partition_point(|r| r.0 < p.0);
        !(i > 0 && p.0 < ramps[i - 1].1)
    });
    for (t0, t1, up) in ramps {
        let from = plain.at(t0);
        let next = marks.iter().find_map(|(t, m)| match *m {
            QMark::Dynamic { first, .. } if *t >= t1 - 1e-9 => Some(first),
            _ => None,
        });
        let to = match next {
            Some(v) if (up && v > from) || (!up && v < from) => v,
            _ => step_level(from, up),
        };
        let len = t1 - t0;
        if !(len > 0.0) {
            continue;
        }
        let steps = ((len / RAMP_STEP_S).ceil() as usize).clamp(1, 1_000_000);
        for s in 1..=steps {
            let t = t0 + len * s as f64 / steps as f64;
            let v = f64::from(from) + (f64::from(to) - f64::from(from)) * s as f64 / steps as f64;
            points.push((t.min(t1), v.round().clamp(0.0, 127.0) as u8));
        }
    }
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    Curve(points)
}

/// A note in seconds, ready for events.
struct SNote {
    on: f64,
    off: f64,
    written_end: f64,
    key: u8,
    art: Articulation,
    accent: bool,
    legato: bool,
}

fn part_events(q: &QPart, tempo: &TempoMap, program: Option<u8>) -> Vec<TimedEvent> {
    let mut notes: Vec<SNote> = q
        .notes
        .iter()
        .map(|n| {
            let on = tempo.seconds(n.start);
            let end = tempo.seconds(n.end).max(on);
            SNote {
                on,
                off: end,
                written_end: end,
                key: n.key,
                art: n.own.unwrap_or(n.base),
                accent: n.accent,
                legato: n.legato,
            }
        })
        .collect();
    notes.sort_by(|a, b| a.on.total_cmp(&b.on));
    // Unisons starting together are one note (the longer).
    let mut deduped: Vec<SNote> = Vec::with_capacity(notes.len());
    for n in notes {
        if let Some(d) = deduped.iter_mut().rev().take_while(|d| d.on == n.on).find(|d| d.key == n.key) {
            d.written_end = d.written_end.max(n.written_end);
            d.off = d.written_end;
            continue;
        }
        deduped.push(n);
    }
    let mut notes = deduped;
    // Ends: slurred notes overlap the next onset; others leave a small gap.
    let onsets: Vec<f64> = notes.iter().map(|n| n.on).collect();
    for n in notes.iter_mut() {
        let next = onsets.get(onsets.partition_point(|t| *t <= n.on)).copied();
        n.off = match next {
            Some(t) if n.legato && t <= n.written_end + 1e-3 => t + LEGATO_OVERLAP_S,
            _ => {
                let len = n.written_end - n.on;
                (n.written_end - DETACHED_GAP_S).max(n.on + len * 0.5)
            }
        };
    }
    // A key never sounds twice: a note ends by the time the next note of its key starts.
    let mut next_on = [f64::INFINITY; 128];
    for n in notes.iter_mut().rev() {
        let k = usize::from(n.key & 0x7f);
        n.off = n.off.min(next_on[k]);
        next_on[k] = n.on;
    }

    let plain = dynamics_curve(q, tempo);
    let mut cc: Vec<(f64, u8)> = plain.0.clone();
    // Accent bumps on long notes.
    for n in notes.iter().filter(|n| n.accent && matches!(n.art, Articulation::Sustain | Articulation::Tremolo)) {
        let (t0, t1) = (n.on, n.on + ACCENT_S);
        let after = plain.at(t1);
        let before = plain.at(t0);
        for p in cc.iter_mut().filter(|p| p.0 > t0 && p.0 < t1) {
            p.1 = p.1.saturating_add(ACCENT_CC).min(127);
        }
        cc.push((t0, before.saturating_add(ACCENT_CC).min(127)));
        cc.push((t1, after));
    }
    // Stable: a bump's start follows the mark at the same time.
    cc.sort_by(|a, b| a.0.total_cmp(&b.0));

    // (time, class, event): class 0 note-off, 1 program/CC, 2 note-on.
    let mut out: Vec<(f64, u8, MidiEvent)> = Vec::with_capacity(notes.len() * 3 + cc.len() + 1);
    let mut current = Articulation::Sustain;
    if let Some(p) = program {
        out.push((0.0, 1, MidiEvent::ProgramChange { program: p }));
        if let Some((_, a)) = Articulation::GM_PROGRAMS.iter().find(|(gp, _)| *gp == p) {
            current = *a;
        }
    }
    let mut last_cc = None;
    for (t, v) in &cc {
        if last_cc != Some(*v) {
            out.push((*t, 1, MidiEvent::ControlChange { cc: 1, value: *v }));
            last_cc = Some(*v);
        }
    }
    for n in &notes {
        if n.art != current {
            out.push((n.on, 1, MidiEvent::ProgramChange { program: n.art.default_program() }));
            current = n.art;
        }
        let mut velocity = plain.at(n.on).max(1);
        if n.accent {
            velocity = velocity.saturating_add(ACCENT_VELOCITY).min(127);
        }
        out.push((n.on, 2, MidiEvent::NoteOn { key: n.key, velocity }));
        out.push((n.off, 0, MidiEvent::NoteOff { key: n.key, velocity: 0 }));
    }
    out.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    out.into_iter()
        .map(|(time_s, _, event)| TimedEvent { time_s: time_s.max(0.0), sample: 0, channel: 0, event })
        .collect()
}
