//! A minimal keep-alive HTTP/1.1 client for the load generator.
//!
//! The generator shares two cores with the server it measures; a full client
//! stack (pools, header maps, TLS layers) would spend CPU the server then lacks.
//! This writes one request and reads one `Content-Length` response per call.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::{Error, Result};

/// One request, ready to write.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: &'static str,
    pub path: String,
    pub bearer: Option<String>,
    /// Sent as `X-Forwarded-For`, to stand for a client behind a trusted proxy.
    pub forwarded_for: Option<String>,
    pub body: String,
}

impl Request {
    pub fn post(path: impl Into<String>, bearer: Option<String>, body: String) -> Self {
        Self {
            method: "POST",
            path: path.into(),
            bearer,
            forwarded_for: None,
            body,
        }
    }

    pub fn get(path: impl Into<String>) -> Self {
        Self {
            method: "GET",
            path: path.into(),
            bearer: None,
            forwarded_for: None,
            body: String::new(),
        }
    }
}

/// One keep-alive connection.
pub struct Http {
    stream: TcpStream,
    /// Bytes read but not yet consumed; reused between responses.
    buf: Vec<u8>,
    /// The request is formatted here to go out in one write.
    out: Vec<u8>,
}

impl Http {
    pub async fn connect(addr: SocketAddr) -> Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            buf: Vec::with_capacity(1024),
            out: Vec::with_capacity(1024),
        })
    }

    /// Sends `request` and returns the status and body.
    pub async fn send(&mut self, request: &Request) -> Result<(u16, Vec<u8>)> {
        use std::io::Write;
        self.out.clear();
        write!(
            self.out,
            "{} {} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
            request.method,
            request.path,
            request.body.len()
        )?;
        if let Some(token) = &request.bearer {
            write!(self.out, "authorization: Bearer {token}\r\n")?;
        }
        if let Some(client) = &request.forwarded_for {
            write!(self.out, "x-forwarded-for: {client}\r\n")?;
        }
        self.out.extend_from_slice(b"\r\n");
        self.out.extend_from_slice(request.body.as_bytes());
        self.stream.write_all(&self.out).await?;
        self.read_response().await
    }

    async fn read_response(&mut self) -> Result<(u16, Vec<u8>)> {
        let header_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i + 4;
            }
            self.fill().await?;
        };
        let head = std::str::from_utf8(&self.buf[..header_end])
            .map_err(|_| Error::Http("response head is not UTF-8".into()))?;
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| Error::Http(format!("bad status line in {head:?}")))?;
        let length: usize = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().ok())?
            })
            .ok_or_else(|| Error::Http("response without content-length".into()))?;
        while self.buf.len() < header_end + length {
            self.fill().await?;
        }
        let body = self.buf[header_end..header_end + length].to_vec();
        self.buf.drain(..header_end + length);
        Ok((status, body))
    }

    async fn fill(&mut self) -> Result<()> {
        let mut chunk = [0u8; 4096];
        let n = self.stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(Error::Http("connection closed mid-response".into()));
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The number after `"id":` in a JSON body, without parsing the whole body.
pub fn json_id(body: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find("\"id\":")? + 5;
    let digits: String = text[start..]
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_id_of_a_send_result_is_found() {
        assert_eq!(super::json_id(br#"{"id":42,"recipients":1}"#), Some(42));
        assert_eq!(super::json_id(br#"{"id":null,"recipients":1}"#), None);
    }
}
