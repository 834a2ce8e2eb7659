//! The reproducibility stamp of the page's outputs: which BatchLab (version and commit)
//! made them, from which preset and configuration (a fingerprint of its JSON), on which
//! files (name and fingerprint of the bytes). It goes into every zip as `stamp.json`
//! and is shown under the results; the CSVs stay the CLI's bytes.

use batchlab::config::{fingerprint, Config, Preset};
use serde::Serialize;

/// The commit the site was built from (`scripts/build-web.sh` sets it from git).
pub const COMMIT: &str = match option_env!("BATCHLAB_COMMIT") {
    Some(c) => c,
    None => "unknown",
};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stamp {
    pub batchlab_version: &'static str,
    pub commit: &'static str,
    pub preset: String,
    /// Fingerprint of the configuration's JSON (as in run.json's "config").
    pub config_fingerprint: String,
    pub config: Config,
    /// (slot, file name, fingerprint of its bytes or "" when not yet known).
    pub files: Vec<(String, String, String)>,
}

impl Stamp {
    pub fn new(preset: Preset, config: &Config, files: Vec<(String, String, String)>) -> Stamp {
        let json = serde_json::to_string(config).expect("a Config serialises");
        Stamp {
            batchlab_version: batchlab::VERSION,
            commit: COMMIT,
            preset: preset.name().to_string(),
            config_fingerprint: fingerprint(json.as_bytes()),
            config: config.clone(),
            files,
        }
    }

    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a stamp serialises") + "\n"
    }

    /// One line for people.
    pub fn line(&self) -> String {
        let files: Vec<String> = self.files.iter().map(|(slot, name, fp)| if fp.is_empty() { format!("{slot} {name}") } else { format!("{slot} {name} ({fp})") }).collect();
        format!(
            "BatchLab {} (commit {}), preset {}, configuration {}{}",
            self.batchlab_version,
            self.commit,
            self.preset,
            self.config_fingerprint,
            if files.is_empty() { ", synthetic workload".to_string() } else { format!(", {}", files.join(", ")) }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stamp_names_the_build_the_configuration_and_the_files() {
        let config = Config::preset(Preset::Paper);
        let a = Stamp::new(Preset::Paper, &config, Vec::new());
        assert_eq!(a.config_fingerprint.len(), 16);
        assert!(a.line().starts_with(&format!("BatchLab {} (commit ", batchlab::VERSION)), "{}", a.line());
        assert!(a.line().ends_with("synthetic workload"));
        // Any change of the configuration changes its fingerprint; the same one keeps it.
        assert_eq!(Stamp::new(Preset::Paper, &config, Vec::new()), a);
        let b = Stamp::new(Preset::Paper, &Config { seed: config.seed + 1, ..config.clone() }, Vec::new());
        assert_ne!(b.config_fingerprint, a.config_fingerprint);
        let c = Stamp::new(Preset::Paper, &config, vec![("trace".into(), "t.csv".into(), "0123456789abcdef".into())]);
        assert!(c.line().ends_with("trace t.csv (0123456789abcdef)"), "{}", c.line());
        let json: serde_json::Value = serde_json::from_str(&c.json()).unwrap();
        assert_eq!(json["config"]["seed"], 42);
        assert_eq!(json["files"][0][1], "t.csv");
    }
}
