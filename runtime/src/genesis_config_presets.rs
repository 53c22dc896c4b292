//! Genesis states the node can start from: `development` (one validator, Alice, with a sudo key,
//! referenda that pass in minutes) and `local_testnet` (Alice, Bob, Charlie and Dave
//! validating, no sudo, referenda at a live network's pace).
//!
//! Every preset allocates exactly [`TOTAL_SUPPLY`]: 30% to the rewards pool, the endowed
//! accounts an equal share of half the supply, and the treasury the rest (20% plus the rounding
//! remainder). `pallet_supply` refuses a genesis that does not add up.
use crate::{
	configs::{RewardsPoolAccount, TreasuryAccount},
	governance::origins::Pace,
	AccountId, BalancesConfig, OriginsConfig, RuntimeGenesisConfig, SessionConfig, SessionKeys,
	SudoConfig, BABE_GENESIS_EPOCH_CONFIG, TOTAL_SUPPLY,
};
use alloc::{vec, vec::Vec};
use lilypad_primitives::Balance;
use polkadot_sdk::{
	pallet_babe,
	sp_consensus_babe::AuthorityId as BabeId,
	sp_consensus_grandpa::AuthorityId as GrandpaId,
	sp_genesis_builder::{self, PresetId},
	sp_keyring::{Ed25519Keyring, Sr25519Keyring},
};

/// Share of the supply in the rewards pool at genesis, in percent.
pub const REWARDS_POOL_PERCENT: Balance = 30;
/// Share of the supply split among endowed accounts, in percent.
pub const ENDOWED_PERCENT: Balance = 50;

/// A validator at genesis: its account and its session keys.
pub struct Validator {
	pub account: AccountId,
	pub babe: BabeId,
	pub grandpa: GrandpaId,
}

/// How the supply is split at genesis: `(account, balance)` pairs that add up to
/// [`TOTAL_SUPPLY`].
pub fn allocations(endowed: &[AccountId]) -> Vec<(AccountId, Balance)> {
	let pool = TOTAL_SUPPLY / 100 * REWARDS_POOL_PERCENT;
	let each = if endowed.is_empty() {
		0
	} else {
		TOTAL_SUPPLY / 100 * ENDOWED_PERCENT / endowed.len() as Balance
	};
	let treasury = TOTAL_SUPPLY - pool - each * endowed.len() as Balance;
	let mut out: Vec<_> = endowed.iter().cloned().map(|a| (a, each)).collect();
	out.push((RewardsPoolAccount::get(), pool));
	out.push((TreasuryAccount::get(), treasury));
	out
}

/// A genesis with the given validators, endowed accounts and (dev only) sudo key.
pub fn genesis(
	validators: Vec<Validator>,
	endowed: Vec<AccountId>,
	sudo: Option<AccountId>,
	pace: Pace,
) -> serde_json::Value {
	let config = RuntimeGenesisConfig {
		balances: BalancesConfig { balances: allocations(&endowed), ..Default::default() },
		babe: pallet_babe::GenesisConfig {
			// Session sets the authorities from the keys below.
			authorities: vec![],
			epoch_config: BABE_GENESIS_EPOCH_CONFIG,
			..Default::default()
		},
		session: SessionConfig {
			keys: validators
				.into_iter()
				.map(|v| {
					(v.account.clone(), v.account, SessionKeys { babe: v.babe, grandpa: v.grandpa })
				})
				.collect(),
			..Default::default()
		},
		sudo: SudoConfig { key: sudo },
		origins: OriginsConfig { dev_pace: pace == Pace::Dev, ..Default::default() },
		..Default::default()
	};
	serde_json::to_value(config).expect("a genesis config serialises to JSON; qed")
}

/// A dev validator whose keys derive from a well-known name (`//Alice`...).
fn dev_validator(sr: Sr25519Keyring, ed: Ed25519Keyring) -> Validator {
	Validator { account: sr.to_account_id(), babe: sr.public().into(), grandpa: ed.public().into() }
}

/// The well-known dev accounts, endowed in the dev and local presets.
pub fn dev_accounts() -> Vec<AccountId> {
	Sr25519Keyring::well_known().map(|k| k.to_account_id()).collect()
}

/// One validator (Alice), who also holds the sudo key.
pub fn development() -> serde_json::Value {
	genesis(
		vec![dev_validator(Sr25519Keyring::Alice, Ed25519Keyring::Alice)],
		dev_accounts(),
		Some(Sr25519Keyring::Alice.to_account_id()),
		Pace::Dev,
	)
}

/// Four validators (Alice, Bob, Charlie, Dave) and no sudo key.
pub fn local_testnet() -> serde_json::Value {
	genesis(
		vec![
			dev_validator(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
			dev_validator(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
			dev_validator(Sr25519Keyring::Charlie, Ed25519Keyring::Charlie),
			dev_validator(Sr25519Keyring::Dave, Ed25519Keyring::Dave),
		],
		dev_accounts(),
		None,
		Pace::Live,
	)
}

/// The preset named `id`, as JSON.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		sp_genesis_builder::DEV_RUNTIME_PRESET => development(),
		sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET => local_testnet(),
		_ => return None,
	};
	Some(
		serde_json::to_string(&patch)
			.expect("serialising a JSON value cannot fail; qed")
			.into_bytes(),
	)
}

/// The presets this runtime offers.
pub fn preset_names() -> Vec<PresetId> {
	vec![
		PresetId::from(sp_genesis_builder::DEV_RUNTIME_PRESET),
		PresetId::from(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET),
	]
}
