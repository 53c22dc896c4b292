//! Bootstrap: replaced by `scripts/bench-weights.sh` before this lands.
use polkadot_sdk::frame_support::weights::Weight;
pub trait WeightInfo {
	fn register_provider() -> Weight;
	fn update_offer() -> Weight;
	fn withdraw_offer() -> Weight;
	fn heartbeat() -> Weight;
	fn bond() -> Weight;
	fn unbond() -> Weight;
	fn withdraw_unbonded(u: u32) -> Weight;
	fn on_initialize(c: u32) -> Weight;
}
impl WeightInfo for () {
	fn register_provider() -> Weight {
		Weight::zero()
	}
	fn update_offer() -> Weight {
		Weight::zero()
	}
	fn withdraw_offer() -> Weight {
		Weight::zero()
	}
	fn heartbeat() -> Weight {
		Weight::zero()
	}
	fn bond() -> Weight {
		Weight::zero()
	}
	fn unbond() -> Weight {
		Weight::zero()
	}
	fn withdraw_unbonded(_u: u32) -> Weight {
		Weight::zero()
	}
	fn on_initialize(_c: u32) -> Weight {
		Weight::zero()
	}
}
pub struct SubstrateWeight<T>(core::marker::PhantomData<T>);
impl<T> WeightInfo for SubstrateWeight<T> {
	fn register_provider() -> Weight {
		Weight::zero()
	}
	fn update_offer() -> Weight {
		Weight::zero()
	}
	fn withdraw_offer() -> Weight {
		Weight::zero()
	}
	fn heartbeat() -> Weight {
		Weight::zero()
	}
	fn bond() -> Weight {
		Weight::zero()
	}
	fn unbond() -> Weight {
		Weight::zero()
	}
	fn withdraw_unbonded(_u: u32) -> Weight {
		Weight::zero()
	}
	fn on_initialize(_c: u32) -> Weight {
		Weight::zero()
	}
}
