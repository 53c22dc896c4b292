//! One test per rule of the providers pallet, with balances checked to the unit.
use crate::{mock::*, *};
use lilypad_primitives::{
	identity::Role,
	providers::{Gpu, ModuleFilter, OfferResources},
	registry::Resources,
};
use polkadot_sdk::{
	frame_support::{
		assert_noop, assert_ok,
		traits::fungible::{Inspect, InspectHold},
	},
	sp_runtime::TokenError,
};

fn signed(who: u64) -> RuntimeOrigin {
	RuntimeOrigin::signed(who)
}

fn offer() -> OfferOf<Test> {
	Offer {
		resources: OfferResources {
			cpu_millicores: 4_000,
			ram_mib: 8_192,
			gpus: vec![Gpu { model: b"RTX 4090".to_vec().try_into().unwrap(), vram_mib: 24_576 }]
				.try_into()
				.unwrap(),
			disk_mib: 50_000,
		},
		modules: ModuleFilter::All,
		default_price: 10,
		prices: vec![(b"sdxl".to_vec().try_into().unwrap(), 50)].try_into().unwrap(),
		capacity: 2,
		credentials: Default::default(),
		endpoint: b"http://127.0.0.1:8080".to_vec().try_into().unwrap(),
		models: Default::default(),
	}
}

fn provider(who: u64) {
	assert_ok!(Halo::register_role(signed(who), Role::ResourceProvider));
	assert_ok!(Providers::register_provider(signed(who), offer()));
}

fn held(who: u64, kind: BondKind) -> Balance {
	Balances::balance_on_hold(&HoldReason::of(kind).into(), &who)
}

fn status(who: u64) -> ProviderStatus {
	Offers::<Test>::get(who).unwrap().status
}

/// Runs `f`, then checks the pallet's invariants and that no LILY appeared or vanished.
fn test(f: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		f();
		Providers::do_try_state().expect("invariants hold");
		assert_eq!(Balances::total_issuance(), issuance, "funds are conserved");
	});
}

#[test]
fn a_resource_provider_registers_an_offer() {
	test(|| {
		provider(1);
		System::assert_last_event(Event::ProviderRegistered { provider: 1, capacity: 2 }.into());
		let r = Offers::<Test>::get(1).unwrap();
		assert_eq!(r.offer, offer());
		assert_eq!((r.status, r.registered_at, r.last_heartbeat), (ProviderStatus::Active, 1, 1));
		// Checked one period (10) after the heartbeat at block 1.
		assert_eq!(r.check_at, 12);
		assert_eq!(HeartbeatChecks::<Test>::get(12).into_inner(), vec![1]);
	});
}

#[test]
fn offering_needs_the_resource_provider_role() {
	test(|| {
		assert_noop!(
			Providers::register_provider(signed(1), offer()),
			Error::<Test>::NotResourceProvider
		);
	});
}

#[test]
fn an_account_registers_once() {
	test(|| {
		provider(1);
		assert_noop!(
			Providers::register_provider(signed(1), offer()),
			Error::<Test>::AlreadyRegistered
		);
	});
}

/// A change that breaks one rule of what it changes.
type Break<T> = fn(&mut T);

#[test]
fn offers_breaking_a_rule_are_refused_with_its_name() {
	test(|| {
		assert_ok!(Halo::register_role(signed(1), Role::ResourceProvider));
		let cases: Vec<(Break<OfferOf<Test>>, Error<Test>)> = vec![
			(|o| o.resources.cpu_millicores = 0, Error::NoResources),
			(|o| o.resources.gpus[0].model = Default::default(), Error::InvalidGpu),
			(|o| o.capacity = 0, Error::ZeroCapacity),
			(|o| o.endpoint = b"localhost:80".to_vec().try_into().unwrap(), Error::InvalidEndpoint),
			(|o| o.modules = ModuleFilter::Only(Default::default()), Error::InvalidModuleList),
			(
				|o| {
					o.modules = ModuleFilter::Only(
						vec![b"cowsay".to_vec().try_into().unwrap()].try_into().unwrap(),
					)
				},
				Error::PriceForUnservedModule,
			),
			(
				|o| o.credentials = vec![b"ACME".to_vec().try_into().unwrap()].try_into().unwrap(),
				Error::InvalidCredential,
			),
			(
				|o| {
					o.credentials =
						vec![b"org:acme".to_vec().try_into().unwrap()].try_into().unwrap()
				},
				Error::CredentialNotHeld,
			),
			(|o| o.models = vec![[1; 32], [1; 32]].try_into().unwrap(), Error::DuplicateModel),
		];
		for (break_rule, error) in cases {
			let mut o = offer();
			break_rule(&mut o);
			assert_noop!(Providers::register_provider(signed(1), o.clone()), error);
		}
	});
}

#[test]
fn an_offer_may_claim_credentials_the_provider_holds() {
	test(|| {
		assert_ok!(Halo::register_role(signed(1), Role::ResourceProvider));
		assert_ok!(Halo::add_issuer(RuntimeOrigin::root(), 9));
		assert_ok!(Halo::issue_credential(
			signed(9),
			1,
			b"org:acme".to_vec().try_into().unwrap(),
			None
		));
		let mut o = offer();
		o.credentials = vec![b"org:acme".to_vec().try_into().unwrap()].try_into().unwrap();
		assert_ok!(Providers::register_provider(signed(1), o));
	});
}

#[test]
fn a_provider_updates_its_offer() {
	test(|| {
		provider(1);
		let mut o = offer();
		o.capacity = 5;
		o.default_price = 12;
		assert_ok!(Providers::update_offer(signed(1), o.clone()));
		System::assert_last_event(Event::OfferUpdated { provider: 1, capacity: 5 }.into());
		assert_eq!(Offers::<Test>::get(1).unwrap().offer, o);
		let mut bad = offer();
		bad.capacity = 0;
		assert_noop!(Providers::update_offer(signed(1), bad), Error::<Test>::ZeroCapacity);
		assert_noop!(Providers::update_offer(signed(2), offer()), Error::<Test>::NotRegistered);
	});
}

#[test]
fn an_offer_lists_the_models_its_provider_holds() {
	test(|| {
		provider(1);
		let mut o = offer();
		o.models = vec![[1; 32], [2; 32]].try_into().unwrap();
		assert_ok!(Providers::update_offer(signed(1), o.clone()));
		let stored = Offers::<Test>::get(1).unwrap().offer;
		assert_eq!(stored.models, o.models);
		assert!(stored.holds_all(&[[2; 32], [1; 32]]) && !stored.holds_all(&[[3; 32]]));
		// The list is a hint: a digest no model has is taken as it comes.
		o.models = vec![[9; 32]].try_into().unwrap();
		assert_ok!(Providers::update_offer(signed(1), o.clone()));
		assert_eq!(Offers::<Test>::get(1).unwrap().offer, o);
	});
}

#[test]
fn capacity_cannot_drop_below_running_jobs() {
	test(|| {
		provider(1);
		Offers::<Test>::mutate(1, |r| r.as_mut().unwrap().active_jobs = 2);
		let mut o = offer();
		o.capacity = 1;
		assert_noop!(Providers::update_offer(signed(1), o), Error::<Test>::CapacityBelowActiveJobs);
	});
}

#[test]
fn a_provider_withdraws_its_offer_unless_jobs_run() {
	test(|| {
		provider(1);
		Offers::<Test>::mutate(1, |r| r.as_mut().unwrap().active_jobs = 1);
		assert_noop!(Providers::withdraw_offer(signed(1)), Error::<Test>::JobsInProgress);
		Offers::<Test>::mutate(1, |r| r.as_mut().unwrap().active_jobs = 0);
		assert_ok!(Providers::withdraw_offer(signed(1)));
		System::assert_last_event(Event::OfferWithdrawn { provider: 1 }.into());
		assert!(!Offers::<Test>::contains_key(1));
		assert_noop!(Providers::withdraw_offer(signed(1)), Error::<Test>::NotRegistered);
		// Its queued check finds nothing and does nothing.
		run_to(12);
	});
}

#[test]
fn a_silent_provider_is_marked_away_and_returns_with_a_heartbeat() {
	test(|| {
		provider(1);
		run_to(11);
		assert_eq!(status(1), ProviderStatus::Active, "silent for exactly one period is fine");
		run_to(12);
		assert_eq!(status(1), ProviderStatus::Away);
		System::assert_last_event(Event::ProviderAway { provider: 1, last_heartbeat: 1 }.into());
		assert_ok!(Providers::heartbeat(signed(1)));
		System::assert_last_event(Event::ProviderReturned { provider: 1 }.into());
		assert_eq!(status(1), ProviderStatus::Active);
		assert_eq!(Offers::<Test>::get(1).unwrap().check_at, 23);
	});
}

#[test]
fn heartbeats_in_time_keep_a_provider_active() {
	test(|| {
		provider(1);
		for block in [8, 16, 24, 32] {
			run_to(block);
			assert_ok!(Providers::heartbeat(signed(1)));
		}
		run_to(42);
		assert_eq!(status(1), ProviderStatus::Active);
		run_to(43);
		assert_eq!(status(1), ProviderStatus::Away);
	});
}

#[test]
fn a_longer_period_postpones_the_check() {
	test(|| {
		provider(1);
		HeartbeatPeriod::set(20);
		run_to(12);
		assert_eq!(status(1), ProviderStatus::Active);
		assert_eq!(Offers::<Test>::get(1).unwrap().check_at, 22);
		run_to(22);
		assert_eq!(status(1), ProviderStatus::Away);
	});
}

#[test]
fn a_governed_period_below_the_minimum_is_clamped() {
	test(|| {
		HeartbeatPeriod::set(0);
		provider(1);
		let min = lilypad_primitives::params::MIN_HEARTBEAT_PERIOD as u64;
		assert_eq!(Offers::<Test>::get(1).unwrap().check_at, 1 + min + 1);
	});
}

#[test]
fn heartbeats_need_an_offer() {
	test(|| {
		assert_noop!(Providers::heartbeat(signed(1)), Error::<Test>::NotRegistered);
	});
}

#[test]
fn a_full_check_queue_spills_and_then_refuses() {
	test(|| {
		let fits = MAX_CHECKS * crate::MAX_CHECK_SPILL;
		for who in 1..=fits as u64 {
			provider(who);
		}
		// Spilled over consecutive blocks from 12 on.
		assert_eq!(Offers::<Test>::get(fits as u64).unwrap().check_at, 12 + 15);
		let last = fits as u64 + 1;
		assert_ok!(Halo::register_role(signed(last), Role::ResourceProvider));
		assert_noop!(
			Providers::register_provider(signed(last), offer()),
			Error::<Test>::HeartbeatQueueFull
		);
		run_to(27);
		assert!((1..=fits as u64).all(|who| status(who) == ProviderStatus::Away));
	});
}

#[test]
fn bonding_holds_funds_under_the_kinds_reason() {
	test(|| {
		assert_ok!(Halo::register_role(signed(1), Role::ResourceProvider));
		assert_ok!(Halo::register_role(signed(1), Role::Solver));
		assert_ok!(Providers::bond(signed(1), BondKind::Provider, 300));
		System::assert_last_event(
			Event::Bonded { who: 1, kind: BondKind::Provider, amount: 300 }.into(),
		);
		assert_ok!(Providers::bond(signed(1), BondKind::Provider, 100));
		assert_ok!(Providers::bond(signed(1), BondKind::Solver, 50));
		assert_eq!(held(1, BondKind::Provider), 400);
		assert_eq!(held(1, BondKind::Solver), 50);
		assert_eq!(Balances::balance(&1), ENDOWMENT - 450);
		assert_eq!(Bonds::<Test>::get(1, BondKind::Provider).unwrap().bonded, 400);
	});
}

#[test]
fn bonding_needs_the_role_of_its_kind() {
	test(|| {
		assert_ok!(Halo::register_role(signed(1), Role::ResourceProvider));
		for kind in [BondKind::Solver, BondKind::Mediator] {
			assert_noop!(Providers::bond(signed(1), kind, 10), Error::<Test>::MissingRole);
		}
		assert_noop!(
			Providers::bond(signed(2), BondKind::Provider, 10),
			Error::<Test>::MissingRole
		);
	});
}

#[test]
fn bonds_are_positive_and_funded() {
	test(|| {
		assert_ok!(Halo::register_role(signed(1), Role::Mediator));
		assert_noop!(Providers::bond(signed(1), BondKind::Mediator, 0), Error::<Test>::ZeroAmount);
		assert_noop!(
			Providers::bond(signed(1), BondKind::Mediator, ENDOWMENT + 1),
			TokenError::FundsUnavailable
		);
	});
}

#[test]
fn unbonding_waits_out_the_delay_then_withdraws_exactly() {
	test(|| {
		assert_ok!(Halo::register_role(signed(1), Role::ResourceProvider));
		assert_ok!(Providers::bond(signed(1), BondKind::Provider, 400));
		assert_ok!(Providers::unbond(signed(1), BondKind::Provider, 150));
		System::assert_last_event(
			Event::Unbonded { who: 1, kind: BondKind::Provider, amount: 150, unlocks_at: 6 }.into(),
		);
		let bond = Bonds::<Test>::get(1, BondKind::Provider).unwrap();
		assert_eq!((bond.bonded, bond.held()), (250, 400));
		assert_eq!(held(1, BondKind::Provider), 400, "still held while unbonding");
		run_to(5);
		assert_noop!(
			Providers::withdraw_unbonded(signed(1), BondKind::Provider),
			Error::<Test>::NothingToWithdraw
		);
		run_to(6);
		assert_ok!(Providers::withdraw_unbonded(signed(1), BondKind::Provider));
		System::assert_last_event(
			Event::Withdrawn { who: 1, kind: BondKind::Provider, amount: 150 }.into(),
		);
		assert_eq!(held(1, BondKind::Provider), 250);
		assert_eq!(Balances::balance(&1), ENDOWMENT - 250);
	});
}

#[test]
fn only_ripe_chunks_are_withdrawn_and_an_emptied_bond_is_removed() {
	test(|| {
		assert_ok!(Halo::register_role(signed(1), Role::Solver));
		assert_ok!(Providers::bond(signed(1), BondKind::Solver, 100));
		assert_ok!(Providers::unbond(signed(1), BondKind::Solver, 60));
		run_to(3);
		assert_ok!(Providers::unbond(signed(1), BondKind::Solver, 40));
		run_to(6);
		assert_ok!(Providers::withdraw_unbonded(signed(1), BondKind::Solver));
		assert_eq!(Balances::balance(&1), ENDOWMENT - 40);
		run_to(8);
		assert_ok!(Providers::withdraw_unbonded(signed(1), BondKind::Solver));
		assert_eq!(Balances::balance(&1), ENDOWMENT);
		assert!(!Bonds::<Test>::contains_key(1, BondKind::Solver));
	});
}

#[test]
fn unbonding_is_positive_and_within_the_bond() {
	test(|| {
		assert_noop!(
			Providers::unbond(signed(1), BondKind::Provider, 1),
			Error::<Test>::InsufficientBond
		);
		assert_ok!(Halo::register_role(signed(1), Role::ResourceProvider));
		assert_ok!(Providers::bond(signed(1), BondKind::Provider, 100));
		assert_noop!(
			Providers::unbond(signed(1), BondKind::Provider, 0),
			Error::<Test>::ZeroAmount
		);
		assert_noop!(
			Providers::unbond(signed(1), BondKind::Provider, 101),
			Error::<Test>::InsufficientBond
		);
	});
}

#[test]
fn the_part_of_a_bond_in_use_cannot_be_unbonded() {
	test(|| {
		assert_ok!(Halo::register_role(signed(1), Role::ResourceProvider));
		assert_ok!(Providers::bond(signed(1), BondKind::Provider, 100));
		assert_ok!(Providers::lock_bond(&1, BondKind::Provider, 70));
		assert_noop!(
			Providers::unbond(signed(1), BondKind::Provider, 31),
			Error::<Test>::BondInUse
		);
		assert_ok!(Providers::unbond(signed(1), BondKind::Provider, 30));
		// Nothing free is left to lock.
		assert_noop!(
			Providers::lock_bond(&1, BondKind::Provider, 1),
			Error::<Test>::InsufficientBond
		);
		Providers::unlock_bond(&1, BondKind::Provider, 70);
		assert_ok!(Providers::unbond(signed(1), BondKind::Provider, 70));
	});
}

#[test]
fn unbonding_chunks_are_bounded() {
	test(|| {
		assert_ok!(Halo::register_role(signed(1), Role::Mediator));
		assert_ok!(Providers::bond(signed(1), BondKind::Mediator, 100));
		for _ in 0..MAX_UNLOCKING {
			assert_ok!(Providers::unbond(signed(1), BondKind::Mediator, 10));
		}
		assert_noop!(
			Providers::unbond(signed(1), BondKind::Mediator, 10),
			Error::<Test>::TooManyUnlockingChunks
		);
	});
}

#[test]
fn a_governed_delay_below_the_minimum_is_clamped() {
	test(|| {
		UnbondingDelay::set(0);
		assert_ok!(Halo::register_role(signed(1), Role::Mediator));
		assert_ok!(Providers::bond(signed(1), BondKind::Mediator, 100));
		assert_ok!(Providers::unbond(signed(1), BondKind::Mediator, 10));
		let min = lilypad_primitives::params::MIN_UNBONDING_DELAY as u64;
		assert_eq!(
			Bonds::<Test>::get(1, BondKind::Mediator).unwrap().unlocking[0].unlocks_at,
			1 + min
		);
	});
}

#[test]
fn withdrawing_without_a_bond_fails() {
	test(|| {
		assert_noop!(
			Providers::withdraw_unbonded(signed(1), BondKind::Mediator),
			Error::<Test>::NothingToWithdraw
		);
	});
}

#[test]
fn providers_are_read_one_by_one_and_filtered_page_by_page() {
	test(|| {
		provider(1);
		assert_ok!(Providers::bond(signed(1), BondKind::Provider, 200));
		assert_ok!(Halo::register_role(signed(2), Role::ResourceProvider));
		let mut small = offer();
		small.resources.gpus = Default::default();
		small.modules =
			ModuleFilter::Only(vec![b"cowsay".to_vec().try_into().unwrap()].try_into().unwrap());
		small.prices = Default::default();
		assert_ok!(Providers::register_provider(signed(2), small));
		provider(3);
		run_to(5);
		assert_ok!(Providers::heartbeat(signed(1)));
		assert_ok!(Providers::heartbeat(signed(2)));
		// Three registrations in block 1 and two checks per block: 3's check spilled to 13.
		run_to(13);
		assert_eq!(status(3), ProviderStatus::Away);

		let info = Providers::provider_info(1).unwrap();
		assert_eq!(info.bond.unwrap().bonded, 200);
		assert_eq!(info.last_heartbeat, 5);
		assert!(Providers::provider_info(4).is_none());
		assert_eq!(Providers::bond_of(1, BondKind::Provider).unwrap().bonded, 200);

		let who = |f: OfferFilter| {
			let mut all = Vec::new();
			let mut after = None;
			loop {
				let page = Providers::offers_page(after, 1, f.clone());
				let Some(last) = page.last() else { break };
				after = Some(last.provider);
				all.extend(page.iter().map(|p| p.provider));
			}
			all.sort();
			all
		};
		assert_eq!(who(OfferFilter::default()), vec![1, 2, 3]);
		assert_eq!(who(OfferFilter { active_only: true, ..Default::default() }), vec![1, 2]);
		let gpu_job = Resources {
			cpu_millicores: 1_000,
			ram_mib: 1_024,
			gpus: 1,
			vram_mib: 8_192,
			disk_mib: 0,
		};
		assert_eq!(who(OfferFilter { covers: Some(gpu_job), ..Default::default() }), vec![1, 3]);
		let sdxl = Some(b"sdxl".to_vec().try_into().unwrap());
		assert_eq!(who(OfferFilter { module: sdxl, ..Default::default() }), vec![1, 3]);
	});
}

#[test]
fn try_state_catches_a_bond_out_of_step_with_its_hold() {
	new_test_ext().execute_with(|| {
		assert_ok!(Halo::register_role(signed(1), Role::Solver));
		assert_ok!(Providers::bond(signed(1), BondKind::Solver, 100));
		Bonds::<Test>::mutate(1, BondKind::Solver, |b| b.as_mut().unwrap().bonded = 99);
		assert!(Providers::do_try_state().is_err());
	});
}

#[test]
fn a_slash_moves_the_locked_bond_to_its_recipient_and_shrinks_the_bond() {
	test(|| {
		assert_ok!(Halo::register_role(signed(1), Role::ResourceProvider));
		assert_ok!(Providers::bond(signed(1), BondKind::Provider, 100));
		assert_ok!(Providers::lock_bond(&1, BondKind::Provider, 60));
		assert_eq!(Providers::free_bond(&1, BondKind::Provider), 40);
		let before = Balances::balance(&2);
		assert_eq!(Providers::slash_bond(&1, BondKind::Provider, 25, &2), 25);
		System::assert_last_event(
			Event::Slashed { who: 1, kind: BondKind::Provider, amount: 25 }.into(),
		);
		assert_eq!(Balances::balance(&2), before + 25);
		assert_eq!(held(1, BondKind::Provider), 75);
		assert_eq!(Providers::bond_in_use(&1, BondKind::Provider), 35);
		assert_eq!(Providers::free_bond(&1, BondKind::Provider), 40);
		// Never more than is bonded; the unbonding part is not touched.
		assert_ok!(Providers::unbond(signed(1), BondKind::Provider, 40));
		assert_eq!(Providers::slash_bond(&1, BondKind::Provider, 1_000, &2), 35);
		assert_eq!(held(1, BondKind::Provider), 40);
		assert_eq!(Providers::bond_in_use(&1, BondKind::Provider), 0);
		assert_eq!(Providers::slash_bond(&9, BondKind::Provider, 10, &2), 0, "no bond, no slash");
	});
}

#[test]
fn running_jobs_are_counted_up_to_capacity() {
	test(|| {
		provider(1);
		assert_ok!(Providers::start_job(&1));
		assert_ok!(Providers::start_job(&1));
		assert_noop!(Providers::start_job(&1), Error::<Test>::AtCapacity);
		assert_noop!(Providers::withdraw_offer(signed(1)), Error::<Test>::JobsInProgress);
		assert_eq!(Providers::provider(&1).unwrap().active_jobs, 2);
		Providers::end_job(&1);
		Providers::end_job(&1);
		assert_ok!(Providers::start_job(&1));
		assert_noop!(Providers::start_job(&2), Error::<Test>::NotRegistered);
		assert_eq!(Providers::offers(10).len(), 1);
	});
}

#[test]
fn mediators_join_the_pool_when_they_bond_and_leave_when_nothing_is_bonded() {
	test(|| {
		for who in [1, 2, 3] {
			assert_ok!(Halo::register_role(signed(who), Role::Mediator));
		}
		assert_ok!(Providers::bond(signed(1), BondKind::Mediator, 100));
		assert_ok!(Providers::bond(signed(1), BondKind::Mediator, 50));
		assert_ok!(Providers::bond(signed(2), BondKind::Mediator, 30));
		assert_eq!(Mediators::<Test>::get().into_inner(), vec![1, 2], "once each, in order");
		assert_ok!(Providers::lock_bond(&1, BondKind::Mediator, 20));
		assert_eq!(Providers::mediators(), vec![(1, 130), (2, 30)], "with the free stake");
		// The pool is bounded: a third mediator waits for room, and nothing is held.
		assert_noop!(
			Providers::bond(signed(3), BondKind::Mediator, 10),
			Error::<Test>::TooManyMediators
		);
		// Unbonding all of it leaves the pool; unbonding part of it does not.
		assert_ok!(Providers::unbond(signed(2), BondKind::Mediator, 10));
		assert_eq!(Mediators::<Test>::get().len(), 2);
		assert_ok!(Providers::unbond(signed(2), BondKind::Mediator, 20));
		assert_eq!(Mediators::<Test>::get().into_inner(), vec![1]);
		assert_ok!(Providers::bond(signed(3), BondKind::Mediator, 10));
		// A slash of everything bonded leaves it too.
		assert_eq!(Providers::slash_bond(&3, BondKind::Mediator, 10, &9), 10);
		assert_eq!(Mediators::<Test>::get().into_inner(), vec![1]);
		// Other kinds of bond never enter it.
		assert_ok!(Halo::register_role(signed(4), Role::Solver));
		assert_ok!(Providers::bond(signed(4), BondKind::Solver, 10));
		assert_eq!(Mediators::<Test>::get().into_inner(), vec![1]);
	});
}

#[test]
fn the_v1_migration_lists_no_models_in_every_offer_and_runs_once() {
	use crate::migrations::v1::{MigrateToV1, V0ProviderRecord};
	use lilypad_primitives::providers::v1;
	use polkadot_sdk::frame_support::traits::{
		GetStorageVersion, OnRuntimeUpgrade, StorageVersion,
	};
	test(|| {
		assert_eq!(Providers::on_chain_storage_version(), 1, "a new chain starts at version 1");
		provider(1);
		provider(2);
		Offers::<Test>::mutate(2, |r| r.as_mut().unwrap().active_jobs = 1);
		run_to(8);
		assert_ok!(Providers::heartbeat(signed(2)));
		run_to(12);
		// One away, one active with a job running and its check queued.
		assert_eq!((status(1), status(2)), (ProviderStatus::Away, ProviderStatus::Active));
		let now: Vec<_> = Offers::<Test>::iter().collect();
		// The chain as version 0 stored it.
		for (who, record) in &now {
			let o = record.offer.clone();
			let old = V0ProviderRecord::<Test> {
				offer: v1::Offer {
					resources: o.resources,
					modules: o.modules,
					default_price: o.default_price,
					prices: o.prices,
					capacity: o.capacity,
					credentials: o.credentials,
					endpoint: o.endpoint,
				},
				status: record.status,
				registered_at: record.registered_at,
				last_heartbeat: record.last_heartbeat,
				check_at: record.check_at,
				active_jobs: record.active_jobs,
			};
			polkadot_sdk::frame_support::storage::unhashed::put_raw(
				&Offers::<Test>::hashed_key_for(who),
				&codec::Encode::encode(&old),
			);
		}
		StorageVersion::new(0).put::<Providers>();

		MigrateToV1::<Test>::on_runtime_upgrade();

		assert_eq!(Providers::on_chain_storage_version(), 1);
		assert_eq!(Offers::<Test>::iter().collect::<Vec<_>>(), now);
		System::assert_last_event(Event::OffersMigrated { offers: 2, checked: true }.into());
		// Once only.
		System::reset_events();
		MigrateToV1::<Test>::on_runtime_upgrade();
		assert!(System::events().is_empty());
		assert_eq!(Offers::<Test>::iter().collect::<Vec<_>>(), now);
	});
}
