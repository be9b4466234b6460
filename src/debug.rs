//! `SMELT_DEBUG=1..4`: what a realize prints to stderr, read once per process.
//!
//! | level | printed                                                                          |
//! |-------|----------------------------------------------------------------------------------|
//! | 1     | one line per launch: device, step, kernel name, launch domain, run time in ms    |
//! | 2     | and, on each compile (a plan cache miss), the schedule and the fusion decisions  |
//! | 3     | and the graph after each pass, the rules that fired, each kernel's IR             |
//! | 4     | and the full CLIF (CPU) or WGSL (GPU) of every kernel                            |
//!
//! The compile report is [`crate::Explanation`]'s text, so `SMELT_DEBUG` and `explain()` print the same.
//! Unset (or `0`), the runtime's only cost is reading a cached byte once per realize.

use crate::Device;
use crate::explain::{Code, Explanation, Sections};
use smelt_passes::pipeline::Compiled;
use smelt_passes::schedule::Step;
use std::sync::OnceLock;
use std::time::Duration;

/// The level from `SMELT_DEBUG`, read once.
pub(crate) fn level() -> u8 {
    static LEVEL: OnceLock<u8> = OnceLock::new();
    *LEVEL.get_or_init(|| parse(std::env::var("SMELT_DEBUG").ok().as_deref()))
}

/// `SMELT_DEBUG`'s value as a level: unset, empty or `0` is off; `1` to `4`; larger numbers are 4. Any
/// other value is off, with a warning (a typo should not go unnoticed).
fn parse(value: Option<&str>) -> u8 {
    let Some(v) = value.map(str::trim) else {
        return 0;
    };
    if v.is_empty() {
        return 0;
    }
    match v.parse::<u64>() {
        Ok(n) => n.min(4) as u8,
        Err(_) => {
            eprintln!("smelt: ignoring SMELT_DEBUG={v:?}: expected a level from 0 to 4");
            0
        }
    }
}

/// Whether launches are timed (level 1 and up).
#[inline]
pub(crate) fn timing() -> bool {
    level() >= 1
}

/// Prints one launch's line (level 1).
pub(crate) fn launch(device: Device, index: usize, step: &Step, elapsed: Duration) {
    let ms = elapsed.as_secs_f64() * 1e3;
    let what = match step {
        Step::Kernel { kernel, .. } => format!("kernel {} domain {}", kernel.name, kernel.extent),
        Step::Matmul { spec, .. } => format!(
            "matmul {} domain {}x{}x{} k {}",
            spec.dtype, spec.batch, spec.m, spec.n, spec.k
        ),
        Step::Rand { out, dist, .. } => format!("rand {dist:?} into {out}"),
    };
    eprintln!("smelt: {device} step {index} {what}: {ms:.3} ms");
}

/// Prints what a compile produced (levels 2 to 4); `code` gives each step's generated code, called only
/// at level 4.
pub(crate) fn compiled(device: Device, compiled: &Compiled, code: impl Fn(usize) -> Vec<Code>) {
    let level = level();
    if level < 2 {
        return;
    }
    let code = if level >= 4 {
        (0..compiled.schedule.steps.len()).map(code).collect()
    } else {
        vec![]
    };
    let report = Explanation::from_compiled(device, compiled, code);
    let sections = Sections {
        graphs: level >= 3,
        schedule: true,
        kernels: level >= 3,
        code: level >= 4,
    };
    // One write, so reports from several threads do not interleave line by line.
    eprint!(
        "smelt: compiled a plan for {device} (cache miss)\n{}",
        report.text(sections)
    );
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn levels() {
        assert_eq!(parse(None), 0);
        assert_eq!(parse(Some("")), 0);
        assert_eq!(parse(Some("0")), 0);
        assert_eq!(parse(Some(" 2 ")), 2);
        assert_eq!(parse(Some("4")), 4);
        assert_eq!(parse(Some("9")), 4);
        assert_eq!(parse(Some("verbose")), 0);
    }
}
