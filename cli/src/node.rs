//! The connection to a node: `lilypad_client::chain::Chain`, its failures given the CLI's kinds
//! ([`Kind::Unreachable`], [`Kind::Refused`]) and hints.
use std::{ops::Deref, time::Duration};

use anyhow::anyhow;
use lilypad_client::chain::{Chain, TxError};
use subxt::utils::H256;
use subxt_signer::sr25519::Keypair;

use crate::error::{fail, Kind};

pub use lilypad_client::chain::Included;

/// A connected node.
pub struct Node {
	chain: Chain,
}

impl Deref for Node {
	type Target = Chain;

	fn deref(&self) -> &Chain {
		&self.chain
	}
}

impl Node {
	/// Connects to `url` (one try: a person is waiting), failing with [`Kind::Unreachable`].
	pub async fn connect(url: &str) -> anyhow::Result<Node> {
		let chain = Chain::connect(url, Duration::ZERO).await.map_err(|e| {
			fail(
				Kind::Unreachable,
				format!(
					"{e} (is it running? `scripts/dev.sh` starts a dev network; --node or \
					 LILYPAD_NODE picks another)"
				),
			)
		})?;
		Ok(Node { chain })
	}

	/// Signs `call` as `signer`, sends it and waits until it is finalized; a refusal by the
	/// node or the chain is a [`Kind::Refused`] failure naming the runtime's error.
	pub async fn submit<Call: subxt::transactions::Payload>(
		&self,
		call: &Call,
		signer: &Keypair,
		what: &str,
	) -> anyhow::Result<Included> {
		self.chain.submit(call, signer).await.map_err(|e| refused(what, e))
	}

	/// As [`Node::submit`], but waits only until the transaction is in a best block (which a
	/// reorg may still retract); also returns that block.
	pub async fn submit_best<Call: subxt::transactions::Payload>(
		&self,
		call: &Call,
		signer: &Keypair,
		what: &str,
	) -> anyhow::Result<(Included, H256)> {
		self.chain.submit_best(call, signer).await.map_err(|e| refused(what, e))
	}
}

/// A transaction's failure as the CLI reports it.
fn refused(what: &str, e: TxError) -> anyhow::Error {
	match e {
		TxError::Refused(_) | TxError::Failed { .. } => fail(Kind::Refused, format!("{what}: {e}")),
		TxError::Lost(_) => anyhow!("{what}: {e}"),
	}
}
