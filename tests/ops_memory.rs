//! Memory: a loop that builds and realizes a fresh graph 10,000 times stays flat, long chains are freed
//! without overflowing the stack, and realized tensors let go of their operands.
//!
//! The counters (`smelt::stats`) are process-wide, so this binary holds exactly one test: no other
//! test may create tensors while it counts.

use smelt::prelude::*;
use smelt::stats::{live_buffers, live_tensors};

fn step(i: usize) -> f32 {
    let x = Tensor::from_vec(vec![i as f32; 16], [4, 4]);
    let w = Tensor::ones([4, 4], DType::F32);
    ((x.matmul(&w) + 1.0).relu().sum()).item::<f32>().unwrap()
}

#[test]
fn memory_stays_flat() {
    step(0); // warm-up: whatever caches the backend keeps
    let (t0, b0) = (live_tensors(), live_buffers());

    // 1. A training-loop-like pattern: a fresh graph every step, realized and dropped.
    for i in 0..10_000 {
        // x @ ones(4, 4) is 4i everywhere; + 1, relu, sum over 16 elements.
        assert_eq!(step(i), 16.0 * (4.0 * i as f32 + 1.0));
        if i % 1000 == 0 {
            assert_eq!((live_tensors(), live_buffers()), (t0, b0), "step {i}");
        }
    }
    assert_eq!(
        (live_tensors(), live_buffers()),
        (t0, b0),
        "after 10,000 steps"
    );

    // 2. A 100,000-op chain dropped unrealized: freed iteratively, no stack overflow.
    {
        let mut t = Tensor::scalar(0f32);
        for _ in 0..100_000 {
            t = &t + 1.0;
        }
        assert!(live_tensors() >= t0 + 100_000);
    }
    assert_eq!(
        (live_tensors(), live_buffers()),
        (t0, b0),
        "after dropping the 100,000-op chain"
    );

    // 3. A chain realized, then dropped (deep chains are tests/ops_long_chains.rs's subject).
    {
        let mut t = Tensor::from_vec(vec![0f32; 4], [4]);
        for _ in 0..50 {
            t = (&t + 1.0).reshape([2, 2]).reshape([4]);
        }
        assert_eq!(t.to_vec::<f32>().unwrap(), vec![50.0; 4]);
    }
    assert_eq!(
        (live_tensors(), live_buffers()),
        (t0, b0),
        "after the realized chain"
    );

    // 4. A realized tensor lets go of its operands: only it and its buffer stay alive.
    let kept = {
        let x = Tensor::from_vec(vec![1f32; 8], [8]);
        let y = (&x * 2.0).exp().sum_dim(&[0], true);
        y.realize().unwrap()
    };
    assert_eq!((live_tensors(), live_buffers()), (t0 + 1, b0 + 1));
    assert_eq!(kept.to_vec::<f32>().unwrap(), vec![8.0 * 2f32.exp()]);
    drop(kept);
    assert_eq!((live_tensors(), live_buffers()), (t0, b0));

    // 5. Failed realizes leak nothing either.
    for _ in 0..100 {
        let t = Tensor::new([1f32, 2.]).index_select(0, &Tensor::new([7i64]));
        assert!(t.realize().is_err());
    }
    assert_eq!(
        (live_tensors(), live_buffers()),
        (t0, b0),
        "after failed realizes"
    );
}
