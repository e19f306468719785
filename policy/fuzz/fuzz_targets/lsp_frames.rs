//! The language server's frame reader on arbitrary client bytes: every frame is read, skipped
//! or refused within the limits, and bodies parse or are answered as errors.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../../../host-harness/src/lsp/frame.rs"]
#[allow(dead_code)]
mod frame;

fuzz_target!(|data: &[u8]| {
    let mut r = std::io::BufReader::new(data);
    for _ in 0..10_000 {
        match frame::read_frame(&mut r) {
            Ok(frame::Frame::End) | Err(_) => break,
            Ok(frame::Frame::Bad(why)) => {
                let _ = frame::framed(&frame::parse_error(&why));
            }
            Ok(frame::Frame::Body(body)) => {
                let _ = serde_json::from_slice::<lsp_server::Message>(&body);
            }
        }
    }
});
