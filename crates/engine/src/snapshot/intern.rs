//! Interned text: the strings a large cluster repeats, held once and shared.
//!
//! At 150,000 pods most of a pod's strings are copies of a few thousand distinct ones: its
//! namespace, its node, its owner, its images, and 8-9 labels shared with its siblings. An
//! [`Atom`] is a shared `str` (16 bytes inline, the text once per distinct value); a
//! [`Labels`] is a shared, sorted label set, so the pods of one ReplicaSet hold a single set
//! between them. An [`Interner`] hands them out for one gathering pass and is dropped with
//! it, so no table outlives the Snapshot. Decoding a Snapshot from a file interns through
//! [`decode_interned`]. Both types serialize exactly as the `String` and
//! `BTreeMap<String, String>` they replace: the baseline format is unchanged.

use std::borrow::Borrow;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A shared, immutable string: equal texts from one [`Interner`] share one allocation.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Atom(Arc<str>);

impl Atom {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Atom {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Atom {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Atom {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Atom {
    fn from(s: &str) -> Self {
        Self(Arc::from(s))
    }
}

impl From<String> for Atom {
    fn from(s: String) -> Self {
        Self(Arc::from(s))
    }
}

impl From<&String> for Atom {
    fn from(s: &String) -> Self {
        Self(Arc::from(s.as_str()))
    }
}

impl From<Atom> for String {
    fn from(a: Atom) -> Self {
        a.0.to_string()
    }
}

impl From<&Atom> for String {
    fn from(a: &Atom) -> Self {
        a.0.to_string()
    }
}

impl PartialEq<str> for Atom {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Atom {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for Atom {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<Atom> for str {
    fn eq(&self, other: &Atom) -> bool {
        self == &*other.0
    }
}

impl PartialEq<Atom> for &str {
    fn eq(&self, other: &Atom) -> bool {
        *self == &*other.0
    }
}

impl PartialEq<Atom> for String {
    fn eq(&self, other: &Atom) -> bool {
        **self == *other.0
    }
}

impl Serialize for Atom {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Atom {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(DECODING.with_borrow(|interner| match interner {
            Some(interner) => interner.atom(&text),
            None => Atom::from(text),
        }))
    }
}

/// A label set's pairs, sorted by key.
type Pairs = Arc<[(Atom, Atom)]>;

/// A label set, sorted by key: equal sets from one [`Interner`] share one allocation.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Labels(Pairs);

impl Labels {
    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        let i = self.0.binary_search_by(|(k, _)| k.as_str().cmp(key)).ok()?;
        Some(self.0[i].1.as_str())
    }

    /// Whether `key` is set.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The labels, by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// How many labels.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A copy with `key` set to `value` (fixtures build label sets this way).
    #[must_use]
    pub fn with(&self, key: &str, value: &str) -> Self {
        let mut map = self.to_map();
        map.insert(key.to_owned(), value.to_owned());
        Self::from(map)
    }

    /// A copy without `key`.
    #[must_use]
    pub fn without(&self, key: &str) -> Self {
        Self(self.0.iter().filter(|(k, _)| k.as_str() != key).cloned().collect())
    }

    /// The labels as an ordinary map.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        self.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
    }
}

impl From<BTreeMap<String, String>> for Labels {
    fn from(map: BTreeMap<String, String>) -> Self {
        Self(map.into_iter().map(|(k, v)| (Atom::from(k), Atom::from(v))).collect())
    }
}

impl fmt::Debug for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for Labels {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Labels {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<String, String>::deserialize(deserializer)?;
        Ok(DECODING.with_borrow(|interner| match interner {
            Some(interner) => interner.labels(map),
            None => Labels::from(map),
        }))
    }
}

/// The tables of one gathering pass (or one decoding): every distinct text and label set
/// once. Shared by the pass's concurrent lists; dropped with the pass.
#[derive(Default)]
pub struct Interner {
    atoms: Mutex<HashSet<Arc<str>>>,
    label_sets: Mutex<HashSet<Pairs>>,
}

impl Interner {
    /// The atom for `text`.
    pub fn atom(&self, text: &str) -> Atom {
        let mut atoms = self.atoms.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(a) = atoms.get(text) {
            return Atom(Arc::clone(a));
        }
        let a: Arc<str> = Arc::from(text);
        atoms.insert(Arc::clone(&a));
        Atom(a)
    }

    /// The atom for `text`, if any.
    pub fn atom_opt(&self, text: Option<String>) -> Option<Atom> {
        text.map(|t| self.atom(&t))
    }

    /// The shared set for `map`.
    pub fn labels(&self, map: BTreeMap<String, String>) -> Labels {
        if map.is_empty() {
            return Labels::default();
        }
        let pairs: Vec<(Atom, Atom)> =
            map.iter().map(|(k, v)| (self.atom(k), self.atom(v))).collect();
        let mut sets = self.label_sets.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(s) = sets.get(pairs.as_slice()) {
            return Labels(Arc::clone(s));
        }
        let s: Pairs = Arc::from(pairs);
        sets.insert(Arc::clone(&s));
        Labels(s)
    }

    /// How many distinct texts and label sets it holds.
    pub fn counts(&self) -> (usize, usize) {
        let atoms = self.atoms.lock().unwrap_or_else(PoisonError::into_inner).len();
        (atoms, self.label_sets.lock().unwrap_or_else(PoisonError::into_inner).len())
    }
}

thread_local! {
    /// The interner [`Atom`]'s and [`Labels`]'s `Deserialize` use on this thread, inside
    /// [`decode_interned`]; outside it each decoded string is its own.
    static DECODING: RefCell<Option<Interner>> = const { RefCell::new(None) };
}

/// Runs `decode` (a synchronous serde decoding, such as a Snapshot read from a file) with one
/// interner for every [`Atom`] and [`Labels`] it decodes; the table is dropped after.
pub fn decode_interned<T>(decode: impl FnOnce() -> T) -> T {
    /// Puts the outer interner back even if `decode` panics, so no table is left behind.
    struct Restore(Option<Interner>);
    impl Drop for Restore {
        fn drop(&mut self) {
            DECODING.set(self.0.take());
        }
    }
    let _restore = Restore(DECODING.replace(Some(Interner::default())));
    decode()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_from_one_interner_share_one_allocation() {
        let interner = Interner::default();
        let a = interner.atom("kube-system");
        let other = String::from("kube-system");
        let b = interner.atom(&other);
        assert!(Arc::ptr_eq(&a.0, &b.0));
        assert_eq!(a, "kube-system");
        assert_eq!(interner.counts(), (1, 0));
    }

    #[test]
    fn equal_label_sets_are_shared_and_looked_up_by_key() {
        let interner = Interner::default();
        let map = |hash: &str| {
            BTreeMap::from([
                ("app".to_owned(), "web".to_owned()),
                ("pod-template-hash".to_owned(), hash.to_owned()),
            ])
        };
        let a = interner.labels(map("5d78"));
        let b = interner.labels(map("5d78"));
        let c = interner.labels(map("6f00"));
        assert!(Arc::ptr_eq(&a.0, &b.0));
        assert!(!Arc::ptr_eq(&a.0, &c.0));
        assert_eq!(a.get("app"), Some("web"));
        assert_eq!(c.get("pod-template-hash"), Some("6f00"));
        assert_eq!(a.get("tier"), None);
        assert_eq!(interner.counts(), (5, 2));
    }

    #[test]
    fn serializes_as_the_string_and_map_it_replaces() {
        let labels = Labels::default().with("b", "2").with("a", "1");
        assert_eq!(serde_json::to_string(&labels).unwrap(), r#"{"a":"1","b":"2"}"#);
        assert_eq!(serde_json::to_string(&Atom::from("x")).unwrap(), r#""x""#);
    }

    #[test]
    fn decoding_inside_the_scope_interns() {
        let text = r#"[{"a":"1"},{"a":"1"}]"#;
        let sets: Vec<Labels> = decode_interned(|| serde_json::from_str(text)).unwrap();
        assert!(Arc::ptr_eq(&sets[0].0, &sets[1].0));
        let apart: Vec<Labels> = serde_json::from_str(text).unwrap();
        assert!(!Arc::ptr_eq(&apart[0].0, &apart[1].0));
        assert_eq!(apart[0], sets[0]);
    }
}
