//! The chain as the agent sees it: the API generated from the runtime's metadata, and the few
//! reads and transactions it needs, each submitted with a nonce the agent manages itself so
//! that several jobs' results and a heartbeat can be in the pool at once.
use anyhow::{bail, Context};
use lilypad_primitives::{
	jobs::{JobId, ResultManifest},
	providers::Offer,
	registry::{ModuleRef, VersionManifest},
};
use subxt::{
	config::DefaultExtrinsicParamsBuilder,
	rpcs::{methods::LegacyRpcMethods, RpcClient},
	utils::{AccountId32, Static},
	SubstrateConfig,
};
use subxt_signer::sr25519::Keypair;
use tokio::sync::Mutex;

pub use lilypad_client::{lilypad, retype};

use lilypad::runtime_types::lilypad_primitives::{
	identity::Role,
	jobs::{Job, Stage},
	providers::BondKind,
};

pub use lilypad_client::Client;
/// A job as stored on chain.
pub type ChainJob = Job<AccountId32, u128, u32>;

/// A connection to a node, signing as the provider.
pub struct Chain {
	pub api: Client,
	pub rpc: RpcClient,
	pub key: Keypair,
	pub account: AccountId32,
	pub genesis: [u8; 32],
	/// Held while a transaction is signed and handed to the pool; holds the nonce after the
	/// last one this agent used, if it is still known to be good.
	sending: Mutex<Option<u64>>,
}

/// How a transaction ended.
#[derive(Debug)]
pub enum Outcome {
	/// Included (in a finalized block) and dispatched without error.
	Success,
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
		let start = std::time::Instant::now();
		let rpc = loop {
			match RpcClient::from_insecure_url(url).await {
				Ok(rpc) => break rpc,
				Err(e) if start.elapsed() < patience => {
					tracing::debug!("node at {url} not reachable yet: {e}");
					tokio::time::sleep(std::time::Duration::from_millis(500)).await;
				}
				Err(e) => bail!("cannot reach the node at {url}: {e}"),
			}
		};
		let api =
			Client::from_rpc_client(rpc.clone()).await.context("read the chain's metadata")?;
		let genesis = api.genesis_hash().0;
		let account = key.public_key().into();
		Ok(Self { api, rpc, key, account, genesis, sending: Mutex::new(None) })
	}

	fn legacy(&self) -> LegacyRpcMethods<subxt::config::RpcConfigFor<SubstrateConfig>> {
		LegacyRpcMethods::new(self.rpc.clone())
	}

	/// The job `id` at the last finalized block.
	pub async fn job(&self, id: JobId) -> anyhow::Result<Option<ChainJob>> {
		let at = self.api.at_current_block().await?;
		let value = at.storage().try_fetch(lilypad::storage().jobs().jobs(), (id,)).await?;
		Ok(match value {
			Some(v) => Some(v.decode()?),
			None => None,
		})
	}

	/// Every job ever assigned to this provider, by id (at the last finalized block).
	pub async fn my_jobs(&self) -> anyhow::Result<Vec<JobId>> {
		let at = self.api.at_current_block().await?;
		let mut iter = at
			.storage()
			.iter(lilypad::storage().jobs().jobs_by_provider(), (self.account,))
			.await?;
		let mut ids = Vec::new();
		while let Some(kv) = iter.next().await {
			let (_, id) = kv?.key()?.decode()?;
			ids.push(id);
		}
		Ok(ids)
	}

	/// The published manifest of `module`.
	pub async fn version(&self, module: &ModuleRef) -> anyhow::Result<VersionManifest<u128>> {
		let at = self.api.at_current_block().await?;
		let record = at
			.storage()
			.try_fetch(
				lilypad::storage().registry().versions(),
				(
					lilypad::runtime_types::bounded_collections::bounded_vec::BoundedVec(
						module.name.to_vec(),
					),
					lilypad::runtime_types::lilypad_primitives::registry::SemVer {
						major: module.version.major,
						minor: module.version.minor,
						patch: module.version.patch,
					},
				),
			)
			.await?
			.with_context(|| format!("module {:?} is not in the registry", module))?
			.decode()?;
		Ok(record.manifest.0)
	}

	/// This provider's offer and whether it is active, if registered.
	pub async fn my_offer(&self) -> anyhow::Result<Option<(Offer<u128>, bool)>> {
		use lilypad::runtime_types::lilypad_primitives::providers::ProviderStatus;
		let at = self.api.at_current_block().await?;
		let record = at
			.storage()
			.try_fetch(lilypad::storage().providers().offers(), (self.account,))
			.await?;
		Ok(match record {
			Some(r) => {
				let r = r.decode()?;
				Some((r.offer.0, matches!(r.status, ProviderStatus::Active)))
			}
			None => None,
		})
	}

	/// The stake this account has bonded as `kind` (provider collateral, mediator stake).
	pub async fn my_bond(&self, kind: BondKind) -> anyhow::Result<u128> {
		let at = self.api.at_current_block().await?;
		let bond = at
			.storage()
			.try_fetch(lilypad::storage().providers().bonds(), (self.account, kind))
			.await?;
		Ok(match bond {
			Some(b) => b.decode()?.bonded,
			None => 0,
		})
	}

	/// Whether this account holds `role`.
	pub async fn has_role(&self, role: lilypad_primitives::identity::Role) -> anyhow::Result<bool> {
		let at = self.api.at_current_block().await?;
		let roles =
			at.storage().fetch(lilypad::storage().identity().roles(), (self.account,)).await?;
		let roles =
			<lilypad_primitives::identity::RoleSet as codec::Decode>::decode(&mut roles.bytes())?;
		Ok(roles.contains(role))
	}

	/// Registers `role` for this account.
	pub async fn register_role(
		&self,
		role: lilypad_primitives::identity::Role,
	) -> anyhow::Result<()> {
		self.call(
			&lilypad::transactions().identity().register_role(generated_role(role)),
			"register_role",
		)
		.await
	}

	/// Signs `call` with the account's next nonce (as the node's pool counts it, or past the
	/// last one this agent sent), lets `before_send` record the signed bytes and the nonce,
	/// sends them and waits until they are finalized. Sends are serialised, so no two of this
	/// agent's transactions take one nonce; a transaction that never lands hands its nonce
	/// back to the pool's count.
	pub async fn send<Call: subxt::transactions::Payload>(
		&self,
		call: &Call,
		before_send: impl FnOnce(&[u8], u64) -> anyhow::Result<()>,
	) -> anyhow::Result<Outcome> {
		let progress = {
			let mut next = self.sending.lock().await;
			// The pool may not count a transaction sent a moment ago yet (submission returns
			// before the pool imports it), so the agent also counts its own.
			let pool = self.legacy().system_account_next_index(&self.account).await?;
			let nonce = next.map_or(pool, |n| n.max(pool));
			let params =
				DefaultExtrinsicParamsBuilder::<SubstrateConfig>::new().nonce(nonce).build();
			let mut txs = self.api.tx().await?;
			let signed = txs.create_signed(call, &self.key, params).await?;
			before_send(signed.encoded(), nonce)?;
			match signed.submit_and_watch().await {
				Ok(progress) => {
					*next = Some(nonce + 1);
					progress
				}
				Err(e) => {
					// Start again from the pool's count: this nonce may be free after all.
					*next = None;
					return Err(e.into());
				}
			}
		};
		let outcome = Self::finish(progress).await;
		if outcome.is_err() {
			*self.sending.lock().await = None;
		}
		outcome
	}

	/// Sends bytes signed earlier, as they are, and waits until they are finalized. Sending
	/// the same bytes twice is harmless: they carry one nonce, so at most one copy is ever
	/// included.
	pub async fn resend(&self, bytes: Vec<u8>) -> anyhow::Result<Outcome> {
		let progress = {
			let _one_at_a_time = self.sending.lock().await;
			let txs = self.api.tx().await?;
			txs.from_bytes(bytes).submit_and_watch().await?
		};
		Self::finish(progress).await
	}

	async fn finish(
		progress: subxt::transactions::TransactionProgress<
			SubstrateConfig,
			subxt::client::OnlineClientAtBlockImpl<SubstrateConfig>,
		>,
	) -> anyhow::Result<Outcome> {
		let in_block = progress.wait_for_finalized().await?;
		Ok(match in_block.wait_for_success().await {
			Ok(_) => Outcome::Success,
			Err(e) => Outcome::Failed(e.to_string()),
		})
	}

	/// Signs and sends `call`, waiting for finality; a dispatch error is an `Err`.
	pub async fn call<Call: subxt::transactions::Payload>(
		&self,
		call: &Call,
		what: &str,
	) -> anyhow::Result<()> {
		match self.send(call, |_, _| Ok(())).await.with_context(|| format!("send {what}"))? {
			Outcome::Success => Ok(()),
			Outcome::Failed(e) => bail!("{what} failed: {e}"),
		}
	}

	/// The account nonce at the last finalized block: transactions below it are on chain.
	pub async fn finalized_nonce(&self) -> anyhow::Result<u64> {
		let txs = self.api.tx().await?;
		Ok(txs.account_nonce(&self.account).await?)
	}

	/// The `submit_result` call for `manifest`, signed by the provider's key.
	pub fn result_call(&self, manifest: &ResultManifest) -> impl subxt::transactions::Payload {
		let payload = lilypad_primitives::jobs::result_signing_payload(&self.genesis, manifest);
		let signature = self.key.sign(&payload).0;
		lilypad::transactions().jobs().submit_result(
			manifest.job,
			Static(manifest.clone()),
			retype(&self.key.public_key().0).expect("a public key is 32 bytes"),
			retype(&signature).expect("a signature is 64 bytes"),
		)
	}

	/// The `submit_mediation` call for `rerun`, signed by the mediator's key.
	pub fn mediation_call(&self, rerun: &ResultManifest) -> impl subxt::transactions::Payload {
		let payload =
			lilypad_primitives::mediation::mediation_signing_payload(&self.genesis, rerun);
		let signature = self.key.sign(&payload).0;
		lilypad::transactions().jobs().submit_mediation(
			rerun.job,
			Static(rerun.clone()),
			retype(&self.key.public_key().0).expect("a public key is 32 bytes"),
			retype(&signature).expect("a signature is 64 bytes"),
		)
	}
}

/// The generated API's name for `role`.
fn generated_role(role: lilypad_primitives::identity::Role) -> Role {
	use lilypad_primitives::identity::Role as R;
	match role {
		R::JobCreator => Role::JobCreator,
		R::ResourceProvider => Role::ResourceProvider,
		R::Solver => Role::Solver,
		R::Mediator => Role::Mediator,
		R::ModuleProvider => Role::ModuleProvider,
	}
}

/// Whether `job` still waits for this provider's result.
pub fn awaits_result_from(job: &ChainJob, me: &AccountId32) -> bool {
	matches!(job.stage, Stage::Matched)
		&& job.result.is_none()
		&& job.assignment.as_ref().is_some_and(|a| &a.provider == me)
}
