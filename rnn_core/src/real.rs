//! The floating-point element type of a computation (`f32` or `f64`).

use std::fmt::Debug;
use std::ops::{Add, AddAssign, Div, Mul, MulAssign, Neg, Sub, SubAssign};

mod sealed {
    /// Only `f32` and `f64` are [`super::Real`].
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A real scalar that the kernels and cells are generic over.
///
/// Implemented for `f32` and `f64` only (the trait is sealed: code that relies on
/// all-zero bytes being `0.0`, such as [`crate::seq::buffer`], may). Norms and
/// log-scales are always accumulated in `f64`, whatever the element type.
pub trait Real:
    sealed::Sealed
    + Copy
    + Send
    + Sync
    + Debug
    + PartialOrd
    + Default
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
{
    /// `0`.
    const ZERO: Self;
    /// `1`.
    const ONE: Self;
    /// Name used in messages ("float32" / "float64").
    const NAME: &'static str;
    /// The smallest positive normal number; nonzero magnitudes below it are subnormal.
    const MIN_POSITIVE: Self;
    /// Round `x` to this type.
    fn from_f64(x: f64) -> Self;
    /// Widen (exactly) to `f64`.
    fn to_f64(self) -> f64;
    /// Hyperbolic tangent.
    fn tanh(self) -> Self;
    /// `e^x`.
    fn exp(self) -> Self;
    /// Square root.
    fn sqrt(self) -> Self;
    /// Absolute value.
    fn abs(self) -> Self;
    /// Neither NaN nor infinite.
    fn is_finite(self) -> bool;
    /// `self * a + b` with one rounding.
    fn mul_add(self, a: Self, b: Self) -> Self;
    /// The larger of the two.
    fn max(self, o: Self) -> Self;
    /// The smaller of the two.
    fn min(self, o: Self) -> Self;

    /// `1.5 * 2^(mantissa bits)`: adding it rounds to an integer held in the low bits.
    const ROUND_MAGIC: Self;
    /// Smallest `n` for which `2^n` is a normal number.
    const MIN_EXP: Self;
    /// Taylor coefficients 1/k! (k = 2, 3, ...) of `expm1` on |r| <= ln2/2, enough for full precision.
    const EXPM1_TAYLOR: &'static [f64];
    /// ln 2 split so that `n * LN2_HI` is exact for the `n` that occur.
    const LN2_HI: f64;
    /// `ln 2 - LN2_HI`.
    const LN2_LO: f64;
    /// `2^n` for `t = n + ROUND_MAGIC` with integral `n` in `[MIN_EXP, 0]`, built from the bits of `t`.
    fn pow2_from_magic(t: Self) -> Self;

    /// `C (m x n) += A (m x k) * B (k x n)` on strided slices (row stride, column stride).
    ///
    /// Errors if any stride would reach past the end of its slice.
    #[allow(clippy::too_many_arguments)]
    fn gemm_acc(
        m: usize,
        k: usize,
        n: usize,
        a: (&[Self], usize, usize),
        b: (&[Self], usize, usize),
        c: (&mut [Self], usize),
    ) -> crate::Result<()>;
}

/// Last flat index touched by an `rows x cols` matrix with the given strides, plus one.
fn extent(rows: usize, cols: usize, rs: usize, cs: usize) -> usize {
    if rows == 0 || cols == 0 {
        0
    } else {
        (rows - 1) * rs + (cols - 1) * cs + 1
    }
}

fn check_extents(
    m: usize,
    k: usize,
    n: usize,
    a: (usize, usize, usize),
    b: (usize, usize, usize),
    c: (usize, usize),
) -> crate::Result<()> {
    let ok = extent(m, k, a.1, a.2) <= a.0
        && extent(k, n, b.1, b.2) <= b.0
        && extent(m, n, c.1, 1) <= c.0
        && a.1 <= isize::MAX as usize
        && a.2 <= isize::MAX as usize
        && b.1 <= isize::MAX as usize
        && b.2 <= isize::MAX as usize
        && c.1 <= isize::MAX as usize;
    if ok {
        Ok(())
    } else {
        Err(crate::Error::Resource(format!(
            "internal: gemm operands out of bounds (m={m}, k={k}, n={n})"
        )))
    }
}

const TAYLOR_F64: [f64; 12] = [
    1.0 / 2.0,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5040.0,
    1.0 / 40320.0,
    1.0 / 362880.0,
    1.0 / 3628800.0,
    1.0 / 39916800.0,
    1.0 / 479001600.0,
    1.0 / 6227020800.0,
];

macro_rules! impl_real {
    ($t:ty, $name:expr, $magic:expr, $min_exp:expr, $nterms:expr, $bits:ty, $mant:expr, $bias:expr, $hi:expr, $lo:expr, $gemm:path) => {
        impl Real for $t {
            const LN2_HI: f64 = $hi;
            const LN2_LO: f64 = $lo;
            const ROUND_MAGIC: Self = $magic;
            const MIN_EXP: Self = $min_exp;
            const EXPM1_TAYLOR: &'static [f64] = TAYLOR_F64.split_at($nterms).0;
            fn gemm_acc(
                m: usize,
                k: usize,
                n: usize,
                a: (&[Self], usize, usize),
                b: (&[Self], usize, usize),
                c: (&mut [Self], usize),
            ) -> crate::Result<()> {
                check_extents(
                    m,
                    k,
                    n,
                    (a.0.len(), a.1, a.2),
                    (b.0.len(), b.1, b.2),
                    (c.0.len(), c.1),
                )?;
                if m == 0 || n == 0 || k == 0 {
                    return Ok(());
                }
                // SAFETY: check_extents proved that every element the product reads
                // (A: (m-1)*rsa + (k-1)*csa, B: (k-1)*rsb + (n-1)*csb) and writes
                // (C: (m-1)*rsc + n-1) lies inside its slice, and that the strides fit
                // isize. `c` is a unique borrow, so C does not alias A or B.
                unsafe {
                    $gemm(
                        m,
                        k,
                        n,
                        1.0,
                        a.0.as_ptr(),
                        a.1 as isize,
                        a.2 as isize,
                        b.0.as_ptr(),
                        b.1 as isize,
                        b.2 as isize,
                        1.0,
                        c.0.as_mut_ptr(),
                        c.1 as isize,
                        1,
                    );
                }
                Ok(())
            }
            #[inline(always)]
            fn pow2_from_magic(t: Self) -> Self {
                // The low bits of `t`'s representation hold n (two's complement, mod 2^mant);
                // adding the bias and shifting keeps exactly the exponent field n + bias,
                // which lies in [1, bias] for n in [MIN_EXP, 0].
                let bits = t.to_bits().wrapping_add($bias as $bits) << $mant;
                <$t>::from_bits(bits)
            }
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const NAME: &'static str = $name;
            const MIN_POSITIVE: Self = <$t>::MIN_POSITIVE;
            #[inline(always)]
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn tanh(self) -> Self {
                <$t>::tanh(self)
            }
            #[inline(always)]
            fn exp(self) -> Self {
                <$t>::exp(self)
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            #[inline(always)]
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            #[inline(always)]
            fn is_finite(self) -> bool {
                <$t>::is_finite(self)
            }
            #[inline(always)]
            fn mul_add(self, a: Self, b: Self) -> Self {
                <$t>::mul_add(self, a, b)
            }
            #[inline(always)]
            fn max(self, o: Self) -> Self {
                <$t>::max(self, o)
            }
            #[inline(always)]
            fn min(self, o: Self) -> Self {
                <$t>::min(self, o)
            }
        }
    };
}

impl_real!(
    f32,
    "float32",
    12582912.0,
    -126.0,
    6,
    u32,
    23,
    127,
    0.693145751953125,
    1.428606765330187e-6,
    matrixmultiply::sgemm
);
impl_real!(
    f64,
    "float64",
    6755399441055744.0,
    -1022.0,
    12,
    u64,
    52,
    1023,
    6.931_471_803_691_238e-1,
    1.908_214_929_270_587_7e-10,
    matrixmultiply::dgemm
);
