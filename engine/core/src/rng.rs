//! The project's pseudo-random generators, all of Marsaglia's xorshift family, in one place. Deterministic, allocation-free and cheap enough for the audio thread; every seeded
//! sequence in the engine, training and tests comes from here, so renders and trainings repeat
//! exactly for the same seed.

/// 32-bit xorshift (13, 17, 5): the synth's noise phases and partial start phases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XorShift32(u32);

impl XorShift32 {
    /// A generator started from `seed` (0, which xorshift cannot leave, is replaced).
    pub const fn new(seed: u32) -> Self {
        XorShift32(if seed == 0 { 0x9e37_79b9 } else { seed })
    }

    #[inline]
    pub fn next_u32(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0
    }

    /// Uniform in [0, 1].
    #[inline]
    pub fn unit(&mut self) -> f32 {
        self.next_u32() as f32 / u32::MAX as f32
    }
}

/// 64-bit xorshift (13, 7, 17): training (initial weights, batches), test data, fuzz seeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XorShift64(u64);

impl XorShift64 {
    /// A generator started from `seed` as it is (0 is replaced).
    pub const fn new(seed: u64) -> Self {
        XorShift64(if seed == 0 { 0x9E37_79B9_7F4A_7C15 } else { seed })
    }

    /// A generator for a user-facing seed: spread by the golden ratio so that nearby seeds
    /// (1, 2, 3 …) give unrelated sequences.
    pub const fn from_seed(seed: u64) -> Self {
        XorShift64(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// An index in 0..n (0 when n is 0).
    #[inline]
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// Uniform in [0, 1) with 24 bits.
    #[inline]
    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Uniform in (0, 1) with 53 bits (never 0, so its logarithm is finite).
    #[inline]
    pub fn unit_f64(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
}

/// xorshift64* (12, 25, 27, then a multiply): the analysis tests' signal noise, whose
/// tolerances were measured on its sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XorShift64Star(u64);

impl XorShift64Star {
    pub const fn new(seed: u64) -> Self {
        XorShift64Star(if seed == 0 { 0x9E37_79B9_7F4A_7C15 } else { seed })
    }

    /// Uniform in (0, 1) with 53 bits.
    #[inline]
    pub fn unit_f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let v = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        ((v >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_are_the_classic_xorshifts() {
        let mut a = XorShift32::new(0x1234_5678);
        let mut s = 0x1234_5678u32;
        let mut b = XorShift64::new(7);
        let mut t = 7u64;
        for _ in 0..100 {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            assert_eq!(a.next_u32(), s);
            t ^= t << 13;
            t ^= t >> 7;
            t ^= t << 17;
            assert_eq!(b.next_u64(), t);
        }
        let mut c = XorShift64::from_seed(3);
        assert!((0..1000).map(|_| c.unit()).all(|x| (0.0..1.0).contains(&x)));
        assert!((0..1000).map(|_| c.unit_f64()).all(|x| x > 0.0 && x < 1.0));
    }
}
