//! The cluster's own PKI, made in Rust with rcgen: a CA, the API server's serving
//! certificate (for 127.0.0.1, localhost and the in-cluster names), and the service-account
//! signing key pair. Every cluster gets fresh ones, so clusters side by side trust nothing
//! of each other's.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};

use crate::error::TestEnvError;

/// The files of a cluster's PKI, all PEM, inside the state folder.
#[derive(Debug, Clone)]
pub(crate) struct PkiFiles {
    /// The CA certificate.
    pub ca_cert: PathBuf,
    /// The CA's private key (the controller-manager's CSR signer signs with it).
    pub ca_key: PathBuf,
    /// The API server's serving certificate.
    pub apiserver_cert: PathBuf,
    /// Its private key.
    pub apiserver_key: PathBuf,
    /// The service-account signing private key.
    pub sa_key: PathBuf,
    /// The service-account public key.
    pub sa_pub: PathBuf,
}

impl PkiFiles {
    /// Where the PKI lives under a state folder.
    pub(crate) fn under(dir: &Path) -> PkiFiles {
        let pki = dir.join("pki");
        PkiFiles {
            ca_cert: pki.join("ca.crt"),
            ca_key: pki.join("ca.key"),
            apiserver_cert: pki.join("apiserver.crt"),
            apiserver_key: pki.join("apiserver.key"),
            sa_key: pki.join("sa.key"),
            sa_pub: pki.join("sa.pub"),
        }
    }
}

fn pki_err(what: &'static str) -> impl FnOnce(rcgen::Error) -> TestEnvError {
    move |source| TestEnvError::Pki { what, source }
}

/// Generates the CA, the serving certificate and the service-account keys into `dir/pki`,
/// returning the file paths and the CA's PEM.
pub(crate) fn generate(dir: &Path) -> Result<(PkiFiles, String), TestEnvError> {
    let files = PkiFiles::under(dir);
    let pki_dir = files.ca_cert.parent().expect("pki folder").to_path_buf();
    std::fs::create_dir_all(&pki_dir).map_err(TestEnvError::io("creating", &pki_dir))?;

    let ca_key = KeyPair::generate().map_err(pki_err("the CA key"))?;
    let mut ca_params =
        CertificateParams::new(Vec::<String>::new()).map_err(pki_err("the CA parameters"))?;
    let mut ca_name = DistinguishedName::new();
    ca_name.push(DnType::CommonName, "postcheck-testcluster-ca");
    ca_params.distinguished_name = ca_name;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).map_err(pki_err("the CA certificate"))?;
    let ca_key_pem = ca_key.serialize_pem();
    let issuer = Issuer::new(ca_params, ca_key);

    let serving_key = KeyPair::generate().map_err(pki_err("the API server key"))?;
    let names: Vec<String> = [
        "127.0.0.1",
        "localhost",
        "10.96.0.1",
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut serving_params =
        CertificateParams::new(names).map_err(pki_err("the API server certificate parameters"))?;
    let mut serving_name = DistinguishedName::new();
    serving_name.push(DnType::CommonName, "kube-apiserver");
    serving_params.distinguished_name = serving_name;
    serving_params.key_usages =
        vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    serving_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let serving_cert = serving_params
        .signed_by(&serving_key, &issuer)
        .map_err(pki_err("the API server certificate"))?;

    let sa_key = KeyPair::generate().map_err(pki_err("the service-account key"))?;

    let ca_pem = ca_cert.pem();
    write_private(&files.ca_cert, &ca_pem)?;
    write_private(&files.ca_key, &ca_key_pem)?;
    write_private(&files.apiserver_cert, &serving_cert.pem())?;
    write_private(&files.apiserver_key, &serving_key.serialize_pem())?;
    write_private(&files.sa_key, &sa_key.serialize_pem())?;
    write_private(&files.sa_pub, &sa_key.public_key_pem())?;
    Ok((files, ca_pem))
}

/// Writes a file readable by its owner only (keys and tokens live in the state folder).
pub(crate) fn write_private(path: &Path, contents: &str) -> Result<(), TestEnvError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(TestEnvError::io("writing", path))?;
    file.write_all(contents.as_bytes()).map_err(TestEnvError::io("writing", path))
}
