//! A training loop's memory stays flat: after warm-up, 1,000 steps of forward, backward and optimizer
//! step leave the same number of live tensor nodes and buffers. One test in its own binary, because the
//! counters are process-wide.

use smelt::nn::{self, Activation, Linear, Module, Sequential};
use smelt::optim::{Adam, Optimizer, Sgd};
use smelt::prelude::*;
use smelt::stats::{live_buffers, live_tensors};

/// Runs `steps` training steps; returns the last loss.
fn train(model: &Sequential, opt: &mut dyn Optimizer, x: &Tensor, y: &Tensor, steps: usize) -> f32 {
    let mut last = 0.0;
    for _ in 0..steps {
        opt.zero_grad();
        let loss = nn::cross_entropy(&model.forward(x), y);
        loss.backward();
        opt.step().unwrap();
        last = loss.item::<f32>().unwrap();
    }
    last
}

#[test]
fn training_memory_is_flat_over_1000_steps() {
    smelt::manual_seed(11);
    let x = Tensor::randn([6, 4], DType::F32).realize().unwrap();
    let y = Tensor::new([0i64, 1, 2, 0, 1, 2]);
    for momentum_or_adam in [false, true] {
        let model = Sequential::new()
            .append(Linear::new(4, 5))
            .append(Activation::Relu)
            .append(Linear::new(5, 3));
        let mut opt: Box<dyn Optimizer> = if momentum_or_adam {
            Box::new(Adam::new(model.parameters(), 0.01))
        } else {
            Box::new(
                Sgd::new(model.parameters(), 0.05)
                    .momentum(0.9)
                    .weight_decay(1e-4),
            )
        };
        let first = train(&model, opt.as_mut(), &x, &y, 10);
        let (tensors, buffers) = (live_tensors(), live_buffers());
        let last = train(&model, opt.as_mut(), &x, &y, 1000);
        assert_eq!(
            (live_tensors(), live_buffers()),
            (tensors, buffers),
            "live tensors and buffers after 1,000 more steps"
        );
        assert!(last < first, "the loss went down: {first} → {last}");
    }
}
