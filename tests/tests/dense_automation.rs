//! Dense automation through a real host never makes the plugin allocate on the audio thread:
//! every parameter changed on every sample of 1,024-sample blocks (what Steinberg's validator
//! and pluginval's thread-safety test do), and a host chasing all controllers at once (all 128
//! CCs, pitch bend and pressure on all 16 channels at the first sample, as a DAW sends when a
//! project starts), with notes. nice-plug's wrapper queues incoming events in buffers of
//! `Plugin::INPUT_EVENT_CAPACITY`; when a block brings more, it grows them on the audio thread
//! (and warns "Input event buffer filled up!").
//!
//! The count is real: this test binary interposes the C allocator (`malloc`, `free` and the
//! rest, forwarding to glibc's `__libc_*`), so the plugin library's allocations, made through
//! the same C allocator, are counted too, per thread, while `process` runs. The same counter
//! states what the plugin's activation allocates through the host (the figure is printed);
//! the count must be above zero there, proving the counter sees the plugin.

use clack_extensions::params::{ParamInfoBuffer, PluginParams};
use clack_host::events::event_types::{MidiEvent as ClapMidiEvent, NoteOnEvent, ParamValueEvent};
use clack_host::prelude::*;
use rosin_testkit::alloc_count::{counted, note_allocation};
use rosin_tests::host as common;
use std::ffi::c_void;

unsafe extern "C" {
    fn __libc_malloc(size: usize) -> *mut c_void;
    fn __libc_calloc(n: usize, size: usize) -> *mut c_void;
    fn __libc_realloc(p: *mut c_void, size: usize) -> *mut c_void;
    fn __libc_free(p: *mut c_void);
    fn __libc_memalign(align: usize, size: usize) -> *mut c_void;
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn malloc(size: usize) -> *mut c_void {
    note_allocation();
    unsafe { __libc_malloc(size) }
}
#[unsafe(no_mangle)]
pub unsafe extern "C" fn calloc(n: usize, size: usize) -> *mut c_void {
    note_allocation();
    unsafe { __libc_calloc(n, size) }
}
#[unsafe(no_mangle)]
pub unsafe extern "C" fn realloc(p: *mut c_void, size: usize) -> *mut c_void {
    note_allocation();
    unsafe { __libc_realloc(p, size) }
}
#[unsafe(no_mangle)]
pub unsafe extern "C" fn free(p: *mut c_void) {
    if !p.is_null() {
        note_allocation();
    }
    unsafe { __libc_free(p) }
}
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memalign(align: usize, size: usize) -> *mut c_void {
    note_allocation();
    unsafe { __libc_memalign(align, size) }
}
#[unsafe(no_mangle)]
pub unsafe extern "C" fn aligned_alloc(align: usize, size: usize) -> *mut c_void {
    note_allocation();
    unsafe { __libc_memalign(align, size) }
}
#[unsafe(no_mangle)]
pub unsafe extern "C" fn posix_memalign(out: *mut *mut c_void, align: usize, size: usize) -> i32 {
    note_allocation();
    let p = unsafe { __libc_memalign(align, size) };
    if p.is_null() {
        return 12; // ENOMEM
    }
    unsafe { *out = p };
    0
}

/// Every parameter: (id, lowest, highest) plain values.
fn all_params(plugin: &mut PluginInstance<common::TestHost>) -> Vec<(ClapId, f64, f64)> {
    let ext = plugin.plugin_handle().get_extension::<PluginParams>().expect("params extension");
    let mut buffer = ParamInfoBuffer::new();
    let count = ext.count(&plugin.plugin_handle());
    (0..count)
        .filter_map(|i| ext.get_info(&plugin.plugin_handle(), i, &mut buffer).map(|p| (p.id, p.min_value, p.max_value)))
        .collect()
}

const BLOCK: usize = 1024;
const BLOCKS: usize = 24;

#[test]
fn every_parameter_every_sample_and_a_controller_chase_allocate_nothing() {
    let bundle = common::bundle_path();
    if !common::plugin_build_present(&bundle, "cargo xtask bundle rosin --release") {
        return;
    }
    let entry = common::load_entry();
    let mut plugin = common::instantiate(&entry);
    let params = all_params(&mut plugin);
    assert!(params.len() >= 20, "only {} parameters", params.len());

    let config =
        PluginAudioConfiguration { sample_rate: 48_000.0, min_frames_count: 1, max_frames_count: BLOCK as u32 };
    let (activation, processor) = counted(|| plugin.activate(|_, _| (), config).expect("activate"));
    assert!(activation > 0, "the counter saw no allocation in activation: it does not see the plugin");
    let mut processor = processor.start_processing().expect("start processing");

    let (mut left, mut right) = (vec![0.0f32; BLOCK], vec![0.0f32; BLOCK]);
    let mut ports = AudioPorts::with_capacity(2, 1);
    let mut out_events = EventBuffer::with_capacity(8192);
    let per_block = params.len() * BLOCK + 16 * 130 + 64;
    let mut in_events = EventBuffer::with_capacity(per_block);
    let mut rng = rosin_core::rng::XorShift64::new(7);
    let mut per_block_counts = Vec::with_capacity(BLOCKS);
    let mut events_sent = 0usize;
    for block in 0..BLOCKS {
        in_events.clear();
        if block % 8 == 0 {
            // A controller chase: every CC, bend and pressure on every channel, at once.
            for ch in 0..16u8 {
                for cc in 0..128u8 {
                    if !matches!(cc, 120..=127) {
                        in_events.push(&ClapMidiEvent::new(0, 0, [0xB0 | ch, cc, 64]));
                    }
                }
                in_events.push(&ClapMidiEvent::new(0, 0, [0xE0 | ch, 0, 64]));
                in_events.push(&ClapMidiEvent::new(0, 0, [0xD0 | ch, 40, 0]));
            }
        }
        for key in [55u8, 62, 69, 76] {
            let t = rng.below(BLOCK) as u32;
            in_events.push(&NoteOnEvent::new(t, Pckn::new(0u16, 0u16, key as u16, u32::MAX), 0.7));
        }
        for t in 0..BLOCK as u32 {
            for &(id, min, max) in &params {
                // Stepped parameters (section, articulation, ...) snap in the plugin; a section
                // that moves has the loader thread prepare models meanwhile.
                let value = min + (max - min) * rng.unit_f64();
                in_events.push(&ParamValueEvent::new(t, id, Pckn::match_all(), value));
            }
        }
        in_events.sort();
        events_sent += in_events.len() as usize;
        let mut output = ports.with_output_buffers([AudioPortBuffer {
            latency: 0,
            channels: AudioPortBufferType::f32_output_only([&mut left[..], &mut right[..]].into_iter()),
        }]);
        let (n, result) = counted(|| {
            processor.process(
                &InputAudioBuffers::empty(),
                &mut output,
                &in_events.as_input(),
                &mut out_events.as_output(),
                Some((block * BLOCK) as u64),
                None,
            )
        });
        result.expect("process");
        out_events.clear();
        assert!(left.iter().chain(&right).all(|s| s.is_finite()));
        per_block_counts.push(n);
    }
    let processor = processor.stop_processing();
    plugin.deactivate(processor);
    println!(
        "{} parameters every sample, {BLOCKS} blocks of {BLOCK}, {events_sent} events; activation through the \
         host: {activation} allocations (nice-plug's wrapper and Rosin); per block in process: {per_block_counts:?}",
        params.len()
    );
    assert!(per_block_counts.iter().all(|&n| n == 0), "allocations in process: {per_block_counts:?}");
}
