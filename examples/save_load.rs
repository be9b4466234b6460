//! Saving and loading tensors: `.npy` for NumPy, `.npz` for several arrays, safetensors for models.

use smelt::prelude::*;

fn main() -> Result<()> {
    let dir = std::env::temp_dir().join("smelt-save-load");
    std::fs::create_dir_all(&dir).map_err(|e| Error::Io {
        path: dir.clone(),
        source: e,
    })?;

    smelt::manual_seed(42);
    let w = Tensor::randn([3, 4], DType::F32).named("w");
    let b = Tensor::zeros([4], DType::F32);

    // One array, the way numpy.save writes it: `np.load("w.npy")` in Python reads it back.
    let npy = dir.join("w.npy");
    w.save_npy(&npy)?;
    let w2 = Tensor::load_npy(&npy)?;
    println!("{} -> {:?} {}", npy.display(), w2.shape(), w2.dtype());

    // Several arrays: .npz (numpy.savez_compressed) and safetensors.
    let npz = dir.join("model.npz");
    smelt::save_npz(&npz, &[("w", &w), ("b", &b)], true)?;
    for (name, t) in smelt::load_npz(&npz)? {
        println!("{}: {name} {:?}", npz.display(), t.shape());
    }
    let st = dir.join("model.safetensors");
    smelt::save_safetensors(&st, &[("w", &w), ("b", &b)])?;
    for (name, t) in smelt::load_safetensors(&st)? {
        println!("{}: {name} {:?} {}", st.display(), t.shape(), t.dtype());
    }

    // Zero-copy interop: a Vec becomes a tensor without a copy, and as_slice lends the memory back.
    let v = vec![1.0f32, 2.0, 3.0, 4.0];
    let ptr = v.as_ptr();
    let t = Tensor::from_vec(v, [2, 2]);
    let s = t.as_slice::<f32>()?;
    println!("same memory: {}", std::ptr::eq(ptr, s.as_ptr()));
    Ok(())
}
