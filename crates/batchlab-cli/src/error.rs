//! The CLI's errors: one line each, exit code 2. The core's `Error` names the file, row
//! and column, or the configuration field; the CLI says which of its flags sets that
//! field (`options::flag_of`) and adds what it does itself (file I/O).

use std::fmt;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

/// Exit code of every error: bad input or usage (the convention of clap and grep).
pub const EXIT_USAGE: u8 = 2;

#[derive(Debug)]
pub struct CliError(String);

impl CliError {
    pub fn new(message: impl Into<String>) -> Self {
        CliError(message.into())
    }

    /// An error about a command-line option: "option --x: ...".
    pub fn option(flag: &str, message: impl Into<String>) -> Self {
        CliError(format!("option {flag}: {}", message.into().replace(['\n', '\r'], " ")))
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<batchlab::Error> for CliError {
    fn from(e: batchlab::Error) -> Self {
        match e.field_name().map(|f| (f, crate::options::flag_of(f))) {
            Some((_, Some(flag))) => CliError::option(flag, e.message()),
            // A field without a flag of its own (a test lists them all, so only a new
            // field not yet mapped): say it in the core's words.
            _ => CliError(e.to_string()),
        }
    }
}

pub type CliResult<T> = Result<T, CliError>;

pub fn read_file(path: &Path) -> CliResult<Vec<u8>> {
    std::fs::read(path).map_err(|e| CliError(format!("cannot read {}: {e}", path.display())))
}

/// Write `contents` to `path`, creating its folder if needed.
pub fn write_file(path: &Path, contents: &str) -> CliResult<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| CliError(format!("cannot create folder {}: {e}", dir.display())))?;
    }
    std::fs::write(path, contents).map_err(|e| CliError(format!("cannot write {}: {e}", path.display())))
}

/// Handle a clap parse failure: help and version go to stdout with exit 0; a usage
/// error becomes one line (clap's first paragraph) and exit 2.
pub fn clap_exit(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        // Nothing useful to do if stdout is closed.
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        print_error("no command given; expected one of: run, stress, fit-calibration, bench (see --help)");
        return ExitCode::from(EXIT_USAGE);
    }
    let rendered = e.render().to_string();
    let first_paragraph: Vec<&str> = rendered
        .lines()
        .map(str::trim)
        .skip_while(|l| l.is_empty())
        .take_while(|l| !l.is_empty())
        .collect();
    let message = first_paragraph.join(" ");
    let message = message.strip_prefix("error: ").unwrap_or(&message);
    print_error(&format!("{message} (see --help)"));
    ExitCode::from(EXIT_USAGE)
}

/// `error: <message>` on stderr, one line (ignoring a closed stderr rather than panicking).
pub fn print_error(message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "error: {}", message.replace(['\n', '\r'], " "));
}
