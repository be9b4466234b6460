//! Random small kernels (seeded, reproducible) through the CPU JIT, vectorized and scalar, compared with
//! the reference evaluator exactly. The JIT calls libm for the math functions here (as the evaluator
//! does), and float reductions are max/min (exact in any order), so any difference is a bug.

mod cpu_common;

use cpu_common::{EXACT, Fill, Rng, check_with, random};
use smelt_codegen::cpu::{MathImpl, Options};
use smelt_codegen::eval::HostData;
use smelt_codegen::kernel::{
    self, AccId, Access, BufId, Expr, ExprId, Kernel, KernelBuilder, LoopVar, Stmt,
};
use smelt_codegen::{BinaryOp, DType, ReduceOp, UnaryOp};

const UNARY: [UnaryOp; 16] = UnaryOp::ALL;
const BINARY: [BinaryOp; 15] = BinaryOp::ALL;

struct Gen {
    rng: Rng,
    b: KernelBuilder,
    /// Initial contents of every parameter, in order.
    data: Vec<HostData>,
    flag: Option<BufId>,
    loops: Vec<(LoopVar, u64)>,
    accs: Vec<(AccId, DType)>,
}

impl Gen {
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.rng.below(xs.len() as u64) as usize]
    }

    fn dtype(&mut self) -> DType {
        self.pick(&DType::ALL)
    }

    fn input(&mut self, d: DType, len: u64, fill: Fill) -> BufId {
        let b = self.b.param(d, len, Access::Read);
        self.data.push(random(d, len as usize, fill, &mut self.rng));
        b
    }

    fn output(&mut self, d: DType, len: u64) -> BufId {
        let b = self.b.param(d, len, Access::Write);
        self.data.push(HostData::zeros(d, len as usize));
        b
    }

    fn fill(d: DType) -> Fill {
        match d {
            DType::F32 | DType::F64 => Fill::Edgy(-10.0, 10.0),
            DType::U8 => Fill::Edgy(0.0, 255.0),
            _ => Fill::Edgy(-20.0, 20.0),
        }
    }

    /// `sum c_v * v + off` over the loops in scope; returns the index and its largest value.
    fn affine(&mut self, off: i64) -> (ExprId, i64) {
        let mut idx = self.b.index(off);
        let mut max = off;
        for (v, n) in self.loops.clone() {
            let c = self.rng.below(4) as i64;
            if c > 0 {
                let vv = self.b.var(v);
                let t = self.b.imul(vv, c);
                idx = self.b.iadd(idx, t);
                max += c * (n.max(1) as i64 - 1);
            }
        }
        (idx, max)
    }

    fn leaf(&mut self, d: DType) -> ExprId {
        match self.rng.below(8) {
            0..=2 => {
                let off = self.rng.below(3) as i64;
                let (idx, max) = self.affine(off);
                let buf = self.input(d, max as u64 + 1, Self::fill(d));
                self.b.load(buf, idx)
            }
            3 => {
                let s = random(d, 1, Self::fill(d), &mut self.rng).get(0);
                self.b.constant(s)
            }
            4 => {
                let off = self.rng.below(7) as i64 - 3;
                let (idx, _) = self.affine(off);
                if d == DType::Bool {
                    let hi = self.rng.below(30) as i64;
                    self.b.expr(Expr::InRange {
                        index: idx,
                        lo: 0,
                        hi,
                    })
                } else {
                    self.b.expr(Expr::IndexCast(idx, d))
                }
            }
            5 => {
                let accs: Vec<_> = self.accs.clone();
                match accs.iter().find(|(_, ad)| *ad == d).or(accs.first()) {
                    Some(&(a, ad)) => {
                        let v = self.b.expr(Expr::Acc(a));
                        if ad == d {
                            v
                        } else {
                            self.b.expr(Expr::Cast(v, d))
                        }
                    }
                    None => self.leaf(d),
                }
            }
            6 => {
                // A masked load (padding) or a division/modulus index (broadcast, reshape).
                let off = self.rng.below(9) as i64 - 4;
                let (idx, max) = self.affine(off);
                if self.rng.below(2) == 0 {
                    let len = (max.max(0) as u64 / 2).max(1);
                    let buf = self.input(d, len, Self::fill(d));
                    let mask = self.b.expr(Expr::InRange {
                        index: idx,
                        lo: 0,
                        hi: len as i64,
                    });
                    self.b.expr(Expr::Load {
                        buf,
                        index: idx,
                        mask: Some(mask),
                    })
                } else {
                    let (pos, max) = self.affine(0);
                    let k = 2 + self.rng.below(5) as i64;
                    let (e, len) = if self.rng.below(2) == 0 {
                        (self.b.expr(Expr::IDiv(pos, k)), max / k + 1)
                    } else {
                        (self.b.expr(Expr::IMod(pos, k)), k)
                    };
                    let buf = self.input(d, len as u64, Self::fill(d));
                    self.b.load(buf, e)
                }
            }
            _ => {
                // A gather through data, with some indices out of range.
                let flag = *self.flag.get_or_insert_with(|| {
                    let f = self.b.param(DType::I32, 1, Access::Write);
                    self.data.push(HostData::zeros(DType::I32, 1));
                    f
                });
                let it = self.pick(&[DType::U8, DType::I32, DType::I64]);
                let len = 1 + self.rng.below(12);
                let (idx, max) = self.affine(0);
                let ibuf = self.input(it, max as u64 + 1, Fill::Range(-2.0, len as f64 + 2.0));
                let iv = self.b.load(ibuf, idx);
                let ci = self.b.expr(Expr::CheckedIndex {
                    value: iv,
                    len,
                    flag,
                });
                let buf = self.input(d, len, Self::fill(d));
                self.b.load(buf, ci)
            }
        }
    }

    fn value(&mut self, d: DType, depth: u32) -> ExprId {
        if depth == 0 || self.rng.below(4) == 0 {
            return self.leaf(d);
        }
        match self.rng.below(5) {
            0 => {
                let ops: Vec<UnaryOp> = UNARY
                    .into_iter()
                    .filter(|op| match op {
                        UnaryOp::Not => d == DType::Bool,
                        op if op.float_only() => d.is_float(),
                        _ => true,
                    })
                    .collect();
                let op = self.pick(&ops);
                let x = self.value(d, depth - 1);
                self.b.unary(op, x)
            }
            1 | 4 => {
                let (op, od) = if d == DType::Bool && self.rng.below(2) == 0 {
                    let od = self.dtype();
                    (
                        self.pick(&[
                            BinaryOp::CmpEq,
                            BinaryOp::CmpNe,
                            BinaryOp::CmpLt,
                            BinaryOp::CmpLe,
                        ]),
                        od,
                    )
                } else {
                    let ops: Vec<BinaryOp> = BINARY
                        .into_iter()
                        .filter(|op| !op.is_comparison() || d == DType::Bool)
                        .filter(|op| !(op.is_bitwise() && d.is_float()))
                        .collect();
                    (self.pick(&ops), d)
                };
                let x = self.value(od, depth - 1);
                let y = self.value(od, depth - 1);
                self.b.binary(op, x, y)
            }
            2 => {
                let c = self.value(DType::Bool, depth - 1);
                let x = self.value(d, depth - 1);
                let y = self.value(d, depth - 1);
                self.b.expr(Expr::Where(c, x, y))
            }
            _ => {
                let from = self.dtype();
                let x = self.value(from, depth - 1);
                self.b.expr(Expr::Cast(x, d))
            }
        }
    }

    /// A reduction op exact in any order for `d`.
    fn reduce_op(&mut self, d: DType) -> ReduceOp {
        if d.is_float() {
            self.pick(&[ReduceOp::Max, ReduceOp::Min])
        } else {
            self.pick(&[ReduceOp::Sum, ReduceOp::Prod, ReduceOp::Max, ReduceOp::Min])
        }
    }

    /// `DefAcc; for v in 0..n { acc <- value }`; returns the statements (the accumulator is then readable).
    fn reduction(&mut self, depth: u32) -> Vec<Stmt> {
        let d = self.dtype();
        let op = self.reduce_op(d);
        let acc = self.b.new_acc();
        let v = self.b.new_var();
        let n = self.rng.below(25); // 0: the loop never runs
        self.loops.push((v, n));
        let x = self.value(d, depth);
        self.loops.pop();
        self.accs.push((acc, d));
        vec![
            Stmt::DefAcc { acc, op, dtype: d },
            Stmt::Loop {
                var: v,
                extent: n,
                body: vec![Stmt::Accumulate { acc, value: x }],
            },
        ]
    }

    /// `out[i0] = value` into a new output of `n0` elements.
    fn store(&mut self, i0: ExprId, n0: u64, depth: u32) -> Stmt {
        let d = self.dtype();
        let out = self.output(d, n0);
        let value = self.value(d, depth);
        Stmt::Store {
            buf: out,
            index: i0,
            value,
        }
    }

    /// `for v in 0..n1 { out[i0 * n1 + v] = value }` into a new output of `n0 * n1` elements.
    fn row_store(&mut self, i0: ExprId, n0: u64, depth: u32) -> Stmt {
        let (v, n1) = (self.b.new_var(), 1 + self.rng.below(20));
        self.loops.push((v, n1));
        let d = self.dtype();
        let out = self.output(d, n0 * n1);
        let row = self.b.imul(i0, n1 as i64);
        let vv = self.b.var(v);
        let at = self.b.iadd(row, vv);
        let value = self.value(d, depth);
        self.loops.pop();
        Stmt::Loop {
            var: v,
            extent: n1,
            body: vec![Stmt::Store {
                buf: out,
                index: at,
                value,
            }],
        }
    }

    fn kernel(mut self, seed: u64) -> (Kernel, Vec<HostData>) {
        let n0 = 1 + self.rng.below(40);
        self.loops.push((Kernel::PARALLEL, n0));
        let i0 = self.b.var(Kernel::PARALLEL);
        let depth = 1 + self.rng.below(3) as u32;
        let mut body = Vec::new();
        match self.rng.below(4) {
            0 => {
                // Elementwise, one or two outputs.
                for _ in 0..1 + self.rng.below(2) {
                    body.push(self.store(i0, n0, depth));
                }
            }
            1 => {
                // 2-D elementwise.
                body.push(self.row_store(i0, n0, depth));
            }
            2 => {
                // One or two reductions, then a store using them.
                for _ in 0..1 + self.rng.below(2) {
                    body.extend(self.reduction(depth));
                }
                body.push(self.store(i0, n0, depth));
            }
            _ => {
                // A reduction, then a loop writing a row with it (softmax-like).
                body.extend(self.reduction(depth));
                body.push(self.row_store(i0, n0, depth));
            }
        }
        let k = self.b.finish(format!("random_{seed}"), n0, body);
        kernel::verify(&k).unwrap_or_else(|e| panic!("generator bug: {e}\n{k}"));
        (k, self.data)
    }
}

fn generate(seed: u64) -> (Kernel, Vec<HostData>) {
    let g = Gen {
        rng: Rng(seed),
        b: KernelBuilder::new(),
        data: Vec::new(),
        flag: None,
        loops: Vec::new(),
        accs: Vec::new(),
    };
    g.kernel(seed)
}

#[test]
fn random_kernels_match_the_evaluator() {
    let options = [
        Options {
            math: MathImpl::Libm,
            ..Options::default()
        },
        Options {
            math: MathImpl::Libm,
            vectorize: false,
            ..Options::default()
        },
    ];
    let seeds: u64 = std::env::var("SMELT_RANDOM_KERNELS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    for seed in 0..seeds {
        let (k, data) = generate(seed);
        check_with(&k, &data, EXACT, &options);
        // The inline math (within a few ulp, so not compared here) must compile and run too.
        let prog = smelt_codegen::cpu::compile(&k).unwrap_or_else(|e| panic!("{e}\n{k}"));
        let mut bufs = data.clone();
        cpu_common::run(&prog, &k, &mut bufs, 0, k.extent);
    }
}
