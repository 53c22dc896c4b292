//! The origins referenda dispatch with besides Root, one per track, and the pace of the tracks.
//!
//! A referendum on a track dispatches its call from that track's origin, so each governed
//! power accepts exactly the tracks meant for it: protocol parameters accept
//! [`Origin::ParameterAdmin`], slash appeals [`Origin::SlashAppeals`], treasury grants
//! [`Origin::Treasurer`] (up to [`MAX_GRANT`] each).
pub use pallet::*;

use lilypad_primitives::{Balance, LILY};
use polkadot_sdk::frame_support;

/// The largest grant one `Treasurer` referendum may pay; larger ones need the root track.
pub const MAX_GRANT: Balance = 1_000_000 * LILY;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::pallet_prelude::*;

	#[pallet::config]
	pub trait Config: polkadot_sdk::frame_system::Config {}

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// A track's origin, given to the call a referendum on that track enacts.
	#[derive(
		PartialEq, Eq, Clone, MaxEncodedLen, Encode, Decode, DecodeWithMemTracking, TypeInfo, Debug,
	)]
	#[pallet::origin]
	pub enum Origin {
		/// May change protocol parameters (`Parameters::set_parameter`).
		ParameterAdmin,
		/// May cancel a pending slash (`Jobs::cancel_slash`) or decide a mediation.
		SlashAppeals,
		/// May pay treasury grants (`Treasury::spend`) up to [`super::MAX_GRANT`].
		Treasurer,
	}

	/// How long referenda take, fixed at genesis.
	#[derive(
		Clone,
		Copy,
		PartialEq,
		Eq,
		Default,
		Encode,
		Decode,
		DecodeWithMemTracking,
		MaxEncodedLen,
		TypeInfo,
		Debug,
	)]
	pub enum Pace {
		/// Hours to weeks: a live network, where holders need time to notice and vote.
		#[default]
		Live,
		/// A few blocks: dev chains, where one person holds every key and tests wait.
		Dev,
	}

	/// The pace of every track (see [`crate::governance::tracks`]). No call changes it: only a
	/// runtime upgrade could.
	#[pallet::storage]
	pub type TrackPace<T> = StorageValue<_, Pace, ValueQuery>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// [`Pace::Dev`] if set, else [`Pace::Live`].
		pub dev_pace: bool,
		#[serde(skip)]
		pub _config: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			TrackPace::<T>::put(if self.dev_pace { Pace::Dev } else { Pace::Live });
		}
	}
}

/// `EnsureOrigin` for one track's origin.
macro_rules! ensure_track {
	($name:ident, $success:ty, $value:expr) => {
		#[doc = concat!("Accepts [`Origin::", stringify!($name), "`] only.")]
		pub struct $name;
		impl<O: Into<Result<Origin, O>> + From<Origin>> frame_support::traits::EnsureOrigin<O>
			for $name
		{
			type Success = $success;
			fn try_origin(o: O) -> Result<Self::Success, O> {
				o.into().and_then(|o| match o {
					Origin::$name => Ok($value),
					other => Err(O::from(other)),
				})
			}
			#[cfg(feature = "runtime-benchmarks")]
			fn try_successful_origin() -> Result<O, ()> {
				Ok(O::from(Origin::$name))
			}
		}
	};
}

ensure_track!(ParameterAdmin, (), ());
ensure_track!(SlashAppeals, (), ());
ensure_track!(Treasurer, Balance, MAX_GRANT);
