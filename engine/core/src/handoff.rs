//! Handing prepared models to the audio thread and taking the replaced ones back, with which
//! thread may do what written in the types (in the spirit of fundsp's `Slot`/`SlotBackend`).
//!
//! [`model_handoff`] makes a pair. The [`ModelSender`] belongs to the threads that load and
//! prepare models (it is `Sync`: a loader thread and the host's main thread may share it); it
//! sends [`PreparedModel`]s and drops what comes back. The [`ModelReceiver`] belongs to the
//! audio thread alone (`Send`, not `Sync`, and its method takes `&mut self`): once per block it
//! installs a waiting model into the [`Synth`] and returns the old one. Both directions are
//! bounded lock-free queues allocated here, so the audio side never allocates, locks or frees.

use crate::synth::{PreparedModel, Synth};
use crossbeam_queue::ArrayQueue;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Models in flight towards the audio thread: more would only be replaced before playing.
const TO_AUDIO: usize = 4;
/// Replaced models waiting to be dropped by the sender's side.
const GARBAGE: usize = 16;

struct Queues {
    to_audio: ArrayQueue<PreparedModel>,
    garbage: ArrayQueue<PreparedModel>,
    /// Set when the engine refused a model prepared for another configuration (it was rebuilt
    /// for a new sample rate meanwhile): the sender should prepare it again.
    rejected: AtomicBool,
}

/// The loading side of a model hand-off.
pub struct ModelSender {
    queues: Arc<Queues>,
}

/// The audio thread's side of a model hand-off.
pub struct ModelReceiver {
    queues: Arc<Queues>,
    /// A replaced model the garbage queue had no room for: kept (never dropped here) and
    /// handed back on a later block.
    pending: Option<PreparedModel>,
}

/// A connected sender/receiver pair (allocates; call it off the audio thread).
pub fn model_handoff() -> (ModelSender, ModelReceiver) {
    let queues = Arc::new(Queues {
        to_audio: ArrayQueue::new(TO_AUDIO),
        garbage: ArrayQueue::new(GARBAGE),
        rejected: AtomicBool::new(false),
    });
    (ModelSender { queues: queues.clone() }, ModelReceiver { queues, pending: None })
}

impl ModelSender {
    /// Queues a prepared model for the audio thread; gives it back if the queue is full (the
    /// audio thread is not running: try again later, or drop it).
    pub fn send(&self, model: PreparedModel) -> Result<(), PreparedModel> {
        self.queues.to_audio.push(model)
    }

    /// Drops the models the audio thread handed back; returns how many.
    pub fn collect_garbage(&self) -> usize {
        let mut n = 0;
        while self.queues.garbage.pop().is_some() {
            n += 1;
        }
        n
    }

    /// Drops the models sent but not yet received (prepared for a configuration that is gone);
    /// returns how many.
    pub fn withdraw(&self) -> usize {
        let mut n = 0;
        while self.queues.to_audio.pop().is_some() {
            n += 1;
        }
        n
    }

    /// Whether the engine refused a model since the last call, because it was prepared for a
    /// configuration the engine no longer has (prepare it again for the current one).
    pub fn take_rejected(&self) -> bool {
        self.queues.rejected.swap(false, Ordering::AcqRel)
    }

    /// Whether nothing is in flight in either direction.
    pub fn is_idle(&self) -> bool {
        self.queues.to_audio.is_empty() && self.queues.garbage.is_empty()
    }
}

impl ModelReceiver {
    /// Once per block, on the audio thread: installs a waiting model, if any, and hands the
    /// replaced one back. Returns whether a model was installed. Lock-free, allocation-free,
    /// frees nothing.
    pub fn receive(&mut self, synth: &mut Synth) -> bool {
        if let Some(old) = self.pending.take() {
            if let Err(old) = self.queues.garbage.push(old) {
                self.pending = Some(old);
                return false;
            }
        }
        let Some(prepared) = self.queues.to_audio.pop() else { return false };
        let accepted = synth.accepts(&prepared);
        let old = synth.install_model(prepared);
        if !accepted {
            self.queues.rejected.store(true, Ordering::Release);
        }
        if let Err(old) = self.queues.garbage.push(old) {
            self.pending = Some(old);
        }
        accepted
    }

    /// Installs the newest waiting model (those before it are handed back unplayed): what an
    /// activation does before it decides whether its engine can stay. Bounded by the queue's
    /// length; real-time safe like [`ModelReceiver::receive`].
    pub fn receive_all(&mut self, synth: &mut Synth) -> bool {
        let mut any = false;
        for _ in 0..=TO_AUDIO + 1 {
            if self.queues.to_audio.is_empty() && self.pending.is_none() {
                break;
            }
            any |= self.receive(synth);
        }
        any
    }

    /// Whether a replaced model is still waiting for room in the return queue.
    pub fn has_pending(&self) -> bool {
        self.pending.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixture::fixed_spectrum_model;
    use crate::Model;

    fn named(name: &str) -> Arc<Model> {
        let mut m = fixed_spectrum_model(4, 4, 4, 1);
        m.card.name = name.into();
        Arc::new(m)
    }

    #[test]
    fn models_go_in_and_come_back() {
        let (tx, mut rx) = model_handoff();
        let mut synth = Synth::new(named("first"), Default::default(), 48_000.0);
        let slots = synth.voice_slots();
        assert!(!rx.receive(&mut synth), "nothing sent yet");
        tx.send(PreparedModel::new(named("second"), 48_000.0, slots)).ok().unwrap();
        assert!(rx.receive(&mut synth));
        assert_eq!(synth.model().card.name, "second");
        assert_eq!(tx.collect_garbage(), 1, "the first model comes back to be dropped");
        assert!(tx.is_idle());
    }

    /// A model prepared for another sample rate (the engine was rebuilt meanwhile) is refused,
    /// handed back, and the sender told to prepare it again.
    #[test]
    fn a_model_for_another_configuration_is_refused_and_reported() {
        let (tx, mut rx) = model_handoff();
        let mut synth = Synth::new(named("first"), Default::default(), 48_000.0);
        let slots = synth.voice_slots();
        tx.send(PreparedModel::new(named("stale"), 44_100.0, slots)).ok().unwrap();
        tx.send(PreparedModel::new(named("fresh"), 48_000.0, slots)).ok().unwrap();
        assert!(rx.receive_all(&mut synth), "the fitting model must be installed");
        assert_eq!(synth.model().card.name, "fresh");
        assert!(tx.take_rejected());
        assert!(!tx.take_rejected(), "the report is taken once");
        assert_eq!(tx.collect_garbage(), 2, "the refused model and the replaced one come back");
    }

    /// With the return queue full, the replaced model waits in the receiver and is handed back
    /// once there is room; nothing is dropped on the audio side.
    #[test]
    fn a_full_return_queue_keeps_the_old_model_pending() {
        let (tx, mut rx) = model_handoff();
        let mut synth = Synth::new(named("m0"), Default::default(), 48_000.0);
        let slots = synth.voice_slots();
        for i in 1..=GARBAGE + 1 {
            tx.send(PreparedModel::new(named(&format!("m{i}")), 48_000.0, slots)).ok().unwrap();
            assert!(rx.receive(&mut synth));
        }
        assert!(rx.has_pending());
        assert_eq!(tx.collect_garbage(), GARBAGE);
        assert!(!rx.receive(&mut synth), "the pending model goes back first");
        assert!(!rx.has_pending());
        assert_eq!(tx.collect_garbage(), 1);
        tx.send(PreparedModel::new(named("late"), 48_000.0, slots)).ok().unwrap();
        assert_eq!(tx.withdraw(), 1, "a model not yet received can be withdrawn");
        assert!(tx.is_idle());
    }
}
