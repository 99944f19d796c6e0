//! The `file` source: `${file(./config.yml)}`, `${file(./config.json):a.b}`, `${file(./x.txt)}`.
//!
//! Paths are relative to the service directory (parent directories allowed). YAML and JSON files
//! are parsed by the manifest's YAML loader after being added to the [`SourceMap`], so their
//! values keep real positions and their own variables resolve in the service's context.
//! JavaScript and TypeScript modules are evaluated by Node.js ([`super::javascript_file`]). Other
//! files are read as text, trailing newline kept. Each file is read once per resolution.

use std::path::{Component, Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use super::engine::{Engine, Stop};
use super::error::Failure;
use super::sources::{scalar_text, Call, Lookup};
use super::syntax::{self, Operand, Template};
use crate::manifest::node::{Node, Value};
use crate::manifest::source::{SourceFile, Span};
use crate::manifest::yaml;

/// A file as read for the `file` source.
#[derive(Debug, Clone)]
pub(crate) enum FileContent {
    /// No such file: the source finds nothing, so a fallback applies.
    Missing,
    /// Shared: every use of the file walks the same tree and copies only what it takes.
    Parsed(Rc<Node>),
    /// Reading or parsing failed; the failure to report for every use of the file.
    Failed(Box<Failure>),
}

impl Engine<'_, '_> {
    pub(crate) fn file_source(&mut self, call: &Call) -> Result<Lookup, Stop> {
        let Some(written) = call.params.and_then(|p| p.first()).filter(|p| !p.is_null()) else {
            return Err(self.fail(
                call.site,
                call.range,
                "Missing path argument in variable \"file\" source",
                Some("name the file in the parentheses: ${file(./config.yml)}".into()),
            ));
        };
        let Some(written) = scalar_text(written) else {
            let reason = format!(
                "Non-string path argument in variable \"file\" source: {}",
                written.to_json()
            );
            return Err(self.fail(call.site, call.range, reason, None));
        };
        let path = normalize(&self.context.service_dir.join(&written));
        let address = match call.address.filter(|a| !a.is_null()) {
            Some(address) => scalar_text(address).unwrap_or_default(),
            None => String::new(),
        };
        if super::javascript_file::is_javascript(&path) {
            return self.javascript_file(call, &path, &written, &address);
        }
        let content = match self.files.get(&path) {
            Some(content) => content.clone(),
            None => {
                let content = self.read(&path, &written, call);
                self.files.insert(path.clone(), content.clone());
                content
            }
        };
        let root = match content {
            FileContent::Missing => return Ok(self.missing_file(&written, None)),
            FileContent::Failed(mut failure) => {
                failure.property = call.site.property();
                failure.place = call.site.span;
                failure.label_span = call.label();
                failure.order = call.site.order;
                return Err(Stop::Failed(self.record(*failure)));
            }
            FileContent::Parsed(root) => root,
        };
        let keys: Vec<&str> = match address.is_empty() {
            true => Vec::new(),
            false => address.split('.').collect(),
        };
        // As the Framework does, a string met on the way with variables in it is resolved
        // first, and the walk goes on in its value.
        let mut base = root;
        let mut walked = 0;
        for _ in 0..=keys.len() {
            match walk(&base, &keys[walked..]) {
                Walk::Found(node) => {
                    self.spend(&node, call.site)?;
                    return Ok(Lookup::Found(node));
                }
                Walk::Missing => break,
                Walk::Resolve { consumed, template } => {
                    let operand = Operand::Template(template);
                    base = Rc::new(self.operand(&operand, call.site, call.range)?);
                    walked += consumed;
                }
            }
        }
        Ok(self.missing_file(&written, Some(&address)))
    }

    pub(crate) fn missing_file(&self, written: &str, address: Option<&str>) -> Lookup {
        let help = match address {
            None => format!(
                "{written} does not exist (paths are relative to the service directory): create \
                 it, or add a fallback: ${{file({written}), 'default'}}"
            ),
            Some(address) => format!(
                "{written} has nothing at `{address}` (or does not exist): add it, or add a \
                 fallback: ${{file({written}):{address}, 'default'}}"
            ),
        };
        Lookup::Missing {
            reason: None,
            help: Some(help),
        }
    }

    fn read(&mut self, path: &Path, written: &str, call: &Call) -> FileContent {
        let extension = path
            .extension()
            .map(|e| e.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        let display = self.display_name(path, written);
        let fail = |reason: String, help: Option<String>| {
            FileContent::Failed(Box::new(Failure {
                property: call.site.property(),
                place: call.site.span,
                label_span: call.label(),
                reason,
                syntax: false,
                help,
                snippet: None,
                order: call.site.order,
            }))
        };
        // Bounded as the manifest is: a device, a FIFO or a huge file is refused at once.
        let limit = crate::manifest::discover::MAX_MANIFEST_BYTES;
        let text = match crate::manifest::bounded::read(path, limit) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => text,
                Err(_) => {
                    return fail(
                        format!("Cannot parse \"{display}\": the file is not UTF-8 text"),
                        None,
                    )
                }
            },
            Err(crate::manifest::bounded::BoundedReadError::NotFound) => {
                return FileContent::Missing
            }
            Err(error) => {
                return fail(
                    format!("Cannot read \"{display}\": {error}"),
                    Some(
                        "point `${file(...)}` at a regular YAML, JSON or text file of at most \
                         16 MiB"
                            .into(),
                    ),
                )
            }
        };
        let existing = self.sources.find(path);
        let id = match existing {
            Some(id) => id,
            None => self.sources.add(SourceFile::new(
                path.to_path_buf(),
                display.clone(),
                Arc::<str>::from(text.as_str()),
            )),
        };
        if !matches!(extension.as_str(), "yml" | "yaml" | "json" | "tfstate") {
            let span = Span::new(id, 0, text.len());
            return FileContent::Parsed(Rc::new(Node::string(text, span)));
        }
        match yaml::parse(self.sources, id, &yaml::Limits::default()) {
            Ok(node) => FileContent::Parsed(Rc::new(node)),
            Err(error) => FileContent::Failed(Box::new(Failure {
                property: call.site.property(),
                place: call.site.span,
                label_span: call.label(),
                reason: format!("Cannot parse \"{display}\": {}", error.message),
                syntax: false,
                help: error.help.clone(),
                snippet: Some((error.source_code.clone(), error.at, "here".into())),
                order: call.site.order,
            })),
        }
    }

    /// The name users see: relative to the service directory where the file is inside it.
    pub(crate) fn display_name(&self, path: &Path, written: &str) -> String {
        let service_dir = normalize(&self.context.service_dir);
        match path.strip_prefix(&service_dir) {
            Ok(relative) => relative.to_string_lossy().into_owned(),
            Err(_) => written.to_string(),
        }
    }
}

enum Walk {
    Found(Node),
    Missing,
    /// After `consumed` keys, a string with variables must be resolved to go on.
    Resolve {
        consumed: usize,
        template: Template,
    },
}

/// Follows `keys` from `base`; a null or absent value is missing.
fn walk(base: &Node, keys: &[&str]) -> Walk {
    let mut node = base;
    for (index, key) in keys.iter().enumerate() {
        if let Value::String(text) = &node.value {
            if let Ok(Some(template)) = syntax::parse(text) {
                return Walk::Resolve {
                    consumed: index,
                    template,
                };
            }
        }
        let next = match &node.value {
            Value::Map(map) => map.get(key),
            Value::Seq(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        };
        match next {
            Some(next) if !next.is_null() => node = next,
            _ => return Walk::Missing,
        }
    }
    Walk::Found(node.clone())
}

/// `a/./b/../c` as `a/c`, without touching the file system (as Node's `path.resolve`).
fn normalize(path: &Path) -> PathBuf {
    let mut result = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !result.pop() {
                    result.push("..");
                }
            }
            other => result.push(other.as_os_str()),
        }
    }
    result
}
