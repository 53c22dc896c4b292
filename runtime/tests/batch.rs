//! Results in one `utility.force_batch`, as an agent sends them (docs/fast-jobs.md): a bad item
//! fails alone, its changes undone, and the other results settle as if each had been sent on
//! its own. Funds are conserved: the supply invariants are checked after every block.
mod common;
use common::{market::*, *};
use lilypad_primitives::jobs::{JobId, Stage};
use lilypad_runtime::{Balances, RuntimeCall, RuntimeEvent, System};
use polkadot_sdk::{
	frame_support::{assert_ok, traits::fungible::InspectHold},
	pallet_utility,
	sp_keyring::Sr25519Keyring::*,
	sp_runtime::traits::Dispatchable,
};

/// The `Utility` events of the current block, in order: `Ok(())` per completed item, `Err`
/// per failed one.
fn item_fates() -> Vec<Result<(), ()>> {
	System::events()
		.into_iter()
		.filter_map(|r| match r.event {
			RuntimeEvent::Utility(pallet_utility::Event::ItemCompleted) => Some(Ok(())),
			RuntimeEvent::Utility(pallet_utility::Event::ItemFailed { .. }) => Some(Err(())),
			_ => None,
		})
		.collect()
}

fn escrow_of(who: &lilypad_runtime::AccountId) -> lilypad_runtime::Balance {
	let reason = lilypad_runtime::RuntimeHoldReason::Jobs(pallet_jobs::HoldReason::JobEscrow);
	Balances::balance_on_hold(&reason, who)
}

#[test]
fn a_batch_with_one_bad_result_settles_the_others() {
	dev_chain().execute_with(|| {
		let mut head = genesis_header();
		open_market(&mut head, 8, 4, false);
		let jobs: Vec<JobId> = in_block(&mut head, || (0..3).map(|_| submit_open()).collect());
		in_block(&mut head, || match_to_dave(&jobs));
		let escrow_per_job = escrow_of(&who(Charlie)) / 3;
		let dave_before = Balances::free_balance(who(Dave));

		// One batch: a good result, a forged one (Eve's signature), a good one, Dave's heartbeat.
		let heartbeat = RuntimeCall::Providers(pallet_providers::Call::heartbeat {});
		let calls = vec![
			result_call(jobs[0], Dave),
			result_call(jobs[1], Eve),
			result_call(jobs[2], Dave),
			heartbeat,
		];
		in_block(&mut head, || {
			let batch = RuntimeCall::Utility(pallet_utility::Call::force_batch { calls });
			assert_ok!(batch.dispatch(signed(Dave)));
			assert_eq!(item_fates(), vec![Ok(()), Err(()), Ok(()), Ok(())], "each item's fate");
		});
		assert_eq!(stage(jobs[0]), Stage::ResultSubmitted);
		assert_eq!(stage(jobs[1]), Stage::Matched, "the forged result left no trace");
		assert_eq!(stage(jobs[2]), Stage::ResultSubmitted);

		// The bad item cost the others nothing: Dave can still send the missing result.
		in_block(&mut head, || submit_result(jobs[1]));
		for _ in 0..CHALLENGE_WINDOW + 2 {
			if jobs.iter().all(|j| stage(*j) == Stage::Completed) {
				break;
			}
			in_block(&mut head, || ());
		}
		for job in &jobs {
			assert_eq!(stage(*job), Stage::Completed, "job {job} settled");
		}
		assert_eq!(escrow_of(&who(Charlie)), 0, "every escrow settled: {escrow_per_job} each");
		assert!(Balances::free_balance(who(Dave)) > dave_before, "Dave was paid");
	});
}
