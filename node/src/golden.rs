//! The JSON of the `lilypad_*` RPC, pinned: fixtures holding every optional field set and
//! unset and every variant of every enum, rendered as the RPC renders them and compared with
//! the files in `node/golden/`. Clients read this JSON; a change to it is a change to the wire
//! format, made on purpose: `LILYPAD_UPDATE_GOLDEN=1 cargo test -p lilypad-node golden` rewrites
//! the files, and the diff shows what changed.
use std::path::PathBuf;

use lilypad_primitives::{
	economics::{Charge, FeeRates},
	jobs::{
		Assignment, ExitStatus, Job, JobInputs, JobOutcome, JobState, Mediation, PendingSlash,
		PriceEstimate, ResultManifest, SlashCause, Stage, Usage,
	},
	mediation::{MediationCause, Verdict},
	models::{ModelInfo, ModelManifest, ModelRecord, Weights, WeightsFormat, WeightsLayout},
	providers::{
		BondInfo, Gpu, ModuleFilter, Offer, OfferResources, ProviderInfo, ProviderStatus, Unlocking,
	},
	registry::{
		Artifact, Delivery, InputParam, ModuleInfo, ModuleRef, ParamType, Resources, SemVer,
		VerificationPolicy, VersionManifest, VersionRecord,
	},
	wire, AccountId, Balance, BlockNumber, LILY, MILLI_LILY,
};
use polkadot_sdk::{
	sp_core::sr25519,
	sp_runtime::{traits::Get, BoundedVec, Perbill},
};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;

fn account(n: u8) -> AccountId {
	AccountId::from([n; 32])
}

fn bounded<T, S: Get<u32>>(items: Vec<T>) -> BoundedVec<T, S> {
	items.try_into().ok().expect("within the bound")
}

fn text<S: Get<u32>>(s: &str) -> BoundedVec<u8, S> {
	bounded(s.as_bytes().to_vec())
}

fn module(name: &str, major: u16) -> ModuleRef {
	ModuleRef { name: text(name), version: SemVer::new(major, 2, 3) }
}

fn charge(price: Balance) -> Charge<Balance> {
	Charge { price, solver_fee: price / 20, royalties: price / 10, protocol_fee: price / 50 }
}

fn resources() -> Resources {
	Resources { cpu_millicores: 1500, ram_mib: 512, gpus: 1, vram_mib: 8192, disk_mib: 64 }
}

/// Two jobs with every optional part set (one per variant of each enum in them), and one job
/// in every stage with only the parts that stage needs.
fn jobs() -> Vec<(u64, Job<AccountId, Balance, BlockNumber>)> {
	let bare = Job {
		creator: account(1),
		module: module("echo", 1),
		module_digest: [0xab; 32],
		resources: Resources::default(),
		timeout_secs: 60,
		verification: VerificationPolicy::None,
		inputs: JobInputs::default(),
		max_price: 2 * LILY,
		target: None,
		credentials: bounded(vec![]),
		rates: FeeRates { solver: Perbill::from_percent(5), protocol: Perbill::from_percent(2) },
		charge: charge(LILY),
		escrow: LILY + LILY / 20,
		challenge_fee: 0,
		deposit: MILLI_LILY,
		match_by: 40,
		state: JobState::Open,
		due: None,
		history: bounded(vec![(Stage::Submitted, 7)]),
	};
	let assignment = |n: u8| Assignment {
		provider: account(4),
		solver: account(2),
		price: u128::MAX - n as u128,
		collateral: 5 * LILY,
		matched_at: 9,
		execute_by: 39,
	};
	let result = |n: u8, exit| ResultManifest {
		job: 11 + n as u64,
		module_digest: [0xab; 32],
		input_digest: [1; 32],
		output_digest: [2; 32],
		stdout_digest: [3; 32],
		stderr_digest: [4; 32],
		exit,
		usage: Usage { wall_ms: 1234, cpu_ms: 999, peak_ram_mib: 77, gpu_ms: 5 },
	};
	let slash = |n: usize| PendingSlash {
		cause: [SlashCause::ExecutionTimeout, SlashCause::BadResult][n],
		to_creator: 3 * LILY,
		to_mediator: LILY,
		to_treasury: LILY / 2,
		applies_at: 60,
	};
	let mediation = |n: usize| Mediation {
		cause: [MediationCause::Sampled, MediationCause::Challenged][n],
		mediator: [None, Some(account(5))][n].clone(),
		stake_locked: 7 * LILY,
		answer_by: 55,
		failed: bounded(vec![account(6), account(7)]),
		verdict: [Some(Verdict::ResultUpheld), Some(Verdict::ResultWrong)][n],
	};
	let full = |n: u8| {
		let mut job = bare.clone();
		job.module = module("stable-diffusion", n.into());
		job.resources = resources();
		job.verification = if n == 0 {
			VerificationPolicy::Deterministic
		} else {
			VerificationPolicy::Sampled { p: Perbill::from_parts(250_000_000) }
		};
		job.inputs = JobInputs {
			params: bounded(vec![
				(text("Prompt"), text("a \"frog\" on a lily pad")),
				(text("Steps"), text("20")),
			]),
			blob: Some([n; 32]),
		};
		job.target = Some(account(4));
		job.credentials = bounded(vec![text("gpu-verified"), text("eu")]);
		job.challenge_fee = 3 * MILLI_LILY;
		// Slashed is the one state that keeps every part.
		job.state = JobState::Closed(JobOutcome::Slashed {
			assignment: assignment(n),
			result: Some(result(
				n,
				[ExitStatus::Failed { code: -3 }, ExitStatus::TimedOut][n as usize],
			)),
			mediation: Some(mediation(n as usize)),
			slash: slash(n as usize),
		});
		job.due = Some(70);
		job.history = bounded(Stage::ALL[..8].iter().zip(10..).map(|(s, at)| (*s, at)).collect());
		job
	};
	let mut jobs = vec![(1, full(0)), (2, full(1))];
	// Every stage with only what it needs, and the other exit statuses.
	let (ok, oom) = (result(0, ExitStatus::Success), result(0, ExitStatus::OutOfMemory));
	let states = [
		JobState::Open,
		JobState::Matched { assignment: assignment(0) },
		JobState::Reported { assignment: assignment(0), result: ok.clone() },
		JobState::InMediation {
			assignment: assignment(0),
			result: ok.clone(),
			mediation: mediation(0),
		},
		JobState::SlashPending {
			assignment: assignment(0),
			result: None,
			mediation: None,
			slash: slash(0),
		},
		JobState::Closed(JobOutcome::Completed {
			assignment: assignment(0),
			result: oom,
			mediation: None,
		}),
		JobState::Closed(JobOutcome::Cancelled),
		JobState::Closed(JobOutcome::Expired),
		JobState::Closed(JobOutcome::Slashed {
			assignment: assignment(0),
			result: None,
			mediation: None,
			slash: slash(0),
		}),
		JobState::Closed(JobOutcome::SlashCancelled {
			assignment: assignment(0),
			result: None,
			mediation: None,
		}),
	];
	for (i, state) in states.into_iter().enumerate() {
		let mut job = bare.clone();
		assert_eq!(state.stage(), Stage::ALL[i]);
		job.history = bounded(vec![(state.stage(), 20 + i as u32)]);
		job.state = state;
		jobs.push((100 + i as u64, job));
	}
	jobs
}

fn version(
	manifest: VersionManifest<Balance>,
	deprecated: bool,
) -> VersionRecord<AccountId, Balance, BlockNumber> {
	VersionRecord {
		price_floor: manifest.price_floor * 2,
		manifest,
		publisher: account(8),
		signature: sr25519::Signature::from_raw([9; 64]),
		published_at: 12,
		deprecated,
		depth: 1,
		lineage_royalty: Perbill::from_parts(123_456_789),
		active_jobs: 3,
		forks: 1,
	}
}

/// A module with a Docker version (every parameter type and delivery, a parent, a model) and
/// a WASM one (none of them).
fn modules() -> Vec<ModuleInfo<AccountId, Balance, BlockNumber>> {
	let param = |name: &str, kind, default: Option<&str>, delivery| InputParam {
		name: text(name),
		kind,
		default: default.map(text),
		required: default.is_none(),
		delivery,
	};
	let docker = VersionManifest {
		module: text("cowsay"),
		version: SemVer::new(1, 0, 0),
		artifact: Artifact::Docker { archive_digest: [0x11; 32], config_digest: [0x22; 32] },
		inputs: bounded(vec![
			param("Message", ParamType::Text, None, Delivery::Env),
			param("Width", ParamType::Integer, Some("40"), Delivery::Argument),
			param("Shout", ParamType::Boolean, Some("false"), Delivery::File),
		]),
		resources: resources(),
		timeout_secs: 30,
		price_floor: 100 * MILLI_LILY,
		royalty: Perbill::from_percent(3),
		verification: VerificationPolicy::Sampled { p: Perbill::from_percent(10) },
		parent: Some(module("echo", 1)),
		models: bounded(vec![module("smollm2-135m-instruct", 1)]),
	};
	let wasm = VersionManifest {
		version: SemVer::new(1, 1, 0),
		artifact: Artifact::Wasm { digest: [0x33; 32], size: 123_456 },
		inputs: bounded(vec![]),
		verification: VerificationPolicy::Deterministic,
		parent: None,
		models: bounded(vec![]),
		..docker.clone()
	};
	vec![ModuleInfo {
		name: text("cowsay"),
		owner: account(3),
		deposit: 10 * LILY,
		versions: vec![version(docker, false), version(wasm, true)],
	}]
}

/// A model with a version of each layout and format: a file without a parent, a directory
/// derived from another model, and a file of the third format.
fn models() -> Vec<ModelInfo<AccountId, Balance, BlockNumber>> {
	let gguf = ModelManifest {
		model: text("smollm2-135m-instruct"),
		version: SemVer::new(1, 0, 0),
		weights: Weights {
			digest: [0x44; 32],
			size: 270_000_000,
			layout: WeightsLayout::File,
			format: WeightsFormat::Gguf,
		},
		licence: text("Apache-2.0"),
		royalty: Perbill::from_percent(2),
		parent: None,
	};
	let safetensors = ModelManifest {
		version: SemVer::new(1, 1, 0),
		weights: Weights {
			digest: [0x55; 32],
			size: 540_000_000,
			layout: WeightsLayout::Directory,
			format: WeightsFormat::Safetensors,
		},
		licence: text("MIT OR Apache-2.0"),
		parent: Some(module("smollm2-135m", 1)),
		..gguf.clone()
	};
	let onnx = ModelManifest {
		version: SemVer::new(2, 0, 0),
		weights: Weights {
			digest: [0x66; 32],
			size: 123_456,
			layout: WeightsLayout::File,
			format: WeightsFormat::Onnx,
		},
		..gguf.clone()
	};
	let record = |manifest: ModelManifest, depth, lineage| ModelRecord {
		manifest,
		publisher: account(8),
		signature: sr25519::Signature::from_raw([9; 64]),
		published_at: 12,
		depth,
		lineage_royalty: Perbill::from_percent(lineage),
		modules: 2,
		active_jobs: 3,
		forks: 1,
	};
	vec![ModelInfo {
		name: text("smollm2-135m-instruct"),
		owner: account(3),
		deposit: 10 * LILY,
		versions: vec![record(gguf, 0, 2), record(safetensors, 1, 5), record(onnx, 0, 2)],
	}]
}

/// An active provider with GPUs, prices, credentials and a bond unlocking; an away one serving
/// some modules, without a bond.
fn providers() -> Vec<ProviderInfo<AccountId, Balance, BlockNumber>> {
	let offer = Offer {
		resources: OfferResources {
			cpu_millicores: 8000,
			ram_mib: 32768,
			gpus: bounded(vec![
				Gpu { model: text("NVIDIA H100 80GB HBM3"), vram_mib: 81559 },
				Gpu { model: text("NVIDIA L4"), vram_mib: 23034 },
			]),
			disk_mib: 100_000,
		},
		modules: ModuleFilter::All,
		default_price: LILY,
		prices: bounded(vec![(text("cowsay"), 2 * LILY), (text("echo"), LILY / 2)]),
		capacity: 4,
		credentials: bounded(vec![text("gpu-verified")]),
		endpoint: text("http://127.0.0.1:9944/store"),
		models: bounded(vec![[7; 32]]),
	};
	let active = ProviderInfo {
		provider: account(4),
		offer: offer.clone(),
		status: ProviderStatus::Active,
		registered_at: 3,
		last_heartbeat: 30,
		active_jobs: 2,
		bond: Some(BondInfo {
			bonded: 1000 * LILY,
			in_use: 5 * LILY,
			unlocking: vec![
				Unlocking { amount: LILY, unlocks_at: 100 },
				Unlocking { amount: 2 * LILY, unlocks_at: 200 },
			],
		}),
	};
	let away = ProviderInfo {
		provider: account(5),
		offer: Offer {
			resources: OfferResources::default(),
			modules: ModuleFilter::Only(bounded(vec![text("echo"), text("cowsay")])),
			prices: bounded(vec![]),
			credentials: bounded(vec![]),
			..offer
		},
		status: ProviderStatus::Away,
		bond: None,
		..active.clone()
	};
	vec![active, away]
}

fn estimates() -> Vec<PriceEstimate<AccountId, Balance>> {
	vec![
		PriceEstimate {
			floor: LILY,
			cheapest: Some((account(4), 2 * LILY)),
			offers: 3,
			charge: charge(2 * LILY),
		},
		PriceEstimate { floor: LILY, cheapest: None, offers: 0, charge: charge(LILY) },
	]
}

/// Renders `items` as the RPC does and compares the JSON with `node/golden/<name>.json` (or
/// rewrites the file); then reads the file back as the clients do and checks that nothing is
/// lost on the way.
fn check<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(name: &str, items: Vec<T>) {
	let path =
		PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("golden").join(format!("{name}.json"));
	let rendered = serde_json::to_value(&items).unwrap();
	if std::env::var_os("LILYPAD_UPDATE_GOLDEN").is_some() {
		let mut text = serde_json::to_string_pretty(&rendered).unwrap();
		text.push('\n');
		std::fs::write(&path, text).unwrap();
		return;
	}
	let golden: Value = serde_json::from_str(
		&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
	)
	.unwrap();
	assert!(
		rendered == golden,
		"the JSON of {name} differs from {}:\n{}",
		path.display(),
		serde_json::to_string_pretty(&rendered).unwrap()
	);
	let read: Vec<T> = serde_json::from_value(golden).expect("the clients read the golden JSON");
	assert_eq!(read, items, "{name}: read back as it was written");
}

#[test]
fn jobs_json_is_the_golden_one() {
	check("jobs", jobs().iter().map(|(id, job)| wire::Job::from((*id, job))).collect());
}

#[test]
fn modules_json_is_the_golden_one() {
	check("modules", modules().iter().map(wire::Module::from).collect());
}

#[test]
fn models_json_is_the_golden_one() {
	check("models", models().iter().map(wire::Model::from).collect());
}

#[test]
fn providers_json_is_the_golden_one() {
	check("providers", providers().iter().map(wire::Provider::from).collect());
}

#[test]
fn estimates_json_is_the_golden_one() {
	check("estimates", estimates().iter().map(wire::Estimate::from).collect());
}
