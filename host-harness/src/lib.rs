//! The netreach CLI's plumbing: reading inputs from paths and stdin, and the commands.

pub mod cli;
pub mod inputs;
