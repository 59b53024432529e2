//! The SoundFont reader on arbitrary bytes: `Sf2::open` (headers and hydra), `read_sample` of
//! every sample header, the VSCO string selection and `read_sf2_strings` (selection plus reading
//! and mixing the chosen samples). Ok or a typed `DatasetError`, never a panic or an allocation
//! larger than the file. The readers take a path, so each input is written to a scratch file
//! (on tmpfs where there is one) first.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rosin_fuzz::scratch_file;
use rosin_tools::dataset::read_sf2_strings;
use rosin_tools::dataset::sf2::Sf2;
use rosin_tools::dataset::vsco::select_strings;

/// Samples read per input (each read is bounded by the file anyway).
const MAX_SAMPLES_READ: usize = 64;

fuzz_target!(|data: &[u8]| {
    let path = scratch_file("sf2", "fuzz.sf2", data);
    let Ok(sf2) = Sf2::open(&path) else {
        return;
    };
    let _ = (sf2.sample_data_len(), sf2.is_24_bit(), &sf2.name, sf2.version);
    for (i, header) in sf2.samples.iter().enumerate().take(MAX_SAMPLES_READ) {
        let _ = header.relative_loop();
        if let Ok(audio) = sf2.read_sample(i) {
            assert_eq!(audio.len(), header.len() as usize);
            assert!(audio.iter().all(|s| (-1.0..1.0).contains(s)), "sample {i} leaves -1..1");
        }
    }
    assert!(sf2.read_sample(sf2.samples.len()).is_err());
    for inst in &sf2.instruments {
        for zone in &inst.zones {
            let _ = (inst.zone_loops(zone), inst.zone_root_key(zone), zone.key_range(), zone.velocity_range());
            assert!(zone.sample_id().unwrap_or(0) < sf2.samples.len());
        }
    }
    for preset in &sf2.presets {
        for zone in &preset.zones {
            assert!(zone.instrument_id().unwrap_or(0) < sf2.instruments.len());
        }
    }
    let selection = select_strings(&sf2);
    for s in &selection.chosen {
        assert!(!s.sample_ids.is_empty() && s.sample_ids.iter().all(|&id| id < sf2.samples.len()));
        assert!(s.layer < s.layer_count);
    }
    drop(sf2);
    if let Ok(recs) = read_sf2_strings(&path) {
        for r in &recs {
            assert!(!r.audio.is_empty());
            assert!(r.audio.iter().all(|s| s.is_finite() && s.abs() <= 1.0));
            if let Some((a, b)) = r.loop_range {
                assert!(a < b && b <= r.audio.len());
            }
        }
    }
});
