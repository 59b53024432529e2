//! A minimal CLAP host (clack-host) shared by the plugin tests, the start-up benchmark and the
//! editor screenshot.

use clack_extensions::gui::{GuiSize, HostGui, HostGuiImpl};
use clack_extensions::params::{ParamInfoBuffer, PluginParams};
use clack_extensions::render::{PluginRender, RenderMode};
use clack_extensions::state::PluginState;
use clack_host::events::event_types::MidiEvent as ClapMidiEvent;
use clack_host::prelude::*;
use std::ffi::CStr;
use std::path::{Path, PathBuf};

pub struct TestShared;
impl SharedHandler<'_> for TestShared {
    fn request_restart(&self) {}
    fn request_process(&self) {}
    fn request_callback(&self) {}
}

pub struct TestHost;
impl HostHandlers for TestHost {
    type Shared<'a> = TestShared;
    type MainThread<'a> = ();
    type AudioProcessor<'a> = ();

    fn declare_extensions(builder: &mut HostExtensions<Self>, _shared: &Self::Shared<'_>) {
        builder.register::<HostGui>();
    }
}

/// The host side of the gui extension (nice-plug's editor needs one): a fixed-size window.
impl HostGuiImpl for TestShared {
    fn resize_hints_changed(&self) {}
    fn request_resize(&self, _new_size: GuiSize) -> Result<(), HostError> {
        Err(HostError::Message("fixed size"))
    }
    fn request_show(&self) -> Result<(), HostError> {
        Ok(())
    }
    fn request_hide(&self) -> Result<(), HostError> {
        Ok(())
    }
    fn closed(&self, _was_destroyed: bool) {}
}

/// Where the bundled `Rosin.clap` is: `$ROSIN_CLAP`, or `<target>/bundled/Rosin.clap`.
pub fn bundle_path() -> PathBuf {
    if let Some(p) = std::env::var_os("ROSIN_CLAP") {
        return p.into();
    }
    target_dir().join("bundled").join("Rosin.clap")
}

pub fn target_dir() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"))
}

/// Whether a host test can run: the plugin build it needs exists. A missing build fails the
/// test when `ROSIN_REQUIRE_PLUGIN_BUILDS=1` (scripts/test-plugin.sh, CI); otherwise, e.g. in a
/// plain `cargo test --workspace` before bundling, the test says what to run and passes.
pub fn plugin_build_present(path: &Path, how: &str) -> bool {
    if path.exists() {
        return true;
    }
    let message = format!("{} is missing: run `{how}` first (scripts/test-plugin.sh does)", path.display());
    if std::env::var_os("ROSIN_REQUIRE_PLUGIN_BUILDS").is_some_and(|v| v != "0") {
        panic!("{message}");
    }
    eprintln!("SKIPPING plugin host test: {message}");
    false
}

pub fn load_entry() -> PluginEntry {
    load_entry_from(&bundle_path())
}

pub fn load_entry_from(path: &Path) -> PluginEntry {
    // SAFETY: loading a CLAP plugin library runs its initialisers; this is the plugin under test.
    unsafe { PluginEntry::load(path) }.unwrap_or_else(|e| panic!("cannot load {}: {e:?}", path.display()))
}

pub fn instantiate(entry: &PluginEntry) -> PluginInstance<TestHost> {
    let host_info = HostInfo::new("rosin-tests", "Rosin", "https://example.invalid", "0.1").unwrap();
    let factory = entry.get_plugin_factory().expect("no plugin factory");
    let descriptor = factory
        .plugin_descriptors()
        .find(|d| d.id().map(|id| id.to_bytes() == b"org.rosin.strings").unwrap_or(false))
        .expect("Rosin descriptor not found");
    let id: &CStr = descriptor.id().unwrap();
    PluginInstance::<TestHost>::new(|_| TestShared, |_| (), entry, id, &host_info).expect("instantiate")
}

/// Renders `len` samples of raw MIDI at sample positions (sorted) through the plugin, cutting
/// the audio into blocks of the given sizes (cycled). Returns the left and right channels.
pub fn render_events(
    plugin: &mut PluginInstance<TestHost>,
    sample_rate: f32,
    blocks: &[usize],
    offline: bool,
    events: &[(usize, [u8; 3])],
    len: usize,
) -> (Vec<f32>, Vec<f32>) {
    let mut next_event = 0;
    render_with(plugin, sample_rate, blocks, offline, len, |pos, n, buffer, _| {
        while next_event < events.len() && events[next_event].0 < pos + n {
            let (t, bytes) = events[next_event];
            buffer.push(&ClapMidiEvent::new((t - pos) as u32, 0, bytes));
            next_event += 1;
        }
    })
}

/// Activates the plugin and renders `len` samples in blocks of the given sizes (cycled);
/// before each block `fill(block_start, block_len, input_events, plugin)` supplies its events
/// (times relative to the block) and may use the plugin's main-thread interface.
pub fn render_with(
    plugin: &mut PluginInstance<TestHost>,
    sample_rate: f32,
    blocks: &[usize],
    offline: bool,
    len: usize,
    mut fill: impl FnMut(usize, usize, &mut EventBuffer, &mut PluginInstance<TestHost>),
) -> (Vec<f32>, Vec<f32>) {
    let max = *blocks.iter().max().unwrap();
    let config =
        PluginAudioConfiguration { sample_rate: sample_rate as f64, min_frames_count: 1, max_frames_count: max as u32 };
    if let Some(render) = plugin.plugin_handle().get_extension::<PluginRender>() {
        let mode = if offline { RenderMode::Offline } else { RenderMode::Realtime };
        render.set(&plugin.plugin_handle(), mode).expect("render mode");
    } else {
        assert!(!offline, "plugin has no render extension");
    }
    let processor = plugin.activate(|_, _| (), config).expect("activate");
    let mut left = vec![0.0f32; len];
    let mut right = vec![0.0f32; len];

    let mut processor = processor.start_processing().expect("start processing");
    let mut output_ports = AudioPorts::with_capacity(2, 1);
    let mut out_events = EventBuffer::new();
    let mut in_events = EventBuffer::with_capacity(64);
    let mut pos = 0;
    let mut block = 0;
    let mut steady_time = 0u64;
    while pos < len {
        let n = blocks[block % blocks.len()].min(len - pos);
        block += 1;
        in_events.clear();
        fill(pos, n, &mut in_events, plugin);
        let (l, r) = (&mut left[pos..pos + n], &mut right[pos..pos + n]);
        let input_audio = InputAudioBuffers::empty();
        let mut output_audio = output_ports.with_output_buffers([AudioPortBuffer {
            latency: 0,
            channels: AudioPortBufferType::f32_output_only([l, r].into_iter()),
        }]);
        out_events.clear();
        processor
            .process(
                &input_audio,
                &mut output_audio,
                &in_events.as_input(),
                &mut out_events.as_output(),
                Some(steady_time),
                None,
            )
            .expect("process");
        steady_time += n as u64;
        pos += n;
    }
    let processor = processor.stop_processing();
    plugin.deactivate(processor);
    (left, right)
}

/// Saves the plugin state (nice-plug's CLAP state: a little-endian u64 length, then JSON).
pub fn save_state(plugin: &mut PluginInstance<TestHost>) -> serde_json::Value {
    let ext = plugin.plugin_handle().get_extension::<PluginState>().expect("state extension");
    let mut saved = Vec::new();
    ext.save(&plugin.plugin_handle(), &mut saved).expect("save state");
    serde_json::from_slice(&saved[8..]).expect("state is JSON")
}

pub fn load_state(plugin: &mut PluginInstance<TestHost>, state: &serde_json::Value) {
    let ext = plugin.plugin_handle().get_extension::<PluginState>().expect("state extension");
    let body = serde_json::to_vec(state).unwrap();
    let mut bytes = (body.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(&body);
    ext.load(&plugin.plugin_handle(), &mut bytes.as_slice()).expect("load state");
}

/// The CLAP id of the parameter with this display name.
pub fn param_id(plugin: &mut PluginInstance<TestHost>, name: &str) -> ClapId {
    let ext = plugin.plugin_handle().get_extension::<PluginParams>().expect("params extension");
    let mut buffer = ParamInfoBuffer::new();
    let count = ext.count(&plugin.plugin_handle());
    for i in 0..count {
        if let Some(info) = ext.get_info(&plugin.plugin_handle(), i, &mut buffer) {
            if info.name == name.as_bytes() {
                return info.id;
            }
        }
    }
    panic!("no parameter named {name}");
}
