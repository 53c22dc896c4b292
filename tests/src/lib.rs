//! # Lilypad end-to-end test support
//!
//! Starts real `lilypad-node` processes on free ports and talks to them over JSON-RPC.
//!
//! `scripts/test.sh` builds everything once before the tests start and hands the paths over in
//! environment variables (`LILYPAD_BIN_DIR`, `LILYPAD_MODULES_DIR`, `LILYPAD_IMAGES_DIR`,
//! `LILYPAD_PREVIOUS_RUNTIME`): nextest runs each test in a process of its own, which would
//! otherwise build them again. Without them (a test run by hand) a test builds what it needs,
//! under a lock, in the target directory `cargo metadata` names, so it never runs a stale
//! binary from another one.
//! Every child process is killed when its handle drops, and the kernel kills it if the test
//! process dies first (`PR_SET_PDEATHSIG`), so no node outlives its test.

use std::{
	collections::{BTreeMap, BTreeSet},
	ffi::OsStr,
	io::{BufRead, BufReader},
	net::TcpListener,
	os::unix::process::CommandExt,
	path::{Path, PathBuf},
	process::{Child, Command, Stdio},
	sync::{
		atomic::{AtomicU32, Ordering},
		Mutex, OnceLock,
	},
	time::{Duration, Instant},
};

pub mod cli;
pub mod echo;
pub mod rp;

use subxt::{
	config::RpcConfigFor,
	rpcs::{methods::LegacyRpcMethods, RpcClient},
	SubstrateConfig,
};

/// The workspace root (parent of this crate).
pub fn workspace_root() -> PathBuf {
	Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is inside the workspace").into()
}

/// A `cargo` command for the workspace, without the variables `cargo test` sets for test
/// binaries (`CARGO_PKG_NAME`, `OUT_DIR`...): build scripts such as ring's declare
/// `rerun-if-env-changed` on them, so passing them on would rebuild half the client here and
/// again in the next ordinary build.
pub(crate) fn cargo() -> Command {
	const KEEP: [&str; 6] = [
		"CARGO_HOME",
		"CARGO_TARGET_DIR",
		"CARGO_BUILD_",
		"CARGO_NET_",
		"CARGO_REGISTR",
		"CARGO_TERM_",
	];
	let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
	for (key, _) in std::env::vars_os() {
		let key = key.to_string_lossy();
		let from_cargo = key.starts_with("CARGO") && !KEEP.iter().any(|k| key.starts_with(k));
		if from_cargo || key == "OUT_DIR" {
			cmd.env_remove(key.as_ref());
		}
	}
	cmd.current_dir(workspace_root());
	cmd
}

/// The path in environment variable `var`, where `scripts/test.sh` hands over what it built
/// before the tests started (one build for every test process), or, when a developer runs a
/// test by hand without it, what `build` makes. A path handed over must exist.
pub fn built(var: &str, build: impl FnOnce() -> PathBuf) -> PathBuf {
	match std::env::var_os(var) {
		Some(path) => {
			let path = PathBuf::from(path);
			assert!(path.exists(), "{var}={} does not exist", path.display());
			path
		}
		None => build(),
	}
}

/// Runs `f` holding an exclusive lock on a file in the target directory, so that test
/// processes running at once (nextest runs one per test) never build into the same place
/// together nor read what another is rewriting.
pub fn exclusively<T>(f: impl FnOnce() -> T) -> T {
	let target = target_dir();
	std::fs::create_dir_all(&target).expect("create the target directory");
	let lock = std::fs::File::create(target.join("lilypad-e2e-build.lock")).expect("lock file");
	lock.lock().expect("lock the build");
	let out = f();
	let _ = lock.unlock();
	out
}

/// The workspace's target directory, from `cargo metadata`.
pub fn target_dir() -> PathBuf {
	static TARGET: OnceLock<PathBuf> = OnceLock::new();
	TARGET
		.get_or_init(|| {
			let out = cargo()
				.args(["metadata", "--format-version", "1", "--no-deps"])
				.output()
				.expect("cargo metadata runs");
			assert!(out.status.success(), "cargo metadata failed");
			let meta: serde_json::Value =
				serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON");
			meta["target_directory"].as_str().expect("metadata has target_directory").into()
		})
		.clone()
}

/// The directory holding `lilypad-node`, `lilypad-rp` and `lilypad`: `$LILYPAD_BIN_DIR`, or
/// built (a no-op when up to date) with the same command as `scripts/test.sh`, once per
/// process.
pub fn bin_dir() -> PathBuf {
	static DIR: OnceLock<PathBuf> = OnceLock::new();
	DIR.get_or_init(|| {
		built("LILYPAD_BIN_DIR", || {
			exclusively(|| {
				let status = cargo()
					// `-p lilypad-node`, or leaving out `--tests`, would resolve features
					// differently from the test build, and relink the node (minutes) on every
					// switch.
					.args(["build", "--workspace", "--bins", "--tests"])
					.status()
					.expect("cargo runs");
				assert!(status.success(), "building lilypad-node failed");
			});
			target_dir().join("debug")
		})
	})
	.clone()
}

/// The `lilypad-node` binary (see [`bin_dir`]).
pub fn node_binary() -> PathBuf {
	let bin = bin_dir().join("lilypad-node");
	assert!(bin.exists(), "{} missing", bin.display());
	bin
}

/// A TCP port nobody listens on right now, never handed out before by this process, and
/// never handed to another test running at the same time.
///
/// nextest numbers the tests running at once (`NEXTEST_TEST_GLOBAL_SLOT`, from 0); each slot
/// draws from a block of its own below the kernel's ephemeral range (32768 and up, where
/// `bind(0)` and outgoing connections take theirs), so parallel tests never collide. Two nodes
/// told the same p2p port fail to start ("the same bootnode is registered with two different
/// peer ids"). Outside nextest (one process, `cargo test`), the kernel picks.
pub fn free_port() -> u16 {
	const FIRST: u32 = 10_000;
	const PER_SLOT: u32 = 200;
	static GIVEN: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
	static NEXT: AtomicU32 = AtomicU32::new(0);
	let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
	let slot = std::env::var("NEXTEST_TEST_GLOBAL_SLOT").ok().and_then(|s| s.parse::<u32>().ok());
	loop {
		let port = match slot {
			Some(slot) => {
				let n = NEXT.fetch_add(1, Ordering::Relaxed);
				assert!(n < PER_SLOT, "test slot {slot} used all its {PER_SLOT} ports");
				let port = FIRST + slot * PER_SLOT + n;
				assert!(port < 32_768, "test slot {slot} is past the ports set aside for tests");
				// Skip a port some other program holds.
				match TcpListener::bind(("127.0.0.1", port as u16)) {
					Ok(_) => port as u16,
					Err(_) => continue,
				}
			}
			None => TcpListener::bind("127.0.0.1:0")
				.and_then(|l| l.local_addr())
				.expect("bind port 0")
				.port(),
		};
		if given.insert(port) {
			return port;
		}
	}
}

/// Spawns `cmd` with its stdout and stderr going to a fresh log file named after `name`;
/// the kernel kills it if the test process dies first.
pub fn spawn_logged(mut cmd: Command, name: &str) -> (Child, PathBuf) {
	static STARTS: AtomicU32 = AtomicU32::new(0);
	let start = STARTS.fetch_add(1, Ordering::Relaxed);
	let log =
		std::env::temp_dir().join(format!("lilypad-{name}-{}-{start}.log", std::process::id()));
	let log_file = std::fs::File::create(&log).expect("create log");
	cmd.stdin(Stdio::null())
		.stdout(log_file.try_clone().expect("clone log handle"))
		.stderr(log_file);
	// SAFETY: prctl is async-signal-safe; it only asks the kernel to kill the child when
	// the test process dies, so an aborted test leaves no process behind.
	unsafe {
		cmd.pre_exec(|| {
			if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
				return Err(std::io::Error::last_os_error());
			}
			Ok(())
		});
	}
	let child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {name}: {e}"));
	(child, log)
}

/// The last `lines` lines of the log at `path`.
pub fn log_tail(path: &Path, lines: usize) -> String {
	let file = match std::fs::File::open(path) {
		Ok(f) => f,
		Err(e) => return format!("(no log: {e})"),
	};
	let all: Vec<String> = BufReader::new(file).lines().map_while(Result::ok).collect();
	all[all.len().saturating_sub(lines)..].join("\n")
}

/// A running `lilypad-node`, killed on drop.
pub struct Node {
	child: Child,
	/// Where the node's stdout and stderr go.
	pub log: PathBuf,
	/// JSON-RPC port (WebSocket and HTTP).
	pub rpc_port: u16,
}

impl Node {
	/// Starts `lilypad-node` with `args` plus free RPC and p2p ports and no Prometheus,
	/// telemetry or mDNS (so parallel test nodes do not find each other).
	pub fn spawn(name: &str, args: &[impl AsRef<OsStr>]) -> Node {
		Self::spawn_on(name, args, free_port(), free_port())
	}

	/// Like [`Node::spawn`], on the given ports (a restarted node keeps its p2p address).
	pub fn spawn_on(name: &str, args: &[impl AsRef<OsStr>], rpc_port: u16, p2p_port: u16) -> Node {
		let mut cmd = Command::new(node_binary());
		cmd.args(args)
			.args(["--rpc-port", &rpc_port.to_string(), "--port", &p2p_port.to_string()])
			.args(["--no-prometheus", "--no-telemetry", "--no-mdns"]);
		let (child, log) = spawn_logged(cmd, name);
		Node { child, log, rpc_port }
	}

	/// Kills the node and waits for it to exit.
	pub fn kill(mut self) {
		let _ = self.child.kill();
		let _ = self.child.wait();
	}

	/// The node's process id.
	pub fn pid(&self) -> u32 {
		self.child.id()
	}

	/// `ws://` URL of the node's JSON-RPC server.
	pub fn ws_url(&self) -> String {
		format!("ws://127.0.0.1:{}", self.rpc_port)
	}

	/// The last `lines` lines of the node's log.
	pub fn log_tail(&self, lines: usize) -> String {
		log_tail(&self.log, lines)
	}

	/// Panics with the log when the node has exited.
	pub fn assert_running(&mut self) {
		if let Ok(Some(status)) = self.child.try_wait() {
			panic!("lilypad-node exited ({status}); last log lines:\n{}", self.log_tail(60));
		}
	}

	/// Waits until the node answers JSON-RPC and has finalized block `n`; returns an RPC client.
	/// Fails with the node's log if it exits or `timeout` passes.
	pub async fn wait_for_finalized(&mut self, n: u64, timeout: Duration) -> RpcClient {
		let start = Instant::now();
		let mut client = None;
		loop {
			self.assert_running();
			if start.elapsed() > timeout {
				panic!(
					"lilypad-node did not finalize block {n} within {timeout:?}; last log lines:\n{}",
					self.log_tail(60)
				);
			}
			if client.is_none() {
				client = RpcClient::from_insecure_url(self.ws_url()).await.ok();
			}
			if let Some(rpc) = &client {
				if let Ok(Some(number)) = finalized_number(rpc).await {
					if number >= n {
						return rpc.clone();
					}
				}
			}
			tokio::time::sleep(Duration::from_millis(250)).await;
		}
	}
}

impl Drop for Node {
	fn drop(&mut self) {
		let _ = self.child.kill();
		let _ = self.child.wait();
	}
}

/// Legacy JSON-RPC methods (`chain_*`, `system_*`) over `rpc`.
pub fn legacy(rpc: &RpcClient) -> LegacyRpcMethods<RpcConfigFor<SubstrateConfig>> {
	LegacyRpcMethods::new(rpc.clone())
}

/// Number of the node's last finalized block.
pub async fn finalized_number(rpc: &RpcClient) -> Result<Option<u64>, subxt::rpcs::Error> {
	let methods = legacy(rpc);
	let hash = methods.chain_get_finalized_head().await?;
	Ok(methods.chain_get_header(Some(hash)).await?.map(|h| h.number))
}

/// Number of the node's best block.
pub async fn best_number(rpc: &RpcClient) -> Result<Option<u64>, subxt::rpcs::Error> {
	Ok(legacy(rpc).chain_get_header(None).await?.map(|h| h.number))
}

/// Polls `rpc` until its finalized block reaches `n`; panics (naming `what`) after `timeout`.
pub async fn wait_until_finalized(rpc: &RpcClient, n: u64, timeout: Duration, what: &str) -> u64 {
	let start = Instant::now();
	loop {
		if let Ok(Some(f)) = finalized_number(rpc).await {
			if f >= n {
				return f;
			}
		}
		assert!(start.elapsed() < timeout, "{what}: block {n} not finalized within {timeout:?}");
		tokio::time::sleep(Duration::from_millis(200)).await;
	}
}

/// Signs `call` with `signer`, submits it, waits until it is finalized and returns its events,
/// or the dispatch error (`Debug` and `Display`, so a test can look for the error's name).
pub async fn submit_finalized<Call: subxt::transactions::Payload>(
	api: &subxt::OnlineClient<SubstrateConfig>,
	call: &Call,
	signer: &subxt_signer::sr25519::Keypair,
) -> Result<subxt::extrinsics::ExtrinsicEvents<SubstrateConfig>, String> {
	lilypad_client::chain::submit(api, call, signer)
		.await
		.map(|included| included.events)
		.map_err(|e| format!("{e:?} / {e}"))
}

/// Polls `rpc` until its best block reaches `n`; panics (naming `what`) after `timeout`.
pub async fn wait_until_best(rpc: &RpcClient, n: u64, timeout: Duration, what: &str) -> u64 {
	let start = Instant::now();
	loop {
		if let Ok(Some(b)) = best_number(rpc).await {
			if b >= n {
				return b;
			}
		}
		assert!(start.elapsed() < timeout, "{what}: no best block {n} within {timeout:?}");
		tokio::time::sleep(Duration::from_millis(200)).await;
	}
}

/// Writes a new libp2p node key (hex) to `path` and returns its peer id, with the node's own
/// `key generate-node-key` / `key inspect-node-key`.
pub fn generate_node_key(path: &Path) -> String {
	let node = node_binary();
	let status = Command::new(&node)
		.args(["key", "generate-node-key", "--file"])
		.arg(path)
		.stderr(Stdio::null())
		.status()
		.expect("run key generate-node-key");
	assert!(status.success(), "key generate-node-key failed");
	let out = Command::new(&node)
		.args(["key", "inspect-node-key", "--file"])
		.arg(path)
		.output()
		.expect("run key inspect-node-key");
	assert!(out.status.success(), "key inspect-node-key failed");
	String::from_utf8(out.stdout).expect("peer id is UTF-8").trim().to_string()
}

/// Finality as seen by one node while it follows `blocks` more finalized blocks.
#[derive(Debug)]
pub struct FinalityFigures {
	/// Milliseconds from a block's import (as best block) to its finalization.
	pub import_to_final_ms: Vec<f64>,
	/// Best minus finalized block number, at each new best block.
	pub lag_blocks: Vec<f64>,
	/// Milliseconds between consecutive best blocks.
	pub intervals_ms: Vec<f64>,
}

/// Follows best and finalized heads on `rpc` until `blocks` more blocks are finalized.
pub async fn measure_finality(rpc: &RpcClient, blocks: u64) -> FinalityFigures {
	let methods = legacy(rpc);
	let mut best = methods.chain_subscribe_new_heads().await.expect("subscribe best heads");
	let mut finalized =
		methods.chain_subscribe_finalized_heads().await.expect("subscribe finalized heads");
	let mut imported: BTreeMap<u64, Instant> = BTreeMap::new();
	let mut final_at: BTreeMap<u64, Instant> = BTreeMap::new();
	let mut lag_blocks = Vec::new();
	let mut last_final = finalized_number(rpc).await.expect("rpc").unwrap_or(0);
	let target = last_final + blocks;
	let first_final = last_final;
	while last_final < target {
		tokio::select! {
			Some(h) = best.next() => {
				let n = h.expect("best head").number;
				imported.entry(n).or_insert_with(Instant::now);
				lag_blocks.push(n.saturating_sub(last_final) as f64);
			}
			Some(h) = finalized.next() => {
				let n = h.expect("finalized head").number;
				let now = Instant::now();
				for k in last_final + 1..=n { final_at.entry(k).or_insert(now); }
				last_final = last_final.max(n);
			}
		}
	}
	let import_to_final_ms = final_at
		.iter()
		.filter(|(n, _)| **n > first_final)
		.filter_map(|(n, tf)| {
			imported.get(n).map(|ti| tf.duration_since(*ti).as_secs_f64() * 1000.0)
		})
		.collect();
	let intervals_ms = imported
		.iter()
		.zip(imported.iter().skip(1))
		.filter(|((a, _), (b, _))| **b == **a + 1)
		.map(|((_, ta), (_, tb))| tb.duration_since(*ta).as_secs_f64() * 1000.0)
		.collect();
	FinalityFigures { import_to_final_ms, lag_blocks, intervals_ms }
}

/// `name: n=.. median=.. p95=.. min=.. max=..` of `xs`.
pub fn summary(name: &str, unit: &str, mut xs: Vec<f64>) -> String {
	if xs.is_empty() {
		return format!("{name}: no samples");
	}
	xs.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
	let at = |p: f64| xs[((xs.len() as f64 - 1.0) * p).round() as usize];
	format!(
		"{name}: n={} median={:.0}{unit} p95={:.0}{unit} min={:.0}{unit} max={:.0}{unit}",
		xs.len(),
		at(0.5),
		at(0.95),
		xs[0],
		xs[xs.len() - 1]
	)
}

/// The four validators of `--chain local` on this machine, each with its own base path, node
/// key and ports, the others as bootnodes (what `chain-spec/local-network.sh` does by hand).
pub struct LocalNetwork {
	dir: PathBuf,
	validators: Vec<LocalValidator>,
	/// The validator that can be cut off from the others ([`LocalNetwork::isolate`]).
	isolatable: Option<usize>,
}

struct LocalValidator {
	name: &'static str,
	rpc_port: u16,
	p2p_port: u16,
	peer_id: String,
	node: Option<Node>,
}

impl LocalNetwork {
	/// The validators, in the order of the `local_testnet` preset.
	pub const NAMES: [&'static str; 4] = ["alice", "bob", "charlie", "dave"];

	/// Starts all four validators with base paths under `dir` (created; removed on drop).
	pub fn start(dir: &Path) -> LocalNetwork {
		Self::start_with(dir, None, Self::NAMES.len())
	}

	/// Starts the first `count` validators (a chain of four with fewer running); validator
	/// `isolatable`, if any, peers only with the nodes it is told to (`--reserved-only`, with
	/// no slots for others) and takes unsafe RPC calls, so that [`LocalNetwork::isolate`] can
	/// cut it off.
	pub fn start_with(dir: &Path, isolatable: Option<usize>, count: usize) -> LocalNetwork {
		std::fs::create_dir_all(dir).expect("create network dir");
		let validators = Self::NAMES
			.iter()
			.map(|name| {
				let base = dir.join(name);
				std::fs::create_dir_all(&base).expect("create base path");
				let peer_id = generate_node_key(&base.join("node-key"));
				LocalValidator {
					name,
					rpc_port: free_port(),
					p2p_port: free_port(),
					peer_id,
					node: None,
				}
			})
			.collect();
		let mut net = LocalNetwork { dir: dir.to_path_buf(), validators, isolatable };
		for i in 0..count {
			net.restart(i);
		}
		net
	}

	/// Validator `i`'s p2p address.
	pub fn multiaddr(&self, i: usize) -> String {
		let v = &self.validators[i];
		format!("/ip4/127.0.0.1/tcp/{}/p2p/{}", v.p2p_port, v.peer_id)
	}

	/// Cuts the isolatable validator off from every other node; returns once it has no peer.
	pub async fn isolate(&mut self, timeout: Duration) {
		let i = self.isolatable.expect("an isolatable validator");
		let rpc =
			RpcClient::from_insecure_url(self.node(i).ws_url()).await.expect("the validator's RPC");
		for j in (0..self.validators.len()).filter(|j| *j != i) {
			let peer = self.validators[j].peer_id.clone();
			let _: serde_json::Value = rpc
				.request("system_removeReservedPeer", subxt::rpcs::rpc_params![peer])
				.await
				.expect("system_removeReservedPeer");
		}
		self.wait_for_peers(i, |n| n == 0, timeout, "cut off").await;
	}

	/// Connects the isolated validator to the others again; returns once it has a peer.
	pub async fn rejoin(&mut self, timeout: Duration) {
		let i = self.isolatable.expect("an isolatable validator");
		let rpc =
			RpcClient::from_insecure_url(self.node(i).ws_url()).await.expect("the validator's RPC");
		for j in (0..self.validators.len()).filter(|j| *j != i) {
			let _: serde_json::Value = rpc
				.request("system_addReservedPeer", subxt::rpcs::rpc_params![self.multiaddr(j)])
				.await
				.expect("system_addReservedPeer");
		}
		self.wait_for_peers(i, |n| n > 0, timeout, "rejoined").await;
	}

	async fn wait_for_peers(
		&mut self,
		i: usize,
		ok: impl Fn(u64) -> bool,
		timeout: Duration,
		what: &str,
	) {
		let rpc =
			RpcClient::from_insecure_url(self.node(i).ws_url()).await.expect("the validator's RPC");
		let start = std::time::Instant::now();
		loop {
			let health: serde_json::Value = rpc
				.request("system_health", subxt::rpcs::rpc_params![])
				.await
				.expect("system_health");
			if ok(health["peers"].as_u64().unwrap_or(0)) {
				return;
			}
			assert!(
				start.elapsed() < timeout,
				"validator {i} not {what} within {timeout:?}: {health}"
			);
			tokio::time::sleep(Duration::from_millis(200)).await;
		}
	}

	fn args(&self, i: usize) -> Vec<String> {
		let v = &self.validators[i];
		let base = self.dir.join(v.name);
		let mut args: Vec<String> = vec![
			"--chain".into(),
			"local".into(),
			"--validator".into(),
			format!("--{}", v.name),
			"--base-path".into(),
			base.display().to_string(),
			"--node-key-file".into(),
			base.join("node-key").display().to_string(),
			"--name".into(),
			v.name.into(),
		];
		let peers = if self.isolatable == Some(i) {
			// No slots for non-reserved peers: litep2p drops a peer removed from the reserved
			// set only when no slot can take it (`system_removeReservedPeer` ignores
			// `--reserved-only` there).
			for flag in
				["--reserved-only", "--in-peers", "0", "--in-peers-light", "0", "--out-peers", "0"]
			{
				args.push(flag.into());
			}
			// Cut off, it goes on authoring its own fork: a validator with no peers skips its
			// slots unless forced.
			args.extend(["--force-authoring".into(), "--rpc-methods".into(), "unsafe".into()]);
			"--reserved-nodes"
		} else {
			"--bootnodes"
		};
		for j in (0..self.validators.len()).filter(|j| *j != i) {
			args.push(peers.into());
			args.push(self.multiaddr(j));
		}
		args
	}

	/// Starts validator `i` (again), on its old base path and ports.
	pub fn restart(&mut self, i: usize) {
		assert!(self.validators[i].node.is_none(), "validator {i} is running");
		let args = self.args(i);
		let v = &mut self.validators[i];
		v.node = Some(Node::spawn_on(v.name, &args, v.rpc_port, v.p2p_port));
	}

	/// Kills validator `i`.
	pub fn stop(&mut self, i: usize) {
		if let Some(node) = self.validators[i].node.take() {
			node.kill();
		}
	}

	/// Validator `i`'s node; panics when it is stopped.
	pub fn node(&mut self, i: usize) -> &mut Node {
		self.validators[i].node.as_mut().expect("validator is running")
	}
}

impl Drop for LocalNetwork {
	fn drop(&mut self) {
		for i in 0..self.validators.len() {
			self.stop(i);
		}
		let _ = std::fs::remove_dir_all(&self.dir);
	}
}
