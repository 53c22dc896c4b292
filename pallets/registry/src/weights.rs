//! Bootstrap: replaced by `scripts/bench-weights.sh` before this lands.
use polkadot_sdk::frame_support::weights::Weight;
pub trait WeightInfo {
	fn publish_module() -> Weight;
	fn publish_version() -> Weight;
	fn deprecate_version() -> Weight;
	fn transfer_ownership() -> Weight;
	fn set_price() -> Weight;
	fn retire_module(v: u32) -> Weight;
}
impl WeightInfo for () {
	fn publish_module() -> Weight {
		Weight::zero()
	}
	fn publish_version() -> Weight {
		Weight::zero()
	}
	fn deprecate_version() -> Weight {
		Weight::zero()
	}
	fn transfer_ownership() -> Weight {
		Weight::zero()
	}
	fn set_price() -> Weight {
		Weight::zero()
	}
	fn retire_module(_v: u32) -> Weight {
		Weight::zero()
	}
}
pub struct SubstrateWeight<T>(core::marker::PhantomData<T>);
impl<T> WeightInfo for SubstrateWeight<T> {
	fn publish_module() -> Weight {
		Weight::zero()
	}
	fn publish_version() -> Weight {
		Weight::zero()
	}
	fn deprecate_version() -> Weight {
		Weight::zero()
	}
	fn transfer_ownership() -> Weight {
		Weight::zero()
	}
	fn set_price() -> Weight {
		Weight::zero()
	}
	fn retire_module(_v: u32) -> Weight {
		Weight::zero()
	}
}
