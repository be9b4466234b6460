//! The backward driver: walks the recorded DAG from an output back to the tensors that require grad,
//! applying [`rules::vjp`](super::rules::vjp) to each node in reverse topological order.
//!
//! 1. Order: a post-order walk from `y` over the nodes that require grad (operands before users).
//! 2. Prune: only nodes from which a target is reachable get gradients.
//! 3. Propagate: users before operands; each node's gradient is the sum of its users' contributions.
//!
//! The gradients are built with tensor ops in the current grad mode: inside [`crate::grad`] with grad
//! mode on they record history and can be differentiated again (PyTorch's `create_graph=True`);
//! [`Tensor::backward`] builds them under [`no_grad`], as PyTorch's default does.

use super::{no_grad, rules};
use crate::{Error, Result, Tensor, ok};
use std::collections::{HashMap, HashSet};

/// One node of the walk: the tensor, its operands that require grad, whether a target is reachable.
struct Step {
    t: Tensor,
    grad_srcs: Vec<Tensor>,
    needed: bool,
}

/// The operands gradients flow into: none for a node that does not require grad.
fn grad_srcs(t: &Tensor) -> Vec<Tensor> {
    if !t.requires_grad() {
        return vec![];
    }
    t.srcs().into_iter().filter(|s| s.requires_grad()).collect()
}

/// The nodes that require grad reachable from `y`, operands before users (iterative: long chains must
/// not overflow the stack). `is_target` marks where gradients are wanted.
fn walk(y: &Tensor, is_target: impl Fn(&Tensor, &[Tensor]) -> bool) -> Vec<Step> {
    let mut order: Vec<Step> = Vec::new();
    let mut done: HashMap<u64, usize> = HashMap::new();
    let mut seen: HashSet<u64> = HashSet::new();
    // `(t, None)` visits `t`; `(t, Some(grad_srcs))` finishes it once its operands are done.
    let mut stack: Vec<(Tensor, Option<Vec<Tensor>>)> = vec![(y.clone(), None)];
    while let Some((t, finish)) = stack.pop() {
        if let Some(grad_srcs) = finish {
            let needed = is_target(&t, &grad_srcs)
                || grad_srcs
                    .iter()
                    .any(|s| done.get(&s.id()).is_some_and(|&i| order[i].needed));
            done.insert(t.id(), order.len());
            order.push(Step {
                t,
                grad_srcs,
                needed,
            });
            continue;
        }
        if !seen.insert(t.id()) {
            continue;
        }
        let srcs = grad_srcs(&t);
        let pending: Vec<Tensor> = srcs
            .iter()
            .filter(|s| !seen.contains(&s.id()))
            .cloned()
            .collect();
        stack.push((t, Some(srcs)));
        stack.extend(pending.into_iter().rev().map(|s| (s, None)));
    }
    order
}

/// Checks that `y` can seed a backward pass: it requires grad and has one element, as PyTorch demands.
fn check_output(op: &'static str, y: &Tensor) -> Result<()> {
    if !y.requires_grad() {
        return Err(Error::Argument {
            op,
            what:
                "the output does not require grad and has no gradient history (mark an input with \
                   requires_grad_(true), and do not build it inside no_grad)"
                    .into(),
        });
    }
    if y.numel() != 1 {
        return Err(Error::Shape {
            op,
            what: format!(
                "grad can be implicitly created only for scalar outputs, got shape {}",
                y.shape()
            ),
        });
    }
    Ok(())
}

/// The gradients of `y` with respect to every node of the walk marked as a target, keyed by node id.
/// Nodes `y` does not depend on are absent.
fn propagate(y: &Tensor, order: &[Step]) -> HashMap<u64, Tensor> {
    let mut grads: HashMap<u64, Tensor> = HashMap::new();
    let mut results: HashMap<u64, Tensor> = HashMap::new();
    grads.insert(y.id(), Tensor::ones_like(y));
    for step in order.iter().rev() {
        let Some(g) = grads.remove(&step.t.id()) else {
            continue;
        };
        if !step.needed {
            continue;
        }
        results.insert(step.t.id(), g.clone());
        if step.grad_srcs.is_empty() {
            continue;
        }
        let srcs = step.t.srcs();
        for (src, contribution) in srcs.iter().zip(rules::vjp(&step.t, &srcs, &g)) {
            let Some(c) = contribution else { continue };
            if !step.grad_srcs.iter().any(|s| s.same(src)) {
                continue;
            }
            debug_assert_eq!(
                (c.dims(), c.dtype()),
                (src.dims(), src.dtype()),
                "gradient of {:?} for {:?}",
                step.t,
                src
            );
            let sum = match grads.remove(&src.id()) {
                Some(acc) => &acc + &c,
                None => c,
            };
            grads.insert(src.id(), sum);
        }
    }
    results
}

/// Symbolic gradients of the one-element tensor `y` with respect to each of `xs`
/// (`torch.autograd.grad(y, xs, create_graph=True, allow_unused=True, materialize_grads=True)`).
///
/// The gradients are lazy tensors of the inputs' shapes and dtypes; with grad mode on they record
/// history, so they can be differentiated again. An input `y` does not depend on gets zeros. Panics if
/// `y` does not require grad or has more than one element, or if an input does not require grad.
#[track_caller]
pub fn grad(y: &Tensor, xs: &[&Tensor]) -> Vec<Tensor> {
    ok(try_grad(y, xs))
}

/// [`grad`], returning an error instead of panicking.
pub fn try_grad(y: &Tensor, xs: &[&Tensor]) -> Result<Vec<Tensor>> {
    check_output("grad", y)?;
    if let Some(i) = xs.iter().position(|x| !x.requires_grad()) {
        return Err(Error::Argument {
            op: "grad",
            what: format!("input {i} does not require grad"),
        });
    }
    let wanted: HashSet<u64> = xs.iter().map(|x| x.id()).collect();
    let order = walk(y, |t, _| wanted.contains(&t.id()));
    let grads = propagate(y, &order);
    Ok(xs
        .iter()
        .map(|x| {
            grads
                .get(&x.id())
                .cloned()
                .unwrap_or_else(|| Tensor::zeros_like(x))
        })
        .collect())
}

impl Tensor {
    /// Computes the gradient of this one-element tensor with respect to every leaf that requires grad and
    /// adds it to the leaf's [`Tensor::grad`] (`loss.backward()`; gradients accumulate across calls
    /// until [`Tensor::zero_grad`]). Panics if the tensor has more than one element or does not require
    /// grad, as PyTorch raises; [`Tensor::try_backward`] returns the error instead.
    ///
    /// The gradients are realized before this returns, like PyTorch's eager backward: a lazy gradient
    /// stored in a leaf would refer to the graph that refers to the leaf, a reference cycle that would
    /// never be freed if the gradient were never read. This tensor is realized with them, in the same
    /// schedule, so reading the loss afterwards recomputes nothing.
    #[track_caller]
    pub fn backward(&self) {
        ok(self.try_backward())
    }

    /// [`Tensor::backward`], returning an error instead of panicking.
    pub fn try_backward(&self) -> Result<()> {
        check_output("backward", self)?;
        no_grad(|| {
            let order = walk(self, |_, grad_srcs| grad_srcs.is_empty());
            let grads = propagate(self, &order);
            let mut updates: Vec<(Tensor, Tensor)> = Vec::new();
            for step in order.iter().filter(|s| s.grad_srcs.is_empty()) {
                let Some(g) = grads.get(&step.t.id()) else {
                    continue;
                };
                let sum = match step.t.grad() {
                    Some(old) => &old + g,
                    None => g.clone(),
                };
                updates.push((step.t.clone(), sum));
            }
            // The output is realized with the gradients (it is computed on the way anyway), so reading
            // the loss after `backward` costs nothing.
            let mut targets: Vec<&Tensor> = updates.iter().map(|(_, g)| g).collect();
            targets.push(self);
            Tensor::realize_all(&targets)?;
            for (leaf, g) in updates {
                leaf.set_grad_unchecked(Some(g));
            }
            Ok(())
        })
    }
}
