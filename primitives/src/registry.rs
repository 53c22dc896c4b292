//! Ampli, the module registry: what a module version is, how its publisher signs it, and the
//! checks on its manifest and on a job's inputs that need no chain state.
//!
//! The pallet stores these types; the CLI builds and signs them; the agent reads them to run a
//! job. Keeping the checks here means all three refuse the same things.
use codec::{Codec, Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use polkadot_sdk::{
	sp_core::{sr25519, ConstU32},
	sp_runtime::{BoundedVec, DispatchResult, Perbill},
};
use scale_info::TypeInfo;

use alloc::vec::Vec;

use crate::models::ModelRefs;

/// Longest module name, in bytes.
pub const MAX_MODULE_NAME_LEN: u32 = 32;
/// Longest input parameter name, in bytes.
pub const MAX_PARAM_NAME_LEN: u32 = 32;
/// Longest default value of an input parameter, in bytes.
pub const MAX_PARAM_DEFAULT_LEN: u32 = 256;
/// Most input parameters a module version declares.
pub const MAX_INPUT_PARAMS: u32 = 16;

/// Domain tag at the start of every signed manifest, so that a manifest signature can never be
/// mistaken for a signature over anything else (a transaction, a job result).
pub const MANIFEST_SIGNING_DOMAIN: &[u8] = b"lilypad/registry/manifest/v1";

/// A module's name: a lowercase slug (`cowsay`, `stable-diffusion`); see [`is_valid_slug`].
pub type ModuleName = BoundedVec<u8, ConstU32<MAX_MODULE_NAME_LEN>>;
/// An input parameter's name (`Message`); see [`is_valid_param_name`].
pub type ParamName = BoundedVec<u8, ConstU32<MAX_PARAM_NAME_LEN>>;
/// A default value of an input parameter, as text.
pub type ParamDefault = BoundedVec<u8, ConstU32<MAX_PARAM_DEFAULT_LEN>>;
/// The input parameters of a module version.
pub type InputSchema = BoundedVec<InputParam, ConstU32<MAX_INPUT_PARAMS>>;
/// A 32-byte content digest (blake3, or sha256 for a Docker image config).
pub type Digest = [u8; 32];

/// A semantic version `major.minor.patch`. The derived order is semver precedence.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub struct SemVer {
	pub major: u16,
	pub minor: u16,
	pub patch: u16,
}

impl SemVer {
	pub const fn new(major: u16, minor: u16, patch: u16) -> Self {
		Self { major, minor, patch }
	}

	/// Parses `1.2.3` (no pre-release or build suffix; no leading zeros beyond `0`).
	pub fn parse(s: &str) -> Option<Self> {
		let mut parts = s.split('.');
		let mut next = || -> Option<u16> {
			let p = parts.next()?;
			if p.is_empty() || (p.len() > 1 && p.starts_with('0')) {
				return None;
			}
			if !p.bytes().all(|b| b.is_ascii_digit()) {
				return None;
			}
			p.parse().ok()
		};
		let v = Self { major: next()?, minor: next()?, patch: next()? };
		parts.next().is_none().then_some(v)
	}
}

impl core::fmt::Display for SemVer {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
	}
}

/// `module@version`: what a job runs, and what a fork names as its parent.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct ModuleRef {
	pub name: ModuleName,
	pub version: SemVer,
}

impl ModuleRef {
	/// Parses `name@major.minor.patch` (the name within [`MAX_MODULE_NAME_LEN`] bytes).
	pub fn parse(s: &str) -> Option<Self> {
		let (name, version) = s.split_once('@')?;
		Some(Self {
			name: name.as_bytes().to_vec().try_into().ok()?,
			version: SemVer::parse(version)?,
		})
	}
}

/// `name@major.minor.patch`; a name that is not UTF-8 shows its bytes replaced as `\u{FFFD}`.
impl core::fmt::Display for ModuleRef {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		for chunk in self.name.utf8_chunks() {
			f.write_str(chunk.valid())?;
			if !chunk.invalid().is_empty() {
				f.write_str("\u{FFFD}")?;
			}
		}
		write!(f, "@{}", self.version)
	}
}

/// What a provider runs, pinned by content so that every provider runs the same bytes.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub enum Artifact {
	/// A Docker image.
	Docker {
		/// blake3 of the image's `docker save` tarball: what the agent fetches and checks.
		archive_digest: Digest,
		/// sha256 of the image config (Docker's image id): what the agent runs.
		config_digest: Digest,
	},
	/// A WASM (WASI) program.
	Wasm {
		/// blake3 of the `.wasm` file.
		digest: Digest,
		/// Its size in bytes, so a provider knows what it fetches before fetching it.
		size: u64,
	},
}

impl Artifact {
	/// The digest a result names for the module it ran: the WASM file's, or the image
	/// tarball's.
	pub fn content_digest(&self) -> Digest {
		match self {
			Artifact::Docker { archive_digest, .. } => *archive_digest,
			Artifact::Wasm { digest, .. } => *digest,
		}
	}
}

/// The type an input value must parse as.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "std", serde(rename_all = "camelCase"))]
pub enum ParamType {
	/// Any UTF-8 text.
	Text,
	/// A decimal integer (`-12`, `42`) that fits in an `i64`.
	Integer,
	/// `true` or `false`.
	Boolean,
}

/// How an input value reaches the program.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "std", serde(rename_all = "camelCase"))]
pub enum Delivery {
	/// An environment variable named like the parameter.
	Env,
	/// A command-line argument `--<name>=<value>`, in schema order.
	Argument,
	/// A file `/inputs/<name>` holding the value.
	File,
}

/// One named input parameter of a module version.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct InputParam {
	pub name: ParamName,
	pub kind: ParamType,
	/// The value used when a job leaves the parameter out; only for optional parameters.
	pub default: Option<ParamDefault>,
	/// A job that leaves a required parameter out is refused before any money moves.
	pub required: bool,
	pub delivery: Delivery,
}

/// What one run of a module needs from a provider.
#[derive(
	Clone,
	Copy,
	Default,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "std", serde(rename_all = "camelCase"))]
pub struct Resources {
	/// CPU in thousandths of a core.
	pub cpu_millicores: u32,
	/// Memory in MiB.
	pub ram_mib: u32,
	/// Number of GPUs.
	pub gpus: u8,
	/// Memory per GPU in MiB.
	pub vram_mib: u32,
	/// Scratch disk in MiB.
	pub disk_mib: u32,
}

/// How results of a module are checked (docs/design.md §5).
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "std", serde(tag = "policy", rename_all = "camelCase"))]
pub enum VerificationPolicy {
	/// No re-runs: trust plus reputation.
	None,
	/// Every sampled re-run must reproduce the output digest exactly.
	Deterministic,
	/// With probability `p` a mediator re-runs the job.
	Sampled {
		#[cfg_attr(
			feature = "std",
			serde(rename = "pPerBillion", with = "crate::wire::per_billion")
		)]
		p: Perbill,
	},
}

impl VerificationPolicy {
	/// How strict the policy is, for "a job may ask for stricter verification, never looser".
	pub fn strictness(&self) -> Perbill {
		match self {
			Self::None => Perbill::zero(),
			Self::Sampled { p } => *p,
			Self::Deterministic => Perbill::one(),
		}
	}
}

/// Everything the publisher of a module version attests to; the signed part of a version.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct VersionManifest<Balance> {
	pub module: ModuleName,
	pub version: SemVer,
	pub artifact: Artifact,
	pub inputs: InputSchema,
	pub resources: Resources,
	/// Wall-clock limit of one run, in seconds.
	pub timeout_secs: u32,
	/// The least a job may offer to run this version (the owner may change it later).
	pub price_floor: Balance,
	/// The share of a job's price paid to this module's owner.
	pub royalty: Perbill,
	pub verification: VerificationPolicy,
	/// The version this one was forked from; it and its own ancestors earn royalties too.
	pub parent: Option<ModuleRef>,
	/// The models every run needs, each mounted read-only at `/models/<name>`; their owners,
	/// and the owners up their lineages, earn royalties too.
	pub models: ModelRefs,
}

/// The bytes a publisher signs: domain tag, the chain's genesis hash (a signature made for one
/// chain is worthless on another) and the SCALE-encoded manifest. A manifest that needs no
/// models signs without the empty list's length byte: the bytes every version published before
/// versions named models signed, so that their signatures stay valid as stored.
pub fn manifest_signing_payload<Balance: Encode, Hash: Encode>(
	genesis_hash: &Hash,
	manifest: &VersionManifest<Balance>,
) -> Vec<u8> {
	let mut payload = (MANIFEST_SIGNING_DOMAIN, genesis_hash, manifest).encode();
	if manifest.models.is_empty() {
		// `models` is the last field; an empty list encodes as the one byte 0.
		payload.pop();
	}
	payload
}

/// A published module version as the chain keeps it: the signed manifest and what the chain
/// tracks about it since.
#[derive(Clone, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
pub struct VersionRecord<AccountId, Balance, BlockNumber> {
	/// What the publisher signed.
	pub manifest: VersionManifest<Balance>,
	/// The account whose key signed the manifest: the owner or one of its delegates.
	pub publisher: AccountId,
	/// The publisher's sr25519 signature over [`manifest_signing_payload`].
	pub signature: sr25519::Signature,
	pub published_at: BlockNumber,
	/// The price floor now; starts as the manifest's and follows `set_price`.
	pub price_floor: Balance,
	/// Deprecated versions settle the jobs they have, and take no new ones.
	pub deprecated: bool,
	/// Ancestors above this version (0 without a parent).
	pub depth: u32,
	/// This version's royalty plus all its ancestors': what a job pays in royalties at most.
	pub lineage_royalty: Perbill,
	/// Jobs that reference this version and have not settled; the version stays while any do.
	pub active_jobs: u32,
	/// Versions that name this one as their parent; it stays while any do.
	pub forks: u32,
}

/// A module with all its versions, as the `lilypad_module` RPC returns it.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
pub struct ModuleInfo<AccountId, Balance, BlockNumber> {
	pub name: ModuleName,
	pub owner: AccountId,
	/// Held from the owner until the module is retired.
	pub deposit: Balance,
	/// Oldest first.
	pub versions: Vec<VersionRecord<AccountId, Balance, BlockNumber>>,
}

/// Most royalty payees of one job: the owners up a module's lineage and up the lineage of each
/// of its models, each lineage at most [`MAX_LINEAGE_DEPTH`] ancestors deep.
pub const MAX_ROYALTY_PAYEES: u32 =
	(MAX_LINEAGE_DEPTH + 1) * (1 + crate::models::MAX_MODULE_MODELS);
/// The deepest lineage a registry may allow (its `MaxLineageDepth` stays within it).
pub const MAX_LINEAGE_DEPTH: u32 = 8;

/// Who earns royalties from a job, and what share of its price each: fixed when the job is
/// submitted, so that matching and settlement walk no lineage. The shares add up to the
/// royalty cap at most.
pub type RoyaltyPayees<AccountId> = BoundedVec<(AccountId, Perbill), ConstU32<MAX_ROYALTY_PAYEES>>;

/// The weights a job's module runs with, by content digest, in the order the module names its
/// models: what the job's result must name.
pub type ModelDigests = BoundedVec<Digest, ConstU32<{ crate::models::MAX_MODULE_MODELS }>>;

/// What a job on a module version takes from the registry when it is submitted, read in one
/// pass: the version itself, who earns royalties and which weights the result must name.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct JobTerms<AccountId, Balance, BlockNumber> {
	pub version: VersionRecord<AccountId, Balance, BlockNumber>,
	/// Who earns what share of a job's price: the module's owner, then up its lineage, then
	/// each model's owner and up that model's lineage, the shares cut so that their total
	/// stays within the registry's royalty cap. One owner appears once, with its shares summed.
	pub payees: RoyaltyPayees<AccountId>,
	/// The digests of the weights of the module's models, in the order it names them.
	pub models: ModelDigests,
}

/// What the jobs pallet needs from the registry.
pub trait ModuleRegistry<AccountId, Balance, BlockNumber> {
	/// The version `module` names, if it is published.
	fn version(module: &ModuleRef) -> Option<VersionRecord<AccountId, Balance, BlockNumber>>;
	/// The version `module` names with its royalty payees and model digests, if it is
	/// published. Bounded: walks at most `1 + MAX_MODULE_MODELS` lineages.
	fn job_terms(module: &ModuleRef) -> Option<JobTerms<AccountId, Balance, BlockNumber>>;
	/// Records a new job on `module` and on each of its models; refused for unknown or
	/// deprecated versions.
	fn acquire(module: &ModuleRef) -> DispatchResult;
	/// Records that a job on `module` has settled.
	fn release(module: &ModuleRef);

	/// Publishes a chain of `depth + 1` versions owned by `owner`, each forking the one before
	/// and each with a royalty, the last with the largest input schema (all parameters
	/// optional text) and [`crate::models::MAX_MODULE_MODELS`] models each `depth` deep, every
	/// version and model of another owner, for benchmarks of the jobs pallet. Returns the last.
	#[cfg(feature = "runtime-benchmarks")]
	fn set_up_lineage(owner: &AccountId, depth: u32) -> ModuleRef;
}

polkadot_sdk::sp_api::decl_runtime_apis! {
	/// Reads of the module registry, behind the `lilypad_module` and `lilypad_modules` RPCs.
	/// Version 2: versions name their models.
	#[api_version(2)]
	pub trait RegistryApi<AccountId, Balance, BlockNumber>
	where
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
	{
		/// A module and all its versions, as runtimes before version 2 return it.
		#[changed_in(2)]
		fn module(name: ModuleName) -> Option<v1::ModuleInfo<AccountId, Balance, BlockNumber>>;
		/// Modules, as runtimes before version 2 return them.
		#[changed_in(2)]
		fn modules(
			start_after: Option<ModuleName>,
			limit: u32,
		) -> Vec<v1::ModuleInfo<AccountId, Balance, BlockNumber>>;
		/// A module and all its versions.
		fn module(name: ModuleName) -> Option<ModuleInfo<AccountId, Balance, BlockNumber>>;
		/// Up to `limit` modules (at most [`MAX_MODULES_PAGE`]) after `start_after`, in a stable
		/// order; pass the last name of a page to get the next.
		fn modules(
			start_after: Option<ModuleName>,
			limit: u32,
		) -> Vec<ModuleInfo<AccountId, Balance, BlockNumber>>;
	}
}

/// The layout module versions were stored in up to storage version 1 of the registry (runtime
/// spec 109), before versions named models. Frozen here, never to change: the registry's v2
/// migration reads it, and a node reads it from a runtime older than `RegistryApi` version 2.
pub mod v1 {
	use super::*;

	/// A version manifest as version 1 stored it.
	#[derive(Clone, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
	pub struct VersionManifest<Balance> {
		pub module: ModuleName,
		pub version: SemVer,
		pub artifact: Artifact,
		pub inputs: InputSchema,
		pub resources: Resources,
		pub timeout_secs: u32,
		pub price_floor: Balance,
		pub royalty: Perbill,
		pub verification: VerificationPolicy,
		pub parent: Option<ModuleRef>,
	}

	/// A version record as version 1 stored it.
	#[derive(Clone, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
	pub struct VersionRecord<AccountId, Balance, BlockNumber> {
		pub manifest: VersionManifest<Balance>,
		pub publisher: AccountId,
		pub signature: sr25519::Signature,
		pub published_at: BlockNumber,
		pub price_floor: Balance,
		pub deprecated: bool,
		pub depth: u32,
		pub lineage_royalty: Perbill,
		pub active_jobs: u32,
		pub forks: u32,
	}

	/// A module as `RegistryApi` version 1 returns it.
	#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
	pub struct ModuleInfo<AccountId, Balance, BlockNumber> {
		pub name: ModuleName,
		pub owner: AccountId,
		pub deposit: Balance,
		pub versions: Vec<VersionRecord<AccountId, Balance, BlockNumber>>,
	}

	impl<AccountId, Balance, BlockNumber> VersionRecord<AccountId, Balance, BlockNumber> {
		/// The same version in today's layout: it needs no models, as none could be named.
		/// Its signature stays the one made over the version 1 manifest.
		pub fn upgrade(self) -> super::VersionRecord<AccountId, Balance, BlockNumber> {
			let m = self.manifest;
			super::VersionRecord {
				manifest: super::VersionManifest {
					module: m.module,
					version: m.version,
					artifact: m.artifact,
					inputs: m.inputs,
					resources: m.resources,
					timeout_secs: m.timeout_secs,
					price_floor: m.price_floor,
					royalty: m.royalty,
					verification: m.verification,
					parent: m.parent,
					models: Default::default(),
				},
				publisher: self.publisher,
				signature: self.signature,
				published_at: self.published_at,
				price_floor: self.price_floor,
				deprecated: self.deprecated,
				depth: self.depth,
				lineage_royalty: self.lineage_royalty,
				active_jobs: self.active_jobs,
				forks: self.forks,
			}
		}
	}

	impl<AccountId, Balance, BlockNumber> ModuleInfo<AccountId, Balance, BlockNumber> {
		/// The same module in today's layout.
		pub fn upgrade(self) -> super::ModuleInfo<AccountId, Balance, BlockNumber> {
			super::ModuleInfo {
				name: self.name,
				owner: self.owner,
				deposit: self.deposit,
				versions: self.versions.into_iter().map(VersionRecord::upgrade).collect(),
			}
		}
	}
}

/// Most modules one `modules` call returns.
pub const MAX_MODULES_PAGE: u32 = 100;

/// A lowercase slug: `a-z`, `0-9` and single `-` between them, starting with a letter.
pub fn is_valid_slug(name: &[u8]) -> bool {
	let Some(first) = name.first() else { return false };
	first.is_ascii_lowercase()
		&& !name.ends_with(b"-")
		&& !name.windows(2).any(|w| w == b"--")
		&& name.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

/// An identifier usable as an environment variable, argument or file name:
/// `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_valid_param_name(name: &[u8]) -> bool {
	let Some(first) = name.first() else { return false };
	(first.is_ascii_alphabetic() || *first == b'_')
		&& name.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
}

/// Whether `value` is a valid value of `kind`.
pub fn value_fits(kind: ParamType, value: &[u8]) -> bool {
	let Ok(text) = core::str::from_utf8(value) else { return false };
	match kind {
		ParamType::Text => true,
		ParamType::Integer => text.parse::<i64>().is_ok(),
		ParamType::Boolean => text == "true" || text == "false",
	}
}

/// Why a manifest is refused, before any chain state is consulted.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ManifestError {
	/// The module name is not a lowercase slug.
	InvalidModuleName,
	/// A parameter name is not an identifier.
	InvalidParamName,
	/// Two parameters share a name.
	DuplicateParam,
	/// A required parameter has a default, which would never be used.
	RequiredParamWithDefault,
	/// A default value does not parse as its parameter's type.
	DefaultTypeMismatch,
	/// No CPU or no memory asked for, or VRAM without a GPU.
	InvalidResources,
	/// The timeout is zero.
	ZeroTimeout,
	/// `Sampled { p }` with `p = 0` (use `None`).
	ZeroSamplingProbability,
	/// A WASM artifact of zero bytes.
	EmptyArtifact,
	/// The version names one model twice: each is mounted at `/models/<name>`.
	DuplicateModel,
}

/// Checks a manifest on its own: names, schema, resources, timeout, policy and artifact.
pub fn check_manifest<Balance>(m: &VersionManifest<Balance>) -> Result<(), ManifestError> {
	if !is_valid_slug(&m.module) {
		return Err(ManifestError::InvalidModuleName);
	}
	check_schema(&m.inputs)?;
	let r = &m.resources;
	if r.cpu_millicores == 0 || r.ram_mib == 0 || (r.gpus == 0 && r.vram_mib != 0) {
		return Err(ManifestError::InvalidResources);
	}
	if m.timeout_secs == 0 {
		return Err(ManifestError::ZeroTimeout);
	}
	if let VerificationPolicy::Sampled { p } = m.verification {
		if p.is_zero() {
			return Err(ManifestError::ZeroSamplingProbability);
		}
	}
	if let Artifact::Wasm { size: 0, .. } = m.artifact {
		return Err(ManifestError::EmptyArtifact);
	}
	if !crate::models::models_are_distinct(&m.models) {
		return Err(ManifestError::DuplicateModel);
	}
	Ok(())
}

/// Checks an input schema: identifiers, unique names, defaults only where optional and typed.
pub fn check_schema(schema: &[InputParam]) -> Result<(), ManifestError> {
	for (i, p) in schema.iter().enumerate() {
		if !is_valid_param_name(&p.name) {
			return Err(ManifestError::InvalidParamName);
		}
		if schema[..i].iter().any(|q| q.name == p.name) {
			return Err(ManifestError::DuplicateParam);
		}
		match &p.default {
			Some(_) if p.required => return Err(ManifestError::RequiredParamWithDefault),
			Some(d) if !value_fits(p.kind, d) => return Err(ManifestError::DefaultTypeMismatch),
			_ => {}
		}
	}
	Ok(())
}

/// Why a job's inputs do not fit a module's schema.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum InputError {
	/// The job names a parameter the module does not declare.
	UnknownParam(Vec<u8>),
	/// The job gives a parameter twice.
	DuplicateParam(Vec<u8>),
	/// The job leaves out a required parameter.
	MissingParam(Vec<u8>),
	/// A value does not parse as its parameter's type.
	TypeMismatch(Vec<u8>),
}

/// Checks a job's `(name, value)` inputs against a schema: what `lilypad run -i Name=value`
/// and `submit_job` both do before any money moves.
pub fn check_inputs<N: AsRef<[u8]>, V: AsRef<[u8]>>(
	schema: &[InputParam],
	inputs: &[(N, V)],
) -> Result<(), InputError> {
	for (i, (name, value)) in inputs.iter().enumerate() {
		let name = name.as_ref();
		let Some(param) = schema.iter().find(|p| &p.name[..] == name) else {
			return Err(InputError::UnknownParam(name.to_vec()));
		};
		if inputs[..i].iter().any(|(n, _)| n.as_ref() == name) {
			return Err(InputError::DuplicateParam(name.to_vec()));
		}
		if !value_fits(param.kind, value.as_ref()) {
			return Err(InputError::TypeMismatch(name.to_vec()));
		}
	}
	for p in schema.iter().filter(|p| p.required) {
		if !inputs.iter().any(|(n, _)| n.as_ref() == &p.name[..]) {
			return Err(InputError::MissingParam(p.name.to_vec()));
		}
	}
	Ok(())
}

/// Cuts `shares`, in order, so that their total stays within `cap`: each share as asked until
/// the cap is reached, the one that reaches it cut to what is left, the rest nothing.
pub fn cap_shares(shares: &[Perbill], cap: Perbill) -> Vec<Perbill> {
	use polkadot_sdk::sp_runtime::Saturating;
	let mut left = cap;
	shares
		.iter()
		.map(|share| {
			let due = (*share).min(left);
			left = left.saturating_sub(due);
			due
		})
		.collect()
}

/// What each payee earns of a job of `price`: its share of the price, the total never more than
/// the sum of the shares of the price (each rounded down, the remainder to nobody).
pub fn royalty_amounts<AccountId: Clone, Balance>(
	payees: &[(AccountId, Perbill)],
	price: Balance,
) -> Vec<(AccountId, Balance)>
where
	Balance: polkadot_sdk::sp_runtime::traits::AtLeast32BitUnsigned + Copy,
{
	payees
		.iter()
		.map(|(who, share)| (who.clone(), share.mul_floor(price)))
		.filter(|(_, amount)| !amount.is_zero())
		.collect()
}

#[cfg(test)]
mod tests {
	use super::*;

	fn param(name: &str, kind: ParamType, default: Option<&str>, required: bool) -> InputParam {
		InputParam {
			name: name.as_bytes().to_vec().try_into().unwrap(),
			kind,
			default: default.map(|d| d.as_bytes().to_vec().try_into().unwrap()),
			required,
			delivery: Delivery::Env,
		}
	}

	fn manifest() -> VersionManifest<u128> {
		VersionManifest {
			module: b"cowsay".to_vec().try_into().unwrap(),
			version: SemVer::new(0, 1, 0),
			artifact: Artifact::Wasm { digest: [1; 32], size: 10 },
			inputs: vec![param("Message", ParamType::Text, None, true)].try_into().unwrap(),
			resources: Resources { cpu_millicores: 1000, ram_mib: 64, ..Default::default() },
			timeout_secs: 60,
			price_floor: 10,
			royalty: Perbill::from_percent(5),
			verification: VerificationPolicy::Deterministic,
			parent: None,
			models: Default::default(),
		}
	}

	#[test]
	fn semver_parses_and_orders() {
		assert_eq!(SemVer::parse("0.1.0"), Some(SemVer::new(0, 1, 0)));
		assert_eq!(SemVer::parse("10.20.30"), Some(SemVer::new(10, 20, 30)));
		for bad in
			["", "1", "1.2", "1.2.3.4", "01.2.3", "1.x.3", "-1.2.3", "1.2.3-rc1", "70000.0.0"]
		{
			assert_eq!(SemVer::parse(bad), None, "{bad}");
		}
		assert!(SemVer::new(0, 2, 0) > SemVer::new(0, 1, 9));
		assert!(SemVer::new(1, 0, 0) > SemVer::new(0, 99, 99));
		assert_eq!(SemVer::new(1, 2, 3).to_string(), "1.2.3");
	}

	#[test]
	fn slugs_are_lowercase_with_single_dashes() {
		for good in ["cowsay", "stable-diffusion", "sdxl-1-0", "a"] {
			assert!(is_valid_slug(good.as_bytes()), "{good}");
		}
		for bad in ["", "Cowsay", "1abc", "-a", "a-", "a--b", "a_b", "a b", "a.b"] {
			assert!(!is_valid_slug(bad.as_bytes()), "{bad}");
		}
	}

	#[test]
	fn manifest_checks_name_each_broken_rule() {
		assert_eq!(check_manifest(&manifest()), Ok(()));
		let mut m = manifest();
		m.module = b"Cow".to_vec().try_into().unwrap();
		assert_eq!(check_manifest(&m), Err(ManifestError::InvalidModuleName));
		let mut m = manifest();
		m.inputs = vec![param("1x", ParamType::Text, None, true)].try_into().unwrap();
		assert_eq!(check_manifest(&m), Err(ManifestError::InvalidParamName));
		let mut m = manifest();
		m.inputs =
			vec![param("A", ParamType::Text, None, true), param("A", ParamType::Text, None, false)]
				.try_into()
				.unwrap();
		assert_eq!(check_manifest(&m), Err(ManifestError::DuplicateParam));
		let mut m = manifest();
		m.inputs = vec![param("A", ParamType::Text, Some("x"), true)].try_into().unwrap();
		assert_eq!(check_manifest(&m), Err(ManifestError::RequiredParamWithDefault));
		let mut m = manifest();
		m.inputs = vec![param("N", ParamType::Integer, Some("ten"), false)].try_into().unwrap();
		assert_eq!(check_manifest(&m), Err(ManifestError::DefaultTypeMismatch));
		let mut m = manifest();
		m.resources.vram_mib = 1024;
		assert_eq!(check_manifest(&m), Err(ManifestError::InvalidResources));
		let mut m = manifest();
		m.resources.cpu_millicores = 0;
		assert_eq!(check_manifest(&m), Err(ManifestError::InvalidResources));
		let mut m = manifest();
		m.timeout_secs = 0;
		assert_eq!(check_manifest(&m), Err(ManifestError::ZeroTimeout));
		let mut m = manifest();
		m.verification = VerificationPolicy::Sampled { p: Perbill::zero() };
		assert_eq!(check_manifest(&m), Err(ManifestError::ZeroSamplingProbability));
		let mut m = manifest();
		m.artifact = Artifact::Wasm { digest: [0; 32], size: 0 };
		assert_eq!(check_manifest(&m), Err(ManifestError::EmptyArtifact));
		let mut m = manifest();
		let model = ModuleRef::parse("smollm2@1.0.0").unwrap();
		m.models =
			vec![model.clone(), ModuleRef::parse("smollm2@1.1.0").unwrap()].try_into().unwrap();
		assert_eq!(check_manifest(&m), Err(ManifestError::DuplicateModel));
	}

	#[test]
	fn inputs_are_checked_against_the_schema() {
		let schema = vec![
			param("Message", ParamType::Text, None, true),
			param("Count", ParamType::Integer, Some("1"), false),
			param("Loud", ParamType::Boolean, None, false),
		];
		assert_eq!(check_inputs(&schema, &[("Message", "hello")]), Ok(()));
		assert_eq!(
			check_inputs(&schema, &[("Message", "hi"), ("Count", "-3"), ("Loud", "true")]),
			Ok(())
		);
		assert_eq!(
			check_inputs(&schema, &[("Count", "2")]),
			Err(InputError::MissingParam(b"Message".to_vec()))
		);
		assert_eq!(
			check_inputs(&schema, &[("Message", "a"), ("Colour", "red")]),
			Err(InputError::UnknownParam(b"Colour".to_vec()))
		);
		assert_eq!(
			check_inputs(&schema, &[("Message", "a"), ("Message", "b")]),
			Err(InputError::DuplicateParam(b"Message".to_vec()))
		);
		assert_eq!(
			check_inputs(&schema, &[("Message", "a"), ("Count", "many")]),
			Err(InputError::TypeMismatch(b"Count".to_vec()))
		);
		assert_eq!(
			check_inputs(&schema, &[("Message", "a"), ("Loud", "yes")]),
			Err(InputError::TypeMismatch(b"Loud".to_vec()))
		);
	}

	#[test]
	fn royalties_along_a_lineage_never_exceed_the_cap() {
		let p = Perbill::from_percent;
		let shares = [p(10), p(8), p(5)];
		assert_eq!(cap_shares(&shares, p(30)), vec![p(10), p(8), p(5)]);
		// A 20% cap cuts the grandparent's share to what is left.
		assert_eq!(cap_shares(&shares, p(20)), vec![p(10), p(8), p(2)]);
		assert_eq!(cap_shares(&shares, Perbill::zero()), vec![Perbill::zero(); 3]);
		let payees = [(1u8, p(10)), (2, p(8)), (3, p(2)), (4, Perbill::zero())];
		assert_eq!(royalty_amounts(&payees, 1_000u128), vec![(1, 100), (2, 80), (3, 20)]);
		// Rounded down each: never more than the shares of the price together.
		let thirds = [(1u8, Perbill::from_parts(333_333_334)); 3];
		let paid: u128 = royalty_amounts(&thirds, 10u128).iter().map(|(_, a)| a).sum();
		assert_eq!(paid, 9);
	}

	#[test]
	fn signing_payload_binds_the_chain_and_every_field() {
		let m = manifest();
		let a = manifest_signing_payload(&[1u8; 32], &m);
		assert!(a.starts_with(&MANIFEST_SIGNING_DOMAIN.encode()));
		assert_ne!(a, manifest_signing_payload(&[2u8; 32], &m));
		let mut changed = m.clone();
		changed.price_floor += 1;
		assert_ne!(a, manifest_signing_payload(&[1u8; 32], &changed));
		let mut with_model = m.clone();
		with_model.models = vec![ModuleRef::parse("smollm2@1.0.0").unwrap()].try_into().unwrap();
		assert_ne!(a, manifest_signing_payload(&[1u8; 32], &with_model));
	}

	#[test]
	fn a_version_without_models_signs_what_version_1_signed() {
		let m = manifest();
		let old = v1::VersionManifest {
			module: m.module.clone(),
			version: m.version,
			artifact: m.artifact.clone(),
			inputs: m.inputs.clone(),
			resources: m.resources,
			timeout_secs: m.timeout_secs,
			price_floor: m.price_floor,
			royalty: m.royalty,
			verification: m.verification,
			parent: m.parent.clone(),
		};
		assert_eq!(
			manifest_signing_payload(&[1u8; 32], &m),
			(MANIFEST_SIGNING_DOMAIN, [1u8; 32], old).encode()
		);
	}
}
