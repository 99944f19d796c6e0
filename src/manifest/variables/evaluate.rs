//! Evaluation of one template: each variable's sources in turn (the first with a value wins, a
//! literal fallback ends the chain), nested variables in addresses and parameters, and the
//! joining of a longer string (numbers and booleans become text; null, maps and lists cannot).

use super::engine::{syntax_help, Engine, Site, Stop, MAX_NEST_DEPTH, MAX_STRING_BYTES};
use super::syntax::{self, Operand, Part, PartKind, Source, Template};
use crate::manifest::node::{Node, Value};

impl Engine<'_, '_> {
    /// The value of a template: the variable's own value when it is the whole string, otherwise
    /// the string with each part replaced (and the pieces, to re-read them one by one).
    pub(crate) fn evaluate(
        &mut self,
        template: &Template,
        site: &Site,
    ) -> Result<(Node, Option<Vec<String>>), Stop> {
        if template.whole {
            if let [Part {
                start,
                end,
                kind: PartKind::Variable(sources),
            }] = template.parts.as_slice()
            {
                let value = self.variable(sources, site, Some((*start, *end)))?;
                return Ok((value, None));
            }
        }
        let text = &template.text;
        let mut pieces = Vec::with_capacity(template.parts.len() * 2 + 1);
        let mut last = 0;
        let mut length = 0;
        for part in &template.parts {
            pieces.push(text.get(last..part.start).unwrap_or_default().to_string());
            let piece = match &part.kind {
                PartKind::Text(replacement) => replacement.clone(),
                PartKind::Variable(sources) => {
                    let range = Some((part.start, part.end));
                    let value = self.variable(sources, site, range)?;
                    match interpolated(&value) {
                        Some(text) => text,
                        None => {
                            let reason = "String value consist of variable which resolve with \
                                          non-string value";
                            let help = format!(
                                "this variable resolves to {}, which cannot be part of a longer \
                                 string: make the variable the whole value, or point it at a \
                                 single value inside",
                                value.kind()
                            );
                            return Err(self.fail(site, range, reason, Some(help)));
                        }
                    }
                }
            };
            length += piece.len() + part.start.saturating_sub(last);
            if length > MAX_STRING_BYTES {
                let reason = format!("the value grows past {MAX_STRING_BYTES} bytes");
                return Err(self.fail(site, None, reason, None));
            }
            pieces.push(piece);
            last = part.end;
        }
        pieces.push(text.get(last..).unwrap_or_default().to_string());
        Ok((Node::string(pieces.concat(), site.span), Some(pieces)))
    }

    /// The value of one variable: its first source that has a value, or its literal fallback.
    fn variable(
        &mut self,
        sources: &[Source],
        site: &Site,
        range: Option<(usize, usize)>,
    ) -> Result<Node, Stop> {
        let span = site.label(range);
        let mut missing = None;
        for source in sources {
            let reference = match source {
                Source::Literal(value) => return Ok(Node::from_json(value, span)),
                Source::Reference(reference) => reference,
            };
            if !super::sources::is_known(&reference.kind) {
                return Err(self.unknown_source(&reference.kind, site, range));
            }
            let params = match &reference.params {
                Some(params) => Some(
                    params
                        .iter()
                        .map(|param| self.operand(param, site, range))
                        .collect::<Result<Vec<_>, _>>()?,
                ),
                None => None,
            };
            let address = match &reference.address {
                Some(address) => Some(self.operand(address, site, range)?),
                None => None,
            };
            let call = super::sources::Call {
                kind: &reference.kind,
                params: params.as_deref(),
                address: address.as_ref(),
                site,
                range,
            };
            match self.source(&call)? {
                super::sources::Lookup::Found(node) if !node.is_null() => return Ok(node),
                super::sources::Lookup::Found(_) => {
                    missing = Some((reference.kind.clone(), None, None));
                }
                super::sources::Lookup::Missing { reason, help } => {
                    missing = Some((reference.kind.clone(), reason, help));
                }
            }
        }
        let (kind, reason, help) = missing.unwrap_or_default();
        let reason = reason.unwrap_or_else(|| format!("Value not found at \"{kind}\" source"));
        Err(self.fail(site, range, reason, help))
    }

    fn unknown_source(&mut self, kind: &str, site: &Site, range: Option<(usize, usize)>) -> Stop {
        let closest = super::sources::KNOWN
            .iter()
            .map(|known| (strsim::jaro_winkler(kind, known), known))
            .filter(|(score, _)| *score > 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, known)| format!("did you mean \"{known}\"? "))
            .unwrap_or_default();
        let help = format!(
            "{closest}the known sources are: {} (a fallback does not replace an unknown source)",
            super::sources::KNOWN.join(", ")
        );
        let reason = format!("Unrecognized configuration variable source \"{kind}\"");
        self.fail(site, range, reason, Some(help))
    }

    /// An address or a parameter, with its nested variables resolved (and re-read, as values
    /// are, up to the nest depth).
    pub(crate) fn operand(
        &mut self,
        operand: &Operand,
        site: &Site,
        range: Option<(usize, usize)>,
    ) -> Result<Node, Stop> {
        let template = match operand {
            Operand::Value(value) => return Ok(Node::from_json(value, site.label(range))),
            Operand::Template(template) => template,
        };
        // Nested text is not where the property's text is: label the enclosing variable.
        let nested = Site {
            text_offset: None,
            span: site.label(range),
            ..site.clone()
        };
        let mut current = template.clone();
        for _ in 0..=MAX_NEST_DEPTH {
            let (value, pieces) = self.evaluate(&current, &nested)?;
            let Value::String(text) = &value.value else {
                return Ok(value);
            };
            let reparsed = match &pieces {
                Some(pieces) => syntax::parse_pieces(pieces),
                None => syntax::parse(text),
            };
            match reparsed {
                Ok(None) => return Ok(value),
                Ok(Some(next)) => current = next,
                Err(error) => {
                    let reason = format!(
                        "Approached variable syntax error in resolved value \"{text}\": {}",
                        error.message
                    );
                    return Err(self.fail(site, range, reason, Some(syntax_help())));
                }
            }
        }
        Err(self.fail(site, range, "Excessive variables nest depth", None))
    }
}

/// A value as it reads inside a longer string; `None` for null, maps and lists.
fn interpolated(node: &Node) -> Option<String> {
    node.scalar_text()
}
