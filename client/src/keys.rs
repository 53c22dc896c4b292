//! sr25519 keys on disk: a 32-byte secret seed as hex, in a file only its owner can read.
//! The provider's agent keeps one in its data directory; the CLI keeps named accounts.
use std::{io::Read, os::unix::fs::OpenOptionsExt, path::Path};

use anyhow::{anyhow, bail, Context};
use subxt_signer::{sr25519::Keypair, SecretUri};

/// Creates a new random key at `path` (which must not exist yet).
pub fn create(path: &Path) -> anyhow::Result<Keypair> {
	if let Some(dir) = path.parent() {
		std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
	}
	let mut seed = [0u8; 32];
	std::fs::File::open("/dev/urandom")
		.and_then(|mut f| f.read_exact(&mut seed))
		.context("read /dev/urandom")?;
	let mut file = std::fs::OpenOptions::new()
		.write(true)
		.create_new(true)
		.mode(0o600)
		.open(path)
		.with_context(|| format!("create {}", path.display()))?;
	std::io::Write::write_all(&mut file, hex::encode(seed).as_bytes())?;
	file.sync_all()?;
	load(path)
}

/// The key at `path`, refused if others may read it.
pub fn load(path: &Path) -> anyhow::Result<Keypair> {
	use std::os::unix::fs::PermissionsExt;
	let mode = std::fs::metadata(path)
		.with_context(|| format!("read {}", path.display()))?
		.permissions()
		.mode();
	if mode & 0o077 != 0 {
		bail!("{} is readable by others (mode {:o}): chmod 600 it", path.display(), mode & 0o777);
	}
	let text = std::fs::read_to_string(path)?;
	let mut seed = [0u8; 32];
	hex::decode_to_slice(text.trim(), &mut seed)
		.with_context(|| format!("{} does not hold a 32-byte hex seed", path.display()))?;
	Keypair::from_secret_key(seed).map_err(|e| anyhow!("bad key: {e:?}"))
}

/// The key for a secret URI such as `//Bob` (a dev account) or a mnemonic.
pub fn from_uri(uri: &str) -> anyhow::Result<Keypair> {
	let uri: SecretUri = uri.parse().map_err(|e| anyhow!("bad secret URI: {e:?}"))?;
	Keypair::from_uri(&uri).map_err(|e| anyhow!("bad secret URI: {e:?}"))
}

/// Whether `uri` derives from the well-known dev phrase (`//Alice`): such keys are public
/// knowledge, fit only for dev chains.
pub fn is_dev_uri(uri: &str) -> bool {
	uri.starts_with("//")
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_key_is_created_private_and_reloaded() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("keys/a.sr25519");
		let a = create(&path).unwrap();
		assert_eq!(load(&path).unwrap().public_key().0, a.public_key().0);
		assert!(create(&path).is_err(), "an existing key is never overwritten");
		use std::os::unix::fs::PermissionsExt;
		assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
		std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
		assert!(load(&path).unwrap_err().to_string().contains("readable by others"));
	}

	#[test]
	fn dev_uris_give_the_dev_accounts() {
		let bob = from_uri("//Bob").unwrap();
		assert_eq!(bob.public_key().0, subxt_signer::sr25519::dev::bob().public_key().0);
		assert!(is_dev_uri("//Bob") && !is_dev_uri("bottom drive obey lake"));
	}
}
