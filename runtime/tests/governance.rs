//! Governance on the real runtime: each governed power is exercised through a referendum on its
//! track, voted by the dev accounts and enacted by the scheduler, with balances and events
//! checked and the supply invariants holding after every block.
//!
//! - A `parameters` referendum changes a protocol parameter; other origins cannot.
//! - A `slash_appeals` referendum cancels a pending slash within its appeal window; once the
//!   window has passed the slash has applied and the appeal fails.
//! - A `treasurer` referendum pays a grant out of the treasury; the supply does not change.
mod common;
use codec::Encode;
use common::{market::*, *};
use lilypad_primitives::{jobs::Stage, providers::BondKind};
use lilypad_runtime::{
	configs::{dynamic_params::protocol, RuntimeParameters, TreasuryAccount},
	genesis_config_presets,
	governance::{
		origins::{Origin, MAX_GRANT},
		VotableSupply,
	},
	Balance, Balances, ConvictionVoting, Header, OriginCaller, Preimage, Providers, Referenda,
	Runtime, RuntimeCall, RuntimeEvent, System, Treasury, LILY, TOTAL_SUPPLY,
};
use polkadot_sdk::{
	frame_support::{
		assert_noop, assert_ok,
		traits::{fungible::Inspect, schedule::DispatchTime, Bounded, Get},
	},
	pallet_conviction_voting, pallet_parameters, pallet_referenda, pallet_scheduler,
	pallet_treasury,
	sp_core::Hasher,
	sp_io::hashing::blake2_256,
	sp_keyring::Sr25519Keyring::{self, *},
	sp_runtime::{
		traits::{BlakeTwo256, Dispatchable},
		DispatchError,
	},
};

/// What a voter puts behind its vote: nine tenths of its balance.
fn stake(voter: Sr25519Keyring) -> Balance {
	Balances::free_balance(who(voter)) / 10 * 9
}

/// Alice notes `call`, submits it on the track of `origin` and places the decision deposit;
/// Alice, Bob, Charlie, Dave and Eve vote aye with over a third of the votable supply. Returns the referendum's
/// index and the call's hash.
fn propose(call: RuntimeCall, origin: OriginCaller) -> (u32, polkadot_sdk::sp_core::H256) {
	let encoded = call.encode();
	let hash = BlakeTwo256::hash(&encoded);
	assert_ok!(Preimage::note_preimage(signed(Alice), encoded.clone()));
	let index = pallet_referenda::ReferendumCount::<Runtime>::get();
	assert_ok!(Referenda::submit(
		signed(Alice),
		Box::new(origin),
		Bounded::Lookup { hash, len: encoded.len() as u32 },
		DispatchTime::After(1),
	));
	assert_ok!(Referenda::place_decision_deposit(signed(Alice), index));
	for voter in [Alice, Bob, Charlie, Dave, Eve] {
		assert_ok!(ConvictionVoting::vote(
			signed(voter),
			index,
			pallet_conviction_voting::AccountVote::Standard {
				vote: pallet_conviction_voting::Vote {
					aye: true,
					conviction: pallet_conviction_voting::Conviction::Locked1x,
				},
				balance: stake(voter),
			},
		));
	}
	(index, hash)
}

/// Runs blocks until one emits an event matching `wanted` (at most `max` blocks).
fn run_until(head: &mut Header, max: u32, wanted: impl Fn(&RuntimeEvent) -> bool) -> RuntimeEvent {
	for _ in 0..max {
		in_block(head, || ());
		if let Some(e) = System::events().into_iter().map(|r| r.event).find(|e| wanted(e)) {
			return e;
		}
	}
	panic!("no matching event within {max} blocks");
}

/// Whether `event` is the scheduler dispatching referendum `index`'s call (the referenda
/// pallet names its enactment task; its alarms are dispatched by the scheduler too).
fn is_enactment(event: &RuntimeEvent, index: u32) -> bool {
	let name = (*b"assembly", "enactment", index).using_encoded(blake2_256);
	matches!(
		event,
		RuntimeEvent::Scheduler(pallet_scheduler::Event::Dispatched { id: Some(id), .. })
			if *id == name
	)
}

/// The scheduler's result for referendum `index`'s call, enacted in the last block.
fn enacted_result(index: u32) -> Result<(), DispatchError> {
	System::events()
		.into_iter()
		.find_map(|r| match r.event {
			RuntimeEvent::Scheduler(pallet_scheduler::Event::Dispatched { result, .. })
				if is_enactment(&r.event, index) =>
			{
				Some(result)
			}
			_ => None,
		})
		.expect("the scheduler dispatched the enacted call")
}

/// Returns Alice's deposits (decision, submission, preimage) once a referendum is over.
fn refund(index: u32, hash: polkadot_sdk::sp_core::H256) {
	assert_ok!(Referenda::refund_decision_deposit(signed(Alice), index));
	assert_ok!(Referenda::refund_submission_deposit(signed(Alice), index));
	assert_ok!(Preimage::unnote_preimage(signed(Alice), hash));
}

#[test]
fn a_parameters_referendum_changes_a_protocol_parameter() {
	dev_chain().execute_with(|| {
		let mut head = genesis_header();
		run_blocks(&mut head, 1);
		let set = |blocks| {
			RuntimeCall::Parameters(pallet_parameters::Call::set_parameter {
				key_value: RuntimeParameters::Protocol(protocol::Parameters::ChallengeWindow(
					protocol::ChallengeWindow,
					Some(blocks),
				)),
			})
		};
		let before = protocol::ChallengeWindow::get();
		assert_ne!(before, 77);

		// Neither an account nor another track's origin may.
		assert_noop!(set(77).dispatch(signed(Alice)), DispatchError::BadOrigin);
		assert_noop!(set(77).dispatch(Origin::Treasurer.into()), DispatchError::BadOrigin);
		assert_noop!(set(77).dispatch(Origin::SlashAppeals.into()), DispatchError::BadOrigin);

		let alice0 = Balances::free_balance(who(Alice));
		let (index, hash) = in_block(&mut head, || propose(set(77), Origin::ParameterAdmin.into()));
		assert!(Balances::free_balance(who(Alice)) < alice0, "deposits are held while it runs");

		let event = run_until(&mut head, 30, |e| matches!(e, RuntimeEvent::Parameters(_)));
		assert!(matches!(
			event,
			RuntimeEvent::Parameters(pallet_parameters::Event::Updated { .. })
		));
		assert_ok!(enacted_result(index));
		assert_eq!(protocol::ChallengeWindow::get(), 77);
		assert!(matches!(
			pallet_referenda::ReferendumInfoFor::<Runtime>::get(index),
			Some(pallet_referenda::ReferendumInfo::Approved(..))
		));

		in_block(&mut head, || refund(index, hash));
		assert_eq!(Balances::free_balance(who(Alice)), alice0, "every deposit came back");
		assert_eq!(Balances::total_issuance(), TOTAL_SUPPLY);
	});
}

#[test]
fn a_treasurer_referendum_pays_a_grant_out_of_the_treasury() {
	dev_chain().execute_with(|| {
		let mut head = genesis_header();
		run_blocks(&mut head, 1);
		let grant = 25_000 * LILY;
		let spend = |amount| {
			RuntimeCall::Treasury(pallet_treasury::Call::spend {
				asset_kind: Box::new(()),
				amount,
				beneficiary: Box::new(who(Ferdie)),
				valid_from: None,
			})
		};
		assert_noop!(spend(grant).dispatch(signed(Alice)), DispatchError::BadOrigin);
		assert_noop!(
			spend(grant).dispatch(Origin::ParameterAdmin.into()),
			DispatchError::BadOrigin
		);
		// Above the track's limit only the root track may pay.
		assert_noop!(
			spend(MAX_GRANT + 1).dispatch(Origin::Treasurer.into()),
			pallet_treasury::Error::<Runtime>::InsufficientPermission
		);

		let (ferdie0, treasury0) =
			(Balances::free_balance(who(Ferdie)), Balances::free_balance(TreasuryAccount::get()));
		let (index, hash) = in_block(&mut head, || propose(spend(grant), Origin::Treasurer.into()));
		let approved = run_until(&mut head, 30, |e| {
			matches!(e, RuntimeEvent::Treasury(pallet_treasury::Event::AssetSpendApproved { .. }))
		});
		let RuntimeEvent::Treasury(pallet_treasury::Event::AssetSpendApproved {
			index: spend_index,
			amount,
			beneficiary,
			..
		}) = approved
		else {
			unreachable!()
		};
		assert_eq!((amount, beneficiary), (grant, who(Ferdie)));
		assert_eq!(Balances::free_balance(who(Ferdie)), ferdie0, "approved, not yet paid");

		// The beneficiary claims it.
		in_block(&mut head, || {
			assert_ok!(Treasury::payout(signed(Ferdie), spend_index));
			assert_ok!(Treasury::check_status(signed(Ferdie), spend_index));
			refund(index, hash);
		});
		assert!(System::events().iter().any(|r| matches!(
			r.event,
			RuntimeEvent::Treasury(pallet_treasury::Event::Paid { index, .. }) if index == spend_index
		)));
		assert_eq!(Balances::free_balance(who(Ferdie)), ferdie0 + grant);
		assert_eq!(Balances::free_balance(TreasuryAccount::get()), treasury0 - grant);
		assert_eq!(Balances::total_issuance(), TOTAL_SUPPLY, "a grant mints nothing");
		// Paid once only.
		assert!(Treasury::payout(signed(Ferdie), spend_index).is_err());
	});
}

/// The blocks a slash waits for an appeal in these tests.
const APPEAL_WINDOW: u32 = 20;

/// A job by Charlie that Dave, its provider, never ran: its collateral is under a pending
/// slash (execution timeout) with [`APPEAL_WINDOW`] blocks to appeal. Returns the job's id.
fn timed_out_job(head: &mut Header) -> u64 {
	open_market(head, APPEAL_WINDOW, 2, false);
	let job = in_block(head, || submit(System::block_number() + 10));
	in_block(head, || match_to_dave(&[job]));
	run_until(
		head,
		20,
		|e| matches!(e, RuntimeEvent::Jobs(pallet_jobs::Event::SlashPending { job: j, .. }) if *j == job),
	);
	job
}

fn cancel_slash(job: u64) -> RuntimeCall {
	RuntimeCall::Jobs(pallet_jobs::Call::cancel_slash { job })
}

/// Dave's provider bond: (total, in use).
fn dave_bond() -> (Balance, Balance) {
	let b = Providers::bond_of(who(Dave), BondKind::Provider).expect("Dave is bonded");
	(b.bonded, b.in_use)
}

#[test]
fn an_appeal_within_the_window_cancels_the_slash() {
	dev_chain().execute_with(|| {
		let mut head = genesis_header();
		run_blocks(&mut head, 1);
		let job = timed_out_job(&mut head);
		assert_noop!(cancel_slash(job).dispatch(signed(Alice)), DispatchError::BadOrigin);
		assert_noop!(
			cancel_slash(job).dispatch(Origin::ParameterAdmin.into()),
			DispatchError::BadOrigin
		);
		let (bond0, in_use0) = dave_bond();
		assert!(in_use0 > 0, "the job's collateral is locked");
		let dave0 = Balances::total_balance(&who(Dave));

		let (index, hash) =
			in_block(&mut head, || propose(cancel_slash(job), Origin::SlashAppeals.into()));
		run_until(&mut head, APPEAL_WINDOW - 2, |e| {
			matches!(e, RuntimeEvent::Jobs(pallet_jobs::Event::SlashCancelled { job: j, .. }) if *j == job)
		});
		assert_ok!(enacted_result(index));
		let record = pallet_jobs::Jobs::<Runtime>::get(job).unwrap();
		assert_eq!(record.stage(), Stage::SlashCancelled);
		assert_eq!(dave_bond(), (bond0, 0), "the collateral is released, none of it taken");
		assert_eq!(Balances::total_balance(&who(Dave)), dave0);

		// The window passes: nothing more happens to Dave.
		run_blocks(&mut head, APPEAL_WINDOW);
		assert_eq!(dave_bond(), (bond0, 0));
		in_block(&mut head, || refund(index, hash));
		assert_eq!(Balances::total_issuance(), TOTAL_SUPPLY);
	});
}

#[test]
fn an_appeal_after_the_window_finds_the_slash_applied() {
	dev_chain().execute_with(|| {
		let mut head = genesis_header();
		run_blocks(&mut head, 1);
		let job = timed_out_job(&mut head);
		let (bond0, in_use0) = dave_bond();
		let (charlie0, treasury0) =
			(Balances::free_balance(who(Charlie)), Balances::free_balance(TreasuryAccount::get()));

		// Nobody appeals in time: the slash applies.
		run_until(&mut head, APPEAL_WINDOW + 2, |e| {
			matches!(e, RuntimeEvent::Jobs(pallet_jobs::Event::SlashApplied { job: j, .. }) if *j == job)
		});
		let (bond1, in_use1) = dave_bond();
		assert_eq!(in_use1, 0);
		assert_eq!(bond0 - bond1, in_use0, "the whole collateral was taken");
		let to_charlie = Balances::free_balance(who(Charlie)) - charlie0;
		let to_treasury = Balances::free_balance(TreasuryAccount::get()) - treasury0;
		assert!(to_charlie > 0);
		assert_eq!(to_charlie + to_treasury, in_use0, "split between creator and treasury");
		assert_eq!(pallet_jobs::Jobs::<Runtime>::get(job).unwrap().stage(), Stage::Slashed);

		// A late appeal passes but has nothing left to cancel.
		let (index, hash) =
			in_block(&mut head, || propose(cancel_slash(job), Origin::SlashAppeals.into()));
		run_until(&mut head, 30, |e| is_enactment(e, index));
		assert_eq!(
			enacted_result(index),
			Err(pallet_jobs::Error::<Runtime>::NoPendingSlash.into()),
		);
		assert_eq!(dave_bond(), (bond1, 0), "nothing was given back");
		in_block(&mut head, || refund(index, hash));
		assert_eq!(Balances::total_issuance(), TOTAL_SUPPLY);
	});
}

#[test]
fn support_is_measured_against_the_supply_that_can_vote() {
	dev_chain().execute_with(|| {
		let parked = Balances::total_balance(&TreasuryAccount::get())
			+ Balances::total_balance(&lilypad_runtime::configs::RewardsPoolAccount::get());
		assert_eq!(VotableSupply::get(), TOTAL_SUPPLY - parked);
		// Half the supply is parked; the rest is exactly what the accounts hold.
		assert!(parked >= TOTAL_SUPPLY / 2);
		let accounts: Balance =
			genesis_config_presets::dev_accounts().iter().map(Balances::total_balance).sum();
		assert_eq!(VotableSupply::get(), accounts);
		// Five of them, voting with nine tenths, are over a third of it: above the
		// `parameters`, `slash_appeals` and `treasurer` tracks' support from the start.
		let five: Balance = [Alice, Bob, Charlie, Dave, Eve].map(stake).iter().sum();
		assert!(five > VotableSupply::get() / 3);
	});
}
