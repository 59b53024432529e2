//! Where a section sits on the stage: the pan law and the scale of MIDI CC10, kept here so the
//! offline render and the plugin place a section the same way.

/// Constant-power gains (left, right) for `pan` in -1 (hard left) … 0 (centre) … +1 (hard
/// right): the two gains' squares sum to 1, so a section keeps its loudness wherever it sits
/// (the centre is -3 dB per channel, 0 dB summed in power).
pub fn pan_gains(pan: f32) -> (f32, f32) {
    let angle = (pan.clamp(-1.0, 1.0) + 1.0) * std::f32::consts::FRAC_PI_4;
    (angle.cos(), angle.sin())
}

/// MIDI CC10 as a pan position: 64 is the centre, 0 hard left, 127 hard right (the two halves
/// have 64 and 63 steps, as the MIDI spec's pan has).
pub fn pan_from_cc10(value: u8) -> f32 {
    let v = value.min(127) as f32;
    if v < 64.0 {
        (v - 64.0) / 64.0
    } else {
        (v - 64.0) / 63.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_power_from_left_to_right() {
        let (l, r) = pan_gains(-1.0);
        assert!((l - 1.0).abs() < 1e-6 && r.abs() < 1e-6);
        let (l, r) = pan_gains(1.0);
        assert!(l.abs() < 1e-6 && (r - 1.0).abs() < 1e-6);
        let (l, r) = pan_gains(0.0);
        assert!((l - r).abs() < 1e-6 && (20.0 * l.log10() + 3.01).abs() < 0.01);
        for i in -10..=10 {
            let (l, r) = pan_gains(i as f32 / 10.0);
            assert!((l * l + r * r - 1.0).abs() < 1e-5);
        }
        assert_eq!(pan_gains(5.0), pan_gains(1.0));
    }

    #[test]
    fn cc10_centre_and_ends() {
        assert_eq!(pan_from_cc10(64), 0.0);
        assert_eq!(pan_from_cc10(0), -1.0);
        assert_eq!(pan_from_cc10(127), 1.0);
        assert!(pan_from_cc10(32) < 0.0 && pan_from_cc10(96) > 0.0);
    }
}
