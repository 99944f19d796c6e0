//! The variable grammar: turns a string value into a [`Template`], the parts of the string that are
//! variables (`${source:address, fallback}`) or escapes (`\${`), as the Serverless Framework v3
//! parser reads them, quirks included:
//!
//! - a run of `$` before `${` belongs to the variable (`$${x}` is the variable `${x}`);
//! - `\${` is a literal `${`, and `\\${x}` is one backslash followed by the value of `${x}`;
//! - anything whose source type is not `[a-z][a-zA-Z0-9.-]*` followed by `:` or `(` is a foreign
//!   construct (`${AWS::Region}`, `${ self:x }`, `${}`) and stays as written, though variables
//!   inside it still resolve;
//! - fallbacks are further sources (`type:address`, `type(params)`) or one literal, which must be
//!   last: a number (JavaScript `Number()` rules), `true`, `false`, `null`, a single-quoted string
//!   (no escapes) or a double-quoted string (a JSON string);
//! - addresses and parameters may contain nested variables (`${self:custom.${opt:stage}}`).
//!
//! Positions in messages count characters, as the Framework's do.

use serde_json::Value as Json;

use super::js;

/// How deeply variables may nest inside addresses and parameters. The Framework has no limit;
/// real manifests use two or three levels, and a bound keeps hostile input from exhausting the
/// stack.
pub const MAX_NESTING: usize = 32;

/// A string value with the variables found in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub text: String,
    /// In order of position; never overlapping.
    pub parts: Vec<Part>,
    /// The string is exactly one variable, so its value keeps its JSON type.
    pub whole: bool,
}

/// A replaced range of a template, in byte offsets of [`Template::text`].
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    pub start: usize,
    pub end: usize,
    pub kind: PartKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PartKind {
    /// An escape sequence, replaced by this text.
    Text(String),
    /// A variable: its first-choice source, then its fallbacks.
    Variable(Vec<Source>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A literal fallback (string, number, boolean or null).
    Literal(Json),
    Reference(Reference),
}

/// `type:address` or `type(params):address`.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    pub kind: String,
    /// `None` when the source was written without parentheses.
    pub params: Option<Vec<Operand>>,
    pub address: Option<Operand>,
}

/// An address or a parameter: a plain value, or text with nested variables.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Value(Json),
    Template(Template),
}

/// A syntax error, with the Framework's wording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub message: String,
}

/// Parses a string value. `Ok(None)`: the string has no variables and no escapes.
pub fn parse(text: &str) -> Result<Option<Template>, SyntaxError> {
    if !text.contains('$') {
        return Ok(None);
    }
    let parser = Parser {
        text,
        bytes: text.as_bytes(),
    };
    let parts = parser.top_level()?;
    if parts.is_empty() {
        return Ok(None);
    }
    Ok(Some(template(text.to_string(), parts)))
}

/// Parses each piece of a value built by concatenation on its own, so that variable-like text
/// formed by joining two values, or by an escape, is never read as a variable. The result is
/// never `whole`: a concatenated value stays a string.
pub fn parse_pieces(pieces: &[String]) -> Result<Option<Template>, SyntaxError> {
    let mut parts = Vec::new();
    let mut base = 0;
    for piece in pieces {
        if let Some(parsed) = parse(piece)? {
            parts.extend(parsed.parts.into_iter().map(|part| Part {
                start: part.start + base,
                end: part.end + base,
                kind: part.kind,
            }));
        }
        base += piece.len();
    }
    if parts.is_empty() {
        return Ok(None);
    }
    Ok(Some(Template {
        text: pieces.concat(),
        parts,
        whole: false,
    }))
}

fn template(text: String, parts: Vec<Part>) -> Template {
    let whole = matches!(parts.as_slice(), [Part { start: 0, end, kind: PartKind::Variable(_) }] if *end == text.len());
    Template { text, parts, whole }
}

/// Where a variable body ended.
enum BodyEnd {
    /// At this index of the closing `}`.
    Closed(usize),
    /// The text ended first. `committed`: a source type had been read, so this is an
    /// unterminated variable rather than stray text like `${abc`.
    Eof { committed: bool },
}

/// The variables of one nesting level (the whole string, or one address or parameter), with
/// positions relative to where that level starts.
struct Level {
    base: usize,
    parts: Vec<Part>,
    /// Inside an address or parameter, where foreign `${...}` constructs are errors.
    in_reference: bool,
    depth: usize,
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
}

fn is_alpha_numeric(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'.' || byte == b'-'
}

fn is_type(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_lowercase()) && bytes.all(|b| b.is_ascii_alphanumeric())
}

impl Parser<'_> {
    fn error(&self, message: &str, byte_index: usize) -> SyntaxError {
        SyntaxError {
            message: format!(
                "{message} at index {} in \"{}\"",
                self.char_index(byte_index),
                self.text
            ),
        }
    }

    fn char_index(&self, byte_index: usize) -> usize {
        self.text
            .get(..byte_index)
            .map(|s| s.chars().count())
            .unwrap_or(byte_index)
    }

    fn unterminated(&self) -> SyntaxError {
        SyntaxError {
            message: format!("Missing variable closing bracket in {}", self.text),
        }
    }

    fn at(&self, index: usize) -> Option<u8> {
        self.bytes.get(index).copied()
    }

    fn skip_spaces(&self, mut index: usize) -> usize {
        while self.at(index) == Some(b' ') {
            index += 1;
        }
        index
    }

    /// The string outside any variable: escapes, and variables opening with `$`.
    fn top_level(&self) -> Result<Vec<Part>, SyntaxError> {
        let mut level = Level {
            base: 0,
            parts: Vec::new(),
            in_reference: false,
            depth: 0,
        };
        // Start of a run of backslashes that may escape a following `${`.
        let mut escape_start: Option<usize> = None;
        let mut index = 0;
        while let Some(byte) = self.at(index) {
            match byte {
                b'\\' => {
                    escape_start.get_or_insert(index);
                    // The character after a backslash is never read as syntax, except `$`.
                    match self.at(index + 1) {
                        Some(b'$') => {
                            if self.at(index + 2) == Some(b'{') {
                                let start = escape_start.take().unwrap_or(index);
                                let backslashes = index + 1 - start;
                                level.parts.push(Part {
                                    start,
                                    end: index + 2,
                                    kind: PartKind::Text(format!(
                                        "{}$",
                                        "\\".repeat(backslashes / 2)
                                    )),
                                });
                                // The `{` is plain text.
                                index += 3;
                            } else {
                                escape_start = None;
                                // `\$$...`: the second `$` may open a variable; `\$\`: a new run.
                                index += 2;
                            }
                        }
                        Some(b'\\') => index += 2,
                        Some(_) => {
                            escape_start = None;
                            index += 2;
                        }
                        None => index += 1,
                    }
                }
                b'$' => {
                    let pending_escape = escape_start.take();
                    match self.open(index, &mut level, pending_escape)? {
                        Some(next) => index = next,
                        None => break,
                    }
                }
                _ => {
                    escape_start = None;
                    index += 1;
                }
            }
        }
        Ok(level.parts)
    }

    /// At a `$`: a run of `$` then `{` opens a variable (the run belongs to it); any other
    /// character after the run is consumed as plain text. Returns where to continue, or `None`
    /// when the text ended (without error) inside a foreign construct.
    fn open(
        &self,
        dollar: usize,
        level: &mut Level,
        escape_start: Option<usize>,
    ) -> Result<Option<usize>, SyntaxError> {
        let mut index = dollar + 1;
        while self.at(index) == Some(b'$') {
            index += 1;
        }
        match self.at(index) {
            None => Ok(None),
            Some(b'{') => {
                // Only a lone `$` completes an escape: a second `$` cancels it.
                if let Some(start) = escape_start.filter(|_| index == dollar + 1) {
                    // An even run of backslashes before `${`: half of them stay, and the
                    // variable resolves.
                    let backslashes = dollar - start;
                    level.parts.push(Part {
                        start: start - level.base,
                        end: dollar - level.base,
                        kind: PartKind::Text("\\".repeat(backslashes / 2)),
                    });
                }
                if level.depth >= MAX_NESTING {
                    return Err(SyntaxError {
                        message: format!(
                            "Variables nested more than {MAX_NESTING} levels deep in \"{}\"",
                            self.text
                        ),
                    });
                }
                match self.body(dollar, index + 1, level)? {
                    BodyEnd::Closed(close) => Ok(Some(close + 1)),
                    BodyEnd::Eof { committed: false } if !level.in_reference => Ok(None),
                    BodyEnd::Eof { .. } => Err(self.unterminated()),
                }
            }
            Some(_) => Ok(Some(index + 1)),
        }
    }

    /// After `${`: the source type decides between a variable and a foreign construct.
    fn body(&self, start: usize, index: usize, level: &mut Level) -> Result<BodyEnd, SyntaxError> {
        let Some(first) = self.at(index) else {
            return Ok(BodyEnd::Eof { committed: false });
        };
        if !first.is_ascii_lowercase() {
            if level.in_reference {
                return Err(self.error("Invalid variable type", index));
            }
            if first == b'}' {
                return Ok(BodyEnd::Closed(index));
            }
            return self.foreign(index, level);
        }
        let mut end = index + 1;
        while self.at(end).is_some_and(is_alpha_numeric) {
            end += 1;
        }
        let kind = &self.text[index..end];
        match self.at(end) {
            None => Ok(BodyEnd::Eof { committed: false }),
            Some(b':') | Some(b'(') => {
                let mut sources = Vec::new();
                let close = self.sources(kind, index, end, &mut sources, level)?;
                match close {
                    Some(close) => {
                        level.parts.push(Part {
                            start: start - level.base,
                            end: close + 1 - level.base,
                            kind: PartKind::Variable(sources),
                        });
                        Ok(BodyEnd::Closed(close))
                    }
                    // A foreign construct that looked like a variable (`${aws::x}`).
                    None => self.foreign(self.skip_spaces(end + 1) + 1, level),
                }
            }
            Some(other) => {
                if level.in_reference {
                    return Err(self.error("Invalid variable type", index));
                }
                if other == b'}' {
                    return Ok(BodyEnd::Closed(end));
                }
                self.foreign(end, level)
            }
        }
    }

    /// Text up to the `}` that closes a foreign construct; variables inside it still count.
    fn foreign(&self, mut index: usize, level: &mut Level) -> Result<BodyEnd, SyntaxError> {
        while let Some(byte) = self.at(index) {
            match byte {
                b'}' => return Ok(BodyEnd::Closed(index)),
                b'$' => {
                    level.depth += 1;
                    let opened = self.open(index, level, None);
                    level.depth -= 1;
                    match opened? {
                        Some(next) => index = next,
                        None => return Ok(BodyEnd::Eof { committed: false }),
                    }
                }
                _ => index += 1,
            }
        }
        Ok(BodyEnd::Eof { committed: false })
    }

    /// The sources of a variable whose first type ends at `type_end` (at `:` or `(`). Returns
    /// the index of the closing `}`, or `None` for `${type::...}`, which is foreign.
    fn sources(
        &self,
        first_kind: &str,
        first_start: usize,
        type_end: usize,
        sources: &mut Vec<Source>,
        level: &Level,
    ) -> Result<Option<usize>, SyntaxError> {
        let mut kind = first_kind.to_string();
        let mut source_start = first_start;
        let mut index = type_end;
        loop {
            // `index` is at the `:` or `(` after a source type.
            let mut reference = Reference {
                kind: std::mem::take(&mut kind),
                params: None,
                address: None,
            };
            let after = if self.at(index) == Some(b'(') {
                let (params, close) = self.params(index + 1, level)?;
                reference.params = Some(params);
                let next = self.skip_spaces(close + 1);
                match self.at(next) {
                    None => return Err(self.unterminated()),
                    Some(b':') => self.address(next + 1, source_start, &mut reference, level)?,
                    Some(b'}') => Next::Close(next),
                    Some(b',') => Next::Source(next + 1),
                    Some(_) => return Err(self.error("Invalid variable address", next)),
                }
            } else {
                let address_start = self.skip_spaces(index + 1);
                if self.at(address_start) == Some(b':') {
                    if sources.is_empty() && !level.in_reference {
                        return Ok(None);
                    }
                    return Err(self.error("Invalid variable address", address_start));
                }
                self.address(index + 1, source_start, &mut reference, level)?
            };
            sources.push(Source::Reference(reference));
            let next = match after {
                Next::Close(close) => return Ok(Some(close)),
                Next::Source(next) => self.skip_spaces(next),
            };
            // A further source: a type, or a literal (which must be the last source).
            source_start = next;
            match self.at(next) {
                None => return Err(self.unterminated()),
                Some(b'"') | Some(b'\'') => {
                    let end = self.string_end(next)?;
                    let after = self.skip_spaces(end);
                    match self.at(after) {
                        None => return Err(self.unterminated()),
                        Some(b'}') => {
                            sources.push(Source::Literal(Json::String(self.string(next, after)?)));
                            return Ok(Some(after));
                        }
                        Some(_) => return Err(self.error("Invalid variable source", next)),
                    }
                }
                Some(byte) if is_alpha_numeric(byte) => {
                    let mut end = next;
                    while self
                        .at(end)
                        .is_some_and(|b| is_alpha_numeric(b) || b == b' ')
                    {
                        end += 1;
                    }
                    let word = &self.text[next..end];
                    match self.at(end) {
                        None => return Err(self.unterminated()),
                        Some(b':') | Some(b'(') => {
                            if !is_type(word) {
                                return Err(self.error("Invalid variable source", next));
                            }
                            kind = word.to_string();
                            index = end;
                        }
                        Some(b'}') => {
                            let literal = word.trim();
                            let Some(value) = literal_value(literal) else {
                                return Err(self.error(
                                    &format!("Invalid literal source \"{literal}\""),
                                    next,
                                ));
                            };
                            sources.push(Source::Literal(value));
                            return Ok(Some(end));
                        }
                        Some(_) => return Err(self.error("Invalid variable source", next)),
                    }
                }
                Some(_) => return Err(self.error("Invalid variable source", next)),
            }
        }
    }

    /// An address starting at `index` (just after `:`), up to `}` or `,`.
    fn address(
        &self,
        index: usize,
        source_start: usize,
        reference: &mut Reference,
        level: &Level,
    ) -> Result<Next, SyntaxError> {
        let start = self.skip_spaces(index);
        match self.at(start) {
            None => Err(self.unterminated()),
            Some(b'}') => Ok(Next::Close(start)),
            Some(b',') => Ok(Next::Source(start + 1)),
            Some(b':') => Err(self.error("Invalid variable address", start)),
            Some(b'"') | Some(b'\'') => {
                let end = self.string_end(start)?;
                let after = self.skip_spaces(end);
                let value = || -> Result<Operand, SyntaxError> {
                    Ok(Operand::Value(Json::String(self.string(start, after)?)))
                };
                match self.at(after) {
                    None => Err(self.unterminated()),
                    Some(b'}') => {
                        reference.address = Some(value()?);
                        Ok(Next::Close(after))
                    }
                    Some(b',') => {
                        reference.address = Some(value()?);
                        Ok(Next::Source(after + 1))
                    }
                    Some(_) => Err(self.error("Invalid variable address", start)),
                }
            }
            Some(_) => {
                let mut nested = level.nested(start);
                let mut cursor = start;
                loop {
                    match self.at(cursor) {
                        None => return Err(self.unterminated()),
                        Some(b'}') => {
                            reference.address =
                                Some(operand(&self.text[start..cursor], nested.parts));
                            return Ok(Next::Close(cursor));
                        }
                        Some(b',') => {
                            reference.address =
                                Some(operand(&self.text[start..cursor], nested.parts));
                            return Ok(Next::Source(cursor + 1));
                        }
                        Some(b':') => {
                            return Err(self.error("Invalid variable address", source_start))
                        }
                        Some(b'$') => match self.open(cursor, &mut nested, None)? {
                            Some(next) => cursor = next,
                            None => return Err(self.unterminated()),
                        },
                        Some(_) => cursor += 1,
                    }
                }
            }
        }
    }

    /// Parameters starting just after `(`; returns them and the index of `)`.
    fn params(&self, index: usize, level: &Level) -> Result<(Vec<Operand>, usize), SyntaxError> {
        let mut params = Vec::new();
        let mut cursor = index;
        loop {
            cursor = self.skip_spaces(cursor);
            let start = cursor;
            match self.at(start) {
                None => return Err(self.unterminated()),
                Some(b')') => return Ok((params, start)),
                Some(b',') => {
                    params.push(Operand::Value(Json::Null));
                    cursor += 1;
                }
                Some(b'}') => return Err(self.error("Invalid variable param", start)),
                Some(b'"') | Some(b'\'') => {
                    let end = self.string_end(start)?;
                    let after = self.skip_spaces(end);
                    match self.at(after) {
                        None => return Err(self.unterminated()),
                        Some(b')') => {
                            params.push(Operand::Value(Json::String(self.string(start, after)?)));
                            return Ok((params, after));
                        }
                        Some(b',') => {
                            params.push(Operand::Value(Json::String(self.string(start, after)?)));
                            cursor = after + 1;
                        }
                        Some(_) => return Err(self.error("Invalid variable param", start)),
                    }
                }
                Some(_) => {
                    let mut nested = level.nested(start);
                    loop {
                        match self.at(cursor) {
                            None => return Err(self.unterminated()),
                            Some(b')') => {
                                let text = self.text[start..cursor].trim();
                                if !text.is_empty() {
                                    params.push(param_operand(text, nested.parts));
                                }
                                return Ok((params, cursor));
                            }
                            Some(b',') => {
                                let text = self.text[start..cursor].trim();
                                params.push(param_operand(text, nested.parts));
                                cursor += 1;
                                break;
                            }
                            Some(b'}') => return Err(self.error("Invalid variable param", start)),
                            Some(b'$') => match self.open(cursor, &mut nested, None)? {
                                Some(next) => cursor = next,
                                None => return Err(self.unterminated()),
                            },
                            Some(_) => cursor += 1,
                        }
                    }
                }
            }
        }
    }

    /// The index just after the closing quote of the string opening at `start`.
    fn string_end(&self, start: usize) -> Result<usize, SyntaxError> {
        let quote = self.bytes[start];
        let mut index = start + 1;
        while let Some(byte) = self.at(index) {
            if byte == quote {
                return Ok(index + 1);
            }
            index += if quote == b'"' && byte == b'\\' { 2 } else { 1 };
        }
        Err(self.unterminated())
    }

    /// The value of a quoted string spanning `start..end` (trailing spaces allowed): single
    /// quotes keep their content verbatim, double quotes read as a JSON string.
    fn string(&self, start: usize, end: usize) -> Result<String, SyntaxError> {
        let raw = self.text[start..end].trim();
        if raw.starts_with('\'') {
            return Ok(raw
                .get(1..raw.len().saturating_sub(1))
                .unwrap_or("")
                .to_string());
        }
        serde_json::from_str::<String>(raw).map_err(|error| SyntaxError {
            message: format!(
                "Invalid string literal at index {} in \"{}\": {error}",
                self.char_index(start),
                self.text
            ),
        })
    }
}

/// What follows a source.
enum Next {
    /// The variable closes at this index.
    Close(usize),
    /// Another source starts at or after this index.
    Source(usize),
}

impl Level {
    fn nested(&self, base: usize) -> Level {
        Level {
            base,
            parts: Vec::new(),
            in_reference: true,
            depth: self.depth + 1,
        }
    }
}

fn operand(raw: &str, parts: Vec<Part>) -> Operand {
    let text = raw.trim_end();
    if parts.is_empty() {
        if text.is_empty() {
            return Operand::Value(Json::Null);
        }
        return Operand::Value(Json::String(text.to_string()));
    }
    Operand::Template(template(text.to_string(), parts))
}

/// An unquoted parameter: a literal when it reads as one, otherwise the text itself.
fn param_operand(text: &str, parts: Vec<Part>) -> Operand {
    if !parts.is_empty() {
        return Operand::Template(template(text.to_string(), parts));
    }
    if text.is_empty() {
        return Operand::Value(Json::Null);
    }
    Operand::Value(literal_value(text).unwrap_or_else(|| Json::String(text.to_string())))
}

/// `true`, `false`, `null`, or a number as JavaScript's `Number()` reads it.
pub fn literal_value(text: &str) -> Option<Json> {
    match text {
        "true" => Some(Json::Bool(true)),
        "false" => Some(Json::Bool(false)),
        "null" => Some(Json::Null),
        _ => js::parse_number(text).map(js::number_to_json),
    }
}

#[cfg(test)]
#[path = "syntax_tests.rs"]
mod tests;
