//! Finding and reading `.netreach.yaml` for the CLI and the language server; what it means is
//! [`netreach_policy::Config`]'s.

use std::path::{Path, PathBuf};

use netreach_policy::config::FILE_NAME;
use netreach_policy::{Config, Options, Profile};

/// A config read from disk, with the folder its relative paths start from.
#[derive(Debug, Clone, Default)]
pub struct Project {
    /// The settings.
    pub config: Config,
    /// The folder holding the config file.
    pub dir: PathBuf,
}

/// The nearest `.netreach.yaml` in `start` or one of its parents.
pub fn discover(start: &Path) -> Option<PathBuf> {
    start.ancestors().map(|d| d.join(FILE_NAME)).find(|p| p.is_file())
}

impl Project {
    /// Read the config at `path`.
    pub fn load(path: &Path) -> Result<Project, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let config = Config::from_text(&text).map_err(|e| format!("{}:{e}", path.display()))?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(Project { config, dir })
    }

    /// The config's profile, read relative to the config file.
    pub fn profile(&self) -> Result<Option<Profile>, String> {
        self.config.profile.as_deref().map(|p| read_profile(&self.dir.join(p))).transpose()
    }

    /// Apply the config's settings (profile included) to `options`.
    pub fn apply(&self, options: &mut Options) -> Result<(), String> {
        self.config.apply(options);
        if let Some(p) = self.profile()? {
            options.profile = p;
        }
        Ok(())
    }

    /// Whether `path` lies under one of the config's `exclude` entries.
    pub fn excluded(&self, path: &Path) -> bool {
        let Ok(path) = path.canonicalize() else { return false };
        self.config.exclude.iter().filter_map(|e| self.dir.join(e).canonicalize().ok()).any(|e| path.starts_with(e))
    }
}

/// Read a cluster profile file; errors carry the file name and `line:col`.
pub fn read_profile(path: &Path) -> Result<Profile, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Profile::from_text(&text).map_err(|e| format!("{}:{e}", path.display()))
}
