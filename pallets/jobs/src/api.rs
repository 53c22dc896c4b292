//! What the `JobsApi` runtime API reads: jobs, pages of an account's jobs, price estimates.
use crate::*;

impl<T: Config> Pallet<T> {
	/// One job, for the runtime API.
	pub fn job(id: JobId) -> Option<JobOf<T>> {
		Jobs::<T>::get(id)
	}

	/// A page of `who`'s jobs (as creator, or as provider), oldest first, for the runtime
	/// API. Scans at most ten thousand of the account's jobs.
	pub fn jobs_of(
		who: T::AccountId,
		as_provider: bool,
		start_after: Option<JobId>,
		limit: u32,
	) -> Vec<(JobId, JobOf<T>)> {
		let mut ids: Vec<JobId> = if as_provider {
			JobsByProvider::<T>::iter_key_prefix(&who).take(10_000).collect()
		} else {
			JobsByCreator::<T>::iter_key_prefix(&who).take(10_000).collect()
		};
		ids.sort_unstable();
		ids.into_iter()
			.filter(|id| start_after.is_none_or(|after| *id > after))
			.take(limit.min(MAX_JOBS_PAGE) as usize)
			.filter_map(|id| Jobs::<T>::get(id).map(|j| (id, j)))
			.collect()
	}

	/// What a job on `module` would cost now: the cheapest of up to a thousand offers, for
	/// the runtime API.
	pub fn estimate(module: ModuleRef) -> Option<PriceEstimate<T::AccountId, BalanceOf<T>>> {
		let JobTerms { version, payees, .. } = T::Registry::job_terms(&module)?;
		let mut offers = 0u32;
		let mut cheapest: Option<(T::AccountId, BalanceOf<T>)> = None;
		for (who, view) in T::Providers::offers(1_000) {
			if view.status != ProviderStatus::Active
				|| !view.offer.serves(&module.name)
				|| !view.offer.covers(&version.manifest.resources)
			{
				continue;
			}
			let price = view.offer.price_for(&module.name);
			if price < version.price_floor {
				continue;
			}
			offers.saturating_inc();
			if cheapest.as_ref().is_none_or(|(_, p)| price < *p) {
				cheapest = Some((who, price));
			}
		}
		let price = cheapest.as_ref().map(|(_, p)| *p).unwrap_or(version.price_floor);
		let royalties = Self::royalties_total(&payees, price);
		let charge = charge_with_royalties(price, Self::fee_rates(), royalties);
		Some(PriceEstimate { floor: version.price_floor, cheapest, offers, charge })
	}
}
