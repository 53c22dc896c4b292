//! Weights for `pallet_rewards`.
//!
//! Estimated by hand, not yet measured: the reads and writes are counted from the code, and the
//! execution times are 3x the native times `cargo bench -p pallet-rewards` prints (WASM runs
//! slower than native). `scripts/bench-weights.sh rewards` replaces this file with measured
//! weights from the benchmarks in `benchmarking.rs`.

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]

use core::marker::PhantomData;
use polkadot_sdk::{
	frame_support::{
		traits::Get,
		weights::{constants::ParityDbWeight, Weight},
	},
	frame_system,
};

/// Weight functions needed for `pallet_rewards`.
pub trait WeightInfo {
	fn claim() -> Weight;
	fn note() -> Weight;
	fn end_epoch() -> Weight;
	fn value_actors(n: u32, ) -> Weight;
	fn credit_actors(n: u32, ) -> Weight;
}

/// Weights for `pallet_rewards`, with the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	/// Storage: `Rewards::Claimable` (r:1 w:1), `System::Account` (r:2 w:2),
	/// `Rewards::Committed` (r:1 w:1)
	fn claim() -> Weight {
		Weight::from_parts(60_000_000, 6_000)
			.saturating_add(T::DbWeight::get().reads(4_u64))
			.saturating_add(T::DbWeight::get().writes(4_u64))
	}
	/// Storage: `Rewards::CurrentEpoch` (r:1), `Rewards::Actors` (r:1 w:1),
	/// `Rewards::Closing` (r:1), `Providers::Bonds` (r:1), `Parameters::Parameters` (r:2)
	fn note() -> Weight {
		Weight::from_parts(40_000_000, 8_000)
			.saturating_add(T::DbWeight::get().reads(6_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	/// Storage: `Rewards::Closing` (r:1 w:1), `Rewards::CurrentEpoch` (r:1 w:1),
	/// `Parameters::Parameters` (r:1)
	fn end_epoch() -> Weight {
		Weight::from_parts(15_000_000, 3_000)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
	/// Storage: `Rewards::Closing` (r:1 w:1), `Parameters::Parameters` (r:7),
	/// `System::Account` (r:1), `Rewards::Committed` (r:1 w:1); per actor `Rewards::Actors`
	/// (r:1 w:1)
	fn value_actors(n: u32, ) -> Weight {
		Weight::from_parts(40_000_000, 8_000)
			.saturating_add(Weight::from_parts(60_000_000, 300).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads(10_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
			.saturating_add(T::DbWeight::get().reads((1_u64).saturating_mul(n.into())))
			.saturating_add(T::DbWeight::get().writes((1_u64).saturating_mul(n.into())))
	}
	/// Storage: `Rewards::Closing` (r:1 w:1), `Rewards::Committed` (r:1 w:1); per actor
	/// `Rewards::Actors` (r:1 w:1), `Rewards::Claimable` (r:1 w:1)
	fn credit_actors(n: u32, ) -> Weight {
		Weight::from_parts(20_000_000, 4_000)
			.saturating_add(Weight::from_parts(30_000_000, 400).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
			.saturating_add(T::DbWeight::get().reads((2_u64).saturating_mul(n.into())))
			.saturating_add(T::DbWeight::get().writes((2_u64).saturating_mul(n.into())))
	}
}

// For tests: the same counts with ParityDB's weights.
impl WeightInfo for () {
	fn claim() -> Weight {
		Weight::from_parts(60_000_000, 6_000)
			.saturating_add(ParityDbWeight::get().reads(4_u64))
			.saturating_add(ParityDbWeight::get().writes(4_u64))
	}
	fn note() -> Weight {
		Weight::from_parts(40_000_000, 8_000)
			.saturating_add(ParityDbWeight::get().reads(6_u64))
			.saturating_add(ParityDbWeight::get().writes(1_u64))
	}
	fn end_epoch() -> Weight {
		Weight::from_parts(15_000_000, 3_000)
			.saturating_add(ParityDbWeight::get().reads(3_u64))
			.saturating_add(ParityDbWeight::get().writes(2_u64))
	}
	fn value_actors(n: u32, ) -> Weight {
		Weight::from_parts(40_000_000, 8_000)
			.saturating_add(Weight::from_parts(60_000_000, 300).saturating_mul(n.into()))
			.saturating_add(ParityDbWeight::get().reads(10_u64))
			.saturating_add(ParityDbWeight::get().writes(2_u64))
			.saturating_add(ParityDbWeight::get().reads((1_u64).saturating_mul(n.into())))
			.saturating_add(ParityDbWeight::get().writes((1_u64).saturating_mul(n.into())))
	}
	fn credit_actors(n: u32, ) -> Weight {
		Weight::from_parts(20_000_000, 4_000)
			.saturating_add(Weight::from_parts(30_000_000, 400).saturating_mul(n.into()))
			.saturating_add(ParityDbWeight::get().reads(2_u64))
			.saturating_add(ParityDbWeight::get().writes(2_u64))
			.saturating_add(ParityDbWeight::get().reads((2_u64).saturating_mul(n.into())))
			.saturating_add(ParityDbWeight::get().writes((2_u64).saturating_mul(n.into())))
	}
}
