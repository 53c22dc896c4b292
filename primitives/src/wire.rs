//! The JSON of the node's `lilypad_*` RPC: one set of types that the node writes and every
//! client (CLI, agent, gateway, tests) reads. Pinned by `node/src/golden.rs`.
//!
//! The JSON is for people and tools as much as for Rust: balances are decimal strings (a `u128`
//! does not fit a JSON number), digests and signatures `0x`-prefixed hex, names and other
//! on-chain bytes text, enums camelCase names, modules and models `name@version`. Derived
//! serde on the stored types would give byte arrays, so these types say how each field is
//! written; leaf types (stages, resources, policies, weights' layouts and formats) derive it
//! where they are defined.
//!
//! Each type converts from what the runtime API returns; the job's progress predicates
//! ([`crate::jobs::Stage::is_settled`] and the job's own) are the stored types' methods, so
//! the pallet, the agent and the CLI agree on them.
use crate::{
	economics,
	jobs::{self, ExitStatus, JobId, Stage, Usage},
	mediation::{MediationCause, Verdict},
	models::{self, ModelManifest, WeightsFormat, WeightsLayout},
	providers::{self, ModuleFilter, ProviderStatus},
	registry::{
		self, Artifact, Delivery, Digest, ModuleRef, ParamType, Resources, SemVer,
		VerificationPolicy,
	},
	AccountId, Balance, BlockNumber,
};
use serde::{Deserialize, Serialize};

/// `lilypad_job`, and each of `lilypad_jobs`: a job with its terms, charge, assignment, result
/// and history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
	pub id: JobId,
	pub creator: AccountId,
	#[serde(with = "module_ref")]
	pub module: ModuleRef,
	#[serde(with = "digest")]
	pub module_digest: Digest,
	pub resources: Resources,
	pub timeout_secs: u32,
	pub verification: VerificationPolicy,
	/// The inline input values, in the order given.
	pub inputs: Vec<Input>,
	/// The one larger input, by digest.
	#[serde(with = "digest::option")]
	pub input_blob: Option<Digest>,
	#[serde(with = "decimal")]
	pub max_price: Balance,
	pub target: Option<AccountId>,
	pub credentials: Vec<String>,
	pub charge: Charge,
	#[serde(with = "decimal")]
	pub escrow: Balance,
	#[serde(with = "decimal")]
	pub challenge_fee: Balance,
	#[serde(with = "decimal")]
	pub deposit: Balance,
	pub match_by: BlockNumber,
	pub assignment: Option<Assignment>,
	pub result: Option<JobResult>,
	pub slash: Option<Slash>,
	pub mediation: Option<Mediation>,
	pub stage: Stage,
	pub due: Option<BlockNumber>,
	pub history: Vec<Step>,
}

/// One inline input value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Input {
	pub name: String,
	pub value: String,
}

/// What a job is charged, part by part, and in all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Charge {
	#[serde(with = "decimal")]
	pub price: Balance,
	#[serde(with = "decimal")]
	pub solver_fee: Balance,
	#[serde(with = "decimal")]
	pub royalties: Balance,
	#[serde(with = "decimal")]
	pub protocol_fee: Balance,
	#[serde(with = "decimal")]
	pub total: Balance,
}

/// Who runs a job, matched by whom, at what price and collateral.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Assignment {
	pub provider: AccountId,
	pub solver: AccountId,
	#[serde(with = "decimal")]
	pub price: Balance,
	#[serde(with = "decimal")]
	pub collateral: Balance,
	pub matched_at: BlockNumber,
	pub execute_by: BlockNumber,
}

/// The result a provider signed (its job is the job's `id`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobResult {
	#[serde(with = "digest")]
	pub module_digest: Digest,
	#[serde(with = "digest")]
	pub input_digest: Digest,
	#[serde(with = "digest")]
	pub output_digest: Digest,
	#[serde(with = "digest")]
	pub stdout_digest: Digest,
	#[serde(with = "digest")]
	pub stderr_digest: Digest,
	#[serde(with = "exit")]
	pub exit: ExitStatus,
	pub usage: Usage,
}

impl JobResult {
	/// The manifest the provider signed, for job `job`.
	pub fn manifest(&self, job: JobId) -> jobs::ResultManifest {
		jobs::ResultManifest {
			job,
			module_digest: self.module_digest,
			input_digest: self.input_digest,
			output_digest: self.output_digest,
			stdout_digest: self.stdout_digest,
			stderr_digest: self.stderr_digest,
			exit: self.exit,
			usage: self.usage,
		}
	}
}

/// A slash waiting out its appeal window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Slash {
	pub cause: jobs::SlashCause,
	#[serde(with = "decimal")]
	pub to_creator: Balance,
	#[serde(with = "decimal")]
	pub to_mediator: Balance,
	#[serde(with = "decimal")]
	pub to_treasury: Balance,
	pub applies_at: BlockNumber,
}

/// A job's mediation: why, by whom, until when, and its verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mediation {
	pub cause: MediationCause,
	pub mediator: Option<AccountId>,
	#[serde(with = "decimal")]
	pub stake_locked: Balance,
	pub answer_by: BlockNumber,
	pub failed: Vec<AccountId>,
	pub verdict: Option<Verdict>,
}

/// A stage a job entered, and when.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
	pub stage: Stage,
	pub at: BlockNumber,
}

impl Job {
	/// The block the job entered `stage`, if it did.
	pub fn entered(&self, stage: Stage) -> Option<BlockNumber> {
		self.history.iter().find(|s| s.stage == stage).map(|s| s.at)
	}
}

impl From<(JobId, &jobs::Job<AccountId, Balance, BlockNumber>)> for Job {
	fn from((id, j): (JobId, &jobs::Job<AccountId, Balance, BlockNumber>)) -> Self {
		Job {
			id,
			creator: j.creator.clone(),
			module: j.module.clone(),
			module_digest: j.module_digest,
			resources: j.resources,
			timeout_secs: j.timeout_secs,
			verification: j.verification,
			inputs: j
				.inputs
				.params
				.iter()
				.map(|(name, value)| Input { name: text(name), value: text(value) })
				.collect(),
			input_blob: j.inputs.blob,
			max_price: j.max_price,
			target: j.target.clone(),
			credentials: j.credentials.iter().map(|c| text(c)).collect(),
			charge: j.charge.into(),
			escrow: j.escrow,
			challenge_fee: j.challenge_fee,
			deposit: j.deposit,
			match_by: j.match_by,
			assignment: j.state.assignment().map(|a| Assignment {
				provider: a.provider.clone(),
				solver: a.solver.clone(),
				price: a.price,
				collateral: a.collateral,
				matched_at: a.matched_at,
				execute_by: a.execute_by,
			}),
			result: j.state.result().map(|r| JobResult {
				module_digest: r.module_digest,
				input_digest: r.input_digest,
				output_digest: r.output_digest,
				stdout_digest: r.stdout_digest,
				stderr_digest: r.stderr_digest,
				exit: r.exit,
				usage: r.usage,
			}),
			slash: j.state.slash().map(|s| Slash {
				cause: s.cause,
				to_creator: s.to_creator,
				to_mediator: s.to_mediator,
				to_treasury: s.to_treasury,
				applies_at: s.applies_at,
			}),
			mediation: j.state.mediation().map(|m| Mediation {
				cause: m.cause,
				mediator: m.mediator.clone(),
				stake_locked: m.stake_locked,
				answer_by: m.answer_by,
				failed: m.failed.to_vec(),
				verdict: m.verdict,
			}),
			stage: j.stage(),
			due: j.due,
			history: j.history.iter().map(|(stage, at)| Step { stage: *stage, at: *at }).collect(),
		}
	}
}

impl From<economics::Charge<Balance>> for Charge {
	fn from(c: economics::Charge<Balance>) -> Self {
		Charge {
			price: c.price,
			solver_fee: c.solver_fee,
			royalties: c.royalties,
			protocol_fee: c.protocol_fee,
			total: c.total(),
		}
	}
}

/// `lilypad_estimate`: what a job on a module would cost now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Estimate {
	#[serde(with = "decimal")]
	pub floor: Balance,
	/// The cheapest active offer that can run the module.
	pub cheapest: Option<Quote>,
	/// Offers seen that could run it.
	pub offers: u32,
	/// The charge at the cheapest price, or at the floor if there is no offer.
	pub charge: Charge,
}

/// A provider's price.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
	pub provider: AccountId,
	#[serde(with = "decimal")]
	pub price: Balance,
}

impl From<&jobs::PriceEstimate<AccountId, Balance>> for Estimate {
	fn from(e: &jobs::PriceEstimate<AccountId, Balance>) -> Self {
		Estimate {
			floor: e.floor,
			cheapest: e
				.cheapest
				.as_ref()
				.map(|(provider, price)| Quote { provider: provider.clone(), price: *price }),
			offers: e.offers,
			charge: e.charge.into(),
		}
	}
}

/// `lilypad_module`, and each of `lilypad_modules`: a module with all its versions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Module {
	pub name: String,
	pub owner: AccountId,
	#[serde(with = "decimal")]
	pub deposit: Balance,
	/// Oldest first.
	pub versions: Vec<Version>,
}

/// A published version: what its publisher signed and what the chain tracks about it since.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Version {
	#[serde(with = "semver")]
	pub version: SemVer,
	#[serde(with = "artifact")]
	pub artifact: Artifact,
	pub inputs: Vec<Param>,
	pub resources: Resources,
	pub timeout_secs: u32,
	/// The floor now (the owner may have changed it).
	#[serde(with = "decimal")]
	pub price_floor: Balance,
	/// The floor the publisher signed.
	#[serde(with = "decimal")]
	pub signed_price_floor: Balance,
	pub royalty_per_billion: u32,
	pub lineage_royalty_per_billion: u32,
	pub verification: VerificationPolicy,
	#[serde(with = "module_ref::option")]
	pub parent: Option<ModuleRef>,
	pub depth: u32,
	pub publisher: AccountId,
	#[serde(with = "signature")]
	pub signature: [u8; 64],
	pub published_at: BlockNumber,
	pub deprecated: bool,
	pub active_jobs: u32,
	pub forks: u32,
	/// The models every run needs (`name@version`), mounted at `/models/<name>`. Absent from
	/// the JSON of nodes older than models: read as none.
	#[serde(default, with = "module_ref::list")]
	pub models: Vec<ModuleRef>,
}

/// One input parameter of a version's schema.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Param {
	pub name: String,
	#[serde(rename = "type")]
	pub kind: ParamType,
	pub default: Option<String>,
	pub required: bool,
	pub delivery: Delivery,
}

impl From<&registry::ModuleInfo<AccountId, Balance, BlockNumber>> for Module {
	fn from(m: &registry::ModuleInfo<AccountId, Balance, BlockNumber>) -> Self {
		Module {
			name: text(&m.name),
			owner: m.owner.clone(),
			deposit: m.deposit,
			versions: m.versions.iter().map(Version::from).collect(),
		}
	}
}

impl From<&registry::VersionRecord<AccountId, Balance, BlockNumber>> for Version {
	fn from(v: &registry::VersionRecord<AccountId, Balance, BlockNumber>) -> Self {
		let m = &v.manifest;
		Version {
			version: m.version,
			artifact: m.artifact.clone(),
			inputs: m
				.inputs
				.iter()
				.map(|p| Param {
					name: text(&p.name),
					kind: p.kind,
					default: p.default.as_ref().map(|d| text(d)),
					required: p.required,
					delivery: p.delivery,
				})
				.collect(),
			resources: m.resources,
			timeout_secs: m.timeout_secs,
			price_floor: v.price_floor,
			signed_price_floor: m.price_floor,
			royalty_per_billion: m.royalty.deconstruct(),
			lineage_royalty_per_billion: v.lineage_royalty.deconstruct(),
			verification: m.verification,
			parent: m.parent.clone(),
			depth: v.depth,
			publisher: v.publisher.clone(),
			signature: v.signature.0,
			published_at: v.published_at,
			deprecated: v.deprecated,
			active_jobs: v.active_jobs,
			forks: v.forks,
			models: m.models.to_vec(),
		}
	}
}

impl Version {
	/// The schema as the registry keeps it, for checking a job's inputs against it; `None`
	/// if a name or default is longer than the registry allows (not from a real chain).
	pub fn schema(&self) -> Option<registry::InputSchema> {
		self.inputs
			.iter()
			.map(|p| {
				Some(registry::InputParam {
					name: p.name.as_bytes().to_vec().try_into().ok()?,
					kind: p.kind,
					default: match &p.default {
						Some(d) => Some(d.as_bytes().to_vec().try_into().ok()?),
						None => None,
					},
					required: p.required,
					delivery: p.delivery,
				})
			})
			.collect::<Option<Vec<_>>>()?
			.try_into()
			.ok()
	}
}

/// `lilypad_model`, and each of `lilypad_models`: a model with all its versions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Model {
	pub name: String,
	pub owner: AccountId,
	/// Held from the owner until the model is retired.
	#[serde(with = "decimal")]
	pub deposit: Balance,
	/// Oldest first.
	pub versions: Vec<ModelVersion>,
}

/// A published model version: what its publisher signed and what the chain tracks about it
/// since.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelVersion {
	#[serde(with = "semver")]
	pub version: SemVer,
	pub weights: Weights,
	/// The SPDX licence of the weights.
	pub licence: String,
	pub royalty_per_billion: u32,
	/// This version's royalty plus all its ancestors'.
	pub lineage_royalty_per_billion: u32,
	/// The model version this one derives from (`name@version`).
	#[serde(with = "module_ref::option")]
	pub parent: Option<ModuleRef>,
	pub depth: u32,
	pub publisher: AccountId,
	#[serde(with = "signature")]
	pub signature: [u8; 64],
	pub published_at: BlockNumber,
	/// Module versions that need this version.
	pub modules: u32,
	/// Unsettled jobs that use this version.
	pub active_jobs: u32,
	/// Model versions that derive from this one.
	pub forks: u32,
}

/// A model version's weights: one blob, named by its digest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Weights {
	#[serde(with = "digest")]
	pub digest: Digest,
	/// In bytes.
	pub size: u64,
	/// `"file"`, or `"directory"` (a canonical tar).
	pub layout: WeightsLayout,
	/// `"gguf"`, `"safetensors"` or `"onnx"`.
	pub format: WeightsFormat,
}

impl From<&models::ModelInfo<AccountId, Balance, BlockNumber>> for Model {
	fn from(m: &models::ModelInfo<AccountId, Balance, BlockNumber>) -> Self {
		Model {
			name: text(&m.name),
			owner: m.owner.clone(),
			deposit: m.deposit,
			versions: m.versions.iter().map(ModelVersion::from).collect(),
		}
	}
}

impl From<&models::ModelRecord<AccountId, BlockNumber>> for ModelVersion {
	fn from(v: &models::ModelRecord<AccountId, BlockNumber>) -> Self {
		let m = &v.manifest;
		ModelVersion {
			version: m.version,
			weights: Weights {
				digest: m.weights.digest,
				size: m.weights.size,
				layout: m.weights.layout,
				format: m.weights.format,
			},
			licence: text(&m.licence),
			royalty_per_billion: m.royalty.deconstruct(),
			lineage_royalty_per_billion: v.lineage_royalty.deconstruct(),
			parent: m.parent.clone(),
			depth: v.depth,
			publisher: v.publisher.clone(),
			signature: v.signature.0,
			published_at: v.published_at,
			modules: v.modules,
			active_jobs: v.active_jobs,
			forks: v.forks,
		}
	}
}

impl ModelVersion {
	/// The manifest its publisher signed, as a version of model `name`: what a client
	/// compares its own with, or checks the signature over; `None` if a name or the licence
	/// is longer than the registry allows (not from a real chain).
	pub fn manifest(&self, name: &str) -> Option<ModelManifest> {
		Some(ModelManifest {
			model: name.as_bytes().to_vec().try_into().ok()?,
			version: self.version,
			weights: models::Weights {
				digest: self.weights.digest,
				size: self.weights.size,
				layout: self.weights.layout,
				format: self.weights.format,
			},
			licence: self.licence.as_bytes().to_vec().try_into().ok()?,
			royalty: polkadot_sdk::sp_runtime::Perbill::from_parts(self.royalty_per_billion),
			parent: self.parent.clone(),
		})
	}
}

/// `lilypad_provider`, and each of `lilypad_offers`: a provider, its offer and its bond.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Provider {
	pub provider: AccountId,
	pub status: ProviderStatus,
	pub registered_at: BlockNumber,
	pub last_heartbeat: BlockNumber,
	pub active_jobs: u32,
	/// Jobs it runs at once.
	pub capacity: u32,
	/// What each job slot has.
	pub resources: OfferResources,
	/// `"all"`, or the names of the modules it runs.
	#[serde(with = "modules")]
	pub modules: Option<Vec<String>>,
	#[serde(with = "decimal")]
	pub default_price: Balance,
	pub prices: Vec<Price>,
	pub credentials: Vec<String>,
	/// The URL of its content store.
	pub endpoint: String,
	/// Digests of the model weights it holds now (`0x` hex): the solver prefers it for jobs
	/// that need them.
	#[serde(default)]
	pub models: Vec<String>,
	pub bond: Option<Bond>,
}

/// A provider's resources for each job at once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OfferResources {
	pub cpu_millicores: u32,
	pub ram_mib: u32,
	pub gpus: Vec<Gpu>,
	pub disk_mib: u32,
}

/// One GPU, as its driver names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Gpu {
	pub model: String,
	pub vram_mib: u32,
}

/// A provider's asking price for one module.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Price {
	pub module: String,
	#[serde(with = "decimal")]
	pub price: Balance,
}

/// The filter of `lilypad_offers`: every field left out matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OffersQuery {
	/// Only offers that run this module.
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub module: Option<String>,
	/// Only offers whose job slot has at least this much of each resource.
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub cpu_millicores: Option<u32>,
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub ram_mib: Option<u32>,
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub gpus: Option<u8>,
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub vram_mib: Option<u32>,
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub disk_mib: Option<u32>,
	/// Only providers whose heartbeats are current.
	#[serde(default)]
	pub active_only: bool,
}

/// `lilypad_bond`: a bond, what of it running jobs lock, and what is on its way out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bond {
	#[serde(with = "decimal")]
	pub bonded: Balance,
	#[serde(with = "decimal")]
	pub in_use: Balance,
	pub unlocking: Vec<Unlocking>,
}

/// LILY leaving a bond, withdrawable from `unlocks_at`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Unlocking {
	#[serde(with = "decimal")]
	pub amount: Balance,
	pub unlocks_at: BlockNumber,
}

impl From<&providers::BondInfo<Balance, BlockNumber>> for Bond {
	fn from(b: &providers::BondInfo<Balance, BlockNumber>) -> Self {
		Bond {
			bonded: b.bonded,
			in_use: b.in_use,
			unlocking: b
				.unlocking
				.iter()
				.map(|u| Unlocking { amount: u.amount, unlocks_at: u.unlocks_at })
				.collect(),
		}
	}
}

impl From<&providers::ProviderInfo<AccountId, Balance, BlockNumber>> for Provider {
	fn from(p: &providers::ProviderInfo<AccountId, Balance, BlockNumber>) -> Self {
		let o = &p.offer;
		Provider {
			provider: p.provider.clone(),
			status: p.status,
			registered_at: p.registered_at,
			last_heartbeat: p.last_heartbeat,
			active_jobs: p.active_jobs,
			capacity: o.capacity,
			resources: OfferResources {
				cpu_millicores: o.resources.cpu_millicores,
				ram_mib: o.resources.ram_mib,
				gpus: o
					.resources
					.gpus
					.iter()
					.map(|g| Gpu { model: text(&g.model), vram_mib: g.vram_mib })
					.collect(),
				disk_mib: o.resources.disk_mib,
			},
			modules: match &o.modules {
				ModuleFilter::All => None,
				ModuleFilter::Only(names) => Some(names.iter().map(|n| text(n)).collect()),
			},
			default_price: o.default_price,
			prices: o
				.prices
				.iter()
				.map(|(module, price)| Price { module: text(module), price: *price })
				.collect(),
			credentials: o.credentials.iter().map(|c| text(c)).collect(),
			endpoint: text(&o.endpoint),
			models: o.models.iter().map(|d| hex(d)).collect(),
			bond: p.bond.as_ref().map(Bond::from),
		}
	}
}

/// On-chain names and URLs are bytes; JSON shows them as text.
pub fn text(bytes: &[u8]) -> String {
	String::from_utf8_lossy(bytes).into_owned()
}

/// Digests as `0x`-prefixed hex.
pub fn hex(bytes: &[u8]) -> String {
	format!("0x{}", ::hex::encode(bytes))
}

/// Reads `0x`-prefixed (or bare) hex of exactly `N` bytes.
pub fn parse_hex<const N: usize>(s: &str) -> Result<[u8; N], String> {
	let mut out = [0u8; N];
	::hex::decode_to_slice(s.strip_prefix("0x").unwrap_or(s), &mut out)
		.map_err(|e| format!("{s:?} is not {N} bytes of hex: {e}"))?;
	Ok(out)
}

/// Balances as decimal strings.
pub mod decimal {
	use serde::{de::Error, Deserialize, Deserializer, Serializer};

	pub fn serialize<S: Serializer>(v: &u128, s: S) -> Result<S::Ok, S::Error> {
		s.collect_str(v)
	}

	pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
		let s = String::deserialize(d)?;
		s.parse().map_err(|_| D::Error::custom(format!("{s:?} is not a decimal amount")))
	}
}

/// 32-byte digests as `0x`-prefixed hex.
pub mod digest {
	use super::Digest;
	use serde::{de::Error, Deserialize, Deserializer, Serializer};

	pub fn serialize<S: Serializer>(v: &Digest, s: S) -> Result<S::Ok, S::Error> {
		s.serialize_str(&super::hex(v))
	}

	pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Digest, D::Error> {
		super::parse_hex(&String::deserialize(d)?).map_err(D::Error::custom)
	}

	/// An optional digest: hex or `null`.
	pub mod option {
		use super::Digest;
		use serde::{de::Error, Deserialize, Deserializer, Serializer};

		pub fn serialize<S: Serializer>(v: &Option<Digest>, s: S) -> Result<S::Ok, S::Error> {
			match v {
				Some(d) => super::serialize(d, s),
				None => s.serialize_none(),
			}
		}

		pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Digest>, D::Error> {
			Option::<String>::deserialize(d)?
				.map(|s| crate::wire::parse_hex(&s).map_err(D::Error::custom))
				.transpose()
		}
	}
}

/// A 64-byte signature as `0x`-prefixed hex.
mod signature {
	use serde::{de::Error, Deserialize, Deserializer, Serializer};

	pub fn serialize<S: Serializer>(v: &[u8; 64], s: S) -> Result<S::Ok, S::Error> {
		s.serialize_str(&super::hex(v))
	}

	pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 64], D::Error> {
		super::parse_hex(&String::deserialize(d)?).map_err(D::Error::custom)
	}
}

/// `major.minor.patch`.
mod semver {
	use super::SemVer;
	use serde::{de::Error, Deserialize, Deserializer, Serializer};

	pub fn serialize<S: Serializer>(v: &SemVer, s: S) -> Result<S::Ok, S::Error> {
		s.collect_str(v)
	}

	pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SemVer, D::Error> {
		let s = String::deserialize(d)?;
		SemVer::parse(&s).ok_or_else(|| D::Error::custom(format!("{s:?} is not major.minor.patch")))
	}
}

/// `name@major.minor.patch`.
pub mod module_ref {
	use super::ModuleRef;
	use serde::{de::Error, Deserialize, Deserializer, Serializer};

	pub fn serialize<S: Serializer>(v: &ModuleRef, s: S) -> Result<S::Ok, S::Error> {
		s.collect_str(v)
	}

	pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ModuleRef, D::Error> {
		let s = String::deserialize(d)?;
		ModuleRef::parse(&s).ok_or_else(|| D::Error::custom(format!("{s:?} is not name@version")))
	}

	/// An optional module: `name@version` or `null`.
	pub mod option {
		use super::ModuleRef;
		use serde::{Deserialize, Deserializer, Serializer};

		pub fn serialize<S: Serializer>(v: &Option<ModuleRef>, s: S) -> Result<S::Ok, S::Error> {
			match v {
				Some(m) => super::serialize(m, s),
				None => s.serialize_none(),
			}
		}

		pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ModuleRef>, D::Error> {
			#[derive(Deserialize)]
			struct Named(#[serde(with = "super")] ModuleRef);
			Ok(Option::<Named>::deserialize(d)?.map(|n| n.0))
		}
	}

	/// A list of modules (or models): `["name@version", ...]`.
	pub mod list {
		use super::ModuleRef;
		use serde::{Deserialize, Deserializer, Serializer};

		pub fn serialize<S: Serializer>(v: &[ModuleRef], s: S) -> Result<S::Ok, S::Error> {
			s.collect_seq(v.iter().map(ToString::to_string))
		}

		pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<ModuleRef>, D::Error> {
			#[derive(Deserialize)]
			struct Named(#[serde(with = "super")] ModuleRef);
			Ok(Vec::<Named>::deserialize(d)?.into_iter().map(|n| n.0).collect())
		}
	}
}

/// Parts per billion (a `Perbill`) as a number.
pub mod per_billion {
	use polkadot_sdk::sp_runtime::Perbill;
	use serde::{de::Error, Deserialize, Deserializer, Serializer};

	pub fn serialize<S: Serializer>(v: &Perbill, s: S) -> Result<S::Ok, S::Error> {
		s.serialize_u32(v.deconstruct())
	}

	pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Perbill, D::Error> {
		let parts = u32::deserialize(d)?;
		if parts > 1_000_000_000 {
			return Err(D::Error::custom(format!("{parts} parts per billion is more than all")));
		}
		Ok(Perbill::from_parts(parts))
	}
}

/// `{"kind": "success", "code": 0}`, `{"kind": "failed", "code": N}`, `{"kind": "timedOut"}`,
/// `{"kind": "outOfMemory"}`.
pub mod exit {
	use super::ExitStatus;
	use serde::{de::Error, Deserialize, Deserializer, Serialize, Serializer};

	#[derive(Serialize, Deserialize)]
	#[serde(rename_all = "camelCase")]
	enum Kind {
		Success,
		Failed,
		TimedOut,
		OutOfMemory,
	}

	#[derive(Serialize, Deserialize)]
	struct Exit {
		kind: Kind,
		#[serde(default, skip_serializing_if = "Option::is_none")]
		code: Option<i32>,
	}

	pub fn serialize<S: Serializer>(v: &ExitStatus, s: S) -> Result<S::Ok, S::Error> {
		let (kind, code) = match *v {
			ExitStatus::Success => (Kind::Success, Some(0)),
			ExitStatus::Failed { code } => (Kind::Failed, Some(code)),
			ExitStatus::TimedOut => (Kind::TimedOut, None),
			ExitStatus::OutOfMemory => (Kind::OutOfMemory, None),
		};
		Exit { kind, code }.serialize(s)
	}

	pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ExitStatus, D::Error> {
		let Exit { kind, code } = Exit::deserialize(d)?;
		Ok(match kind {
			Kind::Success => ExitStatus::Success,
			Kind::Failed => ExitStatus::Failed {
				code: code.ok_or_else(|| D::Error::custom("a failed exit has a code"))?,
			},
			Kind::TimedOut => ExitStatus::TimedOut,
			Kind::OutOfMemory => ExitStatus::OutOfMemory,
		})
	}
}

/// `{"kind": "docker", "archiveDigest", "configDigest"}` or `{"kind": "wasm", "digest", "size"}`.
mod artifact {
	use super::{Artifact, Digest};
	use serde::{Deserialize, Deserializer, Serialize, Serializer};

	#[derive(Serialize, Deserialize)]
	#[serde(tag = "kind", rename_all = "camelCase")]
	enum Json {
		#[serde(rename_all = "camelCase")]
		Docker {
			#[serde(with = "super::digest")]
			archive_digest: Digest,
			#[serde(with = "super::digest")]
			config_digest: Digest,
		},
		Wasm {
			#[serde(with = "super::digest")]
			digest: Digest,
			size: u64,
		},
	}

	pub fn serialize<S: Serializer>(v: &Artifact, s: S) -> Result<S::Ok, S::Error> {
		match *v {
			Artifact::Docker { archive_digest, config_digest } => {
				Json::Docker { archive_digest, config_digest }
			}
			Artifact::Wasm { digest, size } => Json::Wasm { digest, size },
		}
		.serialize(s)
	}

	pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Artifact, D::Error> {
		Ok(match Json::deserialize(d)? {
			Json::Docker { archive_digest, config_digest } => {
				Artifact::Docker { archive_digest, config_digest }
			}
			Json::Wasm { digest, size } => Artifact::Wasm { digest, size },
		})
	}
}

/// `"all"` (`None`), or a list of module names.
mod modules {
	use serde::{de::Error, Deserialize, Deserializer, Serializer};

	pub fn serialize<S: Serializer>(v: &Option<Vec<String>>, s: S) -> Result<S::Ok, S::Error> {
		match v {
			None => s.serialize_str("all"),
			Some(names) => s.collect_seq(names),
		}
	}

	pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
		#[derive(Deserialize)]
		#[serde(untagged)]
		enum Json {
			All(String),
			Only(Vec<String>),
		}
		match Json::deserialize(d)? {
			Json::All(s) if s == "all" => Ok(None),
			Json::All(s) => Err(D::Error::custom(format!("{s:?} is neither \"all\" nor a list"))),
			Json::Only(names) => Ok(Some(names)),
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn amounts_past_a_json_number_survive_as_decimal_strings() {
		let c = Charge { price: u128::MAX, solver_fee: 1, royalties: 0, protocol_fee: 2, total: 3 };
		let json = serde_json::to_value(c).unwrap();
		assert_eq!(json["price"], "340282366920938463463374607431768211455");
		assert_eq!(serde_json::from_value::<Charge>(json).unwrap(), c);
		let bad = serde_json::json!({"price": 1, "solverFee": "1", "royalties": "0",
			"protocolFee": "2", "total": "3"});
		assert!(serde_json::from_value::<Charge>(bad).is_err(), "a number is not a balance");
	}

	#[test]
	fn digests_are_hex_of_exactly_32_bytes() {
		assert_eq!(parse_hex::<32>(&hex(&[0xab; 32])), Ok([0xab; 32]));
		assert!(parse_hex::<32>("0xabcd").is_err());
		assert!(parse_hex::<32>(&format!("0x{}", "zz".repeat(32))).is_err());
	}

	#[test]
	fn every_exit_status_round_trips() {
		#[derive(Serialize, Deserialize, PartialEq, Debug)]
		struct E(#[serde(with = "exit")] ExitStatus);
		for status in [
			ExitStatus::Success,
			ExitStatus::Failed { code: -9 },
			ExitStatus::TimedOut,
			ExitStatus::OutOfMemory,
		] {
			let json = serde_json::to_value(E(status)).unwrap();
			assert_eq!(serde_json::from_value::<E>(json).unwrap(), E(status));
		}
		let no_code = serde_json::json!({"kind": "failed"});
		assert!(serde_json::from_value::<E>(no_code).is_err());
	}

	#[test]
	fn every_stage_is_its_camel_case_name_and_reads_back() {
		for stage in Stage::ALL {
			let json = serde_json::to_value(stage).unwrap();
			let name = format!("{stage:?}");
			assert_eq!(json, name[..1].to_lowercase() + &name[1..]);
			assert_eq!(serde_json::from_value::<Stage>(json).unwrap(), stage);
		}
		assert!(serde_json::from_value::<Stage>(serde_json::json!("Completed")).is_err());
	}

	#[test]
	fn module_refs_are_name_at_version() {
		let m = ModuleRef::parse("cowsay@1.2.3").unwrap();
		assert_eq!(m.to_string(), "cowsay@1.2.3");
		assert!(ModuleRef::parse("cowsay").is_none());
		assert!(ModuleRef::parse(&format!("{}@1.0.0", "x".repeat(33))).is_none());
	}

	#[test]
	fn model_lists_are_name_at_version_strings_and_may_be_absent() {
		#[derive(Serialize, Deserialize, PartialEq, Debug)]
		struct V {
			#[serde(default, with = "module_ref::list")]
			models: Vec<ModuleRef>,
		}
		let v = V { models: vec![ModuleRef::parse("smollm2@1.0.0").unwrap()] };
		let json = serde_json::to_value(&v).unwrap();
		assert_eq!(json, serde_json::json!({"models": ["smollm2@1.0.0"]}));
		assert_eq!(serde_json::from_value::<V>(json).unwrap(), v);
		// A node older than models writes none.
		let old = serde_json::from_value::<V>(serde_json::json!({})).unwrap();
		assert_eq!(old, V { models: vec![] });
		assert!(serde_json::from_value::<V>(serde_json::json!({"models": ["smollm2"]})).is_err());
	}
}
