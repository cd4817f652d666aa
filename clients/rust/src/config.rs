//! What to connect to and how.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use plenary_proto::WireFormat;

/// Settings for [`Client::connect`](crate::Client::connect); kept by the client and
/// reused by [`Client::reconnect`](crate::Client::reconnect).
#[derive(Clone)]
pub struct ClientConfig {
    /// The gateway's WebSocket URL, e.g. `ws://127.0.0.1:8080/ws` (`wss` is not
    /// supported).
    pub url: String,
    /// The JWT sent in `connect`.
    pub token: String,
    /// The subprotocol (wire encoding) to request.
    pub format: WireFormat,
    /// An `Origin` header to send with the upgrade request.
    pub origin: Option<String>,
    /// Bind the TCP socket to this source address before connecting (to spread many
    /// sockets over several loopback addresses, say).
    pub local_addr: Option<IpAddr>,
    /// Limit for TCP connect, WebSocket handshake and `ConnectOk` together.
    pub connect_timeout: Duration,
    /// Capacity of the push queue. When it is full the socket is not read any more until
    /// the user takes pushes (back-pressure to the server), except while a command
    /// awaits its reply.
    pub push_buffer: usize,
    /// Size of the WebSocket read buffer, allocated per connection; small values save
    /// memory with many idle connections.
    pub read_buffer_size: usize,
}

impl ClientConfig {
    /// Default [`ClientConfig::connect_timeout`].
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
    /// Default [`ClientConfig::push_buffer`].
    pub const DEFAULT_PUSH_BUFFER: usize = 65_536;
    /// Default [`ClientConfig::read_buffer_size`].
    pub const DEFAULT_READ_BUFFER_SIZE: usize = 16 * 1024;

    /// A configuration for `url` and `token` with the JSON subprotocol and defaults for
    /// everything else.
    pub fn new(url: impl Into<String>, token: impl Into<String>) -> Self {
        ClientConfig {
            url: url.into(),
            token: token.into(),
            format: WireFormat::Json,
            origin: None,
            local_addr: None,
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
            push_buffer: Self::DEFAULT_PUSH_BUFFER,
            read_buffer_size: Self::DEFAULT_READ_BUFFER_SIZE,
        }
    }

    /// Sets the wire format.
    pub fn with_format(mut self, format: WireFormat) -> Self {
        self.format = format;
        self
    }

    /// Sets the `Origin` header.
    pub fn with_origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = Some(origin.into());
        self
    }

    /// Sets the source address of the TCP socket.
    pub fn with_local_addr(mut self, addr: IpAddr) -> Self {
        self.local_addr = Some(addr);
        self
    }

    /// Sets the connect time-out.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the push queue capacity (at least 1).
    pub fn with_push_buffer(mut self, capacity: usize) -> Self {
        self.push_buffer = capacity;
        self
    }

    /// Sets the WebSocket read buffer size.
    pub fn with_read_buffer_size(mut self, bytes: usize) -> Self {
        self.read_buffer_size = bytes;
        self
    }
}

impl fmt::Debug for ClientConfig {
    /// Leaves the token out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("url", &self.url)
            .field("token", &"<redacted>")
            .field("format", &self.format)
            .field("origin", &self.origin)
            .field("local_addr", &self.local_addr)
            .field("connect_timeout", &self.connect_timeout)
            .field("push_buffer", &self.push_buffer)
            .field("read_buffer_size", &self.read_buffer_size)
            .finish()
    }
}
