//! The daemon: registers the provider, follows finalized blocks, runs every job assigned to
//! it (several at once, up to its capacity) and delivers each result exactly once. In
//! mediator mode it also re-runs the jobs it is drawn to mediate and submits its own digest.
use std::{
	collections::HashSet,
	path::PathBuf,
	sync::{Arc, Mutex},
	time::Duration,
};

use anyhow::{bail, Context};
use lilypad_primitives::{
	jobs::{input_digest, JobId, JobInputs, ResultManifest},
	providers::{ModuleFilter, Offer, OfferResources},
	registry::{Artifact, Delivery, ModuleRef, VersionManifest},
};
use tokio::sync::Semaphore;
use tracing::{info, warn, Instrument};

use crate::{
	archive,
	chain::{lilypad, Chain, ChainJob, Outcome},
	config::Config,
	docker::{DockerExecutor, DockerLimits, DockerRun, ImageRefused},
	gpu::DetectedGpu,
	journal::{Entry, Journal},
	metrics::{Engine, Metrics},
	resources,
	store::ContentStore,
	wasm::{RunOutcome, WasmExecutor, WasmLimits, WasmRun},
};
use lilypad_primitives::identity::Role;

/// How long to wait for the node at start-up.
const CONNECT_PATIENCE: Duration = Duration::from_secs(60);
/// Pause between retries of a step that failed for the host's reasons.
const RETRY: Duration = Duration::from_secs(2);

/// A running agent's parts, shared by its tasks.
pub struct Agent {
	cfg: Config,
	chain: Chain,
	store: Arc<ContentStore>,
	wasm: Arc<WasmExecutor>,
	/// The Docker engine; `None` when disabled or unreachable: Docker jobs are then refused.
	docker: Option<DockerExecutor>,
	/// The NVIDIA GPUs found at start-up.
	gpus: Vec<DetectedGpu>,
	pub metrics: Arc<Metrics>,
	journal: Journal,
	/// One permit per job slot.
	slots: Semaphore,
	/// Jobs a task is handling now.
	handling: Mutex<HashSet<JobId>>,
	/// Jobs a task is mediating now.
	mediating: Mutex<HashSet<JobId>>,
	/// Published module versions: what a job runs and how its inputs are delivered never
	/// change once published, so one read of the registry serves every later job.
	/// Keyed by the SCALE encoding of the `ModuleRef`.
	versions: Mutex<std::collections::HashMap<Vec<u8>, Arc<VersionManifest<u128>>>>,
	work_dir: PathBuf,
	/// Starts the names of this agent's containers. Job ids repeat across chains (every dev
	/// chain starts at job 0) and one Docker engine may serve several agents, so the names
	/// carry the agent's own data directory: another agent's container is never removed as a
	/// leftover of ours.
	container_prefix: String,
}

/// Runs the agent until the process is stopped.
pub async fn run(cfg: Config) -> anyhow::Result<()> {
	std::fs::create_dir_all(&cfg.data_dir)
		.with_context(|| format!("create data directory {}", cfg.data_dir.display()))?;
	let key = match &cfg.key_uri {
		Some(uri) => crate::keystore::from_uri(uri)?,
		None => crate::keystore::load_or_create(&cfg.data_dir)?,
	};
	let store = Arc::new(ContentStore::open(cfg.data_dir.join("store"))?);
	let journal = Journal::open(&cfg.data_dir.join("journal.redb"))?;
	let wasm = Arc::new(WasmExecutor::new(Some(cfg.data_dir.join("compiled")))?);
	let docker = if cfg.docker {
		match DockerExecutor::connect().await {
			Ok(d) => Some(d),
			Err(e) => {
				warn!("no Docker engine ({e:#}): Docker jobs will be refused");
				None
			}
		}
	} else {
		None
	};
	let gpus = if cfg.detect_gpus { crate::gpu::detect() } else { Vec::new() };
	info!(docker = docker.is_some(), ?gpus, "executors ready");
	let metrics = Arc::new(Metrics::default());

	let listener = tokio::net::TcpListener::bind(cfg.listen)
		.await
		.with_context(|| format!("listen on {}", cfg.listen))?;
	let max_upload = (cfg.max_output_mib as usize) << 20;
	let router = store.clone().router(max_upload).merge(metrics_router(metrics.clone()));
	tokio::spawn(async move {
		if let Err(e) = axum::serve(listener, router).await {
			tracing::error!("content store server stopped: {e}");
		}
	});
	info!(listen = %cfg.listen, endpoint = %cfg.endpoint(), "content store serving");

	let chain = Chain::connect(&cfg.node, key, CONNECT_PATIENCE).await?;
	info!(provider = %chain.account, node = %cfg.node, "connected");
	let agent = Arc::new(Agent {
		slots: Semaphore::new(cfg.capacity as usize),
		work_dir: cfg.data_dir.join("work"),
		container_prefix: container_prefix(&cfg.data_dir),
		cfg,
		chain,
		store,
		wasm,
		docker,
		gpus,
		metrics,
		journal,
		handling: Mutex::new(HashSet::new()),
		mediating: Mutex::new(HashSet::new()),
		versions: Mutex::new(Default::default()),
	});
	agent.ensure_registered().await?;
	agent.resume().await?;
	agent.follow().await
}

impl Agent {
	/// The offer this agent makes: one job slot's share of the machine, `capacity` slots.
	pub fn offer(&self) -> anyhow::Result<Offer<u128>> {
		let machine = resources::detect(&self.cfg.data_dir)?;
		let per_slot = |total: u32| total / self.cfg.capacity;
		let modules = if self.cfg.modules.is_empty() {
			ModuleFilter::All
		} else {
			let names = self
				.cfg
				.modules
				.iter()
				.map(|m| {
					m.as_bytes()
						.to_vec()
						.try_into()
						.map_err(|_| anyhow::anyhow!("module name {m:?} too long"))
				})
				.collect::<anyhow::Result<Vec<_>>>()?;
			ModuleFilter::Only(names.try_into().map_err(|_| anyhow::anyhow!("too many modules"))?)
		};
		Ok(Offer {
			resources: OfferResources {
				cpu_millicores: self.cfg.cpu_millicores.unwrap_or(per_slot(machine.cpu_millicores)),
				ram_mib: self.cfg.ram_mib.unwrap_or(per_slot(machine.ram_mib)),
				gpus: crate::gpu::slot_gpus(&self.gpus, self.cfg.capacity)
					.try_into()
					.expect("at most MAX_OFFER_GPUS; qed"),
				disk_mib: self.cfg.disk_mib.unwrap_or(per_slot(machine.disk_mib)),
			},
			modules,
			default_price: self.cfg.price.into(),
			prices: Default::default(),
			capacity: self.cfg.capacity,
			credentials: Default::default(),
			endpoint: self
				.cfg
				.endpoint()
				.into_bytes()
				.try_into()
				.map_err(|_| anyhow::anyhow!("endpoint URL too long"))?,
		})
	}

	/// Takes the provider role (and the mediator's, in mediator mode), registers or updates
	/// the offer and tops the bonds up to the configured collateral and stake.
	async fn ensure_registered(&self) -> anyhow::Result<()> {
		use lilypad::runtime_types::lilypad_primitives::providers::BondKind;
		let tx = lilypad::transactions;
		let chain = &self.chain;
		let roles =
			[(Role::ResourceProvider, self.cfg.provide), (Role::Mediator, self.cfg.mediate)];
		for (role, _) in roles.into_iter().filter(|(_, wanted)| *wanted) {
			if !chain.has_role(role).await? {
				chain.register_role(role).await?;
				info!(?role, "role registered");
			}
		}
		if self.cfg.mediate {
			let staked = chain.my_bond(lilypad_primitives::providers::BondKind::Mediator).await?;
			let want = u128::from(self.cfg.mediator_bond);
			if staked < want {
				let bond = tx().providers().bond(BondKind::Mediator, want - staked);
				chain.call(&bond, "bond").await?;
				info!(stake = self.cfg.mediator_bond, "mediator stake bonded");
			}
		}
		if !self.cfg.provide {
			return Ok(());
		}
		let offer = self.offer()?;
		match chain.my_offer().await? {
			None => {
				chain
					.call(
						&tx().providers().register_provider(subxt::utils::Static(offer.clone())),
						"register_provider",
					)
					.await?;
				info!(?offer, "offer registered");
			}
			Some((current, active)) => {
				if current != offer {
					chain
						.call(
							&tx().providers().update_offer(subxt::utils::Static(offer.clone())),
							"update_offer",
						)
						.await?;
					info!(?offer, "offer updated");
				}
				if !active {
					chain.call(&tx().providers().heartbeat(), "heartbeat").await?;
				}
			}
		}
		let bonded = chain.my_bond(lilypad_primitives::providers::BondKind::Provider).await?;
		let want = u128::from(self.cfg.bond);
		if bonded < want {
			chain.call(&tx().providers().bond(BondKind::Provider, want - bonded), "bond").await?;
			info!(collateral = self.cfg.bond, "collateral bonded");
		}
		Ok(())
	}

	/// Picks up what the journal has unfinished and every job the chain has waiting for this
	/// provider (assigned while the agent was down).
	async fn resume(self: &Arc<Self>) -> anyhow::Result<()> {
		for (job, entry) in self.journal.unfinished()? {
			info!(job, step = entry.step(), "resuming from the journal");
			self.clone().spawn_job(job);
		}
		for job in self.chain.my_jobs().await? {
			if self.journal.get(job)?.is_none() {
				if let Some(j) = self.chain.job(job).await? {
					if j.awaits_result_from(&self.chain.account) {
						self.clone().spawn_job(job);
					}
				}
			}
		}
		Ok(())
	}

	/// Follows finalized blocks: every `JobMatched` for this provider starts a job, and a
	/// heartbeat goes out every `heartbeat_blocks`.
	async fn follow(self: &Arc<Self>) -> anyhow::Result<()> {
		let mut last_heartbeat = 0u64;
		loop {
			let mut blocks = match self.chain.api.stream_blocks().await {
				Ok(b) => b,
				Err(e) => {
					warn!("cannot follow finalized blocks: {e}");
					tokio::time::sleep(RETRY).await;
					continue;
				}
			};
			while let Some(block) = blocks.next().await {
				let block = match block {
					Ok(b) => b,
					Err(e) => {
						warn!("finalized block stream: {e}");
						break;
					}
				};
				let number = block.number();
				if self.cfg.provide && number >= last_heartbeat + self.cfg.heartbeat_blocks as u64 {
					last_heartbeat = number;
					let me = self.clone();
					tokio::spawn(async move {
						match me
							.chain
							.call(&lilypad::transactions().providers().heartbeat(), "heartbeat")
							.await
						{
							Ok(()) => me.metrics.heartbeat_sent(),
							Err(e) => warn!("heartbeat: {e:#}"),
						}
					});
				}
				let events = match block.at().await {
					Ok(at) => at.events().fetch().await,
					Err(e) => {
						warn!(number, "block: {e}");
						continue;
					}
				};
				let events = match events {
					Ok(ev) => ev,
					Err(e) => {
						warn!(number, "events: {e}");
						continue;
					}
				};
				let me = &self.chain.account;
				for matched in events.find::<lilypad::jobs::events::JobMatched>().flatten() {
					if &matched.provider == me {
						info!(job = matched.job, number, price = matched.price, "assigned");
						self.clone().spawn_job(matched.job);
					}
				}
				for done in events.find::<lilypad::jobs::events::JobCompleted>().flatten() {
					if &done.provider == me {
						info!(job = done.job, number, price = done.price, "paid");
						self.metrics.earned(done.price);
					}
				}
				if self.cfg.mediate {
					for drawn in events.find::<lilypad::jobs::events::MediatorAssigned>().flatten()
					{
						if &drawn.mediator == me {
							info!(
								job = drawn.job,
								number,
								answer_by = drawn.answer_by,
								"drawn to mediate"
							);
							self.clone().spawn_mediation(drawn.job);
						}
					}
				}
			}
			tokio::time::sleep(RETRY).await;
			// Blocks may have been missed while the stream was down.
			if let Err(e) = self.resume().await {
				warn!("rescan after reconnecting: {e:#}");
			}
		}
	}

	/// Starts a task for `job` unless one is running.
	fn spawn_job(self: Arc<Self>, job: JobId) {
		if !self.handling.lock().expect("lock").insert(job) {
			return;
		}
		let span = tracing::info_span!("job", id = job);
		tokio::spawn(
			async move {
				if let Err(e) = self.handle(job).await {
					warn!("{e:#}");
				}
				self.handling.lock().expect("lock").remove(&job);
			}
			.instrument(span),
		);
	}

	/// Takes `job` from wherever the journal left it to a result on chain.
	async fn handle(&self, job: JobId) -> anyhow::Result<()> {
		let manifest = match self.journal.get(job)? {
			Some(Entry::Submitted { .. }) | Some(Entry::Abandoned { .. }) => return Ok(()),
			Some(Entry::Executed { manifest, .. }) | Some(Entry::Submitting { manifest, .. }) => {
				manifest
			}
			Some(Entry::Running { .. }) | None => {
				let record = loop {
					match self.chain.job(job).await {
						Ok(record) => break record,
						Err(e) => {
							warn!("reading the job failed, retrying: {e:#}");
							tokio::time::sleep(RETRY).await;
						}
					}
				};
				let Some(record) = record else { bail!("job {job} not on chain") };
				if !record.awaits_result_from(&self.chain.account) {
					self.journal.put(
						job,
						&Entry::Abandoned { reason: "the chain no longer awaits it".into() },
					)?;
					return Ok(());
				}
				let execute_by =
					record.assignment.as_ref().map(|a| a.execute_by).unwrap_or_default();
				self.journal.put(job, &Entry::Running { execute_by })?;
				let _slot = self.slots.acquire().await.expect("never closed");
				info!(module = %String::from_utf8_lossy(&record.module.name), "running");
				// The agent's own time: fetching, delivering inputs, running, collecting.
				let started = std::time::Instant::now();
				let manifest = loop {
					match self.execute(job, &record, Purpose::Job).await {
						Ok(m) => break m,
						Err(e)
							if e.downcast_ref::<ImageRefused>().is_some()
								|| self.deadline_passed(execute_by).await =>
						{
							self.journal
								.put(job, &Entry::Abandoned { reason: format!("{e:#}") })?;
							bail!("giving up: {e:#}");
						}
						Err(e) => {
							warn!("could not run it, retrying: {e:#}");
							tokio::time::sleep(RETRY).await;
						}
					}
				};
				info!(
					exit = ?manifest.exit,
					output = %hex::encode(manifest.output_digest),
					wall_ms = manifest.usage.wall_ms,
					took_ms = started.elapsed().as_millis() as u64,
					"ran"
				);
				self.journal
					.put(job, &Entry::Executed { manifest: manifest.clone(), execute_by })?;
				manifest
			}
		};
		self.deliver(job, manifest).await
	}

	async fn deadline_passed(&self, execute_by: u32) -> bool {
		match self.chain.api.at_current_block().await {
			Ok(at) => at.block_number() > execute_by as u64,
			Err(_) => false,
		}
	}

	/// Gets `manifest` on chain, exactly once.
	async fn deliver(&self, job: JobId, manifest: ResultManifest) -> anyhow::Result<()> {
		loop {
			// The nonce first, then the job: a result included by the nonce's block shows in
			// the job's. A node too busy to answer is asked again, not a reason to give up.
			let read = async {
				Ok::<_, anyhow::Error>((
					self.chain.finalized_nonce().await?,
					self.chain.job(job).await?,
				))
			};
			let (finalized_nonce, record) = match read.await {
				Ok(read) => read,
				Err(e) => {
					warn!("reading the chain failed, retrying: {e:#}");
					tokio::time::sleep(RETRY).await;
					continue;
				}
			};
			let Some(record) = record else { bail!("job {job} not on chain") };
			if !record.awaits_result_from(&self.chain.account) {
				let entry = if record.result.as_ref() == Some(&manifest) {
					info!("result on chain");
					Entry::Submitted { manifest }
				} else {
					Entry::Abandoned { reason: "the chain no longer awaits it".into() }
				};
				self.journal.put(job, &entry)?;
				return Ok(());
			}
			let execute_by = record.assignment.as_ref().map(|a| a.execute_by).unwrap_or_default();
			let sent = match self.journal.get(job)? {
				// Not on chain and its nonce not used by anything else: send the same bytes.
				Some(Entry::Submitting { tx, nonce, .. }) if finalized_nonce <= nonce => {
					info!(nonce, "sending the stored result transaction again");
					self.chain.resend(tx).await
				}
				_ => {
					let call = self.chain.result_call(&manifest);
					self.chain
						.send(&call, |tx, nonce| {
							self.journal.put(
								job,
								&Entry::Submitting {
									manifest: manifest.clone(),
									execute_by,
									tx: tx.to_vec(),
									nonce,
								},
							)
						})
						.await
				}
			};
			match sent {
				Ok(Outcome::Success) => {
					info!("result submitted");
					self.journal.put(job, &Entry::Submitted { manifest })?;
					return Ok(());
				}
				Ok(Outcome::Failed(e)) => warn!("submit_result failed on chain: {e}"),
				Err(e) => warn!("submit_result not sent: {e:#}"),
			}
			tokio::time::sleep(RETRY).await;
		}
	}

	/// Starts a task that re-runs `job` as its mediator, unless one is running.
	fn spawn_mediation(self: Arc<Self>, job: JobId) {
		if !self.mediating.lock().expect("lock").insert(job) {
			return;
		}
		let span = tracing::info_span!("mediation", job);
		tokio::spawn(
			async move {
				if let Err(e) = self.mediate(job).await {
					warn!("{e:#}");
				}
				self.mediating.lock().expect("lock").remove(&job);
			}
			.instrument(span),
		);
	}

	/// Re-runs `job` exactly as its provider should have and submits the re-run's manifest,
	/// signed, as this mediator's answer; the chain compares it with the provider's.
	async fn mediate(&self, job: JobId) -> anyhow::Result<()> {
		let Some(record) = self.chain.job(job).await? else { bail!("job {job} not on chain") };
		let answer_by = match record.awaits_mediation_from(&self.chain.account) {
			Some(by) => by,
			None => return Ok(()),
		};
		let _slot = self.slots.acquire().await.expect("never closed");
		let rerun = loop {
			match self.execute(job, &record, Purpose::Mediation).await {
				Ok(m) => break m,
				Err(e)
					if e.downcast_ref::<ImageRefused>().is_some()
						|| self.deadline_passed(answer_by).await =>
				{
					bail!("cannot re-run it, not answering: {e:#}")
				}
				Err(e) => {
					warn!("could not re-run it, retrying: {e:#}");
					tokio::time::sleep(RETRY).await;
				}
			}
		};
		info!(exit = ?rerun.exit, output = %hex::encode(rerun.output_digest), "re-ran");
		loop {
			let Some(now) = self.chain.job(job).await? else { bail!("job {job} not on chain") };
			if now.awaits_mediation_from(&self.chain.account).is_none() {
				info!("no longer awaited (answered, or past its deadline)");
				return Ok(());
			}
			match self.chain.send(&self.chain.mediation_call(&rerun), |_, _| Ok(())).await {
				Ok(Outcome::Success) => {
					info!("mediation answered");
					return Ok(());
				}
				Ok(Outcome::Failed(e)) => warn!("submit_mediation failed on chain: {e}"),
				Err(e) => warn!("submit_mediation not sent: {e:#}"),
			}
			tokio::time::sleep(RETRY).await;
		}
	}

	/// The manifest of `module`, from the cache or the registry.
	async fn version(&self, module: &ModuleRef) -> anyhow::Result<Arc<VersionManifest<u128>>> {
		let key = codec::Encode::encode(module);
		if let Some(v) = self.versions.lock().expect("lock").get(&key) {
			return Ok(v.clone());
		}
		let version = Arc::new(self.chain.version(module).await?);
		self.versions.lock().expect("lock").insert(key, version.clone());
		Ok(version)
	}

	/// Runs `job` (as its provider, or its mediator), stores its outputs and logs, and returns
	/// the manifest to sign; counts it in the metrics.
	async fn execute(
		&self,
		job: JobId,
		record: &ChainJob,
		purpose: Purpose,
	) -> anyhow::Result<ResultManifest> {
		let version = self.version(&record.module).await?;
		let engine = match version.artifact {
			Artifact::Wasm { .. } => Engine::Wasm,
			Artifact::Docker { .. } => Engine::Docker,
		};
		let manifest = {
			let _running = self.metrics.running(engine);
			self.run_module(job, record, &version, purpose).await
		};
		match (&manifest, purpose) {
			(Ok(_), Purpose::Mediation) => self.metrics.mediated(engine),
			(Ok(m), _) if m.exit == lilypad_primitives::jobs::ExitStatus::Success => {
				self.metrics.done(engine)
			}
			(Ok(_), _) => self.metrics.failed(engine),
			(Err(e), _) if e.downcast_ref::<ImageRefused>().is_some() => {
				self.metrics.failed(engine)
			}
			(Err(_), _) => {}
		}
		manifest
	}

	async fn run_module(
		&self,
		job: JobId,
		record: &ChainJob,
		version: &VersionManifest<u128>,
		purpose: Purpose,
	) -> anyhow::Result<ResultManifest> {
		let inputs = record.inputs.clone();
		let blob = match inputs.blob {
			Some(d) => Some(
				self.store
					.fetch(&d, &self.cfg.peers, (self.cfg.max_output_mib as u64) << 20)
					.await?,
			),
			None => None,
		};
		let dir = self.work_dir.join(format!("{}-{job}", purpose.label()));
		let _ = std::fs::remove_dir_all(&dir);
		let (in_dir, out_dir) = (dir.join("inputs"), dir.join("outputs"));
		std::fs::create_dir_all(&in_dir)?;
		std::fs::create_dir_all(&out_dir)?;
		let (args, env) = deliver_inputs(version, &inputs, blob.as_deref(), &in_dir)?;
		let ram_mib = record.resources.ram_mib.min(self.cfg.max_memory_mib).max(1);
		let in_digest = input_digest(&inputs);
		let max_output = (self.cfg.max_output_mib as u64) << 20;
		let outcome = match version.artifact {
			Artifact::Wasm { digest, size } => {
				let bytes = self.store.fetch(&digest, &self.cfg.peers, size).await?;
				self.run_wasm(
					record, digest, bytes, in_digest, args, env, &in_dir, &out_dir, ram_mib,
				)
				.await?
			}
			Artifact::Docker { archive_digest, config_digest } => {
				let Some(docker) = self.docker.as_ref() else {
					bail!("a Docker module, and this agent has no Docker engine");
				};
				let max_image = (self.cfg.max_image_mib as u64) << 20;
				docker
					.ensure_image(&archive_digest, &config_digest, || {
						self.store.fetch(&archive_digest, &self.cfg.peers, max_image)
					})
					.await?;
				// The module runs as an unprivileged user: it must be able to write its
				// outputs.
				use std::os::unix::fs::PermissionsExt;
				std::fs::set_permissions(&out_dir, std::fs::Permissions::from_mode(0o777))?;
				docker
					.run(DockerRun {
						image: config_digest,
						args,
						env,
						inputs: &in_dir,
						outputs: &out_dir,
						name: format!("{}-{}-{job}", self.container_prefix, purpose.label()),
						limits: DockerLimits {
							memory_bytes: (ram_mib as u64) << 20,
							cpu_millicores: record.resources.cpu_millicores.max(100),
							pids: self.cfg.max_pids,
							wall: Duration::from_secs(record.timeout_secs as u64),
							output_bytes: max_output as usize,
							gpus: record.resources.gpus,
						},
					})
					.await?
			}
		};
		let (exit, mut stderr) = (outcome.exit, outcome.stderr);
		if let Some(why) = &outcome.failure {
			info!(why, "module failed");
		}
		let store = &self.store;
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
		let manifest = ResultManifest {
			job,
			module_digest: record.module_digest,
			input_digest: in_digest,
			output_digest: store.put(&archive)?,
			stdout_digest: store.put(&outcome.stdout)?,
			stderr_digest: store.put(&stderr)?,
			exit,
			usage: outcome.usage,
		};
		let _ = std::fs::remove_dir_all(&dir);
		Ok(manifest)
	}

	/// Runs a WASM module on a blocking thread (wasmtime runs synchronously), one per slot.
	#[allow(clippy::too_many_arguments)]
	async fn run_wasm(
		&self,
		record: &ChainJob,
		digest: lilypad_primitives::registry::Digest,
		bytes: Vec<u8>,
		in_digest: lilypad_primitives::registry::Digest,
		args: Vec<String>,
		env: Vec<(String, String)>,
		in_dir: &std::path::Path,
		out_dir: &std::path::Path,
		ram_mib: u32,
	) -> anyhow::Result<RunOutcome> {
		let limits = WasmLimits {
			fuel: self.cfg.fuel_per_sec.saturating_mul(record.timeout_secs as u64),
			wall: Duration::from_secs(record.timeout_secs as u64),
			memory_bytes: (ram_mib as usize) << 20,
			output_bytes: (self.cfg.max_output_mib as usize) << 20,
		};
		// The module's randomness: the same on every provider that runs this job.
		let seed = *blake3::hash(&[digest, in_digest].concat()).as_bytes();
		let wasm = self.wasm.clone();
		let (inputs, outputs) = (in_dir.to_owned(), out_dir.to_owned());
		tokio::task::spawn_blocking(move || {
			let module = wasm.module(&digest, || Ok(bytes))?;
			wasm.run(WasmRun {
				module: &module,
				args,
				env,
				inputs: &inputs,
				outputs: &outputs,
				seed,
				limits,
			})
		})
		.await?
	}
}

/// Why a module runs: a job assigned to this provider, or a re-run as the job's mediator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Purpose {
	Job,
	Mediation,
}

/// `lilypad-<8 hex digits>`: the blake3 of the agent's data directory (made absolute), the same
/// after a restart, so that a job interrupted by a kill finds its leftover container.
fn container_prefix(data_dir: &std::path::Path) -> String {
	let dir = std::path::absolute(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
	let digest = blake3::hash(dir.as_os_str().as_encoded_bytes());
	format!("lilypad-{}", &digest.to_hex()[..8])
}

impl Purpose {
	/// Names its work directory and container.
	fn label(self) -> &'static str {
		match self {
			Purpose::Job => "job",
			Purpose::Mediation => "mediation",
		}
	}
}

/// `GET /metrics`: the agent's metrics in Prometheus' text format.
fn metrics_router(metrics: Arc<Metrics>) -> axum::Router {
	axum::Router::new().route(
		"/metrics",
		axum::routing::get(move || {
			let metrics = metrics.clone();
			async move {
				(
					[(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")],
					metrics.render(),
				)
			}
		}),
	)
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
	in_dir: &std::path::Path,
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
