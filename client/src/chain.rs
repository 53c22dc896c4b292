//! The chain as every off-chain client sees it: a connection to a node, reads of the protocol's
//! state (the node's `lilypad_*` RPC in the wire format, and storage at a block), and signed
//! transactions waited on until finalized, with a typed outcome.
use std::time::{Duration, Instant};

use anyhow::Context;
use codec::Decode;
use lilypad_primitives::{
	identity::{Role, RoleSet},
	jobs::{self, JobId, ResultManifest},
	mediation,
	models::{self, ModelManifest},
	providers::{BondKind, Offer},
	registry::{self, Digest, ModuleRef, VersionManifest},
	wire,
};
use serde::de::DeserializeOwned;
use subxt::{
	config::{DefaultExtrinsicParamsBuilder, RpcConfigFor},
	rpcs::{client::RpcParams, methods::LegacyRpcMethods, rpc_params, RpcClient},
	utils::{AccountId32, H256},
	SubstrateConfig,
};
use subxt_signer::sr25519::Keypair;

use crate::{lilypad, Client};

/// How long one try to reach a node waits for an answer.
pub const CONNECT_ATTEMPT: Duration = Duration::from_secs(5);

/// A job as the chain stores it, decoded from storage.
pub type StoredJob = lilypad_primitives::jobs::Job<AccountId32, u128, u32>;

/// A connected node.
#[derive(Clone)]
pub struct Chain {
	pub api: Client,
	pub rpc: RpcClient,
	/// The chain's genesis hash: what signed manifests and results are bound to.
	pub genesis: [u8; 32],
	/// The block storage is read at.
	pub read_at: ReadAt,
}

/// Which block a [`Chain`] reads storage at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadAt {
	/// The last finalized block: what is read never changes.
	Finalized,
	/// The best block: the newest state, which a reorg may undo (the provider's agent, which
	/// acts as soon as a job is matched; docs/fast-jobs.md).
	Best,
}

/// Why a node could not be reached.
#[derive(Debug)]
pub struct Unreachable {
	pub url: String,
	pub why: String,
}

impl std::fmt::Display for Unreachable {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		write!(f, "cannot reach the node at {}: {}", self.url, self.why)
	}
}

impl std::error::Error for Unreachable {}

/// How a transaction ended, when it did not end in success.
#[derive(Debug)]
pub enum TxError {
	/// The node or its pool refused it (a bad nonce, no funds for the fee, a bad signature):
	/// it never reached a block.
	Refused(String),
	/// It was included, and its dispatch failed: `error` is the runtime's error name
	/// (`InsufficientBalance`, `PriceBelowFloor`), `detail` the whole error as subxt shows it.
	Failed { error: String, detail: String },
	/// The connection failed while it was waited on: whether it was included is unknown.
	Lost(String),
}

impl std::fmt::Display for TxError {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		match self {
			TxError::Refused(why) => write!(f, "the node refused it: {why}"),
			TxError::Failed { detail, .. } => write!(f, "the chain refused it: {detail}"),
			TxError::Lost(why) => write!(f, "lost track of it: {why}"),
		}
	}
}

impl std::error::Error for TxError {}

/// What a finalized, successful transaction left behind.
pub struct Included {
	pub events: subxt::extrinsics::ExtrinsicEvents<SubstrateConfig>,
	/// The fee and tip it paid.
	pub fee: u128,
}

/// `who`, an account as the protocol's types (and the wire format) name it, as the generated
/// API names it.
pub fn account_id(who: &lilypad_primitives::AccountId) -> AccountId32 {
	AccountId32(who.clone().into())
}

/// Whose jobs `lilypad_jobs` lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobRole {
	Creator,
	Provider,
}

impl Chain {
	/// Connects to the node at `url`, trying again until `patience` runs out (a node may
	/// still be starting); each try waits at most [`CONNECT_ATTEMPT`] for an answer. With no
	/// patience, one try.
	pub async fn connect(url: &str, patience: Duration) -> Result<Chain, Unreachable> {
		let start = Instant::now();
		loop {
			let attempt = async {
				let rpc = RpcClient::from_insecure_url(url).await.map_err(|e| e.to_string())?;
				let api = Client::from_rpc_client(rpc.clone()).await.map_err(|e| e.to_string())?;
				Ok::<_, String>((rpc, api))
			};
			let why = match tokio::time::timeout(CONNECT_ATTEMPT, attempt).await {
				Ok(Ok((rpc, api))) => {
					let genesis = api.genesis_hash().0;
					return Ok(Chain { api, rpc, genesis, read_at: ReadAt::Finalized });
				}
				Ok(Err(e)) => e,
				Err(_) => format!("no answer within {CONNECT_ATTEMPT:?}"),
			};
			if start.elapsed() >= patience {
				return Err(Unreachable { url: url.to_string(), why });
			}
			tokio::time::sleep(Duration::from_millis(250)).await;
		}
	}

	/// The same connection, reading storage at `read_at`.
	pub fn reading_at(self, read_at: ReadAt) -> Self {
		Self { read_at, ..self }
	}

	pub fn legacy(&self) -> LegacyRpcMethods<RpcConfigFor<SubstrateConfig>> {
		LegacyRpcMethods::new(self.rpc.clone())
	}

	/// Storage, constants and transactions at the block [`Chain::read_at`] names.
	pub async fn at(
		&self,
	) -> anyhow::Result<
		subxt::client::ClientAtBlock<
			SubstrateConfig,
			subxt::client::OnlineClientAtBlockImpl<SubstrateConfig>,
		>,
	> {
		Ok(match self.read_at {
			ReadAt::Finalized => self.api.at_current_block().await?,
			ReadAt::Best => {
				let best =
					self.legacy().chain_get_block_hash(None).await?.context("no best block")?;
				self.api.at_block(best).await?
			}
		})
	}

	/// Calls JSON-RPC `method`.
	pub async fn call<T: DeserializeOwned>(
		&self,
		method: &str,
		params: RpcParams,
	) -> anyhow::Result<T> {
		self.rpc.request(method, params).await.with_context(|| format!("{method} failed"))
	}

	// The protocol's state through the node's `lilypad_*` RPC, at the best block.

	/// Job `id`, or `None` if there is none (or it was pruned).
	pub async fn job(&self, id: JobId) -> anyhow::Result<Option<wire::Job>> {
		self.job_at(id, None).await
	}

	/// Job `id` as of block `at` (the best block if `None`).
	pub async fn job_at(&self, id: JobId, at: Option<H256>) -> anyhow::Result<Option<wire::Job>> {
		self.call("lilypad_job", rpc_params![id, at]).await
	}

	/// A page of `who`'s jobs as `role`, oldest first, after job `start_after`.
	pub async fn jobs(
		&self,
		who: &AccountId32,
		role: JobRole,
		start_after: Option<JobId>,
		limit: Option<u32>,
	) -> anyhow::Result<Vec<wire::Job>> {
		let role = match role {
			JobRole::Creator => "creator",
			JobRole::Provider => "provider",
		};
		self.call("lilypad_jobs", rpc_params![who.to_string(), role, start_after, limit]).await
	}

	/// What a job on `module` would cost now; `None` if there is no such version.
	pub async fn estimate(&self, module: &ModuleRef) -> anyhow::Result<Option<wire::Estimate>> {
		self.call("lilypad_estimate", rpc_params![module.to_string()]).await
	}

	/// Module `name` with every version.
	pub async fn module(&self, name: &str) -> anyhow::Result<Option<wire::Module>> {
		self.call("lilypad_module", rpc_params![name]).await
	}

	/// A page of modules by name, after `start_after`.
	pub async fn modules(
		&self,
		start_after: Option<&str>,
		limit: Option<u32>,
	) -> anyhow::Result<Vec<wire::Module>> {
		self.call("lilypad_modules", rpc_params![start_after, limit]).await
	}

	/// Model `name` with every version; `None` if there is none (or the node's runtime keeps
	/// no models).
	pub async fn model(&self, name: &str) -> anyhow::Result<Option<wire::Model>> {
		self.call("lilypad_model", rpc_params![name]).await
	}

	/// A page of models by name, after `start_after`.
	pub async fn models(
		&self,
		start_after: Option<&str>,
		limit: Option<u32>,
	) -> anyhow::Result<Vec<wire::Model>> {
		self.call("lilypad_models", rpc_params![start_after, limit]).await
	}

	/// Provider `who`: its offer, status and bond.
	pub async fn provider(&self, who: &AccountId32) -> anyhow::Result<Option<wire::Provider>> {
		self.call("lilypad_provider", rpc_params![who.to_string()]).await
	}

	/// A page of offers matching `filter`.
	pub async fn offers(
		&self,
		filter: &wire::OffersQuery,
		start_after: Option<&AccountId32>,
		limit: Option<u32>,
	) -> anyhow::Result<Vec<wire::Provider>> {
		let start_after = start_after.map(|a| a.to_string());
		self.call("lilypad_offers", rpc_params![filter, start_after, limit]).await
	}

	/// `who`'s bond of `kind`.
	pub async fn bond(
		&self,
		who: &AccountId32,
		kind: BondKind,
	) -> anyhow::Result<Option<wire::Bond>> {
		let kind = match kind {
			BondKind::Provider => "provider",
			BondKind::Solver => "solver",
			BondKind::Mediator => "mediator",
		};
		self.call("lilypad_bond", rpc_params![who.to_string(), kind]).await
	}

	// Blocks.

	/// The chain's type (`Development`, `Local` or `Live`).
	pub async fn chain_type(&self) -> anyhow::Result<String> {
		let t: serde_json::Value = self.call("system_chainType", rpc_params![]).await?;
		Ok(match t {
			serde_json::Value::String(s) => s,
			other => other.as_object().and_then(|o| o.keys().next().cloned()).unwrap_or_default(),
		})
	}

	/// The last finalized block: hash and number.
	pub async fn finalized(&self) -> anyhow::Result<(H256, u32)> {
		let hash = self.legacy().chain_get_finalized_head().await?;
		let header = self.legacy().chain_get_header(Some(hash)).await?.context("no header")?;
		Ok((hash, header.number as u32))
	}

	/// The best block: hash and number.
	pub async fn best(&self) -> anyhow::Result<(H256, u32)> {
		let hash = self.legacy().chain_get_block_hash(None).await?.context("no best block")?;
		let header = self.legacy().chain_get_header(Some(hash)).await?.context("no header")?;
		Ok((hash, header.number as u32))
	}

	/// The best block's number.
	pub async fn best_number(&self) -> anyhow::Result<u32> {
		let header = self.legacy().chain_get_header(None).await?.context("no header")?;
		Ok(header.number as u32)
	}

	// Storage, at the block `read_at` names.

	/// Job `id` as stored.
	pub async fn stored_job(&self, id: JobId) -> anyhow::Result<Option<StoredJob>> {
		let at = self.at().await?;
		let value = at.storage().try_fetch(lilypad::storage().jobs().jobs(), (id,)).await?;
		// Decoded as the protocol's own type: the generated copy has none of its methods.
		Ok(match value {
			Some(v) => Some(StoredJob::decode(&mut v.bytes())?),
			None => None,
		})
	}

	/// Every job ever assigned to `provider`, by id.
	pub async fn jobs_of_provider(&self, provider: &AccountId32) -> anyhow::Result<Vec<JobId>> {
		let at = self.at().await?;
		let mut iter =
			at.storage().iter(lilypad::storage().jobs().jobs_by_provider(), (*provider,)).await?;
		let mut ids = Vec::new();
		while let Some(kv) = iter.next().await {
			let (_, id) = kv?.key()?.decode()?;
			ids.push(id);
		}
		Ok(ids)
	}

	/// The published manifest of `module`, if it is in the registry.
	pub async fn version(
		&self,
		module: &ModuleRef,
	) -> anyhow::Result<Option<VersionManifest<u128>>> {
		use lilypad::runtime_types::{
			bounded_collections::bounded_vec::BoundedVec, lilypad_primitives::registry::SemVer,
		};
		let at = self.at().await?;
		let key = (
			BoundedVec(module.name.to_vec()),
			SemVer {
				major: module.version.major,
				minor: module.version.minor,
				patch: module.version.patch,
			},
		);
		let record = at.storage().try_fetch(lilypad::storage().registry().versions(), key).await?;
		Ok(match record {
			Some(r) => Some(r.decode()?.manifest.0),
			None => None,
		})
	}

	/// The manifest of the published model version `model`, if any. Model versions never
	/// change once published, so a reader may keep what this returns.
	pub async fn model_version(
		&self,
		model: &models::ModelRef,
	) -> anyhow::Result<Option<ModelManifest>> {
		use lilypad::runtime_types::{
			bounded_collections::bounded_vec::BoundedVec, lilypad_primitives::registry::SemVer,
		};
		let at = self.at().await?;
		let key = (
			BoundedVec(model.name.to_vec()),
			SemVer {
				major: model.version.major,
				minor: model.version.minor,
				patch: model.version.patch,
			},
		);
		let record =
			at.storage().try_fetch(lilypad::storage().registry().model_versions(), key).await?;
		Ok(match record {
			Some(r) => Some(r.decode()?.manifest.0),
			None => None,
		})
	}

	/// `who`'s offer and whether it is active, if registered.
	pub async fn offer(&self, who: &AccountId32) -> anyhow::Result<Option<(Offer<u128>, bool)>> {
		use lilypad::runtime_types::lilypad_primitives::providers::ProviderStatus;
		let at = self.at().await?;
		let record =
			at.storage().try_fetch(lilypad::storage().providers().offers(), (*who,)).await?;
		Ok(match record {
			Some(r) => {
				let r = r.decode()?;
				Some((r.offer.0, matches!(r.status, ProviderStatus::Active)))
			}
			None => None,
		})
	}

	/// The stake `who` has bonded as `kind`.
	pub async fn bonded(&self, who: &AccountId32, kind: BondKind) -> anyhow::Result<u128> {
		use lilypad::runtime_types::lilypad_primitives::providers::BondKind as Generated;
		let kind = match kind {
			BondKind::Provider => Generated::Provider,
			BondKind::Solver => Generated::Solver,
			BondKind::Mediator => Generated::Mediator,
		};
		let at = self.at().await?;
		let bond =
			at.storage().try_fetch(lilypad::storage().providers().bonds(), (*who, kind)).await?;
		Ok(match bond {
			Some(b) => b.decode()?.bonded,
			None => 0,
		})
	}

	/// The roles `who` holds.
	pub async fn roles(&self, who: &AccountId32) -> anyhow::Result<RoleSet> {
		let at = self.at().await?;
		let roles = at.storage().fetch(lilypad::storage().identity().roles(), (*who,)).await?;
		Ok(RoleSet::decode(&mut roles.bytes())?)
	}

	/// Whether `who` holds `role`.
	pub async fn has_role(&self, who: &AccountId32, role: Role) -> anyhow::Result<bool> {
		Ok(self.roles(who).await?.contains(role))
	}

	/// `who`'s free and reserved (held) balance.
	pub async fn balance(&self, who: &AccountId32) -> anyhow::Result<(u128, u128)> {
		balance_at(&self.api, who, None).await
	}

	/// What `who` can spend while staying above the existential deposit.
	pub async fn spendable(&self, who: &AccountId32) -> anyhow::Result<u128> {
		let (free, _) = self.balance(who).await?;
		let at = self.at().await?;
		let ed = at.constants().entry(lilypad::constants().balances().existential_deposit())?;
		Ok(free.saturating_sub(ed))
	}

	// Transactions.

	/// The next nonce of `who` as the node's pool counts it (past its pending transactions).
	pub async fn next_nonce(&self, who: &AccountId32) -> anyhow::Result<u64> {
		Ok(self.legacy().system_account_next_index(who).await?)
	}

	/// Signs `call` as `signer` with the pool's next nonce, sends it and waits until it is
	/// finalized.
	pub async fn submit<Call: subxt::transactions::Payload>(
		&self,
		call: &Call,
		signer: &Keypair,
	) -> Result<Included, TxError> {
		let nonce = self
			.next_nonce(&signer.public_key().into())
			.await
			.map_err(|e| TxError::Refused(e.to_string()))?;
		let signed = self.sign(call, signer, nonce).await?;
		self.send(signed).await?.finalized().await
	}

	/// Signs `call` as `signer` with the pool's next nonce, sends it and waits until it is in
	/// a best block: its events and that block. A reorg may still retract it.
	pub async fn submit_best<Call: subxt::transactions::Payload>(
		&self,
		call: &Call,
		signer: &Keypair,
	) -> Result<(Included, H256), TxError> {
		let nonce = self
			.next_nonce(&signer.public_key().into())
			.await
			.map_err(|e| TxError::Refused(e.to_string()))?;
		let signed = self.sign(call, signer, nonce).await?;
		let (included, block, _) = self.send(signed).await?.in_best_block().await?;
		Ok((included, block))
	}

	/// `call` signed as `signer` with `nonce`, ready to send (or to keep, and send again).
	pub async fn sign<Call: subxt::transactions::Payload>(
		&self,
		call: &Call,
		signer: &Keypair,
		nonce: u64,
	) -> Result<Vec<u8>, TxError> {
		let params = DefaultExtrinsicParamsBuilder::<SubstrateConfig>::new().nonce(nonce).build();
		let mut txs = self.api.tx().await.map_err(|e| TxError::Refused(e.to_string()))?;
		let signed = txs
			.create_signed(call, signer, params)
			.await
			.map_err(|e| TxError::Refused(e.to_string()))?;
		Ok(signed.encoded().to_vec())
	}

	/// Hands signed bytes to the node's pool as they are. Sending the same bytes twice is
	/// harmless: they carry one nonce, so at most one copy is ever included.
	pub async fn send(&self, signed: Vec<u8>) -> Result<Pending, TxError> {
		let txs = self.api.tx().await.map_err(|e| TxError::Refused(e.to_string()))?;
		let progress = txs
			.from_bytes(signed)
			.submit_and_watch()
			.await
			.map_err(|e| TxError::Refused(e.to_string()))?;
		Ok(Pending(progress))
	}
}

// What needs only the generated API, for clients that hold no more (tests, tools); `Chain`'s
// methods of the same names use them.

/// The roles `who` holds, at the last finalized block.
pub async fn roles(api: &Client, who: &AccountId32) -> anyhow::Result<RoleSet> {
	let at = api.at_current_block().await?;
	let roles = at.storage().fetch(lilypad::storage().identity().roles(), (*who,)).await?;
	Ok(RoleSet::decode(&mut roles.bytes())?)
}

/// `who`'s free and reserved (held) balance at block `number`, or at the last finalized block.
pub async fn balance_at(
	api: &Client,
	who: &AccountId32,
	number: Option<u64>,
) -> anyhow::Result<(u128, u128)> {
	let at = match number {
		Some(n) => api.at_block(n).await?,
		None => api.at_current_block().await?,
	};
	let info =
		at.storage().fetch(lilypad::storage().system().account(), (*who,)).await?.decode()?;
	Ok((info.data.free, info.data.reserved))
}

/// Signs `call` as `signer` with the next nonce the node knows, sends it and waits until it is
/// finalized.
pub async fn submit<Call: subxt::transactions::Payload>(
	api: &Client,
	call: &Call,
	signer: &Keypair,
) -> Result<Included, TxError> {
	let at = api.at_current_block().await.map_err(|e| TxError::Refused(e.to_string()))?;
	let progress = at
		.transactions()
		.sign_and_submit_then_watch_default(call, signer)
		.await
		.map_err(|e| TxError::Refused(e.to_string()))?;
	Pending(progress).finalized().await
}

/// Publishes the version `manifest` describes as `owner`, signed for this chain (its genesis),
/// first taking the module-provider role and registering the module where `owner` has not yet;
/// returns the fees paid. Whether `owner` may publish it is the chain's to say.
pub async fn publish(
	api: &Client,
	owner: &Keypair,
	manifest: &VersionManifest<u128>,
) -> anyhow::Result<u128> {
	use lilypad::runtime_types::{
		bounded_collections::bounded_vec::BoundedVec,
		lilypad_primitives::identity::Role as Generated,
	};
	let tx = lilypad::transactions;
	let who = owner.public_key().into();
	let mut fees = 0;
	if !roles(api, &who).await?.contains(Role::ModuleProvider) {
		let call = tx().identity().register_role(Generated::ModuleProvider);
		fees += submit(api, &call, owner).await?.fee;
	}
	let name = || BoundedVec(manifest.module.to_vec());
	let at = api.at_current_block().await?;
	let modules = lilypad::storage().registry().modules();
	if at.storage().try_fetch(modules, (name(),)).await?.is_none() {
		fees += submit(api, &tx().registry().publish_module(name()), owner).await?.fee;
	}
	let payload = registry::manifest_signing_payload(&api.genesis_hash().0, manifest);
	let call = tx().registry().publish_version(
		subxt::utils::Static(manifest.clone()),
		crate::retype(&owner.public_key().0)?,
		crate::retype(&owner.sign(&payload).0)?,
	);
	fees += submit(api, &call, owner).await?.fee;
	Ok(fees)
}

/// Publishes the model version `manifest` describes as `owner`, signed for this chain (its
/// genesis), first taking the module-provider role where `owner` has not yet; the first version
/// of a name registers the model for `owner`. Returns the fees paid. Whether `owner` may
/// publish it (the name is free or its own, the parent exists, the royalties fit the cap) is
/// the chain's to say. The weights themselves go to the content stores, not the chain.
pub async fn publish_model(
	api: &Client,
	owner: &Keypair,
	manifest: &ModelManifest,
) -> anyhow::Result<u128> {
	use lilypad::runtime_types::lilypad_primitives::identity::Role as Generated;
	let tx = lilypad::transactions;
	let who = owner.public_key().into();
	let mut fees = 0;
	if !roles(api, &who).await?.contains(Role::ModuleProvider) {
		let call = tx().identity().register_role(Generated::ModuleProvider);
		fees += submit(api, &call, owner).await?.fee;
	}
	let payload = models::model_signing_payload(&api.genesis_hash().0, manifest);
	let call = tx().registry().publish_model(
		subxt::utils::Static(manifest.clone()),
		crate::retype(&owner.public_key().0)?,
		crate::retype(&owner.sign(&payload).0)?,
	);
	fees += submit(api, &call, owner).await?.fee;
	Ok(fees)
}

/// The `submit_result` call for `manifest`, run with the model weights `models` (their
/// digests, in the order the job's module names its models), signed by `provider` for the
/// chain of `genesis`.
pub fn result_call(
	genesis: &[u8; 32],
	provider: &Keypair,
	manifest: &ResultManifest,
	models: &[Digest],
) -> impl subxt::transactions::Payload {
	use lilypad::runtime_types::bounded_collections::bounded_vec::BoundedVec;
	let signature = provider.sign(&jobs::result_signing_payload(genesis, manifest, models)).0;
	lilypad::transactions().jobs().submit_result(
		manifest.job,
		subxt::utils::Static(manifest.clone()),
		BoundedVec(models.to_vec()),
		crate::retype(&provider.public_key().0).expect("a public key is 32 bytes"),
		crate::retype(&signature).expect("a signature is 64 bytes"),
	)
}

/// [`result_call`] as a call of the runtime, to send in a batch.
pub fn result_runtime_call(
	genesis: &[u8; 32],
	provider: &Keypair,
	manifest: &ResultManifest,
	models: &[Digest],
) -> RuntimeCall {
	use lilypad::runtime_types::{
		bounded_collections::bounded_vec::BoundedVec, pallet_jobs::pallet::Call as JobsCall,
	};
	let signature = provider.sign(&jobs::result_signing_payload(genesis, manifest, models)).0;
	RuntimeCall::Jobs(JobsCall::submit_result {
		job: manifest.job,
		manifest: subxt::utils::Static(manifest.clone()),
		models: BoundedVec(models.to_vec()),
		signer: crate::retype(&provider.public_key().0).expect("a public key is 32 bytes"),
		signature: crate::retype(&signature).expect("a signature is 64 bytes"),
	})
}

/// A call of the runtime, as the generated API names it.
pub type RuntimeCall = lilypad::runtime_types::lilypad_runtime::RuntimeCall;

/// The `submit_mediation` call for `rerun`, signed by `mediator` for the chain of `genesis`.
pub fn mediation_call(
	genesis: &[u8; 32],
	mediator: &Keypair,
	rerun: &ResultManifest,
) -> impl subxt::transactions::Payload {
	let signature = mediator.sign(&mediation::mediation_signing_payload(genesis, rerun)).0;
	lilypad::transactions().jobs().submit_mediation(
		rerun.job,
		subxt::utils::Static(rerun.clone()),
		crate::retype(&mediator.public_key().0).expect("a public key is 32 bytes"),
		crate::retype(&signature).expect("a signature is 64 bytes"),
	)
}

/// A transaction in the pool.
pub struct Pending(
	subxt::transactions::TransactionProgress<
		SubstrateConfig,
		subxt::client::OnlineClientAtBlockImpl<SubstrateConfig>,
	>,
);

impl Pending {
	/// Waits until the transaction is in a best block (or, if the node reports that first, a
	/// finalized one); its events and block if it succeeded there. A best block can still be
	/// retracted: [`Pending::finalized`] on what is returned waits for finality.
	pub async fn in_best_block(mut self) -> Result<(Included, H256, Self), TxError> {
		use subxt::transactions::TransactionStatus as S;
		while let Some(status) = self.0.next().await {
			let in_block = match status.map_err(|e| TxError::Lost(e.to_string()))? {
				S::InBestBlock(b) | S::InFinalizedBlock(b) => b,
				S::Invalid { message } => return Err(TxError::Refused(message)),
				S::Dropped { message } => return Err(TxError::Lost(format!("dropped: {message}"))),
				S::Error { message } => return Err(TxError::Lost(message)),
				S::Validated | S::Broadcasted | S::NoLongerInBestBlock => continue,
			};
			let events = in_block.wait_for_success().await.map_err(failed)?;
			let fee = fee_paid(&events).unwrap_or(0);
			return Ok((Included { events, fee }, in_block.block_hash(), self));
		}
		Err(TxError::Lost("the node stopped reporting on it".into()))
	}

	/// Waits until the transaction is in a finalized block; its events if it succeeded.
	pub async fn finalized(self) -> Result<Included, TxError> {
		let in_block =
			self.0.wait_for_finalized().await.map_err(|e| TxError::Lost(e.to_string()))?;
		let events = in_block.wait_for_success().await.map_err(failed)?;
		let fee = fee_paid(&events).unwrap_or(0);
		Ok(Included { events, fee })
	}
}

/// The fee and tip a transaction paid, from its events.
pub fn fee_paid(events: &subxt::extrinsics::ExtrinsicEvents<SubstrateConfig>) -> Option<u128> {
	let paid = events.find_first::<lilypad::transaction_payment::events::TransactionFeePaid>();
	paid.and_then(Result::ok).map(|f| f.actual_fee + f.tip)
}

/// The outcome of a transaction whose events say it failed (or cannot be read).
fn failed(e: subxt::error::TransactionEventsError) -> TxError {
	use subxt::error::{DispatchError, TransactionEventsError as E};
	match &e {
		E::ExtrinsicFailed(DispatchError::Module(m)) => TxError::Failed {
			error: m.details().map(|d| d.variant.name.clone()).unwrap_or_default(),
			detail: e.to_string(),
		},
		E::ExtrinsicFailed(other) => {
			// `BadOrigin`, `Token(FundsUnavailable)`: the variant's name as Debug shows it.
			let error = format!("{other:?}");
			TxError::Failed { error, detail: e.to_string() }
		}
		_ => TxError::Lost(e.to_string()),
	}
}
