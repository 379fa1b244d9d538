//! PostgreSQL over TLS with rustls (ring), as libpq reads `sslmode` and `sslrootcert`
//! from the connection URL (docs/postgres.md). tokio-postgres knows only `disable`,
//! `prefer` and `require` and rejects `sslrootcert`, so both are taken out of the URL
//! here and the rest is tokio-postgres's to read (`target_session_attrs`, several hosts,
//! `connect_timeout`, …).
//!
//! | `sslmode`     | TLS                          | server certificate checked            |
//! |---------------|------------------------------|---------------------------------------|
//! | `disable`     | never                        | —                                     |
//! | `prefer`      | when the server offers it    | no (as libpq)                          |
//! | `require`     | always                       | no; against `sslrootcert` when given   |
//! | `verify-ca`   | always                       | chain to `sslrootcert`                 |
//! | `verify-full` | always                       | chain to `sslrootcert` and host name   |

use std::future::Future;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};

/// The `sslmode` values libpq documents, less `allow` (plain first, TLS only when the
/// server insists), which protects nothing `prefer` does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(text: &str) -> Result<SslMode, String> {
        Ok(match text {
            "disable" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(format!(
                    "sslmode={other:?} is not one of disable, prefer, require, verify-ca, verify-full"
                ));
            }
        })
    }
}

/// What the URL asked for, once read: tokio-postgres's configuration and the TLS
/// connector for it.
pub struct ConnectOptions {
    pub config: tokio_postgres::Config,
    pub tls: MakeRustls,
    pub mode: SslMode,
}

/// Reads a `postgres://…` URL or a `key=value` connection string.
pub fn connect_options(url: &str) -> Result<ConnectOptions, String> {
    let split = split_ssl_options(url)?;
    let mode = match &split.sslmode {
        Some(m) => SslMode::parse(m)?,
        None => SslMode::Prefer,
    };
    let mut config: tokio_postgres::Config = split
        .rest
        .parse()
        .map_err(|e: tokio_postgres::Error| super::postgres::with_causes(&e))?;
    config.ssl_mode(match mode {
        SslMode::Disable => tokio_postgres::config::SslMode::Disable,
        SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
            tokio_postgres::config::SslMode::Require
        }
    });
    let roots = match split.sslrootcert.as_deref() {
        Some(path) => Some(read_roots(Path::new(path))?),
        None if matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull) => {
            return Err(format!(
                "sslmode={} needs sslrootcert=<PEM file of the certificate authority that \
                 signed the server's certificate>",
                split.sslmode.as_deref().unwrap_or_default()
            ));
        }
        None => None,
    };
    // As libpq: `require` with a root certificate file checks the chain as `verify-ca`.
    let check = match (mode, roots) {
        (SslMode::VerifyFull, Some(roots)) => Check::ChainAndName(roots),
        (SslMode::Require | SslMode::VerifyCa, Some(roots)) => Check::Chain(roots),
        _ => Check::Nothing,
    };
    Ok(ConnectOptions {
        config,
        tls: MakeRustls::new(check)?,
        mode,
    })
}

/// The URL without `sslmode` and `sslrootcert`, and their values.
#[derive(Debug, PartialEq, Eq)]
struct SplitUrl {
    rest: String,
    sslmode: Option<String>,
    sslrootcert: Option<String>,
}

fn split_ssl_options(url: &str) -> Result<SplitUrl, String> {
    let mut split = SplitUrl {
        rest: String::new(),
        sslmode: None,
        sslrootcert: None,
    };
    let mut take = |key: &str, value: String| match key {
        "sslmode" => {
            split.sslmode = Some(value);
            true
        }
        "sslrootcert" => {
            split.sslrootcert = Some(value);
            true
        }
        _ => false,
    };
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let Some((base, query)) = url.split_once('?') else {
            split.rest = url.to_owned();
            return Ok(split);
        };
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            if !take(&percent_decode(key)?, percent_decode(value)?) {
                kept.push(pair);
            }
        }
        split.rest = if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
    } else {
        // `key=value` pairs separated by spaces; a value may be single-quoted with
        // backslash escapes. What this cannot read goes to tokio-postgres unchanged,
        // which says what is wrong with it.
        let mut kept = Vec::new();
        for (key, value, token) in key_values(url).unwrap_or_default() {
            if !take(key, value) {
                kept.push(token);
            }
        }
        split.rest = if split.sslmode.is_none() && split.sslrootcert.is_none() {
            url.to_owned()
        } else {
            kept.join(" ")
        };
    }
    Ok(split)
}

/// The pairs of a `key=value` connection string: key, unquoted value, original text.
fn key_values(text: &str) -> Option<Vec<(&str, String, &str)>> {
    let bytes = text.as_bytes();
    let mut pairs = Vec::new();
    let mut i = 0;
    let skip_space = |mut i: usize| {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        i
    };
    loop {
        i = skip_space(i);
        if i == bytes.len() {
            return Some(pairs);
        }
        let start = i;
        while i < bytes.len() && bytes[i] != b'=' && !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let key = &text[start..i];
        i = skip_space(i);
        if bytes.get(i) != Some(&b'=') {
            return None;
        }
        i = skip_space(i + 1);
        let mut value = Vec::new();
        if bytes.get(i) == Some(&b'\'') {
            i += 1;
            loop {
                match bytes.get(i)? {
                    b'\'' => break,
                    b'\\' => {
                        value.push(*bytes.get(i + 1)?);
                        i += 2;
                    }
                    b => {
                        value.push(*b);
                        i += 1;
                    }
                }
            }
            i += 1;
        } else {
            while let Some(&b) = bytes.get(i) {
                if b.is_ascii_whitespace() {
                    break;
                }
                if b == b'\\' {
                    value.push(*bytes.get(i + 1)?);
                    i += 2;
                } else {
                    value.push(b);
                    i += 1;
                }
            }
        }
        pairs.push((key, String::from_utf8(value).ok()?, &text[start..i]));
    }
}

fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("database_url: a bad %-escape in {text:?}"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("database_url: {text:?} is not UTF-8"))
}

fn read_roots(path: &Path) -> Result<RootCertStore, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("sslrootcert {}: {e}", path.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("sslrootcert {}: {e}", path.display()))?;
    let mut roots = RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err(format!(
            "sslrootcert {} holds no usable PEM certificate",
            path.display()
        ));
    }
    Ok(roots)
}

enum Check {
    /// `prefer`, `require`: encrypted, but anyone on the path may pose as the server.
    Nothing,
    /// `verify-ca`: a certificate the authority signed, for whichever host.
    Chain(RootCertStore),
    /// `verify-full`: a certificate the authority signed for the host in the URL.
    ChainAndName(RootCertStore),
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The connector tokio-postgres calls once per host it tries.
#[derive(Clone)]
pub struct MakeRustls {
    config: Arc<ClientConfig>,
}

impl MakeRustls {
    fn new(check: Check) -> Result<MakeRustls, String> {
        let builder = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?;
        let config = match check {
            Check::ChainAndName(roots) => builder.with_root_certificates(roots),
            Check::Chain(roots) => {
                let chain =
                    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
                        .build()
                        .map_err(|e| format!("sslrootcert: {e}"))?;
                lenient(builder, Some(chain))
            }
            Check::Nothing => lenient(builder, None),
        };
        Ok(MakeRustls {
            config: Arc::new(config.with_no_client_auth()),
        })
    }
}

impl<S> MakeTlsConnect<S> for MakeRustls
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type TlsConnect = RustlsConnect;
    type Error = io::Error;

    fn make_tls_connect(&mut self, host: &str) -> io::Result<RustlsConnect> {
        // tokio-postgres asks before it knows whether TLS will be used (a Unix socket has
        // no host name), so a name that is none is refused only at the handshake.
        Ok(RustlsConnect {
            config: self.config.clone(),
            name: ServerName::try_from(host.to_owned()).ok(),
            host: host.to_owned(),
        })
    }
}

pub struct RustlsConnect {
    config: Arc<ClientConfig>,
    name: Option<ServerName<'static>>,
    host: String,
}

type Handshake<S> = Pin<Box<dyn Future<Output = io::Result<RustlsStream<S>>> + Send>>;

impl<S> TlsConnect<S> for RustlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type Error = io::Error;
    type Future = Handshake<S>;

    fn connect(self, stream: S) -> Handshake<S> {
        Box::pin(async move {
            let name = self.name.ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{:?} is not a host name TLS can check", self.host),
                )
            })?;
            let tls = tokio_rustls::TlsConnector::from(self.config)
                .connect(name, stream)
                .await?;
            Ok(RustlsStream(tls))
        })
    }
}

pub struct RustlsStream<S>(tokio_rustls::client::TlsStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for RustlsStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for RustlsStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> TlsStream for RustlsStream<S> {
    fn channel_binding(&self) -> ChannelBinding {
        // No `tls-server-end-point` binding: SCRAM then runs without it, as with
        // `channel_binding=prefer` against a server that offers none.
        ChannelBinding::none()
    }
}

fn lenient(
    builder: rustls::ConfigBuilder<ClientConfig, rustls::WantsVerifier>,
    chain: Option<Arc<WebPkiServerVerifier>>,
) -> rustls::ConfigBuilder<ClientConfig, rustls::client::WantsClientCert> {
    builder
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Lenient {
            chain,
            provider: provider(),
        }))
}

/// The certificate check of `verify-ca` (`chain`: the chain must lead to `sslrootcert`;
/// the name in it is not compared) and of `prefer` and `require` without `sslrootcert`
/// (no `chain`: any certificate, as libpq). The handshake's own signatures are checked
/// in both.
#[derive(Debug)]
struct Lenient {
    chain: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Lenient {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        // webpki checks the chain before the name, so a name error means the chain held.
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ssl_options_leave_the_url_and_the_rest_stays() {
        let s = split_ssl_options(
            "postgres://u@h1:5432,h2:5433/db?sslmode=verify-full&target_session_attrs=read-write&sslrootcert=%2Fetc%2Fca.pem",
        )
        .unwrap();
        assert_eq!(s.sslmode.as_deref(), Some("verify-full"));
        assert_eq!(s.sslrootcert.as_deref(), Some("/etc/ca.pem"));
        assert_eq!(
            s.rest,
            "postgres://u@h1:5432,h2:5433/db?target_session_attrs=read-write"
        );
        let s = split_ssl_options("postgres://u@h/db?sslmode=require").unwrap();
        assert_eq!(s.rest, "postgres://u@h/db");
        let s =
            split_ssl_options("host=h1,h2 sslrootcert='/a b/ca.pem' sslmode = verify-ca dbname=x")
                .unwrap();
        assert_eq!(s.sslmode.as_deref(), Some("verify-ca"));
        assert_eq!(s.sslrootcert.as_deref(), Some("/a b/ca.pem"));
        assert_eq!(s.rest, "host=h1,h2 dbname=x");
    }

    #[test]
    fn modes_are_read_as_libpq_reads_them() {
        let mode = |url: &str| connect_options(url).map(|o| o.mode);
        assert_eq!(mode("postgres://u@h/db"), Ok(SslMode::Prefer));
        assert_eq!(
            mode("postgres://u@h/db?sslmode=disable"),
            Ok(SslMode::Disable)
        );
        assert_eq!(
            mode("postgres://u@h/db?sslmode=require"),
            Ok(SslMode::Require)
        );
        let err = mode("postgres://u@h/db?sslmode=verify-full").err().unwrap();
        assert!(err.contains("sslrootcert"), "{err}");
        let err = mode("postgres://u@h/db?sslmode=allow").err().unwrap();
        assert!(err.contains("verify-full"), "{err}");
        let err = mode("postgres://u@h/db?sslmode=require&sslrootcert=/nonexistent")
            .err()
            .unwrap();
        assert!(err.contains("/nonexistent"), "{err}");
    }
}
