//! How many complete job lifecycles (submit, match, result, completion) fit in one block, from
//! the runtime's block limits and the jobs pallet's benchmarked weights, and which step
//! dominates. Completion runs in the `on_initialize` hook (mandatory weight); the three calls
//! are normal transactions, each paying the base weight of an extrinsic.
//!
//! `scripts/bench-jobs.sh`
use lilypad_runtime::{configs::RuntimeBlockWeights, Runtime};
use pallet_jobs::WeightInfo;
use polkadot_sdk::{
	frame_support::{dispatch::DispatchClass, weights::Weight},
	sp_runtime::traits::Get,
};

type Weights = pallet_jobs::weights::SubstrateWeight<Runtime>;

fn us(w: Weight) -> f64 {
	w.ref_time() as f64 / 1e6
}

fn main() {
	let limits: polkadot_sdk::frame_system::limits::BlockWeights = RuntimeBlockWeights::get();
	let normal = limits.get(DispatchClass::Normal);
	let normal_max = normal.max_total.expect("normal transactions are limited");
	let base_tx = normal.base_extrinsic;
	let batch = <Runtime as pallet_jobs::Config>::MaxBatch::get();
	let due = <Runtime as pallet_jobs::Config>::MaxDuePerBlock::get();

	let submit = Weights::submit_job().saturating_add(base_tx);
	let one_match = Weights::propose_match(1).saturating_add(base_tx);
	let batched_match = Weights::propose_match(batch).saturating_add(base_tx) / (batch as u64);
	let result = Weights::submit_result().saturating_add(base_tx);
	let completion = Weights::on_initialize(due) / (due as u64);
	let calls = submit.saturating_add(batched_match).saturating_add(result);

	println!(
		"Block: {:.0} µs for normal transactions of {:.0} µs in all (2 s slot)",
		us(normal_max),
		us(limits.max_block)
	);
	println!(
		"Per lifecycle (reference time, each call with its {:.1} µs extrinsic base):",
		us(base_tx)
	);
	println!("  submit_job                      {:>8.1} µs", us(submit));
	println!("  propose_match, 1 pair           {:>8.1} µs", us(one_match));
	println!("  propose_match, per pair of {batch:<4} {:>8.1} µs", us(batched_match));
	println!("  submit_result                   {:>8.1} µs", us(result));
	println!("  completion (hook, per job of {due}) {:>8.1} µs", us(completion));
	let mut steps = [
		("submit_job", submit),
		("propose_match (batched)", batched_match),
		("submit_result", result),
		("completion", completion),
	];
	steps.sort_by_key(|(_, w)| std::cmp::Reverse(w.ref_time()));
	println!(
		"Dominant step: {} ({:.0} % of a lifecycle)",
		steps[0].0,
		100.0 * steps[0].1.ref_time() as f64 / calls.saturating_add(completion).ref_time() as f64
	);
	let by_calls = normal_max.ref_time() / calls.ref_time();
	let whole = limits.max_block.ref_time() / calls.saturating_add(completion).ref_time();
	println!("Lifecycles per block, normal-dispatch weight (the three calls): {by_calls}");
	println!("Lifecycles per block, whole block (calls and completion): {whole}");
	println!("Lifecycles per second at one block per 2 s: {:.0}", by_calls as f64 / 2.0);
}
