//! A runtime with balances and the supply pallet, for unit tests.
use crate as pallet_supply;
use polkadot_sdk::{
	frame_support::{derive_impl, parameter_types},
	frame_system, pallet_balances,
	sp_runtime::{BuildStorage, Storage},
};

type Block = frame_system::mocking::MockBlock<Test>;
pub type Balance = u64;

pub const SUPPLY: Balance = 1_000;

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
	pub type Supply = pallet_supply;
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
}

parameter_types! {
	pub const TotalSupply: Balance = SUPPLY;
}

impl pallet_supply::Config for Test {
	type Currency = Balances;
	type TotalSupply = TotalSupply;
}

/// Genesis storage with `balances` allocated; panics if they do not add up to [`SUPPLY`].
pub fn genesis(balances: Vec<(u64, Balance)>) -> Storage {
	RuntimeGenesisConfig {
		balances: pallet_balances::GenesisConfig { balances, ..Default::default() },
		..Default::default()
	}
	.build_storage()
	.unwrap()
}

pub fn new_test_ext() -> polkadot_sdk::sp_io::TestExternalities {
	let mut ext: polkadot_sdk::sp_io::TestExternalities =
		genesis(vec![(1, 600), (2, 300), (3, 100)]).into();
	ext.execute_with(|| System::set_block_number(1));
	ext
}
