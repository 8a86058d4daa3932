//! A single sequence split over several threads by hidden unit agrees with the
//! one-thread pass: forward bit for bit, gradient norms to rounding; errors and
//! cancels stop every worker.

mod common;

use common::{elman, gru, lstm, Rng};
use rnn_core::bptt::Wrt;
use rnn_core::{grad_norms, BpttOptions, Cell, Error, Nonlinearity, Seq};
use std::sync::atomic::AtomicBool;

fn cells(rng: &mut Rng, h: usize, i: usize) -> Vec<Box<dyn Cell<f64>>> {
    vec![
        Box::new(elman(rng, h, i, Nonlinearity::Tanh, None, false)),
        Box::new(elman(rng, h, i, Nonlinearity::Relu, None, false)),
        Box::new(elman(rng, h, i, Nonlinearity::Linear, None, false)),
        Box::new(lstm(rng, h, i)),
        Box::new(gru(rng, h, i)),
    ]
}

fn one_thread(
    cell: &dyn Cell<f64>,
    seq: &Seq<'_, f64>,
    s0: &[f64],
    v: &[f64],
    wrt: Wrt,
) -> Vec<f64> {
    let opts = BpttOptions {
        wrt,
        threads: Some(1),
        ..BpttOptions::default()
    };
    let mut out = vec![0.0; seq.steps];
    grad_norms(cell, seq, s0, v, &opts, &mut out).unwrap();
    out
}

#[test]
fn split_forward_and_reverse_match_one_thread() {
    let mut rng = Rng::new(11);
    let (i, steps) = (3, 700);
    // 65 units: shares of 32/33 and 21/22/22; 3 workers exercise the partial sums.
    for (h, parts) in [(64, 2), (65, 2), (65, 3)] {
        for cell in cells(&mut rng, h, i) {
            let cell = cell.as_ref();
            let s = cell.state_dim();
            let x = rng.vec(steps * i, 1.0);
            let s0 = rng.vec(s, 0.5);
            let v = rng.vec(h, 1.0);
            let seq = Seq::new(&x, steps, 1, i).unwrap();

            let mut want = vec![0.0; steps * h];
            rnn_core::forward(cell, &seq, &s0, &mut want, Some(1)).unwrap();
            let mut got = vec![0.0; steps * h];
            rnn_core::split::forward(cell, &seq, &s0, &mut got, parts).unwrap();
            assert_eq!(got, want, "{} forward", cell.kind());

            {
                let want = one_thread(cell, &seq, &s0, &v, Wrt::State);
                // Stored (one segment) and checkpointed (segments of 37 steps).
                for seg in [steps, 37] {
                    let mut got = vec![0.0; steps];
                    rnn_core::split::grad_norms(cell, &seq, &s0, &v, seg, parts, &mut got).unwrap();
                    for t in 0..steps {
                        let (a, b) = (got[t], want[t]);
                        assert!(
                            (a == b) || (a - b).abs() <= 1e-10 * (1.0 + b.abs()),
                            "{} H={h} parts={parts} seg={seg} t={t}: {a} vs {b}",
                            cell.kind()
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn split_is_used_for_one_long_sequence_and_gives_the_same_norms() {
    let mut rng = Rng::new(12);
    let (h, i, steps) = (64, 1, 3000);
    let cell = lstm(&mut rng, h, i);
    // (Other tests may be running a split team, during which calls do not split.)
    let splits = (0..2000).any(|_| {
        let p = rnn_core::split::parts_for(&cell, 1, steps, Some(2));
        if p != 2 {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        p == 2
    });
    assert!(splits, "one long sequence on two threads is split in two");
    assert_eq!(rnn_core::split::parts_for(&cell, 2, steps, Some(2)), 1);
    assert_eq!(rnn_core::split::parts_for(&cell, 1, 100, Some(2)), 1);
    assert_eq!(rnn_core::split::parts_for(&cell, 1, steps, Some(1)), 1);
    let x = rng.vec(steps * i, 1.0);
    let s0 = vec![0.0; 2 * h];
    let v = rng.vec(h, 1.0);
    let seq = Seq::new(&x, steps, 1, i).unwrap();
    let want = one_thread(&cell, &seq, &s0, &v, Wrt::State);
    let opts = BpttOptions {
        threads: Some(2),
        ..BpttOptions::default()
    };
    let mut got = vec![0.0; steps];
    let cpus = std::thread::available_parallelism().unwrap();
    grad_norms(&cell, &seq, &s0, &v, &opts, &mut got).unwrap();
    // Worker 0 is the calling thread: it is pinned during the call, not after.
    assert_eq!(std::thread::available_parallelism().unwrap(), cpus);
    for t in 0..steps {
        assert!((got[t] - want[t]).abs() <= 1e-10 * (1.0 + want[t].abs()));
    }
}

#[test]
fn split_errors_and_cancels_stop_every_worker() {
    let mut rng = Rng::new(13);
    let (h, i, steps) = (64, 1, 2000);
    // A linear cell with a huge recurrent weight: the state overflows after a few steps.
    let mut w = common::weights(&mut rng, 1, h, i, 1.0);
    w.w_hh.iter_mut().for_each(|a| *a *= 1e30);
    let big = rnn_core::Elman::new(
        rnn_core::Weights::new(1, h, i, w.w_ih.clone(), w.w_hh.clone(), None, None).unwrap(),
        Nonlinearity::Linear,
        None,
        None,
    )
    .unwrap();
    let x = vec![1.0; steps * i];
    let seq = Seq::new(&x, steps, 1, i).unwrap();
    let (s0, v) = (vec![0.1; h], vec![1.0; h]);
    let mut out = vec![0.0; steps];
    for parts in [2, 3] {
        let err =
            rnn_core::split::grad_norms(&big, &seq, &s0, &v, steps, parts, &mut out).unwrap_err();
        assert!(matches!(err, Error::Numerics(_)), "{err:?}");
        let mut y = vec![0.0; steps * h];
        let err = rnn_core::split::forward(&big, &seq, &s0, &mut y, parts).unwrap_err();
        assert!(matches!(err, Error::Numerics(_)), "{err:?}");
    }
    let cell = lstm(&mut rng, h, i);
    let flag = AtomicBool::new(true);
    let seq = Seq::new(&x, steps, 1, i).unwrap().with_cancel(&flag);
    let err = rnn_core::split::grad_norms(&cell, &seq, &vec![0.0; 2 * h], &v, 50, 2, &mut out)
        .unwrap_err();
    assert!(matches!(err, Error::Cancelled), "{err:?}");
}

#[test]
fn split_float32_matches_one_thread_to_rounding() {
    let mut rng = Rng::new(14);
    let (h, i, steps) = (128, 1, 2048);
    let cell64 = lstm(&mut rng, h, i);
    let w = cell64.weights();
    let f = |a: &[f64]| a.iter().map(|v| *v as f32).collect::<Vec<f32>>();
    let w32 = rnn_core::Weights::new(
        4,
        h,
        i,
        f(&w.w_ih),
        f(&w.w_hh),
        Some(f(&w.b_ih)),
        Some(f(&w.b_hh)),
    )
    .unwrap();
    let cell = rnn_core::Lstm::new(w32).unwrap();
    let x = f(&rng.vec(steps * i, 1.0));
    let seq = Seq::new(&x, steps, 1, i).unwrap();
    let (s0, v) = (vec![0.0f32; 2 * h], f(&rng.vec(h, 1.0)));
    let opts = BpttOptions {
        threads: Some(1),
        ..BpttOptions::default()
    };
    let mut want = vec![0.0; steps];
    grad_norms(&cell, &seq, &s0, &v, &opts, &mut want).unwrap();
    let mut got = vec![0.0; steps];
    rnn_core::split::grad_norms(&cell, &seq, &s0, &v, steps, 2, &mut got).unwrap();
    let worst = got
        .iter()
        .zip(&want)
        .map(|(a, b)| (a - b).abs() / (1.0 + b.abs()))
        .fold(0.0, f64::max);
    assert!(worst < 1e-4, "worst {worst}");
}
