//! Turns a failed `pip install` into an error that names the requirement at fault and says what
//! to do: a package that does not exist, a version that does not, or a package with no wheel for
//! Lambda's platform (it publishes only source). pip says "No matching distribution found" for
//! all three, so the package index is asked (`pip index versions`) which one it is.

use std::process::Command;

use super::inputs::requirement_name;
use crate::package::build::process;
use crate::package::build::{BuildError, BuildRequest};

/// What pip was installing, for the error.
pub struct Context<'a> {
    pub functions: &'a str,
    /// The requirements input's name, as `requirements.txt`.
    pub file: &'a str,
    /// `manylinux2014_x86_64, CPython 3.12` for Lambda; `None` for this machine.
    pub platform: Option<&'a str>,
    pub python: &'a std::path::Path,
    /// Index options (`--index-url`...) to ask the same index with.
    pub index_args: Vec<String>,
}

/// The requirement pip could not find, from its output: what follows "No matching distribution
/// found for", else "satisfies the requirement".
pub fn missing_requirement(output: &str) -> Option<String> {
    for marker in [
        "No matching distribution found for ",
        "Could not find a version that satisfies the requirement ",
    ] {
        if let Some(start) = output.find(marker) {
            let rest = &output[start + marker.len()..];
            let requirement = rest
                .lines()
                .next()
                .unwrap_or_default()
                .split(" (from versions")
                .next()
                .unwrap_or_default()
                .trim();
            if !requirement.is_empty() {
                return Some(requirement.to_string());
            }
        }
    }
    None
}

/// pip is not installed for the interpreter: `python3 -m pip` says "No module named pip".
pub fn pip_missing(output: &str) -> bool {
    output.contains("No module named pip")
}

/// The versions `pip index versions` lists; `None` when the index has no such package, and an
/// error when the command itself is unusable (an old pip without `index`).
pub fn listed_versions(output: &str, succeeded: bool) -> Result<Option<Vec<String>>, ()> {
    if let Some(line) = output
        .lines()
        .find_map(|l| l.trim().strip_prefix("Available versions:"))
    {
        return Ok(Some(
            line.split(',')
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .collect(),
        ));
    }
    if !succeeded && output.contains("No matching distribution found") {
        return Ok(None);
    }
    Err(())
}

/// The version pinned with `==` in a requirement, if it is pinned.
pub fn pinned_version(requirement: &str) -> Option<&str> {
    let (_, version) = requirement.split_once("==")?;
    let version = version.split([';', ',', ' ']).next()?.trim();
    (!version.is_empty() && !version.contains('*')).then_some(version)
}

/// The error for a failed pip, asking the index when pip could not find a requirement.
pub fn failure(request: &BuildRequest<'_>, context: &Context<'_>, error: BuildError) -> BuildError {
    let BuildError::Failed { output, .. } = &error else {
        return error;
    };
    if pip_missing(output) {
        return BuildError::MissingTool {
            program: format!("{} -m pip", context.python.display()),
            needed_for: format!(
                "installing the Python requirements of {}",
                context.functions
            ),
            install: "install pip for that Python (Debian/Ubuntu: `apt-get install python3-pip`), \
                      or set UPDRAFT_PYTHON to a Python that has pip, such as a virtual \
                      environment's"
                .into(),
        };
    }
    let Some(requirement) = missing_requirement(output) else {
        return error;
    };
    let name = requirement_name(&requirement)
        .unwrap_or(&requirement)
        .to_string();
    let mut command = Command::new(context.python);
    command
        .args([
            "-m",
            "pip",
            "index",
            "versions",
            &name,
            "--disable-pip-version-check",
        ])
        .args(&context.index_args)
        .env("PIP_ROOT_USER_ACTION", "ignore");
    let asked = match process::run(request, command, "pip index versions", "", "") {
        Ok(ran) => listed_versions(&format!("{}{}", ran.stdout, ran.stderr), true),
        Err(BuildError::Interrupted) => return BuildError::Interrupted,
        Err(BuildError::Failed { output, .. }) => listed_versions(&output, false),
        Err(_) => Err(()),
    };
    let (problem, help) = explain(&requirement, &name, context, asked);
    BuildError::Requirement {
        functions: context.functions.to_string(),
        file: context.file.to_string(),
        requirement,
        problem,
        help,
    }
}

/// What is wrong and what to do, given what the index listed.
pub fn explain(
    requirement: &str,
    name: &str,
    context: &Context<'_>,
    listed: Result<Option<Vec<String>>, ()>,
) -> (String, String) {
    let file = context.file;
    match listed {
        Ok(None) => (
            format!("no package named `{name}` exists on the package index"),
            format!(
                "check the name's spelling in {file}; for a private package, give its index with \
                 `--extra-index-url` in {file} or in custom.pythonRequirements.pipCmdExtraArgs"
            ),
        ),
        Ok(Some(versions))
            if pinned_version(requirement).is_some_and(|v| !versions.iter().any(|l| l == v)) =>
        {
            let newest: Vec<&str> = versions.iter().take(5).map(String::as_str).collect();
            (
                format!("`{name}` has no such version"),
                format!(
                    "pin a version it has in {file} (newest: {})",
                    newest.join(", ")
                ),
            )
        }
        listed => {
            let certain = listed.is_ok();
            match context.platform {
                Some(platform) => (
                    if certain {
                        format!("`{name}` publishes no wheel for Lambda's platform ({platform}), only source")
                    } else {
                        format!("no wheel for Lambda's platform ({platform}) matches it (or the package does not exist)")
                    },
                    format!(
                        "pick a version that publishes wheels for this platform; for a \
                         pure-Python package, build its wheel (`python3 -m pip wheel \
                         '{requirement}' --no-deps -w wheels`) and add `--find-links wheels` to \
                         {file}; a package with C code needs a manylinux wheel built in Lambda's \
                         build image"
                    ),
                ),
                None => (
                    "pip found no version of it that installs on this machine".to_string(),
                    format!("check the version constraint in {file} against the versions the index lists"),
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOT_FOUND: &str = "ERROR: Could not find a version that satisfies the requirement \
        updraft-no-such-package-xyz==1.0 (from versions: none)\n\
        ERROR: No matching distribution found for updraft-no-such-package-xyz==1.0\n";

    fn context() -> Context<'static> {
        Context {
            functions: "function `hello`",
            file: "requirements.txt",
            platform: Some("manylinux2014_x86_64, CPython 3.12"),
            python: std::path::Path::new("python3"),
            index_args: Vec::new(),
        }
    }

    #[test]
    fn the_requirement_pip_could_not_find_is_read_from_its_output() {
        assert_eq!(
            missing_requirement(NOT_FOUND).as_deref(),
            Some("updraft-no-such-package-xyz==1.0")
        );
        let only_first = "ERROR: Could not find a version that satisfies the requirement \
            docopt==0.6.2 (from versions: none)\n";
        assert_eq!(
            missing_requirement(only_first).as_deref(),
            Some("docopt==0.6.2")
        );
        assert_eq!(missing_requirement("ERROR: ResolutionImpossible"), None);
        assert!(pip_missing("/usr/bin/python3: No module named pip"));
    }

    #[test]
    fn the_index_listing_is_read() {
        let listing = "docopt (0.6.2)\nAvailable versions: 0.6.2, 0.6.1, 0.1\n";
        assert_eq!(
            listed_versions(listing, true),
            Ok(Some(vec!["0.6.2".into(), "0.6.1".into(), "0.1".into()]))
        );
        assert_eq!(
            listed_versions("ERROR: No matching distribution found for x", false),
            Ok(None)
        );
        assert_eq!(
            listed_versions("ERROR: unknown command \"index\"", false),
            Err(())
        );
    }

    #[test]
    fn each_cause_gets_its_own_explanation_naming_the_package() {
        let context = context();
        let (problem, help) = explain("nope==1.0", "nope", &context, Ok(None));
        assert!(problem.contains("no package named `nope`"), "{problem}");
        assert!(help.contains("requirements.txt"), "{help}");

        let versions = Ok(Some(vec!["2.0".to_string(), "1.5".to_string()]));
        let (problem, help) = explain("attrs==99.0", "attrs", &context, versions);
        assert!(problem.contains("no such version"), "{problem}");
        assert!(help.contains("2.0, 1.5"), "{help}");

        let versions = Ok(Some(vec!["0.6.2".to_string()]));
        let (problem, help) = explain("docopt==0.6.2", "docopt", &context, versions);
        assert!(problem.contains("publishes no wheel"), "{problem}");
        assert!(problem.contains("manylinux2014_x86_64"), "{problem}");
        assert!(help.contains("pip wheel 'docopt==0.6.2'"), "{help}");
    }

    #[test]
    fn pinned_versions_are_read() {
        assert_eq!(pinned_version("attrs==23.2.0"), Some("23.2.0"));
        assert_eq!(
            pinned_version("attrs==23.2.0 ; python_version > '3'"),
            Some("23.2.0")
        );
        assert_eq!(pinned_version("attrs>=23"), None);
        assert_eq!(pinned_version("attrs==23.*"), None);
    }
}
