//! The `lilypad` CLI as a user runs it: a real process, its exit code, stdout and stderr.
use std::{
	path::{Path, PathBuf},
	process::Command,
	time::{Duration, Instant},
};

use serde_json::Value;

use crate::bin_dir;

/// The `lilypad` binary (see [`bin_dir`]).
pub fn cli_binary() -> PathBuf {
	bin_dir().join("lilypad")
}

/// `lilypad` pointed at one node, with a keystore and a working directory of its own.
pub struct Cli {
	pub node: String,
	/// `LILYPAD_HOME`: where `account new` keeps keys.
	pub home: PathBuf,
	/// The working directory (outputs land in `lilypad-outputs/` under it).
	pub cwd: PathBuf,
}

/// What one run printed and how it ended.
#[derive(Debug)]
pub struct Output {
	pub code: i32,
	pub stdout: String,
	pub stderr: String,
	/// stdout parsed as JSON (`Null` without `--json`).
	pub json: Value,
	pub took: Duration,
}

impl Output {
	/// The error message of a `--json` run that failed.
	pub fn error(&self) -> &str {
		self.json["error"]["message"].as_str().unwrap_or_default()
	}
}

impl Cli {
	/// A CLI for `node` (a `ws://` URL) with its home and working directory under `dir`.
	pub fn new(node: &str, dir: &Path) -> Cli {
		let (home, cwd) = (dir.join("home"), dir.join("work"));
		std::fs::create_dir_all(&cwd).expect("create the working directory");
		Cli { node: node.into(), home, cwd }
	}

	/// Runs `lilypad --json args...` signing with `key`.
	pub fn json(&self, key: Option<&str>, args: &[&str]) -> Output {
		let mut all = vec!["--json"];
		all.extend_from_slice(args);
		let mut out = self.text(key, &all);
		out.json = serde_json::from_str(out.stdout.trim()).unwrap_or_else(|e| {
			panic!("lilypad {args:?} printed no JSON object ({e}):\n{}\n{}", out.stdout, out.stderr)
		});
		out
	}

	/// Runs `lilypad args...` signing with `key`, as text.
	pub fn text(&self, key: Option<&str>, args: &[&str]) -> Output {
		let mut cmd = Command::new(cli_binary());
		cmd.args(args)
			.current_dir(&self.cwd)
			.env("LILYPAD_NODE", &self.node)
			.env("LILYPAD_HOME", &self.home)
			.env_remove("LILYPAD_KEY");
		if let Some(key) = key {
			cmd.env("LILYPAD_KEY", key);
		}
		let start = Instant::now();
		let out = cmd.output().expect("run lilypad");
		Output {
			code: out.status.code().unwrap_or(-1),
			stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
			stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
			json: Value::Null,
			took: start.elapsed(),
		}
	}

	/// Starts `lilypad args...` signing with `key`, its stdout and stderr piped: to watch
	/// what it prints while it runs.
	pub fn spawn(&self, key: Option<&str>, args: &[&str]) -> std::process::Child {
		let mut cmd = Command::new(cli_binary());
		cmd.args(args)
			.current_dir(&self.cwd)
			.env("LILYPAD_NODE", &self.node)
			.env("LILYPAD_HOME", &self.home)
			.env_remove("LILYPAD_KEY")
			.stdin(std::process::Stdio::null())
			.stdout(std::process::Stdio::piped())
			.stderr(std::process::Stdio::piped());
		if let Some(key) = key {
			cmd.env("LILYPAD_KEY", key);
		}
		cmd.spawn().expect("run lilypad")
	}

	/// Runs `lilypad --json args...` and panics unless it exits 0; returns its JSON.
	pub fn ok(&self, key: Option<&str>, args: &[&str]) -> Value {
		let out = self.json(key, args);
		assert_eq!(out.code, 0, "lilypad {args:?} failed:\n{}\n{}", out.stdout, out.stderr);
		out.json
	}

	/// `account`'s free and held balance, as the CLI reports it.
	pub fn balance(&self, account: &str) -> (u128, u128) {
		let b = self.ok(None, &["account", "balance", account]);
		let n = |k: &str| b[k].as_str().and_then(|s| s.parse().ok()).expect("a balance");
		(n("free"), n("held"))
	}
}

/// A number the CLI printed as a decimal string.
pub fn planck(v: &Value) -> u128 {
	v.as_str().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("{v} is not a balance"))
}

/// Writes `DIR/lilypad-module.toml` for a module named `name` whose artifact is `artifact`
/// (`wasm` or `docker`, at `path`), with one input; returns DIR.
pub fn module_dir(
	root: &Path,
	name: &str,
	artifact: (&str, &Path),
	input: &str,
	timeout_secs: u32,
) -> PathBuf {
	let dir = root.join(format!("module-{name}"));
	std::fs::create_dir_all(&dir).expect("module dir");
	let manifest = format!(
		"name = \"{name}\"\nversion = \"0.1.0\"\ntimeout_secs = {timeout_secs}\n\
		 price_floor = \"0.001\"\n\n[artifact]\n{} = \"{}\"\n\n[resources]\n\
		 cpu_millicores = 500\nram_mib = 64\n\n{input}\n",
		artifact.0,
		artifact.1.display()
	);
	std::fs::write(dir.join("lilypad-module.toml"), manifest).expect("write manifest");
	dir
}
