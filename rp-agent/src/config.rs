//! The agent's configuration: built-in defaults, then a TOML file, then the environment
//! (`LILYPAD_RP_<FIELD>`, and `LILYPAD_NODE` for the node as the CLI reads it), then flags;
//! each layer overrides the one before (figment).
use std::{net::SocketAddr, path::PathBuf};

use anyhow::Context;
use figment::{
	providers::{Env, Format, Serialized, Toml},
	Figment,
};
use serde::{Deserialize, Serialize};

/// The local dev node's JSON-RPC endpoint.
pub const DEV_NODE: &str = "ws://127.0.0.1:9944";
/// The dev account `--dev` signs as.
pub const DEV_KEY_URI: &str = "//Bob";
/// One LILY in planck.
pub const LILY: u64 = 1_000_000_000_000;

/// Everything the agent runs with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
	/// The node's JSON-RPC URL (WebSocket).
	pub node: String,
	/// Where the keystore, the journal, the content store, the module cache and (unless
	/// `model_cache_dir` says otherwise) the model cache live.
	pub data_dir: PathBuf,
	/// Where the content store listens.
	pub listen: SocketAddr,
	/// The URL of the content store in the offer; `http://<listen>` when unset.
	pub endpoint: Option<String>,
	/// Jobs run at once.
	pub capacity: u32,
	/// The asking price per job, in planck (u64: TOML has no larger integers).
	pub price: u64,
	/// Provider collateral kept bonded, in planck.
	pub bond: u64,
	/// Modules served; empty: all.
	pub modules: Vec<String>,
	/// Other content stores (base URLs) to fetch module artifacts and inputs from.
	pub peers: Vec<String>,
	/// Fuel per second of a module's timeout: the deterministic bound on its instructions.
	pub fuel_per_sec: u64,
	/// The most memory one job may use, whatever its module asks for, in MiB.
	pub max_memory_mib: u32,
	/// The most output (files, and stdout and stderr each) one job may produce, in MiB.
	pub max_output_mib: u32,
	/// Blocks between heartbeats.
	pub heartbeat_blocks: u32,
	/// One job slot's CPU, RAM and disk in the offer; detected (total / capacity) when unset.
	pub cpu_millicores: Option<u32>,
	pub ram_mib: Option<u32>,
	pub disk_mib: Option<u32>,
	/// Sign with this secret URI (e.g. `//Bob`) instead of the keystore's key: for dev chains.
	pub key_uri: Option<String>,
	/// Run Docker modules (through the local engine, `DOCKER_HOST` or its Unix socket).
	pub docker: bool,
	/// The largest image tarball fetched, in MiB.
	pub max_image_mib: u32,
	/// Where the weights of the models jobs need are kept; `<data_dir>/models` when unset.
	pub model_cache_dir: Option<PathBuf>,
	/// The most bytes of model weights kept; the least recently used models not in use are
	/// evicted to make room, and a model larger than this cannot be run.
	pub model_cache_bytes: u64,
	/// Processes and threads one Docker job may run.
	pub max_pids: u32,
	/// Advertise the NVIDIA GPUs `nvidia-smi` reports.
	pub detect_gpus: bool,
	/// Offer compute and run assigned jobs; `false` with `mediate` makes a mediator-only agent.
	pub provide: bool,
	/// Mediator mode: also stake as a mediator and re-run the jobs this agent is drawn to
	/// mediate.
	pub mediate: bool,
	/// Mediator stake kept bonded in mediator mode, in planck; at least the chain's mediator
	/// penalty, or the agent is never drawn.
	pub mediator_bond: u64,
}

impl Default for Config {
	fn default() -> Self {
		let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| "/tmp".into());
		Self {
			node: DEV_NODE.into(),
			data_dir: home.join(".local/share/lilypad-rp"),
			listen: "127.0.0.1:8080".parse().expect("a socket address"),
			endpoint: None,
			capacity: 2,
			price: 10 * LILY / 1_000,
			bond: 100 * LILY,
			modules: Vec::new(),
			peers: Vec::new(),
			fuel_per_sec: 2_000_000_000,
			max_memory_mib: 2_048,
			max_output_mib: 64,
			heartbeat_blocks: 30,
			cpu_millicores: None,
			ram_mib: None,
			disk_mib: None,
			key_uri: None,
			docker: true,
			max_image_mib: 2_048,
			model_cache_dir: None,
			model_cache_bytes: 20 << 30,
			max_pids: 256,
			detect_gpus: true,
			provide: true,
			mediate: false,
			mediator_bond: 20 * LILY,
		}
	}
}

impl Config {
	/// The defaults `--dev` starts from: the local dev node, a dev key and a data directory
	/// of its own.
	pub fn dev() -> Self {
		Self {
			key_uri: Some(DEV_KEY_URI.into()),
			data_dir: std::env::temp_dir().join("lilypad-rp-dev"),
			..Self::default()
		}
	}

	/// Layers `file` (if given and present), the environment and `flags` over `base`.
	/// `flags` is a partial config: only the fields it sets override.
	pub fn load(
		base: Config,
		file: Option<&std::path::Path>,
		flags: impl Serialize,
	) -> anyhow::Result<Config> {
		let mut figment = Figment::from(Serialized::defaults(base));
		if let Some(file) = file {
			anyhow::ensure!(file.is_file(), "config file {} not found", file.display());
			figment = figment.merge(Toml::file(file));
		}
		figment = figment
			// `LILYPAD_RP_CONFIG` names the file; it is not a field.
			.merge(Env::prefixed("LILYPAD_RP_").ignore(&["config"]))
			.merge(Env::raw().only(&["LILYPAD_NODE"]).map(|_| "node".into()))
			.merge(Serialized::defaults(flags));
		let config: Config = figment.extract().context("invalid configuration")?;
		anyhow::ensure!(config.capacity > 0, "capacity must be at least 1");
		anyhow::ensure!(config.heartbeat_blocks > 0, "heartbeat_blocks must be at least 1");
		anyhow::ensure!(
			config.provide || config.mediate,
			"provide = false needs mediate = true: the agent would have nothing to do"
		);
		Ok(config)
	}

	/// The content store's URL as the offer advertises it.
	pub fn endpoint(&self) -> String {
		self.endpoint.clone().unwrap_or_else(|| format!("http://{}", self.listen))
	}

	/// Where the model cache lives.
	pub fn model_cache_dir(&self) -> PathBuf {
		self.model_cache_dir.clone().unwrap_or_else(|| self.data_dir.join("models"))
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[derive(Serialize, Default)]
	struct Flags {
		#[serde(skip_serializing_if = "Option::is_none")]
		capacity: Option<u32>,
	}

	// `figment::Jail::expect_with` fixes the closure's error type, `figment::Error`.
	#[allow(clippy::result_large_err)]
	#[test]
	fn file_then_environment_then_flags_override_the_defaults() {
		figment::Jail::expect_with(|jail| {
			jail.create_file("rp.toml", "capacity = 3\nprice = 5\npeers = [\"http://a\"]\n")?;
			jail.set_env("LILYPAD_RP_PRICE", "7");
			jail.set_env("LILYPAD_NODE", "ws://node:9944");
			let path = jail.directory().join("rp.toml");
			let c = Config::load(Config::default(), Some(&path), Flags::default()).unwrap();
			assert_eq!((c.capacity, c.price, c.node.as_str()), (3, 7, "ws://node:9944"));
			assert_eq!(c.peers, vec!["http://a".to_string()]);
			let c =
				Config::load(Config::default(), Some(&path), Flags { capacity: Some(9) }).unwrap();
			assert_eq!(c.capacity, 9);
			Ok(())
		});
	}

	// As above.
	#[allow(clippy::result_large_err)]
	#[test]
	fn the_model_cache_lives_in_the_data_directory_unless_placed_elsewhere() {
		figment::Jail::expect_with(|jail| {
			jail.create_file("rp.toml", "data_dir = \"/srv/rp\"\n")?;
			let path = jail.directory().join("rp.toml");
			let c = Config::load(Config::default(), Some(&path), Flags::default()).unwrap();
			assert_eq!(c.model_cache_dir(), PathBuf::from("/srv/rp/models"));
			assert_eq!(c.model_cache_bytes, 20 << 30);
			jail.create_file(
				"rp.toml",
				"model_cache_dir = \"/fast/models\"\nmodel_cache_bytes = 1073741824\n",
			)?;
			let c = Config::load(Config::default(), Some(&path), Flags::default()).unwrap();
			assert_eq!(c.model_cache_dir(), PathBuf::from("/fast/models"));
			assert_eq!(c.model_cache_bytes, 1 << 30);
			Ok(())
		});
	}

	// As above.
	#[allow(clippy::result_large_err)]
	#[test]
	fn unknown_fields_and_zero_capacity_are_refused() {
		figment::Jail::expect_with(|jail| {
			jail.create_file("bad.toml", "capacty = 3\n")?;
			let err = Config::load(
				Config::default(),
				Some(&jail.directory().join("bad.toml")),
				Flags::default(),
			)
			.unwrap_err();
			assert!(format!("{err:#}").contains("capacty"), "{err:#}");
			let err =
				Config::load(Config::default(), None, Flags { capacity: Some(0) }).unwrap_err();
			assert!(err.to_string().contains("capacity"), "{err}");
			Ok(())
		});
	}
}
