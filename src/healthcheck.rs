//! `twilio-conversations-emulator healthcheck`: asks a running instance whether it is
//! healthy, for Docker's `HEALTHCHECK` (the image needs no curl), and says why not.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Why an instance is not healthy: what an operator reads when the check fails.
#[derive(Debug, thiserror::Error)]
pub enum Unhealthy {
    #[error("cannot resolve {host}: {error}")]
    Unresolved { host: String, error: std::io::Error },
    #[error("connection refused at {0}")]
    Refused(SocketAddr),
    #[error("cannot connect to {address}: {error}")]
    Unreachable { address: SocketAddr, error: std::io::Error },
    #[error("timeout: no answer from {host}:{port} within {} ms", timeout.as_millis())]
    Timeout { host: String, port: u16, timeout: Duration },
    #[error("no answer from {address}: {error}")]
    NoAnswer { address: SocketAddr, error: std::io::Error },
    #[error("bad status {status} from {address} (expected 200)")]
    BadStatus { address: SocketAddr, status: String },
}

/// Whether the instance on `host:port` answers `GET /_emulator/health` with 200 within
/// `timeout`. A host name is resolved, and each of its addresses tried in turn; an
/// unspecified listen address (`0.0.0.0`, `::`) is reached over loopback.
pub async fn check(host: &str, port: u16, timeout: Duration) -> Result<(), Unhealthy> {
    let checked = async {
        let addresses = tokio::net::lookup_host((host, port))
            .await
            .map_err(|error| Unhealthy::Unresolved { host: host.to_owned(), error })?;
        let mut last = None;
        for address in addresses.map(reachable) {
            match probe(address).await {
                Ok(()) => return Ok(()),
                Err(error) => last = Some(error),
            }
        }
        let nothing = std::io::Error::new(std::io::ErrorKind::NotFound, "no address");
        Err(last.unwrap_or(Unhealthy::Unresolved { host: host.to_owned(), error: nothing }))
    };
    tokio::time::timeout(timeout, checked)
        .await
        .unwrap_or_else(|_| Err(Unhealthy::Timeout { host: host.to_owned(), port, timeout }))
}

/// The address a client reaches a listener on `address` at.
fn reachable(address: SocketAddr) -> SocketAddr {
    match address.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::new(Ipv4Addr::LOCALHOST.into(), address.port()),
        IpAddr::V6(ip) if ip.is_unspecified() => SocketAddr::new(Ipv6Addr::LOCALHOST.into(), address.port()),
        _ => address,
    }
}

async fn probe(address: SocketAddr) -> Result<(), Unhealthy> {
    let mut stream = TcpStream::connect(address).await.map_err(|error| match error.kind() {
        std::io::ErrorKind::ConnectionRefused => Unhealthy::Refused(address),
        _ => Unhealthy::Unreachable { address, error },
    })?;
    let no_answer = |error| Unhealthy::NoAnswer { address, error };
    let request = format!("GET /_emulator/health HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.map_err(no_answer)?;
    // `HTTP/1.1 200 OK`: the status is the second word of the first line.
    let mut head = Vec::new();
    stream.read_to_end(&mut head).await.map_err(no_answer)?;
    let status_line = head.split(|&byte| byte == b'\r' || byte == b'\n').next().unwrap_or_default();
    let status_line = String::from_utf8_lossy(status_line);
    match status_line.split(' ').nth(1) {
        Some("200") => Ok(()),
        Some(status) => Err(Unhealthy::BadStatus { address, status: status.to_owned() }),
        None => Err(Unhealthy::BadStatus { address, status: format!("line {status_line:?}") }),
    }
}
