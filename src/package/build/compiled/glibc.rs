//! Whether a built `bootstrap` can start on Lambda's system: a program linked on this machine
//! asks for the versions of the C library (glibc) that this machine has, and Lambda's
//! `provided.al2023` has glibc 2.34 (`provided.al2` 2.26). A program that asks for a newer one
//! fails before its first line runs, with nothing in the function's logs but the loader's
//! complaint, so the build warns while the fix is still cheap.

use crate::manifest::model::Function;
use crate::package::build::{BuildWarning, BuiltTree};

/// The glibc of a `provided*` runtime's system.
pub fn runtime_glibc(runtime: &str) -> Option<(u32, u32)> {
    match runtime {
        "provided.al2023" => Some((2, 34)),
        "provided.al2" => Some((2, 26)),
        // Amazon Linux 1.
        "provided" => Some((2, 17)),
        _ => None,
    }
}

/// The newest `GLIBC_2.N` symbol version the program names (the dynamic loader's requirement
/// list holds them as plain strings).
pub fn newest_needed(program: &[u8]) -> Option<(u32, u32)> {
    const MARK: &[u8] = b"GLIBC_2.";
    let mut newest = None;
    let mut at = 0;
    while let Some(found) = find(&program[at..], MARK) {
        let start = at + found + MARK.len();
        let digits = program[start..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if let Some(minor) = std::str::from_utf8(&program[start..start + digits])
            .ok()
            .and_then(|text| text.parse::<u32>().ok())
        {
            newest = newest.max(Some((2, minor)));
        }
        at = start;
    }
    newest
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// A warning when the function's `bootstrap` needs a newer glibc than its runtime has.
pub fn check(
    function: &Function,
    runtime: &str,
    step: &str,
    tree: &BuiltTree,
) -> Option<BuildWarning> {
    let have = runtime_glibc(runtime)?;
    let program = std::fs::read(tree.root.join("bootstrap")).ok()?;
    let needed = newest_needed(&program)?;
    if needed <= have {
        return None;
    }
    let help = match step {
        "rust" => {
            let arch = super::rust_arch(function.architecture);
            format!(
                "build a static program: `rustup target add {arch}-unknown-linux-musl` and set `custom.rust.target: {arch}-unknown-linux-musl`; or build on a system with glibc {}.{} or older",
                have.0, have.1
            )
        }
        _ => format!(
            "build without cgo (remove `custom.go.cgo`), or on a system with glibc {}.{} or older",
            have.0, have.1
        ),
    };
    Some(BuildWarning {
        message: format!(
            "function `{}`: the built bootstrap needs glibc {}.{}, and {runtime} has {}.{}: Lambda could not start it",
            function.key, needed.0, needed.1, have.0, have.1
        ),
        help,
    })
}
