//! `lilypad_module`, `lilypad_modules`, `lilypad_model` and `lilypad_models`: the registry
//! (Ampli) of modules and of models as JSON, read through the runtime's `RegistryApi` and
//! `ModelsApi` at the best block (or a given one).
//!
//! Any block can be read, so these speak to every runtime the chain has run: a module of a
//! runtime older than `RegistryApi` version 2 is read in its old layout and shown as today's
//! (needing no models), and a runtime without `ModelsApi` has no models.
use std::sync::Arc;

use crate::rpc::{internal, invalid_params};
use jsonrpsee::{core::RpcResult, proc_macros::rpc, types::ErrorObjectOwned};
use lilypad_primitives::{
	models::{ModelName, ModelsApi, MAX_MODELS_PAGE},
	registry::{v1, ModuleName, RegistryApi, MAX_MODULES_PAGE, MAX_MODULE_NAME_LEN},
	wire, AccountId, Balance, BlockNumber, Hash,
};
use lilypad_runtime::opaque::Block;
use polkadot_sdk::{
	sp_api::{ApiExt, ProvideRuntimeApi},
	sp_blockchain::HeaderBackend,
};

/// The registry's JSON-RPC methods.
#[rpc(server, namespace = "lilypad")]
pub trait RegistryRpc {
	/// A module with all its versions, or `null` if there is none of that name.
	#[method(name = "module")]
	fn module(&self, name: String, at: Option<Hash>) -> RpcResult<Option<wire::Module>>;

	/// A page of modules (at most 100): pass the last name of a page as `start_after` for the
	/// next; an empty page is the end.
	#[method(name = "modules")]
	fn modules(
		&self,
		start_after: Option<String>,
		limit: Option<u32>,
		at: Option<Hash>,
	) -> RpcResult<Vec<wire::Module>>;

	/// A model with all its versions, or `null` if there is none of that name (or the runtime
	/// at that block keeps no models).
	#[method(name = "model")]
	fn model(&self, name: String, at: Option<Hash>) -> RpcResult<Option<wire::Model>>;

	/// A page of models (at most 100): pass the last name of a page as `start_after` for the
	/// next; an empty page is the end (and all there is from a runtime that keeps no models).
	#[method(name = "models")]
	fn models(
		&self,
		start_after: Option<String>,
		limit: Option<u32>,
		at: Option<Hash>,
	) -> RpcResult<Vec<wire::Model>>;
}

/// Serves [`RegistryRpcServer`] from a client.
pub struct Registry<C> {
	client: Arc<C>,
}

impl<C> Registry<C> {
	pub fn new(client: Arc<C>) -> Self {
		Self { client }
	}
}

/// A module's or a model's name (`what`) as the registry keys it.
fn registry_name(what: &str, name: String) -> Result<ModuleName, ErrorObjectOwned> {
	name.into_bytes().try_into().map_err(|_| {
		invalid_params(format!("{what} names are at most {MAX_MODULE_NAME_LEN} bytes"))
	})
}

type ModuleInfoOf = lilypad_primitives::registry::ModuleInfo<AccountId, Balance, BlockNumber>;

impl<C> Registry<C>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: RegistryApi<Block, AccountId, Balance, BlockNumber>
		+ ModelsApi<Block, AccountId, Balance, BlockNumber>,
{
	/// Whether the runtime at `at` is older than `RegistryApi` version 2, whose versions name
	/// no models (runtime spec 109 and before).
	fn before_v2(&self, at: Hash) -> RpcResult<bool> {
		let version = self
			.client
			.runtime_api()
			.api_version::<dyn RegistryApi<Block, AccountId, Balance, BlockNumber>>(at)
			.map_err(internal)?;
		Ok(version.is_some_and(|v| v < 2))
	}

	/// Whether the runtime at `at` keeps models: runtimes before them have no `ModelsApi`.
	fn has_models(&self, at: Hash) -> RpcResult<bool> {
		self.client
			.runtime_api()
			.has_api::<dyn ModelsApi<Block, AccountId, Balance, BlockNumber>>(at)
			.map_err(internal)
	}
}

impl<C> RegistryRpcServer for Registry<C>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: RegistryApi<Block, AccountId, Balance, BlockNumber>
		+ ModelsApi<Block, AccountId, Balance, BlockNumber>,
{
	fn module(&self, name: String, at: Option<Hash>) -> RpcResult<Option<wire::Module>> {
		let at = at.unwrap_or_else(|| self.client.info().best_hash);
		let name = registry_name("module", name)?;
		let api = self.client.runtime_api();
		let info: Option<ModuleInfoOf> = if self.before_v2(at)? {
			#[allow(deprecated)]
			let old = api.module_before_version_2(at, name).map_err(internal)?;
			old.map(v1::ModuleInfo::upgrade)
		} else {
			api.module(at, name).map_err(internal)?
		};
		Ok(info.as_ref().map(wire::Module::from))
	}

	fn modules(
		&self,
		start_after: Option<String>,
		limit: Option<u32>,
		at: Option<Hash>,
	) -> RpcResult<Vec<wire::Module>> {
		let at = at.unwrap_or_else(|| self.client.info().best_hash);
		let start_after = start_after.map(|n| registry_name("module", n)).transpose()?;
		let limit = limit.unwrap_or(MAX_MODULES_PAGE).min(MAX_MODULES_PAGE);
		let api = self.client.runtime_api();
		let page: Vec<ModuleInfoOf> = if self.before_v2(at)? {
			#[allow(deprecated)]
			let old = api.modules_before_version_2(at, start_after, limit).map_err(internal)?;
			old.into_iter().map(v1::ModuleInfo::upgrade).collect()
		} else {
			api.modules(at, start_after, limit).map_err(internal)?
		};
		Ok(page.iter().map(wire::Module::from).collect())
	}

	fn model(&self, name: String, at: Option<Hash>) -> RpcResult<Option<wire::Model>> {
		let at = at.unwrap_or_else(|| self.client.info().best_hash);
		let name: ModelName = registry_name("model", name)?;
		if !self.has_models(at)? {
			return Ok(None);
		}
		let info = self.client.runtime_api().model(at, name).map_err(internal)?;
		Ok(info.as_ref().map(wire::Model::from))
	}

	fn models(
		&self,
		start_after: Option<String>,
		limit: Option<u32>,
		at: Option<Hash>,
	) -> RpcResult<Vec<wire::Model>> {
		let at = at.unwrap_or_else(|| self.client.info().best_hash);
		let start_after = start_after.map(|n| registry_name("model", n)).transpose()?;
		let limit = limit.unwrap_or(MAX_MODELS_PAGE).min(MAX_MODELS_PAGE);
		if !self.has_models(at)? {
			return Ok(Vec::new());
		}
		let page = self.client.runtime_api().models(at, start_after, limit).map_err(internal)?;
		Ok(page.iter().map(wire::Model::from).collect())
	}
}
