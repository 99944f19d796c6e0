//! `--httpsProtocol DIR`: the HTTP routes served over TLS with `DIR/cert.pem` (the certificate
//! chain) and `DIR/key.pem` (its private key), the files serverless-offline reads.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum TlsError {
    #[error("cannot read {path} for --httpsProtocol: {reason}")]
    #[diagnostic(help(
        "the directory needs cert.pem (a PEM certificate chain) and key.pem (its PEM private \
         key); `mkcert localhost` or `openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem \
         -out cert.pem -subj /CN=localhost` makes a pair"
    ))]
    Read { path: PathBuf, reason: String },
    #[error("the certificate and key in {directory} cannot be used together: {reason}")]
    #[diagnostic(help("key.pem must hold the private key of the first certificate in cert.pem"))]
    Mismatch { directory: PathBuf, reason: String },
}

/// The TLS acceptor for a `--httpsProtocol` directory.
pub fn acceptor(directory: &Path) -> Result<TlsAcceptor, TlsError> {
    let cert_path = directory.join("cert.pem");
    let key_path = directory.join("key.pem");
    let certificates: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert_path)
        .and_then(|items| items.collect::<Result<_, _>>())
        .map_err(|error| TlsError::Read {
            path: cert_path.clone(),
            reason: error.to_string(),
        })?;
    if certificates.is_empty() {
        return Err(TlsError::Read {
            path: cert_path,
            reason: "it holds no certificate".into(),
        });
    }
    let key = PrivateKeyDer::from_pem_file(&key_path).map_err(|error| TlsError::Read {
        path: key_path.clone(),
        reason: error.to_string(),
    })?;
    // Named explicitly: more than one crypto provider is linked in, and rustls will not pick.
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|builder| {
            builder
                .with_no_client_auth()
                .with_single_cert(certificates, key)
        })
        .map_err(|error| TlsError::Mismatch {
            directory: directory.to_path_buf(),
            reason: error.to_string(),
        })?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}
