//! `lilypad-node`: the Substrate client of the Lilypad chain.
#![warn(missing_docs)]

mod chain_spec;
mod cli;
mod command;
mod jobs_rpc;
mod providers_rpc;
mod registry_rpc;
mod rpc;
mod service;

fn main() -> polkadot_sdk::sc_cli::Result<()> {
	command::run()
}
