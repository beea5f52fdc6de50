//! Markdown output shared by the reports: table rows, and writing a report to `--out`.

use std::path::Path;

use anyhow::{Context, Result};

/// A Markdown table row.
pub fn row<S: AsRef<str>>(cells: impl IntoIterator<Item = S>) -> String {
    let cells: Vec<S> = cells.into_iter().collect();
    let cells: Vec<&str> = cells.iter().map(AsRef::as_ref).collect();
    format!("| {} |\n", cells.join(" | "))
}

/// Writes `report` to `path`: between the lines `<!-- {name}: begin -->` and
/// `<!-- {name}: end -->` when the file has both (keeping them), else as the whole file.
pub fn write_out(path: &Path, name: &str, report: &str) -> Result<()> {
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let (text, how) = match splice(&old, name, report) {
        Some(text) => (text, "between its markers"),
        None => (report.to_owned(), "whole"),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_only_between_markers() {
        let path = std::env::temp_dir().join(format!("xtask-out-{}.md", std::process::id()));
        let write = |old: &str| {
            std::fs::write(&path, old).unwrap();
            write_out(&path, "r", "| new |\n").unwrap();
            std::fs::read_to_string(&path).unwrap()
        };
        let kept = write("# Title\n<!-- r: begin -->\nold\n<!-- r: end -->\nafter\n");
        let whole = write("no markers");
        let reversed = write("<!-- r: end --> <!-- r: begin -->");
        let other = write("<!-- s: begin -->\n<!-- s: end -->\n");
        std::fs::remove_file(&path).unwrap();
        assert_eq!(
            kept,
            "# Title\n<!-- r: begin -->\n| new |\n<!-- r: end -->\nafter\n"
        );
        assert_eq!([whole, reversed, other], ["| new |\n"; 3]);
    }
}
