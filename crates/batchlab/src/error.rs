//! The one error type of the core. Every message is a single line that names where
//! the problem is: the file, row and column of bad input, or the option at fault.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// Bad content in a file (trace or calibration grid). `row` is 1-based and counts
    /// the header as row 1, as a spreadsheet shows it.
    Input {
        file: String,
        row: Option<usize>,
        column: Option<String>,
        message: String,
    },
    /// A configuration value out of range or unknown.
    Option { option: String, message: String },
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

    pub fn option(option: &str, message: impl Into<String>) -> Self {
        Error::Option { option: option.to_string(), message: message.into() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Input { file, row, column, message } => {
                write!(f, "{file}")?;
                if let Some(r) = row {
                    write!(f, ", row {r}")?;
                }
                if let Some(c) = column {
                    write!(f, ", column '{c}'")?;
                }
                // Keep it one line whatever the message carries.
                write!(f, ": {}", message.replace(['\n', '\r'], " "))
            }
            Error::Option { option, message } => write!(f, "option {option}: {}", message.replace(['\n', '\r'], " ")),
            Error::Cancelled => write!(f, "cancelled"),
        }
    }
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
    fn option_error_is_one_line() {
        let e = Error::option("--k", "must be at least 1\n(got 0)");
        assert_eq!(e.to_string(), "option --k: must be at least 1 (got 0)");
    }
}
