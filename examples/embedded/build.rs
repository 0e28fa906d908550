//! Puts `memory.x` (and an empty `device.x`) where cortex-m-rt's `link.x` looks for them, and turns the repository's iris
//! and digits CSV files into Rust constants (`$OUT_DIR/data.rs`): the firmware has no file
//! system, and generating them keeps the data in one place.
//!
//! Every fifth row (index 4, 9, …) is held out, as in `examples/embed.rs`; the rest is the
//! training set. Features are written as the CSV's own text, so the compiler rounds them to
//! `f32` exactly as the host's `str::parse` does.

use std::fmt::Write as _;
use std::{env, fs, path::PathBuf};

fn rows(path: &str, skip: usize) -> Vec<Vec<String>> {
    println!("cargo:rerun-if-changed={path}");
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .skip(skip)
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.split(',').map(|f| f.trim().to_owned()).collect())
        .collect()
}

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    fs::write(out.join("memory.x"), include_bytes!("memory.x")).expect("write memory.x");
    // cortex-m-rt's `device` feature includes a device's linker fragment; no interrupt
    // handler is named, so it is empty.
    fs::write(out.join("device.x"), "").expect("write device.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");

    let iris = rows("../../data/iris.csv", 1);
    let digits = rows("../../data/digits.csv", 0);
    let held_out = |row: usize| row % 5 == 4;
    let mut source = String::new();

    let test: Vec<_> = iris.iter().enumerate().filter(|(row, _)| held_out(*row)).collect();
    writeln!(
        source,
        "/// The held-out iris flowers: CSV row (from 0, header excluded) and measurements."
    )
    .unwrap();
    writeln!(source, "pub static IRIS_TEST: [(u16, [f32; 4]); {}] = [", test.len()).unwrap();
    for (row, fields) in &test {
        writeln!(source, "    ({row}, [{}_f32]),", fields[..4].join("_f32, ")).unwrap();
    }
    writeln!(source, "];").unwrap();

    let train: Vec<_> = iris.iter().enumerate().filter(|(row, _)| !held_out(*row)).collect();
    writeln!(source, "/// The size of the iris training set.").unwrap();
    writeln!(source, "pub const IRIS_TRAIN_LEN: usize = {};", train.len()).unwrap();
    writeln!(source, "/// The iris training set: measurements and species.").unwrap();
    writeln!(source, "pub static IRIS_TRAIN: [([f32; 4], u8); IRIS_TRAIN_LEN] = [").unwrap();
    for (_, fields) in &train {
        writeln!(source, "    ([{}_f32], {}),", fields[..4].join("_f32, "), fields[4]).unwrap();
    }
    writeln!(source, "];").unwrap();

    let test: Vec<_> = digits.iter().enumerate().filter(|(row, _)| held_out(*row)).collect();
    writeln!(
        source,
        "/// The held-out digits: CSV row (from 0) and 64 grey levels 0..=16, as bytes."
    )
    .unwrap();
    writeln!(source, "pub static DIGITS_TEST: [(u16, [u8; 64]); {}] = [", test.len()).unwrap();
    for (row, fields) in &test {
        writeln!(source, "    ({row}, [{}]),", fields[..64].join(", ")).unwrap();
    }
    writeln!(source, "];").unwrap();

    fs::write(out.join("data.rs"), source).expect("write data.rs");
}
