//! Realize semantics: `realize` returns the same tensor and later graphs read its buffer; `realize_all`
//! runs shared work once; `from_vec` and `as_slice` share memory without copies; `Tensor` is
//! `Send + Sync` and threads realizing graphs that share tensors agree with one thread.

mod common;

use common::assert_values;
use smelt::DType::{Bool, F32, F64, I32, I64, U8};
use smelt::prelude::*;

#[test]
fn realize_returns_the_same_tensor_backed_by_a_buffer() {
    let a = Tensor::new([1f32, 2., 3.]);
    assert!(a.is_realized(), "data tensors are realized leaves");
    let b = (&a * 2.0).exp();
    assert!(!b.is_realized(), "ops are lazy");
    let r = b.realize().unwrap();
    assert!(r.same(&b));
    assert!(b.is_realized());
    let p = b.as_slice::<f32>().unwrap().as_ptr();
    // Realizing again computes nothing and keeps the buffer.
    assert!(b.realize().unwrap().same(&b));
    assert_eq!(b.as_slice::<f32>().unwrap().as_ptr(), p);
    assert_values(&b, F32, &[3], &[2f64.exp(), 4f64.exp(), 6f64.exp()]);
    // A clone is the same node, realized too.
    let c = b.clone();
    assert!(c.is_realized() && c.same(&b));
    // Reading data realizes.
    let d = &a + 1.0;
    assert_eq!(d.to_vec::<f32>().unwrap(), vec![2., 3., 4.]);
    assert!(d.is_realized());
}

#[test]
fn later_graphs_read_the_realized_buffer() {
    let x = Tensor::new([1f32, 2., 3.]);
    let h = (&x * 10.0).realize().unwrap();
    let p = h.as_slice::<f32>().unwrap().as_ptr();
    let y = &h + 1.0;
    // h enters the next graph as an input buffer; its recipe (the mul) is not run again.
    let dump = Tensor::debug_graph(&[&y]).unwrap();
    assert!(dump.starts_with("%0 = input 0 : f32[3]\n"), "{dump}");
    assert!(!dump.contains("mul"), "{dump}");
    assert_values(&y, F32, &[3], &[11., 21., 31.]);
    assert_values(&h.sum(), F32, &[], &[60.]);
    assert_eq!(
        h.as_slice::<f32>().unwrap().as_ptr(),
        p,
        "the buffer is reused, not replaced"
    );
    // Random numbers, once realized, are the same values in every later graph.
    let r = Tensor::rand([64], F32).realize().unwrap();
    let v = r.to_vec::<f32>().unwrap();
    assert_eq!((&r + 0.0).to_vec::<f32>().unwrap(), v);
    assert_eq!((&r - &r).to_vec::<f32>().unwrap(), vec![0.0; 64]);
    assert_eq!(r.to_vec::<f32>().unwrap(), v);
    // An unrealized random tensor used twice in one graph is one node: r - r is exactly 0.
    let q = Tensor::randn([16], F64);
    assert_eq!((&q - &q).to_vec::<f64>().unwrap(), vec![0.0; 16]);
}

#[test]
fn realize_all_runs_shared_work_once() {
    let x = Tensor::new([0.5f32, -1.0, 2.0]);
    let shared = (&x * 3.0).exp();
    let a = shared.sum();
    let b = &shared + 1.0;
    let dump = Tensor::debug_graph(&[&a, &b]).unwrap();
    assert_eq!(dump.matches(" = exp ").count(), 1, "{dump}");
    assert_eq!(
        dump.lines().last().unwrap().matches('%').count(),
        2,
        "two outputs: {dump}"
    );
    Tensor::realize_all(&[&a, &b]).unwrap();
    assert!(a.is_realized() && b.is_realized());
    assert!(!shared.is_realized(), "only the targets get buffers");
    let e = [1.5f64.exp(), (-3f64).exp(), 6f64.exp()];
    assert_values(&a, F32, &[], &[e.iter().sum()]);
    assert_values(&b, F32, &[3], &[e[0] + 1., e[1] + 1., e[2] + 1.]);
    // Identical subexpressions built separately are merged into one node.
    let (e1, e2) = (x.exp(), x.exp());
    let dump = Tensor::debug_graph(&[&(&e1 + &e2)]).unwrap();
    assert_eq!(dump.matches(" = exp ").count(), 1, "{dump}");
    // A target listed twice, and a target already realized, are fine.
    let c = x.sin();
    Tensor::realize_all(&[&c, &c, &a]).unwrap();
    assert_values(&c, F32, &[3], &[0.5f64.sin(), (-1f64).sin(), 2f64.sin()]);
    Tensor::realize_all(&[]).unwrap();
}

#[test]
fn from_vec_takes_ownership_and_as_slice_borrows_without_copies() {
    fn check<T: smelt::Element>(v: Vec<T>, dtype: DType) {
        let (ptr, n) = (v.as_ptr(), v.len());
        let want = v.clone();
        let t = Tensor::from_vec(v, [n]);
        assert_eq!(t.dtype(), dtype);
        let g = t.as_slice::<T>().unwrap();
        assert_eq!(g.as_ptr(), ptr, "{dtype}: from_vec copied");
        assert_eq!(&*g, want.as_slice());
        assert_eq!(
            t.as_slice::<T>().unwrap().as_ptr(),
            ptr,
            "{dtype}: a second borrow"
        );
        // to_vec is a copy; the guard keeps the memory alive after the tensor is gone.
        let copy = t.to_vec::<T>().unwrap();
        assert_ne!(copy.as_ptr(), ptr);
        drop(t);
        assert_eq!(&*g, want.as_slice());
    }
    check((0..1000).map(|i| i as f32).collect(), F32);
    check((0..100).map(|i| i as f64 * 0.5).collect(), F64);
    check((0..100).map(|i| i - 50).collect::<Vec<i32>>(), I32);
    check(
        (0..100).map(|i| i * 1_000_000_007).collect::<Vec<i64>>(),
        I64,
    );
    check((0..=255).collect::<Vec<u8>>(), U8);
    check(vec![true, false, true], Bool);
    // from_slice copies.
    let data = vec![1f32, 2.];
    let t = Tensor::from_slice(&data, [2]);
    assert_ne!(t.as_slice::<f32>().unwrap().as_ptr(), data.as_ptr());
    // as_slice of a lazy tensor realizes it first.
    let l = Tensor::new([1i64, 2]) * Tensor::new([3i64, 4]);
    assert_eq!(&*l.as_slice::<i64>().unwrap(), &[3, 8]);
    assert!(l.is_realized());
    // ndarray: a standard-layout array is taken without a copy.
    let a = ndarray::Array2::<f32>::from_shape_fn((3, 4), |(i, j)| (i + j) as f32);
    let p = a.as_ptr();
    let t = Tensor::from_ndarray(a);
    assert_eq!(t.as_slice::<f32>().unwrap().as_ptr(), p);
}

#[test]
fn tensor_is_send_and_sync() {
    fn send_sync<T: Send + Sync + 'static>() {}
    send_sync::<Tensor>();
    send_sync::<Error>();
    send_sync::<smelt::SliceGuard<f32>>();
}

#[test]
fn threads_sharing_tensors_agree_with_one_thread() {
    let base = Tensor::from_vec((0..64).map(|i| (i as f32 - 32.0) / 8.0).collect(), [8, 8]);
    let shared = (&base * 0.5).tanh(); // lazy, shared by every thread
    let work = |i: usize| -> Vec<f32> {
        let t = (&shared * (i as f64 + 1.0) + &base)
            .softmax(-1)
            .matmul(&base.t())
            .sum_dim(&[0], false);
        t.to_vec::<f32>().unwrap()
    };
    // The same programs on one thread, built from fresh copies so nothing is shared with the threads.
    let serial: Vec<Vec<f32>> = (0..8).map(work).collect();
    let common = (&shared + 1.0).sum_dim(&[1], false);
    let common_serial = {
        let b = Tensor::from_vec(base.to_vec::<f32>().unwrap(), [8, 8]);
        ((&b * 0.5).tanh() + 1.0)
            .sum_dim(&[1], false)
            .to_vec::<f32>()
            .unwrap()
    };
    for _round in 0..3 {
        let results: Vec<(Vec<f32>, Vec<f32>)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    let (work, common, shared) = (&work, &common, &shared);
                    s.spawn(move || {
                        if i % 2 == 0 {
                            // Some threads realize the shared intermediate while others read through it.
                            shared.realize().unwrap();
                        }
                        (work(i), common.to_vec::<f32>().unwrap())
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (i, (mine, c)) in results.iter().enumerate() {
            assert_eq!(mine, &serial[i], "thread {i}");
            assert_eq!(c, &common_serial, "thread {i}: the shared target");
        }
    }
    assert!(common.is_realized() && shared.is_realized());
}
