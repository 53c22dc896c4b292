//! `lilypad-node`: the Substrate client of the Lilypad chain.
#![warn(missing_docs)]
// `sc_cli` and `sc_service` return their own error types, which are large; the node hands them
// on as polkadot-sdk's node templates do.
#![allow(clippy::result_large_err)]

mod chain_spec;
mod cli;
mod command;
#[cfg(test)]
mod golden;
mod jobs_rpc;
mod providers_rpc;
mod registry_rpc;
mod rpc;
mod service;

fn main() -> polkadot_sdk::sc_cli::Result<()> {
	command::run()
}
