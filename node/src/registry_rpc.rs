//! `lilypad_module` and `lilypad_modules`: the module registry (Ampli) as JSON, read through
//! the runtime's `RegistryApi` at the best block (or a given one).
use std::sync::Arc;

use crate::rpc::{hex, internal, invalid_params, text};
use jsonrpsee::{core::RpcResult, proc_macros::rpc, types::ErrorObjectOwned};
use lilypad_primitives::{
	registry::{
		Artifact, Delivery, InputParam, ModuleInfo, ModuleName, ParamType, RegistryApi, Resources,
		VerificationPolicy, VersionRecord, MAX_MODULES_PAGE,
	},
	AccountId, Balance, BlockNumber, Hash,
};
use lilypad_runtime::opaque::Block;
use polkadot_sdk::{sp_api::ProvideRuntimeApi, sp_blockchain::HeaderBackend};
use serde_json::{json, Value};

/// The registry's JSON-RPC methods.
#[rpc(server, namespace = "lilypad")]
pub trait RegistryRpc {
	/// A module with all its versions, or `null` if there is none of that name.
	#[method(name = "module")]
	fn module(&self, name: String, at: Option<Hash>) -> RpcResult<Option<Value>>;

	/// A page of modules (at most 100): pass the last name of a page as `start_after` for the
	/// next; an empty page is the end.
	#[method(name = "modules")]
	fn modules(
		&self,
		start_after: Option<String>,
		limit: Option<u32>,
		at: Option<Hash>,
	) -> RpcResult<Vec<Value>>;
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
	fn module(&self, name: String, at: Option<Hash>) -> RpcResult<Option<Value>> {
		let at = at.unwrap_or_else(|| self.client.info().best_hash);
		let name = module_name(name)?;
		let info = self.client.runtime_api().module(at, name).map_err(internal)?;
		Ok(info.as_ref().map(module_json))
	}

	fn modules(
		&self,
		start_after: Option<String>,
		limit: Option<u32>,
		at: Option<Hash>,
	) -> RpcResult<Vec<Value>> {
		let at = at.unwrap_or_else(|| self.client.info().best_hash);
		let start_after = start_after.map(module_name).transpose()?;
		let limit = limit.unwrap_or(MAX_MODULES_PAGE).min(MAX_MODULES_PAGE);
		let page = self.client.runtime_api().modules(at, start_after, limit).map_err(internal)?;
		Ok(page.iter().map(module_json).collect())
	}
}

/// Balances as decimal strings: a u128 does not fit a JSON number.
pub(crate) fn module_json(m: &ModuleInfo<AccountId, Balance, BlockNumber>) -> Value {
	json!({
		"name": text(&m.name),
		"owner": m.owner.to_string(),
		"deposit": m.deposit.to_string(),
		"versions": m.versions.iter().map(version_json).collect::<Vec<_>>(),
	})
}

fn version_json(v: &VersionRecord<AccountId, Balance, BlockNumber>) -> Value {
	let m = &v.manifest;
	let artifact = match &m.artifact {
		Artifact::Docker { archive_digest, config_digest } => json!({
			"kind": "docker",
			"archiveDigest": hex(archive_digest),
			"configDigest": hex(config_digest),
		}),
		Artifact::Wasm { digest, size } => {
			json!({ "kind": "wasm", "digest": hex(digest), "size": size })
		}
	};
	json!({
		"version": m.version.to_string(),
		"artifact": artifact,
		"inputs": m.inputs.iter().map(param_json).collect::<Vec<_>>(),
		"resources": resources_json(&m.resources),
		"timeoutSecs": m.timeout_secs,
		"priceFloor": v.price_floor.to_string(),
		"signedPriceFloor": m.price_floor.to_string(),
		"royaltyPerBillion": m.royalty.deconstruct(),
		"lineageRoyaltyPerBillion": v.lineage_royalty.deconstruct(),
		"verification": verification_json(&m.verification),
		"parent": m.parent.as_ref().map(|p| format!("{}@{}", text(&p.name), p.version)),
		"depth": v.depth,
		"publisher": v.publisher.to_string(),
		"signature": hex(&v.signature.0),
		"publishedAt": v.published_at,
		"deprecated": v.deprecated,
		"activeJobs": v.active_jobs,
		"forks": v.forks,
	})
}

pub(crate) fn verification_json(v: &VerificationPolicy) -> Value {
	match v {
		VerificationPolicy::None => json!({ "policy": "none" }),
		VerificationPolicy::Deterministic => json!({ "policy": "deterministic" }),
		VerificationPolicy::Sampled { p } => {
			json!({ "policy": "sampled", "pPerBillion": p.deconstruct() })
		}
	}
}

pub(crate) fn resources_json(r: &Resources) -> Value {
	json!({
		"cpuMillicores": r.cpu_millicores,
		"ramMib": r.ram_mib,
		"gpus": r.gpus,
		"vramMib": r.vram_mib,
		"diskMib": r.disk_mib,
	})
}

fn param_json(p: &InputParam) -> Value {
	json!({
		"name": text(&p.name),
		"type": match p.kind {
			ParamType::Text => "text",
			ParamType::Integer => "integer",
			ParamType::Boolean => "boolean",
		},
		"default": p.default.as_ref().map(|d| text(d)),
		"required": p.required,
		"delivery": match p.delivery {
			Delivery::Env => "env",
			Delivery::Argument => "argument",
			Delivery::File => "file",
		},
	})
}
