//! Reverse and forward passes against central finite differences of the forward map.
#![allow(clippy::needless_range_loop)]

mod common;

use common::{elman, gru, lstm, Rng};
use rnn_core::{
    grad_norms, sensitivity, BpttOptions, Cell, Lru, Nonlinearity, Params, Part, Seq, Wrt,
};

/// Final state after running steps `t0..` from `s` (single lane, plain loop over `Cell::step`).
fn run_from(cell: &dyn Cell<f64>, x: &[f64], t0: usize, steps: usize, s: &[f64]) -> Vec<f64> {
    run_rec(cell, x, t0, steps, s, &vec![0.0; cell.record_dim()]).0
}

/// Final state and record after running steps `t0..` from `s`; `rec` is returned as
/// given when there are no steps.
fn run_rec(
    cell: &dyn Cell<f64>,
    x: &[f64],
    t0: usize,
    steps: usize,
    s: &[f64],
    rec: &[f64],
) -> (Vec<f64>, Vec<f64>) {
    let (i, gh) = (cell.input(), cell.proj_dim());
    let w = &cell.weights().w_ih;
    let mut cur = s.to_vec();
    let mut next = vec![0.0; cell.state_dim()];
    let mut rec = rec.to_vec();
    let mut scratch = vec![0.0; cell.scratch_dim()];
    for t in t0..steps {
        let xt = &x[t * i..(t + 1) * i];
        let xp: Vec<f64> = (0..gh)
            .map(|r| cell.proj_bias()[r] + (0..i).map(|k| w[r * i + k] * xt[k]).sum::<f64>())
            .collect();
        cell.step(&xp, &cur, &mut next, &mut rec, &mut scratch);
        std::mem::swap(&mut cur, &mut next);
    }
    (cur, rec)
}

/// `L = v . y_{T-1}` with `y` from `Cell::output`, running steps `t0..` from the state
/// `s` that the step with record `rec` left (read when `t0 == steps`).
fn loss(
    cell: &dyn Cell<f64>,
    x: &[f64],
    t0: usize,
    steps: usize,
    s: &[f64],
    rec: &[f64],
    v: &[f64],
) -> f64 {
    let (sf, rf) = run_rec(cell, x, t0, steps, s, rec);
    let mut y = vec![0.0; cell.output_dim()];
    cell.output(&rf, &sf, &mut y);
    v.iter().zip(&y).map(|(a, b)| a * b).sum()
}

fn cells(rng: &mut Rng, h: usize, i: usize) -> Vec<Box<dyn Cell<f64>>> {
    vec![
        Box::new(elman(rng, h, i, Nonlinearity::Tanh, None, false)),
        Box::new(elman(rng, h, i, Nonlinearity::Relu, None, false)),
        Box::new(elman(rng, h, i, Nonlinearity::Tanh, Some(0.7), false)),
        Box::new(elman(rng, h, i, Nonlinearity::Tanh, None, true)),
        Box::new(elman(rng, h, i, Nonlinearity::Linear, Some(0.3), true)),
        Box::new(lstm(rng, h, i)),
        Box::new(gru(rng, h, i)),
        Box::new(lru(rng, h, i)),
        mingru(rng, h, i),
        minlstm(rng, h, i),
        rglru(rng, h),
        slstm(rng, h, i),
        ssm(rng, h),
    ]
}

/// A selective SSM (S6) built through the catalogue: `D = h` channels (its input
/// size), `N = 3` states per channel, step-size rank `R = 2`.
fn ssm(rng: &mut Rng, d: usize) -> Box<dyn Cell<f64>> {
    let (n, r) = (3, 2);
    let p = Params::new()
        .array(
            "x_proj_weight",
            rng.vec((r + 2 * n) * d, 0.8),
            &[r + 2 * n, d],
        )
        .array("dt_proj_weight", rng.vec(d * r, 0.8), &[d, r])
        .array("dt_proj_bias", rng.vec(d, 0.5), &[d])
        // A = -exp(A_log) in about (-1.6, -0.6).
        .array("A_log", rng.vec(d * n, 0.5), &[d, n])
        .array("D", rng.vec(d, 1.0), &[d]);
    rnn_core::build("ssm", &p).unwrap()
}

/// A minLSTM built through the catalogue.
fn minlstm(rng: &mut Rng, h: usize, i: usize) -> Box<dyn Cell<f64>> {
    let p = Params::new()
        .array("weight_ih", rng.vec(3 * h * i, 1.0), &[3 * h, i])
        .array("bias_ih", rng.vec(3 * h, 0.5), &[3 * h]);
    rnn_core::build("minlstm", &p).unwrap()
}

/// An RG-LRU built through the catalogue; its input size is its hidden size.
fn rglru(rng: &mut Rng, h: usize) -> Box<dyn Cell<f64>> {
    let p = Params::new()
        .array("weight_a", rng.vec(h * h, 1.0), &[h, h])
        .array("bias_a", rng.vec(h, 0.5), &[h])
        .array("weight_x", rng.vec(h * h, 1.0), &[h, h])
        .array("bias_x", rng.vec(h, 0.5), &[h])
        // softplus(a_param) in about (0.02, 0.13): a in (0.35, 1), so that the
        // gradients stay large against the rounding of the finite differences.
        .array(
            "a_param",
            rng.vec(h, 1.0).iter().map(|v| v - 3.0).collect(),
            &[h],
        );
    rnn_core::build("rglru", &p).unwrap()
}

/// An sLSTM built through the catalogue.
fn slstm(rng: &mut Rng, h: usize, i: usize) -> Box<dyn Cell<f64>> {
    let p = Params::new()
        .array("weight_ih", rng.vec(4 * h * i, 1.0), &[4 * h, i])
        .array(
            "weight_hh",
            rng.vec(4 * h * h, 1.0 / (h as f64).sqrt()),
            &[4 * h, h],
        )
        .array("bias", rng.vec(4 * h, 0.5), &[4 * h]);
    rnn_core::build("slstm", &p).unwrap()
}

/// A random initial state for `cell`; the sLSTM's normaliser `n` (the third quarter)
/// is made positive, as it is in use (it starts at 0 and grows).
fn initial_state(cell: &dyn Cell<f64>, rng: &mut Rng, batch: usize) -> Vec<f64> {
    let s = cell.state_dim();
    let mut s0 = rng.vec(batch * s, 0.5);
    if cell.kind() == "slstm" {
        let h = cell.hidden();
        for lane in s0.chunks_exact_mut(s) {
            for n in &mut lane[2 * h..3 * h] {
                *n = 0.5 + n.abs();
            }
        }
    }
    s0
}

/// The smallest `|i_r - log f~|` of an sLSTM run (the distance from the kink of the
/// stabiliser's `max`), read back from the records (`rec[3H..4H]` is
/// `e = exp(-|i_r - log f~|)`, `rec[4H..5H]` the branch flag), and whether each
/// branch was taken. Finite differences need the margin well above their step.
fn slstm_margin(cell: &dyn Cell<f64>, x: &[f64], s0: &[f64]) -> (f64, bool, bool) {
    let (h, i) = (cell.hidden(), cell.input());
    let steps = x.len() / i;
    let w = &cell.weights().w_ih;
    let mut cur = s0.to_vec();
    let mut next = vec![0.0; cell.state_dim()];
    let mut rec = vec![0.0; cell.record_dim()];
    let mut scratch = vec![0.0; cell.scratch_dim()];
    let (mut margin, mut input_branch, mut forget_branch) = (f64::INFINITY, false, false);
    for t in 0..steps {
        let xt = &x[t * i..(t + 1) * i];
        let xp: Vec<f64> = (0..cell.proj_dim())
            .map(|r| cell.proj_bias()[r] + (0..i).map(|k| w[r * i + k] * xt[k]).sum::<f64>())
            .collect();
        cell.step(&xp, &cur, &mut next, &mut rec, &mut scratch);
        for j in 0..h {
            margin = margin.min(-rec[3 * h + j].ln());
            if rec[4 * h + j] > 0.0 {
                input_branch = true;
            } else {
                forget_branch = true;
            }
        }
        std::mem::swap(&mut cur, &mut next);
    }
    (margin, input_branch, forget_branch)
}

/// For the sLSTM, fail unless the run stays clear of the `max` kink.
fn check_clear_of_kink(cell: &dyn Cell<f64>, x: &[f64], s0: &[f64]) {
    if cell.kind() == "slstm" {
        let (margin, a, b) = slstm_margin(cell, x, s0);
        assert!(
            margin > 1e-3,
            "slstm run passes within {margin} of the max() kink"
        );
        assert!(a && b, "slstm run takes one branch of max() only: {a} {b}");
    }
}

fn lru(rng: &mut Rng, h: usize, i: usize) -> Lru<f64> {
    let modulus: Vec<f64> = rng.vec(h, 0.05).iter().map(|v| 0.93 + v).collect();
    let phase = rng.vec(h, 3.0);
    let re = modulus
        .iter()
        .zip(&phase)
        .map(|(m, p)| m * p.cos())
        .collect();
    let im = modulus
        .iter()
        .zip(&phase)
        .map(|(m, p)| m * p.sin())
        .collect();
    Lru::new(h, i, rng.vec(2 * h * i, 1.0), re, im).unwrap()
}

/// A minGRU built through the catalogue, as the bindings build it.
fn mingru(rng: &mut Rng, h: usize, i: usize) -> Box<dyn Cell<f64>> {
    let p = Params::new()
        .array("weight_ih", rng.vec(2 * h * i, 1.0), &[2 * h, i])
        .array("bias_ih", rng.vec(2 * h, 0.5), &[2 * h]);
    rnn_core::build("mingru", &p).unwrap()
}

fn rel_err(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

#[test]
fn bptt_norms_match_central_differences() {
    let mut rng = Rng::new(7);
    let (i, steps) = (3, 9);
    for cell in cells(&mut rng, 5, i) {
        let cell = cell.as_ref();
        let (h, s, i) = (cell.output_dim(), cell.state_dim(), cell.input());
        let adim = cell.adjoint_dim();
        let x = rng.vec(steps * i, 1.0);
        let s0 = initial_state(cell, &mut rng, 1);
        let v = rng.vec(h, 1.0);
        check_clear_of_kink(cell, &x, &s0);
        let seq = Seq::new(&x, steps, 1, i).unwrap();
        let mut got_h = vec![0.0; steps];
        let mut got_x = vec![0.0; steps];
        let opts = BpttOptions::default();
        grad_norms(cell, &seq, &s0, &v, &opts, &mut got_h).unwrap();
        grad_norms(
            cell,
            &seq,
            &s0,
            &v,
            &BpttOptions {
                wrt: Wrt::Input,
                ..opts
            },
            &mut got_x,
        )
        .unwrap();
        let mut got_c = vec![0.0; steps];
        if cell.kind() == "lstm" {
            grad_norms(
                cell,
                &seq,
                &s0,
                &v,
                &BpttOptions {
                    wrt: Wrt::Cell,
                    ..opts
                },
                &mut got_c,
            )
            .unwrap();
        }
        let vfull = v.clone();
        let rec0 = vec![0.0; cell.record_dim()];
        let eps = 1e-6;
        for t in 0..steps {
            // State after step t, then the gradient of L w.r.t. each of its entries.
            let (st, rt) = run_rec(cell, &x, 0, t + 1, &s0, &rec0);
            let mut g = vec![0.0; s];
            for (j, gj) in g.iter_mut().enumerate() {
                let (mut a, mut b) = (st.clone(), st.clone());
                a[j] += eps;
                b[j] -= eps;
                *gj = (loss(cell, &x, t + 1, steps, &a, &rt, &vfull)
                    - loss(cell, &x, t + 1, steps, &b, &rt, &vfull))
                    / (2.0 * eps);
            }
            let nh = g[..adim].iter().map(|v| v * v).sum::<f64>().sqrt();
            assert!(
                rel_err(got_h[t].exp(), nh) < 1e-6,
                "{} state t={t}: {} vs {nh}",
                cell.kind(),
                got_h[t].exp()
            );
            if cell.kind() == "lstm" {
                // The total dL/dc_t: c_t moves h_t = o_t tanh(c_t) too, with o_t read
                // back from the state (h / tanh c).
                let mut gc = vec![0.0; h];
                for (j, gj) in gc.iter_mut().enumerate() {
                    let (hj, cj) = (st[j], st[h + j]);
                    let o = hj / cj.tanh();
                    let moved = |d: f64| {
                        let mut a = st.clone();
                        a[h + j] = cj + d;
                        a[j] = o * (cj + d).tanh();
                        loss(cell, &x, t + 1, steps, &a, &rt, &vfull)
                    };
                    *gj = (moved(eps) - moved(-eps)) / (2.0 * eps);
                }
                let nc = gc.iter().map(|v| v * v).sum::<f64>().sqrt();
                assert!(
                    rel_err(got_c[t].exp(), nc) < 1e-6,
                    "lstm cell t={t}: {} vs {nc}",
                    got_c[t].exp()
                );
            }
            // Input gradient: perturb x_t.
            let st_prev = run_from(cell, &x, 0, t, &s0);
            let mut gx = vec![0.0; i];
            for (k, gk) in gx.iter_mut().enumerate() {
                let (mut xa, mut xb) = (x.clone(), x.clone());
                xa[t * i + k] += eps;
                xb[t * i + k] -= eps;
                *gk = (loss(cell, &xa, t, steps, &st_prev, &rec0, &vfull)
                    - loss(cell, &xb, t, steps, &st_prev, &rec0, &vfull))
                    / (2.0 * eps);
            }
            let nx = gx.iter().map(|v| v * v).sum::<f64>().sqrt();
            assert!(
                rel_err(got_x[t].exp(), nx) < 1e-6,
                "{} input t={t}: {} vs {nx}",
                cell.kind(),
                got_x[t].exp()
            );
        }
    }
}

#[test]
fn forward_sensitivity_matches_central_differences() {
    let mut rng = Rng::new(11);
    let (h, i, steps) = (4, 2, 8);
    for cell in cells(&mut rng, h, i) {
        let cell = cell.as_ref();
        let (s, i) = (cell.state_dim(), cell.input());
        let x = rng.vec(steps * i, 1.0);
        let s0 = initial_state(cell, &mut rng, 1);
        let u = rng.vec(s, 1.0);
        check_clear_of_kink(cell, &x, &s0);
        let seq = Seq::new(&x, steps, 1, i).unwrap();
        let mut got = vec![0.0; steps];
        sensitivity(cell, &seq, &s0, &u, Part::State, None, &mut got).unwrap();
        let eps = 1e-6;
        for t in 0..steps {
            let a: Vec<f64> = s0.iter().zip(&u).map(|(p, q)| p + eps * q).collect();
            let b: Vec<f64> = s0.iter().zip(&u).map(|(p, q)| p - eps * q).collect();
            let (fa, fb) = (
                run_from(cell, &x, 0, t + 1, &a),
                run_from(cell, &x, 0, t + 1, &b),
            );
            let n = fa
                .iter()
                .zip(&fb)
                .map(|(p, q)| ((p - q) / (2.0 * eps)).powi(2))
                .sum::<f64>()
                .sqrt();
            assert!(
                rel_err(got[t].exp(), n) < 1e-6,
                "{} t={t}: {} vs {n}",
                cell.kind(),
                got[t].exp()
            );
        }
    }
}

#[test]
fn checkpointed_reverse_pass_equals_stored_one() {
    let mut rng = Rng::new(3);
    let (i, steps, batch) = (2, 1000, 3);
    for cell in cells(&mut rng, 6, i) {
        let cell = cell.as_ref();
        let (h, s, i) = (cell.output_dim(), cell.state_dim(), cell.input());
        let x = rng.vec(steps * batch * i, 1.0);
        let s0 = initial_state(cell, &mut rng, batch);
        let v = rng.vec(batch * h, 1.0);
        let seq = Seq::new(&x, steps, batch, i).unwrap();
        let big = BpttOptions::default();
        // A budget that forces ~sqrt(T) segments.
        let small = BpttOptions {
            memory_budget: 40_000,
            ..big
        };
        let stored = cell.record_dim() + if cell.vjp_reads_state() { s } else { 0 };
        // (The LRU's reverse pass stores nothing, so it never checkpoints.)
        assert_eq!(
            rnn_core::plan_segment(cell, steps, small.memory_budget / 2).unwrap() < steps,
            stored > 0,
            "{}",
            cell.kind()
        );
        let (mut a, mut b) = (vec![0.0; steps * batch], vec![0.0; steps * batch]);
        grad_norms(cell, &seq, &s0, &v, &big, &mut a).unwrap();
        grad_norms(cell, &seq, &s0, &v, &small, &mut b).unwrap();
        assert_eq!(a, b, "{}", cell.kind());
        // Batch lanes are independent: lane 1 alone gives the same column.
        let x1: Vec<f64> = (0..steps)
            .flat_map(|t| x[(t * batch + 1) * i..(t * batch + 2) * i].to_vec())
            .collect();
        let seq1 = Seq::new(&x1, steps, 1, i).unwrap();
        let mut c = vec![0.0; steps];
        grad_norms(cell, &seq1, &s0[s..2 * s], &v[h..2 * h], &big, &mut c).unwrap();
        for t in 0..steps {
            assert_eq!(c[t], a[t * batch + 1]);
        }
    }
}

#[test]
fn too_small_budget_is_an_error_not_a_crash() {
    let mut rng = Rng::new(5);
    let cell = lstm(&mut rng, 8, 1);
    let x = vec![0.0; 10_000];
    let seq = Seq::new(&x, 10_000, 1, 1).unwrap();
    let mut out = vec![0.0; 10_000];
    let opts = BpttOptions {
        memory_budget: 100,
        ..Default::default()
    };
    let err = grad_norms(&cell, &seq, &[0.0; 16], &[1.0; 8], &opts, &mut out).unwrap_err();
    assert!(err.to_string().contains("memory_budget"), "{err}");
}

#[test]
fn lyapunov_of_scaled_orthogonal_linear_map_is_ln_rho() {
    // W = rho * R(phi) (a rotation): every exponent is ln rho exactly.
    let rho: f64 = 0.8;
    let (c, s) = (0.3f64.cos(), 0.3f64.sin());
    let w = rnn_core::Weights::new(
        1,
        2,
        1,
        vec![1.0, 1.0],
        vec![rho * c, -rho * s, rho * s, rho * c],
        None,
        None,
    )
    .unwrap();
    let cell = rnn_core::Elman::new(w, Nonlinearity::Linear, None, None).unwrap();
    let x = vec![0.3; 500];
    let seq = Seq::new(&x, 500, 1, 1).unwrap();
    let sp = rnn_core::lyapunov_spectrum(&cell, &seq, &[0.0, 0.0], 2, 10, true, None).unwrap();
    for e in &sp.exponents {
        assert!((e - rho.ln()).abs() < 1e-12, "{e}");
    }
    assert_eq!(sp.local.unwrap().len(), 1000);
    let norms = rnn_core::jacobian_norms(&cell, &seq, &[0.0, 0.0], 7, None).unwrap();
    assert_eq!(norms.len(), 500usize.div_ceil(7));
    assert!(norms.iter().all(|n| (n - rho).abs() < 1e-12));
}
