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

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Clap's own checks of the flags (one name each, defaults that parse),
    /// which otherwise run only when the binary starts.
    #[test]
    fn the_flags_are_well_formed() {
        super::Cli::command().debug_assert();
    }
}
