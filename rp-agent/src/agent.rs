//! The daemon: registers the provider, follows the best chain, runs every job assigned to it
//! (several at once, up to its capacity) and delivers each result exactly once, in batches. In
//! mediator mode it also re-runs the jobs it is drawn to mediate and submits its own digest.
//!
//! It acts on best blocks, not finalized ones (docs/fast-jobs.md): a job starts as soon as its
//! match is in a best block, and a result goes out as soon as it is ready. A reorg that retracts
//! a match costs only work: the jobs of retracted blocks are read again, a job matched again
//! (on the winning fork) is resumed from the journal, one that is not is given up. Money moves
//! only on chain.
use std::{
	collections::{HashMap, VecDeque},
	sync::{Arc, Mutex},
	time::Duration,
};

use anyhow::{bail, Context};
use lilypad_client::blocks::{block_id, BlockId, Canonical, Step};
use lilypad_primitives::{
	jobs::{JobId, ResultManifest},
	providers::{ModuleFilter, Offer, OfferResources},
};
use tokio::sync::{mpsc, oneshot, Semaphore};
use tracing::{info, warn, Instrument};

mod delivery;
use delivery::{Fate, Item, Ready};

use crate::{
	chain::{lilypad, Chain, ChainJob, Outcome},
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
/// The blocks of the best chain the agent remembers: a reorg deeper than this (far beyond
/// what finality allows) makes it read every job afresh.
const FOLLOW_DEPTH: u64 = 256;
/// The paid jobs remembered, so that a payment seen again on another fork counts once.
const PAID_REMEMBERED: usize = 4096;

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
	/// The jobs and mediations a task is working on now, and whether the chain changed under
	/// it (the task then runs again when it ends).
	working: Mutex<HashMap<(Purpose, JobId), bool>>,
	/// Results and heartbeats for the batch sender.
	batches: mpsc::UnboundedSender<Item>,
	/// The jobs whose payments were counted, newest last.
	paid: Mutex<VecDeque<JobId>>,
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
	let (batches, queue) = mpsc::unbounded_channel();
	let agent = Arc::new(Agent {
		slots: Semaphore::new(cfg.capacity as usize),
		runner: Runner::new(&cfg, store, wasm, docker, metrics.clone(), models),
		cfg,
		chain,
		gpus,
		metrics,
		journal,
		working: Mutex::new(HashMap::new()),
		live: live.outputs,
		batches,
		paid: Mutex::new(VecDeque::new()),
	});
	tokio::spawn(agent.clone().send_batches(queue));
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
		let mut resumed = std::collections::HashSet::new();
		for (job, entry) in self.journal.unfinished()? {
			info!(job, step = entry.step(), "resuming from the journal");
			resumed.insert(job);
			self.clone().spawn(Purpose::Job, job);
		}
		// Jobs the journal thinks done (submitted, given up) that the chain awaits again, after
		// a reorg, and jobs it never saw.
		for job in self.chain.my_jobs().await? {
			if !resumed.contains(&job) {
				if let Some(j) = self.chain.job(job).await? {
					if j.awaits_result_from(&self.chain.account) {
						self.clone().spawn(Purpose::Job, job);
					}
				}
			}
		}
		Ok(())
	}

	/// Follows the best chain: every `JobMatched` for this provider starts a job, and a
	/// heartbeat is due every `heartbeat_blocks`; the jobs of retracted blocks are read again.
	async fn follow(self: &Arc<Self>) -> anyhow::Result<()> {
		let mut last_heartbeat = 0u64;
		let mut canonical = Canonical::new(FOLLOW_DEPTH);
		loop {
			let mut heads = match self.chain.api.stream_best_blocks().await {
				Ok(b) => b,
				Err(e) => {
					warn!("cannot follow best blocks: {e}");
					tokio::time::sleep(RETRY).await;
					continue;
				}
			};
			while let Some(head) = heads.next().await {
				let head = match head {
					Ok(b) => BlockId {
						number: b.number(),
						hash: b.hash(),
						parent: b.header().parent_hash,
					},
					Err(e) => {
						warn!("best block stream: {e}");
						break;
					}
				};
				let legacy = self.chain.legacy();
				let header = |hash: subxt::utils::H256| {
					let legacy = legacy.clone();
					async move { block_id(&legacy, hash).await }
				};
				let steps = match canonical.advance(head, header).await {
					Ok(steps) => steps,
					Err(e) => {
						warn!(number = head.number, "walking back from the best block: {e:#}");
						continue;
					}
				};
				for step in steps {
					match step {
						Step::Imported(block) => {
							if self.cfg.provide
								&& block.number >= last_heartbeat + self.cfg.heartbeat_blocks as u64
							{
								last_heartbeat = block.number;
								let _ = self.batches.send(Item::Heartbeat);
							}
							self.imported(block).await;
						}
						Step::Retracted(block) => self.retracted(block).await,
						Step::Gap { from, to } => {
							warn!(
								from,
								to = to.number,
								"blocks not walked: reading every job again"
							);
							self.chain.resync_nonce().await;
							if let Err(e) = self.resume().await {
								warn!("rescan: {e:#}");
							}
							// The head's own events (a mediation drawn there, payments).
							self.imported(to).await;
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

	/// The events of `block`, or `None` (logged) if they cannot be read.
	async fn events_of(
		&self,
		block: BlockId,
	) -> Option<subxt::events::Events<subxt::SubstrateConfig>> {
		let events = match self.chain.api.at_block(block.hash).await {
			Ok(at) => at.events().fetch().await.map_err(|e| e.to_string()),
			Err(e) => Err(e.to_string()),
		};
		events.map_err(|e| warn!(number = block.number, "events: {e}")).ok()
	}

	/// A block of the best chain: the jobs matched to this provider start, the mediations it
	/// is drawn to start, payments are counted.
	async fn imported(self: &Arc<Self>, block: BlockId) {
		let Some(events) = self.events_of(block).await else {
			// Its matches cannot be known: read every job.
			if let Err(e) = self.resume().await {
				warn!("rescan: {e:#}");
			}
			return;
		};
		let (me, number) = (&self.chain.account, block.number);
		for matched in events.find::<lilypad::jobs::events::JobMatched>().flatten() {
			if &matched.provider == me {
				info!(job = matched.job, number, price = matched.price, "assigned");
				self.clone().spawn(Purpose::Job, matched.job);
			}
		}
		for done in events.find::<lilypad::jobs::events::JobCompleted>().flatten() {
			if &done.provider == me {
				let mut paid = self.paid.lock().expect("lock");
				if !paid.contains(&done.job) {
					info!(job = done.job, number, price = done.price, "paid");
					self.metrics.earned(done.price);
					paid.push_back(done.job);
					if paid.len() > PAID_REMEMBERED {
						paid.pop_front();
					}
				}
			}
		}
		if self.cfg.mediate {
			for drawn in events.find::<lilypad::jobs::events::MediatorAssigned>().flatten() {
				if &drawn.mediator == me {
					info!(job = drawn.job, number, answer_by = drawn.answer_by, "drawn to mediate");
					self.clone().spawn(Purpose::Mediation, drawn.job);
				}
			}
		}
	}

	/// A block no longer on the best chain: what this agent sent may be gone with it, and the
	/// jobs it matched or took results for are read again at the new best block.
	async fn retracted(self: &Arc<Self>, block: BlockId) {
		info!(number = block.number, hash = %block.hash, "block retracted");
		self.chain.resync_nonce().await;
		let Some(events) = self.events_of(block).await else {
			// Its jobs cannot be known: read every one.
			if let Err(e) = self.resume().await {
				warn!("rescan: {e:#}");
			}
			return;
		};
		let me = &self.chain.account;
		for matched in events.find::<lilypad::jobs::events::JobMatched>().flatten() {
			if &matched.provider == me {
				info!(job = matched.job, "its match was retracted: reading it again");
				self.clone().spawn(Purpose::Job, matched.job);
			}
		}
		for result in events.find::<lilypad::jobs::events::ResultSubmitted>().flatten() {
			if &result.provider == me {
				info!(job = result.job, "its result was retracted: reading it again");
				self.clone().spawn(Purpose::Job, result.job);
			}
		}
	}

	/// Starts a task that runs `job` (or re-runs it as its mediator). If one is running, it
	/// runs again when it ends: the chain changed under it.
	fn spawn(self: Arc<Self>, purpose: Purpose, job: JobId) {
		{
			let mut working = self.working.lock().expect("lock");
			if let Some(again) = working.get_mut(&(purpose, job)) {
				*again = true;
				return;
			}
			working.insert((purpose, job), false);
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
				let again = self.working.lock().expect("lock").remove(&(purpose, job));
				if again == Some(true) {
					self.spawn(purpose, job);
				}
			}
			.instrument(span),
		);
	}

	/// Whether the chain (at the best block) awaits `job`'s result from this provider.
	async fn awaited(&self, job: JobId) -> anyhow::Result<bool> {
		Ok(self.chain.job(job).await?.is_some_and(|j| j.awaits_result_from(&self.chain.account)))
	}

	/// Takes `job` from wherever the journal left it to a result on chain.
	async fn handle(&self, job: JobId) -> anyhow::Result<()> {
		let manifest = match self.journal.get(job)? {
			Some(Entry::Executed { manifest, .. }) | Some(Entry::Submitting { manifest, .. }) => {
				manifest
			}
			// Its result's block was retracted, or the job matched to this provider again
			// (the match it had was retracted): the same result goes again.
			Some(Entry::Submitted { manifest }) => {
				if !self.awaited(job).await? {
					return Ok(());
				}
				info!("the chain awaits its result again: sending it again");
				manifest
			}
			Some(Entry::Abandoned { .. }) if !self.awaited(job).await? => return Ok(()),
			Some(Entry::Abandoned { .. }) | Some(Entry::Running { .. }) | None => {
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
		let delivered = match self.deliver(job, manifest).await {
			// A reorg gave the job's id to another job, matched to this provider: run that.
			Ok(false) => return Box::pin(self.handle(job)).await,
			done => done.map(|_| ()),
		};
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

	/// Gets `manifest` on chain, exactly once: in the next batch, or as the bytes the journal
	/// kept if their nonce is still unused. `Ok(false)`: the job now under this id is another
	/// one (a reorg), which the journal no longer holds a result for.
	async fn deliver(&self, job: JobId, manifest: ResultManifest) -> anyhow::Result<bool> {
		loop {
			// The nonce and the job at one block: a result included by the nonce's
			// transaction shows in the job. A node too busy to answer is asked again, not a
			// reason to give up.
			let (nonce_now, record) = match self.chain.nonce_and_job(job).await {
				Ok(read) => read,
				Err(e) => {
					warn!("reading the chain failed, retrying: {e:#}");
					tokio::time::sleep(RETRY).await;
					continue;
				}
			};
			let Some(record) = record else { bail!("job {job} not on chain") };
			let me = &self.chain.account;
			if !result_is_for(&manifest, &record) {
				warn!("the job under this id is not the one run (a reorg): reading it again");
				let reason = "a reorg gave its id to another job".into();
				self.journal.put(job, &Entry::Abandoned { reason })?;
				return Ok(false);
			}
			if !record.awaits_result_from(me) {
				let mine = record.state.assignment().is_some_and(|a| &a.provider == me);
				let entry = match record.state.result() {
					Some(on_chain) if on_chain == &manifest => {
						info!("result on chain");
						Entry::Submitted { manifest }
					}
					// An earlier run's result, sent before a reorg and included again.
					Some(on_chain) if mine && result_is_for(on_chain, &record) => {
						info!("an earlier run's result is on chain");
						Entry::Submitted { manifest: on_chain.clone() }
					}
					_ => Entry::Abandoned { reason: "the chain no longer awaits it".into() },
				};
				self.journal.put(job, &entry)?;
				return Ok(true);
			}
			let execute_by = record.state.assignment().map(|a| a.execute_by).unwrap_or_default();
			let fate = match self.journal.get(job)? {
				// Not on chain and its nonce not used by anything else: send the same bytes.
				Some(Entry::Submitting { tx, nonce, .. }) if nonce_now <= nonce => {
					info!(nonce, "sending the stored result transaction again");
					match self.chain.resend(tx).await {
						Ok(Outcome::Success(_)) => Ok(Fate::Included),
						Ok(Outcome::Failed(e)) => Ok(Fate::Failed(e)),
						Err(e) => Err(e),
					}
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
					let call = self.chain.result_runtime_call(&manifest, &models);
					let (fate, told) = oneshot::channel();
					let manifest = manifest.clone();
					let item =
						Item::Result(Box::new(Ready { job, manifest, execute_by, call, fate }));
					if self.batches.send(item).is_err() {
						bail!("the batch sender stopped");
					}
					told.await.unwrap_or_else(|_| Err(anyhow::anyhow!("the batch sender stopped")))
				}
			};
			match fate {
				// Read again: the job shows the result (or a reorg took it away).
				Ok(Fate::Included) => continue,
				Ok(Fate::Failed(e)) => warn!("submit_result failed on chain: {e}"),
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
				Ok(Outcome::Success(_)) => {
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
/// Whether `manifest` is a result of `record` (its module and inputs): after a reorg a job's
/// id may name another job.
fn result_is_for(manifest: &ResultManifest, record: &ChainJob) -> bool {
	manifest.module_digest == record.module_digest
		&& manifest.input_digest == lilypad_primitives::jobs::input_digest(&record.inputs)
}

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
