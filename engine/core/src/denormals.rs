//! Flush-to-zero for the duration of a render call, so decaying filters and releases never
//! hit the 100x slower denormal path. The previous mode is restored on drop.

pub struct FlushToZero {
    #[cfg(target_arch = "x86_64")]
    saved: u32,
}

impl FlushToZero {
    #[allow(clippy::new_without_default)]
    #[inline]
    pub fn new() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            let mut saved: u32 = 0;
            // SAFETY: reading and writing MXCSR only changes this thread's float modes.
            unsafe {
                std::arch::asm!("stmxcsr [{}]", in(reg) &mut saved, options(nostack));
                let ftz_daz = saved | 0x8040;
                std::arch::asm!("ldmxcsr [{}]", in(reg) &ftz_daz, options(nostack));
            }
            FlushToZero { saved }
        }
        #[cfg(not(target_arch = "x86_64"))]
        FlushToZero {}
    }
}

impl Drop for FlushToZero {
    #[inline]
    fn drop(&mut self) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: restores the mode saved in `new`.
        unsafe {
            std::arch::asm!("ldmxcsr [{}]", in(reg) &self.saved, options(nostack));
        }
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    #[test]
    fn denormals_flush_to_zero_inside_the_guard_only() {
        let tiny = std::hint::black_box(f32::MIN_POSITIVE);
        let half = std::hint::black_box(0.5f32);
        let before = tiny * half;
        assert!(before != 0.0 && before.is_subnormal());
        {
            let _ftz = super::FlushToZero::new();
            assert_eq!(std::hint::black_box(tiny) * std::hint::black_box(half), 0.0);
        }
        assert!((std::hint::black_box(tiny) * half).is_subnormal(), "mode restored");
    }
}
