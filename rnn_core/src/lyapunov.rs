//! Lyapunov spectrum by QR re-orthonormalisation, and per-step Jacobian norms.
//!
//! The tangent frame `Q` (`k` orthonormal columns, `Q_0` = first `k` identity
//! columns) is pushed through each step Jacobian, `W = J_t Q`, and re-orthonormalised,
//! `W = Q' R`. The local exponents are `ln |R_ii|`; their mean over the steps after
//! `warmup` estimates the `k` largest Lyapunov exponents in nats per step.

use crate::cells::Cell;
use crate::error::{Error, Result};
use crate::seq::{check_rows, in_pool, Runner, Seq};
use crate::Real;
use rayon::prelude::*;

fn dot_f64<F: Real>(a: &[F], b: &[F]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x.to_f64() * y.to_f64()).sum()
}

/// Orthonormalise the `k` columns of `w` (each `s` long) in place by twice-iterated
/// modified Gram–Schmidt; writes `ln R_ii` into `logs`. Iterating twice keeps the
/// columns orthogonal to working precision (Giraud et al. 2005); a column that
/// vanishes gives `-inf` and stays zero.
pub fn orthonormalise<F: Real>(w: &mut [F], s: usize, logs: &mut [f64]) {
    let k = logs.len();
    for j in 0..k {
        let (done, rest) = w.split_at_mut(j * s);
        let col = &mut rest[..s];
        for _pass in 0..2 {
            for i in 0..j {
                let qi = &done[i * s..(i + 1) * s];
                let r = F::from_f64(dot_f64(qi, col));
                for (c, q) in col.iter_mut().zip(qi) {
                    *c -= r * *q;
                }
            }
        }
        let n = dot_f64(col, col).sqrt();
        logs[j] = n.ln();
        if n > 0.0 {
            let inv = F::from_f64(1.0 / n);
            for c in col.iter_mut() {
                *c *= inv;
            }
        }
    }
}

/// Result of [`lyapunov_spectrum`].
pub struct Spectrum {
    /// `(B, k)` mean exponents, nats per step.
    pub exponents: Vec<f64>,
    /// `(T, B, k)` local exponents `ln |R_ii|` when requested.
    pub local: Option<Vec<f64>>,
}

/// The `k` largest Lyapunov exponents of the driven recurrence, per batch lane.
#[allow(clippy::too_many_arguments)]
pub fn lyapunov_spectrum<F: Real, C: Cell<F> + ?Sized>(
    cell: &C,
    seq: &Seq<'_, F>,
    s0: &[F],
    k: usize,
    warmup: usize,
    return_local: bool,
    threads: Option<usize>,
) -> Result<Spectrum> {
    seq.check_cell(cell)?;
    let (steps, batch, s) = (seq.steps, seq.batch, cell.state_dim());
    check_rows("h0", s0, batch, s, "initial state")?;
    if k == 0 || k > s {
        return Err(Error::value(
            "k",
            format!("between 1 and the state size {s}"),
            k.to_string(),
        ));
    }
    if warmup >= steps {
        return Err(Error::value(
            "warmup",
            format!("smaller than T = {steps}"),
            warmup.to_string(),
        ));
    }
    let lanes = in_pool(threads, || {
        (0..batch)
            .into_par_iter()
            .map(|b| {
                lane(
                    cell,
                    seq,
                    b,
                    &s0[b * s..(b + 1) * s],
                    k,
                    warmup,
                    return_local,
                )
            })
            .collect::<Result<Vec<_>>>()
    })?;
    let mut exponents = Vec::with_capacity(batch * k);
    for (m, _) in &lanes {
        exponents.extend_from_slice(m);
    }
    let local = if return_local {
        let mut out = crate::seq::buffer(steps * batch * k, "the local exponents")?;
        for (b, (_, l)) in lanes.iter().enumerate() {
            for t in 0..steps {
                out[(t * batch + b) * k..(t * batch + b + 1) * k]
                    .copy_from_slice(&l[t * k..(t + 1) * k]);
            }
        }
        Some(out)
    } else {
        None
    };
    Ok(Spectrum { exponents, local })
}

type Lane = (Vec<f64>, Vec<f64>);

fn lane<F: Real, C: Cell<F> + ?Sized>(
    cell: &C,
    seq: &Seq<'_, F>,
    b: usize,
    s0: &[F],
    k: usize,
    warmup: usize,
    keep: bool,
) -> Result<Lane> {
    let s = cell.state_dim();
    let mut q = crate::seq::buffer(k * s, "the k tangent vectors")?;
    for j in 0..k {
        q[j * s + j] = F::ONE;
    }
    let mut w = crate::seq::buffer(k * s, "the k tangent vectors")?;
    let mut scratch = vec![F::ZERO; cell.scratch_dim()];
    let mut logs = vec![0.0; k];
    let mut sums = vec![0.0; k];
    let mut local = if keep {
        crate::seq::buffer(seq.steps * k, "the local exponents of one batch element")?
    } else {
        Vec::new()
    };
    let mut state = s0.to_vec();
    Runner::new(cell).stream(seq, b, &mut state, 0, seq.steps, |t, s_prev, rec| {
        for j in 0..k {
            cell.jvp(
                rec,
                s_prev,
                &q[j * s..(j + 1) * s],
                &mut w[j * s..(j + 1) * s],
                &mut scratch,
            );
        }
        orthonormalise(&mut w, s, &mut logs);
        std::mem::swap(&mut q, &mut w);
        if keep {
            local[t * k..(t + 1) * k].copy_from_slice(&logs);
        }
        if t >= warmup {
            for (a, l) in sums.iter_mut().zip(&logs) {
                *a += *l;
            }
        }
        Ok(true)
    })?;
    let n = (seq.steps - warmup) as f64;
    Ok((sums.iter().map(|v| v / n).collect(), local))
}

/// Largest singular value of the dense `s x s` matrix `j` (row-major, finite f64).
///
/// `J` is first divided by its largest entry `m`, so that `J^T J` neither overflows nor
/// underflows for norms near the ends of the f64 range; the answer is `m ||J / m||_2`.
/// The largest eigenvalue of `A = J^T J` then comes from Lanczos with full
/// reorthogonalisation: the top Ritz value `theta` of the tridiagonal `T_k` is within
/// `beta_k |y_k|` of an eigenvalue of `A` (`y` its unit eigenvector of `T_k`), and the
/// iteration stops once that bound is below `1e-15 theta`, or when the Krylov space is
/// the whole space and `T` is similar to `A`. A bound, not a small change between
/// rounds: near-equal top singular values slow convergence but cannot end it early.
pub fn spectral_norm(j: &[f64], s: usize) -> f64 {
    let m = j.iter().fold(0.0f64, |acc, v| acc.max(v.abs()));
    if m == 0.0 || s == 0 {
        return 0.0;
    }
    let a: Vec<f64> = j.iter().map(|v| v / m).collect();
    let dot = |x: &[f64], y: &[f64]| x.iter().zip(y).map(|(p, q)| p * q).sum::<f64>();
    // Every coordinate nonzero and distinct, the same on every machine.
    let mut v: Vec<f64> = (0..s)
        .map(|i| 1.0 + (i as f64 * 0.618_033_988_749_895).fract())
        .collect();
    let n0 = dot(&v, &v).sqrt();
    v.iter_mut().for_each(|x| *x /= n0);
    let (mut w, mut jv) = (vec![0.0; s], vec![0.0; s]);
    let mut basis: Vec<Vec<f64>> = Vec::new();
    let (mut alpha, mut beta) = (Vec::<f64>::new(), Vec::<f64>::new());
    let mut theta = 0.0;
    for k in 0..s {
        // w = J^T (J v)
        for (r, o) in jv.iter_mut().enumerate() {
            *o = dot(&a[r * s..(r + 1) * s], &v);
        }
        w.fill(0.0);
        for (r, &t) in jv.iter().enumerate() {
            if t != 0.0 {
                for (o, x) in w.iter_mut().zip(&a[r * s..(r + 1) * s]) {
                    *o += x * t;
                }
            }
        }
        let al = dot(&v, &w);
        basis.push(std::mem::take(&mut v));
        alpha.push(al);
        for _ in 0..2 {
            for q in &basis {
                let c = dot(q, &w);
                w.iter_mut().zip(q).for_each(|(o, x)| *o -= c * x);
            }
        }
        let b = dot(&w, &w).sqrt();
        theta = tridiagonal_top(&alpha, &beta);
        if theta <= 0.0 || k + 1 == s {
            break;
        }
        let y_last = top_vector_last(&alpha, &beta, theta);
        if b * y_last.abs() <= 1e-15 * theta {
            break;
        }
        beta.push(b);
        v = w.iter().map(|x| x / b).collect();
    }
    m * theta.max(0.0).sqrt()
}

/// Number of eigenvalues below `x` of the symmetric tridiagonal matrix with diagonal
/// `alpha` and off-diagonal `beta` (Sturm count of its `LDL^T` pivots).
fn sturm_below(alpha: &[f64], beta: &[f64], x: f64) -> usize {
    let mut count = 0;
    let mut d = 1.0;
    for (i, &a) in alpha.iter().enumerate() {
        let off = if i > 0 {
            beta[i - 1] * beta[i - 1] / d
        } else {
            0.0
        };
        d = a - x - off;
        if d == 0.0 {
            d = -f64::MIN_POSITIVE;
        }
        if d < 0.0 {
            count += 1;
        }
    }
    count
}

/// The largest eigenvalue of the symmetric tridiagonal `(alpha, beta)` by bisection
/// inside its Gershgorin interval, to a few ulps.
fn tridiagonal_top(alpha: &[f64], beta: &[f64]) -> f64 {
    let n = alpha.len();
    let off = |i: usize| {
        (if i > 0 { beta[i - 1].abs() } else { 0.0 }) + if i + 1 < n { beta[i].abs() } else { 0.0 }
    };
    let mut lo = (0..n)
        .map(|i| alpha[i] - off(i))
        .fold(f64::INFINITY, f64::min);
    let mut hi = (0..n)
        .map(|i| alpha[i] + off(i))
        .fold(f64::NEG_INFINITY, f64::max);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi || hi - lo <= 4.0 * f64::EPSILON * hi.abs().max(lo.abs()) {
            break;
        }
        if sturm_below(alpha, beta, mid) == n {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

/// The last entry of the unit eigenvector of the tridiagonal `(alpha, beta)` for its top
/// eigenvalue `theta`, by two rounds of inverse iteration. `theta I - T` is positive
/// semidefinite, so its `LDL^T` factorisation (shifted by a relative 1e-13) has positive
/// pivots and needs no pivoting.
fn top_vector_last(alpha: &[f64], beta: &[f64], theta: f64) -> f64 {
    let n = alpha.len();
    let shift = theta + 1e-13 * theta.abs().max(f64::MIN_POSITIVE);
    let mut d = vec![0.0; n];
    let mut l = vec![0.0; n];
    for i in 0..n {
        let a = shift - alpha[i];
        d[i] = if i == 0 {
            a
        } else {
            l[i] = -beta[i - 1] / d[i - 1];
            a + l[i] * beta[i - 1]
        };
        d[i] = d[i].max(f64::MIN_POSITIVE);
    }
    let mut z = vec![1.0; n];
    for _ in 0..2 {
        for i in 1..n {
            z[i] -= l[i] * z[i - 1];
        }
        for i in 0..n {
            z[i] /= d[i];
        }
        for i in (0..n.saturating_sub(1)).rev() {
            z[i] -= l[i + 1] * z[i + 1];
        }
        let nz = z.iter().map(|x| x * x).sum::<f64>().sqrt();
        if !(nz.is_finite() && nz > 0.0) {
            return 1.0; // no estimate: keep iterating
        }
        z.iter_mut().for_each(|x| *x /= nz);
    }
    z[n - 1]
}

/// Spectral norm `||J_t||_2` of the step Jacobian `d s_t / d s_{t-1}` at steps
/// `t = 0, every, 2 every, ...`; `(ceil(T / every), B)`.
pub fn jacobian_norms<F: Real, C: Cell<F> + ?Sized>(
    cell: &C,
    seq: &Seq<'_, F>,
    s0: &[F],
    every: usize,
    threads: Option<usize>,
) -> Result<Vec<f64>> {
    seq.check_cell(cell)?;
    let (steps, batch, s) = (seq.steps, seq.batch, cell.state_dim());
    check_rows("h0", s0, batch, s, "initial state")?;
    if every == 0 {
        return Err(Error::value("every", "a positive step interval", "0"));
    }
    let rows = steps.div_ceil(every);
    let lanes = in_pool(threads, || {
        (0..batch)
            .into_par_iter()
            .map(|b| {
                let mut out = crate::seq::buffer(rows, "the Jacobian norms of one batch element")?;
                let mut e = vec![F::ZERO; s];
                let mut col = vec![F::ZERO; s];
                let mut jac =
                    crate::seq::buffer::<f64>(s.saturating_mul(s), "one step Jacobian (S x S)")?;
                let mut scratch = vec![F::ZERO; cell.scratch_dim()];
                let mut state = s0[b * s..(b + 1) * s].to_vec();
                Runner::new(cell).stream(seq, b, &mut state, 0, steps, |t, s_prev, rec| {
                    if t % every == 0 {
                        // S products and an S x S SVD per kept step: check for a
                        // cancel at every one, not only per block of steps.
                        seq.check_cancel()?;
                        for c in 0..s {
                            e.fill(F::ZERO);
                            e[c] = F::ONE;
                            cell.jvp(rec, s_prev, &e, &mut col, &mut scratch);
                            for r in 0..s {
                                jac[r * s + c] = col[r].to_f64();
                            }
                        }
                        if let Some(bad) = jac.iter().find(|v| !v.is_finite()) {
                            return Err(Error::Numerics(format!(
                                "the step Jacobian at step {t} has an entry {bad} (beyond the {} \
                                 range); its norm cannot be computed in this precision",
                                F::NAME
                            )));
                        }
                        out[t / every] = spectral_norm(&jac, s);
                    }
                    Ok(true)
                })?;
                Ok(out)
            })
            .collect::<Result<Vec<_>>>()
    })?;
    let mut out = crate::seq::buffer(rows * batch, "the Jacobian norms")?;
    for (b, l) in lanes.iter().enumerate() {
        for (r, v) in l.iter().enumerate() {
            out[r * batch + b] = *v;
        }
    }
    Ok(out)
}
