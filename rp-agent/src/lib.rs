//! # lilypad-rp
//!
//! The resource provider's daemon (docs/design.md §7). It offers this machine's capacity on chain,
//! follows finalized blocks, runs every job assigned to it (several at once, up to its capacity)
//! with its [`runner`], which hands each to the [`executor`] its artifact needs ([`wasm`] or
//! [`docker`]; GPUs found by [`gpu`]), keeps the outputs in a content-addressed [`store`] served
//! over HTTP, and submits a signed result manifest for each job, exactly once ([`journal`]). The
//! weights of the models jobs need are kept within a byte budget by the [`models`] cache and
//! mounted read-only into their runs. In mediator mode the same runner re-runs the jobs it is
//! drawn to mediate. [`metrics`] are served for Prometheus.
pub mod agent;
pub use lilypad_client::archive;
pub mod chain;
pub mod config;
pub mod docker;
pub mod executor;
pub mod gpu;
pub mod journal;
pub mod keystore;
pub mod live;
pub mod metrics;
pub mod models;
pub mod resources;
pub mod runner;
pub mod store;
pub mod wasm;
