//! `hookline-bench`: see `Settings` and `Extra` for the flags, and the README.

use clap::Parser;
use hookline_bench::{run_with, Extra, Settings};

#[derive(Parser)]
#[command(
    name = "hookline-bench",
    about = "End-to-end throughput, latency and log-query benchmark of a built hookline binary"
)]
struct Cli {
    #[command(flatten)]
    settings: Settings,
    #[command(flatten)]
    extra: Extra,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let Cli { settings, extra } = Cli::parse();
    let report = run_with(&settings, &extra).await?;
    println!("{report}");
    println!("figures written to {}", settings.json.display());
    Ok(())
}
