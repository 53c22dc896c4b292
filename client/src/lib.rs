//! # lilypad-client
//!
//! What every Lilypad client shares: the chain's API generated from the runtime's metadata
//! ([`lilypad`]), with the protocol's own types in place of generated copies, and the
//! canonical archive of a job's outputs and of a model's weights ([`archive`]). Used by
//! `lilypad-rp` (the provider's agent) and `lilypad` (the CLI).
pub mod archive;
pub mod blocks;
pub mod chain;
pub mod content;
pub mod keys;
pub mod live;

use anyhow::anyhow;
use subxt::{OnlineClient, SubstrateConfig};

/// Calls, events, storage and runtime APIs from `metadata/lilypad.scale`, with the protocol's
/// own types (`lilypad-primitives`) in place of generated copies where the agent builds, signs
/// or reads them.
#[subxt::subxt(
	runtime_metadata_path = "../metadata/lilypad.scale",
	substitute_type(
		path = "lilypad_primitives::registry::VersionManifest",
		with = "::subxt::utils::Static<::lilypad_primitives::registry::VersionManifest<u128>>"
	),
	substitute_type(
		path = "lilypad_primitives::models::ModelManifest",
		with = "::subxt::utils::Static<::lilypad_primitives::models::ModelManifest>"
	),
	substitute_type(
		path = "lilypad_primitives::providers::Offer",
		with = "::subxt::utils::Static<::lilypad_primitives::providers::Offer<u128>>"
	),
	substitute_type(
		path = "lilypad_primitives::registry::ModuleRef",
		with = "::subxt::utils::Static<::lilypad_primitives::registry::ModuleRef>"
	),
	substitute_type(
		path = "lilypad_primitives::jobs::JobInputs",
		with = "::subxt::utils::Static<::lilypad_primitives::jobs::JobInputs>"
	),
	substitute_type(
		path = "lilypad_primitives::jobs::ResultManifest",
		with = "::subxt::utils::Static<::lilypad_primitives::jobs::ResultManifest>"
	)
)]
pub mod lilypad {}

/// A client of a Lilypad node.
pub type Client = OnlineClient<SubstrateConfig>;

/// Re-types a value as the generated (subxt) type of the same SCALE shape.
pub fn retype<T: codec::Decode>(value: &impl codec::Encode) -> anyhow::Result<T> {
	T::decode(&mut &value.encode()[..]).map_err(|e| anyhow!("not the runtime's shape: {e}"))
}
