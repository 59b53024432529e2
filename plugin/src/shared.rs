//! State shared between the audio thread, the model loader thread and the editor.
//!
//! The audio thread only touches lock-free structures: the [`ModelReceiver`] it owns (its side
//! of the model hand-off, `rosin_core::handoff`) and the meter's atomics. The sender side and
//! everything behind a mutex belong to the loader, main and GUI threads.

use crate::meter::{meter, MeterReader, MeterWriter};
use crate::model_source::{self, ModelSource};
use crate::params::RosinParams;
use crossbeam::channel::{Receiver, RecvTimeoutError, Sender};
use rosin_core::handoff::{model_handoff, ModelReceiver, ModelSender};
use rosin_core::synth::PreparedModel;
use rosin_core::Section;
use rosin_core::{Model, ModelCard};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the editor shows about the model.
#[derive(Debug, Clone, Default)]
pub struct ModelStatus {
    /// What is playing (or will play once the plugin is activated).
    pub source: ModelSource,
    pub card: Option<ModelCard>,
    /// True when no trained model by that name is embedded and the stand-in plays.
    pub fallback: bool,
    /// The last load that failed, with the reason; the previous model kept playing.
    pub error: Option<String>,
    /// Bumped on every change, so the editor can tell.
    pub generation: u64,
}

pub enum LoaderRequest {
    /// Load this model file (from the editor); on success it becomes the plugin's model.
    LoadFile(std::path::PathBuf),
}

pub struct Shared {
    /// The loading side of the model hand-off; the audio thread owns the receiver.
    pub models: ModelSender,
    /// Tells the loader thread to finish (the plugin is being destroyed).
    pub shutdown: AtomicBool,
    /// Source whose model the engine has (or is being handed), and the last one that failed.
    pub loaded: Mutex<Loaded>,
    pub status: Mutex<ModelStatus>,
    /// What the audio thread last measured, for the editor.
    pub meter: MeterReader,
}

#[derive(Default)]
pub struct Loaded {
    pub source: Option<ModelSource>,
    pub failed: Option<ModelSource>,
    /// The running engine's configuration (None while the plugin is not active): models are
    /// prepared for it. Kept under the same lock as the source, so the two always agree.
    pub engine: Option<EngineConfig>,
}

/// The audio thread's ends of the hand-offs (owned by the plugin, used only in `process`).
pub struct AudioSide {
    pub models: ModelReceiver,
    pub meter: MeterWriter,
}

/// What a model is prepared for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EngineConfig {
    pub sample_rate: f32,
    pub voice_slots: usize,
}

impl Shared {
    /// The shared state and what only the audio thread may hold.
    pub fn new() -> (Shared, AudioSide) {
        let (models, receiver) = model_handoff();
        let (meter_writer, meter_reader) = meter();
        let shared = Shared {
            models,
            shutdown: AtomicBool::new(false),
            loaded: Mutex::new(Loaded::default()),
            status: Mutex::new(ModelStatus::default()),
            meter: meter_reader,
        };
        (shared, AudioSide { models: receiver, meter: meter_writer })
    }

    pub fn set_status(&self, source: &ModelSource, model: Option<&Model>, error: Option<String>) {
        let mut s = self.status.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(m) = model {
            s.source = source.clone();
            s.card = Some(m.card.clone());
            s.fallback =
                matches!(source, ModelSource::Embedded { name } if rosin_core::library::embedded(name).is_none());
        }
        s.error = error;
        s.generation += 1;
    }

    /// Locks the loader out while the plugin (re)builds its engine, so no model prepared
    /// for the previous configuration, or loaded twice, reaches the new engine.
    pub fn lock_loaded(&self) -> std::sync::MutexGuard<'_, Loaded> {
        self.loaded.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Loads the model the record asks for, for [`crate::Rosin::activate`] (main thread, with
    /// the [`Shared::lock_loaded`] guard held). A model that fails to load is reported and the
    /// section's embedded model plays instead.
    pub fn load_for_activation(&self, params: &RosinParams, loaded: &mut Loaded) -> Arc<Model> {
        let record = params.model.read().unwrap_or_else(|e| e.into_inner()).clone();
        let (model, source, error) = match model_source::load(&record.source) {
            Ok(m) => (m, record.source.clone(), None),
            Err(e) => {
                // A state naming no known section plays the section parameter's.
                let section = Section::from_name(&record.section).unwrap_or(params.section.value().0);
                let fallback = ModelSource::embedded(section);
                let m = model_source::load(&fallback).unwrap_or_else(|_| model_source::fallback_model());
                (m, fallback, Some(e))
            }
        };
        loaded.failed = error.as_ref().map(|_| record.source.clone());
        loaded.source = Some(source.clone());
        self.set_status(&source, Some(&model), error);
        // Anything prepared for an earlier configuration is stale now.
        self.models.withdraw();
        Arc::new(model)
    }
}

/// Starts the loader thread. It ends when [`Shared::shutdown`] is set or every sender of
/// `requests` is gone; the plugin joins it before it is destroyed, so no code of this library
/// runs after the host unloads it.
pub fn spawn_loader(
    shared: Arc<Shared>,
    params: Arc<RosinParams>,
    requests: Receiver<LoaderRequest>,
) -> Option<std::thread::JoinHandle<()>> {
    let spawned = std::thread::Builder::new()
        .name("rosin-model-loader".into())
        .spawn(move || loader_loop(&shared, &params, &requests));
    match spawned {
        Ok(handle) => Some(handle),
        Err(e) => {
            nice_plug::nice_log!("Rosin: cannot start the model loader thread: {e}");
            None
        }
    }
}

pub fn channel() -> (Sender<LoaderRequest>, Receiver<LoaderRequest>) {
    crossbeam::channel::unbounded()
}

fn loader_loop(shared: &Shared, params: &RosinParams, requests: &Receiver<LoaderRequest>) {
    while !shared.shutdown.load(Ordering::Acquire) {
        match requests.recv_timeout(Duration::from_millis(25)) {
            Ok(LoaderRequest::LoadFile(path)) => {
                let source = ModelSource::File { path: path.clone() };
                match model_source::load_file(&path) {
                    Ok(model) => {
                        let section = params.section.value().0.name().to_string();
                        *params.model.write().unwrap_or_else(|e| e.into_inner()) =
                            crate::model_source::ModelRecord { source: source.clone(), section };
                        install(shared, source, model, true);
                    }
                    Err(e) => shared.set_status(&source, None, Some(e)),
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        reconcile(shared, params);
        shared.models.collect_garbage();
    }
    shared.models.collect_garbage();
    shared.models.withdraw();
}

/// Follows the section parameter and the persisted record (which a state load may change).
fn reconcile(shared: &Shared, params: &RosinParams) {
    let section = params.section.value().0;
    let wanted = {
        let mut record = params.model.write().unwrap_or_else(|e| e.into_inner());
        if !record.section.eq_ignore_ascii_case(section.name()) {
            // The section parameter moved (automation or editor): play that section.
            *record = crate::model_source::ModelRecord {
                source: ModelSource::embedded(section),
                section: section.name().to_string(),
            };
        }
        record.source.clone()
    };
    {
        let loaded = shared.loaded.lock().unwrap_or_else(|e| e.into_inner());
        if loaded.source.as_ref() == Some(&wanted) || loaded.failed.as_ref() == Some(&wanted) {
            return;
        }
    }
    match model_source::load(&wanted) {
        Ok(model) => install(shared, wanted, model, false),
        Err(e) => {
            shared.loaded.lock().unwrap_or_else(|e| e.into_inner()).failed = Some(wanted.clone());
            shared.set_status(&wanted, None, Some(e));
        }
    }
}

/// Prepares `model` for the running engine and queues it for the audio thread. Unless
/// `force`d (an explicit request), a model the engine already has is not sent again.
fn install(shared: &Shared, source: ModelSource, model: Model, force: bool) {
    let mut loaded = shared.lock_loaded();
    if !force && loaded.source.as_ref() == Some(&source) {
        return; // activation loaded it meanwhile
    }
    loaded.source = Some(source.clone());
    loaded.failed = None;
    shared.set_status(&source, Some(&model), None);
    let Some(engine) = loaded.engine else {
        return; // not active: activation builds the engine with this model
    };
    let mut prepared = PreparedModel::new(Arc::new(model), engine.sample_rate, engine.voice_slots);
    // The queue only fills if the audio thread stopped running; wait for it briefly, then give up.
    for _ in 0..200 {
        match shared.models.send(prepared) {
            Ok(()) => return,
            Err(p) => prepared = p,
        }
        shared.models.collect_garbage();
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model_source::ModelRecord;

    fn wait_for(mut cond: impl FnMut() -> bool) -> bool {
        for _ in 0..400 {
            if cond() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        false
    }

    /// The editor's "Load model" path: a bad file reports its error and changes nothing; a good
    /// one is prepared for the running engine, queued for the audio thread and recorded in the
    /// state; what the audio thread hands back is dropped by the loader.
    #[test]
    fn loading_files_through_the_loader_thread() {
        use rosin_core::{PerformanceSettings, Synth};
        let (shared, audio_side) = Shared::new();
        let mut audio = audio_side.models;
        let shared = Arc::new(shared);
        let params = Arc::new(RosinParams::default());
        let mut synth = {
            let mut loaded = shared.lock_loaded();
            let model = shared.load_for_activation(&params, &mut loaded);
            let synth = Synth::new(model, PerformanceSettings { max_voices: 8, ..Default::default() }, 48_000.0);
            loaded.engine = Some(EngineConfig { sample_rate: 48_000.0, voice_slots: synth.voice_slots() });
            synth
        };
        let (tx, rx) = channel();
        let thread = spawn_loader(shared.clone(), params.clone(), rx).unwrap();

        let dir = std::env::temp_dir().join(format!("rosin-plugin-loader-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bad = dir.join("bad.safetensors");
        std::fs::write(&bad, b"not a model").unwrap();
        tx.send(LoaderRequest::LoadFile(bad.clone())).unwrap();
        assert!(wait_for(|| shared.status.lock().unwrap().error.is_some()), "no error reported");
        let error = shared.status.lock().unwrap().error.clone().unwrap();
        assert!(error.contains("bad.safetensors"), "error does not name the file: {error}");
        assert!(!audio.receive(&mut synth) && shared.models.is_idle(), "a bad file must not reach the audio thread");
        assert_eq!(params.model.read().unwrap().source, ModelRecord::default().source);

        let good = dir.join("good.safetensors");
        let mut model = rosin_testkit::fixture::fixed_spectrum_model(32, 64, 64, 1);
        model.card.name = "Test model".into();
        model.save(&good).unwrap();
        tx.send(LoaderRequest::LoadFile(good.clone())).unwrap();
        assert!(wait_for(|| audio.receive(&mut synth)), "the good model never reached the audio thread");
        assert_eq!(synth.model().card.name, "Test model");
        let status = shared.status.lock().unwrap().clone();
        assert!(status.error.is_none());
        assert_eq!(status.source, ModelSource::File { path: good.clone() });
        assert_eq!(params.model.read().unwrap().source, ModelSource::File { path: good.clone() });

        // The audio thread handed the replaced model back; the loader drops it.
        assert!(wait_for(|| shared.models.is_idle()));

        shared.shutdown.store(true, Ordering::Release);
        thread.join().unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A project saved with a model file that is gone: activation plays the section's embedded
    /// model and the editor's status says which file failed and why (the record keeps asking for
    /// the file, so the project heals when it comes back).
    #[test]
    fn missing_model_file_falls_back_with_a_visible_message() {
        let (shared, _audio) = Shared::new();
        let params = RosinParams::default();
        let missing = std::env::temp_dir().join("rosin-no-such-dir").join("gone.safetensors");
        *params.model.write().unwrap() =
            ModelRecord { source: ModelSource::File { path: missing.clone() }, section: "celli".into() };
        let model = {
            let mut loaded = shared.lock_loaded();
            shared.load_for_activation(&params, &mut loaded)
        };
        assert_eq!(model.card.name, rosin_core::library::embedded("celli").unwrap().unwrap().card.name);
        let status = shared.status.lock().unwrap().clone();
        assert_eq!(status.source, ModelSource::Embedded { name: "celli".into() });
        let error = status.error.expect("the failure must be shown");
        assert!(error.contains("gone.safetensors"), "the message must name the file: {error}");
        assert_eq!(params.model.read().unwrap().source, ModelSource::File { path: missing });
    }

    /// Stress of the three-thread hand-off. An editor thread fires requests as fast as it can
    /// (good files, corrupt files, section changes through the persisted record, as a state load
    /// makes them); an audio thread runs a real engine, calling [`ModelReceiver::receive`] before every
    /// block as `process()` does; a GUI thread keeps reading the status and the meter. Nothing
    /// may deadlock or panic, a corrupt file never reaches the audio thread, every model that
    /// reached the audio thread is handed back except the one playing, and once the requests
    /// stop the engine plays the last model asked for.
    #[test]
    fn model_hand_off_under_stress() {
        use rosin_core::{PerformanceSettings, Synth};
        use std::sync::atomic::AtomicU64;

        let (shared, audio_side) = Shared::new();
        let (mut receive, mut meter_out) = (audio_side.models, audio_side.meter);
        let shared = Arc::new(shared);
        let params = Arc::new(RosinParams::default());
        let sample_rate = 48_000.0;
        let mut synth = {
            let mut loaded = shared.lock_loaded();
            let model = shared.load_for_activation(&params, &mut loaded);
            let synth = Synth::new(model, PerformanceSettings { max_voices: 8, ..Default::default() }, sample_rate);
            loaded.engine = Some(EngineConfig { sample_rate, voice_slots: synth.voice_slots() });
            synth
        };
        let (tx, rx) = channel();
        let loader = spawn_loader(shared.clone(), params.clone(), rx).unwrap();

        let dir = std::env::temp_dir().join(format!("rosin-plugin-stress-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let corrupt = dir.join("corrupt.safetensors");
        std::fs::write(&corrupt, b"not a model at all").unwrap();
        let good: Vec<std::path::PathBuf> = (0..6)
            .map(|i| {
                let mut m = rosin_testkit::fixture::fixed_spectrum_model(32, 64, 64, 1);
                m.card.name = format!("stress-{i}");
                let p = dir.join(format!("stress-{i}.safetensors"));
                m.save(&p).unwrap();
                p
            })
            .collect();

        let stop_audio = Arc::new(AtomicBool::new(false));
        let installed = Arc::new(AtomicU64::new(0));
        let audio = {
            let (stop, installed) = (stop_audio.clone(), installed.clone());
            std::thread::spawn(move || {
                let mut out = vec![0.0f32; 64];
                let mut blocks = 0u64;
                while !stop.load(Ordering::Acquire) {
                    let before = Arc::as_ptr(synth.model());
                    receive.receive(&mut synth);
                    if Arc::as_ptr(synth.model()) != before {
                        installed.fetch_add(1, Ordering::Relaxed);
                    }
                    if blocks % 50 == 0 {
                        synth.handle_event(rosin_core::MidiEvent::NoteOn {
                            key: 60 + (blocks % 12) as u8,
                            velocity: 90,
                        });
                    }
                    synth.process(&mut out);
                    assert!(out.iter().all(|s| s.is_finite()));
                    meter_out.publish(&synth, &out);
                    blocks += 1;
                }
                // Keep receiving until the pipeline is drained, as the plugin would.
                for _ in 0..200 {
                    receive.receive(&mut synth);
                    std::thread::sleep(Duration::from_millis(2));
                }
                (synth, receive.has_pending(), blocks)
            })
        };
        let stop_gui = Arc::new(AtomicBool::new(false));
        let gui = {
            let (shared, stop) = (shared.clone(), stop_gui.clone());
            std::thread::spawn(move || {
                let mut reads = 0u64;
                while !stop.load(Ordering::Acquire) {
                    let status = shared.status.lock().unwrap().clone();
                    assert!(status.card.is_some());
                    assert!(shared.meter.voices() <= 8 + 16);
                    reads += 1;
                }
                reads
            })
        };

        let mut rng = rosin_core::rng::XorShift32::new(0x1234_5678);
        let mut next = || rng.next_u32();
        let sections = ["violins", "violas", "celli", "basses"];
        let started = std::time::Instant::now();
        let mut requests = 0;
        while started.elapsed() < Duration::from_millis(1500) {
            match next() % 4 {
                0 => tx.send(LoaderRequest::LoadFile(corrupt.clone())).unwrap(),
                1 => {
                    let name = sections[next() as usize % 4];
                    *params.model.write().unwrap() =
                        ModelRecord { source: ModelSource::Embedded { name: name.into() }, section: "violins".into() };
                }
                _ => tx.send(LoaderRequest::LoadFile(good[next() as usize % good.len()].clone())).unwrap(),
            }
            requests += 1;
            // As fast as the loader takes them, with a short backlog (an editor cannot queue
            // thousands of clicks, and a backlog only delays the end of the test).
            while tx.len() > 4 {
                std::thread::sleep(Duration::from_micros(50));
            }
        }
        // The last word: one more good file, which must end up playing.
        tx.send(LoaderRequest::LoadFile(good[0].clone())).unwrap();
        let settled = (0..2000).any(|_| {
            let s = shared.status.lock().unwrap().clone();
            let done =
                s.source == ModelSource::File { path: good[0].clone() } && shared.models.is_idle() && tx.is_empty();
            if !done {
                std::thread::sleep(Duration::from_millis(5));
            }
            done
        });
        assert!(settled, "the loader never settled on the last request");
        stop_audio.store(true, Ordering::Release);
        let (synth, pending, blocks) = audio.join().expect("audio thread panicked");
        stop_gui.store(true, Ordering::Release);
        let reads = gui.join().expect("GUI thread panicked");
        shared.shutdown.store(true, Ordering::Release);
        loader.join().unwrap();

        assert_eq!(synth.model().card.name, "stress-0", "the engine does not play the last model asked for");
        assert!(!pending, "a replaced model was never handed back");
        assert!(shared.models.is_idle(), "models left in the queues");
        assert!(installed.load(Ordering::Relaxed) >= 10, "too few hand-offs to mean anything");
        println!(
            "{requests} requests, {} models installed on the audio thread over {blocks} blocks, {reads} GUI reads",
            installed.load(Ordering::Relaxed)
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
