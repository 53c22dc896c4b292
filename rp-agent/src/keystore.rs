//! The provider's signing key: an sr25519 secret seed in `<data_dir>/keystore/provider.sr25519`
//! (hex, readable by the owner only), generated on first start.
use std::{io::Read, os::unix::fs::OpenOptionsExt, path::Path};

use anyhow::{bail, Context};
use subxt_signer::{sr25519::Keypair, SecretUri};

/// The key in `dir`'s keystore, created when there is none.
pub fn load_or_create(data_dir: &Path) -> anyhow::Result<Keypair> {
	let dir = data_dir.join("keystore");
	let path = dir.join("provider.sr25519");
	if !path.exists() {
		std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
		let mut seed = [0u8; 32];
		std::fs::File::open("/dev/urandom")
			.and_then(|mut f| f.read_exact(&mut seed))
			.context("read /dev/urandom")?;
		let mut file = std::fs::OpenOptions::new()
			.write(true)
			.create_new(true)
			.mode(0o600)
			.open(&path)
			.with_context(|| format!("create {}", path.display()))?;
		std::io::Write::write_all(&mut file, hex::encode(seed).as_bytes())?;
		file.sync_all()?;
	}
	use std::os::unix::fs::PermissionsExt;
	let mode = std::fs::metadata(&path)?.permissions().mode();
	if mode & 0o077 != 0 {
		bail!("{} is readable by others (mode {:o}): chmod 600 it", path.display(), mode & 0o777);
	}
	let text = std::fs::read_to_string(&path)?;
	let mut seed = [0u8; 32];
	hex::decode_to_slice(text.trim(), &mut seed)
		.with_context(|| format!("{} does not hold a 32-byte hex seed", path.display()))?;
	Keypair::from_secret_key(seed).map_err(|e| anyhow::anyhow!("bad key: {e:?}"))
}

/// The key for a secret URI such as `//Bob` (dev chains only).
pub fn from_uri(uri: &str) -> anyhow::Result<Keypair> {
	let uri: SecretUri = uri.parse().map_err(|e| anyhow::anyhow!("bad secret URI: {e:?}"))?;
	Keypair::from_uri(&uri).map_err(|e| anyhow::anyhow!("bad secret URI: {e:?}"))
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_key_is_created_once_private_and_reloaded() {
		let dir = tempfile::tempdir().unwrap();
		let a = load_or_create(dir.path()).unwrap();
		let b = load_or_create(dir.path()).unwrap();
		assert_eq!(a.public_key().0, b.public_key().0);
		let path = dir.path().join("keystore/provider.sr25519");
		use std::os::unix::fs::PermissionsExt;
		assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
		std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
		assert!(load_or_create(dir.path()).unwrap_err().to_string().contains("readable by others"));
	}

	#[test]
	fn dev_uris_give_the_dev_accounts() {
		let bob = from_uri("//Bob").unwrap();
		assert_eq!(bob.public_key().0, subxt_signer::sr25519::dev::bob().public_key().0);
	}
}
