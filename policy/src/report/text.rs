//! The human text form of a report: the same text the CLI, the corpus snapshots and the
//! playground show.

use std::fmt::Write;

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
            let _ = writeln!(out, " {pad} |");
            let _ = writeln!(out, " {} | {}", loc.start.line, line_text);
            let _ = writeln!(out, " {pad} | {}{}", " ".repeat(loc.start.column - 1), "^".repeat(width));
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
    out
}
