//! Storage migrations of the providers pallet, run by the runtime on upgrade
//! (docs/migrations.md).
//!
//! Each is a [`VersionedMigration`]: it runs once, when the pallet's on-chain storage version
//! is the one it migrates from, and sets the next. Each reads the layout it migrates from
//! through a frozen copy of it ([`v1::V0ProviderRecord`]), so that it keeps compiling as
//! today's types move on.
use crate::{pallet::*, ProviderStatus};
use codec::{Decode, Encode};
use frame_support::{
	migrations::VersionedMigration,
	traits::{Get, UncheckedOnRuntimeUpgrade},
	weights::Weight,
	CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use frame_system::pallet_prelude::BlockNumberFor;
use polkadot_sdk::{frame_support, frame_system};
#[cfg(feature = "try-runtime")]
use {alloc::vec::Vec, polkadot_sdk::sp_runtime::TryRuntimeError};

/// Version 1: offers list the digests of the model weights their providers hold.
pub mod v1 {
	use super::*;

	/// An offer as storage version 0 kept it: [`lilypad_primitives::providers::v1::Offer`].
	pub type V0OfferOf<T> = lilypad_primitives::providers::v1::Offer<BalanceOf<T>>;

	/// A provider's record as storage version 0 kept it: its offer lists no models.
	#[derive(CloneNoBound, PartialEqNoBound, EqNoBound, Encode, Decode, DebugNoBound)]
	pub struct V0ProviderRecord<T: Config> {
		pub offer: V0OfferOf<T>,
		pub status: ProviderStatus,
		pub registered_at: BlockNumberFor<T>,
		pub last_heartbeat: BlockNumberFor<T>,
		pub check_at: BlockNumberFor<T>,
		pub active_jobs: u32,
	}

	impl<T: Config> V0ProviderRecord<T> {
		/// The same record in today's layout: its offer lists no models, so the solver ranks
		/// the provider as one that would download a job's weights until its agent updates the
		/// offer.
		pub fn upgrade(self) -> ProviderRecord<T> {
			ProviderRecord {
				offer: self.offer.upgrade(),
				status: self.status,
				registered_at: self.registered_at,
				last_heartbeat: self.last_heartbeat,
				check_at: self.check_at,
				active_jobs: self.active_jobs,
			}
		}
	}

	/// Rewrites every provider's record from the version 0 layout ([`V0ProviderRecord`]) into
	/// today's, whose offer lists the models the provider holds: none, for offers made before
	/// offers could list them. Status, heartbeats, queued checks and running jobs are
	/// untouched, and no bond is. Emits [`Event::OffersMigrated`], whose `checked` says whether
	/// every stored record was read in the version 0 layout and reads in today's.
	///
	/// One pass over `Offers` in one block: each provider pays to register and to keep its
	/// offer, and the solver reads them all every block, which keeps the map small.
	pub struct OffersListModels<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for OffersListModels<T> {
		fn on_runtime_upgrade() -> Weight {
			let stored = Offers::<T>::iter_keys().count() as u32;
			let mut offers = 0u32;
			// A record that does not decode is left as it is (and not counted).
			Offers::<T>::translate::<V0ProviderRecord<T>, _>(|_, old| {
				offers = offers.saturating_add(1);
				Some(old.upgrade())
			});
			let checked = offers == stored && Offers::<T>::iter_values().count() as u32 == stored;
			Pallet::<T>::deposit_event(Event::OffersMigrated { offers, checked });
			// Three passes reading (keys, translation, check), one writing, and the version.
			let n = u64::from(stored);
			T::DbWeight::get().reads_writes(3 * n + 1, n + 1)
		}

		/// Every record, read in the version 0 layout to its last byte.
		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<Vec<u8>, TryRuntimeError> {
			use codec::DecodeAll;
			let mut records = Vec::new();
			for who in Offers::<T>::iter_keys() {
				let key = Offers::<T>::hashed_key_for(&who);
				let bytes = frame_support::storage::unhashed::get_raw(&key)
					.ok_or("a provider's bytes are there")?;
				let old = V0ProviderRecord::<T>::decode_all(&mut &bytes[..])
					.map_err(|_| "every provider's record decodes in the version 0 layout")?;
				records.push((who, old));
			}
			Ok(records.encode())
		}

		/// Every record is there, as [`V0ProviderRecord::upgrade`] makes it, and no other.
		#[cfg(feature = "try-runtime")]
		fn post_upgrade(state: Vec<u8>) -> Result<(), TryRuntimeError> {
			let before = Vec::<(T::AccountId, V0ProviderRecord<T>)>::decode(&mut &state[..])
				.map_err(|_| "pre-upgrade state decodes")?;
			frame_support::ensure!(
				Offers::<T>::iter_keys().count() == before.len(),
				"no provider is lost or added"
			);
			for (who, old) in before {
				let now = Offers::<T>::get(&who).ok_or("a provider's record reads")?;
				frame_support::ensure!(now == old.upgrade(), "a provider's record changed");
			}
			Pallet::<T>::do_try_state()
		}
	}

	/// [`OffersListModels`] from storage version 0 to 1.
	pub type MigrateToV1<T> = VersionedMigration<
		0,
		1,
		OffersListModels<T>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;
}
