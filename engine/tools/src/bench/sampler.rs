//! The side-by-side benchmark against a sample player: FluidSynth playing the same notes from the
//! same VSCO2 recordings (MuseScore_General_Full.sf2).
//!
//! Rosin's MIDI speaks keyswitches / CC32 / program changes for articulations and CC1 for dynamics;
//! a General-MIDI sampler does not. So the planned tracks are translated note for note into a
//! plain MIDI file: each track gets its own channel, selects the SoundFont preset that holds the
//! VSCO2 samples of its section and articulation (bank select + program change before each note
//! whose articulation changed), keeps notes, velocities, CC11, CC64 and pitch bend, and sends CC1
//! as channel volume (CC7), the nearest thing a sampler has to a dynamic.
//!
//! FluidSynth's CPU time is measured as the child process's user + system time. Loading a 490 MB
//! SoundFont costs far more than playing it, so the same command is also timed on a copy of the
//! MIDI without notes, and the difference is the cost of rendering. FluidSynth plays the passage
//! [`SAMPLER_REPEATS`] times in one run (it plays the files it is given one after the other), so
//! the difference is well above the run-to-run noise of the start-up.

use std::path::{Path, PathBuf};
use std::process::Command;

use midly::num::{u15, u24, u28, u4, u7};
use midly::{Format, Header, MetaMessage, MidiMessage, Smf, Timing, TrackEvent, TrackEventKind};

use crate::render::TrackPlan;
use rosin_core::articulation::Articulation;
use rosin_core::performance::controllers::{Action, Controllers};
use rosin_core::performance::MidiEvent;

/// MuseScore_General's bank for a section's VSCO2 presets (found by listing the presets).
pub fn vsco_bank(section: &str) -> Option<u8> {
    match section {
        "violins" => Some(20),
        "violas" => Some(30),
        "celli" => Some(40),
        "basses" => Some(50),
        _ => None,
    }
}

/// The program in a section bank that plays an articulation: "Slow" holds the sustain samples
/// alone, "Fast" layers them with the short-bow attack samples, 44 tremolo, 45 pizzicato.
pub fn vsco_program(articulation: Articulation) -> u8 {
    match articulation {
        Articulation::Sustain => 49,
        Articulation::Short => 48,
        Articulation::Tremolo => 44,
        Articulation::Pizzicato => 45,
    }
}

/// 120 bpm at 960 ticks per quarter: one tick is 1/1920 s (0.52 ms).
const TICKS_PER_QUARTER: u16 = 960;
const TICKS_PER_SECOND: f64 = 1920.0;

/// Translates planned tracks (events at `sample_rate`) into a type-1 General-MIDI file for the
/// VSCO2 presets. With `notes == false` the file keeps only the set-up messages, for timing the
/// sampler's start-up alone.
pub fn sampler_midi(plans: &[TrackPlan], sample_rate: u32, notes: bool) -> Result<Vec<u8>, String> {
    let mut tracks: Vec<Vec<TrackEvent<'static>>> = vec![vec![TrackEvent {
        delta: u28::new(0),
        kind: TrackEventKind::Meta(MetaMessage::Tempo(u24::new(500_000))),
    }]];
    // Channel 9 is drums in General MIDI.
    let channels = (0u8..16).filter(|&c| c != 9);
    for (plan, channel) in plans.iter().zip(channels) {
        let bank = vsco_bank(&plan.section).ok_or_else(|| {
            format!("track {} ({}): no VSCO2 preset for section {}", plan.track, plan.name, plan.section)
        })?;
        let ch = u4::new(channel);
        // The track's own settings: its dynamics controller may not be CC1.
        let settings = &plan.settings;
        let mut timed: Vec<(u64, MidiMessage)> =
            vec![(0, MidiMessage::Controller { controller: u7::new(0), value: u7::new(bank) })];
        let mut controllers = Controllers::new(settings);
        let mut program: Option<u8> = None;
        for &(at, ev) in &plan.events {
            let tick = (at as f64 / sample_rate as f64 * TICKS_PER_SECOND).round() as u64;
            match (controllers.handle(ev, settings), ev) {
                (Action::NoteOn { key, velocity, articulation }, _) if notes => {
                    let p = vsco_program(articulation);
                    if program != Some(p) {
                        timed.push((tick, MidiMessage::ProgramChange { program: u7::new(p) }));
                        program = Some(p);
                    }
                    timed.push((tick, MidiMessage::NoteOn { key: u7::new(key), vel: u7::new(velocity.max(1)) }));
                }
                (Action::NoteOff { key }, _) if notes => {
                    timed.push((tick, MidiMessage::NoteOff { key: u7::new(key), vel: u7::new(64) }));
                }
                (_, MidiEvent::ControlChange { cc, value }) if notes => {
                    let to = if cc == settings.cc.dynamic {
                        Some(7)
                    } else if cc == settings.cc.expression || cc == settings.cc.sustain || cc >= 120 {
                        Some(cc)
                    } else {
                        None
                    };
                    if let Some(to) = to {
                        timed.push((tick, MidiMessage::Controller { controller: u7::new(to), value: u7::new(value) }));
                    }
                }
                (_, MidiEvent::PitchBend { value }) if notes => {
                    timed.push((
                        tick,
                        MidiMessage::PitchBend { bend: midly::PitchBend::from_int(value.clamp(-8192, 8191)) },
                    ));
                }
                _ => {}
            }
        }
        if program.is_none() {
            // No notes (or notes == false): still select the preset so the start-up work matches.
            timed.insert(1, (0, MidiMessage::ProgramChange { program: u7::new(vsco_program(Articulation::Sustain)) }));
        }
        let mut events = Vec::with_capacity(timed.len() + 1);
        let mut last = 0u64;
        for (tick, message) in timed {
            let tick = tick.max(last);
            events.push(TrackEvent {
                delta: u28::new((tick - last).min(0x0fff_ffff) as u32),
                kind: TrackEventKind::Midi { channel: ch, message },
            });
            last = tick;
        }
        tracks.push(events);
    }
    for t in &mut tracks {
        t.push(TrackEvent { delta: u28::new(0), kind: TrackEventKind::Meta(MetaMessage::EndOfTrack) });
    }
    let smf = Smf { header: Header::new(Format::Parallel, Timing::Metrical(u15::new(TICKS_PER_QUARTER))), tracks };
    let mut bytes = Vec::new();
    smf.write(&mut bytes).map_err(|e| format!("writing the sampler's MIDI file: {e}"))?;
    Ok(bytes)
}

/// How many times FluidSynth plays the passage in the timed run.
pub const SAMPLER_REPEATS: usize = 10;

/// FluidSynth's cost for one run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SamplerRun {
    /// User + system CPU seconds of the fluidsynth process.
    pub cpu_seconds: f64,
    pub wall_seconds: f64,
    /// Length of the WAV it wrote.
    pub audio_seconds: f64,
}

/// The side-by-side figures.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SamplerComparison {
    pub fluidsynth_version: String,
    pub soundfont: PathBuf,
    pub with_notes: SamplerRun,
    /// The same command on the file without notes: loading the SoundFont and starting up.
    pub start_up_only: SamplerRun,
    /// Times the passage was played in `with_notes`.
    pub repeats: usize,
    /// `(with_notes.cpu_seconds - start_up_only.cpu_seconds) / repeats`: one pass of the passage.
    pub render_cpu_seconds: f64,
    /// Audio of one pass.
    pub render_audio_seconds: f64,
}

/// User + system CPU seconds of all waited-for children of this process.
fn children_cpu_seconds() -> f64 {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct we own.
    if unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) } != 0 {
        return f64::NAN;
    }
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 * 1e-6;
    t(usage.ru_utime) + t(usage.ru_stime)
}

/// Renders `midi` (`repeats` times in a row) with FluidSynth on one core (no reverb, no chorus)
/// into `wav` and measures it.
pub fn run_fluidsynth(
    soundfont: &Path,
    midi: &Path,
    repeats: usize,
    wav: &Path,
    sample_rate: u32,
) -> Result<SamplerRun, String> {
    let cpu0 = children_cpu_seconds();
    let wall = std::time::Instant::now();
    let out = Command::new("fluidsynth")
        .args([
            "-n",
            "-i",
            "-q",
            "-R",
            "0",
            "-C",
            "0",
            "-g",
            "0.5",
            "-o",
            "synth.cpu-cores=1",
            "-T",
            "wav",
            "-O",
            "s16",
        ])
        .arg("-r")
        .arg(sample_rate.to_string())
        .arg("-F")
        .arg(wav)
        .arg(soundfont)
        .args(std::iter::repeat_n(midi, repeats.max(1)))
        .output()
        .map_err(|e| format!("could not run fluidsynth ({e}); `bash scripts/setup.sh` installs it"))?;
    let wall = wall.elapsed().as_secs_f64();
    let cpu = children_cpu_seconds() - cpu0;
    if !out.status.success() {
        return Err(format!(
            "fluidsynth failed on {}: {}",
            midi.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let reader = hound::WavReader::open(wav).map_err(|e| format!("{}: {e}", wav.display()))?;
    let audio_seconds = reader.duration() as f64 / reader.spec().sample_rate as f64;
    Ok(SamplerRun { cpu_seconds: cpu, wall_seconds: wall, audio_seconds })
}

/// `fluidsynth --version`'s first line.
pub fn fluidsynth_version() -> String {
    Command::new("fluidsynth")
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.lines().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

/// Writes both MIDI files into `dir` and times FluidSynth on them.
pub fn compare_with_fluidsynth(
    plans: &[TrackPlan],
    sample_rate: u32,
    soundfont: &Path,
    dir: &Path,
) -> Result<SamplerComparison, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let write = |name: &str, bytes: Vec<u8>| -> Result<PathBuf, String> {
        let p = dir.join(name);
        std::fs::write(&p, bytes).map_err(|e| format!("{}: {e}", p.display()))?;
        Ok(p)
    };
    let full = write("sampler.mid", sampler_midi(plans, sample_rate, true)?)?;
    let empty = write("sampler-no-notes.mid", sampler_midi(plans, sample_rate, false)?)?;
    // Start-up first, so the SoundFont is in the page cache for both runs.
    let _warm = run_fluidsynth(soundfont, &empty, 1, &dir.join("sampler-no-notes.wav"), sample_rate)?;
    let start_up_only = run_fluidsynth(soundfont, &empty, 1, &dir.join("sampler-no-notes.wav"), sample_rate)?;
    let with_notes = run_fluidsynth(soundfont, &full, SAMPLER_REPEATS, &dir.join("sampler.wav"), sample_rate)?;
    Ok(SamplerComparison {
        fluidsynth_version: fluidsynth_version(),
        soundfont: soundfont.to_owned(),
        repeats: SAMPLER_REPEATS,
        render_cpu_seconds: (with_notes.cpu_seconds - start_up_only.cpu_seconds) / SAMPLER_REPEATS as f64,
        render_audio_seconds: with_notes.audio_seconds / SAMPLER_REPEATS as f64,
        with_notes,
        start_up_only,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rosin_core::model::fixture::fixed_spectrum_model;
    use rosin_core::performance::PerformanceSettings;
    use std::sync::Arc;

    #[test]
    fn translation_selects_presets_and_keeps_notes() {
        let model = Arc::new(fixed_spectrum_model(4, 8, 8, 1));
        let s = PerformanceSettings::default();
        let ev = |t: u64, e: MidiEvent| (t, e);
        let plan = TrackPlan::from_events(
            1,
            "Celli",
            "celli",
            model,
            vec![
                ev(0, MidiEvent::NoteOn { key: 15, velocity: 100 }), // keyswitch: pizzicato
                ev(0, MidiEvent::ControlChange { cc: 1, value: 90 }),
                ev(4800, MidiEvent::NoteOn { key: 48, velocity: 80 }),
                ev(9600, MidiEvent::NoteOff { key: 48, velocity: 0 }),
                ev(9600, MidiEvent::ControlChange { cc: 32, value: 1 }), // UACC: sustain
                ev(14400, MidiEvent::NoteOn { key: 50, velocity: 70 }),
                ev(19200, MidiEvent::NoteOff { key: 50, velocity: 0 }),
            ],
            &s,
        );
        let bytes = sampler_midi(&[plan], 48_000, true).unwrap();
        let smf = Smf::parse(&bytes).unwrap();
        let mut seen = Vec::new();
        let mut tick = 0u32;
        for e in &smf.tracks[1] {
            tick += e.delta.as_int();
            if let TrackEventKind::Midi { message, .. } = e.kind {
                seen.push((tick, message));
            }
        }
        let cc = |c: u8, v: u8| MidiMessage::Controller { controller: u7::new(c), value: u7::new(v) };
        let pc = |p: u8| MidiMessage::ProgramChange { program: u7::new(p) };
        assert_eq!(seen[0], (0, cc(0, 40)), "bank select first");
        assert_eq!(seen[1], (0, cc(7, 90)), "CC1 becomes volume");
        assert_eq!(seen[2], (192, pc(45)), "pizzicato preset before the first note (0.1 s = 192 ticks)");
        assert_eq!(seen[3], (192, MidiMessage::NoteOn { key: u7::new(48), vel: u7::new(80) }));
        assert_eq!(seen[4], (384, MidiMessage::NoteOff { key: u7::new(48), vel: u7::new(64) }));
        assert_eq!(seen[5], (576, pc(49)), "sustain preset after the UACC change");
        assert_eq!(seen.len(), 8, "keyswitch notes and CC32 are not sent: {seen:?}");

        let silent = sampler_midi(
            &[TrackPlan::from_events(1, "x", "violins", Arc::new(fixed_spectrum_model(4, 8, 8, 1)), vec![], &s)],
            48_000,
            false,
        )
        .unwrap();
        let smf = Smf::parse(&silent).unwrap();
        let notes = smf.tracks[1]
            .iter()
            .filter(|e| matches!(e.kind, TrackEventKind::Midi { message: MidiMessage::NoteOn { .. }, .. }))
            .count();
        assert_eq!(notes, 0);
    }
}
