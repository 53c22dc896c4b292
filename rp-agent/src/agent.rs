//! The daemon: registers the provider, follows finalized blocks, runs every job assigned to
//! it (several at once, up to its capacity) and delivers each result exactly once.
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
	registry::{Artifact, Delivery, VersionManifest},
};
use tokio::sync::Semaphore;
use tracing::{info, warn, Instrument};

use crate::{
	archive,
	chain::{awaits_result_from, lilypad, Chain, Outcome},
	config::Config,
	journal::{Entry, Journal},
	resources,
	store::ContentStore,
	wasm::{WasmExecutor, WasmLimits, WasmRun},
};

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
	journal: Journal,
	/// One permit per job slot.
	slots: Semaphore,
	/// Jobs a task is handling now.
	handling: Mutex<HashSet<JobId>>,
	work_dir: PathBuf,
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

	let listener = tokio::net::TcpListener::bind(cfg.listen)
		.await
		.with_context(|| format!("listen on {}", cfg.listen))?;
	let max_upload = (cfg.max_output_mib as usize) << 20;
	let router = store.clone().router(max_upload);
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
		cfg,
		chain,
		store,
		wasm,
		journal,
		handling: Mutex::new(HashSet::new()),
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
				gpus: Default::default(),
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

	/// Takes the provider role, registers or updates the offer and tops the bond up to the
	/// configured collateral.
	async fn ensure_registered(&self) -> anyhow::Result<()> {
		let tx = lilypad::transactions;
		let chain = &self.chain;
		if !chain.has_provider_role().await? {
			chain.register_provider_role().await?;
			info!("registered the resource-provider role");
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
		let bonded = chain.my_bond().await?;
		let want = u128::from(self.cfg.bond);
		if bonded < want {
			use lilypad::runtime_types::lilypad_primitives::providers::BondKind;
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
					if awaits_result_from(&j, &self.chain.account) {
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
				if number >= last_heartbeat + self.cfg.heartbeat_blocks as u64 {
					last_heartbeat = number;
					let me = self.clone();
					tokio::spawn(async move {
						if let Err(e) = me
							.chain
							.call(&lilypad::transactions().providers().heartbeat(), "heartbeat")
							.await
						{
							warn!("heartbeat: {e:#}");
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
				for matched in events.find::<lilypad::jobs::events::JobMatched>().flatten() {
					if matched.provider == self.chain.account {
						info!(job = matched.job, number, price = matched.price, "assigned");
						self.clone().spawn_job(matched.job);
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
				let Some(record) = self.chain.job(job).await? else {
					bail!("job {job} not on chain")
				};
				if !awaits_result_from(&record, &self.chain.account) {
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
				info!(module = %String::from_utf8_lossy(&record.module.0.name), "running");
				let manifest = loop {
					match self.execute(job, &record).await {
						Ok(m) => break m,
						Err(e) if self.deadline_passed(execute_by).await => {
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
				info!(exit = ?manifest.exit, output = %hex::encode(manifest.output_digest), wall_ms = manifest.usage.wall_ms, "ran");
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
			// the job's.
			let finalized_nonce = self.chain.finalized_nonce().await?;
			let Some(record) = self.chain.job(job).await? else { bail!("job {job} not on chain") };
			if !awaits_result_from(&record, &self.chain.account) {
				let entry = if record.result.as_ref().is_some_and(|r| r.0 == manifest) {
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

	/// Runs `job` and stores its outputs; returns the manifest to sign.
	async fn execute(
		&self,
		job: JobId,
		record: &crate::chain::ChainJob,
	) -> anyhow::Result<ResultManifest> {
		let module = &record.module.0;
		let version = self.chain.version(module).await?;
		let (digest, size) = match version.artifact {
			Artifact::Wasm { digest, size } => (digest, size),
			Artifact::Docker { .. } => {
				bail!("{:?} is a Docker module; this agent runs WASM modules", module)
			}
		};
		let bytes = self.store.fetch(&digest, &self.cfg.peers, size).await?;
		let inputs = record.inputs.0.clone();
		let blob = match inputs.blob {
			Some(d) => Some(
				self.store
					.fetch(&d, &self.cfg.peers, (self.cfg.max_output_mib as u64) << 20)
					.await?,
			),
			None => None,
		};
		let dir = self.work_dir.join(job.to_string());
		let _ = std::fs::remove_dir_all(&dir);
		let (in_dir, out_dir) = (dir.join("inputs"), dir.join("outputs"));
		std::fs::create_dir_all(&in_dir)?;
		std::fs::create_dir_all(&out_dir)?;
		let (args, env) = deliver_inputs(&version, &inputs, blob.as_deref(), &in_dir)?;
		let ram_mib = record.resources.ram_mib.min(self.cfg.max_memory_mib).max(1);
		let limits = WasmLimits {
			fuel: self.cfg.fuel_per_sec.saturating_mul(record.timeout_secs as u64),
			wall: Duration::from_secs(record.timeout_secs as u64),
			memory_bytes: (ram_mib as usize) << 20,
			output_bytes: (self.cfg.max_output_mib as usize) << 20,
		};
		let in_digest = input_digest(&inputs);
		let seed = *blake3::hash(&[digest, in_digest].concat()).as_bytes();
		let max_output = (self.cfg.max_output_mib as u64) << 20;
		let store = self.store.clone();
		// wasmtime runs synchronously: on a blocking thread, one per job slot.
		let wasm = self.wasm.clone();
		let (inputs_dir, outputs_dir) = (in_dir.clone(), out_dir.clone());
		let outcome = tokio::task::spawn_blocking(move || {
			let module = wasm.module(&digest, || Ok(bytes))?;
			wasm.run(WasmRun {
				module: &module,
				args,
				env,
				inputs: &inputs_dir,
				outputs: &outputs_dir,
				seed,
				limits,
			})
		})
		.await??;
		let (exit, mut stderr) = (outcome.exit, outcome.stderr);
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
}

/// Hands a job's inputs to the module as its version's schema says: environment variables,
/// `--name=value` arguments in schema order, or files under `/inputs`; the blob, if any, as
/// `/inputs/blob`. A parameter the job left out takes its default.
pub fn deliver_inputs(
	version: &VersionManifest<u128>,
	inputs: &JobInputs,
	blob: Option<&[u8]>,
	in_dir: &std::path::Path,
) -> anyhow::Result<(Vec<String>, Vec<(String, String)>)> {
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
