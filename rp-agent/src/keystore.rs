//! The provider's signing key: an sr25519 secret seed in `<data_dir>/keystore/provider.sr25519`
//! (hex, readable by the owner only), generated on first start.
use std::path::Path;

use subxt_signer::sr25519::Keypair;

pub use lilypad_client::keys::from_uri;

/// The key in `dir`'s keystore, created when there is none.
pub fn load_or_create(data_dir: &Path) -> anyhow::Result<Keypair> {
	let path = data_dir.join("keystore").join("provider.sr25519");
	if path.exists() {
		lilypad_client::keys::load(&path)
	} else {
		lilypad_client::keys::create(&path)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_key_is_created_once_and_reloaded() {
		let dir = tempfile::tempdir().unwrap();
		let a = load_or_create(dir.path()).unwrap();
		let b = load_or_create(dir.path()).unwrap();
		assert_eq!(a.public_key().0, b.public_key().0);
		assert!(dir.path().join("keystore/provider.sr25519").is_file());
	}
}
