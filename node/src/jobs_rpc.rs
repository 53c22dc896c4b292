//! `lilypad_job`, `lilypad_jobs` and `lilypad_estimate`: jobs with their history, jobs by
//! creator or provider, and what a job on a module would cost, read through the runtime's
//! `JobsApi` at the best block (or a given one).
use std::sync::Arc;

use crate::{
	registry_rpc::{resources_json, verification_json},
	rpc::{account, hex, internal, invalid_params, text},
};
use jsonrpsee::{core::RpcResult, proc_macros::rpc, types::ErrorObjectOwned};
use lilypad_primitives::{
	economics::Charge,
	jobs::{
		ExitStatus, Job, JobId, JobsApi, PriceEstimate, ResultManifest, SlashCause, Stage,
		MAX_JOBS_PAGE,
	},
	mediation::{MediationCause, Verdict},
	registry::{ModuleRef, SemVer},
	AccountId, Balance, BlockNumber, Hash,
};
use lilypad_runtime::opaque::Block;
use polkadot_sdk::{sp_api::ProvideRuntimeApi, sp_blockchain::HeaderBackend};
use serde_json::{json, Value};

/// The jobs' JSON-RPC methods.
#[rpc(server, namespace = "lilypad")]
pub trait JobsRpc {
	/// A job with its terms, charge, assignment, result and history, or `null` (unknown or
	/// pruned).
	#[method(name = "job")]
	fn job(&self, id: JobId, at: Option<Hash>) -> RpcResult<Option<Value>>;

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
	) -> RpcResult<Vec<Value>>;

	/// What a job on `module` (`name@version`) would cost now, or `null` if there is no such
	/// version.
	#[method(name = "estimate")]
	fn estimate(&self, module: String, at: Option<Hash>) -> RpcResult<Option<Value>>;
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

impl<C> JobsRpcServer for Jobs<C>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: JobsApi<Block, AccountId, Balance, BlockNumber>,
{
	fn job(&self, id: JobId, at: Option<Hash>) -> RpcResult<Option<Value>> {
		let at = at.unwrap_or_else(|| self.client.info().best_hash);
		let job = self.client.runtime_api().job(at, id).map_err(internal)?;
		Ok(job.as_ref().map(|j| job_json(id, j)))
	}

	fn jobs(
		&self,
		who: String,
		role: Option<String>,
		start_after: Option<JobId>,
		limit: Option<u32>,
		at: Option<Hash>,
	) -> RpcResult<Vec<Value>> {
		let at = at.unwrap_or_else(|| self.client.info().best_hash);
		let as_provider = match role.as_deref().unwrap_or("creator") {
			"creator" => false,
			"provider" => true,
			other => {
				return Err(invalid_params(format!("role {other:?} is not creator or provider")))
			}
		};
		let limit = limit.unwrap_or(MAX_JOBS_PAGE).min(MAX_JOBS_PAGE);
		let page = self
			.client
			.runtime_api()
			.jobs_of(at, account(&who)?, as_provider, start_after, limit)
			.map_err(internal)?;
		Ok(page.iter().map(|(id, j)| job_json(*id, j)).collect())
	}

	fn estimate(&self, module: String, at: Option<Hash>) -> RpcResult<Option<Value>> {
		let at = at.unwrap_or_else(|| self.client.info().best_hash);
		let estimate =
			self.client.runtime_api().estimate(at, module_ref(&module)?).map_err(internal)?;
		Ok(estimate.as_ref().map(estimate_json))
	}
}

pub(crate) fn estimate_json(e: &PriceEstimate<AccountId, Balance>) -> Value {
	json!({
		"floor": e.floor.to_string(),
		"cheapest": e.cheapest.as_ref().map(|(p, price)| json!({
			"provider": p.to_string(),
			"price": price.to_string(),
		})),
		"offers": e.offers,
		"charge": charge_json(&e.charge),
	})
}

/// The JSON name of a stage, as clients match on it.
pub(crate) fn stage_name(stage: Stage) -> &'static str {
	match stage {
		Stage::Submitted => "submitted",
		Stage::Matched => "matched",
		Stage::ResultSubmitted => "resultSubmitted",
		Stage::InMediation => "inMediation",
		Stage::SlashPending => "slashPending",
		Stage::Completed => "completed",
		Stage::Cancelled => "cancelled",
		Stage::Expired => "expired",
		Stage::Slashed => "slashed",
		Stage::SlashCancelled => "slashCancelled",
	}
}

/// Balances as decimal strings: a u128 does not fit a JSON number.
fn charge_json(c: &Charge<Balance>) -> Value {
	json!({
		"price": c.price.to_string(),
		"solverFee": c.solver_fee.to_string(),
		"royalties": c.royalties.to_string(),
		"protocolFee": c.protocol_fee.to_string(),
		"total": c.total().to_string(),
	})
}

fn result_json(r: &ResultManifest) -> Value {
	let exit = match r.exit {
		ExitStatus::Success => json!({ "kind": "success", "code": 0 }),
		ExitStatus::Failed { code } => json!({ "kind": "failed", "code": code }),
		ExitStatus::TimedOut => json!({ "kind": "timedOut" }),
		ExitStatus::OutOfMemory => json!({ "kind": "outOfMemory" }),
	};
	json!({
		"moduleDigest": hex(&r.module_digest),
		"inputDigest": hex(&r.input_digest),
		"outputDigest": hex(&r.output_digest),
		"stdoutDigest": hex(&r.stdout_digest),
		"stderrDigest": hex(&r.stderr_digest),
		"exit": exit,
		"usage": {
			"wallMs": r.usage.wall_ms,
			"cpuMs": r.usage.cpu_ms,
			"peakRamMib": r.usage.peak_ram_mib,
			"gpuMs": r.usage.gpu_ms,
		},
	})
}

pub(crate) fn job_json(id: JobId, j: &Job<AccountId, Balance, BlockNumber>) -> Value {
	json!({
		"id": id,
		"creator": j.creator.to_string(),
		"module": format!("{}@{}", text(&j.module.name), j.module.version),
		"moduleDigest": hex(&j.module_digest),
		"resources": resources_json(&j.resources),
		"timeoutSecs": j.timeout_secs,
		"verification": verification_json(&j.verification),
		"inputs": j.inputs.params.iter().map(|(n, v)| json!({
			"name": text(n),
			"value": text(v),
		})).collect::<Vec<_>>(),
		"inputBlob": j.inputs.blob.as_ref().map(|d| hex(d)),
		"maxPrice": j.max_price.to_string(),
		"target": j.target.as_ref().map(|t| t.to_string()),
		"credentials": j.credentials.iter().map(|c| text(c)).collect::<Vec<_>>(),
		"charge": charge_json(&j.charge),
		"escrow": j.escrow.to_string(),
		"challengeFee": j.challenge_fee.to_string(),
		"deposit": j.deposit.to_string(),
		"matchBy": j.match_by,
		"assignment": j.assignment.as_ref().map(|a| json!({
			"provider": a.provider.to_string(),
			"solver": a.solver.to_string(),
			"price": a.price.to_string(),
			"collateral": a.collateral.to_string(),
			"matchedAt": a.matched_at,
			"executeBy": a.execute_by,
		})),
		"result": j.result.as_ref().map(result_json),
		"slash": j.slash.as_ref().map(|s| json!({
			"cause": match s.cause {
				SlashCause::ExecutionTimeout => "executionTimeout",
				SlashCause::BadResult => "badResult",
			},
			"toCreator": s.to_creator.to_string(),
			"toMediator": s.to_mediator.to_string(),
			"toTreasury": s.to_treasury.to_string(),
			"appliesAt": s.applies_at,
		})),
		"mediation": j.mediation.as_ref().map(|m| json!({
			"cause": match m.cause {
				MediationCause::Sampled => "sampled",
				MediationCause::Challenged => "challenged",
			},
			"mediator": m.mediator.as_ref().map(|a| a.to_string()),
			"stakeLocked": m.stake_locked.to_string(),
			"answerBy": m.answer_by,
			"failed": m.failed.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
			"verdict": m.verdict.map(|v| match v {
				Verdict::ResultUpheld => "resultUpheld",
				Verdict::ResultWrong => "resultWrong",
			}),
		})),
		"stage": stage_name(j.stage),
		"due": j.due,
		"history": j.history.iter().map(|(s, at)| json!({
			"stage": stage_name(*s),
			"at": at,
		})).collect::<Vec<_>>(),
	})
}
