//! The editor's "Browse…" dialog for model files, run as a separate program.
//!
//! A plugin cannot safely open a GTK or Qt dialog inside its host on Linux: a GTK3 dialog in a
//! GTK2 host (Ardour) or a Qt host aborts the host, which is why rfd's GTK backend is not used;
//! its portal backend needs a running xdg-desktop-portal and an async runtime inside the
//! plugin. Linux plugins (Surge XT, sfizz) run `zenity` or `kdialog` instead, as here: the dialog
//! lives in its own process, on a helper thread, and the editor polls for the answer, so neither
//! the GUI nor the audio thread ever waits for it. Hosts that ship their own libraries (Ardour's
//! bundle) set `LD_LIBRARY_PATH`, which breaks the system's zenity; the child runs without it
//! (the host's own environment is left alone).

use crossbeam::channel::{bounded, Receiver, TryRecvError};
use std::ffi::OsString;
use std::io::ErrorKind;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// What the dialog answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DialogOutcome {
    Chosen(PathBuf),
    Cancelled,
    /// No dialog program could be run; the text says why and what to do.
    Unavailable(String),
}

/// One dialog program and its arguments for "open a model file".
struct Tool {
    program: &'static str,
    args: Vec<OsString>,
}

const TITLE: &str = "Load a Rosin model";

fn tools(start_dir: Option<PathBuf>) -> Vec<Tool> {
    let start = start_dir.map(|d| {
        let mut s = d.into_os_string();
        s.push("/");
        s
    });
    let mut zenity: Vec<OsString> = ["--file-selection", "--title", TITLE]
        .into_iter()
        .chain(["--file-filter", "Rosin models (*.safetensors) | *.safetensors", "--file-filter", "All files | *"])
        .map(OsString::from)
        .collect();
    if let Some(s) = &start {
        zenity.push("--filename".into());
        zenity.push(s.clone());
    }
    let kdialog: Vec<OsString> = vec![
        "--title".into(),
        TITLE.into(),
        "--getopenfilename".into(),
        start.unwrap_or_else(|| ".".into()),
        "*.safetensors|Rosin models".into(),
    ];
    let z = Tool { program: "zenity", args: zenity };
    let k = Tool { program: "kdialog", args: kdialog };
    // KDE desktops have kdialog and look wrong with zenity; everything else the other way round.
    let kde = std::env::var("XDG_CURRENT_DESKTOP").is_ok_and(|d| d.to_ascii_uppercase().contains("KDE"));
    if kde {
        vec![k, z]
    } else {
        vec![z, k]
    }
}

/// Runs the first dialog program that exists and waits for it (call off the GUI thread).
/// `path` replaces the PATH the programs are looked up in (tests).
fn run(tools: &[Tool], path: Option<&OsString>) -> DialogOutcome {
    for t in tools {
        let mut cmd = Command::new(t.program);
        cmd.args(&t.args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        cmd.env_remove("LD_LIBRARY_PATH").env_remove("LD_PRELOAD");
        if let Some(p) = path {
            cmd.env("PATH", p);
        }
        let out = match cmd.output() {
            Ok(out) => out,
            Err(e) if e.kind() == ErrorKind::NotFound => continue,
            Err(e) => return DialogOutcome::Unavailable(format!("{} could not start: {e}", t.program)),
        };
        let chosen = String::from_utf8_lossy(&out.stdout).trim_end_matches(['\n', '\r']).to_string();
        return match out.status.code() {
            Some(0) if !chosen.is_empty() => DialogOutcome::Chosen(PathBuf::from(chosen)),
            // Both programs exit 1 on Cancel or when the window is closed.
            Some(0) | Some(1) => DialogOutcome::Cancelled,
            code => {
                let err = String::from_utf8_lossy(&out.stderr);
                let last = err.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no message");
                DialogOutcome::Unavailable(format!(
                    "{} failed (exit {}): {last}",
                    t.program,
                    code.map_or("by signal".to_string(), |c| c.to_string())
                ))
            }
        };
    }
    DialogOutcome::Unavailable(
        "no file dialog program found: install zenity or kdialog, or type the model's path".into(),
    )
}

/// At most one open dialog, polled by the editor once per frame.
#[derive(Default)]
pub struct FileDialog {
    pending: Option<Receiver<DialogOutcome>>,
    path_override: Option<OsString>,
}

impl FileDialog {
    /// A dialog that looks its programs up in `path` instead of PATH (tests).
    pub fn with_search_path(path: impl Into<OsString>) -> Self {
        FileDialog { pending: None, path_override: Some(path.into()) }
    }

    pub fn is_open(&self) -> bool {
        self.pending.is_some()
    }

    /// Opens the dialog in `start_dir` unless one is open already (then returns false).
    pub fn open(&mut self, start_dir: Option<PathBuf>) -> bool {
        if self.is_open() {
            return false;
        }
        let (tx, rx) = bounded(1);
        let tools = tools(start_dir);
        let path = self.path_override.clone();
        let spawned = std::thread::Builder::new().name("rosin-file-dialog".into()).spawn(move || {
            let _ = tx.send(run(&tools, path.as_ref()));
        });
        match spawned {
            Ok(_) => {
                self.pending = Some(rx);
                true
            }
            Err(_) => false,
        }
    }

    /// The answer, once the dialog has closed.
    pub fn poll(&mut self) -> Option<DialogOutcome> {
        let rx = self.pending.as_ref()?;
        match rx.try_recv() {
            Ok(outcome) => {
                self.pending = None;
                Some(outcome)
            }
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => {
                self.pending = None;
                Some(DialogOutcome::Unavailable("the file dialog thread stopped".into()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;
    use std::time::{Duration, Instant};

    fn script(dir: &Path, name: &str, body: &str) {
        let p = dir.join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    fn wait(d: &mut FileDialog) -> DialogOutcome {
        let t = Instant::now();
        loop {
            if let Some(o) = d.poll() {
                return o;
            }
            assert!(t.elapsed() < Duration::from_secs(20), "the dialog never answered");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn bin_dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("rosin-dialog-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn the_chosen_file_comes_back_and_the_child_runs_without_the_hosts_library_path() {
        let d = bin_dir("chosen");
        let seen = d.join("seen");
        // Prints the chosen file the way zenity does, and records its arguments and environment.
        script(
            &d,
            "zenity",
            &format!("echo \"$@\" > '{s}.args'; echo \"LD=${{LD_LIBRARY_PATH:-unset}}\" > '{s}'; echo '/music/my violins.safetensors'", s = seen.display()),
        );
        // SAFETY of the test: only this test reads the variable.
        std::env::set_var("LD_LIBRARY_PATH", "/opt/host/lib");
        let mut dialog = FileDialog::with_search_path(&d);
        assert!(dialog.open(Some(PathBuf::from("/music"))));
        assert!(!dialog.open(None), "one dialog at a time");
        assert_eq!(wait(&mut dialog), DialogOutcome::Chosen("/music/my violins.safetensors".into()));
        assert!(!dialog.is_open());
        assert_eq!(std::fs::read_to_string(&seen).unwrap().trim(), "LD=unset");
        let args = std::fs::read_to_string(d.join("seen.args")).unwrap();
        assert!(
            args.contains("--file-selection") && args.contains("*.safetensors") && args.contains("/music/"),
            "{args}"
        );
        assert_eq!(std::env::var("LD_LIBRARY_PATH").unwrap(), "/opt/host/lib", "the host's environment is untouched");
    }

    #[test]
    fn cancel_missing_programs_and_failures_are_told_apart() {
        let d = bin_dir("cancel");
        script(&d, "zenity", "exit 1");
        let mut dialog = FileDialog::with_search_path(&d);
        dialog.open(None);
        assert_eq!(wait(&mut dialog), DialogOutcome::Cancelled);

        // zenity absent: kdialog is tried.
        let d = bin_dir("kdialog");
        script(&d, "kdialog", "echo /m/basses.safetensors");
        let mut dialog = FileDialog::with_search_path(&d);
        dialog.open(None);
        assert_eq!(wait(&mut dialog), DialogOutcome::Chosen("/m/basses.safetensors".into()));

        let d = bin_dir("broken");
        script(&d, "zenity", "echo 'cannot open display' >&2; exit 127");
        let mut dialog = FileDialog::with_search_path(&d);
        dialog.open(None);
        match wait(&mut dialog) {
            DialogOutcome::Unavailable(why) => {
                assert!(why.contains("127") && why.contains("cannot open display"), "{why}")
            }
            other => panic!("{other:?}"),
        }

        let d = bin_dir("none");
        let mut dialog = FileDialog::with_search_path(&d);
        dialog.open(None);
        match wait(&mut dialog) {
            DialogOutcome::Unavailable(why) => assert!(why.contains("install zenity or kdialog"), "{why}"),
            other => panic!("{other:?}"),
        }
    }
}
