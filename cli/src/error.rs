//! What went wrong, as the user sees it: a message and an exit code that scripts can match on.
use std::fmt;

/// The exit codes of `lilypad`, one per kind of failure (clap exits with 2 on bad usage).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
	/// Anything not named below.
	Other = 1,
	/// Unknown module or version, missing or malformed input, a bad manifest.
	BadInput = 3,
	/// The price is below the module's floor, or the account cannot pay.
	Funds = 4,
	/// The node cannot be reached.
	Unreachable = 5,
	/// The job did not succeed: it failed, timed out, expired or its provider was slashed.
	JobFailed = 6,
	/// Outputs that do not match the digests on chain.
	Verification = 7,
	/// The chain refused a transaction.
	Refused = 8,
}

impl Kind {
	/// The name `--json` prints as `error.kind`.
	pub fn name(self) -> &'static str {
		match self {
			Kind::Other => "other",
			Kind::BadInput => "badInput",
			Kind::Funds => "funds",
			Kind::Unreachable => "unreachable",
			Kind::JobFailed => "jobFailed",
			Kind::Verification => "verification",
			Kind::Refused => "refused",
		}
	}
}

/// A failure with its kind; anything else reaching `main` is [`Kind::Other`].
#[derive(Debug)]
pub struct Failure {
	pub kind: Kind,
	pub message: String,
	/// Facts a script may want (the job id, the refund), printed with `--json`.
	pub details: serde_json::Value,
}

impl fmt::Display for Failure {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		f.write_str(&self.message)
	}
}

impl std::error::Error for Failure {}

/// A [`Failure`] of `kind`, as an `anyhow::Error`.
pub fn fail(kind: Kind, message: impl Into<String>) -> anyhow::Error {
	Failure { kind, message: message.into(), details: serde_json::Value::Null }.into()
}

/// A [`Failure`] of `kind` with details.
pub fn fail_with(
	kind: Kind,
	message: impl Into<String>,
	details: serde_json::Value,
) -> anyhow::Error {
	Failure { kind, message: message.into(), details }.into()
}

/// The kind of `err`: its [`Failure`]'s, or [`Kind::Other`].
pub fn kind_of(err: &anyhow::Error) -> (Kind, serde_json::Value) {
	match err.downcast_ref::<Failure>() {
		Some(f) => (f.kind, f.details.clone()),
		None => (Kind::Other, serde_json::Value::Null),
	}
}
