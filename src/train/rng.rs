//! The seeded generator behind initialisation and shuffling.

/// A xorshift32 generator: small, fast, and the same sequence on every target.
///
/// ```
/// use focal_loss::train::Rng;
/// let mut a = Rng::new(42);
/// let mut b = Rng::new(42);
/// assert_eq!(a.next_u32(), b.next_u32());
/// let u = a.uniform();
/// assert!((0.0..1.0).contains(&u));
/// ```
#[derive(Debug, Clone)]
pub struct Rng(u32);

impl Rng {
    /// A generator from `seed` (0 is replaced by a fixed non-zero state).
    ///
    /// ```
    /// let mut r = focal_loss::train::Rng::new(0);
    /// assert_ne!(r.next_u32(), 0);
    /// ```
    pub const fn new(seed: u32) -> Self {
        Rng(if seed == 0 { 0x9e37_79b9 } else { seed })
    }

    /// The next 32 random bits.
    ///
    /// ```
    /// let mut r = focal_loss::train::Rng::new(1);
    /// assert_ne!(r.next_u32(), r.next_u32());
    /// ```
    pub fn next_u32(&mut self) -> u32 {
        let mut s = self.0;
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        self.0 = s;
        s
    }

    /// A uniform `f32` in [0, 1), with 24 random bits.
    ///
    /// ```
    /// let mut r = focal_loss::train::Rng::new(3);
    /// assert!(r.uniform() < 1.0);
    /// ```
    pub fn uniform(&mut self) -> f32 {
        (self.next_u32() >> 8) as f32 / (1u32 << 24) as f32
    }

    /// An index in `0..n` (0 for `n = 0`) by Lemire's multiply-shift without rejection:
    /// uniform up to a bias of at most `n / 2^32`.
    ///
    /// ```
    /// let mut r = focal_loss::train::Rng::new(5);
    /// assert!(r.below(10) < 10);
    /// ```
    pub fn below(&mut self, n: u32) -> u32 {
        ((u64::from(self.next_u32()) * u64::from(n)) >> 32) as u32
    }
}
