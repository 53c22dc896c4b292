//! A runtime with Halo alone, for unit tests.
use crate as pallet_halo;
use polkadot_sdk::{
	frame_support::{derive_impl, parameter_types},
	frame_system::{self, EnsureRoot},
	sp_runtime::BuildStorage,
};

type Block = frame_system::mocking::MockBlock<Test>;

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
	pub type Halo = pallet_halo;
}

use polkadot_sdk::frame_support;

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
}

parameter_types! {
	pub const MaxIssuers: u32 = 2;
	pub const MaxCredentials: u32 = 2;
	pub const MaxDelegates: u32 = 2;
}

impl pallet_halo::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type IssuerOrigin = EnsureRoot<u64>;
	type MaxIssuers = MaxIssuers;
	type MaxCredentials = MaxCredentials;
	type MaxDelegates = MaxDelegates;
	type WeightInfo = ();
}

pub fn new_test_ext() -> polkadot_sdk::sp_io::TestExternalities {
	let storage = RuntimeGenesisConfig::default().build_storage().unwrap();
	let mut ext: polkadot_sdk::sp_io::TestExternalities = storage.into();
	ext.execute_with(|| System::set_block_number(1));
	ext
}
