//! Whose key signs: `--key` / `LILYPAD_KEY` (a secret URI such as `//Alice`, or the name of
//! a key in the keystore), else the keystore's `default` key, else on a dev chain `//Alice`.
//! Keys derived from the dev phrase are public knowledge: they are refused on live chains.
use std::path::PathBuf;

use subxt::utils::AccountId32;
use subxt_signer::sr25519::Keypair;

use crate::{
	error::{fail, Kind},
	node::Node,
};

/// A key and its account.
pub struct Signer {
	pub key: Keypair,
	pub account: AccountId32,
}

impl Signer {
	fn new(key: Keypair) -> Self {
		Self { account: key.public_key().into(), key }
	}
}

/// Where the CLI keeps its keys: `$LILYPAD_HOME`, or `~/.lilypad`.
pub fn home() -> PathBuf {
	match std::env::var_os("LILYPAD_HOME") {
		Some(dir) => dir.into(),
		None => {
			PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| ".".into())).join(".lilypad")
		}
	}
}

/// The file of the key named `name`.
pub fn key_path(name: &str) -> PathBuf {
	home().join("keys").join(format!("{name}.sr25519"))
}

/// Whether `key` is a secret URI rather than a key's name.
fn is_uri(key: &str) -> bool {
	key.starts_with("//") || key.starts_with("0x") || key.contains(' ')
}

/// Whether the chain is one where the dev keys are fine.
async fn dev_chain(node: &Node) -> anyhow::Result<bool> {
	Ok(matches!(node.chain_type().await?.as_str(), "Development" | "Local"))
}

/// The signer for `key` (see the module's docs).
pub async fn resolve(node: &Node, key: Option<&str>, quiet: bool) -> anyhow::Result<Signer> {
	let key =
		match key {
			Some(k) => k.to_string(),
			None if key_path("default").exists() => "default".into(),
			None => {
				if !dev_chain(node).await? {
					return Err(fail(
					Kind::BadInput,
					"no key: pass --key (or set LILYPAD_KEY), or create one with `lilypad account new`",
				));
				}
				if !quiet {
					eprintln!("note: no key given (--key, LILYPAD_KEY); signing as //Alice on this dev chain");
				}
				"//Alice".into()
			}
		};
	if is_uri(&key) {
		if lilypad_client::keys::is_dev_uri(&key) && !dev_chain(node).await? {
			return Err(fail(
				Kind::BadInput,
				format!("{key} is a well-known dev key: it is refused on a live chain"),
			));
		}
		let pair = lilypad_client::keys::from_uri(&key)
			.map_err(|e| fail(Kind::BadInput, format!("--key: {e}")))?;
		return Ok(Signer::new(pair));
	}
	let path = key_path(&key);
	if !path.exists() {
		return Err(fail(
			Kind::BadInput,
			format!(
				"no key named {key:?} in {} (create it with `lilypad account new --name {key}`)",
				home().join("keys").display()
			),
		));
	}
	Ok(Signer::new(lilypad_client::keys::load(&path)?))
}
