//! The human text form of a report: the same text the CLI, the corpus snapshots and the
//! playground show.

use std::fmt::Write;

use crate::source::escape_controls;

use super::{Files, Report};

/// Render every diagnostic with its source excerpt, then a summary line.
pub fn render_text(report: &Report, files: &Files<'_>) -> String {
    let mut out = String::new();
    for d in &report.diagnostics {
        let _ = writeln!(out, "{}[{}] {}: {}", d.severity.as_str(), d.rule, d.name, d.message);
        let loc = &d.location;
        let object = d.object.as_ref().map(|o| format!("  {o}")).unwrap_or_default();
        let path = if loc.path.is_empty() { String::new() } else { format!(" · {}", loc.path) };
        let _ = writeln!(out, "  --> {}:{}:{}{object}{path}", loc.file, loc.start.line, loc.start.column);
        let file = files.names.iter().position(|n| *n == loc.file);
        if let Some(lines) = file.and_then(|f| files.lines(f)) {
            let text = file.map_or("", |f| files.text(f));
            let line_text = lines.line_text(text, loc.start.line);
            let gutter = loc.start.line.to_string().len();
            let pad = " ".repeat(gutter);
            let width = if loc.end.line == loc.start.line {
                loc.end.column.saturating_sub(loc.start.column).max(1)
            } else {
                line_text.chars().count().saturating_sub(loc.start.column - 1).max(1)
            };
            let (shown, column, width) = excerpt(line_text, loc.start.column, width);
            let _ = writeln!(out, " {pad} |");
            let _ = writeln!(out, " {} | {}", loc.start.line, shown);
            let _ = writeln!(out, " {pad} | {}{}", " ".repeat(column - 1), "^".repeat(width));
        }
        for why in &d.explanation {
            let _ = writeln!(out, "   = why: {why}");
        }
        if let Some(help) = &d.help {
            let _ = writeln!(out, "   = help: {help}");
        }
        if let Some(fix) = &d.fix {
            let _ = writeln!(out, "   = fix: {} ({}):", fix.description, fix.target);
            for l in fix.patch.lines() {
                let _ = writeln!(out, "       {l}");
            }
        }
        for r in &d.related {
            let _ = writeln!(
                out,
                "   = note: {} at {}:{}:{}",
                r.message, r.location.file, r.location.start.line, r.location.start.column
            );
        }
        out.push('\n');
    }
    let f = &report.summary.findings;
    let _ = write!(
        out,
        "{} error(s), {} warning(s), {} info in {} object(s) from {} document(s) in {} file(s)",
        f.error, f.warning, f.info, report.summary.objects, report.summary.documents, report.summary.files
    );
    if !report.summary.skipped.is_empty() {
        let skipped: Vec<String> = report.summary.skipped.iter().map(|(k, n)| format!("{k} ×{n}")).collect();
        let _ = write!(out, "; skipped: {}", skipped.join(", "));
    }
    if !report.summary.suppressed.is_empty() {
        let suppressed: Vec<String> = report.summary.suppressed.iter().map(|(k, n)| format!("{k} ×{n}")).collect();
        let _ = write!(out, "; suppressed by annotation: {}", suppressed.join(", "));
    }
    out.push('\n');
    escape_controls(&out)
}

/// Longest source line shown whole; a longer one is shown around the finding.
const MAX_EXCERPT: usize = 160;

/// The part of a source line to show, the 1-based column of the finding in it, and the caret
/// width: a long line (minified JSON, a hostile one-liner) is cut to a window around the column.
fn excerpt(line: &str, column: usize, width: usize) -> (String, usize, usize) {
    let len = line.chars().count();
    if len <= MAX_EXCERPT {
        return (line.to_string(), column, width);
    }
    let start = column.saturating_sub(1).saturating_sub(40).min(len.saturating_sub(MAX_EXCERPT));
    let end = (start + MAX_EXCERPT).min(len);
    let mut shown: String = line.chars().skip(start).take(end - start).collect();
    let mut column = column - start;
    if start > 0 {
        shown.insert(0, '…');
        column += 1;
    }
    if end < len {
        shown.push('…');
    }
    let width = width.min((end - start + 1).saturating_sub(column.saturating_sub(1)).max(1));
    (shown, column, width)
}
