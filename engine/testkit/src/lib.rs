//! What Rosin's tests share, so that no test restates it: fixture models, rendering a timeline
//! of events block by block, a stable hash of rendered samples, and counting allocations.

use rosin_core::{MidiEvent, Synth};

pub mod alloc_count;

/// Analytically built models (a fixed string-like spectrum, not an instrument).
pub use rosin_core::model::fixture;
/// The seeded generators every test draws from.
pub use rosin_core::rng::{XorShift32, XorShift64};

/// Renders `len` samples of a timeline of events at absolute sample positions (sorted), cut
/// into blocks of the sizes `block` returns (clamped to 1..=what is left).
pub fn render_blocks(
    synth: &mut Synth,
    len: usize,
    events: &[(u64, MidiEvent)],
    mut block: impl FnMut() -> usize,
) -> Vec<f32> {
    let mut out = vec![0.0; len];
    let (mut pos, mut rest) = (0, events);
    while pos < len {
        let n = block().clamp(1, len - pos);
        let taken = synth.render_timeline(&mut out[pos..pos + n], pos as u64, rest);
        rest = &rest[taken..];
        pos += n;
    }
    out
}

/// FNV-1a (64-bit) of the samples' bits: golden renders compare these.
pub fn hash_samples(samples: &[f32]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for x in samples {
        for b in x.to_bits().to_le_bytes() {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// Whether the SoundFont at `path` (the VSCO2 recordings tests train and measure on) is
/// installed. Absent, the test skips, unless `ROSIN_REQUIRE_SOUNDFONT` is set (scripts/test.sh,
/// CI), where a missing SoundFont is a failure rather than a silent skip.
pub fn soundfont_installed(path: &str) -> bool {
    if std::path::Path::new(path).exists() {
        return true;
    }
    assert!(std::env::var_os("ROSIN_REQUIRE_SOUNDFONT").is_none(), "{path} missing: run `bash scripts/setup.sh`");
    eprintln!("skipped: {path} not installed (bash scripts/setup.sh)");
    false
}
