//! Model files: round trip, and every kind of bad file gives a typed error naming the file.

use rosin_core::model::{fixture, Model, ModelError, CARD_METADATA_KEY};
use std::collections::HashMap;
use std::path::Path;

fn good() -> Model {
    fixture::fixed_spectrum_model(16, 32, 32, 5)
}

fn origin() -> &'static Path {
    Path::new("test-model.safetensors")
}

/// Re-serialises a model's tensors with edits applied.
fn rebuild(
    model: &Model,
    edit_card: impl Fn(&mut serde_json::Value),
    edit: impl Fn(&str, &mut Vec<f32>, &mut Vec<usize>),
) -> Vec<u8> {
    let names = rosin_core::model::expected_tensors(&model.card.network);
    let mut owned: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for ((name, dims), data) in names.iter().zip(&model.weights.tensors) {
        let (mut d, mut s) = (data.clone(), dims.clone());
        edit(name, &mut d, &mut s);
        owned.push((name.to_string(), s, d.iter().flat_map(|v| v.to_le_bytes()).collect()));
    }
    let mut card = serde_json::to_value(&model.card).unwrap();
    edit_card(&mut card);
    let views: Vec<(String, safetensors::tensor::TensorView)> = owned
        .iter()
        .map(|(n, s, b)| {
            (n.clone(), safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), b).unwrap())
        })
        .collect();
    safetensors::serialize(views, Some(HashMap::from([(CARD_METADATA_KEY.to_string(), card.to_string())]))).unwrap()
}

fn load(bytes: &[u8]) -> Result<Model, ModelError> {
    Model::from_bytes(bytes, origin())
}

fn assert_names_file(e: &ModelError) {
    let msg = e.to_string();
    assert!(msg.contains("test-model.safetensors"), "error does not name the file: {msg}");
}

#[test]
fn round_trip_through_bytes_and_files() {
    let m = good();
    let back = load(&m.to_bytes()).unwrap();
    assert_eq!(back.card, m.card);
    assert_eq!(back.weights, m.weights);
    let dir = std::env::temp_dir().join(format!("rosin-model-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("m.safetensors");
    m.save(&path).unwrap();
    assert_eq!(Model::load(&path).unwrap().weights, m.weights);
    let card: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("m.json")).unwrap()).unwrap();
    assert_eq!(card["name"], "Fixture");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn empty_truncated_and_garbage_files_are_refused() {
    let bytes = good().to_bytes();
    for cut in [0, 1, 7, 8, 9, 100, bytes.len() / 2, bytes.len() - 1] {
        let e = load(&bytes[..cut]).unwrap_err();
        assert!(matches!(e, ModelError::NotSafetensors { .. }), "cut at {cut}: {e}");
        assert_names_file(&e);
    }
    let e = load(b"this is not a model at all, just some text").unwrap_err();
    assert_names_file(&e);
    // A header length field claiming 2^60 bytes must not allocate it.
    let mut huge = bytes.clone();
    huge[..8].copy_from_slice(&(1u64 << 60).to_le_bytes());
    assert!(load(&huge).is_err());
}

#[test]
fn missing_file_names_it() {
    let e = Model::load(Path::new("/nonexistent/dir/model.safetensors")).unwrap_err();
    assert!(matches!(e, ModelError::Io { .. }));
    assert!(e.to_string().contains("/nonexistent/dir/model.safetensors"));
}

#[test]
fn bad_values_shapes_and_cards_are_refused() {
    let m = good();
    let keep = |_: &mut serde_json::Value| {};
    let nan = rebuild(&m, keep, |n, d, _| {
        if n == "gru.weight_hh" {
            d[17] = f32::NAN
        }
    });
    assert!(matches!(load(&nan).unwrap_err(), ModelError::NonFinite { index: 17, .. }));
    let inf = rebuild(&m, keep, |n, d, _| {
        if n == "output.bias" {
            d[0] = f32::INFINITY
        }
    });
    assert!(matches!(load(&inf).unwrap_err(), ModelError::NonFinite { .. }));
    let shape = rebuild(&m, keep, |n, d, s| {
        if n == "input.weight" {
            d.truncate(d.len() - s[1]);
            s[0] -= 1;
        }
    });
    assert!(matches!(load(&shape).unwrap_err(), ModelError::WrongShape { .. }));
    let version = rebuild(&m, |c| c["format_version"] = 99.into(), |_, _, _| {});
    let e = load(&version).unwrap_err();
    assert!(matches!(e, ModelError::UnsupportedVersion { found: 99, .. }), "{e}");
    assert_names_file(&e);
    let huge = rebuild(&m, |c| c["network"]["gru_hidden"] = 1_000_000.into(), |_, _, _| {});
    assert!(matches!(load(&huge).unwrap_err(), ModelError::BadCard { .. }));
    let no_artics = rebuild(&m, |c| c["articulations"] = serde_json::json!([]), |_, _, _| {});
    assert!(matches!(load(&no_artics).unwrap_err(), ModelError::BadCard { .. }));
    let bad_std = rebuild(&m, keep, |n, d, _| {
        if n == "output.std" {
            d[3] = 0.0
        }
    });
    assert!(load(&bad_std).is_err());
    let not_json = {
        let views: Vec<(String, safetensors::tensor::TensorView)> = vec![];
        safetensors::serialize(views, Some(HashMap::from([(CARD_METADATA_KEY.to_string(), "{not json".to_string())])))
            .unwrap()
    };
    assert!(matches!(load(&not_json).unwrap_err(), ModelError::BadCard { .. }));
    let no_card = safetensors::serialize(Vec::<(String, safetensors::tensor::TensorView)>::new(), None).unwrap();
    assert!(matches!(load(&no_card).unwrap_err(), ModelError::MissingCard { .. }));
}
