//! Lists the VSCO2 string recordings selected from a SoundFont, with per-cell counts and totals.
//! Usage: cargo run --release --example list_sf2_strings [path.sf2]

use std::collections::BTreeMap;
use std::path::PathBuf;

use rosin_tools::dataset::{held_out_keys, read_sf2_strings, sf2::Sf2, vsco::select_strings};

/// Per (section, articulation, layer): recordings, distinct keys, seconds.
type Cells = BTreeMap<(String, String, u8), (usize, std::collections::BTreeSet<u8>, f64)>;

fn main() {
    let path = PathBuf::from(
        std::env::args().nth(1).unwrap_or_else(|| "/usr/share/sounds/sf2/MuseScore_General_Full.sf2".into()),
    );
    let sf2 = Sf2::open(&path).unwrap_or_else(|e| panic!("{e}"));
    println!(
        "{}: version {}.{}, \"{}\", {} samples, {} instruments, {} presets, 24-bit: {}",
        path.display(),
        sf2.version.0,
        sf2.version.1,
        sf2.name,
        sf2.samples.len(),
        sf2.instruments.len(),
        sf2.presets.len(),
        sf2.is_24_bit()
    );
    let sel = select_strings(&sf2);
    for e in &sel.excluded {
        println!("excluded {:<22} {}", e.sample, e.reason);
    }
    let recs = read_sf2_strings(&path).unwrap_or_else(|e| panic!("{e}"));
    println!("{:<8} {:<10} {:>4} {:>5} {:>7} {:>6}  sample", "section", "artic.", "key", "layer", "secs", "rate");
    for r in &recs {
        let name = r.source.split_once(".sf2#").map_or("", |(_, n)| n);
        println!(
            "{:<8} {:<10} {:>4} {:>3}/{} {:>7.2} {:>6} {:>6.1}  {}{}",
            r.instrument,
            r.articulation,
            r.key,
            r.layer,
            r.layer_count,
            r.duration_secs(),
            r.sample_rate,
            20.0 * r.audio.iter().fold(0f32, |m, v| m.max(v.abs())).log10(),
            name,
            r.loop_range.map(|(a, b)| format!("  loop {a}..{b}")).unwrap_or_default()
        );
    }
    let mut cells: Cells = BTreeMap::new();
    for r in &recs {
        let c = cells.entry((r.instrument.clone(), r.articulation.to_string(), r.layer)).or_default();
        c.0 += 1;
        c.1.insert(r.key);
        c.2 += r.duration_secs();
    }
    println!("\nper cell (section, articulation, layer): recordings, distinct keys, minutes");
    for ((s, a, l), (n, keys, secs)) in &cells {
        println!("{s:<8} {a:<10} {l}  {n:>3} rec  {:>2} keys  {:>5.2} min  {:?}", keys.len(), secs / 60.0, keys);
    }
    let total: f64 = recs.iter().map(|r| r.duration_secs()).sum();
    println!("\ntotal: {} recordings, {:.2} minutes", recs.len(), total / 60.0);
    println!("\nheld out keys:");
    for ((i, a), keys) in held_out_keys(&recs) {
        println!("  {i:<8} {a:<10} {keys:?}");
    }
}
