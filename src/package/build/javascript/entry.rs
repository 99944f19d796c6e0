//! From a handler string to the source file a bundle starts from, and the name the bundle is
//! written under so that the handler string stays valid: `src/h.handler` is function `handler`
//! of module `src/h`, found as `src/h.ts` (then `.tsx`, `.mts`, `.cts`, `.js`, `.mjs`, `.cjs`)
//! and bundled into `src/h.js`.

use std::path::Path;

/// Source extensions, in the order a module name is tried with them.
pub const SOURCE_EXTENSIONS: &[&str] = &[".ts", ".tsx", ".mts", ".cts", ".js", ".mjs", ".cjs"];

const TYPESCRIPT_EXTENSIONS: &[&str] = &[".ts", ".tsx", ".mts", ".cts"];

/// What Lambda's Node.js runtime loads directly.
const JAVASCRIPT_EXTENSIONS: &[&str] = &[".js", ".mjs", ".cjs"];

/// A function's entry point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The module name: `src/h`.
    pub module: String,
    /// The source file, relative to the service: `src/h.ts`.
    pub source: String,
}

impl Entry {
    pub fn is_typescript(&self) -> bool {
        TYPESCRIPT_EXTENSIONS
            .iter()
            .any(|extension| self.source.ends_with(extension))
    }

    /// The bundle's name: the module name with `extension`, so the handler still finds it.
    pub fn output(&self, extension: &str) -> String {
        format!("{}{extension}", self.module)
    }
}

/// Why a handler has no entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoEntry {
    /// Not `module.function`, or a module name that leaves the service folder.
    Malformed,
    /// No file with any of the source extensions.
    NotFound { tried: Vec<String> },
}

/// The module of a handler: `src/h.handler` is `src/h`; the module name ends at the first dot
/// after the last slash, as Lambda's runtime reads it (`src/h.default.handler` is `src/h` too).
pub fn module_of(handler: &str) -> Option<&str> {
    let start = handler.rfind('/').map_or(0, |slash| slash + 1);
    let dot = handler[start..].find('.')? + start;
    let module = &handler[..dot];
    let inside = !module.is_empty()
        && !module.starts_with('/')
        && !module.contains('\\')
        && module
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..");
    inside.then_some(module)
}

/// The first source file the handler's module names.
pub fn resolve(service_dir: &Path, handler: &str) -> Result<Entry, NoEntry> {
    let module = module_of(handler).ok_or(NoEntry::Malformed)?;
    let tried: Vec<String> = SOURCE_EXTENSIONS
        .iter()
        .map(|extension| format!("{module}{extension}"))
        .collect();
    match tried
        .iter()
        .find(|candidate| service_dir.join(candidate).is_file())
    {
        Some(source) => Ok(Entry {
            module: module.to_string(),
            source: source.clone(),
        }),
        None => Err(NoEntry::NotFound { tried }),
    }
}

/// Whether a handler can run only once built: its module is a TypeScript file, with no
/// JavaScript file of the same name that Lambda would load instead.
pub fn only_typescript(service_dir: &Path, handler: &str) -> Option<Entry> {
    let entry = resolve(service_dir, handler).ok()?;
    let has_javascript = JAVASCRIPT_EXTENSIONS
        .iter()
        .any(|extension| service_dir.join(entry.output(extension)).is_file());
    (entry.is_typescript() && !has_javascript).then_some(entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        for file in files {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap_or(dir.path()))
                .unwrap_or_else(|e| panic!("{e}"));
            std::fs::write(path, "").unwrap_or_else(|e| panic!("{e}"));
        }
        dir
    }

    #[test]
    fn the_module_ends_at_the_first_dot_after_the_last_slash() {
        assert_eq!(module_of("src/h.handler"), Some("src/h"));
        assert_eq!(module_of("handler.hello"), Some("handler"));
        assert_eq!(module_of("src/v1.2/h.default.handler"), Some("src/v1.2/h"));
        assert_eq!(module_of("handler"), None);
        assert_eq!(module_of(".handler"), None);
        assert_eq!(module_of("../outside/h.handler"), None);
        assert_eq!(module_of("/abs/h.handler"), None);
        assert_eq!(module_of("src//h.handler"), None);
    }

    #[test]
    fn typescript_is_found_before_javascript_in_the_documented_order() {
        let dir = service(&[
            "src/h.ts",
            "src/h.js",
            "src/t.tsx",
            "src/m.mts",
            "src/c.cjs",
        ]);
        let found = |handler: &str| resolve(dir.path(), handler).map(|e| e.source);
        assert_eq!(found("src/h.handler"), Ok("src/h.ts".to_string()));
        assert_eq!(found("src/t.handler"), Ok("src/t.tsx".to_string()));
        assert_eq!(found("src/m.handler"), Ok("src/m.mts".to_string()));
        assert_eq!(found("src/c.handler"), Ok("src/c.cjs".to_string()));
        assert_eq!(
            resolve(dir.path(), "src/none.handler"),
            Err(NoEntry::NotFound {
                tried: SOURCE_EXTENSIONS
                    .iter()
                    .map(|e| format!("src/none{e}"))
                    .collect()
            })
        );
    }

    #[test]
    fn the_bundle_keeps_the_module_name_so_the_handler_stays_valid() {
        let entry = Entry {
            module: "src/h".into(),
            source: "src/h.ts".into(),
        };
        assert_eq!(entry.output(".js"), "src/h.js");
        assert_eq!(entry.output(".mjs"), "src/h.mjs");
    }

    #[test]
    fn only_a_typescript_handler_without_javascript_beside_it_needs_a_build() {
        let dir = service(&["a.ts", "b.ts", "b.js", "c.js"]);
        assert!(only_typescript(dir.path(), "a.handler").is_some());
        assert!(only_typescript(dir.path(), "b.handler").is_none());
        assert!(only_typescript(dir.path(), "c.handler").is_none());
        assert!(only_typescript(dir.path(), "missing.handler").is_none());
    }
}
