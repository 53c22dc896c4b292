//! `lilypad`: the command line of the Lilypad network.
//!
//! ```text
//! lilypad run cowsay -i Message="hello from lilypad"   # run a job, print its stdout
//! lilypad job status 7                                  # a job's stage, provider, result
//! lilypad module publish modules/cowsay                 # publish lilypad-module.toml
//! lilypad model publish models/smollm2                  # publish lilypad-model.toml
//! lilypad account balance                               # free and held LILY
//! ```
//! Every command takes `--json` and then prints one JSON object on stdout (an error too, as
//! `{"error": {...}}`); the exit code says what kind of failure it was (see [`error::Kind`]).
mod commands;
mod error;
mod manifest;
mod node;
mod outputs;
mod run;
mod signer;
mod units;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The local dev node's JSON-RPC endpoint.
const DEV_NODE: &str = "ws://127.0.0.1:9944";

#[derive(Parser)]
#[command(
	name = "lilypad",
	version,
	about = "Run jobs on the Lilypad network, publish modules and models, manage accounts"
)]
struct Cli {
	/// The node's JSON-RPC URL.
	#[arg(long, global = true, env = "LILYPAD_NODE", default_value = DEV_NODE)]
	node: String,
	/// The signing key: a secret URI (`//Alice` on dev chains) or a key's name in the keystore
	/// (default: the keystore's `default`, else `//Alice` on a dev chain).
	#[arg(long, global = true, env = "LILYPAD_KEY")]
	key: Option<String>,
	/// Print one JSON object instead of text.
	#[arg(long, global = true)]
	json: bool,
	#[command(subcommand)]
	command: Command,
}

#[derive(Subcommand)]
enum Command {
	/// Run a job: submit it, follow it, fetch and verify its outputs, print its stdout.
	Run(run::RunArgs),
	/// Jobs: status, list, logs, cancel, get.
	Job {
		#[command(subcommand)]
		command: commands::JobCommand,
	},
	/// Modules: publish, list, show.
	Module {
		#[command(subcommand)]
		command: commands::ModuleCommand,
	},
	/// Models (weights that modules run): publish, list, show.
	Model {
		#[command(subcommand)]
		command: commands::ModelCommand,
	},
	/// Accounts: new, balance, transfer.
	Account {
		#[command(subcommand)]
		command: commands::AccountCommand,
	},
	/// Resource providers: status.
	Provider {
		#[command(subcommand)]
		command: commands::ProviderCommand,
	},
	/// Dev chains only: make the dev network ready to run jobs.
	Dev {
		#[command(subcommand)]
		command: commands::DevCommand,
	},
}

#[tokio::main]
async fn main() -> ExitCode {
	let cli = Cli::parse();
	let json = cli.json;
	match commands::dispatch(cli.command, &cli.node, cli.key.as_deref(), json).await {
		Ok(out) => {
			if json {
				println!("{out}");
			}
			ExitCode::SUCCESS
		}
		Err(err) => {
			let (kind, details) = error::kind_of(&err);
			if json {
				let mut obj = serde_json::json!({
					"error": { "kind": kind.name(), "code": kind as u8, "message": format!("{err:#}") },
				});
				if !details.is_null() {
					obj["error"]["details"] = details;
				}
				println!("{obj}");
			} else {
				eprintln!("error: {err:#}");
			}
			ExitCode::from(kind as u8)
		}
	}
}
