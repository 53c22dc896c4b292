//! `lilypad_job`, `lilypad_jobs` and `lilypad_estimate`: jobs with their history, jobs by
//! creator or provider, and what a job on a module would cost, read through the runtime's
//! `JobsApi` at the best block (or a given one).
use std::sync::Arc;

use crate::rpc::{account, internal, invalid_params};
use jsonrpsee::{core::RpcResult, proc_macros::rpc, types::ErrorObjectOwned};
use lilypad_primitives::{
	jobs::{v1, Job, JobId, JobsApi, MAX_JOBS_PAGE},
	registry::{ModuleRef, SemVer},
	wire, AccountId, Balance, BlockNumber, Hash,
};
use lilypad_runtime::opaque::Block;
use polkadot_sdk::{
	sp_api::{ApiExt, ProvideRuntimeApi},
	sp_blockchain::HeaderBackend,
};

/// The jobs' JSON-RPC methods.
#[rpc(server, namespace = "lilypad")]
pub trait JobsRpc {
	/// A job with its terms, charge, assignment, result and history, or `null` (unknown or
	/// pruned).
	#[method(name = "job")]
	fn job(&self, id: JobId, at: Option<Hash>) -> RpcResult<Option<wire::Job>>;

	/// A page of `account`'s jobs as `creator` or `provider` (at most 100), oldest first; pass
	/// the last id of a page as `start_after` for the next.
	#[method(name = "jobs")]
	fn jobs(
		&self,
		account: String,
		role: Option<String>,
		start_after: Option<JobId>,
		limit: Option<u32>,
		at: Option<Hash>,
	) -> RpcResult<Vec<wire::Job>>;

	/// What a job on `module` (`name@version`) would cost now, or `null` if there is no such
	/// version.
	#[method(name = "estimate")]
	fn estimate(&self, module: String, at: Option<Hash>) -> RpcResult<Option<wire::Estimate>>;
}

/// Serves [`JobsRpcServer`] from a client.
pub struct Jobs<C> {
	client: Arc<C>,
}

impl<C> Jobs<C> {
	pub fn new(client: Arc<C>) -> Self {
		Self { client }
	}
}

/// `name@major.minor.patch`.
pub(crate) fn module_ref(s: &str) -> Result<ModuleRef, ErrorObjectOwned> {
	let (name, version) =
		s.split_once('@').ok_or_else(|| invalid_params(format!("{s:?} is not name@version")))?;
	let version = SemVer::parse(version)
		.ok_or_else(|| invalid_params(format!("{version:?} is not major.minor.patch")))?;
	let name = name
		.as_bytes()
		.to_vec()
		.try_into()
		.map_err(|_| invalid_params("module names are at most 32 bytes"))?;
	Ok(ModuleRef { name, version })
}

type JobOf = Job<AccountId, Balance, BlockNumber>;

/// A job a runtime older than `JobsApi` version 2 returned, in today's layout.
fn upgraded(id: JobId, job: v1::Job<AccountId, Balance, BlockNumber>) -> RpcResult<JobOf> {
	job.upgrade().map_err(|old| {
		internal(format!("job {id} is stored in stage {:?} without the parts it needs", old.stage))
	})
}

impl<C> Jobs<C>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: JobsApi<Block, AccountId, Balance, BlockNumber>,
{
	/// Whether the runtime at `at` is older than `JobsApi` version 2, which changed the jobs'
	/// layout (runtime spec 108 and before).
	fn before_v2(&self, at: Hash) -> RpcResult<bool> {
		let version = self
			.client
			.runtime_api()
			.api_version::<dyn JobsApi<Block, AccountId, Balance, BlockNumber>>(at)
			.map_err(internal)?;
		Ok(version.is_some_and(|v| v < 2))
	}
}

impl<C> JobsRpcServer for Jobs<C>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: JobsApi<Block, AccountId, Balance, BlockNumber>,
{
	fn job(&self, id: JobId, at: Option<Hash>) -> RpcResult<Option<wire::Job>> {
		let at = at.unwrap_or_else(|| self.client.info().best_hash);
		let api = self.client.runtime_api();
		let job = if self.before_v2(at)? {
			#[allow(deprecated)]
			let old = api.job_before_version_2(at, id).map_err(internal)?;
			old.map(|j| upgraded(id, j)).transpose()?
		} else {
			api.job(at, id).map_err(internal)?
		};
		Ok(job.as_ref().map(|j| wire::Job::from((id, j))))
	}

	fn jobs(
		&self,
		who: String,
		role: Option<String>,
		start_after: Option<JobId>,
		limit: Option<u32>,
		at: Option<Hash>,
	) -> RpcResult<Vec<wire::Job>> {
		let at = at.unwrap_or_else(|| self.client.info().best_hash);
		let as_provider = match role.as_deref().unwrap_or("creator") {
			"creator" => false,
			"provider" => true,
			other => {
				return Err(invalid_params(format!("role {other:?} is not creator or provider")))
			}
		};
		let limit = limit.unwrap_or(MAX_JOBS_PAGE).min(MAX_JOBS_PAGE);
		let api = self.client.runtime_api();
		let who = account(&who)?;
		let page: Vec<(JobId, JobOf)> = if self.before_v2(at)? {
			#[allow(deprecated)]
			let old = api.jobs_of_before_version_2(at, who, as_provider, start_after, limit)
				.map_err(internal)?;
			old.into_iter().map(|(id, j)| Ok((id, upgraded(id, j)?))).collect::<RpcResult<_>>()?
		} else {
			api.jobs_of(at, who, as_provider, start_after, limit).map_err(internal)?
		};
		Ok(page.iter().map(|(id, j)| wire::Job::from((*id, j))).collect())
	}

	fn estimate(&self, module: String, at: Option<Hash>) -> RpcResult<Option<wire::Estimate>> {
		let at = at.unwrap_or_else(|| self.client.info().best_hash);
		let estimate =
			self.client.runtime_api().estimate(at, module_ref(&module)?).map_err(internal)?;
		Ok(estimate.as_ref().map(wire::Estimate::from))
	}
}
