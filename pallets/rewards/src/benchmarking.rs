//! Benchmarks of the rewards pallet: claims, activity notes, and the two closing passes by the
//! number of actors one block visits.
use super::*;
use frame_support::traits::{fungible::Mutate, Get};
use frame_system::pallet_prelude::BlockNumberFor;
use frame_system::RawOrigin;
use polkadot_sdk::{
	frame_benchmarking::v2::*,
	frame_support,
	sp_runtime::traits::{Bounded, Saturating, Zero},
};

fn unit<T: Config>() -> BalanceOf<T> {
	T::ValueUnit::get()
}

/// `n` providers with stake and fees in the open epoch, then that epoch ended: closing is at
/// its first step.
fn actors_then_end_epoch<T: Config>(n: u32) {
	frame_system::Pallet::<T>::set_block_number(1u32.into());
	for i in 0..n {
		let who: T::AccountId = account("actor", i, 0);
		<Pallet<T> as OnBondChanged<_, _>>::bond_changed(
			&who,
			BondKind::Provider,
			unit::<T>().saturating_mul(100u32.into()),
		);
		<Pallet<T> as OnActivity<_, _>>::note(
			BondKind::Provider,
			&who,
			Some(Outcome::Success),
			unit::<T>(),
		);
	}
	let end: BlockNumberFor<T> = 1_000u32.into();
	frame_system::Pallet::<T>::set_block_number(end);
	Pallet::<T>::end_epoch(CurrentEpoch::<T>::get(), end);
}

fn fund_pool<T: Config>() {
	T::Currency::set_balance(&T::RewardsPool::get(), BalanceOf::<T>::max_value() / 4u32.into());
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn claim() {
		fund_pool::<T>();
		let who: T::AccountId = account("actor", 0, 0);
		T::Currency::set_balance(&who, unit::<T>());
		Claimable::<T>::insert(&who, unit::<T>());
		Committed::<T>::put(unit::<T>());

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));

		assert!(Claimable::<T>::get(&who).is_zero());
		assert!(Committed::<T>::get().is_zero());
	}

	/// The costliest note: an actor the valuing pass has not reached yet, so the note rolls
	/// its last epoch first.
	#[benchmark]
	fn note() {
		actors_then_end_epoch::<T>(1);
		let who: T::AccountId = account("actor", 0, 0);

		#[block]
		{
			<Pallet<T> as OnActivity<_, _>>::note(
				BondKind::Provider,
				&who,
				Some(Outcome::Success),
				unit::<T>(),
			);
		}

		let actor = Actors::<T>::get(BondKind::Provider, &who).unwrap();
		assert!(actor.valued.is_some());
		assert_eq!(actor.activity.epoch, 1);
	}

	#[benchmark]
	fn end_epoch() {
		let now: BlockNumberFor<T> = 1_000u32.into();
		frame_system::Pallet::<T>::set_block_number(now);
		let open = CurrentEpoch::<T>::get();

		#[block]
		{
			Pallet::<T>::end_epoch(open, now);
		}

		assert_eq!(CurrentEpoch::<T>::get().index, 1);
		assert!(Closing::<T>::get().is_some());
	}

	/// A valuing step over `n` actors, each rolled and valued; with `n` below the per-block
	/// maximum the step also fixes the budgets.
	#[benchmark]
	fn value_actors(n: Linear<1, { T::MaxActorsPerBlock::get() }>) {
		fund_pool::<T>();
		actors_then_end_epoch::<T>(n);
		let closing = Closing::<T>::get().unwrap();

		#[block]
		{
			Pallet::<T>::close_step(closing);
		}

		let valued = Actors::<T>::iter_values().filter(|a| a.valued.is_some()).count();
		assert_eq!(valued as u32, n);
	}

	/// A crediting step over `n` valued actors; with `n` below the per-block maximum the step
	/// also finishes closing.
	#[benchmark]
	fn credit_actors(n: Linear<1, { T::MaxActorsPerBlock::get() }>) {
		fund_pool::<T>();
		actors_then_end_epoch::<T>(n);
		while Closing::<T>::get().is_some_and(|c| c.step == Step::Valuing) {
			Pallet::<T>::close_step(Closing::<T>::get().unwrap());
		}
		let closing = Closing::<T>::get().unwrap();

		#[block]
		{
			Pallet::<T>::close_step(closing);
		}

		assert_eq!(Claimable::<T>::iter().count() as u32, n);
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
