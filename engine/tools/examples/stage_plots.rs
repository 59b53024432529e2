//! Pictures of where `rosin render` puts the sections and what its hall does:
//! `docs/stage.png` (each demo stem's left-minus-right level over the song) and `docs/hall.png`
//! (the hall's energy decay, left and right, for a source on the left).
//!
//! `cargo run --release -p rosin-tools --example stage_plots [OUT_DIR]` (default: docs/).

use rosin_core::library::Library;
use rosin_core::room::{Room, RoomSettings};
use rosin_tools::render::{self, midi_file, RenderOptions};
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "docs".into()));
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let midi = root.join("demo/strings-demo.mid");
    let song = midi_file::read_midi_file(&midi)?;
    let lib = Library::embedded()?;
    let opts = RenderOptions { room: None, ..RenderOptions::default() };
    let plans = render::plan_tracks(&song, &midi, &lib, &opts)?;
    let stems = render::render_song(&plans, &song, &opts, &AtomicU64::new(0));
    let mastered = render::output::master(&plans, &stems, &opts);
    let sr = opts.sample_rate as f32;
    // Left minus right level in 0.5 s windows where the stem sounds (within 40 dB of its peak).
    let window = (0.5 * sr) as usize;
    let mut series = Vec::new();
    for (stem, audio) in stems.iter().zip(&mastered.stems) {
        let frames: Vec<(f32, f32)> = audio.chunks_exact(2).map(|f| (f[0], f[1])).collect();
        let energy =
            |w: &[(f32, f32)]| -> (f32, f32) { w.iter().fold((0.0, 0.0), |(l, r), (a, b)| (l + a * a, r + b * b)) };
        let loudest = frames.chunks(window).map(|w| energy(w).0 + energy(w).1).fold(0.0f32, f32::max);
        let points: Vec<(f32, f32)> = frames
            .chunks(window)
            .enumerate()
            .filter_map(|(i, w)| {
                let (l, r) = energy(w);
                (l + r > loudest * 1e-4 && r > 0.0 && l > 0.0).then(|| (i as f32 * 0.5, 10.0 * (l / r).log10()))
            })
            .collect();
        series.push((stem.name.clone(), points));
    }
    let named: Vec<(&str, Vec<(f32, f32)>)> = series.iter().map(|(n, p)| (n.as_str(), p.clone())).collect();
    rosin_tools::plot::curves(
        &out.join("stage.png"),
        "rosin render demo/strings-demo.mid: where each section sits",
        "seconds into the song",
        "left - right (dB): + is left",
        &named,
        false,
    )?;

    // The hall's energy decay (Schroeder integral) for an impulse on the left.
    let settings = RoomSettings::default();
    let n = ((settings.decay_s + 0.5) * sr) as usize;
    let (mut l, mut r) = (vec![0.0f32; n], vec![0.0f32; n]);
    l[0] = 1.0;
    let mut room = Room::new(RoomSettings { wet: 1.0, ..settings }, sr);
    room.process(&mut l, &mut r);
    l[0] = 0.0; // the dry impulse is not the room
    let decay = |x: &[f32]| -> Vec<(f32, f32)> {
        let total: f64 = x.iter().map(|v| (*v as f64).powi(2)).sum();
        let mut left = total;
        let step = (0.005 * sr) as usize;
        let mut out = Vec::new();
        for (i, v) in x.iter().enumerate() {
            if i % step == 0 && left > 0.0 {
                out.push((i as f32 / sr, (10.0 * (left / total).log10()) as f32));
            }
            left -= (*v as f64).powi(2);
        }
        out.retain(|p| p.1 > -80.0);
        out
    };
    let target = vec![(settings.pre_delay_s, 0.0), (settings.pre_delay_s + settings.decay_s, -60.0)];
    rosin_tools::plot::curves(
        &out.join("hall.png"),
        &format!(
            "the hall (decay {} s, pre-delay {} ms, damping {}): energy to come, impulse on the left",
            settings.decay_s,
            1000.0 * settings.pre_delay_s,
            settings.damping
        ),
        "seconds",
        "dB",
        &[("left", decay(&l)), ("right", decay(&r)), ("60 dB in the decay time (lows, mids)", target)],
        false,
    )?;
    println!("wrote {} and {}", out.join("stage.png").display(), out.join("hall.png").display());
    Ok(())
}
