//! The resolution engine: finds every string value with variables (a "property"), resolves each
//! one, and writes the result into the tree, as the Framework's resolver does:
//!
//! - a property that reads another (`${self:...}`) waits for it, and for every property below it
//!   when the target is a map or list, so copies are fully resolved;
//! - a resolved value is read again for variables: a string up to 10 times in a row ("Excessive
//!   property variables nest depth"), a map or list by registering its variable strings as new
//!   properties one level deeper;
//! - a property that needs itself, directly or through others, is a cycle, reported with the
//!   chain of properties and their places.
//!
//! Properties are resolved in document order by an explicit work stack rather than recursion:
//! a property that needs an unresolved one is set aside, the other one resolved, and the first
//! tried again. A stack entry can only wait for a property not already on the stack (that would
//! be a cycle), so the stack never holds more entries than there are properties.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Bound;
use std::path::PathBuf;

use serde_json::Value as Json;

use super::error::Failure;
use super::file::FileContent;
use super::javascript::Runner;
use super::javascript_file::Evaluated;
use super::syntax::{self, Template};
use super::{CloudReference, Context};
use crate::manifest::node::{Node, Value};
use crate::manifest::source::{SourceMap, Span};

/// How many times in a row a resolved value may turn out to hold variables again.
pub(crate) const MAX_NEST_DEPTH: u32 = 10;
/// How many values copies made by variables may add to the configuration, so that properties
/// copying each other twice over cannot grow it exponentially.
const MAX_COPIED_VALUES: usize = 2_000_000;
/// How deep copies may nest values in the configuration (the YAML loader allows about 100
/// levels); deeper trees would exhaust the stack of everything that walks them.
const MAX_TREE_DEPTH: usize = 512;
/// The longest string interpolation may build.
pub(crate) const MAX_STRING_BYTES: usize = 16 * 1024 * 1024;

/// A property path: map keys and list indexes.
pub(crate) type Path = Vec<String>;

/// Why an evaluation stopped before producing a value.
#[derive(Debug)]
pub(crate) enum Stop {
    /// This property must be resolved first.
    Needs(Path),
    /// Resolution failed with this recorded failure (possibly a dependency's).
    Failed(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Pending,
    Failed(usize),
}

#[derive(Debug)]
struct Property {
    order: usize,
    span: Span,
    template: Template,
    /// Byte offset in the source file where the template's text starts, when the text is
    /// exactly as written there (so a failure can underline the variable itself).
    text_offset: Option<u32>,
    depth: u32,
    state: State,
}

/// Where an evaluation happens, for messages.
#[derive(Debug, Clone)]
pub(crate) struct Site {
    pub path: Path,
    pub span: Span,
    pub text_offset: Option<u32>,
    pub order: usize,
}

impl Site {
    /// The span of `range` of the template text, or the whole value when it cannot be told.
    pub fn label(&self, range: Option<(usize, usize)>) -> Span {
        match (self.text_offset, range) {
            (Some(offset), Some((start, end))) => Span::new(
                self.span.file,
                offset as usize + start,
                offset as usize + end,
            ),
            _ => self.span,
        }
    }

    pub fn property(&self) -> String {
        self.path.join(".")
    }
}

pub(crate) struct Engine<'a, 'c> {
    pub root: &'a mut Node,
    pub sources: &'a mut SourceMap,
    pub context: &'a Context<'c>,
    registry: BTreeMap<Path, Property>,
    next_order: usize,
    /// Properties in the order they are to be resolved; grows as resolved values add some.
    queue: Vec<Path>,
    pub failures: Vec<Failure>,
    pub secrets: Vec<String>,
    pub files: HashMap<PathBuf, FileContent>,
    pub cloud_answers: HashMap<CloudReference, Result<Option<Json>, String>>,
    /// Node.js for `${file(x.js)}`, started at the first use.
    pub javascript: Option<Runner>,
    /// Each JavaScript file and address evaluated so far.
    pub javascript_results: HashMap<(PathBuf, String), Evaluated>,
    copy_budget: usize,
}

impl<'a, 'c> Engine<'a, 'c> {
    pub fn new(root: &'a mut Node, sources: &'a mut SourceMap, context: &'a Context<'c>) -> Self {
        Engine {
            root,
            sources,
            context,
            registry: BTreeMap::new(),
            next_order: 0,
            queue: Vec::new(),
            failures: Vec::new(),
            secrets: Vec::new(),
            files: HashMap::new(),
            cloud_answers: HashMap::new(),
            javascript: None,
            javascript_results: HashMap::new(),
            copy_budget: MAX_COPIED_VALUES,
        }
    }

    /// Registers every string value of the tree that holds variables. Keys are never read.
    pub fn register_tree(&mut self) {
        let mut found = Vec::new();
        collect_strings(self.root, &[], &mut found);
        for (path, span, text) in found {
            self.register(path, span, &text, 0);
        }
    }

    /// The templates of the properties still to resolve.
    pub(crate) fn pending_templates(&self) -> impl Iterator<Item = &Template> {
        self.registry
            .values()
            .filter(|p| p.state == State::Pending)
            .map(|p| &p.template)
    }

    fn register(&mut self, path: Path, span: Span, text: &str, depth: u32) {
        let order = self.next_order;
        self.next_order += 1;
        let parsed = syntax::parse(text);
        let (template, state) = match parsed {
            Ok(None) => return,
            Ok(Some(template)) => (template, State::Pending),
            Err(error) => {
                let id = self.record(Failure {
                    property: path.join("."),
                    place: span,
                    label_span: span,
                    help: Some(syntax_error_help(text, &error.message)),
                    reason: error.message,
                    syntax: true,
                    snippet: None,
                    order,
                });
                let template = Template {
                    text: text.to_string(),
                    parts: Vec::new(),
                    whole: false,
                };
                (template, State::Failed(id))
            }
        };
        let text_offset = self.text_offset(span, text);
        self.registry.insert(
            path.clone(),
            Property {
                order,
                span,
                template,
                text_offset,
                depth,
                state,
            },
        );
        self.queue.push(path);
    }

    /// Where `text` starts in the source, if the node's span holds exactly it (plain or quoted).
    fn text_offset(&self, span: Span, text: &str) -> Option<u32> {
        let file = self.sources.file(span.file);
        let written = file.text.get(span.start as usize..span.end as usize)?;
        if written == text {
            return Some(span.start);
        }
        let inner = written.get(1..written.len().checked_sub(1)?)?;
        let quoted = (written.starts_with('\'') && written.ends_with('\''))
            || (written.starts_with('"') && written.ends_with('"'));
        (quoted && inner == text).then_some(span.start + 1)
    }

    pub(crate) fn record(&mut self, failure: Failure) -> usize {
        self.failures.push(failure);
        self.failures.len() - 1
    }

    /// Records a failure of the property at `site` and stops its evaluation.
    pub(crate) fn fail(
        &mut self,
        site: &Site,
        range: Option<(usize, usize)>,
        reason: impl Into<String>,
        help: Option<String>,
    ) -> Stop {
        Stop::Failed(self.record(Failure {
            property: site.property(),
            place: site.span,
            label_span: site.label(range),
            reason: reason.into(),
            syntax: false,
            help,
            snippet: None,
            order: site.order,
        }))
    }

    /// Resolves every registered property.
    pub fn run(&mut self) {
        let mut next = 0;
        while let Some(start) = self.queue.get(next).cloned() {
            next += 1;
            let mut on_stack: HashSet<Path> = HashSet::from([start.clone()]);
            let mut stack = vec![start];
            while let Some(top) = stack.last().cloned() {
                if !self.is_pending(&top) {
                    on_stack.remove(&top);
                    stack.pop();
                    continue;
                }
                match self.attempt(&top) {
                    Ok(()) => {}
                    Err(Stop::Failed(id)) => self.set_failed(&top, id),
                    Err(Stop::Needs(dependency)) => {
                        if on_stack.contains(&dependency) {
                            let position = stack.iter().position(|p| *p == dependency);
                            let id = self.cycle(&stack[position.unwrap_or(0)..]);
                            self.set_failed(&top, id);
                        } else {
                            on_stack.insert(dependency.clone());
                            stack.push(dependency);
                        }
                        continue;
                    }
                }
                on_stack.remove(&top);
                stack.pop();
            }
        }
    }

    fn is_pending(&self, path: &[String]) -> bool {
        self.registry
            .get(path)
            .is_some_and(|p| p.state == State::Pending)
    }

    fn set_failed(&mut self, path: &[String], id: usize) {
        if let Some(property) = self.registry.get_mut(path) {
            property.state = State::Failed(id);
        }
    }

    /// A cycle: `chain` runs from the property that is needed again to the one that needs it.
    fn cycle(&mut self, chain: &[Path]) -> usize {
        let last = chain.last().cloned().unwrap_or_default();
        let Some(property) = self.registry.get(&last) else {
            return 0;
        };
        let site = Site {
            path: last.clone(),
            span: property.span,
            text_offset: property.text_offset,
            order: property.order,
        };
        let reason = if chain.len() == 1 {
            format!(
                "Circular reference. \"{}\" refers to itself",
                last.join(".")
            )
        } else {
            let mut steps: Vec<String> = chain
                .iter()
                .map(|path| {
                    let place = self
                        .registry
                        .get(path)
                        .map(|p| format!(" ({})", self.sources.location(p.span)))
                        .unwrap_or_default();
                    format!("{}{place}", path.join("."))
                })
                .collect();
            steps.push(chain[0].join("."));
            format!(
                "Circular reference among properties: {}",
                steps.join(" -> ")
            )
        };
        let help = "a property cannot depend on its own value: give one of these properties a \
                    value that does not refer back to the others";
        match self.fail(&site, None, reason, Some(help.into())) {
            Stop::Failed(id) => id,
            Stop::Needs(_) => 0,
        }
    }

    /// The property's place, its template (taken out while it is evaluated: give it back with
    /// [`Engine::restore`]) and its nest depth.
    fn take(&mut self, path: &[String]) -> Option<(Site, Template, u32)> {
        let property = self.registry.get_mut(path)?;
        let template = std::mem::replace(
            &mut property.template,
            Template {
                text: String::new(),
                parts: Vec::new(),
                whole: false,
            },
        );
        Some((
            Site {
                path: path.to_vec(),
                span: property.span,
                text_offset: property.text_offset,
                order: property.order,
            },
            template,
            property.depth,
        ))
    }

    fn restore(&mut self, path: &[String], template: Template) {
        if let Some(property) = self.registry.get_mut(path) {
            property.template = template;
        }
    }

    /// Tries to resolve one property to the end (including re-reading its resolved value).
    fn attempt(&mut self, path: &[String]) -> Result<(), Stop> {
        loop {
            let Some((site, template, depth)) = self.take(path) else {
                return Ok(());
            };
            let evaluated = self.evaluate(&template, &site);
            let whole = template.whole;
            // Evaluation never writes this property, so its entry is still there.
            self.restore(path, template);
            let (mut value, pieces) = evaluated?;
            if whole {
                value.span = site.span;
            }
            match &value.value {
                Value::String(text) => {
                    let reparsed = match &pieces {
                        Some(pieces) => syntax::parse_pieces(pieces),
                        None => syntax::parse(text),
                    };
                    match reparsed {
                        Err(error) => {
                            let reason = format!(
                                "Approached variable syntax error in resolved value \"{text}\": {}",
                                error.message
                            );
                            return Err(self.fail(&site, None, reason, Some(syntax_help())));
                        }
                        Ok(Some(next)) => {
                            if depth + 1 > MAX_NEST_DEPTH {
                                return Err(self.excessive_depth(&site));
                            }
                            if let Some(property) = self.registry.get_mut(path) {
                                property.template = next;
                                property.text_offset = None;
                                property.depth = depth + 1;
                            }
                            continue;
                        }
                        Ok(None) => {}
                    }
                    self.write(path, value);
                }
                Value::Map(_) | Value::Seq(_) => {
                    let mut found = Vec::new();
                    collect_strings(&value, path, &mut found);
                    let found: Vec<_> = found
                        .into_iter()
                        .filter(|(_, _, text)| !matches!(syntax::parse(text), Ok(None)))
                        .collect();
                    if !found.is_empty() && depth + 1 > MAX_NEST_DEPTH {
                        return Err(self.excessive_depth(&site));
                    }
                    if path.len() + nesting(&value) > MAX_TREE_DEPTH {
                        let reason = format!(
                            "the value nests more than {MAX_TREE_DEPTH} levels deep in the \
                             configuration"
                        );
                        let help = "look for properties that each copy the next one inside a map \
                                    or list";
                        return Err(self.fail(&site, None, reason, Some(help.into())));
                    }
                    self.write(path, value);
                    for (sub_path, span, text) in found {
                        self.register(sub_path, span, &text, depth + 1);
                    }
                }
                _ => self.write(path, value),
            }
            return Ok(());
        }
    }

    fn excessive_depth(&mut self, site: &Site) -> Stop {
        self.fail(
            site,
            None,
            "Excessive property variables nest depth",
            Some(
                "a resolved value held variables again more than 10 times in a row: look for an \
                 environment variable or file whose value refers back to itself"
                    .into(),
            ),
        )
    }

    /// Puts a resolved value in the tree and forgets the property.
    fn write(&mut self, path: &[String], value: Node) {
        self.registry.remove(path);
        if let Some(slot) = node_at_mut(self.root, path) {
            *slot = value;
        }
    }

    /// A copy of the configuration value at `keys` (`[]` is the root), once every property it
    /// depends on is resolved; `None` when there is nothing there (or null).
    pub(crate) fn config_value(
        &mut self,
        keys: &[String],
        site: &Site,
    ) -> Result<Option<Node>, Stop> {
        let mut node: &Node = self.root;
        for (index, key) in keys.iter().enumerate() {
            if node.is_null() {
                return Ok(None);
            }
            self.check_property(&keys[..=index])?;
            let next = match &node.value {
                Value::Map(map) => map.get(key),
                Value::Seq(items) => array_index(key).and_then(|i| items.get(i)),
                _ => None,
            };
            match next {
                Some(next) => node = next,
                None => return Ok(None),
            }
        }
        if matches!(node.value, Value::Map(_) | Value::Seq(_)) {
            self.check_subtree(keys)?;
        }
        if node.is_null() {
            return Ok(None);
        }
        let node = node.clone();
        self.spend(&node, site)?;
        Ok(Some(node))
    }

    /// Counts a copied value against the budget of values variables may add.
    pub(crate) fn spend(&mut self, node: &Node, site: &Site) -> Result<(), Stop> {
        let count = count_values(node);
        if count > self.copy_budget {
            let reason = format!(
                "variables copy more than {MAX_COPIED_VALUES} values into the configuration"
            );
            let help = "look for properties that copy each other over and over (each copy \
                        doubling the one before)";
            return Err(self.fail(site, None, reason, Some(help.into())));
        }
        self.copy_budget -= count;
        Ok(())
    }

    fn check_property(&self, key: &[String]) -> Result<(), Stop> {
        match self.registry.get(key).map(|p| p.state) {
            Some(State::Pending) => Err(Stop::Needs(key.to_vec())),
            Some(State::Failed(id)) => Err(Stop::Failed(id)),
            None => Ok(()),
        }
    }

    fn check_subtree(&self, key: &[String]) -> Result<(), Stop> {
        let first_below = self
            .registry
            .range::<[String], _>((Bound::Included(key), Bound::Unbounded))
            .take_while(|(path, _)| path.starts_with(key))
            .next();
        match first_below {
            Some((path, property)) => match property.state {
                State::Pending => Err(Stop::Needs(path.clone())),
                State::Failed(id) => Err(Stop::Failed(id)),
            },
            None => Ok(()),
        }
    }

    /// The failures to report: each once, in the order of the properties they belong to.
    pub fn into_failures(self) -> (Vec<Failure>, Vec<String>) {
        let mut ids: Vec<usize> = self
            .registry
            .values()
            .filter_map(|p| match p.state {
                State::Failed(id) => Some(id),
                State::Pending => None,
            })
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let mut failures: Vec<Failure> = ids
            .into_iter()
            .filter_map(|id| self.failures.get(id).cloned())
            .collect();
        failures.sort_by_key(|f| f.order);
        (failures, self.secrets)
    }
}

/// A list index as JavaScript reads a property name: canonical decimal only (`1`, not `01`).
fn array_index(key: &str) -> Option<usize> {
    let index: usize = key.parse().ok()?;
    (index.to_string() == key).then_some(index)
}

pub(crate) fn syntax_help() -> String {
    "variables read `${source:address}` with optional fallbacks `${source:address, other:address, \
     'literal'}`; write `\\${` for a literal `${`"
        .into()
}

/// A fix for a syntax error; a fallback written as a whole variable gets its corrected form.
fn syntax_error_help(text: &str, message: &str) -> String {
    if message.starts_with("Invalid variable source") && text.contains(", ${") {
        let corrected = text.replacen(", ${", ", ", 1).replacen("}}", "}", 1);
        return format!("a fallback is written without its own `${{...}}`: {corrected}");
    }
    if message.starts_with("Invalid variable source") && text.contains("', ") {
        return "a quoted literal fallback must be the last one".into();
    }
    if message.starts_with("Invalid literal source") {
        return "a literal fallback is a number, true, false, null or a quoted string: \
                quote text, e.g. 'default'"
            .into();
    }
    syntax_help()
}

/// Every string value below `node` that may hold variables, with its path, in document order.
/// Only those strings get a copy of their path.
fn collect_strings(node: &Node, base: &[String], found: &mut Vec<(Path, Span, String)>) {
    let mut path: Path = base.to_vec();
    // Each entry: the node, its key, and how many keys its parent's path has.
    let mut stack: Vec<(&Node, Option<String>, usize)> = vec![(node, None, base.len())];
    while let Some((node, key, parent_length)) = stack.pop() {
        path.truncate(parent_length);
        path.extend(key);
        match &node.value {
            Value::String(text) if text.contains('$') => {
                found.push((path.clone(), node.span, text.clone()));
            }
            Value::Map(map) => {
                let length = path.len();
                let children: Vec<_> = map.iter().collect();
                for (key, entry) in children.into_iter().rev() {
                    stack.push((&entry.node, Some(key.clone()), length));
                }
            }
            Value::Seq(items) => {
                let length = path.len();
                for (index, item) in items.iter().enumerate().rev() {
                    stack.push((item, Some(index.to_string()), length));
                }
            }
            _ => {}
        }
    }
}

/// How many levels of maps and lists a value has.
fn nesting(node: &Node) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(node, 1)];
    while let Some((node, level)) = stack.pop() {
        deepest = deepest.max(level);
        match &node.value {
            Value::Map(map) => stack.extend(map.iter().map(|(_, e)| (&e.node, level + 1))),
            Value::Seq(items) => stack.extend(items.iter().map(|item| (item, level + 1))),
            _ => {}
        }
    }
    deepest
}

fn count_values(node: &Node) -> usize {
    let mut count = 0;
    let mut stack = vec![node];
    while let Some(node) = stack.pop() {
        count += 1;
        match &node.value {
            Value::Map(map) => stack.extend(map.iter().map(|(_, e)| &e.node)),
            Value::Seq(items) => stack.extend(items.iter()),
            _ => {}
        }
    }
    count
}

fn node_at_mut<'n>(root: &'n mut Node, path: &[String]) -> Option<&'n mut Node> {
    let mut node = root;
    for key in path {
        node = match &mut node.value {
            Value::Map(map) => map.get_mut(key)?,
            Value::Seq(items) => items.get_mut(array_index(key)?)?,
            _ => return None,
        };
    }
    Some(node)
}
