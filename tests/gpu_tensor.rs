//! The Tensor API on the GPU: the same programs as on the CPU give the same values. Skips (with a
//! message) where no adapter exists; CI runs it on Mesa's lavapipe.

use smelt::prelude::*;

fn gpu() -> Option<Device> {
    if smelt::gpu_available() {
        Some(Device::Gpu(0))
    } else {
        eprintln!("SKIPPED: no GPU adapter");
        None
    }
}

#[track_caller]
fn close(a: &Tensor, b: &Tensor, tol: f64) {
    let (x, y) = (
        a.to_dtype(DType::F64).to_vec::<f64>().unwrap(),
        b.to_dtype(DType::F64).to_vec::<f64>().unwrap(),
    );
    assert_eq!(a.shape(), b.shape());
    for (i, (p, q)) in x.iter().zip(&y).enumerate() {
        assert!(
            (p - q).abs() <= tol * (1.0 + p.abs()) || (p.is_nan() && q.is_nan()),
            "element {i}: cpu {p} gpu {q}"
        );
    }
}

#[test]
fn programs_match_the_cpu() {
    let Some(g) = gpu() else { return };
    let x = Tensor::arange(-3.0, 3.0, 0.25, DType::F32).reshape([4, 6]);
    let w = Tensor::linspace(-1.0, 1.0, 18, DType::F32).reshape([6, 3]);
    type Program = Box<dyn Fn(&Tensor, &Tensor) -> Tensor>;
    let programs: Vec<Program> = vec![
        Box::new(|x, _| (x.exp() * 2.0 + 1.0).sqrt()),
        Box::new(|x, _| x.gelu() - x.gelu_tanh()),
        Box::new(|x, _| x.softmax(-1)),
        Box::new(|x, _| x.sum_dim(&[0], false)),
        Box::new(|x, _| x.max_dim(&[1], true)),
        Box::new(|x, _| x.argmax(1, false).to_dtype(DType::F32)),
        Box::new(|x, w| (x.matmul(w) + 0.5).relu()),
        Box::new(|x, _| x.t().pad(&[1, 1], -2.0).slice(0, 1, 5, 2)),
        Box::new(|x, _| Tensor::cat(&[x, &x.neg()], 1).mean()),
        Box::new(|x, _| x.index_select(1, &Tensor::new([5i32, 0, 2]).to(x.device()))),
    ];
    for (i, p) in programs.iter().enumerate() {
        let cpu = p(&x, &w);
        let on_gpu = p(&x.to(g), &w.to(g));
        assert_eq!(on_gpu.device(), g, "program {i}");
        close(&cpu, &on_gpu, 1e-5);
    }
}

#[test]
fn random_numbers_are_the_same_on_every_device() {
    let Some(g) = gpu() else { return };
    smelt::manual_seed(3);
    let a = Tensor::randn([1000], DType::F32);
    smelt::manual_seed(3);
    let b = Tensor::randn_on([1000], DType::F32, g);
    assert_eq!(a.to_vec::<f32>().unwrap(), b.to_vec::<f32>().unwrap());
}

#[test]
fn transfers_round_trip_every_dtype() {
    let Some(g) = gpu() else { return };
    let f = Tensor::new([1.5f32, -2.0, 0.0]);
    assert_eq!(
        f.to(g).to(Device::Cpu).to_vec::<f32>().unwrap(),
        vec![1.5, -2.0, 0.0]
    );
    assert_eq!(
        Tensor::new([1i32, -7]).to(g).to_vec::<i32>().unwrap(),
        vec![1, -7]
    );
    assert_eq!(
        Tensor::new([3u8, 255]).to(g).to_vec::<u8>().unwrap(),
        vec![3, 255]
    );
    assert_eq!(
        Tensor::new([true, false]).to(g).to_vec::<bool>().unwrap(),
        vec![true, false]
    );
    let d = Tensor::new([1.0f64 / 3.0]).to(g);
    match d.to_vec::<f64>() {
        Ok(v) => assert_eq!(v, vec![1.0 / 3.0]),
        Err(e) => assert!(
            matches!(e, Error::Device(_)),
            "f64 without adapter support must be a device error: {e}"
        ),
    }
    // Data stays on the device between realizes.
    let y = (f.to(g) * 2.0).realize().unwrap();
    assert_eq!((y + 1.0).to_vec::<f32>().unwrap(), vec![4.0, -3.0, 1.0]);
}

#[test]
fn missing_devices_and_mixed_devices_are_errors() {
    let x = Tensor::ones([2], DType::F32);
    let far = x.to(Device::Gpu(99));
    let err = far.to_vec::<f32>().unwrap_err();
    assert!(matches!(err, Error::Device(_)), "{err}");
    let Some(g) = gpu() else { return };
    let err = x.try_add(&x.to(g)).unwrap_err();
    assert!(err.to_string().contains("one device"), "{err}");
    assert!(x.to(g).as_slice::<f32>().is_err());
}
