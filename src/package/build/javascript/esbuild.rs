//! Bundles with the service's own esbuild, one command-line run per function, each into its own
//! folder (`.serverless/build/esbuild/<function>/`; `esbuild-local/` for `invoke local` and
//! `offline`, which always get source maps): an individually packaged function holds only its
//! bundle, a shared artifact the union of its functions' bundles.
//!
//! esbuild runs in the service directory, so the paths it writes into bundles and source maps
//! are relative (the same service gives the same bytes wherever it sits), and it reports the
//! files it read in a metafile, which the [`stamp`](super::stamp) checks next time to skip an
//! unchanged function. The runs go in parallel, one per core.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::super::{
    process, tree_of, BuildError, BuildRequest, BuildWarning, FunctionBuild, Purpose,
};
use super::entry::Entry;
use super::options::{EsbuildOptions, Exclude, Format, SourceMap};
use super::{externals, place_files, stamp};
use crate::package::walk::FileEntry;

pub const INSTALL: &str = "npm install --save-dev esbuild";

/// What every function's bundle shares.
pub struct Bundler<'a> {
    pub request: &'a BuildRequest<'a>,
    pub options: &'a EsbuildOptions,
    /// The installed esbuild.
    pub program: PathBuf,
}

/// One function to bundle.
pub struct Job {
    pub function: String,
    pub runtime: String,
    pub entry: Entry,
    /// Service files kept beside the bundle (copied in for local runs; an artifact takes them
    /// from the service).
    pub alongside: Vec<FileEntry>,
}

/// A metafile's list of the files esbuild read.
#[derive(serde::Deserialize)]
struct Metafile {
    #[serde(default)]
    inputs: serde_json::Map<String, serde_json::Value>,
}

const METAFILE: &str = ".updraft-metafile.json";

/// One function's bundle and what esbuild warned about, or why it failed.
type Bundled = Result<(FunctionBuild, Option<BuildWarning>), BuildError>;

impl Bundler<'_> {
    /// Absolute, since esbuild runs in the service directory and the output folder may have
    /// been given relative to another (`--package`).
    fn folder(&self) -> PathBuf {
        let folder = self.request.build_dir(match self.request.purpose {
            Purpose::Lambda => "esbuild",
            Purpose::Local => "esbuild-local",
        });
        std::path::absolute(&folder).unwrap_or(folder)
    }

    /// Local runs always get a source map Node can find (the `sourceMappingURL` comment), for
    /// stack traces that name the TypeScript lines.
    fn sourcemap(&self) -> Option<SourceMap> {
        match (self.request.purpose, self.options.sourcemap) {
            (Purpose::Local, None | Some(SourceMap::External)) => Some(SourceMap::Linked),
            (_, chosen) => chosen,
        }
    }

    /// Bundles every job, in parallel; the first failure in manifest order is returned after
    /// every run has ended (none is left writing).
    pub fn build_all(
        &self,
        jobs: Vec<Job>,
        warnings: &mut Vec<BuildWarning>,
    ) -> Result<Vec<(String, FunctionBuild)>, BuildError> {
        let folder = self.folder();
        std::fs::create_dir_all(&folder).map_err(|error| BuildError::Write {
            path: folder.clone(),
            reason: error.to_string(),
        })?;
        remove_abandoned(&folder);
        let module_type = self.module_type();
        // The externals' files depend only on the exclusions, which depend on the runtime.
        let mut external_files: HashMap<Vec<String>, Vec<FileEntry>> = HashMap::new();
        if self.request.purpose == Purpose::Lambda && self.options.bundle {
            for job in &jobs {
                let excluded = self.options.excluded(&job.runtime);
                if let std::collections::hash_map::Entry::Vacant(slot) =
                    external_files.entry(excluded)
                {
                    let files = externals::files(
                        self.request.service_dir,
                        &self.options.external,
                        slot.key(),
                        warnings,
                    )?;
                    slot.insert(files);
                }
            }
        }
        let next = AtomicUsize::new(0);
        let results: Mutex<Vec<Option<Bundled>>> =
            Mutex::new((0..jobs.len()).map(|_| None).collect());
        let workers = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(jobs.len())
            .max(1);
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(index) else { break };
                    let result = if self.request.is_interrupted() {
                        Err(BuildError::Interrupted)
                    } else {
                        self.build_one(job, &folder, module_type)
                    };
                    if let Some(slot) = results
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .get_mut(index)
                    {
                        *slot = Some(result);
                    }
                });
            }
        });
        let results = results.into_inner().unwrap_or_else(|p| p.into_inner());
        let mut built = Vec::new();
        for (job, result) in jobs.iter().zip(results) {
            let (mut build, warning) = result.unwrap_or(Err(BuildError::Interrupted))?;
            warnings.extend(warning);
            if let (Some(code), Some(files)) = (
                build.code.as_mut(),
                external_files.get(&self.options.excluded(&job.runtime)),
            ) {
                code.files.extend(files.iter().cloned());
                code.files.sort_by(|a, b| a.relative.cmp(&b.relative));
            }
            built.push((job.function.clone(), build));
        }
        Ok(built)
    }

    /// The `package.json` a bundle needs so Node reads `.js` as the module type it was
    /// bundled in, when the service's own `package.json` would say otherwise (or, on Lambda,
    /// when there is none to say `module`).
    fn module_type(&self) -> Option<&'static str> {
        if self.options.extension() != ".js" {
            return None;
        }
        match self.options.format {
            Format::Module => Some("module"),
            Format::CommonJs => {
                let text = std::fs::read_to_string(self.request.service_dir.join("package.json"));
                let declared = text
                    .ok()
                    .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                    .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_string));
                (declared.as_deref() == Some("module")).then_some("commonjs")
            }
        }
    }

    fn build_one(
        &self,
        job: &Job,
        folder: &Path,
        module_type: Option<&str>,
    ) -> Result<(FunctionBuild, Option<BuildWarning>), BuildError> {
        let service_dir = self.request.service_dir;
        let output = folder.join(folder_name(&job.function));
        let mut key = stamp::Key::new("esbuild-1");
        key.program(&self.program)
            .text(&self.arguments(job, "<out>", "<meta>").join("\0"))
            .text(module_type.unwrap_or(""))
            .file(&service_dir.join("package.json"))
            .file(&service_dir.join(self.options.tsconfig.as_deref().unwrap_or("tsconfig.json")));
        for file in &job.alongside {
            key.text(&file.relative);
        }
        let key = key.finish();
        if stamp::is_fresh(&output, &key, service_dir) {
            return Ok((self.function_build(&output)?, None));
        }
        let staging = process::staging(&output)?;
        let result = self.run(job, &staging, module_type);
        let (inputs, warning) = match result {
            Ok(done) => done,
            Err(error) => {
                let _ = std::fs::remove_dir_all(&staging);
                return Err(error);
            }
        };
        stamp::remove(&output);
        if let Err(error) = process::publish(&staging, &output) {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(error);
        }
        let mut inputs = inputs;
        inputs.extend(job.alongside.iter().map(|f| f.relative.clone()));
        stamp::write(&output, key, service_dir, inputs);
        Ok((self.function_build(&output)?, warning))
    }

    fn function_build(&self, output: &Path) -> Result<FunctionBuild, BuildError> {
        Ok(FunctionBuild {
            code: Some(tree_of(output)?),
            ..FunctionBuild::default()
        })
    }

    /// Runs esbuild into `staging`; returns the files it read and what it warned about.
    fn run(
        &self,
        job: &Job,
        staging: &Path,
        module_type: Option<&str>,
    ) -> Result<(Vec<String>, Option<BuildWarning>), BuildError> {
        let outfile = staging.join(job.entry.output(self.options.extension()));
        let metafile = staging.join(METAFILE);
        let mut command = Command::new(&self.program);
        command
            .current_dir(self.request.service_dir)
            .args(self.arguments(job, &outfile.to_string_lossy(), &metafile.to_string_lossy()));
        let ran = process::run(
            self.request,
            command,
            &format!(
                "esbuild for function `{}` ({})",
                job.function, job.entry.source
            ),
            "fix the error esbuild points at above (file:line:column), then run the command again",
            INSTALL,
        )?;
        let inputs = read_metafile(&metafile)?;
        let _ = std::fs::remove_file(&metafile);
        if let Some(module_type) = module_type {
            let marker = staging.join("package.json");
            std::fs::write(&marker, format!("{{\"type\":\"{module_type}\"}}\n")).map_err(
                |error| BuildError::Write {
                    path: marker.clone(),
                    reason: error.to_string(),
                },
            )?;
        }
        place_files(&job.alongside, staging)?;
        let printed = format!("{}{}", ran.stdout, ran.stderr);
        let warning = (!printed.trim().is_empty()).then(|| BuildWarning {
            message: format!(
                "esbuild warned while bundling function `{}`:\n{}",
                job.function,
                printed.trim_end()
            ),
            help: "the bundle was built; check the lines esbuild names".into(),
        });
        Ok((inputs, warning))
    }

    /// esbuild's command line for one function (also the stamp's key, with placeholders for
    /// the temporary paths).
    fn arguments(&self, job: &Job, outfile: &str, metafile: &str) -> Vec<String> {
        let options = self.options;
        let mut arguments = vec![
            job.entry.source.clone(),
            format!("--outfile={outfile}"),
            format!("--metafile={metafile}"),
            format!("--platform={}", options.platform),
            format!(
                "--format={}",
                match options.format {
                    Format::CommonJs => "cjs",
                    Format::Module => "esm",
                }
            ),
            format!("--target={}", options.targets(&job.runtime).join(",")),
            "--log-level=warning".into(),
            "--color=false".into(),
        ];
        if options.bundle {
            arguments.push("--bundle".into());
            if options.exclude == Exclude::All {
                arguments.push("--packages=external".into());
            }
            for external in options
                .external
                .iter()
                .chain(&options.excluded(&job.runtime))
            {
                arguments.push(format!("--external:{external}"));
            }
        }
        let switches = [
            (options.minify, "--minify"),
            (options.keep_names, "--keep-names"),
        ];
        arguments.extend(
            switches
                .iter()
                .filter(|(on, _)| *on)
                .map(|(_, flag)| flag.to_string()),
        );
        if let Some(sourcemap) = self.sourcemap() {
            arguments.push(sourcemap.flag().into());
        }
        let pairs = [
            ("--define:", &options.define),
            ("--loader:", &options.loader),
            ("--banner:", &options.banner),
            ("--footer:", &options.footer),
        ];
        for (flag, values) in pairs {
            arguments.extend(values.iter().map(|(k, v)| format!("{flag}{k}={v}")));
        }
        let lists = [
            ("--main-fields=", &options.main_fields),
            ("--conditions=", &options.conditions),
            ("--resolve-extensions=", &options.resolve_extensions),
        ];
        for (flag, values) in lists {
            if !values.is_empty() {
                arguments.push(format!("{flag}{}", values.join(",")));
            }
        }
        arguments.extend(options.inject.iter().map(|path| format!("--inject:{path}")));
        let settings = [
            ("--tsconfig=", options.tsconfig.clone()),
            (
                "--tree-shaking=",
                options.tree_shaking.map(|on| on.to_string()),
            ),
            ("--legal-comments=", options.legal_comments.clone()),
            ("--charset=", options.charset.clone()),
        ];
        for (flag, value) in settings {
            if let Some(value) = value {
                arguments.push(format!("{flag}{value}"));
            }
        }
        arguments
    }
}

/// The files esbuild read, relative to the service directory: what decides whether the
/// bundle is still up to date.
fn read_metafile(path: &Path) -> Result<Vec<String>, BuildError> {
    let text = std::fs::read_to_string(path).map_err(|error| BuildError::Read {
        path: path.to_path_buf(),
        reason: error.to_string(),
    })?;
    let metafile: Metafile = serde_json::from_str(&text).map_err(|error| BuildError::Read {
        path: path.to_path_buf(),
        reason: error.to_string(),
    })?;
    // Inputs in a plugin's namespace (`<define:...>`, `(disabled):...`) are no files.
    Ok(metafile
        .inputs
        .keys()
        .filter(|input| !input.starts_with('<') && !input.contains(':'))
        .cloned()
        .collect())
}

/// A function key as a folder name: keys are usually plain already; anything else gets a
/// readable, collision-free form.
pub fn folder_name(function: &str) -> String {
    let plain = !function.is_empty()
        && !function.starts_with('.')
        && function
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if plain {
        return function.to_string();
    }
    let readable: String = function
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let digest = <sha2::Sha256 as sha2::Digest>::digest(function.as_bytes());
    format!("{readable}-{}", hex::encode(&digest[..4]))
}

/// Temporary build folders of a run that was killed outright (a finished or failed run
/// removes its own): gone after an hour, so a run in progress keeps its own.
fn remove_abandoned(folder: &Path) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    let hour = std::time::Duration::from_secs(3600);
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|modified| modified.elapsed().ok())
            .is_some_and(|age| age > hour);
        if name.starts_with('.') && name.contains(".partial-") && old {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_keys_become_safe_distinct_folder_names() {
        assert_eq!(folder_name("hello"), "hello");
        assert_eq!(folder_name("get-user_v2"), "get-user_v2");
        let odd = folder_name("../escape");
        assert!(!odd.contains('/') && !odd.starts_with('.'), "{odd}");
        assert_ne!(folder_name("a/b"), folder_name("a_b"));
    }
}
