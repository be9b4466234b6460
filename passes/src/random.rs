//! Counter-based random numbers: Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy as
//! 1, 2, 3", SC'11).
//!
//! Element `i` of a random tensor depends only on `(seed, offset + i)`, never on which thread or device
//! computes it or in which order, so any backend can generate the same values in parallel.

use crate::graph::Dist;
use smelt_codegen::DType;

const MUL0: u32 = 0xD251_1F53;
const MUL1: u32 = 0xCD9E_8D57;
const WEYL0: u32 = 0x9E37_79B9;
const WEYL1: u32 = 0xBB67_AE85;

/// Ten Philox rounds on a 128-bit counter with a 64-bit key.
pub fn philox4x32(counter: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let (mut c, mut k) = (counter, key);
    for _ in 0..10 {
        let p0 = MUL0 as u64 * c[0] as u64;
        let p1 = MUL1 as u64 * c[2] as u64;
        let (hi0, lo0) = ((p0 >> 32) as u32, p0 as u32);
        let (hi1, lo1) = ((p1 >> 32) as u32, p1 as u32);
        c = [hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0];
        k = [k[0].wrapping_add(WEYL0), k[1].wrapping_add(WEYL1)];
    }
    c
}

/// The four random words of element `index` of a stream.
fn words(seed: u64, index: u64) -> [u32; 4] {
    philox4x32(
        [index as u32, (index >> 32) as u32, 0, 0],
        [seed as u32, (seed >> 32) as u32],
    )
}

/// Element `index` of the stream `(seed, dist)` as f64. Uniform values have 24 random bits for f32 and 53
/// for f64, so they are exactly representable in the target dtype and lie in [0, 1).
pub fn sample(seed: u64, index: u64, dist: Dist, dtype: DType) -> f64 {
    let w = words(seed, index);
    match dist {
        Dist::Uniform => {
            if dtype == DType::F64 {
                let bits = ((w[0] as u64) << 21) ^ (w[1] as u64 >> 11);
                (bits & ((1 << 53) - 1)) as f64 * (1.0 / (1u64 << 53) as f64)
            } else {
                (w[0] >> 8) as f64 * (1.0 / (1u32 << 24) as f64)
            }
        }
        Dist::Normal => {
            // Box-Muller on two independent words; u1 in (0, 1] keeps the log finite.
            let u1 = (w[0] as f64 + 1.0) / 4_294_967_296.0;
            let u2 = w[1] as f64 / 4_294_967_296.0;
            (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn philox_known_answer() {
        // Known-answer vectors from the Random123 distribution (kat_vectors, philox4x32 10 rounds).
        assert_eq!(
            philox4x32([0, 0, 0, 0], [0, 0]),
            [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]
        );
        assert_eq!(
            philox4x32([0xffffffff; 4], [0xffffffff; 2]),
            [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]
        );
        assert_eq!(
            philox4x32(
                [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
                [0xa4093822, 0x299f31d0]
            ),
            [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]
        );
    }

    #[test]
    fn uniform_moments() {
        let n = 100_000;
        let xs: Vec<f64> = (0..n)
            .map(|i| sample(7, i, Dist::Uniform, DType::F32))
            .collect();
        assert!(xs.iter().all(|&x| (0.0..1.0).contains(&x)));
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!((mean - 0.5).abs() < 0.01, "{mean}");
        assert!((var - 1.0 / 12.0).abs() < 0.01, "{var}");
    }

    #[test]
    fn normal_moments() {
        let n = 100_000;
        let xs: Vec<f64> = (0..n)
            .map(|i| sample(11, i, Dist::Normal, DType::F32))
            .collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.02, "{mean}");
        assert!((var - 1.0).abs() < 0.02, "{var}");
    }
}
