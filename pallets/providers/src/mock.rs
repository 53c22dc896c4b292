//! A runtime with balances, Halo and the providers pallet, for unit tests.
use crate as pallet_providers;
use polkadot_sdk::{
	frame_support::{
		derive_impl, parameter_types,
		traits::{ConstU32, Hooks},
	},
	frame_system::{self, EnsureRoot},
	pallet_balances,
	sp_runtime::BuildStorage,
};

type Block = frame_system::mocking::MockBlock<Test>;
pub type Balance = u64;

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
	pub struct Test;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;
	#[runtime::pallet_index(1)]
	pub type Balances = pallet_balances;
	#[runtime::pallet_index(2)]
	pub type Halo = pallet_halo;
	#[runtime::pallet_index(3)]
	pub type Providers = pallet_providers;
}

use polkadot_sdk::frame_support;

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = Balance;
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
}

parameter_types! {
	pub const MaxIssuers: u32 = 4;
	pub const MaxCredentials: u32 = 4;
	pub const MaxDelegates: u32 = 4;
}

impl pallet_halo::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type IssuerOrigin = EnsureRoot<u64>;
	type MaxIssuers = MaxIssuers;
	type MaxCredentials = MaxCredentials;
	type MaxDelegates = MaxDelegates;
	type WeightInfo = ();
}

pub const MAX_UNLOCKING: u32 = 2;
pub const MAX_CHECKS: u32 = 2;

parameter_types! {
	/// Governed in the runtime; tests change them with `set`.
	pub static HeartbeatPeriod: u32 = 10;
	pub static UnbondingDelay: u32 = 5;
	pub const MaxUnlocking: u32 = MAX_UNLOCKING;
	pub const MaxChecksPerBlock: u32 = MAX_CHECKS;
}

impl pallet_providers::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Identity = Halo;
	type HeartbeatPeriod = HeartbeatPeriod;
	type UnbondingDelay = UnbondingDelay;
	type MaxUnlocking = MaxUnlocking;
	type MaxChecksPerBlock = MaxChecksPerBlock;
	type MaxMediators = ConstU32<2>;
	type OnBondChanged = ();
	type WeightInfo = ();
}

pub const ENDOWMENT: Balance = 1_000;

pub fn new_test_ext() -> polkadot_sdk::sp_io::TestExternalities {
	let storage = RuntimeGenesisConfig {
		balances: pallet_balances::GenesisConfig {
			balances: (1..=50).map(|n| (n, ENDOWMENT)).collect(),
			..Default::default()
		},
		..Default::default()
	}
	.build_storage()
	.unwrap();
	let mut ext: polkadot_sdk::sp_io::TestExternalities = storage.into();
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Advances to block `n`, running the pallet's `on_initialize` at each block.
pub fn run_to(n: u64) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		Providers::on_initialize(next);
	}
}
