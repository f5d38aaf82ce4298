//! Where the control plane's binaries are: the cache that `scripts/k8s-binaries` fills,
//! one folder per version, each complete only once it holds a `.complete` marker.

use std::path::{Path, PathBuf};

use crate::error::TestEnvError;

/// The etcd release the cache holds.
pub const ETCD_VERSION: &str = "3.6.16";
/// The kwok release the cache holds.
pub const KWOK_VERSION: &str = "0.8.0";

/// The binary cache: `$POSTCHECK_K8S_CACHE`, else `~/.cache/postcheck/k8s`.
pub fn binaries_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("POSTCHECK_K8S_CACHE").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let home =
        std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/root"));
    home.join(".cache").join("postcheck").join("k8s")
}

/// A Kubernetes release found in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Release {
    /// Full version without the `v`, e.g. `1.36.3`.
    pub version: String,
    /// The folder holding kube-apiserver, kube-controller-manager, kube-scheduler, kubectl.
    pub dir: PathBuf,
}

impl Release {
    /// The path of one component of this release.
    pub(crate) fn binary(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// Parses `1.36` or `1.36.3` (an optional leading `v` is accepted) into its numbers.
pub(crate) fn parse_version(version: &str) -> Result<(u32, u32, Option<u32>), TestEnvError> {
    let bad = || TestEnvError::BadVersion(version.to_string());
    let trimmed = version.trim().trim_start_matches('v');
    let parts: Vec<&str> = trimmed.split('.').collect();
    if !(2..=3).contains(&parts.len()) {
        return Err(bad());
    }
    let num = |s: &str| s.parse::<u32>().map_err(|_| bad());
    let patch = if parts.len() == 3 { Some(num(parts[2])?) } else { None };
    Ok((num(parts[0])?, num(parts[1])?, patch))
}

/// Finds the complete cached release for `1.36` (the highest patch present) or `1.36.3`.
pub(crate) fn find_release(version: &str) -> Result<Release, TestEnvError> {
    let (major, minor, patch) = parse_version(version)?;
    let dir = binaries_dir();
    let missing = |reason: String| TestEnvError::MissingBinaries {
        what: format!("Kubernetes v{version}"),
        dir: dir.clone(),
        reason,
    };
    let entries =
        std::fs::read_dir(&dir).map_err(|e| missing(format!("cannot list the cache: {e}")))?;
    let mut best: Option<(u32, Release)> = None;
    let mut incomplete = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix('v') else {
            continue;
        };
        let Ok((ma, mi, Some(pa))) = parse_version(rest) else {
            continue;
        };
        if ma != major || mi != minor || patch.is_some_and(|p| p != pa) {
            continue;
        }
        if !entry.path().join(".complete").exists() {
            incomplete.push(name);
            continue;
        }
        if best.as_ref().is_none_or(|(p, _)| pa > *p) {
            best = Some((pa, Release { version: format!("{ma}.{mi}.{pa}"), dir: entry.path() }));
        }
    }
    match best {
        Some((_, release)) => Ok(release),
        None if !incomplete.is_empty() => Err(missing(format!(
            "{} has no .complete marker yet (still building?)",
            incomplete.join(", ")
        ))),
        None => Err(missing("no such version folder".into())),
    }
}

fn complete_dir(name: &str, what: &str) -> Result<PathBuf, TestEnvError> {
    let dir = binaries_dir().join(name);
    if dir.join(".complete").exists() {
        Ok(dir)
    } else {
        Err(TestEnvError::MissingBinaries {
            what: what.to_string(),
            dir,
            reason: "no .complete marker".into(),
        })
    }
}

/// The cached etcd binary.
pub(crate) fn etcd() -> Result<PathBuf, TestEnvError> {
    Ok(complete_dir(&format!("etcd-v{ETCD_VERSION}"), "etcd")?.join("etcd"))
}

/// The cached kwok folder (the `kwok` binary and its `stage/` YAMLs).
pub(crate) fn kwok_dir() -> Result<PathBuf, TestEnvError> {
    complete_dir(&format!("kwok-v{KWOK_VERSION}"), "kwok")
}

/// Whether a path is an existing file (for error messages that name what is missing).
pub(crate) fn require_file(path: &Path, what: &str) -> Result<(), TestEnvError> {
    if path.is_file() {
        Ok(())
    } else {
        Err(TestEnvError::MissingBinaries {
            what: what.to_string(),
            dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
            reason: format!("{} does not exist", path.display()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_with_or_without_patch() {
        assert_eq!(parse_version("1.36").unwrap(), (1, 36, None));
        assert_eq!(parse_version("v1.37.2").unwrap(), (1, 37, Some(2)));
        assert!(parse_version("1").is_err());
        assert!(parse_version("1.x").is_err());
        assert!(parse_version("1.2.3.4").is_err());
    }
}
