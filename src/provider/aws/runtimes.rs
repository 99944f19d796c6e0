//! Lambda runtimes that Lambda no longer lets a function be created (or updated) with, and
//! what to use instead. A deploy that names one is refused when the desired state is built,
//! before anything changes, rather than failing half-way at CreateFunction.
//!
//! Only runtimes whose "block function create" date (AWS Lambda's runtime deprecation policy)
//! has passed are listed.

/// `(retired runtime, the runtime to move to, what moving takes)`.
const RETIRED: &[(&str, &str, &str)] = &[
    ("nodejs", "nodejs22.x", ""),
    ("nodejs4.3", "nodejs22.x", ""),
    ("nodejs4.3-edge", "nodejs22.x", ""),
    ("nodejs6.10", "nodejs22.x", ""),
    ("nodejs8.10", "nodejs22.x", ""),
    ("nodejs10.x", "nodejs22.x", ""),
    ("nodejs12.x", "nodejs22.x", ""),
    ("nodejs14.x", "nodejs22.x", ""),
    ("nodejs16.x", "nodejs22.x", ""),
    ("python2.7", "python3.13", ""),
    ("python3.6", "python3.13", ""),
    ("python3.7", "python3.13", ""),
    ("python3.8", "python3.13", ""),
    ("ruby2.5", "ruby3.3", ""),
    ("ruby2.7", "ruby3.3", ""),
    ("java8", "java21", " (or `java8.al2` to stay on Java 8)"),
    ("dotnetcore1.0", "dotnet8", ""),
    ("dotnetcore2.0", "dotnet8", ""),
    ("dotnetcore2.1", "dotnet8", ""),
    ("dotnetcore3.1", "dotnet8", ""),
    ("dotnet5.0", "dotnet8", ""),
    ("dotnet6", "dotnet8", ""),
    (
        "go1.x",
        "provided.al2023",
        ", with the Go binary built as `bootstrap` (GOOS=linux, the function's architecture) and `handler: bootstrap`",
    ),
    ("provided", "provided.al2023", ""),
];

/// What to write instead of `runtime` (`set runtime: X ...`), when Lambda no longer creates
/// functions with it.
pub fn replacement(runtime: &str) -> Option<String> {
    RETIRED
        .iter()
        .find(|(retired, _, _)| *retired == runtime)
        .map(|(_, instead, how)| format!("set `runtime: {instead}`{how}"))
}

#[cfg(test)]
mod tests {
    use super::replacement;

    #[test]
    fn retired_runtimes_name_their_replacement_and_current_ones_pass() {
        assert_eq!(
            replacement("nodejs12.x").as_deref(),
            Some("set `runtime: nodejs22.x`")
        );
        assert_eq!(
            replacement("python2.7").as_deref(),
            Some("set `runtime: python3.13`")
        );
        assert!(replacement("go1.x").is_some_and(|r| r.contains("bootstrap")));
        assert_eq!(replacement("nodejs20.x"), None);
        assert_eq!(replacement("provided.al2023"), None);
        assert_eq!(replacement("java8.al2"), None);
    }
}
