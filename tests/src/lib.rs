//! # Lilypad end-to-end test support
//!
//! Starts real `lilypad-node` processes on free ports and talks to them over JSON-RPC.
//!
//! The node binary is built (or found up to date) with `cargo build --workspace --bins` and located
//! through `cargo metadata`, so a test never runs a stale binary from another target directory.
//! Every child process is killed when its handle drops, and the kernel kills it if the test
//! process dies first (`PR_SET_PDEATHSIG`), so no node outlives its test.

use std::{
	io::{BufRead, BufReader},
	net::TcpListener,
	os::unix::process::CommandExt,
	path::{Path, PathBuf},
	process::{Child, Command, Stdio},
	sync::OnceLock,
	time::{Duration, Instant},
};

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
fn cargo() -> Command {
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

/// Builds `lilypad-node` (a no-op when it is up to date) and returns the binary's path, found
/// through `cargo metadata`'s target directory. Built once per test process.
pub fn node_binary() -> PathBuf {
	static BINARY: OnceLock<PathBuf> = OnceLock::new();
	BINARY
		.get_or_init(|| {
			let status = cargo()
				// The same command as scripts/test.sh and scripts/dev.sh: `-p lilypad-node` would
				// resolve features differently and rebuild much of the client.
				.args(["build", "--workspace", "--bins"])
				.status()
				.expect("cargo runs");
			assert!(status.success(), "building lilypad-node failed");
			let out = cargo()
				.args(["metadata", "--format-version", "1", "--no-deps"])
				.output()
				.expect("cargo metadata runs");
			assert!(out.status.success(), "cargo metadata failed");
			let meta: serde_json::Value =
				serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON");
			let target = meta["target_directory"].as_str().expect("metadata has target_directory");
			let bin = Path::new(target).join("debug").join("lilypad-node");
			assert!(bin.exists(), "{} missing after build", bin.display());
			bin
		})
		.clone()
}

/// A TCP port nobody listens on right now.
pub fn free_port() -> u16 {
	TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("bind port 0").port()
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
	pub fn spawn(name: &str, args: &[&str]) -> Node {
		let rpc_port = free_port();
		let p2p_port = free_port();
		let log = std::env::temp_dir()
			.join(format!("lilypad-{name}-{}-{rpc_port}.log", std::process::id()));
		let log_file = std::fs::File::create(&log).expect("create node log");
		let mut cmd = Command::new(node_binary());
		cmd.args(args)
			.args(["--rpc-port", &rpc_port.to_string(), "--port", &p2p_port.to_string()])
			.args(["--no-prometheus", "--no-telemetry", "--no-mdns"])
			.stdin(Stdio::null())
			.stdout(log_file.try_clone().expect("clone log handle"))
			.stderr(log_file);
		// SAFETY: prctl is async-signal-safe; it only asks the kernel to kill the child when
		// the test process dies, so an aborted test leaves no node behind.
		unsafe {
			cmd.pre_exec(|| {
				if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
					return Err(std::io::Error::last_os_error());
				}
				Ok(())
			});
		}
		let child = cmd.spawn().expect("spawn lilypad-node");
		Node { child, log, rpc_port }
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
		let file = match std::fs::File::open(&self.log) {
			Ok(f) => f,
			Err(e) => return format!("(no log: {e})"),
		};
		let all: Vec<String> = BufReader::new(file).lines().map_while(Result::ok).collect();
		all[all.len().saturating_sub(lines)..].join("\n")
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
