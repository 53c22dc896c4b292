//! The subxt types of `lilypad-rp` and the end-to-end tests are generated from `metadata/lilypad.scale`. This test
//! fails when that file no longer matches the runtime's metadata; regenerate it with
//! `LILYPAD_UPDATE_METADATA=1 cargo test -p lilypad-e2e --test metadata`.
use std::path::Path;

/// The metadata version subxt's code generation reads.
const METADATA_VERSION: u32 = 15;

#[test]
fn checked_in_metadata_matches_the_runtime() {
	// In externalities: the referendum tracks' constant reads the chain's governance pace.
	let current = polkadot_sdk::sp_io::TestExternalities::default().execute_with(|| {
		lilypad_runtime::Runtime::metadata_at_version(METADATA_VERSION)
			.expect("the runtime offers metadata v15")
	});
	let current: &[u8] = &current;
	let path = Path::new(env!("CARGO_MANIFEST_DIR"))
		.parent()
		.expect("tests/ is in the workspace")
		.join("metadata/lilypad.scale");

	if std::env::var_os("LILYPAD_UPDATE_METADATA").is_some() {
		std::fs::write(&path, current).expect("write metadata");
		return;
	}
	let checked_in = std::fs::read(&path).unwrap_or_default();
	assert!(
		checked_in == current,
		"{} is stale ({} bytes, runtime has {}): run \
		 `LILYPAD_UPDATE_METADATA=1 cargo test -p lilypad-e2e --test metadata` and commit it",
		path.display(),
		checked_in.len(),
		current.len(),
	);
}
