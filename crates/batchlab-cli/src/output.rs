//! Terminal output: stdout that tolerates a closed pipe, and tables (comfy-table). Numbers
//! are formatted by the core's `report::human`, as in the web page; files by the core's
//! `report` only: nothing here ends up in a file.

use std::io::Write;
use std::path::{Path, PathBuf};

use comfy_table::{CellAlignment, Table};

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

/// A duration for reading, by the core's one human formatter ("5.74 ms", "41.8 min").
pub use batchlab::report::human::duration as secs;

/// How a column's cells line up: text to the left, numbers to the right.
#[derive(Clone, Copy)]
pub enum Align {
    Left,
    Right,
}

/// A table on stdout: the header underlined, columns two spaces apart, no other lines.
/// Rows shorter than the header are padded with empty cells.
pub fn print_table(columns: &[(&str, Align)], rows: impl IntoIterator<Item = Vec<String>>) {
    // A comfy-table preset with only the header line (its 6th character): no borders and
    // no vertical lines, so the output stays plain text to read, grep or paste.
    const HEADER_LINE_ONLY: &str = "     ─             ";
    let mut table = Table::new();
    table.load_preset(HEADER_LINE_ONLY).set_header(columns.iter().map(|(name, _)| *name));
    for mut row in rows {
        row.resize(columns.len(), String::new());
        table.add_row(row);
    }
    for (column, (_, align)) in table.column_iter_mut().zip(columns) {
        column.set_cell_alignment(match align {
            Align::Left => CellAlignment::Left,
            Align::Right => CellAlignment::Right,
        });
    }
    say!("{}", table.trim_fmt());
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
