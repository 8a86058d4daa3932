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
    let local = return_local.then(|| {
        let mut out = vec![0.0; steps * batch * k];
        for (b, (_, l)) in lanes.iter().enumerate() {
            for t in 0..steps {
                out[(t * batch + b) * k..(t * batch + b + 1) * k]
                    .copy_from_slice(&l[t * k..(t + 1) * k]);
            }
        }
        out
    });
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
    let mut q = vec![F::ZERO; k * s];
    for j in 0..k {
        q[j * s + j] = F::ONE;
    }
    let mut w = vec![F::ZERO; k * s];
    let mut scratch = vec![F::ZERO; cell.scratch_dim()];
    let mut logs = vec![0.0; k];
    let mut sums = vec![0.0; k];
    let mut local = if keep {
        vec![0.0; seq.steps * k]
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

/// Largest singular value of the dense `s x s` matrix `j` (row-major, f64) by power
/// iteration on `J^T J`, to a relative change below 1e-14 (at most 2000 rounds).
pub fn spectral_norm(j: &[f64], s: usize) -> f64 {
    let mut v = vec![1.0 / (s as f64).sqrt(); s];
    let mut jv = vec![0.0; s];
    let mut sigma = 0.0;
    for _ in 0..2000 {
        for r in 0..s {
            jv[r] = (0..s).map(|c| j[r * s + c] * v[c]).sum();
        }
        for c in 0..s {
            v[c] = (0..s).map(|r| j[r * s + c] * jv[r]).sum();
        }
        let n = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        if n == 0.0 {
            return 0.0;
        }
        for x in v.iter_mut() {
            *x /= n;
        }
        let next = n.sqrt();
        if (next - sigma).abs() <= 1e-14 * next {
            return next;
        }
        sigma = next;
    }
    sigma
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
                let mut out = Vec::with_capacity(rows);
                let mut e = vec![F::ZERO; s];
                let mut col = vec![F::ZERO; s];
                let mut jac = vec![0.0f64; s * s];
                let mut scratch = vec![F::ZERO; cell.scratch_dim()];
                let mut state = s0[b * s..(b + 1) * s].to_vec();
                Runner::new(cell).stream(seq, b, &mut state, 0, steps, |t, s_prev, rec| {
                    if t % every == 0 {
                        for c in 0..s {
                            e.fill(F::ZERO);
                            e[c] = F::ONE;
                            cell.jvp(rec, s_prev, &e, &mut col, &mut scratch);
                            for r in 0..s {
                                jac[r * s + c] = col[r].to_f64();
                            }
                        }
                        out.push(spectral_norm(&jac, s));
                    }
                    Ok(true)
                })?;
                Ok(out)
            })
            .collect::<Result<Vec<_>>>()
    })?;
    let mut out = vec![0.0; rows * batch];
    for (b, l) in lanes.iter().enumerate() {
        for (r, v) in l.iter().enumerate() {
            out[r * batch + b] = *v;
        }
    }
    Ok(out)
}
