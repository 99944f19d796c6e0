//! Owns the text of every file a manifest was read from, and turns byte spans into
//! `file:line:col` locations and `miette` snippets.
//!
//! Every node of a parsed document carries a [`Span`] into one of these files, so an error found
//! long after parsing (a bad variable, a schema violation) can still point at the place the user
//! wrote it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::SourceSpan;

/// Index of a file in a [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FileId(pub u32);

/// A byte range in one source file. `start == end` marks a point (e.g. a missing value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Self {
        Span {
            file,
            start: start as u32,
            end: end.max(start) as u32,
        }
    }

    /// The span as `miette` wants it (offset and length within the file).
    pub fn source_span(&self) -> SourceSpan {
        SourceSpan::new(
            (self.start as usize).into(),
            (self.end - self.start) as usize,
        )
    }
}

/// One file's text with a line index.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as given (used to read it and to resolve relative `${file(...)}` paths).
    pub path: PathBuf,
    /// The name shown to users: relative to the service directory where possible.
    pub name: String,
    pub text: Arc<str>,
    line_starts: Vec<u32>,
    /// The byte offset of every [`CHARACTERS_PER_MARK`]th character, when the text is not all
    /// ASCII (in ASCII a character's index is its byte offset). Columns count characters, and
    /// counting them from the line's start for every node made a long line (a minified
    /// `serverless.json`) cost the square of its length; with the marks a lookup walks at most
    /// one stretch of characters.
    character_marks: Option<Vec<u32>>,
}

/// How many characters lie between two marks of [`SourceFile::character_marks`].
const CHARACTERS_PER_MARK: usize = 64;

impl SourceFile {
    pub fn new(path: PathBuf, name: String, text: impl Into<Arc<str>>) -> Self {
        let text: Arc<str> = text.into();
        let mut line_starts = vec![0u32];
        line_starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| (i + 1) as u32),
        );
        let character_marks = (!text.is_ascii()).then(|| {
            text.char_indices()
                .step_by(CHARACTERS_PER_MARK)
                .map(|(offset, _)| offset as u32)
                .collect()
        });
        SourceFile {
            path,
            name,
            text,
            line_starts,
            character_marks,
        }
    }

    /// How many characters come before a byte offset (clamped to the text).
    fn character_index(&self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        let Some(marks) = &self.character_marks else {
            return offset;
        };
        let mark = match marks.binary_search(&(offset as u32)) {
            Ok(mark) => return mark * CHARACTERS_PER_MARK,
            Err(after) => after.saturating_sub(1),
        };
        let from = marks.get(mark).map_or(0, |&from| from as usize);
        let walked = self
            .text
            .get(from..offset)
            .map_or(offset - from, |between| between.chars().count());
        mark * CHARACTERS_PER_MARK + walked
    }

    /// The byte offset of the character at `index` (the text's length past its end).
    fn offset_of_character(&self, index: usize) -> usize {
        let Some(marks) = &self.character_marks else {
            return index.min(self.text.len());
        };
        let Some(&from) = marks.get(index / CHARACTERS_PER_MARK) else {
            return self.text.len();
        };
        let from = from as usize;
        self.text[from..]
            .char_indices()
            .nth(index % CHARACTERS_PER_MARK)
            .map_or(self.text.len(), |(relative, _)| from + relative)
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: u32) -> (usize, usize) {
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line] as usize;
        let col = self.character_index(offset as usize) - self.character_index(start);
        (line + 1, col + 1)
    }

    /// Byte offset of a 1-based line and column (in characters); clamps to the file's end.
    pub fn offset_of(&self, line: usize, col: usize) -> usize {
        let Some(&start) = self.line_starts.get(line.saturating_sub(1)) else {
            return self.text.len();
        };
        let first = self.character_index(start as usize);
        self.offset_of_character(first + col.saturating_sub(1))
    }
}

/// All files read while loading one manifest.
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, file: SourceFile) -> FileId {
        self.files.push(file);
        FileId((self.files.len() - 1) as u32)
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    pub fn file(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn find(&self, path: &Path) -> Option<FileId> {
        self.files
            .iter()
            .position(|f| f.path == path)
            .map(|i| FileId(i as u32))
    }

    /// `name:line:col` of the start of a span.
    pub fn location(&self, span: Span) -> String {
        let file = self.file(span.file);
        let (line, col) = file.line_col(span.start);
        format!("{}:{}:{}", file.name, line, col)
    }

    /// The file of a span as a `miette` source, for diagnostics with snippets.
    pub fn named_source(&self, id: FileId) -> crate::manifest::snippet::Snippet {
        let file = self.file(id);
        crate::manifest::snippet::snippet(&file.name, file.text.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one_and_in_characters() {
        let file = SourceFile::new("s.yml".into(), "s.yml".into(), "a: 1\nbé: x\n");
        assert_eq!(file.line_col(0), (1, 1));
        assert_eq!(file.line_col(5), (2, 1));
        // `x` sits after a two-byte `é`: column counts characters, not bytes.
        assert_eq!(file.line_col(10), (2, 5));
        assert_eq!(file.offset_of(2, 5), 10);
    }

    /// Past the first mark, lookups start from a mark rather than the line's start; they must
    /// agree with counting every character.
    #[test]
    fn columns_on_a_long_line_with_wide_characters_match_a_plain_count() {
        let line: String = (0..500)
            .map(|i| if i % 7 == 0 { "é, " } else { "ab, " })
            .collect();
        let text = format!("x: 1\nlist: [{line}]\n");
        let file = SourceFile::new("s.yml".into(), "s.yml".into(), text.as_str());
        for (offset, _) in text.char_indices() {
            let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
            let expected = text[start..offset].chars().count() + 1;
            let (line_number, col) = file.line_col(offset as u32);
            assert_eq!(col, expected, "offset {offset}");
            assert_eq!(file.offset_of(line_number, col), offset, "offset {offset}");
        }
        assert_eq!(file.offset_of(2, 100_000), text.len());
        assert_eq!(file.offset_of(9, 1), text.len());
    }
}
