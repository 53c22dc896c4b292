//! `lilypad run`: submit a job, follow it through its lifecycle, fetch and verify its outputs.
//!
//! Every check a job could fail on chain is made here first (module, version, inputs, price,
//! balance), so a mistake costs nothing and holds nothing.
use std::{
	io::{IsTerminal, Write},
	path::PathBuf,
	str::FromStr,
	time::{Duration, Instant},
};

use anyhow::Context;
use lilypad_client::{
	chain::account_id,
	content::StoreClient,
	lilypad,
	live::{exit_text, Event},
};
use lilypad_primitives::{
	jobs::{ExitStatus, JobId, JobInputs, Stage},
	registry::{check_inputs, InputError, InputParam, ModuleRef, ParamType, SemVer},
	wire,
};
use serde_json::{json, Value};
use subxt::utils::{AccountId32, Static};

use crate::{
	error::{fail, fail_with, Kind},
	node::Node,
	outputs,
	signer::Signer,
	units::{lily, parse_lily},
};

/// `lilypad run`'s arguments.
#[derive(clap::Args)]
pub struct RunArgs {
	/// The module, optionally with its version: `cowsay`, `cowsay:0.1.0` (the latest
	/// version that is not deprecated if left out).
	pub module: String,
	/// An input, `KEY=VALUE` (repeat for several).
	#[arg(short = 'i', long = "input", value_name = "KEY=VALUE")]
	pub inputs: Vec<String>,
	/// A file the job reads as `/inputs/blob` (several are packed into one tar archive).
	#[arg(long = "input-file", value_name = "PATH")]
	pub input_files: Vec<PathBuf>,
	/// The most to pay the provider, in LILY (default: the cheapest offer, at least the
	/// module's floor).
	#[arg(long, value_name = "LILY")]
	pub max_price: Option<String>,
	/// Only this provider (SS58) may run it.
	#[arg(long, value_name = "ACCOUNT")]
	pub target: Option<String>,
	/// Where outputs go: `<DIR>/<job-id>/{stdout,stderr,outputs/}`.
	#[arg(long, value_name = "DIR", default_value = "lilypad-outputs")]
	pub output: PathBuf,
	/// Return once the job is submitted.
	#[arg(long)]
	pub no_wait: bool,
	/// Blocks a provider has to take the job, from the block it lands in, before it expires
	/// and is refunded.
	#[arg(long, value_name = "BLOCKS", default_value_t = 100)]
	pub match_within: u32,
	/// How long to wait: `result` until the outputs are verified against a result in a best
	/// block, `final` until that result is finalized too, `settled` until the job is paid out
	/// or refunded in a finalized block.
	#[arg(long, value_enum, value_name = "UNTIL", default_value_t = Wait::Result)]
	pub wait: Wait,
}

/// How long `lilypad run` waits (docs/fast-jobs.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Wait {
	/// The outputs, verified against the result in a best block (a reorg may still retract
	/// it; the provider is paid when it settles).
	Result,
	/// The result in a finalized block.
	Final,
	/// The job settled (paid out or refunded), finalized.
	Settled,
}

/// Splits `name[:version]` (or `name@version`).
fn split_module(s: &str) -> (&str, Option<&str>) {
	match s.split_once([':', '@']) {
		Some((n, v)) => (n, Some(v)),
		None => (s, None),
	}
}

/// The names of the published modules, for error messages.
async fn published(node: &Node) -> anyhow::Result<String> {
	let page = node.modules(None, None).await?;
	let names: Vec<&str> = page.iter().map(|m| m.name.as_str()).collect();
	Ok(if names.is_empty() {
		"none is published yet".into()
	} else {
		format!("published: {}", names.join(", "))
	})
}

/// The version `name[:version]` names, or a [`Kind::BadInput`] naming what exists.
pub async fn find_version(node: &Node, spec: &str) -> anyhow::Result<(ModuleRef, wire::Version)> {
	let (name, version) = split_module(spec);
	let Some(module) = node.module(name).await? else {
		return Err(fail(
			Kind::BadInput,
			format!("no module named {name:?} ({})", published(node).await?),
		));
	};
	let listed =
		|| module.versions.iter().map(|v| v.version.to_string()).collect::<Vec<_>>().join(", ");
	let record = match version {
		Some(v) => {
			let want = SemVer::parse(v).ok_or_else(|| {
				fail(Kind::BadInput, format!("{v:?} is not a version (major.minor.patch)"))
			})?;
			module.versions.iter().find(|r| r.version == want).cloned().ok_or_else(|| {
				fail(Kind::BadInput, format!("{name} has no version {v} (published: {})", listed()))
			})?
		}
		None => module
			.versions
			.iter()
			.filter(|r| !r.deprecated)
			.max_by_key(|r| r.version)
			.cloned()
			.ok_or_else(|| {
				fail(Kind::BadInput, format!("{name} has no version that is not deprecated"))
			})?,
	};
	if record.deprecated {
		return Err(fail(Kind::BadInput, format!("{name}@{} is deprecated", record.version)));
	}
	let module_ref = ModuleRef {
		name: name
			.as_bytes()
			.to_vec()
			.try_into()
			.map_err(|_| fail(Kind::BadInput, "module names are at most 32 bytes"))?,
		version: record.version,
	};
	Ok((module_ref, record))
}

fn describe(p: &InputParam) -> String {
	let kind = match p.kind {
		ParamType::Text => "text",
		ParamType::Integer => "integer",
		ParamType::Boolean => "true or false",
	};
	let name = String::from_utf8_lossy(&p.name);
	if p.required {
		format!("{name} ({kind}, required)")
	} else {
		format!("{name} ({kind})")
	}
}

/// Parses `-i KEY=VALUE`s and checks them against the module's schema.
fn parse_inputs(
	module: &str,
	schema: &[InputParam],
	raw: &[String],
) -> anyhow::Result<Vec<(Vec<u8>, Vec<u8>)>> {
	let mut pairs = Vec::new();
	for s in raw {
		let (k, v) = s
			.split_once('=')
			.ok_or_else(|| fail(Kind::BadInput, format!("input {s:?} is not KEY=VALUE")))?;
		pairs.push((k.as_bytes().to_vec(), v.as_bytes().to_vec()));
	}
	let expected = || schema.iter().map(describe).collect::<Vec<_>>().join(", ");
	check_inputs(schema, &pairs).map_err(|e| {
		let name = |n: &[u8]| String::from_utf8_lossy(n).into_owned();
		let message = match e {
			InputError::UnknownParam(n) => {
				format!("{module} has no input {:?} (its inputs: {})", name(&n), expected())
			}
			InputError::DuplicateParam(n) => format!("input {} is given twice", name(&n)),
			InputError::MissingParam(n) => format!(
				"missing input {}: pass -i {}=VALUE (its inputs: {})",
				name(&n),
				name(&n),
				expected()
			),
			InputError::TypeMismatch(n) => {
				let p =
					schema.iter().find(|p| p.name[..] == n[..]).map(describe).unwrap_or_default();
				let value = pairs
					.iter()
					.find(|(k, _)| *k == n)
					.map(|(_, v)| String::from_utf8_lossy(v).into_owned())
					.unwrap_or_default();
				format!("input {} is malformed: {value:?} is not valid for {p}", name(&n))
			}
		};
		fail(Kind::BadInput, message)
	})?;
	Ok(pairs)
}

/// The job's input blob: one file as it is, several as a tar archive.
fn input_blob(files: &[PathBuf]) -> anyhow::Result<Option<Vec<u8>>> {
	let read = |p: &PathBuf| {
		std::fs::read(p)
			.map_err(|e| fail(Kind::BadInput, format!("--input-file {}: {e}", p.display())))
	};
	match files {
		[] => Ok(None),
		[one] => read(one).map(Some),
		many => {
			let dir = std::env::temp_dir().join(format!("lilypad-inputs-{}", std::process::id()));
			std::fs::create_dir_all(&dir)?;
			for f in many {
				let name =
					f.file_name().with_context(|| format!("{} has no file name", f.display()))?;
				std::fs::write(dir.join(name), read(f)?)?;
			}
			let archive = lilypad_client::archive::canonical_archive(&dir, 1 << 30);
			let _ = std::fs::remove_dir_all(&dir);
			archive.map(Some)
		}
	}
}

/// Prints progress: a spinner on a terminal, plain lines otherwise, nothing with `--json`.
pub struct Progress {
	bar: Option<indicatif::ProgressBar>,
	quiet: bool,
}

impl Progress {
	pub fn new(quiet: bool) -> Self {
		let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
			let bar = indicatif::ProgressBar::new_spinner();
			bar.enable_steady_tick(Duration::from_millis(120));
			bar
		});
		Self { bar, quiet }
	}

	/// A step that happened.
	pub fn step(&self, line: String) {
		match &self.bar {
			Some(bar) => bar.println(line),
			None if !self.quiet => eprintln!("{line}"),
			None => {}
		}
	}

	/// What is being waited for.
	pub fn waiting(&self, what: String) {
		if let Some(bar) = &self.bar {
			bar.set_message(what);
		}
	}

	pub fn done(&self) {
		if let Some(bar) = &self.bar {
			bar.finish_and_clear();
		}
	}

	/// From now on plain lines only: the spinner would draw over what goes to stdout.
	pub fn plain(&mut self) {
		self.done();
		self.bar = None;
	}
}

/// A stage's name in the node's JSON (`resultSubmitted`).
pub fn stage_name(stage: Stage) -> String {
	serde_json::to_value(stage).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

/// A stage the job entered, as a person reads it.
fn stage_line(stage: Stage, at: u32, job: &wire::Job) -> String {
	let a = job.assignment.as_ref();
	match stage {
		Stage::Submitted => format!("submitted in block #{at}"),
		Stage::Matched => format!(
			"matched in block #{at} to provider {} at {}",
			a.map(|a| a.provider.to_string()).unwrap_or_else(|| "?".into()),
			lily(a.map(|a| a.price).unwrap_or(0))
		),
		Stage::ResultSubmitted => match &job.result {
			Some(r) => format!(
				"result in block #{at}: {} in {} ms; challenge window until #{}",
				exit_text(&r.exit),
				r.usage.wall_ms,
				or_null(job.due)
			),
			None => format!("result in block #{at}"),
		},
		Stage::InMediation => {
			format!("sampled in block #{at}: a mediator re-runs it to check the result")
		}
		Stage::Completed => format!("completed in block #{at}: paid {}", lily(job.charge.total)),
		Stage::Expired => format!("expired in block #{at}: no provider took it"),
		Stage::Cancelled => format!("cancelled in block #{at}"),
		Stage::SlashPending | Stage::Slashed => {
			format!("in block #{at} the provider was found at fault ({})", stage_name(stage))
		}
		other => format!("{} in block #{at}", stage_name(other)),
	}
}

/// A block number that may be absent, as the node's JSON writes it.
fn or_null(block: Option<u32>) -> String {
	block.map(|b| b.to_string()).unwrap_or_else(|| "null".into())
}

/// An exit status as the node's JSON writes it.
pub fn exit_json(exit: &ExitStatus) -> Value {
	wire::exit::serialize(exit, serde_json::value::Serializer).unwrap_or(Value::Null)
}

/// Runs the job; returns the `--json` object.
pub async fn run(
	node: &Node,
	signer: &Signer,
	args: RunArgs,
	json_out: bool,
) -> anyhow::Result<Value> {
	let started = Instant::now();
	let mut progress = Progress::new(json_out);
	let (module_ref, record) = find_version(node, &args.module).await?;
	let spec = format!("{}@{}", String::from_utf8_lossy(&module_ref.name), module_ref.version);
	let schema = record.schema().context("the module's input schema")?;
	let pairs = parse_inputs(&spec, &schema, &args.inputs)?;
	let blob = input_blob(&args.input_files)?;
	let target = args
		.target
		.as_deref()
		.map(|t| {
			AccountId32::from_str(t)
				.map_err(|_| fail(Kind::BadInput, format!("--target {t:?} is not an SS58 account")))
		})
		.transpose()?;

	// Price: at least the floor; by default what the cheapest provider asks.
	let estimate =
		node.estimate(&module_ref).await?.context("no estimate for a published version")?;
	let floor = estimate.floor;
	let max_price = match &args.max_price {
		Some(p) => parse_lily(p).map_err(|e| fail(Kind::BadInput, format!("--max-price: {e}")))?,
		None => estimate.cheapest.as_ref().map_or(0, |q| q.price).max(floor),
	};
	if max_price < floor {
		return Err(fail(
			Kind::Funds,
			format!(
				"--max-price {} is below {spec}'s price floor of {}: nothing was submitted",
				lily(max_price),
				lily(floor)
			),
		));
	}
	if estimate.offers == 0 {
		progress.step(format!("warning: no active provider offers {spec} now; the job expires unless one does within {} blocks", args.match_within));
	}

	// Balance: the charge at the max price (price, solver fee, royalties, protocol fee) and the
	// job deposit are held while the job runs.
	let (quoted_price, quoted_total) = (estimate.charge.price, estimate.charge.total);
	let charge = if quoted_price == 0 {
		max_price
	} else {
		(quoted_total * max_price).div_ceil(quoted_price)
	};
	let at = node.api.at_current_block().await?;
	let deposit = at.constants().entry(lilypad::constants().jobs().job_deposit())?;
	let spendable = node.spendable(&signer.account).await?;
	if spendable < charge + deposit {
		return Err(fail(
			Kind::Funds,
			format!(
				"insufficient balance: a job on {spec} at up to {} holds {} plus a {} deposit, and {} can spend {}: nothing was submitted",
				lily(max_price),
				lily(charge),
				lily(deposit),
				signer.account,
				lily(spendable)
			),
		));
	}
	let (free_before, _) = node.balance(&signer.account).await?;

	let mut tx_fees = 0u128;
	if !node.has_role(&signer.account, lilypad_primitives::identity::Role::JobCreator).await? {
		progress.waiting("registering this account as a job creator".into());
		// In a best block is enough: the job's submission follows it on the same chain.
		let (included, _) = node
			.submit_best(
				&lilypad::transactions().identity().register_role(
					lilypad::runtime_types::lilypad_primitives::identity::Role::JobCreator,
				),
				&signer.key,
				"register_role",
			)
			.await?;
		tx_fees += included.fee;
		progress.step(format!("registered {} as a job creator", signer.account));
	}

	// The blob goes to the stores of the providers that could run the job, before any of them
	// is matched to it.
	let blob_digest = match &blob {
		Some(bytes) => Some(upload_blob(node, &module_ref, target.as_ref(), bytes).await?),
		None => None,
	};

	let inputs = JobInputs {
		params: pairs
			.into_iter()
			.map(|(k, v)| {
				let name = String::from_utf8_lossy(&k).into_owned();
				Ok((
					k.try_into().map_err(|_| {
						fail(Kind::BadInput, format!("input name {name} is too long"))
					})?,
					v.try_into().map_err(|_| {
						fail(
							Kind::BadInput,
							format!("input {name} is too long to pass inline: use --input-file"),
						)
					})?,
				))
			})
			.collect::<anyhow::Result<Vec<_>>>()?
			.try_into()
			.map_err(|_| fail(Kind::BadInput, "too many inputs"))?,
		blob: blob_digest,
	};
	// Counted from the block the job lands in, the next one at the earliest: a deadline
	// counted from the best block would leave a job submitted as a block is being built one
	// block less, and `--match-within 1` none at all.
	let deadline = node.best_number().await? + 1 + args.match_within;
	progress.waiting(format!("submitting a job on {spec}"));
	let options = lilypad::runtime_types::lilypad_primitives::jobs::JobOptions {
		target,
		credentials: lilypad::runtime_types::bounded_collections::bounded_vec::BoundedVec(vec![]),
		verification: None,
	};
	let call = lilypad::transactions().jobs().submit_job(
		Static(module_ref.clone()),
		Static(inputs),
		max_price,
		deadline,
		options,
	);
	let (included, _) = node.submit_best(&call, &signer.key, "submit_job").await.map_err(|e| {
		let (kind, _) = crate::error::kind_of(&e);
		let text = e.to_string();
		if text.contains("InsufficientBalance") || text.contains("PriceBelowFloor") {
			fail(Kind::Funds, format!("{text}: nothing is held"))
		} else {
			fail(kind, text)
		}
	})?;
	tx_fees += included.fee;
	let submitted = included
		.events
		.find_first::<lilypad::jobs::events::JobSubmitted>()
		.transpose()?
		.context("no JobSubmitted event")?;
	let id = submitted.job;
	progress.step(format!("job {id}: {spec}, holding up to {}", lily(submitted.held)));
	if args.no_wait {
		progress.done();
		let job = node.job(id).await?.context("the job")?;
		return Ok(json!({
			"job_id": id,
			"state": stage_name(job.stage),
			"submitted_block": job.entered(Stage::Submitted),
			"held": submitted.held.to_string(),
			"deposit": job.deposit.to_string(),
			"tx_fees": tx_fees.to_string(),
			"elapsed_ms": started.elapsed().as_millis() as u64,
		}));
	}

	// Follow the job, block by best block, until the outputs are verified; then, if asked,
	// until the result or the settlement is finalized.
	let mut seen = 0usize;
	let mut last_hash = None;
	let mut downloaded: Option<outputs::Outputs> = None;
	let mut downloaded_digest = None;
	// When the outputs were in hand, verified: what a user waits for.
	let mut result_ms = None;
	let mut result_finalized_block = None;
	// When the result was seen finalized.
	let mut final_ms = None;
	// The provider's live relay of the run's stdout, followed from the match on.
	let mut live: Option<tokio::task::JoinHandle<Streamed>> = None;
	let (mut first_line_ms, mut streamed_lines) = (None, 0u64);
	let mut missing_since: Option<Instant> = None;
	let job = loop {
		let (hash, number) = node.best().await?;
		if last_hash == Some(hash) {
			tokio::time::sleep(Duration::from_millis(100)).await;
			continue;
		}
		last_hash = Some(hash);
		// A best block may not hold it yet (or any more, after a reorg retracted its
		// submission, which the pool then includes again).
		// A reorg that retracts the submission can give its id to another job (and ours,
		// included again, another id): only a job with our creator, module and price is ours.
		let ours = |job: &wire::Job| {
			account_id(&job.creator) == signer.account
				&& job.module == module_ref
				&& job.max_price == max_price
		};
		let Some(job) = node.job_at(id, Some(hash)).await?.filter(ours) else {
			let since = *missing_since.get_or_insert_with(Instant::now);
			if since.elapsed() > MISSING_PATIENCE {
				return Err(anyhow::anyhow!(
					"job {id} is not in the best chain (#{number}) and has not come back for \
					 {MISSING_PATIENCE:?}: a reorg retracted its submission, which was dropped \
					 or included again under another id (`lilypad job list` shows your jobs)"
				));
			}
			progress.waiting(format!("job {id} is not in best block #{number}"));
			continue;
		};
		missing_since = None;
		// A reorg can take steps back: only what is new on this chain is shown.
		seen = seen.min(job.history.len());
		for step in job.history.iter().skip(seen) {
			progress.step(stage_line(step.stage, step.at, &job));
		}
		seen = job.history.len();
		let unfollowed = live.is_none() && job.result.is_none();
		if let Some(assignment) = job.assignment.as_ref().filter(|_| unfollowed) {
			let provider = account_id(&assignment.provider);
			if let Some((offer, _)) = node.offer(&provider).await? {
				let endpoint = String::from_utf8_lossy(&offer.endpoint).into_owned();
				// Tokens go to the terminal as they come: no spinner over them.
				if !json_out {
					progress.plain();
				}
				let follow = (node.genesis, signer.key.clone(), started);
				live = Some(tokio::spawn(show_live(endpoint, id, provider, follow, !json_out)));
			}
		}
		// Downloaded again if a reorg replaced the result (another provider's run).
		let result_digest = job.result.as_ref().map(|r| r.output_digest);
		if result_digest.is_some() && downloaded_digest != result_digest {
			// The run is over: its stream ends with it, or is given up.
			let streamed = match live.as_mut() {
				Some(task) => {
					tokio::time::timeout(LIVE_GRACE, task).await.ok().and_then(|r| r.ok())
				}
				None => None,
			};
			progress.waiting("fetching the outputs".into());
			let out = outputs::download(node, &job, &args.output).await?;
			progress.step(format!(
				"outputs verified against the digests on chain: {}",
				out.dir.display()
			));
			if !json_out {
				progress.done();
				match &streamed {
					// What streamed was the text; the result's stdout is its record.
					Some(s) if s.complete => {}
					_ => {
						std::io::stdout().write_all(&out.stdout)?;
						std::io::stdout().flush()?;
					}
				}
			}
			if let Some(s) = streamed {
				first_line_ms = s.first_line_ms;
				streamed_lines = s.lines;
			}
			downloaded = Some(out);
			downloaded_digest = result_digest;
			result_ms.get_or_insert(started.elapsed().as_millis() as u64);
		}
		if args.wait == Wait::Result && (downloaded.is_some() || job.stage.is_settled()) {
			break job;
		}
		if args.wait == Wait::Result {
			progress.waiting(format!("job {id} is {} (best #{number})", stage_name(job.stage)));
			continue;
		}
		// Finality, read at the last finalized block.
		let (final_hash, final_number) = node.finalized().await?;
		// Not there while the submission is not final yet.
		let Some(finalized) = node.job_at(id, Some(final_hash)).await? else {
			progress.waiting(format!(
				"job {id} is {} (best #{number}, finalized #{final_number})",
				stage_name(job.stage)
			));
			continue;
		};
		if result_finalized_block.is_none() && finalized.result.is_some() {
			result_finalized_block = finalized.entered(Stage::ResultSubmitted);
			final_ms = Some(started.elapsed().as_millis() as u64);
			if let Some(at) = result_finalized_block {
				progress.step(format!("the result of #{at} is final (finalized #{final_number})"));
			}
		}
		// The outputs in hand are those of the finalized result.
		let final_outputs = finalized.result.as_ref().map(|r| r.output_digest) == downloaded_digest;
		let done = match args.wait {
			Wait::Final => result_finalized_block.is_some() && final_outputs,
			_ => finalized.stage.is_settled() && (finalized.result.is_none() || final_outputs),
		};
		if done || (finalized.stage.is_settled() && finalized.result.is_none()) {
			break finalized;
		}
		progress.waiting(format!(
			"job {id} is {} (best #{number}, finalized #{final_number})",
			stage_name(job.stage)
		));
	};
	let stage = stage_name(job.stage);
	let deposit_note = format!(
		"the {} job deposit comes back when the job's record is pruned at block #{}",
		lily(job.deposit),
		or_null(job.due)
	);
	if job.stage == Stage::Completed {
		progress.step(deposit_note.clone());
	}
	progress.done();
	let (free_after, _) = node.balance(&signer.account).await?;
	let exit = job.result.as_ref().map(|r| r.exit);
	// Settlement fields only from a finalized settlement that was waited for.
	let settled = args.wait == Wait::Settled && job.stage.is_settled();
	let paid = if job.stage == Stage::Completed { job.charge.total } else { 0 };
	let mut summary = json!({
		"job_id": id,
		"module": spec,
		"state": stage,
		"provider": job.assignment.as_ref().map(|a| a.provider.to_string()),
		"exit": exit.as_ref().map(exit_json),
		"output_digest": job.result.as_ref().map(|r| wire::hex(&r.output_digest)),
		"outputs_dir": downloaded.as_ref().map(|o| o.dir.display().to_string()),
		"outputs": downloaded.as_ref().map(|o| o.files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>()),
		"stdout": downloaded.as_ref().map(|o| String::from_utf8_lossy(&o.stdout).into_owned()),
		// Held until the job's record is pruned, then returned.
		"deposit": job.deposit.to_string(),
		"tx_fees": tx_fees.to_string(),
		"submitted_block": job.entered(Stage::Submitted),
		"matched_block": job.entered(Stage::Matched),
		"result_block": job.entered(Stage::ResultSubmitted),
		"result_ms": result_ms,
		// The first line of stdout the provider relayed live, and how many came.
		"first_line_ms": first_line_ms,
		"streamed_lines": streamed_lines,
		"elapsed_ms": started.elapsed().as_millis() as u64,
	});
	// What exists once it was waited for, and not before: absent, not zero.
	if args.wait != Wait::Result {
		summary["result_finalized_block"] = json!(result_finalized_block);
		summary["final_ms"] = json!(final_ms);
	}
	if settled {
		summary["price_paid"] = json!(paid.to_string());
		summary["deposit_returned_at"] = json!(job.due);
		summary["balance_change"] = json!(format!("-{}", free_before.saturating_sub(free_after)));
		summary["completed_block"] = json!(job.entered(job.stage));
	}
	match (job.stage, exit) {
		(Stage::Completed, Some(ExitStatus::Success)) => Ok(summary),
		// The result is in; the provider is paid when the challenge window closes.
		(Stage::ResultSubmitted | Stage::InMediation, Some(ExitStatus::Success)) => Ok(summary),
		(Stage::ResultSubmitted | Stage::InMediation, Some(exit)) => {
			let stderr = downloaded.as_ref().map(|o| String::from_utf8_lossy(&o.stderr).into_owned()).unwrap_or_default();
			let tail: String = stderr.lines().rev().take(5).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n");
			Err(fail_with(
				Kind::JobFailed,
				format!("job {id} ran but {}: its provider is paid for running it when the challenge window closes\n{tail}", exit_text(&exit)),
				summary,
			))
		}
		(Stage::Completed, _) => {
			let stderr = downloaded.as_ref().map(|o| String::from_utf8_lossy(&o.stderr).into_owned()).unwrap_or_default();
			let tail: String = stderr.lines().rev().take(5).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n");
			Err(fail_with(
				Kind::JobFailed,
				format!(
					"job {id} ran but {}: the provider was paid {} for running it; {deposit_note}\n{tail}",
					exit.as_ref().map(exit_text).unwrap_or_else(|| "unknown exit".into()),
					lily(paid)
				),
				summary,
			))
		}
		(Stage::Expired, _) => Err(fail_with(
			Kind::JobFailed,
			format!("job {id} expired: no provider took it within {} blocks; the escrow was refunded in full and {deposit_note}", args.match_within),
			summary,
		)),
		(Stage::Cancelled, _) => Err(fail_with(Kind::JobFailed, format!("job {id} was cancelled; the escrow was refunded in full and {deposit_note}"), summary)),
		_ => Err(fail_with(
			Kind::JobFailed,
			format!("job {id} failed: its provider returned no result in time or a wrong one ({stage}); the escrow was refunded, with compensation from the provider's collateral, and {deposit_note}"),
			summary,
		)),
	}
}

/// How long a submitted job may be missing from the best chain (a reorg that retracted its
/// submission) before `run` gives up on it.
const MISSING_PATIENCE: Duration = Duration::from_secs(60);

/// How long the live stream may take to end once the job's result is on chain.
const LIVE_GRACE: Duration = Duration::from_secs(10);

/// What the live stream of a job's stdout brought.
#[derive(Default)]
struct Streamed {
	/// When the first line came (ms since `lilypad run` started).
	first_line_ms: Option<u64>,
	lines: u64,
	/// Whether it ran to its end, so that what was shown is the whole stdout.
	complete: bool,
	/// Whether what was shown ends inside a line (tokens' text does): the terminal's line is
	/// ended when the run ends.
	mid_line: bool,
}

/// Follows job `id`'s stdout at its provider and, if `show`, writes it to the terminal as it
/// comes: a line that is a JSON object with a `text` (a token, as the chat module writes them)
/// as that text alone, any other line as it is. A stream that cannot be had is only a warning:
/// the result on chain is what counts.
async fn show_live(
	endpoint: String,
	id: JobId,
	provider: AccountId32,
	(genesis, key, started): ([u8; 32], subxt_signer::sr25519::Keypair, Instant),
	show: bool,
) -> Streamed {
	use futures::StreamExt;
	let mut seen = Streamed::default();
	let http = reqwest::Client::new();
	let events =
		lilypad_client::live::follow(&http, &endpoint, &genesis, id, &provider.0, &key).await;
	let mut events = match events {
		Ok(events) => Box::pin(events),
		Err(e) => {
			if show {
				eprintln!("(no live output: {e:#})");
			}
			return seen;
		}
	};
	let mut out = std::io::stdout();
	while let Some(event) = events.next().await {
		match event {
			Ok(Event::Line(line)) => {
				seen.first_line_ms.get_or_insert(started.elapsed().as_millis() as u64);
				seen.lines += 1;
				if show {
					let text = serde_json::from_str::<Value>(&line)
						.ok()
						.and_then(|v| v.get("text").and_then(Value::as_str).map(str::to_owned));
					let _ = match text {
						Some(text) if !text.is_empty() => {
							seen.mid_line = !text.ends_with('\n');
							out.write_all(text.as_bytes())
						}
						Some(_) => Ok(()),
						None => {
							seen.mid_line = false;
							writeln!(out, "{line}")
						}
					};
					let _ = out.flush();
				}
			}
			Ok(Event::Restart) => {
				if show {
					let _ = writeln!(out, "\n[the provider started the run over]");
				}
			}
			Ok(Event::End(_)) => {
				// The run is over: end the tokens' line before the job's next steps print.
				if show && seen.mid_line {
					let _ = writeln!(out);
					let _ = out.flush();
					seen.mid_line = false;
				}
				seen.complete = true;
				break;
			}
			Err(e) => {
				if show {
					eprintln!("\n(live output interrupted: {e:#})");
				}
				break;
			}
		}
	}
	seen
}

/// Puts the job's input blob in the content store of every active provider that could run
/// `module` (or of `target`); returns its digest.
async fn upload_blob(
	node: &Node,
	module: &ModuleRef,
	target: Option<&AccountId32>,
	bytes: &[u8],
) -> anyhow::Result<[u8; 32]> {
	let digest = lilypad_client::content::digest_of(bytes);
	let name = String::from_utf8_lossy(&module.name).into_owned();
	let query = wire::OffersQuery { module: Some(name), active_only: true, ..Default::default() };
	let offers = node.offers(&query, None, None).await?;
	let stores: Vec<String> = offers
		.iter()
		.filter(|o| target.is_none_or(|t| account_id(&o.provider) == *t))
		.map(|o| o.endpoint.trim_end_matches('/').to_string())
		.collect();
	let stored = put_everywhere(&stores, &digest, bytes).await;
	if stored == 0 {
		return Err(fail(
			Kind::Other,
			format!("no provider's store took the input file ({} tried)", stores.len()),
		));
	}
	Ok(digest)
}

/// PUTs a blob in each of `stores`; returns how many took it.
pub async fn put_everywhere(stores: &[String], digest: &[u8; 32], bytes: &[u8]) -> usize {
	let http = reqwest::Client::new();
	let mut stored = 0;
	for store in stores {
		let store = StoreClient::with_http(http.clone(), store);
		match store.put_as(digest, bytes.to_vec()).await {
			Ok(()) => stored += 1,
			Err(e) => eprintln!("warning: {e:#}"),
		}
	}
	stored
}

#[cfg(test)]
mod tests {
	use super::*;
	use lilypad_primitives::registry::Delivery;

	fn param(name: &str, kind: ParamType, required: bool) -> InputParam {
		InputParam {
			name: name.as_bytes().to_vec().try_into().unwrap(),
			kind,
			default: None,
			required,
			delivery: Delivery::Env,
		}
	}

	#[test]
	fn inputs_are_checked_against_the_schema_and_errors_name_the_parameter() {
		let schema = vec![
			param("Message", ParamType::Text, true),
			param("rounds", ParamType::Integer, false),
		];
		let ok =
			parse_inputs("m", &schema, &["Message=hi=there".into(), "rounds=3".into()]).unwrap();
		assert_eq!(ok[0], (b"Message".to_vec(), b"hi=there".to_vec()));
		for (raw, says) in [
			(vec!["rounds=3"], "missing input Message"),
			(vec!["Message=x", "rounds=three"], "input rounds is malformed: \"three\""),
			(vec!["Message=x", "colour=red"], "no input \"colour\""),
			(vec!["Message"], "not KEY=VALUE"),
			(vec!["Message=a", "Message=b"], "given twice"),
		] {
			let raw: Vec<String> = raw.into_iter().map(String::from).collect();
			let err = parse_inputs("m", &schema, &raw).unwrap_err();
			assert!(err.to_string().contains(says), "{says}: {err}");
			assert_eq!(crate::error::kind_of(&err).0, Kind::BadInput);
		}
	}

	#[test]
	fn module_specs_split_on_colon_or_at() {
		assert_eq!(split_module("cowsay"), ("cowsay", None));
		assert_eq!(split_module("cowsay:0.1.0"), ("cowsay", Some("0.1.0")));
		assert_eq!(split_module("cowsay@0.1.0"), ("cowsay", Some("0.1.0")));
	}
}
