//! Following the best chain, block by block, forks included.
//!
//! A node's stream of new best heads can skip blocks (several imported between two
//! notifications) and never says that blocks were retracted (a reorg to another fork). A client
//! that acts on best blocks must see every block of the chain it ends up on, once, in order,
//! and learn which blocks it acted on are gone. [`Canonical`] keeps the recent best chain as
//! seen; given a new head it walks parent hashes back to the block it already knows and says
//! what was retracted and what was imported (docs/fast-jobs.md).
use std::collections::BTreeMap;

use anyhow::Context;
use subxt::{rpcs::methods::LegacyRpcMethods, utils::H256, SubstrateConfig};

/// A block as its header names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockId {
	pub number: u64,
	pub hash: H256,
	pub parent: H256,
}

/// What a new best head means for the chain followed so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
	/// A block that is no longer on the best chain (newest first): what was read from it
	/// may be undone.
	Retracted(BlockId),
	/// A block of the best chain, each once, parents first.
	Imported(BlockId),
	/// The new head's chain meets the one followed more than [`Canonical`]'s depth below it
	/// (or the follower was down): the blocks between are not walked, state must be read
	/// afresh at the head, which is then imported.
	Gap { from: u64, to: BlockId },
}

/// The best chain as followed: the last `depth` blocks, by number.
pub struct Canonical {
	blocks: BTreeMap<u64, BlockId>,
	depth: u64,
}

impl Canonical {
	/// Keeps `depth` blocks: a reorg deeper than that is a [`Step::Gap`].
	pub fn new(depth: u64) -> Self {
		Self { blocks: BTreeMap::new(), depth: depth.max(1) }
	}

	/// The newest block followed.
	pub fn head(&self) -> Option<BlockId> {
		self.blocks.last_key_value().map(|(_, b)| *b)
	}

	/// Whether `block` is on the chain followed.
	pub fn contains(&self, block: &BlockId) -> bool {
		self.blocks.get(&block.number) == Some(block)
	}

	/// Takes `head` as the new best block; `parent_of` reads a block's header by hash. The
	/// first head starts the chain (nothing before it is walked). A head already followed is
	/// nothing new.
	pub async fn advance<F, Fut>(
		&mut self,
		head: BlockId,
		mut header: F,
	) -> anyhow::Result<Vec<Step>>
	where
		F: FnMut(H256) -> Fut,
		Fut: std::future::Future<Output = anyhow::Result<BlockId>>,
	{
		if self.contains(&head) {
			// The head went back to a block followed (its fork won again): what is above it
			// is retracted.
			return Ok(self.retract_above(head.number));
		}
		let Some(newest) = self.head() else {
			self.blocks.insert(head.number, head);
			return Ok(vec![Step::Imported(head)]);
		};
		// Walk back from the head until the parent is a block followed.
		let mut path = vec![head];
		let lowest = self.blocks.first_key_value().map(|(n, _)| *n).unwrap_or(0);
		loop {
			let at = path[path.len() - 1];
			if at.number == 0 {
				break;
			}
			if self.blocks.get(&(at.number - 1)).map(|b| b.hash) == Some(at.parent) {
				break;
			}
			if at.number <= lowest || path.len() as u64 > self.depth {
				// Below what is kept (or too far to walk): start again from the head.
				let mut steps = self.retract_above(0);
				self.blocks.insert(head.number, head);
				steps.push(Step::Gap { from: newest.number, to: head });
				return Ok(steps);
			}
			let parent = header(at.parent).await?;
			anyhow::ensure!(
				parent.number + 1 == at.number,
				"block {} is not the parent of #{}",
				parent.hash,
				at.number
			);
			path.push(parent);
		}
		let below = path[path.len() - 1].number;
		let mut steps = self.retract_above(below.saturating_sub(1));
		for block in path.into_iter().rev() {
			self.blocks.insert(block.number, block);
			steps.push(Step::Imported(block));
		}
		while self.blocks.len() as u64 > self.depth {
			self.blocks.pop_first();
		}
		Ok(steps)
	}

	/// Drops every block above `number`, newest first.
	fn retract_above(&mut self, number: u64) -> Vec<Step> {
		let gone = self.blocks.split_off(&(number + 1));
		gone.into_values().rev().map(Step::Retracted).collect()
	}
}

/// The header of block `hash`, through the node's legacy RPC.
pub async fn block_id(
	rpc: &LegacyRpcMethods<subxt::config::RpcConfigFor<SubstrateConfig>>,
	hash: H256,
) -> anyhow::Result<BlockId> {
	let header =
		rpc.chain_get_header(Some(hash)).await?.with_context(|| format!("no block {hash}"))?;
	Ok(BlockId { number: header.number, hash, parent: header.parent_hash })
}

#[cfg(test)]
mod tests {
	use super::*;
	use std::collections::HashMap;

	/// A block tree: `id(number, fork)`, each fork's blocks chained to its own parent.
	struct Tree(HashMap<H256, BlockId>);

	fn hash(number: u64, fork: u8) -> H256 {
		let mut h = [0u8; 32];
		h[..8].copy_from_slice(&number.to_le_bytes());
		h[8] = fork;
		H256(h)
	}

	impl Tree {
		fn new() -> Self {
			Tree(HashMap::new())
		}

		/// Adds blocks `from..=to` on `fork`, the first one's parent on `parent_fork`.
		fn chain(&mut self, from: u64, to: u64, fork: u8, parent_fork: u8) -> BlockId {
			let mut last = None;
			for n in from..=to {
				let parent = if n == from { hash(n - 1, parent_fork) } else { hash(n - 1, fork) };
				let b = BlockId { number: n, hash: hash(n, fork), parent };
				self.0.insert(b.hash, b);
				last = Some(b);
			}
			last.unwrap()
		}

		async fn advance(&self, c: &mut Canonical, head: BlockId) -> Vec<Step> {
			c.advance(head, |h| {
				let b = self.0.get(&h).copied().context("unknown");
				async move { b }
			})
			.await
			.unwrap()
		}
	}

	fn numbers(steps: &[Step]) -> Vec<String> {
		steps
			.iter()
			.map(|s| match s {
				Step::Retracted(b) => format!("-{}/{}", b.number, b.hash.0[8]),
				Step::Imported(b) => format!("+{}/{}", b.number, b.hash.0[8]),
				Step::Gap { from, to } => format!("gap {from}..{}", to.number),
			})
			.collect()
	}

	#[tokio::test]
	async fn skipped_blocks_are_imported_in_order_once() {
		let mut t = Tree::new();
		let mut c = Canonical::new(64);
		let b1 = t.chain(1, 1, 0, 0);
		assert_eq!(numbers(&t.advance(&mut c, b1).await), ["+1/0"]);
		let b4 = t.chain(2, 4, 0, 0);
		assert_eq!(numbers(&t.advance(&mut c, b4).await), ["+2/0", "+3/0", "+4/0"]);
		assert!(t.advance(&mut c, b4).await.is_empty(), "the same head twice is nothing new");
	}

	#[tokio::test]
	async fn a_reorg_retracts_the_losing_fork_newest_first_then_imports_the_winner() {
		let mut t = Tree::new();
		let mut c = Canonical::new(64);
		let first = t.chain(1, 2, 0, 0);
		t.advance(&mut c, first).await;
		let lone = t.chain(3, 5, 1, 0);
		t.advance(&mut c, lone).await;
		let winner = t.chain(3, 6, 2, 0);
		assert_eq!(
			numbers(&t.advance(&mut c, winner).await),
			["-5/1", "-4/1", "-3/1", "+3/2", "+4/2", "+5/2", "+6/2"]
		);
		// Back to a block followed before: what is above it is retracted.
		let back = t.0[&hash(4, 2)];
		assert_eq!(numbers(&t.advance(&mut c, back).await), ["-6/2", "-5/2"]);
	}

	#[tokio::test]
	async fn a_shorter_winning_fork_retracts_the_longer_one() {
		let mut t = Tree::new();
		let mut c = Canonical::new(64);
		let first = t.chain(1, 1, 1, 0);
		t.advance(&mut c, first).await;
		let long = t.chain(2, 6, 1, 1);
		t.advance(&mut c, long).await;
		let short = t.chain(3, 4, 2, 1);
		assert_eq!(
			numbers(&t.advance(&mut c, short).await),
			["-6/1", "-5/1", "-4/1", "-3/1", "+3/2", "+4/2"]
		);
	}

	#[tokio::test]
	async fn a_reorg_deeper_than_kept_is_a_gap() {
		let mut t = Tree::new();
		let mut c = Canonical::new(4);
		for n in 1..=10 {
			let next = t.chain(n, n, 0, 0);
			let steps = t.advance(&mut c, next).await;
			assert_eq!(numbers(&steps), [format!("+{n}/0")]);
		}
		let other = t.chain(3, 12, 1, 0);
		let steps = t.advance(&mut c, other).await;
		assert_eq!(steps.last(), Some(&Step::Gap { from: 10, to: other }));
		assert_eq!(c.head(), Some(other));
		// Followed on from the new head.
		let next = t.chain(13, 13, 1, 1);
		assert_eq!(numbers(&t.advance(&mut c, next).await), ["+13/1"]);
	}
}
