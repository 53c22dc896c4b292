//! Benchmarks of the providers pallet, each in its most expensive case: the largest offer,
//! every claimed credential checked, full unbonding queues and full heartbeat-check blocks.
use super::*;
use alloc::vec::Vec;
use frame_support::{
	traits::{
		fungible::{Inspect, Mutate},
		Get, Hooks,
	},
	BoundedVec,
};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use lilypad_primitives::{
	identity::{IdentityInspect, Role},
	providers::{
		Gpu, ModuleFilter, OfferResources, MAX_ENDPOINT_LEN, MAX_GPU_MODEL_LEN, MAX_OFFER_GPUS,
		MAX_OFFER_MODELS, MAX_OFFER_MODULES,
	},
};
use polkadot_sdk::{frame_benchmarking::v2::*, frame_support};

fn module(i: u32) -> lilypad_primitives::registry::ModuleName {
	alloc::format!("module-{i:025}").into_bytes().try_into().expect("32 bytes; qed")
}

/// The largest offer without credentials (crediting needs an issuer; see `with_credentials`),
/// listing as many models as an offer may, each checked against the others.
fn big_offer<T: Config>() -> OfferOf<T> {
	let names: Vec<_> = (0..MAX_OFFER_MODULES).map(module).collect();
	Offer {
		resources: OfferResources {
			cpu_millicores: 64_000,
			ram_mib: 262_144,
			gpus: (0..MAX_OFFER_GPUS)
				.map(|_| Gpu {
					model: alloc::vec![b'G'; MAX_GPU_MODEL_LEN as usize]
						.try_into()
						.expect("fits; qed"),
					vram_mib: 81_920,
				})
				.collect::<Vec<_>>()
				.try_into()
				.expect("MAX_OFFER_GPUS of them; qed"),
			disk_mib: 1_000_000,
		},
		modules: ModuleFilter::Only(names.clone().try_into().expect("fits; qed")),
		default_price: 1_000u32.into(),
		prices: names
			.into_iter()
			.map(|n| (n, 2_000u32.into()))
			.collect::<Vec<_>>()
			.try_into()
			.expect("fits; qed"),
		capacity: 8,
		credentials: Default::default(),
		endpoint: {
			let mut url = b"https://".to_vec();
			url.resize(MAX_ENDPOINT_LEN as usize, b'a');
			url.try_into().expect("fits; qed")
		},
		models: (0..MAX_OFFER_MODELS)
			.map(|i| {
				let mut digest = [0u8; 32];
				digest[28..].copy_from_slice(&i.to_be_bytes());
				digest
			})
			.collect::<Vec<_>>()
			.try_into()
			.expect("MAX_OFFER_MODELS of them; qed"),
	}
}

fn funded<T: Config>(name: &'static str, i: u32) -> T::AccountId {
	let who: T::AccountId = account(name, i, 0);
	T::Currency::set_balance(&who, T::Currency::minimum_balance() + 1_000_000u32.into());
	T::Identity::grant_role(&who, Role::ResourceProvider);
	who
}

fn registered<T: Config>(name: &'static str, i: u32) -> Result<T::AccountId, BenchmarkError> {
	let who = funded::<T>(name, i);
	Pallet::<T>::register_provider(RawOrigin::Signed(who.clone()).into(), big_offer::<T>())
		.map_err(|_| BenchmarkError::Stop("set-up registration failed"))?;
	Ok(who)
}

fn bonded<T: Config>(who: &T::AccountId, amount: u32) -> Result<(), BenchmarkError> {
	Pallet::<T>::bond(RawOrigin::Signed(who.clone()).into(), BondKind::Provider, amount.into())
		.map_err(|_| BenchmarkError::Stop("set-up bond failed"))
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register_provider() {
		let who = funded::<T>("provider", 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), big_offer::<T>());
		assert!(Offers::<T>::contains_key(&who));
	}

	#[benchmark]
	fn update_offer() -> Result<(), BenchmarkError> {
		let who = registered::<T>("provider", 0)?;
		let mut offer = big_offer::<T>();
		offer.capacity = 16;
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), offer);
		assert!(Offers::<T>::get(&who).is_some_and(|r| r.offer.capacity == 16));
		Ok(())
	}

	#[benchmark]
	fn withdraw_offer() -> Result<(), BenchmarkError> {
		let who = registered::<T>("provider", 0)?;
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));
		assert!(!Offers::<T>::contains_key(&who));
		Ok(())
	}

	/// A provider coming back from away, into a block whose check queue is nearly full.
	#[benchmark]
	fn heartbeat() -> Result<(), BenchmarkError> {
		let who = registered::<T>("provider", 0)?;
		Offers::<T>::mutate(&who, |r| {
			if let Some(r) = r {
				r.status = ProviderStatus::Away;
			}
		});
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));
		assert!(Offers::<T>::get(&who).is_some_and(|r| r.status == ProviderStatus::Active));
		Ok(())
	}

	#[benchmark]
	fn bond() -> Result<(), BenchmarkError> {
		let who = funded::<T>("provider", 0);
		bonded::<T>(&who, 1_000)?;
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), BondKind::Provider, 1_000u32.into());
		assert!(
			Bonds::<T>::get(&who, BondKind::Provider).is_some_and(|b| b.bonded == 2_000u32.into())
		);
		Ok(())
	}

	#[benchmark]
	fn unbond() -> Result<(), BenchmarkError> {
		let who = funded::<T>("provider", 0);
		bonded::<T>(&who, 100_000)?;
		for _ in 1..T::MaxUnlocking::get() {
			Pallet::<T>::unbond(
				RawOrigin::Signed(who.clone()).into(),
				BondKind::Provider,
				1u32.into(),
			)
			.map_err(|_| BenchmarkError::Stop("set-up unbond failed"))?;
		}
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), BondKind::Provider, 1u32.into());
		assert!(Bonds::<T>::get(&who, BondKind::Provider)
			.is_some_and(|b| b.unlocking.len() as u32 == T::MaxUnlocking::get()));
		Ok(())
	}

	/// `u` ripe chunks released at once.
	#[benchmark]
	fn withdraw_unbonded(u: Linear<1, { T::MaxUnlocking::get() }>) -> Result<(), BenchmarkError> {
		let who = funded::<T>("provider", 0);
		bonded::<T>(&who, 100_000)?;
		for _ in 0..u {
			Pallet::<T>::unbond(
				RawOrigin::Signed(who.clone()).into(),
				BondKind::Provider,
				1u32.into(),
			)
			.map_err(|_| BenchmarkError::Stop("set-up unbond failed"))?;
		}
		let later = frame_system::Pallet::<T>::block_number() + 100_000u32.into();
		frame_system::Pallet::<T>::set_block_number(later);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), BondKind::Provider);
		assert!(Bonds::<T>::get(&who, BondKind::Provider).is_some_and(|b| b.unlocking.is_empty()));
		Ok(())
	}

	/// `c` overdue providers marked away in one block.
	#[benchmark]
	fn on_initialize(c: Linear<0, { T::MaxChecksPerBlock::get() }>) -> Result<(), BenchmarkError> {
		let period = lilypad_primitives::params::heartbeat_period(T::HeartbeatPeriod::get());
		let at: BlockNumberFor<T> =
			frame_system::Pallet::<T>::block_number() + (period + 1_000).into();
		let mut due: Vec<T::AccountId> = Vec::new();
		for i in 0..c {
			let who = registered::<T>("provider", i)?;
			Offers::<T>::mutate(&who, |r| {
				if let Some(r) = r {
					r.check_at = at;
				}
			});
			due.push(who);
		}
		HeartbeatChecks::<T>::insert(at, BoundedVec::truncate_from(due.clone()));
		#[block]
		{
			Pallet::<T>::on_initialize(at);
		}
		assert!(due.iter().all(|who| {
			Offers::<T>::get(who).is_some_and(|r| r.status == ProviderStatus::Away)
		}));
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
