//! `lilypad_provider`, `lilypad_offers` and `lilypad_bond`: providers, their offers and bonds
//! as JSON, read through the runtime's `ProvidersApi` at the best block (or a given one), on
//! runtimes on both sides of its version 2 (offers that list models).
use std::sync::Arc;

use crate::rpc::{account, internal, invalid_params};
use jsonrpsee::{core::RpcResult, proc_macros::rpc, types::ErrorObjectOwned};
use lilypad_primitives::{
	providers::{v1, BondKind, OfferFilter, ProviderInfo, ProvidersApi, MAX_OFFERS_PAGE},
	registry::Resources,
	wire, AccountId, Balance, BlockNumber, Hash,
};
use lilypad_runtime::opaque::Block;
use polkadot_sdk::{
	sp_api::{ApiExt, ProvideRuntimeApi},
	sp_blockchain::HeaderBackend,
};

/// The providers' JSON-RPC methods.
#[rpc(server, namespace = "lilypad")]
pub trait ProvidersRpc {
	/// A provider's offer, status, running jobs and collateral bond, or `null`.
	#[method(name = "provider")]
	fn provider(&self, account: String, at: Option<Hash>) -> RpcResult<Option<wire::Provider>>;

	/// A page of providers passing `filter` (at most 100): pass the last provider of a page as
	/// `start_after` for the next; an empty page is the end.
	#[method(name = "offers")]
	fn offers(
		&self,
		filter: Option<wire::OffersQuery>,
		start_after: Option<String>,
		limit: Option<u32>,
		at: Option<Hash>,
	) -> RpcResult<Vec<wire::Provider>>;

	/// `account`'s bond of `kind` (`provider`, `solver` or `mediator`), or `null`.
	#[method(name = "bond")]
	fn bond(
		&self,
		account: String,
		kind: String,
		at: Option<Hash>,
	) -> RpcResult<Option<wire::Bond>>;
}

/// Serves [`ProvidersRpcServer`] from a client.
pub struct Providers<C> {
	client: Arc<C>,
}

impl<C> Providers<C> {
	pub fn new(client: Arc<C>) -> Self {
		Self { client }
	}
}

fn bond_kind(kind: &str) -> Result<BondKind, ErrorObjectOwned> {
	match kind {
		"provider" => Ok(BondKind::Provider),
		"solver" => Ok(BondKind::Solver),
		"mediator" => Ok(BondKind::Mediator),
		other => Err(invalid_params(format!(
			"bond kind {other:?} is not one of provider, solver, mediator"
		))),
	}
}

type ProviderInfoOf = ProviderInfo<AccountId, Balance, BlockNumber>;

impl<C> Providers<C>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: ProvidersApi<Block, AccountId, Balance, BlockNumber>,
{
	/// Whether the runtime at `at` is older than `ProvidersApi` version 2, whose offers list
	/// the models their providers hold (runtime spec 109 and before). Its offers are shown
	/// listing none.
	fn before_v2(&self, at: Hash) -> RpcResult<bool> {
		let version = self
			.client
			.runtime_api()
			.api_version::<dyn ProvidersApi<Block, AccountId, Balance, BlockNumber>>(at)
			.map_err(internal)?;
		Ok(version.is_some_and(|v| v < 2))
	}
}

impl<C> ProvidersRpcServer for Providers<C>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: ProvidersApi<Block, AccountId, Balance, BlockNumber>,
{
	fn provider(&self, who: String, at: Option<Hash>) -> RpcResult<Option<wire::Provider>> {
		let at = at.unwrap_or_else(|| self.client.info().best_hash);
		let who = account(&who)?;
		let api = self.client.runtime_api();
		let info: Option<ProviderInfoOf> = if self.before_v2(at)? {
			#[allow(deprecated)]
			let old = api.provider_before_version_2(at, who).map_err(internal)?;
			old.map(v1::ProviderInfo::upgrade)
		} else {
			api.provider(at, who).map_err(internal)?
		};
		Ok(info.as_ref().map(wire::Provider::from))
	}

	fn offers(
		&self,
		filter: Option<wire::OffersQuery>,
		start_after: Option<String>,
		limit: Option<u32>,
		at: Option<Hash>,
	) -> RpcResult<Vec<wire::Provider>> {
		let at = at.unwrap_or_else(|| self.client.info().best_hash);
		let q = filter.unwrap_or_default();
		let module = q
			.module
			.map(|m| m.into_bytes().try_into())
			.transpose()
			.map_err(|_| invalid_params("module names are at most 32 bytes"))?;
		let needs =
			[q.cpu_millicores, q.ram_mib, q.vram_mib, q.disk_mib].iter().any(Option::is_some)
				|| q.gpus.is_some();
		let covers = needs.then(|| Resources {
			cpu_millicores: q.cpu_millicores.unwrap_or(0),
			ram_mib: q.ram_mib.unwrap_or(0),
			gpus: q.gpus.unwrap_or(0),
			vram_mib: q.vram_mib.unwrap_or(0),
			disk_mib: q.disk_mib.unwrap_or(0),
		});
		let filter = OfferFilter { module, covers, active_only: q.active_only };
		let start_after = start_after.as_deref().map(account).transpose()?;
		let limit = limit.unwrap_or(MAX_OFFERS_PAGE).min(MAX_OFFERS_PAGE);
		let api = self.client.runtime_api();
		let page: Vec<ProviderInfoOf> = if self.before_v2(at)? {
			#[allow(deprecated)]
			let old = api.offers_before_version_2(at, start_after, limit, filter).map_err(internal)?;
			old.into_iter().map(v1::ProviderInfo::upgrade).collect()
		} else {
			api.offers(at, start_after, limit, filter).map_err(internal)?
		};
		Ok(page.iter().map(wire::Provider::from).collect())
	}

	fn bond(&self, who: String, kind: String, at: Option<Hash>) -> RpcResult<Option<wire::Bond>> {
		let at = at.unwrap_or_else(|| self.client.info().best_hash);
		let bond = self
			.client
			.runtime_api()
			.bond(at, account(&who)?, bond_kind(&kind)?)
			.map_err(internal)?;
		Ok(bond.as_ref().map(wire::Bond::from))
	}
}
