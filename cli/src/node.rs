//! The connection to a node: JSON-RPC reads (the node's `lilypad_*` methods) and signed
//! transactions, each waited on until finalized.
use std::time::Duration;

use anyhow::Context;
use lilypad_client::{lilypad, Client};
use serde::de::DeserializeOwned;
use subxt::{
	config::{DefaultExtrinsicParamsBuilder, RpcConfigFor},
	rpcs::{client::RpcParams, methods::LegacyRpcMethods, RpcClient},
	utils::{AccountId32, H256},
	SubstrateConfig,
};
use subxt_signer::sr25519::Keypair;

use crate::error::{fail, Kind};

/// How long to try reaching a node before saying it is unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A connected node.
pub struct Node {
	pub api: Client,
	pub rpc: RpcClient,
}

/// What a finalized transaction left behind.
pub struct Included {
	pub events: subxt::extrinsics::ExtrinsicEvents<SubstrateConfig>,
	/// The fee and tip it paid.
	pub fee: u128,
}

impl Node {
	/// Connects to `url`, failing with [`Kind::Unreachable`] within a few seconds.
	pub async fn connect(url: &str) -> anyhow::Result<Node> {
		let unreachable = |e: String| {
			fail(
				Kind::Unreachable,
				format!(
					"cannot reach the node at {url}: {e} (is it running? `scripts/dev.sh` \
					 starts a dev network; --node or LILYPAD_NODE picks another)"
				),
			)
		};
		let connected = tokio::time::timeout(CONNECT_TIMEOUT, async {
			let rpc = RpcClient::from_insecure_url(url).await.map_err(|e| e.to_string())?;
			let api = Client::from_rpc_client(rpc.clone()).await.map_err(|e| e.to_string())?;
			Ok::<_, String>((rpc, api))
		})
		.await;
		match connected {
			Ok(Ok((rpc, api))) => Ok(Node { api, rpc }),
			Ok(Err(e)) => Err(unreachable(e)),
			Err(_) => Err(unreachable(format!("no answer within {CONNECT_TIMEOUT:?}"))),
		}
	}

	fn legacy(&self) -> LegacyRpcMethods<RpcConfigFor<SubstrateConfig>> {
		LegacyRpcMethods::new(self.rpc.clone())
	}

	/// Calls JSON-RPC `method`.
	pub async fn call<T: DeserializeOwned>(
		&self,
		method: &str,
		params: RpcParams,
	) -> anyhow::Result<T> {
		self.rpc.request(method, params).await.with_context(|| format!("{method} failed"))
	}

	/// The chain's type (`Development`, `Local` or `Live`).
	pub async fn chain_type(&self) -> anyhow::Result<String> {
		let t: serde_json::Value =
			self.call("system_chainType", subxt::rpcs::rpc_params![]).await?;
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

	/// The best block's number.
	pub async fn best_number(&self) -> anyhow::Result<u32> {
		let header = self.legacy().chain_get_header(None).await?.context("no header")?;
		Ok(header.number as u32)
	}

	/// `who`'s free and reserved (held) balance, at the last finalized block.
	pub async fn balance(&self, who: &AccountId32) -> anyhow::Result<(u128, u128)> {
		let at = self.api.at_current_block().await?;
		let info =
			at.storage().fetch(lilypad::storage().system().account(), (*who,)).await?.decode()?;
		Ok((info.data.free, info.data.reserved))
	}

	/// What `who` can spend while staying above the existential deposit.
	pub async fn spendable(&self, who: &AccountId32) -> anyhow::Result<u128> {
		let (free, _) = self.balance(who).await?;
		let at = self.api.at_current_block().await?;
		let ed = at.constants().entry(lilypad::constants().balances().existential_deposit())?;
		Ok(free.saturating_sub(ed))
	}

	/// Whether `who` holds `role`.
	pub async fn has_role(
		&self,
		who: &AccountId32,
		role: lilypad_primitives::identity::Role,
	) -> anyhow::Result<bool> {
		let at = self.api.at_current_block().await?;
		let roles = at.storage().fetch(lilypad::storage().identity().roles(), (*who,)).await?;
		let roles =
			<lilypad_primitives::identity::RoleSet as codec::Decode>::decode(&mut roles.bytes())?;
		Ok(roles.contains(role))
	}

	/// Signs `call` as `signer`, sends it and waits until it is finalized; a dispatch error is
	/// a [`Kind::Refused`] failure naming the runtime's error.
	pub async fn submit<Call: subxt::transactions::Payload>(
		&self,
		call: &Call,
		signer: &Keypair,
		what: &str,
	) -> anyhow::Result<Included> {
		// The pool's next nonce, not the finalized one: another of this account's transactions
		// may still be waiting for finality.
		let account: AccountId32 = signer.public_key().into();
		let nonce = self.legacy().system_account_next_index(&account).await?;
		let params = DefaultExtrinsicParamsBuilder::<SubstrateConfig>::new().nonce(nonce).build();
		let mut txs = self.api.tx().await?;
		let refused = |e: subxt::error::ExtrinsicError| {
			fail(Kind::Refused, format!("{what}: the node refused it: {e}"))
		};
		let signed = txs.create_signed(call, signer, params).await.map_err(refused)?;
		let progress = signed.submit_and_watch().await.map_err(refused)?;
		let in_block = progress.wait_for_finalized().await.with_context(|| what.to_string())?;
		let events = in_block
			.wait_for_success()
			.await
			.map_err(|e| fail(Kind::Refused, format!("{what}: the chain refused it: {e}")))?;
		let fee = events
			.find_first::<lilypad::transaction_payment::events::TransactionFeePaid>()
			.transpose()?
			.map(|f| f.actual_fee + f.tip)
			.unwrap_or(0);
		Ok(Included { events, fee })
	}
}
