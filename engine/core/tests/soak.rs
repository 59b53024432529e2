//! Soak: a long randomised MIDI storm through the engine with the shipped models.
//!
//! Phases repeat in a cycle: every voice busy (plus stealing), CC floods, articulation storms
//! (keyswitches, UACC, program changes), extreme bends, and the sustain pedal held down through
//! a long stretch of notes; the model is hot-swapped between sections now and then, and the
//! voice mode alternates between poly and mono legato. Checked on every block: output finite
//! and within the engine's limit, no allocation or deallocation, never more voices than slots.
//! At the end, after all notes off and the pedal up, every voice must free itself within the
//! release time and the output must fall to exact silence (no voice leaks).
//!
//! CI runs 60 s of audio per mode. The long soak is a documented command:
//!   ROSIN_SOAK_SECONDS=3600 cargo test --release -p rosin-core --test soak -- --nocapture
//! (an hour of storm per voice mode; the cycle stretches with the length, so the pedal is held
//! for minutes). It prints CPU time per block (mean, 99th percentile, maximum) as a report, not
//! as a pass/fail figure: timing assertions flake on shared machines.

use rosin_core::library::Library;
use rosin_core::synth::PreparedModel;
use rosin_core::{MidiEvent, PerformanceSettings, Synth, VoiceMode};
use rosin_testkit::alloc_count::{counted, CountingAllocator};
use rosin_tools::bench::thread_cpu_seconds;

#[global_allocator]
static A: CountingAllocator = CountingAllocator;

/// xorshift64*: the storm is the same on every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    AllVoices,
    CcFlood,
    ArticulationStorm,
    ExtremeBends,
    PedalHeld,
}
const PHASES: [Phase; 5] =
    [Phase::AllVoices, Phase::CcFlood, Phase::ArticulationStorm, Phase::ExtremeBends, Phase::PedalHeld];

/// Up to `out.len()` events for one block of `len` samples, sorted by offset. No allocation.
fn block_events(rng: &mut Rng, phase: Phase, len: usize, out: &mut [(usize, MidiEvent); 64]) -> usize {
    let mut n = 0;
    let mut push = |at: usize, ev: MidiEvent, n: &mut usize| {
        if *n < out.len() {
            out[*n] = (at, ev);
            *n += 1;
        }
    };
    let note = |rng: &mut Rng| 24 + rng.below(84) as u8;
    let wanted = match phase {
        Phase::AllVoices => 12,
        Phase::CcFlood => 48,
        Phase::ArticulationStorm => 16,
        Phase::ExtremeBends => 16,
        Phase::PedalHeld => 8,
    };
    for _ in 0..rng.below(wanted + 1) {
        let at = rng.below(len as u64) as usize;
        let r = rng.below(100);
        let ev = match phase {
            Phase::AllVoices => match r {
                0..=59 => MidiEvent::NoteOn { key: note(rng), velocity: 1 + rng.below(127) as u8 },
                _ => MidiEvent::NoteOff { key: note(rng), velocity: 0 },
            },
            Phase::CcFlood => match r {
                0..=4 => MidiEvent::NoteOn { key: note(rng), velocity: 100 },
                5..=9 => MidiEvent::NoteOff { key: note(rng), velocity: 0 },
                _ => MidiEvent::ControlChange {
                    cc: [1, 11, 20, 21, 7, 10, 74][rng.below(7) as usize],
                    value: rng.below(128) as u8,
                },
            },
            Phase::ArticulationStorm => match r {
                0..=24 => MidiEvent::NoteOn { key: 12 + rng.below(4) as u8, velocity: 100 },
                25..=44 => MidiEvent::ControlChange { cc: 32, value: [1, 40, 11, 56, 0, 127][rng.below(6) as usize] },
                45..=59 => MidiEvent::ProgramChange { program: rng.below(8) as u8 },
                60..=84 => MidiEvent::NoteOn { key: note(rng), velocity: 1 + rng.below(127) as u8 },
                _ => MidiEvent::NoteOff { key: note(rng), velocity: 0 },
            },
            Phase::ExtremeBends => match r {
                0..=59 => MidiEvent::PitchBend { value: if rng.below(2) == 0 { -8192 } else { 8191 } },
                60..=79 => MidiEvent::NoteOn { key: note(rng), velocity: 90 },
                _ => MidiEvent::NoteOff { key: note(rng), velocity: 0 },
            },
            Phase::PedalHeld => match r {
                0..=54 => MidiEvent::NoteOn { key: note(rng), velocity: 1 + rng.below(127) as u8 },
                _ => MidiEvent::NoteOff { key: note(rng), velocity: 0 },
            },
        };
        push(at, ev, &mut n);
    }
    if phase == Phase::PedalHeld {
        push(0, MidiEvent::ControlChange { cc: 64, value: 127 }, &mut n);
    }
    // Insertion sort by offset, stable: no allocation.
    for i in 1..n {
        let mut j = i;
        while j > 0 && out[j - 1].0 > out[j].0 {
            out.swap(j - 1, j);
            j -= 1;
        }
    }
    n
}

struct SoakReport {
    blocks: usize,
    allocations: usize,
    max_voices: usize,
    peak: f32,
    swaps: usize,
    block_cpu: Vec<f64>,
}

fn soak(mode: VoiceMode, seconds: f64, seed: u64) -> SoakReport {
    let sample_rate = 48_000.0f32;
    let lib = Library::embedded().expect("embedded models load");
    assert!(!lib.models.is_empty(), "no embedded models");
    let settings = PerformanceSettings { voice_mode: mode, max_voices: 64, ..Default::default() };
    let mut synth = Synth::new(lib.models[0].1.clone(), settings, sample_rate);
    let slots = synth.voice_slots();
    // Models for the hot swaps are prepared before the storm (off the "audio thread").
    let mut prepared: Vec<Option<PreparedModel>> = lib
        .models
        .iter()
        .cycle()
        .skip(1)
        .take(8)
        .map(|(_, m)| Some(PreparedModel::new(m.clone(), sample_rate, slots)))
        .collect();
    let mut replaced: Vec<PreparedModel> = Vec::with_capacity(prepared.len());

    let total = (seconds * sample_rate as f64) as usize;
    // Ten cycles through the phases, however long the soak: an hour holds the pedal for 72 s.
    let phase_len = (total / (10 * PHASES.len())).max(4096);
    let swap_every = total / (prepared.len() + 1);
    let mut rng = Rng(seed);
    let mut buf = vec![0.0f32; 8192];
    let mut events = [(0usize, MidiEvent::ProgramChange { program: 0 }); 64];
    let mut report = SoakReport {
        blocks: 0,
        allocations: 0,
        max_voices: 0,
        peak: 0.0,
        swaps: 0,
        block_cpu: Vec::with_capacity(total / 16 + 16),
    };
    let mut pos = 0usize;
    let mut last_phase = Phase::AllVoices;
    while pos < total {
        let len = [1usize, 17, 64, 256, 512, 1024, 4096, 8192][rng.below(8) as usize].min(total - pos);
        let phase = PHASES[(pos / phase_len) % PHASES.len()];
        if phase != last_phase && last_phase == Phase::PedalHeld {
            synth.handle_event(MidiEvent::ControlChange { cc: 64, value: 0 });
        }
        last_phase = phase;
        let n = block_events(&mut rng, phase, len, &mut events);
        let swap = (pos / swap_every.max(1)) > report.swaps && report.swaps < prepared.len();

        let (allocations, cpu) = counted(|| {
            let cpu0 = thread_cpu_seconds();
            if swap {
                let new = prepared[report.swaps].take().expect("each prepared model is used once");
                let old = synth.install_model(new);
                // Handing the old model back is a move, not a drop: it leaves the audio thread in
                // a preallocated vector, as the plugin's garbage queue does.
                replaced.push(old);
                report.swaps += 1;
            }
            synth.process_with_events(&mut buf[..len], &events[..n]);
            thread_cpu_seconds() - cpu0
        });
        report.allocations += allocations;

        // Tiny blocks that happen to hold a control frame for every voice say nothing about
        // throughput; the report covers blocks of 512 samples and more.
        if len >= 512 {
            report.block_cpu.push(cpu / len as f64 * 512.0);
        }
        report.blocks += 1;
        report.max_voices = report.max_voices.max(synth.active_voices());
        for &s in &buf[..len] {
            assert!(s.is_finite(), "non-finite output at sample {pos}");
            assert!(s.abs() <= 16.0, "output {s} beyond the engine's limit at sample {pos}");
            report.peak = report.peak.max(s.abs());
        }
        assert!(synth.active_voices() <= slots);
        pos += len;
    }

    // Everything off: pedal up, all notes off; then the release must free every voice.
    synth.handle_event(MidiEvent::ControlChange { cc: 64, value: 0 });
    synth.handle_event(MidiEvent::ControlChange { cc: 123, value: 0 });
    let tail = ((synth.settings().release_seconds + 0.5) * sample_rate) as usize;
    let mut done = 0;
    while done < tail {
        let n = 512.min(tail - done);
        synth.process(&mut buf[..n]);
        done += n;
    }
    assert_eq!(synth.active_voices(), 0, "voices still sounding {tail} samples after all notes off (leak)");
    synth.process(&mut buf[..4096]);
    assert!(buf[..4096].iter().all(|&s| s == 0.0), "output not silent after every voice ended");
    drop(replaced);
    report
}

fn seconds() -> f64 {
    std::env::var("ROSIN_SOAK_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(60.0)
}

fn print_report(label: &str, seconds: f64, r: &mut SoakReport) {
    r.block_cpu.sort_by(f64::total_cmp);
    let mean = r.block_cpu.iter().sum::<f64>() / r.block_cpu.len().max(1) as f64;
    let p99 = r.block_cpu.get(r.block_cpu.len() * 99 / 100).copied().unwrap_or(max_of(&r.block_cpu));
    let max = r.block_cpu.last().copied().unwrap_or(0.0);
    let budget = 512.0 / 48_000.0;
    println!(
        "soak {label}: {seconds:.0} s of audio, {} blocks, {} model swaps, up to {} voices, peak {:.2}; \
         CPU per 512 samples (blocks >= 512): mean {:.3} ms ({:.0}% of real time), p99 {:.3} ms, max {:.3} ms ({:.0}%)",
        r.blocks,
        r.swaps,
        r.max_voices,
        r.peak,
        mean * 1e3,
        100.0 * mean / budget,
        p99 * 1e3,
        max * 1e3,
        100.0 * max / budget
    );
}

#[test]
fn soak_poly() {
    let s = seconds();
    let mut r = soak(VoiceMode::Poly, s, 1);
    print_report("poly", s, &mut r);
    assert_eq!(r.allocations, 0, "allocations on the audio path");
    assert!(r.max_voices >= 64, "the storm should fill every voice, got {}", r.max_voices);
    assert!(r.swaps >= 8, "model hot swaps: {}", r.swaps);
}

#[test]
fn soak_mono_legato() {
    let s = seconds();
    let mut r = soak(VoiceMode::MonoLegato, s, 2);
    print_report("mono legato", s, &mut r);
    assert_eq!(r.allocations, 0, "allocations on the audio path");
    assert!(r.peak > 0.01, "the storm was silent");
}

fn max_of(x: &[f64]) -> f64 {
    x.last().copied().unwrap_or(0.0)
}
