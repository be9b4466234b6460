//! The ten-line tour: build a lazy graph, realize it, read the data.

use smelt::prelude::*;

fn main() -> Result<()> {
    let a = Tensor::new([[1f32, 2.], [3., 4.]]);
    let b = Tensor::new([[5f32, 6.], [7., 8.]]);
    let c = (a.matmul(&b) + 1.0).relu(); // recorded, not computed
    println!("a @ b + 1 = {:?}", c.to_vec::<f32>()?);

    smelt::manual_seed(0);
    let x = Tensor::randn([4, 8], DType::F32);
    let p = x.softmax(-1);
    let rows = p.sum_dim(&[-1], false).to_vec::<f32>()?;
    println!("softmax rows sum to {rows:?}");
    println!("argmax per row: {:?}", x.argmax(-1, false).to_vec::<i64>()?);
    Ok(())
}
