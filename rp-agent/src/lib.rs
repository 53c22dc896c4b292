//! # lilypad-rp
//!
//! The resource provider's daemon (design §7). It offers this machine's capacity on chain,
//! follows finalized blocks, runs every job assigned to it with the [`wasm`] executor (several
//! at once, up to its capacity), keeps the outputs in a content-addressed [`store`] served over
//! HTTP, and submits a signed result manifest for each job, exactly once ([`journal`]).
pub mod agent;
pub mod archive;
pub mod chain;
pub mod config;
pub mod journal;
pub mod keystore;
pub mod resources;
pub mod store;
pub mod wasm;
