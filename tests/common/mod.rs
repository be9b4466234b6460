//! Shared helpers of smelt's op tests: the fixture reader and the one `check` helper.
//!
//! Fixtures (`tests/fixtures/ops/<family>.json`) are written by `scripts/gen_fixtures.py` with NumPy and
//! committed, so the tests never run Python. A case holds its inputs and the expected outputs; the test
//! builds tensors from those inputs, applies the op through the public API and compares:
//!
//! ```ignore
//! fixture_tests! { "elementwise";
//!     exp_f32: |x| x[0].exp();
//! }
//! ```
//!
//! Floats compare with a relative and an absolute tolerance (NaN equals NaN, infinities must match
//! exactly); integers and bools compare exactly; dtype and shape always compare exactly.
#![allow(dead_code)]

use smelt::prelude::*;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

// ---- 1. a tiny JSON reader (numbers are kept as text, so f32 data is parsed as f32, never via f64) ----

#[derive(Clone, Debug)]
pub enum Json {
    Null,
    Bool(bool),
    /// A number literal as written (also `NaN`, `Infinity`, `-Infinity`).
    Num(String),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn arr(&self) -> &[Json] {
        match self {
            Json::Arr(v) => v,
            other => panic!("fixture: expected an array, found {other:?}"),
        }
    }

    fn str(&self) -> &str {
        match self {
            Json::Str(s) => s,
            other => panic!("fixture: expected a string, found {other:?}"),
        }
    }

    fn num(&self) -> &str {
        match self {
            Json::Num(s) => s,
            other => panic!("fixture: expected a number, found {other:?}"),
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) {
        self.ws();
        assert_eq!(
            self.s.get(self.i),
            Some(&c),
            "fixture JSON: expected '{}' at byte {}",
            c as char,
            self.i
        );
        self.i += 1;
    }

    fn peek(&mut self) -> u8 {
        self.ws();
        *self.s.get(self.i).expect("fixture JSON: unexpected end")
    }

    fn value(&mut self) -> Json {
        match self.peek() {
            b'{' => {
                self.eat(b'{');
                let mut fields = Vec::new();
                if self.peek() == b'}' {
                    self.i += 1;
                    return Json::Obj(fields);
                }
                loop {
                    let Json::Str(k) = self.value() else {
                        panic!("fixture JSON: object key is not a string")
                    };
                    self.eat(b':');
                    fields.push((k, self.value()));
                    match self.peek() {
                        b',' => self.i += 1,
                        b'}' => {
                            self.i += 1;
                            return Json::Obj(fields);
                        }
                        c => panic!(
                            "fixture JSON: unexpected '{}' at byte {}",
                            c as char, self.i
                        ),
                    }
                }
            }
            b'[' => {
                self.eat(b'[');
                let mut items = Vec::new();
                if self.peek() == b']' {
                    self.i += 1;
                    return Json::Arr(items);
                }
                loop {
                    items.push(self.value());
                    match self.peek() {
                        b',' => self.i += 1,
                        b']' => {
                            self.i += 1;
                            return Json::Arr(items);
                        }
                        c => panic!(
                            "fixture JSON: unexpected '{}' at byte {}",
                            c as char, self.i
                        ),
                    }
                }
            }
            b'"' => {
                self.i += 1;
                let start = self.i;
                while self.s[self.i] != b'"' {
                    assert_ne!(
                        self.s[self.i], b'\\',
                        "fixture JSON: escapes are not supported"
                    );
                    self.i += 1;
                }
                self.i += 1;
                Json::Str(String::from_utf8(self.s[start..self.i - 1].to_vec()).expect("utf-8"))
            }
            _ => {
                let start = self.i;
                while self.i < self.s.len() && !b",]} \n\r\t".contains(&self.s[self.i]) {
                    self.i += 1;
                }
                let tok = std::str::from_utf8(&self.s[start..self.i]).expect("utf-8");
                match tok {
                    "true" => Json::Bool(true),
                    "false" => Json::Bool(false),
                    "null" => Json::Null,
                    _ => Json::Num(tok.to_string()),
                }
            }
        }
    }
}

pub fn parse_json(text: &str) -> Json {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    let v = p.value();
    p.ws();
    assert_eq!(p.i, p.s.len(), "fixture JSON: trailing data");
    v
}

// ---- 2. fixture arrays and cases ----

/// An array from a fixture: dtype, shape and the elements as written.
#[derive(Clone, Debug)]
pub struct FixtureArray {
    pub dtype: DType,
    pub shape: Vec<usize>,
    data: Vec<Json>,
}

pub fn dtype_from_name(name: &str) -> DType {
    match name {
        "bool" => DType::Bool,
        "u8" => DType::U8,
        "i32" => DType::I32,
        "i64" => DType::I64,
        "f32" => DType::F32,
        "f64" => DType::F64,
        other => panic!("fixture: unknown dtype {other}"),
    }
}

fn parse_f64(s: &str) -> f64 {
    match s {
        "NaN" => f64::NAN,
        "Infinity" => f64::INFINITY,
        "-Infinity" => f64::NEG_INFINITY,
        _ => s
            .parse()
            .unwrap_or_else(|_| panic!("fixture: bad number {s}")),
    }
}

fn parse_f32(s: &str) -> f32 {
    match s {
        "NaN" => f32::NAN,
        "Infinity" => f32::INFINITY,
        "-Infinity" => f32::NEG_INFINITY,
        _ => s
            .parse()
            .unwrap_or_else(|_| panic!("fixture: bad number {s}")),
    }
}

fn parse_int(s: &str) -> i64 {
    s.parse()
        .unwrap_or_else(|_| panic!("fixture: bad integer {s}"))
}

impl FixtureArray {
    fn from_json(j: &Json) -> FixtureArray {
        let dtype = dtype_from_name(j.get("dtype").expect("dtype").str());
        let shape = j
            .get("shape")
            .expect("shape")
            .arr()
            .iter()
            .map(|d| parse_int(d.num()) as usize)
            .collect();
        let data = j.get("data").expect("data").arr().to_vec();
        FixtureArray { dtype, shape, data }
    }

    /// A realized tensor holding exactly the fixture's elements.
    pub fn tensor(&self) -> Tensor {
        let shape = self.shape.clone();
        match self.dtype {
            DType::Bool => Tensor::from_vec(
                self.data
                    .iter()
                    .map(|v| match v {
                        Json::Bool(b) => *b,
                        other => panic!("fixture: expected a bool, found {other:?}"),
                    })
                    .collect::<Vec<bool>>(),
                shape,
            ),
            DType::U8 => Tensor::from_vec(
                self.data
                    .iter()
                    .map(|v| parse_int(v.num()) as u8)
                    .collect::<Vec<_>>(),
                shape,
            ),
            DType::I32 => Tensor::from_vec(
                self.data
                    .iter()
                    .map(|v| parse_int(v.num()) as i32)
                    .collect::<Vec<_>>(),
                shape,
            ),
            DType::I64 => Tensor::from_vec(
                self.data
                    .iter()
                    .map(|v| parse_int(v.num()))
                    .collect::<Vec<_>>(),
                shape,
            ),
            DType::F32 => Tensor::from_vec(
                self.data
                    .iter()
                    .map(|v| parse_f32(v.num()))
                    .collect::<Vec<_>>(),
                shape,
            ),
            DType::F64 => Tensor::from_vec(
                self.data
                    .iter()
                    .map(|v| parse_f64(v.num()))
                    .collect::<Vec<_>>(),
                shape,
            ),
        }
    }

    /// The elements as f64 (exact for every dtype used in fixtures).
    pub fn values(&self) -> Vec<f64> {
        self.data
            .iter()
            .map(|v| match v {
                Json::Bool(b) => *b as u8 as f64,
                Json::Num(s) if self.dtype == DType::F32 => parse_f32(s) as f64,
                Json::Num(s) => parse_f64(s),
                other => panic!("fixture: bad element {other:?}"),
            })
            .collect()
    }
}

/// One fixture case.
#[derive(Clone, Debug)]
pub struct Case {
    pub inputs: Vec<FixtureArray>,
    pub outputs: Vec<FixtureArray>,
    pub rtol: Option<f64>,
    pub atol: Option<f64>,
}

/// The cases of one fixture file, by name, in file order.
pub struct Fixture {
    pub cases: Vec<(String, Case)>,
}

fn load(family: &str) -> Fixture {
    let path = format!(
        "{}/tests/fixtures/ops/{family}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let Json::Obj(fields) = parse_json(&text) else {
        panic!("{path}: not an object")
    };
    let cases = fields
        .into_iter()
        .map(|(name, c)| {
            let arrays = |k: &str| {
                c.get(k)
                    .expect(k)
                    .arr()
                    .iter()
                    .map(FixtureArray::from_json)
                    .collect()
            };
            let tol = |k: &str| c.get(k).map(|v| parse_f64(v.num()));
            let case = Case {
                inputs: arrays("inputs"),
                outputs: arrays("outputs"),
                rtol: tol("rtol"),
                atol: tol("atol"),
            };
            (name, case)
        })
        .collect();
    Fixture { cases }
}

/// A fixture file, read once per test binary.
pub fn fixture(family: &str) -> Arc<Fixture> {
    static CACHE: OnceLock<Mutex<BTreeMap<String, Arc<Fixture>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(BTreeMap::new()));
    let mut map = cache.lock().unwrap_or_else(|e| e.into_inner());
    map.entry(family.to_string())
        .or_insert_with(|| Arc::new(load(family)))
        .clone()
}

pub fn case(family: &str, name: &str) -> Case {
    let f = fixture(family);
    f.cases
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, c)| c.clone())
        .unwrap_or_else(|| {
            panic!(
                "no case {name} in tests/fixtures/ops/{family}.json (run scripts/gen_fixtures.py)"
            )
        })
}

// ---- 3. comparing tensors ----

/// Default tolerances: relative and absolute, per dtype.
pub fn default_tol(dtype: DType) -> (f64, f64) {
    match dtype {
        DType::F32 => (1e-5, 1e-6),
        DType::F64 => (1e-10, 1e-12),
        _ => (0.0, 0.0),
    }
}

/// The tensor's elements as f64, read with the Rust type of its dtype.
pub fn values_f64(t: &Tensor) -> Vec<f64> {
    let r = match t.dtype() {
        DType::Bool => t
            .to_vec::<bool>()
            .map(|v| v.into_iter().map(|x| x as u8 as f64).collect()),
        DType::U8 => t
            .to_vec::<u8>()
            .map(|v| v.into_iter().map(f64::from).collect()),
        DType::I32 => t
            .to_vec::<i32>()
            .map(|v| v.into_iter().map(f64::from).collect()),
        DType::I64 => t
            .to_vec::<i64>()
            .map(|v| v.into_iter().map(|x| x as f64).collect()),
        DType::F32 => t
            .to_vec::<f32>()
            .map(|v| v.into_iter().map(f64::from).collect()),
        DType::F64 => t.to_vec::<f64>(),
    };
    r.unwrap_or_else(|e| panic!("reading {t:?} failed: {e}"))
}

fn close(a: f64, e: f64, rtol: f64, atol: f64) -> bool {
    if e.is_nan() {
        return a.is_nan();
    }
    if e.is_infinite() || a.is_infinite() {
        return a == e;
    }
    (a - e).abs() <= atol + rtol * e.abs()
}

/// Asserts dtype, shape and values (floats within `rtol`/`atol`, everything else exactly).
#[track_caller]
pub fn assert_tensor(
    t: &Tensor,
    dtype: DType,
    shape: &[usize],
    want: &[f64],
    tol: (f64, f64),
    ctx: &str,
) {
    assert_eq!(t.dtype(), dtype, "{ctx}: dtype");
    assert_eq!(t.dims(), shape, "{ctx}: shape");
    let got = values_f64(t);
    assert_eq!(got.len(), want.len(), "{ctx}: element count");
    let bad: Vec<String> = got
        .iter()
        .zip(want)
        .enumerate()
        .filter(|(_, (a, e))| !close(**a, **e, tol.0, tol.1))
        .take(8)
        .map(|(i, (a, e))| format!("  [{i}] got {a:e}, want {e:e}"))
        .collect();
    assert!(
        bad.is_empty(),
        "{ctx}: values differ (rtol {}, atol {}):\n{}",
        tol.0,
        tol.1,
        bad.join("\n")
    );
}

/// Asserts a tensor against hand-worked values with the dtype's default tolerance.
#[track_caller]
pub fn assert_values(t: &Tensor, dtype: DType, shape: &[usize], want: &[f64]) {
    assert_tensor(
        t,
        dtype,
        shape,
        want,
        default_tol(dtype),
        "hand-worked values",
    );
}

/// What an op under test returns: one tensor or several (`split`, `chunk`).
pub trait Outputs {
    fn into_tensors(self) -> Vec<Tensor>;
}

impl Outputs for Tensor {
    fn into_tensors(self) -> Vec<Tensor> {
        vec![self]
    }
}

impl Outputs for Vec<Tensor> {
    fn into_tensors(self) -> Vec<Tensor> {
        self
    }
}

/// The one check helper: builds the case's inputs, applies `op`, compares every output with the
/// fixture (dtype, shape, values). The op runs three times: on the default CPU backend (the JIT), on the
/// reference interpreter, and on the GPU with its inputs moved there when an adapter exists. On the GPU
/// an op that builds CPU tensors of its own (a device mismatch) or uses a dtype the adapter lacks is
/// skipped, with a line saying so; any other failure fails the test.
#[track_caller]
pub fn check<R: Outputs>(family: &str, name: &str, op: impl Fn(&[Tensor]) -> R) {
    use smelt::runtime::{Backend, with_backend};
    let c = case(family, name);
    let inputs: Vec<Tensor> = c.inputs.iter().map(FixtureArray::tensor).collect();
    let compare = |got: Vec<Tensor>, on: &str| {
        assert_eq!(
            got.len(),
            c.outputs.len(),
            "{family}/{name}: number of outputs"
        );
        for (i, (t, want)) in got.iter().zip(&c.outputs).enumerate() {
            let (rtol, atol) = default_tol(want.dtype);
            let tol = (c.rtol.unwrap_or(rtol), c.atol.unwrap_or(atol));
            assert_tensor(
                t,
                want.dtype,
                &want.shape,
                &want.values(),
                tol,
                &format!("{family}/{name} output {i} ({on})"),
            );
        }
    };
    compare(op(&inputs).into_tensors(), "jit");
    // The inputs are realized leaves; the op builds new nodes, which the interpreter computes.
    with_backend(Backend::Interp, || {
        compare(op(&inputs).into_tensors(), "interpreter")
    });
    if !smelt::gpu_available() {
        return;
    }
    let gpu = Device::Gpu(0);
    let on_gpu: Vec<Tensor> = inputs.iter().map(|t| t.to(gpu)).collect();
    let built =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| op(&on_gpu).into_tensors()));
    let got = match built {
        Ok(got) => got,
        Err(p) => {
            let msg = panic_message(&*p);
            if msg.contains("device") || msg.contains("not supported") || msg.contains("lacks") {
                eprintln!("SKIPPED on the GPU: {family}/{name}: {msg}");
                return;
            }
            std::panic::resume_unwind(p);
        }
    };
    compare(got, "gpu");
}

/// Asserts that the tests of a family cover exactly the cases of its fixture file.
#[track_caller]
pub fn assert_covered(family: &str, tested: &[&str]) {
    let f = fixture(family);
    let in_file: Vec<&str> = f.cases.iter().map(|(n, _)| n.as_str()).collect();
    let untested: Vec<&&str> = in_file.iter().filter(|n| !tested.contains(n)).collect();
    let missing: Vec<&&str> = tested.iter().filter(|n| !in_file.contains(n)).collect();
    assert!(
        untested.is_empty(),
        "{family}: fixture cases without a test: {untested:?}"
    );
    assert!(
        missing.is_empty(),
        "{family}: tests without a fixture case: {missing:?}"
    );
}

/// One `#[test]` per fixture case (`name: |inputs| op;`), plus a test that the list and the fixture
/// file agree.
#[macro_export]
macro_rules! fixture_tests {
    ($family:literal; $($name:ident: $op:expr;)*) => {
        $(
            #[test]
            fn $name() {
                common::check($family, stringify!($name), $op);
            }
        )*

        #[test]
        fn every_fixture_case_has_a_test() {
            common::assert_covered($family, &[$(stringify!($name)),*]);
        }
    };
}

// ---- 4. panics ----

/// The message of a panic payload (`panic!` with a format gives `String`, a literal gives `&str`).
pub fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else {
        "<non-string panic payload>".into()
    }
}

/// Runs `f`, which must panic, and returns the panic message.
#[track_caller]
pub fn panics<R>(f: impl FnOnce() -> R) -> String {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(_) => panic!("expected a panic"),
        Err(p) => panic_message(&*p),
    }
}
