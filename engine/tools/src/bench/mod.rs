//! Speed and size measurements behind `rosin bench`: CPU time per voice-second, offline render
//! speed, the side-by-side run against a sample player ([`sampler`]) and model size against the
//! recordings it replaces.
//!
//! CPU time is the measuring thread's own (CLOCK_THREAD_CPUTIME_ID), so another process on a
//! shared machine slows the wall clock but not the figure.

use rosin_core::model::Model;
use rosin_core::performance::{MidiEvent, PerformanceSettings};
use rosin_core::synth::Synth;
use std::sync::Arc;

pub mod report;
pub mod sampler;

/// CPU seconds used by the whole process so far (all threads), for reports of parallel work.
pub fn process_cpu_seconds() -> f64 {
    #[cfg(unix)]
    {
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: clock_gettime writes into the timespec we own.
        if unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) } == 0 {
            return ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9;
        }
    }
    thread_cpu_seconds()
}

/// CPU seconds used by the calling thread so far.
pub fn thread_cpu_seconds() -> f64 {
    #[cfg(unix)]
    {
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: clock_gettime writes into the timespec we own.
        if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0 {
            return ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9;
        }
    }
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed().as_secs_f64()
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct VoiceCost {
    pub voices: usize,
    pub sample_rate: u32,
    pub block: usize,
    pub audio_seconds: f64,
    pub cpu_seconds: f64,
    /// CPU seconds per voice-second.
    pub per_voice_second: f64,
    /// Fraction of one core used by this many voices in real time.
    pub core_fraction: f64,
}

/// Plays `voices` sustained notes (at most 128, one per key, CC1 moving so smoothing and
/// the network work for real) for `seconds` and measures CPU time.
pub fn voice_cost(model: Arc<Model>, voices: usize, seconds: f64, sample_rate: u32, block: usize) -> VoiceCost {
    let settings = PerformanceSettings { max_voices: voices.max(1), ..Default::default() };
    let mut synth = Synth::new(model.clone(), settings, sample_rate as f32);
    // Distinct keys (a repeated key would release its earlier voice), centred on the model's range.
    let [lo, hi] = model.card.key_range;
    let first = ((lo as usize + hi as usize) / 2).saturating_sub(voices / 2).min(128 - voices.min(128));
    for v in 0..voices.min(128) {
        synth.handle_event(MidiEvent::NoteOn { key: (first + v) as u8, velocity: 90 });
    }
    let mut buf = vec![0.0f32; block];
    let total = (seconds * sample_rate as f64) as usize;
    // Warm-up: attacks, caches.
    for _ in 0..(sample_rate as usize / 10 / block).max(1) {
        synth.process(&mut buf);
    }
    let t0 = thread_cpu_seconds();
    let mut done = 0;
    let mut cc = 0u8;
    while done < total {
        cc = (cc + 1) % 128;
        synth.handle_event(MidiEvent::ControlChange { cc: 1, value: cc });
        synth.process(&mut buf);
        done += block;
    }
    let cpu = thread_cpu_seconds() - t0;
    assert_eq!(synth.active_voices(), voices, "every voice should still sound");
    let audio = done as f64 / sample_rate as f64;
    let per = cpu / (audio * voices.max(1) as f64);
    VoiceCost {
        voices,
        sample_rate,
        block,
        audio_seconds: audio,
        cpu_seconds: cpu,
        per_voice_second: per,
        core_fraction: cpu / audio,
    }
}

/// Fraction of one core the hall ([`rosin_core::room::Room`], default settings) takes on a
/// stereo signal in real time, processed in `block`-sample blocks for `seconds`.
pub fn room_cost(seconds: f64, sample_rate: u32, block: usize) -> f64 {
    let mut room = rosin_core::room::Room::new(rosin_core::room::RoomSettings::default(), sample_rate as f32);
    let mut rng = rosin_core::rng::XorShift32::new(7);
    let noise: Vec<f32> = (0..block).map(|_| rng.unit() - 0.5).collect();
    let (mut l, mut r) = (noise.clone(), noise);
    let total = (seconds * sample_rate as f64) as usize;
    let t0 = thread_cpu_seconds();
    let mut done = 0;
    while done < total {
        room.process(&mut l, &mut r);
        // Keep the input bounded: the room adds to it in place.
        l.iter_mut().chain(r.iter_mut()).for_each(|v| *v *= 0.5);
        done += block;
    }
    (thread_cpu_seconds() - t0) / (done as f64 / sample_rate as f64)
}

/// The recordings of one section in the SoundFont, as the sampler stores them.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct RecordingBytes {
    pub recordings: usize,
    /// Sample data of every selected recording (both channels of stereo pairs), as stored.
    pub all_bytes: u64,
    /// The same for the recordings the model was trained on (held-out keys left out).
    pub training_bytes: u64,
    pub training_seconds_of_audio: f64,
}

/// Counts the stored sample bytes of `section`'s VSCO2 recordings in an opened SoundFont: what a
/// sampler has to ship to play the notes the model learned from.
pub fn recording_bytes(sf2: &crate::dataset::sf2::Sf2, section: &str) -> RecordingBytes {
    use crate::dataset::{is_held_out, vsco::select_strings};
    use std::collections::BTreeMap;
    let chosen: Vec<_> = select_strings(sf2).chosen.into_iter().filter(|s| s.instrument == section).collect();
    let mut cell_keys: BTreeMap<_, Vec<u8>> = BTreeMap::new();
    for s in &chosen {
        cell_keys.entry(s.articulation).or_default().push(s.key);
    }
    let bytes_per_frame: u64 = if sf2.is_24_bit() { 3 } else { 2 };
    let mut out =
        RecordingBytes { recordings: chosen.len(), all_bytes: 0, training_bytes: 0, training_seconds_of_audio: 0.0 };
    for s in &chosen {
        let frames: u64 = s.sample_ids.iter().map(|&i| sf2.samples[i].len() as u64).sum();
        out.all_bytes += frames * bytes_per_frame;
        if !is_held_out(&cell_keys[&s.articulation], s.key) {
            out.training_bytes += frames * bytes_per_frame;
            let first = &sf2.samples[s.sample_ids[0]];
            out.training_seconds_of_audio += first.len() as f64 / first.sample_rate.max(1) as f64;
        }
    }
    out
}
