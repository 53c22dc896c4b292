//! `lilypad-rp` processes and the example modules (WASM, and Docker images), for the agent's
//! end-to-end tests.
use std::{
	path::{Path, PathBuf},
	process::{Child, Command},
	sync::OnceLock,
	time::{Duration, Instant},
};

use lilypad_client::content::digest_of;
use lilypad_primitives::{
	jobs::JobInputs,
	registry::{
		Artifact, Delivery, InputParam, ModuleName, ModuleRef, ParamType, Resources, SemVer,
		VerificationPolicy, VersionManifest,
	},
};
use lilypad_rp::{
	executor::{Limits, Outcome, Request},
	wasm::{Module, WasmExecutor},
};
use polkadot_sdk::sp_runtime::Perbill;
use subxt::{rpcs::RpcClient, OnlineClient, SubstrateConfig};

use crate::{bin_dir, exclusively, log_tail, spawn_logged};

/// The `lilypad-rp` binary (see [`bin_dir`]).
pub fn agent_binary() -> PathBuf {
	bin_dir().join("lilypad-rp")
}

/// The example module `name` (`cowsay`, `numeric`) from `modules/`, built for `wasm32-wasip1`
/// by `scripts/build-modules.sh`: in `$LILYPAD_MODULES_DIR`, or built once per test process.
pub fn example_module(name: &str) -> Vec<u8> {
	static DIR: OnceLock<PathBuf> = OnceLock::new();
	let (var, out_var) = ("LILYPAD_MODULES_DIR", "LILYPAD_MODULES_OUT");
	let dir = built_by_script(&DIR, var, "build-modules.sh", out_var, "modules");
	read_built(var, &dir.join(format!("{name}.wasm")))
}

/// The model packages `scripts/setup-models.sh` makes, `<dir>/<model name>/` (a
/// `lilypad-model.toml` beside its GGUF): in `$LILYPAD_MODEL_PACKAGES`, or set up once per test
/// process.
pub fn model_packages() -> &'static Path {
	static DIR: OnceLock<PathBuf> = OnceLock::new();
	DIR.get_or_init(|| {
		crate::built("LILYPAD_MODEL_PACKAGES", || {
			exclusively(|| {
				let out = Command::new("bash")
					.arg(crate::workspace_root().join("scripts/setup-models.sh"))
					.output()
					.expect("bash runs");
				assert!(
					out.status.success(),
					"scripts/setup-models.sh failed:\n{}",
					String::from_utf8_lossy(&out.stderr)
				);
				let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
				let dir = stdout.lines().find_map(|l| l.strip_prefix("PACKAGES="));
				PathBuf::from(dir.expect("setup-models.sh names the packages' directory"))
			})
		})
	})
}

/// A provider's limits for running an example module directly: room to spare for every
/// module and test here.
pub const WASM_LIMITS: Limits = Limits {
	fuel: 100_000_000_000,
	wall: Duration::from_secs(120),
	memory_bytes: 64 << 20,
	output_bytes: 1 << 20,
	cpu_millicores: 1_000,
	pids: 1,
	gpus: 0,
};

/// Runs `module` in fresh directories as the agent runs a job, within [`WASM_LIMITS`];
/// returns its outcome and the digest of its output archive.
pub fn run_wasm(
	exec: &WasmExecutor,
	module: &Module,
	args: &[&str],
	env: &[(&str, &str)],
	seed: [u8; 32],
) -> (Outcome, [u8; 32]) {
	let dir = tempfile::tempdir().unwrap();
	let request = Request {
		args: args.iter().map(|s| s.to_string()).collect(),
		env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
		inputs: dir.path().join("in"),
		outputs: dir.path().join("out"),
		models: Vec::new(),
		seed,
		name: "test".into(),
		limits: WASM_LIMITS,
		stdout: None,
	};
	std::fs::create_dir_all(&request.inputs).unwrap();
	std::fs::create_dir_all(&request.outputs).unwrap();
	let outputs = request.outputs.clone();
	let outcome = exec.run_module(module, request).expect("the host side works");
	let archive = lilypad_rp::archive::canonical_archive(&outputs, 1 << 20).unwrap();
	(outcome, digest_of(&archive))
}

/// The directory `scripts/<script>` builds into: handed over in `var`, or `<target>/<name>`
/// made by running the script (its output directory in `out_var`) once per process, under the
/// build lock.
fn built_by_script(
	dir: &'static OnceLock<PathBuf>,
	var: &str,
	script: &str,
	out_var: &str,
	name: &str,
) -> &'static PathBuf {
	dir.get_or_init(|| {
		crate::built(var, || {
			let out = crate::target_dir().join(name);
			exclusively(|| {
				let status = Command::new("bash")
					.arg(crate::workspace_root().join("scripts").join(script))
					.env(out_var, &out)
					.status()
					.expect("bash runs");
				assert!(status.success(), "scripts/{script} failed (scripts/setup-toolchain.sh installs what it needs; the images need a Docker engine)");
			});
			out
		})
	})
}

/// The file at `path`, built by a script and handed over in `var` or built by this process;
/// in the second case read under the build lock, as another test process may be rebuilding it.
fn read_built(var: &str, path: &Path) -> Vec<u8> {
	let read = || std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
	match std::env::var_os(var) {
		Some(_) => read(),
		None => exclusively(read),
	}
}

/// An example module's Docker image, as `scripts/build-images.sh` saved it.
#[derive(Clone)]
pub struct Image {
	/// The `docker save` tarball.
	pub tarball: Vec<u8>,
	/// Its blake3: the module's `archive_digest`.
	pub archive: [u8; 32],
	/// The image's config digest (its id): the module's `config_digest`.
	pub config: [u8; 32],
}

/// The Docker image of example module `name` (`cowsay`, `numeric`, `model-probe`, `chat`,
/// `embed`, or the test-only `hostile`), built by `scripts/build-images.sh`: in
/// `$LILYPAD_IMAGES_DIR`, or built once per test process.
pub fn docker_image(name: &str) -> Image {
	static DIR: OnceLock<PathBuf> = OnceLock::new();
	let (var, out_var) = ("LILYPAD_IMAGES_DIR", "LILYPAD_IMAGES_OUT");
	let dir = built_by_script(&DIR, var, "build-images.sh", out_var, "images");
	let tarball = read_built(var, &dir.join(format!("{name}.tar")));
	let id = read_built(var, &dir.join(format!("{name}.id")));
	let id = String::from_utf8(id).expect("image id is UTF-8");
	let config = hex::decode(id.trim().trim_start_matches("sha256:")).expect("hex image id");
	Image { archive: digest_of(&tarball), config: config.try_into().expect("a sha256"), tarball }
}

/// A running `lilypad-rp`, killed on drop.
pub struct Agent {
	child: Option<Child>,
	/// Its stdout and stderr.
	pub log: PathBuf,
	/// Its content store's base URL.
	pub url: String,
	args: Vec<String>,
	name: String,
}

impl Agent {
	/// Starts `lilypad-rp` against `node` (a `ws://` URL), signing as `key_uri`, with its data
	/// under `data_dir`, its store on a free port, and `extra` flags.
	pub fn spawn(name: &str, node: &str, key_uri: &str, data_dir: &Path, extra: &[&str]) -> Agent {
		let port = crate::free_port();
		let mut args: Vec<String> = vec![
			"--node".into(),
			node.into(),
			"--key-uri".into(),
			key_uri.into(),
			"--data-dir".into(),
			data_dir.display().to_string(),
			"--listen".into(),
			format!("127.0.0.1:{port}"),
		];
		args.extend(extra.iter().map(|s| s.to_string()));
		let mut agent = Agent {
			child: None,
			log: PathBuf::new(),
			url: format!("http://127.0.0.1:{port}"),
			args,
			name: name.into(),
		};
		agent.start();
		agent
	}

	fn start(&mut self) {
		let mut cmd = Command::new(agent_binary());
		cmd.args(&self.args).env("RUST_LOG", "info,lilypad_rp=debug");
		let (child, log) = spawn_logged(cmd, &self.name);
		self.child = Some(child);
		self.log = log;
	}

	/// Kills it with SIGKILL, as a crash would, and waits for it to exit.
	pub fn kill(&mut self) {
		if let Some(mut child) = self.child.take() {
			let _ = child.kill();
			let _ = child.wait();
		}
	}

	/// Starts it again with the same flags and data (a new log file).
	pub fn restart(&mut self) {
		self.kill();
		self.start();
	}

	/// Its process id, while it runs.
	pub fn pid(&self) -> Option<u32> {
		self.child.as_ref().map(Child::id)
	}

	/// Its log so far.
	pub fn log_text(&self) -> String {
		std::fs::read_to_string(&self.log).unwrap_or_default()
	}

	/// Waits until its log has a line containing every one of `parts`; panics with the log if it
	/// exits or `timeout` passes.
	pub async fn wait_for_log(&mut self, parts: &[&str], timeout: Duration) {
		let start = Instant::now();
		loop {
			if self.log_text().lines().any(|l| parts.iter().all(|p| l.contains(p))) {
				return;
			}
			if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
				panic!("lilypad-rp exited ({status}):\n{}", log_tail(&self.log, 60));
			}
			assert!(
				start.elapsed() < timeout,
				"no log line with {parts:?} within {timeout:?}:\n{}",
				log_tail(&self.log, 60)
			);
			tokio::time::sleep(Duration::from_millis(200)).await;
		}
	}
}

impl Drop for Agent {
	fn drop(&mut self) {
		self.kill();
	}
}

/// `s` as a module name.
pub fn module_name(s: &str) -> ModuleName {
	s.as_bytes().to_vec().try_into().expect("a short name")
}

/// Version 0.1.0 of `module` running `artifact`, with one required input (name, type,
/// delivery): half a core, 64 MiB, a floor of 0.001 LILY, no verification.
pub fn version(
	module: &str,
	artifact: Artifact,
	input: (&str, ParamType, Delivery),
	timeout_secs: u32,
) -> VersionManifest<u128> {
	VersionManifest {
		module: module_name(module),
		version: SemVer::new(0, 1, 0),
		artifact,
		inputs: vec![InputParam {
			name: input.0.as_bytes().to_vec().try_into().unwrap(),
			kind: input.1,
			default: None,
			required: true,
			delivery: input.2,
		}]
		.try_into()
		.unwrap(),
		resources: Resources { cpu_millicores: 500, ram_mib: 64, ..Default::default() },
		timeout_secs,
		price_floor: crate::echo::MILLI,
		royalty: Perbill::zero(),
		verification: VerificationPolicy::None,
		parent: None,
		models: Default::default(),
	}
}

/// The artifact of a WASM module.
pub fn wasm_artifact(wasm: &[u8]) -> Artifact {
	Artifact::Wasm { digest: digest_of(wasm), size: wasm.len() as u64 }
}

/// The artifact of a Docker module.
pub fn docker_artifact(image: &Image) -> Artifact {
	Artifact::Docker { archive_digest: image.archive, config_digest: image.config }
}

/// Job inputs with one parameter.
pub fn inputs(param: &str, value: &str) -> JobInputs {
	JobInputs {
		params: vec![(
			param.as_bytes().to_vec().try_into().unwrap(),
			value.as_bytes().to_vec().try_into().unwrap(),
		)]
		.try_into()
		.unwrap(),
		blob: None,
	}
}

/// Charlie submits jobs on `(module, inputs)` (version 0.1.0) in one transaction, each paying
/// up to `max_price`; returns their ids.
pub async fn submit_jobs(
	api: &OnlineClient<SubstrateConfig>,
	rpc: &RpcClient,
	jobs: Vec<(&str, JobInputs)>,
	max_price: u128,
) -> Vec<u64> {
	let jobs = jobs
		.into_iter()
		.map(|(module, inputs)| {
			(ModuleRef { name: module_name(module), version: SemVer::new(0, 1, 0) }, inputs)
		})
		.collect();
	crate::echo::submit_batch(api, rpc, jobs, max_price).await
}
