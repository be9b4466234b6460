//! Errors: shape and dtype mistakes name the op and the shapes, through the `try_` twin (exact
//! messages and error kinds) and the panicking twin (same message, panicking at the caller's line, via
//! `#[track_caller]`); data access with the wrong element type, `item` on many elements, index errors
//! found while running, and devices that do not exist are `Err`, never panics.

mod common;

use common::panics;
use smelt::DType::{Bool, F32, I32, I64};
use smelt::prelude::*;
use std::cell::{Cell, RefCell};
use std::fmt::Debug;
use std::sync::Once;

/// Asserts that `r` is an error with exactly this message.
#[track_caller]
fn fails<T: Debug>(r: Result<T>, want: &str) -> Error {
    let e = r.expect_err(want);
    assert_eq!(e.to_string(), want);
    e
}

fn z(shape: &[usize]) -> Tensor {
    Tensor::zeros(shape, F32)
}

// ---- exact messages, try_ twin and panicking twin ----

/// One case: the `try_` result, the panicking call, the message both must give.
macro_rules! twins {
    ($($try:expr, $panicking:expr => $msg:expr;)*) => {$(
        fails($try, $msg);
        assert_eq!(panics(|| $panicking), $msg, "panicking twin of {}", stringify!($try));
    )*};
}

#[test]
fn elementwise_errors() {
    let (a, b) = (z(&[2, 3]), z(&[4]));
    let t = Tensor::ones([2], Bool);
    twins! {
        a.try_add(&b), a.add(&b) => "add: shapes [2, 3] and [4] cannot broadcast";
        a.try_sub(&b), &a - &b => "sub: shapes [2, 3] and [4] cannot broadcast";
        a.try_mul(&b), a.clone() * b.clone() => "mul: shapes [2, 3] and [4] cannot broadcast";
        a.try_div(&b), &a / b.clone() => "div: shapes [2, 3] and [4] cannot broadcast";
        a.try_pow(&b), a.pow(&b) => "pow: shapes [2, 3] and [4] cannot broadcast";
        a.try_maximum(&b), a.maximum(&b) => "maximum: shapes [2, 3] and [4] cannot broadcast";
        a.try_lt(&b), a.lt(&b) => "lt: shapes [2, 3] and [4] cannot broadcast";
        a.try_eq(&b), a.eq(&b) => "eq: shapes [2, 3] and [4] cannot broadcast";
        t.try_sub(&t), t.sub(&t) => "sub: not supported for two bool tensors";
        t.try_neg(), -&t => "neg: negation of a bool tensor is not supported";
        a.try_bitand(&a), a.bitand(&a) => "bitand: not supported for f32 tensors";
        Tensor::try_where_cond(&a, &a, &a), Tensor::where_cond(&a, &a, &a) => "where: condition must be bool, got f32";
        Tensor::try_where_cond(&t, &a, &a), t.where_(&a, &a) => "where: shapes [2] and [2, 3] cannot broadcast";
    }
    assert!(matches!(a.try_add(&b), Err(Error::Shape { op: "add", .. })));
    assert!(matches!(t.try_neg(), Err(Error::DType { op: "neg", .. })));
}

#[test]
fn reduction_errors() {
    let a = z(&[2, 3]);
    let i = Tensor::ones([2, 3], I32);
    let e = z(&[0, 2]);
    twins! {
        a.try_sum_dim(&[2], false), a.sum_dim(&[2], false) => "sum: dim 2 is out of range for a tensor of 2 dims (expected -2..2)";
        a.try_max_dim(&[-3], true), a.max_dim(&[-3], true) => "max: dim -3 is out of range for a tensor of 2 dims (expected -2..2)";
        a.try_sum_dim(&[0, -2], false), a.sum_dim(&[0, -2], false) => "sum: dim 0 appears more than once in [0, -2]";
        i.try_mean(), i.mean() => "mean: needs a floating point tensor, got i32 (cast with to_dtype first)";
        i.try_var_dim(&[0], false), i.var() => "var: needs a floating point tensor, got i32 (cast with to_dtype first)";
        i.try_std_dim(&[0], false), i.std_dim(&[0], false) => "std: needs a floating point tensor, got i32 (cast with to_dtype first)";
        e.try_max(), e.max() => "max: cannot reduce a zero-size dim of shape [0, 2]: the result has no identity";
        e.try_min_dim(&[0], false), e.min_dim(&[0], false) => "min: cannot reduce a zero-size dim of shape [0, 2]: the result has no identity";
        e.try_argmax(0, false), e.argmax(0, false) => "argmax: cannot reduce the zero-size dim 0 of shape [0, 2]";
        a.try_argmin(2, false), a.argmin(2, false) => "argmin: dim 2 is out of range for a tensor of 2 dims (expected -2..2)";
        a.try_softmax(3), a.softmax(3) => "softmax: dim 3 is out of range for a tensor of 2 dims (expected -2..2)";
        a.try_log_softmax(-3), a.log_softmax(-3) => "log_softmax: dim -3 is out of range for a tensor of 2 dims (expected -2..2)";
        a.try_logsumexp(2), a.logsumexp(2) => "logsumexp: dim 2 is out of range for a tensor of 2 dims (expected -2..2)";
    }
    assert!(matches!(
        a.try_sum_dim(&[2], false),
        Err(Error::Dim {
            op: "sum",
            dim: 2,
            ndim: 2
        })
    ));
}

#[test]
fn linalg_errors() {
    let (a, b) = (z(&[2, 3]), z(&[4, 5]));
    let bools = Tensor::ones([2, 2], Bool);
    twins! {
        a.try_matmul(&b), a.matmul(&b) => "matmul: shapes [2, 3] and [4, 5] cannot be multiplied";
        z(&[2, 2, 3]).try_matmul(&z(&[3, 3, 4])), z(&[2, 2, 3]).matmul(&z(&[3, 3, 4])) => "matmul: shapes [2, 2, 3] and [3, 3, 4] cannot be multiplied";
        z(&[3]).try_matmul(&z(&[4])), z(&[3]).matmul(&z(&[4])) => "matmul: shapes [3] and [4] cannot be multiplied";
        z(&[]).try_matmul(&a), z(&[]).matmul(&a) => "matmul: both arguments need at least 1 dim";
        bools.try_matmul(&bools), bools.matmul(&bools) => "matmul: not supported for bool tensors";
        z(&[3]).try_dot(&z(&[4])), z(&[3]).dot(&z(&[4])) => "dot: expects two 1-D tensors of one length, got [3] and [4]";
        a.try_dot(&a), a.dot(&a) => "dot: expects two 1-D tensors of one length, got [2, 3] and [2, 3]";
        z(&[3]).try_mm(&z(&[3, 2])), z(&[3]).mm(&z(&[3, 2])) => "mm: expects two 2-D tensors, got [3] and [3, 2]";
        a.try_mm(&b), a.mm(&b) => "matmul: shapes [2, 3] and [4, 5] cannot be multiplied";
    }
    assert_eq!(
        panics(|| a.outer(&z(&[2]))),
        "outer: expects two 1-D tensors, got [2, 3] and [2]"
    );
}

#[test]
fn movement_errors() {
    let a = z(&[2, 3]);
    let m = z(&[2, 3, 4]);
    twins! {
        a.try_reshape([4]), a.reshape([4]) => "reshape: cannot reshape [2, 3] (6 elements) to [4]";
        a.try_reshape([usize::MAX, 2]), a.reshape([usize::MAX, 2]) => "reshape: cannot reshape [2, 3] (6 elements) to [18446744073709551615, 2]";
        a.try_reshape_infer(&[-1, -1]), a.reshape_infer(&[-1, -1]) => "reshape: only one dim can be -1 in [-1, -1]";
        a.try_reshape_infer(&[-1, 4]), a.reshape_infer(&[-1, 4]) => "reshape: cannot reshape [2, 3] to [-1, 4]";
        a.try_reshape_infer(&[-2, 3]), a.reshape_infer(&[-2, 3]) => "reshape: invalid dim -2 in [-2, 3]";
        m.try_permute(&[0, 1]), m.permute(&[0, 1]) => "permute: 2 dims given for a tensor of shape [2, 3, 4]";
        m.try_permute(&[0, -3, 1]), m.permute(&[0, -3, 1]) => "permute: dim 0 repeated in [0, -3, 1]";
        m.try_permute(&[0, 1, 3]), m.permute(&[0, 1, 3]) => "permute: dim 3 is out of range for a tensor of 3 dims (expected -3..3)";
        a.try_transpose(0, 2), a.transpose(0, 2) => "transpose: dim 2 is out of range for a tensor of 2 dims (expected -2..2)";
        m.try_t(), m.t() => "t: expects at most 2 dims, got shape [2, 3, 4]";
        a.try_unsqueeze(3), a.unsqueeze(3) => "unsqueeze: dim 3 is out of range for a tensor of 3 dims (expected -3..3)";
        a.try_squeeze(-3), a.squeeze(-3) => "squeeze: dim -3 is out of range for a tensor of 2 dims (expected -2..2)";
        m.try_flatten_range(2, 1), m.flatten_range(2, 1) => "flatten: start dim 2 is after end dim 1";
        a.try_expand([3, 3]), a.expand([3, 3]) => "expand: cannot expand [2, 3] to [3, 3]";
        a.try_expand([3]), a.broadcast_to([3]) => "expand: cannot expand [2, 3] to [3]";
        a.try_narrow(1, 2, 2), a.narrow(1, 2, 2) => "narrow: 2..4 is out of range for dim 1 of shape [2, 3]";
        a.try_narrow(0, usize::MAX, 2), a.narrow(0, usize::MAX, 2) => "narrow: 18446744073709551615..18446744073709551615 is out of range for dim 0 of shape [2, 3]";
        a.try_slice(0, 0, 2, 0), a.slice(0, 0, 2, 0) => "slice: step must be positive";
        a.try_slice(2, 0, 2, 1), a.slice(2, 0, 2, 1) => "slice: dim 2 is out of range for a tensor of 2 dims (expected -2..2)";
        a.try_pad(&[1, 1, 1], 0.0), a.pad(&[1, 1, 1], 0.0) => "pad: 3 widths for a tensor of shape [2, 3]: need pairs for at most 2 dims";
        a.try_pad(&[0, 0, 0, 0, 1, 1], 0.0), a.pad(&[0, 0, 0, 0, 1, 1], 0.0) => "pad: 6 widths for a tensor of shape [2, 3]: need pairs for at most 2 dims";
        a.try_pad(&[-2, -2], 0.0), a.pad(&[-2, -2], 0.0) => "pad: cropping [-2, -2] more than shape [2, 3]";
        Tensor::try_cat(&[&a, &z(&[2, 4])], 0), Tensor::cat(&[&a, &z(&[2, 4])], 0) => "cat: shapes [2, 3] and [2, 4] differ outside dim 0";
        Tensor::try_cat(&[&a, &m], 0), Tensor::cat(&[&a, &m], 0) => "cat: shapes [2, 3] and [2, 3, 4] differ outside dim 0";
        Tensor::try_cat(&[&a, &a], 2), Tensor::cat(&[&a, &a], 2) => "cat: dim 2 is out of range for a tensor of 2 dims (expected -2..2)";
        Tensor::try_cat(&[], 0), Tensor::cat(&[], 0) => "cat: expects at least one tensor";
        Tensor::try_stack(&[&z(&[2]), &z(&[3])], 0), Tensor::stack(&[&z(&[2]), &z(&[3])], 0) => "stack: shapes [2] and [3] differ";
        Tensor::try_stack(&[&a, &a], 3), Tensor::stack(&[&a, &a], 3) => "stack: dim 3 is out of range for a tensor of 3 dims (expected -3..3)";
        Tensor::try_stack(&[], 0), Tensor::stack(&[], 0) => "stack: expects at least one tensor";
        a.try_split(0, 0), a.split(0, 0) => "split: split size must be positive";
        a.try_chunk(0, 1), a.chunk(0, 1) => "chunk: number of chunks must be positive";
        a.try_chunk(2, 5), a.chunk(2, 5) => "chunk: dim 5 is out of range for a tensor of 2 dims (expected -2..2)";
    }
}

#[test]
fn indexing_errors() {
    let a = z(&[2, 2]);
    twins! {
        a.try_index_select(0, &Tensor::zeros([1, 1], I64)), a.index_select(0, &Tensor::zeros([1, 1], I64)) => "index_select: index must be a 0-d or 1-D integer tensor, got i64 [1, 1]";
        a.try_index_select(0, &z(&[2])), a.index_select(0, &z(&[2])) => "index_select: index must be a 0-d or 1-D integer tensor, got f32 [2]";
        a.try_index_select(2, &Tensor::zeros([1], I64)), a.index_select(2, &Tensor::zeros([1], I64)) => "index_select: dim 2 is out of range for a tensor of 2 dims (expected -2..2)";
        a.try_gather(0, &z(&[2, 2])), a.gather(0, &z(&[2, 2])) => "gather: index must be an integer tensor, got f32";
        a.try_gather(1, &Tensor::zeros([3, 1], I64)), a.gather(1, &Tensor::zeros([3, 1], I64)) => "gather: index shape [3, 1] does not fit input shape [2, 2] along dim 1";
        a.try_gather(0, &Tensor::zeros([2], I64)), a.gather(0, &Tensor::zeros([2], I64)) => "gather: index shape [2] does not fit input shape [2, 2] along dim 0";
    }
    // An index out of range is found while running: realize (and every data accessor) returns Err.
    for bad in [5i64, -1, 2] {
        let t = Tensor::new([[1f32, 2.], [3., 4.]]).index_select(0, &Tensor::new([0i64, bad]));
        let e = t.realize().unwrap_err();
        assert!(matches!(e, Error::IndexOutOfRange { size: 2, .. }), "{e:?}");
        assert!(
            e.to_string()
                .ends_with("index out of range for a dimension of size 2"),
            "{e}"
        );
        assert!(!t.is_realized());
        assert!(t.to_vec::<f32>().is_err(), "still an error the second time");
    }
    let g = Tensor::new([1i32, 2, 3]).gather(0, &Tensor::new([3i64]));
    assert!(matches!(
        g.to_vec::<i32>(),
        Err(Error::IndexOutOfRange { size: 3, .. })
    ));
}

#[test]
fn creation_errors() {
    twins! {
        Tensor::try_from_vec(vec![1f32, 2., 3.], [2, 2]), Tensor::from_vec(vec![1f32, 2., 3.], [2, 2]) => "from_vec: 3 elements cannot have shape [2, 2] (4 elements)";
        Tensor::try_from_slice(&[1u8; 5], [2, 3]), Tensor::from_slice(&[1u8; 5], [2, 3]) => "from_vec: 5 elements cannot have shape [2, 3] (6 elements)";
        Tensor::try_new([vec![1i32, 2], vec![3]]), Tensor::new([vec![1i32, 2], vec![3]]) => "new: ragged nested data: 1 elements at depth 1, expected 2";
        Tensor::try_arange(0.0, 1.0, 0.0, F32), Tensor::arange(0.0, 1.0, 0.0, F32) => "arange: step must be nonzero";
        Tensor::try_rand_on([2], I32, Device::Cpu), Tensor::rand([2], I32) => "rand: random numbers need a float dtype, got i32";
        Tensor::try_randn_on([2], I64, Device::Cpu), Tensor::randn([2], I64) => "randn: random numbers need a float dtype, got i64";
    }
    assert!(matches!(
        Tensor::try_from_vec(vec![1f32], [2]),
        Err(Error::DataLength {
            len: 1,
            numel: 2,
            ..
        })
    ));
    assert!(matches!(
        Tensor::try_arange(0.0, 1.0, 0.0, F32),
        Err(Error::Argument { op: "arange", .. })
    ));
}

#[test]
fn data_access_errors() {
    let t = Tensor::new([1f32, 2.]);
    let e = fails(
        t.to_vec::<f64>(),
        "to_vec: the tensor holds f32 elements, not f64",
    );
    assert!(matches!(
        e,
        Error::ElementType {
            op: "to_vec",
            actual: F32,
            requested: smelt::DType::F64
        }
    ));
    fails(
        t.to_vec::<i32>(),
        "to_vec: the tensor holds f32 elements, not i32",
    );
    fails(
        Tensor::new([true]).to_vec::<u8>(),
        "to_vec: the tensor holds bool elements, not u8",
    );
    fails(
        t.as_slice::<i64>(),
        "as_slice: the tensor holds f32 elements, not i64",
    );
    assert!(t.to_ndarray::<bool>().is_err());
    fails(
        t.item::<f32>(),
        "item: a tensor of shape [2] has 2 elements, not 1",
    );
    fails(
        z(&[0]).item::<f32>(),
        "item: a tensor of shape [0] has 0 elements, not 1",
    );
    fails(
        Tensor::scalar(1i64).item::<i32>(),
        "item: the tensor holds i64 elements, not i32",
    );
    assert_eq!(Tensor::new([[7u8]]).item::<u8>().unwrap(), 7);
    // The wrong type never realizes anything.
    let lazy = &t + 1.0;
    assert!(lazy.to_vec::<f64>().is_err());
    assert!(!lazy.is_realized());
    assert!(t.try_size(1).is_err());
    assert_eq!(
        panics(|| t.size(-2)),
        "size: dim -2 is out of range for a tensor of 1 dims (expected -1..1)"
    );
}

#[test]
fn missing_gpu_is_an_error_not_a_panic() {
    if smelt::gpu_available() {
        return; // The GPU suite covers devices that exist.
    }
    let g = Tensor::zeros_on([2], F32, Device::Gpu(0));
    assert!(matches!(g.to_vec::<f32>(), Err(Error::Device(_))));
    assert!(matches!(g.realize(), Err(Error::Device(_))));
    assert!(matches!(
        Tensor::new([1f32]).to(Device::Gpu(3)).to_vec::<f32>(),
        Err(Error::Device(_))
    ));
    // Mixing devices in one op is an error naming the op and both devices.
    let c = Tensor::zeros([2], F32);
    fails(
        c.try_add(&g),
        "add: expected all tensors on one device, found cpu and gpu:0",
    );
    fails(
        c.try_matmul(&g),
        "matmul: expected all tensors on one device, found cpu and gpu:0",
    );
    assert!(Tensor::try_cat(&[&c, &g], 0).is_err());
    assert!(Tensor::try_where_cond(&Tensor::ones([2], Bool), &c, &g).is_err());
}

// ---- #[track_caller]: the panic points at the caller's line ----

thread_local! {
    static EXPECTING: Cell<bool> = const { Cell::new(false) };
    static LOCATION: RefCell<Option<(String, u32)>> = const { RefCell::new(None) };
}

/// Runs `f`, which must panic, and returns the file and line the panic reports. A panic hook records
/// the location of expected panics on this thread and leaves every other panic to the default hook.
fn panic_location<R>(f: impl FnOnce() -> R) -> (String, u32) {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if EXPECTING.with(Cell::get) {
                let loc = info.location().map(|l| (l.file().to_string(), l.line()));
                LOCATION.with(|c| *c.borrow_mut() = loc);
            } else {
                default(info);
            }
        }));
    });
    EXPECTING.with(|e| e.set(true));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    EXPECTING.with(|e| e.set(false));
    assert!(r.is_err(), "expected a panic");
    LOCATION
        .with(|c| c.borrow_mut().take())
        .expect("the hook saw the panic")
}

/// `(line of the call, where its panic says it happened)`; `line!()` in a macro gives the line of the
/// invocation, so the two agree however the file is formatted.
macro_rules! at {
    ($e:expr) => {
        (line!(), panic_location(|| $e))
    };
}

#[test]
fn panics_report_the_callers_line() {
    let (a, b) = (z(&[2, 3]), z(&[4]));
    let i = Tensor::ones([2], I32);
    let cases: Vec<(u32, (String, u32))> = vec![
        at!(a.add(&b)),
        at!(&a + &b),
        at!(a.clone() * b.clone()),
        at!(-Tensor::ones([1], Bool)),
        at!(a.matmul(&b)),
        at!(a.reshape([7])),
        at!(a.permute(&[0])),
        at!(a.sum_dim(&[5], false)),
        at!(a.softmax(5)),
        at!(a.argmax(5, false)),
        at!(i.mean()),
        at!(i.var()),
        at!(Tensor::cat(&[&a, &b], 0)),
        at!(Tensor::stack(&[&a, &b], 0)),
        at!(Tensor::new([vec![1f32], vec![]])),
        at!(Tensor::from_vec(vec![1i32], [2])),
        at!(Tensor::arange(0.0, 1.0, 0.0, F32)),
        at!(Tensor::rand([1], I32)),
        at!(a.expand([5])),
        at!(a.narrow(0, 3, 1)),
        at!(a.slice(0, 0, 1, 0)),
        at!(a.pad(&[1], 0.0)),
        at!(a.split(0, 0)),
        at!(a.chunk(0, 0)),
        at!(a.index_select(0, &a)),
        at!(a.gather(0, &a)),
        at!(Tensor::where_cond(&a, &a, &a)),
        at!(a.dot(&a)),
        at!(a.mm(&b)),
        at!(a.outer(&b)),
        at!(a.unsqueeze(9)),
        at!(a.squeeze(9)),
        at!(a.transpose(0, 9)),
        at!(a.flatten_range(1, 0)),
        at!(a.size(9)),
        at!(a.max_dim(&[9], false)),
        at!(z(&[0]).max()),
    ];
    for (line, (file, got)) in cases {
        assert_eq!(
            (file.as_str(), got),
            (file!(), line),
            "the panic on line {line} reports {file}:{got}"
        );
    }
}
