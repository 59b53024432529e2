//! Allocation-free inference of the control network, one voice and one frame at a time.
//!
//! Weights are stored transposed ([in][out]) so every layer is a sequence of `y += w_col * x_i`
//! updates over contiguous memory, which the compiler vectorises; a row-by-row dot product does
//! not (see NOTES-candle.md). On x86-64 with AVX2+FMA a `target_feature` copy is chosen once at
//! load time; the choice is fixed per process so output stays deterministic.

use super::card::NetworkShape;
use super::fastmath;
use super::weights::NetworkWeights;

/// Immutable network weights, shared by all voices.
#[derive(Debug, Clone)]
pub struct ControlNet {
    shape: NetworkShape,
    input_w: Vec<f32>, // [I][A]
    input_b: Vec<f32>,
    ih_w: Vec<f32>, // [A][3H]
    hh_w: Vec<f32>, // [H][3H]
    ih_b: Vec<f32>,
    hh_b: Vec<f32>,
    hidden_w: Vec<f32>, // [H+I][O]
    hidden_b: Vec<f32>,
    output_w: Vec<f32>, // [O][Y]
    output_b: Vec<f32>,
    out_mean: Vec<f32>,
    out_std: Vec<f32>,
    use_fma: bool,
}

/// Per-voice recurrent state and scratch space, allocated once.
#[derive(Debug, Clone)]
pub struct NetState {
    h: Vec<f32>,
    a: Vec<f32>,
    gi: Vec<f32>,
    gh: Vec<f32>,
    hx: Vec<f32>,
    o: Vec<f32>,
    /// Indices of the non-zero entries of a layer's input (see [`affine_skipping_zeros`]).
    nonzero: Vec<u32>,
}

/// Row-major (rows, cols) → row-major (cols, rows). Also used by training's fused GRU.
pub fn transpose(w: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut t = vec![0.0; w.len()];
    for r in 0..rows {
        for c in 0..cols {
            t[c * rows + r] = w[r * cols + c];
        }
    }
    t
}

impl ControlNet {
    pub fn new(w: &NetworkWeights) -> Self {
        let s = w.shape;
        let (i, a, h, o, y) = (s.inputs, s.input_hidden, s.gru_hidden, s.output_hidden, s.outputs);
        #[cfg(target_arch = "x86_64")]
        let use_fma = std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma");
        #[cfg(not(target_arch = "x86_64"))]
        let use_fma = false;
        ControlNet {
            shape: s,
            input_w: transpose(w.get("input.weight"), a, i),
            input_b: w.get("input.bias").to_vec(),
            ih_w: transpose(w.get("gru.weight_ih"), 3 * h, a),
            hh_w: transpose(w.get("gru.weight_hh"), 3 * h, h),
            ih_b: w.get("gru.bias_ih").to_vec(),
            hh_b: w.get("gru.bias_hh").to_vec(),
            hidden_w: transpose(w.get("hidden.weight"), o, h + i),
            hidden_b: w.get("hidden.bias").to_vec(),
            output_w: transpose(w.get("output.weight"), y, o),
            output_b: w.get("output.bias").to_vec(),
            out_mean: w.get("output.mean").to_vec(),
            out_std: w.get("output.std").to_vec(),
            use_fma,
        }
    }

    pub fn shape(&self) -> NetworkShape {
        self.shape
    }

    /// Whether the AVX2/FMA kernel runs (chosen at construction from what the CPU supports).
    pub fn uses_fma_kernel(&self) -> bool {
        self.use_fma
    }

    /// Runs the portable kernel even where AVX2/FMA is available, so that tests can pin the
    /// output of both code paths on one machine (they differ in rounding, not in sound).
    pub fn use_portable_kernel(&mut self) {
        self.use_fma = false;
    }

    /// Fresh state for one voice (the GRU starts from zeros at every note-on).
    pub fn new_state(&self) -> NetState {
        let s = self.shape;
        NetState {
            h: vec![0.0; s.gru_hidden],
            a: vec![0.0; s.input_hidden],
            gi: vec![0.0; 3 * s.gru_hidden],
            gh: vec![0.0; 3 * s.gru_hidden],
            hx: vec![0.0; s.gru_hidden + s.inputs],
            o: vec![0.0; s.output_hidden],
            nonzero: vec![0; (s.gru_hidden + s.inputs).max(s.input_hidden).max(s.output_hidden)],
        }
    }

    /// One frame: `inputs` (len = shape.inputs) -> `outputs` (len = shape.outputs). No allocation.
    pub fn step(&self, state: &mut NetState, inputs: &[f32], outputs: &mut [f32]) {
        debug_assert_eq!(inputs.len(), self.shape.inputs);
        debug_assert_eq!(outputs.len(), self.shape.outputs);
        #[cfg(target_arch = "x86_64")]
        if self.use_fma {
            // SAFETY: AVX2 and FMA were detected at construction.
            unsafe { step_avx2(self, state, inputs, outputs) };
            return;
        }
        step_impl::<false>(self, state, inputs, outputs);
    }
}

impl NetState {
    pub fn reset(&mut self) {
        self.h.fill(0.0);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn step_avx2(net: &ControlNet, state: &mut NetState, inputs: &[f32], outputs: &mut [f32]) {
    step_impl::<true>(net, state, inputs, outputs)
}

/// `y = b + W x` with W stored transposed ([x.len()][y.len()]). Four input columns are folded
/// into each pass over `y`, so `y` is loaded and stored a quarter as often.
#[inline(always)]
fn affine<const FMA: bool>(wt: &[f32], b: &[f32], x: &[f32], y: &mut [f32]) {
    let n = y.len();
    y.copy_from_slice(b);
    let madd = |w: f32, x: f32, acc: f32| if FMA { w.mul_add(x, acc) } else { acc + w * x };
    let mut cols = wt.chunks_exact(4 * n);
    let mut xs = x.chunks_exact(4);
    for (block, xb) in (&mut cols).zip(&mut xs) {
        let (c0, rest) = block.split_at(n);
        let (c1, rest) = rest.split_at(n);
        let (c2, c3) = rest.split_at(n);
        let (x0, x1, x2, x3) = (xb[0], xb[1], xb[2], xb[3]);
        for o in 0..n {
            let acc = madd(c0[o], x0, y[o]);
            let acc = madd(c1[o], x1, acc);
            let acc = madd(c2[o], x2, acc);
            y[o] = madd(c3[o], x3, acc);
        }
    }
    for (col, &xi) in cols.remainder().chunks_exact(n).zip(xs.remainder()) {
        for (yo, &w) in y.iter_mut().zip(col) {
            *yo = madd(w, xi, *yo);
        }
    }
}

/// [`affine`] over the non-zero entries of `x` only. After a ReLU about half the inputs are
/// exactly zero, and a zero input adds exactly nothing (w·0 + acc == acc), so skipping those
/// columns changes no bit of the result: the remaining columns are still added in ascending
/// order, one fused multiply-add after another.
#[inline(always)]
fn affine_skipping_zeros<const FMA: bool>(wt: &[f32], b: &[f32], x: &[f32], y: &mut [f32], nonzero: &mut [u32]) {
    let n = y.len();
    let mut m = 0;
    for (i, &v) in x.iter().enumerate() {
        nonzero[m] = i as u32;
        m += (v != 0.0) as usize;
    }
    y.copy_from_slice(b);
    let madd = |w: f32, x: f32, acc: f32| if FMA { w.mul_add(x, acc) } else { acc + w * x };
    let col = |i: u32| &wt[i as usize * n..(i as usize + 1) * n];
    let mut idx = nonzero[..m].chunks_exact(4);
    for q in &mut idx {
        let (c0, c1, c2, c3) = (col(q[0]), col(q[1]), col(q[2]), col(q[3]));
        let (x0, x1, x2, x3) = (x[q[0] as usize], x[q[1] as usize], x[q[2] as usize], x[q[3] as usize]);
        for o in 0..n {
            let acc = madd(c0[o], x0, y[o]);
            let acc = madd(c1[o], x1, acc);
            let acc = madd(c2[o], x2, acc);
            y[o] = madd(c3[o], x3, acc);
        }
    }
    for &i in idx.remainder() {
        let xi = x[i as usize];
        for (yo, &w) in y.iter_mut().zip(col(i)) {
            *yo = madd(w, xi, *yo);
        }
    }
}

#[inline(always)]
fn step_impl<const FMA: bool>(net: &ControlNet, st: &mut NetState, inputs: &[f32], outputs: &mut [f32]) {
    let h = net.shape.gru_hidden;
    affine::<FMA>(&net.input_w, &net.input_b, inputs, &mut st.a);
    for v in st.a.iter_mut() {
        *v = v.max(0.0);
    }
    affine_skipping_zeros::<FMA>(&net.ih_w, &net.ih_b, &st.a, &mut st.gi, &mut st.nonzero);
    affine::<FMA>(&net.hh_w, &net.hh_b, &st.h, &mut st.gh);
    for j in 0..h {
        let r = fastmath::sigmoid(st.gi[j] + st.gh[j]);
        let z = fastmath::sigmoid(st.gi[h + j] + st.gh[h + j]);
        let n = fastmath::tanh(st.gi[2 * h + j] + r * st.gh[2 * h + j]);
        st.h[j] = (1.0 - z) * n + z * st.h[j];
    }
    st.hx[..h].copy_from_slice(&st.h);
    st.hx[h..].copy_from_slice(inputs);
    affine_skipping_zeros::<FMA>(&net.hidden_w, &net.hidden_b, &st.hx, &mut st.o, &mut st.nonzero);
    for v in st.o.iter_mut() {
        *v = v.max(0.0);
    }
    affine_skipping_zeros::<FMA>(&net.output_w, &net.output_b, &st.o, outputs, &mut st.nonzero);
    for ((y, m), s) in outputs.iter_mut().zip(&net.out_mean).zip(&net.out_std) {
        *y = *y * s + m;
    }
}
