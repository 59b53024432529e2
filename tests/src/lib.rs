//! What the end-to-end tests share (they live in tests/tests/): a CLAP host for the plugin.

pub mod host;
