//! Builds the [`Node`] tree from yaml-rust2's marked events with an explicit stack (no recursion
//! on document depth), applying the Framework's typing, tags, anchors and merge keys, and the
//! resource limits.
//!
//! An alias becomes a copy of its anchor's value: the copy's top node carries the alias's span
//! (where the user used it), the nodes inside keep the anchor's spans (where they were written).
//! Each copy is counted against `max_nodes` before it is made, so an alias bomb stops at once.

use std::collections::{HashMap, HashSet};

use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, ScanError, TScalarStyle};

use super::errors::Reporter;
use super::scalar::{self, key_string, resolve_plain};
use super::spans::scalar_end;
use super::tags::{self, CoreTag, TagKind};
use super::{Limits, YamlError};
use crate::manifest::node::{Mapping, Node, Value};
use crate::manifest::source::{FileId, SourceFile, Span};

/// A finished node with what its parent needs to know about it.
struct Built {
    node: Node,
    /// Nodes in the subtree (after alias expansion), for the node budget.
    count: usize,
    /// Nesting of collections in the subtree (0 for a scalar), for the depth limit.
    height: usize,
    /// An untagged plain `<<`: a merge key when used as a key.
    merge_key: bool,
}

/// An anchored node kept for its aliases.
struct Anchored {
    node: Node,
    count: usize,
    height: usize,
}

enum Collection {
    Seq(Vec<Node>),
    Map(MapState),
}

#[derive(Default)]
struct MapState {
    mapping: Mapping,
    key: Option<(String, Span, bool)>,
    /// Keys that came from a merge (`<<`): a key written later may replace them.
    merged: HashSet<String>,
}

struct Frame {
    collection: Collection,
    start: usize,
    end: usize,
    flow: bool,
    anchor: usize,
    tag: Option<Tag>,
    count: usize,
    height: usize,
}

pub struct Builder<'a> {
    file: &'a SourceFile,
    file_id: FileId,
    limits: &'a Limits,
    report: &'a Reporter<'a>,
    /// JSON files are read as `JSON.parse` reads them: a repeated key replaces the earlier one.
    json: bool,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Anchored>,
    nodes: usize,
    aliases_used: bool,
    root: Option<Node>,
    /// Where yaml-rust2 refused a tab after `key:` (js-yaml accepts it).
    tab_after_colon: Option<usize>,
}

/// A failed run; `tab_after_colon` says the caller may retry with that tab read as a space.
pub struct Failure {
    pub error: YamlError,
    pub tab_after_colon: Option<usize>,
}

impl<'a> Builder<'a> {
    pub fn new(
        file: &'a SourceFile,
        file_id: FileId,
        limits: &'a Limits,
        report: &'a Reporter<'a>,
    ) -> Self {
        let json = file
            .path
            .extension()
            .is_some_and(|extension| extension.eq_ignore_ascii_case("json"));
        Builder {
            file,
            file_id,
            limits,
            report,
            json,
            stack: Vec::new(),
            anchors: HashMap::new(),
            nodes: 0,
            aliases_used: false,
            root: None,
            tab_after_colon: None,
        }
    }

    /// Reads the events of `text` (the file's text, or a copy of it with the same offsets) and
    /// returns the single document's root.
    pub fn run(mut self, text: &str) -> Result<Node, Failure> {
        self.events(text).map_err(|error| Failure {
            tab_after_colon: self.tab_after_colon,
            error,
        })
    }

    fn events(&mut self, text: &str) -> Result<Node, YamlError> {
        let mut parser = Parser::new_from_str(text);
        let mut documents = 0usize;
        loop {
            let (event, marker) = match parser.next_token() {
                Ok(next) => next,
                Err(error) => return Err(self.scan_error(&error)),
            };
            match event {
                Event::StreamEnd => break,
                Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
                Event::DocumentStart => {
                    documents += 1;
                    if documents > self.limits.max_documents {
                        return Err(self.report.second_document(self.point(marker)));
                    }
                }
                Event::Scalar(value, style, anchor, tag) => {
                    let built = self.scalar(value, style, tag, marker)?;
                    if anchor > 0 {
                        self.register_anchor(anchor, &built)?;
                    }
                    self.deliver(built)?;
                }
                Event::Alias(id) => {
                    let built = self.alias(id, marker)?;
                    self.deliver(built)?;
                }
                Event::SequenceStart(anchor, tag) => {
                    self.open(Collection::Seq(Vec::new()), anchor, tag, marker)?
                }
                Event::MappingStart(anchor, tag) => {
                    self.open(Collection::Map(MapState::default()), anchor, tag, marker)?
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let built = self.close(marker)?;
                    self.deliver(built)?;
                }
            }
        }
        Ok(self
            .root
            .take()
            .unwrap_or_else(|| Node::null(Span::new(self.file_id, 0, 0))))
    }

    fn offset(&self, marker: Marker) -> usize {
        self.file.offset_of(marker.line(), marker.col() + 1)
    }

    fn point(&self, marker: Marker) -> Span {
        let at = self.offset(marker);
        Span::new(self.file_id, at, at)
    }

    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.file_id, start, end)
    }

    fn scan_error(&mut self, error: &ScanError) -> YamlError {
        let at = self.point(*error.marker());
        if error
            .info()
            .contains("':' must be followed by a valid YAML whitespace")
        {
            self.tab_after_colon = Some(at.start as usize);
        }
        // An unclosed flow collection is best explained at its opening bracket.
        let open_flow = self
            .stack
            .iter()
            .rev()
            .find(|frame| frame.flow)
            .map(|frame| self.span(frame.start, frame.start + 1));
        self.report.syntax(error.info(), at, open_flow)
    }

    fn count(&mut self, added: usize, at: Span) -> Result<(), YamlError> {
        self.nodes = self.nodes.saturating_add(added);
        if self.nodes > self.limits.max_nodes {
            return Err(self
                .report
                .too_many_nodes(at, self.limits.max_nodes, self.aliases_used));
        }
        Ok(())
    }

    fn scalar(
        &mut self,
        value: String,
        style: TScalarStyle,
        tag: Option<Tag>,
        marker: Marker,
    ) -> Result<Built, YamlError> {
        let start = self.offset(marker);
        let end = scalar_end(&self.file.text, start, &value, style);
        let span = self.span(start, end);
        self.count(1, span)?;
        let plain = matches!(style, TScalarStyle::Plain);
        let merge_key = plain && tag.is_none() && value == "<<";
        let Some(tag) = tag else {
            let typed = if plain {
                resolve_plain(value)
            } else {
                Value::String(value)
            };
            return Ok(Built {
                node: Node::new(typed, span),
                count: 1,
                height: 0,
                merge_key,
            });
        };
        let kind = tags::classify(&tag)
            .ok_or_else(|| self.report.unknown_tag(&tags::display(&tag), span))?;
        let node = match kind {
            TagKind::NonSpecific => Node::new(Value::String(value), span),
            TagKind::Core(core) => {
                Node::new(self.core_scalar(core, &tag, value, plain, span)?, span)
            }
            TagKind::CloudFormation(function) => {
                // A tagged scalar is not typed: `!Ref 123` refers to "123". An empty one is null.
                let inner = if value.is_empty() && plain {
                    Node::null(span)
                } else if function == "Fn::GetAtt" {
                    // `!GetAtt A.B.C` is `[A, "B.C"]`: split at the first dot only.
                    let (resource, attribute) = value.split_once('.').unwrap_or((&value, ""));
                    self.count(2, span)?;
                    Node::new(
                        Value::Seq(vec![
                            Node::string(resource, span),
                            Node::string(attribute, span),
                        ]),
                        span,
                    )
                } else {
                    Node::string(value, span)
                };
                return self.wrap(function, inner, 1, 0, span);
            }
        };
        Ok(Built {
            node,
            count: 1,
            height: 0,
            merge_key: false,
        })
    }

    fn core_scalar(
        &self,
        core: CoreTag,
        tag: &Tag,
        value: String,
        plain: bool,
        span: Span,
    ) -> Result<Value, YamlError> {
        let shown = tags::display(tag);
        let typed = match core {
            CoreTag::Str | CoreTag::Binary => Some(Value::String(value.clone())),
            // Only an empty node is null-by-emptiness; a quoted `''` is text.
            CoreTag::Null => {
                (scalar::is_null(&value) && (plain || !value.is_empty())).then_some(Value::Null)
            }
            CoreTag::Bool => scalar::as_bool(&value).map(Value::Bool),
            CoreTag::Int => scalar::as_int(&value),
            CoreTag::Float => scalar::as_int(&value)
                .map(|number| match number {
                    Value::Int(i) => Value::Float(i as f64),
                    other => other,
                })
                .or_else(|| scalar::as_float(&value).map(Value::Float)),
            CoreTag::Timestamp => scalar::as_timestamp(&value).map(Value::String),
            _ => return Err(self.report.tag_kind(&shown, "a scalar", span)),
        };
        typed.ok_or_else(|| self.report.tag_value(&shown, &value, span))
    }

    /// `{key: inner}` for a CloudFormation short form.
    fn wrap(
        &mut self,
        key: &'static str,
        inner: Node,
        count: usize,
        height: usize,
        span: Span,
    ) -> Result<Built, YamlError> {
        self.count(1, span)?;
        let mut mapping = Mapping::new();
        mapping.insert(key, span, inner);
        Ok(Built {
            node: Node::new(Value::Map(mapping), span),
            count: count + 1,
            height: height + 1,
            merge_key: false,
        })
    }

    fn register_anchor(&mut self, anchor: usize, built: &Built) -> Result<(), YamlError> {
        // The kept copy is counted too, so nested anchors cannot multiply memory unseen.
        self.count(built.count, built.node.span)?;
        self.anchors.insert(
            anchor,
            Anchored {
                node: built.node.clone(),
                count: built.count,
                height: built.height,
            },
        );
        Ok(())
    }

    fn alias(&mut self, id: usize, marker: Marker) -> Result<Built, YamlError> {
        let start = self.offset(marker);
        let name_end = self.file.text[start..]
            .char_indices()
            .find(|(i, c)| *i > 0 && (c.is_whitespace() || ",]}".contains(*c)))
            .map_or(self.file.text.len(), |(i, _)| start + i);
        let span = self.span(start, name_end);
        let Some(anchored) = self.anchors.get(&id) else {
            let name = self.file.text.get(start + 1..name_end).unwrap_or_default();
            return Err(self.report.undefined_alias(name, span));
        };
        let (count, height) = (anchored.count, anchored.height);
        if self.stack.len() + height > self.limits.max_depth {
            return Err(self.report.too_deep(span, self.limits.max_depth, true));
        }
        self.aliases_used = true;
        // Counted before copying: an alias bomb stops here without building anything.
        self.count(count, span)?;
        let mut node = self
            .anchors
            .get(&id)
            .map(|anchored| anchored.node.clone())
            .unwrap_or_else(|| Node::null(span));
        node.span = span;
        Ok(Built {
            node,
            count,
            height,
            merge_key: false,
        })
    }

    fn open(
        &mut self,
        collection: Collection,
        anchor: usize,
        tag: Option<Tag>,
        marker: Marker,
    ) -> Result<(), YamlError> {
        let start = self.offset(marker);
        let flow = matches!(self.file.text.as_bytes().get(start), Some(b'[' | b'{'));
        let span = self.span(start, start + 1);
        if self.stack.len() >= self.limits.max_depth {
            return Err(self.report.too_deep(span, self.limits.max_depth, false));
        }
        self.count(1, span)?;
        if let Some(tag) = &tag {
            let kind = tags::classify(tag)
                .ok_or_else(|| self.report.unknown_tag(&tags::display(tag), span))?;
            if let TagKind::Core(core) = kind {
                let is_map = matches!(collection, Collection::Map(_));
                if core.wants_scalar() || core.wants_mapping() != is_map {
                    let written = if is_map { "a map" } else { "a list" };
                    return Err(self.report.tag_kind(&tags::display(tag), written, span));
                }
            }
        }
        self.stack.push(Frame {
            collection,
            start,
            end: start,
            flow,
            anchor,
            tag,
            count: 1,
            height: 1,
        });
        Ok(())
    }

    fn close(&mut self, marker: Marker) -> Result<Built, YamlError> {
        let Some(frame) = self.stack.pop() else {
            return Err(self
                .report
                .syntax("unbalanced collection end", self.point(marker), None));
        };
        let end = if frame.flow {
            self.offset(marker) + 1
        } else {
            frame.end
        };
        let span = self.span(frame.start, end.max(frame.start));
        let value = match frame.collection {
            Collection::Seq(items) => Value::Seq(items),
            Collection::Map(state) => {
                if let Some((_, key_span, _)) = state.key {
                    // Cannot happen with a well-formed event stream; report rather than panic.
                    return Err(self.report.syntax("a key without a value", key_span, None));
                }
                Value::Map(state.mapping)
            }
        };
        let node = Node::new(value, span);
        let mut built = Built {
            node,
            count: frame.count,
            height: frame.height,
            merge_key: false,
        };
        if let Some(tag) = &frame.tag {
            if let Some(TagKind::CloudFormation(function)) = tags::classify(tag) {
                built = self.wrap(function, built.node, built.count, built.height, span)?;
            }
        }
        if frame.anchor > 0 {
            self.register_anchor(frame.anchor, &built)?;
        }
        Ok(built)
    }

    /// Hands a finished node to its parent (or makes it the root).
    fn deliver(&mut self, built: Built) -> Result<(), YamlError> {
        let Some(frame) = self.stack.last_mut() else {
            self.root = Some(built.node);
            return Ok(());
        };
        frame.count += built.count;
        frame.height = frame.height.max(built.height + 1);
        frame.start = frame.start.min(built.node.span.start as usize);
        frame.end = frame.end.max(built.node.span.end as usize);
        let json = self.json;
        match &mut frame.collection {
            Collection::Seq(items) => {
                items.push(built.node);
                Ok(())
            }
            Collection::Map(state) => match state.key.take() {
                None => {
                    let key_span = built.node.span;
                    let Some(key) = key_string(built.node.value) else {
                        return Err(self.report.collection_key(key_span));
                    };
                    state.key = Some((key, key_span, built.merge_key));
                    Ok(())
                }
                Some((_, _, true)) => merge_into(state, built.node, self.report),
                Some((key, key_span, false)) => {
                    if !json && !state.merged.contains(&key) {
                        if let Some(first) = state.mapping.entry(&key) {
                            return Err(self.report.duplicate_key(&key, first.key_span, key_span));
                        }
                    }
                    state.merged.remove(&key);
                    state.mapping.insert(key, key_span, built.node);
                    Ok(())
                }
            },
        }
    }
}

/// `<<: map` or `<<: [map, ...]`: copies keys the map does not have yet; the earliest source of a
/// key wins, and keys written in the map itself (before or after) win over merged ones.
fn merge_into(state: &mut MapState, value: Node, report: &Reporter) -> Result<(), YamlError> {
    let sources = match value.value {
        Value::Map(mapping) => vec![mapping],
        Value::Seq(items) => {
            let mut maps = Vec::with_capacity(items.len());
            for item in items {
                match item.value {
                    Value::Map(mapping) => maps.push(mapping),
                    other => return Err(report.bad_merge(other.kind(), item.span)),
                }
            }
            maps
        }
        other => return Err(report.bad_merge(other.kind(), value.span)),
    };
    for source in sources {
        for (key, entry) in source.iter() {
            if !state.mapping.contains_key(key) {
                state
                    .mapping
                    .insert(key.clone(), entry.key_span, entry.node.clone());
                state.merged.insert(key.clone());
            }
        }
    }
    Ok(())
}
