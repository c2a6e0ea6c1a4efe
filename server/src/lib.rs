#![recursion_limit = "256"]
//! Hookline's server: configuration, store, service layer, HTTP API and the
//! console's backend. `main.rs` only wires these together.

pub mod cli;
pub mod config;
pub mod http;
pub mod service;
pub mod store;

use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use leptos::prelude::LeptosOptions;
use tokio::net::TcpListener;

use crate::service::Service;

/// Options for the console's pages: the built assets live in `site_root`.
pub fn leptos_options(site_root: &Path, addr: std::net::SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(env!("LEPTOS_OUTPUT_NAME"))
        .site_root(site_root.to_string_lossy().as_ref())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build()
}

/// Serves the console and the API on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    service: Arc<Service>,
    site_root: &Path,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    let state = http::AppState {
        service,
        leptos_options: leptos_options(site_root, addr),
    };
    axum::serve(listener, http::router(state))
        .with_graceful_shutdown(shutdown)
        .await
}
