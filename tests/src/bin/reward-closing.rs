//! What closing a reward epoch costs per 1,000 actors: the runtime's rewards pallet, natively,
//! on in-memory state. N providers with stake and fees end an epoch; the hook then visits them
//! `MaxActorsPerBlock` at a time, valuing and then crediting each. Prints the blocks closing
//! takes, the native time per pass, and the weight the hook charges (from `weights.rs`) against
//! a block's limit.
//!
//! `scripts/bench-rewards.sh [actors=1000]`
use std::time::{Duration, Instant};

use lilypad_primitives::{providers::BondKind, reputation::Outcome, LILY};
use lilypad_runtime::{configs::RuntimeBlockWeights, Rewards, Runtime, RuntimeGenesisConfig};
use pallet_rewards::{Closing, OnActivity, OnBondChanged, Step};
use polkadot_sdk::{
	frame_support::{
		traits::{fungible::Mutate, Get, Hooks},
		weights::Weight,
	},
	frame_system, pallet_balances,
	sp_core::crypto::AccountId32,
	sp_io::TestExternalities,
	sp_runtime::BuildStorage,
};

fn main() {
	let actors: u32 = std::env::args().nth(1).map(|a| a.parse().expect("actors")).unwrap_or(1_000);
	let storage = RuntimeGenesisConfig::default().build_storage().expect("genesis");
	TestExternalities::new(storage).execute_with(|| {
		let pool = lilypad_runtime::configs::RewardsPoolAccount::get();
		pallet_balances::Pallet::<Runtime>::set_balance(&pool, 1_000_000 * LILY);
		frame_system::Pallet::<Runtime>::set_block_number(1);
		for i in 0..actors {
			let mut raw = [0u8; 32];
			raw[..4].copy_from_slice(&i.to_le_bytes());
			let who = AccountId32::from(raw);
			<Rewards as OnBondChanged<_, _>>::bond_changed(&who, BondKind::Provider, 100 * LILY);
			let earned = (1 + i as u128 % 7) * LILY / 10;
			<Rewards as OnActivity<_, _>>::note(
				BondKind::Provider,
				&who,
				Some(Outcome::Success),
				earned,
			);
		}
		// The open epoch ends at its governed length.
		let mut now = <Runtime as pallet_rewards::Config>::EpochLength::get();
		let mut passes: [(u32, Duration, Weight, Weight); 2] = Default::default();
		frame_system::Pallet::<Runtime>::set_block_number(now);
		let end = Rewards::on_initialize(now);
		loop {
			now += 1;
			frame_system::Pallet::<Runtime>::set_block_number(now);
			let Some(step) = Closing::<Runtime>::get().map(|c| c.step) else { break };
			let started = Instant::now();
			let weight = Rewards::on_initialize(now);
			let pass = &mut passes[if step == Step::Valuing { 0 } else { 1 }];
			pass.0 += 1;
			pass.1 += started.elapsed();
			pass.2 = pass.2.saturating_add(weight);
			pass.3 = pass.3.max(weight);
		}
		let max_block = RuntimeBlockWeights::get().max_block.ref_time() as f64;
		let per_block: u32 = <Runtime as pallet_rewards::Config>::MaxActorsPerBlock::get();
		println!(
			"{actors} actors, {per_block} per block; ending the epoch: {:.1} µs charged",
			end.ref_time() as f64 / 1e6
		);
		for (name, (blocks, time, weight, busiest)) in
			[("valuing", passes[0]), ("crediting", passes[1])]
		{
			let per_1000 = 1_000.0 / actors as f64;
			println!(
				"{name:>9}: {blocks} blocks, native {:.2} ms ({:.2} ms per 1,000 actors), charged {:.1} ms \
				 ({:.1} ms per 1,000; busiest block {:.1} % of its limit)",
				time.as_secs_f64() * 1e3,
				time.as_secs_f64() * 1e3 * per_1000,
				weight.ref_time() as f64 / 1e9,
				weight.ref_time() as f64 / 1e9 * per_1000,
				100.0 * busiest.ref_time() as f64 / max_block,
			);
		}
		let credited = pallet_rewards::Claimable::<Runtime>::iter().count();
		assert_eq!(credited as u32, actors, "every actor was credited");
	});
}
