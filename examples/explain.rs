//! Every stage of the compiler for two programs: a row softmax, and one training step of a small MLP
//! (forward, the gradient graph, the SGD update).
//!
//! ```text
//! cargo run --example explain                 # host CLIF
//! cargo run --example explain -- --pinned     # CLIF for the pinned x86-64 target, plus WGSL
//! cargo run --example explain -- --dot DIR    # also draw DIR/softmax.png and DIR/mlp_grads.svg
//! ```
//!
//! The same text is what `SMELT_DEBUG=4` prints when these programs are realized.

use smelt::nn::{Linear, Module, cross_entropy};
use smelt::optim::{Optimizer, Sgd};
use smelt::prelude::*;
use smelt::{ExplainOptions, WgslMode};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = if args.iter().any(|a| a == "--pinned") {
        ExplainOptions {
            wgsl: WgslMode::Portable,
            ..ExplainOptions::deterministic()
        }
    } else {
        ExplainOptions::default()
    };
    let dot_dir = args
        .iter()
        .position(|a| a == "--dot")
        .and_then(|i| args.get(i + 1));
    smelt::manual_seed(0);

    // 1. A row softmax: max, exp, sum and divide fuse into one kernel with three loops per row.
    let x = Tensor::randn([4, 8], DType::F32).realize()?.named("x");
    let probs = x.softmax(-1).named("probs");
    banner("row softmax of x: f32[4,8]");
    print!("{}", smelt::explain_with(&[&probs], options));

    // 2. One training step of a 2-layer MLP on a batch of 16 samples of 10 features, 3 classes.
    let l1 = Linear::new(10, 32);
    let l2 = Linear::new(32, 3);
    for (p, name) in l1
        .parameters()
        .iter()
        .zip(["w1", "b1"])
        .chain(l2.parameters().iter().zip(["w2", "b2"]))
    {
        p.tensor().realize()?.named(name);
    }
    let xb = Tensor::randn([16, 10], DType::F32)
        .realize()?
        .named("batch");
    let yb = Tensor::new([0i64, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
        .realize()?
        .named("labels");
    let loss = cross_entropy(&l2.forward(&l1.forward(&xb).relu()), &yb).named("loss");

    banner("MLP forward: the loss");
    print!("{}", smelt::explain_with(&[&loss], options));

    // The gradients backward() realizes: the forward pass recomputed where needed and the backward
    // rules, fused like any other graph.
    let params: Vec<Tensor> = l1
        .parameters()
        .iter()
        .chain(l2.parameters().iter())
        .map(|p| p.tensor())
        .collect();
    let grads = smelt::grad(&loss, &params.iter().collect::<Vec<_>>());
    let names = ["dw1", "db1", "dw2", "db2"];
    let grads: Vec<Tensor> = grads.iter().zip(names).map(|(g, n)| g.named(n)).collect();
    banner("MLP backward: the gradients of w1, b1, w2, b2");
    print!(
        "{}",
        smelt::explain_with(&grads.iter().collect::<Vec<_>>(), options)
    );

    // The SGD update w - lr·g on the lazy gradients: the whole training step as one graph.
    let lr = Tensor::scalar(0.1f32).realize()?.named("lr");
    let updated: Vec<Tensor> = params
        .iter()
        .zip(&grads)
        .map(|(w, g)| (w - &(g * &lr)).named(format!("new {}", w.name().unwrap_or_default())))
        .collect();
    banner("MLP training step: forward, backward and the SGD update in one graph");
    print!(
        "{}",
        smelt::explain_with(&updated.iter().collect::<Vec<_>>(), options)
    );

    if let Some(dir) = dot_dir {
        std::fs::create_dir_all(dir).map_err(|e| Error::Io {
            path: dir.into(),
            source: e,
        })?;
        smelt::viz::render(&probs, format!("{dir}/softmax.png"))?;
        let refs: Vec<&Tensor> = grads.iter().collect();
        smelt::viz::render_dot(
            &smelt::viz::to_dot_scheduled(&refs),
            format!("{dir}/mlp_grads.svg"),
        )?;
        println!("pictures written to {dir}");
    }

    // The real step, through the library: backward() realizes the gradients, step() the update.
    let mut opt = Sgd::new([l1.parameters(), l2.parameters()].concat(), 0.1);
    loss.backward();
    opt.step()?;
    let after = cross_entropy(&l2.forward(&l1.forward(&xb).relu()), &yb);
    println!(
        "loss before the step {:.4}, after {:.4}",
        loss.item::<f32>()?,
        after.item::<f32>()?
    );
    Ok(())
}

fn banner(title: &str) {
    println!("\n################ {title}\n");
}
