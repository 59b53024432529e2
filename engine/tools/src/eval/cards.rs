//! `rosin eval --update-cards`: the held-out figures of a [`Report`] written into a model's card,
//! under `metrics.heldout`.
//!
//! [`HeldoutMetrics`] is the one place that names the card's keys; they are the ones the shipped
//! cards (`model-weights/*.json`) carry, so an updated card keeps its format.

use super::{Report, Summary};
use rosin_core::model::{Model, ModelError};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where the shipped models and their cards live, relative to the repository root.
pub const DEFAULT_WEIGHTS_DIR: &str = "model-weights";
/// The card key the figures go under, inside `metrics`.
pub const CARD_KEY: &str = "heldout";
/// The command recorded in the card.
pub const COMMAND: &str = "cargo run --release -p rosin-cli -- eval --update-cards";

/// The card's `metrics.heldout`.
#[derive(Debug, Clone, Serialize)]
pub struct HeldoutMetrics {
    pub heldout_notes: usize,
    pub mss_rosin: f32,
    pub mss_sampler: f32,
    pub mss_resynthesis: f32,
    pub mss_neighbour_resynthesis: f32,
    pub rosin_over_sampler: f32,
    pub rosin_over_resynthesis: f32,
    pub rosin_over_neighbour_resynthesis: f32,
    pub neighbour_resynthesis_over_resynthesis: f32,
    pub median_f0_error_cents: f32,
    pub median_recording_f0_spread_cents: f32,
    pub loudness_shape_error_db: f32,
    pub cc1_sweep_range_db: f32,
    /// Spectral centroid at CC1 0 and at CC1 127.
    pub cc1_sweep_centroid_hz: [f32; 2],
    pub cc1_sweep_centroid_monotonic: f32,
    pub layer_brightness_keys: usize,
    pub layer_brightness_rising_recordings: usize,
    pub layer_brightness_rising_rosin: usize,
    pub layer_brightness_agreeing: usize,
    pub per_articulation: BTreeMap<String, ArticulationMetrics>,
    /// Statistics of life per long articulation ([`super::life`]): recording, Rosin, sampler.
    pub life: BTreeMap<String, [super::life::LifeStats; 3]>,
    /// Take-to-take distance per articulation with recorded takes: recordings' r1/r2, Rosin's
    /// seed 1/2, their ratio.
    pub takes: BTreeMap<String, [f32; 3]>,
    pub command: String,
}

/// One articulation's entry in [`HeldoutMetrics::per_articulation`].
#[derive(Debug, Clone, Serialize)]
pub struct ArticulationMetrics {
    pub notes: usize,
    pub mss_rosin: f32,
    pub mss_sampler: f32,
    pub mss_resynthesis: f32,
    pub mss_neighbour_resynthesis: f32,
    pub median_f0_error_cents: f32,
    pub median_recording_f0_spread_cents: f32,
}

impl From<&Summary> for ArticulationMetrics {
    fn from(s: &Summary) -> Self {
        ArticulationMetrics {
            notes: s.notes,
            mss_rosin: s.rosin,
            mss_sampler: s.sampler,
            mss_resynthesis: s.resynthesis,
            mss_neighbour_resynthesis: s.neighbour_resynthesis,
            median_f0_error_cents: s.median_f0_error_cents,
            median_recording_f0_spread_cents: s.median_recording_f0_spread_cents,
        }
    }
}

impl HeldoutMetrics {
    pub fn from_report(report: &Report) -> Self {
        let (o, d, lb) = (&report.overall, &report.dynamics, &report.layer_brightness);
        HeldoutMetrics {
            heldout_notes: o.notes,
            mss_rosin: o.rosin,
            mss_sampler: o.sampler,
            mss_resynthesis: o.resynthesis,
            mss_neighbour_resynthesis: o.neighbour_resynthesis,
            rosin_over_sampler: o.rosin_over_sampler,
            rosin_over_resynthesis: o.rosin_over_resynthesis,
            rosin_over_neighbour_resynthesis: o.rosin_over_neighbour_resynthesis,
            neighbour_resynthesis_over_resynthesis: o.neighbour_resynthesis_over_resynthesis,
            median_f0_error_cents: o.median_f0_error_cents,
            median_recording_f0_spread_cents: o.median_recording_f0_spread_cents,
            loudness_shape_error_db: o.loudness_shape_db,
            cc1_sweep_range_db: d.range_db,
            cc1_sweep_centroid_hz: [d.centroid_low_hz, d.centroid_high_hz],
            cc1_sweep_centroid_monotonic: d.centroid_monotonic,
            layer_brightness_keys: lb.keys.len(),
            layer_brightness_rising_recordings: lb.recording_rising,
            layer_brightness_rising_rosin: lb.rosin_rising,
            layer_brightness_agreeing: lb.agreeing,
            per_articulation: report.per_articulation.iter().map(|(a, s)| (a.name().to_string(), s.into())).collect(),
            life: report
                .life
                .iter()
                .map(|l| (l.articulation.name().to_string(), [l.recording, l.rosin, l.sampler]))
                .collect(),
            takes: report
                .takes
                .iter()
                .map(|t| (t.articulation.name().to_string(), [t.recordings, t.rosin, t.rosin_over_recordings]))
                .collect(),
            command: COMMAND.to_string(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CardError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Write(#[from] std::io::Error),
}

/// The model file of `section` in `weights_dir`: `<weights_dir>/<section>.safetensors`.
pub fn model_path(weights_dir: &Path, section: &str) -> PathBuf {
    weights_dir.join(format!("{section}.safetensors"))
}

/// Writes `metrics` into the card of `<weights_dir>/<section>.safetensors` (the model file and
/// its `.json` beside it) and returns the model file's path.
pub fn update_card(weights_dir: &Path, section: &str, metrics: &HeldoutMetrics) -> Result<PathBuf, CardError> {
    let file = model_path(weights_dir, section);
    let mut m = Model::load(&file)?;
    let value = serde_json::to_value(metrics).expect("held-out metrics always serialise");
    m.card.metrics.insert(CARD_KEY.into(), value);
    m.save(&file)?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::super::{DynamicsSweep, LayerBrightness};
    use super::*;
    use rosin_core::articulation::Articulation;
    use rosin_core::model::fixture::fixed_spectrum_model;

    fn summary(notes: usize) -> Summary {
        Summary {
            notes,
            rosin: 0.9,
            sampler: 0.95,
            resynthesis: 0.6,
            neighbour_resynthesis: 1.0,
            rosin_over_sampler: 0.9 / 0.95,
            rosin_over_resynthesis: 1.5,
            rosin_over_neighbour_resynthesis: 0.9,
            neighbour_resynthesis_over_resynthesis: 1.6,
            median_f0_error_cents: 1.5,
            median_recording_f0_spread_cents: 5.0,
            loudness_shape_db: 3.0,
            sampler_loudness_shape_db: 2.0,
        }
    }

    fn report() -> Report {
        Report {
            model: "Violins".into(),
            instrument: "violins".into(),
            notes: Vec::new(),
            overall: summary(18),
            per_articulation: vec![(Articulation::Sustain, summary(6)), (Articulation::Pizzicato, summary(12))],
            dynamics: DynamicsSweep {
                key: 69,
                points: vec![(0, -40.0, 700.0), (127, -4.0, 880.0)],
                range_db: 36.0,
                centroid_low_hz: 700.0,
                centroid_high_hz: 880.0,
                loudness_monotonic: 1.0,
                centroid_monotonic: 1.0,
            },
            layer_brightness: LayerBrightness {
                keys: vec![(60, 500.0, 600.0, 510.0, 620.0)],
                recording_rising: 1,
                rosin_rising: 1,
                agreeing: 1,
            },
            life: Vec::new(),
            takes: Vec::new(),
            envelopes: Vec::new(),
        }
    }

    /// The keys of `metrics.heldout` (and of one per-articulation entry) in a card.
    fn card_keys(heldout: &serde_json::Value) -> (Vec<String>, Vec<String>) {
        let top: Vec<String> = heldout.as_object().unwrap().keys().cloned().collect();
        let per = heldout["per_articulation"].as_object().unwrap();
        let inner = per.values().next().unwrap().as_object().unwrap().keys().cloned().collect();
        (top, inner)
    }

    #[test]
    fn metrics_use_the_key_names_of_the_shipped_cards() {
        let ours = serde_json::to_value(HeldoutMetrics::from_report(&report())).unwrap();
        assert_eq!(ours["heldout_notes"], 18);
        assert_eq!(ours["loudness_shape_error_db"], 3.0);
        assert_eq!(ours["cc1_sweep_centroid_hz"], serde_json::json!([700.0, 880.0]));
        assert_eq!(ours["per_articulation"]["pizzicato"]["notes"], 12);
        assert_eq!(ours["command"], COMMAND);
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(DEFAULT_WEIGHTS_DIR);
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let card: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            if let Some(theirs) = card["metrics"].get(CARD_KEY) {
                assert_eq!(card_keys(&ours), card_keys(theirs), "{}", path.display());
            }
        }
    }

    #[test]
    fn update_card_writes_into_the_given_folder_and_keeps_other_metrics() {
        let dir = std::env::temp_dir().join(format!("rosin-cards-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut m = fixed_spectrum_model(8, 8, 8, 1);
        m.card.metrics.insert("training_seconds".into(), serde_json::json!(486.0));
        m.save(&model_path(&dir, "violins")).unwrap();
        let metrics = HeldoutMetrics::from_report(&report());
        let file = update_card(&dir, "violins", &metrics).unwrap();
        assert_eq!(file, dir.join("violins.safetensors"));
        let back = Model::load(&file).unwrap();
        assert_eq!(back.card.metrics["training_seconds"], 486.0);
        assert_eq!(back.card.metrics[CARD_KEY], serde_json::to_value(&metrics).unwrap());
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("violins.json")).unwrap()).unwrap();
        assert_eq!(json["metrics"][CARD_KEY]["mss_rosin"], metrics.mss_rosin);
        assert!(matches!(update_card(&dir, "celli", &metrics), Err(CardError::Model(_))));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
