//! `hookline-bench`: see `Settings` for the flags, and the README.

use clap::Parser;
use hookline_bench::{run, Settings};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = Settings::parse();
    let report = run(&settings).await?;
    println!("{report}");
    println!("figures written to {}", settings.json.display());
    Ok(())
}
