//! The fixed held-out split used to measure quality on notes the model never heard.
//!
//! Rule: per (instrument, articulation), sort the distinct root keys ascending; the keys at sorted
//! positions 2, 6, 10, ... (position % 4 == 2) are held out, with every dynamic layer and take of
//! that key. Holding out whole keys (not single layers) tests pitch interpolation, the thing a
//! sampler repitching its nearest neighbour does worst; starting at position 2 and stepping by 4
//! keeps the lowest and highest keys in training, so held-out notes are always interpolated
//! between trained neighbours, never extrapolated. The rule depends only on the labels, so every
//! run, tool and benchmark gets the same split.

use std::collections::{BTreeMap, BTreeSet};

use super::NoteRecording;
use rosin_core::articulation::Articulation;

/// Whether `key` is held out among the root keys `cell_keys` of one (instrument, articulation).
/// `cell_keys` may be unsorted and hold duplicates; a key not in it is never held out.
pub fn is_held_out(cell_keys: &[u8], key: u8) -> bool {
    let distinct: BTreeSet<u8> = cell_keys.iter().copied().collect();
    distinct.contains(&key) && distinct.range(..key).count() % 4 == 2
}

/// The held-out root keys of every (instrument, articulation) in `recs`, ascending.
pub fn held_out_keys(recs: &[NoteRecording]) -> BTreeMap<(String, Articulation), Vec<u8>> {
    let mut cells: BTreeMap<(String, Articulation), BTreeSet<u8>> = BTreeMap::new();
    for r in recs {
        cells.entry((r.instrument.clone(), r.articulation)).or_default().insert(r.key);
    }
    cells
        .into_iter()
        .map(|(cell, keys)| {
            let held = keys.into_iter().enumerate().filter(|(i, _)| i % 4 == 2).map(|(_, k)| k).collect();
            (cell, held)
        })
        .collect()
}

/// Splits recordings into (train, held out) by the rule above, keeping their order.
pub fn split(recs: Vec<NoteRecording>) -> (Vec<NoteRecording>, Vec<NoteRecording>) {
    let held = held_out_keys(&recs);
    recs.into_iter()
        .partition(|r| !held.get(&(r.instrument.clone(), r.articulation)).is_some_and(|keys| keys.contains(&r.key)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(instrument: &str, articulation: Articulation, key: u8, layer: u8) -> NoteRecording {
        NoteRecording {
            instrument: instrument.into(),
            articulation,
            key,
            layer,
            layer_count: 2,
            sample_rate: 44_100,
            audio: vec![0.5; 4],
            loop_range: None,
            source: format!("{instrument}_{articulation}_{key}_{layer}"),
        }
    }

    #[test]
    fn holds_out_every_fourth_key_from_the_third() {
        let keys = [55u8, 57, 59, 62, 66, 69, 72, 76, 79, 83, 86, 90];
        let held: Vec<u8> = keys.iter().copied().filter(|&k| is_held_out(&keys, k)).collect();
        assert_eq!(held, vec![59, 72, 86]);
        // Order and duplicates do not matter; unknown keys are never held out.
        assert!(is_held_out(&[69, 59, 57, 55, 57], 59));
        assert!(!is_held_out(&keys, 60));
        assert!(!is_held_out(&[40, 50], 50));
    }

    #[test]
    fn split_keeps_all_layers_of_a_held_out_key_together() {
        let s = Articulation::Sustain;
        let p = Articulation::Pizzicato;
        let mut recs = Vec::new();
        for key in [36u8, 40, 43, 47, 50, 53, 57] {
            for layer in 0..2 {
                recs.push(rec("celli", s, key, layer));
            }
        }
        for key in [28u8, 30, 34] {
            recs.push(rec("basses", p, key, 0));
        }
        let held = held_out_keys(&recs);
        assert_eq!(held[&("celli".to_string(), s)], vec![43, 57]);
        assert_eq!(held[&("basses".to_string(), p)], vec![34]);

        let (train, test) = split(recs.clone());
        assert_eq!(train.len() + test.len(), recs.len());
        let test_keys: Vec<(String, u8, u8)> = test.iter().map(|r| (r.instrument.clone(), r.key, r.layer)).collect();
        assert_eq!(
            test_keys,
            vec![
                ("celli".into(), 43, 0),
                ("celli".into(), 43, 1),
                ("celli".into(), 57, 0),
                ("celli".into(), 57, 1),
                ("basses".into(), 34, 0),
            ]
        );
        assert!(train.iter().all(|r| !(r.instrument == "celli" && (r.key == 43 || r.key == 57))));
    }
}
