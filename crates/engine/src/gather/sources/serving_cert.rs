//! The API server's serving certificate, read from a TLS handshake with its address (the
//! caller's [`ApiServerAddress`]): the leaf certificate's subject and validity.
//!
//! The handshake only reads: no credential is sent (no client certificate, no request),
//! and the certificate is accepted whatever it is, since the point is to read its dates,
//! not to trust it (the pass's own client verifies the server as configured). rustls with
//! aws-lc-rs, like every TLS connection of postcheck.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use super::super::Pass;
use crate::access::ApiServerAddress;
use crate::snapshot::ServingCertificate;

/// How long the connection and the handshake may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Why the certificate could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CertError {
    /// The caller gave no address (the source is then not asked for; this is a bug guard).
    #[error("no API server address was given")]
    NoAddress,
    /// Connecting or the handshake failed.
    #[error("TLS handshake with {endpoint}")]
    Handshake {
        /// Where.
        endpoint: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The server presented no certificate, or one that does not parse.
    #[error("reading the certificate {endpoint} presented: {reason}")]
    Certificate {
        /// Where.
        endpoint: String,
        /// Why.
        reason: String,
    },
}

pub(super) async fn read(pass: &Pass<'_>) -> Result<Vec<ServingCertificate>, kube::Error> {
    let Some(address) = pass.apiserver.cloned() else {
        return Err(kube::Error::Service(Box::new(CertError::NoAddress)));
    };
    tokio::task::spawn_blocking(move || handshake(&address))
        .await
        .map_err(|e| kube::Error::Service(Box::new(e)))?
        .map(|c| vec![c])
        .map_err(|e| kube::Error::Service(Box::new(e)))
}

/// Connects to `address`, completes a TLS handshake and reads the leaf certificate.
pub(crate) fn handshake(address: &ApiServerAddress) -> Result<ServingCertificate, CertError> {
    let endpoint = address.addr.to_string();
    let io = |source| CertError::Handshake { endpoint: endpoint.clone(), source };
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| io(std::io::Error::other(e)))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(ReadOnly(provider.signature_verification_algorithms)))
        .with_no_client_auth();
    let name = ServerName::try_from(address.server_name.clone())
        .map_err(|e| io(std::io::Error::new(std::io::ErrorKind::InvalidInput, e)))?;
    let mut conn = rustls::ClientConnection::new(Arc::new(config), name)
        .map_err(|e| io(std::io::Error::other(e)))?;
    let mut sock = TcpStream::connect_timeout(&address.addr, TIMEOUT).map_err(io)?;
    sock.set_read_timeout(Some(TIMEOUT)).map_err(io)?;
    sock.set_write_timeout(Some(TIMEOUT)).map_err(io)?;
    while conn.is_handshaking() {
        conn.complete_io(&mut sock).map_err(io)?;
    }
    let der = conn.peer_certificates().and_then(|c| c.first()).cloned().ok_or_else(|| {
        CertError::Certificate { endpoint: endpoint.clone(), reason: "no certificate".into() }
    })?;
    conn.send_close_notify();
    let _ = conn.complete_io(&mut sock);
    let _ = sock.flush();
    let mut sink = [0u8; 1];
    let _ = sock.read(&mut sink);
    parse(&endpoint, &der)
}

/// The subject and validity of a DER certificate.
fn parse(endpoint: &str, der: &[u8]) -> Result<ServingCertificate, CertError> {
    let bad = |reason: String| CertError::Certificate { endpoint: endpoint.to_owned(), reason };
    let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|e| bad(e.to_string()))?;
    let time = |t: x509_parser::time::ASN1Time| {
        DateTime::<Utc>::from_timestamp(t.timestamp(), 0)
            .ok_or_else(|| bad(format!("a validity date out of range: {t}")))
    };
    Ok(ServingCertificate {
        endpoint: endpoint.to_owned(),
        subject: cert.subject().to_string(),
        not_before: time(cert.validity().not_before)?,
        not_after: time(cert.validity().not_after)?,
    })
}

/// Accepts any certificate (only its dates are read) but checks the handshake's signatures
/// with the provider's algorithms, so the handshake itself is sound.
#[derive(Debug)]
struct ReadOnly(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for ReadOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_subject_and_dates_of_a_certificate() {
        let mut params = rcgen::CertificateParams::new(vec!["kubernetes".into()]).unwrap();
        params.not_before = rcgen::date_time_ymd(2026, 1, 1);
        params.not_after = rcgen::date_time_ymd(2026, 12, 31);
        params.distinguished_name.push(rcgen::DnType::CommonName, "kube-apiserver");
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let read = parse("127.0.0.1:6443", cert.der()).unwrap();
        assert_eq!(read.subject, "CN=kube-apiserver");
        assert_eq!(read.not_after.to_rfc3339(), "2026-12-31T00:00:00+00:00");
        assert!(matches!(parse("x", b"not der"), Err(CertError::Certificate { .. })));
    }
}
