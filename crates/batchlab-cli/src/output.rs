//! Terminal output: human-readable numbers and aligned tables. (Files are formatted by
//! the core's `report` module only; nothing here ends up in a file.)

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{write_file, CliResult};

/// `println!` that ignores a closed stdout (`batchlab run | head`): the command goes on
/// and still writes its files, where `println!` would panic.
macro_rules! say {
    () => {
        $crate::output::say_line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::output::say_line(format_args!($($arg)*))
    };
}
pub(crate) use say;

pub fn say_line(args: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stdout().lock(), "{args}");
}

/// A duration for reading: ms below one second, else seconds; "n/a" when undefined.
pub fn secs(x: f64) -> String {
    if !x.is_finite() {
        "n/a".into()
    } else if x.abs() < 1.0 {
        format!("{:.2} ms", x * 1e3)
    } else {
        format!("{x:.3} s")
    }
}

pub fn pct(x: f64) -> String {
    if x.is_finite() {
        format!("{:.2}%", x * 100.0)
    } else {
        "n/a".into()
    }
}

pub fn num(x: f64, decimals: usize) -> String {
    if x.is_finite() {
        format!("{x:.decimals$}")
    } else {
        "n/a".into()
    }
}

/// Rows of cells printed with every column padded to its widest cell; the first row
/// is the header, underlined. Numeric-looking cells (not the header's) are right-aligned.
pub fn print_table(rows: &[Vec<String>]) {
    let Some(first) = rows.first() else { return };
    let mut widths = vec![0; first.len()];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |row: &Vec<String>, header: bool| {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, &w)| {
                let numeric =
                    !header && (cell == "n/a" || cell.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+'));
                if numeric {
                    format!("{cell:>w$}")
                } else {
                    format!("{cell:<w$}")
                }
            })
            .collect();
        cells.join("  ").trim_end().to_string()
    };
    say!("{}", line(first, true));
    let total: usize = widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1);
    say!("{}", "-".repeat(total));
    for row in &rows[1..] {
        say!("{}", line(row, false));
    }
}

/// Two-column "name  value" list.
pub fn print_pairs(pairs: &[(&str, String)]) {
    let w = pairs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in pairs {
        say!("  {k:<w$}  {v}");
    }
}

/// Write each (file name, contents) into `dir`; returns the paths written.
pub fn write_files(dir: &Path, files: &[(String, String)]) -> CliResult<Vec<PathBuf>> {
    let mut written = Vec::with_capacity(files.len());
    for (name, contents) in files {
        let path = dir.join(name);
        write_file(&path, contents)?;
        written.push(path);
    }
    Ok(written)
}
