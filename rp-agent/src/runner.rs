//! The job runner: takes a job, as the chain records it, to the result manifest its runner
//! signs. One path for the job's provider and for its mediator's re-run, so that both run a
//! job exactly alike (a mediator's verdict compares the two digests): fetch the input blob,
//! hand the inputs to the module as its schema says, prepare the artifact with its
//! [`Executor`], run it within the job's limits, pack `/outputs` into the canonical archive,
//! store outputs and logs by digest, and count it in the metrics. A module version that needs
//! models has each one's weights fetched into the model cache (by digest, from this agent's
//! store or its peers') and mounted read-only at `/models/<name>` for the run. [`Runner::run_until`] adds
//! the retry policy: a failure of the host's is tried again until the chain's deadline; an
//! artifact that is not the one pinned is given up at once.
use std::{
	collections::HashMap,
	path::{Path, PathBuf},
	sync::{Arc, Mutex},
	time::Duration,
};

use anyhow::Context;
use lilypad_primitives::{
	jobs::{input_digest, ExitStatus, JobId, JobInputs, ResultManifest},
	models::{ModelManifest, ModelRef},
	registry::{Artifact, Delivery, Digest, ModuleRef, VersionManifest},
};
use tracing::{info, warn};

use crate::{
	archive,
	chain::{Chain, ChainJob},
	config::Config,
	docker::{DockerExecutor, ImageRefused},
	executor::{engine_of, Executor, Fetch, Limits, ModelMount, Request, StdoutTap},
	live::Live,
	metrics::Metrics,
	models::{ModelCache, Pinned, StoresSource},
	store::ContentStore,
	wasm::WasmExecutor,
};

/// The environment variable that names a run's models, comma-separated in the order its
/// module version names them; each is mounted read-only at `/models/<name>`.
pub const MODELS_ENV: &str = "LILYPAD_MODELS";

/// Pause between tries of a run that failed for the host's reasons.
const RETRY: Duration = Duration::from_secs(2);

/// Why a module runs: a job assigned to this provider, or a re-run as the job's mediator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Purpose {
	Job,
	Mediation,
}

impl Purpose {
	/// Names its work directory and container.
	pub fn label(self) -> &'static str {
		match self {
			Purpose::Job => "job",
			Purpose::Mediation => "mediation",
		}
	}
}

/// What the operator lets one job use, whatever the job asks.
#[derive(Clone, Copy, Debug)]
pub struct HostLimits {
	/// WASM fuel per second of the job's timeout.
	pub fuel_per_sec: u64,
	pub max_memory_mib: u32,
	pub max_output_mib: u32,
	pub max_pids: u32,
}

impl From<&Config> for HostLimits {
	fn from(cfg: &Config) -> Self {
		Self {
			fuel_per_sec: cfg.fuel_per_sec,
			max_memory_mib: cfg.max_memory_mib,
			max_output_mib: cfg.max_output_mib,
			max_pids: cfg.max_pids,
		}
	}
}

impl HostLimits {
	fn max_output_bytes(&self) -> u64 {
		(self.max_output_mib as u64) << 20
	}

	/// The limits of one run of `job`: what it asked, within what the host allows.
	pub fn for_job(&self, job: &ChainJob) -> Limits {
		let ram_mib = job.resources.ram_mib.min(self.max_memory_mib).max(1);
		Limits {
			wall: Duration::from_secs(job.timeout_secs as u64),
			memory_bytes: (ram_mib as u64) << 20,
			output_bytes: self.max_output_bytes() as usize,
			cpu_millicores: job.resources.cpu_millicores.max(100),
			pids: self.max_pids,
			gpus: job.resources.gpus,
			fuel: self.fuel_per_sec.saturating_mul(job.timeout_secs as u64),
		}
	}
}

/// Runs jobs with the agent's executors.
pub struct Runner {
	store: Arc<ContentStore>,
	/// Other agents' stores, asked for blobs this one lacks.
	peers: Vec<String>,
	wasm: WasmExecutor,
	/// `None` when disabled or unreachable: Docker jobs then fail.
	docker: Option<DockerExecutor>,
	metrics: Arc<Metrics>,
	limits: HostLimits,
	work_dir: PathBuf,
	/// Starts the names of this agent's containers (see [`container_prefix`]).
	container_prefix: String,
	/// Published module versions: what a job runs and how its inputs are delivered never
	/// change once published, so one read of the registry serves every later job. Keyed by
	/// the SCALE encoding of the `ModuleRef`.
	versions: Mutex<HashMap<Vec<u8>, Arc<VersionManifest<u128>>>>,
	/// Published model versions, immutable like module versions; keyed alike.
	model_versions: Mutex<HashMap<Vec<u8>, Arc<ModelManifest>>>,
	/// Model weights by digest, bounded in size, least recently used out first.
	models: Arc<ModelCache>,
}

/// Fetches from the agent's own store, then its peers'.
struct FromStores<'a> {
	store: &'a ContentStore,
	peers: &'a [String],
}

impl Fetch for FromStores<'_> {
	async fn fetch(&self, digest: &Digest, max_bytes: u64) -> anyhow::Result<Vec<u8>> {
		self.store.fetch(digest, self.peers, max_bytes).await
	}
}

impl Runner {
	pub fn new(
		cfg: &Config,
		store: Arc<ContentStore>,
		wasm: WasmExecutor,
		docker: Option<DockerExecutor>,
		metrics: Arc<Metrics>,
		models: Arc<ModelCache>,
	) -> Self {
		Self {
			store,
			peers: cfg.peers.clone(),
			wasm,
			docker: docker.map(|d| d.with_max_image_bytes((cfg.max_image_mib as u64) << 20)),
			metrics,
			limits: HostLimits::from(cfg),
			work_dir: cfg.data_dir.join("work"),
			container_prefix: container_prefix(&cfg.data_dir),
			versions: Mutex::new(HashMap::new()),
			model_versions: Mutex::new(HashMap::new()),
			models,
		}
	}

	/// The digests of the model weights this agent holds, most recently used first: what its
	/// offer advertises.
	pub fn held_models(&self) -> Vec<Digest> {
		self.models.held()
	}

	/// The manifests of the models `version` needs, in its order, from the cache or the
	/// registry.
	async fn model_manifests(
		&self,
		chain: &Chain,
		version: &VersionManifest<u128>,
	) -> anyhow::Result<Vec<Arc<ModelManifest>>> {
		let mut manifests = Vec::with_capacity(version.models.len());
		for model in version.models.iter() {
			manifests.push(self.model_manifest(chain, model).await?);
		}
		Ok(manifests)
	}

	async fn model_manifest(
		&self,
		chain: &Chain,
		model: &ModelRef,
	) -> anyhow::Result<Arc<ModelManifest>> {
		let key = codec::Encode::encode(model);
		if let Some(m) = self.model_versions.lock().expect("lock").get(&key) {
			return Ok(m.clone());
		}
		let manifest = chain
			.model_version(model)
			.await?
			.ok_or_else(|| anyhow::anyhow!("model {model} is not published"))?;
		let manifest = Arc::new(manifest);
		self.model_versions.lock().expect("lock").insert(key, manifest.clone());
		Ok(manifest)
	}

	/// The digests of the weights of the models `module` needs, in its order: what its result
	/// names. The weights it ran with were checked against exactly these as they arrived.
	pub async fn model_digests(
		&self,
		chain: &Chain,
		module: &ModuleRef,
	) -> anyhow::Result<Vec<Digest>> {
		let version = self.version(chain, module).await?;
		let models = self.model_manifests(chain, &version).await?;
		Ok(models.iter().map(|m| m.weights.digest).collect())
	}

	/// Whether this agent can run Docker modules.
	pub fn has_docker(&self) -> bool {
		self.docker.is_some()
	}

	/// The manifest of `module`, from the cache or the registry.
	async fn version(
		&self,
		chain: &Chain,
		module: &ModuleRef,
	) -> anyhow::Result<Arc<VersionManifest<u128>>> {
		let key = codec::Encode::encode(module);
		if let Some(v) = self.versions.lock().expect("lock").get(&key) {
			return Ok(v.clone());
		}
		let version = Arc::new(chain.version(module).await?);
		self.versions.lock().expect("lock").insert(key, version.clone());
		Ok(version)
	}

	/// Runs `job` for `purpose` until it yields a manifest, trying again after a failure of
	/// the host's (a node, a peer or the engine briefly unreachable) until the chain's
	/// deadline `until` has passed. An artifact that is not the one pinned is given up at once:
	/// it will never be. Each try's stdout goes to `live` as it is written.
	pub async fn run_until(
		&self,
		chain: &Chain,
		job: JobId,
		record: &ChainJob,
		purpose: Purpose,
		until: u32,
		live: Option<&Arc<Live>>,
	) -> anyhow::Result<ResultManifest> {
		loop {
			let run = async {
				let version = self.version(chain, &record.module).await?;
				let models = self.model_manifests(chain, &version).await?;
				// Each try streams its stdout from the start.
				let stdout = live.map(|l| l.start_run());
				self.run(job, record, &version, &models, purpose, stdout).await
			};
			match run.await {
				Ok(manifest) => return Ok(manifest),
				Err(e) if e.downcast_ref::<ImageRefused>().is_some() => return Err(e),
				Err(e) if deadline_passed(chain, until).await => {
					return Err(e.context(format!("block #{until} has passed")))
				}
				Err(e) => warn!("could not run it, retrying: {e:#}"),
			}
			tokio::time::sleep(RETRY).await;
		}
	}

	/// Runs `job` once with the executor its artifact needs, stores its outputs and logs, and
	/// returns the manifest to sign; counts it in the metrics.
	pub async fn run(
		&self,
		job: JobId,
		record: &ChainJob,
		version: &VersionManifest<u128>,
		models: &[Arc<ModelManifest>],
		purpose: Purpose,
		stdout: Option<StdoutTap>,
	) -> anyhow::Result<ResultManifest> {
		let engine = engine_of(&version.artifact);
		let manifest = {
			let _running = self.metrics.running(engine);
			let run = Run { job, record, version, models, purpose };
			match (&version.artifact, &self.docker) {
				(Artifact::Wasm { .. }, _) => self.run_with(&self.wasm, run, stdout).await,
				(Artifact::Docker { .. }, Some(docker)) => self.run_with(docker, run, stdout).await,
				(Artifact::Docker { .. }, None) => {
					Err(anyhow::anyhow!("a Docker module, and this agent has no Docker engine"))
				}
			}
		};
		match (&manifest, purpose) {
			(Ok(_), Purpose::Mediation) => self.metrics.mediated(engine),
			(Ok(m), _) if m.exit == ExitStatus::Success => self.metrics.done(engine),
			(Ok(_), _) => self.metrics.failed(engine),
			(Err(e), _) if e.downcast_ref::<ImageRefused>().is_some() => {
				self.metrics.failed(engine)
			}
			(Err(_), _) => {}
		}
		manifest
	}

	async fn run_with(
		&self,
		executor: &impl Executor,
		Run { job, record, version, models, purpose }: Run<'_>,
		stdout: Option<StdoutTap>,
	) -> anyhow::Result<ResultManifest> {
		let fetch = FromStores { store: &self.store, peers: &self.peers };
		let max_output = self.limits.max_output_bytes();
		let inputs = &record.inputs;
		let blob = match inputs.blob {
			Some(d) => Some(fetch.fetch(&d, max_output).await?),
			None => None,
		};
		let dir = self.work_dir.join(format!("{}-{job}", purpose.label()));
		let _ = std::fs::remove_dir_all(&dir);
		let (in_dir, out_dir) = (dir.join("inputs"), dir.join("outputs"));
		std::fs::create_dir_all(&in_dir)?;
		std::fs::create_dir_all(&out_dir)?;
		let (args, mut env) = deliver_inputs(version, inputs, blob.as_deref(), &in_dir)?;
		if !models.is_empty() {
			// Each model is its own mount (a WASM guest sees each as a separate root, with no
			// `/models` to list): the names say where to look, in the module's order.
			let names: Vec<_> = models.iter().map(|m| String::from_utf8_lossy(&m.model)).collect();
			env.push((MODELS_ENV.into(), names.join(",")));
		}
		let in_digest = input_digest(inputs);
		executor.prepare(&version.artifact, &fetch).await?;
		// Pinned until the run ends: the cache evicts none of them meanwhile.
		let pinned = self.fetch_models(models).await?;
		let mounts = models
			.iter()
			.zip(&pinned)
			.map(|(m, p)| ModelMount {
				name: String::from_utf8_lossy(&m.model).into_owned(),
				path: p.path().to_path_buf(),
			})
			.collect();
		let request = Request {
			args,
			env,
			inputs: in_dir,
			outputs: out_dir.clone(),
			models: mounts,
			seed: seed(&version.artifact, &in_digest),
			name: format!("{}-{}-{job}", self.container_prefix, purpose.label()),
			limits: self.limits.for_job(record),
			stdout,
		};
		let outcome = executor.run(&version.artifact, request).await?;
		drop(pinned);
		let mut stderr = outcome.stderr;
		if let Some(why) = &outcome.failure {
			info!(why, "module failed");
		}
		let archive = match archive::canonical_archive(&out_dir, max_output) {
			Ok(a) => a,
			Err(e) => {
				stderr
					.extend_from_slice(format!("\n[lilypad-rp] outputs refused: {e}\n").as_bytes());
				let empty = dir.join("empty");
				std::fs::create_dir_all(&empty)?;
				archive::canonical_archive(&empty, 0)?
			}
		};
		let store = &self.store;
		let manifest = ResultManifest {
			job,
			module_digest: record.module_digest,
			input_digest: in_digest,
			output_digest: store.put(&archive)?,
			stdout_digest: store.put(&outcome.stdout)?,
			stderr_digest: store.put(&stderr)?,
			exit: outcome.exit,
			usage: outcome.usage,
		};
		let _ = std::fs::remove_dir_all(&dir);
		Ok(manifest)
	}
}

impl Runner {
	/// Brings the weights of `models` into the cache, each checked against its digest as it
	/// arrives, and pins them for a run.
	async fn fetch_models(&self, models: &[Arc<ModelManifest>]) -> anyhow::Result<Vec<Pinned>> {
		let source = StoresSource { store: &self.store, peers: &self.peers };
		let mut pinned = Vec::with_capacity(models.len());
		for m in models {
			let started = std::time::Instant::now();
			let entry = self.models.fetch(&m.weights, &source).await.with_context(|| {
				format!("fetch the weights of model {}", String::from_utf8_lossy(&m.model))
			})?;
			info!(
				model = %String::from_utf8_lossy(&m.model),
				digest = %hex::encode(m.weights.digest),
				bytes = m.weights.size,
				took_ms = started.elapsed().as_millis() as u64,
				"model ready"
			);
			pinned.push(entry);
		}
		Ok(pinned)
	}
}

/// One run of a job: which, as recorded on chain, of which module version with which models,
/// and why.
struct Run<'a> {
	job: JobId,
	record: &'a ChainJob,
	version: &'a VersionManifest<u128>,
	models: &'a [Arc<ModelManifest>],
	purpose: Purpose,
}

/// Whether the chain's best block is past `block` (not known: not past).
async fn deadline_passed(chain: &Chain, block: u32) -> bool {
	match chain.at().await {
		Ok(at) => at.block_number() > block as u64,
		Err(_) => false,
	}
}

/// The module's randomness: the same on every provider that runs this job (the artifact's
/// digest and the job's inputs), so that re-runs agree.
fn seed(artifact: &Artifact, inputs: &Digest) -> [u8; 32] {
	let module = match artifact {
		Artifact::Wasm { digest, .. } => digest,
		Artifact::Docker { config_digest, .. } => config_digest,
	};
	*blake3::hash(&[*module, *inputs].concat()).as_bytes()
}

/// `lilypad-<8 hex digits>`: the blake3 of the agent's data directory (made absolute), the same
/// after a restart, so that a job interrupted by a kill finds its leftover container. Job ids
/// repeat across chains (every dev chain starts at job 0) and one Docker engine may serve
/// several agents, so the names carry the agent's own data directory: another agent's
/// container is never removed as a leftover of ours.
fn container_prefix(data_dir: &Path) -> String {
	let dir = std::path::absolute(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
	let digest = blake3::hash(dir.as_os_str().as_encoded_bytes());
	format!("lilypad-{}", &digest.to_hex()[..8])
}

/// A module's command-line arguments, and its environment as (name, value) pairs.
pub type ArgsAndEnv = (Vec<String>, Vec<(String, String)>);

/// Hands a job's inputs to the module as its version's schema says: environment variables,
/// `--name=value` arguments in schema order, or files under `/inputs`; the blob, if any, as
/// `/inputs/blob`. A parameter the job left out takes its default.
pub fn deliver_inputs(
	version: &VersionManifest<u128>,
	inputs: &JobInputs,
	blob: Option<&[u8]>,
	in_dir: &Path,
) -> anyhow::Result<ArgsAndEnv> {
	let (mut args, mut env) = (Vec::new(), Vec::new());
	for param in version.inputs.iter() {
		let given = inputs.params.iter().find(|(n, _)| n == &param.name).map(|(_, v)| v.to_vec());
		let Some(value) = given.or_else(|| param.default.as_ref().map(|d| d.to_vec())) else {
			continue;
		};
		let name = String::from_utf8(param.name.to_vec()).context("parameter name is not UTF-8")?;
		match param.delivery {
			Delivery::Env => {
				env.push((name, String::from_utf8(value).context("value is not UTF-8")?))
			}
			Delivery::Argument => args.push(format!(
				"--{name}={}",
				String::from_utf8(value).context("value is not UTF-8")?
			)),
			Delivery::File => std::fs::write(in_dir.join(&name), value)?,
		}
	}
	if let Some(blob) = blob {
		std::fs::write(in_dir.join("blob"), blob)?;
	}
	Ok((args, env))
}

#[cfg(test)]
mod tests {
	use super::container_prefix;

	#[test]
	fn container_names_are_the_agents_own_and_survive_a_restart() {
		let a = container_prefix(std::path::Path::new("/var/lib/lilypad-rp/a"));
		assert_eq!(a, container_prefix(std::path::Path::new("/var/lib/lilypad-rp/a")));
		assert_ne!(a, container_prefix(std::path::Path::new("/var/lib/lilypad-rp/b")));
		// Docker's rule for names: [a-zA-Z0-9][a-zA-Z0-9_.-]*
		assert!(a.starts_with("lilypad-") && a.len() == "lilypad-".len() + 8);
		assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
	}
}
