//! The LSP base protocol (`Content-Length` framed JSON-RPC) read from an untrusted client:
//! header lines and bodies are bounded, a bad frame is answered and skipped, and only the end
//! of the stream (or a failing read) stops the reader.

use std::io::{self, BufRead, Read};

/// Largest message body accepted; a larger one is skipped without being held in memory.
pub const MAX_BODY: usize = 64 * 1024 * 1024;
/// Longest header line; real headers are a few dozen bytes.
const MAX_HEADER_LINE: usize = 8 * 1024;

/// One read from the stream.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// A message body (not yet parsed).
    Body(Vec<u8>),
    /// A frame that cannot be a message; the reader has moved past it and goes on.
    Bad(String),
    /// The stream ended.
    End,
}

/// Read the next frame. Only an I/O error is an `Err`; everything a client can send is a
/// [`Frame`].
pub fn read_frame(r: &mut impl BufRead) -> io::Result<Frame> {
    let mut length: Option<Result<usize, String>> = None;
    let mut saw_header = false;
    loop {
        let mut line = Vec::new();
        let n = r.by_ref().take(MAX_HEADER_LINE as u64 + 1).read_until(b'\n', &mut line)?;
        if n == 0 {
            return Ok(if saw_header { Frame::Bad("the stream ended inside a header".into()) } else { Frame::End });
        }
        if line.len() > MAX_HEADER_LINE {
            // Skip the rest of the over-long line.
            skip_line(r)?;
            return Ok(Frame::Bad(format!("a header line longer than {MAX_HEADER_LINE} bytes")));
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            if !saw_header {
                // Blank lines between frames carry nothing.
                continue;
            }
            break;
        }
        saw_header = true;
        let Some((name, value)) = text.split_once(':') else {
            return Ok(Frame::Bad(format!("a header line without `:`: {:?}", truncate(text))));
        };
        if name.trim().eq_ignore_ascii_case("content-length") {
            let value = value.trim();
            length = Some(value.parse::<usize>().map_err(|_| format!("Content-Length {:?} is not a number", truncate(value))));
        }
    }
    let length = match length {
        None => return Ok(Frame::Bad("a frame without Content-Length".into())),
        Some(Err(e)) => return Ok(Frame::Bad(e)),
        Some(Ok(n)) => n,
    };
    if length > MAX_BODY {
        // Skip the body as it streams past, never allocating it.
        io::copy(&mut r.by_ref().take(length as u64), &mut io::sink())?;
        return Ok(Frame::Bad(format!("a body of {length} bytes, more than the limit of {MAX_BODY}")));
    }
    let mut body = Vec::with_capacity(length.min(64 * 1024));
    let got = r.by_ref().take(length as u64).read_to_end(&mut body)?;
    if got < length {
        return Ok(Frame::Bad(format!("the stream ended after {got} of {length} body bytes")));
    }
    Ok(Frame::Body(body))
}

fn skip_line(r: &mut impl BufRead) -> io::Result<()> {
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        match buf.iter().position(|&b| b == b'\n') {
            Some(i) => {
                r.consume(i + 1);
                return Ok(());
            }
            None => {
                let n = buf.len();
                r.consume(n);
            }
        }
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

/// The JSON-RPC error a client gets for a frame or body that is not a message (id `null`, as
/// JSON-RPC 2.0 asks when the id cannot be read).
pub fn parse_error(message: &str) -> String {
    let v = serde_json::json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32700, "message": format!("parse error: {message}")}});
    v.to_string()
}

/// A message framed for the wire.
pub fn framed(body: &str) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn frames(input: &[u8]) -> Vec<Frame> {
        let mut r = io::BufReader::new(input);
        let mut out = Vec::new();
        loop {
            match read_frame(&mut r).unwrap() {
                Frame::End => return out,
                f => out.push(f),
            }
        }
    }

    #[test]
    fn hostile_frames_are_skipped_and_reading_goes_on() {
        let good = framed("{}");
        let mut input = b"Content-Length: abc\r\n\r\n".to_vec();
        input.extend(&good);
        input.extend(b"Content-Type: x\r\n\r\n");
        input.extend(&good);
        input.extend(b"Content-Length: 99999999999\r\n\r\n{}");
        input.extend(&good);
        let f = frames(&input);
        assert!(matches!(&f[0], Frame::Bad(m) if m.contains("not a number")), "{f:?}");
        assert_eq!(f[1], Frame::Body(b"{}".to_vec()));
        assert!(matches!(&f[2], Frame::Bad(m) if m.contains("without Content-Length")), "{f:?}");
        assert_eq!(f[3], Frame::Body(b"{}".to_vec()));
        // The over-large body swallows the rest of this short stream: it is skipped, not held.
        assert!(matches!(&f[4], Frame::Bad(m) if m.contains("more than the limit")), "{f:?}");
        assert_eq!(f.len(), 5);
    }

    #[test]
    fn a_truncated_body_is_reported() {
        let f = frames(b"Content-Length: 10\r\n\r\n{}");
        assert!(matches!(&f[0], Frame::Bad(m) if m.contains("after 2 of 10")), "{f:?}");
    }
}
