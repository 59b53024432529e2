//! Standard MIDI files (SMF) -> timed engine events, for `rosin render`.
//!
//! The file is split into tracks (one stem each); every channel event gets its time in seconds from
//! one tempo map, and [`MidiSong::at_sample_rate`] turns those times into sample positions.
//!
//! What is read, and how:
//!
//! - **Formats.** Type 1 (parallel tracks) is the usual case: one [`MidiTrack`] per track chunk, in
//!   file order, tempo track included. Type 0 (one track) is split into one [`MidiTrack`] per MIDI
//!   channel that has notes, because a type-0 export from a DAW puts every part on its own channel;
//!   channel events on channels without notes are dropped (they would make no sound), and a type-0
//!   file without any notes gives one track holding all of its channel events. A format-0 header
//!   with several track chunks is read like type 1. Type 2 (sequential, each track an independent
//!   pattern) is read with one tempo map *per track* (a track's own tempo events only, 120 bpm
//!   until its first one) and every track starts at 0 s, so each renders as an independent stem.
//! - **Tempo.** Metrical timing: in types 0 and 1 the tempo events of *every* track build one
//!   global tempo map (usually they are all in track 0); 120 bpm (500 000 µs per quarter note)
//!   until the first tempo event; where several tempo events share a tick, the last in file order
//!   (track by track) wins. Times are accumulated exactly in integer tick·µs and converted to
//!   seconds with one division. A tempo of 0 µs per quarter note is meaningless (infinitely fast)
//!   and is an error naming the track and tick. Timecode (SMPTE) timing: a tick is
//!   `1 / (fps × ticks per frame)` seconds (29.97 fps is `30000/1001`), and tempo events are
//!   ignored.
//! - **Events.** Note on/off, control change, program change and pitch bend become
//!   [`MidiEvent`]s through [`MidiEvent::from_bytes`], so a note-on with velocity 0 is a note-off
//!   exactly as in the live path. Text, marker and cue-point meta events are kept as
//!   [`MidiTrack::texts`] (notation programs write playing techniques such as "pizz." in them;
//!   in a split type-0 file every part gets them). Aftertouch, sysex, escapes and other meta
//!   events are ignored. Events after an end-of-track meta
//!   event are ignored. Events keep file order; within a track, events at the same tick stay in the
//!   order the file gives them.
//! - **Names.** The first TrackName / InstrumentName meta event of a track, decoded as UTF-8 where
//!   valid and as Latin-1 otherwise, control characters removed and whitespace trimmed.
//! - **Duration.** [`MidiSong::duration_s`] is the time of the last channel event (usually the last
//!   note-off) of any track; end-of-track markers do not extend it.
//! - **Bad input.** Anything malformed (not a MIDI file, truncated header or chunk, fewer track
//!   chunks than the header declares, an undecodable event, a zero division, a zero tempo, a song
//!   longer than [`MAX_SONG_SECONDS`]) is an `Err` that names the file and the problem; nothing
//!   panics. Files larger than [`MAX_FILE_BYTES`] are refused before they are read. Unknown chunk
//!   types are skipped, as the standard says, and a meta event that midly cannot decode (say an
//!   SMPTE offset with an impossible frame number) is skipped when its length is intact. RMID
//!   (`RIFF`-wrapped) files are unwrapped.

use std::io::Read;
use std::path::{Path, PathBuf};

use midly::{EventIter, MetaMessage, MidiMessage, TrackEventKind};

use rosin_core::performance::MidiEvent;

/// Files larger than this are refused before reading (real MIDI files are kilobytes).
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Songs whose last channel event lies later than this are refused (6 hours): such times come from
/// corrupt delta times far more often than from music, and would make the renderer allocate hours
/// of audio.
pub const MAX_SONG_SECONDS: f64 = 6.0 * 3600.0;

/// Default tempo before the first tempo event: 120 bpm.
const DEFAULT_US_PER_QUARTER: u64 = 500_000;

/// A MIDI file that could not be read, naming the file and the problem.
#[derive(Debug, thiserror::Error)]
pub enum MidiFileError {
    #[error("could not read MIDI file {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "MIDI file {} is {size} bytes; files larger than {limit} bytes are refused",
        path.display()
    )]
    TooLarge { path: PathBuf, size: u64, limit: u64 },
    #[error("{} is not a usable MIDI file: {problem}", path.display())]
    Malformed { path: PathBuf, problem: String },
}

impl MidiFileError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            MidiFileError::Io { path, .. }
            | MidiFileError::TooLarge { path, .. }
            | MidiFileError::Malformed { path, .. } => path,
        }
    }
}

/// The header's format field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SongFormat {
    /// Type 0: one track (split by channel on reading).
    SingleTrack,
    /// Type 1: simultaneous tracks sharing one tempo map.
    Parallel,
    /// Type 2: independent tracks, each with its own tempo map, each starting at 0 s.
    Sequential,
}

/// One channel event with its time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimedEvent {
    /// Seconds from the start of the song.
    pub time_s: f64,
    /// `round(time_s × sample_rate)`; 0 until [`MidiSong::at_sample_rate`] fills it.
    pub sample: u64,
    /// MIDI channel, 0..=15.
    pub channel: u8,
    pub event: MidiEvent,
}

/// A text, marker or cue-point meta event with its time.
#[derive(Debug, Clone, PartialEq)]
pub struct TimedText {
    pub time_s: f64,
    pub text: String,
}

/// One track of the song (for type 0, one channel of the single track).
#[derive(Debug, Clone, PartialEq)]
pub struct MidiTrack {
    /// Position in [`MidiSong::tracks`]: the track chunk's index for types 1 and 2.
    pub index: usize,
    /// The track as users count it: 1, 2, … among the tracks with notes (a type-1 file's tempo
    /// track is not one), 0 for tracks without notes. `--section N=…`, the report and the stem
    /// file names use it.
    pub number: usize,
    /// From the TrackName meta event; for a split type-0 file, that name plus the channel.
    pub name: Option<String>,
    /// From the InstrumentName meta event.
    pub instrument_name: Option<String>,
    /// The program of the first program change in the track, if any.
    pub first_program: Option<u8>,
    /// Channel events in time order (file order within a tick).
    pub events: Vec<TimedEvent>,
    /// Note-ons with a velocity above 0 (keyswitch notes included).
    pub note_count: usize,
    /// Text, marker and cue-point events, in time order.
    pub texts: Vec<TimedText>,
}

impl MidiTrack {
    /// A human-readable label: the track name, else the instrument name, else `Track N` (1-based).
    pub fn display_name(&self) -> String {
        self.name
            .clone()
            .or_else(|| self.instrument_name.clone())
            .unwrap_or_else(|| format!("Track {}", self.number.max(1)))
    }

    /// Whether the track has any notes (tempo and empty tracks have none).
    pub fn has_notes(&self) -> bool {
        self.note_count > 0
    }
}

/// A whole MIDI file, ready to render.
#[derive(Debug, Clone, PartialEq)]
pub struct MidiSong {
    /// All tracks, including ones without channel events (`note_count == 0`), so that indices
    /// match the file; the caller skips what it does not want.
    pub tracks: Vec<MidiTrack>,
    /// Time of the last channel event of any track, in seconds.
    pub duration_s: f64,
    pub format: SongFormat,
    /// The rate the `sample` fields were computed at; `None` until [`MidiSong::at_sample_rate`].
    pub sample_rate: Option<u32>,
}

impl MidiSong {
    /// Fills every event's `sample` with `round(time_s × sample_rate)`. Times never decrease along
    /// a track, so neither do sample positions, and events at one sample keep their file order.
    pub fn at_sample_rate(&mut self, sample_rate: u32) {
        for track in &mut self.tracks {
            for event in &mut track.events {
                event.sample = seconds_to_sample(event.time_s, sample_rate);
            }
        }
        self.sample_rate = Some(sample_rate);
    }

    /// Builder form of [`MidiSong::at_sample_rate`].
    pub fn with_sample_rate(mut self, sample_rate: u32) -> MidiSong {
        self.at_sample_rate(sample_rate);
        self
    }

    /// The sample position of every event, track by track (the same numbers `at_sample_rate`
    /// stores), without modifying the song.
    pub fn event_samples(&self, sample_rate: u32) -> Vec<Vec<u64>> {
        self.tracks
            .iter()
            .map(|t| t.events.iter().map(|e| seconds_to_sample(e.time_s, sample_rate)).collect())
            .collect()
    }

    /// `duration_s` in samples, rounded like event positions.
    pub fn duration_samples(&self, sample_rate: u32) -> u64 {
        seconds_to_sample(self.duration_s, sample_rate)
    }

    /// The tracks that have notes.
    pub fn tracks_with_notes(&self) -> impl Iterator<Item = &MidiTrack> {
        self.tracks.iter().filter(|t| t.has_notes())
    }
}

/// `round(time_s × sample_rate)`, 0 for negative or non-finite input.
pub fn seconds_to_sample(time_s: f64, sample_rate: u32) -> u64 {
    let s = (time_s * sample_rate as f64).round();
    if s.is_finite() && s > 0.0 {
        s as u64
    } else {
        0
    }
}

/// Why [`read_limited`] gave no bytes.
pub(crate) enum LimitedReadError {
    Io(std::io::Error),
    /// The file's size, over [`MAX_FILE_BYTES`].
    TooLarge(u64),
}

/// A score file's bytes; files over [`MAX_FILE_BYTES`] are refused before reading (the MIDI
/// and MusicXML readers share it).
pub(crate) fn read_limited(path: &Path) -> Result<Vec<u8>, LimitedReadError> {
    let file = std::fs::File::open(path).map_err(LimitedReadError::Io)?;
    let size = file.metadata().map_err(LimitedReadError::Io)?.len();
    if size > MAX_FILE_BYTES {
        return Err(LimitedReadError::TooLarge(size));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    // `take` guards against a file that grows between the size check and the read.
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(LimitedReadError::Io)?;
    Ok(bytes)
}

/// Reads and parses a MIDI file; files over [`MAX_FILE_BYTES`] are refused before reading.
pub fn read_midi_file(path: &Path) -> Result<MidiSong, MidiFileError> {
    let bytes = read_limited(path).map_err(|e| match e {
        LimitedReadError::Io(source) => MidiFileError::Io { path: path.to_path_buf(), source },
        LimitedReadError::TooLarge(size) => {
            MidiFileError::TooLarge { path: path.to_path_buf(), size, limit: MAX_FILE_BYTES }
        }
    })?;
    parse_midi_bytes(&bytes, path)
}

/// Parses a MIDI file already in memory; `origin` names it in errors.
pub fn parse_midi_bytes(bytes: &[u8], origin: &Path) -> Result<MidiSong, MidiFileError> {
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(MidiFileError::TooLarge {
            path: origin.to_path_buf(),
            size: bytes.len() as u64,
            limit: MAX_FILE_BYTES,
        });
    }
    parse(bytes).map_err(|problem| MidiFileError::Malformed { path: origin.to_path_buf(), problem: problem.0 })
}

/// A problem description, before the path is attached.
struct Problem(String);

macro_rules! bail {
    ($($arg:tt)*) => {
        return Err(Problem(format!($($arg)*)))
    };
}

fn parse(bytes: &[u8]) -> Result<MidiSong, Problem> {
    if bytes.is_empty() {
        bail!("the file is empty");
    }
    let smf = unwrap_riff(bytes)?;
    let header = read_header(smf)?;
    let chunks = track_chunks(&smf[header.end..], header.track_count)?;

    let mut raw_tracks = Vec::with_capacity(chunks.len());
    for (i, chunk) in chunks.iter().enumerate() {
        raw_tracks.push(read_track(chunk, i)?);
    }

    let format = match header.format {
        0 => SongFormat::SingleTrack,
        1 => SongFormat::Parallel,
        _ => SongFormat::Sequential,
    };

    // Tick -> seconds.
    let clocks: Vec<Clock> = match (header.timing, format) {
        (Timing::Timecode { .. }, _) => vec![Clock::new(header.timing, &[])],
        (Timing::Metrical { .. }, SongFormat::Sequential) => {
            raw_tracks.iter().map(|t| Clock::new(header.timing, &t.tempos)).collect()
        }
        (Timing::Metrical { .. }, _) => {
            // Concatenating track by track, then a stable sort by tick, puts tempo events that
            // share a tick in file order, so the last one wins.
            let mut all: Vec<(u64, u32)> = raw_tracks.iter().flat_map(|t| t.tempos.iter().copied()).collect();
            all.sort_by_key(|&(tick, _)| tick);
            vec![Clock::new(header.timing, &all)]
        }
    };
    let clock_for = |track: usize| &clocks[if clocks.len() == 1 { 0 } else { track }];

    let mut tracks = Vec::new();
    if format == SongFormat::SingleTrack && raw_tracks.len() == 1 {
        let raw = raw_tracks.pop().expect("one track");
        split_by_channel(raw, clock_for(0), &mut tracks)?;
    } else {
        for (i, raw) in raw_tracks.into_iter().enumerate() {
            let events = timed(&raw.events, clock_for(i), i)?;
            let texts = timed_texts(&raw.texts, clock_for(i));
            tracks.push(make_track(tracks.len(), raw.name, raw.instrument_name, events, texts));
        }
    }

    let duration_s = tracks.iter().filter_map(|t| t.events.last().map(|e| e.time_s)).fold(0.0f64, f64::max);
    let mut number = 0;
    for t in tracks.iter_mut().filter(|t| t.has_notes()) {
        number += 1;
        t.number = number;
    }

    Ok(MidiSong { tracks, duration_s, format, sample_rate: None })
}

/// `RIFF....RMID` files carry the SMF in their `data` chunk.
fn unwrap_riff(bytes: &[u8]) -> Result<&[u8], Problem> {
    if !bytes.starts_with(b"RIFF") {
        return Ok(bytes);
    }
    if bytes.len() < 12 || &bytes[8..12] != b"RMID" {
        bail!("RIFF file that is not an RMID (RIFF MIDI) file");
    }
    let mut rest = &bytes[12..];
    while rest.len() >= 8 {
        let len = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]) as usize;
        let body = &rest[8..];
        if &rest[..4] == b"data" {
            if len > body.len() {
                bail!("RMID data chunk declares {len} bytes but only {} remain", body.len());
            }
            return Ok(&body[..len]);
        }
        // Chunks are padded to even sizes.
        let skip = len.saturating_add(len & 1);
        if skip > body.len() {
            break;
        }
        rest = &body[skip..];
    }
    bail!("RMID file without a data chunk")
}

#[derive(Clone, Copy, Debug)]
enum Timing {
    Metrical {
        ticks_per_quarter: u16,
    },
    Timecode {
        /// Seconds per tick = `num / den`.
        num: u64,
        den: u64,
    },
}

struct Header {
    format: u16,
    track_count: u16,
    timing: Timing,
    /// Offset of the first byte after the header chunk.
    end: usize,
}

fn read_header(smf: &[u8]) -> Result<Header, Problem> {
    if smf.len() < 4 || &smf[..4] != b"MThd" {
        bail!("no MThd header: this is not a standard MIDI file");
    }
    if smf.len() < 14 {
        bail!("truncated header: the file ends after {} bytes", smf.len());
    }
    let len = u32::from_be_bytes([smf[4], smf[5], smf[6], smf[7]]) as usize;
    if len < 6 {
        bail!("header chunk is {len} bytes long; at least 6 are needed");
    }
    if len > smf.len() - 8 {
        bail!("truncated header: it declares {len} bytes but only {} remain", smf.len() - 8);
    }
    let format = u16::from_be_bytes([smf[8], smf[9]]);
    let track_count = u16::from_be_bytes([smf[10], smf[11]]);
    let division = u16::from_be_bytes([smf[12], smf[13]]);
    if format > 2 {
        bail!("unknown SMF format {format} (only 0, 1 and 2 exist)");
    }
    if track_count == 0 {
        bail!("the header declares no tracks");
    }
    let timing = if division & 0x8000 == 0 {
        if division == 0 {
            bail!("the header gives 0 ticks per quarter note");
        }
        Timing::Metrical { ticks_per_quarter: division }
    } else {
        let fps = -(((division >> 8) as u8 as i8) as i32);
        let ticks_per_frame = (division & 0xff) as u64;
        if ticks_per_frame == 0 {
            bail!("SMPTE timing with 0 ticks per frame");
        }
        // seconds per tick = 1 / (fps × ticks_per_frame); 29.97 fps = 30000 / 1001.
        let (num, den) = match fps {
            24 | 25 | 30 => (1, fps as u64 * ticks_per_frame),
            29 => (1001, 30000 * ticks_per_frame),
            _ => bail!("SMPTE timing with an invalid frame rate ({fps} fps)"),
        };
        Timing::Timecode { num, den }
    };
    Ok(Header { format, track_count, timing, end: 8 + len })
}

/// The bodies of the first `count` MTrk chunks; other chunk types are skipped.
fn track_chunks(mut rest: &[u8], count: u16) -> Result<Vec<&[u8]>, Problem> {
    let mut chunks = Vec::with_capacity(count as usize);
    while chunks.len() < count as usize {
        if rest.is_empty() {
            bail!("the header declares {count} track(s) but the file holds only {} (truncated?)", chunks.len());
        }
        if rest.len() < 8 {
            bail!("truncated chunk header after track {} ({} stray bytes at the end)", chunks.len(), rest.len());
        }
        let id = &rest[..4];
        let len = u32::from_be_bytes([rest[4], rest[5], rest[6], rest[7]]) as usize;
        let body = &rest[8..];
        if len > body.len() {
            let what = if id == b"MTrk" {
                format!("track {}", chunks.len() + 1)
            } else {
                format!("chunk {:?}", String::from_utf8_lossy(id))
            };
            bail!("truncated {what}: it declares {len} bytes but only {} remain", body.len());
        }
        if id == b"MTrk" {
            chunks.push(&body[..len]);
        } else if id == b"MThd" {
            bail!("a second MThd header where track {} should be", chunks.len() + 1);
        } else if !id.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
            bail!("garbage where track {} should start (bytes {:02x?})", chunks.len() + 1, id);
        }
        rest = &body[len..];
    }
    Ok(chunks)
}

struct RawEvent {
    tick: u64,
    channel: u8,
    event: MidiEvent,
}

struct RawTrack {
    name: Option<String>,
    instrument_name: Option<String>,
    /// (tick, µs per quarter note), in file order.
    tempos: Vec<(u64, u32)>,
    events: Vec<RawEvent>,
    /// (tick, text) of text, marker and cue-point events.
    texts: Vec<(u64, String)>,
}

fn read_track(chunk: &[u8], index: usize) -> Result<RawTrack, Problem> {
    let number = index + 1;
    let mut track =
        RawTrack { name: None, instrument_name: None, tempos: Vec::new(), events: Vec::new(), texts: Vec::new() };
    let mut tick: u64 = 0;
    let mut rest = chunk;
    let mut iter = EventIter::new(rest);
    'events: loop {
        let before = iter.unread();
        let parsed = match iter.next() {
            Some(Ok(ev)) => Some(ev),
            // Non-strict midly ends the iteration on a bad event; strict midly reports it.
            Some(Err(_)) => None,
            None if before.is_empty() => break,
            None => None,
        };
        let Some(ev) = parsed else {
            // Undecodable event at `before`: skip it if it is a meta event with an intact
            // length (midly rejects, e.g., SMPTE offsets with impossible frame numbers).
            let offset = chunk.len() - before.len();
            match skip_meta(before) {
                Some((delta, after)) => {
                    tick += delta as u64;
                    rest = after;
                    iter = EventIter::new(rest);
                    continue 'events;
                }
                None => bail!(
                    "track {number}: malformed or truncated event at byte {offset} of the \
                     track chunk (tick {tick})"
                ),
            }
        };
        tick += ev.delta.as_int() as u64;
        match ev.kind {
            TrackEventKind::Midi { channel, message } => {
                let channel = channel.as_int();
                let status = |nibble: u8| (nibble << 4) | channel;
                let (st, d1, d2) = match message {
                    MidiMessage::NoteOff { key, vel } => (status(0x8), key.as_int(), vel.as_int()),
                    MidiMessage::NoteOn { key, vel } => (status(0x9), key.as_int(), vel.as_int()),
                    MidiMessage::Controller { controller, value } => (status(0xb), controller.as_int(), value.as_int()),
                    MidiMessage::ProgramChange { program } => (status(0xc), program.as_int(), 0),
                    MidiMessage::PitchBend { bend } => {
                        let raw = bend.0.as_int();
                        (status(0xe), (raw & 0x7f) as u8, (raw >> 7) as u8)
                    }
                    MidiMessage::Aftertouch { .. } | MidiMessage::ChannelAftertouch { .. } => continue 'events,
                };
                if let Some(event) = MidiEvent::from_bytes(st, d1, d2) {
                    track.events.push(RawEvent { tick, channel, event });
                }
            }
            TrackEventKind::Meta(meta) => match meta {
                MetaMessage::Tempo(us) => {
                    let us = us.as_int();
                    if us == 0 {
                        bail!("track {number}: a tempo of 0 µs per quarter note at tick {tick}");
                    }
                    track.tempos.push((tick, us));
                }
                // The first non-blank name counts.
                MetaMessage::TrackName(bytes) if track.name.is_none() => {
                    track.name = decode_text(bytes);
                }
                MetaMessage::InstrumentName(bytes) if track.instrument_name.is_none() => {
                    track.instrument_name = decode_text(bytes);
                }
                MetaMessage::Text(bytes) | MetaMessage::Marker(bytes) | MetaMessage::CuePoint(bytes) => {
                    if let Some(text) = decode_text(bytes) {
                        track.texts.push((tick, text));
                    }
                }
                MetaMessage::EndOfTrack => break,
                _ => {}
            },
            TrackEventKind::SysEx(_) | TrackEventKind::Escape(_) => {}
        }
    }
    Ok(track)
}

/// Reads a variable-length quantity (at most 4 bytes).
fn read_varlen(bytes: &[u8]) -> Option<(u32, &[u8])> {
    let mut value = 0u32;
    for (i, &b) in bytes.iter().enumerate().take(4) {
        value = (value << 7) | (b & 0x7f) as u32;
        if b & 0x80 == 0 {
            return Some((value, &bytes[i + 1..]));
        }
    }
    None
}

/// If `bytes` starts with `delta, FF, type, varlen length, data` that fits, returns the delta and
/// what follows the event.
fn skip_meta(bytes: &[u8]) -> Option<(u32, &[u8])> {
    let (delta, rest) = read_varlen(bytes)?;
    if rest.len() < 2 || rest[0] != 0xff {
        return None;
    }
    let (len, data) = read_varlen(&rest[2..])?;
    let len = len as usize;
    (len <= data.len()).then(|| (delta, &data[len..]))
}

/// Track names: UTF-8 where valid, Latin-1 otherwise; control characters removed, trimmed.
fn decode_text(bytes: &[u8]) -> Option<String> {
    let text: String = match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes.iter().map(|&b| b as char).collect(),
    };
    let text: String = text.chars().filter(|c| !c.is_control()).collect();
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// Tick -> seconds, exact up to one final division.
enum Clock {
    Metrical {
        /// µs per tick = `us_per_quarter / ticks_per_quarter`; seconds = tick·µs / (tpq × 1e6).
        denominator: f64,
        /// Piecewise-constant tempo: (start tick, tick·µs accumulated at start, µs per quarter).
        segments: Vec<(u64, u128, u64)>,
    },
    Timecode {
        num: u64,
        den: u64,
    },
}

impl Clock {
    /// `tempos` sorted by tick (stable: the last of equal ticks wins).
    fn new(timing: Timing, tempos: &[(u64, u32)]) -> Clock {
        match timing {
            Timing::Timecode { num, den } => Clock::Timecode { num, den },
            Timing::Metrical { ticks_per_quarter } => {
                let mut segments: Vec<(u64, u128, u64)> = vec![(0, 0, DEFAULT_US_PER_QUARTER)];
                for &(tick, us) in tempos {
                    let &(start, acc, current) = segments.last().expect("non-empty");
                    if tick == start {
                        segments.last_mut().expect("non-empty").2 = us as u64;
                    } else {
                        let acc = acc + (tick - start) as u128 * current as u128;
                        segments.push((tick, acc, us as u64));
                    }
                }
                Clock::Metrical { denominator: ticks_per_quarter as f64 * 1e6, segments }
            }
        }
    }

    fn seconds(&self, tick: u64) -> f64 {
        match self {
            Clock::Timecode { num, den } => (tick as u128 * *num as u128) as f64 / *den as f64,
            Clock::Metrical { denominator, segments } => {
                let i = segments.partition_point(|s| s.0 <= tick) - 1;
                let (start, acc, us) = segments[i];
                let total = acc + (tick - start) as u128 * us as u128;
                total as f64 / denominator
            }
        }
    }
}

fn timed(events: &[RawEvent], clock: &Clock, index: usize) -> Result<Vec<TimedEvent>, Problem> {
    let out: Vec<TimedEvent> = events
        .iter()
        .map(|e| TimedEvent { time_s: clock.seconds(e.tick), sample: 0, channel: e.channel, event: e.event })
        .collect();
    if let Some(last) = out.last() {
        if last.time_s > MAX_SONG_SECONDS {
            bail!(
                "track {}: events at {:.0} s ({:.1} hours); songs longer than {} hours are \
                 refused (corrupt delta times?)",
                index + 1,
                last.time_s,
                last.time_s / 3600.0,
                MAX_SONG_SECONDS / 3600.0
            );
        }
    }
    Ok(out)
}

fn timed_texts(texts: &[(u64, String)], clock: &Clock) -> Vec<TimedText> {
    texts.iter().map(|(tick, text)| TimedText { time_s: clock.seconds(*tick), text: text.clone() }).collect()
}

fn make_track(
    index: usize,
    name: Option<String>,
    instrument_name: Option<String>,
    events: Vec<TimedEvent>,
    texts: Vec<TimedText>,
) -> MidiTrack {
    let first_program = events.iter().find_map(|e| match e.event {
        MidiEvent::ProgramChange { program } => Some(program),
        _ => None,
    });
    let note_count = events.iter().filter(|e| matches!(e.event, MidiEvent::NoteOn { .. })).count();
    MidiTrack { index, number: 0, name, instrument_name, first_program, events, note_count, texts }
}

/// Type 0: one track per channel that has notes (all channel events if no channel has any).
fn split_by_channel(raw: RawTrack, clock: &Clock, out: &mut Vec<MidiTrack>) -> Result<(), Problem> {
    let events = timed(&raw.events, clock, 0)?;
    let texts = timed_texts(&raw.texts, clock);
    let mut has_notes = [false; 16];
    for e in &events {
        if matches!(e.event, MidiEvent::NoteOn { .. }) {
            has_notes[e.channel as usize & 15] = true;
        }
    }
    let channels: Vec<u8> = (0..16u8).filter(|&c| has_notes[c as usize]).collect();
    if channels.len() <= 1 {
        // Nothing to split: keep the track whole (and its name as it is).
        let events = match channels.first() {
            Some(&c) => events.into_iter().filter(|e| e.channel == c).collect(),
            None => events,
        };
        out.push(make_track(0, raw.name, raw.instrument_name, events, texts));
        return Ok(());
    }
    for c in channels {
        let name = match &raw.name {
            Some(n) => format!("{n} (channel {})", c + 1),
            None => format!("Channel {}", c + 1),
        };
        let part = events.iter().filter(|e| e.channel == c).copied().collect();
        out.push(make_track(out.len(), Some(name), raw.instrument_name.clone(), part, texts.clone()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use midly::num::{u15, u24, u28, u4, u7};
    use midly::{Format, Fps, Header, Smf, TrackEvent};

    fn ev(delta: u32, kind: TrackEventKind<'static>) -> TrackEvent<'static> {
        TrackEvent { delta: u28::new(delta), kind }
    }
    fn midi(ch: u8, message: MidiMessage) -> TrackEventKind<'static> {
        TrackEventKind::Midi { channel: u4::new(ch), message }
    }
    fn on(ch: u8, key: u8, vel: u8) -> TrackEventKind<'static> {
        midi(ch, MidiMessage::NoteOn { key: u7::new(key), vel: u7::new(vel) })
    }
    fn off(ch: u8, key: u8) -> TrackEventKind<'static> {
        midi(ch, MidiMessage::NoteOff { key: u7::new(key), vel: u7::new(0) })
    }
    fn cc(ch: u8, controller: u8, value: u8) -> TrackEventKind<'static> {
        midi(ch, MidiMessage::Controller { controller: u7::new(controller), value: u7::new(value) })
    }
    fn tempo(us: u32) -> TrackEventKind<'static> {
        TrackEventKind::Meta(MetaMessage::Tempo(u24::new(us)))
    }
    fn name(n: &'static str) -> TrackEventKind<'static> {
        TrackEventKind::Meta(MetaMessage::TrackName(n.as_bytes()))
    }
    fn eot() -> TrackEventKind<'static> {
        TrackEventKind::Meta(MetaMessage::EndOfTrack)
    }

    fn write(format: Format, timing: midly::Timing, tracks: Vec<Vec<TrackEvent>>) -> Vec<u8> {
        let smf = Smf { header: Header::new(format, timing), tracks };
        let mut bytes = Vec::new();
        smf.write(&mut bytes).expect("write");
        bytes
    }
    fn metrical(tpq: u16) -> midly::Timing {
        midly::Timing::Metrical(u15::new(tpq))
    }
    fn parse_ok(bytes: &[u8]) -> MidiSong {
        parse_midi_bytes(bytes, Path::new("test.mid")).expect("parses")
    }
    fn parse_err(bytes: &[u8]) -> String {
        let err = parse_midi_bytes(bytes, Path::new("bad.mid")).expect_err("must fail");
        let text = err.to_string();
        assert!(text.contains("bad.mid"), "error must name the file: {text}");
        text
    }
    fn times(track: &MidiTrack) -> Vec<f64> {
        track.events.iter().map(|e| e.time_s).collect()
    }

    /// Type 1, tempo track + two instrument tracks, tempo change mid-song.
    fn two_track_song() -> Vec<u8> {
        let tempo_track = vec![
            ev(0, name("Tempo")),
            ev(0, tempo(500_000)),     // 120 bpm: 480 ticks = 0.5 s
            ev(960, tempo(1_000_000)), // 60 bpm from tick 960 (1.0 s): 480 ticks = 1 s
            ev(960, tempo(250_000)),   // 240 bpm from tick 1920 (3.0 s)
            ev(0, eot()),
        ];
        let violins = vec![
            ev(0, name("Violins")),
            ev(0, TrackEventKind::Meta(MetaMessage::InstrumentName(b"Violin section"))),
            ev(0, midi(0, MidiMessage::ProgramChange { program: u7::new(40) })),
            ev(0, cc(0, 1, 64)),
            ev(0, on(0, 62, 100)),
            ev(480, off(0, 62)),
            ev(0, on(0, 64, 90)),
            ev(480, on(0, 64, 0)), // velocity-0 note-on: a note-off
            ev(480, on(0, 65, 80)),
            ev(480, off(0, 65)),
            ev(480, on(0, 67, 80)),
            ev(480, off(0, 67)), // tick 2880: 3.0 + 960/480 × 0.25 = 3.5 s
            ev(0, eot()),
        ];
        let celli = vec![
            ev(0, name("Celli")),
            ev(0, midi(1, MidiMessage::ProgramChange { program: u7::new(42) })),
            ev(0, midi(1, MidiMessage::ProgramChange { program: u7::new(7) })),
            ev(1440, on(1, 50, 70)), // 2.0 s
            ev(240, off(1, 50)),     // tick 1680: 2.5 s
            ev(0, eot()),
        ];
        write(Format::Parallel, metrical(480), vec![tempo_track, violins, celli])
    }

    #[test]
    fn type1_tempo_changes_give_exact_seconds() {
        let song = parse_ok(&two_track_song());
        assert_eq!(song.format, SongFormat::Parallel);
        assert_eq!(song.tracks.len(), 3);
        let t0 = &song.tracks[0];
        assert_eq!(t0.name.as_deref(), Some("Tempo"));
        assert_eq!(t0.note_count, 0);
        assert!(t0.events.is_empty());
        assert!(!t0.has_notes());

        let vln = &song.tracks[1];
        assert_eq!(vln.index, 1);
        assert_eq!(vln.name.as_deref(), Some("Violins"));
        assert_eq!(vln.instrument_name.as_deref(), Some("Violin section"));
        assert_eq!(vln.first_program, Some(40));
        assert_eq!(vln.note_count, 4);
        assert_eq!(times(vln), vec![0.0, 0.0, 0.0, 0.5, 0.5, 1.0, 2.0, 3.0, 3.25, 3.5]);
        let vc = &song.tracks[2];
        assert_eq!(vc.first_program, Some(42));
        assert_eq!(vc.note_count, 1);
        assert_eq!(times(vc), vec![0.0, 0.0, 2.0, 2.5]);
        assert_eq!(song.duration_s, 3.5);
        assert_eq!(song.tracks_with_notes().count(), 2);
        assert_eq!(song.sample_rate, None);
    }

    #[test]
    fn velocity_zero_note_on_is_note_off() {
        let song = parse_ok(&two_track_song());
        let vln = &song.tracks[1];
        assert_eq!(vln.events[5].event, MidiEvent::NoteOff { key: 64, velocity: 64 });
        assert_eq!(vln.events[5].time_s, 1.0);
        assert_eq!(vln.events[3].event, MidiEvent::NoteOff { key: 62, velocity: 0 });
        assert_eq!(vln.events[2].event, MidiEvent::NoteOn { key: 62, velocity: 100 });
        assert_eq!(vln.events[1].event, MidiEvent::ControlChange { cc: 1, value: 64 });
        assert_eq!(vln.events[0].event, MidiEvent::ProgramChange { program: 40 });
    }

    #[test]
    fn tempo_in_any_track_is_global_in_type1() {
        // The tempo change sits in the second track; the first track's events follow it.
        let a = vec![ev(0, on(0, 60, 100)), ev(960, off(0, 60)), ev(960, on(0, 62, 100)), ev(0, eot())];
        let b = vec![ev(960, tempo(1_000_000)), ev(0, eot())];
        let song = parse_ok(&write(Format::Parallel, metrical(96), vec![a, b]));
        // 96 tpq, 120 bpm: 960 ticks = 5 s; then 60 bpm: 960 ticks = 10 s.
        assert_eq!(times(&song.tracks[0]), vec![0.0, 5.0, 15.0]);
        assert_eq!(song.tracks[1].events.len(), 0);
        assert_eq!(song.duration_s, 15.0);
    }

    #[test]
    fn same_tick_tempos_last_wins_and_odd_values_are_exact() {
        let a = vec![
            ev(0, tempo(400_000)),
            ev(0, tempo(600_000)), // wins at tick 0
            ev(1000, on(0, 60, 1)),
            ev(0, eot()),
        ];
        let b = vec![ev(1000, tempo(700_001)), ev(777, off(0, 60)), ev(0, eot())];
        let song = parse_ok(&write(Format::Parallel, metrical(1000), vec![a, b]));
        assert_eq!(song.tracks[0].events[0].time_s, 0.6);
        let expect = (1000.0 * 600_000.0 + 777.0 * 700_001.0) / 1e9;
        assert_eq!(song.tracks[1].events[0].time_s, expect);
    }

    #[test]
    fn events_at_one_tick_keep_file_order() {
        let t = vec![
            ev(10, on(0, 60, 100)),
            ev(100, cc(0, 64, 127)),
            ev(0, off(0, 60)),
            ev(0, on(0, 60, 90)),
            ev(0, cc(0, 1, 10)),
            ev(0, off(0, 60)),
            ev(0, eot()),
        ];
        let song = parse_ok(&write(Format::Parallel, metrical(480), vec![t]));
        let kinds: Vec<MidiEvent> = song.tracks[0].events.iter().map(|e| e.event).collect();
        assert_eq!(
            kinds,
            vec![
                MidiEvent::NoteOn { key: 60, velocity: 100 },
                MidiEvent::ControlChange { cc: 64, value: 127 },
                MidiEvent::NoteOff { key: 60, velocity: 0 },
                MidiEvent::NoteOn { key: 60, velocity: 90 },
                MidiEvent::ControlChange { cc: 1, value: 10 },
                MidiEvent::NoteOff { key: 60, velocity: 0 },
            ]
        );
        let song = song.with_sample_rate(48_000);
        let samples: Vec<u64> = song.tracks[0].events.iter().map(|e| e.sample).collect();
        // 480 tpq at 120 bpm: 1/960 s per tick = 50 samples per tick at 48 kHz.
        assert_eq!(samples, vec![500, 5500, 5500, 5500, 5500, 5500]);
        assert_eq!(song.event_samples(48_000)[0], samples);
        assert_eq!(song.sample_rate, Some(48_000));
        assert_eq!(song.duration_samples(48_000), 5500);
        // 44.1 kHz: 45.9375 samples per tick; 110 ticks = 5053.125 -> 5053.
        assert_eq!(song.event_samples(44_100)[0][1], 5053);
    }

    #[test]
    fn type0_is_split_by_channel() {
        let t = vec![
            ev(0, name("Song")),
            ev(0, midi(0, MidiMessage::ProgramChange { program: u7::new(40) })),
            ev(0, midi(9, MidiMessage::ProgramChange { program: u7::new(3) })),
            ev(0, cc(5, 7, 100)), // channel 6 has no notes: dropped
            ev(0, on(9, 36, 100)),
            ev(0, on(0, 60, 100)),
            ev(240, midi(0, MidiMessage::PitchBend { bend: midly::PitchBend::from_int(-8192) })),
            ev(0, midi(0, MidiMessage::PitchBend { bend: midly::PitchBend::from_int(8191) })),
            ev(0, midi(0, MidiMessage::Aftertouch { key: u7::new(60), vel: u7::new(3) })),
            ev(0, midi(0, MidiMessage::ChannelAftertouch { vel: u7::new(3) })),
            ev(0, TrackEventKind::SysEx(&[0x7e, 0x7f, 0x09, 0x01, 0xf7])),
            ev(240, off(9, 36)),
            ev(0, off(0, 60)),
            ev(0, eot()),
        ];
        let song = parse_ok(&write(Format::SingleTrack, metrical(480), vec![t]));
        assert_eq!(song.format, SongFormat::SingleTrack);
        assert_eq!(song.tracks.len(), 2);
        let a = &song.tracks[0];
        let b = &song.tracks[1];
        assert_eq!((a.index, b.index), (0, 1));
        assert_eq!(a.name.as_deref(), Some("Song (channel 1)"));
        assert_eq!(b.name.as_deref(), Some("Song (channel 10)"));
        assert_eq!(a.first_program, Some(40));
        assert_eq!(b.first_program, Some(3));
        assert!(a.events.iter().all(|e| e.channel == 0));
        assert!(b.events.iter().all(|e| e.channel == 9));
        assert_eq!(
            a.events.iter().map(|e| e.event).collect::<Vec<_>>(),
            vec![
                MidiEvent::ProgramChange { program: 40 },
                MidiEvent::NoteOn { key: 60, velocity: 100 },
                MidiEvent::PitchBend { value: -8192 },
                MidiEvent::PitchBend { value: 8191 },
                MidiEvent::NoteOff { key: 60, velocity: 0 },
            ]
        );
        assert_eq!(times(a), vec![0.0, 0.0, 0.25, 0.25, 0.5]);
        assert_eq!(b.note_count, 1);
        assert_eq!(song.duration_s, 0.5);
    }

    #[test]
    fn type0_single_channel_keeps_name_and_no_notes_keeps_events() {
        let t = vec![ev(0, name("Solo")), ev(0, cc(3, 1, 5)), ev(0, on(3, 60, 100)), ev(10, off(3, 60)), ev(0, eot())];
        let song = parse_ok(&write(Format::SingleTrack, metrical(480), vec![t]));
        assert_eq!(song.tracks.len(), 1);
        assert_eq!(song.tracks[0].name.as_deref(), Some("Solo"));
        assert_eq!(song.tracks[0].events.len(), 3);

        let t = vec![ev(0, cc(3, 1, 5)), ev(10, cc(4, 1, 6)), ev(0, eot())];
        let song = parse_ok(&write(Format::SingleTrack, metrical(480), vec![t]));
        assert_eq!(song.tracks.len(), 1);
        assert_eq!(song.tracks[0].note_count, 0);
        assert_eq!(song.tracks[0].events.len(), 2);
        assert_eq!(song.tracks[0].display_name(), "Track 1");
    }

    #[test]
    fn format0_header_with_several_tracks_reads_like_type1() {
        let a = vec![ev(0, name("A")), ev(0, on(0, 60, 100)), ev(0, cc(1, 1, 1)), ev(0, eot())];
        let b = vec![ev(0, name("B")), ev(480, on(1, 62, 100)), ev(0, eot())];
        let song = parse_ok(&write(Format::SingleTrack, metrical(480), vec![a, b]));
        assert_eq!(song.format, SongFormat::SingleTrack);
        assert_eq!(song.tracks.len(), 2);
        assert_eq!(song.tracks[0].name.as_deref(), Some("A"));
        assert_eq!(song.tracks[0].events.len(), 2);
        assert_eq!(times(&song.tracks[1]), vec![0.5]);
    }

    #[test]
    fn smpte_timing() {
        // 25 fps × 40 ticks per frame = 1000 ticks per second; tempo events are ignored.
        let t = vec![ev(0, tempo(1_000_000)), ev(1500, on(0, 60, 100)), ev(250, off(0, 60)), ev(0, eot())];
        let bytes = write(Format::Parallel, midly::Timing::Timecode(Fps::Fps25, 40), vec![t.clone()]);
        let song = parse_ok(&bytes);
        assert_eq!(times(&song.tracks[0]), vec![1.5, 1.75]);
        assert_eq!(song.duration_s, 1.75);

        // 29.97 fps drop-frame rate: 30000/1001 frames per second, 100 ticks per frame.
        let bytes = write(Format::Parallel, midly::Timing::Timecode(Fps::Fps29, 100), vec![t]);
        let song = parse_ok(&bytes);
        let expect = 1500.0 * 1001.0 / 3_000_000.0;
        assert_eq!(song.tracks[0].events[0].time_s, expect);
    }

    #[test]
    fn type2_tracks_are_independent() {
        let a = vec![ev(0, tempo(1_000_000)), ev(480, on(0, 60, 100)), ev(0, eot())];
        let b = vec![ev(480, on(0, 62, 100)), ev(480, tempo(250_000)), ev(480, off(0, 62))];
        let song = parse_ok(&write(Format::Sequential, metrical(480), vec![a, b]));
        assert_eq!(song.format, SongFormat::Sequential);
        assert_eq!(times(&song.tracks[0]), vec![1.0]); // 60 bpm, its own tempo
        assert_eq!(times(&song.tracks[1]), vec![0.5, 1.25]); // 120 bpm, then 240 bpm
        assert_eq!(song.duration_s, 1.25);
    }

    #[test]
    fn names_are_decoded_leniently() {
        let t = vec![
            ev(0, TrackEventKind::Meta(MetaMessage::TrackName(b"  Viol\xf3n\0 \n"))),
            ev(0, TrackEventKind::Meta(MetaMessage::TrackName(b"second"))),
            ev(0, TrackEventKind::Meta(MetaMessage::InstrumentName(b"   "))),
            ev(0, TrackEventKind::Meta(MetaMessage::InstrumentName("Celli ♪".as_bytes()))),
            ev(0, eot()),
        ];
        let song = parse_ok(&write(Format::Parallel, metrical(480), vec![t]));
        assert_eq!(song.tracks[0].name.as_deref(), Some("Violón"));
        assert_eq!(song.tracks[0].instrument_name.as_deref(), Some("Celli ♪"));
        assert_eq!(song.duration_s, 0.0);
    }

    #[test]
    fn events_after_end_of_track_and_unknown_chunks_are_ignored() {
        let t = vec![ev(0, on(0, 60, 100)), ev(10, eot()), ev(10, off(0, 60))];
        let mut bytes = write(Format::Parallel, metrical(480), vec![t]);
        // Insert an unknown chunk between the header and the track.
        let junk = b"XYZW\x00\x00\x00\x03abc";
        bytes.splice(14..14, junk.iter().copied());
        let song = parse_ok(&bytes);
        assert_eq!(song.tracks[0].events.len(), 1);
    }

    #[test]
    fn rmid_wrapped_file() {
        let smf = two_track_song();
        let mut riff = Vec::new();
        riff.extend_from_slice(b"RIFF");
        riff.extend_from_slice(&((smf.len() + 12) as u32).to_le_bytes());
        riff.extend_from_slice(b"RMID");
        riff.extend_from_slice(b"data");
        riff.extend_from_slice(&(smf.len() as u32).to_le_bytes());
        riff.extend_from_slice(&smf);
        assert_eq!(parse_ok(&riff), parse_ok(&smf));
    }

    #[test]
    fn undecodable_meta_event_is_skipped() {
        // A SMPTE offset with frame 99 (impossible at 25 fps) that midly rejects.
        let mut track = vec![0x00, 0x90, 60, 100];
        track.extend_from_slice(&[0x00, 0xff, 0x54, 0x05, 0x20, 0, 0, 99, 0]);
        track.extend_from_slice(&[0x60, 0x80, 60, 0, 0x00, 0xff, 0x2f, 0x00]);
        let song = parse_ok(&raw_file(0, 1, 480, &[&track]));
        assert_eq!(times(&song.tracks[0]), vec![0.0, 0.1]);
    }

    /// Builds a file by hand (for inputs midly's writer would not produce).
    fn raw_file(format: u16, ntracks: u16, division: u16, tracks: &[&[u8]]) -> Vec<u8> {
        let mut b = b"MThd\x00\x00\x00\x06".to_vec();
        b.extend_from_slice(&format.to_be_bytes());
        b.extend_from_slice(&ntracks.to_be_bytes());
        b.extend_from_slice(&division.to_be_bytes());
        for t in tracks {
            b.extend_from_slice(b"MTrk");
            b.extend_from_slice(&(t.len() as u32).to_be_bytes());
            b.extend_from_slice(t);
        }
        b
    }

    #[test]
    fn bad_input_is_an_error_naming_the_file() {
        assert!(parse_err(b"").contains("empty"));
        let mut x: u32 = 12345;
        let noise: Vec<u8> = (0..1000)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (x >> 16) as u8
            })
            .collect();
        assert!(parse_err(&noise).contains("not a standard MIDI file"));
        let good = two_track_song();
        assert!(parse_err(&good[..10]).contains("truncated header"));
        assert!(parse_err(&good[..14]).contains("declares 3 track(s)"));
        // Cut in the middle of the second track chunk.
        let cut = parse_err(&good[..good.len() - 40]);
        assert!(cut.contains("truncated"), "{cut}");
        // Every truncation of a good file fails cleanly (or, at a chunk boundary... never passes).
        for n in 0..good.len() {
            parse_err(&good[..n]);
        }
        assert!(parse_err(b"RIFF\x04\x00\x00\x00WAVE").contains("RMID"));
        assert!(parse_err(&raw_file(3, 1, 480, &[b"\x00\xff\x2f\x00"])).contains("format 3"));
        assert!(parse_err(&raw_file(1, 0, 480, &[])).contains("no tracks"));
        assert!(parse_err(&raw_file(1, 1, 0, &[b"\x00\xff\x2f\x00"])).contains("0 ticks"));
        assert!(parse_err(&raw_file(1, 1, 0xe700, &[b"\x00\xff\x2f\x00"])).contains("per frame"));
        assert!(parse_err(&raw_file(1, 1, 0xe628, &[b"\x00\xff\x2f\x00"])).contains("fps"));
        assert!(parse_err(&raw_file(1, 1, 0x8028, &[b"\x00\xff\x2f\x00"])).contains("fps"));
        // Zero tempo.
        let zero = parse_err(&raw_file(1, 1, 480, &[b"\x00\xff\x51\x03\x00\x00\x00\x00\xff\x2f\x00"]));
        assert!(zero.contains("tempo of 0"), "{zero}");
        // A data byte with the top bit set where a note's velocity should be.
        let bad = parse_err(&raw_file(1, 1, 480, &[b"\x00\x90\x3c\xff\x00\xff\x2f\x00"]));
        assert!(bad.contains("malformed or truncated event at byte 0"), "{bad}");
        // An event cut off at the end of a chunk whose length is consistent.
        let bad = parse_err(&raw_file(1, 1, 480, &[b"\x00\x90\x3c\x40\x10\x90\x3c"]));
        assert!(bad.contains("track 1: malformed"), "{bad}");
        // Running status with nothing to run on; system real-time bytes.
        parse_err(&raw_file(1, 1, 480, &[b"\x00\x3c\x40"]));
        parse_err(&raw_file(1, 1, 480, &[b"\x00\xf8"]));
        // Absurd delta times.
        let long = parse_err(&raw_file(1, 1, 1, &[b"\x00\xff\x51\x03\xff\xff\xff\xff\xff\xff\x7f\x90\x3c\x40"]));
        assert!(long.contains("hours"), "{long}");
    }

    #[test]
    fn fuzzed_bytes_never_panic() {
        let good = two_track_song();
        let mut rng = rosin_core::rng::XorShift64::new(0x9e37_79b9_7f4a_7c15);
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..5000 {
            let mut b = good.clone();
            for _ in 0..1 + (x % 4) {
                x = rng.next_u64();
                let i = (x as usize) % b.len();
                b[i] = (x >> 32) as u8;
            }
            let _ = parse_midi_bytes(&b, Path::new("fuzz.mid"));
        }
    }

    /// The README's demo (`demo/strings-demo.mid` at the workspace root), when this module sits
    /// in a crate one level below it; skipped elsewhere.
    #[test]
    fn demo_file_if_present() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../demo/strings-demo.mid");
        if !path.exists() {
            return;
        }
        let song = read_midi_file(&path).expect("the demo parses");
        assert_eq!(song.format, SongFormat::Parallel);
        assert_eq!(song.tracks.len(), 5);
        assert_eq!(song.tracks_with_notes().count(), 4);
        assert!((30.0..=40.0).contains(&song.duration_s));
        let names: Vec<String> = song.tracks[1..].iter().map(|t| t.display_name()).collect();
        assert_eq!(names, ["Violins", "Violas", "Celli", "Basses"]);
        for track in &song.tracks[1..] {
            let keyswitches: Vec<u8> = track
                .events
                .iter()
                .filter_map(|e| match e.event {
                    MidiEvent::NoteOn { key, .. } if (12..=15).contains(&key) => Some(key),
                    _ => None,
                })
                .collect();
            assert_eq!(keyswitches, [12, 13, 14, 15, 12], "{}", track.display_name());
        }
    }

    #[test]
    fn file_errors_name_the_file() {
        let dir = std::env::temp_dir().join(format!("rosin-midi-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("missing.mid");
        let err = read_midi_file(&missing).unwrap_err();
        assert!(matches!(err, MidiFileError::Io { .. }));
        assert!(err.to_string().contains("missing.mid"));
        assert_eq!(err.path(), missing.as_path());

        let big = dir.join("big.mid");
        let f = std::fs::File::create(&big).unwrap();
        f.set_len(MAX_FILE_BYTES + 1).unwrap(); // sparse
        let err = read_midi_file(&big).unwrap_err();
        assert!(matches!(err, MidiFileError::TooLarge { .. }), "{err}");
        assert!(err.to_string().contains("big.mid"));

        let good = dir.join("good.mid");
        std::fs::write(&good, two_track_song()).unwrap();
        assert_eq!(read_midi_file(&good).unwrap(), parse_ok(&two_track_song()));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
