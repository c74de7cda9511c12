//! `twilio-conversations-emulator healthcheck`: asks a running instance whether it is
//! healthy, for Docker's `HEALTHCHECK` (the image needs no curl).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Whether the instance on `port` answers `GET /_emulator/health` with 200 within
/// `timeout`. An unspecified listen address (`0.0.0.0`) is reached over loopback.
pub async fn check(host: IpAddr, port: u16, timeout: Duration) -> bool {
    let host = if host.is_unspecified() { IpAddr::V4(Ipv4Addr::LOCALHOST) } else { host };
    let address = SocketAddr::new(host, port);
    tokio::time::timeout(timeout, probe(address)).await.unwrap_or(false)
}

async fn probe(address: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect(address).await else {
        return false;
    };
    let request = format!("GET /_emulator/health HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).await.is_err() {
        return false;
    }
    let mut status_line = [0u8; 12];
    stream.read_exact(&mut status_line).await.is_ok() && status_line.ends_with(b" 200")
}
