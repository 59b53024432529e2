//! State shared between the audio thread, the model loader thread and the editor.
//!
//! The audio thread (and `activate`/`reset`, which a host may call from it: Ardour does during
//! export) only touches what [`AudioSide`] owns, its end of the model hand-off
//! (`rosin_core::handoff`), the meter's atomics and the [`EngineConfigCell`]. Models are parsed
//! and prepared elsewhere: the first at construction, the ones a host restores on the thread
//! that restores the state (before its next activation), the others on the loader thread.
//! Everything behind a mutex belongs to the loader, main and GUI threads.

use crate::meter::{meter, MeterReader, MeterWriter};
use crate::model_source::{self, ModelRecord, ModelSource};
use crate::params::RosinParams;
use crossbeam::channel::{Receiver, RecvTimeoutError, Sender};
use rosin_core::handoff::{model_handoff, ModelReceiver, ModelSender};
use rosin_core::synth::PreparedModel;
use rosin_core::{Model, ModelCard, Section, Synth};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The sample rate the engine is built for at construction: the one most hosts run at, so
/// that their first activation finds it ready. Another rate builds a new engine then.
pub const INITIAL_SAMPLE_RATE: f32 = 48_000.0;

/// What the editor shows about the model.
#[derive(Debug, Clone, Default)]
pub struct ModelStatus {
    /// What is playing.
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
    /// The model the engine has (or is being handed), and the last one that failed.
    pub loaded: Mutex<Loaded>,
    pub status: Mutex<ModelStatus>,
    /// What the audio thread last measured, for the editor.
    pub meter: MeterReader,
    /// The configuration of the audio side's engine, which models are prepared for.
    pub engine: EngineConfigCell,
}

pub struct Loaded {
    pub source: ModelSource,
    /// Kept to prepare the same model again when the engine is rebuilt for a new sample rate.
    pub model: Arc<Model>,
    pub failed: Option<ModelSource>,
}

/// The audio thread's side: the engine and its ends of the hand-offs (owned by the plugin, used
/// only in `activate`, `reset` and `process`).
pub struct AudioSide {
    pub synth: Synth,
    pub models: ModelReceiver,
    pub meter: MeterWriter,
}

/// What a model is prepared for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EngineConfig {
    pub sample_rate: f32,
    pub voice_slots: usize,
}

impl EngineConfig {
    pub fn of(synth: &Synth) -> Self {
        EngineConfig { sample_rate: synth.sample_rate(), voice_slots: synth.voice_slots() }
    }
}

/// An [`EngineConfig`] in one atomic word (rate and voice count always read together), so the
/// activating thread publishes it without a lock.
pub struct EngineConfigCell(AtomicU64);

impl EngineConfigCell {
    pub fn new(config: EngineConfig) -> Self {
        EngineConfigCell(AtomicU64::new(Self::pack(config)))
    }

    fn pack(c: EngineConfig) -> u64 {
        (u64::from(c.sample_rate.to_bits()) << 32) | c.voice_slots.min(u32::MAX as usize) as u64
    }

    pub fn load(&self) -> EngineConfig {
        let v = self.0.load(Ordering::Acquire);
        EngineConfig { sample_rate: f32::from_bits((v >> 32) as u32), voice_slots: (v & 0xFFFF_FFFF) as usize }
    }

    pub fn publish(&self, config: EngineConfig) {
        self.0.store(Self::pack(config), Ordering::Release);
    }
}

/// The model a record asks for: (model, what plays, the failure shown). A model that fails to
/// load is reported and the section's embedded model plays instead (a record naming no known
/// section plays `section`'s).
fn resolve(record: &ModelRecord, section: Section) -> (Model, ModelSource, Option<String>) {
    match model_source::load(&record.source) {
        Ok(m) => (m, record.source.clone(), None),
        Err(e) => {
            let section = Section::from_name(&record.section).unwrap_or(section);
            let fallback = ModelSource::embedded(section);
            let m = model_source::load(&fallback).unwrap_or_else(|_| model_source::fallback_model());
            (m, fallback, Some(e))
        }
    }
}

impl Shared {
    /// The shared state and the audio side, with an engine built at [`INITIAL_SAMPLE_RATE`]
    /// playing the model the parameters' record names (parsed here, on the constructing thread).
    pub fn new(params: &RosinParams) -> (Shared, AudioSide) {
        let record = params.model.get();
        let (model, source, error) = resolve(&record, params.section.value().0);
        let model = Arc::new(model);
        let synth = Synth::new(model.clone(), params.settings(), INITIAL_SAMPLE_RATE);
        let (models, receiver) = model_handoff();
        let (meter_writer, meter_reader) = meter();
        let shared = Shared {
            models,
            shutdown: AtomicBool::new(false),
            loaded: Mutex::new(Loaded {
                source: source.clone(),
                model: model.clone(),
                failed: error.as_ref().map(|_| record.source.clone()),
            }),
            status: Mutex::new(ModelStatus::default()),
            meter: meter_reader,
            engine: EngineConfigCell::new(EngineConfig::of(&synth)),
        };
        shared.set_status(&source, Some(&model), error);
        (shared, AudioSide { synth, models: receiver, meter: meter_writer })
    }

    /// Makes the model a restored state names ready before the host's next activation: parses
    /// and prepares it on the restoring thread and queues it for the audio side (which installs
    /// it when it activates or processes next).
    pub fn follow_restores(shared: &Arc<Shared>, params: &RosinParams) {
        let shared = shared.clone();
        params.model.on_restore(Box::new(move |record| {
            let (model, source, error) = resolve(record, Section::Violins);
            let failed = error.as_ref().map(|_| record.source.clone());
            shared.switch_to(source, model, failed, error, false);
        }));
    }

    pub fn set_status(&self, source: &ModelSource, model: Option<&Model>, error: Option<String>) {
        let mut s = self.status.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(m) = model {
            s.source = source.clone();
            s.card = Some(m.card.clone());
            s.fallback = matches!(source, ModelSource::Embedded { name }
                if rosin_core::library::embedded_bytes(name).is_none());
        }
        s.error = error;
        s.generation += 1;
    }

    pub fn lock_loaded(&self) -> std::sync::MutexGuard<'_, Loaded> {
        self.loaded.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes `model` (from `source`) the one that plays: prepares it for the engine's
    /// configuration and queues it for the audio side, in place of anything queued before.
    /// Unless `force`d (an explicit request), a model the engine already has is not sent again.
    fn switch_to(
        &self,
        source: ModelSource,
        model: Model,
        failed: Option<ModelSource>,
        error: Option<String>,
        force: bool,
    ) {
        let mut loaded = self.lock_loaded();
        loaded.failed = failed;
        self.set_status(&source, Some(&model), error);
        if !force && loaded.source == source {
            return;
        }
        loaded.source = source;
        loaded.model = Arc::new(model);
        self.send_prepared(&loaded);
    }

    /// Prepares the loaded model for the engine's current configuration and queues it. Called
    /// with the lock held, so the newest choice is always the one queued last.
    fn send_prepared(&self, loaded: &Loaded) {
        let engine = self.engine.load();
        let prepared = PreparedModel::new(loaded.model.clone(), engine.sample_rate, engine.voice_slots);
        // Only the newest matters: what is still queued would be replaced before it plays.
        self.models.withdraw();
        if let Err(prepared) = self.models.send(prepared) {
            self.models.withdraw();
            let _ = self.models.send(prepared);
        }
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
                        params.model.set_record(ModelRecord { source: source.clone(), section });
                        shared.switch_to(source, model, None, None, true);
                    }
                    Err(e) => shared.set_status(&source, None, Some(e)),
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        reconcile(shared, params);
        if shared.models.take_rejected() {
            // The engine was rebuilt for a new sample rate while a model was on its way.
            shared.send_prepared(&shared.lock_loaded());
        }
        shared.models.collect_garbage();
    }
    shared.models.collect_garbage();
    shared.models.withdraw();
}

/// Follows the section parameter and the persisted record (which a state load may change).
fn reconcile(shared: &Shared, params: &RosinParams) {
    let section = params.section.value().0;
    let wanted = params.model.update(|record| {
        if !record.section.eq_ignore_ascii_case(section.name()) {
            // The section parameter moved (automation or editor): play that section.
            *record = ModelRecord { source: ModelSource::embedded(section), section: section.name().to_string() };
        }
        record.source.clone()
    });
    {
        let loaded = shared.lock_loaded();
        if loaded.source == wanted || loaded.failed.as_ref() == Some(&wanted) {
            return;
        }
    }
    match model_source::load(&wanted) {
        Ok(model) => shared.switch_to(wanted, model, None, None, false),
        Err(e) => {
            shared.lock_loaded().failed = Some(wanted.clone());
            shared.set_status(&wanted, None, Some(e));
        }
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
        let params = Arc::new(RosinParams::default());
        let (shared, audio_side) = Shared::new(&params);
        let (mut audio, mut synth) = (audio_side.models, audio_side.synth);
        let shared = Arc::new(shared);
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
        assert_eq!(params.model.get().source, ModelRecord::default().source);

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
        assert_eq!(params.model.get().source, ModelSource::File { path: good.clone() });

        // The audio thread handed the replaced model back; the loader drops it.
        assert!(wait_for(|| shared.models.is_idle()));

        shared.shutdown.store(true, Ordering::Release);
        thread.join().unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A project saved with a model file that is gone: the plugin plays the section's embedded
    /// model and the editor's status says which file failed and why (the record keeps asking for
    /// the file, so the project heals when it comes back).
    #[test]
    fn missing_model_file_falls_back_with_a_visible_message() {
        let params = RosinParams::default();
        let missing = std::env::temp_dir().join("rosin-no-such-dir").join("gone.safetensors");
        params
            .model
            .set_record(ModelRecord { source: ModelSource::File { path: missing.clone() }, section: "celli".into() });
        let (shared, audio) = Shared::new(&params);
        assert_eq!(audio.synth.model().card.name, rosin_core::library::embedded("celli").unwrap().unwrap().card.name);
        let status = shared.status.lock().unwrap().clone();
        assert_eq!(status.source, ModelSource::Embedded { name: "celli".into() });
        let error = status.error.expect("the failure must be shown");
        assert!(error.contains("gone.safetensors"), "the message must name the file: {error}");
        assert_eq!(params.model.get().source, ModelSource::File { path: missing });
    }

    /// A host restores a project (the model record of its state) and activates at once, perhaps
    /// from its audio thread: the restored model is parsed and prepared on the restoring thread,
    /// so the activation finds it waiting, with no loader round trip.
    #[test]
    fn a_restored_model_is_ready_before_the_next_activation() {
        use nice_plug::params::persist::PersistentField;
        let params = Arc::new(RosinParams::default());
        let (shared, audio) = Shared::new(&params);
        let (mut receiver, mut synth) = (audio.models, audio.synth);
        let shared = Arc::new(shared);
        Shared::follow_restores(&shared, &params);
        let before = Arc::as_ptr(synth.model());
        params
            .model
            .set(ModelRecord { source: ModelSource::Embedded { name: "celli".into() }, section: "celli".into() });
        assert!(receiver.receive_all(&mut synth), "the restored model was not waiting");
        assert_ne!(Arc::as_ptr(synth.model()), before);
        assert_eq!(synth.model().card.name, rosin_core::library::embedded("celli").unwrap().unwrap().card.name);
        assert_eq!(shared.status.lock().unwrap().source, ModelSource::Embedded { name: "celli".into() });
        // Prepared for another engine configuration meanwhile: refused, and the loader is told.
        shared.engine.publish(EngineConfig { sample_rate: 44_100.0, voice_slots: synth.voice_slots() });
        params
            .model
            .set(ModelRecord { source: ModelSource::Embedded { name: "basses".into() }, section: "basses".into() });
        assert!(!receiver.receive_all(&mut synth));
        assert!(shared.models.take_rejected());
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
        use std::sync::atomic::AtomicU64;

        let params = Arc::new(RosinParams::default());
        let (shared, audio_side) = Shared::new(&params);
        let (mut receive, mut meter_out, mut synth) = (audio_side.models, audio_side.meter, audio_side.synth);
        let shared = Arc::new(shared);
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
                    meter_out.publish(&synth, &out, &out);
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
        let slots = shared.engine.load().voice_slots;
        let gui = {
            let (shared, stop) = (shared.clone(), stop_gui.clone());
            std::thread::spawn(move || {
                let mut reads = 0u64;
                while !stop.load(Ordering::Acquire) {
                    let status = shared.status.lock().unwrap().clone();
                    assert!(status.card.is_some());
                    assert!(shared.meter.voices() <= slots);
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
                    params.model.set_record(ModelRecord {
                        source: ModelSource::Embedded { name: name.into() },
                        section: "violins".into(),
                    });
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
