//! Parameter gradients by BPTT against central finite differences.

mod common;

use common::Rng;
use rnn_core::{
    forward, param_grads, Cell, Elman, Gru, LayerNorm, Lru, Lstm, Nonlinearity, Seq, Weights,
};

/// The SSM's states per channel and step-size rank in these tests.
const SSM_N: usize = 3;
const SSM_R: usize = 2;

/// Build a cell of `kind` from the flat parameter layout of `Cell::accumulate_grads`.
fn build(kind: &str, h: usize, i: usize, p: &[f64]) -> Box<dyn Cell<f64>> {
    if kind == "ssm" {
        // [x_proj_weight | dt_proj_weight | dt_proj_bias | A_log | D]: D = h channels
        // (the input size), N = 3, R = 2.
        let (d, n, r) = (h, SSM_N, SSM_R);
        let (xw, rest) = p.split_at((r + 2 * n) * d);
        let (dtw, rest) = rest.split_at(d * r);
        let (dtb, rest) = rest.split_at(d);
        let (alog, rest) = rest.split_at(d * n);
        let params = rnn_core::Params::new()
            .array("x_proj_weight", xw.to_vec(), &[r + 2 * n, d])
            .array("dt_proj_weight", dtw.to_vec(), &[d, r])
            .array("dt_proj_bias", dtb.to_vec(), &[d])
            .array("A_log", alog.to_vec(), &[d, n])
            .array("D", rest[..d].to_vec(), &[d]);
        return rnn_core::build("ssm", &params).unwrap();
    }
    if kind == "minlstm" {
        let (w, b) = p[..3 * h * i + 3 * h].split_at(3 * h * i);
        let params = rnn_core::Params::new()
            .array("weight_ih", w.to_vec(), &[3 * h, i])
            .array("bias_ih", b.to_vec(), &[3 * h]);
        return rnn_core::build("minlstm", &params).unwrap();
    }
    if kind == "rglru" {
        // [weight_a | bias_a | weight_x | bias_x | a_param]; the input size is h.
        let (w_a, rest) = p.split_at(h * h);
        let (b_a, rest) = rest.split_at(h);
        let (w_x, rest) = rest.split_at(h * h);
        let (b_x, rest) = rest.split_at(h);
        let params = rnn_core::Params::new()
            .array("weight_a", w_a.to_vec(), &[h, h])
            .array("bias_a", b_a.to_vec(), &[h])
            .array("weight_x", w_x.to_vec(), &[h, h])
            .array("bias_x", b_x.to_vec(), &[h])
            .array("a_param", rest[..h].to_vec(), &[h]);
        return rnn_core::build("rglru", &params).unwrap();
    }
    if kind == "slstm" {
        // [weight_ih | weight_hh | bias], gates (i, f, z, o).
        let (w_ih, rest) = p.split_at(4 * h * i);
        let (w_hh, rest) = rest.split_at(4 * h * h);
        let params = rnn_core::Params::new()
            .array("weight_ih", w_ih.to_vec(), &[4 * h, i])
            .array("weight_hh", w_hh.to_vec(), &[4 * h, h])
            .array("bias", rest[..4 * h].to_vec(), &[4 * h]);
        return rnn_core::build("slstm", &params).unwrap();
    }
    if kind == "mingru" {
        let (w, b) = p[..2 * h * i + 2 * h].split_at(2 * h * i);
        let params = rnn_core::Params::new()
            .array("weight_ih", w.to_vec(), &[2 * h, i])
            .array("bias_ih", b.to_vec(), &[2 * h]);
        return rnn_core::build("mingru", &params).unwrap();
    }
    if kind == "lru" {
        let w = p[..2 * h * i].to_vec();
        let lam = &p[2 * h * i..];
        return Box::new(Lru::new(h, i, w, lam[..h].to_vec(), lam[h..2 * h].to_vec()).unwrap());
    }
    let g = match kind {
        "lstm" => 4,
        "gru" => 3,
        _ => 1,
    };
    let r = g * h;
    let (w_ih, rest) = p.split_at(r * i);
    let (w_hh, rest) = rest.split_at(r * h);
    let (b_ih, rest) = rest.split_at(r);
    let (b_hh, extra) = rest.split_at(r);
    let w = Weights::new(
        g,
        h,
        i,
        w_ih.to_vec(),
        w_hh.to_vec(),
        Some(b_ih.to_vec()),
        Some(b_hh.to_vec()),
    )
    .unwrap();
    match kind {
        "lstm" => Box::new(Lstm::new(w).unwrap()),
        "gru" => Box::new(Gru::new(w).unwrap()),
        "elman_ln" => {
            let ln = LayerNorm {
                weight: extra[..h].to_vec(),
                bias: extra[h..2 * h].to_vec(),
                eps: 1e-5,
            };
            Box::new(Elman::new(w, Nonlinearity::Tanh, Some(0.6), Some(ln)).unwrap())
        }
        _ => Box::new(Elman::new(w, Nonlinearity::Tanh, None, None).unwrap()),
    }
}

/// The smallest `|i_r - log f~|` along an sLSTM run, from the records (`rec[3H..4H]`
/// is `e = exp(-|i_r - log f~|)`, `rec[4H..5H]` the branch flag), and whether
/// both branches of the stabiliser's `max` were taken.
fn slstm_margin(cell: &dyn Cell<f64>, x: &[f64], s0: &[f64]) -> (f64, bool) {
    let (h, i) = (cell.hidden(), cell.input());
    let w = &cell.weights().w_ih;
    let mut cur = s0.to_vec();
    let mut next = vec![0.0; cell.state_dim()];
    let mut rec = vec![0.0; cell.record_dim()];
    let mut scratch = vec![0.0; cell.scratch_dim()];
    let mut margin = f64::INFINITY;
    let mut taken = [false; 2];
    for xt in x.chunks_exact(i) {
        let xp: Vec<f64> = (0..cell.proj_dim())
            .map(|r| cell.proj_bias()[r] + (0..i).map(|k| w[r * i + k] * xt[k]).sum::<f64>())
            .collect();
        cell.step(&xp, &cur, &mut next, &mut rec, &mut scratch);
        for j in 0..h {
            margin = margin.min(-rec[3 * h + j].ln());
            taken[usize::from(rec[4 * h + j] > 0.0)] = true;
        }
        std::mem::swap(&mut cur, &mut next);
    }
    (margin, taken[0] && taken[1])
}

/// `L = sum_t dh_t . y_t` for one lane (`y_t` the output, `Cell::output`).
fn loss(cell: &dyn Cell<f64>, x: &[f64], steps: usize, s0: &[f64], dh: &[f64]) -> f64 {
    let seq = Seq::new(x, steps, 1, cell.input()).unwrap();
    let mut out = vec![0.0; steps * cell.output_dim()];
    forward(cell, &seq, s0, &mut out, None).unwrap();
    out.iter().zip(dh).map(|(a, b)| a * b).sum()
}

#[test]
fn parameter_and_initial_state_gradients_match_central_differences() {
    let mut rng = Rng::new(21);
    let (h, i0, steps) = (4, 3, 7);
    let mut checkpointed = 0;
    for kind in [
        "elman", "elman_ln", "lstm", "gru", "lru", "mingru", "minlstm", "rglru", "slstm", "ssm",
    ] {
        // The RG-LRU's and the SSM's input size is their hidden size.
        let i = if kind == "rglru" || kind == "ssm" {
            h
        } else {
            i0
        };
        let n = build(kind, h, i, &vec![0.1; 100_000]).param_len();
        let mut p = rng.vec(n, 0.6);
        if kind == "lru" {
            // Keep |lambda| below 1.
            for v in p[2 * h * i..].iter_mut() {
                *v *= 0.9;
            }
        }
        if kind == "elman_ln" {
            for v in p[n - 2 * h..n - h].iter_mut() {
                *v += 1.0;
            }
        }
        if kind == "rglru" {
            // a_param near -3: a = exp(-8 gate_a softplus(a_param)) in (0.35, 1).
            for v in p[n - h..].iter_mut() {
                *v -= 3.0;
            }
        }
        let cell = build(kind, h, i, &p);
        let s = cell.state_dim();
        let hh = cell.output_dim();
        let x = rng.vec(steps * i, 1.0);
        let mut s0 = rng.vec(s, 0.5);
        if kind == "slstm" {
            // A positive normaliser n, as in use; and the run must stay clear of the
            // kink of the stabiliser's max() for central differences to hold.
            for v in s0[2 * h..3 * h].iter_mut() {
                *v = 0.5 + v.abs();
            }
            let (margin, both) = slstm_margin(cell.as_ref(), &x, &s0);
            assert!(
                margin > 1e-3,
                "slstm run passes within {margin} of the kink"
            );
            assert!(both, "slstm run takes one branch of max() only");
        }
        let dh = rng.vec(steps * hh, 1.0);
        let seq = Seq::new(&x, steps, 1, i).unwrap();
        let got = param_grads(cell.as_ref(), &seq, &s0, &dh, true, 1 << 30, None).unwrap();
        let eps = 1e-6;
        for k in 0..n {
            let (mut a, mut b) = (p.clone(), p.clone());
            a[k] += eps;
            b[k] -= eps;
            let fd = (loss(build(kind, h, i, &a).as_ref(), &x, steps, &s0, &dh)
                - loss(build(kind, h, i, &b).as_ref(), &x, steps, &s0, &dh))
                / (2.0 * eps);
            let err = (got.params[k] - fd).abs();
            assert!(
                err < 1e-6 * (1.0 + fd.abs()),
                "{kind} param {k}: {} vs {fd}",
                got.params[k]
            );
        }
        for k in 0..s {
            let (mut a, mut b) = (s0.clone(), s0.clone());
            a[k] += eps;
            b[k] -= eps;
            let fd = (loss(cell.as_ref(), &x, steps, &a, &dh)
                - loss(cell.as_ref(), &x, steps, &b, &dh))
                / (2.0 * eps);
            let err = (got.initial_state[k] - fd).abs();
            assert!(
                err < 1e-6 * (1.0 + fd.abs()),
                "{kind} h0[{k}]: {} vs {fd}",
                got.initial_state[k]
            );
        }
        let dx = got.inputs.as_ref().unwrap();
        for k in 0..steps * i {
            let (mut a, mut b) = (x.clone(), x.clone());
            a[k] += eps;
            b[k] -= eps;
            let fd = (loss(cell.as_ref(), &a, steps, &s0, &dh)
                - loss(cell.as_ref(), &b, steps, &s0, &dh))
                / (2.0 * eps);
            assert!(
                (dx[k] - fd).abs() < 1e-6 * (1.0 + fd.abs()),
                "{kind} dx[{k}]: {} vs {fd}",
                dx[k]
            );
        }
        // A checkpointed reverse pass gives the same gradients.
        let budget = steps * (s + cell.record_dim()) * 8 * 3 / 4;
        if let Ok(seg) = rnn_core::plan_segment_with(cell.as_ref(), steps, budget, true) {
            assert!(seg < steps);
            checkpointed += 1;
            let small = param_grads(cell.as_ref(), &seq, &s0, &dh, false, budget, None).unwrap();
            for (u, w) in small.params.iter().zip(&got.params) {
                assert!(
                    (u - w).abs() <= 1e-12 * (1.0 + w.abs()),
                    "{kind}: checkpointed {u} vs {w}"
                );
            }
        }
    }
    assert!(
        checkpointed >= 3,
        "only {checkpointed} cells exercised checkpointing"
    );
}
