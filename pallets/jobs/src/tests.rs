//! One test per transition and per error of the jobs pallet, balances checked to the unit;
//! then a property test over random sequences of every call.
use crate::{mock::*, *};
use lilypad_primitives::{
	identity::{CredentialName, Role},
	jobs::{input_digest, ExitStatus, Usage},
	providers::{BondKind, Gpu, ModuleFilter, OfferResources, ProviderLedger},
	registry::{
		Artifact, Delivery, InputParam, ModuleName, ModuleRef, ModuleRegistry, ParamType,
		Resources, SemVer, VerificationPolicy, VersionManifest,
	},
	reputation::Outcome,
};
use polkadot_sdk::{
	frame_support::{
		assert_noop, assert_ok,
		traits::fungible::{Inspect, InspectHold},
	},
	sp_core::{sr25519, Pair},
	sp_runtime::{DispatchError, DispatchResult, Perbill},
};

type Offer = lilypad_primitives::providers::Offer<Balance>;

const MODULE: &str = "echo";
const MAX_PRICE: Balance = 200;
const ASK: Balance = 100;
const BOND: Balance = 1_000;
const STAKE: Balance = 50;
/// The module's artifact digest.
const DIGEST: [u8; 32] = [7; 32];
/// Its timeout: 4 s, two blocks.
const TIMEOUT_SECS: u32 = 4;

fn name(s: &str) -> ModuleName {
	s.as_bytes().to_vec().try_into().unwrap()
}

fn module() -> ModuleRef {
	ModuleRef { name: name(MODULE), version: SemVer::new(1, 0, 0) }
}

fn signed(n: u8) -> RuntimeOrigin {
	RuntimeOrigin::signed(account(n))
}

fn param(n: &str, kind: ParamType, required: bool) -> InputParam {
	InputParam {
		name: n.as_bytes().to_vec().try_into().unwrap(),
		kind,
		default: None,
		required,
		delivery: Delivery::Env,
	}
}

fn manifest(module: &str, royalty: u32, parent: Option<ModuleRef>) -> VersionManifest<Balance> {
	VersionManifest {
		module: name(module),
		version: SemVer::new(1, 0, 0),
		artifact: Artifact::Wasm { digest: DIGEST, size: 1_234 },
		inputs: vec![
			param("Message", ParamType::Text, true),
			param("Count", ParamType::Integer, false),
		]
		.try_into()
		.unwrap(),
		resources: Resources { cpu_millicores: 500, ram_mib: 64, ..Default::default() },
		timeout_secs: TIMEOUT_SECS,
		price_floor: 10,
		royalty: Perbill::from_percent(royalty),
		verification: VerificationPolicy::Sampled { p: Perbill::from_percent(10) },
		parent,
		models: Default::default(),
	}
}

fn publish(owner: u8, m: VersionManifest<Balance>) {
	let _ = Halo::register_role(signed(owner), Role::ModuleProvider);
	assert_ok!(Registry::publish_module(signed(owner), m.module.clone()));
	let sig = key(owner).sign(&Registry::signing_payload(&m));
	assert_ok!(Registry::publish_version(signed(owner), m, key(owner).public(), sig));
}

fn offer(price: Balance, capacity: u32) -> Offer {
	Offer {
		resources: OfferResources {
			cpu_millicores: 4_000,
			ram_mib: 8_192,
			gpus: vec![Gpu { model: b"RTX 4090".to_vec().try_into().unwrap(), vram_mib: 24_576 }]
				.try_into()
				.unwrap(),
			disk_mib: 10_000,
		},
		modules: ModuleFilter::All,
		default_price: price,
		prices: Default::default(),
		capacity,
		credentials: Default::default(),
		endpoint: b"http://provider.example".to_vec().try_into().unwrap(),
		models: Default::default(),
	}
}

fn make_provider(n: u8, price: Balance, bond: Balance) {
	assert_ok!(Halo::register_role(signed(n), Role::ResourceProvider));
	assert_ok!(Providers::register_provider(signed(n), offer(price, 2)));
	if bond > 0 {
		assert_ok!(Providers::bond(signed(n), BondKind::Provider, bond));
	}
}

/// The module (10 % royalty to its owner), a job creator, two providers asking [`ASK`] with
/// [`BOND`] each, and a solver staking [`STAKE`].
fn world() {
	publish(OWNER, manifest(MODULE, 10, None));
	for c in [CREATOR, CREATOR2] {
		assert_ok!(Halo::register_role(signed(c), Role::JobCreator));
	}
	make_provider(PROVIDER, ASK, BOND);
	make_provider(PROVIDER2, ASK, BOND);
	assert_ok!(Halo::register_role(signed(SOLVER), Role::Solver));
	assert_ok!(Providers::bond(signed(SOLVER), BondKind::Solver, STAKE));
}

fn inputs(message: &str) -> JobInputs {
	JobInputs {
		params: vec![(
			b"Message".to_vec().try_into().unwrap(),
			message.as_bytes().to_vec().try_into().unwrap(),
		)]
		.try_into()
		.unwrap(),
		blob: None,
	}
}

fn submit_with(
	creator: u8,
	max_price: Balance,
	options: OptionsOf<Test>,
) -> Result<JobId, DispatchError> {
	let id = NextJobId::<Test>::get();
	let deadline = System::block_number() + 10;
	Ophir::submit_job(signed(creator), module(), inputs("hi"), max_price, deadline, options)?;
	Ok(id)
}

fn submit() -> JobId {
	submit_with(CREATOR, MAX_PRICE, Default::default()).unwrap()
}

fn batch(pairs: &[(JobId, u8)]) -> BatchOf<Test> {
	pairs.iter().map(|(j, p)| (*j, account(*p))).collect::<Vec<_>>().try_into().unwrap()
}

fn propose(pairs: &[(JobId, u8)]) {
	assert_ok!(Ophir::propose_match(signed(SOLVER), batch(pairs)));
}

fn result_for(job: JobId, exit: ExitStatus) -> ResultManifest {
	ResultManifest {
		job,
		module_digest: DIGEST,
		input_digest: input_digest(&Jobs::<Test>::get(job).unwrap().inputs),
		output_digest: [9; 32],
		stdout_digest: [10; 32],
		stderr_digest: [11; 32],
		exit,
		usage: Usage { wall_ms: 1_500, cpu_ms: 1_000, peak_ram_mib: 20, gpu_ms: 0 },
	}
}

/// The digests of the weights of `job`'s models, as a provider that ran them names them.
fn models_of(job: JobId) -> ModelDigests {
	JobModels::<Test>::get(job).unwrap_or_default()
}

fn sign(signer: u8, m: &ResultManifest) -> sr25519::Signature {
	key(signer).sign(&Ophir::result_payload(m, &models_of(m.job)))
}

fn submit_result(provider: u8, m: ResultManifest) -> DispatchResult {
	let sig = sign(provider, &m);
	Ophir::submit_result(
		signed(provider),
		m.job,
		m.clone(),
		models_of(m.job),
		key(provider).public(),
		sig,
	)
}

fn free(n: u8) -> Balance {
	Balances::balance(&account(n))
}

fn on_hold(reason: HoldReason, n: u8) -> Balance {
	Balances::balance_on_hold(&reason.into(), &account(n))
}

fn bond(n: u8, kind: BondKind) -> (Balance, Balance) {
	pallet_providers::Bonds::<Test>::get(account(n), kind)
		.map(|b| (b.bonded, b.in_use))
		.unwrap_or_default()
}

fn stage(job: JobId) -> Stage {
	Jobs::<Test>::get(job).unwrap().stage()
}

fn active_jobs(n: u8) -> u32 {
	pallet_providers::Offers::<Test>::get(account(n)).unwrap().active_jobs
}

/// Runs `f` in a fresh chain with [`world`] set up, then checks the invariants.
fn test(f: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		world();
		f();
		check_invariants();
	});
}

// The charge at MAX_PRICE = 200: 2 % solver fee = 4, 10 % royalty = 20, 4 % protocol fee = 8.
const HELD_AT_MAX: Balance = 200 + 4 + 20 + 8;
// At the provider's ASK = 100: 2 + 10 + 4.
const HELD_AT_ASK: Balance = 100 + 2 + 10 + 4;
const COLLATERAL: Balance = 250;

#[test]
fn submitting_holds_the_charge_at_the_max_price_and_the_deposit() {
	test(|| {
		let before = free(CREATOR);
		let job = submit();
		assert_eq!(on_hold(HoldReason::JobEscrow, CREATOR), HELD_AT_MAX);
		assert_eq!(on_hold(HoldReason::JobDeposit, CREATOR), JOB_DEPOSIT);
		assert_eq!(free(CREATOR), before - HELD_AT_MAX - JOB_DEPOSIT);
		System::assert_last_event(
			Event::JobSubmitted {
				job,
				creator: account(CREATOR),
				module: module(),
				max_price: MAX_PRICE,
				held: HELD_AT_MAX,
			}
			.into(),
		);
		let j = Jobs::<Test>::get(job).unwrap();
		assert_eq!(j.stage(), Stage::Submitted);
		assert_eq!(j.timeout_secs, TIMEOUT_SECS);
		assert_eq!(j.module_digest, DIGEST);
		assert_eq!(j.verification, VerificationPolicy::Sampled { p: Perbill::from_percent(10) });
		assert_eq!(j.due, Some(System::block_number() + 11));
		// The module counts it as running.
		assert_eq!(Registry::version(&module()).unwrap().active_jobs, 1);
	});
}

#[test]
fn bad_submissions_are_refused_by_name_and_hold_nothing() {
	test(|| {
		let now = System::block_number();
		let sub = |who: u8, m: ModuleRef, i: JobInputs, price: Balance, deadline: u64| {
			Ophir::submit_job(signed(who), m, i, price, deadline, Default::default())
		};
		assert_noop!(sub(OWNER, module(), inputs("x"), 200, now + 5), Error::<Test>::NotJobCreator);
		let unknown = ModuleRef { name: name("nope"), version: SemVer::new(1, 0, 0) };
		assert_noop!(
			sub(CREATOR, unknown, inputs("x"), 200, now + 5),
			Error::<Test>::ModuleNotFound
		);
		let mut i = inputs("x");
		i.params
			.try_push((b"Color".to_vec().try_into().unwrap(), b"red".to_vec().try_into().unwrap()))
			.unwrap();
		assert_noop!(sub(CREATOR, module(), i, 200, now + 5), Error::<Test>::UnknownInput);
		let mut i = inputs("x");
		i.params.try_push(i.params[0].clone()).unwrap();
		assert_noop!(sub(CREATOR, module(), i, 200, now + 5), Error::<Test>::DuplicateInput);
		assert_noop!(
			sub(CREATOR, module(), JobInputs::default(), 200, now + 5),
			Error::<Test>::MissingInput
		);
		let mut i = inputs("x");
		i.params
			.try_push((b"Count".to_vec().try_into().unwrap(), b"many".to_vec().try_into().unwrap()))
			.unwrap();
		assert_noop!(sub(CREATOR, module(), i, 200, now + 5), Error::<Test>::InputTypeMismatch);
		assert_noop!(
			sub(CREATOR, module(), inputs(&"x".repeat(65)), 200, now + 5),
			Error::<Test>::InlineInputTooLarge
		);
		assert_noop!(
			sub(CREATOR, module(), inputs("x"), 9, now + 5),
			Error::<Test>::PriceBelowFloor
		);
		assert_noop!(sub(CREATOR, module(), inputs("x"), 200, now), Error::<Test>::DeadlineInPast);
		assert_noop!(
			sub(CREATOR, module(), inputs("x"), 200, now + 51),
			Error::<Test>::DeadlineTooFar
		);
		assert_noop!(
			submit_with(
				CREATOR,
				200,
				JobOptions { verification: Some(VerificationPolicy::None), ..Default::default() }
			),
			Error::<Test>::VerificationTooLoose
		);
		let bad: CredentialName = b"no-namespace".to_vec().try_into().unwrap();
		assert_noop!(
			submit_with(
				CREATOR,
				200,
				JobOptions { credentials: vec![bad].try_into().unwrap(), ..Default::default() }
			),
			Error::<Test>::InvalidCredential
		);
		assert_noop!(
			sub(CREATOR, module(), inputs("x"), ENDOWMENT, now + 5),
			Error::<Test>::InsufficientBalance
		);
		assert_ok!(Registry::deprecate_version(signed(OWNER), name(MODULE), SemVer::new(1, 0, 0)));
		assert_noop!(
			sub(CREATOR, module(), inputs("x"), 200, now + 5),
			Error::<Test>::VersionDeprecated
		);
		assert_eq!(on_hold(HoldReason::JobEscrow, CREATOR), 0);
	});
}

#[test]
fn a_job_may_ask_for_stricter_verification() {
	test(|| {
		let job = submit_with(
			CREATOR,
			200,
			JobOptions {
				verification: Some(VerificationPolicy::Deterministic),
				..Default::default()
			},
		)
		.unwrap();
		assert_eq!(Jobs::<Test>::get(job).unwrap().verification, VerificationPolicy::Deterministic);
	});
}

#[test]
fn cancelling_before_a_match_refunds_in_full() {
	test(|| {
		let before = free(CREATOR);
		let job = submit();
		assert_noop!(Ophir::cancel_job(signed(CREATOR2), job), Error::<Test>::NotCreator);
		assert_ok!(Ophir::cancel_job(signed(CREATOR), job));
		System::assert_last_event(Event::JobCancelled { job, refunded: HELD_AT_MAX }.into());
		assert_eq!(free(CREATOR), before - JOB_DEPOSIT);
		assert_eq!(stage(job), Stage::Cancelled);
		assert_eq!(Registry::version(&module()).unwrap().active_jobs, 0);
		assert_noop!(Ophir::cancel_job(signed(CREATOR), job), Error::<Test>::NotOpen);
		assert_noop!(Ophir::cancel_job(signed(CREATOR), 99), Error::<Test>::JobNotFound);
		// Pruned after the retention period, with the deposit back.
		run_to(System::block_number() + RETENTION);
		assert!(Jobs::<Test>::get(job).is_none());
		assert_eq!(free(CREATOR), before);
		System::assert_last_event(Event::JobPruned { job, deposit: JOB_DEPOSIT }.into());
	});
}

#[test]
fn an_unmatched_job_expires_after_its_deadline_with_a_full_refund() {
	test(|| {
		let before = free(CREATOR);
		let job = submit();
		let deadline = Jobs::<Test>::get(job).unwrap().match_by;
		run_to(deadline);
		assert_eq!(stage(job), Stage::Submitted);
		run_to(deadline + 1);
		assert_eq!(stage(job), Stage::Expired);
		System::assert_has_event(Event::JobExpired { job, refunded: HELD_AT_MAX }.into());
		assert_eq!(free(CREATOR), before - JOB_DEPOSIT);
		// A pair proposed now is stale: no penalty.
		propose(&[(job, PROVIDER)]);
		System::assert_last_event(Event::MatchSkipped { job, provider: account(PROVIDER) }.into());
		assert_eq!(bond(SOLVER, BondKind::Solver), (STAKE, 0));
	});
}

#[test]
fn a_match_prices_the_job_at_the_ask_locks_collateral_and_releases_the_excess() {
	test(|| {
		let before = free(CREATOR);
		let job = submit();
		propose(&[(job, PROVIDER)]);
		System::assert_last_event(
			Event::JobMatched {
				job,
				provider: account(PROVIDER),
				solver: account(SOLVER),
				price: ASK,
				collateral: COLLATERAL,
				released: HELD_AT_MAX - HELD_AT_ASK,
			}
			.into(),
		);
		assert_eq!(free(CREATOR), before - HELD_AT_ASK - JOB_DEPOSIT);
		assert_eq!(on_hold(HoldReason::JobEscrow, CREATOR), HELD_AT_ASK);
		assert_eq!(bond(PROVIDER, BondKind::Provider), (BOND, COLLATERAL));
		assert_eq!(active_jobs(PROVIDER), 1);
		let j = Jobs::<Test>::get(job).unwrap();
		assert_eq!(j.stage(), Stage::Matched);
		let a = j.state.assignment().cloned().unwrap();
		// Two blocks of module timeout plus three of grace.
		assert_eq!(a.execute_by, System::block_number() + 2 + 3);
		// The same pair again is stale.
		propose(&[(job, PROVIDER2)]);
		System::assert_last_event(Event::MatchSkipped { job, provider: account(PROVIDER2) }.into());
		assert_eq!(bond(SOLVER, BondKind::Solver), (STAKE, 0));
	});
}

#[test]
fn only_a_staked_solver_proposes() {
	test(|| {
		let job = submit();
		assert_noop!(
			Ophir::propose_match(signed(CREATOR2), batch(&[(job, PROVIDER)])),
			Error::<Test>::NotSolver
		);
		assert_ok!(Providers::unbond(signed(SOLVER), BondKind::Solver, STAKE - 6));
		assert_noop!(
			Ophir::propose_match(signed(SOLVER), batch(&[(job, PROVIDER)])),
			Error::<Test>::SolverNotStaked
		);
	});
}

/// Proposes `job` with `provider` and checks that it is rejected for `reason` and costs the
/// solver the penalty, paid to the treasury.
fn assert_rejected(job: JobId, provider: u8, reason: MatchError) {
	let (stake, _) = bond(SOLVER, BondKind::Solver);
	let treasury = free(TREASURY);
	propose(&[(job, provider)]);
	System::assert_last_event(
		Event::MatchRejected {
			job,
			provider: account(provider),
			solver: account(SOLVER),
			reason,
			penalty: 7,
		}
		.into(),
	);
	assert_eq!(bond(SOLVER, BondKind::Solver).0, stake - 7);
	assert_eq!(free(TREASURY), treasury + 7);
	assert_eq!(stage(job), Stage::Submitted);
}

#[test]
fn invalid_pairs_cost_the_solver_the_penalty() {
	test(|| {
		let job = submit();
		assert_rejected(job, CREATOR2, MatchError::ProviderNotRegistered);
		// A provider asking above the maximum.
		assert_ok!(Providers::update_offer(signed(PROVIDER2), offer(MAX_PRICE + 1, 2)));
		assert_rejected(job, PROVIDER2, MatchError::PriceAboveMax);
		assert_ok!(Providers::update_offer(signed(PROVIDER2), offer(9, 2)));
		assert_rejected(job, PROVIDER2, MatchError::PriceBelowFloor);
		let mut small = offer(ASK, 2);
		small.resources.ram_mib = 32;
		assert_ok!(Providers::update_offer(signed(PROVIDER2), small));
		assert_rejected(job, PROVIDER2, MatchError::ResourcesNotCovered);
		let mut other = offer(ASK, 2);
		other.modules = ModuleFilter::Only(vec![name("cowsay")].try_into().unwrap());
		assert_ok!(Providers::update_offer(signed(PROVIDER2), other));
		assert_rejected(job, PROVIDER2, MatchError::ModuleNotServed);
		// Away: no heartbeat for a (now shorter) period.
		HeartbeatPeriod::set(2);
		assert_ok!(Providers::heartbeat(signed(PROVIDER)));
		run_to(System::block_number() + 3);
		assert_rejected(job, PROVIDER, MatchError::ProviderAway);
		// Each invalid pair is a failure of the solver.
		let failures = take_notes()
			.into_iter()
			.filter(|n| *n == (BondKind::Solver, account(SOLVER), Some(Outcome::Failure), 0))
			.count();
		assert_eq!(failures, 6);
	});
}

#[test]
fn targets_credentials_and_capacity_are_enforced() {
	test(|| {
		let targeted = submit_with(
			CREATOR,
			MAX_PRICE,
			JobOptions { target: Some(account(PROVIDER2)), ..Default::default() },
		)
		.unwrap();
		assert_rejected(targeted, PROVIDER, MatchError::NotTargetProvider);
		propose(&[(targeted, PROVIDER2)]);
		assert_eq!(stage(targeted), Stage::Matched);

		let credential: CredentialName = b"kyc:basic".to_vec().try_into().unwrap();
		let needs = submit_with(
			CREATOR,
			MAX_PRICE,
			JobOptions {
				credentials: vec![credential.clone()].try_into().unwrap(),
				..Default::default()
			},
		)
		.unwrap();
		assert_rejected(needs, PROVIDER, MatchError::CredentialMissing);
		assert_ok!(Halo::add_issuer(RuntimeOrigin::root(), account(OWNER)));
		assert_ok!(Halo::issue_credential(signed(OWNER), account(PROVIDER), credential, None));
		propose(&[(needs, PROVIDER)]);
		assert_eq!(stage(needs), Stage::Matched);

		// Capacity 2: the provider runs one job; one more fits, a third does not.
		let second = submit();
		let third = submit();
		propose(&[(second, PROVIDER), (third, PROVIDER)]);
		assert_eq!(stage(second), Stage::Matched);
		assert_eq!(stage(third), Stage::Submitted);
	});
}

/// Solvers race: a pair whose provider's slot or collateral was taken by a match that landed
/// first is stale, like a pair whose job was taken, and costs nothing.
#[test]
fn a_provider_full_or_short_of_collateral_makes_a_pair_stale_not_invalid() {
	test(|| {
		let (first, second, third) = (submit(), submit(), submit());
		let (stake, _) = bond(SOLVER, BondKind::Solver);
		// Capacity 2: the third pair finds no slot left.
		propose(&[(first, PROVIDER), (second, PROVIDER), (third, PROVIDER)]);
		System::assert_last_event(
			Event::MatchSkipped { job: third, provider: account(PROVIDER) }.into(),
		);
		// Collateral: 249 free is short of 250.
		assert_ok!(Providers::unbond(signed(PROVIDER2), BondKind::Provider, BOND - 249));
		propose(&[(third, PROVIDER2)]);
		System::assert_last_event(
			Event::MatchSkipped { job: third, provider: account(PROVIDER2) }.into(),
		);
		assert_eq!(stage(third), Stage::Submitted);
		assert_eq!(bond(SOLVER, BondKind::Solver).0, stake);
		assert!(!System::events()
			.iter()
			.any(|r| matches!(r.event, RuntimeEvent::Ophir(Event::MatchRejected { .. }))));
	});
}

#[test]
fn a_result_is_accepted_only_from_the_assigned_provider_correctly_signed() {
	test(|| {
		let job = submit();
		assert_noop!(
			submit_result(PROVIDER, result_for(job, ExitStatus::Success)),
			Error::<Test>::NotAwaitingResult
		);
		propose(&[(job, PROVIDER)]);
		let good = result_for(job, ExitStatus::Success);
		assert_noop!(submit_result(PROVIDER2, good.clone()), Error::<Test>::NotAssignedProvider);
		// Signed by another key.
		let sig = sign(PROVIDER2, &good);
		assert_noop!(
			Ophir::submit_result(
				signed(PROVIDER),
				job,
				good.clone(),
				Default::default(),
				key(PROVIDER2).public(),
				sig
			),
			Error::<Test>::SignerNotAuthorized
		);
		// A signature over something else.
		let mut other = good.clone();
		other.output_digest = [0; 32];
		let sig = sign(PROVIDER, &other);
		assert_noop!(
			Ophir::submit_result(
				signed(PROVIDER),
				job,
				good.clone(),
				Default::default(),
				key(PROVIDER).public(),
				sig
			),
			Error::<Test>::BadSignature
		);
		let mut wrong = good.clone();
		wrong.module_digest = [1; 32];
		assert_noop!(submit_result(PROVIDER, wrong), Error::<Test>::ModuleDigestMismatch);
		let mut wrong = good.clone();
		wrong.input_digest = [1; 32];
		assert_noop!(submit_result(PROVIDER, wrong), Error::<Test>::InputDigestMismatch);
		let other_job = submit();
		let wrong = ResultManifest { job: other_job, ..good.clone() };
		let sig = sign(PROVIDER, &wrong);
		assert_noop!(
			Ophir::submit_result(
				signed(PROVIDER),
				job,
				wrong,
				Default::default(),
				key(PROVIDER).public(),
				sig
			),
			Error::<Test>::WrongJob
		);

		assert_ok!(submit_result(PROVIDER, good));
		let now = System::block_number();
		System::assert_last_event(
			Event::ResultSubmitted {
				job,
				provider: account(PROVIDER),
				exit: ExitStatus::Success,
				challenge_until: now + 5,
			}
			.into(),
		);
		assert_eq!(stage(job), Stage::ResultSubmitted);
		// The provider's slot is free again; its collateral stays locked until completion.
		assert_eq!(active_jobs(PROVIDER), 0);
		assert_eq!(bond(PROVIDER, BondKind::Provider), (BOND, COLLATERAL));
	});
}

#[test]
fn a_delegate_may_submit_and_sign_for_the_provider() {
	test(|| {
		let job = submit();
		propose(&[(job, PROVIDER)]);
		assert_ok!(Halo::delegate(signed(PROVIDER), account(CREATOR2)));
		let m = result_for(job, ExitStatus::Success);
		let sig = sign(CREATOR2, &m);
		let by = key(CREATOR2).public();
		assert_ok!(Ophir::submit_result(signed(CREATOR2), job, m, Default::default(), by, sig));
		assert_eq!(stage(job), Stage::ResultSubmitted);
	});
}

#[test]
fn a_late_result_is_refused() {
	test(|| {
		let job = submit();
		propose(&[(job, PROVIDER)]);
		let execute_by = Jobs::<Test>::get(job).unwrap().state.assignment().unwrap().execute_by;
		System::set_block_number(execute_by + 1);
		assert_noop!(
			submit_result(PROVIDER, result_for(job, ExitStatus::Success)),
			Error::<Test>::ExecutionDeadlinePassed
		);
	});
}

/// Balances of everyone a completion pays.
fn ledger() -> [Balance; 6] {
	[free(CREATOR), free(PROVIDER), free(SOLVER), free(OWNER), free(REWARDS), free(TREASURY)]
}

#[test]
fn after_the_challenge_window_a_job_completes_and_everyone_is_paid_to_the_unit() {
	test(|| {
		let start = ledger();
		let job = submit();
		propose(&[(job, PROVIDER)]);
		assert_ok!(submit_result(PROVIDER, result_for(job, ExitStatus::Success)));
		let due = Jobs::<Test>::get(job).unwrap().due.unwrap();
		run_to(due - 1);
		assert_eq!(stage(job), Stage::ResultSubmitted);
		run_to(due);
		assert_eq!(stage(job), Stage::Completed);
		System::assert_has_event(
			Event::JobCompleted {
				job,
				provider: account(PROVIDER),
				price: ASK,
				solver_fee: 2,
				royalties: 10,
				protocol_fee: 4,
			}
			.into(),
		);
		let end = ledger();
		assert_eq!(end[0], start[0] - HELD_AT_ASK - JOB_DEPOSIT, "creator");
		assert_eq!(end[1], start[1] + ASK, "provider");
		assert_eq!(end[2], start[2] + 2, "solver");
		assert_eq!(end[3], start[3] + 10, "module owner");
		assert_eq!(end[4], start[4] + 2, "rewards pool");
		assert_eq!(end[5], start[5] + 2, "treasury");
		assert_eq!(bond(PROVIDER, BondKind::Provider), (BOND, 0));
		assert_eq!(on_hold(HoldReason::JobEscrow, CREATOR), 0);
		assert_eq!(Registry::version(&module()).unwrap().active_jobs, 0);
		// Reputation and rewards hear of both successes and what each earned.
		let notes = take_notes();
		assert!(notes.contains(&(
			BondKind::Provider,
			account(PROVIDER),
			Some(Outcome::Success),
			ASK
		)));
		assert!(notes.contains(&(BondKind::Solver, account(SOLVER), Some(Outcome::Success), 2)));
		// Pruned after retention: the deposit comes back.
		run_to(due + RETENTION);
		assert!(Jobs::<Test>::get(job).is_none());
		assert_eq!(free(CREATOR), start[0] - HELD_AT_ASK);
	});
}

#[test]
fn a_module_that_fails_on_its_own_still_pays_the_provider() {
	for exit in [ExitStatus::Failed { code: 3 }, ExitStatus::TimedOut, ExitStatus::OutOfMemory] {
		test(|| {
			let provider = free(PROVIDER);
			let job = submit();
			propose(&[(job, PROVIDER)]);
			assert_ok!(submit_result(PROVIDER, result_for(job, exit)));
			run_to(System::block_number() + 6);
			assert_eq!(stage(job), Stage::Completed);
			assert_eq!(free(PROVIDER), provider + ASK);
		});
	}
}

#[test]
fn royalties_go_up_the_lineage() {
	test(|| {
		// "echo-fork" (5 %) forks "echo" (10 %), owned by CREATOR2.
		let parent = module();
		publish(CREATOR2, manifest("echo-fork", 5, Some(parent)));
		let fork = ModuleRef { name: name("echo-fork"), version: SemVer::new(1, 0, 0) };
		let now = System::block_number();
		assert_ok!(Ophir::submit_job(
			signed(CREATOR),
			fork,
			inputs("hi"),
			ASK,
			now + 5,
			Default::default()
		));
		let job = NextJobId::<Test>::get() - 1;
		assert_eq!(Jobs::<Test>::get(job).unwrap().charge.royalties, 15);
		let (owner, forker) = (free(OWNER), free(CREATOR2));
		propose(&[(job, PROVIDER)]);
		assert_ok!(submit_result(PROVIDER, result_for(job, ExitStatus::Success)));
		run_to(System::block_number() + 6);
		assert_eq!(free(CREATOR2), forker + 5);
		assert_eq!(free(OWNER), owner + 10);
	});
}

/// Publishes `model@1.0.0` from `owner` with `royalty` percent, deriving from `parent`.
fn publish_model(owner: u8, model: &str, royalty: u32, parent: Option<ModuleRef>) -> [u8; 32] {
	use lilypad_primitives::models::{ModelManifest, Weights, WeightsFormat, WeightsLayout};
	let _ = Halo::register_role(signed(owner), Role::ModuleProvider);
	let digest = [model.len() as u8 + 100; 32];
	let m = ModelManifest {
		model: name(model),
		version: SemVer::new(1, 0, 0),
		weights: Weights {
			digest,
			size: 1_000,
			layout: WeightsLayout::File,
			format: WeightsFormat::Gguf,
		},
		licence: b"Apache-2.0".to_vec().try_into().unwrap(),
		royalty: Perbill::from_percent(royalty),
		parent,
	};
	let sig = key(owner).sign(&Registry::model_signing_payload(&m));
	assert_ok!(Registry::publish_model(signed(owner), m, key(owner).public(), sig));
	digest
}

/// `chat` (5 %, owned by OWNER) needing `tune` (3 %, PROVIDER2's), derived from `base` (4 %,
/// CREATOR2's); returns a job on it and the weights' digest of `tune`.
fn job_on_a_module_with_models() -> (JobId, [u8; 32]) {
	publish_model(CREATOR2, "base", 4, None);
	let base = ModuleRef { name: name("base"), version: SemVer::new(1, 0, 0) };
	let digest = publish_model(PROVIDER2, "tune", 3, Some(base));
	let mut chat = manifest("chat", 5, None);
	chat.models =
		vec![ModuleRef { name: name("tune"), version: SemVer::new(1, 0, 0) }].try_into().unwrap();
	publish(OWNER, chat);
	let module = ModuleRef { name: name("chat"), version: SemVer::new(1, 0, 0) };
	let now = System::block_number();
	assert_ok!(Ophir::submit_job(
		signed(CREATOR),
		module,
		inputs("hi"),
		ASK,
		now + 5,
		Default::default()
	));
	(NextJobId::<Test>::get() - 1, digest)
}

#[test]
fn model_owners_up_each_lineage_are_paid_as_fixed_at_submission() {
	test(|| {
		let (job, digest) = job_on_a_module_with_models();
		let p = Perbill::from_percent;
		assert_eq!(
			Payees::<Test>::get(job).unwrap().into_inner(),
			vec![(account(OWNER), p(5)), (account(PROVIDER2), p(3)), (account(CREATOR2), p(4))]
		);
		assert_eq!(models_of(job).into_inner(), vec![digest]);
		assert_eq!(Jobs::<Test>::get(job).unwrap().charge.royalties, 12);
		// The governed cap falls after submission: the job pays what it was submitted with.
		RoyaltyCap::set(p(6));
		let before = [free(OWNER), free(PROVIDER2), free(CREATOR2), free(CREATOR)];
		propose(&[(job, PROVIDER)]);
		assert_ok!(submit_result(PROVIDER, result_for(job, ExitStatus::Success)));
		run_to(System::block_number() + 6);
		assert_eq!(stage(job), Stage::Completed);
		System::assert_has_event(
			Event::JobCompleted {
				job,
				provider: account(PROVIDER),
				price: ASK,
				solver_fee: 2,
				royalties: 12,
				protocol_fee: 4,
			}
			.into(),
		);
		assert_eq!(free(OWNER), before[0] + 5, "module owner");
		assert_eq!(free(PROVIDER2), before[1] + 3, "model owner");
		assert_eq!(free(CREATOR2), before[2] + 4, "the model's parent's owner");
		assert_eq!(on_hold(HoldReason::JobEscrow, CREATOR), 0);
		// Settled: nothing is kept for it, and its models take no job.
		assert!(Payees::<Test>::get(job).is_none() && JobModels::<Test>::get(job).is_none());
		let tune = pallet_registry::ModelVersions::<Test>::get(name("tune"), SemVer::new(1, 0, 0));
		assert_eq!(tune.unwrap().active_jobs, 0);
		RoyaltyCap::set(p(20));
	});
}

#[test]
fn a_result_must_name_the_jobs_model_digests() {
	test(|| {
		let (job, digest) = job_on_a_module_with_models();
		propose(&[(job, PROVIDER)]);
		let m = result_for(job, ExitStatus::Success);
		let by = key(PROVIDER).public();
		for wrong in [vec![], vec![[0; 32]], vec![digest, digest]] {
			let wrong: ModelDigests = wrong.try_into().unwrap();
			let sig = key(PROVIDER).sign(&Ophir::result_payload(&m, &wrong));
			assert_noop!(
				Ophir::submit_result(signed(PROVIDER), job, m.clone(), wrong, by, sig),
				Error::<Test>::ModelDigestMismatch
			);
		}
		// The right digests, but signed without them.
		let unsigned = key(PROVIDER).sign(&Ophir::result_payload(&m, &[]));
		assert_noop!(
			Ophir::submit_result(signed(PROVIDER), job, m.clone(), models_of(job), by, unsigned),
			Error::<Test>::BadSignature
		);
		assert_ok!(submit_result(PROVIDER, m));
	});
}

#[test]
fn the_v3_migration_fixes_the_payees_of_live_jobs_only() {
	use polkadot_sdk::frame_support::traits::{
		GetStorageVersion, OnRuntimeUpgrade, StorageVersion,
	};
	test(|| {
		let (live, digest) = job_on_a_module_with_models();
		let done = submit();
		assert_ok!(Ophir::cancel_job(signed(CREATOR), done));
		let fixed = Payees::<Test>::get(live).unwrap();
		// A chain from before version 3: nothing fixed.
		Payees::<Test>::remove(live);
		JobModels::<Test>::remove(live);
		StorageVersion::new(2).put::<Ophir>();
		System::reset_events();

		crate::migrations::v3::MigrateToV3::<Test>::on_runtime_upgrade();

		assert_eq!(Ophir::on_chain_storage_version(), 3);
		assert_eq!(Payees::<Test>::get(live), Some(fixed));
		assert_eq!(models_of(live).into_inner(), vec![digest]);
		assert!(Payees::<Test>::get(done).is_none());
		System::assert_last_event(Event::PayeesFixed { live: 1, checked: true }.into());
		// Once only.
		System::reset_events();
		crate::migrations::v3::MigrateToV3::<Test>::on_runtime_upgrade();
		assert!(System::events().is_empty());
	});
}

#[test]
fn no_result_in_time_refunds_the_creator_and_slashes_after_the_appeal_window() {
	test(|| {
		let creator = free(CREATOR);
		let treasury = free(TREASURY);
		let job = submit();
		propose(&[(job, PROVIDER)]);
		let execute_by = Jobs::<Test>::get(job).unwrap().state.assignment().unwrap().execute_by;
		run_to(execute_by + 1);
		assert_eq!(stage(job), Stage::SlashPending);
		let applies_at = execute_by + 1 + 10;
		System::assert_has_event(
			Event::ExecutionTimedOut {
				job,
				provider: account(PROVIDER),
				refunded: HELD_AT_ASK,
				applies_at,
			}
			.into(),
		);
		// Refunded at once; the collateral stays held and locked meanwhile.
		assert_eq!(free(CREATOR), creator - JOB_DEPOSIT);
		assert_eq!(bond(PROVIDER, BondKind::Provider), (BOND, COLLATERAL));
		assert_eq!(active_jobs(PROVIDER), 0);
		assert_noop!(
			Providers::unbond(signed(PROVIDER), BondKind::Provider, BOND),
			pallet_providers::Error::<Test>::BondInUse
		);
		run_to(applies_at);
		assert_eq!(stage(job), Stage::Slashed);
		System::assert_has_event(
			Event::SlashApplied {
				job,
				provider: account(PROVIDER),
				to_creator: ASK,
				to_mediator: 0,
				to_treasury: COLLATERAL - ASK,
			}
			.into(),
		);
		assert_eq!(free(CREATOR), creator - JOB_DEPOSIT + ASK);
		assert_eq!(free(TREASURY), treasury + COLLATERAL - ASK);
		// The slash counts against the provider's reputation once it applies.
		let slashes: Vec<_> =
			take_notes().into_iter().filter(|n| n.2 == Some(Outcome::Slash)).collect();
		assert_eq!(slashes, vec![(BondKind::Provider, account(PROVIDER), Some(Outcome::Slash), 0)]);
		assert_eq!(bond(PROVIDER, BondKind::Provider), (BOND - COLLATERAL, 0));
		assert_eq!(
			Balances::balance_on_hold(
				&pallet_providers::HoldReason::ProviderCollateral.into(),
				&account(PROVIDER)
			),
			BOND - COLLATERAL
		);
	});
}

#[test]
fn root_may_cancel_a_pending_slash() {
	test(|| {
		let job = submit();
		propose(&[(job, PROVIDER)]);
		assert_noop!(
			Ophir::cancel_slash(RuntimeOrigin::root(), job),
			Error::<Test>::NoPendingSlash
		);
		run_to(System::block_number() + 6);
		assert_eq!(stage(job), Stage::SlashPending);
		assert_noop!(Ophir::cancel_slash(signed(CREATOR), job), DispatchError::BadOrigin);
		assert_ok!(Ophir::cancel_slash(RuntimeOrigin::root(), job));
		System::assert_last_event(
			Event::SlashCancelled { job, provider: account(PROVIDER) }.into(),
		);
		assert_eq!(stage(job), Stage::SlashCancelled);
		assert_eq!(bond(PROVIDER, BondKind::Provider), (BOND, 0));
		run_to(System::block_number() + 15);
		assert_eq!(bond(PROVIDER, BondKind::Provider), (BOND, 0));
	});
}

fn challenged() -> JobId {
	let job = submit();
	propose(&[(job, PROVIDER)]);
	assert_ok!(submit_result(PROVIDER, result_for(job, ExitStatus::Success)));
	assert_noop!(Ophir::challenge(signed(CREATOR2), job), Error::<Test>::NotCreator);
	assert_ok!(Ophir::challenge(signed(CREATOR), job));
	System::assert_last_event(Event::JobChallenged { job, fee: 11 }.into());
	assert_eq!(on_hold(HoldReason::ChallengeFee, CREATOR), 11);
	assert_eq!(stage(job), Stage::InMediation);
	job
}

#[test]
fn a_challenge_must_come_inside_the_window() {
	test(|| {
		let job = submit();
		assert_noop!(Ophir::challenge(signed(CREATOR), job), Error::<Test>::NotChallengeable);
		propose(&[(job, PROVIDER)]);
		assert_ok!(submit_result(PROVIDER, result_for(job, ExitStatus::Success)));
		run_to(System::block_number() + 6);
		assert_noop!(Ophir::challenge(signed(CREATOR), job), Error::<Test>::NotChallengeable);
	});
}

#[test]
fn root_may_uphold_a_challenged_result_and_the_fee_goes_to_the_treasury() {
	test(|| {
		let (creator, treasury, provider) = (free(CREATOR), free(TREASURY), free(PROVIDER));
		let job = challenged();
		assert_noop!(
			Ophir::resolve_mediation(signed(CREATOR), job, Verdict::ResultUpheld),
			DispatchError::BadOrigin
		);
		assert_ok!(Ophir::resolve_mediation(RuntimeOrigin::root(), job, Verdict::ResultUpheld));
		assert_eq!(stage(job), Stage::Completed);
		assert_eq!(free(CREATOR), creator - HELD_AT_ASK - JOB_DEPOSIT - 11);
		assert_eq!(free(TREASURY), treasury + 2 + 11);
		assert_eq!(free(PROVIDER), provider + ASK);
		assert_noop!(
			Ophir::resolve_mediation(RuntimeOrigin::root(), job, Verdict::ResultUpheld),
			Error::<Test>::NotInMediation
		);
	});
}

#[test]
fn root_may_find_a_result_wrong_refunding_the_creator_and_slashing_the_provider() {
	test(|| {
		let (creator, treasury) = (free(CREATOR), free(TREASURY));
		let job = challenged();
		assert_ok!(Ophir::resolve_mediation(RuntimeOrigin::root(), job, Verdict::ResultWrong));
		assert_eq!(stage(job), Stage::SlashPending);
		assert_eq!(free(CREATOR), creator - JOB_DEPOSIT);
		run_to(System::block_number() + 10);
		assert_eq!(stage(job), Stage::Slashed);
		assert_eq!(free(CREATOR), creator - JOB_DEPOSIT + ASK);
		assert_eq!(free(TREASURY), treasury + COLLATERAL - ASK);
		assert_eq!(
			Jobs::<Test>::get(job).unwrap().state.slash().unwrap().cause,
			SlashCause::BadResult
		);
	});
}

#[test]
fn with_no_mediator_to_draw_a_challenged_result_stands_and_the_fee_goes_back() {
	test(|| {
		let (creator, provider) = (free(CREATOR), free(PROVIDER));
		let job = challenged();
		// Challenged in the result's block: the draw waits for randomness from after it.
		run_to(System::block_number() + 2);
		assert_eq!(stage(job), Stage::Completed);
		System::assert_has_event(Event::NoMediatorAvailable { job }.into());
		assert_eq!(free(CREATOR), creator - HELD_AT_ASK - JOB_DEPOSIT);
		assert_eq!(free(PROVIDER), provider + ASK);
	});
}

#[test]
fn a_full_block_of_due_jobs_spills_into_the_next_and_calls_refuse_beyond() {
	test(|| {
		let deadline = System::block_number() + 10;
		let sub = || {
			Ophir::submit_job(
				signed(CREATOR),
				module(),
				inputs("x"),
				20,
				deadline,
				Default::default(),
			)
		};
		for _ in 0..MAX_DUE * MAX_DUE_SPILL {
			assert_ok!(sub());
		}
		assert_noop!(sub(), Error::<Test>::QueueFull);
		// Every one of them still expires, a block's worth at a time.
		run_to(deadline + MAX_DUE_SPILL as u64 + 1);
		for id in 0..(MAX_DUE * MAX_DUE_SPILL) as u64 {
			assert_eq!(stage(id), Stage::Expired);
		}
		assert_eq!(on_hold(HoldReason::JobEscrow, CREATOR), 0);
	});
}

#[test]
fn the_runtime_api_lists_jobs_and_estimates_prices() {
	test(|| {
		let a = submit();
		let b = submit();
		let _c = submit_with(CREATOR2, MAX_PRICE, Default::default()).unwrap();
		propose(&[(b, PROVIDER)]);
		let mine: Vec<_> = Ophir::jobs_of(account(CREATOR), false, None, 10)
			.into_iter()
			.map(|(id, _)| id)
			.collect();
		assert_eq!(mine, vec![a, b]);
		let after: Vec<_> = Ophir::jobs_of(account(CREATOR), false, Some(a), 10)
			.into_iter()
			.map(|(id, _)| id)
			.collect();
		assert_eq!(after, vec![b]);
		let runs: Vec<_> = Ophir::jobs_of(account(PROVIDER), true, None, 10)
			.into_iter()
			.map(|(id, _)| id)
			.collect();
		assert_eq!(runs, vec![b]);
		assert_ok!(Providers::update_offer(signed(PROVIDER2), offer(60, 2)));
		let estimate = Ophir::estimate(module()).unwrap();
		assert_eq!(estimate.cheapest, Some((account(PROVIDER2), 60)));
		assert_eq!(estimate.offers, 2);
		assert_eq!(estimate.floor, 10);
		assert_eq!(estimate.charge.total(), 60 + 1 + 6 + 2);
		assert!(Ophir::estimate(ModuleRef { name: name("nope"), version: SemVer::new(1, 0, 0) })
			.is_none());
	});
}

#[test]
fn try_state_catches_holds_and_locks_no_job_accounts_for() {
	use polkadot_sdk::frame_support::traits::{fungible::MutateHold, tokens::Precision};
	new_test_ext().execute_with(|| {
		world();
		let job = submit();
		propose(&[(job, PROVIDER)]);
		assert_ok!(Ophir::do_try_state());
		// Escrow held from an account without a job.
		let stray = HoldReason::JobEscrow.into();
		assert_ok!(Balances::hold(&stray, &account(CREATOR2), 1));
		assert!(Ophir::do_try_state().is_err());
		assert_ok!(Balances::release(&stray, &account(CREATOR2), 1, Precision::Exact));
		assert_ok!(Ophir::do_try_state());
		// Collateral unlocked behind the job's back.
		<Providers as ProviderLedger<_, _>>::unlock_bond(&account(PROVIDER), BondKind::Provider, 1);
		assert!(Ophir::do_try_state().is_err());
	});
}

/// Random sequences of every call and of block advances, from several accounts: after each
/// step no LILY is created or lost and every invariant holds.
/// Sampled re-checks and mediators: when a result is sampled, who re-runs it, and what each
/// verdict moves.
mod mediation {
	use super::*;
	use codec::Encode;
	use lilypad_primitives::mediation::{is_sampled, SAMPLE_DOMAIN};
	use polkadot_sdk::frame_support::traits::Randomness;

	const PENALTY: Balance = 13;
	const FEE: Balance = 11;
	/// The protocol fee at [`ASK`]: 4 %.
	const PROTOCOL_FEE: Balance = 4;

	fn mediator(n: u8, stake: Balance) {
		let _ = Halo::register_role(signed(n), Role::Mediator);
		assert_ok!(Providers::bond(signed(n), BondKind::Mediator, stake));
	}

	fn mediation_of(job: JobId) -> Mediation<AccountId, Balance, u64> {
		Jobs::<Test>::get(job).unwrap().state.mediation().cloned().unwrap()
	}

	fn drawn(job: JobId) -> u8 {
		let m = mediation_of(job).mediator.expect("a mediator is drawn");
		endowed().into_iter().find(|n| account(*n) == m).unwrap()
	}

	fn sign_rerun(signer: u8, m: &ResultManifest) -> sr25519::Signature {
		key(signer).sign(&Ophir::mediation_payload(m))
	}

	fn answer(mediator: u8, rerun: ResultManifest) -> DispatchResult {
		let sig = sign_rerun(mediator, &rerun);
		Ophir::submit_mediation(signed(mediator), rerun.job, rerun, key(mediator).public(), sig)
	}

	/// A job whose result (output `output`) is in, every result sampled.
	fn with_result(output: u8) -> JobId {
		DeterministicSamplingRate::set(Perbill::one());
		let job = submit_with(
			CREATOR,
			MAX_PRICE,
			JobOptions {
				verification: Some(VerificationPolicy::Deterministic),
				..Default::default()
			},
		)
		.unwrap();
		propose(&[(job, PROVIDER)]);
		let mut m = result_for(job, ExitStatus::Success);
		m.output_digest = [output; 32];
		assert_ok!(submit_result(PROVIDER, m));
		job
	}

	/// [`with_result`], run to the end of its window: sampled, a mediator drawn.
	fn sampled(output: u8) -> JobId {
		let job = with_result(output);
		let due = Jobs::<Test>::get(job).unwrap().due.unwrap();
		run_to(due);
		assert_eq!(stage(job), Stage::InMediation);
		job
	}

	#[test]
	fn a_result_is_sampled_only_with_randomness_known_after_it() {
		test(|| {
			mediator(MEDIATOR, 100);
			ChallengeWindow::set(0);
			let job = with_result(9);
			let at = System::block_number();
			// The next block's randomness is known since the result's own block: too early.
			run_to(at + 1);
			assert_eq!(stage(job), Stage::ResultSubmitted);
			assert_eq!(Jobs::<Test>::get(job).unwrap().due, Some(at + 2));
			run_to(at + 2);
			System::assert_has_event(Event::ResultSampled { job }.into());
			let m = mediation_of(job);
			assert_eq!(m.cause, MediationCause::Sampled);
			assert_eq!(m.mediator, Some(account(MEDIATOR)));
			// The job's two blocks, the execution grace of 3, the mediation timeout.
			let answer_by = at + 2 + 2 + 3 + MEDIATION_TIMEOUT;
			assert_eq!(m.answer_by, answer_by);
			System::assert_has_event(
				Event::MediatorAssigned { job, mediator: account(MEDIATOR), answer_by }.into(),
			);
			assert_eq!(bond(MEDIATOR, BondKind::Mediator), (100, PENALTY), "its penalty locked");
		});
	}

	#[test]
	fn the_decision_is_the_policy_rate_applied_to_the_randomness() {
		// The module samples 10 %; over many seeds the chain's decision is exactly
		// `is_sampled` on the randomness of the deciding block, and both outcomes occur.
		let mut outcomes = [0u32; 2];
		for seed in 0..60 {
			new_test_ext().execute_with(|| {
				world();
				mediator(MEDIATOR, 100);
				RandomSeed::set(seed);
				let job = submit();
				propose(&[(job, PROVIDER)]);
				assert_ok!(submit_result(PROVIDER, result_for(job, ExitStatus::Success)));
				let due = Jobs::<Test>::get(job).unwrap().due.unwrap();
				run_to(due);
				let (random, _) = TestRandomness::random(&(SAMPLE_DOMAIN, job, 0u32).encode());
				let seed = random.unwrap().using_encoded(polkadot_sdk::sp_io::hashing::blake2_256);
				let expected = is_sampled(Perbill::from_percent(10), &seed);
				assert_eq!(stage(job) == Stage::InMediation, expected);
				outcomes[expected as usize] += 1;
				check_invariants();
			});
		}
		assert!(outcomes[0] > 0 && outcomes[1] > 0, "{outcomes:?}");
	}

	#[test]
	fn none_and_a_zero_rate_are_never_sampled_nor_is_anything_without_randomness() {
		test(|| {
			mediator(MEDIATOR, 100);
			DeterministicSamplingRate::set(Perbill::zero());
			let options = |v| JobOptions { verification: Some(v), ..Default::default() };
			let job = submit_with(CREATOR, MAX_PRICE, options(VerificationPolicy::Deterministic))
				.unwrap();
			propose(&[(job, PROVIDER)]);
			assert_ok!(submit_result(PROVIDER, result_for(job, ExitStatus::Success)));
			run_to(System::block_number() + 6);
			assert_eq!(stage(job), Stage::Completed);

			DeterministicSamplingRate::set(Perbill::one());
			HasRandomness::set(false);
			let job = submit_with(CREATOR, MAX_PRICE, options(VerificationPolicy::Deterministic))
				.unwrap();
			propose(&[(job, PROVIDER)]);
			assert_ok!(submit_result(PROVIDER, result_for(job, ExitStatus::Success)));
			run_to(System::block_number() + 6);
			assert_eq!(stage(job), Stage::Completed);
			assert!(Jobs::<Test>::get(job).unwrap().state.mediation().is_none());
		});
		// A module whose policy is `None` cannot be sampled, whatever the rates.
		assert_eq!(
			lilypad_primitives::mediation::sampling_rate(VerificationPolicy::None, Perbill::one()),
			Perbill::zero()
		);
	}

	#[test]
	fn mediators_are_drawn_by_stake_and_never_the_provider_or_the_creator() {
		test(|| {
			mediator(MEDIATOR, 100);
			mediator(MEDIATOR2, 300);
			// Below the penalty: never drawn.
			mediator(MEDIATOR3, PENALTY - 1);
			// The provider and the creator stake the most, and are never drawn for this job.
			mediator(PROVIDER, 5_000);
			mediator(CREATOR, 5_000);
			let job = sampled(9);
			const N: u64 = 2_000;
			let mut counts = std::collections::BTreeMap::<u8, u64>::new();
			for i in 0..N {
				// Undo the last draw, then draw again with other randomness.
				let m = mediation_of(job);
				let last = m.mediator.unwrap();
				Providers::unlock_bond(&last, BondKind::Mediator, m.stake_locked);
				Jobs::<Test>::mutate(job, |j| {
					let Some(JobState::InMediation { mediation: m, .. }) =
						j.as_mut().map(|j| &mut j.state)
					else {
						panic!("in mediation")
					};
					m.mediator = None;
					m.stake_locked = 0;
				});
				RandomSeed::set(i + 1);
				let mut record = Jobs::<Test>::get(job).unwrap();
				let mut weight = Default::default();
				let now = System::block_number();
				// As the block's hook draws.
				assert_ok!(Ophir::as_hook(|| Ophir::draw_mediator(
					job,
					&mut record,
					now,
					&mut weight
				)));
				Jobs::<Test>::insert(job, record);
				*counts.entry(drawn(job)).or_default() += 1;
			}
			assert_eq!(counts.keys().copied().collect::<Vec<_>>(), vec![MEDIATOR, MEDIATOR2]);
			// MEDIATOR holds a quarter of the eligible stake: within 4 sigma of N / 4.
			let (mean, sigma) = (N as f64 * 0.25, (N as f64 * 0.25 * 0.75).sqrt());
			let got = counts[&MEDIATOR] as f64;
			assert!((got - mean).abs() <= 4.0 * sigma, "{counts:?}");
		});
	}

	#[test]
	fn a_mediator_that_agrees_upholds_the_result_and_is_paid_out_of_the_protocol_fee() {
		test(|| {
			mediator(MEDIATOR, 100);
			let start = ledger();
			let paid = free(MEDIATOR);
			let job = sampled(9);
			let mut rerun = result_for(job, ExitStatus::Success);
			rerun.stdout_digest = [42; 32]; // Logs may differ.
			assert_ok!(answer(MEDIATOR, rerun));
			System::assert_has_event(
				Event::MediatorAnswered {
					job,
					mediator: account(MEDIATOR),
					output_digest: [9; 32],
				}
				.into(),
			);
			System::assert_has_event(
				Event::MediationResolved { job, verdict: Verdict::ResultUpheld }.into(),
			);
			System::assert_has_event(
				Event::MediatorPaid { job, mediator: account(MEDIATOR), amount: PROTOCOL_FEE }
					.into(),
			);
			System::assert_has_event(
				Event::JobCompleted {
					job,
					provider: account(PROVIDER),
					price: ASK,
					solver_fee: 2,
					royalties: 10,
					protocol_fee: 0,
				}
				.into(),
			);
			assert_eq!(stage(job), Stage::Completed);
			let end = ledger();
			assert_eq!(end[0], start[0] - HELD_AT_ASK - JOB_DEPOSIT, "creator");
			assert_eq!(end[1], start[1] + ASK, "provider");
			assert_eq!(end[2], start[2] + 2, "solver");
			assert_eq!(end[3], start[3] + 10, "module owner");
			assert_eq!((end[4], end[5]), (start[4], start[5]), "the protocol paid the mediator");
			assert_eq!(free(MEDIATOR), paid + PROTOCOL_FEE);
			assert_eq!(bond(MEDIATOR, BondKind::Mediator), (100, 0), "its stake unlocked");
		});
	}

	#[test]
	fn a_mediator_that_disagrees_refunds_the_creator_and_is_paid_out_of_the_slash() {
		test(|| {
			mediator(MEDIATOR, 100);
			let (creator, treasury, mediator_free) =
				(free(CREATOR), free(TREASURY), free(MEDIATOR));
			// The provider forged output 6; the re-run gets 9.
			let job = sampled(6);
			assert_ok!(answer(MEDIATOR, result_for(job, ExitStatus::Success)));
			System::assert_has_event(
				Event::MediationResolved { job, verdict: Verdict::ResultWrong }.into(),
			);
			let applies_at = System::block_number() + 10;
			System::assert_has_event(
				Event::SlashPending {
					job,
					provider: account(PROVIDER),
					cause: SlashCause::BadResult,
					to_creator: ASK,
					to_mediator: FEE,
					to_treasury: COLLATERAL - ASK - FEE,
					applies_at,
				}
				.into(),
			);
			// Refunded at once; the collateral waits out the appeal window.
			assert_eq!(free(CREATOR), creator - JOB_DEPOSIT);
			assert_eq!(bond(MEDIATOR, BondKind::Mediator), (100, 0));
			run_to(applies_at);
			assert_eq!(stage(job), Stage::Slashed);
			System::assert_has_event(
				Event::MediatorPaid { job, mediator: account(MEDIATOR), amount: FEE }.into(),
			);
			assert_eq!(free(CREATOR), creator - JOB_DEPOSIT + ASK);
			assert_eq!(free(MEDIATOR), mediator_free + FEE);
			assert_eq!(free(TREASURY), treasury + COLLATERAL - ASK - FEE);
			assert_eq!(bond(PROVIDER, BondKind::Provider), (BOND - COLLATERAL, 0));
		});
	}

	#[test]
	fn a_challenge_draws_a_mediator_next_block_and_its_fee_pays_an_upholding_one() {
		test(|| {
			mediator(MEDIATOR, 100);
			let start = ledger();
			let paid = free(MEDIATOR);
			let job = challenged();
			assert!(mediation_of(job).mediator.is_none(), "drawn with later randomness");
			// Challenged in the result's block, so the next block's randomness (known since
			// that block) is not late enough: the draw waits one more block.
			run_to(System::block_number() + 1);
			assert!(mediation_of(job).mediator.is_none());
			run_to(System::block_number() + 1);
			assert_eq!(drawn(job), MEDIATOR);
			assert_eq!(mediation_of(job).cause, MediationCause::Challenged);
			assert_ok!(answer(MEDIATOR, result_for(job, ExitStatus::Success)));
			assert_eq!(stage(job), Stage::Completed);
			let end = ledger();
			assert_eq!(end[0], start[0] - HELD_AT_ASK - JOB_DEPOSIT - FEE, "creator paid the fee");
			assert_eq!(end[1], start[1] + ASK, "provider");
			assert_eq!((end[4], end[5]), (start[4] + 2, start[5] + 2), "protocol fee untouched");
			assert_eq!(free(MEDIATOR), paid + FEE);
			assert_eq!(on_hold(HoldReason::ChallengeFee, CREATOR), 0);
		});
	}

	#[test]
	fn a_challenge_a_mediator_proves_right_gets_the_fee_and_escrow_back() {
		test(|| {
			mediator(MEDIATOR, 100);
			let creator = free(CREATOR);
			let job = challenged();
			run_to(System::block_number() + 2);
			let mut rerun = result_for(job, ExitStatus::Success);
			rerun.output_digest = [1; 32];
			assert_ok!(answer(MEDIATOR, rerun));
			assert_eq!(stage(job), Stage::SlashPending);
			assert_eq!(free(CREATOR), creator - JOB_DEPOSIT, "escrow and fee back");
			run_to(System::block_number() + 10);
			assert_eq!(free(CREATOR), creator - JOB_DEPOSIT + ASK, "and one price on top");
		});
	}

	#[test]
	fn only_the_drawn_mediator_answers_correctly_signed_in_time() {
		test(|| {
			mediator(MEDIATOR, 100);
			let job = with_result(9);
			let rerun = result_for(job, ExitStatus::Success);
			assert_noop!(answer(MEDIATOR, rerun.clone()), Error::<Test>::NotInMediation);
			run_to(Jobs::<Test>::get(job).unwrap().due.unwrap());
			assert_noop!(answer(MEDIATOR2, rerun.clone()), Error::<Test>::NotAssignedMediator);
			// Sent by the mediator, signed by someone else's key.
			let sig = sign_rerun(MEDIATOR2, &rerun);
			assert_noop!(
				Ophir::submit_mediation(
					signed(MEDIATOR),
					job,
					rerun.clone(),
					key(MEDIATOR2).public(),
					sig
				),
				Error::<Test>::SignerNotAuthorized
			);
			let mut other = rerun.clone();
			other.job = job + 1;
			let sig = sign_rerun(MEDIATOR, &other);
			assert_noop!(
				Ophir::submit_mediation(signed(MEDIATOR), job, other, key(MEDIATOR).public(), sig),
				Error::<Test>::WrongJob
			);
			let mut other = rerun.clone();
			other.module_digest = [0; 32];
			assert_noop!(answer(MEDIATOR, other), Error::<Test>::ModuleDigestMismatch);
			let mut other = rerun.clone();
			other.input_digest = [0; 32];
			assert_noop!(answer(MEDIATOR, other), Error::<Test>::InputDigestMismatch);
			// A provider-style result signature is not a mediator's.
			let sig = sign(MEDIATOR, &rerun);
			assert_noop!(
				Ophir::submit_mediation(
					signed(MEDIATOR),
					job,
					rerun.clone(),
					key(MEDIATOR).public(),
					sig
				),
				Error::<Test>::BadSignature
			);
			let answer_by = mediation_of(job).answer_by;
			System::set_block_number(answer_by + 1);
			assert_noop!(answer(MEDIATOR, rerun), Error::<Test>::MediationDeadlinePassed);
		});
	}

	#[test]
	fn a_silent_mediator_loses_its_penalty_and_another_is_drawn_until_none_are_left() {
		test(|| {
			for m in [MEDIATOR, MEDIATOR2, MEDIATOR3] {
				mediator(m, 100);
			}
			let (treasury, provider) = (free(TREASURY), free(PROVIDER));
			let job = sampled(9);
			let mut silent = vec![];
			for attempt in 1..=3u32 {
				let m = drawn(job);
				assert!(!silent.contains(&m), "a mediator that failed is not drawn again");
				silent.push(m);
				run_to(mediation_of(job).answer_by + 1);
				System::assert_has_event(
					Event::MediatorTimedOut { job, mediator: account(m), slashed: PENALTY }.into(),
				);
				assert_eq!(bond(m, BondKind::Mediator), (100 - PENALTY, 0));
				if attempt < 3 {
					assert_eq!(stage(job), Stage::InMediation);
				}
			}
			System::assert_has_event(Event::MediationTimedOut { job }.into());
			assert_eq!(stage(job), Stage::Completed, "the result stands");
			assert_eq!(mediation_of(job).failed.len(), 3);
			assert_eq!(free(PROVIDER), provider + ASK);
			// The treasury got three penalties and its half of the protocol fee.
			assert_eq!(free(TREASURY), treasury + 3 * PENALTY + 2);
			let notes = take_notes();
			for m in silent {
				let failure = (BondKind::Mediator, account(m), Some(Outcome::Failure), 0);
				assert!(notes.contains(&failure));
			}
		});
	}

	#[test]
	fn root_may_override_a_drawn_mediator_which_is_then_released_unpaid() {
		test(|| {
			mediator(MEDIATOR, 100);
			let paid = free(MEDIATOR);
			let job = sampled(9);
			assert_ok!(Ophir::resolve_mediation(RuntimeOrigin::root(), job, Verdict::ResultWrong));
			assert_eq!(bond(MEDIATOR, BondKind::Mediator), (100, 0));
			run_to(System::block_number() + 10);
			assert_eq!(stage(job), Stage::Slashed);
			assert_eq!(free(MEDIATOR), paid);
			assert_noop!(
				answer(MEDIATOR, result_for(job, ExitStatus::Success)),
				Error::<Test>::NotInMediation
			);
		});
	}

	#[test]
	fn try_state_catches_a_mediator_lock_no_job_accounts_for() {
		test(|| {
			mediator(MEDIATOR, 100);
			assert_ok!(Ophir::do_try_state());
			assert_ok!(Providers::lock_bond(&account(MEDIATOR), BondKind::Mediator, 5));
			assert!(Ophir::do_try_state().is_err());
			Providers::unlock_bond(&account(MEDIATOR), BondKind::Mediator, 5);
		});
	}
}

mod properties {
	use super::*;
	use proptest::prelude::*;

	#[derive(Clone, Debug)]
	enum Op {
		Submit { creator: bool, max_price: Balance, deadline: u64 },
		Cancel { job: u64, creator: bool },
		Propose { pairs: Vec<(u64, u8)> },
		Result { job: u64, exit: u8, tamper: bool },
		Challenge { job: u64 },
		Resolve { job: u64, upheld: bool },
		Answer { job: u64, agree: bool },
		CancelSlash { job: u64 },
		Heartbeat { provider: u8 },
		Unbond { provider: u8, amount: Balance },
		Advance { blocks: u64 },
	}

	fn op() -> impl Strategy<Value = Op> {
		let job = 0u64..60;
		let provider = prop_oneof![Just(PROVIDER), Just(PROVIDER2), Just(CREATOR2)];
		prop_oneof![
			3 => (any::<bool>(), 0u64..400, 0u64..60)
				.prop_map(|(creator, max_price, deadline)| Op::Submit { creator, max_price, deadline }),
			1 => (job.clone(), any::<bool>()).prop_map(|(job, creator)| Op::Cancel { job, creator }),
			3 => prop::collection::vec((job.clone(), provider.clone()), 1..4)
				.prop_map(|pairs| Op::Propose { pairs }),
			4 => (job.clone(), 0u8..4, prop::bool::weighted(0.2))
				.prop_map(|(job, exit, tamper)| Op::Result { job, exit, tamper }),
			3 => job.clone().prop_map(|job| Op::Challenge { job }),
			1 => (job.clone(), any::<bool>()).prop_map(|(job, upheld)| Op::Resolve { job, upheld }),
			3 => (job.clone(), any::<bool>()).prop_map(|(job, agree)| Op::Answer { job, agree }),
			1 => job.clone().prop_map(|job| Op::CancelSlash { job }),
			1 => provider.clone().prop_map(|provider| Op::Heartbeat { provider }),
			1 => (provider, 1u64..400).prop_map(|(provider, amount)| Op::Unbond { provider, amount }),
			3 => (1u64..8).prop_map(|blocks| Op::Advance { blocks }),
		]
	}

	/// A job in `stage`, chosen by `pick`; or `pick` itself now and then, whatever its
	/// stage, so that calls on jobs in the wrong stage are tried too.
	fn job_in(stage: Stage, pick: u64) -> u64 {
		if pick.is_multiple_of(10) {
			return pick / 10;
		}
		let mut ids: Vec<u64> =
			Jobs::<Test>::iter().filter(|(_, j)| j.stage() == stage).map(|(id, _)| id).collect();
		ids.sort();
		if ids.is_empty() {
			pick
		} else {
			ids[(pick as usize) % ids.len()]
		}
	}

	fn apply(op: Op) {
		let now = System::block_number();
		// Each call either succeeds or fails with nothing changed; both are fine here.
		let _ = match op {
			Op::Submit { creator, max_price, deadline } => Ophir::submit_job(
				signed(if creator { CREATOR } else { CREATOR2 }),
				module(),
				inputs("p"),
				max_price,
				now + deadline,
				Default::default(),
			),
			Op::Cancel { job, creator } => Ophir::cancel_job(
				signed(if creator { CREATOR } else { CREATOR2 }),
				job_in(Stage::Submitted, job),
			),
			Op::Propose { pairs } => {
				let pairs: Vec<_> =
					pairs.into_iter().map(|(j, p)| (job_in(Stage::Submitted, j), p)).collect();
				Ophir::propose_match(signed(SOLVER), batch(&pairs))
			}
			Op::Result { job, exit, tamper } => {
				let job = job_in(Stage::Matched, job);
				let Some(j) = Jobs::<Test>::get(job) else { return };
				let Some(a) = j.state.assignment().cloned() else { return };
				let provider = endowed().into_iter().find(|n| account(*n) == a.provider).unwrap();
				let exit = match exit {
					0 => ExitStatus::Success,
					1 => ExitStatus::Failed { code: 1 },
					2 => ExitStatus::TimedOut,
					_ => ExitStatus::OutOfMemory,
				};
				let mut m = result_for(job, exit);
				if tamper {
					m.module_digest = [0; 32];
				}
				submit_result(provider, m)
			}
			Op::Challenge { job } => {
				let job = job_in(Stage::ResultSubmitted, job);
				Ophir::challenge(signed(CREATOR), job)
					.or_else(|_| Ophir::challenge(signed(CREATOR2), job))
			}
			Op::Resolve { job, upheld } => Ophir::resolve_mediation(
				RuntimeOrigin::root(),
				job_in(Stage::InMediation, job),
				if upheld { Verdict::ResultUpheld } else { Verdict::ResultWrong },
			),
			Op::Answer { job, agree } => {
				let job = job_in(Stage::InMediation, job);
				let Some(j) = Jobs::<Test>::get(job) else { return };
				let Some(mediator) = j.state.mediation().and_then(|m| m.mediator.clone()) else {
					return;
				};
				let n = endowed().into_iter().find(|n| account(*n) == mediator).unwrap();
				let mut rerun = result_for(job, ExitStatus::Success);
				if let Some(result) = j.state.result().cloned() {
					rerun.exit = result.exit;
					if !agree {
						rerun.output_digest = [0; 32];
					}
				}
				let sig = key(n).sign(&Ophir::mediation_payload(&rerun));
				Ophir::submit_mediation(signed(n), job, rerun, key(n).public(), sig)
			}
			Op::CancelSlash { job } => {
				Ophir::cancel_slash(RuntimeOrigin::root(), job_in(Stage::SlashPending, job))
			}
			Op::Heartbeat { provider } => Providers::heartbeat(signed(provider)),
			Op::Unbond { provider, amount } => {
				Providers::unbond(signed(provider), BondKind::Provider, amount)
			}
			Op::Advance { blocks } => {
				run_to(now + blocks);
				Ok(())
			}
		};
	}

	/// Each event's name, for counting which transitions the generated sequences reach.
	fn kind(e: &Event<Test>) -> String {
		let debug = format!("{e:?}");
		let name = debug.trim_start_matches("Event::");
		name.split([' ', '{']).next().unwrap_or_default().to_string()
	}

	#[test]
	fn funds_are_conserved_and_invariants_hold() {
		let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
			cases: 128,
			..ProptestConfig::default()
		});
		let seen = std::cell::RefCell::new(std::collections::BTreeSet::new());
		runner
			.run(&prop::collection::vec(op(), 1..60), |ops| {
				new_test_ext().execute_with(|| {
					world();
					HeartbeatPeriod::set(20);
					// Mediators with room for two mediations each: draws also meet
					// mediators that are busy.
					for m in [MEDIATOR, MEDIATOR2, MEDIATOR3] {
						assert_ok!(Halo::register_role(signed(m), Role::Mediator));
						assert_ok!(Providers::bond(signed(m), BondKind::Mediator, 30));
					}
					for op in ops {
						apply(op);
						check_invariants();
					}
					// Left alone long enough, every job settles and is pruned, and nothing
					// stays held.
					run_to(System::block_number() + 200);
					assert_eq!(Jobs::<Test>::iter().count(), 0);
					for n in [CREATOR, CREATOR2] {
						for r in [
							HoldReason::JobEscrow,
							HoldReason::ChallengeFee,
							HoldReason::JobDeposit,
						] {
							assert_eq!(on_hold(r, n), 0);
						}
					}
					for p in [PROVIDER, PROVIDER2] {
						assert_eq!(bond(p, BondKind::Provider).1, 0);
					}
					for m in [MEDIATOR, MEDIATOR2, MEDIATOR3] {
						assert_eq!(bond(m, BondKind::Mediator).1, 0);
					}
					for record in System::events() {
						if let RuntimeEvent::Ophir(e) = record.event {
							seen.borrow_mut().insert(kind(&e));
						}
					}
				});
				Ok(())
			})
			.unwrap();
		// The sequences reach every transition, so the checks above cover them all.
		let seen = seen.into_inner();
		for transition in [
			"JobSubmitted",
			"JobCancelled",
			"JobExpired",
			"JobMatched",
			"MatchSkipped",
			"MatchRejected",
			"ResultSubmitted",
			"JobCompleted",
			"JobChallenged",
			"ResultSampled",
			"MediatorAssigned",
			"MediatorAnswered",
			"MediatorPaid",
			"MediatorTimedOut",
			"MediationResolved",
			"ExecutionTimedOut",
			"SlashPending",
			"SlashApplied",
			"SlashCancelled",
			"JobPruned",
		] {
			assert!(
				seen.contains(transition),
				"no generated sequence reached {transition}: {seen:?}"
			);
		}
	}
}

/// The solver's offchain worker, against a test offchain database, keystore and pool.
mod solver_worker {
	use super::*;
	use crate::solver::{self, Outcome, KEY_TYPE, LOCK_BLOCKS, LOCK_KEY, LOCK_MILLIS};
	use codec::Decode;
	use polkadot_sdk::{
		sp_core::offchain::{
			testing::{PoolState, TestOffchainExt, TestTransactionPoolExt},
			OffchainDbExt, OffchainWorkerExt, TransactionPoolExt,
		},
		sp_runtime::{
			generic::Preamble,
			offchain::{
				storage_lock::{BlockAndTime, StorageLock},
				Duration,
			},
			traits::Dispatchable,
		},
	};
	use std::sync::Arc;

	type Pool = Arc<parking_lot::RwLock<PoolState>>;

	/// A chain with [`world`] and a worker's environment, the keystore holding `n`'s solver
	/// key if given.
	fn worker_test(n: Option<u8>, f: impl FnOnce(Pool)) {
		let mut ext = new_test_ext();
		let (offchain, _) = TestOffchainExt::new();
		let (pool, state) = TestTransactionPoolExt::new();
		ext.register_extension(OffchainDbExt::new(offchain.clone()));
		ext.register_extension(OffchainWorkerExt::new(offchain));
		ext.register_extension(TransactionPoolExt::new(pool));
		ext.execute_with(|| {
			world();
			if let Some(n) = n {
				let seed: String = [n; 32].iter().map(|b| format!("{b:02x}")).collect();
				polkadot_sdk::sp_io::crypto::sr25519_generate(
					KEY_TYPE,
					Some(format!("0x{seed}").into_bytes()),
				);
			}
			f(state);
			check_invariants();
		});
	}

	/// The pool's transactions, taken out: signer, nonce and the batch proposed.
	fn take(pool: &Pool) -> Vec<(AccountId, u32, RuntimeCall)> {
		let txs = std::mem::take(&mut pool.write().transactions);
		txs.into_iter()
			.map(|tx| {
				let xt = Extrinsic::decode(&mut &tx[..]).expect("the worker submits extrinsics");
				let Preamble::Signed(signer, _, nonce) = xt.preamble else {
					panic!("the worker's transactions are signed")
				};
				(signer, nonce.0, xt.function)
			})
			.collect()
	}

	/// Includes a transaction as the chain would: dispatch it and bump the signer's nonce.
	fn land(signer: &AccountId, call: RuntimeCall) {
		assert_ok!(call.dispatch(RuntimeOrigin::signed(signer.clone())));
		System::inc_account_nonce(signer);
	}

	fn pairs(call: &RuntimeCall) -> Vec<(JobId, AccountId)> {
		match call {
			RuntimeCall::Ophir(Call::propose_match { batch }) => batch.to_vec(),
			other => panic!("the worker proposes matches, not {other:?}"),
		}
	}

	#[test]
	fn a_node_without_a_solver_key_does_nothing() {
		worker_test(None, |pool| {
			submit();
			assert_eq!(solver::run::<Test>(System::block_number()), Outcome::NoKey);
			assert!(take(&pool).is_empty());
		});
	}

	#[test]
	fn a_key_whose_account_is_not_a_staked_solver_proposes_nothing() {
		worker_test(Some(CREATOR2), |pool| {
			submit();
			assert_eq!(solver::run::<Test>(System::block_number()), Outcome::NotStaked);
			assert!(take(&pool).is_empty());
		});
	}

	#[test]
	fn open_jobs_are_proposed_signed_by_the_solver_and_match() {
		worker_test(Some(SOLVER), |pool| {
			let jobs = [submit(), submit(), submit()];
			let now = System::block_number();
			assert_eq!(solver::run::<Test>(now), Outcome::Proposed { pairs: 3, batches: 1 });
			let txs = take(&pool);
			assert_eq!(txs.len(), 1);
			let (signer, nonce, call) = txs.into_iter().next().unwrap();
			assert_eq!((signer.clone(), nonce), (account(SOLVER), 0));
			let proposed = pairs(&call);
			assert_eq!(proposed.iter().map(|(j, _)| *j).collect::<Vec<_>>(), jobs.to_vec());
			land(&signer, call);
			for job in jobs {
				assert_eq!(stage(job), Stage::Matched);
			}
			// Two providers with two slots each: no provider got more than it has.
			assert_eq!(active_jobs(PROVIDER) + active_jobs(PROVIDER2), 3);
			assert!(active_jobs(PROVIDER) <= 2 && active_jobs(PROVIDER2) <= 2);
			// Nothing left to propose.
			assert_eq!(solver::run::<Test>(now + 1), Outcome::Proposed { pairs: 0, batches: 0 });
		});
	}

	#[test]
	fn providers_rank_by_the_reputation_the_rewards_pallet_reports() {
		worker_test(Some(SOLVER), |pool| {
			// Same price and stake: neutral scores would tie, and the lower account (PROVIDER)
			// would win. PROVIDER2's better record wins instead.
			set_reputation(PROVIDER, Perbill::from_percent(40));
			set_reputation(PROVIDER2, Perbill::from_percent(80));
			let job = submit();
			assert_eq!(
				solver::run::<Test>(System::block_number()),
				Outcome::Proposed { pairs: 1, batches: 1 }
			);
			let txs = take(&pool);
			assert_eq!(pairs(&txs[0].2), vec![(job, account(PROVIDER2))]);
		});
	}

	#[test]
	fn a_large_round_goes_in_batches_with_consecutive_nonces() {
		worker_test(Some(SOLVER), |pool| {
			for p in [PROVIDER, PROVIDER2] {
				assert_ok!(Providers::update_offer(signed(p), offer(ASK, 8)));
				assert_ok!(Providers::bond(signed(p), BondKind::Provider, 2 * BOND));
			}
			let jobs: Vec<_> = (0..11).map(|_| submit()).collect();
			let now = System::block_number();
			// MaxBatch is 8 in the mock.
			assert_eq!(solver::run::<Test>(now), Outcome::Proposed { pairs: 11, batches: 2 });
			let txs = take(&pool);
			assert_eq!(
				txs.iter().map(|(_, n, c)| (*n, pairs(c).len())).collect::<Vec<_>>(),
				[(0, 8), (1, 3)]
			);
			for (signer, _, call) in txs {
				land(&signer, call);
			}
			assert!(jobs.iter().all(|j| stage(*j) == Stage::Matched));
		});
	}

	#[test]
	fn pending_batches_are_waited_for_then_given_up_on() {
		let patience = solver::PENDING_PATIENCE as u64;
		worker_test(Some(SOLVER), |pool| {
			let now = System::block_number();
			// Jobs open long enough to be proposed again after the patience runs out.
			let submit = || {
				let deadline = now + 3 * patience;
				let (max, options) = (MAX_PRICE, Default::default());
				assert_ok!(Ophir::submit_job(
					signed(CREATOR),
					module(),
					inputs("hi"),
					max,
					deadline,
					options
				));
			};
			submit();
			assert_eq!(solver::run::<Test>(now), Outcome::Proposed { pairs: 1, batches: 1 });
			let first = take(&pool);
			// Not landed yet: the next blocks' runs wait instead of proposing the job again
			// with the same nonce.
			assert_eq!(solver::run::<Test>(now + 1), Outcome::Pending);
			assert_eq!(solver::run::<Test>(now + patience - 1), Outcome::Pending);
			assert!(take(&pool).is_empty());
			// Past its lifetime the batch is taken for dropped and the round made again.
			let later = now + patience;
			assert_eq!(solver::run::<Test>(later), Outcome::Proposed { pairs: 1, batches: 1 });
			let again = take(&pool);
			assert_eq!((again[0].1, pairs(&again[0].2)), (first[0].1, pairs(&first[0].2)));
			// Once it lands the next run goes on from the next nonce.
			let (signer, _, call) = again.into_iter().next().unwrap();
			land(&signer, call);
			submit();
			assert_eq!(solver::run::<Test>(later + 1), Outcome::Proposed { pairs: 1, batches: 1 });
			assert_eq!(take(&pool)[0].1, 1);
		});
	}

	#[test]
	fn a_run_in_progress_keeps_the_next_one_out() {
		worker_test(Some(SOLVER), |pool| {
			submit();
			let mut lock = StorageLock::<BlockAndTime<System>>::with_block_and_time_deadline(
				LOCK_KEY,
				LOCK_BLOCKS,
				Duration::from_millis(LOCK_MILLIS),
			);
			let guard = lock.try_lock().expect("free");
			assert_eq!(solver::run::<Test>(System::block_number()), Outcome::Busy);
			assert!(take(&pool).is_empty());
			drop(guard);
			assert_eq!(
				solver::run::<Test>(System::block_number()),
				Outcome::Proposed { pairs: 1, batches: 1 }
			);
		});
	}

	#[test]
	fn jobs_past_their_deadline_when_the_batch_lands_are_left_alone() {
		worker_test(Some(SOLVER), |pool| {
			let job = submit(); // match_by = now + 10
			run_to(Jobs::<Test>::get(job).unwrap().match_by);
			// A batch lands a block later at the earliest, past the deadline.
			assert_eq!(
				solver::run::<Test>(System::block_number()),
				Outcome::Proposed { pairs: 0, batches: 0 }
			);
			assert!(take(&pool).is_empty());
		});
	}
}

/// Rewrites every job in the layout storage versions 0 and 1 kept.
fn store_as_v1() {
	for (id, job) in Jobs::<Test>::iter().collect::<Vec<_>>() {
		crate::migrations::v1::Jobs::<Test>::insert(
			id,
			lilypad_primitives::jobs::v1::Job::from(job),
		);
	}
}

/// Every job as the version 1 layout holds it.
fn v1_jobs() -> Vec<(JobId, crate::migrations::v1::JobOf<Test>)> {
	crate::migrations::v1::Jobs::<Test>::iter().collect()
}

#[test]
fn the_v1_migration_reprices_deposits_and_keeps_every_job() {
	use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};
	test(|| {
		let waiting = submit();
		let matched = submit_with(CREATOR2, MAX_PRICE, Default::default()).unwrap();
		propose(&[(matched, PROVIDER)]);
		assert_eq!(Ophir::on_chain_storage_version(), 3, "a new chain starts at version 3");
		// A chain from before version 1, whose jobs paid a dearer deposit than the price now.
		store_as_v1();
		StorageVersion::new(0).put::<Ophir>();
		JobStorageDeposit::set(2);
		let before = v1_jobs();
		let escrow: Balance = before.iter().map(|(_, j)| j.escrow).sum();
		let (free1, free2) = (free(CREATOR), free(CREATOR2));
		let issuance = Balances::total_issuance();

		crate::migrations::v1::MigrateToV1::<Test>::on_runtime_upgrade();

		assert_eq!(Ophir::on_chain_storage_version(), 1);
		for ((id, new), (old_id, old)) in v1_jobs().into_iter().zip(&before) {
			assert_eq!(id, *old_id);
			assert_eq!(new.deposit, 2);
			let unchanged = crate::migrations::v1::JobOf::<Test> { deposit: old.deposit, ..new };
			assert_eq!(unchanged, *old, "nothing else changed");
		}
		assert_eq!(free(CREATOR), free1 + JOB_DEPOSIT - 2);
		assert_eq!(free(CREATOR2), free2 + JOB_DEPOSIT - 2);
		assert_eq!(on_hold(HoldReason::JobDeposit, CREATOR), 2);
		let held = before.iter().find(|(id, _)| *id == waiting).unwrap().1.escrow;
		assert_eq!(on_hold(HoldReason::JobEscrow, CREATOR), held, "escrow stays");
		assert_eq!(Balances::total_issuance(), issuance);
		System::assert_last_event(
			Event::DepositsRepriced {
				jobs: 2,
				escrow,
				released: 2 * (JOB_DEPOSIT - 2),
				checked: true,
			}
			.into(),
		);

		// It runs once: at version 1 a second upgrade leaves the jobs alone.
		JobStorageDeposit::set(1);
		crate::migrations::v1::MigrateToV1::<Test>::on_runtime_upgrade();
		assert!(v1_jobs().iter().all(|(_, j)| j.deposit == 2));
		assert_eq!(free(CREATOR), free1 + JOB_DEPOSIT - 2);
		JobStorageDeposit::set(JOB_DEPOSIT);

		// Then to today's layout: the re-priced deposit is what pruning returns, and the holds
		// still match the records (checked after every test).
		crate::migrations::v2::MigrateToV2::<Test>::on_runtime_upgrade();
		assert_eq!(Ophir::on_chain_storage_version(), 2);
		assert!(Jobs::<Test>::iter_values().all(|j| j.deposit == 2));
	});
}

#[test]
fn the_v1_migration_leaves_deposits_at_or_below_the_price() {
	use frame_support::traits::{OnRuntimeUpgrade, StorageVersion};
	test(|| {
		let job = submit();
		store_as_v1();
		StorageVersion::new(0).put::<Ophir>();
		// The price rose: deposits already held are not topped up.
		JobStorageDeposit::set(JOB_DEPOSIT + 3);
		let free0 = free(CREATOR);
		crate::migrations::v1::MigrateToV1::<Test>::on_runtime_upgrade();
		assert_eq!(crate::migrations::v1::Jobs::<Test>::get(job).unwrap().deposit, JOB_DEPOSIT);
		assert_eq!(free(CREATOR), free0);
		System::assert_last_event(
			Event::DepositsRepriced { jobs: 1, escrow: HELD_AT_MAX, released: 0, checked: true }
				.into(),
		);
		JobStorageDeposit::set(JOB_DEPOSIT);
		crate::migrations::v2::MigrateToV2::<Test>::on_runtime_upgrade();
	});
}

/// A market with a job in every live stage and a closed one; returns them.
fn jobs_in_every_live_stage() -> [(Stage, JobId); 6] {
	let pending = submit();
	propose(&[(pending, PROVIDER)]);
	let execute_by = Jobs::<Test>::get(pending).unwrap().state.assignment().unwrap().execute_by;
	run_to(execute_by + 1);
	let waiting = submit();
	let cancelled = submit();
	assert_ok!(Ophir::cancel_job(signed(CREATOR), cancelled));
	let [reported, mediated, matched] = [(); 3].map(|_| submit());
	propose(&[(reported, PROVIDER), (mediated, PROVIDER), (matched, PROVIDER2)]);
	for job in [reported, mediated] {
		assert_ok!(submit_result(PROVIDER, result_for(job, ExitStatus::Success)));
	}
	assert_ok!(Ophir::challenge(signed(CREATOR), mediated));
	let jobs = [
		(Stage::Submitted, waiting),
		(Stage::Matched, matched),
		(Stage::ResultSubmitted, reported),
		(Stage::InMediation, mediated),
		(Stage::SlashPending, pending),
		(Stage::Cancelled, cancelled),
	];
	for (wanted, job) in jobs {
		assert_eq!(stage(job), wanted, "job {job}");
	}
	jobs
}

#[test]
fn the_v2_migration_keeps_every_job_in_its_stage_with_its_funds() {
	use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};
	test(|| {
		let jobs = jobs_in_every_live_stage();
		let before: Vec<_> = Jobs::<Test>::iter().collect();
		let escrow: Balance = before.iter().map(|(_, j)| j.escrow).sum();
		let holds = [CREATOR, CREATOR2].map(|c| {
			[HoldReason::JobEscrow, HoldReason::ChallengeFee, HoldReason::JobDeposit]
				.map(|r| on_hold(r, c))
		});
		let bonds = [bond(PROVIDER, BondKind::Provider), bond(PROVIDER2, BondKind::Provider)];
		let issuance = Balances::total_issuance();
		store_as_v1();
		StorageVersion::new(1).put::<Ophir>();

		crate::migrations::v2::MigrateToV2::<Test>::on_runtime_upgrade();

		assert_eq!(Ophir::on_chain_storage_version(), 2);
		assert_eq!(Jobs::<Test>::iter().collect::<Vec<_>>(), before, "every job as it was");
		System::assert_last_event(
			Event::JobsMigrated { jobs: before.len() as u32, escrow, refused: 0, checked: true }
				.into(),
		);
		let holds_after = [CREATOR, CREATOR2].map(|c| {
			[HoldReason::JobEscrow, HoldReason::ChallengeFee, HoldReason::JobDeposit]
				.map(|r| on_hold(r, c))
		});
		assert_eq!(holds_after, holds, "no fund moved");
		assert_eq!(
			[bond(PROVIDER, BondKind::Provider), bond(PROVIDER2, BondKind::Provider)],
			bonds
		);
		assert_eq!(Balances::total_issuance(), issuance);
		check_invariants();

		// At version 2 it does nothing.
		System::reset_events();
		crate::migrations::v2::MigrateToV2::<Test>::on_runtime_upgrade();
		assert!(System::events().is_empty());
		assert_eq!(Jobs::<Test>::iter().collect::<Vec<_>>(), before);

		// The live jobs settle as they would have.
		let live: Vec<_> = jobs.iter().filter(|(s, _)| !s.is_final()).map(|(_, j)| *j).collect();
		run_to(System::block_number() + 3 * MEDIATION_TIMEOUT);
		for job in live {
			// Settled, or settled and pruned since.
			let record = Jobs::<Test>::get(job);
			assert!(
				record.as_ref().is_none_or(|j| j.stage().is_settled()),
				"job {job}: {record:?}"
			);
		}
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

#[test]
fn the_v2_migration_closes_a_record_it_cannot_carry_and_returns_its_funds() {
	use frame_support::traits::{OnRuntimeUpgrade, StorageVersion};
	test(|| {
		let job = submit();
		store_as_v1();
		// A record version 1 never wrote: in mediation without an assignment or a result.
		crate::migrations::v1::Jobs::<Test>::mutate(job, |j| {
			j.as_mut().unwrap().stage = Stage::InMediation;
		});
		StorageVersion::new(1).put::<Ophir>();
		let free0 = free(CREATOR);

		crate::migrations::v2::MigrateToV2::<Test>::on_runtime_upgrade();

		let closed = Jobs::<Test>::get(job).unwrap();
		assert_eq!(closed.state, JobState::Closed(JobOutcome::Cancelled));
		assert_eq!(closed.escrow, 0);
		assert_eq!(free(CREATOR), free0 + HELD_AT_MAX, "the escrow came back");
		assert_eq!(on_hold(HoldReason::JobDeposit, CREATOR), JOB_DEPOSIT, "until pruned");
		assert!(!OpenJobs::<Test>::contains_key(job));
		System::assert_last_event(
			Event::JobsMigrated { jobs: 1, escrow: 0, refused: 1, checked: true }.into(),
		);
		// Pruned as a cancelled job is: the deposit comes back.
		run_to(System::block_number() + RETENTION + 1);
		assert!(Jobs::<Test>::get(job).is_none());
		assert_eq!(free(CREATOR), free0 + HELD_AT_MAX + JOB_DEPOSIT);
	});
}
