//! The daemon: registers the provider, follows finalized blocks, runs every job assigned to
//! it (several at once, up to its capacity) and delivers each result exactly once. In
//! mediator mode it also re-runs the jobs it is drawn to mediate and submits its own digest.
use std::{
	collections::HashSet,
	sync::{Arc, Mutex},
	time::Duration,
};

use anyhow::{bail, Context};
use lilypad_primitives::{
	jobs::{JobId, ResultManifest},
	providers::{ModuleFilter, Offer, OfferResources},
};
use tokio::sync::Semaphore;
use tracing::{info, warn, Instrument};

use crate::{
	chain::{lilypad, Chain, Outcome},
	config::Config,
	docker::DockerExecutor,
	gpu::DetectedGpu,
	journal::{Entry, Journal},
	live::{LiveApi, LiveOutputs},
	metrics::Metrics,
	models::ModelCache,
	resources,
	runner::{Purpose, Runner},
	store::{ContentStore, Uploads},
	wasm::WasmExecutor,
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
	/// Runs jobs and re-runs them for mediation.
	runner: Runner,
	/// The NVIDIA GPUs found at start-up.
	gpus: Vec<DetectedGpu>,
	pub metrics: Arc<Metrics>,
	journal: Journal,
	/// One permit per job slot.
	slots: Semaphore,
	/// Running jobs' stdout, relayed live to their creators.
	live: Arc<LiveOutputs>,
	/// The jobs and mediations a task is working on now.
	working: Mutex<HashSet<(Purpose, JobId)>>,
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
	let wasm = WasmExecutor::new(Some(cfg.data_dir.join("compiled")))?;
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
	let models = Arc::new(ModelCache::open(cfg.model_cache_dir(), cfg.model_cache_bytes)?);
	info!(
		dir = %cfg.model_cache_dir().display(),
		held = models.held().len(),
		bytes = models.bytes(),
		capacity = cfg.model_cache_bytes,
		"model cache open"
	);
	let gpus = if cfg.detect_gpus { crate::gpu::detect() } else { Vec::new() };
	info!(docker = docker.is_some(), ?gpus, "executors ready");
	let metrics = Arc::new(Metrics::default());

	let listener = tokio::net::TcpListener::bind(cfg.listen)
		.await
		.with_context(|| format!("listen on {}", cfg.listen))?;
	// Job inputs up to the output cap; model weights as large as the chain pins them, once
	// connected.
	let uploads = Uploads::capped((cfg.max_output_mib as u64) << 20);
	let weights_registry = uploads.registry.clone();
	let live = LiveApi {
		outputs: Arc::new(LiveOutputs::new((cfg.max_output_mib as usize) << 20)),
		chain: Default::default(),
	};
	let router = store
		.clone()
		.router(uploads)
		.merge(live.clone().router())
		.merge(metrics_router(metrics.clone()));
	tokio::spawn(async move {
		if let Err(e) = axum::serve(listener, router).await {
			tracing::error!("content store server stopped: {e}");
		}
	});
	info!(listen = %cfg.listen, endpoint = %cfg.endpoint(), "content store serving");

	let chain = Chain::connect(&cfg.node, key, CONNECT_PATIENCE).await?;
	info!(provider = %chain.account, node = %cfg.node, "connected");
	let _ = weights_registry.set(Arc::new((*chain).clone()));
	let _ = live.chain.set(((*chain).clone(), chain.account));
	let agent = Arc::new(Agent {
		slots: Semaphore::new(cfg.capacity as usize),
		runner: Runner::new(&cfg, store, wasm, docker, metrics.clone(), models),
		cfg,
		chain,
		gpus,
		metrics,
		journal,
		working: Mutex::new(HashSet::new()),
		live: live.outputs,
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
			// The weights held now, most recently used first, as many as an offer names.
			models: self
				.runner
				.held_models()
				.into_iter()
				.take(lilypad_primitives::providers::MAX_OFFER_MODELS as usize)
				.collect::<Vec<_>>()
				.try_into()
				.expect("at most MAX_OFFER_MODELS; qed"),
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
			self.clone().spawn(Purpose::Job, job);
		}
		for job in self.chain.my_jobs().await? {
			if self.journal.get(job)?.is_none() {
				if let Some(j) = self.chain.job(job).await? {
					if j.awaits_result_from(&self.chain.account) {
						self.clone().spawn(Purpose::Job, job);
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
						self.clone().spawn(Purpose::Job, matched.job);
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
							self.clone().spawn(Purpose::Mediation, drawn.job);
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

	/// Starts a task that runs `job` (or re-runs it as its mediator), unless one is running.
	fn spawn(self: Arc<Self>, purpose: Purpose, job: JobId) {
		if !self.working.lock().expect("lock").insert((purpose, job)) {
			return;
		}
		let span = match purpose {
			Purpose::Job => tracing::info_span!("job", id = job),
			Purpose::Mediation => tracing::info_span!("mediation", job),
		};
		tokio::spawn(
			async move {
				let done = match purpose {
					Purpose::Job => self.handle(job).await,
					Purpose::Mediation => self.mediate(job).await,
				};
				if let Err(e) = done {
					warn!("{e:#}");
				}
				self.working.lock().expect("lock").remove(&(purpose, job));
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
					record.state.assignment().map(|a| a.execute_by).unwrap_or_default();
				self.journal.put(job, &Entry::Running { execute_by })?;
				let _slot = self.slots.acquire().await.expect("never closed");
				info!(module = %String::from_utf8_lossy(&record.module.name), "running");
				// The agent's own time: fetching, delivering inputs, running, collecting.
				let started = std::time::Instant::now();
				let live = self.live.open(job);
				let run = self.runner.run_until(
					&self.chain,
					job,
					&record,
					Purpose::Job,
					execute_by,
					Some(&live),
				);
				let manifest = match run.await {
					Ok(m) => m,
					Err(e) => {
						self.live.finish(job, format!("given up: {e:#}"));
						self.journal.put(job, &Entry::Abandoned { reason: format!("{e:#}") })?;
						bail!("giving up: {e:#}");
					}
				};
				self.live.finish(job, lilypad_client::live::exit_text(&manifest.exit));
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
		let delivered = self.deliver(job, manifest).await;
		// The run may have brought weights into the cache, or pushed others out.
		if let Err(e) = self.advertise_models().await {
			warn!("could not update the offer's models: {e:#}");
		}
		delivered
	}

	/// Updates the offer on chain when the models it names are no longer those the cache
	/// holds, so that the solver prefers this provider for jobs on them.
	async fn advertise_models(&self) -> anyhow::Result<()> {
		if !self.cfg.provide {
			return Ok(());
		}
		let offer = self.offer()?;
		let Some((current, _)) = self.chain.my_offer().await? else { return Ok(()) };
		if current.models == offer.models {
			return Ok(());
		}
		let update = lilypad::transactions().providers().update_offer(subxt::utils::Static(offer));
		self.chain.call(&update, "update_offer").await?;
		info!(models = self.runner.held_models().len(), "offer names the models held");
		Ok(())
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
				let entry = if record.state.result() == Some(&manifest) {
					info!("result on chain");
					Entry::Submitted { manifest }
				} else {
					Entry::Abandoned { reason: "the chain no longer awaits it".into() }
				};
				self.journal.put(job, &entry)?;
				return Ok(());
			}
			let execute_by = record.state.assignment().map(|a| a.execute_by).unwrap_or_default();
			let sent = match self.journal.get(job)? {
				// Not on chain and its nonce not used by anything else: send the same bytes.
				Some(Entry::Submitting { tx, nonce, .. }) if finalized_nonce <= nonce => {
					info!(nonce, "sending the stored result transaction again");
					self.chain.resend(tx).await
				}
				_ => {
					let models = match self.runner.model_digests(&self.chain, &record.module).await
					{
						Ok(models) => models,
						Err(e) => {
							warn!("reading the job's models failed, retrying: {e:#}");
							tokio::time::sleep(RETRY).await;
							continue;
						}
					};
					let call = self.chain.result_call(&manifest, &models);
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

	/// Re-runs `job` exactly as its provider should have and submits the re-run's manifest,
	/// signed, as this mediator's answer; the chain compares it with the provider's.
	async fn mediate(&self, job: JobId) -> anyhow::Result<()> {
		let Some(record) = self.chain.job(job).await? else { bail!("job {job} not on chain") };
		let answer_by = match record.awaits_mediation_from(&self.chain.account) {
			Some(by) => by,
			None => return Ok(()),
		};
		let _slot = self.slots.acquire().await.expect("never closed");
		let run =
			self.runner.run_until(&self.chain, job, &record, Purpose::Mediation, answer_by, None);
		let rerun = run.await.map_err(|e| e.context("cannot re-run it, not answering"))?;
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
