//! The service's cryptography, all from aws-lc-rs: AES-256-GCM for secrets at rest
//! (registered kubeconfigs, access keys' secret keys), SHA-256 for token hashes, HMAC-SHA256
//! for request signatures, and random secrets.
//!
//! One master key encrypts everything. It comes from `POSTCHECK_KEY` (base64 or hex of 32
//! bytes) or a key file; a missing key file is generated on first start, and the service
//! says where. Every ciphertext is bound (as AEAD associated data) to what it protects, so
//! one cluster's credentials cannot be swapped for another's in the database.

use std::path::{Path, PathBuf};

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::{digest, hmac, rand};
use base64::Engine as _;

/// The format byte that starts every sealed value.
const SEALED_V1: u8 = 1;

/// Why the key could not be loaded or a value not be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The key file could not be read or written.
    #[error("{action} the key file {path}: {source}")]
    KeyFile {
        /// Reading, creating...
        action: &'static str,
        /// The key file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The key text is not 32 bytes in base64 or hex.
    #[error("the encryption key from {origin} is not 32 bytes written in base64 or hex")]
    BadKey {
        /// Where the key came from (the variable or the file).
        origin: String,
    },
    /// A sealed value was damaged, or sealed with another key or for another purpose.
    #[error("decrypting {what}: the data is damaged or was encrypted with another key")]
    Open {
        /// What was being decrypted.
        what: String,
    },
    /// The system's random source or the cipher failed.
    #[error("the cipher failed while {0}")]
    Cipher(&'static str),
}

/// Where the master key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// The key itself (base64 or hex of 32 bytes), from `POSTCHECK_KEY`.
    Inline(String),
    /// A file holding the key; generated when missing.
    File(PathBuf),
}

/// How a key was obtained, for the start-up log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyOrigin {
    /// From the environment.
    Environment,
    /// Read from an existing file.
    ReadFrom(PathBuf),
    /// Generated and written to a new file.
    GeneratedAt(PathBuf),
}

/// The AES-256-GCM key that protects every secret at rest.
pub struct MasterKey {
    key: LessSafeKey,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    /// Loads the key from its source, generating the key file when it does not exist yet.
    pub fn load(source: &KeySource) -> Result<(Self, KeyOrigin), CryptoError> {
        match source {
            KeySource::Inline(text) => {
                let bytes = decode_key(text)
                    .ok_or_else(|| CryptoError::BadKey { origin: "POSTCHECK_KEY".into() })?;
                Ok((Self::from_bytes(&bytes)?, KeyOrigin::Environment))
            }
            KeySource::File(path) => match std::fs::read_to_string(path) {
                Ok(text) => {
                    let bytes = decode_key(&text).ok_or_else(|| CryptoError::BadKey {
                        origin: path.display().to_string(),
                    })?;
                    Ok((Self::from_bytes(&bytes)?, KeyOrigin::ReadFrom(path.clone())))
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let bytes = random_bytes::<32>()?;
                    write_new_key_file(path, &bytes)?;
                    Ok((Self::from_bytes(&bytes)?, KeyOrigin::GeneratedAt(path.clone())))
                }
                Err(source) => {
                    Err(CryptoError::KeyFile { action: "reading", path: path.clone(), source })
                }
            },
        }
    }

    /// A key from its 32 raw bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, CryptoError> {
        let unbound = UnboundKey::new(&AES_256_GCM, bytes)
            .map_err(|_| CryptoError::Cipher("making the key"))?;
        Ok(Self { key: LessSafeKey::new(unbound) })
    }

    /// A fresh random key (tests).
    pub fn generate() -> Result<Self, CryptoError> {
        Self::from_bytes(&random_bytes::<32>()?)
    }

    /// Encrypts `plaintext` for `purpose` (bound as associated data): `1 || nonce || ciphertext+tag`.
    pub fn seal(&self, purpose: &str, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let nonce_bytes = random_bytes::<NONCE_LEN>()?;
        let mut in_out = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::from(purpose.as_bytes()),
                &mut in_out,
            )
            .map_err(|_| CryptoError::Cipher("encrypting"))?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + in_out.len());
        out.push(SEALED_V1);
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&in_out);
        Ok(out)
    }

    /// Decrypts what [`seal`](Self::seal) made for the same `purpose`.
    pub fn open(&self, purpose: &str, sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let fail = || CryptoError::Open { what: purpose.to_owned() };
        let rest = sealed.strip_prefix(&[SEALED_V1]).ok_or_else(fail)?;
        if rest.len() < NONCE_LEN {
            return Err(fail());
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| fail())?;
        let mut in_out = ciphertext.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(purpose.as_bytes()), &mut in_out)
            .map_err(|_| fail())?;
        Ok(plain.to_vec())
    }
}

fn decode_key(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(text).ok()?
    } else {
        base64::engine::general_purpose::STANDARD.decode(text).ok()?
    };
    bytes.try_into().ok()
}

fn write_new_key_file(path: &Path, bytes: &[u8; 32]) -> Result<(), CryptoError> {
    let io = |action| move |source| CryptoError::KeyFile { action, path: path.to_owned(), source };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io("creating the folder of"))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(io("creating"))?;
    let text = format!("{}\n", base64::engine::general_purpose::STANDARD.encode(bytes));
    std::io::Write::write_all(&mut file, text.as_bytes()).map_err(io("writing"))?;
    Ok(())
}

/// `N` bytes from the system's secure random source.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut buf = [0u8; N];
    rand::fill(&mut buf).map_err(|_| CryptoError::Cipher("drawing random bytes"))?;
    Ok(buf)
}

/// A random string of `len` characters from `alphabet`.
pub fn random_string(alphabet: &[u8], len: usize) -> Result<String, CryptoError> {
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for b in random_bytes::<64>()? {
            // Reject bytes past the largest multiple of the alphabet size: no modulo bias.
            let limit = 256 - 256 % alphabet.len();
            if (b as usize) < limit && out.len() < len {
                out.push(alphabet[b as usize % alphabet.len()] as char);
            }
        }
    }
    Ok(out)
}

/// Lowercase hex of SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(digest::digest(&digest::SHA256, data))
}

/// HMAC-SHA256 of `data` under `key`.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data).as_ref().to_vec()
}

/// Whether HMAC-SHA256 of `data` under `key` is `tag`, compared in constant time.
pub fn hmac_sha256_verify(key: &[u8], data: &[u8], tag: &[u8]) -> bool {
    hmac::verify(&hmac::Key::new(hmac::HMAC_SHA256, key), data, tag).is_ok()
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_the_same_key_and_purpose() {
        let key = MasterKey::generate().unwrap();
        let sealed = key.seal("cluster:a", b"apiVersion: v1\nkind: Config").unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"Config"), "the plaintext must not show through");
        assert_eq!(key.open("cluster:a", &sealed).unwrap(), b"apiVersion: v1\nkind: Config");
        assert!(key.open("cluster:b", &sealed).is_err(), "another purpose must not open it");
        assert!(
            MasterKey::generate().unwrap().open("cluster:a", &sealed).is_err(),
            "another key must not open it"
        );
        let mut damaged = sealed.clone();
        *damaged.last_mut().unwrap() ^= 1;
        assert!(key.open("cluster:a", &damaged).is_err());
    }

    #[test]
    fn a_missing_key_file_is_generated_once_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/key");
        let (first, origin) = MasterKey::load(&KeySource::File(path.clone())).unwrap();
        assert_eq!(origin, KeyOrigin::GeneratedAt(path.clone()));
        let sealed = first.seal("p", b"secret").unwrap();
        let (second, origin) = MasterKey::load(&KeySource::File(path.clone())).unwrap();
        assert_eq!(origin, KeyOrigin::ReadFrom(path.clone()));
        assert_eq!(second.open("p", &sealed).unwrap(), b"secret");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }

    #[test]
    fn an_inline_key_reads_as_hex_or_base64_and_refuses_anything_else() {
        let hex_key = "00".repeat(32);
        let b64_key = base64::engine::general_purpose::STANDARD.encode([0u8; 32]);
        let (a, _) = MasterKey::load(&KeySource::Inline(hex_key)).unwrap();
        let (b, _) = MasterKey::load(&KeySource::Inline(b64_key)).unwrap();
        assert_eq!(b.open("x", &a.seal("x", b"same").unwrap()).unwrap(), b"same");
        assert!(MasterKey::load(&KeySource::Inline("short".into())).is_err());
    }

    #[test]
    fn hashes_and_macs_match_known_vectors() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        // RFC 4231 test case 2.
        let tag = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(&tag),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(hmac_sha256_verify(b"Jefe", b"what do ya want for nothing?", &tag));
        assert!(!hmac_sha256_verify(b"Jeff", b"what do ya want for nothing?", &tag));
        assert!(
            constant_time_eq(b"abc", b"abc")
                && !constant_time_eq(b"abc", b"abd")
                && !constant_time_eq(b"ab", b"abc")
        );
    }

    #[test]
    fn random_strings_use_only_their_alphabet() {
        let s = random_string(b"ABC", 100).unwrap();
        assert_eq!(s.len(), 100);
        assert!(s.bytes().all(|b| b"ABC".contains(&b)));
        assert_ne!(random_string(b"ABCDEF", 32).unwrap(), random_string(b"ABCDEF", 32).unwrap());
    }
}
