//! `.npz` archives: round trips in both compressions, and hostile archives (lying sizes, path tricks,
//! duplicate or overlapping members, bad checksums) that must each give a clear error.

#[allow(dead_code)]
#[path = "../src/io/mod.rs"]
mod io;
mod io_support;

use io::RawArray;
use io::npy::write_npy;
use io::npz::{Compression, load_npz, read_npz, read_npz_from, save_npz, write_npz};
use io_support::*;
use smelt::{DType, Error, Result};
use std::io::{Cursor, Write};
use std::path::Path;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

fn raw(dtype: DType, shape: &[usize], data: Vec<u8>) -> RawArray {
    RawArray::new(dtype, shape.to_vec(), data).unwrap()
}

fn read(bytes: &[u8]) -> Result<Vec<(String, RawArray)>> {
    read_npz(bytes, Path::new("bad.npz"))
}

fn check_bad(bytes: &[u8], want: &str) {
    match read(bytes) {
        Ok(v) => panic!("expected the error {want:?}, got {} arrays", v.len()),
        Err(e) => assert_eq!(e.to_string(), want),
    }
}

/// An archive of raw members, written with the zip crate directly (so names can be anything).
fn archive(members: &[(&str, &[u8])], method: CompressionMethod) -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in members {
        zip.start_file(
            *name,
            SimpleFileOptions::default().compression_method(method),
        )
        .unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// Offsets of every occurrence of a 4-byte zip signature.
fn find(bytes: &[u8], sig: u32) -> Vec<usize> {
    let sig = sig.to_le_bytes();
    (0..bytes.len().saturating_sub(3))
        .filter(|&i| bytes[i..i + 4] == sig)
        .collect()
}
const LOCAL: u32 = 0x04034b50;
const CENTRAL: u32 = 0x02014b50;

fn patch(bytes: &mut [u8], at: usize, value: &[u8]) {
    bytes[at..at + value.len()].copy_from_slice(value);
}

fn arrays() -> Vec<(&'static str, RawArray)> {
    vec![
        (
            "z",
            raw(DType::F32, &[2, 3], pattern(DType::F32, &[2, 3], 1)),
        ),
        ("a", raw(DType::Bool, &[], vec![1])),
        ("layer/w", raw(DType::I64, &[0, 5], vec![])),
        ("m", raw(DType::U8, &[300], pattern(DType::U8, &[300], 2))),
    ]
}

#[test]
fn round_trips_in_archive_order_both_compressions() {
    let arrays = arrays();
    let refs: Vec<(&str, &RawArray)> = arrays.iter().map(|(k, a)| (*k, a)).collect();
    for compression in [Compression::Stored, Compression::Deflated] {
        let bytes = write_npz(&refs, compression).unwrap();
        assert_eq!(
            bytes,
            write_npz(&refs, compression).unwrap(),
            "the output is deterministic"
        );
        let back = read(&bytes).unwrap();
        let want: Vec<(String, RawArray)> = arrays
            .iter()
            .map(|(k, a)| (k.to_string(), a.clone()))
            .collect();
        assert_eq!(back, want, "{compression:?}");
        // Each member is exactly the .npy file of its array.
        let mut zip = zip::ZipArchive::new(Cursor::new(&bytes)).unwrap();
        for (i, (key, a)) in arrays.iter().enumerate() {
            let mut member = zip.by_index(i).unwrap();
            assert_eq!(member.name().unwrap(), format!("{key}.npy"));
            let want_method = match compression {
                Compression::Stored => CompressionMethod::Stored,
                Compression::Deflated => CompressionMethod::Deflated,
            };
            assert_eq!(member.compression(), want_method);
            let mut npy = Vec::new();
            std::io::Read::read_to_end(&mut member, &mut npy).unwrap();
            assert_eq!(npy, write_npy(a));
        }
    }
    // An empty archive is fine too.
    assert_eq!(
        read(&write_npz(&[], Compression::Stored).unwrap()).unwrap(),
        vec![]
    );
}

#[test]
fn save_and_load_through_the_file_system() {
    let dir = TempDir::new("npz");
    let arrays = arrays();
    let refs: Vec<(&str, &RawArray)> = arrays.iter().map(|(k, a)| (*k, a)).collect();
    let p = dir.join("w.npz");
    save_npz(&p, &refs, Compression::Deflated).unwrap();
    assert_eq!(
        std::fs::read(&p).unwrap(),
        write_npz(&refs, Compression::Deflated).unwrap()
    );
    assert_eq!(load_npz(&p).unwrap().len(), 4);
    assert_eq!(dir.entries(), ["w.npz"]);
}

#[test]
fn bad_keys_are_refused_before_writing() {
    let a = raw(DType::U8, &[1], vec![1]);
    let cases = [
        ("", "save_npz: key '': the name is empty before '.npy'"),
        (
            "../up",
            "save_npz: key '../up': the name has an empty, '.' or '..' path component",
        ),
        (
            "a//b",
            "save_npz: key 'a//b': the name has an empty, '.' or '..' path component",
        ),
        ("/abs", "save_npz: key '/abs': the name is an absolute path"),
        ("C:x", "save_npz: key 'C:x': the name is an absolute path"),
        (
            "a\\b",
            "save_npz: key 'a\\b': the name contains the character '\\\\'",
        ),
        (
            "nl\n",
            "save_npz: key 'nl\n': the name contains the character '\\n'",
        ),
    ];
    for (key, want) in cases {
        assert_eq!(
            write_npz(&[(key, &a)], Compression::Stored)
                .unwrap_err()
                .to_string(),
            want
        );
    }
    assert_eq!(
        write_npz(&[("x", &a), ("x", &a)], Compression::Stored)
            .unwrap_err()
            .to_string(),
        "save_npz: key 'x' appears twice"
    );
    // A failed save leaves no file.
    let dir = TempDir::new("npz-bad-key");
    assert!(save_npz(&dir.join("x.npz"), &[("", &a)], Compression::Stored).is_err());
    assert!(dir.entries().is_empty());
}

#[test]
fn hostile_names_are_refused() {
    let npy = write_npy(&raw(DType::U8, &[1], vec![1]));
    let m = "bad.npz: npz file is malformed: ";
    let cases = [
        (
            "../evil.npy",
            "member '../evil.npy': the name has an empty, '.' or '..' path component",
        ),
        (
            "a/./b.npy",
            "member 'a/./b.npy': the name has an empty, '.' or '..' path component",
        ),
        (
            "/etc/x.npy",
            "member '/etc/x.npy': the name is an absolute path",
        ),
        ("C:x.npy", "member 'C:x.npy': the name is an absolute path"),
        (
            "a\\b.npy",
            "member 'a\\b.npy': the name contains the character '\\\\'",
        ),
        (
            "nul\0.npy",
            "member 'nul\0.npy': the name contains the character '\\0'",
        ),
        (
            "notes.txt",
            "member 'notes.txt': the name does not end in '.npy' (a .npz archive holds only .npy members)",
        ),
        (".npy", "member '.npy': the name is empty before '.npy'"),
    ];
    for (name, want) in cases {
        check_bad(
            &archive(&[(name, &npy)], CompressionMethod::Stored),
            &format!("{m}{want}"),
        );
    }
}

#[test]
fn lying_sizes_and_zip_bombs_are_refused() {
    let m = "bad.npz: npz file is malformed: ";
    // 8 MB of zeros deflates to a few kB.
    let zeros = write_npy(&raw(DType::F64, &[1 << 20], vec![0; 8 << 20]));
    let good = archive(&[("z.npy", &zeros)], CompressionMethod::Deflated);
    assert_eq!(read(&good).unwrap()[0].1.data.len(), 8 << 20);
    let c = find(&good, CENTRAL)[0];
    let l = find(&good, LOCAL)[0];
    let packed = u32::from_le_bytes(good[c + 20..c + 24].try_into().unwrap());
    assert!(packed < 20_000, "{packed}");

    // Declaring 4 GB from a few kB is more than deflate can produce.
    let mut bomb = good.clone();
    patch(&mut bomb, c + 24, &0xffff_fff0u32.to_le_bytes());
    patch(&mut bomb, l + 22, &0xffff_fff0u32.to_le_bytes());
    check_bad(
        &bomb,
        &format!(
            "{m}member 'z.npy' declares 4294967280 bytes from {packed} compressed bytes, more than deflate can produce"
        ),
    );

    // Declaring less than the member holds: the zip reader notices (and smelt never reads more than one
    // byte past the declared size anyway).
    let declared = zeros.len() as u32 - 1000;
    let mut short = good.clone();
    patch(&mut short, c + 24, &declared.to_le_bytes());
    patch(&mut short, l + 22, &declared.to_le_bytes());
    check_bad(
        &short,
        &format!(
            "{m}member 'z.npy' cannot be decompressed: File is larger than its declared uncompressed size"
        ),
    );

    // Declaring more than it holds.
    let declared = zeros.len() as u32 + 1000;
    let mut long = good.clone();
    patch(&mut long, c + 24, &declared.to_le_bytes());
    patch(&mut long, l + 22, &declared.to_le_bytes());
    check_bad(
        &long,
        &format!(
            "{m}member 'z.npy' declares {declared} bytes but decompresses to {}",
            zeros.len()
        ),
    );

    // A caller's limit on the total.
    match read_npz_from(Cursor::new(&good), Path::new("big.npz"), 1 << 20) {
        Err(e @ Error::Unsupported { .. }) => assert_eq!(
            e.to_string(),
            "big.npz: npz file is not supported: the members decompress to more than the limit of 1048576 bytes"
        ),
        other => panic!("{other:?}"),
    }

    // A stored member whose two sizes differ.
    let small = write_npy(&raw(DType::U8, &[2], vec![1, 2]));
    let mut stored = archive(&[("s.npy", &small)], CompressionMethod::Stored);
    let c = find(&stored, CENTRAL)[0];
    let l = find(&stored, LOCAL)[0];
    let n = small.len() as u32;
    patch(&mut stored, c + 24, &(n + 1).to_le_bytes());
    patch(&mut stored, l + 22, &(n + 1).to_le_bytes());
    check_bad(
        &stored,
        &format!(
            "{m}stored member 's.npy' declares {} bytes but holds {n}",
            n + 1
        ),
    );
}

#[test]
fn duplicate_and_overlapping_members_are_refused() {
    let m = "bad.npz: npz file is malformed: ";
    let a = write_npy(&raw(DType::U8, &[2], vec![1, 2]));
    let b = write_npy(&raw(DType::U8, &[2], vec![3, 4]));
    let good = archive(&[("a.npy", &a), ("b.npy", &b)], CompressionMethod::Stored);

    // Rename b to a in both headers.
    let mut dup = good.clone();
    for at in find(&dup, LOCAL).into_iter().chain(find(&dup, CENTRAL)) {
        let name_at = if dup[at..at + 4] == LOCAL.to_le_bytes() {
            at + 30
        } else {
            at + 46
        };
        if &dup[name_at..name_at + 5] == b"b.npy" {
            patch(&mut dup, name_at, b"a.npy");
        }
    }
    check_bad(&dup, &format!("{m}two members have the same name"));

    // Point b's central entry at a's local header: both names share one set of bytes.
    let mut overlap = good.clone();
    let c = find(&overlap, CENTRAL)[1];
    patch(&mut overlap, c + 42, &0u32.to_le_bytes());
    check_bad(
        &overlap,
        &format!("{m}members share bytes (overlapping entries, a zip bomb trick)"),
    );
}

#[test]
fn damaged_members_are_refused() {
    let m = "bad.npz: npz file is malformed: ";
    let a = write_npy(&raw(DType::I32, &[2], i32s(&[1, 2])));
    let good = archive(&[("a.npy", &a)], CompressionMethod::Stored);

    // A flipped data byte fails the CRC.
    let mut flipped = good.clone();
    let data_at = find(&flipped, LOCAL)[0] + 30 + 5;
    flipped[data_at + a.len() - 1] ^= 1;
    check_bad(
        &flipped,
        &format!("{m}member 'a.npy' cannot be decompressed: Invalid checksum"),
    );

    // A member that is not a .npy file: the npy reader's message, inside the archive's.
    let junk = archive(&[("a.npy", b"hello, world")], CompressionMethod::Stored);
    check_bad(
        &junk,
        &format!("{m}member 'a.npy': bad magic: expected \\x93NUMPY, found 'hello,'"),
    );
    let unsupported = write_npy(&raw(DType::U8, &[2], vec![1, 2]));
    let mut f2 = unsupported.clone();
    let at = f2.windows(3).position(|w| w == b"|u1").unwrap();
    patch(&mut f2, at, b"<f2");
    let f2 = archive(&[("h.npy", &f2)], CompressionMethod::Stored);
    check_bad(
        &f2,
        "bad.npz: npz file is not supported: member 'h.npy': dtype '<f2' (float16) is not one of smelt's dtypes (bool, u8, i32, i64, f32, f64)",
    );

    // An encrypted member.
    let mut enc = good.clone();
    let c = find(&enc, CENTRAL)[0];
    enc[c + 8] |= 1;
    let l = find(&enc, LOCAL)[0];
    enc[l + 6] |= 1;
    check_bad(
        &enc,
        "bad.npz: npz file is not supported: member 'a.npy' is encrypted",
    );

    // Not a zip archive at all, and a truncated one.
    check_bad(
        b"definitely not a zip file",
        &format!("{m}invalid Zip archive: Could not find EOCD"),
    );
    check_bad(
        &good[..good.len() - 10],
        &format!("{m}invalid Zip archive: Unexpected end of zip::format::blocks::Zip32CDEBlock"),
    );
}
