//! # Lilypad runtime
//!
//! The state transition function of the Lilypad chain: who may author blocks (BABE, whose VRF
//! output later seeds mediator sampling), what is final (GRANDPA), and LILY, a token whose whole
//! supply exists from genesis (see `pallet_supply`).
//!
//! - [`configs`]: every pallet's configuration, with the reasons for its constants.
//! - [`apis`]: the runtime APIs the node and clients call.
//! - [`genesis_config_presets`]: the `dev` and `local` genesis states.
#![cfg_attr(not(feature = "std"), no_std)]
// `construct_runtime` and `impl_runtime_apis` expand deeply.
#![recursion_limit = "256"]

extern crate alloc;

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

// Before `apis`: the macros it defines are used there, and macro scope is textual.
#[cfg(feature = "runtime-benchmarks")]
polkadot_sdk::frame_benchmarking::define_benchmarks!(
	[pallet_halo, Identity]
	[pallet_registry, Registry]
	[pallet_providers, Providers]
	[pallet_jobs, Jobs]
	[pallet_rewards, Rewards]
);

pub mod apis;
pub mod configs;
pub mod genesis_config_presets;
pub mod governance;

use alloc::{borrow::Cow, vec::Vec};
use polkadot_sdk::{
	frame_support::{self, PalletId},
	frame_system, pallet_babe, pallet_balances, pallet_conviction_voting, pallet_grandpa,
	pallet_parameters, pallet_preimage, pallet_referenda, pallet_scheduler, pallet_session,
	pallet_sudo, pallet_timestamp, pallet_transaction_payment, pallet_treasury, pallet_utility,
	sp_consensus_babe,
	sp_runtime::{generic, impl_opaque_keys, traits::BlakeTwo256},
	sp_version::{self, RuntimeVersion},
};

pub use lilypad_primitives::{
	AccountId, Balance, BlockNumber, Hash, Moment, Nonce, Signature, LILY, MICRO_LILY, MILLI_LILY,
	SLOT_DURATION_MS, TOTAL_SUPPLY,
};

/// Types the node needs without knowing the runtime's extrinsic format.
pub mod opaque {
	use super::*;
	pub use polkadot_sdk::sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

	/// Block header.
	pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
	/// Block with opaque extrinsics.
	pub type Block = generic::Block<Header, UncheckedExtrinsic>;
	/// Block id.
	pub type BlockId = generic::BlockId<Block>;
}

impl_opaque_keys! {
	/// The keys a validator registers with the session pallet: BABE (block production and the
	/// VRF) and GRANDPA (finality).
	pub struct SessionKeys {
		pub babe: Babe,
		pub grandpa: Grandpa,
	}
}

#[sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: Cow::Borrowed("lilypad"),
	impl_name: Cow::Borrowed("lilypad"),
	authoring_version: 1,
	// Bump on every change to the runtime's logic; governance upgrades check it.
	spec_version: 110,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	// Bump when a call's encoding changes. 2 (spec 110): `publish_version`'s manifest names
	// models, `submit_result` names model digests, offers (`register_provider`,
	// `update_offer`) list held models.
	transaction_version: 2,
	system_version: 1,
};

/// BABE's block production probability: a primary slot leader in 1 of 4 slots per authority,
/// secondary VRF slots fill the rest, so every slot has an author and every block carries VRF
/// randomness (secondary *plain* slots would not).
pub const PRIMARY_PROBABILITY: (u64, u64) = (1, 4);

/// The BABE epoch configuration every chain starts with.
pub const BABE_GENESIS_EPOCH_CONFIG: sp_consensus_babe::BabeEpochConfiguration =
	sp_consensus_babe::BabeEpochConfiguration {
		c: PRIMARY_PROBABILITY,
		allowed_slots: sp_consensus_babe::AllowedSlots::PrimaryAndSecondaryVRFSlots,
	};

/// Funds for epoch rewards of providers, solvers and mediators, allocated at genesis.
pub const REWARDS_POOL_PALLET_ID: PalletId = PalletId(*b"lily/rwd");
/// The treasury: receives transaction fees, tips and dust, and the treasury's share of the
/// protocol fee and of slashes.
pub const TREASURY_PALLET_ID: PalletId = PalletId(*b"lily/trs");

/// The address format of the chain's accounts (SS58 generic substrate prefix for now).
pub type Address = polkadot_sdk::sp_runtime::MultiAddress<AccountId, ()>;
/// Block header.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
/// Block.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;

/// The checks a signed transaction passes (and pays for) before it dispatches.
pub type TxExtension = (
	frame_system::AuthorizeCall<Runtime>,
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckEra<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
	pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
	frame_system::WeightReclaim<Runtime>,
);

/// An extrinsic as it arrives from outside.
pub type UncheckedExtrinsic =
	generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;
/// The payload a signer signs.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;

/// Storage migrations this release runs on upgrade, once each (they check the pallets'
/// storage versions). Spec 110: module versions name the models they need, a job's royalty
/// payees and model digests are fixed at submission, and offers name the model weights their
/// providers hold. (Spec 109 made a job's state one enum;
/// the previous release ran that.)
///
/// In order: the jobs migration reads the registry's versions (a job's payees) and its checks
/// read the providers' offers (their running jobs), so both go first.
pub type Migrations = (
	pallet_registry::migrations::v2::MigrateToV2<Runtime>,
	pallet_providers::migrations::v1::MigrateToV1<Runtime>,
	pallet_jobs::migrations::v3::MigrateToV3<Runtime>,
);

/// Dispatches calls to the pallets and runs their hooks.
pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
	Migrations,
>;

use polkadot_sdk::frame_executive;

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Runtime;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;
	#[runtime::pallet_index(1)]
	pub type Timestamp = pallet_timestamp;
	#[runtime::pallet_index(2)]
	pub type Babe = pallet_babe;
	#[runtime::pallet_index(3)]
	pub type Balances = pallet_balances;
	#[runtime::pallet_index(4)]
	pub type TransactionPayment = pallet_transaction_payment;
	// Session after Balances: its key deposit is a hold on balances.
	#[runtime::pallet_index(5)]
	pub type Session = pallet_session;
	#[runtime::pallet_index(6)]
	pub type Grandpa = pallet_grandpa;
	#[runtime::pallet_index(7)]
	pub type Utility = pallet_utility;
	#[runtime::pallet_index(8)]
	pub type Sudo = pallet_sudo;
	// After Balances: its genesis checks the balances' genesis.
	#[runtime::pallet_index(9)]
	pub type Supply = pallet_supply;
	// Halo: roles, credentials, delegation.
	#[runtime::pallet_index(10)]
	pub type Identity = pallet_halo;
	// Ampli: the module registry.
	#[runtime::pallet_index(11)]
	pub type Registry = pallet_registry;
	// Every governed protocol parameter (see `configs::dynamic_params`).
	#[runtime::pallet_index(12)]
	pub type Parameters = pallet_parameters;
	// Offers, heartbeats and bonds.
	#[runtime::pallet_index(13)]
	pub type Providers = pallet_providers;
	// Ophir: jobs, escrow and settlement.
	#[runtime::pallet_index(14)]
	pub type Jobs = pallet_jobs;
	// Reputation and epoch rewards.
	#[runtime::pallet_index(15)]
	pub type Rewards = pallet_rewards;

	// Governance (see `governance`): proposals, enactment, referenda, votes, grants, and the
	// tracks' origins.
	#[runtime::pallet_index(16)]
	pub type Preimage = pallet_preimage;
	#[runtime::pallet_index(17)]
	pub type Scheduler = pallet_scheduler;
	#[runtime::pallet_index(18)]
	pub type Referenda = pallet_referenda;
	#[runtime::pallet_index(19)]
	pub type ConvictionVoting = pallet_conviction_voting;
	#[runtime::pallet_index(20)]
	pub type Treasury = pallet_treasury;
	#[runtime::pallet_index(21)]
	pub type Origins = governance::origins;
}
