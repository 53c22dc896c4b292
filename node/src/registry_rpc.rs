//! `lilypad_module` and `lilypad_modules`: the module registry (Ampli) as JSON, read through
//! the runtime's `RegistryApi` at the best block (or a given one).
use std::sync::Arc;

use crate::rpc::{internal, invalid_params};
use jsonrpsee::{core::RpcResult, proc_macros::rpc, types::ErrorObjectOwned};
use lilypad_primitives::{
	registry::{ModuleName, RegistryApi, MAX_MODULES_PAGE},
	wire, AccountId, Balance, BlockNumber, Hash,
};
use lilypad_runtime::opaque::Block;
use polkadot_sdk::{sp_api::ProvideRuntimeApi, sp_blockchain::HeaderBackend};

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

fn module_name(name: String) -> Result<ModuleName, ErrorObjectOwned> {
	name.into_bytes().try_into().map_err(|_| invalid_params("module names are at most 32 bytes"))
}

impl<C> RegistryRpcServer for Registry<C>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: RegistryApi<Block, AccountId, Balance, BlockNumber>,
{
	fn module(&self, name: String, at: Option<Hash>) -> RpcResult<Option<wire::Module>> {
		let at = at.unwrap_or_else(|| self.client.info().best_hash);
		let name = module_name(name)?;
		let info = self.client.runtime_api().module(at, name).map_err(internal)?;
		Ok(info.as_ref().map(wire::Module::from))
	}

	fn modules(
		&self,
		start_after: Option<String>,
		limit: Option<u32>,
		at: Option<Hash>,
	) -> RpcResult<Vec<wire::Module>> {
		let at = at.unwrap_or_else(|| self.client.info().best_hash);
		let start_after = start_after.map(module_name).transpose()?;
		let limit = limit.unwrap_or(MAX_MODULES_PAGE).min(MAX_MODULES_PAGE);
		let page = self.client.runtime_api().modules(at, start_after, limit).map_err(internal)?;
		Ok(page.iter().map(wire::Module::from).collect())
	}
}
