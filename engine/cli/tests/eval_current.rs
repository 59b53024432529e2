//! The shipped model cards and eval reports say what the code measures today: `rosin eval
//! --update-cards` on a copy of each model writes the card that is committed, and the report it
//! writes is the committed `docs/eval/<section>.json`. A change that moves a held-out figure
//! fails here until the cards and reports are refreshed (in a commit of their own).
//!
//! Numbers are compared to 1e-4 relative: the network's two kernels (AVX2/FMA and portable) round
//! differently, and a machine without FMA must not read as stale.

use std::path::{Path, PathBuf};
use std::process::Command;

const SF2: &str = rosin_tools::dataset::DEFAULT_SF2;

#[test]
fn shipped_cards_and_reports_match_a_fresh_eval() {
    if !rosin_testkit::soundfont_installed(SF2) {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir: PathBuf = std::env::temp_dir().join(format!("rosin-eval-current-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut stale = Vec::new();
    for section in ["violins", "violas", "celli", "basses"] {
        for ext in ["safetensors", "json"] {
            let name = format!("{section}.{ext}");
            std::fs::copy(root.join("model-weights").join(&name), dir.join(&name)).unwrap();
        }
        let out = Command::new(env!("CARGO_BIN_EXE_rosin"))
            .args(["eval", section, "--update-cards", "--weights-dir"])
            .arg(&dir)
            .arg("-o")
            .arg(dir.join("eval"))
            .output()
            .unwrap();
        assert!(out.status.success(), "rosin eval {section}: {}", String::from_utf8_lossy(&out.stderr));
        for (fresh, shipped) in [
            (dir.join(format!("{section}.json")), root.join(format!("model-weights/{section}.json"))),
            (dir.join(format!("eval/{section}.json")), root.join(format!("docs/eval/{section}.json"))),
        ] {
            let read = |p: &Path| -> serde_json::Value { serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap() };
            let mut differences = Vec::new();
            compare(&read(&fresh), &read(&shipped), "", &mut differences);
            if !differences.is_empty() {
                let shown = differences.iter().take(3).cloned().collect::<Vec<_>>().join("; ");
                stale.push(format!("{} ({shown})", shipped.strip_prefix(&root).unwrap_or(&shipped).display()));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        stale.is_empty(),
        "stale: {} (refresh with `rosin eval --update-cards --update-docs` and commit the cards and \
         reports on their own)",
        stale.join(", ")
    );
}

/// Where two JSON values differ: numbers beyond 1e-4 relative (1e-6 absolute near zero),
/// anything else unequal.
fn compare(a: &serde_json::Value, b: &serde_json::Value, at: &str, out: &mut Vec<String>) {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            if (x - y).abs() > 1e-6_f64.max(1e-4 * x.abs().max(y.abs())) {
                out.push(format!("{at}: {x} now, {y} shipped"));
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => compare(p, q, &format!("{at}.{k}"), out),
                    _ => out.push(format!("{at}.{k}: only in one")),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                compare(p, q, &format!("{at}[{i}]"), out);
            }
        }
        _ if a == b => {}
        _ => out.push(format!("{at}: differs")),
    }
}
