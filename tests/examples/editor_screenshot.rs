//! Opens the bundled plugin's editor in an X11 window (through the CLAP gui extension, as a
//! host would), plays a chord so the meter moves, and screenshots it:
//!
//!     xvfb-run -a -s "-screen 0 760x600x24" cargo run --release -p rosin-tests --example editor_screenshot -- docs/editor.png
//!
//! (scripts/screenshot-editor.sh). Needs `cargo xtask bundle rosin --release` and ImageMagick's `import`.

use rosin_tests::host as common;

use clack_extensions::gui::{GuiApiType, GuiConfiguration, PluginGui, Window as ClapWindow};
use clack_host::events::event_types::MidiEvent as ClapMidiEvent;
use clack_host::prelude::*;
use std::time::{Duration, Instant};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ConnectionExt, CreateWindowAux, WindowClass};

fn main() {
    let out = std::env::args().nth(1).unwrap_or_else(|| "docs/editor.png".into());
    let entry = common::load_entry();
    let mut plugin = common::instantiate(&entry);

    let (conn, screen_num) = x11rb::connect(None).expect("no X display (run under xvfb-run)");
    let screen = &conn.setup().roots[screen_num];
    let win = conn.generate_id().unwrap();
    conn.create_window(
        x11rb::COPY_DEPTH_FROM_PARENT,
        win,
        screen.root,
        0,
        0,
        760,
        600,
        0,
        WindowClass::INPUT_OUTPUT,
        0,
        &CreateWindowAux::new().background_pixel(screen.black_pixel),
    )
    .unwrap();
    conn.map_window(win).unwrap();
    conn.flush().unwrap();

    let sample_rate = 48_000.0;
    let config = PluginAudioConfiguration { sample_rate, min_frames_count: 1, max_frames_count: 480 };
    let processor = plugin.activate(|_, _| (), config).expect("activate");

    let gui = plugin.plugin_handle().get_extension::<PluginGui>().expect("gui extension");
    gui.create(&plugin.plugin_handle(), GuiConfiguration { api_type: GuiApiType::X11, is_floating: false })
        .expect("gui create");
    if let Some(size) = gui.get_size(&plugin.plugin_handle()) {
        conn.configure_window(
            win,
            &x11rb::protocol::xproto::ConfigureWindowAux::new().width(size.width).height(size.height),
        )
        .unwrap();
        conn.flush().unwrap();
    }
    // SAFETY: `win` is a live X11 window of this process's connection, kept until the end.
    unsafe { gui.set_parent(&plugin.plugin_handle(), ClapWindow::from_x11_handle(win as _)) }.expect("set parent");
    gui.show(&plugin.plugin_handle()).expect("show");

    // Play a chord while the editor draws.
    let mut processor = processor.start_processing().expect("start");
    let mut ports = AudioPorts::with_capacity(2, 1);
    let mut out_events = EventBuffer::new();
    let mut events = EventBuffer::new();
    let (mut l, mut r) = (vec![0.0f32; 480], vec![0.0f32; 480]);
    let start = Instant::now();
    let mut first = true;
    while start.elapsed() < Duration::from_secs(4) {
        events.clear();
        if first {
            for bytes in [[0xB0u8, 1, 100], [0x90, 55, 100], [0x90, 62, 100], [0x90, 71, 100]] {
                events.push(&ClapMidiEvent::new(0, 0, bytes));
            }
            first = false;
        }
        let mut output = ports.with_output_buffers([AudioPortBuffer {
            latency: 0,
            channels: AudioPortBufferType::f32_output_only([&mut l[..], &mut r[..]].into_iter()),
        }]);
        processor
            .process(
                &InputAudioBuffers::empty(),
                &mut output,
                &events.as_input(),
                &mut out_events.as_output(),
                None,
                None,
            )
            .expect("process");
        std::thread::sleep(Duration::from_millis(10));
    }
    let status = std::process::Command::new("import")
        .args(["-window", &win.to_string(), &out])
        .status()
        .expect("run ImageMagick import");
    assert!(status.success(), "import failed");
    println!("wrote {out}");

    let processor = processor.stop_processing();
    plugin.deactivate(processor);
    // Closing the editor under Xvfb (baseview's X11 thread against a parent window that no
    // window manager owns) can crash on the way out; the picture is taken, so leave here.
    std::process::exit(0);
}
