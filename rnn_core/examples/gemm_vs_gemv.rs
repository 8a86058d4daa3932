//! The batched recurrent product against one matrix-vector product per lane, best of
//! many repetitions: `cargo run --release -p rnn_core --example gemm_vs_gemv`.

use rnn_core::kernels::{gemm, gemv, isa, Lanes, Packed};
use std::time::Instant;

fn best(mut f: impl FnMut()) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..30 {
        let t = Instant::now();
        for _ in 0..20 {
            f();
        }
        best = best.min(t.elapsed().as_secs_f64() / 20.0);
    }
    best
}

fn main() {
    println!("isa {}", isa().name());
    for (rows, cols, n) in [
        (128, 128, 16),
        (512, 128, 16),
        (256, 256, 64),
        (384, 128, 16),
    ] {
        let w: Vec<f32> = (0..rows * cols)
            .map(|i| ((i % 17) as f32 - 8.0) * 0.01)
            .collect();
        let p = Packed::new(&w, rows, cols);
        let x: Vec<f32> = (0..n * cols)
            .map(|i| ((i % 7) as f32 - 3.0) * 0.1)
            .collect();
        let bias = vec![0.5f32; n * rows];
        let mut y = vec![0.0f32; n * rows];
        let lanes = Lanes {
            n,
            ldx: cols,
            ldb: rows,
            ldy: rows,
        };
        let tm = best(|| gemm(&p, &x, &bias, &mut y, lanes));
        let tv = best(|| {
            for b in 0..n {
                gemv(
                    &p,
                    &x[b * cols..],
                    &bias[b * rows..],
                    &mut y[b * rows..(b + 1) * rows],
                )
            }
        });
        let flops = 2.0 * (rows * cols * n) as f64;
        println!(
            "{rows}x{cols} lanes {n}: gemm {:.2} us ({:.1} GFLOP/s), {n} gemv {:.2} us ({:.1} GFLOP/s), ratio {:.2}",
            tm * 1e6,
            flops / tm * 1e-9,
            tv * 1e6,
            flops / tv * 1e-9,
            tv / tm
        );
    }
}
