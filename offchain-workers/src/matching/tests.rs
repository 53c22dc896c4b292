use super::{fixtures::*, *};
use alloc::vec;
use lilypad_primitives::providers::{Gpu, ModuleFilter};
use proptest::prelude::*;

fn kyc() -> CredentialName {
	b"kyc:basic".to_vec().try_into().unwrap()
}

fn run(
	jobs: &[OpenJob<Account, u128, u32>],
	providers: &[Provider<Account, u128>],
) -> Vec<(JobId, Account)> {
	assign(jobs, providers, &params())
}

#[test]
fn nothing_to_match_gives_no_pairs() {
	assert!(run(&[], &[]).is_empty());
	assert!(run(&[job(0, "echo", 100)], &[]).is_empty());
	assert!(run(&[], &[provider(1, 100)]).is_empty());
	let mut none = params();
	none.max_pairs = 0;
	assert!(assign(&[job(0, "echo", 100)], &[provider(1, 100)], &none).is_empty());
}

#[test]
fn a_job_goes_to_a_provider_that_meets_every_constraint() {
	assert_eq!(run(&[job(0, "echo", 100)], &[provider(1, 100)]), vec![(0, 1)]);
}

#[test]
fn providers_too_small_are_passed_over() {
	let mut small = provider(1, 10);
	small.offer.resources.ram_mib = 256;
	assert_eq!(run(&[job(0, "echo", 100)], &[small.clone(), provider(2, 50)]), vec![(0, 2)]);
	// GPUs: enough of them, each with enough memory.
	let mut gpu_job = job(1, "echo", 100);
	gpu_job.job.resources.gpus = 2;
	gpu_job.job.resources.vram_mib = 40_000;
	let gpu = |vram_mib| Gpu { model: b"A100".to_vec().try_into().unwrap(), vram_mib };
	let mut one_gpu = provider(3, 10);
	one_gpu.offer.resources.gpus = vec![gpu(80_000)].try_into().unwrap();
	let mut small_gpus = provider(4, 20);
	small_gpus.offer.resources.gpus = vec![gpu(24_000), gpu(24_000)].try_into().unwrap();
	let mut two_gpus = provider(5, 30);
	two_gpus.offer.resources.gpus = vec![gpu(24_000), gpu(80_000), gpu(80_000)].try_into().unwrap();
	assert_eq!(run(&[gpu_job], &[one_gpu, small_gpus, two_gpus]), vec![(1, 5)]);
}

#[test]
fn only_providers_serving_the_module_take_it() {
	let mut picky = provider(1, 10);
	picky.offer.modules =
		ModuleFilter::Only(vec![b"sdxl".to_vec().try_into().unwrap()].try_into().unwrap());
	let providers = [picky, provider(2, 50)];
	assert_eq!(run(&[job(0, "echo", 100), job(1, "sdxl", 100)], &providers), vec![(0, 2), (1, 1)]);
}

#[test]
fn the_price_must_lie_between_the_floor_and_the_maximum() {
	// A module price overrides the default one.
	let mut dear = provider(1, 10);
	dear.offer.prices = vec![(b"echo".to_vec().try_into().unwrap(), 500)].try_into().unwrap();
	dear.free_collateral = 10 * 500;
	assert!(run(&[job(0, "echo", 100)], &[dear.clone()]).is_empty());
	assert_eq!(run(&[job(0, "echo", 500)], &[dear]), vec![(0, 1)]);
	let mut floored = job(0, "echo", 100);
	floored.floor = 60;
	assert_eq!(run(&[floored], &[provider(1, 50), provider(2, 60)]), vec![(0, 2)]);
}

#[test]
fn a_job_asking_for_credentials_goes_to_a_holder() {
	let mut needs = job(0, "echo", 100);
	needs.job.credentials = vec![kyc()].try_into().unwrap();
	// Claiming it in the offer is not enough: the round takes the confirmed list.
	let mut claims = provider(1, 10);
	claims.offer.credentials = vec![kyc()].try_into().unwrap();
	let mut holds = provider(2, 50);
	holds.credentials = vec![kyc()];
	assert_eq!(run(&[needs], &[claims, holds]), vec![(0, 2)]);
}

#[test]
fn providers_away_are_not_matched() {
	let mut away = provider(1, 10);
	away.status = ProviderStatus::Away;
	assert!(run(&[job(0, "echo", 100)], &[away.clone()]).is_empty());
	assert_eq!(run(&[job(0, "echo", 100)], &[away, provider(2, 50)]), vec![(0, 2)]);
}

#[test]
fn a_targeted_job_goes_to_its_target_or_nowhere() {
	let mut targeted = job(0, "echo", 100);
	targeted.job.target = Some(2);
	let providers = [provider(1, 10), provider(2, 50)];
	assert_eq!(run(&[targeted.clone()], &providers), vec![(0, 2)]);
	let mut full = provider(2, 50);
	full.active_jobs = 1;
	assert!(run(&[targeted.clone()], &[provider(1, 10), full]).is_empty());
	targeted.job.target = Some(9);
	assert!(run(&[targeted], &providers).is_empty());
}

#[test]
fn capacity_is_never_double_booked() {
	let mut roomy = provider(1, 10);
	roomy.offer.capacity = 3;
	roomy.active_jobs = 1;
	roomy.free_collateral = 1_000;
	let jobs: Vec<_> = (0..5).map(|i| job(i, "echo", 100)).collect();
	// Two free slots at 10, then the next cheapest, which has one; the last job waits.
	let pairs = run(&jobs, &[roomy, provider(2, 50), provider(3, 200)]);
	assert_eq!(pairs, vec![(0, 1), (1, 1), (2, 2)]);
}

#[test]
fn collateral_is_never_double_booked() {
	// rho = 2.5: each job at 10 locks 25; 60 covers two.
	let mut thin = provider(1, 10);
	thin.offer.capacity = 8;
	thin.free_collateral = 60;
	let jobs: Vec<_> = (0..3).map(|i| job(i, "echo", 100)).collect();
	assert_eq!(run(&jobs, &[thin.clone()]), vec![(0, 1), (1, 1)]);
	// Collateral is shared across modules.
	let mixed = [job(0, "echo", 100), job(1, "sdxl", 100), job(2, "echo", 100)];
	assert_eq!(run(&mixed, &[thin]), vec![(0, 1), (1, 1)]);
}

#[test]
fn the_oldest_jobs_are_served_first() {
	let jobs = [job(7, "echo", 100), job(3, "echo", 100), job(5, "echo", 100)];
	assert_eq!(run(&jobs, &[provider(1, 10), provider(2, 10)]), vec![(3, 1), (5, 2)]);
}

#[test]
fn the_cheapest_provider_wins() {
	let providers = [provider(1, 40), provider(2, 20), provider(3, 30)];
	assert_eq!(run(&[job(0, "echo", 100)], &providers), vec![(0, 2)]);
}

#[test]
fn at_one_price_more_stake_then_better_reputation_wins() {
	let mut rich = provider(1, 20);
	rich.stake = 10_000;
	let mut reputed = provider(2, 20);
	reputed.reputation = Perbill::from_percent(90);
	let plain = provider(3, 20);
	let jobs: Vec<_> = (0..3).map(|i| job(i, "echo", 100)).collect();
	assert_eq!(run(&jobs, &[plain, reputed, rich]), vec![(0, 1), (1, 2), (2, 3)]);
}

#[test]
fn the_exponents_weigh_stake_against_reputation() {
	// Four times the stake against twice the reputation: a = b favours stake; b = 3a
	// favours reputation (2^3 > 4).
	let mut rich = provider(1, 20);
	rich.stake *= 4;
	let mut reputed = provider(2, 20);
	reputed.reputation = Perbill::from_percent(100);
	let providers = [rich, reputed];
	assert_eq!(run(&[job(0, "echo", 100)], &providers), vec![(0, 1)]);
	let mut p = params();
	p.reputation_exponent = FixedU128::from_u32(3);
	assert_eq!(assign(&[job(0, "echo", 100)], &providers, &p), vec![(0, 2)]);
	// With both exponents zero, neither counts.
	p.stake_exponent = FixedU128::from_u32(0);
	p.reputation_exponent = FixedU128::from_u32(0);
	assert_eq!(assign(&[job(0, "echo", 100)], &providers, &p), vec![(0, 1)]);
}

/// Model weights by digest.
const LLAMA: [u8; 32] = [1; 32];
const MISTRAL: [u8; 32] = [2; 32];

/// `p` holding the weights of `models`.
fn holding(mut p: Provider<Account, u128>, models: &[[u8; 32]]) -> Provider<Account, u128> {
	p.offer.models = models.to_vec().try_into().unwrap();
	p
}

/// A job on `echo` that runs with `models`.
fn job_with(id: JobId, models: &[[u8; 32]]) -> OpenJob<Account, u128, u32> {
	let mut j = job(id, "echo", 100);
	j.models = models.to_vec();
	j
}

#[test]
fn at_one_price_a_provider_holding_the_jobs_models_wins_over_a_better_score() {
	// Account 1 outranks account 2 by stake, but holds only one of the two models.
	let mut rich = holding(provider(1, 20), &[LLAMA]);
	rich.stake *= 4;
	let holder = holding(provider(2, 20), &[MISTRAL, [9; 32], LLAMA]);
	assert!(score(&rich, &params()) > score(&holder, &params()));
	let providers = [rich, holder];
	assert_eq!(run(&[job_with(0, &[LLAMA, MISTRAL])], &providers), vec![(0, 2)]);
	// A job without models ranks them by score, as before models existed.
	assert_eq!(run(&[job(1, "echo", 100)], &providers), vec![(1, 1)]);
}

#[test]
fn holding_the_models_ranks_but_never_filters() {
	let needs = job_with(0, &[LLAMA]);
	// A cheaper provider without the weights wins: price comes first.
	let dear_holder = holding(provider(1, 30), &[LLAMA]);
	assert_eq!(run(std::slice::from_ref(&needs), &[dear_holder, provider(2, 20)]), vec![(0, 2)]);
	// One without them takes the job when it is the only one.
	assert_eq!(run(std::slice::from_ref(&needs), &[provider(3, 50)]), vec![(0, 3)]);
	// And when the holder is full.
	let mut full_holder = holding(provider(4, 20), &[LLAMA]);
	full_holder.active_jobs = 1;
	assert_eq!(run(&[needs], &[full_holder, provider(5, 20)]), vec![(0, 5)]);
}

#[test]
fn jobs_of_one_module_with_other_models_go_to_their_holders() {
	// Same price, same score, room for both jobs each: the account would decide, but each
	// job's models do first (one ranking for the module would give both jobs to one holder).
	let roomy = |account: Account, models: &[[u8; 32]]| {
		let mut p = holding(provider(account, 20), models);
		p.offer.capacity = 2;
		p
	};
	let providers = [roomy(1, &[MISTRAL]), roomy(2, &[LLAMA])];
	let jobs = [job_with(0, &[LLAMA]), job_with(1, &[MISTRAL])];
	assert_eq!(run(&jobs, &providers), vec![(0, 2), (1, 1)]);
}

#[test]
fn full_ties_go_to_the_lower_account_whatever_the_input_order() {
	let jobs = [job(0, "echo", 100)];
	assert_eq!(run(&jobs, &[provider(9, 20), provider(4, 20), provider(6, 20)]), vec![(0, 4)]);
	assert_eq!(run(&jobs, &[provider(6, 20), provider(9, 20), provider(4, 20)]), vec![(0, 4)]);
}

#[test]
fn no_stake_or_no_reputation_ranks_last() {
	let mut unstaked = provider(1, 20);
	unstaked.stake = 0;
	let mut unknown = provider(2, 20);
	unknown.reputation = Perbill::zero();
	assert_eq!(score(&unstaked, &params()), i128::MIN);
	assert_eq!(score(&unknown, &params()), i128::MIN);
	assert_eq!(run(&[job(0, "echo", 100)], &[unstaked, unknown, provider(3, 20)]), vec![(0, 3)]);
}

#[test]
fn a_round_is_capped_at_max_pairs() {
	let jobs: Vec<_> = (0..10).map(|i| job(i, "echo", 100)).collect();
	let providers: Vec<_> = (0..10).map(|a| provider(a, 10)).collect();
	let mut p = params();
	p.max_pairs = 4;
	assert_eq!(assign(&jobs, &providers, &p).len(), 4);
}

/// The chain's check of a pair against the provider's state.
fn check_on_chain(
	open: &OpenJob<Account, u128, u32>,
	p: &Provider<Account, u128>,
) -> Result<(u128, u128), lilypad_primitives::jobs::MatchError> {
	let terms = ProviderTerms {
		account: &p.account,
		offer: &p.offer,
		status: p.status,
		active_jobs: p.active_jobs,
		free_collateral: p.free_collateral,
	};
	check_match(&open.job, &terms, open.floor, params().rho, |c| p.credentials.contains(c))
}

/// Replays `pairs` as the chain would, each against the state the earlier ones left.
fn replay(
	jobs: &[OpenJob<Account, u128, u32>],
	providers: &mut [Provider<Account, u128>],
	pairs: &[(JobId, Account)],
) -> Result<(), TestCaseError> {
	for (id, account) in pairs {
		let open = jobs.iter().find(|j| j.id == *id).unwrap();
		let p = providers.iter_mut().find(|p| p.account == *account).unwrap();
		let (_, collateral) = check_on_chain(open, p).map_err(|e| {
			TestCaseError::fail(alloc::format!("pair ({id}, {account}) breaks {e:?}"))
		})?;
		p.active_jobs += 1;
		p.free_collateral -= collateral;
	}
	Ok(())
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(64))]

	/// Every pair holds on chain in order, no job is matched twice, and a job left over has no
	/// provider that could still take it (the round stops only when nothing fits).
	#[test]
	fn every_pair_is_valid_and_no_match_is_missed(
		jobs in 0usize..120,
		offers in 0usize..40,
		seed in any::<u64>(),
	) {
		let (jobs, mut providers) = market(jobs, offers, seed);
		let pairs = run(&jobs, &providers);
		let mut ids: Vec<_> = pairs.iter().map(|(j, _)| *j).collect();
		ids.sort();
		ids.dedup();
		prop_assert_eq!(ids.len(), pairs.len(), "a job matched twice");
		replay(&jobs, &mut providers, &pairs)?;
		for open in jobs.iter().filter(|j| !ids.contains(&j.id)) {
			for p in &providers {
				let fits = check_on_chain(open, p);
				prop_assert!(fits.is_err(), "job {} left over but fits {}", open.id, p.account);
			}
		}
	}

	/// The same market in any order gives the same assignment.
	#[test]
	fn the_assignment_does_not_depend_on_input_order(seed in any::<u64>()) {
		let (mut jobs, mut providers) = market(80, 30, seed);
		let pairs = run(&jobs, &providers);
		jobs.reverse();
		providers.reverse();
		prop_assert_eq!(run(&jobs, &providers), pairs);
	}
}
