//! The netreach CLI's plumbing: reading inputs from paths and stdin, and the commands.

pub mod admit;
pub mod artifacts;
pub mod cli;
pub mod config;
pub mod fixtures;
pub mod inputs;
pub mod lsp;
pub mod wasm;
