//! Tensors through files: every dtype, lazy and non-contiguous tensors, NumPy on the other side.

use smelt::prelude::*;
use std::path::PathBuf;
use std::process::Command;

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("smelt-files-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn npy_round_trip_every_dtype() {
    let d = dir();
    let f = Tensor::new([[1.5f32, -2.0, 3.25], [0.0, f32::INFINITY, -0.0]]);
    let cases = [
        f.clone(),
        f.to_dtype(DType::F64),
        Tensor::new([[1i32, -2], [3, 4]]),
        Tensor::new([7i64, -8, 9]),
        Tensor::new([0u8, 255, 17]),
        Tensor::new([true, false, true]),
        Tensor::scalar(2.5f64),
        Tensor::zeros([0, 3], DType::F32),
    ];
    for (i, t) in cases.iter().enumerate() {
        let p = d.join(format!("t{i}.npy"));
        t.save_npy(&p).unwrap();
        let back = Tensor::load_npy(&p).unwrap();
        assert_eq!(back.shape(), t.shape());
        assert_eq!(back.dtype(), t.dtype());
        let (a, b) = (
            t.to_dtype(DType::F64).to_vec::<f64>().unwrap(),
            back.to_dtype(DType::F64).to_vec::<f64>().unwrap(),
        );
        assert_eq!(
            a.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            b.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
    }
}

#[test]
fn lazy_non_contiguous_tensor_saves_its_values() {
    let d = dir();
    let x = Tensor::arange(0.0, 12.0, 1.0, DType::F32).reshape([3, 4]);
    let view = x.t().slice(0, 1, 4, 2); // [[1, 5, 9], [3, 7, 11]], never realized before saving
    let p = d.join("view.npy");
    view.save_npy(&p).unwrap();
    let back = Tensor::load_npy(&p).unwrap();
    assert_eq!(back.shape(), &[2, 3]);
    assert_eq!(back.to_vec::<f32>().unwrap(), vec![1., 5., 9., 3., 7., 11.]);
}

#[test]
fn safetensors_and_npz_keep_names() {
    let d = dir();
    let (w, b) = (Tensor::new([[1f32, 2.], [3., 4.]]), Tensor::new([5i64, 6]));
    let p = d.join("m.safetensors");
    smelt::save_safetensors(&p, &[("w", &w), ("b", &b)]).unwrap();
    let mut loaded = smelt::load_safetensors(&p).unwrap();
    loaded.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(loaded[0].0, "b");
    assert_eq!(loaded[0].1.to_vec::<i64>().unwrap(), vec![5, 6]);
    assert_eq!(loaded[1].1.to_vec::<f32>().unwrap(), vec![1., 2., 3., 4.]);
    let z = d.join("m.npz");
    smelt::save_npz(&z, &[("w", &w), ("b", &b)], true).unwrap();
    let loaded = smelt::load_npz(&z).unwrap();
    assert_eq!(
        loaded.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        vec!["w", "b"]
    );
    assert_eq!(loaded[0].1.shape(), &[2, 2]);
}

#[test]
fn missing_and_malformed_files_are_errors() {
    let d = dir();
    let err = Tensor::load_npy(d.join("nope.npy")).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
    let p = d.join("bad.npy");
    std::fs::write(&p, b"\x93NUMPY\x01\x00garbage").unwrap();
    let err = Tensor::load_npy(&p).unwrap_err();
    assert!(matches!(err, Error::Format { .. }), "{err}");
}

#[test]
fn numpy_reads_what_smelt_writes_and_back() {
    if Command::new("python3")
        .args(["-c", "import numpy"])
        .status()
        .map(|s| !s.success())
        .unwrap_or(true)
    {
        eprintln!("skipped: python3 with numpy is not available");
        return;
    }
    let d = dir();
    let t = Tensor::arange(0.0, 6.0, 1.0, DType::F64)
        .reshape([2, 3])
        .exp();
    t.save_npy(d.join("smelt.npy")).unwrap();
    let script = format!(
        "import numpy as np\na = np.load(r'{0}/smelt.npy')\nassert a.shape == (2, 3) and a.dtype == np.float64\n\
         assert np.allclose(a, np.exp(np.arange(6.0).reshape(2, 3)), rtol=1e-15)\n\
         np.save(r'{0}/numpy.npy', np.asfortranarray(np.arange(6, dtype=np.int32).reshape(2, 3) * 3))\n",
        d.display()
    );
    let out = Command::new("python3")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let back = Tensor::load_npy(d.join("numpy.npy")).unwrap();
    assert_eq!(back.to_vec::<i32>().unwrap(), vec![0, 3, 6, 9, 12, 15]);
}
