//! Atomic writes: a finished write replaces the target whole; a failed one leaves the target as it was
//! and no temporary file behind.

#[allow(dead_code)]
#[path = "../src/io/mod.rs"]
mod io;
mod io_support;

use io::write_atomic;
use io_support::TempDir;
use smelt::{DType, Error, Result};
use std::io::Write;

#[test]
fn a_successful_write_replaces_the_target() {
    let dir = TempDir::new("atomic-ok");
    let p = dir.join("t.bin");
    write_atomic(&p, |w| w.write_all(b"first")).unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), b"first");
    write_atomic(&p, |w| w.write_all(b"second, longer")).unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), b"second, longer");
    assert_eq!(dir.entries(), ["t.bin"]);
}

#[test]
fn a_failed_write_leaves_the_target_and_no_temporary_file() {
    let dir = TempDir::new("atomic-fail");
    let p = dir.join("t.bin");
    std::fs::write(&p, b"old").unwrap();
    let r: Result<()> = write_atomic(&p, |w| {
        w.write_all(b"partial")?;
        Err(std::io::Error::other("disk on fire"))
    });
    match r {
        Err(Error::Io { path, source }) => {
            assert_eq!(path, p);
            let msg = source.to_string();
            assert!(msg.starts_with("writing the temporary file "), "{msg}");
            assert!(msg.ends_with(": disk on fire"), "{msg}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(std::fs::read(&p).unwrap(), b"old");
    assert_eq!(dir.entries(), ["t.bin"]);
}

#[test]
fn unwritable_targets_are_io_errors_without_stray_files() {
    let dir = TempDir::new("atomic-bad");
    // A directory that does not exist.
    let p = dir.join("missing/t.bin");
    match write_atomic(&p, |w| w.write_all(b"x")) {
        Err(Error::Io { path, source }) => {
            assert_eq!(path, p);
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
            assert!(
                source.to_string().starts_with("creating a temporary file "),
                "{source}"
            );
        }
        other => panic!("{other:?}"),
    }
    // A target that is a directory: the rename fails, and the temporary file goes away.
    std::fs::create_dir(dir.join("sub")).unwrap();
    std::fs::write(dir.join("sub/keep"), b"k").unwrap();
    match write_atomic(&dir.join("sub"), |w| w.write_all(b"x")) {
        Err(Error::Io { source, .. }) => {
            assert!(
                source
                    .to_string()
                    .starts_with("renaming the temporary file "),
                "{source}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(dir.entries(), ["sub"]);
    // A path that names no file.
    match write_atomic(std::path::Path::new("/"), |w| w.write_all(b"x")) {
        Err(Error::Io { source, .. }) => {
            assert_eq!(source.kind(), std::io::ErrorKind::InvalidInput)
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn concurrent_writers_never_leave_a_mixed_file() {
    let dir = TempDir::new("atomic-race");
    let p = dir.join("t.bin");
    std::thread::scope(|s| {
        for t in 0..4u8 {
            let p = &p;
            s.spawn(move || {
                for _ in 0..25 {
                    // 64 kB of one byte value, written in small pieces.
                    write_atomic(p, |w| {
                        for _ in 0..64 {
                            w.write_all(&[t; 1024])?;
                        }
                        Ok(())
                    })
                    .unwrap();
                }
            });
        }
    });
    let bytes = std::fs::read(&p).unwrap();
    assert_eq!(bytes.len(), 64 * 1024);
    assert!(
        bytes.iter().all(|&b| b == bytes[0]),
        "a file mixing two writers"
    );
    assert_eq!(dir.entries(), ["t.bin"]);
}
