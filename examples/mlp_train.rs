//! Trains a small MLP on the 8×8 handwritten digits (data/digits, CC BY 4.0) and reports its test
//! accuracy.
//!
//! ```sh
//! cargo run --release --example mlp_train
//! ```
//!
//! 1,797 images, split once with a fixed seed into 1,500 for training and 297 for testing; pixels are
//! scaled from 0..16 to 0..1. The model is `64 → 128 → relu → 10`, trained with softmax cross-entropy
//! and SGD with momentum on shuffled mini-batches of 100. Every step has the same graph structure, so
//! the first step compiles the training step and the others reuse it. The process exits with status 1
//! if the final test accuracy is below 95%, so the example doubles as a check.

use indicatif::{ProgressBar, ProgressStyle};
use smelt::nn::{self, Linear, Module};
use smelt::optim::{Optimizer, Sgd};
use smelt::prelude::*;
use std::time::Instant;

const TRAIN: usize = 1500;
const BATCH: usize = 100;
const EPOCHS: usize = 20;
const SEED: u64 = 7;
const REQUIRED_ACCURACY: f64 = 0.95;

/// A small deterministic generator (splitmix64) for the split and the shuffles.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// `0..n` in a random order (Fisher–Yates).
    fn permutation(&mut self, n: usize) -> Vec<i64> {
        let mut p: Vec<i64> = (0..n as i64).collect();
        for i in (1..n).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            p.swap(i, j);
        }
        p
    }
}

/// The data set: pixels as f32 in [0, 1], shape `[n, 64]`, and labels, shape `[n]`.
struct Digits {
    x: Tensor,
    y: Tensor,
}

impl Digits {
    fn load() -> Result<Digits> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/digits");
        let images = Tensor::load_npy(dir.join("images.npy"))?;
        let labels = Tensor::load_npy(dir.join("labels.npy"))?;
        let n = images.dims()[0];
        let x = (images.reshape([n, 64]).to_dtype(DType::F32) / 16.0).realize()?;
        Ok(Digits { x, y: labels })
    }

    /// The rows at `index` (an i64 tensor), realized.
    fn rows(&self, index: &Tensor) -> Result<Digits> {
        let x = self.x.index_select(0, index).realize()?;
        let y = self.y.index_select(0, index).realize()?;
        Ok(Digits { x, y })
    }

    fn len(&self) -> usize {
        self.x.dims()[0]
    }
}

/// The fraction of `data` the model classifies correctly.
fn accuracy(model: &impl Module, data: &Digits) -> Result<f64> {
    smelt::no_grad(|| {
        let predicted = model.forward(&data.x).argmax(1, false);
        let correct = predicted.eq(&data.y).to_dtype(DType::F32).mean();
        Ok(correct.item::<f32>()? as f64)
    })
}

fn main() -> Result<()> {
    let start = Instant::now();
    let all = Digits::load()?;
    let mut rng = SplitMix(SEED);
    let order = rng.permutation(all.len());
    let train = all.rows(&Tensor::from_slice(&order[..TRAIN], [TRAIN]))?;
    let test = all.rows(&Tensor::from_slice(&order[TRAIN..], [all.len() - TRAIN]))?;
    println!(
        "digits: {} training and {} test images of 8x8 pixels",
        train.len(),
        test.len()
    );

    smelt::manual_seed(SEED);
    let model = nn::Sequential::new()
        .append(Linear::new(64, 128))
        .append(nn::Activation::Relu)
        .append(Linear::new(128, 10));
    let mut opt = Sgd::new(model.parameters(), 0.1).momentum(0.9);

    let batches = TRAIN / BATCH;
    let bar = ProgressBar::new((EPOCHS * batches) as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40.cyan/blue} {pos:>4}/{len} steps {msg}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    let mut test_accuracy = 0.0;
    for epoch in 1..=EPOCHS {
        let shuffled = rng.permutation(TRAIN);
        let mut loss_sum = 0.0;
        for b in 0..batches {
            let index = Tensor::from_slice(&shuffled[b * BATCH..(b + 1) * BATCH], [BATCH]);
            let x = train.x.index_select(0, &index);
            let y = train.y.index_select(0, &index);
            opt.zero_grad();
            let loss = nn::cross_entropy(&model.forward(&x), &y);
            loss.backward();
            opt.step()?;
            // `backward` realized the loss with the gradients: reading it costs nothing.
            loss_sum += loss.item::<f32>()? as f64;
            bar.set_message(format!("loss {:.4}", loss_sum / (b + 1) as f64));
            bar.inc(1);
        }
        let train_accuracy = accuracy(&model, &train)?;
        test_accuracy = accuracy(&model, &test)?;
        bar.suspend(|| {
            println!(
                "epoch {epoch:>2}  loss {:.4}  train accuracy {:5.1}%  test accuracy {:5.1}%",
                loss_sum / batches as f64,
                100.0 * train_accuracy,
                100.0 * test_accuracy
            )
        });
    }
    bar.finish_and_clear();
    println!(
        "final test accuracy {:.1}% ({} of {}) after {:.2} s",
        100.0 * test_accuracy,
        (test_accuracy * test.len() as f64).round(),
        test.len(),
        start.elapsed().as_secs_f64()
    );
    if test_accuracy < REQUIRED_ACCURACY {
        eprintln!(
            "test accuracy below the required {:.0}%",
            100.0 * REQUIRED_ACCURACY
        );
        std::process::exit(1);
    }
    Ok(())
}
