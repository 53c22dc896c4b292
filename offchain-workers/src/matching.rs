//! A solver's round: assigns open jobs to providers' offers (docs/design.md §4).
//!
//! **Constraints.** A pair is proposed only if [`check_match`], the rule the chain applies to
//! every proposed pair, accepts it against the capacity and collateral still free in this round:
//! the provider is active, is the job's target if it names one, serves the module and covers its
//! resources, asks at most the job's maximum price and at least the module's floor, holds the
//! credentials the job asks for, and has a free job slot and `rho × price` of free collateral.
//! Every pair booked in a round takes a slot and its collateral, so a round never books more
//! than a provider has.
//!
//! **Ranking.** Jobs are served oldest first (lowest id), so none starves behind newer ones.
//! Each job goes to the first provider that can take it in the order: lower asking price, then
//! a provider whose offer lists every model the job runs with ([`Offer::holds_all`]: it need not
//! download their weights, so the job starts sooner), then higher `stake^a × reputation^b`,
//! then the lower account id, so the same state always gives the same assignment, whichever
//! node computes it. Holding the models is a ranking input, not a constraint: a cheaper
//! provider without them still wins, and one without them takes the job when no holder can.
//! The offer's list is the provider's word, which the chain does not check, so it weighs only
//! between providers that ask the same price.
//!
//! **Cost.** Offers are sorted once per module and set of models named by the round's jobs
//! (a module's jobs run with the same models, so in practice once per module); each job then
//! scans its list from the cheapest provider that still has room, and stops at the first that
//! is over its maximum price. Providers that fill up are skipped for good, so a round costs
//! `O(M · P log P + J · k)` for `M` lists, `P` offers, `J` jobs and `k` the offers a job looks
//! at before one fits (small unless most offers fail a job's own constraints); whether an offer
//! holds a job's models is a bounded check (a few digests against at most
//! [`MAX_OFFER_MODELS`](lilypad_primitives::providers::MAX_OFFER_MODELS)), made once per list.
use alloc::{collections::BTreeMap, vec::Vec};
use lilypad_primitives::{
	economics::collateral_for,
	fixed::log2,
	identity::CredentialName,
	jobs::{check_match, Job, JobId, ProviderTerms},
	providers::{Offer, ProviderStatus},
	registry::Digest,
};
use polkadot_sdk::sp_runtime::{
	traits::AtLeast32BitUnsigned, FixedPointNumber, FixedU128, Perbill,
};

/// The score of a provider with no history.
pub use lilypad_primitives::reputation::NEUTRAL as NEUTRAL_REPUTATION;

/// An open job, with what the round needs besides the job record.
#[derive(Clone, Debug)]
pub struct OpenJob<AccountId, Balance, BlockNumber> {
	pub id: JobId,
	pub job: Job<AccountId, Balance, BlockNumber>,
	/// The price floor of the job's module version.
	pub floor: Balance,
	/// The digests of the model weights the job runs with (fixed at submission; none for a
	/// module without models): providers whose offers list them all rank first at their price.
	pub models: Vec<Digest>,
}

/// A provider as the round sees it.
#[derive(Clone, Debug)]
pub struct Provider<AccountId, Balance> {
	pub account: AccountId,
	pub offer: Offer<Balance>,
	pub status: ProviderStatus,
	/// Jobs it runs now.
	pub active_jobs: u32,
	/// Its provider bond not locked by running jobs.
	pub free_collateral: Balance,
	/// Its whole provider bond, the `stake` it ranks by.
	pub stake: Balance,
	pub reputation: Perbill,
	/// The credentials it holds now (those of its offer that the identity pallet confirms).
	pub credentials: Vec<CredentialName>,
}

/// How one round is run.
#[derive(Clone, Copy, Debug)]
pub struct Params {
	/// The collateral ratio `rho` the chain applies.
	pub rho: FixedU128,
	/// The exponent `a` of stake in the ranking.
	pub stake_exponent: FixedU128,
	/// The exponent `b` of reputation in the ranking.
	pub reputation_exponent: FixedU128,
	/// At most this many pairs.
	pub max_pairs: usize,
}

/// The round's assignment: `(job, provider)` pairs, in job order.
pub fn assign<AccountId, Balance, BlockNumber>(
	jobs: &[OpenJob<AccountId, Balance, BlockNumber>],
	providers: &[Provider<AccountId, Balance>],
	params: &Params,
) -> Vec<(JobId, AccountId)>
where
	AccountId: Ord + Clone,
	Balance: AtLeast32BitUnsigned + Copy,
	BlockNumber: Copy,
{
	let mut order: Vec<usize> = (0..jobs.len()).collect();
	order.sort_unstable_by_key(|&j| jobs[j].id);
	let scores: Vec<i128> = providers.iter().map(|p| score(p, params)).collect();
	let by_account: BTreeMap<&AccountId, usize> =
		providers.iter().enumerate().map(|(i, p)| (&p.account, i)).collect();
	// What each provider has left in this round.
	let mut slots: Vec<u32> =
		providers.iter().map(|p| p.offer.capacity.saturating_sub(p.active_jobs)).collect();
	let mut collateral: Vec<Balance> = providers.iter().map(|p| p.free_collateral).collect();
	// One list per module and the models its jobs run with.
	let mut lists: BTreeMap<(&[u8], &[Digest]), ModuleList<Balance>> = BTreeMap::new();
	let mut pairs = Vec::new();

	for j in order {
		if pairs.len() >= params.max_pairs {
			break;
		}
		let open = &jobs[j];
		let module = &open.job.module.name[..];
		let taken = |p: usize, slots: &[u32], collateral: &[Balance]| {
			let provider = &providers[p];
			let terms = ProviderTerms {
				account: &provider.account,
				offer: &provider.offer,
				status: provider.status,
				// The slots and collateral left in this round, as the chain will see them
				// after the pairs booked before this one.
				active_jobs: provider.offer.capacity.saturating_sub(slots[p]),
				free_collateral: collateral[p],
			};
			check_match(&open.job, &terms, open.floor, params.rho, |c| {
				provider.credentials.contains(c)
			})
			.ok()
		};
		let chosen = if let Some(target) = &open.job.target {
			// A targeted job has one candidate.
			by_account.get(target).and_then(|&p| taken(p, &slots, &collateral).map(|t| (p, t)))
		} else {
			let models = &open.models[..];
			let list = lists
				.entry((module, models))
				.or_insert_with(|| ModuleList::new(module, models, providers, &scores, params.rho));
			list.skip_full(&slots, &collateral);
			list.entries[list.head..]
				.iter()
				.take_while(|e| e.price <= open.job.max_price)
				.find_map(|e| taken(e.provider, &slots, &collateral).map(|t| (e.provider, t)))
		};
		if let Some((p, (_price, locked))) = chosen {
			slots[p] -= 1;
			collateral[p] = collateral[p].saturating_sub(locked);
			pairs.push((open.id, providers[p].account.clone()));
		}
	}
	pairs
}

/// The active providers serving one module, best first for jobs running with one set of models.
struct ModuleList<Balance> {
	entries: Vec<Entry<Balance>>,
	/// Entries before it have no room left in this round.
	head: usize,
}

struct Entry<Balance> {
	provider: usize,
	price: Balance,
	/// Whether the provider's offer lists every model the list's jobs run with.
	holds_models: bool,
	/// What one job of the module locks of this provider's collateral.
	collateral: Balance,
}

impl<Balance: AtLeast32BitUnsigned + Copy> ModuleList<Balance> {
	fn new<AccountId: Ord>(
		module: &[u8],
		models: &[Digest],
		providers: &[Provider<AccountId, Balance>],
		scores: &[i128],
		rho: FixedU128,
	) -> Self {
		let mut entries: Vec<Entry<Balance>> = providers
			.iter()
			.enumerate()
			.filter(|(_, p)| p.status == ProviderStatus::Active && p.offer.serves(module))
			.map(|(i, p)| {
				let price = p.offer.price_for(module);
				let holds_models = p.offer.holds_all(models);
				Entry { provider: i, price, holds_models, collateral: collateral_for(price, rho) }
			})
			.collect();
		entries.sort_unstable_by(|a, b| {
			a.price
				.cmp(&b.price)
				.then(b.holds_models.cmp(&a.holds_models))
				.then(scores[b.provider].cmp(&scores[a.provider]))
				.then(providers[a.provider].account.cmp(&providers[b.provider].account))
		});
		Self { entries, head: 0 }
	}

	/// Moves the head past providers that can take no more jobs of this module. Rooms only
	/// shrink within a round, so they never need looking at again.
	fn skip_full(&mut self, slots: &[u32], collateral: &[Balance]) {
		while let Some(e) = self.entries.get(self.head) {
			if slots[e.provider] > 0 && collateral[e.provider] >= e.collateral {
				break;
			}
			self.head += 1;
		}
	}
}

/// `a · log2(stake) + b · log2(reputation)` in fixed point: the logarithm of
/// `stake^a × reputation^b` (plus a constant, as reputation counts in parts per billion), which
/// orders providers the same way without overflowing. A provider with no stake or no
/// reputation ranks last.
pub fn score<AccountId, Balance: AtLeast32BitUnsigned + Copy>(
	provider: &Provider<AccountId, Balance>,
	params: &Params,
) -> i128 {
	let stake: u128 = provider.stake.unique_saturated_into();
	let (Some(ls), Some(lr)) = (log2(stake), log2(provider.reputation.deconstruct().into())) else {
		return i128::MIN;
	};
	let weigh = |exponent: FixedU128, log: i128| {
		let e = i128::try_from(exponent.into_inner()).unwrap_or(i128::MAX);
		e.saturating_mul(log) / FixedU128::DIV as i128
	};
	weigh(params.stake_exponent, ls).saturating_add(weigh(params.reputation_exponent, lr))
}

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod tests;
