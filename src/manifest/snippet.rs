//! The text of a file as diagnostics quote it: what `miette` reads to draw a snippet under an
//! error.
//!
//! A snippet quotes whole lines, and pads to the column of each label. On a long line (a
//! minified `serverless.json` or `package.json` is one line of hundreds of kilobytes) that would
//! print the whole line, and padding past 65,535 columns makes the formatter panic. So a line
//! longer than [`LONG_LINE`] bytes is quoted as a window of [`WINDOW_CONTEXT`] bytes either side
//! of the span, with the window's true line and column, so the labels still sit under what they
//! point at. The window covers one span: two labels far apart on one long line would still pad
//! past the limit, so the YAML errors (the only ones with several labels) leave out the
//! snippet of a long line altogether (`yaml::errors`).

use std::sync::Arc;

use miette::{MietteError, MietteSpanContents, NamedSource, SourceCode, SourceSpan, SpanContents};

/// Lines up to this many bytes are quoted whole.
pub const LONG_LINE: usize = 240;

/// How much of a long line is quoted before and after the span.
pub const WINDOW_CONTEXT: usize = 60;

/// A file's text for diagnostics; see the module's documentation.
#[derive(Debug, Clone)]
pub struct SnippetText(pub Arc<str>);

/// A named file's text for diagnostics (the `#[source_code]` of an error).
pub type Snippet = NamedSource<SnippetText>;

/// A snippet source for a file's text.
pub fn snippet(name: impl AsRef<str>, text: Arc<str>) -> Snippet {
    NamedSource::new(name, SnippetText(text))
}

impl SourceCode for SnippetText {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let text: &str = &self.0;
        let start = span.offset();
        let end = start.saturating_add(span.len());
        // A point lookup (where miette reads a label's line and column) quotes nothing.
        let quoting = context_lines_before + context_lines_after > 0;
        if !quoting || end > text.len() {
            return text.read_span(span, context_lines_before, context_lines_after);
        }
        let line_start = text
            .get(..start)
            .and_then(|before| before.rfind(['\n', '\r']))
            .map_or(0, |at| at + 1);
        let line_end = text
            .get(end..)
            .and_then(|after| after.find(['\n', '\r']))
            .map_or(text.len(), |at| end + at);
        if line_end - line_start <= LONG_LINE {
            return text.read_span(span, context_lines_before, context_lines_after);
        }
        let window_start =
            floor_boundary(text, start.saturating_sub(WINDOW_CONTEXT).max(line_start));
        let window_end = ceil_boundary(text, end.saturating_add(WINDOW_CONTEXT).min(line_end));
        let before = text.get(..window_start).unwrap_or_default();
        let line = before.matches('\n').count() + before.matches('\r').count()
            - before.matches("\r\n").count();
        let data = text.get(window_start..window_end).unwrap_or_default();
        Ok(Box::new(MietteSpanContents::new(
            data.as_bytes(),
            (window_start, window_end - window_start).into(),
            line,
            window_start - line_start,
            data.matches('\n').count() + 1,
        )))
    }
}

fn floor_boundary(text: &str, mut at: usize) -> usize {
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn ceil_boundary(text: &str, mut at: usize) -> usize {
    while at < text.len() && !text.is_char_boundary(at) {
        at += 1;
    }
    at.min(text.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme};

    #[derive(Debug, thiserror::Error, Diagnostic)]
    #[error("bad value")]
    struct Bad {
        #[source_code]
        source_code: Snippet,
        #[label("this one")]
        span: SourceSpan,
    }

    fn render(text: &str, start: usize, len: usize) -> String {
        let error = Bad {
            source_code: snippet("s.json", text.into()),
            span: (start, len).into(),
        };
        let mut out = String::new();
        GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
            .with_context_lines(1)
            .render_report(&mut out, &error)
            .expect("renders");
        out
    }

    /// A label past column 65,535 made the formatter panic ("Formatting argument out of range").
    #[test]
    fn a_label_far_along_a_long_line_renders_a_window_of_it() {
        let text = format!("{{\"a\":[{}\"é\",\"bad\"]}}\n", "1,".repeat(40_000));
        let start = text.find("\"bad\"").expect("the value");
        let out = render(&text, start, 5);
        assert!(out.contains("\"bad\""), "{out}");
        assert!(out.contains("this one"), "{out}");
        assert!(
            out.len() < 2_000,
            "quotes a window, not the line: {} bytes",
            out.len()
        );
        // The underline sits under the value it labels.
        let quoted = out.lines().find(|l| l.contains("\"bad\"")).expect("quoted");
        let underline = out
            .lines()
            .skip_while(|l| !l.contains("\"bad\""))
            .nth(1)
            .expect("underline");
        let column_of = |line: &str, needle: &str| {
            line.chars().count()
                - line
                    .split_once(needle)
                    .map_or(0, |(_, rest)| rest.chars().count() + needle.chars().count())
        };
        assert_eq!(
            column_of(quoted, "\"bad\""),
            column_of(underline, "─"),
            "{out}"
        );
    }

    #[test]
    fn short_lines_are_quoted_whole_with_their_neighbours() {
        let text = "a: 1\nb: bad\nc: 3\n";
        let out = render(text, 8, 3);
        assert!(out.contains("a: 1") && out.contains("c: 3"), "{out}");
    }
}
