//! Every command but `run`: jobs, modules, models, accounts, providers and the dev chain's
//! setup.
//! Each returns the object `--json` prints; without `--json` it prints text itself.
use std::{path::PathBuf, str::FromStr};

use anyhow::Context;
use lilypad_client::{
	chain::{account_id, JobRole, TxError},
	lilypad,
};
use lilypad_primitives::{
	identity::Role, jobs::Stage, models::WeightsLayout, registry::ModuleRef, wire,
};
use serde_json::{json, Value};
use subxt::utils::AccountId32;

use crate::{
	error::{fail, Kind},
	manifest,
	node::Node,
	outputs, run,
	signer::{self, Signer},
	units::{lily, parse_lily},
};

#[derive(clap::Subcommand)]
pub enum JobCommand {
	/// A job's stage, provider, result and history.
	Status { id: u64 },
	/// Your jobs (or ACCOUNT's), newest last.
	List {
		/// Whose jobs (default: the signing key's account).
		#[arg(long)]
		account: Option<String>,
		/// `creator` or `provider`.
		#[arg(long, default_value = "creator")]
		role: String,
	},
	/// Print a finished job's stdout and stderr, verified against the chain.
	Logs {
		id: u64,
		#[arg(long, value_name = "DIR", default_value = "lilypad-outputs")]
		output: PathBuf,
	},
	/// Cancel a job nobody has taken yet; its escrow comes back in full.
	Cancel { id: u64 },
	/// Download a finished job's outputs into `DIR/<id>/`, verified against the chain.
	Get {
		id: u64,
		#[arg(long, value_name = "DIR", default_value = "lilypad-outputs")]
		output: PathBuf,
	},
}

#[derive(clap::Subcommand)]
pub enum ModuleCommand {
	/// Publish the version described by `DIR/lilypad-module.toml`, and hand its artifact to
	/// the providers' content stores.
	Publish {
		dir: PathBuf,
		/// A content store to upload the artifact to (default: every provider's on chain).
		#[arg(long, value_name = "URL")]
		store: Vec<String>,
	},
	/// The published modules.
	List,
	/// A module and its versions, or one version (`NAME@VERSION`).
	Show { module: String },
}

#[derive(clap::Subcommand)]
pub enum ModelCommand {
	/// Publish the model version described by `DIR/lilypad-model.toml`, and hand its weights
	/// to the providers' content stores.
	Publish {
		dir: PathBuf,
		/// A content store to upload the weights to (default: every provider's on chain).
		#[arg(long, value_name = "URL")]
		store: Vec<String>,
	},
	/// The published models.
	List,
	/// A model and its versions.
	Show { model: String },
}

#[derive(clap::Subcommand)]
pub enum AccountCommand {
	/// Create a key in the keystore (`$LILYPAD_HOME/keys`, default `~/.lilypad/keys`).
	New {
		/// Its name (`--key NAME` signs with it).
		#[arg(long, default_value = "default")]
		name: String,
	},
	/// Free and held LILY of the signing key's account, or of ACCOUNT.
	Balance { account: Option<String> },
	/// Send LILY to an account.
	Transfer {
		to: String,
		/// In LILY (`1.5`).
		amount: String,
	},
}

#[derive(clap::Subcommand)]
pub enum ProviderCommand {
	/// A provider's offer, status, running jobs and bond (default: the signing key's account).
	Status { account: Option<String> },
}

#[derive(clap::Subcommand)]
pub enum DevCommand {
	/// As the dev chain's sudo key (//Alice): shorten the challenge window and make the
	/// signer a staked solver, so jobs settle within seconds. Safe to run again.
	Init {
		/// Blocks a result waits for challenges before it settles.
		#[arg(long, default_value_t = 2)]
		challenge_window: u32,
		/// The solver's stake, in LILY.
		#[arg(long, default_value = "50")]
		solver_bond: String,
	},
}

/// Runs `command` against the node at `url`.
pub(crate) async fn dispatch(
	command: crate::Command,
	url: &str,
	key: Option<&str>,
	json_out: bool,
) -> anyhow::Result<Value> {
	use crate::Command as C;
	// `account new` needs no node.
	if let C::Account { command: AccountCommand::New { name } } = &command {
		return account_new(name, json_out);
	}
	let node = Node::connect(url).await?;
	let signer = || signer::resolve(&node, key, json_out);
	match command {
		C::Run(args) => run::run(&node, &signer().await?, args, json_out).await,
		C::Job { command } => match command {
			JobCommand::Status { id } => job_status(&node, id, json_out).await,
			JobCommand::List { account, role } => {
				let who = account_or_signer(account, signer).await?;
				job_list(&node, &who, &role, json_out).await
			}
			JobCommand::Logs { id, output } => {
				job_outputs(&node, id, &output, true, json_out).await
			}
			JobCommand::Get { id, output } => {
				job_outputs(&node, id, &output, false, json_out).await
			}
			JobCommand::Cancel { id } => job_cancel(&node, &signer().await?, id, json_out).await,
		},
		C::Module { command } => match command {
			ModuleCommand::Publish { dir, store } => {
				publish(&node, &signer().await?, &dir, store, json_out).await
			}
			ModuleCommand::List => module_list(&node, json_out).await,
			ModuleCommand::Show { module } => module_show(&node, &module, json_out).await,
		},
		C::Model { command } => match command {
			ModelCommand::Publish { dir, store } => {
				model_publish(&node, &signer().await?, &dir, store, json_out).await
			}
			ModelCommand::List => model_list(&node, json_out).await,
			ModelCommand::Show { model } => model_show(&node, &model, json_out).await,
		},
		C::Account { command } => match command {
			AccountCommand::New { .. } => unreachable!("handled above"),
			AccountCommand::Balance { account } => {
				let who = account_or_signer(account, signer).await?;
				balance(&node, &who, json_out).await
			}
			AccountCommand::Transfer { to, amount } => {
				transfer(&node, &signer().await?, &to, &amount, json_out).await
			}
		},
		C::Provider { command: ProviderCommand::Status { account } } => {
			let who = account_or_signer(account, signer).await?;
			provider_status(&node, &who, json_out).await
		}
		C::Dev { command: DevCommand::Init { challenge_window, solver_bond } } => {
			dev_init(&node, &signer().await?, challenge_window, &solver_bond, json_out).await
		}
	}
}

/// `account` parsed, or the signer's account.
async fn account_or_signer<F: std::future::Future<Output = anyhow::Result<Signer>>>(
	account: Option<String>,
	signer: impl FnOnce() -> F,
) -> anyhow::Result<AccountId32> {
	match account {
		Some(a) => parse_account(&a),
		None => Ok(signer().await?.account),
	}
}

fn parse_account(s: &str) -> anyhow::Result<AccountId32> {
	AccountId32::from_str(s)
		.map_err(|_| fail(Kind::BadInput, format!("{s:?} is not an SS58 account")))
}

async fn find_job(node: &Node, id: u64) -> anyhow::Result<wire::Job> {
	node.job(id).await?.ok_or_else(|| {
		fail(Kind::BadInput, format!("no job {id} (unknown, or pruned after it settled)"))
	})
}

async fn job_status(node: &Node, id: u64, json_out: bool) -> anyhow::Result<Value> {
	let job = find_job(node, id).await?;
	if !json_out {
		println!("job {id}: {} — {}", job.module, run::stage_name(job.stage));
		if let Some(a) = &job.assignment {
			println!("  provider: {} at {}", a.provider, lily(a.price));
		}
		if let Some(r) = &job.result {
			let exit = run::exit_json(&r.exit);
			println!(
				"  exit: {}, output digest {}",
				exit["kind"].as_str().unwrap_or("?"),
				wire::hex(&r.output_digest)
			);
		}
		for h in &job.history {
			println!("  #{:<8} {}", h.at, run::stage_name(h.stage));
		}
	}
	Ok(serde_json::to_value(&job)?)
}

async fn job_list(
	node: &Node,
	who: &AccountId32,
	role: &str,
	json_out: bool,
) -> anyhow::Result<Value> {
	if !matches!(role, "creator" | "provider") {
		return Err(fail(Kind::BadInput, format!("--role {role:?} is not creator or provider")));
	}
	let as_role = if role == "creator" { JobRole::Creator } else { JobRole::Provider };
	let mut jobs = Vec::new();
	let mut after = None;
	loop {
		let page = node.jobs(who, as_role, after, None).await?;
		let Some(last) = page.last().map(|j| j.id) else { break };
		after = Some(last);
		jobs.extend(page);
	}
	if !json_out {
		for j in &jobs {
			println!("{:>8}  {:<16} {}", j.id, run::stage_name(j.stage), j.module);
		}
		if jobs.is_empty() {
			println!("no jobs as {role} for {who}");
		}
	}
	Ok(json!({ "account": who.to_string(), "role": role, "jobs": jobs }))
}

async fn job_outputs(
	node: &Node,
	id: u64,
	dir: &std::path::Path,
	print: bool,
	json_out: bool,
) -> anyhow::Result<Value> {
	let job = find_job(node, id).await?;
	let out = outputs::download(node, &job, dir).await?;
	if !json_out {
		if print {
			use std::io::Write;
			std::io::stdout().write_all(&out.stdout)?;
			std::io::stderr().write_all(&out.stderr)?;
		} else {
			println!("job {id}: outputs verified and saved in {}", out.dir.display());
			for f in &out.files {
				println!("  outputs/{}", f.display());
			}
		}
	}
	Ok(json!({
		"job_id": id,
		"output_digest": job.result.as_ref().map(|r| wire::hex(&r.output_digest)),
		"outputs_dir": out.dir.display().to_string(),
		"outputs": out.files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
		"stdout": String::from_utf8_lossy(&out.stdout),
		"stderr": String::from_utf8_lossy(&out.stderr),
	}))
}

async fn job_cancel(
	node: &Node,
	signer: &Signer,
	id: u64,
	json_out: bool,
) -> anyhow::Result<Value> {
	let job = find_job(node, id).await?;
	if account_id(&job.creator) != signer.account {
		return Err(fail(
			Kind::BadInput,
			format!("job {id} is not yours: it was submitted by {}", job.creator),
		));
	}
	if job.stage != Stage::Submitted {
		return Err(fail(
			Kind::BadInput,
			format!(
				"job {id} is {}: only a job nobody has taken yet can be cancelled",
				run::stage_name(job.stage)
			),
		));
	}
	let included = node
		.submit(&lilypad::transactions().jobs().cancel_job(id), &signer.key, "cancel_job")
		.await?;
	let refunded = included
		.events
		.find_first::<lilypad::jobs::events::JobCancelled>()
		.transpose()?
		.map(|e| e.refunded)
		.unwrap_or(0);
	if !json_out {
		println!(
			"job {id} cancelled: {} refunded; the {} job deposit comes back when its record is pruned",
			lily(refunded),
			lily(job.deposit)
		);
	}
	Ok(json!({
		"job_id": id,
		"state": "cancelled",
		"refunded": refunded.to_string(),
		"deposit": job.deposit.to_string(),
		"tx_fees": included.fee.to_string(),
	}))
}

async fn publish(
	node: &Node,
	signer: &Signer,
	dir: &std::path::Path,
	stores: Vec<String>,
	json_out: bool,
) -> anyhow::Result<Value> {
	let pkg = manifest::load(dir)?;
	let m = &pkg.manifest;
	let name = String::from_utf8_lossy(&m.module).into_owned();
	let spec = format!("{name}@{}", m.version);
	let mut tx_fees = 0u128;
	let module = node.module(&name).await?;
	let mut published = true;
	if let Some(module) = &module {
		if account_id(&module.owner) != signer.account {
			return Err(fail(
				Kind::Refused,
				format!("module {name} belongs to {}, not {}", module.owner, signer.account),
			));
		}
		let this = ModuleRef { name: m.module.clone(), version: m.version };
		if let Some(existing) = node.version(&this).await? {
			if &existing != m {
				return Err(fail(
					Kind::BadInput,
					format!("{spec} is already published with another manifest: give this one a new version"),
				));
			}
			published = false;
		}
	}
	if published {
		tx_fees +=
			lilypad_client::chain::publish(&node.api, &signer.key, m).await.map_err(|e| {
				match e.downcast_ref::<TxError>() {
					Some(TxError::Refused(_) | TxError::Failed { .. }) => {
						fail(Kind::Refused, format!("publish {spec}: {e}"))
					}
					_ => e.context(format!("publish {spec}")),
				}
			})?;
	}
	// The artifact goes to the content stores providers fetch modules from.
	let stores = content_stores(node, stores).await?;
	let digest = lilypad_client::content::digest_of(&pkg.artifact);
	let uploaded = run::put_everywhere(&stores, &digest, &pkg.artifact).await;
	if !json_out {
		if published {
			println!("published {spec} as {}", signer.account);
		} else {
			println!("{spec} is already published with this manifest");
		}
		println!(
			"artifact ({} bytes, blake3 {}) handed to {uploaded} of {} content stores",
			pkg.artifact.len(),
			hex::encode(digest),
			stores.len()
		);
	}
	Ok(json!({
		"module": spec,
		"published": published,
		"artifact_digest": format!("0x{}", hex::encode(digest)),
		"artifact_bytes": pkg.artifact.len(),
		"stores": stores.len(),
		"uploaded": uploaded,
		"tx_fees": tx_fees.to_string(),
	}))
}

/// The content stores to upload to: those given, else every provider's on chain.
async fn content_stores(node: &Node, given: Vec<String>) -> anyhow::Result<Vec<String>> {
	Ok(if given.is_empty() {
		let offers = node.offers(&Default::default(), None, None).await?;
		offers.iter().map(|o| o.endpoint.trim_end_matches('/').to_string()).collect()
	} else {
		given.iter().map(|s| s.trim_end_matches('/').to_string()).collect()
	})
}

async fn module_list(node: &Node, json_out: bool) -> anyhow::Result<Value> {
	let modules =
		every_page(|after| async move { node.modules(after.as_deref(), None).await }, |m| &m.name)
			.await?;
	if !json_out {
		print_names_and_versions(
			"modules",
			modules.iter().map(|m| (&m.name, m.versions.iter().map(|v| v.version.to_string()))),
		);
	}
	Ok(json!({ "modules": modules }))
}

/// Every entry of a listing served a page at a time: `page(after)` returns the entries after
/// the one named `after`, none at the end.
async fn every_page<T, Fut>(
	page: impl Fn(Option<String>) -> Fut,
	name: impl Fn(&T) -> &String,
) -> anyhow::Result<Vec<T>>
where
	Fut: std::future::Future<Output = anyhow::Result<Vec<T>>>,
{
	let mut all = Vec::new();
	let mut after: Option<String> = None;
	loop {
		let page = page(after.take()).await?;
		let Some(last) = page.last().map(&name).cloned() else { break };
		after = Some(last);
		all.extend(page);
	}
	Ok(all)
}

/// One line per entry: its name and its versions.
fn print_names_and_versions<'a, V: Iterator<Item = String>>(
	what: &str,
	entries: impl Iterator<Item = (&'a String, V)>,
) {
	let mut any = false;
	for (name, versions) in entries {
		any = true;
		println!("{:<24} {}", name, versions.collect::<Vec<_>>().join(", "));
	}
	if !any {
		println!("no {what} are published");
	}
}

async fn module_show(node: &Node, spec: &str, json_out: bool) -> anyhow::Result<Value> {
	let out = if spec.contains(['@', ':']) {
		let (_, record) = run::find_version(node, spec).await?;
		serde_json::to_value(record)?
	} else {
		let module = node.module(spec).await?;
		serde_json::to_value(
			module.ok_or_else(|| fail(Kind::BadInput, format!("no module named {spec:?}")))?,
		)?
	};
	if !json_out {
		println!("{}", serde_json::to_string_pretty(&out)?);
	}
	Ok(out)
}

async fn model_publish(
	node: &Node,
	signer: &Signer,
	dir: &std::path::Path,
	stores: Vec<String>,
	json_out: bool,
) -> anyhow::Result<Value> {
	let pkg = manifest::load_model(dir)?;
	let m = &pkg.manifest;
	let name = String::from_utf8_lossy(&m.model).into_owned();
	let spec = format!("{name}@{}", m.version);
	let mut published = true;
	if let Some(model) = node.model(&name).await? {
		if account_id(&model.owner) != signer.account {
			return Err(fail(
				Kind::Refused,
				format!("model {name} belongs to {}, not {}", model.owner, signer.account),
			));
		}
		if let Some(existing) = model.versions.iter().find(|v| v.version == m.version) {
			if existing.manifest(&name).as_ref() != Some(m) {
				return Err(fail(
					Kind::BadInput,
					format!(
						"{spec} is already published with other weights or terms: give this \
						 one a new version"
					),
				));
			}
			published = false;
		}
	}
	let mut tx_fees = 0u128;
	if published {
		tx_fees +=
			lilypad_client::chain::publish_model(&node.api, &signer.key, m).await.map_err(|e| {
				match e.downcast_ref::<TxError>() {
					Some(TxError::Refused(_) | TxError::Failed { .. }) => {
						fail(Kind::Refused, format!("publish {spec}: {e}"))
					}
					_ => e.context(format!("publish {spec}")),
				}
			})?;
	}
	// The weights go to the content stores providers fetch them from, streamed from disk and
	// named as this version's (a store takes a blob that large only as published weights).
	let stores = content_stores(node, stores).await?;
	let w = m.weights;
	let http = reqwest::Client::new();
	let mut uploaded = 0;
	for store in &stores {
		let store = lilypad_client::content::StoreClient::with_http(http.clone(), store);
		match store.put_file(&w.digest, pkg.blob.path(), Some(&spec)).await {
			Ok(()) => uploaded += 1,
			Err(e) => eprintln!("warning: {e:#}"),
		}
	}
	let (layout, format) = (layout_name(w.layout), w.format.extension());
	if !json_out {
		if published {
			println!("published {spec} as {}", signer.account);
		} else {
			println!("{spec} is already published with these weights and terms");
		}
		println!(
			"weights ({format} {layout}, {} bytes, blake3 {}) handed to {uploaded} of {} content \
			 stores",
			w.size,
			hex::encode(w.digest),
			stores.len()
		);
	}
	Ok(json!({
		"model": spec,
		"published": published,
		"weights_digest": wire::hex(&w.digest),
		"weights_bytes": w.size,
		"layout": layout,
		"format": format,
		"stores": stores.len(),
		"uploaded": uploaded,
		"tx_fees": tx_fees.to_string(),
	}))
}

fn layout_name(layout: WeightsLayout) -> &'static str {
	match layout {
		WeightsLayout::File => "file",
		WeightsLayout::Directory => "directory",
	}
}

/// Parts per billion as a percentage (`2.5%`).
fn percent(per_billion: u32) -> String {
	format!("{}%", per_billion as f64 / 10_000_000.0)
}

async fn model_list(node: &Node, json_out: bool) -> anyhow::Result<Value> {
	let models =
		every_page(|after| async move { node.models(after.as_deref(), None).await }, |m| &m.name)
			.await?;
	if !json_out {
		print_names_and_versions(
			"models",
			models.iter().map(|m| (&m.name, m.versions.iter().map(|v| v.version.to_string()))),
		);
	}
	Ok(json!({ "models": models }))
}

async fn model_show(node: &Node, name: &str, json_out: bool) -> anyhow::Result<Value> {
	let model = node
		.model(name)
		.await?
		.ok_or_else(|| fail(Kind::BadInput, format!("no model named {name:?}")))?;
	if !json_out {
		println!("model {}: owned by {}, {} held", model.name, model.owner, lily(model.deposit));
		for v in &model.versions {
			let w = &v.weights;
			println!(
				"  {}  {} {}, {} bytes, blake3 {}",
				v.version,
				w.format.extension(),
				layout_name(w.layout),
				w.size,
				hex::encode(w.digest)
			);
			let parent = v.parent.as_ref().map_or(String::new(), |p| format!("; derived from {p}"));
			println!(
				"      licence {}; royalty {} ({} with its lineage){parent}",
				v.licence,
				percent(v.royalty_per_billion),
				percent(v.lineage_royalty_per_billion)
			);
			println!(
				"      needed by {} module versions; {} unsettled jobs; {} derived versions",
				v.modules, v.active_jobs, v.forks
			);
		}
	}
	Ok(serde_json::to_value(&model)?)
}

fn account_new(name: &str, json_out: bool) -> anyhow::Result<Value> {
	if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
		return Err(fail(
			Kind::BadInput,
			format!("{name:?} is not a key name (letters, digits, - and _)"),
		));
	}
	let path = signer::key_path(name);
	if path.exists() {
		return Err(fail(
			Kind::BadInput,
			format!("a key named {name:?} already exists ({})", path.display()),
		));
	}
	let key = lilypad_client::keys::create(&path)?;
	let account = AccountId32::from(key.public_key());
	if !json_out {
		println!(
			"created key {name:?}: account {account}\n  secret seed in {} (keep it safe)",
			path.display()
		);
	}
	Ok(json!({ "name": name, "account": account.to_string(), "path": path.display().to_string() }))
}

async fn balance(node: &Node, who: &AccountId32, json_out: bool) -> anyhow::Result<Value> {
	let (free, reserved) = node.balance(who).await?;
	if !json_out {
		println!("{who}\n  free: {}\n  held: {}", lily(free), lily(reserved));
	}
	Ok(
		json!({ "account": who.to_string(), "free": free.to_string(), "reserved": reserved.to_string(), "held": reserved.to_string() }),
	)
}

async fn transfer(
	node: &Node,
	signer: &Signer,
	to: &str,
	amount: &str,
	json_out: bool,
) -> anyhow::Result<Value> {
	let dest = parse_account(to)?;
	let value = parse_lily(amount).map_err(|e| fail(Kind::BadInput, format!("amount: {e}")))?;
	let spendable = node.spendable(&signer.account).await?;
	if spendable < value {
		return Err(fail(
			Kind::Funds,
			format!(
				"insufficient balance: {} can spend {}, not {}",
				signer.account,
				lily(spendable),
				lily(value)
			),
		));
	}
	let call = lilypad::transactions().balances().transfer_keep_alive(dest.into(), value);
	let included = node.submit(&call, &signer.key, "transfer").await?;
	if !json_out {
		println!("sent {} to {dest} (fee {})", lily(value), lily(included.fee));
	}
	Ok(
		json!({ "from": signer.account.to_string(), "to": dest.to_string(), "amount": value.to_string(), "tx_fees": included.fee.to_string() }),
	)
}

async fn provider_status(node: &Node, who: &AccountId32, json_out: bool) -> anyhow::Result<Value> {
	let info = node.provider(who).await?.ok_or_else(|| {
		fail(Kind::BadInput, format!("{who} has no offer: it is not a resource provider"))
	})?;
	if !json_out {
		let status = serde_json::to_value(info.status)?;
		println!("provider {who}: {}", status.as_str().unwrap_or("?"));
		println!(
			"  running {} of {} jobs; last heartbeat #{}",
			info.active_jobs, info.capacity, info.last_heartbeat
		);
		println!("  asks {} per job; store {}", lily(info.default_price), info.endpoint);
		let (bonded, in_use) = info.bond.as_ref().map_or((0, 0), |b| (b.bonded, b.in_use));
		println!("  collateral bonded {} ({} in use)", lily(bonded), lily(in_use));
	}
	Ok(serde_json::to_value(&info)?)
}

async fn dev_init(
	node: &Node,
	signer: &Signer,
	window: u32,
	bond: &str,
	json_out: bool,
) -> anyhow::Result<Value> {
	use lilypad::runtime_types::{
		lilypad_runtime::{
			configs::{dynamic_params::protocol, RuntimeParameters},
			RuntimeCall,
		},
		pallet_parameters::pallet::Call as ParametersCall,
	};
	if node.chain_type().await? != "Development" {
		return Err(fail(
			Kind::BadInput,
			"`lilypad dev init` is for dev chains (lilypad-node --dev) only",
		));
	}
	let bond = parse_lily(bond).map_err(|e| fail(Kind::BadInput, format!("--solver-bond: {e}")))?;
	let set = RuntimeCall::Parameters(ParametersCall::set_parameter {
		key_value: RuntimeParameters::Protocol(protocol::Parameters::ChallengeWindow(
			protocol::ChallengeWindow,
			Some(window),
		)),
	});
	let included = node
		.submit(&lilypad::transactions().sudo().sudo(set), &signer.key, "sudo set_parameter")
		.await?;
	let sudid = included
		.events
		.find_first::<lilypad::sudo::events::Sudid>()
		.transpose()?
		.context("no Sudid event")?;
	if let Err(e) = sudid.sudo_result {
		return Err(fail(
			Kind::Refused,
			format!(
				"setting the challenge window failed: {e:?} (is {} the sudo key?)",
				signer.account
			),
		));
	}
	let mut fees = included.fee;
	use lilypad::runtime_types::lilypad_primitives::{identity::Role as R, providers::BondKind};
	if !node.has_role(&signer.account, Role::Solver).await? {
		fees += node
			.submit(
				&lilypad::transactions().identity().register_role(R::Solver),
				&signer.key,
				"register_role",
			)
			.await?
			.fee;
	}
	let bonded =
		node.bonded(&signer.account, lilypad_primitives::providers::BondKind::Solver).await?;
	if bonded < bond {
		fees += node
			.submit(
				&lilypad::transactions().providers().bond(BondKind::Solver, bond - bonded),
				&signer.key,
				"bond",
			)
			.await?
			.fee;
	}
	if !json_out {
		println!(
			"dev chain ready: challenge window {window} blocks; {} is a solver with {} staked",
			signer.account,
			lily(bond.max(bonded))
		);
	}
	Ok(
		json!({ "challenge_window": window, "solver": signer.account.to_string(), "solver_bond": bond.max(bonded).to_string(), "tx_fees": fees.to_string() }),
	)
}
