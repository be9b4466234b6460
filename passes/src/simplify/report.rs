//! What a simplify run did, with a stable line-oriented `Display` (times are kept out of it).
//!
//! ```text
//! nodes 9 -> 4
//! cost work 13 nodes 9 -> work 5 nodes 4
//! iterations 3, saturated
//! egraph 31 nodes, 22 classes
//! fired add-zero 1
//! fired expand-const 2
//! ```

use super::cost::Cost;
use std::fmt;
use std::time::Duration;

/// Why the e-graph search stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    /// No rule could add anything: every rewrite the rules know was explored.
    Saturated,
    /// The iteration limit was reached.
    IterationLimit(usize),
    /// The e-graph grew past the node limit; the number is its size when it stopped.
    NodeLimit(usize),
    /// The time limit ran out (the result is still a valid simplification, just not a complete one).
    TimeLimit,
    Other(String),
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stop::Saturated => f.write_str("saturated"),
            Stop::IterationLimit(n) => write!(f, "iteration limit ({n})"),
            Stop::NodeLimit(n) => write!(f, "node limit ({n} e-nodes)"),
            Stop::TimeLimit => f.write_str("time limit"),
            Stop::Other(s) => write!(f, "stopped: {s}"),
        }
    }
}

impl From<egg::StopReason> for Stop {
    fn from(r: egg::StopReason) -> Self {
        match r {
            egg::StopReason::Saturated => Stop::Saturated,
            egg::StopReason::IterationLimit(n) => Stop::IterationLimit(n),
            egg::StopReason::NodeLimit(n) => Stop::NodeLimit(n),
            egg::StopReason::TimeLimit(_) => Stop::TimeLimit,
            egg::StopReason::Other(s) => Stop::Other(s),
        }
    }
}

/// The record of one [`super::simplify`] call.
#[derive(Clone, Debug)]
pub struct SimplifyReport {
    /// Nodes in the input graph and in the result.
    pub nodes_before: usize,
    pub nodes_after: usize,
    /// The cost model's DAG cost of the input and the result (see [`super::cost`]).
    pub cost_before: Cost,
    pub cost_after: Cost,
    pub iterations: usize,
    pub stop: Stop,
    /// Size of the e-graph when the search stopped.
    pub egraph_nodes: usize,
    pub egraph_classes: usize,
    /// Rules that merged e-classes, with how many merges each made, in rule-table order. A rule listed
    /// here found an equivalent form; extraction decides whether the result uses it.
    pub fired: Vec<(&'static str, usize)>,
    /// Set when the input graph was returned unchanged, with the reason.
    pub kept_input: Option<String>,
    /// Wall time of the whole call, and of the e-graph search alone. Not printed: they vary run to run.
    pub time: Duration,
    pub search_time: Duration,
}

impl SimplifyReport {
    /// How many times the rule `name` fired (0 if it did not).
    pub fn fired(&self, name: &str) -> usize {
        self.fired
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(0, |(_, c)| *c)
    }
}

impl fmt::Display for SimplifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cost = |c: &Cost| format!("work {} nodes {}", c.work, c.nodes);
        writeln!(f, "nodes {} -> {}", self.nodes_before, self.nodes_after)?;
        writeln!(
            f,
            "cost {} -> {}",
            cost(&self.cost_before),
            cost(&self.cost_after)
        )?;
        writeln!(f, "iterations {}, {}", self.iterations, self.stop)?;
        writeln!(
            f,
            "egraph {} nodes, {} classes",
            self.egraph_nodes, self.egraph_classes
        )?;
        for (name, n) in &self.fired {
            writeln!(f, "fired {name} {n}")?;
        }
        if let Some(why) = &self.kept_input {
            writeln!(f, "kept input: {why}")?;
        }
        Ok(())
    }
}
