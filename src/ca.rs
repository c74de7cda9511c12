//! The certificate authority of proxy mode: created once per data directory (`ca/cert.pem`,
//! `ca/key.pem`) and reused on every start, or kept in memory when there is no directory. It
//! issues, at each start, the certificate with which the proxy (`routes::proxy`) terminates
//! TLS for Twilio's hosts, so a client that trusts the CA (`REQUESTS_CA_BUNDLE`,
//! `NODE_EXTRA_CA_CERTS`, `curl --cacert`) cannot tell the emulator from Twilio.

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Datelike;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    date_time_ymd,
};
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The hosts proxy mode emulates, on port 443: the ones Conversations, Chat v2 and media
/// uploads (Media Content Service) are reached at. Every other host is refused.
pub const EMULATED_HOSTS: [&str; 3] = ["conversations.twilio.com", "chat.twilio.com", "mcs.us1.twilio.com"];

/// The CA's name. It is also what the leaf certificates name as their issuer, so it must
/// never change: a CA created by an earlier version would otherwise stop matching them.
const CA_NAME: &str = "Twilio Conversations Emulator CA";

/// The CA's directory under the data directory, and its two files.
const CA_DIR: &str = "ca";
const CERT_FILE: &str = "cert.pem";
const KEY_FILE: &str = "key.pem";

/// The emulator's CA and the TLS configuration of the certificate it issued.
pub struct Authority {
    /// The CA certificate's file, or `None` when the CA lives in memory only.
    path: Option<PathBuf>,
    /// The CA certificate, PEM-encoded: what clients are told to trust.
    pem: String,
    tls: Arc<ServerConfig>,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authority").field("path", &self.path).finish_non_exhaustive()
    }
}

/// Why the CA could not be created, loaded or used.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    #[error("{path}: {error}")]
    Io { path: PathBuf, error: io::Error },
    #[error("{path} is not a usable CA: {reason}")]
    Unusable { path: PathBuf, reason: String },
    #[error("cannot issue a certificate: {0}")]
    Issue(#[from] rcgen::Error),
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
}

impl Authority {
    /// The CA kept under `data_dir` (created there, private key `0600`, on first use), with a
    /// fresh certificate for [`EMULATED_HOSTS`].
    pub fn in_dir(data_dir: &Path) -> Result<Self, CaError> {
        let dir = data_dir.join(CA_DIR);
        if !dir.join(KEY_FILE).exists() {
            create(data_dir, &dir)?;
        }
        let read = |name: &str| {
            let path = dir.join(name);
            fs::read_to_string(&path).map_err(|error| CaError::Io { path, error })
        };
        let (key_pem, pem) = (read(KEY_FILE)?, read(CERT_FILE)?);
        let unusable = |reason: String| CaError::Unusable { path: dir.clone(), reason };
        let key = KeyPair::from_pem(&key_pem).map_err(|error| unusable(error.to_string()))?;
        let certificate =
            CertificateDer::from_pem_slice(pem.as_bytes()).map_err(|error| unusable(error.to_string()))?;
        // The certificate is trusted by clients and the key signs: they must belong together.
        if !certificate.windows(key.public_key_raw().len()).any(|window| window == key.public_key_raw()) {
            return Err(unusable(format!("{CERT_FILE} is not the certificate of {KEY_FILE}")));
        }
        Self::issuing(key, certificate, pem, Some(dir.join(CERT_FILE)))
    }

    /// A CA that lives as long as the process: for a server with no data directory.
    pub fn in_memory() -> Result<Self, CaError> {
        let key = KeyPair::generate()?;
        let certificate = ca_params().self_signed(&key)?;
        let pem = certificate.pem();
        Self::issuing(key, certificate.der().clone(), pem, None)
    }

    /// The CA certificate's file, or `None` when it lives in memory only.
    pub fn certificate_path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The CA certificate, PEM-encoded, as `GET /_emulator/ca.pem` serves it.
    pub fn certificate_pem(&self) -> &str {
        &self.pem
    }

    /// The start-up line that tells users which certificate to trust.
    pub fn describe(&self) -> String {
        match &self.path {
            Some(path) => format!("proxy mode CA certificate: {} (also at GET /_emulator/ca.pem)", path.display()),
            None => {
                "proxy mode CA certificate: in memory, at GET /_emulator/ca.pem (give --data-dir to keep it)".into()
            }
        }
    }

    /// The TLS configuration that presents the certificate for [`EMULATED_HOSTS`].
    pub(crate) fn tls(&self) -> Arc<ServerConfig> {
        Arc::clone(&self.tls)
    }

    /// The CA `key` (certified by `certificate`, `pem`), with a certificate it issued for
    /// [`EMULATED_HOSTS`] and a TLS configuration presenting it.
    fn issuing(
        key: KeyPair,
        certificate: CertificateDer<'static>,
        pem: String,
        path: Option<PathBuf>,
    ) -> Result<Self, CaError> {
        let issuer = Issuer::new(ca_params(), key);
        let leaf_key = KeyPair::generate()?;
        let leaf = leaf_params()?.signed_by(&leaf_key, &issuer)?;
        // ring, named rather than taken from the process default: a dependency that enables
        // another provider must not make the choice ambiguous.
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut tls = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf.der().clone(), certificate],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
            )?;
        // HTTP/1.1 only: every SDK speaks it, and the tunnel serves it with hyper's http1.
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self { path, pem, tls: Arc::new(tls) })
    }
}

/// Creates the CA in `dir` (under `data_dir`) atomically: both files are written into a
/// private temporary directory that is then renamed into place, so that two emulators
/// starting at once on one data directory end up sharing one CA, never half of each.
fn create(data_dir: &Path, dir: &Path) -> Result<(), CaError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |error| CaError::Io { path, error }
    };
    fs::create_dir_all(data_dir).map_err(io(data_dir))?;
    let temporary = data_dir.join(format!(".{CA_DIR}-{}-{}", std::process::id(), rand::random::<u64>()));
    DirBuilder::new().mode(0o700).create(&temporary).map_err(io(&temporary))?;
    let written = write_new(&temporary);
    let renamed = written.and_then(|()| fs::rename(&temporary, dir).map_err(io(dir)));
    if renamed.is_err() {
        let _ = fs::remove_dir_all(&temporary);
    }
    match renamed {
        // Another process created it first: theirs is the one.
        Err(_) if dir.join(KEY_FILE).exists() => Ok(()),
        other => other,
    }
}

/// Writes a new CA's key (`0600`) and certificate into `dir`.
fn write_new(dir: &Path) -> Result<(), CaError> {
    let key = KeyPair::generate()?;
    let certificate = ca_params().self_signed(&key)?;
    for (name, text, mode) in [(KEY_FILE, key.serialize_pem(), 0o600), (CERT_FILE, certificate.pem(), 0o644)] {
        let path = dir.join(name);
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&path)
            .and_then(|mut file| file.write_all(text.as_bytes()).and_then(|()| file.sync_all()))
            .map_err(|error| CaError::Io { path, error })?;
    }
    Ok(())
}

/// The CA's certificate: a CA for any name, valid from last year for twenty years. The
/// issuer of every leaf is built from these parameters too, so only the name, key usages
/// and key identifier method may matter to them.
fn ca_params() -> CertificateParams {
    let year = chrono::Utc::now().year();
    let mut params = CertificateParams::default();
    params.distinguished_name.remove(DnType::CommonName);
    params.distinguished_name.push(DnType::CommonName, CA_NAME);
    params.distinguished_name.push(DnType::OrganizationName, "twilio-conversations-emulator");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    params.not_before = date_time_ymd(year - 1, 1, 1);
    params.not_after = date_time_ymd(year + 20, 1, 1);
    params
}

/// The certificate the proxy presents: every emulated host, for server authentication, with
/// the extensions that strict verifiers (Python 3.13's `VERIFY_X509_STRICT`) require.
fn leaf_params() -> Result<CertificateParams, rcgen::Error> {
    let year = chrono::Utc::now().year();
    let mut params = CertificateParams::new(EMULATED_HOSTS.map(str::to_owned))?;
    params.distinguished_name.remove(DnType::CommonName);
    params.distinguished_name.push(DnType::CommonName, EMULATED_HOSTS[0]);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    params.not_before = date_time_ymd(year - 1, 1, 1);
    params.not_after = date_time_ymd(year + 2, 1, 1);
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory under the build's temporary directory.
    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("emulator-ca-{name}-{}-{}", std::process::id(), rand::random::<u64>()));
        fs::create_dir_all(&dir).expect("create a scratch directory");
        dir
    }

    #[test]
    fn a_data_directory_keeps_one_ca_across_starts_with_a_private_key() {
        let dir = scratch("reuse");
        let first = Authority::in_dir(&dir).expect("a new CA");
        let second = Authority::in_dir(&dir).expect("the same CA");
        assert_eq!(first.certificate_pem(), second.certificate_pem());
        assert_eq!(first.certificate_path(), Some(dir.join("ca/cert.pem").as_path()));
        let mode = fs::metadata(dir.join("ca/key.pem")).expect("the key file").permissions();
        assert_eq!(std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777, 0o600);
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn a_certificate_that_is_not_the_keys_is_refused() {
        let dir = scratch("mismatch");
        Authority::in_dir(&dir).expect("a new CA");
        fs::write(dir.join("ca/cert.pem"), Authority::in_memory().expect("another CA").certificate_pem())
            .expect("replace the certificate");
        let error = Authority::in_dir(&dir).expect_err("a certificate of another key");
        assert!(matches!(error, CaError::Unusable { .. }), "{error}");
        let _ = fs::remove_dir_all(dir);
    }
}
