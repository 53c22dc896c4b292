//! The chains this node knows by name. Their genesis comes from the runtime's presets
//! (`lilypad_runtime::genesis_config_presets`), so the node and `chain-spec-builder` agree.
use lilypad_runtime::WASM_BINARY;
use polkadot_sdk::{sc_service::ChainType, sp_genesis_builder};

/// A chain spec for this node: genesis from the runtime's presets, no node-specific extensions.
pub type ChainSpec = polkadot_sdk::sc_service::GenericChainSpec;

/// How wallets and explorers show LILY and addresses.
fn properties() -> polkadot_sdk::sc_chain_spec::Properties {
	let mut p = polkadot_sdk::sc_chain_spec::Properties::new();
	p.insert("tokenSymbol".into(), "LILY".into());
	p.insert("tokenDecimals".into(), lilypad_primitives::LILY_DECIMALS.into());
	p.insert("ss58Format".into(), 42.into());
	p
}

fn wasm() -> Result<&'static [u8], String> {
	WASM_BINARY.ok_or_else(|| {
		"the runtime's WASM blob was not built (SKIP_WASM_BUILD was set?); rebuild without it"
			.to_string()
	})
}

/// A spec whose genesis is the runtime's preset `preset`.
fn from_preset(
	name: &str,
	id: &str,
	chain_type: ChainType,
	preset: &str,
) -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm()?, None)
		.with_name(name)
		.with_id(id)
		// Keeps the p2p protocols of different Lilypad networks apart.
		.with_protocol_id(id)
		.with_chain_type(chain_type)
		.with_genesis_config_preset_name(preset)
		.with_properties(properties())
		.build())
}

/// `--dev`: one validator (Alice) that also holds the sudo key.
pub fn development() -> Result<ChainSpec, String> {
	from_preset(
		"Lilypad Development",
		"lilypad_dev",
		ChainType::Development,
		sp_genesis_builder::DEV_RUNTIME_PRESET,
	)
}

/// `--chain local`: four validators (Alice, Bob, Charlie, Dave) and no sudo key.
pub fn local_testnet() -> Result<ChainSpec, String> {
	from_preset(
		"Lilypad Local Testnet",
		"lilypad_local",
		ChainType::Local,
		sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET,
	)
}
