//! Bootstrap: replaced by `scripts/bench-weights.sh` before this lands.
use polkadot_sdk::frame_support::weights::Weight;
pub trait WeightInfo {
	fn register_role() -> Weight;
	fn deregister_role() -> Weight;
	fn add_issuer() -> Weight;
	fn remove_issuer() -> Weight;
	fn issue_credential() -> Weight;
	fn revoke_credential() -> Weight;
	fn delegate() -> Weight;
	fn revoke_delegation() -> Weight;
}
impl WeightInfo for () {
	fn register_role() -> Weight {
		Weight::zero()
	}
	fn deregister_role() -> Weight {
		Weight::zero()
	}
	fn add_issuer() -> Weight {
		Weight::zero()
	}
	fn remove_issuer() -> Weight {
		Weight::zero()
	}
	fn issue_credential() -> Weight {
		Weight::zero()
	}
	fn revoke_credential() -> Weight {
		Weight::zero()
	}
	fn delegate() -> Weight {
		Weight::zero()
	}
	fn revoke_delegation() -> Weight {
		Weight::zero()
	}
}
pub struct SubstrateWeight<T>(core::marker::PhantomData<T>);
impl<T> WeightInfo for SubstrateWeight<T> {
	fn register_role() -> Weight {
		Weight::zero()
	}
	fn deregister_role() -> Weight {
		Weight::zero()
	}
	fn add_issuer() -> Weight {
		Weight::zero()
	}
	fn remove_issuer() -> Weight {
		Weight::zero()
	}
	fn issue_credential() -> Weight {
		Weight::zero()
	}
	fn revoke_credential() -> Weight {
		Weight::zero()
	}
	fn delegate() -> Weight {
		Weight::zero()
	}
	fn revoke_delegation() -> Weight {
		Weight::zero()
	}
}
