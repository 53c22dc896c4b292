//! # Lilypad primitives
//!
//! Types and constants that the runtime, the node and off-chain clients (rp-agent, CLI) must agree
//! on. `no_std`, so the runtime's WASM uses the same definitions as native code.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod economics;
pub mod fixed;
pub mod identity;
pub mod jobs;
pub mod mediation;
pub mod models;
pub mod params;
pub mod providers;
pub mod registry;
pub mod reputation;
pub mod rewards;
#[cfg(feature = "std")]
pub mod wire;

use polkadot_sdk::sp_runtime::{
	traits::{IdentifyAccount, Verify},
	MultiSignature,
};

/// Block number; at one block per [`SLOT_DURATION_MS`] a `u32` lasts 270 years.
pub type BlockNumber = u32;
/// Signature scheme of transactions (sr25519 for the dev keys, ed25519 and ecdsa also accepted).
pub type Signature = MultiSignature;
/// An account: the public key behind [`Signature`].
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;
/// Amount of LILY, in its smallest unit (see [`LILY`]).
pub type Balance = u128;
/// Transaction index of an account.
pub type Nonce = u32;
/// Block and state hash.
pub type Hash = polkadot_sdk::sp_core::H256;
/// Milliseconds since the Unix epoch (timestamp pallet).
pub type Moment = u64;

/// Decimal places of LILY.
pub const LILY_DECIMALS: u8 = 12;
/// One LILY in the smallest unit.
pub const LILY: Balance = 10u128.pow(LILY_DECIMALS as u32);
/// One thousandth of a LILY.
pub const MILLI_LILY: Balance = LILY / 1_000;
/// One millionth of a LILY.
pub const MICRO_LILY: Balance = LILY / 1_000_000;

/// The whole supply of LILY. All of it exists from genesis and nothing mints or burns it
/// afterwards, so total issuance equals this in every block.
pub const TOTAL_SUPPLY: Balance = 1_000_000_000 * LILY;

/// Time between BABE slots, the same on every chain: one block per slot at most.
pub const SLOT_DURATION_MS: u64 = 2_000;

/// Blocks per minute at one block per slot.
pub const MINUTES: BlockNumber = (60_000 / SLOT_DURATION_MS) as BlockNumber;
/// Blocks per hour at one block per slot.
pub const HOURS: BlockNumber = MINUTES * 60;
/// Blocks per day at one block per slot.
pub const DAYS: BlockNumber = HOURS * 24;

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn supply_fits_in_balance_with_room_for_sums() {
		// Sums of a few account balances must not overflow while checking invariants.
		assert!(TOTAL_SUPPLY.checked_mul(1_000_000).is_some());
		assert_eq!(LILY, 1_000_000_000_000);
		assert_eq!(MINUTES, 30);
	}
}
