
//! Weights for `pallet_jobs`: initial estimates, to be replaced by `scripts/bench-weights.sh`.

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

/// Weight functions needed for `pallet_jobs`.
pub trait WeightInfo {
	fn submit_job() -> Weight;
	fn cancel_job() -> Weight;
	fn propose_match(b: u32, ) -> Weight;
	fn submit_result() -> Weight;
	fn challenge() -> Weight;
	fn resolve_mediation() -> Weight;
	fn cancel_slash() -> Weight;
	fn on_initialize(n: u32, ) -> Weight;
}

/// Weights for `pallet_jobs` measured on the machine above, with the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn submit_job() -> Weight {
		Weight::from_parts(60_000_000, 20000)
			.saturating_add(T::DbWeight::get().reads(8_u64))
			.saturating_add(T::DbWeight::get().writes(6_u64))
	}
	fn cancel_job() -> Weight {
		Weight::from_parts(40_000_000, 20000)
			.saturating_add(T::DbWeight::get().reads(4_u64))
			.saturating_add(T::DbWeight::get().writes(4_u64))
	}
	fn propose_match(b: u32, ) -> Weight {
		Weight::from_parts(20_000_000, 20000)
			.saturating_add(Weight::from_parts(60_000_000, 0).saturating_mul(b.into()))
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
			.saturating_add(T::DbWeight::get().reads((8_u64).saturating_mul(b.into())))
			.saturating_add(T::DbWeight::get().writes((6_u64).saturating_mul(b.into())))
	}
	fn submit_result() -> Weight {
		Weight::from_parts(90_000_000, 20000)
			.saturating_add(T::DbWeight::get().reads(5_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
	fn challenge() -> Weight {
		Weight::from_parts(40_000_000, 20000)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
	fn resolve_mediation() -> Weight {
		Weight::from_parts(150_000_000, 20000)
			.saturating_add(T::DbWeight::get().reads(16_u64))
			.saturating_add(T::DbWeight::get().writes(14_u64))
	}
	fn cancel_slash() -> Weight {
		Weight::from_parts(30_000_000, 20000)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
	fn on_initialize(n: u32, ) -> Weight {
		Weight::from_parts(5_000_000, 20000)
			.saturating_add(Weight::from_parts(150_000_000, 0).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
			.saturating_add(T::DbWeight::get().reads((16_u64).saturating_mul(n.into())))
			.saturating_add(T::DbWeight::get().writes((14_u64).saturating_mul(n.into())))
	}
}

// For backwards compatibility and tests.
impl WeightInfo for () {
	fn submit_job() -> Weight {
		Weight::from_parts(60_000_000, 20000)
			.saturating_add(ParityDbWeight::get().reads(8_u64))
			.saturating_add(ParityDbWeight::get().writes(6_u64))
	}
	fn cancel_job() -> Weight {
		Weight::from_parts(40_000_000, 20000)
			.saturating_add(ParityDbWeight::get().reads(4_u64))
			.saturating_add(ParityDbWeight::get().writes(4_u64))
	}
	fn propose_match(b: u32, ) -> Weight {
		Weight::from_parts(20_000_000, 20000)
			.saturating_add(Weight::from_parts(60_000_000, 0).saturating_mul(b.into()))
			.saturating_add(ParityDbWeight::get().reads(3_u64))
			.saturating_add(ParityDbWeight::get().writes(1_u64))
			.saturating_add(ParityDbWeight::get().reads((8_u64).saturating_mul(b.into())))
			.saturating_add(ParityDbWeight::get().writes((6_u64).saturating_mul(b.into())))
	}
	fn submit_result() -> Weight {
		Weight::from_parts(90_000_000, 20000)
			.saturating_add(ParityDbWeight::get().reads(5_u64))
			.saturating_add(ParityDbWeight::get().writes(3_u64))
	}
	fn challenge() -> Weight {
		Weight::from_parts(40_000_000, 20000)
			.saturating_add(ParityDbWeight::get().reads(3_u64))
			.saturating_add(ParityDbWeight::get().writes(3_u64))
	}
	fn resolve_mediation() -> Weight {
		Weight::from_parts(150_000_000, 20000)
			.saturating_add(ParityDbWeight::get().reads(16_u64))
			.saturating_add(ParityDbWeight::get().writes(14_u64))
	}
	fn cancel_slash() -> Weight {
		Weight::from_parts(30_000_000, 20000)
			.saturating_add(ParityDbWeight::get().reads(3_u64))
			.saturating_add(ParityDbWeight::get().writes(3_u64))
	}
	fn on_initialize(n: u32, ) -> Weight {
		Weight::from_parts(5_000_000, 20000)
			.saturating_add(Weight::from_parts(150_000_000, 0).saturating_mul(n.into()))
			.saturating_add(ParityDbWeight::get().reads(1_u64))
			.saturating_add(ParityDbWeight::get().writes(1_u64))
			.saturating_add(ParityDbWeight::get().reads((16_u64).saturating_mul(n.into())))
			.saturating_add(ParityDbWeight::get().writes((14_u64).saturating_mul(n.into())))
	}
}
