//! Cluster versions as CCE and Kubernetes write them.
//!
//! CCE says `v1.19.16-r80` (Kubernetes 1.19.16, CCE patch revision 80) or just `v1.25`
//! ("the latest patch"); Kubernetes' `/version` says `v1.36.3`, managed clusters add
//! suffixes (`v1.30.4-eks-a737599`, `v1.29.6-gke.1038001`). Semver would read `-r80` as a
//! pre-release and order it before `1.19.16`, so we compare `(major, minor, patch)` and keep
//! the revision and any vendor suffix apart.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// A parsed version: the Kubernetes part `major.minor[.patch]`, CCE's revision, a vendor suffix.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Version {
    /// Kubernetes major version (always 1 so far).
    pub major: u32,
    /// Kubernetes minor version.
    pub minor: u32,
    /// Patch version; `None` when the string named only `vX.Y` ("any patch").
    pub patch: Option<u32>,
    /// CCE's patch revision, the `80` of `-r80`.
    pub revision: Option<u32>,
    /// Anything else after the Kubernetes part (`eks-a737599`, `gke.1038001`), kept verbatim.
    pub suffix: Option<String>,
}

/// Why a version string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid version {input:?}: {reason} (expected a form like v1.25, v1.25.5 or v1.19.16-r80)"
)]
pub struct ParseVersionError {
    /// The string as given.
    pub input: String,
    /// What was wrong with it.
    pub reason: &'static str,
}

impl Version {
    /// Parses `v1.25`, `1.25.5`, `v1.19.16-r80`, `v1.30.4-eks-a737599`, `v1.29.6-gke.1038001`.
    pub fn parse(input: &str) -> Result<Self, ParseVersionError> {
        let err = |reason| ParseVersionError { input: input.to_owned(), reason };
        let s = input.trim();
        let s = s.strip_prefix(['v', 'V']).unwrap_or(s);
        if s.is_empty() {
            return Err(err("it is empty"));
        }
        let (core, rest) = match s.find(['-', '+']) {
            Some(i) => (&s[..i], Some(&s[i + 1..])),
            None => (s, None),
        };
        let mut parts = core.split('.');
        let number = |p: Option<&str>, what| -> Result<u32, ParseVersionError> {
            let p = p.ok_or_else(|| err(what))?;
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) || p.len() > 6 {
                return Err(err(what));
            }
            p.parse().map_err(|_| err(what))
        };
        let major = number(parts.next(), "the major version is not a number")?;
        let minor = number(parts.next(), "the minor version is missing or not a number")?;
        let patch = match parts.next() {
            None => None,
            Some(p) => Some(number(Some(p), "the patch version is not a number")?),
        };
        if parts.next().is_some() {
            return Err(err("it has more than three numeric parts"));
        }
        let (revision, suffix) = match rest {
            None => (None, None),
            Some("") => return Err(err("it ends with a dangling separator")),
            Some(r) => {
                // `r80`, or `r0-25.1.26` (a revision, then a build suffix, as CCE's
                // `/version` writes it).
                let (head, tail) = match r.split_once('-') {
                    Some((h, t)) if !t.is_empty() => (h, Some(t)),
                    _ => (r, None),
                };
                match head
                    .strip_prefix('r')
                    .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                {
                    Some(n) if patch.is_some() => (
                        Some(number(Some(n), "the revision is not a number")?),
                        tail.map(str::to_owned),
                    ),
                    _ => (None, Some(r.to_owned())),
                }
            }
        };
        Ok(Self { major, minor, patch, revision, suffix })
    }

    /// The Kubernetes part only, as `(major, minor, patch)` with a missing patch as 0.
    pub fn triple(&self) -> (u32, u32, u32) {
        (self.major, self.minor, self.patch.unwrap_or(0))
    }

    /// The Kubernetes minor, `(major, minor)`.
    pub fn minor_pair(&self) -> (u32, u32) {
        (self.major, self.minor)
    }

    /// Whether a cluster running `self` satisfies a target of `target`: the same
    /// major.minor, and the same patch unless the target named none. CCE's revision and
    /// vendor suffixes are not part of Kubernetes' version and are ignored.
    pub fn satisfies(&self, target: &Version) -> bool {
        self.minor_pair() == target.minor_pair()
            && match (target.patch, self.patch) {
                (None, _) => true,
                (Some(t), Some(s)) => t == s,
                (Some(_), None) => false,
            }
    }

    /// Whether a cluster running `self` is still on `source`, the version before the
    /// upgrade: the same minor when the source named no patch; else the same
    /// `major.minor.patch` and no different CCE revision (a revision that is not known on
    /// both sides does not tell them apart).
    pub fn still_on(&self, source: &Version) -> bool {
        if source.patch.is_none() {
            return self.minor_pair() == source.minor_pair();
        }
        self.patch.is_some()
            && self.triple() == source.triple()
            && match (self.revision, source.revision) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }

    /// Orders two versions by their Kubernetes part; a missing patch counts as 0. The CCE
    /// revision breaks ties only when both have one.
    pub fn cmp_kubernetes(&self, other: &Version) -> Ordering {
        self.triple().cmp(&other.triple()).then_with(|| match (self.revision, other.revision) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => Ordering::Equal,
        })
    }

    /// How many minors `self` is behind `other` (negative when ahead). Majors other than
    /// equal count as far apart.
    pub fn minors_behind(&self, other: &Version) -> i64 {
        if self.major != other.major {
            return if self.major < other.major { i64::MAX / 2 } else { i64::MIN / 2 };
        }
        i64::from(other.minor) - i64::from(self.minor)
    }
}

impl FromStr for Version {
    type Err = ParseVersionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}.{}", self.major, self.minor)?;
        if let Some(p) = self.patch {
            write!(f, ".{p}")?;
        }
        if let Some(r) = self.revision {
            write!(f, "-r{r}")?;
        }
        if let Some(s) = &self.suffix {
            write!(f, "-{s}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn reads_cce_versions_with_revision() {
        let x = v("v1.19.16-r80");
        assert_eq!((x.major, x.minor, x.patch, x.revision), (1, 19, Some(16), Some(80)));
        assert_eq!(x.to_string(), "v1.19.16-r80");
    }

    #[test]
    fn reads_bare_minor_and_unprefixed() {
        assert_eq!(v("v1.25").patch, None);
        assert_eq!(v("1.25.5").triple(), (1, 25, 5));
    }

    #[test]
    fn keeps_vendor_suffixes_apart_from_the_kubernetes_part() {
        let eks = v("v1.30.4-eks-a737599");
        assert_eq!(eks.triple(), (1, 30, 4));
        assert_eq!(eks.suffix.as_deref(), Some("eks-a737599"));
        assert_eq!(v("v1.29.6-gke.1038001").suffix.as_deref(), Some("gke.1038001"));
    }

    #[test]
    fn a_revision_is_not_a_prerelease() {
        // semver would put 1.19.16-r80 before 1.19.16; Kubernetes-wise they are the same.
        assert_eq!(v("v1.19.16-r80").cmp_kubernetes(&v("v1.19.16")), Ordering::Equal);
        assert_eq!(v("v1.19.16-r80").cmp_kubernetes(&v("v1.15.11-r1")), Ordering::Greater);
    }

    #[test]
    fn a_bare_minor_target_matches_any_patch() {
        assert!(v("v1.37.2").satisfies(&v("v1.37")));
        assert!(v("v1.37.2").satisfies(&v("v1.37.2-r0")));
        assert!(!v("v1.37.2").satisfies(&v("v1.37.3")));
        assert!(!v("v1.36.3").satisfies(&v("v1.37")));
    }

    #[test]
    fn a_revision_may_carry_a_build_suffix() {
        let x = v("v1.25.5-r0-25.1.26");
        assert_eq!((x.patch, x.revision), (Some(5), Some(0)));
        assert_eq!(x.suffix.as_deref(), Some("25.1.26"));
        assert_eq!(x.to_string(), "v1.25.5-r0-25.1.26");
    }

    #[test]
    fn still_on_the_source_by_minor_patch_and_revision() {
        assert!(v("v1.36.3").still_on(&v("v1.36")));
        assert!(!v("v1.37.2").still_on(&v("v1.36")));
        assert!(v("v1.37.2").still_on(&v("v1.37.2")));
        assert!(!v("v1.37.3").still_on(&v("v1.37.2")));
        assert!(v("v1.37.2-r0").still_on(&v("v1.37.2-r0")));
        assert!(!v("v1.37.2-r1").still_on(&v("v1.37.2-r0")));
        assert!(v("v1.37.2").still_on(&v("v1.37.2-r0")));
    }

    #[test]
    fn refuses_garbage() {
        for bad in ["", "v", "1", "v1.x", "v1.2.3.4", "1..2", "v1.2-", "latest", "v1.2.99999999"] {
            assert!(Version::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn counts_minor_skew() {
        assert_eq!(v("v1.34.1").minors_behind(&v("v1.37.2")), 3);
        assert_eq!(v("v1.37.2").minors_behind(&v("v1.36.0")), -1);
    }
}
