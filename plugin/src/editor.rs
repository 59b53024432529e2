//! The editor (nice-plug-egui): articulation selector and keyswitch map, performance controls,
//! a live meter (level and noise envelope, read from lock-free atomics), the model card, and
//! loading another model file, typed or chosen in a file dialog ([`crate::file_dialog`]), and
//! validated on the loader thread; errors are shown here.

use crate::file_dialog::{DialogOutcome, FileDialog};
use crate::model_source::ModelSource;
use crate::params::{ArticulationParam, RosinParams};
use crate::shared::{LoaderRequest, Shared};
use crossbeam::channel::Sender;
use egui::{Color32, RichText, Sense, Vec2};
use nice_plug::context::gui::GuiContext;
use nice_plug::prelude::*;
use nice_plug_egui::widgets::ParamSlider;
use nice_plug_egui::{create_egui_editor, EguiEditor, EguiEditorState, EguiNiceSettings, NiceEguiApp};
use rosin_core::Articulation;
use std::sync::Arc;

pub type RosinEditor = EguiEditor<RosinApp>;

pub const WIDTH: u32 = 720;
pub const HEIGHT: u32 = 560;

pub fn create(params: Arc<RosinParams>, shared: Arc<Shared>, loader: Sender<LoaderRequest>) -> Option<RosinEditor> {
    let state = EguiEditorState::from_size(nice_plug::editor::dpi::LogicalSize::new(WIDTH as f64, HEIGHT as f64), 1.0);
    let app = RosinApp {
        params,
        shared,
        loader,
        gui: None,
        path: String::new(),
        dialog: FileDialog::default(),
        dialog_problem: None,
        peak_hold: [0.0; 2],
    };
    create_egui_editor(state, nice_plug_egui::RepaintNotifier::new(), EguiNiceSettings::new().with_tile("Rosin"), app)
}

pub struct RosinApp {
    params: Arc<RosinParams>,
    shared: Arc<Shared>,
    loader: Sender<LoaderRequest>,
    gui: Option<GuiContext>,
    path: String,
    dialog: FileDialog,
    /// Why the last dialog could not open (shown under the path field).
    dialog_problem: Option<String>,
    /// Per channel: the peak the bar shows, falling back slowly.
    peak_hold: [f32; 2],
}

impl NiceEguiApp for RosinApp {
    fn build(
        &mut self,
        _egui_ctx: egui::Context,
        nice_gui_ctx: GuiContext,
        _frame: &mut nice_plug_egui::Frame,
    ) -> Result<(), nice_plug_egui::baseview::HandlerError> {
        self.gui = Some(nice_gui_ctx);
        Ok(())
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut nice_plug_egui::Frame) {
        let Some(gui) = self.gui.clone() else { return };
        let setter = gui.param_setter();
        draw(self, ui, &setter);
        ui.ctx().request_repaint();
    }
}

/// Draws the whole editor; public so a test can render it without a host window.
pub fn draw(app: &mut RosinApp, ui: &mut egui::Ui, setter: &ParamSetter) {
    egui::Frame::new().inner_margin(10.0).show(ui, |ui| draw_inner(app, ui, setter));
}

fn draw_inner(app: &mut RosinApp, ui: &mut egui::Ui, setter: &ParamSetter) {
    let p = app.params.clone();
    ui.horizontal(|ui| {
        ui.heading(RichText::new("Rosin").strong());
        ui.label("neural orchestral strings");
    });
    ui.separator();
    ui.columns(2, |cols| {
        let ui = &mut cols[0];
        ui.label(RichText::new("Articulation").strong());
        let base = p.keyswitch_base.value();
        let current = p.articulation.value();
        ui.horizontal_wrapped(|ui| {
            for (i, a) in Articulation::ALL.into_iter().map(ArticulationParam).enumerate() {
                let label = format!("{}\n{}", a.0, note_name(base + i as i32));
                if ui.selectable_label(current == a, label).clicked() {
                    setter.begin_set_parameter(&p.articulation);
                    setter.set_parameter(&p.articulation, a);
                    setter.end_set_parameter(&p.articulation);
                }
            }
        });
        let uacc: Vec<String> = Articulation::ALL.iter().map(|a| a.default_uacc().to_string()).collect();
        let programs = Articulation::ALL.map(Articulation::default_program);
        ui.small(format!(
            "Keyswitches {} from {}; CC{} (UACC) {}; program {}-{}, GM 40-43/48/49 arco, 44 trem., 45 pizz.",
            if p.keyswitches.value() { "on" } else { "off" },
            note_name(base),
            p.cc_articulation.value(),
            uacc.join("/"),
            programs[0],
            programs[programs.len() - 1]
        ));
        ui.add_space(6.0);
        ui.label(RichText::new("Performance").strong());
        egui::Grid::new("perf").num_columns(2).show(ui, |ui| {
            row(ui, "Section", ParamSlider::for_param(&p.section, setter));
            ui.end_row();
            row(ui, "Dynamic (CC1)", ParamSlider::for_param(&p.dynamic, setter));
            ui.end_row();
            row(ui, "Expression (CC11)", ParamSlider::for_param(&p.expression, setter));
            ui.end_row();
            row(ui, "Vibrato depth", ParamSlider::for_param(&p.vibrato_depth, setter));
            ui.end_row();
            row(ui, "Vibrato rate", ParamSlider::for_param(&p.vibrato_rate, setter));
            ui.end_row();
            row(ui, "Variation", ParamSlider::for_param(&p.variation, setter));
            ui.end_row();
            row(ui, "Take seed", ParamSlider::for_param(&p.seed, setter));
            ui.end_row();
            row(ui, "Voice mode", ParamSlider::for_param(&p.voice_mode, setter));
            ui.end_row();
            row(ui, "Glide", ParamSlider::for_param(&p.glide, setter));
            ui.end_row();
            row(ui, "Bend range", ParamSlider::for_param(&p.bend_range, setter));
            ui.end_row();
            row(ui, "Release", ParamSlider::for_param(&p.release, setter));
            ui.end_row();
            row(ui, "Dynamic range", ParamSlider::for_param(&p.dynamic_range, setter));
            ui.end_row();
            row(ui, "Output gain", ParamSlider::for_param(&p.gain, setter));
            ui.end_row();
        });

        let ui = &mut cols[1];
        meter(app, ui);
        ui.add_space(6.0);
        ui.label(RichText::new("Stage").strong());
        egui::Grid::new("stage").num_columns(2).show(ui, |ui| {
            row(ui, "Placement", ParamSlider::for_param(&p.placement, setter));
            ui.end_row();
            row(ui, "Pan (CC10)", ParamSlider::for_param(&p.pan, setter));
            ui.end_row();
            row(ui, "Room", ParamSlider::for_param(&p.room_wet, setter));
            ui.end_row();
            row(ui, "Room decay", ParamSlider::for_param(&p.room_decay, setter));
            ui.end_row();
            row(ui, "Pre-delay", ParamSlider::for_param(&p.room_pre_delay, setter));
            ui.end_row();
            row(ui, "Room damping", ParamSlider::for_param(&p.room_damping, setter));
            ui.end_row();
        });
        ui.add_space(6.0);
        model_card(app, ui);
    });
    ui.separator();
    egui::CollapsingHeader::new("Controller map").default_open(true).show(ui, |ui| {
        egui::Grid::new("ccmap").num_columns(4).show(ui, |ui| {
            row(ui, "Dynamic", ParamSlider::for_param(&p.cc_dynamic, setter));
            row(ui, "Expression", ParamSlider::for_param(&p.cc_expression, setter));
            ui.end_row();
            row(ui, "Vibrato depth", ParamSlider::for_param(&p.cc_vibrato_depth, setter));
            row(ui, "Vibrato rate", ParamSlider::for_param(&p.cc_vibrato_rate, setter));
            ui.end_row();
            row(ui, "Articulation", ParamSlider::for_param(&p.cc_articulation, setter));
            row(ui, "Sustain", ParamSlider::for_param(&p.cc_sustain, setter));
            ui.end_row();
            row(ui, "Keyswitches", ParamSlider::for_param(&p.keyswitches, setter));
            row(ui, "Keyswitch base", ParamSlider::for_param(&p.keyswitch_base, setter));
            ui.end_row();
            row(ui, "Variation", ParamSlider::for_param(&p.cc_variation, setter));
        });
    });
}

fn row(ui: &mut egui::Ui, label: &str, widget: impl egui::Widget) {
    ui.label(label);
    ui.add(widget);
}

fn note_name(key: i32) -> String {
    const NAMES: [&str; 12] = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"];
    format!("{}{}", NAMES[key.rem_euclid(12) as usize], key.div_euclid(12) - 1)
}

fn meter(app: &mut RosinApp, ui: &mut egui::Ui) {
    let m = &app.shared.meter;
    let peaks = m.take_peaks();
    ui.label(RichText::new("Output").strong());
    let mut loudest = f32::NEG_INFINITY;
    for (channel, (peak, hold)) in peaks.iter().zip(app.peak_hold.iter_mut()).enumerate() {
        *hold = peak.max(*hold * 0.93);
        let db = util::gain_to_db(hold.max(1e-6));
        loudest = loudest.max(db);
        ui.horizontal(|ui| {
            ui.small(["L", "R"][channel]);
            let (rect, _) = ui.allocate_exact_size(Vec2::new(ui.available_width(), 10.0), Sense::hover());
            let painter = ui.painter_at(rect);
            painter.rect_filled(rect, 2.0, Color32::from_gray(30));
            let frac = ((db + 60.0) / 66.0).clamp(0.0, 1.0);
            let mut bar = rect;
            bar.set_width(rect.width() * frac);
            let colour = if db > 0.0 { Color32::RED } else { Color32::from_rgb(90, 190, 120) };
            painter.rect_filled(bar, 2.0, colour);
        });
    }
    let db = loudest;
    ui.small(format!("peak {db:.1} dBFS · {} voices", m.voices()));

    ui.label("Noise envelope (per band)");
    let mut noise = [0.0f32; crate::meter::METER_BANDS];
    let n = m.noise(&mut noise);
    let (rect, _) = ui.allocate_exact_size(Vec2::new(ui.available_width(), 70.0), Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, Color32::from_gray(25));
    if n > 0 {
        let w = rect.width() / n as f32;
        for i in 0..n {
            let p = noise[i].max(1e-12);
            let db = 10.0 * p.log10();
            let h = ((db + 120.0) / 100.0).clamp(0.0, 1.0) * rect.height();
            let x = rect.left() + i as f32 * w;
            painter.rect_filled(
                egui::Rect::from_min_max(egui::pos2(x, rect.bottom() - h), egui::pos2(x + w * 0.8, rect.bottom())),
                0.0,
                Color32::from_rgb(120, 150, 220),
            );
        }
    }
}

fn model_card(app: &mut RosinApp, ui: &mut egui::Ui) {
    let status = app.shared.status.lock().unwrap_or_else(|e| e.into_inner()).clone();
    ui.label(RichText::new("Model").strong());
    match &status.card {
        Some(card) => {
            ui.label(RichText::new(&card.name).strong());
            ui.small(&card.instrument);
            let arts: Vec<String> = card.articulations.iter().map(|a| a.to_string()).collect();
            ui.small(format!("Articulations: {}", arts.join(", ")));
            ui.small(format!("Source: {}", card.training.source));
            ui.small(format!("Licence: {}", card.training.licence));
            ui.small(format!("Loaded from: {}", status.source));
            if status.fallback {
                ui.colored_label(
                    Color32::YELLOW,
                    "No trained model of this name is embedded in this build: Rosin stays silent.",
                );
            }
        }
        None => {
            ui.small("No model card to show.");
        }
    }
    if let Some(e) = &status.error {
        ui.colored_label(Color32::from_rgb(240, 110, 100), format!("Could not load: {e}"));
    }
    match app.dialog.poll() {
        Some(DialogOutcome::Chosen(path)) => {
            app.path = path.display().to_string();
            app.dialog_problem = None;
            let _ = app.loader.send(LoaderRequest::LoadFile(path));
        }
        Some(DialogOutcome::Unavailable(why)) => app.dialog_problem = Some(why),
        Some(DialogOutcome::Cancelled) | None => {}
    }
    ui.horizontal(|ui| {
        ui.add(egui::TextEdit::singleline(&mut app.path).hint_text("/path/to/model.safetensors").desired_width(150.0));
        let browse = ui.add_enabled(!app.dialog.is_open(), egui::Button::new("Browse…"));
        if browse.clicked() {
            // Start where the typed path points, if it is a folder or a file in one.
            let typed = std::path::PathBuf::from(app.path.trim());
            let start = if typed.is_dir() {
                Some(typed)
            } else {
                typed.parent().filter(|d| d.is_dir()).map(|d| d.to_path_buf())
            };
            app.dialog.open(start);
        }
        if ui.button("Load model").clicked() && !app.path.trim().is_empty() {
            let _ = app.loader.send(LoaderRequest::LoadFile(app.path.trim().into()));
        }
    });
    if let Some(why) = &app.dialog_problem {
        ui.colored_label(Color32::YELLOW, why);
    }
    if matches!(status.source, ModelSource::File { .. }) {
        ui.small("Choosing a section plays its embedded model again.");
    }
}
