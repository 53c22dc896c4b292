//! The solver: an offchain worker that matches open jobs to offers (docs/design.md §4).
//!
//! On every block a node imports, [`run`] checks the node's keystore for a solver key
//! ([`KEY_TYPE`]). A node without one does nothing, so solving is opt-in. With one whose
//! account may propose matches ([`Pallet::ensure_can_solve`]), it reads the open jobs and the
//! offers, computes a round with [`lilypad_offchain::matching`] and submits it as signed
//! `propose_match` batches of at most [`Config::MaxBatch`] pairs.
//!
//! - **One run at a time.** A lock in the node's offchain database keeps a slow run from
//!   overlapping the next block's.
//! - **Nonces.** The chain's nonce of the solver does not count transactions still in the
//!   pool, so a run started before the last one's batches land would reuse their nonces.
//!   The next nonce is remembered with the block it was used at: while the chain's nonce is
//!   behind it, the batches are pending and the worker waits (it would only propose the same
//!   jobs again); after [`PENDING_PATIENCE`] blocks it takes them for dropped and starts again
//!   from the chain's nonce.
//! - **Several solvers.** Solvers on other nodes compute the same round from the same state;
//!   whichever batch lands first makes the matches, and the others' pairs are stale, skipped
//!   at no cost beyond the transaction fee.
//!
//! Insert a key with `author_insertKey` (`"solv"`, the key's secret URI, its public key) on a
//! node started with `--rpc-methods unsafe`, or with `lilypad-node key insert --key-type solv
//! --scheme sr25519`; `lilypad-node --dev --solver` starts with Alice's. A node that is not a
//! validator runs offchain workers only with `--offchain-worker always`.
use crate::{pallet::*, Call, Config};
use alloc::{collections::BTreeMap, vec::Vec};
use codec::Encode;
use frame_support::{traits::Get, BoundedVec};
use frame_system::{
	offchain::{AppCrypto, CreateSignedTransaction, CreateTransactionBase, SubmitTransaction},
	pallet_prelude::BlockNumberFor,
};
use lilypad_offchain::matching::{assign, OpenJob, Params, Provider};
use lilypad_primitives::{
	identity::IdentityInspect,
	jobs::{JobId, Stage},
	providers::{BondKind, ProviderLedger},
	registry::ModuleRegistry,
	rewards::ReputationOf,
};
use polkadot_sdk::{frame_support, frame_system, sp_core, sp_runtime};
use sp_runtime::{
	offchain::{
		storage::StorageValueRef,
		storage_lock::{BlockAndTime, StorageLock},
		Duration,
	},
	traits::{IdentifyAccount, One, Saturating, Zero},
	RuntimeAppPublic,
};

pub use lilypad_primitives::jobs::SOLVER_KEY_TYPE as KEY_TYPE;

/// Solver keys: sr25519, their accounts the chain's ordinary accounts.
pub mod crypto {
	use super::{sp_core::sr25519, sp_runtime, KEY_TYPE};
	use sp_runtime::{MultiSignature, MultiSigner};

	sp_runtime::app_crypto::app_crypto!(sr25519, KEY_TYPE);

	/// Signs the solver's transactions with its key from the keystore.
	pub struct SolverKey;

	impl super::frame_system::offchain::AppCrypto<MultiSigner, MultiSignature> for SolverKey {
		type RuntimeAppPublic = Public;
		type GenericPublic = sr25519::Public;
		type GenericSignature = sr25519::Signature;
	}
}

/// Most open jobs one round reads.
pub const MAX_ROUND_JOBS: usize = 10_000;
/// Most offers one round reads.
pub const MAX_ROUND_OFFERS: u32 = 5_000;
/// Most `propose_match` batches one round submits.
pub const MAX_ROUND_BATCHES: u32 = 4;
/// Blocks a batch stays valid: a round on older state is not worth landing.
pub const TX_LIFETIME: u32 = 8;
/// Blocks the worker waits for its pending batches before it takes them for dropped: longer
/// than they live, so that a batch taken for dropped cannot land after all.
pub const PENDING_PATIENCE: u32 = TX_LIFETIME + 2;

/// Where the run lock lives in the node's offchain database.
pub const LOCK_KEY: &[u8] = b"lilypad/solver/lock";
const NONCE_KEY: &[u8] = b"lilypad/solver/nonce";
/// A run that takes longer than this is taken for dead and the lock for free.
pub const LOCK_BLOCKS: u32 = 5;
pub const LOCK_MILLIS: u64 = 20_000;

/// What one run did.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Outcome {
	/// The keystore holds no solver key.
	NoKey,
	/// Its keys' accounts may not propose matches (no solver role or too little stake).
	NotStaked,
	/// Another run holds the lock.
	Busy,
	/// The last run's batches are still pending.
	Pending,
	/// `pairs` pairs in `batches` transactions went to the pool (zero if nothing matched).
	Proposed { pairs: u32, batches: u32 },
}

/// The solver's run for block `now`.
pub fn run<T: Config>(now: BlockNumberFor<T>) -> Outcome {
	let outcome = try_run::<T>(now);
	match outcome {
		Outcome::NoKey | Outcome::Busy | Outcome::Pending => {}
		// Said every few blocks, not every block.
		Outcome::NotStaked if (now % PENDING_PATIENCE.into()).is_zero() => log::warn!(
			target: "lilypad::solver",
			"a solver key is in the keystore, but its account is not a staked solver: \
			 register the Solver role and bond a solver stake",
		),
		Outcome::NotStaked => {}
		Outcome::Proposed { pairs, batches } if pairs > 0 => log::info!(
			target: "lilypad::solver",
			"block {now:?}: proposed {pairs} matches in {batches} batches",
		),
		Outcome::Proposed { .. } => {}
	}
	outcome
}

fn try_run<T: Config>(now: BlockNumberFor<T>) -> Outcome {
	let keys = <<T::SolverKey as AppCrypto<T::Public, T::Signature>>::RuntimeAppPublic>::all();
	if keys.is_empty() {
		return Outcome::NoKey;
	}
	let Some((public, solver)) = keys
		.into_iter()
		.map(|key| {
			let generic: <T::SolverKey as AppCrypto<T::Public, T::Signature>>::GenericPublic =
				key.into();
			let public: T::Public = generic.into();
			let account = public.clone().into_account();
			(public, account)
		})
		.find(|(_, account)| Pallet::<T>::ensure_can_solve(account).is_ok())
	else {
		return Outcome::NotStaked;
	};

	let mut lock =
		StorageLock::<BlockAndTime<frame_system::Pallet<T>>>::with_block_and_time_deadline(
			LOCK_KEY,
			LOCK_BLOCKS,
			Duration::from_millis(LOCK_MILLIS),
		);
	let Ok(_guard) = lock.try_lock() else { return Outcome::Busy };

	let nonce_key = (NONCE_KEY, &solver).encode();
	let pending = StorageValueRef::persistent(&nonce_key);
	let chain_nonce = frame_system::Pallet::<T>::account_nonce(&solver);
	if let Ok(Some((next, at))) = pending.get::<(T::Nonce, BlockNumberFor<T>)>() {
		if next > chain_nonce && now < at.saturating_add(PENDING_PATIENCE.into()) {
			return Outcome::Pending;
		}
	}

	let pairs = round::<T>(now);
	let (mut nonce, mut proposed, mut batches) = (chain_nonce, 0u32, 0u32);
	for chunk in pairs.chunks(T::MaxBatch::get() as usize) {
		let batch: BatchOf<T> = BoundedVec::truncate_from(chunk.to_vec());
		let call: <T as CreateTransactionBase<Call<T>>>::RuntimeCall =
			Call::<T>::propose_match { batch }.into();
		let sent =
			<T as CreateSignedTransaction<Call<T>>>::create_signed_transaction::<T::SolverKey>(
				call,
				public.clone(),
				solver.clone(),
				nonce,
			)
			.map(SubmitTransaction::<T, Call<T>>::submit_transaction);
		if sent != Some(Ok(())) {
			log::warn!(target: "lilypad::solver", "the pool refused a match batch: {sent:?}");
			break;
		}
		nonce += One::one();
		proposed += chunk.len() as u32;
		batches += 1;
	}
	if batches > 0 {
		pending.set(&(nonce, now));
	}
	Outcome::Proposed { pairs: proposed, batches }
}

/// The round for the state at `now`: open jobs that can still be matched when the batch lands
/// (a block later at the earliest) with the digests of their models, the offers with their
/// free collateral and stake, and the governed collateral ratio and ranking exponents.
pub fn round<T: Config>(now: BlockNumberFor<T>) -> Vec<(JobId, T::AccountId)> {
	let lands_at = now.saturating_add(One::one());
	let mut floors = BTreeMap::new();
	let jobs: Vec<_> = OpenJobs::<T>::iter_keys()
		.take(MAX_ROUND_JOBS)
		.filter_map(|id| {
			let job = Jobs::<T>::get(id)?;
			if job.stage() != Stage::Submitted || job.match_by < lands_at {
				return None;
			}
			// As the chain reads it: a version gone since submission has no floor.
			let floor = *floors.entry(job.module.encode()).or_insert_with(|| {
				T::Registry::version(&job.module).map(|v| v.price_floor).unwrap_or_else(Zero::zero)
			});
			let models = JobModels::<T>::get(id).map(|m| m.into_inner()).unwrap_or_default();
			Some(OpenJob { id, job, floor, models })
		})
		.collect();
	if jobs.is_empty() {
		return Vec::new();
	}
	let providers: Vec<_> = T::Providers::offers(MAX_ROUND_OFFERS)
		.into_iter()
		.map(|(account, view)| {
			let free_collateral = T::Providers::free_bond(&account, BondKind::Provider);
			let in_use = T::Providers::bond_in_use(&account, BondKind::Provider);
			let reputation = T::Rewards::reputation(BondKind::Provider, &account);
			let credentials = view
				.offer
				.credentials
				.iter()
				.filter(|c| T::Identity::has_credential(&account, c))
				.cloned()
				.collect();
			Provider {
				account,
				offer: view.offer,
				status: view.status,
				active_jobs: view.active_jobs,
				free_collateral,
				stake: free_collateral.saturating_add(in_use),
				reputation,
				credentials,
			}
		})
		.collect();
	let params = Params {
		rho: T::CollateralRatio::get(),
		stake_exponent: T::RankingStakeExponent::get(),
		reputation_exponent: T::RankingReputationExponent::get(),
		max_pairs: T::MaxBatch::get().saturating_mul(MAX_ROUND_BATCHES) as usize,
	};
	assign(&jobs, &providers, &params)
}
