//! What `activate` and `reset` cost on the thread the host calls them from (Ardour activates
//! from its audio thread during export). A counting global allocator, per thread, counts every
//! allocation, reallocation and free inside the calls; the loader thread's work is not counted.
//!
//! Activating again at the configuration the engine already has (a host's stop/start, every
//! export) must not allocate at all; neither may `reset`. A new sample rate builds a new engine:
//! that is bounded (a fixed number of allocations, whatever the model or the state) and stated
//! here. The figures and the times are printed (`-- --nocapture`).

use nice_plug::prelude::*;
use rosin::Rosin;
use rosin_testkit::alloc_count::{self, CountingAllocator};
use std::time::{Duration, Instant};

#[global_allocator]
static A: CountingAllocator = CountingAllocator;

/// Runs `f` with this thread's allocations counted; returns (count, duration, result).
fn counted<R>(f: impl FnOnce() -> R) -> (usize, Duration, R) {
    let t = Instant::now();
    let (n, (r, elapsed)) = alloc_count::counted(|| {
        let r = f();
        (r, t.elapsed())
    });
    (n, elapsed, r)
}

struct Context;
impl ActivateContext<Rosin> for Context {
    fn plugin_api(&self) -> PluginApi {
        PluginApi::Clap
    }
    fn execute(&self, _task: ()) {}
    fn set_latency_samples(&self, _samples: u32) {}
    fn set_current_voice_capacity(&self, _capacity: u32) {}
}

fn config(sample_rate: f32) -> BufferConfig {
    BufferConfig { sample_rate, min_buffer_size: None, max_buffer_size: 512, process_mode: ProcessMode::Offline }
}

fn activate(plugin: &mut Rosin, sample_rate: f32) -> (usize, Duration) {
    let layout = Rosin::AUDIO_IO_LAYOUTS[0];
    let (n, t, ok) = counted(|| plugin.activate(&layout, &config(sample_rate), &mut Context));
    assert!(ok, "activation failed");
    (n, t)
}

#[test]
fn activation_and_reset_allocate_nothing_at_a_known_configuration() {
    let mut plugin = Rosin::default();
    let (first, t_first) = activate(&mut plugin, 48_000.0);
    let (reset, t_reset, ()) = counted(|| plugin.reset());
    plugin.deactivate();
    let (again, t_again) = activate(&mut plugin, 48_000.0);
    plugin.deactivate();
    let (new_rate, t_new_rate) = activate(&mut plugin, 96_000.0);
    plugin.deactivate();
    let (back, t_back) = activate(&mut plugin, 96_000.0);
    println!(
        "activate: first at 48 kHz {first} allocations in {t_first:?}; again at 48 kHz {again} in {t_again:?}; \
         at 96 kHz {new_rate} in {t_new_rate:?}; again at 96 kHz {back} in {t_back:?}; reset {reset} in {t_reset:?}"
    );
    assert_eq!(first, 0, "the first activation at the constructed configuration allocated");
    assert_eq!(again, 0, "activating again at the same configuration allocated");
    assert_eq!(back, 0, "activating again at the same configuration allocated");
    assert_eq!(reset, 0, "reset allocated");
    // A new sample rate: a new engine (voices, tables, noise bands) and the old one freed.
    assert!(new_rate > 0 && new_rate <= MAX_ALLOCATIONS_FOR_A_NEW_RATE, "a new rate cost {new_rate} allocations");
}

/// What building the engine for a new sample rate may cost, allocations and frees together
/// (measured: 2,039 with the embedded models, about half of them freeing the old engine; the
/// count depends on the voice count, not on the model or the state).
const MAX_ALLOCATIONS_FOR_A_NEW_RATE: usize = 4_096;
