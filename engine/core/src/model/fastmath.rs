//! Fast, accurate `exp`, `tanh` and sigmoid for the real-time network.
//!
//! libm's versions are not inlined and do not vectorise; these are (relative error ~2e-7,
//! so the runtime still matches candle's forward pass to 1e-5).

/// e^x for x in roughly [-87, 88]; clamped outside.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    // x = n ln2 + r, |r| <= ln2/2
    let n = (x * std::f32::consts::LOG2_E).round();
    let r = x - n * 0.693_145_75 - n * 1.428_606_8e-6;
    // Minimax-style Taylor to degree 6 on the reduced range.
    let p = 1.0
        + r * (1.0 + r * (0.5 + r * (0.166_666_67 + r * (0.041_666_668 + r * (0.008_333_334 + r * 0.001_388_889)))));
    let bits = ((n as i32 + 127) as u32) << 23;
    p * f32::from_bits(bits)
}

#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    // For |x| small, 1 - 2/(e^2x + 1) loses relative precision; use the odd series there.
    if x.abs() < 0.0625 {
        let x2 = x * x;
        x * (1.0 - x2 * (0.333_333_34 - x2 * (0.133_333_34 - x2 * 0.053_968_254)))
    } else {
        1.0 - 2.0 / (exp(2.0 * x) + 1.0)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn close_to_libm() {
        let mut x = -20.0f32;
        while x < 20.0 {
            let e = (super::exp(x) - x.exp()).abs() / x.exp();
            assert!(e < 5e-7, "exp({x}) rel err {e}");
            assert!((super::tanh(x) - x.tanh()).abs() < 3e-7, "tanh({x})");
            let s = 1.0 / (1.0 + (-x).exp());
            assert!((super::sigmoid(x) - s).abs() < 3e-7, "sigmoid({x})");
            x += 0.00731;
        }
    }
}
