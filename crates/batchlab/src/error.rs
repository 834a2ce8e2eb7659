//! The one error type of the core. Every message is a single line that names where
//! the problem is: the file, row and column of bad input, or the configuration field at
//! fault. Fields are named as in `Config` (`k_bins`, `memory.m_max_gb`, `plan.max_gpus`),
//! never as a shell spells them: the CLI maps a field to its flag (`--k`), the page to
//! its control ("K bins"). See `config::FIELDS`.

use std::fmt;

/// Serialisable, so a run's error can come back from a worker or another machine.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Error {
    /// Bad content in a file (trace or calibration grid). `row` is 1-based and counts
    /// the header as row 1, as a spreadsheet shows it.
    Input {
        file: String,
        row: Option<usize>,
        column: Option<String>,
        message: String,
    },
    /// A configuration value out of range, unknown or inconsistent with another.
    Field { field: String, message: String },
    /// The token pass cannot time this schedule (a backend's limit, or a GPU failure).
    TokenPass { message: String },
    /// The caller asked the work to stop (between runs of a plan).
    Cancelled,
}

impl Error {
    pub fn input(file: &str, row: Option<usize>, column: Option<&str>, message: impl Into<String>) -> Self {
        Error::Input {
            file: file.to_string(),
            row,
            column: column.map(str::to_string),
            message: message.into(),
        }
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Error::Field { field: field.to_string(), message: message.into() }
    }

    pub fn token_pass(message: impl Into<String>) -> Self {
        Error::TokenPass { message: message.into() }
    }

    /// The configuration field at fault, if that is what the error is about.
    pub fn field_name(&self) -> Option<&str> {
        match self {
            Error::Field { field, .. } => Some(field),
            _ => None,
        }
    }

    /// The message without the place it names (for a shell that shows the place its own
    /// way, e.g. next to a control).
    pub fn message(&self) -> String {
        match self {
            Error::Input { message, .. } | Error::Field { message, .. } | Error::TokenPass { message } => one_line(message),
            Error::Cancelled => "cancelled".into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Input { file, row, column, message } => {
                // The file's and column's names come from the user too (a header cell
                // can hold a line break: found by the calibration fuzz target).
                write!(f, "{}", one_line(file))?;
                if let Some(r) = row {
                    write!(f, ", row {r}")?;
                }
                if let Some(c) = column {
                    write!(f, ", column '{}'", one_line(c))?;
                }
                write!(f, ": {}", one_line(message))
            }
            Error::Field { field, message } => write!(f, "{field}: {}", one_line(message)),
            Error::TokenPass { message } => write!(f, "token pass: {}", one_line(message)),
            Error::Cancelled => write!(f, "cancelled"),
        }
    }
}

/// Keep a message one line whatever it carries.
fn one_line(message: &str) -> String {
    message.replace(['\n', '\r'], " ")
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_error_names_file_row_and_column() {
        let e = Error::input("trace.csv", Some(7), Some("output_length"), "not a number: 'abc'");
        assert_eq!(e.to_string(), "trace.csv, row 7, column 'output_length': not a number: 'abc'");
    }

    #[test]
    fn input_error_is_one_line_when_its_column_or_file_name_holds_a_line_break() {
        let e = Error::input("a\nb.csv", Some(7), Some("\r\nBatch"), "not valid UTF-8");
        assert_eq!(e.to_string(), "a b.csv, row 7, column '  Batch': not valid UTF-8");
    }

    #[test]
    fn field_error_is_one_line_and_names_the_field() {
        let e = Error::field("k_bins", "must be at least 1\n(got 0)");
        assert_eq!(e.to_string(), "k_bins: must be at least 1 (got 0)");
        assert_eq!(e.field_name(), Some("k_bins"));
        assert_eq!(e.message(), "must be at least 1 (got 0)");
    }
}
