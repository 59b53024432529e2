//! The model's stochastic part: what the control network cannot predict from pitch, dynamic,
//! articulation and time — bow wobble and section breathing on sustains, bow strokes on tremolo,
//! take-to-take differences of shorts and pizzicati — *sampled* per note instead of averaged away.
//!
//! The network predicts the conditional mean of each frame's level and harmonic envelope. The
//! residual of the recordings around that mean is described by a few components (a direction in
//! the space of `[level, harmonic bands]`), each an autoregressive process per articulation
//! (its spectrum is the level envelope's modulation spectrum: a resonant AR pair *is* a
//! quasi-periodic tremolo stroke with the recordings' rate and irregularity) plus a per-note
//! offset (take-to-take difference). Everything here is fitted from the recordings by
//! `rosin-train` (Yule–Walker on the residuals of the trained network); nothing is drawn by hand.
//!
//! Real-time: the state is preallocated per voice; starting a note runs a fixed burn-in, each
//! frame costs `components × order` multiply-adds. Seeded: the same seed and note number give the
//! same take, so renders are deterministic whatever the block size.

use crate::rng::XorShift64;
use serde::{Deserialize, Serialize};

/// Sizes of the fluctuation model (in the card; absent in models without one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FluctuationShape {
    /// Directions in `[level, harmonic bands, noise bands]` space.
    pub components: usize,
    /// Autoregressive order (frames of memory at the control rate).
    pub order: usize,
}

/// Largest order / component count accepted from a file.
pub const MAX_ORDER: usize = 256;
pub const MAX_COMPONENTS: usize = 16;
/// Frames run before a note's first frame so its process starts near its stationary state
/// (0.5 s at 250 Hz, several times the fitted processes' 192 ms memory). It is the note-on's
/// cost: with 6 components of order 48 about 40,000 multiply-adds, some 15 µs.
const BURN_IN_FRAMES: usize = 125;
/// A component never leaves ±this (natural-log units; ±8 is ±70 dB): a safety bound for a
/// variation far above 1, never reached at 1.
const COMPONENT_LIMIT: f32 = 8.0;

/// Tensor names and shapes of the fluctuation model, for `articulations` slots and `layers`
/// dynamic layers over `width` network outputs (ln level, harmonic bands, noise bands).
pub fn expected_tensors(
    shape: &FluctuationShape,
    articulations: usize,
    layers: usize,
    width: usize,
) -> Vec<(&'static str, Vec<usize>)> {
    let (k, p) = (shape.components, shape.order);
    vec![
        ("fluctuation.basis", vec![k, width]),
        ("fluctuation.ar", vec![articulations, k, p]),
        ("fluctuation.innovation", vec![articulations, layers, k]),
        ("fluctuation.take", vec![articulations, layers, k]),
    ]
}

/// A fitted fluctuation model.
#[derive(Debug, Clone, PartialEq)]
pub struct Fluctuation {
    pub shape: FluctuationShape,
    pub articulations: usize,
    pub layers: usize,
    /// The network outputs the components move (ln level, harmonic bands, noise bands).
    pub width: usize,
    /// `[components][width]`: how one unit of each component moves level and envelope.
    pub basis: Vec<f32>,
    /// `[articulation][component][order]`: x_t = Σ_j ar[j] x_{t-1-j} + innovation · e_t.
    pub ar: Vec<f32>,
    /// `[articulation][layer][component]`: standard deviation of the innovation e_t's scale.
    pub innovation: Vec<f32>,
    /// `[articulation][layer][component]`: standard deviation of a note's constant offset.
    pub take: Vec<f32>,
}

/// One voice's fluctuation state (sized for a model, allocated off the audio thread).
#[derive(Debug, Clone)]
pub struct FluctuationState {
    /// `[component][order]` ring buffers of past values.
    history: Vec<f32>,
    pos: usize,
    offsets: Vec<f32>,
    values: Vec<f32>,
    rng: XorShift64,
    slot: usize,
    started: bool,
}

impl FluctuationState {
    pub fn new(shape: Option<&FluctuationShape>) -> Self {
        let (k, p) = shape.map(|s| (s.components, s.order)).unwrap_or((0, 0));
        FluctuationState {
            history: vec![0.0; k * p],
            pos: 0,
            offsets: vec![0.0; k],
            values: vec![0.0; k],
            rng: XorShift64::new(1),
            slot: 0,
            started: false,
        }
    }

    /// Forgets the note: the next frame starts a new take.
    pub fn reset(&mut self) {
        self.started = false;
    }

    /// The components' current values (offset included), for tests and meters.
    pub fn values(&self) -> &[f32] {
        &self.values
    }
}

/// The seed of a note's take: the render's seed and the note's number, mixed so that
/// neighbouring seeds and note numbers give unrelated takes.
pub fn take_seed(seed: u64, note: u64) -> u64 {
    let mut z = seed ^ note.wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A unit-variance, zero-mean deviate: the sum of four uniforms (Irwin–Hall), rescaled. Plain
/// arithmetic, so every platform draws the same takes; its tails end at ±3.5, which keeps a
/// take from ever lurching.
#[inline]
fn gaussian(rng: &mut XorShift64) -> f32 {
    let s = rng.unit() + rng.unit() + rng.unit() + rng.unit();
    (s - 2.0) * 1.732_050_8
}

/// Weights of the two dynamic layers around `dynamic` (indices into `layer_dynamics`).
fn layer_weights(dynamic: f32, layer_dynamics: &[f32]) -> (usize, usize, f32) {
    let n = layer_dynamics.len();
    if n < 2 {
        return (0, 0, 0.0);
    }
    if dynamic <= layer_dynamics[0] {
        return (0, 0, 0.0);
    }
    for i in 0..n - 1 {
        let (a, b) = (layer_dynamics[i], layer_dynamics[i + 1]);
        if dynamic <= b {
            let t = if b > a { (dynamic - a) / (b - a) } else { 0.0 };
            return (i, i + 1, t);
        }
    }
    (n - 1, n - 1, 0.0)
}

impl Fluctuation {
    fn check(&self) -> Result<(), String> {
        let (k, p) = (self.shape.components, self.shape.order);
        if k == 0 || k > MAX_COMPONENTS || p == 0 || p > MAX_ORDER {
            return Err(format!(
                "fluctuation shape {k} components × order {p} is outside 1..={MAX_COMPONENTS} × 1..={MAX_ORDER}"
            ));
        }
        let sizes = [
            ("basis", self.basis.len(), k * self.width),
            ("ar", self.ar.len(), self.articulations * k * p),
            ("innovation", self.innovation.len(), self.articulations * self.layers.max(1) * k),
            ("take", self.take.len(), self.articulations * self.layers.max(1) * k),
        ];
        for (name, found, want) in sizes {
            if found != want {
                return Err(format!("fluctuation.{name} has {found} values, expected {want}"));
            }
        }
        if let Some(i) = self.innovation.iter().chain(&self.take).position(|v| !(0.0..=4.0).contains(v)) {
            return Err(format!("fluctuation scale #{i} is not a standard deviation in 0..4"));
        }
        for a in 0..self.articulations {
            for c in 0..k {
                let coeffs = &self.ar[(a * k + c) * p..(a * k + c + 1) * p];
                // Σ|a_j| < 1 is sufficient for stability; Yule–Walker fits are stable anyway, so
                // this bound only refuses a corrupt file's explosive process.
                let sum: f32 = coeffs.iter().map(|v| v.abs()).sum();
                if sum > 64.0 {
                    return Err(format!("fluctuation.ar for articulation {a} component {c} is not a stable filter"));
                }
            }
        }
        Ok(())
    }

    /// Builds a fluctuation model from its tensors (validated: sizes, scales, boundedness).
    pub fn from_tensors(
        shape: FluctuationShape,
        articulations: usize,
        layers: usize,
        width: usize,
        tensors: [Vec<f32>; 4],
    ) -> Result<Fluctuation, String> {
        let [basis, ar, innovation, take] = tensors;
        let f = Fluctuation { shape, articulations, layers: layers.max(1), width, basis, ar, innovation, take };
        f.check()?;
        Ok(f)
    }

    /// The tensors in [`expected_tensors`] order.
    pub fn tensors(&self) -> [&[f32]; 4] {
        [&self.basis, &self.ar, &self.innovation, &self.take]
    }

    fn scales(&self, table: &[f32], slot: usize, dynamic: f32, layer_dynamics: &[f32], c: usize) -> f32 {
        let k = self.shape.components;
        let (i0, i1, t) = layer_weights(dynamic, layer_dynamics);
        let (i0, i1) = (i0.min(self.layers - 1), i1.min(self.layers - 1));
        let at = |l: usize| table[(slot * self.layers + l) * k + c];
        at(i0) + (at(i1) - at(i0)) * t
    }

    /// Starts a new take for a note of articulation `slot` at `dynamic`: seeds the state, draws
    /// the note's offsets and runs the burn-in (bounded, allocation-free).
    pub fn start(&self, st: &mut FluctuationState, slot: usize, dynamic: f32, layer_dynamics: &[f32], seed: u64) {
        let slot = slot.min(self.articulations.saturating_sub(1));
        st.rng = XorShift64::new(seed);
        st.slot = slot;
        st.pos = 0;
        st.history.fill(0.0);
        for c in 0..self.shape.components {
            st.offsets[c] = self.scales(&self.take, slot, dynamic, layer_dynamics, c) * gaussian(&mut st.rng);
        }
        for _ in 0..BURN_IN_FRAMES {
            self.advance(st, dynamic, layer_dynamics);
        }
        st.started = true;
    }

    /// One control frame of every component.
    fn advance(&self, st: &mut FluctuationState, dynamic: f32, layer_dynamics: &[f32]) {
        let (k, p) = (self.shape.components, self.shape.order);
        let slot = st.slot;
        let pos = st.pos;
        for c in 0..k {
            let coeffs = &self.ar[(slot * k + c) * p..(slot * k + c + 1) * p];
            let hist = &st.history[c * p..(c + 1) * p];
            // hist[pos-1] is the newest value, hist[pos-1-j] the one j frames before it.
            let mut x = 0.0f32;
            for (j, a) in coeffs.iter().enumerate() {
                x += a * hist[(pos + p - 1 - j) % p];
            }
            x += self.scales(&self.innovation, slot, dynamic, layer_dynamics, c) * gaussian(&mut st.rng);
            let x = x.clamp(-COMPONENT_LIMIT, COMPONENT_LIMIT);
            st.history[c * p + pos] = x;
            st.values[c] = x + st.offsets[c];
        }
        st.pos = (pos + 1) % p;
    }

    /// Advances one frame (starting a take first if the note is new) and adds `variation` times
    /// the components to `outputs[..width]` (ln level, then the envelopes relative to it).
    /// `variation` 0 leaves the outputs untouched: the averaged, deterministic note.
    #[allow(clippy::too_many_arguments)]
    pub fn apply(
        &self,
        st: &mut FluctuationState,
        slot: usize,
        dynamic: f32,
        layer_dynamics: &[f32],
        seed: u64,
        variation: f32,
        outputs: &mut [f32],
    ) {
        if !st.started {
            self.start(st, slot, dynamic, layer_dynamics, seed);
        }
        self.advance(st, dynamic, layer_dynamics);
        if variation == 0.0 {
            return;
        }
        let w = self.width.min(outputs.len());
        for c in 0..self.shape.components {
            let x = variation * st.values[c];
            for (o, b) in outputs[..w].iter_mut().zip(&self.basis[c * self.width..c * self.width + w]) {
                *o += x * b;
            }
        }
    }
}

/// Fits an autoregressive model of order `p` to an autocorrelation sequence `r[0..=p]`
/// (Levinson–Durbin). Returns the coefficients (x_t ≈ Σ a_j x_{t-1-j}) and the ratio of the
/// innovation's variance to the process's. A biased autocorrelation estimate gives a stable
/// filter. Lives here, beside the process it fits, so fitting and playing agree on the sign
/// convention.
pub fn levinson(r: &[f64], p: usize) -> (Vec<f64>, f64) {
    let mut a = vec![0.0f64; p];
    if r.is_empty() || r[0] <= 0.0 {
        return (a, 1.0);
    }
    let mut err = r[0];
    let mut prev = vec![0.0f64; p];
    for m in 0..p.min(r.len() - 1) {
        let mut acc = r[m + 1];
        for j in 0..m {
            acc -= prev[j] * r[m - j];
        }
        let k = acc / err;
        a[m] = k;
        for j in 0..m {
            a[j] = prev[j] - k * prev[m - 1 - j];
        }
        err *= 1.0 - k * k;
        if err <= 1e-12 * r[0] {
            break;
        }
        prev[..=m].copy_from_slice(&a[..=m]);
    }
    (a, (err / r[0]).clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_component(ar: Vec<f32>, innovation: f32, take: f32) -> Fluctuation {
        let p = ar.len();
        Fluctuation::from_tensors(
            FluctuationShape { components: 1, order: p },
            1,
            1,
            3,
            [vec![1.0, 0.5, 0.0], ar, vec![innovation], vec![take]],
        )
        .unwrap()
    }

    #[test]
    fn levinson_recovers_an_ar2_process() {
        // x_t = 1.6 x_{t-1} - 0.8 x_{t-2} + e: a resonance (a "stroke rate").
        let (a1, a2) = (1.6f64, -0.8f64);
        let mut rng = XorShift64::new(5);
        let (mut x1, mut x2) = (0.0f64, 0.0f64);
        let n = 200_000;
        let mut xs = Vec::with_capacity(n);
        for _ in 0..n {
            let x = a1 * x1 + a2 * x2 + gaussian(&mut rng) as f64;
            xs.push(x);
            x2 = x1;
            x1 = x;
        }
        let r: Vec<f64> =
            (0..=4).map(|k| xs[k..].iter().zip(&xs).map(|(a, b)| a * b).sum::<f64>() / n as f64).collect();
        let (a, ratio) = levinson(&r, 4);
        assert!((a[0] - a1).abs() < 0.02 && (a[1] - a2).abs() < 0.02, "{a:?}");
        assert!(a[2].abs() < 0.02 && a[3].abs() < 0.02, "{a:?}");
        assert!((ratio * r[0] - 1.0).abs() < 0.05, "innovation variance {}", ratio * r[0]);
    }

    #[test]
    fn takes_are_seeded_and_differ_between_notes() {
        let f = one_component(vec![0.9], 0.1, 0.2);
        let run = |seed: u64| {
            let mut st = FluctuationState::new(Some(&f.shape));
            (0..50)
                .map(|_| {
                    let mut out = [0.0f32; 3];
                    f.apply(&mut st, 0, 0.5, &[0.5], seed, 1.0, &mut out);
                    assert_eq!(out[2], 0.0);
                    assert!((out[1] - 0.5 * out[0]).abs() < 1e-6);
                    out[0]
                })
                .collect::<Vec<f32>>()
        };
        assert_eq!(run(take_seed(0, 1)), run(take_seed(0, 1)));
        assert_ne!(run(take_seed(0, 1)), run(take_seed(0, 2)));
        assert_ne!(run(take_seed(1, 1)), run(take_seed(0, 1)));
    }

    #[test]
    fn variation_zero_leaves_the_network_alone_and_scales_linearly() {
        let f = one_component(vec![0.5, 0.2], 0.3, 0.1);
        let mut outs = [[0.25f32; 3]; 3];
        for (v, out) in [0.0f32, 1.0, 2.0].iter().zip(&mut outs) {
            let mut st = FluctuationState::new(Some(&f.shape));
            f.apply(&mut st, 0, 0.5, &[0.5], 9, *v, out);
        }
        assert_eq!(outs[0], [0.25; 3]);
        assert!(((outs[2][0] - 0.25) - 2.0 * (outs[1][0] - 0.25)).abs() < 1e-6);
    }

    #[test]
    fn the_process_has_the_fitted_variance() {
        // AR(1) a = 0.8, innovation 0.6: stationary std 0.6 / sqrt(1 - 0.64) = 1.0.
        let f = one_component(vec![0.8], 0.6, 0.0);
        let mut st = FluctuationState::new(Some(&f.shape));
        let mut sq = 0.0f64;
        let n = 100_000;
        for _ in 0..n {
            let mut out = [0.0f32; 3];
            f.apply(&mut st, 0, 0.5, &[0.5], 3, 1.0, &mut out);
            sq += (out[0] as f64).powi(2);
        }
        let std = (sq / n as f64).sqrt();
        assert!((std - 1.0).abs() < 0.05, "{std}");
    }

    #[test]
    fn layers_interpolate_over_the_dynamic() {
        assert_eq!(layer_weights(0.1, &[0.3, 0.9]), (0, 0, 0.0));
        let (a, b, t) = layer_weights(0.6, &[0.3, 0.9]);
        assert_eq!((a, b), (0, 1));
        assert!((t - 0.5).abs() < 1e-6);
        assert_eq!(layer_weights(1.0, &[0.3, 0.9]), (1, 1, 0.0));
        assert_eq!(layer_weights(0.5, &[]), (0, 0, 0.0));
    }

    #[test]
    fn corrupt_fluctuation_tensors_are_refused() {
        let bad = Fluctuation::from_tensors(
            FluctuationShape { components: 1, order: 1 },
            1,
            1,
            3,
            [vec![1.0; 3], vec![1e6], vec![0.1], vec![0.1]],
        );
        assert!(bad.unwrap_err().contains("stable"));
        let bad = Fluctuation::from_tensors(
            FluctuationShape { components: 1, order: 1 },
            1,
            1,
            3,
            [vec![1.0; 2], vec![0.5], vec![0.1], vec![0.1]],
        );
        assert!(bad.unwrap_err().contains("basis"));
    }
}
