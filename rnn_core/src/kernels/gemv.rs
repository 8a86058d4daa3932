//! `y = bias + A x` for a small dense `A` (the recurrent product of every step).
//!
//! `A` is packed once into row panels ([`Packed`]): each panel holds a block of
//! rows column by column, so the kernel streams through memory in order and
//! accumulates `y[block] += x[k] * A[block, k]` in registers. No horizontal
//! reductions; one load per fused multiply-add.

use super::dispatch::{fmadd, Level};
use super::{isa, Isa};
use crate::Real;

/// Rows of one register block for `level` and element size (eight vector registers):
/// the default panel height of [`Packed`] and the strip width of that level's kernel.
#[inline]
pub const fn block_rows(level: Isa, elem_bytes: usize) -> usize {
    let lanes_bytes = match level {
        Isa::Avx512 => 64,
        Isa::Avx2Fma => 32,
        Isa::Generic => 16,
    };
    8 * lanes_bytes / elem_bytes
}

/// Width of the strip that finishes a panel whose height is not a multiple of 8.
const TAIL: usize = 8;

/// A row-major `rows x cols` matrix repacked into panels of `block` rows, each panel
/// stored column by column (`panel[k * nb + j] = A[r0 + j, k]`).
#[derive(Clone, Debug, Default)]
pub struct Packed<F> {
    rows: usize,
    cols: usize,
    block: usize,
    data: Vec<F>,
}

impl<F: Real> Packed<F> {
    /// Pack row-major `a` (`rows x cols`) with the block of the detected level.
    pub fn new(a: &[F], rows: usize, cols: usize) -> Self {
        Self::with_block(a, rows, cols, block_rows(isa(), std::mem::size_of::<F>()))
    }

    /// Pack with an explicit panel height.
    pub fn with_block(a: &[F], rows: usize, cols: usize, block: usize) -> Self {
        debug_assert!(a.len() >= rows * cols && block > 0);
        let mut data = Vec::with_capacity(rows * cols + TAIL);
        let mut r0 = 0;
        while r0 < rows {
            let nb = block.min(rows - r0);
            for k in 0..cols {
                for j in 0..nb {
                    data.push(a[(r0 + j) * cols + k]);
                }
            }
            r0 += nb;
        }
        // Room for the last strip's reads past the last panel (see `block`).
        data.extend(std::iter::repeat_n(F::ZERO, TAIL));
        Packed {
            rows,
            cols,
            block,
            data,
        }
    }

    /// Number of rows of `A`.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns of `A`.
    pub fn cols(&self) -> usize {
        self.cols
    }
}

/// Rows `j0..j0 + valid` of one panel of height `nb`, accumulated in `B` register
/// lanes (`valid <= B`). With `valid < B` (a panel's last rows) the extra lanes read
/// entries past those rows, finite weights of the next column or the zero padding
/// after the last panel, and are discarded.
#[inline(always)]
fn block<F: Real, L: Level, const B: usize>(
    panel: &[F],
    nb: usize,
    j0: usize,
    valid: usize,
    x: &[F],
    bias: &[F],
    y: &mut [F],
) {
    let mut acc = [F::ZERO; B];
    acc[..valid].copy_from_slice(&bias[j0..j0 + valid]);
    for (k, xk) in x.iter().enumerate() {
        let col = &panel[k * nb + j0..k * nb + j0 + B];
        for j in 0..B {
            acc[j] = fmadd::<F, L>(col[j], *xk, acc[j]);
        }
    }
    y[j0..j0 + valid].copy_from_slice(&acc[..valid]);
}

/// Rows `j0..` of a panel in strips of `W` while a whole strip fits.
#[inline(always)]
fn strips<F: Real, L: Level, const W: usize>(
    panel: &[F],
    nb: usize,
    j0: &mut usize,
    x: &[F],
    bias: &[F],
    y: &mut [F],
) {
    while *j0 + W <= nb {
        block::<F, L, W>(panel, nb, *j0, W, x, bias, y);
        *j0 += W;
    }
}

/// Every panel of `A`, in strips of `B` rows first (`B` is the level's block).
#[inline(always)]
fn panels<F: Real, L: Level, const B: usize>(a: &Packed<F>, x: &[F], bias: &[F], y: &mut [F]) {
    let (rows, cols) = (a.rows, a.cols);
    let x = &x[..cols];
    let mut r0 = 0;
    while r0 < rows {
        let nb = a.block.min(rows - r0);
        // To the end of the data: the last strip may read up to TAIL - 1 entries past the
        // panel (the next panel's, or the padding after the last one).
        let panel = &a.data[r0 * cols..];
        let (b, yy) = (&bias[r0..r0 + nb], &mut y[r0..r0 + nb]);
        let mut j0 = 0;
        strips::<F, L, B>(panel, nb, &mut j0, x, b, yy);
        // Panels shorter than the block (the last one, or a split lane's share):
        // the widest strips that fit, so a 64-row panel still runs four-register wide.
        strips::<F, L, 64>(panel, nb, &mut j0, x, b, yy);
        strips::<F, L, 32>(panel, nb, &mut j0, x, b, yy);
        strips::<F, L, 16>(panel, nb, &mut j0, x, b, yy);
        strips::<F, L, 8>(panel, nb, &mut j0, x, b, yy);
        if j0 < nb {
            // The last nb - j0 < TAIL rows: one TAIL-wide strip, not that many scalar chains.
            block::<F, L, TAIL>(panel, nb, j0, nb - j0, x, b, yy);
        }
        r0 += nb;
    }
}

simd_kernel! {
    /// `y[r] = bias[r] + sum_k A[r, k] x[k]` for a packed `A` (`x` has at least
    /// `A.cols()` values; `y` and `bias` at least `A.rows()`).
    ///
    /// Uses the widest instruction set detected at run time; agrees with
    /// [`super::reference::gemv`] up to rounding.
    pub fn gemv, gemv_at<F, L>(a: &Packed<F>, x: &[F], bias: &[F], y: &mut [F]) {
        debug_assert!(x.len() >= a.cols && bias.len() >= a.rows && y.len() >= a.rows);
        // Strips of the level's block: eight registers of its width (a constant per
        // compiled copy, so only one arm survives in each).
        match block_rows(L::ISA, std::mem::size_of::<F>()) {
            128 => panels::<F, L, 128>(a, x, bias, y),
            64 => panels::<F, L, 64>(a, x, bias, y),
            32 => panels::<F, L, 32>(a, x, bias, y),
            _ => panels::<F, L, 16>(a, x, bias, y),
        }
    }
}

/// Where the lanes of a [`gemm`] live: lane `b` of `x` starts at `b * ldx`, its bias at
/// `b * ldb` (`ldb = 0`: one bias for every lane) and its result at `b * ldy`.
#[derive(Clone, Copy, Debug)]
pub struct Lanes {
    /// Number of lanes.
    pub n: usize,
    /// Stride between the lanes of `x`.
    pub ldx: usize,
    /// Stride between the lanes' biases (0: shared).
    pub ldb: usize,
    /// Stride between the lanes of `y`.
    pub ldy: usize,
}

/// Rows `j0..j0 + valid` of one panel for lanes `l0..l0 + N`, in `B` register lanes
/// each: every column of the panel is loaded once for the `N` lanes. Each
/// `(row, lane)` accumulates from its bias over the columns in order, exactly as
/// [`block`] does, so the result is the same bits as `N` calls of [`gemv`].
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn block_lanes<F: Real, L: Level, const B: usize, const N: usize>(
    panel: &[F],
    nb: usize,
    (r0, j0, valid): (usize, usize, usize),
    cols: usize,
    x: &[F],
    bias: &[F],
    y: &mut [F],
    (l0, lanes): (usize, Lanes),
) {
    let mut acc = [[F::ZERO; B]; N];
    let mut xs: [&[F]; N] = [&[]; N];
    for n in 0..N {
        let b = (l0 + n) * lanes.ldb + r0 + j0;
        acc[n][..valid].copy_from_slice(&bias[b..b + valid]);
        let at = (l0 + n) * lanes.ldx;
        xs[n] = &x[at..at + cols];
    }
    for k in 0..cols {
        let col = &panel[k * nb + j0..k * nb + j0 + B];
        for n in 0..N {
            let xk = xs[n][k];
            for j in 0..B {
                acc[n][j] = fmadd::<F, L>(col[j], xk, acc[n][j]);
            }
        }
    }
    for n in 0..N {
        let at = (l0 + n) * lanes.ldy + r0 + j0;
        y[at..at + valid].copy_from_slice(&acc[n][..valid]);
    }
}

/// One strip of `B` rows (`valid` of them real) for every lane, four lanes at a time.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn strip_lanes<F: Real, L: Level, const B: usize>(
    panel: &[F],
    nb: usize,
    rows: (usize, usize, usize),
    cols: usize,
    x: &[F],
    bias: &[F],
    y: &mut [F],
    lanes: Lanes,
) {
    let mut l0 = 0;
    while l0 + 4 <= lanes.n {
        block_lanes::<F, L, B, 4>(panel, nb, rows, cols, x, bias, y, (l0, lanes));
        l0 += 4;
    }
    if l0 + 2 <= lanes.n {
        block_lanes::<F, L, B, 2>(panel, nb, rows, cols, x, bias, y, (l0, lanes));
        l0 += 2;
    }
    if l0 < lanes.n {
        block_lanes::<F, L, B, 1>(panel, nb, rows, cols, x, bias, y, (l0, lanes));
    }
}

/// Every panel of `A` for every lane, in strips of `B` rows (two registers of the
/// level: with four lanes, eight accumulators), then 8, then one last `TAIL` strip.
#[inline(always)]
fn panels_lanes<F: Real, L: Level, const B: usize>(
    a: &Packed<F>,
    x: &[F],
    bias: &[F],
    y: &mut [F],
    lanes: Lanes,
) {
    let (rows, cols) = (a.rows, a.cols);
    let mut r0 = 0;
    while r0 < rows {
        let nb = a.block.min(rows - r0);
        let panel = &a.data[r0 * cols..];
        let mut j0 = 0;
        while j0 + B <= nb {
            strip_lanes::<F, L, B>(panel, nb, (r0, j0, B), cols, x, bias, y, lanes);
            j0 += B;
        }
        while j0 + 8 <= nb {
            strip_lanes::<F, L, 8>(panel, nb, (r0, j0, 8), cols, x, bias, y, lanes);
            j0 += 8;
        }
        if j0 < nb {
            let rest = (r0, j0, nb - j0);
            strip_lanes::<F, L, TAIL>(panel, nb, rest, cols, x, bias, y, lanes);
        }
        r0 += nb;
    }
}

simd_kernel! {
    /// `y[b][r] = bias[b][r] + sum_k A[r, k] x[b][k]` for every lane `b` of `lanes`
    /// (the recurrent product of a whole batch in one pass over `A`): the same bits
    /// as one [`gemv`] per lane at the same level, with each weight read once for up
    /// to four lanes.
    pub fn gemm, gemm_at<F, L>(a: &Packed<F>, x: &[F], bias: &[F], y: &mut [F], lanes: Lanes) {
        if lanes.n == 0 || a.rows == 0 {
            return;
        }
        debug_assert!(x.len() >= (lanes.n - 1) * lanes.ldx + a.cols);
        debug_assert!(bias.len() >= (lanes.n - 1) * lanes.ldb + a.rows);
        debug_assert!(y.len() >= (lanes.n - 1) * lanes.ldy + a.rows);
        match block_rows(L::ISA, std::mem::size_of::<F>()) / 4 {
            32 => panels_lanes::<F, L, 32>(a, x, bias, y, lanes),
            16 => panels_lanes::<F, L, 16>(a, x, bias, y, lanes),
            _ => panels_lanes::<F, L, 8>(a, x, bias, y, lanes),
        }
    }
}
