//! `lilypad-rp`: the resource provider's daemon.
//!
//! ```text
//! lilypad-rp --dev                      # against a local dev node, as //Bob
//! lilypad-rp --config rp.toml           # a real provider: key in <data_dir>/keystore
//! lilypad-rp key                        # print the provider's account
//! lilypad-rp store add module.wasm      # put a file in the content store; print its digest
//! ```
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use lilypad_rp::config::Config;
use serde::Serialize;

#[derive(Parser)]
#[command(
	name = "lilypad-rp",
	version,
	about = "Lilypad resource provider: runs jobs assigned on chain"
)]
struct Cli {
	/// Start from the dev settings: the local dev node, the //Bob key, a temporary data dir.
	#[arg(long, global = true)]
	dev: bool,
	/// A TOML file of settings (fields as in `Config`).
	#[arg(long, short, global = true, env = "LILYPAD_RP_CONFIG")]
	config: Option<PathBuf>,
	#[command(flatten)]
	flags: Flags,
	#[command(subcommand)]
	command: Option<Command>,
}

/// Settings given as flags; they override the file and the environment.
#[derive(clap::Args, Serialize, Default)]
struct Flags {
	/// The node's JSON-RPC URL (also `LILYPAD_NODE`).
	#[arg(long, global = true)]
	#[serde(skip_serializing_if = "Option::is_none")]
	node: Option<String>,
	/// Where the keystore, journal, content store and module cache live.
	#[arg(long, global = true)]
	#[serde(skip_serializing_if = "Option::is_none")]
	data_dir: Option<PathBuf>,
	/// Where the content store listens (host:port).
	#[arg(long)]
	#[serde(skip_serializing_if = "Option::is_none")]
	listen: Option<std::net::SocketAddr>,
	/// Jobs run at once.
	#[arg(long)]
	#[serde(skip_serializing_if = "Option::is_none")]
	capacity: Option<u32>,
	/// Asking price per job, in planck.
	#[arg(long)]
	#[serde(skip_serializing_if = "Option::is_none")]
	price: Option<u64>,
	/// Collateral to keep bonded, in planck.
	#[arg(long)]
	#[serde(skip_serializing_if = "Option::is_none")]
	bond: Option<u64>,
	/// Sign with this secret URI instead of the keystore's key (dev chains).
	#[arg(long, global = true)]
	#[serde(skip_serializing_if = "Option::is_none")]
	key_uri: Option<String>,
	/// Mediator mode: stake as a mediator and re-run the jobs this agent is drawn to mediate.
	#[arg(long)]
	#[serde(skip_serializing_if = "std::ops::Not::not")]
	mediate: bool,
	/// `--provide false`: offer no compute (a mediator-only agent, with `--mediate`).
	#[arg(long, value_name = "BOOL")]
	#[serde(skip_serializing_if = "Option::is_none")]
	provide: Option<bool>,
	/// Mediator stake to keep bonded, in planck.
	#[arg(long)]
	#[serde(skip_serializing_if = "Option::is_none")]
	mediator_bond: Option<u64>,
}

#[derive(Subcommand)]
enum Command {
	/// Run the daemon (the default).
	Run,
	/// Print the provider's account (SS58).
	Key,
	/// Print the NVIDIA GPUs this machine would advertise, as JSON.
	Gpus,
	/// Manage the content store.
	Store {
		#[command(subcommand)]
		command: StoreCommand,
	},
}

#[derive(Subcommand)]
enum StoreCommand {
	/// Add a file; print its blake3 digest.
	Add { file: PathBuf },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
	tracing_subscriber::fmt()
		.with_env_filter(
			tracing_subscriber::EnvFilter::try_from_default_env()
				.unwrap_or_else(|_| "info,subxt=warn,jsonrpsee=warn".into()),
		)
		.with_target(false)
		// Plain text when logging to a file (colour codes would get in the way of grep).
		.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
		.init();
	let cli = Cli::parse();
	let base = if cli.dev { Config::dev() } else { Config::default() };
	let cfg = Config::load(base, cli.config.as_deref(), &cli.flags)?;
	match cli.command.unwrap_or(Command::Run) {
		Command::Run => lilypad_rp::agent::run(cfg).await,
		Command::Key => {
			let key = match &cfg.key_uri {
				Some(uri) => lilypad_rp::keystore::from_uri(uri)?,
				None => lilypad_rp::keystore::load_or_create(&cfg.data_dir)?,
			};
			println!("{}", subxt::utils::AccountId32::from(key.public_key()));
			Ok(())
		}
		Command::Gpus => {
			println!("{}", serde_json::to_string(&lilypad_rp::gpu::detect())?);
			Ok(())
		}
		Command::Store { command: StoreCommand::Add { file } } => {
			let bytes = std::fs::read(&file)?;
			let store = lilypad_rp::store::ContentStore::open(cfg.data_dir.join("store"))?;
			println!("{}", hex::encode(store.put(&bytes)?));
			Ok(())
		}
	}
}
