//! Dynamic-layer numbering shared by the readers.
//!
//! Sources label their layers differently (v1/v3, pp/ff, ...). The dataset exposes only the order:
//! layer 0 is the softest layer recorded for that (instrument, articulation), counting up, so that
//! a cell with layers v1 and v3 and a cell with v1 and v2 both become layers 0 and 1 of 2.

use std::collections::{BTreeMap, BTreeSet};

use rosin_core::articulation::Articulation;

/// For each item `(instrument, articulation, label)`, its `(layer, layer_count)`: the rank of its
/// label among the distinct labels of its cell, and how many distinct labels the cell has.
/// Callers keep the number of distinct labels per cell at most 255.
pub(crate) fn rank_layers<L: Ord + Clone>(items: &[(&str, Articulation, L)]) -> Vec<(u8, u8)> {
    let mut cells: BTreeMap<(&str, Articulation), BTreeSet<L>> = BTreeMap::new();
    for (instrument, articulation, label) in items {
        cells.entry((*instrument, *articulation)).or_default().insert(label.clone());
    }
    items
        .iter()
        .map(|(instrument, articulation, label)| {
            let labels = &cells[&(*instrument, *articulation)];
            let rank = labels.range(..label).count();
            (sat_u8(rank), sat_u8(labels.len()))
        })
        .collect()
}

fn sat_u8(n: usize) -> u8 {
    u8::try_from(n).unwrap_or(u8::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_within_each_cell() {
        let s = Articulation::Sustain;
        let p = Articulation::Pizzicato;
        let items = [
            ("celli", s, 3u32),
            ("celli", s, 1),
            ("celli", p, 2),
            ("violins", s, 2),
            ("violins", s, 1),
            ("celli", s, 3),
        ];
        assert_eq!(rank_layers(&items), vec![(1, 2), (0, 2), (0, 1), (1, 2), (0, 2), (1, 2)]);
    }
}
