//! Python requirements, the job of serverless-python-requirements: a Python function's
//! requirements installed with pip, for its Lambda platform (wheels for its architecture and
//! Python version, whatever machine packages it) or, run locally, for this machine. The
//! installed tree goes at the root of the function's artifact, or on `PYTHONPATH` locally.
//!
//! It happens when the service lists the plugin in `plugins:` or has `custom.pythonRequirements`
//! (as with the Framework, where nothing is installed unless the plugin is listed), and has a
//! requirements input ([`inputs`]). Settings: [`options`]; the install and its cache:
//! [`install`], with lock files exported by [`exports`]; `noDeploy`: [`no_deploy`]; `slim`:
//! [`slim`]; pip's failures explained: [`diagnose`].

mod diagnose;
mod exports;
mod inputs;
mod install;
mod no_deploy;
pub mod options;
mod slim;

use indexmap::IndexMap;

use super::{BuildRequest, BuildWarning, FunctionBuild, Purpose};
use crate::manifest::model::{Cloud, Function};
use crate::package::build::BuildError;
use install::Target;

/// The plugin whose job this is.
pub const PLUGIN: &str = "serverless-python-requirements";

pub fn build(
    request: &BuildRequest<'_>,
    warnings: &mut Vec<BuildWarning>,
) -> Result<Vec<(String, FunctionBuild)>, BuildError> {
    let service = request.service;
    let configured = service
        .custom
        .as_ref()
        .and_then(|c| c.get("pythonRequirements"));
    let listed = service.plugins.iter().any(|p| p == PLUGIN);
    if !listed && configured.is_none() {
        return Ok(Vec::new());
    }
    let functions: Vec<&Function> = request
        .functions()
        .filter(|f| {
            f.runtime
                .as_deref()
                .is_some_and(|r| r.starts_with("python"))
        })
        .filter(|f| request.purpose == Purpose::Local || !uses_prebuilt_artifact(request, f))
        .collect();
    if functions.is_empty() {
        return Ok(Vec::new());
    }
    let options = options::read(service.custom.as_ref(), warnings)?;
    for function in &functions {
        refuse_module(function)?;
    }
    let Some(input) = inputs::find(request.service_dir, &options)? else {
        return Ok(Vec::new());
    };
    if request.purpose == Purpose::Lambda && service.provider.cloud != Cloud::Aws {
        warnings.push(not_for_this_cloud(service.provider.cloud, &input.label));
        return Ok(Vec::new());
    }

    // Functions with the same target share one install.
    let mut groups: IndexMap<String, (Target, Vec<String>)> = IndexMap::new();
    for function in &functions {
        let target = match request.purpose {
            Purpose::Lambda => Target::Lambda {
                python_version: python_version(function)?,
                architecture: function.architecture,
            },
            Purpose::Local => Target::Local,
        };
        let group = groups
            .entry(format!("{target:?}"))
            .or_insert_with(|| (target, Vec::new()));
        group.1.push(function.key.clone());
    }
    // Functions installed for different platforms cannot share an artifact: each gets its own.
    let individually = groups.len() > 1;
    let mut builds = Vec::new();
    for (target, keys) in groups.into_values() {
        if request.is_interrupted() {
            return Err(BuildError::Interrupted);
        }
        let Some(tree) = install::installed(request, &input, &options, &target, &keys)? else {
            continue;
        };
        for key in keys {
            builds.push((
                key,
                FunctionBuild {
                    extra: vec![tree.clone()],
                    code: None,
                    individually,
                },
            ));
        }
    }
    Ok(builds)
}

/// Requirements are installed into Lambda artifacts only: Google Cloud Functions installs
/// requirements.txt itself, and Azure Functions reads packages from a folder of the service.
fn not_for_this_cloud(cloud: Cloud, label: &str) -> BuildWarning {
    match cloud {
        Cloud::Google => BuildWarning {
            message: format!(
                "the Python requirements in {label} are not installed into the artifacts: Google \
                 Cloud Functions installs requirements.txt when it builds the function"
            ),
            help: "keep requirements.txt in the service directory, where it is packaged; remove \
                   the plugin or custom.pythonRequirements to silence this"
                .into(),
        },
        _ => BuildWarning {
            message: format!(
                "the Python requirements in {label} are not installed into the artifacts: updraft \
                 installs them for Lambda only"
            ),
            help: "install them where Azure Functions' Python looks, in the service directory: \
                   `pip install -r requirements.txt --target .python_packages/lib/site-packages`"
                .into(),
        },
    }
}

/// A function packaged from its own `package.artifact`, or the service's (unless it is packaged
/// individually), gets nothing built: the artifact is deployed as given.
fn uses_prebuilt_artifact(request: &BuildRequest<'_>, function: &Function) -> bool {
    let service = &request.service.package;
    function.package.artifact.is_some()
        || (service.artifact.is_some() && !service.individually && !function.package.individually)
}

/// The plugin's per-function `module` (a folder with its own requirements.txt, which becomes
/// the artifact's root) changes what the artifact holds: refused rather than ignored.
fn refuse_module(function: &Function) -> Result<(), BuildError> {
    let module = function.raw.get("module").and_then(|m| m.as_str());
    match module {
        Some(folder) if !matches!(folder.trim_end_matches('/'), "" | ".") => {
            Err(BuildError::Setting {
                place: format!("functions.{}.module", function.key),
                reason: "per-function requirements (`module`) are not supported".into(),
                help: format!(
                    "put the requirements of every function in the service's requirements.txt and \
                 write the handler with its folder (`{folder}/handler.main`), or make `{folder}` \
                 a service of its own"
                ),
            })
        }
        _ => Ok(()),
    }
}

/// The Python version of a Lambda runtime: `python3.12` (and Google's `python312`) is `3.12`.
pub fn python_version(function: &Function) -> Result<String, BuildError> {
    let runtime = function.runtime.as_deref().unwrap_or_default();
    runtime_python_version(runtime).ok_or_else(|| BuildError::Setting {
        place: format!("functions.{}.runtime", function.key),
        reason: format!("cannot tell which Python version `{runtime}` is"),
        help: "use a Lambda runtime name with its version, such as `python3.12`".into(),
    })
}

fn runtime_python_version(runtime: &str) -> Option<String> {
    let digits = runtime.strip_prefix("python")?;
    let (major, minor) = match digits.split_once('.') {
        Some((major, minor)) => (major, minor),
        None if digits.len() >= 2 => digits.split_at(1),
        None => return None,
    };
    let numeric = |part: &str| !part.is_empty() && part.chars().all(|c| c.is_ascii_digit());
    (numeric(major) && numeric(minor)).then(|| format!("{major}.{minor}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_names_give_the_python_version() {
        assert_eq!(
            runtime_python_version("python3.12").as_deref(),
            Some("3.12")
        );
        assert_eq!(runtime_python_version("python3.9").as_deref(), Some("3.9"));
        assert_eq!(runtime_python_version("python312").as_deref(), Some("3.12"));
        assert_eq!(runtime_python_version("python3"), None);
        assert_eq!(runtime_python_version("python3.x"), None);
        assert_eq!(runtime_python_version("nodejs20.x"), None);
    }
}
