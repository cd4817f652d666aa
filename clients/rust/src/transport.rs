//! TCP (optionally from a chosen source address) and the WebSocket upgrade.

use std::net::SocketAddr;

use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::config::ClientConfig;
use crate::error::ClientError;

/// An open WebSocket to a gateway.
pub(crate) type Socket = WebSocketStream<TcpStream>;

/// Opens a TCP connection to `config.url` (bound to `config.local_addr` when set) and
/// upgrades it, requesting `config.format`'s subprotocol.
pub(crate) async fn open(config: &ClientConfig) -> Result<Socket, ClientError> {
    let invalid = |reason: &str| ClientError::InvalidUrl {
        url: config.url.clone(),
        reason: reason.to_owned(),
    };
    let mut request = config
        .url
        .as_str()
        .into_client_request()
        .map_err(|e| invalid(&e.to_string()))?;
    let uri = request.uri().clone();
    let port = match uri.scheme_str() {
        Some("ws") => uri.port_u16().unwrap_or(80),
        Some("wss") => return Err(invalid("wss is not supported; use ws")),
        _ => return Err(invalid("the scheme must be ws")),
    };
    let host = uri
        .host()
        .ok_or_else(|| invalid("no host"))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();

    let headers = request.headers_mut();
    headers.insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static(config.format.subprotocol()),
    );
    if let Some(origin) = &config.origin {
        let value = HeaderValue::from_str(origin).map_err(|_| ClientError::InvalidUrl {
            url: origin.clone(),
            reason: "not a valid Origin header value".to_owned(),
        })?;
        headers.insert("Origin", value);
    }

    let stream = connect_tcp(config, &host, port).await?;
    stream.set_nodelay(true)?;
    let ws_config = WebSocketConfig::default()
        .read_buffer_size(config.read_buffer_size.max(1024))
        .write_buffer_size(0);
    let (socket, _response) =
        tokio_tungstenite::client_async_with_config(request, stream, Some(ws_config))
            .await
            .map_err(handshake_error)?;
    Ok(socket)
}

async fn connect_tcp(
    config: &ClientConfig,
    host: &str,
    port: u16,
) -> Result<TcpStream, ClientError> {
    let candidates: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await?
        .filter(|addr| {
            config
                .local_addr
                .is_none_or(|local| local.is_ipv4() == addr.is_ipv4())
        })
        .collect();
    let mut last_error = None;
    for addr in candidates {
        let attempt = match config.local_addr {
            None => TcpStream::connect(addr).await,
            Some(local) => {
                let socket = if local.is_ipv4() {
                    TcpSocket::new_v4()?
                } else {
                    TcpSocket::new_v6()?
                };
                socket.bind(SocketAddr::new(local, 0))?;
                socket.connect(addr).await
            }
        };
        match attempt {
            Ok(stream) => return Ok(stream),
            Err(e) => last_error = Some(e),
        }
    }
    Err(ClientError::Io(last_error.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("`{host}` has no address of the source address's family"),
        )
    })))
}

fn handshake_error(error: WsError) -> ClientError {
    match error {
        WsError::Http(response) => ClientError::Rejected {
            status: response.status().as_u16(),
        },
        WsError::Io(e) => ClientError::Io(e),
        other => ClientError::Handshake(other.to_string()),
    }
}
