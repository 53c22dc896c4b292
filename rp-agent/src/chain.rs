//! The chain as the agent sees it: `lilypad_client::chain::Chain`, signing as the provider with
//! nonces the agent manages itself, so that several jobs' results and a heartbeat can be in the
//! pool at once, and a result's signed bytes can be journaled before they are sent.
use std::{ops::Deref, sync::Arc};

use anyhow::{bail, Context};
use codec::Decode;
use lilypad_client::chain::{Pending, ReadAt, TxError};
use lilypad_primitives::{
	identity::Role,
	jobs::{JobId, ResultManifest},
	providers::{BondKind, Offer},
	registry::{ModuleRef, VersionManifest},
};
use subxt::{extrinsics::ExtrinsicEvents, utils::AccountId32, SubstrateConfig};
use subxt_signer::sr25519::Keypair;
use tokio::sync::Mutex;

pub use lilypad_client::{chain::StoredJob as ChainJob, lilypad, retype, Client};

/// How long a transaction may take to reach a best block (30 blocks) before the agent stops
/// waiting and takes the pool's nonce again.
pub const BEST_BLOCK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(60);

/// A connection to a node, signing as the provider; storage is read at the best block.
pub struct Chain {
	chain: lilypad_client::chain::Chain,
	pub key: Keypair,
	pub account: AccountId32,
	/// Held while a transaction is signed and handed to the pool; holds the nonce after the
	/// last one this agent used, if it is still known to be good.
	sending: Arc<Mutex<Option<u64>>>,
}

impl Deref for Chain {
	type Target = lilypad_client::chain::Chain;

	fn deref(&self) -> &Self::Target {
		&self.chain
	}
}

/// How a transaction ended.
#[derive(Debug)]
pub enum Outcome {
	/// Included in a best block and dispatched without error: its events. A reorg may still
	/// retract it (the agent then reads the chain again: docs/fast-jobs.md).
	Success(ExtrinsicEvents<SubstrateConfig>),
	/// Included but dispatch failed: the runtime's error.
	Failed(String),
}

impl Chain {
	/// Connects to the node at `url` (retrying until `patience` runs out: a node may still be
	/// starting).
	pub async fn connect(
		url: &str,
		key: Keypair,
		patience: std::time::Duration,
	) -> anyhow::Result<Self> {
		let chain =
			lilypad_client::chain::Chain::connect(url, patience).await?.reading_at(ReadAt::Best);
		let account = key.public_key().into();
		Ok(Self { chain, key, account, sending: Default::default() })
	}

	/// The job `id` at the best block.
	pub async fn job(&self, id: JobId) -> anyhow::Result<Option<ChainJob>> {
		self.chain.stored_job(id).await
	}

	/// Every job ever assigned to this provider, by id (at the best block).
	pub async fn my_jobs(&self) -> anyhow::Result<Vec<JobId>> {
		self.chain.jobs_of_provider(&self.account).await
	}

	/// The published manifest of `module`.
	pub async fn version(&self, module: &ModuleRef) -> anyhow::Result<VersionManifest<u128>> {
		self.chain
			.version(module)
			.await?
			.with_context(|| format!("module {module} is not in the registry"))
	}

	/// This provider's offer and whether it is active, if registered.
	pub async fn my_offer(&self) -> anyhow::Result<Option<(Offer<u128>, bool)>> {
		self.chain.offer(&self.account).await
	}

	/// The stake this account has bonded as `kind` (provider collateral, mediator stake).
	pub async fn my_bond(&self, kind: BondKind) -> anyhow::Result<u128> {
		self.chain.bonded(&self.account, kind).await
	}

	/// Whether this account holds `role`.
	pub async fn has_role(&self, role: Role) -> anyhow::Result<bool> {
		self.chain.has_role(&self.account, role).await
	}

	/// Registers `role` for this account.
	pub async fn register_role(&self, role: Role) -> anyhow::Result<()> {
		use lilypad::runtime_types::lilypad_primitives::identity::Role as Generated;
		let role = match role {
			Role::JobCreator => Generated::JobCreator,
			Role::ResourceProvider => Generated::ResourceProvider,
			Role::Solver => Generated::Solver,
			Role::Mediator => Generated::Mediator,
			Role::ModuleProvider => Generated::ModuleProvider,
		};
		self.call(&lilypad::transactions().identity().register_role(role), "register_role").await
	}

	/// Signs `call` with the account's next nonce (as the node's pool counts it, or past the
	/// last one this agent sent), lets `before_send` record the signed bytes and the nonce,
	/// sends them and waits until they are in a best block. Sends are serialised, so no two of
	/// this agent's transactions take one nonce; a transaction that never lands hands its
	/// nonce back to the pool's count.
	pub async fn send<Call: subxt::transactions::Payload>(
		&self,
		call: &Call,
		before_send: impl FnOnce(&[u8], u64) -> anyhow::Result<()>,
	) -> anyhow::Result<Outcome> {
		let pending = {
			let mut next = self.sending.lock().await;
			// The pool may not count a transaction sent a moment ago yet (submission returns
			// before the pool imports it), so the agent also counts its own.
			let pool = self.chain.next_nonce(&self.account).await?;
			let nonce = next.map_or(pool, |n| n.max(pool));
			let signed = self.chain.sign(call, &self.key, nonce).await?;
			before_send(&signed, nonce)?;
			match self.chain.send(signed).await {
				Ok(pending) => {
					*next = Some(nonce + 1);
					pending
				}
				Err(e) => {
					// Start again from the pool's count: this nonce may be free after all.
					*next = None;
					return Err(e.into());
				}
			}
		};
		self.finish(pending).await
	}

	/// Sends bytes signed earlier, as they are, and waits until they are in a best block.
	/// Sending the same bytes twice is harmless: they carry one nonce, so at most one copy is
	/// ever included.
	pub async fn resend(&self, bytes: Vec<u8>) -> anyhow::Result<Outcome> {
		let pending = {
			let _one_at_a_time = self.sending.lock().await;
			self.chain.send(bytes).await?
		};
		self.finish(pending).await
	}

	/// Waits until `pending` is in a best block (at most [`BEST_BLOCK_PATIENCE`]), then watches it to finality in the
	/// background: one that is dropped after a reorg hands its nonce back, or every later
	/// transaction of this agent would wait behind the gap.
	async fn finish(&self, pending: Pending) -> anyhow::Result<Outcome> {
		// A transaction behind a nonce gap would wait for ever: give its nonce back.
		let in_best = tokio::time::timeout(BEST_BLOCK_PATIENCE, pending.in_best_block()).await;
		let Ok(in_best) = in_best else {
			*self.sending.lock().await = None;
			anyhow::bail!("not in a best block within {BEST_BLOCK_PATIENCE:?}");
		};
		match in_best {
			Ok((included, _block, rest)) => {
				let sending = self.sending.clone();
				tokio::spawn(async move {
					if let Err(e) = rest.finalized().await {
						tracing::warn!("a transaction in a best block did not reach finality: {e}");
						*sending.lock().await = None;
					}
				});
				Ok(Outcome::Success(included.events))
			}
			Err(TxError::Failed { detail, .. }) => Ok(Outcome::Failed(detail)),
			Err(e) => {
				*self.sending.lock().await = None;
				Err(e.into())
			}
		}
	}

	/// Forgets the next nonce this agent counted, so that the next transaction takes the
	/// pool's: after blocks were retracted, what this agent sent may be gone with them.
	pub async fn resync_nonce(&self) {
		*self.sending.lock().await = None;
	}

	/// Signs and sends `call`, waiting for a best block; a dispatch error is an `Err`.
	pub async fn call<Call: subxt::transactions::Payload>(
		&self,
		call: &Call,
		what: &str,
	) -> anyhow::Result<()> {
		match self.send(call, |_, _| Ok(())).await.with_context(|| format!("send {what}"))? {
			Outcome::Success(_) => Ok(()),
			Outcome::Failed(e) => bail!("{what} failed: {e}"),
		}
	}

	/// The account nonce and job `id` at one block, the best: a transaction with a lower nonce
	/// is on the chain, and a result it carried shows in the job.
	pub async fn nonce_and_job(&self, id: JobId) -> anyhow::Result<(u64, Option<ChainJob>)> {
		let at = self.chain.at().await?;
		let nonce = at.tx().account_nonce(&self.account).await?;
		let value = at.storage().try_fetch(lilypad::storage().jobs().jobs(), (id,)).await?;
		let job = match value {
			Some(v) => Some(ChainJob::decode(&mut v.bytes())?),
			None => None,
		};
		Ok((nonce, job))
	}

	/// The `submit_result` call for `manifest`, run with the weights `models` (their digests,
	/// in the order the module names its models), signed by the provider's key, to batch.
	pub fn result_runtime_call(
		&self,
		manifest: &ResultManifest,
		models: &[lilypad_primitives::registry::Digest],
	) -> lilypad_client::chain::RuntimeCall {
		lilypad_client::chain::result_runtime_call(&self.genesis, &self.key, manifest, models)
	}

	/// The `submit_mediation` call for `rerun`, signed by the mediator's key.
	pub fn mediation_call(&self, rerun: &ResultManifest) -> impl subxt::transactions::Payload {
		lilypad_client::chain::mediation_call(&self.genesis, &self.key, rerun)
	}
}
