//! Markdown output shared by the reports: table rows, and writing a report to `--out`.

use std::path::Path;

use anyhow::{Context, Result, bail};

/// A Markdown table row.
pub fn row<S: AsRef<str>>(cells: impl IntoIterator<Item = S>) -> String {
    let cells: Vec<S> = cells.into_iter().collect();
    let cells: Vec<&str> = cells.iter().map(AsRef::as_ref).collect();
    format!("| {} |\n", cells.join(" | "))
}

/// Writes `report` to `path`: between the lines `<!-- {name}: begin -->` and
/// `<!-- {name}: end -->` (keeping them), or as the whole file when `path` does not exist or
/// is empty. A file with text but without both markers in order is left alone: an error.
pub fn write_out(path: &Path, name: &str, report: &str) -> Result<()> {
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let (text, how) = match splice(&old, name, report) {
        Some(text) => (text, "between its markers"),
        None if old.trim().is_empty() => (report.to_owned(), "whole"),
        None => bail!(
            "{} has no `<!-- {name}: begin -->` … `<!-- {name}: end -->` markers in order; \
             add them, or write to a new file",
            path.display()
        ),
    };
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    eprintln!("report written to {} ({how})", path.display());
    Ok(())
}

/// `old` with the text between its `name` markers replaced by `report`, if it has both.
fn splice(old: &str, name: &str, report: &str) -> Option<String> {
    let begin = format!("<!-- {name}: begin -->");
    let end = format!("<!-- {name}: end -->");
    let start = old.find(&begin)? + begin.len();
    let stop = start + old[start..].find(&end)?;
    let (head, tail) = (&old[..start], &old[stop..]);
    Some(format!("{head}\n{}\n{tail}", report.trim_end()))
}

/// ns/element with three or four significant digits (`1234`, `12.3`, `1.23`, `0.123`).
pub fn format_ns(ns: f64) -> String {
    match ns {
        x if x >= 100.0 => format!("{x:.0}"),
        x if x >= 10.0 => format!("{x:.1}"),
        x if x >= 1.0 => format!("{x:.2}"),
        x => format!("{x:.3}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_only_between_markers() {
        let path = std::env::temp_dir().join(format!("xtask-out-{}.md", std::process::id()));
        let write = |old: &str| {
            std::fs::write(&path, old).unwrap();
            let result = write_out(&path, "r", "| new |\n");
            (result.is_ok(), std::fs::read_to_string(&path).unwrap())
        };
        let kept = write("# Title\n<!-- r: begin -->\nold\n<!-- r: end -->\nafter\n");
        let empty = write("");
        let refused = [
            "no markers",
            "<!-- r: end --> <!-- r: begin -->",
            "<!-- s: begin -->",
        ]
        .map(|old| (write(old), old));
        std::fs::remove_file(&path).unwrap();
        let replaced = "# Title\n<!-- r: begin -->\n| new |\n<!-- r: end -->\nafter\n";
        assert_eq!(kept, (true, replaced.to_owned()));
        assert_eq!(empty, (true, "| new |\n".to_owned()));
        for ((outcome, text), old) in refused {
            assert_eq!(
                (outcome, text.as_str()),
                (false, old),
                "must leave {old:?} alone"
            );
        }
    }
}
