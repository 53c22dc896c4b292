//! Unit tests: reputation through the pallet, epochs closed over several blocks, shares by
//! hand, and conservation of the pool's funds.
use crate::{mock::*, *};
use polkadot_sdk::{
	frame_support::{assert_noop, assert_ok, traits::fungible::Inspect},
	sp_runtime::{FixedU128, Perbill},
};
use proptest::prelude::*;

const A: AccountId = 1;
const B: AccountId = 2;
const C: AccountId = 3;

fn note(kind: BondKind, who: AccountId, outcome: Option<Outcome>, earned: Balance) {
	<Rewards as OnActivity<AccountId, Balance>>::note(kind, &who, outcome, earned);
}

fn success(who: AccountId, earned: Balance) {
	note(BondKind::Provider, who, Some(Outcome::Success), earned);
}

fn events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| if let RuntimeEvent::Rewards(e) = r.event { Some(e) } else { None })
		.collect()
}

fn credited() -> Vec<(AccountId, BondKind, Balance)> {
	events()
		.into_iter()
		.filter_map(|e| match e {
			Event::RewardCredited { who, kind, amount, .. } => Some((who, kind, amount)),
			_ => None,
		})
		.collect()
}

fn pool() -> Balance {
	Balances::balance(&POOL)
}

mod reputation {
	use super::*;

	#[test]
	fn outcomes_move_the_score_and_a_slash_counts_k_failures() {
		new_test_ext().execute_with(|| {
			assert_eq!(Rewards::standing(A, BondKind::Provider).score, Perbill::from_percent(50));
			for _ in 0..3 {
				success(A, 0);
			}
			note(BondKind::Provider, A, Some(Outcome::Slash), 0);
			let s = Rewards::standing(A, BondKind::Provider);
			assert_eq!((s.successes, s.failures), (FixedU128::from_u32(3), FixedU128::from_u32(5)));
			// (3 + 1) / (3 + 5 + 2)
			assert_eq!(s.score, Perbill::from_percent(40));
			// A failure counts one; k is governed.
			SlashFailureWeight::set(2);
			note(BondKind::Provider, A, Some(Outcome::Failure), 0);
			note(BondKind::Provider, A, Some(Outcome::Slash), 0);
			assert_eq!(Rewards::standing(A, BondKind::Provider).failures, FixedU128::from_u32(8));
			// Classes are separate records.
			assert_eq!(Rewards::standing(A, BondKind::Solver).score, Perbill::from_percent(50));
			assert_eq!(
				<Rewards as ReputationOf<AccountId>>::reputation(BondKind::Provider, &A),
				Perbill::from_rational(4u32, 13) // (3 + 1) / (3 + 8 + 2)
			);
		});
	}

	#[test]
	fn decay_is_applied_lazily_for_every_epoch_passed() {
		new_test_ext().execute_with(|| {
			for _ in 0..10 {
				success(A, 0);
			}
			note(BondKind::Provider, A, Some(Outcome::Failure), 0);
			// Two epochs later nobody has touched A's record, yet it reads decayed twice.
			run_to(250);
			assert_eq!(CurrentEpoch::<Test>::get().index, 2);
			let s = Rewards::standing(A, BondKind::Provider);
			assert_eq!(s.successes, FixedU128::from_rational(9_604, 1_000)); // 10 × 0.98²
			assert_eq!(s.failures, FixedU128::from_rational(9_604, 10_000));
			// Touching it stores the same decayed counts, as of the open epoch.
			success(A, 0);
			let actor = Actors::<Test>::get(BondKind::Provider, A).unwrap();
			assert_eq!(actor.reputation.successes, FixedU128::from_rational(10_604, 1_000));
			assert_eq!(actor.reputation.epoch, 2);
		});
	}
}

mod epochs {
	use super::*;

	/// A and B bonded 10 units each from epoch 0; in epoch 1 (blocks 100 to 200), at block
	/// 150, A completes two jobs earning 2 units each and B one.
	fn two_providers_work_in_epoch_one() {
		set_bond(A, BondKind::Provider, 10 * UNIT);
		set_bond(B, BondKind::Provider, 10 * UNIT);
		run_until_closed_after(100);
		run_to(150);
		success(A, 2 * UNIT);
		success(A, 2 * UNIT);
		success(B, 2 * UNIT);
		run_until_closed_after(200);
	}

	fn run_until_closed_after(block: u64) {
		run_to(block);
		run_until_closed();
	}

	#[test]
	fn shares_follow_the_value_function_by_hand() {
		new_test_ext().execute_with(|| {
			two_providers_work_in_epoch_one();
			// Average reputation: A 1/2 for 50 blocks then 3/4 for 50 = 0.625; B 1/2 then
			// 2/3 (0.666666666) = 0.583333333. V = R̄ × fees × stake (in units):
			// V_A = 0.625 × 4 × 10 = 25; V_B = 0.583333333 × 2 × 10 = 11.66666666.
			// Shares of 10,000: 10,000 × 25 / 36.66666666 = 6818.18 and 3181.81.
			let mut got = credited();
			got.sort();
			assert_eq!(got, vec![(A, BondKind::Provider, 6_818), (B, BondKind::Provider, 3_181)]);
			assert!(events().contains(&Event::EpochValued { epoch: 1, budgets: [10_000, 0, 0] }));
			assert!(events().contains(&Event::EpochClosed { epoch: 1, credited: 9_999, dust: 1 }));
			// Epoch 0 had no fees, so no value: nothing was credited or committed for it.
			assert!(events().contains(&Event::EpochValued { epoch: 0, budgets: [0, 0, 0] }));
			assert_eq!(Claimable::<Test>::get(A), 6_818);
			assert_eq!(Committed::<Test>::get(), 9_999);
		});
	}

	#[test]
	fn claims_pay_from_the_pool_exactly_what_was_credited() {
		new_test_ext().execute_with(|| {
			two_providers_work_in_epoch_one();
			let (pool_before, a_before) = (pool(), Balances::balance(&A));
			let issuance = Balances::total_issuance();
			assert_ok!(Rewards::claim(RuntimeOrigin::signed(A)));
			assert_eq!(Balances::balance(&A), a_before + 6_818);
			assert_eq!(pool(), pool_before - 6_818);
			assert!(events().contains(&Event::RewardClaimed { who: A, amount: 6_818 }));
			assert_noop!(Rewards::claim(RuntimeOrigin::signed(A)), Error::<Test>::NothingToClaim);
			assert_noop!(Rewards::claim(RuntimeOrigin::signed(C)), Error::<Test>::NothingToClaim);
			assert_ok!(Rewards::claim(RuntimeOrigin::signed(B)));
			assert_eq!(pool(), pool_before - 9_999);
			assert_eq!(Committed::<Test>::get(), 0);
			assert_eq!(Balances::total_issuance(), issuance);
		});
	}

	#[test]
	fn idle_stake_earns_nothing_and_idle_classes_keep_their_budget_in_the_pool() {
		new_test_ext().execute_with(|| {
			set_bond(A, BondKind::Provider, 10 * UNIT);
			set_bond(C, BondKind::Solver, 50 * UNIT);
			run_to(50);
			success(A, UNIT);
			run_to(100);
			run_until_closed();
			// Only A earned fees: it takes the whole provider budget; the solver and mediator
			// budgets are not committed.
			assert_eq!(credited(), vec![(A, BondKind::Provider, 10_000)]);
			assert!(events().contains(&Event::EpochValued { epoch: 0, budgets: [10_000, 0, 0] }));
			assert_eq!(Committed::<Test>::get(), 10_000);
		});
	}

	#[test]
	fn stake_is_averaged_over_the_whole_epoch() {
		new_test_ext().execute_with(|| {
			set_bond(A, BondKind::Provider, 10 * UNIT);
			set_bond(B, BondKind::Provider, 10 * UNIT);
			run_until_closed();
			run_to(100);
			run_until_closed();
			// Epoch 1 (100 to 200): both earn the same, but B bonds 90 more units at block 190.
			run_to(110);
			success(A, UNIT);
			success(B, UNIT);
			run_to(190);
			set_bond(B, BondKind::Provider, 100 * UNIT);
			run_to(200);
			run_until_closed();
			// C̄_A = 10, C̄_B = (10 × 90 + 100 × 10) / 100 = 19: shares 10/29 and 19/29.
			let mut got = credited();
			got.sort();
			assert_eq!(got, vec![(A, BondKind::Provider, 3_448), (B, BondKind::Provider, 6_551)]);
		});
	}

	#[test]
	fn bonds_made_before_an_actor_is_seen_are_read_once() {
		new_test_ext().execute_with(|| {
			set_bond_unreported(A, BondKind::Provider, 7 * UNIT);
			success(A, UNIT);
			assert_eq!(
				Actors::<Test>::get(BondKind::Provider, A).unwrap().activity.stake,
				7 * UNIT
			);
		});
	}

	#[test]
	fn a_short_pool_scales_budgets_down_and_stays_solvent() {
		new_test_ext().execute_with(|| {
			ProviderBudget::set(3 * POOL_FUNDS);
			SolverBudget::set(POOL_FUNDS);
			set_bond(A, BondKind::Provider, UNIT);
			set_bond(B, BondKind::Solver, UNIT);
			success(A, UNIT);
			note(BondKind::Solver, B, Some(Outcome::Success), UNIT);
			run_to(100);
			run_until_closed();
			// The pool keeps its existential deposit; the rest is shared 3:1.
			let available = POOL_FUNDS - ExistentialDeposit::get();
			let budgets = [available * 3 / 4, available / 4, 0];
			assert!(events().contains(&Event::EpochValued { epoch: 0, budgets }));
			assert_ok!(Rewards::claim(RuntimeOrigin::signed(A)));
			assert_ok!(Rewards::claim(RuntimeOrigin::signed(B)));
			assert_eq!(pool(), ExistentialDeposit::get() + (available - budgets[0] - budgets[1]));
			// With everything committed and claimed, the next epoch has almost nothing to share.
			success(A, UNIT);
			run_to(200);
			run_until_closed();
			// All that is left uncommitted is the unit the 3:1 scaling rounded off.
			assert!(events().contains(&Event::EpochValued { epoch: 1, budgets: [1, 0, 0] }));
		});
	}
}

mod closing {
	use super::*;

	#[test]
	fn closing_walks_the_actors_a_few_per_block_and_the_next_epoch_waits_for_it() {
		new_test_ext().execute_with(|| {
			// Seven providers with the same record: valuing and crediting take three blocks
			// each at three actors per block.
			for who in 1..=7 {
				set_bond(who, BondKind::Provider, UNIT);
				success(who, UNIT);
			}
			EpochLength::set(10); // the shortest epoch allowed
			run_to(10);
			assert_eq!(Closing::<Test>::get().unwrap().step, Step::Valuing);
			assert_eq!(CurrentEpoch::<Test>::get(), OpenEpoch { index: 1, start: 10 });
			run_to(11);
			assert_eq!(Closing::<Test>::get().unwrap().step, Step::Valuing);
			// Touched mid-valuing (by a note in the new epoch), before the cursor reaches it or
			// after: either way its value for epoch 0 is the same.
			for who in 1..=7 {
				note(BondKind::Provider, who, None, 0);
			}
			run_to(13);
			assert_eq!(Closing::<Test>::get().unwrap().step, Step::Crediting);
			run_to(15);
			assert!(Closing::<Test>::get().is_some());
			run_to(16);
			assert!(Closing::<Test>::get().is_none());
			let got = credited();
			assert_eq!(got.len(), 7);
			assert!(got.iter().all(|(_, _, amount)| *amount == 10_000 / 7));
			// Epoch 1 began when closing began, at block 10: it ends at 20.
			run_to(20);
			assert_eq!(Closing::<Test>::get().unwrap().epoch, 1);
		});
	}

	#[test]
	fn an_epoch_that_ends_while_another_is_closing_waits() {
		new_test_ext().execute_with(|| {
			for who in 1..=20 {
				set_bond(who, BondKind::Provider, UNIT);
				success(who, UNIT);
			}
			EpochLength::set(10);
			run_to(10);
			// 20 actors take 7 blocks per pass: closing epoch 0 runs past block 20.
			run_to(21);
			assert_eq!(Closing::<Test>::get().unwrap().epoch, 0);
			assert_eq!(CurrentEpoch::<Test>::get().index, 1);
			run_until_closed();
			let closed_at = System::block_number();
			run_to(closed_at + 1);
			// Epoch 1 ends in the first block after closing 0 finished.
			assert_eq!(Closing::<Test>::get().unwrap().epoch, 1);
			assert_eq!(CurrentEpoch::<Test>::get(), OpenEpoch { index: 2, start: closed_at + 1 });
		});
	}
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(24))]

	/// Whatever the actors did, what the pool pays equals what left it, the shares of a class
	/// never exceed its budget, and the pool never owes more than it holds.
	#[test]
	fn rewards_are_conserved(
		actors in prop::collection::vec((0usize..3, 0u128..50, 0u128..20, 0u32..4, 0u32..2), 1..12),
		budgets in prop::array::uniform3(0u128..2 * POOL_FUNDS),
	) {
		new_test_ext().execute_with(|| {
			ProviderBudget::set(budgets[0]);
			SolverBudget::set(budgets[1]);
			MediatorBudget::set(budgets[2]);
			let issuance = Balances::total_issuance();
			let pool_before = pool();
			for (i, (class, stake, fees, wins, slashes)) in actors.iter().enumerate() {
				let (who, kind) = (i as AccountId + 1, lilypad_primitives::rewards::CLASSES[*class]);
				set_bond(who, kind, stake * UNIT);
				for _ in 0..*wins {
					note(kind, who, Some(Outcome::Success), 0);
				}
				for _ in 0..*slashes {
					note(kind, who, Some(Outcome::Slash), 0);
				}
				note(kind, who, None, fees * UNIT / 3);
			}
			run_to(100);
			run_until_closed();
			let mut per_class = [0u128; 3];
			for (_, kind, amount) in credited() {
				per_class[lilypad_primitives::rewards::class_index(kind)] += amount;
			}
			let valued = events().into_iter().find_map(|e| match e {
				Event::EpochValued { budgets, .. } => Some(budgets),
				_ => None,
			}).unwrap();
			for k in 0..3 {
				prop_assert!(per_class[k] <= valued[k]);
				prop_assert!(valued[k] <= budgets[k]);
			}
			let total: Balance = per_class.iter().sum();
			prop_assert_eq!(Committed::<Test>::get(), total);
			for who in 1..=actors.len() as AccountId {
				if Claimable::<Test>::get(who) > 0 {
					assert_ok!(Rewards::claim(RuntimeOrigin::signed(who)));
				}
			}
			prop_assert_eq!(pool_before - pool(), total);
			prop_assert_eq!(Committed::<Test>::get(), 0);
			prop_assert_eq!(Balances::total_issuance(), issuance);
			Ok(())
		})?;
	}
}
