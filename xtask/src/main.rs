//! `cargo xtask bundle rosin --release`: builds the plugin and writes `target/bundled/Rosin.clap`
//! and `target/bundled/Rosin.vst3` (names from bundler.toml).

fn main() -> nice_plug_xtask::Result<()> {
    nice_plug_xtask::main()
}
